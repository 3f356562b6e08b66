/* SPDX-License-Identifier: BSD-2-Clause */
/* The one decision for a new session (gw_decide): each refusal, each question, the detector asked once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "gw_decide.h"
#include "mfa_state.h"
#include "mg_diag.h"
#include "mg_time.h"
#include "../lib/testkeys.h"
#include "../lib/testtotp.h"

#define NOW 1795000000

static char base[64];
static struct pol *pol;

/* The detector as a test double of the parent: counts and answers. */
static struct {
	int calls, allowed, window;
	int silent;		/* no verdict came (the words are left as they were) */
	enum gw_detect_action answer;
} det;

static enum gw_detect_action
fake_detector(void *ctx, const struct gw_target_spec *spec, int allowed, int window,
    char *words, size_t wlen)
{
	(void)ctx;
	(void)spec;
	det.calls++;
	det.allowed = allowed;
	det.window = window;
	if (det.silent)
		return GW_DETECT_DENY;
	snprintf(words, wlen, "first access");
	return det.answer;
}

static int
setup(void **state)
{
	char text[4096], hk[512], err[512], dir[128];
	struct mg_diag *d = mg_diag_new();
	struct mfa_state st;
	struct mfa_secret s;

	(void)state;
	snprintf(base, sizeof(base), "/tmp/mgdecide.XXXXXX");
	if (mkdtemp(base) == NULL || chmod(base, 0755) != 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/totp", base);
	if (mkdir(dir, 0700) != 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/state", base);
	if (mkdir(dir, 0700) != 0)
		return -1;
	tk_key("decide host", 0, hk, sizeof(hk));
	snprintf(text, sizeof(text),
	    "gateway: { state = \"%s/state\"; };\n"
	    "mfa: { totp: { store = \"%s/totp\"; };\n"
	    "  lockout = { failures = 3; within = \"15m\"; lock_for = \"15m\"; }; };\n"
	    "engineers = ( { name = \"alice\"; }, { name = \"carol\"; } );\n"
	    "tenants = ( { name = \"t\"; targets = (\n"
	    "  { name = \"b\"; host = \"192.0.2.1\"; host_key = \"%s\"; logins = [\"x\"];"
	    " credential = \"c\"; },\n"
	    "  { name = \"tk\"; host = \"192.0.2.2\"; host_key = \"%s\"; logins = [\"x\"];"
	    " credential = \"c\"; },\n"
	    "  { name = \"old\"; host = \"192.0.2.3\"; host_key = \"%s\"; logins = [\"x\"];"
	    " credential = \"c\"; } ); } );\n"
	    "grants = ( { to = \"alice\"; tenants = [\"t\"]; targets = [\"b\"];"
	    " logins = [\"x\"]; mfa = \"totp\"; },\n"
	    "  { to = \"alice\"; tenants = [\"t\"]; targets = [\"tk\"]; logins = [\"x\"];"
	    " mfa = \"totp\"; ticket = true; },\n"
	    "  { to = \"alice\"; tenants = [\"t\"]; targets = [\"old\"]; logins = [\"x\"];"
	    " mfa = \"totp\"; max_login_age = \"30m\"; } );\n", base, base, hk, hk, hk);
	if (pol_load_buffer(text, strlen(text), "/etc/mspgate/d.conf", &pol, d) != 0) {
		if (mg_diag_count(d) > 0)
			print_error("%s\n", mg_diag_get(d, 0));
		mg_diag_free(d);
		return -1;
	}
	mg_diag_free(d);
	/* alice is enrolled; carol is not (her TOTP login no longer stands). */
	if (mfa_state_init(&st, pol) != 0)
		return -1;
	tt_secret(&s);
	if (mfa_secret_save(&st, "alice", &s, err, sizeof(err)) != 0) {
		print_error("%s\n", err);
		return -1;
	}
	mfa_secret_wipe(&s);
	mg_clock_set(NOW);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	pol_free(pol);
	mg_clock_reset();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) != 0 ? -1 : 0;
}

static struct mfa_attest att;

/* A request as a session would make it: alice, attested with TOTP a minute ago. */
static void
request(struct gw_decide_req *rq, const char *target, const char *ticket, int tty)
{
	memset(rq, 0, sizeof(*rq));
	memset(&att, 0, sizeof(att));
	snprintf(att.engineer, sizeof(att.engineer), "alice");
	att.mfa = POL_MFA_TOTP;
	att.login = NOW - 60;
	rq->target = target;
	rq->ticket = ticket;
	rq->tty = tty;
	rq->attested = 1;
	rq->engineer = "alice";
	rq->att = &att;
	rq->source = "192.0.2.9";
	rq->ask_detector = fake_detector;
	memset(&det, 0, sizeof(det));
}

static void
want_deny(struct gw_decide_req *rq, const char *reason, const char *rule)
{
	struct gw_verdict v;

	assert_int_equal(gw_decide(pol, rq, &v), GW_VERDICT_DENY);
	if (strstr(v.reason, reason) == NULL)
		fail_msg("reason '%s', want '%s'", v.reason, reason);
	if (rule != NULL && strstr(v.rule, rule) == NULL)
		fail_msg("rule '%s', want '%s'", v.rule, rule);
	assert_true(v.tell[0] != '\0');
}

/* Refusals before the policy is asked: the detector hears nothing of them. */
static void
test_request_refusals(void **state)
{
	struct gw_decide_req rq;

	(void)state;
	request(&rq, "", NULL, 1);
	want_deny(&rq, "no target given", NULL);
	request(&rq, NULL, NULL, 1);
	want_deny(&rq, "no target given", NULL);
	request(&rq, "t/", NULL, 1);
	want_deny(&rq, "malformed target 't/'", NULL);
	request(&rq, "t/b\x1b[2J", NULL, 1);
	want_deny(&rq, "malformed target", NULL);
	request(&rq, "t/b", "T 1;rm", 1);
	want_deny(&rq, "malformed ticket", NULL);
	request(&rq, "t/b", NULL, 1);
	rq.attested = 0;
	rq.att_why = "no attestation for pid 42";
	want_deny(&rq, "login not attested: no attestation for pid 42", NULL);
	request(&rq, "t/b", NULL, 1);
	rq.engineer = "mallory";
	want_deny(&rq, "not an engineer in the policy", NULL);
	request(&rq, "t/nope", NULL, 1);
	want_deny(&rq, "unknown target t/nope", NULL);
	request(&rq, "other/b", NULL, 1);
	want_deny(&rq, "unknown target other/b", NULL);
	/* carol's TOTP login: she has no secret enrolled (any more). */
	request(&rq, "t/b", NULL, 1);
	rq.engineer = "carol";
	want_deny(&rq, "the login no longer stands", NULL);
	assert_int_equal(det.calls, 0);
}

static void
test_allow(void **state)
{
	struct gw_decide_req rq;
	struct gw_verdict v;

	(void)state;
	request(&rq, "t/b", NULL, 0);
	assert_int_equal(gw_decide(pol, &rq, &v), GW_VERDICT_ALLOW);
	assert_string_equal(v.spec.tenant, "t");
	assert_string_equal(v.spec.target, "b");
	assert_string_equal(v.spec.login, "x");	/* the policy's login for the grant */
	assert_non_null(strstr(v.rule, "/etc/mspgate/d.conf:"));
	assert_int_equal(v.mfa_used, POL_MFA_TOTP);
	assert_int_equal(det.calls, 1);
	assert_int_equal(det.allowed, 1);
	/* A login the grant does not have is the policy's refusal, with its rule. */
	request(&rq, "root@t/b", NULL, 0);
	want_deny(&rq, "", "/etc/mspgate/d.conf:");
	assert_int_equal(det.calls, 1);
	assert_int_equal(det.allowed, 0);
}

/* The detector: deny, or a fresh code first; asked once however often the session decides again. */
static void
test_detector(void **state)
{
	struct gw_decide_req rq;
	struct gw_verdict v;

	(void)state;
	request(&rq, "t/b", NULL, 1);
	det.answer = GW_DETECT_DENY;
	want_deny(&rq, "refused by the detector", "alerts");

	request(&rq, "t/b", NULL, 0);
	det.answer = GW_DETECT_REAUTH;
	want_deny(&rq, "unusual activity (first access)", "alerts");

	request(&rq, "t/b", NULL, 1);
	det.answer = GW_DETECT_REAUTH;
	assert_int_equal(gw_decide(pol, &rq, &v), GW_VERDICT_ASK_CODE);
	assert_int_equal(v.code_for, GW_CODE_DETECTOR);
	assert_non_null(strstr(v.tell, "TOTP code: "));
	rq.detector_code = GW_FRESH_OK;
	assert_int_equal(gw_decide(pol, &rq, &v), GW_VERDICT_ALLOW);
	assert_int_equal(det.calls, 1);

	request(&rq, "t/b", NULL, 1);
	det.answer = GW_DETECT_REAUTH;
	assert_int_equal(gw_decide(pol, &rq, &v), GW_VERDICT_ASK_CODE);
	rq.detector_code = GW_FRESH_FAILED;
	want_deny(&rq, "the fresh MFA code was not accepted", "alerts");
	assert_int_equal(det.calls, 1);

	/*
	 * No verdict (mspgated did not answer, or its answer did not read):
	 * refused, and the engineer is not told of an alert nobody raised.
	 */
	request(&rq, "t/b", NULL, 1);
	det.silent = 1;
	assert_int_equal(gw_decide(pol, &rq, &v), GW_VERDICT_DENY);
	det.silent = 0;
	assert_non_null(strstr(v.reason, "no verdict from the detector"));
	assert_string_equal(v.rule, "alerts");
	assert_null(strstr(v.tell, "alerted"));
	assert_null(strstr(v.tell, "unusual activity"));
	assert_non_null(strstr(v.tell, "could not be checked"));
}

static void
test_ticket(void **state)
{
	struct gw_decide_req rq;
	struct gw_verdict v;
	char typed[80];

	(void)state;
	request(&rq, "t/tk", NULL, 0);
	want_deny(&rq, "a ticket is required", "/etc/mspgate/d.conf:");
	request(&rq, "t/tk", "CHG-1", 0);
	assert_int_equal(gw_decide(pol, &rq, &v), GW_VERDICT_ALLOW);

	request(&rq, "t/tk", "", 1);
	assert_int_equal(gw_decide(pol, &rq, &v), GW_VERDICT_ASK_TICKET);
	snprintf(typed, sizeof(typed), "CHG-2");
	rq.ticket = typed;
	rq.ticket_asked = 1;
	assert_int_equal(gw_decide(pol, &rq, &v), GW_VERDICT_ALLOW);
	/* A typed ticket that is not one is refused, not asked for again. */
	snprintf(typed, sizeof(typed), "CHG 2; rm -rf /");
	want_deny(&rq, "no valid ticket given", NULL);
	typed[0] = '\0';
	want_deny(&rq, "no valid ticket given", NULL);
	assert_int_equal(det.calls, 1);
}

/* A login older than the grant's max_login_age: a fresh code renews it, on a terminal only. */
static void
test_login_age(void **state)
{
	struct gw_decide_req rq;
	struct gw_verdict v;

	(void)state;
	request(&rq, "t/old", NULL, 1);
	att.login = NOW - 3600;
	assert_int_equal(gw_decide(pol, &rq, &v), GW_VERDICT_ASK_CODE);
	assert_int_equal(v.code_for, GW_CODE_LOGIN_AGE);
	assert_int_equal(det.calls, 0);	/* not yet: the code comes first */
	rq.login_age_code = GW_FRESH_OK;
	rq.login_age_at = NOW;
	assert_int_equal(gw_decide(pol, &rq, &v), GW_VERDICT_ALLOW);
	assert_int_equal(det.calls, 1);

	request(&rq, "t/old", NULL, 1);
	att.login = NOW - 3600;
	rq.login_age_code = GW_FRESH_FAILED;
	want_deny(&rq, "the fresh TOTP code was not accepted", "/etc/mspgate/d.conf:");
	assert_int_equal(det.calls, 1);
	assert_int_equal(det.allowed, 0);

	request(&rq, "t/old", NULL, 0);
	att.login = NOW - 3600;
	assert_int_equal(gw_decide(pol, &rq, &v), GW_VERDICT_DENY);
	assert_int_equal(det.calls, 1);
}

static void
test_ticket_syntax(void **state)
{
	char big[80];

	(void)state;
	assert_true(gw_ticket_ok("CHG-1"));
	assert_true(gw_ticket_ok("jira:OPS/12#3._"));
	assert_false(gw_ticket_ok(""));
	assert_false(gw_ticket_ok(NULL));
	assert_false(gw_ticket_ok("a b"));
	assert_false(gw_ticket_ok("a\nb"));
	memset(big, 'a', 64);
	big[64] = '\0';
	assert_true(gw_ticket_ok(big));
	big[64] = 'a';
	big[65] = '\0';
	assert_false(gw_ticket_ok(big));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_refusals),
		cmocka_unit_test(test_allow),
		cmocka_unit_test(test_detector),
		cmocka_unit_test(test_ticket),
		cmocka_unit_test(test_login_age),
		cmocka_unit_test(test_ticket_syntax),
	};

	if (geteuid() != 0) {
		/* The TOTP store wants its owner checked as root makes it. */
		printf("1..0 # SKIP needs root (the TOTP store)\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
