/* SPDX-License-Identifier: BSD-2-Clause */
/* Access time windows evaluated on the local wall clock of a zone. */
/* reallocarray() is a GNU/BSD extension. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mg_err.h"
#include "mg_time.h"
#include "mg_tz.h"
#include "mg_util.h"
#include "pol_window.h"

/* Bounds evaluation cost per login even for a careless policy. */
#define PW_MAX_PARTS	64
#define PW_SPEC_MAX	64
#define PW_HORIZON	((int64_t)400 * 86400)
/* Candidates are generated and checked a few days at a time. */
#define PW_CHUNK	((int64_t)8 * 86400)
/* Zone offsets stay under 26 hours; local days are looked at this far out. */
#define PW_OFF_SPAN	((int64_t)93600)
#define PW_MAX_TRANS	256

static const char *const day_names[7] = {
	"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"
};

struct pw_weekly {
	uint8_t days;		/* bit 0 = Monday */
	int start, end;		/* minutes; end <= start crosses midnight */
};

/* A span of wall-clock time, as seconds-as-if-UTC: [from, until). */
struct pw_span {
	int64_t from, until;
	int whole_day;
};

struct pol_window {
	char *name;
	const struct mg_tz *tz;
	struct pw_weekly *weekly;
	size_t nweekly;
	struct pw_span *dated;
	size_t ndated;
	struct pw_span *except;
	size_t nexcept;
};

struct pol_window *
pol_window_new(const char *name, const struct mg_tz *tz)
{
	struct pol_window *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	if ((w->name = strdup(name != NULL ? name : "")) == NULL) {
		free(w);
		return NULL;
	}
	w->tz = tz;
	return w;
}

void
pol_window_free(struct pol_window *w)
{
	if (w == NULL)
		return;
	free(w->name);
	free(w->weekly);
	free(w->dated);
	free(w->except);
	free(w);
}

const char *
pol_window_name(const struct pol_window *w)
{
	return w == NULL ? NULL : w->name;
}

const struct mg_tz *
pol_window_tz(const struct pol_window *w)
{
	return w == NULL ? NULL : w->tz;
}

int
pol_window_is_empty(const struct pol_window *w)
{
	return w == NULL || (w->nweekly == 0 && w->ndated == 0);
}

static int
day_index(const char *s, size_t n)
{
	int i;

	if (n != 3)
		return -1;
	for (i = 0; i < 7; i++)
		if (strncasecmp(s, day_names[i], 3) == 0)
			return i;
	return -1;
}

/* "Mon-Fri", "Sat,Sun", "Fri-Mon" (wraps), "*". */
static int
parse_days(const char *s, uint8_t *mask, char *err, size_t errlen)
{
	const char *p = s, *item, *dash, *end;
	char bad[16];
	int a, b, d;

	*mask = 0;
	if (strcmp(s, "*") == 0) {
		*mask = 0x7f;
		return 0;
	}
	for (;;) {
		while (*p == ' ')
			p++;
		item = p;
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		p = end;
		while (end > item && end[-1] == ' ')
			end--;
		dash = memchr(item, '-', (size_t)(end - item));
		if (item == end) {
			mg_seterr_value(err, errlen, "invalid days", s,
			    "empty item (use names Mon..Sun, ranges such as Mon-Fri, or *)");
			return MG_ERR_PARSE;
		}
		a = day_index(item, (size_t)((dash != NULL ? dash : end) - item));
		b = dash != NULL ? day_index(dash + 1, (size_t)(end - dash - 1)) : a;
		if (a < 0 || b < 0) {
			const char *bs = a < 0 ? item : dash + 1;
			const char *be = a < 0 && dash != NULL ? dash : end;
			char q1[72], q2[24];

			snprintf(bad, sizeof(bad), "%.*s",
			    (int)(be - bs < 12 ? be - bs : 12), bs);
			if (err != NULL && errlen > 0)
				snprintf(err, errlen, "invalid day \"%s\" in \"%s\" "
				    "(use Mon Tue Wed Thu Fri Sat Sun, or *)",
				    mg_quote(bad, q2, sizeof(q2)), mg_quote(s, q1, sizeof(q1)));
			return MG_ERR_PARSE;
		}
		/* A range may wrap past Sunday: "Fri-Mon" is Fri, Sat, Sun, Mon. */
		for (d = a;; d = (d + 1) % 7) {
			*mask |= (uint8_t)(1 << d);
			if (d == b)
				break;
		}
		if (*p == '\0')
			break;
		p++;
	}
	return 0;
}

