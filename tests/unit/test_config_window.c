/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for time windows: parsing, DST, midnight, exclusions, close and open times. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "mg_err.h"
#include "mg_time.h"
#include "mg_tz.h"
#include "pol_window.h"

static struct mg_tz *london, *newyork, *utczone;

static int
setup(void **state)
{
	(void)state;
	if (mg_tz_load("Europe/London", &london, NULL, 0) != 0 ||
	    mg_tz_load("America/New_York", &newyork, NULL, 0) != 0 ||
	    mg_tz_utc(&utczone) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	mg_tz_free(london);
	mg_tz_free(newyork);
	mg_tz_free(utczone);
	return 0;
}

static time_t
utc(const char *s)
{
	struct mg_datetime dt;

	if (mg_datetime_parse(s, &dt, NULL, 0) != 0)
		fail_msg("bad time in test: %s", s);
	return (time_t)mg_datetime_to_seconds(&dt);
}

static const char *
fmt(time_t t)
{
	static char buf[4][32];
	static int k;
	struct mg_datetime dt;

	if (t == 0)
		return "never";
	k = (k + 1) % 4;
	mg_datetime_from_seconds(t, &dt);
	snprintf(buf[k], sizeof(buf[k]), "%04d-%02d-%02d %02d:%02d:%02d",
	    dt.year, dt.mon, dt.day, dt.hour, dt.min, dt.sec);
	return buf[k];
}

/*
 * A window from a compact spec: "W days hours" lines for weekly parts,
 * "D spec" for dated, "X spec" for exclusions, separated by '|'.
 */
static struct pol_window *
mk(const char *name, const struct mg_tz *tz, const char *spec)
{
	struct pol_window *w = pol_window_new(name, tz);
	char buf[512], *save = NULL, *part, err[256];

	assert_non_null(w);
	snprintf(buf, sizeof(buf), "%s", spec);
	for (part = strtok_r(buf, "|", &save); part != NULL;
	    part = strtok_r(NULL, "|", &save)) {
		int r;

		if (part[0] == 'W') {
			char *days = part + 2, *hours = strchr(days, ' ');

			assert_non_null(hours);
			*hours++ = '\0';
			r = pol_window_add_weekly(w, days, hours, err, sizeof(err));
		} else if (part[0] == 'D')
			r = pol_window_add_dated(w, part + 2, err, sizeof(err));
		else
			r = pol_window_add_except(w, part + 2, err, sizeof(err));
		if (r != 0)
			fail_msg("%s: %s", part, err);
	}
	return w;
}

struct wcase {
	const char *spec;	/* for mk() */
	int zone;		/* 0 London, 1 New York, 2 UTC */
	const char *at;		/* UTC */
	int inside;
	const char *change;	/* close when inside, next open when not; NULL: never */
};

static const struct mg_tz *
zone(int z)
{
	return z == 0 ? london : z == 1 ? newyork : utczone;
}

static void
run_cases(const struct wcase *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct pol_window *w = mk("t", zone(t[i].zone), t[i].spec);
		const struct pol_window *set[1] = { w };
		time_t at = utc(t[i].at), ch = 1, want;
		int in, r;

		in = pol_window_set_contains(set, 1, NULL, at);
		if (in != t[i].inside)
			fail_msg("case %zu (%s) at %s: inside=%d", i, t[i].spec,
			    t[i].at, in);
		if (in)
			r = pol_window_set_close(set, 1, NULL, at, &ch);
		else
			r = pol_window_set_next_open(set, 1, NULL, at, &ch);
		assert_int_equal(r, 0);
		want = t[i].change != NULL ? utc(t[i].change) : 0;
		if (ch != want)
			fail_msg("case %zu (%s) at %s: %s %s, want %s", i, t[i].spec,
			    t[i].at, in ? "closes" : "opens", fmt(ch), fmt(want));
		/* The other query refuses: it does not apply. */
		if (in)
			assert_int_equal(pol_window_set_next_open(set, 1, NULL, at,
			    &ch), MG_ERR_INVAL);
		else
			assert_int_equal(pol_window_set_close(set, 1, NULL, at, &ch),
			    MG_ERR_INVAL);
		assert_int_equal(ch, 0);
		pol_window_free(w);
	}
}

