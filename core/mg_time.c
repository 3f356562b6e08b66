/* SPDX-License-Identifier: BSD-2-Clause */
/* The settable clock, duration parsing, and civil calendar arithmetic. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mg_err.h"
#include "mg_time.h"
#include "mg_util.h"

static int clock_fixed;
static time_t clock_value;

long long
mg_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

time_t
mg_earliest(time_t a, time_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

time_t
mg_clock_now(void)
{
	if (clock_fixed)
		return clock_value;
	return time(NULL);
}

void
mg_clock_set(time_t t)
{
	clock_value = t;
	clock_fixed = 1;
}

void
mg_clock_reset(void)
{
	clock_fixed = 0;
	clock_value = 0;
}

int
mg_year_is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
mg_month_days(int64_t y, int m)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && mg_year_is_leap(y))
		return 29;
	return mdays[m - 1];
}

/* Reads exactly n decimal digits at s; -1 when any is missing. */
static int
digits(const char *s, int n)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int
mg_duration_parse(const char *s, int64_t *secs, char *err, size_t errlen)
{
	/* Units must come largest first, each at most once: "1h30m", not "30m1h". */
	static const char units[] = "wdhms";
	static const int64_t mult[] = { 7 * 86400, 86400, 3600, 60, 1 };
	const char *p = s;
	int64_t total = 0;
	int last = -1;

	if (secs != NULL)
		*secs = 0;
	if (s == NULL || secs == NULL)
		return MG_ERR_INVAL;
	if (*s == '\0') {
		mg_seterr_value(err, errlen, "invalid duration", s, "empty");
		return MG_ERR_PARSE;
	}
	if (*s == '-') {
		mg_seterr_value(err, errlen, "invalid duration", s, "must be positive");
		return MG_ERR_RANGE;
	}
	while (*p != '\0') {
		int64_t v = 0;
		const char *u;
		int ndig = 0, k;

		for (; *p >= '0' && *p <= '9'; p++, ndig++) {
			/* Anything above the maximum is refused, so stop early. */
			if (v <= MG_DURATION_MAX)
				v = v * 10 + (*p - '0');
		}
		if (ndig == 0) {
			mg_seterr_value(err, errlen, "invalid duration", s,
			    "expected a number such as 90s, 15m, 2h, 7d or 1h30m");
			return MG_ERR_PARSE;
		}
		if (*p == '\0') {
			mg_seterr_value(err, errlen, "invalid duration", s,
			    "a unit (s, m, h, d or w) is required");
			return MG_ERR_PARSE;
		}
		if ((u = strchr(units, *p)) == NULL) {
			mg_seterr_value(err, errlen, "invalid duration", s,
			    "unknown unit (use s, m, h, d or w)");
			return MG_ERR_PARSE;
		}
		k = (int)(u - units);
		if (k <= last) {
			mg_seterr_value(err, errlen, "invalid duration", s,
			    "units must be in order w, d, h, m, s, each once");
			return MG_ERR_PARSE;
		}
		last = k;
		p++;
		if (v > MG_DURATION_MAX / mult[k] ||
		    total + v * mult[k] > MG_DURATION_MAX) {
			mg_seterr_value(err, errlen, "duration", s,
			    "too long (at most 3660d)");
			return MG_ERR_RANGE;
		}
		total += v * mult[k];
	}
	if (total == 0) {
		mg_seterr_value(err, errlen, "invalid duration", s, "must be positive");
		return MG_ERR_RANGE;
	}
	*secs = total;
	return 0;
}

