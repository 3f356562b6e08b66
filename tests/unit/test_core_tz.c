/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for the TZif reader: fixed cases, damaged files, and glibc agreement. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "mg_err.h"
#include "mg_time.h"
#include "mg_tz.h"

#define ZONEINFO "/usr/share/zoneinfo"

/* Seconds for "YYYY-MM-DD HH:MM[:SS]" as UTC; mg_time has its own tests. */
static time_t
utc(const char *s)
{
	struct mg_datetime dt;

	assert_int_equal(mg_datetime_parse(s, &dt, NULL, 0), 0);
	return (time_t)mg_datetime_to_seconds(&dt);
}

static struct mg_tz *
load(const char *name)
{
	struct mg_tz *tz = NULL;
	char err[256];
	int r;

	r = mg_tz_load(name, &tz, err, sizeof(err));
	if (r != 0)
		fail_msg("load %s: %s", name, err);
	assert_non_null(tz);
	assert_string_equal(mg_tz_name(tz), name);
	return tz;
}

static void
test_load_rejects_bad_names(void **state)
{
	static const char *const bad[] = {
		"../etc/passwd", "/etc/localtime", "Europe/../../etc/shadow",
		"Europe//London", "Europe/London/", "", "Euro pe", "zone.tab",
		"Europe/London\n", ".hidden", "Europe/./London", "a\\b",
	};
	struct mg_tz *tz = (struct mg_tz *)1;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tz = (struct mg_tz *)1;
		assert_int_equal(mg_tz_load(bad[i], &tz, err, sizeof(err)),
		    MG_ERR_INVAL);
		assert_null(tz);
		assert_non_null(strstr(err, "invalid time zone name"));
	}
	assert_int_equal(mg_tz_load("../etc/passwd", &tz, err, sizeof(err)),
	    MG_ERR_INVAL);
	assert_string_equal(err, "invalid time zone name \"../etc/passwd\"");
	assert_int_equal(mg_tz_load("Nowhere/Atlantis", &tz, err, sizeof(err)),
	    MG_ERR_NOENT);
	assert_string_equal(err, "unknown time zone \"Nowhere/Atlantis\"");
	/* A directory is not a zone. */
	assert_int_equal(mg_tz_load("Europe", &tz, err, sizeof(err)), MG_ERR_NOENT);
	assert_null(tz);
	/* Not TZif data at all (a text file in the zoneinfo directory). */
	if (access(ZONEINFO "/leapseconds", R_OK) == 0) {
		assert_int_equal(mg_tz_load("leapseconds", &tz, err, sizeof(err)),
		    MG_ERR_PARSE);
		assert_string_equal(err,
		    "time zone \"leapseconds\": damaged file: not a TZif file");
	}
	/* Leap-second zones are refused rather than misread (tzdata-legacy). */
	if (access(ZONEINFO "/right/Europe/London", R_OK) == 0) {
		assert_int_equal(mg_tz_load("right/Europe/London", &tz, err,
		    sizeof(err)), MG_ERR_PARSE);
		assert_string_equal(err, "time zone \"right/Europe/London\": "
		    "damaged file: leap-second zones are not supported");
		assert_null(tz);
	}
	mg_tz_free(NULL);
}