#define UK "W Mon-Fri 08:00-18:00"

static void
test_weekly_dst_london(void **state)
{
	static const struct wcase t[] = {
		/* Friday before the spring change: GMT, so 08:00 is 08:00 UTC. */
		{ UK, 0, "2026-03-27 07:59:59", 0, "2026-03-27 08:00:00" },
		{ UK, 0, "2026-03-27 08:00:00", 1, "2026-03-27 18:00:00" },
		{ UK, 0, "2026-03-27 17:59:59", 1, "2026-03-27 18:00:00" },
		/* Closed over the weekend; opens Monday 08:00 BST = 07:00 UTC. */
		{ UK, 0, "2026-03-27 18:00:00", 0, "2026-03-30 07:00:00" },
		{ UK, 0, "2026-03-29 01:30:00", 0, "2026-03-30 07:00:00" },
		{ UK, 0, "2026-03-30 06:59:59", 0, "2026-03-30 07:00:00" },
		{ UK, 0, "2026-03-30 07:00:00", 1, "2026-03-30 17:00:00" },
		/* Autumn: Friday in BST, Monday in GMT. */
		{ UK, 0, "2026-10-23 12:00:00", 1, "2026-10-23 17:00:00" },
		{ UK, 0, "2026-10-23 17:00:00", 0, "2026-10-26 08:00:00" },
		{ UK, 0, "2026-10-25 01:30:00", 0, "2026-10-26 08:00:00" },
		/* 2045, after the file's last transition: the footer rule. */
		{ UK, 0, "2045-03-24 17:00:00", 1, "2045-03-24 18:00:00" },
		{ UK, 0, "2045-03-24 18:00:00", 0, "2045-03-27 07:00:00" },
		{ UK, 0, "2045-03-27 12:00:00", 1, "2045-03-27 17:00:00" },
		{ UK, 0, "2045-10-27 16:59:59", 1, "2045-10-27 17:00:00" },
		{ UK, 0, "2045-10-27 17:00:00", 0, "2045-10-30 08:00:00" },
	};

	(void)state;
	run_cases(t, sizeof(t) / sizeof(t[0]));
}

