/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for login attestations (format, writer, loader) and the one TOTP transaction. */
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

#include "mg_diag.h"
#include "mg_err.h"
#include "mg_time.h"
#include "pol.h"
#include "mfa_attest.h"
#include "mfa_state.h"
#include "mfa_totp.h"
#include "mfa_txn.h"
#include "../lib/testkeys.h"
#include "../lib/testtotp.h"

#define FP "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define GOOD "mspgate-attestation 1\nengineer alice\nuid 1001\npid 4242\n" \
	"start 99\nlogin 1795000000\nsource 192.0.2.7\nport 50123\nmfa fido+totp\n" \
	"fido " FP "\nfido_until 0\ntotp_step 59833333\n"

static const struct {
	const char *text;
	int ok;
	const char *err;	/* substring of the error */
} cases[] = {
	{ GOOD, 1, NULL },
	{ "mspgate-attestation 1\nengineer bob\nuid 0\npid 0\nstart 0\nlogin 0\n"
	  "source -\nport 0\nmfa none\nfido -\nfido_until 0\ntotp_step -1\n", 1, NULL },
	{ "mspgate-attestation 2\n", 0, "line 1: bad version" },
	{ "mspgate-attestation 1\nuid 1\n", 0, "line 2: want 'engineer VALUE'" },
	{ "mspgate-attestation 1\nengineer a/b\n", 0, "line 2: bad engineer" },
	{ "mspgate-attestation 1\nengineer alice\nuid 01\n", 0, "line 3: bad uid" },
	{ "mspgate-attestation 1\nengineer alice\nuid 1\npid -1\n", 0, "line 4: bad pid" },
	/* Claimed factors must be the recorded ones. */
	{ "mspgate-attestation 1\nengineer a\nuid 1\npid 2\nstart 3\nlogin 4\n"
	  "source -\nport 0\nmfa fido\nfido -\nfido_until 0\ntotp_step -1\n", 0,
	  "inconsistent mfa (fido)" },
	{ "mspgate-attestation 1\nengineer a\nuid 1\npid 2\nstart 3\nlogin 4\n"
	  "source -\nport 0\nmfa totp\nfido -\nfido_until 0\ntotp_step -1\n", 0,
	  "inconsistent mfa (totp_step)" },
	{ "mspgate-attestation 1\nengineer a\nuid 1\npid 2\nstart 3\nlogin 4\n"
	  "source 1.2.3.4;x\nport 0\n", 0, "line 7: bad source" },
	{ GOOD "more 1\n", 0, "trailing data" },
	{ "mspgate-attestation 1\nengineer alice", 0, "line 2: missing" },
};

static void
test_parse_table(void **state)
{
	struct mfa_attest a;
	char err[256], buf[MFA_ATTEST_MAX];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		r = mfa_attest_parse(cases[i].text, strlen(cases[i].text), '\n', &a, err,
		    sizeof(err));
		if ((r == 0) != cases[i].ok)
			fail_msg("case %zu: got %d (%s)", i, r, err);
		if (!cases[i].ok && strstr(err, cases[i].err) == NULL)
			fail_msg("case %zu: error '%s', want '%s'", i, err, cases[i].err);
		if (cases[i].ok) {
			/* The writer writes exactly what the reader read. */
			assert_int_equal(mfa_attest_format(&a, '\n', buf, sizeof(buf)), 0);
			assert_string_equal(buf, cases[i].text);
		}
	}
	assert_int_equal(mfa_attest_parse(GOOD, strlen(GOOD), '\n', &a, err, sizeof(err)), 0);
	assert_string_equal(a.engineer, "alice");
	assert_int_equal(a.mfa, POL_MFA_FIDO | POL_MFA_TOTP);
	assert_string_equal(a.fido, FP);
	assert_int_equal(a.totp_step, 59833333);
	assert_string_equal(a.source, "192.0.2.7");
	assert_int_equal(a.port, 50123);
	/* The PAM environment's spelling: ';' for newlines. */
	assert_int_equal(mfa_attest_format(&a, ';', buf, sizeof(buf)), 0);
	assert_null(strchr(buf, '\n'));
	assert_int_equal(mfa_attest_parse(buf, strlen(buf), ';', &a, err, sizeof(err)), 0);
}