static void
write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void
test_load_tzdir(void **state)
{
	char dir[] = "/tmp/mgtz.XXXXXX", path[512], err[256];
	struct mg_tz *tz = NULL;
	static char big[300 * 1024];
	int gmtoff;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/Bad", dir);
	write_file(path, "TZif2 not really", 16);
	snprintf(path, sizeof(path), "%s/Big", dir);
	memcpy(big, "TZif2", 5);
	write_file(path, big, sizeof(big));
	snprintf(path, sizeof(path), "%s/Mine", dir);
	{
		/* A minimal v1 file: no transitions, one type "ABC" at +2h. */
		static const uint8_t v1[] = {
			'T', 'Z', 'i', 'f', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4,
			0, 0, 0x1c, 0x20, 0, 0, 'A', 'B', 'C', 0,
		};
		write_file(path, v1, sizeof(v1));
	}
	assert_int_equal(setenv("TZDIR", dir, 1), 0);
	assert_int_equal(mg_tz_load("Bad", &tz, err, sizeof(err)), MG_ERR_PARSE);
	assert_string_equal(err, "time zone \"Bad\": damaged file: truncated header");
	assert_int_equal(mg_tz_load("Big", &tz, err, sizeof(err)), MG_ERR_TOOBIG);
	assert_int_equal(mg_tz_load("Europe/London", &tz, err, sizeof(err)),
	    MG_ERR_NOENT);
	assert_int_equal(mg_tz_load("Mine", &tz, err, sizeof(err)), 0);
	assert_int_equal(mg_tz_offset(tz, 0, &gmtoff, NULL, NULL), 0);
	assert_int_equal(gmtoff, 7200);
	mg_tz_free(tz);
	unsetenv("TZDIR");
	snprintf(path, sizeof(path), "%s/Bad", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/Big", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/Mine", dir);
	unlink(path);
	rmdir(dir);
}