static void
test_dst_edge_windows(void **state)
{
	static const struct wcase t[] = {
		/* Ends inside the skipped hour: closes at the jump (01:00 UTC). */
		{ "W Sun 00:30-01:30", 0, "2026-03-29 00:45:00", 1, "2026-03-29 01:00:00" },
		/* Starts inside the skipped hour: opens at the jump. */
		{ "W Sun 01:30-03:00", 0, "2026-03-29 00:00:00", 0, "2026-03-29 01:00:00" },
		{ "W Sun 01:30-03:00", 0, "2026-03-29 00:59:59", 0, "2026-03-29 01:00:00" },
		{ "W Sun 01:30-03:00", 0, "2026-03-29 01:00:00", 1, "2026-03-29 02:00:00" },
		/* Wholly inside the skipped hour: never open that day. */
		{ "W Sun 01:10-01:50", 0, "2026-03-29 00:00:00", 0, "2026-04-05 00:10:00" },
		/* The repeated hour in autumn counts twice. */
		{ "W Sun 01:00-01:30", 0, "2026-10-25 00:15:00", 1, "2026-10-25 00:30:00" },
		{ "W Sun 01:00-01:30", 0, "2026-10-25 00:30:00", 0, "2026-10-25 01:00:00" },
		{ "W Sun 01:00-01:30", 0, "2026-10-25 01:15:00", 1, "2026-10-25 01:30:00" },
		{ "W Sun 01:00-01:30", 0, "2026-10-25 01:30:00", 0, "2026-11-01 01:00:00" },
		{ "W Sun 00:00-01:30", 0, "2026-10-24 23:30:00", 1, "2026-10-25 00:30:00" },
		{ "W Sun 00:00-01:30", 0, "2026-10-25 00:30:00", 0, "2026-10-25 01:00:00" },
		/* New York: the repeated 01:00-02:00 joins into two hours. */
		{ "W Sun 01:00-02:00", 1, "2026-11-01 05:30:00", 1, "2026-11-01 07:00:00" },
		{ "W Sun 01:00-02:00", 1, "2026-11-01 04:59:59", 0, "2026-11-01 05:00:00" },
		/* Spring: 01:00-03:00 lasts one hour. */
		{ "W Sun 01:00-03:00", 1, "2026-03-08 06:30:00", 1, "2026-03-08 07:00:00" },
		{ "W Sun 02:00-02:30", 1, "2026-03-08 06:00:00", 0, "2026-03-15 06:00:00" },
		{ "W Mon-Fri 09:00-17:00", 1, "2026-03-06 22:00:00", 0, "2026-03-09 13:00:00" },
		{ "W Mon-Fri 09:00-17:00", 1, "2026-10-30 21:00:00", 0, "2026-11-02 14:00:00" },
		{ "W Mon-Fri 09:00-17:00", 1, "2045-03-10 22:00:00", 0, "2045-03-13 13:00:00" },
		{ "W Mon-Fri 09:00-17:00", 1, "2045-11-03 20:59:59", 1, "2045-11-03 21:00:00" },
		{ "W Mon-Fri 09:00-17:00", 1, "2045-11-03 21:00:00", 0, "2045-11-06 14:00:00" },
		/* Overnight across the spring change: 22:00 GMT to 06:00 BST. */
		{ "W Sat 22:00-06:00", 0, "2026-03-28 23:00:00", 1, "2026-03-29 05:00:00" },
		{ "W Sat 22:00-06:00", 1, "2026-10-31 12:00:00", 0, "2026-11-01 02:00:00" },
		{ "W Sat 22:00-06:00", 1, "2026-11-01 02:00:00", 1, "2026-11-01 11:00:00" },
	};

	(void)state;
	run_cases(t, sizeof(t) / sizeof(t[0]));
}

static void
test_midnight_and_whole_days(void **state)
{
	static const struct wcase t[] = {
		/* 2026-01-16 is a Friday; London is on GMT. */
		{ "W Fri 22:00-06:00", 0, "2026-01-16 21:59:59", 0, "2026-01-16 22:00:00" },
		{ "W Fri 22:00-06:00", 0, "2026-01-16 22:00:00", 1, "2026-01-17 06:00:00" },
		{ "W Fri 22:00-06:00", 0, "2026-01-17 05:59:59", 1, "2026-01-17 06:00:00" },
		{ "W Fri 22:00-06:00", 0, "2026-01-17 06:00:00", 0, "2026-01-23 22:00:00" },
		{ "W Fri 22:00-06:00", 0, "2026-01-17 23:00:00", 0, "2026-01-23 22:00:00" },
		/* Friday morning belongs to Thursday night, which is not listed. */
		{ "W Fri 22:00-06:00", 0, "2026-01-16 03:00:00", 0, "2026-01-16 22:00:00" },
		/* Sunday night into Monday. */
		{ "W Sun 22:00-06:00", 0, "2026-01-18 23:00:00", 1, "2026-01-19 06:00:00" },
		{ "W Sun 22:00-06:00", 0, "2026-01-19 05:00:00", 1, "2026-01-19 06:00:00" },
		{ "W Sun 22:00-06:00", 0, "2026-01-17 23:00:00", 0, "2026-01-18 22:00:00" },
		{ "W Sun 22:00-00:00", 0, "2026-01-18 23:00:00", 1, "2026-01-19 00:00:00" },
		{ "W Fri-Mon 22:00-06:00", 0, "2026-01-19 23:00:00", 1, "2026-01-20 06:00:00" },
		/* Whole days merge: Monday to Friday closes at Saturday 00:00. */
		{ "W Mon-Fri 00:00-24:00", 0, "2026-01-14 12:00:00", 1, "2026-01-17 00:00:00" },
		{ "W Mon-Fri 00:00-24:00", 0, "2026-07-15 12:00:00", 1, "2026-07-17 23:00:00" },
		{ "W Mon-Fri 00:00-24:00", 0, "2026-01-17 12:00:00", 0, "2026-01-19 00:00:00" },
		{ "W Fri-Mon 00:00-24:00", 2, "2026-01-17 12:00:00", 1, "2026-01-20 00:00:00" },
		{ "W * 00:00-24:00", 0, "2026-01-17 12:00:00", 1, NULL },
		{ "W Mon-Fri 08:00-18:00|W Mon-Fri 18:00-22:00", 0, "2026-01-14 12:00:00",
		    1, "2026-01-14 22:00:00" },
		{ "W Mon 22:00-06:00|W Tue 06:00-09:00", 2, "2026-01-19 23:00:00",
		    1, "2026-01-20 09:00:00" },
		/* Leap day. */
		{ "W Tue 00:00-24:00", 2, "2028-02-29 12:00:00", 1, "2028-03-01 00:00:00" },
	};

	(void)state;
	run_cases(t, sizeof(t) / sizeof(t[0]));
}

