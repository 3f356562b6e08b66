/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for access decisions: every way to deny, allows and their end times. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mg_diag.h"
#include "mg_err.h"
#include "mg_time.h"
#include "pol.h"
#include "pol_decide.h"
#include "../lib/testkeys.h"

static const char *const policy_lines[] = {
	/* 1 */ "windows: { uk = { tz = \"Europe/London\"; days = \"Mon-Fri\"; hours = \"08:00-18:00\"; except = [\"2026-12-25\"]; };",
	/* 2 */ "  nights = { days = \"Mon-Fri\"; hours = \"22:00-06:00\"; }; };",
	/* 3 */ "engineers = ( { name = \"alice\"; groups = [\"l2\"]; valid_until = \"2027-03-31\"; },",
	/* 4 */ "  { name = \"bob\"; groups = [\"l1\"]; sources = [\"198.51.100.0/24\"]; },",
	/* 5 */ "  { name = \"carol\"; valid_from = \"2027-01-01\"; } );",
	/* 6 */ "tenants = ( { name = \"acme\"; tz = \"Europe/London\"; windows = [\"uk\"]; approvers = [\"group:leads\", \"erin\"];",
	/* 7 */ "    targets = ( { name = \"web01\"; host = \"h\"; host_key = \"HK\"; logins = [\"deploy\", \"root\"]; credential = \"c\"; },",
	/* 8 */ "      { name = \"db01\"; host = \"h\"; host_key = \"HK\"; logins = [\"postgres\"]; credential = \"c\"; } ); },",
	/* 9 */ "  { name = \"globex\"; tz = \"America/New_York\"; windows = [\"nights\"];",
	/* 10 */ "    targets = ( { name = \"app\"; host = \"h\"; host_key = \"HK\"; logins = [\"ops\"]; credential = \"c\"; } ); } );",
	/* 11 */ "grants = ( { to = \"group:l2\"; tenants = [\"acme\"]; targets = [\"web*\"]; logins = [\"deploy\"]; mfa = \"fido+totp\"; max_session = \"2h\"; ticket = true; },",
	/* 12 */ "  { to = \"bob\"; tenants = [\"acme\", \"globex\"]; targets = [\"*\"]; logins = [\"deploy\", \"ops\"]; mfa = \"totp\"; max_session = \"30m\"; },",
	/* 13 */ "  { to = \"carol\"; tenants = [\"globex\"]; targets = [\"app\"]; logins = [\"ops\"]; mfa = \"totp\"; },",
	/* 14 */ "  { to = \"alice\"; tenants = [\"acme\"]; targets = [\"db01\"]; logins = [\"postgres\"]; mfa = \"totp\"; valid_until = \"2026-12-31\"; sources = [\"192.0.2.0/24\"]; approval = \"required\"; approval_timeout = \"90s\"; } );",
	NULL
};

#define FT	(POL_MFA_FIDO | POL_MFA_TOTP)
#define TO	POL_MFA_TOTP

/* UTC instant of a calendar time. */
static time_t
U(int y, int mo, int d, int h, int mi)
{
	return (time_t)(mg_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60);
}