static void
test_offsets_table(void **state)
{
	static const struct {
		const char *zone;
		const char *when;	/* UTC */
		int gmtoff, isdst;
		const char *abbr;
	} t[] = {
		/* Spring forward in London: 01:00 UTC on the last Sunday of March. */
		{ "Europe/London", "2026-03-29 00:59:59", 0, 0, "GMT" },
		{ "Europe/London", "2026-03-29 01:00:00", 3600, 1, "BST" },
		{ "Europe/London", "2026-10-25 00:59:59", 3600, 1, "BST" },
		{ "Europe/London", "2026-10-25 01:00:00", 0, 0, "GMT" },
		/* 2045: past the file's transitions, from the footer rule. */
		{ "Europe/London", "2045-03-26 00:59:59", 0, 0, "GMT" },
		{ "Europe/London", "2045-03-26 01:00:00", 3600, 1, "BST" },
		{ "Europe/London", "2045-10-29 00:59:59", 3600, 1, "BST" },
		{ "Europe/London", "2045-10-29 01:00:00", 0, 0, "GMT" },
		{ "America/New_York", "2026-03-08 06:59:59", -18000, 0, "EST" },
		{ "America/New_York", "2026-03-08 07:00:00", -14400, 1, "EDT" },
		{ "America/New_York", "2026-11-01 05:59:59", -14400, 1, "EDT" },
		{ "America/New_York", "2026-11-01 06:00:00", -18000, 0, "EST" },
		{ "America/New_York", "2045-03-12 07:00:00", -14400, 1, "EDT" },
		{ "America/New_York", "2045-11-05 06:00:00", -18000, 0, "EST" },
		{ "Asia/Kolkata", "2030-06-01 00:00:00", 19800, 0, "IST" },
		{ "Australia/Lord_Howe", "2026-01-15 00:00:00", 39600, 1, "+11" },
		{ "Australia/Lord_Howe", "2026-06-15 00:00:00", 37800, 0, "+1030" },
		/* Dublin keeps "negative DST": winter is the DST period. */
		{ "Europe/Dublin", "2026-01-15 00:00:00", 0, 1, "GMT" },
		{ "Europe/Dublin", "2026-07-15 00:00:00", 3600, 0, "IST" },
		{ "America/Sao_Paulo", "2045-01-01 00:00:00", -10800, 0, "-03" },
		{ "Pacific/Apia", "2045-01-01 00:00:00", 46800, 0, "+13" },
		{ "UTC", "2045-01-01 00:00:00", 0, 0, "UTC" },
		/* Before the first transition: local mean time (type 0). */
		{ "Europe/London", "1800-01-01 00:00:00", -75, 0, "LMT" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct mg_tz *tz = load(t[i].zone);
		const char *abbr = NULL;
		int gmtoff = 99, isdst = 99;
		time_t when;

		if (strncmp(t[i].when, "1800", 4) == 0)
			when = (time_t)-5364662400LL;
		else
			when = utc(t[i].when);
		assert_int_equal(mg_tz_offset(tz, when, &gmtoff, &isdst, &abbr), 0);
		if (gmtoff != t[i].gmtoff || isdst != t[i].isdst ||
		    strcmp(abbr, t[i].abbr) != 0)
			fail_msg("%s at %s: got %d %d %s", t[i].zone, t[i].when,
			    gmtoff, isdst, abbr);
		mg_tz_free(tz);
	}
}

static void
test_from_local_table(void **state)
{
	static const struct {
		const char *zone;
		const char *local;
		int n;
		const char *at0, *at1;	/* UTC */
	} t[] = {
		{ "Europe/London", "2026-03-29 00:59:59", 1, "2026-03-29 00:59:59", NULL },
		{ "Europe/London", "2026-03-29 01:00:00", 0, NULL, NULL },
		{ "Europe/London", "2026-03-29 01:30:00", 0, NULL, NULL },
		{ "Europe/London", "2026-03-29 01:59:59", 0, NULL, NULL },
		{ "Europe/London", "2026-03-29 02:00:00", 1, "2026-03-29 01:00:00", NULL },
		{ "Europe/London", "2026-10-25 00:59:59", 1, "2026-10-24 23:59:59", NULL },
		{ "Europe/London", "2026-10-25 01:00:00", 2, "2026-10-25 00:00:00",
		    "2026-10-25 01:00:00" },
		{ "Europe/London", "2026-10-25 01:30:00", 2, "2026-10-25 00:30:00",
		    "2026-10-25 01:30:00" },
		{ "Europe/London", "2026-10-25 02:00:00", 1, "2026-10-25 02:00:00", NULL },
		{ "America/New_York", "2026-03-08 02:30:00", 0, NULL, NULL },
		{ "America/New_York", "2026-03-08 03:00:00", 1, "2026-03-08 07:00:00", NULL },
		{ "America/New_York", "2026-11-01 01:30:00", 2, "2026-11-01 05:30:00",
		    "2026-11-01 06:30:00" },
		{ "America/New_York", "2026-07-04 12:00:00", 1, "2026-07-04 16:00:00", NULL },
		{ "America/New_York", "2045-03-12 02:15:00", 0, NULL, NULL },
		{ "America/New_York", "2045-11-05 01:15:00", 2, "2045-11-05 05:15:00",
		    "2045-11-05 06:15:00" },
		{ "Europe/London", "2045-10-29 01:45:00", 2, "2045-10-29 00:45:00",
		    "2045-10-29 01:45:00" },
		/* Lord Howe moves by 30 minutes only. */
		{ "Australia/Lord_Howe", "2026-10-04 02:15:00", 0, NULL, NULL },
		{ "Australia/Lord_Howe", "2026-04-05 01:45:00", 2, "2026-04-04 14:45:00",
		    "2026-04-04 15:15:00" },
		{ "Asia/Kolkata", "2030-01-01 05:30:00", 1, "2030-01-01 00:00:00", NULL },
		/* Samoa skipped 30 December 2011 entirely. */
		{ "Pacific/Apia", "2011-12-30 12:00:00", 0, NULL, NULL },
		{ "UTC", "2040-02-29 23:59:59", 1, "2040-02-29 23:59:59", NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct mg_tz *tz = load(t[i].zone);
		struct mg_datetime lt;
		time_t at[2] = { -1, -1 };
		int n = -1;

		assert_int_equal(mg_datetime_parse(t[i].local, &lt, NULL, 0), 0);
		assert_int_equal(mg_tz_from_local(tz, &lt, at, &n), 0);
		if (n != t[i].n)
			fail_msg("%s %s: n=%d, want %d", t[i].zone, t[i].local,
			    n, t[i].n);
		if (n >= 1)
			assert_int_equal(at[0], utc(t[i].at0));
		if (n == 2)
			assert_int_equal(at[1], utc(t[i].at1));
		mg_tz_free(tz);
	}
}

static void
test_next_transition_table(void **state)
{
	static const struct {
		const char *zone;
		const char *from;
		const char *want;	/* NULL: none */
	} t[] = {
		{ "Europe/London", "2026-01-01 00:00:00", "2026-03-29 01:00:00" },
		{ "Europe/London", "2026-03-29 01:00:00", "2026-10-25 01:00:00" },
		{ "Europe/London", "2026-03-29 00:59:59", "2026-03-29 01:00:00" },
		{ "Europe/London", "2044-12-01 00:00:00", "2045-03-26 01:00:00" },
		{ "Europe/London", "2045-03-26 01:00:00", "2045-10-29 01:00:00" },
		{ "America/New_York", "2026-03-08 07:00:00", "2026-11-01 06:00:00" },
		{ "America/New_York", "2099-12-31 00:00:00", "2100-03-14 07:00:00" },
		{ "Australia/Lord_Howe", "2026-01-01 00:00:00", "2026-04-04 15:00:00" },
		{ "Europe/Dublin", "2026-01-01 00:00:00", "2026-03-29 01:00:00" },
		{ "Asia/Kolkata", "2020-01-01 00:00:00", NULL },
		{ "America/Sao_Paulo", "2020-01-01 00:00:00", NULL },
		{ "Pacific/Apia", "2022-01-01 00:00:00", NULL },
		{ "UTC", "2022-01-01 00:00:00", NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct mg_tz *tz = load(t[i].zone);
		time_t nx = 1;
		int r = mg_tz_next_transition(tz, utc(t[i].from), &nx);

		if (t[i].want == NULL) {
			assert_int_equal(r, MG_ERR_NOENT);
			assert_int_equal(nx, 0);
		} else {
			assert_int_equal(r, 0);
			if (nx != utc(t[i].want))
				fail_msg("%s after %s: got %lld", t[i].zone,
				    t[i].from, (long long)nx);
		}
		mg_tz_free(tz);
	}
}

static void
test_utc_and_range(void **state)
{
	struct mg_tz *tz = NULL;
	struct mg_datetime dt;
	const char *abbr;
	time_t at[2];
	int off, dst, n;

	(void)state;
	assert_int_equal(mg_tz_utc(&tz), 0);
	assert_string_equal(mg_tz_name(tz), "UTC");
	assert_int_equal(mg_tz_offset(tz, 1800000000, &off, &dst, &abbr), 0);
	assert_int_equal(off, 0);
	assert_int_equal(dst, 0);
	assert_string_equal(abbr, "UTC");
	assert_int_equal(mg_tz_to_local(tz, 1835395200, &dt), 0);
	assert_int_equal(dt.year, 2028);
	assert_int_equal(dt.mon, 2);
	assert_int_equal(dt.day, 29);
	assert_int_equal(mg_tz_offset(tz, MG_TIME_MAX + 1, &off, &dst, &abbr),
	    MG_ERR_RANGE);
	assert_int_equal(mg_tz_offset(tz, MG_TIME_MIN - 1, &off, &dst, &abbr),
	    MG_ERR_RANGE);
	assert_int_equal(mg_tz_to_local(tz, (time_t)INT64_MAX, &dt), MG_ERR_RANGE);
	assert_int_equal(mg_tz_next_transition(tz, 0, at), MG_ERR_NOENT);
	dt.mon = 13;
	assert_int_equal(mg_tz_from_local(tz, &dt, at, &n), MG_ERR_INVAL);
	assert_int_equal(n, 0);
	assert_int_equal(mg_tz_from_local_seconds(tz, INT64_MIN, at, &n),
	    MG_ERR_RANGE);
	mg_tz_free(tz);
}

/* glibc as the reference: set TZ here, in the test only. */
static void
glibc_zone(const char *tzstr)
{
	assert_int_equal(setenv("TZ", tzstr, 1), 0);
	tzset();
}

/* Compares one instant; returns 0 when all agree. */
static int
compare_at(const struct mg_tz *tz, const char *zone, time_t t)
{
	struct mg_datetime dt;
	const char *abbr;
	struct tm tm;
	time_t at[2];
	int off, dst, n, k, found = 0;

	if (localtime_r(&t, &tm) == NULL)
		fail_msg("localtime_r failed");
	assert_int_equal(mg_tz_offset(tz, t, &off, &dst, &abbr), 0);
	assert_int_equal(mg_tz_to_local(tz, t, &dt), 0);
	if (off != tm.tm_gmtoff || dst != (tm.tm_isdst > 0) ||
	    strcmp(abbr, tm.tm_zone) != 0 || dt.year != tm.tm_year + 1900 ||
	    dt.mon != tm.tm_mon + 1 || dt.day != tm.tm_mday ||
	    dt.hour != tm.tm_hour || dt.min != tm.tm_min || dt.sec != tm.tm_sec) {
		print_error("%s at %lld: mg %d %d %s, glibc %ld %d %s\n", zone,
		    (long long)t, off, dst, abbr, tm.tm_gmtoff, tm.tm_isdst,
		    tm.tm_zone);
		return 1;
	}
	/* The wall time read at t maps back to t. */
	assert_int_equal(mg_tz_from_local(tz, &dt, at, &n), 0);
	for (k = 0; k < n; k++)
		found |= at[k] == t;
	if (!found) {
		print_error("%s at %lld: from_local does not give t back\n",
		    zone, (long long)t);
		return 1;
	}
	return 0;
}

static void
test_glibc_agrees_named_zones(void **state)
{
	static const char *const zones[] = {
		"Europe/London", "America/New_York", "Australia/Lord_Howe",
		"Asia/Kolkata", "America/Sao_Paulo", "Europe/Dublin",
		"Pacific/Apia", "UTC", "America/Santiago", "Asia/Tehran",
		"Africa/Casablanca", "Pacific/Chatham", "America/St_Johns",
	};
	time_t from = utc("2020-01-01 00:00:00"), to = utc("2041-01-01 00:00:00");
	size_t i;
	int bad = 0, checked = 0;

	(void)state;
	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		struct mg_tz *tz = load(zones[i]);
		time_t t, nx;

		glibc_zone(zones[i]);
		for (t = from; t < to && bad < 10; t += 6 * 3600, checked++)
			bad += compare_at(tz, zones[i], t);
		/* Each change we report is a change for glibc too, to the second. */
		for (t = from; mg_tz_next_transition(tz, t, &nx) == 0 && nx < to &&
		    bad < 10; t = nx, checked += 2)
			bad += compare_at(tz, zones[i], nx - 1) +
			    compare_at(tz, zones[i], nx);
		mg_tz_free(tz);
	}
	unsetenv("TZ");
	tzset();
	assert_int_equal(bad, 0);
	assert_true(checked > 13 * 30000);
}

/* Footers alone, against glibc reading the same string as TZ. */
static size_t
build_tzif(uint8_t *buf, size_t cap, const char *footer)
{
	static const uint8_t hdr[44] = {
		'T', 'Z', 'i', 'f', '2', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4,
	};
	static const uint8_t block[10] = { 0, 0, 0, 0, 0, 0, 'A', 'B', 'C', 0 };
	size_t off = 0, fl = strlen(footer);

	assert_true(cap >= 2 * (sizeof(hdr) + sizeof(block)) + fl + 2);
	memcpy(buf, hdr, sizeof(hdr));
	off += sizeof(hdr);
	memcpy(buf + off, block, sizeof(block));
	off += sizeof(block);
	memcpy(buf + off, hdr, sizeof(hdr));
	off += sizeof(hdr);
	memcpy(buf + off, block, sizeof(block));
	off += sizeof(block);
	buf[off++] = '\n';
	memcpy(buf + off, footer, fl);
	off += fl;
	buf[off++] = '\n';
	return off;
}

static void
test_footer_rules_agree_with_glibc(void **state)
{
	static const char *const rules[] = {
		"GMT0BST,M3.5.0/1,M10.5.0",
		"EST5EDT,M3.2.0,M11.1.0",
		"<+03>-3",
		"<-0330>3:30",
		"AEST-10AEDT,M10.1.0,M4.1.0/3",
		"IST-1GMT0,M10.5.0,M3.5.0/1",
		"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
		"CET-1CEST,M3.5.0,M10.5.0/3",
		"XXX3YYY,J60/2,J300/2",
		"XXX3YYY,59/2,299/2",
		"XXX3YYY,J2/0,J364/23",
		"XXX3YYY,J1/1,J365/22",
		"NZST-12NZDT-13,M9.5.0,M4.1.0/3",
		"<-04>4<-03>,M9.1.6/24,M4.1.6/24",
		"WET0WEST,M3.5.0/1,M10.5.0",
		"ABC-5:45",
	};
	time_t from = utc("2020-01-01 00:00:00"), to = utc("2031-01-01 00:00:00");
	uint8_t buf[256];
	size_t i, len;
	int bad = 0;

	(void)state;
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		struct mg_tz *tz = NULL;
		char err[256];
		time_t t, nx;

		len = build_tzif(buf, sizeof(buf), rules[i]);
		if (mg_tz_parse(buf, len, rules[i], &tz, err, sizeof(err)) != 0)
			fail_msg("%s: %s", rules[i], err);
		glibc_zone(rules[i]);
		for (t = from; t < to && bad < 10; t += 6 * 3600 + 17)
			bad += compare_at(tz, rules[i], t);
		for (t = from; mg_tz_next_transition(tz, t, &nx) == 0 && nx < to &&
		    bad < 10; t = nx)
			bad += compare_at(tz, rules[i], nx - 1) +
			    compare_at(tz, rules[i], nx);
		mg_tz_free(tz);
	}
	unsetenv("TZ");
	tzset();
	assert_int_equal(bad, 0);
}

/*
 * glibc evaluates a rule in the UTC year only, so it gets this wrong on the
 * evening of 31 December; the rule itself is clear.
 */
static void
test_footer_rule_across_new_year(void **state)
{
	static const struct {
		const char *when;
		int gmtoff;
	} t[] = {
		/* DST starts 1 Jan 00:00 standard (03:00 UTC), ends 31 Dec 23:00 DST. */
		{ "2020-01-01 00:00:00", -7200 },	/* 31 Dec 22:00, still DST */
		{ "2020-01-01 00:59:59", -7200 },
		{ "2020-01-01 01:00:00", -10800 },	/* 31 Dec 23:00 DST: ends */
		{ "2020-01-01 02:59:59", -10800 },
		{ "2020-01-01 03:00:00", -7200 },	/* 1 Jan 00:00 standard */
		{ "2045-07-01 00:00:00", -7200 },
	};
	uint8_t buf[256];
	struct mg_tz *tz = NULL;
	size_t i, len;
	time_t nx;
	int off;

	(void)state;
	len = build_tzif(buf, sizeof(buf), "XXX3YYY,J1/0,J365/23");
	assert_int_equal(mg_tz_parse(buf, len, NULL, &tz, NULL, 0), 0);
	assert_string_equal(mg_tz_name(tz), "(unnamed)");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(mg_tz_offset(tz, utc(t[i].when), &off, NULL, NULL), 0);
		if (off != t[i].gmtoff)
			fail_msg("at %s: %d, want %d", t[i].when, off, t[i].gmtoff);
	}
	assert_int_equal(mg_tz_next_transition(tz, utc("2019-12-31 12:00:00"), &nx), 0);
	assert_int_equal(nx, utc("2020-01-01 01:00:00"));
	assert_int_equal(mg_tz_next_transition(tz, nx, &nx), 0);
	assert_int_equal(nx, utc("2020-01-01 03:00:00"));
	mg_tz_free(tz);
	/* DST all year (RFC 9636): never a change. */
	len = build_tzif(buf, sizeof(buf), "EST5EDT,0/0,J365/25");
	assert_int_equal(mg_tz_parse(buf, len, "allyear", &tz, NULL, 0), 0);
	assert_int_equal(mg_tz_offset(tz, utc("2030-12-31 23:30:00"), &off, NULL,
	    NULL), 0);
	assert_int_equal(off, -14400);
	assert_int_equal(mg_tz_offset(tz, utc("2031-01-01 04:30:00"), &off, NULL,
	    NULL), 0);
	assert_int_equal(off, -14400);
	assert_int_equal(mg_tz_next_transition(tz, utc("2030-06-01 00:00:00"), &nx),
	    MG_ERR_NOENT);
	mg_tz_free(tz);
}