static void
test_dated_and_exclusions(void **state)
{
	static const struct wcase t[] = {
		{ UK "|X 2026-12-25", 0, "2026-12-24 12:00:00", 1, "2026-12-24 18:00:00" },
		{ UK "|X 2026-12-25", 0, "2026-12-25 12:00:00", 0, "2026-12-28 08:00:00" },
		{ UK "|X 2026-12-25", 0, "2026-12-24 18:00:00", 0, "2026-12-28 08:00:00" },
		{ UK "|X 2026-12-24 12:00 .. 2026-12-24 14:00", 0, "2026-12-24 10:00:00",
		    1, "2026-12-24 12:00:00" },
		{ UK "|X 2026-12-24 12:00 .. 2026-12-24 14:00", 0, "2026-12-24 12:00:00",
		    0, "2026-12-24 14:00:00" },
		/* A dated window alone, in New York (EST). */
		{ "D 2026-12-24 18:00 .. 2026-12-27 08:00", 1, "2026-12-24 22:59:59",
		    0, "2026-12-24 23:00:00" },
		{ "D 2026-12-24 18:00 .. 2026-12-27 08:00", 1, "2026-12-25 00:00:00",
		    1, "2026-12-27 13:00:00" },
		{ "D 2026-12-24 18:00 .. 2026-12-27 08:00", 1, "2026-12-27 13:00:00",
		    0, NULL },
		/* Dated plus weekly hours join up. */
		{ UK "|D 2026-12-25 18:00 .. 2026-12-28 08:00", 0, "2026-12-25 12:00:00",
		    1, "2026-12-28 18:00:00" },
		/* An exclusion inside a dated window. */
		{ "D 2026-07-01 00:00 .. 2026-07-08 00:00|X 2026-07-04", 1,
		    "2026-07-02 00:00:00", 1, "2026-07-04 04:00:00" },
		{ "D 2026-07-01 00:00 .. 2026-07-08 00:00|X 2026-07-04", 1,
		    "2026-07-04 04:00:00", 0, "2026-07-05 04:00:00" },
		/* Leap day as a whole dated day. */
		{ "D 2028-02-29", 0, "2028-02-28 23:59:59", 0, "2028-02-29 00:00:00" },
		{ "D 2028-02-29", 0, "2028-02-29 00:00:00", 1, "2028-03-01 00:00:00" },
		/* Across the spring change: until 12:00 BST is 11:00 UTC. */
		{ "D 2026-03-28 12:00 .. 2026-03-29 12:00", 0, "2026-03-28 12:00:00",
		    1, "2026-03-29 11:00:00" },
		/* From inside the skipped hour: opens at the jump. */
		{ "D 2026-03-29 01:30 .. 2026-03-29 04:00", 0, "2026-03-29 00:00:00",
		    0, "2026-03-29 01:00:00" },
		/* Beyond the 400-day horizon: no answer rather than a wrong one. */
		{ "D 2030-01-01", 0, "2026-01-01 00:00:00", 0, NULL },
		{ "D 2027-01-01", 0, "2026-01-01 00:00:00", 0, "2027-01-01 00:00:00" },
	};

	(void)state;
	run_cases(t, sizeof(t) / sizeof(t[0]));
}