static int
parse_hours(const char *s, int *start, int *end, char *err, size_t errlen)
{
	char a[PW_SPEC_MAX], b[PW_SPEC_MAX];
	const char *dash = strchr(s, '-');
	size_t n;
	int r;

	if (dash == NULL || (n = (size_t)(dash - s)) >= sizeof(a) ||
	    strlen(dash + 1) >= sizeof(b)) {
		mg_seterr_value(err, errlen, "invalid hours", s, "expected HH:MM-HH:MM");
		return MG_ERR_PARSE;
	}
	memcpy(a, s, n);
	a[n] = '\0';
	snprintf(b, sizeof(b), "%s", dash + 1);
	if ((r = mg_hhmm_parse(a, 0, start, err, errlen)) != 0 ||
	    (r = mg_hhmm_parse(b, 1, end, err, errlen)) != 0)
		return r;
	if (*start == *end) {
		mg_seterr_value(err, errlen, "empty time range", s,
		    "use 00:00-24:00 for the whole day");
		return MG_ERR_PARSE;
	}
	return 0;
}

int
pol_window_add_weekly(struct pol_window *w, const char *days,
    const char *hours, char *err, size_t errlen)
{
	struct pw_weekly part, *nw;
	int r;

	if (err != NULL && errlen > 0)
		*err = '\0';
	if (w == NULL || days == NULL || hours == NULL)
		return MG_ERR_INVAL;
	memset(&part, 0, sizeof(part));
	if ((r = parse_days(days, &part.days, err, errlen)) != 0 ||
	    (r = parse_hours(hours, &part.start, &part.end, err, errlen)) != 0)
		return r;
	if (w->nweekly >= PW_MAX_PARTS) {
		mg_seterr_value(err, errlen, "window", w->name, "too many weekly parts");
		return MG_ERR_TOOBIG;
	}
	if ((nw = reallocarray(w->weekly, w->nweekly + 1, sizeof(*nw))) == NULL)
		return MG_ERR_NOMEM;
	w->weekly = nw;
	w->weekly[w->nweekly++] = part;
	return 0;
}

/* "YYYY-MM-DD" or "YYYY-MM-DD HH:MM[:SS] .. YYYY-MM-DD HH:MM[:SS]". */
static int
parse_span(const char *s, struct pw_span *sp, char *err, size_t errlen)
{
	char a[PW_SPEC_MAX], b[PW_SPEC_MAX];
	struct mg_datetime dt;
	const char *sep;
	size_t n;
	int r;

	memset(sp, 0, sizeof(*sp));
	if ((sep = strstr(s, " .. ")) == NULL) {
		if ((r = mg_date_parse(s, &dt, err, errlen)) != 0)
			return r;
		sp->from = mg_datetime_to_seconds(&dt);
		sp->until = sp->from + 86400;
		sp->whole_day = 1;
		return 0;
	}
	if ((n = (size_t)(sep - s)) >= sizeof(a) || strlen(sep + 4) >= sizeof(b)) {
		mg_seterr_value(err, errlen, "invalid date range", s,
		    "expected YYYY-MM-DD HH:MM .. YYYY-MM-DD HH:MM");
		return MG_ERR_PARSE;
	}
	memcpy(a, s, n);
	a[n] = '\0';
	snprintf(b, sizeof(b), "%s", sep + 4);
	/* Date-only ends would leave unclear whether the last day counts. */
	if (strlen(a) == 10 || strlen(b) == 10) {
		mg_seterr_value(err, errlen, "invalid date range", s,
		    "give times on both ends, e.g. 2026-12-24 18:00 .. 2026-12-28 00:00");
		return MG_ERR_PARSE;
	}
	if ((r = mg_datetime_parse(a, &dt, err, errlen)) != 0)
		return r;
	sp->from = mg_datetime_to_seconds(&dt);
	if ((r = mg_datetime_parse(b, &dt, err, errlen)) != 0)
		return r;
	sp->until = mg_datetime_to_seconds(&dt);
	if (sp->until <= sp->from) {
		mg_seterr_value(err, errlen, "invalid date range", s,
		    "the end must be after the start");
		return MG_ERR_PARSE;
	}
	return 0;
}