static void
test_footer_rejects(void **state)
{
	static const char *const bad[] = {
		"EST5EDT",			/* DST without a rule */
		"EST5EDT,M13.1.0,M11.1.0",
		"EST5EDT,M3.6.0,M11.1.0",
		"EST5EDT,M3.2.7,M11.1.0",
		"EST5EDT,M3.2.0",
		"EST5EDT,J0,J100",
		"EST5EDT,J366,J100",
		"EST5EDT,366,100",
		"EST5EDT,M3.2.0/168,M11.1.0",
		"EST25",
		"EST5:60",
		"ES5",
		"<+03-3",
		"<+0\x01>-3",
		"<+03>",
		"EST5EDT,M3.2.0,M11.1.0,",
		"EST5EDT,M3.2.0,M11.1.0 ",
		"ABCDEFGHIJKLMNOP5",
		"EST5EDT,M3.2.0/,M11.1.0",
		"EST-",
	};
	uint8_t buf[256];
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mg_tz *tz = (struct mg_tz *)1;
		char err[256];

		len = build_tzif(buf, sizeof(buf), bad[i]);
		if (mg_tz_parse(buf, len, "x", &tz, err, sizeof(err)) != MG_ERR_PARSE)
			fail_msg("accepted footer \"%s\"", bad[i]);
		assert_null(tz);
		assert_string_equal(err,
		    "time zone \"x\": damaged file: bad TZ string in footer");
	}
}