static char base[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/mgattest.XXXXXX");
	if (mkdtemp(base) == NULL || chmod(base, 0755) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) != 0 ? -1 : 0;
}

static void
test_write_load_remove(void **state)
{
	struct mfa_attest a, b;
	char dir[128], path[160], from[160], err[512];

	(void)state;
	if (geteuid() != 0)
		skip();
	snprintf(dir, sizeof(dir), "%s/attest", base);
	mfa_attest_init(&a);
	snprintf(a.engineer, sizeof(a.engineer), "alice");
	a.uid = 1001;
	a.pid = getpid();
	assert_int_equal(mfa_proc_stat(getpid(), &a.start, NULL), 0);
	a.login = 1795000000;
	a.mfa = POL_MFA_TOTP;
	a.totp_step = 5;
	/* The directory is made, root's and 0755. */
	assert_int_equal(mfa_attest_write(dir, &a, err, sizeof(err)), 0);
	assert_int_equal(mfa_attest_load(dir, getpid(), &b, err, sizeof(err)), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	/* Not this process's start time: another session's, left alone. */
	assert_int_equal(mfa_attest_remove(dir, getpid(), a.start + 1), MG_ERR_NOENT);
	assert_int_equal(mfa_attest_remove(dir, getpid(), a.start), 0);
	assert_int_equal(mfa_attest_load(dir, getpid(), &b, err, sizeof(err)), MG_ERR_NOENT);
	/* Anyone else able to write there could forge a login: refused both ways. */
	assert_int_equal(chmod(dir, 0775), 0);
	assert_int_equal(mfa_attest_write(dir, &a, err, sizeof(err)), MG_ERR_PERM);
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(mfa_attest_write(dir, &a, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/%ld", dir, (long)getpid());
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_not_equal(mfa_attest_load(dir, getpid(), &b, err, sizeof(err)), 0);
	assert_int_equal(chown(path, 0, 0), 0);
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_not_equal(mfa_attest_load(dir, getpid(), &b, err, sizeof(err)), 0);
	/* A file at another pid's name that names this pid: refused. */
	assert_int_equal(chmod(path, 0644), 0);
	snprintf(from, sizeof(from), "%s/%ld", dir, (long)getpid());
	snprintf(path, sizeof(path), "%s/%ld", dir, (long)getpid() + 1);
	assert_int_equal(rename(from, path), 0);
	assert_int_equal(mfa_attest_load(dir, getpid() + 1, &b, err, sizeof(err)),
	    MG_ERR_PARSE);
}

/* ---- the TOTP transaction ------------------------------------------------- */

static struct pol *
txn_policy(void)
{
	char text[4096], hk[512];
	struct mg_diag *d = mg_diag_new();
	struct pol *p = NULL;

	tk_key("host", 0, hk, sizeof(hk));
	snprintf(text, sizeof(text),
	    "gateway: { state = \"%s/state\"; };\n"
	    "mfa: { totp: { store = \"%s/totp\"; skew_steps = 0; };\n"
	    "  lockout = { failures = 3; within = \"15m\"; lock_for = \"15m\"; }; };\n"
	    "engineers = ( { name = \"alice\"; } );\n"
	    "tenants = ( { name = \"t\"; targets = ( { name = \"b\"; host = \"192.0.2.1\";"
	    " host_key = \"%s\"; logins = [\"x\"]; credential = \"c\"; } ); } );\n"
	    "grants = ( { to = \"alice\"; tenants = [\"t\"]; targets = [\"*\"];"
	    " logins = [\"x\"]; mfa = \"totp\"; } );\n", base, base, hk);
	if (pol_load_buffer(text, strlen(text), "/etc/mspgate/t.conf", &p, d) != 0) {
		if (mg_diag_count(d) > 0)
			print_error("%s\n", mg_diag_get(d, 0));
		fail();
	}
	mg_diag_free(d);
	return p;
}

static void
test_txn_success_clears_failures(void **state)
{
	struct pol *p;
	struct mfa_state st;
	struct mfa_secret s;
	struct mfa_lockrec lr;
	struct mfa_txn_result res;
	char dir[128], code[16], err[512], why[512];
	const struct pol_engineer *e;
	time_t now = 1795000000;
	unsigned still;

	(void)state;
	if (geteuid() != 0)
		skip();
	p = txn_policy();
	e = pol_engineer_find(p, "alice");
	snprintf(dir, sizeof(dir), "%s/totp", base);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/state", base);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(mfa_state_init(&st, p), 0);
	tt_secret(&s);
	assert_int_equal(mfa_secret_save(&st, "alice", &s, err, sizeof(err)), 0);

	/* Two wrong codes count... */
	assert_int_equal(mfa_txn_totp(p, "alice", "000000", now, &res, why, sizeof(why)),
	    MG_ERR_DENIED);
	assert_true(res.counted);
	assert_int_equal(mfa_txn_totp(p, "alice", "000001", now, &res, why, sizeof(why)),
	    MG_ERR_DENIED);
	assert_int_equal(mfa_lockrec_load(&st, "alice", &lr, err, sizeof(err)), 0);
	assert_int_equal(lr.nfail, 2);
	/* ...and a right one is accepted, recorded and forgets them (the
	   re-authentication used to keep them: one more wrong code locked). */
	assert_int_equal(mfa_totp_code(&s, mfa_totp_step(&s, now), code, sizeof(code)), 0);
	assert_int_equal(mfa_txn_totp(p, "alice", code, now, &res, why, sizeof(why)), 0);
	assert_int_equal(res.step, mfa_totp_step(&s, now));
	assert_int_equal(mfa_lockrec_load(&st, "alice", &lr, err, sizeof(err)), 0);
	assert_int_equal(lr.nfail, 0);
	/* Used once: the same code again is a replay. */
	assert_int_equal(mfa_txn_totp(p, "alice", code, now, &res, why, sizeof(why)),
	    MG_ERR_DENIED);
	assert_non_null(strstr(why, "replay"));

	/* A login's standing: fine now... */
	assert_int_equal(mfa_txn_standing(p, e, POL_MFA_TOTP, "", now, &still, why,
	    sizeof(why)), 0);
	assert_int_equal(still, POL_MFA_TOTP);
	/* ...a FIDO key that is not the engineer's does not count... */
	assert_int_equal(mfa_txn_standing(p, e, POL_MFA_TOTP | POL_MFA_FIDO, FP, now,
	    &still, why, sizeof(why)), 0);
	assert_int_equal(still, POL_MFA_TOTP);
	/* ...locked out (two more failures): the login no longer stands... */
	(void)mfa_txn_totp(p, "alice", "000002", now, &res, why, sizeof(why));
	(void)mfa_txn_totp(p, "alice", "000003", now, &res, why, sizeof(why));
	(void)mfa_txn_totp(p, "alice", "000004", now, &res, why, sizeof(why));
	assert_int_equal(mfa_txn_standing(p, e, POL_MFA_TOTP, "", now, &still, why,
	    sizeof(why)), MG_ERR_DENIED);
	assert_non_null(strstr(why, "locked out"));
	/* ...nor once TOTP is un-enrolled. */
	assert_int_equal(mfa_lockrec_remove(&st, "alice", err, sizeof(err)), 0);
	assert_int_equal(mfa_secret_remove(&st, "alice", err, sizeof(err)), 0);
	assert_int_equal(mfa_txn_standing(p, e, POL_MFA_TOTP, "", now, &still, why,
	    sizeof(why)), MG_ERR_DENIED);
	assert_non_null(strstr(why, "no longer enrolled"));
	mfa_secret_wipe(&s);
	pol_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test_setup_teardown(test_write_load_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_txn_success_clears_failures, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