void
mg_duration_format(int64_t secs, char *buf, size_t len)
{
	static const char units[] = "dhms";
	static const uint64_t mult[] = { 86400, 3600, 60, 1 };
	uint64_t v;
	size_t off = 0;
	int k, r;

	if (buf == NULL || len == 0)
		return;
	buf[0] = '\0';
	if (secs == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	if (secs < 0) {
		/* Negate in unsigned arithmetic so INT64_MIN does not overflow. */
		v = -(uint64_t)secs;
		snprintf(buf, len, "-");
		off = 1;
	} else
		v = (uint64_t)secs;
	for (k = 0; k < 4 && off < len; k++) {
		if (v / mult[k] == 0)
			continue;
		r = snprintf(buf + off, len - off, "%llu%c",
		    (unsigned long long)(v / mult[k]), units[k]);
		if (r < 0)
			return;
		off += (size_t)r;
		v %= mult[k];
	}
}

int
mg_date_parse(const char *s, struct mg_datetime *out, char *err, size_t errlen)
{
	char why[64];
	int y, m, d;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (s == NULL || out == NULL)
		return MG_ERR_INVAL;
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    (y = digits(s, 4)) < 0 || (m = digits(s + 5, 2)) < 0 ||
	    (d = digits(s + 8, 2)) < 0) {
		mg_seterr_value(err, errlen, "invalid date", s, "expected YYYY-MM-DD");
		return MG_ERR_PARSE;
	}
	if (y < 1970) {
		mg_seterr_value(err, errlen, "invalid year in", s, "before 1970");
		return MG_ERR_RANGE;
	}
	if (m < 1 || m > 12) {
		mg_seterr_value(err, errlen, "invalid month in", s, NULL);
		return MG_ERR_PARSE;
	}
	if (d < 1 || d > mg_month_days(y, m)) {
		snprintf(why, sizeof(why), "month %02d of %04d has %d days",
		    m, y, mg_month_days(y, m));
		mg_seterr_value(err, errlen, "invalid day in", s, why);
		return MG_ERR_PARSE;
	}
	out->year = y;
	out->mon = m;
	out->day = d;
	return 0;
}

/* Parses "HH:MM" or, when want_sec, also "HH:MM:SS" (*sec set, else 0). */
static int
clock_parse(const char *s, const char *whole, int allow_24, int want_sec,
    int *minutes, int *sec, char *err, size_t errlen)
{
	size_t n = strlen(s);
	int h, m, sc = 0;

	if ((n != 5 && !(want_sec && n == 8)) || s[2] != ':' ||
	    (h = digits(s, 2)) < 0 || (m = digits(s + 3, 2)) < 0 ||
	    (n == 8 && (s[5] != ':' || (sc = digits(s + 6, 2)) < 0))) {
		mg_seterr_value(err, errlen, "invalid time", whole, want_sec ?
		    "expected YYYY-MM-DD HH:MM[:SS]" : "expected HH:MM (two digits each)");
		return MG_ERR_PARSE;
	}
	if (h == 24 && m == 0 && sc == 0 && !allow_24) {
		mg_seterr_value(err, errlen, "invalid hour in", whole,
		    "24:00 is allowed only as the end of a range");
		return MG_ERR_PARSE;
	}
	if (h > 24 || (h == 24 && (m != 0 || sc != 0))) {
		mg_seterr_value(err, errlen, "invalid hour in", whole, NULL);
		return MG_ERR_PARSE;
	}
	if (m > 59) {
		mg_seterr_value(err, errlen, "invalid minute in", whole, NULL);
		return MG_ERR_PARSE;
	}
	if (sc > 59) {
		mg_seterr_value(err, errlen, "invalid second in", whole, NULL);
		return MG_ERR_PARSE;
	}
	*minutes = h * 60 + m;
	if (sec != NULL)
		*sec = sc;
	return 0;
}

int
mg_hhmm_parse(const char *s, int allow_24, int *minutes, char *err, size_t errlen)
{
	if (minutes != NULL)
		*minutes = 0;
	if (s == NULL || minutes == NULL)
		return MG_ERR_INVAL;
	return clock_parse(s, s, allow_24, 0, minutes, NULL, err, errlen);
}