static const struct dcase {
	const char *what;
	const char *eng, *tenant, *target, *login;
	unsigned mfa;
	int mfa_unknown;
	const char *source;
	int y, mo, d, h, mi;	/* UTC */
	int allow;
	int rule_line;		/* 0: no rule */
	const char *reason;	/* substring */
	/* allow: end_by and window_close as UTC y,m,d,h,mi (0 = not checked) */
	int eb[5], wc[5];
	int ticket;
	int approval;		/* the deciding grant asks for approval (90 s) */
} cases[] = {
	{ "allow in hours", "alice", "acme", "web01", "deploy", FT, 0, NULL,
	  2026, 12, 1, 9, 30, 1, 11, "allows alice to reach acme/web01 as deploy",
	  { 2026, 12, 1, 11, 30 }, { 2026, 12, 1, 18, 0 }, 1, 0 },
	{ "login defaults to the grant's", "alice", "acme", "web01", NULL, FT, 0, NULL,
	  2026, 12, 1, 9, 30, 1, 11, "as deploy", { 0 }, { 0 }, 1, 0 },
	{ "missing fido", "alice", "acme", "web01", "deploy", TO, 0, NULL,
	  2026, 12, 1, 9, 30, 0, 11, "requires MFA fido+totp, but the login used totp", { 0 }, { 0 }, 0, 0 },
	{ "mfa not judged", "alice", "acme", "web01", "deploy", 0, 1, NULL,
	  2026, 12, 1, 9, 30, 1, 11, "with MFA fido+totp", { 0 }, { 0 }, 1, 0 },
	{ "window close ends the session first", "alice", "acme", "web01", "deploy", FT, 0, NULL,
	  2026, 12, 1, 17, 59, 1, 11, "", { 2026, 12, 1, 18, 0 }, { 2026, 12, 1, 18, 0 }, 1, 0 },
	{ "at window close", "alice", "acme", "web01", "deploy", FT, 0, NULL,
	  2026, 12, 1, 18, 0, 0, 11, "outside the access window (uk); it opens next at 2026-12-02 08:00 UTC",
	  { 0 }, { 0 }, 0, 0 },
	/* Spring forward 2027-03-28: the same UTC time of day, other answers. */
	{ "before spring DST, 07:30 GMT", "alice", "acme", "web01", "deploy", FT, 0, NULL,
	  2027, 3, 26, 7, 30, 0, 11, "opens next at 2027-03-26 08:00 UTC", { 0 }, { 0 }, 0, 0 },
	{ "after spring DST, 08:30 BST", "alice", "acme", "web01", "deploy", FT, 0, NULL,
	  2027, 3, 29, 7, 30, 1, 11, "", { 2027, 3, 29, 9, 30 }, { 2027, 3, 29, 17, 0 }, 1, 0 },
	{ "after spring DST, close is 18:00 BST", "alice", "acme", "web01", "deploy", FT, 0, NULL,
	  2027, 3, 29, 16, 59, 1, 11, "", { 2027, 3, 29, 17, 0 }, { 2027, 3, 29, 17, 0 }, 1, 0 },
	{ "after spring DST, 18:30 BST", "alice", "acme", "web01", "deploy", FT, 0, NULL,
	  2027, 3, 29, 17, 30, 0, 11, "opens next at 2027-03-30 07:00 UTC", { 0 }, { 0 }, 0, 0 },
	/* Fall back 2026-10-25. */
	{ "before autumn DST, 08:30 BST", "alice", "acme", "web01", "deploy", FT, 0, NULL,
	  2026, 10, 23, 7, 30, 1, 11, "", { 0 }, { 2026, 10, 23, 17, 0 }, 1, 0 },
	{ "after autumn DST, 07:30 GMT", "alice", "acme", "web01", "deploy", FT, 0, NULL,
	  2026, 10, 26, 7, 30, 0, 11, "opens next at 2026-10-26 08:00 UTC", { 0 }, { 0 }, 0, 0 },
	{ "holiday excluded", "alice", "acme", "web01", "deploy", FT, 0, NULL,
	  2026, 12, 25, 10, 0, 0, 11, "opens next at 2026-12-28 08:00 UTC", { 0 }, { 0 }, 0, 0 },
	{ "login not granted", "alice", "acme", "web01", "root", FT, 0, NULL,
	  2026, 12, 1, 9, 30, 0, 11, "login 'root' is not granted on acme/web01", { 0 }, { 0 }, 0, 0 },
	{ "unknown engineer", "mallory", "acme", "web01", "deploy", FT, 0, NULL,
	  2026, 12, 1, 9, 30, 0, 0, "unknown engineer 'mallory'", { 0 }, { 0 }, 0, 0 },
	{ "escaped engineer", "x\ny", "acme", "web01", "deploy", FT, 0, NULL,
	  2026, 12, 1, 9, 30, 0, 0, "unknown engineer 'x\\x0ay'", { 0 }, { 0 }, 0, 0 },
	{ "unknown tenant", "alice", "initech", "web01", "deploy", FT, 0, NULL,
	  2026, 12, 1, 9, 30, 0, 0, "unknown tenant 'initech'", { 0 }, { 0 }, 0, 0 },
	{ "unknown target", "alice", "acme", "web99", "deploy", FT, 0, NULL,
	  2026, 12, 1, 9, 30, 0, 0, "tenant acme has no target 'web99'", { 0 }, { 0 }, 0, 0 },
	{ "no grant covers", "carol", "acme", "web01", "deploy", FT, 0, NULL,
	  2027, 2, 1, 9, 30, 0, 0, "no grant gives carol access to acme/web01", { 0 }, { 0 }, 0, 0 },
	{ "not yet valid", "carol", "globex", "app", "ops", TO, 0, NULL,
	  2026, 12, 2, 4, 0, 0, 5, "not valid before 2027-01-01 00:00 UTC", { 0 }, { 0 }, 0, 0 },
	{ "expired", "alice", "acme", "web01", "deploy", FT, 0, NULL,
	  2027, 4, 1, 9, 0, 0, 3, "expired at 2027-04-01 00:00 UTC", { 0 }, { 0 }, 0, 0 },
	{ "engineer source refused", "bob", "globex", "app", "ops", TO, 0, "203.0.113.5",
	  2026, 12, 2, 4, 0, 0, 4, "bob may not connect from 203.0.113.5", { 0 }, { 0 }, 0, 0 },
	{ "engineer source unknown", "bob", "globex", "app", "ops", TO, 0, NULL,
	  2026, 12, 2, 4, 0, 0, 4, "may not connect from", { 0 }, { 0 }, 0, 0 },
	/* Tue 2026-12-01 23:00 EST = Wed 04:00 UTC; window in the tenant's zone. */
	{ "night window in tenant zone", "bob", "globex", "app", "ops", TO, 0, "198.51.100.9",
	  2026, 12, 2, 4, 0, 1, 12, "", { 2026, 12, 2, 4, 30 }, { 2026, 12, 2, 11, 0 }, 0, 0 },
	/* Fri 23:00 EST runs into Saturday 06:00 EST. */
	{ "friday night crosses midnight", "bob", "globex", "app", "ops", TO, 0, "198.51.100.9",
	  2026, 12, 5, 4, 0, 1, 12, "", { 0 }, { 2026, 12, 5, 11, 0 }, 0, 0 },
	{ "saturday night closed", "bob", "globex", "app", "ops", TO, 0, "198.51.100.9",
	  2026, 12, 6, 4, 0, 0, 12, "outside the access window (nights)", { 0 }, { 0 }, 0, 0 },
	/* US DST ends 2026-11-01: 22:30 EDT and 22:30 EST are different UTC times. */
	{ "US night before fall back", "bob", "globex", "app", "ops", TO, 0, "198.51.100.9",
	  2026, 10, 30, 2, 30, 1, 12, "", { 0 }, { 2026, 10, 30, 10, 0 }, 0, 0 },
	{ "US night after fall back", "bob", "globex", "app", "ops", TO, 0, "198.51.100.9",
	  2026, 11, 3, 2, 30, 0, 12, "opens next at 2026-11-03 03:00 UTC", { 0 }, { 0 }, 0, 0 },
	{ "grant source allowed", "alice", "acme", "db01", "postgres", TO, 0, "192.0.2.5",
	  2026, 12, 1, 10, 0, 1, 14, "", { 2026, 12, 1, 14, 0 }, { 2026, 12, 1, 18, 0 }, 0, 1 },
	{ "grant source unknown", "alice", "acme", "db01", "postgres", TO, 0, NULL,
	  2026, 12, 1, 10, 0, 0, 14, "source address (none) is not allowed", { 0 }, { 0 }, 0, 1 },
	{ "grant expired", "alice", "acme", "db01", "postgres", TO, 0, "192.0.2.5",
	  2027, 1, 4, 10, 0, 0, 14, "no longer valid since 2027-01-01 00:00 UTC", { 0 }, { 0 }, 0, 1 },
	{ "grant validity ends the session", "alice", "acme", "db01", "postgres", TO, 0, "192.0.2.5",
	  2026, 12, 31, 17, 0, 1, 14, "", { 2026, 12, 31, 18, 0 }, { 0 }, 0, 1 },
};