static void
test_sets(void **state)
{
	struct pol_window *uk = mk("uk", london, UK "|X 2026-12-25");
	struct pol_window *us = mk("us", newyork, "W Mon-Fri 09:00-17:00");
	struct pol_window *def = mk("def", NULL, "W Mon-Fri 09:00-17:00");
	const struct pol_window *both[2] = { uk, us };
	const struct pol_window *one[1] = { def };
	time_t ch;

	(void)state;
	/* London 08:00-18:00 UTC and New York 14:00-22:00 UTC join up. */
	assert_int_equal(pol_window_set_close(both, 2, NULL, utc("2026-01-14 10:00:00"),
	    &ch), 0);
	assert_int_equal(ch, utc("2026-01-14 22:00:00"));
	assert_int_equal(pol_window_set_next_open(both, 2, NULL,
	    utc("2026-01-14 22:00:00"), &ch), 0);
	assert_int_equal(ch, utc("2026-01-15 08:00:00"));
	/* The exclusion belongs to the London window only. */
	assert_int_equal(pol_window_set_contains(both, 2, NULL,
	    utc("2026-12-25 12:00:00")), 0);
	assert_int_equal(pol_window_set_contains(both, 2, NULL,
	    utc("2026-12-25 15:00:00")), 1);
	assert_int_equal(pol_window_set_next_open(both, 1, NULL,
	    utc("2026-12-25 15:00:00"), &ch), 0);
	assert_int_equal(ch, utc("2026-12-28 08:00:00"));
	/* A window without its own zone uses the query's. */
	assert_int_equal(pol_window_set_contains(one, 1, newyork,
	    utc("2026-01-14 14:00:00")), 1);
	assert_int_equal(pol_window_set_contains(one, 1, london,
	    utc("2026-01-14 17:30:00")), 0);
	assert_int_equal(pol_window_set_close(one, 1, london,
	    utc("2026-01-14 12:00:00"), &ch), 0);
	assert_int_equal(ch, utc("2026-01-14 17:00:00"));
	/* No zone at all: never inside, never opens (deny). */
	assert_int_equal(pol_window_set_contains(one, 1, NULL,
	    utc("2026-01-14 14:00:00")), 0);
	assert_int_equal(pol_window_set_next_open(one, 1, NULL,
	    utc("2026-01-14 14:00:00"), &ch), 0);
	assert_int_equal(ch, 0);
	/* An empty set is never inside. */
	assert_int_equal(pol_window_set_contains(NULL, 0, london, 0), 0);
	assert_int_equal(pol_window_set_next_open(both, 0, london,
	    utc("2026-01-14 14:00:00"), &ch), 0);
	assert_int_equal(ch, 0);
	/* Out of range. */
	assert_int_equal(pol_window_set_next_open(both, 2, NULL, -1, &ch),
	    MG_ERR_RANGE);
	assert_int_equal(pol_window_set_next_open(both, 2, NULL,
	    (time_t)MG_TIME_MAX, &ch), MG_ERR_RANGE);
	assert_int_equal(pol_window_set_contains(both, 2, NULL,
	    (time_t)MG_TIME_MAX + 1), 0);
	pol_window_free(uk);
	pol_window_free(us);
	pol_window_free(def);
	pol_window_free(NULL);
}