int
mg_datetime_parse(const char *s, struct mg_datetime *out, char *err, size_t errlen)
{
	char date[11];
	int r, mins, sec;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (s == NULL || out == NULL)
		return MG_ERR_INVAL;
	if (strlen(s) < 11 || (s[10] != ' ' && s[10] != 'T')) {
		mg_seterr_value(err, errlen, "invalid date and time", s,
		    "expected YYYY-MM-DD HH:MM[:SS]");
		return MG_ERR_PARSE;
	}
	memcpy(date, s, 10);
	date[10] = '\0';
	if ((r = mg_date_parse(date, out, err, errlen)) != 0)
		return r;
	if ((r = clock_parse(s + 11, s, 0, 1, &mins, &sec, err, errlen)) != 0) {
		memset(out, 0, sizeof(*out));
		return r;
	}
	out->hour = mins / 60;
	out->min = mins % 60;
	out->sec = sec;
	return 0;
}

/*
 * Days since 1970-01-01. Counts in 400-year cycles of 146097 days starting
 * on 1 March, so the leap day falls at the end of each counted year.
 */
int64_t
mg_days_from_civil(int year, int mon, int day)
{
	int64_t y = (int64_t)year - (mon <= 2);
	int64_t cycle = (y >= 0 ? y : y - 399) / 400;
	int64_t yoc = y - cycle * 400;				/* 0..399 */
	int64_t mp = (mon + 9) % 12;				/* March = 0 */
	int64_t doy = (153 * mp + 2) / 5 + day - 1;		/* 0..365 */
	int64_t doc = yoc * 365 + yoc / 4 - yoc / 100 + doy;	/* 0..146096 */

	return cycle * 146097 + doc - 719468;
}

void
mg_civil_from_days(int64_t days, int *year, int *mon, int *day)
{
	int64_t z, cycle, doc, yoc, y, doy, mp, d, m;

	/* Keep the arithmetic in range for any input; such years saturate. */
	if (days > (int64_t)1 << 50)
		days = (int64_t)1 << 50;
	if (days < -((int64_t)1 << 50))
		days = -((int64_t)1 << 50);
	z = days + 719468;
	cycle = (z >= 0 ? z : z - 146096) / 146097;
	doc = z - cycle * 146097;
	yoc = (doc - doc / 1460 + doc / 36524 - doc / 146096) / 365;
	y = yoc + cycle * 400;
	doy = doc - (365 * yoc + yoc / 4 - yoc / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += (m <= 2);
	if (y > INT_MAX)
		y = INT_MAX;
	if (y < INT_MIN)
		y = INT_MIN;
	if (year != NULL)
		*year = (int)y;
	if (mon != NULL)
		*mon = (int)m;
	if (day != NULL)
		*day = (int)d;
}

int
mg_weekday(int64_t days)
{
	/* 1970-01-01 was a Thursday (3 when Monday is 0). */
	int64_t w = (days + 3) % 7;

	return (int)(w < 0 ? w + 7 : w);
}

int64_t
mg_datetime_to_seconds(const struct mg_datetime *dt)
{
	return mg_days_from_civil(dt->year, dt->mon, dt->day) * 86400 +
	    (int64_t)dt->hour * 3600 + (int64_t)dt->min * 60 + dt->sec;
}

void
mg_datetime_from_seconds(int64_t secs, struct mg_datetime *out)
{
	int64_t days = secs / 86400, rem = secs % 86400;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	mg_civil_from_days(days, &out->year, &out->mon, &out->day);
	out->hour = (int)(rem / 3600);
	out->min = (int)(rem / 60 % 60);
	out->sec = (int)(rem % 60);
}

int
mg_datetime_valid(const struct mg_datetime *dt)
{
	if (dt == NULL || dt->year < 1 || dt->year > 9999 ||
	    dt->mon < 1 || dt->mon > 12 || dt->day < 1 ||
	    dt->day > mg_month_days(dt->year, dt->mon) ||
	    dt->hour < 0 || dt->hour > 23 || dt->min < 0 || dt->min > 59 ||
	    dt->sec < 0 || dt->sec > 59)
		return 0;
	return 1;
}

void
mg_datetime_format(const struct mg_datetime *dt, char *buf, size_t len)
{
	if (buf == NULL || len == 0)
		return;
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d", dt->year, dt->mon,
	    dt->day, dt->hour, dt->min, dt->sec);
}