static uint8_t *
read_zone(const char *name, size_t *len)
{
	char path[512];
	struct stat st;
	uint8_t *buf;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", ZONEINFO, name);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void
test_damaged_files(void **state)
{
	struct mg_tz *tz;
	size_t len, i;
	uint8_t *buf = read_zone("Europe/London", &len), *copy;
	char err[256];

	(void)state;
	/* Every strict prefix is refused. */
	for (i = 0; i < len; i++) {
		tz = (struct mg_tz *)1;
		assert_int_equal(mg_tz_parse(buf, i, "L", &tz, err, sizeof(err)),
		    MG_ERR_PARSE);
		assert_null(tz);
	}
	assert_int_equal(mg_tz_parse(buf, len, "L", &tz, err, sizeof(err)), 0);
	mg_tz_free(tz);
	copy = malloc(len + 1);
	assert_non_null(copy);
	/* Trailing bytes, a bad magic, a bad version. */
	memcpy(copy, buf, len);
	copy[len] = 'x';
	assert_int_equal(mg_tz_parse(copy, len + 1, "L", &tz, err, sizeof(err)),
	    MG_ERR_PARSE);
	assert_string_equal(err, "time zone \"L\": damaged file: trailing data");
	copy[0] = 'X';
	assert_int_equal(mg_tz_parse(copy, len, "L", &tz, err, sizeof(err)),
	    MG_ERR_PARSE);
	assert_string_equal(err, "time zone \"L\": damaged file: not a TZif file");
	memcpy(copy, buf, len);
	copy[4] = '9';
	assert_int_equal(mg_tz_parse(copy, len, "L", &tz, err, sizeof(err)),
	    MG_ERR_PARSE);
	/* Swap two transitions of the 64-bit block: out of order. */
	{
		uint32_t v1cnt = (uint32_t)buf[32] << 24 | buf[33] << 16 |
		    buf[34] << 8 | buf[35];
		uint32_t v1types = (uint32_t)buf[36] << 24 | buf[37] << 16 |
		    buf[38] << 8 | buf[39];
		uint32_t v1chars = (uint32_t)buf[40] << 24 | buf[41] << 16 |
		    buf[42] << 8 | buf[43];
		size_t v2 = 44 + v1cnt * 5 + v1types * 6 + v1chars +
		    ((uint32_t)buf[20] << 24 | buf[21] << 16 | buf[22] << 8 | buf[23]) +
		    ((uint32_t)buf[24] << 24 | buf[25] << 16 | buf[26] << 8 | buf[27]);
		size_t t0 = v2 + 44;
		uint8_t tmp[8];

		assert_memory_equal(buf + v2, "TZif", 4);
		memcpy(copy, buf, len);
		memcpy(tmp, copy + t0, 8);
		memcpy(copy + t0, copy + t0 + 8, 8);
		memcpy(copy + t0 + 8, tmp, 8);
		assert_int_equal(mg_tz_parse(copy, len, "L", &tz, err, sizeof(err)),
		    MG_ERR_PARSE);
		assert_string_equal(err,
		    "time zone \"L\": damaged file: transition times not in order");
		/* A huge transition count. */
		memcpy(copy, buf, len);
		copy[v2 + 32] = 0x7f;
		assert_int_equal(mg_tz_parse(copy, len, "L", &tz, err, sizeof(err)),
		    MG_ERR_PARSE);
	}
	/* A leap-second record count, even without a "right/" zone installed. */
	memcpy(copy, buf, len);
	copy[31] = 1;
	assert_int_equal(mg_tz_parse(copy, len, "L", &tz, err, sizeof(err)),
	    MG_ERR_PARSE);
	assert_string_equal(err,
	    "time zone \"L\": damaged file: leap-second zones are not supported");
	/* Too large before anything is read. */
	assert_int_equal(mg_tz_parse(buf, 300 * 1024, "L", &tz, err, sizeof(err)),
	    MG_ERR_TOOBIG);
	assert_int_equal(mg_tz_parse(NULL, 0, "L", &tz, err, sizeof(err)),
	    MG_ERR_PARSE);
	assert_int_equal(mg_tz_parse(buf, len, "L", NULL, err, sizeof(err)),
	    MG_ERR_INVAL);
	free(copy);
	free(buf);
}

/* Loads every zone file installed and spot-checks it against glibc. */
static int
walk(const char *rel, int *nzones, int *bad)
{
	char path[2048], sub[1024];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", ZONEINFO, rel);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && *bad < 10) {
		struct stat st;
		char magic[4];
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		if (strcmp(sub, "right") == 0 || strcmp(sub, "posix") == 0 ||
		    strcmp(sub, "localtime") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", ZONEINFO, sub);
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			walk(sub, nzones, bad);
			continue;
		}
		if ((fd = open(path, O_RDONLY)) < 0)
			continue;
		if (read(fd, magic, 4) != 4 || memcmp(magic, "TZif", 4) != 0) {
			close(fd);
			continue;
		}
		close(fd);
		{
			struct mg_tz *tz = NULL;
			char err[256];
			time_t t, nx, from = 0, to = utc("2050-01-01 00:00:00");

			if (mg_tz_load(sub, &tz, err, sizeof(err)) != 0) {
				print_error("%s: %s\n", sub, err);
				(*bad)++;
				continue;
			}
			glibc_zone(sub);
			for (t = from; t < to && *bad < 10; t += 9 * 86400 + 3607)
				*bad += compare_at(tz, sub, t);
			for (t = from; mg_tz_next_transition(tz, t, &nx) == 0 &&
			    nx < to && *bad < 10; t = nx)
				*bad += compare_at(tz, sub, nx - 1) +
				    compare_at(tz, sub, nx);
			mg_tz_free(tz);
			(*nzones)++;
		}
	}
	closedir(d);
	return 0;
}

static void
test_every_installed_zone(void **state)
{
	int nzones = 0, bad = 0;

	(void)state;
	walk("", &nzones, &bad);
	unsetenv("TZ");
	tzset();
	assert_int_equal(bad, 0);
	assert_true(nzones > 300);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_rejects_bad_names),
		cmocka_unit_test(test_load_tzdir),
		cmocka_unit_test(test_offsets_table),
		cmocka_unit_test(test_from_local_table),
		cmocka_unit_test(test_next_transition_table),
		cmocka_unit_test(test_utc_and_range),
		cmocka_unit_test(test_glibc_agrees_named_zones),
		cmocka_unit_test(test_footer_rules_agree_with_glibc),
		cmocka_unit_test(test_footer_rule_across_new_year),
		cmocka_unit_test(test_footer_rejects),
		cmocka_unit_test(test_damaged_files),
		cmocka_unit_test(test_every_installed_zone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