static void
test_parse_errors(void **state)
{
	static const struct {
		char kind;	/* 'W', 'D', 'X' */
		const char *days, *spec;
		int r;
		const char *msg;
	} t[] = {
		{ 'W', "Mon-Fri", "25:00-18:00", MG_ERR_PARSE, "invalid hour in \"25:00\"" },
		{ 'W', "Mon-Fri", "08:00-12:60", MG_ERR_PARSE, "invalid minute in \"12:60\"" },
		{ 'W', "Mon-Fri", "8:00-18:00", MG_ERR_PARSE,
		    "invalid time \"8:00\": expected HH:MM (two digits each)" },
		{ 'W', "Mon-Fri", "09:00-09:00", MG_ERR_PARSE,
		    "empty time range \"09:00-09:00\": use 00:00-24:00 for the whole day" },
		{ 'W', "Mon-Fri", "00:00-00:00", MG_ERR_PARSE,
		    "empty time range \"00:00-00:00\": use 00:00-24:00 for the whole day" },
		{ 'W', "Mon-Fri", "24:00-06:00", MG_ERR_PARSE, "invalid hour in \"24:00\": "
		    "24:00 is allowed only as the end of a range" },
		{ 'W', "Mon-Fri", "08:00", MG_ERR_PARSE,
		    "invalid hours \"08:00\": expected HH:MM-HH:MM" },
		{ 'W', "Mon-Fri", "08:00 - 18:00", MG_ERR_PARSE,
		    "invalid time \"08:00 \": expected HH:MM (two digits each)" },
		{ 'W', "Mon-Fri", "08:00-18:00-20:00", MG_ERR_PARSE,
		    "invalid time \"18:00-20:00\": expected HH:MM (two digits each)" },
		{ 'W', "Mon-Fry", "08:00-18:00", MG_ERR_PARSE, "invalid day \"Fry\" in "
		    "\"Mon-Fry\" (use Mon Tue Wed Thu Fri Sat Sun, or *)" },
		{ 'W', "Monday", "08:00-18:00", MG_ERR_PARSE, "invalid day \"Monday\" in "
		    "\"Monday\" (use Mon Tue Wed Thu Fri Sat Sun, or *)" },
		{ 'W', "Mon-", "08:00-18:00", MG_ERR_PARSE, "invalid day \"\" in "
		    "\"Mon-\" (use Mon Tue Wed Thu Fri Sat Sun, or *)" },
		{ 'W', "", "08:00-18:00", MG_ERR_PARSE, "invalid days \"\": empty item "
		    "(use names Mon..Sun, ranges such as Mon-Fri, or *)" },
		{ 'W', "Mon,,Fri", "08:00-18:00", MG_ERR_PARSE, "invalid days \"Mon,,Fri\": "
		    "empty item (use names Mon..Sun, ranges such as Mon-Fri, or *)" },
		{ 'W', "Mon,", "08:00-18:00", MG_ERR_PARSE, "invalid days \"Mon,\": "
		    "empty item (use names Mon..Sun, ranges such as Mon-Fri, or *)" },
		{ 'W', "*,Mon", "08:00-18:00", MG_ERR_PARSE, "invalid day \"*\" in "
		    "\"*,Mon\" (use Mon Tue Wed Thu Fri Sat Sun, or *)" },
		{ 'W', "mon-FRI", "08:00-18:00", 0, NULL },
		{ 'W', "Sat, Sun", "08:00-18:00", 0, NULL },
		{ 'W', "Mon-Wed,Fri", "18:00-24:00", 0, NULL },
		{ 'D', NULL, "2027-02-29", MG_ERR_PARSE,
		    "invalid day in \"2027-02-29\": month 02 of 2027 has 28 days" },
		{ 'D', NULL, "2028-02-29", 0, NULL },
		{ 'D', NULL, "2026-13-01", MG_ERR_PARSE, "invalid month in \"2026-13-01\"" },
		{ 'D', NULL, "2026-12-27 08:00 .. 2026-12-24 18:00", MG_ERR_PARSE,
		    "invalid date range \"2026-12-27 08:00 .. 2026-12-24 18:00\": "
		    "the end must be after the start" },
		{ 'D', NULL, "2026-12-24 18:00 .. 2026-12-24 18:00", MG_ERR_PARSE,
		    "invalid date range \"2026-12-24 18:00 .. 2026-12-24 18:00\": "
		    "the end must be after the start" },
		{ 'X', NULL, "2026-12-24 .. 2026-12-27", MG_ERR_PARSE,
		    "invalid date range \"2026-12-24 .. 2026-12-27\": give times on both "
		    "ends, e.g. 2026-12-24 18:00 .. 2026-12-28 00:00" },
		{ 'X', NULL, "2026-12-24 25:00 .. 2026-12-27 08:00", MG_ERR_PARSE,
		    "invalid hour in \"2026-12-24 25:00\"" },
		{ 'X', NULL, "2026-12-24 18:00..2026-12-27 08:00", MG_ERR_PARSE,
		    "invalid date \"2026-12-24 18:00..2026-12-27 08:00\": expected YYYY-MM-DD" },
		{ 'X', NULL, "", MG_ERR_PARSE, "invalid date \"\": expected YYYY-MM-DD" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct pol_window *w = pol_window_new("w", london);
		char err[256] = "junk";
		int r;

		if (t[i].kind == 'W')
			r = pol_window_add_weekly(w, t[i].days, t[i].spec, err, sizeof(err));
		else if (t[i].kind == 'D')
			r = pol_window_add_dated(w, t[i].spec, err, sizeof(err));
		else
			r = pol_window_add_except(w, t[i].spec, err, sizeof(err));
		if (r != t[i].r)
			fail_msg("case %zu: r=%d (%s)", i, r, err);
		if (t[i].msg != NULL)
			assert_string_equal(err, t[i].msg);
		else
			assert_string_equal(err, "");
		/* A failed add leaves the window as it was. */
		assert_int_equal(pol_window_is_empty(w), r != 0 || t[i].kind == 'X');
		pol_window_free(w);
	}
}

static void
test_limits_and_empty(void **state)
{
	struct pol_window *w = pol_window_new("big", london);
	char err[256];
	int i;

	(void)state;
	assert_int_equal(pol_window_is_empty(w), 1);
	assert_int_equal(pol_window_add_except(w, "2026-12-25", err, sizeof(err)), 0);
	assert_int_equal(pol_window_is_empty(w), 1);
	for (i = 0; i < 64; i++)
		assert_int_equal(pol_window_add_weekly(w, "Mon", "08:00-09:00", err,
		    sizeof(err)), 0);
	assert_int_equal(pol_window_add_weekly(w, "Mon", "08:00-09:00", err,
	    sizeof(err)), MG_ERR_TOOBIG);
	assert_string_equal(err, "window \"big\": too many weekly parts");
	assert_int_equal(pol_window_is_empty(w), 0);
	assert_string_equal(pol_window_name(w), "big");
	assert_ptr_equal(pol_window_tz(w), london);
	assert_int_equal(pol_window_add_weekly(NULL, "Mon", "08:00-09:00", err,
	    sizeof(err)), MG_ERR_INVAL);
	assert_int_equal(pol_window_add_dated(NULL, "2026-01-01", err, sizeof(err)),
	    MG_ERR_INVAL);
	assert_int_equal(pol_window_is_empty(NULL), 1);
	pol_window_free(w);
}

static void
test_describe(void **state)
{
	static const struct {
		const char *spec;
		int zone;	/* -1: none */
		const char *want;
	} t[] = {
		{ UK "|X 2026-12-25", 0,
		    "Mon-Fri 08:00-18:00 (Europe/London); except 2026-12-25" },
		{ "W Fri-Mon 22:00-06:00|W Sat,Sun 10:00-12:00", -1,
		    "Fri-Mon 22:00-06:00, Sat,Sun 10:00-12:00 (the tenant's zone)" },
		{ "W * 00:00-24:00", 2, "Mon-Sun 00:00-24:00 (UTC)" },
		{ "W Mon,Wed,Fri 09:30-10:00|W sun,sat,mon 10:00-11:00", 2,
		    "Mon,Wed,Fri 09:30-10:00, Sat-Mon 10:00-11:00 (UTC)" },
		{ "W Tue-Sat 08:00-09:00|W Sun,Mon,Tue,Wed 08:00-09:00", 2,
		    "Tue-Sat 08:00-09:00, Sun-Wed 08:00-09:00 (UTC)" },
		{ "D 2026-12-24 18:00 .. 2026-12-27 08:00:30|X 2026-12-25 12:00 .. "
		    "2026-12-25 13:30|X 2026-12-26", 1,
		    "2026-12-24 18:00 .. 2026-12-27 08:00:30 (America/New_York); "
		    "except 2026-12-25 12:00 .. 2026-12-25 13:30, 2026-12-26" },
		{ "X 2026-12-25", -1, "no times (the tenant's zone); except 2026-12-25" },
	};
	char buf[256], small[11];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct pol_window *w = mk("d", t[i].zone < 0 ? NULL : zone(t[i].zone),
		    t[i].spec);

		pol_window_describe(w, buf, sizeof(buf));
		assert_string_equal(buf, t[i].want);
		pol_window_describe(w, small, sizeof(small));
		assert_int_equal(strlen(small), sizeof(small) - 1);
		assert_memory_equal(small, t[i].want, sizeof(small) - 1);
		pol_window_free(w);
	}
	pol_window_describe(NULL, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

/*
 * Reference: step minute by minute (every boundary here is on a whole
 * minute) for up to 9 days. The library must agree to the second.
 */
static time_t
reference_change(const struct pol_window *const *set, size_t n,
    const struct mg_tz *deftz, time_t t)
{
	int in = pol_window_set_contains(set, n, deftz, t);
	time_t x = t - t % 60 + 60;

	for (; x < t + 9 * 86400; x += 60)
		if (pol_window_set_contains(set, n, deftz, x) != in)
			return x;
	return -1;
}

static void
test_against_minute_steps(void **state)
{
	struct pol_window *a = mk("a", london, UK "|W Sat 22:00-02:30|"
	    "W Sun 01:30-01:45|W Sun 00:00-01:10|X 2026-03-30 09:00 .. 2026-03-30 10:00");
	struct pol_window *b = mk("b", newyork, "W Sun 01:00-02:30|"
	    "W Mon-Fri 09:00-17:00|D 2026-11-01 01:59 .. 2026-11-01 03:00");
	struct pol_window *c = mk("c", NULL, "W Sun 02:15-02:20|W Thu-Sat 23:00-01:15");
	const struct pol_window *set[3] = { a, b, c };
	static const char *const from[] = {
		"2026-03-05 00:00:00", "2026-03-25 00:00:00", "2026-10-21 00:00:00",
		"2026-10-28 00:00:00", "2045-03-22 00:00:00",
	};
	size_t i, checked = 0;

	(void)state;
	for (i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
		time_t t, start = utc(from[i]);

		/* Odd steps so start points fall at all sorts of seconds. */
		for (t = start; t < start + 6 * 86400; t += 23 * 60 + 13) {
			int in = pol_window_set_contains(set, 3, london, t);
			time_t got, want;

			/* c has no zone: the query's default (London) applies. */
			if (in)
				assert_int_equal(pol_window_set_close(set, 3, london, t,
				    &got), 0);
			else
				assert_int_equal(pol_window_set_next_open(set, 3, london,
				    t, &got), 0);
			want = reference_change(set, 3, london, t);
			/* Every start here changes state within 9 days. */
			if (got != want)
				fail_msg("from %s (inside=%d): got %s, want %s",
				    fmt(t), in, fmt(got), fmt(want));
			checked++;
		}
	}
	assert_true(checked > 1800);
	pol_window_free(a);
	pol_window_free(b);
	pol_window_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weekly_dst_london),
		cmocka_unit_test(test_dst_edge_windows),
		cmocka_unit_test(test_midnight_and_whole_days),
		cmocka_unit_test(test_dated_and_exclusions),
		cmocka_unit_test(test_sets),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_limits_and_empty),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_against_minute_steps),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