static int
add_span(struct pol_window *w, struct pw_span **arr, size_t *n,
    const char *spec, char *err, size_t errlen)
{
	struct pw_span sp, *na;
	int r;

	if (err != NULL && errlen > 0)
		*err = '\0';
	if (w == NULL || spec == NULL)
		return MG_ERR_INVAL;
	if ((r = parse_span(spec, &sp, err, errlen)) != 0)
		return r;
	if (*n >= PW_MAX_PARTS) {
		mg_seterr_value(err, errlen, "window", w->name, "too many dated parts");
		return MG_ERR_TOOBIG;
	}
	if ((na = reallocarray(*arr, *n + 1, sizeof(*na))) == NULL)
		return MG_ERR_NOMEM;
	*arr = na;
	(*arr)[(*n)++] = sp;
	return 0;
}

int
pol_window_add_dated(struct pol_window *w, const char *spec, char *err,
    size_t errlen)
{
	if (w == NULL)
		return MG_ERR_INVAL;
	return add_span(w, &w->dated, &w->ndated, spec, err, errlen);
}

int
pol_window_add_except(struct pol_window *w, const char *spec, char *err,
    size_t errlen)
{
	if (w == NULL)
		return MG_ERR_INVAL;
	return add_span(w, &w->except, &w->nexcept, spec, err, errlen);
}

static int
weekly_has(const struct pw_weekly *p, int64_t lt)
{
	int64_t day = lt / 86400, sec = lt % 86400;
	int wd;

	if (sec < 0) {
		sec += 86400;
		day--;
	}
	wd = mg_weekday(day);
	if (p->end > p->start)
		return (p->days & (1 << wd)) && sec >= p->start * 60 &&
		    sec < p->end * 60;
	/* Crossing midnight: the evening of a listed day, or the morning after. */
	return ((p->days & (1 << wd)) && sec >= p->start * 60) ||
	    ((p->days & (1 << (wd + 6) % 7)) && sec < p->end * 60);
}

static const struct mg_tz *
zone_of(const struct pol_window *w, const struct mg_tz *deftz)
{
	return w->tz != NULL ? w->tz : deftz;
}

/* 1 when t is inside w; any error is "outside" so a fault denies. */
static int
window_contains(const struct pol_window *w, const struct mg_tz *deftz, time_t t)
{
	const struct mg_tz *tz = zone_of(w, deftz);
	int64_t lt;
	size_t i;

	/* No zone at all is a policy fault: deny rather than guess UTC. */
	if (tz == NULL || mg_tz_local_seconds(tz, t, &lt) != 0)
		return 0;
	/* Exclusions win over every other part of this window. */
	for (i = 0; i < w->nexcept; i++)
		if (lt >= w->except[i].from && lt < w->except[i].until)
			return 0;
	for (i = 0; i < w->ndated; i++)
		if (lt >= w->dated[i].from && lt < w->dated[i].until)
			return 1;
	for (i = 0; i < w->nweekly; i++)
		if (weekly_has(&w->weekly[i], lt))
			return 1;
	return 0;
}

int
pol_window_set_contains(const struct pol_window *const *w, size_t n,
    const struct mg_tz *deftz, time_t t)
{
	size_t i;

	if (w == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (w[i] != NULL && window_contains(w[i], deftz, t))
			return 1;
	return 0;
}

struct cands {
	int64_t *v;
	size_t n, cap;
	int64_t lo, hi;		/* keep only lo < c <= hi */
};

static int
cand_add(struct cands *c, int64_t t)
{
	int64_t *nv;

	if (t <= c->lo || t > c->hi)
		return 0;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 256;

		if ((nv = reallocarray(c->v, ncap, sizeof(*nv))) == NULL)
			return MG_ERR_NOMEM;
		c->v = nv;
		c->cap = ncap;
	}
	c->v[c->n++] = t;
	return 0;
}

/* Adds every instant at which the zone's wall clock reads lt (0, 1 or 2). */
static int
cand_add_wall(struct cands *c, const struct mg_tz *tz, int64_t lt)
{
	time_t at[2];
	int i, k, r;

	/* A wall time never read (out of range) simply adds nothing. */
	if (mg_tz_from_local_seconds(tz, lt, at, &k) != 0)
		return 0;
	for (i = 0; i < k; i++)
		if ((r = cand_add(c, at[i])) != 0)
			return r;
	return 0;
}