static struct pol *
load_policy(void)
{
	struct mg_diag *d = mg_diag_new();
	struct pol *p = NULL;
	char buf[8192], hk[512];
	size_t o = 0, i;

	tk_key("decide host", 0, hk, sizeof(hk));
	for (i = 0; policy_lines[i] != NULL; i++) {
		const char *l = policy_lines[i], *q;

		while ((q = strstr(l, "\"HK\"")) != NULL) {
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%.*s\"%s\"",
			    (int)(q - l), l, hk);
			l = q + 4;
		}
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s\n", l);
	}
	if (pol_load_buffer(buf, o, "/etc/mspgate/decide.conf", &p, d) != 0)
		for (i = 0; i < mg_diag_count(d); i++)
			print_error("%s\n", mg_diag_get(d, i));
	mg_diag_free(d);
	return p;
}

static void
test_decisions(void **state)
{
	struct pol *p = load_policy();
	size_t i;

	(void)state;
	assert_non_null(p);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct dcase *c = &cases[i];
		struct pol_request r;
		struct pol_decision d;

		memset(&r, 0, sizeof(r));
		r.engineer = c->eng;
		r.tenant = c->tenant;
		r.target = c->target;
		r.login = c->login;
		r.mfa_used = c->mfa;
		r.mfa_unknown = c->mfa_unknown;
		r.source = c->source;
		r.at = U(c->y, c->mo, c->d, c->h, c->mi);
		assert_int_equal(pol_decide(p, &r, &d), 0);
		if (d.allow != c->allow || d.rule.line != c->rule_line ||
		    strstr(d.reason, c->reason) == NULL)
			fail_msg("case '%s': got %s, rule line %d, reason \"%s\"", c->what,
			    d.allow ? "allow" : "deny", d.rule.line, d.reason);
		if (c->eb[0] != 0 && d.end_by != U(c->eb[0], c->eb[1], c->eb[2], c->eb[3], c->eb[4]))
			fail_msg("case '%s': end_by %lld", c->what, (long long)d.end_by);
		if (c->wc[0] != 0 && d.window_close != U(c->wc[0], c->wc[1], c->wc[2], c->wc[3], c->wc[4]))
			fail_msg("case '%s': window_close %lld", c->what, (long long)d.window_close);
		if (c->allow && d.ticket_required != c->ticket)
			fail_msg("case '%s': ticket %d", c->what, d.ticket_required);
		/* Four eyes: on an allow and on the closest grant's deny alike. */
		if (d.approval_required != c->approval ||
		    d.approval_timeout != (c->approval ? 90 : 0))
			fail_msg("case '%s': approval %d, timeout %lld", c->what,
			    d.approval_required, (long long)d.approval_timeout);
		/* A reason is one line, whatever the request held. */
		assert_null(strchr(d.reason, '\n'));
	}
	pol_free(p);
}

/* The clock is read when the request gives no time. */
static void
test_clock(void **state)
{
	struct pol *p = load_policy();
	struct pol_request r;
	struct pol_decision d;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.engineer = "alice";
	r.tenant = "acme";
	r.target = "web01";
	r.mfa_used = FT;
	mg_clock_set(U(2026, 12, 1, 9, 30));
	assert_int_equal(pol_decide(p, &r, &d), 0);
	assert_true(d.allow);
	mg_clock_set(U(2026, 12, 1, 20, 0));
	assert_int_equal(pol_decide(p, &r, &d), 0);
	assert_false(d.allow);
	mg_clock_reset();
	assert_int_equal(pol_decide(NULL, &r, &d), MG_ERR_INVAL);
	assert_false(d.allow);
	pol_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decisions),
		cmocka_unit_test(test_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
