/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for the clock, durations, dates, times and civil-day arithmetic. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "mg_err.h"
#include "mg_time.h"

static void
test_clock(void **state)
{
	time_t before, now;

	(void)state;
	mg_clock_set(1800000000);
	assert_int_equal(mg_clock_now(), 1800000000);
	assert_int_equal(mg_clock_now(), 1800000000);
	mg_clock_set(0);
	assert_int_equal(mg_clock_now(), 0);
	mg_clock_reset();
	before = time(NULL);
	now = mg_clock_now();
	assert_true(now >= before && now <= before + 5);
}

static void
test_duration_valid(void **state)
{
	static const struct {
		const char *s;
		int64_t secs;
		const char *fmt;
	} t[] = {
		{ "90s", 90, "1m30s" },
		{ "15m", 900, "15m" },
		{ "2h", 7200, "2h" },
		{ "7d", 604800, "7d" },
		{ "1w", 604800, "7d" },
		{ "1h30m", 5400, "1h30m" },
		{ "1d2h3m4s", 93784, "1d2h3m4s" },
		{ "0h30m", 1800, "30m" },
		{ "1s", 1, "1s" },
		{ "3660d", MG_DURATION_MAX, "3660d" },
		{ "522w6d", MG_DURATION_MAX, "3660d" },
		{ "0001m", 60, "1m" },
		{ "25h", 90000, "1d1h" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char err[128] = "", buf[64];
		int64_t v = -1;

		if (mg_duration_parse(t[i].s, &v, err, sizeof(err)) != 0)
			fail_msg("%s: %s", t[i].s, err);
		assert_int_equal(v, t[i].secs);
		mg_duration_format(v, buf, sizeof(buf));
		assert_string_equal(buf, t[i].fmt);
	}
}

static void
test_duration_invalid(void **state)
{
	static const struct {
		const char *s;
		int r;
		const char *msg;
	} t[] = {
		{ "", MG_ERR_PARSE, "invalid duration \"\": empty" },
		{ "15", MG_ERR_PARSE,
		    "invalid duration \"15\": a unit (s, m, h, d or w) is required" },
		{ "15x", MG_ERR_PARSE,
		    "invalid duration \"15x\": unknown unit (use s, m, h, d or w)" },
		{ "0s", MG_ERR_RANGE, "invalid duration \"0s\": must be positive" },
		{ "0h0m", MG_ERR_RANGE, "invalid duration \"0h0m\": must be positive" },
		{ "-5m", MG_ERR_RANGE, "invalid duration \"-5m\": must be positive" },
		{ "3661d", MG_ERR_RANGE, "duration \"3661d\": too long (at most 3660d)" },
		{ "3660d1s", MG_ERR_RANGE,
		    "duration \"3660d1s\": too long (at most 3660d)" },
		{ "99999999999999999999999999s", MG_ERR_RANGE,
		    "duration \"99999999999999999999999999s\": too long (at most 3660d)" },
		{ "30m1h", MG_ERR_PARSE,
		    "invalid duration \"30m1h\": units must be in order w, d, h, m, s, each once" },
		{ "1h1h", MG_ERR_PARSE,
		    "invalid duration \"1h1h\": units must be in order w, d, h, m, s, each once" },
		{ "h", MG_ERR_PARSE, "invalid duration \"h\": expected a number such as "
		    "90s, 15m, 2h, 7d or 1h30m" },
		{ "1h 30m", MG_ERR_PARSE, "invalid duration \"1h 30m\": expected a "
		    "number such as 90s, 15m, 2h, 7d or 1h30m" },
		{ " 1h", MG_ERR_PARSE, "invalid duration \" 1h\": expected a number "
		    "such as 90s, 15m, 2h, 7d or 1h30m" },
		{ "+1h", MG_ERR_PARSE, "invalid duration \"+1h\": expected a number "
		    "such as 90s, 15m, 2h, 7d or 1h30m" },
		{ "1H", MG_ERR_PARSE,
		    "invalid duration \"1H\": unknown unit (use s, m, h, d or w)" },
		{ "1h\n", MG_ERR_PARSE, "invalid duration \"1h?\": expected a number "
		    "such as 90s, 15m, 2h, 7d or 1h30m" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char err[160] = "";
		int64_t v = 77;

		assert_int_equal(mg_duration_parse(t[i].s, &v, err, sizeof(err)), t[i].r);
		assert_int_equal(v, 0);
		assert_string_equal(err, t[i].msg);
	}
	assert_int_equal(mg_duration_parse(NULL, NULL, NULL, 0), MG_ERR_INVAL);
}

static void
test_duration_format_edges(void **state)
{
	char buf[64], small[4];

	(void)state;
	mg_duration_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "0s");
	mg_duration_format(-90, buf, sizeof(buf));
	assert_string_equal(buf, "-1m30s");
	mg_duration_format(INT64_MIN, buf, sizeof(buf));
	assert_string_equal(buf, "-106751991167300d15h30m8s");
	mg_duration_format(5400, small, sizeof(small));
	assert_string_equal(small, "1h3");
	mg_duration_format(5400, NULL, 0);
}

static void
test_date_parse(void **state)
{
	static const struct {
		const char *s;
		int r, y, m, d;
		const char *msg;
	} t[] = {
		{ "2026-01-01", 0, 2026, 1, 1, NULL },
		{ "2028-02-29", 0, 2028, 2, 29, NULL },
		{ "2000-02-29", 0, 2000, 2, 29, NULL },
		{ "1970-01-01", 0, 1970, 1, 1, NULL },
		{ "9999-12-31", 0, 9999, 12, 31, NULL },
		{ "2027-02-29", MG_ERR_PARSE, 0, 0, 0,
		    "invalid day in \"2027-02-29\": month 02 of 2027 has 28 days" },
		{ "2026-02-29", MG_ERR_PARSE, 0, 0, 0,
		    "invalid day in \"2026-02-29\": month 02 of 2026 has 28 days" },
		{ "2100-02-29", MG_ERR_PARSE, 0, 0, 0,
		    "invalid day in \"2100-02-29\": month 02 of 2100 has 28 days" },
		{ "2026-04-31", MG_ERR_PARSE, 0, 0, 0,
		    "invalid day in \"2026-04-31\": month 04 of 2026 has 30 days" },
		{ "2026-01-00", MG_ERR_PARSE, 0, 0, 0,
		    "invalid day in \"2026-01-00\": month 01 of 2026 has 31 days" },
		{ "2026-13-01", MG_ERR_PARSE, 0, 0, 0, "invalid month in \"2026-13-01\"" },
		{ "2026-00-10", MG_ERR_PARSE, 0, 0, 0, "invalid month in \"2026-00-10\"" },
		{ "1969-12-31", MG_ERR_RANGE, 0, 0, 0,
		    "invalid year in \"1969-12-31\": before 1970" },
		{ "2026-1-01", MG_ERR_PARSE, 0, 0, 0,
		    "invalid date \"2026-1-01\": expected YYYY-MM-DD" },
		{ "2026/01/01", MG_ERR_PARSE, 0, 0, 0,
		    "invalid date \"2026/01/01\": expected YYYY-MM-DD" },
		{ "2026-01-01 ", MG_ERR_PARSE, 0, 0, 0,
		    "invalid date \"2026-01-01 \": expected YYYY-MM-DD" },
		{ "", MG_ERR_PARSE, 0, 0, 0, "invalid date \"\": expected YYYY-MM-DD" },
		{ "+026-01-01", MG_ERR_PARSE, 0, 0, 0,
		    "invalid date \"+026-01-01\": expected YYYY-MM-DD" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct mg_datetime dt;
		char err[128] = "";

		memset(&dt, 0x55, sizeof(dt));
		assert_int_equal(mg_date_parse(t[i].s, &dt, err, sizeof(err)), t[i].r);
		assert_int_equal(dt.year, t[i].y);
		assert_int_equal(dt.mon, t[i].m);
		assert_int_equal(dt.day, t[i].d);
		assert_int_equal(dt.hour + dt.min + dt.sec, 0);
		if (t[i].msg != NULL)
			assert_string_equal(err, t[i].msg);
	}
}

static void
test_hhmm_parse(void **state)
{
	static const struct {
		const char *s;
		int allow_24, r, minutes;
		const char *msg;
	} t[] = {
		{ "00:00", 0, 0, 0, NULL },
		{ "08:30", 0, 0, 510, NULL },
		{ "23:59", 0, 0, 1439, NULL },
		{ "24:00", 1, 0, 1440, NULL },
		{ "24:00", 0, MG_ERR_PARSE, 0, "invalid hour in \"24:00\": 24:00 is "
		    "allowed only as the end of a range" },
		{ "25:00", 1, MG_ERR_PARSE, 0, "invalid hour in \"25:00\"" },
		{ "24:01", 1, MG_ERR_PARSE, 0, "invalid hour in \"24:01\"" },
		{ "12:60", 0, MG_ERR_PARSE, 0, "invalid minute in \"12:60\"" },
		{ "8:00", 0, MG_ERR_PARSE, 0,
		    "invalid time \"8:00\": expected HH:MM (two digits each)" },
		{ "08:0", 0, MG_ERR_PARSE, 0,
		    "invalid time \"08:0\": expected HH:MM (two digits each)" },
		{ "0800", 0, MG_ERR_PARSE, 0,
		    "invalid time \"0800\": expected HH:MM (two digits each)" },
		{ "08:00:00", 0, MG_ERR_PARSE, 0,
		    "invalid time \"08:00:00\": expected HH:MM (two digits each)" },
		{ "-1:00", 0, MG_ERR_PARSE, 0,
		    "invalid time \"-1:00\": expected HH:MM (two digits each)" },
		{ "", 0, MG_ERR_PARSE, 0,
		    "invalid time \"\": expected HH:MM (two digits each)" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char err[128] = "";
		int m = -1;

		assert_int_equal(mg_hhmm_parse(t[i].s, t[i].allow_24, &m, err,
		    sizeof(err)), t[i].r);
		assert_int_equal(m, t[i].minutes);
		if (t[i].msg != NULL)
			assert_string_equal(err, t[i].msg);
	}
}

static void
test_datetime_parse(void **state)
{
	static const struct {
		const char *s;
		int r;
		int64_t secs;
		const char *msg;
	} t[] = {
		{ "2026-12-24 18:00", 0, 1798135200, NULL },
		{ "2026-12-24T18:00", 0, 1798135200, NULL },
		{ "2026-12-24 18:00:59", 0, 1798135259, NULL },
		{ "2028-02-29 23:59:59", 0, 1835481599, NULL },
		{ "1970-01-01 00:00", 0, 0, NULL },
		{ "2027-02-29 10:00", MG_ERR_PARSE, 0,
		    "invalid day in \"2027-02-29\": month 02 of 2027 has 28 days" },
		{ "2026-12-24 25:00", MG_ERR_PARSE, 0,
		    "invalid hour in \"2026-12-24 25:00\"" },
		{ "2026-12-24 24:00", MG_ERR_PARSE, 0,
		    "invalid hour in \"2026-12-24 24:00\": 24:00 is allowed only as "
		    "the end of a range" },
		{ "2026-12-24 12:60", MG_ERR_PARSE, 0,
		    "invalid minute in \"2026-12-24 12:60\"" },
		{ "2026-12-24 12:00:60", MG_ERR_PARSE, 0,
		    "invalid second in \"2026-12-24 12:00:60\"" },
		{ "2026-12-24 8:00", MG_ERR_PARSE, 0,
		    "invalid time \"2026-12-24 8:00\": expected YYYY-MM-DD HH:MM[:SS]" },
		{ "2026-12-24", MG_ERR_PARSE, 0,
		    "invalid date and time \"2026-12-24\": expected YYYY-MM-DD HH:MM[:SS]" },
		{ "2026-12-24_18:00", MG_ERR_PARSE, 0,
		    "invalid date and time \"2026-12-24_18:00\": expected YYYY-MM-DD "
		    "HH:MM[:SS]" },
		{ "2026-12-24 18:00 ", MG_ERR_PARSE, 0,
		    "invalid time \"2026-12-24 18:00 \": expected YYYY-MM-DD HH:MM[:SS]" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct mg_datetime dt;
		char err[160] = "";

		assert_int_equal(mg_datetime_parse(t[i].s, &dt, err, sizeof(err)),
		    t[i].r);
		if (t[i].r == 0) {
			assert_int_equal(mg_datetime_to_seconds(&dt), t[i].secs);
			assert_true(mg_datetime_valid(&dt));
		} else {
			assert_int_equal(dt.year, 0);
			assert_string_equal(err, t[i].msg);
		}
	}
}

static void
test_civil_days(void **state)
{
	static const struct {
		int y, m, d;
		int64_t days;
		int wd;		/* 0 = Monday */
	} t[] = {
		{ 1970, 1, 1, 0, 3 },
		{ 1969, 12, 31, -1, 2 },
		{ 2000, 2, 29, 11016, 1 },
		{ 2000, 3, 1, 11017, 2 },
		{ 2026, 3, 29, 20541, 6 },
		{ 2028, 2, 29, 21243, 1 },
		{ 2045, 3, 26, 27478, 6 },
		{ 2100, 3, 1, 47541, 0 },
		{ 1600, 1, 1, -135140, 5 },
		{ 1, 1, 1, -719162, 0 },
		{ 9999, 12, 31, 2932896, 4 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int y, m, d;

		assert_int_equal(mg_days_from_civil(t[i].y, t[i].m, t[i].d), t[i].days);
		mg_civil_from_days(t[i].days, &y, &m, &d);
		assert_int_equal(y, t[i].y);
		assert_int_equal(m, t[i].m);
		assert_int_equal(d, t[i].d);
		assert_int_equal(mg_weekday(t[i].days), t[i].wd);
	}
}

/* Day by day over 1600..2400, each day is the one after the previous. */
static void
test_civil_days_walk(void **state)
{
	int64_t days = mg_days_from_civil(1600, 1, 1);
	int y = 1600, m = 1, d = 1, yy, mm, dd, wd = mg_weekday(days);
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	(void)state;
	while (y < 2400) {
		int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		int len = m == 2 && leap ? 29 : mdays[m - 1];

		mg_civil_from_days(days, &yy, &mm, &dd);
		if (yy != y || mm != m || dd != d)
			fail_msg("day %lld: %d-%d-%d, want %d-%d-%d", (long long)days,
			    yy, mm, dd, y, m, d);
		assert_int_equal(mg_days_from_civil(y, m, d), days);
		assert_int_equal(mg_weekday(days), wd);
		days++;
		wd = (wd + 1) % 7;
		if (++d > len) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
}

static void
test_seconds_roundtrip(void **state)
{
	static const struct {
		int64_t secs;
		struct mg_datetime dt;
	} t[] = {
		{ 0, { 1970, 1, 1, 0, 0, 0 } },
		{ -1, { 1969, 12, 31, 23, 59, 59 } },
		{ 1774746000, { 2026, 3, 29, 1, 0, 0 } },
		{ 2374102800, { 2045, 3, 26, 1, 0, 0 } },
		{ 1835481599, { 2028, 2, 29, 23, 59, 59 } },
		{ MG_TIME_MAX, { 9999, 12, 31, 23, 59, 59 } },
		{ MG_TIME_MIN, { 1, 1, 1, 0, 0, 0 } },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct mg_datetime dt;
		char buf[32];

		mg_datetime_from_seconds(t[i].secs, &dt);
		assert_memory_equal(&dt, &t[i].dt, sizeof(dt));
		assert_int_equal(mg_datetime_to_seconds(&t[i].dt), t[i].secs);
		if (i == 2) {
			mg_datetime_format(&dt, buf, sizeof(buf));
			assert_string_equal(buf, "2026-03-29 01:00:00");
		}
	}
	/* Extreme inputs saturate instead of overflowing. */
	{
		struct mg_datetime dt;

		mg_datetime_from_seconds(INT64_MAX, &dt);
		assert_int_equal(dt.year, 2147483647);
		mg_datetime_from_seconds(INT64_MIN, &dt);
		assert_int_equal(dt.year, -2147483647 - 1);
		assert_false(mg_datetime_valid(&dt));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock),
		cmocka_unit_test(test_duration_valid),
		cmocka_unit_test(test_duration_invalid),
		cmocka_unit_test(test_duration_format_edges),
		cmocka_unit_test(test_date_parse),
		cmocka_unit_test(test_hhmm_parse),
		cmocka_unit_test(test_datetime_parse),
		cmocka_unit_test(test_civil_days),
		cmocka_unit_test(test_civil_days_walk),
		cmocka_unit_test(test_seconds_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