static int
cand_add_spans(struct cands *c, const struct mg_tz *tz,
    const struct pw_span *sp, size_t n, int64_t llo, int64_t lhi)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if (sp[i].from >= llo && sp[i].from < lhi &&
		    (r = cand_add_wall(c, tz, sp[i].from)) != 0)
			return r;
		if (sp[i].until >= llo && sp[i].until < lhi &&
		    (r = cand_add_wall(c, tz, sp[i].until)) != 0)
			return r;
	}
	return 0;
}

/*
 * Every instant in (c->lo, c->hi] at which w may change state: each
 * boundary wall time on each local day near the interval, mapped to UTC,
 * plus the zone's offset changes (which cover wall times that are skipped).
 */
static int
window_cands(const struct pol_window *w, const struct mg_tz *tz,
    struct cands *c)
{
	int64_t dlo = (c->lo - PW_OFF_SPAN) / 86400 - 2;
	int64_t dhi = (c->hi + PW_OFF_SPAN) / 86400 + 2;
	int64_t d, x;
	size_t i;
	int k, r;

	for (d = dlo; d <= dhi; d++) {
		int wd = mg_weekday(d);

		for (i = 0; i < w->nweekly; i++) {
			const struct pw_weekly *p = &w->weekly[i];

			if (!(p->days & (1 << wd)))
				continue;
			if ((r = cand_add_wall(c, tz, d * 86400 + p->start * 60)) != 0 ||
			    (r = cand_add_wall(c, tz, (p->end > p->start ? d : d + 1) *
			    86400 + p->end * 60)) != 0)
				return r;
		}
	}
	if ((r = cand_add_spans(c, tz, w->dated, w->ndated, dlo * 86400,
	    (dhi + 1) * 86400)) != 0 ||
	    (r = cand_add_spans(c, tz, w->except, w->nexcept, dlo * 86400,
	    (dhi + 1) * 86400)) != 0)
		return r;
	x = c->lo;
	for (k = 0; k < PW_MAX_TRANS; k++) {
		time_t nx;

		if (mg_tz_next_transition(tz, x, &nx) != 0 || nx > c->hi)
			break;
		if ((r = cand_add(c, nx)) != 0)
			return r;
		x = nx;
	}
	return 0;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/*
 * The first instant after t at which the set's state becomes want. The
 * state is constant between candidates, so checking each candidate in
 * order finds the change without stepping through time.
 */
static int
set_find(const struct pol_window *const *w, size_t n, const struct mg_tz *deftz,
    time_t t, int want, time_t *res)
{
	struct cands c;
	int64_t end, lo;
	size_t i, j;
	int r = 0;

	if (res != NULL)
		*res = 0;
	if ((w == NULL && n > 0) || res == NULL)
		return MG_ERR_INVAL;
	if (t < 0 || t > MG_TIME_MAX - PW_HORIZON - 4 * PW_OFF_SPAN)
		return MG_ERR_RANGE;
	if (pol_window_set_contains(w, n, deftz, t) == want)
		return MG_ERR_INVAL;
	memset(&c, 0, sizeof(c));
	end = (int64_t)t + PW_HORIZON;
	for (lo = t; lo < end; lo += PW_CHUNK) {
		c.n = 0;
		c.lo = lo;
		c.hi = lo + PW_CHUNK < end ? lo + PW_CHUNK : end;
		for (i = 0; i < n; i++) {
			const struct mg_tz *tz;

			if (w[i] == NULL || (tz = zone_of(w[i], deftz)) == NULL)
				continue;
			if ((r = window_cands(w[i], tz, &c)) != 0)
				goto out;
		}
		if (c.n == 0)
			continue;
		qsort(c.v, c.n, sizeof(*c.v), cmp_i64);
		for (i = 0; i < c.n; i = j) {
			for (j = i + 1; j < c.n && c.v[j] == c.v[i]; j++)
				;
			if (pol_window_set_contains(w, n, deftz, c.v[i]) == want) {
				*res = c.v[i];
				goto out;
			}
		}
	}
 out:
	free(c.v);
	return r;
}

int
pol_window_set_close(const struct pol_window *const *w, size_t n,
    const struct mg_tz *deftz, time_t t, time_t *close)
{
	return set_find(w, n, deftz, t, 0, close);
}

int
pol_window_set_next_open(const struct pol_window *const *w, size_t n,
    const struct mg_tz *deftz, time_t t, time_t *open)
{
	return set_find(w, n, deftz, t, 1, open);
}

static void app(char *buf, size_t len, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Appends to buf without overrunning it; a full buffer stays terminated. */
static void
app(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	r = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	*off = (size_t)r >= len - *off ? len : *off + (size_t)r;
}

static void
describe_days(uint8_t mask, char *buf, size_t len, size_t *off)
{
	int s, i, first = 1;

	if ((mask & 0x7f) == 0x7f) {
		app(buf, len, off, "Mon-Sun");
		return;
	}
	/* Start at a day that begins a run, so wrapping runs stay whole. */
	for (s = 0; s < 7; s++)
		if ((mask & (1 << s)) && !(mask & (1 << (s + 6) % 7)))
			break;
	for (i = 0; i < 7 && s < 7;) {
		int d = (s + i) % 7, k = 0;

		if (!(mask & (1 << d))) {
			i++;
			continue;
		}
		while (i + k < 7 && (mask & (1 << (s + i + k) % 7)))
			k++;
		if (k >= 3)
			app(buf, len, off, "%s%s-%s", first ? "" : ",",
			    day_names[d], day_names[(d + k - 1) % 7]);
		else if (k == 2)
			app(buf, len, off, "%s%s,%s", first ? "" : ",",
			    day_names[d], day_names[(d + 1) % 7]);
		else
			app(buf, len, off, "%s%s", first ? "" : ",", day_names[d]);
		first = 0;
		i += k;
	}
}

static void
describe_wall(int64_t lt, char *buf, size_t len, size_t *off)
{
	struct mg_datetime dt;

	mg_datetime_from_seconds(lt, &dt);
	app(buf, len, off, "%04d-%02d-%02d %02d:%02d", dt.year, dt.mon, dt.day,
	    dt.hour, dt.min);
	if (dt.sec != 0)
		app(buf, len, off, ":%02d", dt.sec);
}

static void
describe_span(const struct pw_span *sp, char *buf, size_t len, size_t *off)
{
	struct mg_datetime dt;

	if (sp->whole_day) {
		mg_datetime_from_seconds(sp->from, &dt);
		app(buf, len, off, "%04d-%02d-%02d", dt.year, dt.mon, dt.day);
		return;
	}
	describe_wall(sp->from, buf, len, off);
	app(buf, len, off, " .. ");
	describe_wall(sp->until, buf, len, off);
}

void
pol_window_describe(const struct pol_window *w, char *buf, size_t len)
{
	pol_window_describe_in(w, NULL, buf, len);
}

void
pol_window_describe_in(const struct pol_window *w, const struct mg_tz *deftz,
    char *buf, size_t len)
{
	size_t off = 0, i;
	int any = 0;

	if (buf == NULL || len == 0)
		return;
	buf[0] = '\0';
	if (w == NULL)
		return;
	for (i = 0; i < w->nweekly; i++, any = 1) {
		const struct pw_weekly *p = &w->weekly[i];

		if (any)
			app(buf, len, &off, ", ");
		describe_days(p->days, buf, len, &off);
		app(buf, len, &off, " %02d:%02d-%02d:%02d", p->start / 60,
		    p->start % 60, p->end / 60, p->end % 60);
	}
	for (i = 0; i < w->ndated; i++, any = 1) {
		if (any)
			app(buf, len, &off, ", ");
		describe_span(&w->dated[i], buf, len, &off);
	}
	if (!any)
		app(buf, len, &off, "no times");
	if (w->tz != NULL)
		app(buf, len, &off, " (%s)", mg_tz_name(w->tz));
	else if (deftz != NULL)
		app(buf, len, &off, " (%s, the tenant's zone)", mg_tz_name(deftz));
	else
		app(buf, len, &off, " (the tenant's zone)");
	for (i = 0; i < w->nexcept; i++) {
		app(buf, len, &off, "%s", i == 0 ? "; except " : ", ");
		describe_span(&w->except[i], buf, len, &off);
	}
}
