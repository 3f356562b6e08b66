/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for pam/ policy rules: MFA union, windows at their boundaries (set clock), validity, sources. */
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
#include "mfa_rules.h"
#include "../lib/testkeys.h"

/* The policy text with each "HOSTKEY" replaced by a valid host key. */
static struct pol *
load(const char *tmpl)
{
	char text[8192], hk[512];
	struct mg_diag *d = mg_diag_new();
	struct pol *p = NULL;
	size_t i, o = 0;

	tk_key("host", 0, hk, sizeof(hk));
	for (i = 0; tmpl[i] != '\0' && o + strlen(hk) + 1 < sizeof(text);) {
		if (strncmp(tmpl + i, "HOSTKEY", 7) == 0) {
			o += (size_t)snprintf(text + o, sizeof(text) - o, "%s", hk);
			i += 7;
		} else {
			text[o++] = tmpl[i++];
		}
	}
	text[o] = '\0';
	if (pol_load_buffer(text, strlen(text), "/etc/mspgate/t.conf", &p, d) != 0) {
		for (i = 0; i < mg_diag_count(d); i++)
			print_error("%s\n", mg_diag_get(d, i));
		fail();
	}
	mg_diag_free(d);
	return p;
}

static const char policy[] =
    "windows: { uk = { tz = \"Europe/London\"; days = \"Mon-Fri\"; hours = \"08:00-18:00\"; }; };\n"
    "engineers = ( { name = \"alice\"; groups = [\"l1\", \"l3\"]; },\n"
    "  { name = \"bob\"; groups = [\"l1\"]; valid_until = \"2026-03-31\"; sources = [\"198.51.100.0/24\"]; },\n"
    "  { name = \"zed\"; mfa = \"fido+totp\"; } );\n"
    "tenants = ( { name = \"acme\"; tz = \"Europe/London\"; windows = [\"uk\"];\n"
    "  targets = ( { name = \"web01\"; host = \"192.0.2.10\"; host_key = \"HOSTKEY\"; logins = [\"deploy\"]; credential = \"c\"; } ); },\n"
    "  { name = \"globex\"; targets = ( { name = \"app\"; host = \"192.0.2.11\"; host_key = \"HOSTKEY\"; logins = [\"ops\"]; credential = \"c\"; } ); } );\n"
    "grants = ( { to = \"group:l1\"; tenants = [\"acme\"]; targets = [\"*\"]; logins = [\"deploy\"]; mfa = \"totp\"; },\n"
    "  { to = \"group:l3\"; tenants = [\"globex\"]; targets = [\"*\"]; logins = [\"ops\"]; mfa = \"fido\"; valid_until = \"2026-01-31\"; } );\n";

static time_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	return (time_t)(mg_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s);
}

static void
test_mfa_union(void **state)
{
	struct pol *p = load(policy);

	(void)state;
	/* alice has a totp grant and a fido grant: one login must satisfy both. */
	assert_int_equal(mfa_required(p, pol_engineer_find(p, "alice")),
	    POL_MFA_FIDO | POL_MFA_TOTP);
	assert_int_equal(mfa_required(p, pol_engineer_find(p, "bob")), POL_MFA_TOTP);
	/* No grant: nothing to log in for, whatever the override. */
	assert_int_equal(mfa_required(p, pol_engineer_find(p, "zed")), 0);
	pol_free(p);
}

static const struct {
	int y, mo, d, h, mi, s;
	int allow;
	const char *msg;	/* substring of the engineer's message on deny */
} cases[] = {
	/* Friday 2026-03-27, GMT (London = UTC). */
	{ 2026, 3, 27, 7, 59, 59, 0, "the next one opens Fri 08:00 Europe/London" },
	{ 2026, 3, 27, 8, 0, 0, 1, NULL },
	{ 2026, 3, 27, 17, 59, 59, 1, NULL },
	{ 2026, 3, 27, 18, 0, 0, 0, "the next one opens Mon 08:00 Europe/London" },
	/* Monday 2026-03-30 after the change to BST: 08:00 London is 07:00 UTC. */
	{ 2026, 3, 30, 6, 59, 59, 0, "opens Mon 08:00 Europe/London" },
	{ 2026, 3, 30, 7, 0, 0, 1, NULL },
	{ 2026, 3, 30, 16, 59, 59, 1, NULL },
	{ 2026, 3, 30, 17, 0, 0, 0, "opens Tue 08:00 Europe/London" },
	/* Saturday: closed all day. */
	{ 2026, 3, 28, 12, 0, 0, 0, "opens Mon 08:00 Europe/London" },
};

static void
test_window_boundaries(void **state)
{
	struct pol *p = load(policy);
	const struct pol_engineer *bob = pol_engineer_find(p, "bob");
	char u[256], l[512];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* The module reads mg_clock_now(); the test sets it. */
		mg_clock_set(utc(cases[i].y, cases[i].mo, cases[i].d, cases[i].h,
		    cases[i].mi, cases[i].s));
		r = mfa_account_check(p, bob, "198.51.100.7", mg_clock_now(), u,
		    sizeof(u), l, sizeof(l));
		if ((r == 0) != cases[i].allow)
			fail_msg("case %zu: got %d (%s / %s)", i, r, u, l);
		if (!cases[i].allow && strstr(u, cases[i].msg) == NULL)
			fail_msg("case %zu: message '%s'", i, u);
	}
	mg_clock_reset();
	pol_free(p);
}

static void
test_validity_and_sources(void **state)
{
	struct pol *p = load(policy);
	const struct pol_engineer *bob = pol_engineer_find(p, "bob");
	const struct pol_engineer *alice = pol_engineer_find(p, "alice");
	time_t open = utc(2026, 3, 27, 12, 0, 0);
	char u[256], l[512];

	(void)state;
	assert_int_equal(mfa_account_check(p, bob, "198.51.100.7", open, u, sizeof(u),
	    l, sizeof(l)), 0);
	assert_int_equal(mfa_account_check(p, bob, "203.0.113.1", open, u, sizeof(u),
	    l, sizeof(l)), MG_ERR_DENIED);
	assert_string_equal(u, "Access from this address is not allowed.");
	assert_int_equal(mfa_account_check(p, bob, NULL, open, u, sizeof(u), l,
	    sizeof(l)), MG_ERR_DENIED);
	/* valid_until names the last day: all of it is allowed. */
	assert_int_equal(mfa_account_check(p, bob, "198.51.100.7",
	    utc(2026, 3, 31, 16, 59, 59), u, sizeof(u), l, sizeof(l)), 0);
	assert_int_equal(mfa_account_check(p, bob, "198.51.100.7",
	    utc(2026, 4, 1, 0, 0, 0), u, sizeof(u), l, sizeof(l)), MG_ERR_RANGE);
	assert_string_equal(u, "Your MSP account expired after 2026-03-31.");
	/* alice's globex grant (no windows) ended in January: acme's window rules. */
	assert_int_equal(mfa_account_check(p, alice, NULL, utc(2026, 1, 31, 23, 0, 0),
	    u, sizeof(u), l, sizeof(l)), 0);
	assert_int_equal(mfa_account_check(p, alice, NULL, utc(2026, 3, 28, 12, 0, 0),
	    u, sizeof(u), l, sizeof(l)), MG_ERR_DENIED);
	assert_non_null(strstr(l, "tenant acme"));
	pol_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mfa_union),
		cmocka_unit_test(test_window_boundaries),
		cmocka_unit_test(test_validity_and_sources),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
