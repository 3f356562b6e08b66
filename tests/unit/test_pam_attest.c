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
#include "mg_sshkey.h"
#include "mg_time.h"
#include "pol.h"
#include "mfa_attest.h"
#include "mfa_state.h"
#include "mfa_totp.h"
#include "mfa_txn.h"
#include "../lib/testkeys.h"
#include "../lib/testtotp.h"

#define FP "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define GOOD "mspgate-attestation 2\nengineer alice\nuid 1001\npid 4242\n" \
	"start 99\nlogin 1795000000\nsource 192.0.2.7\nport 50123\nmfa fido+totp\n" \
	"factor fido " FP " 1830000000\nfactor totp 59833333\n"
/* The fixed lines 1-9 of a record, the factors verified being M. */
#define HEAD(m) "mspgate-attestation 2\nengineer a\nuid 1\npid 2\nstart 3\nlogin 4\n" \
	"source -\nport 0\nmfa " m "\n"

static const struct {
	const char *text;
	int ok;
	const char *err;	/* substring of the error */
} cases[] = {
	{ GOOD, 1, NULL },
	{ "mspgate-attestation 2\nengineer bob\nuid 0\npid 0\nstart 0\nlogin 0\n"
	  "source -\nport 0\nmfa none\n", 1, NULL },
	{ HEAD("fido") "factor fido " FP " 0\n", 1, NULL },
	{ HEAD("totp") "factor totp 0\n", 1, NULL },
	/* Version 1 (fixed fido, fido_until, totp_step lines) is not read. */
	{ "mspgate-attestation 1\nengineer a\nuid 1\npid 2\nstart 3\nlogin 4\n"
	  "source -\nport 0\nmfa totp\nfido -\nfido_until 0\ntotp_step 5\n", 0,
	  "line 1: bad version (want 2)" },
	{ "mspgate-attestation 3\n", 0, "line 1: bad version" },
	{ "mspgate-attestation 2\nuid 1\n", 0, "line 2: want 'engineer VALUE'" },
	{ "mspgate-attestation 2\nengineer a/b\n", 0, "line 2: bad engineer" },
	{ "mspgate-attestation 2\nengineer alice\nuid 01\n", 0, "line 3: bad uid" },
	{ "mspgate-attestation 2\nengineer alice\nuid 1\npid -1\n", 0, "line 4: bad pid" },
	{ "mspgate-attestation 2\nengineer a\nuid 1\npid 2\nstart 3\nlogin 4\n"
	  "source 1.2.3.4;x\nport 0\n", 0, "line 7: bad source" },
	/* Claimed factors must be the recorded ones, both ways. */
	{ HEAD("fido"), 0, "line 10: missing factor fido (mfa names it)" },
	{ HEAD("fido+totp") "factor fido " FP " 0\n", 0,
	  "line 11: missing factor totp (mfa names it)" },
	{ HEAD("totp") "factor fido " FP " 0\nfactor totp 5\n", 0,
	  "line 10: factor fido is not in mfa" },
	{ HEAD("none") "factor totp 5\n", 0, "line 10: factor totp is not in mfa" },
	/* Each factor once, in the table's order. */
	{ HEAD("fido+totp") "factor totp 5\nfactor fido " FP " 0\n", 0,
	  "line 11: factor fido out of order" },
	{ HEAD("totp") "factor totp 5\nfactor totp 5\n", 0, "line 11: factor totp twice" },
	{ HEAD("fido+totp") "factor fido " FP " 0\nfactor totp 5\nfactor fido " FP
	  " 0\n", 0, "line 12: factor fido twice" },
	/* Only factors of the table, by their one name, one per line. */
	{ HEAD("totp") "factor sms 5\n", 0, "line 10: unknown factor" },
	{ HEAD("totp") "factor TOTP 5\n", 0, "line 10: unknown factor" },
	{ HEAD("fido+totp") "factor fido+totp 5\n", 0, "line 10: unknown factor" },
	{ HEAD("fido+totp") "factor totp+fido 5\n", 0, "line 10: unknown factor" },
	{ HEAD("totp") "factor totp\n", 0, "line 10: want 'factor NAME EVIDENCE'" },
	{ HEAD("totp") "factor totp \n", 0, "line 10: want 'factor NAME EVIDENCE'" },
	{ HEAD("totp") "factor  totp 5\n", 0, "line 10: want 'factor NAME EVIDENCE'" },
	/* Each factor's own parser refuses bad evidence, naming the field. */
	{ HEAD("totp") "factor totp -1\n", 0, "line 10: bad totp step" },
	{ HEAD("totp") "factor totp 05\n", 0, "line 10: bad totp step" },
	{ HEAD("totp") "factor totp 5 6\n", 0, "line 10: bad totp step" },
	{ HEAD("totp") "factor totp  5\n", 0, "line 10: bad totp evidence" },
	{ HEAD("fido") "factor fido SHA256:short 0\n", 0, "line 10: bad fido fingerprint" },
	{ HEAD("fido") "factor fido " FP "\n", 0, "line 10: bad fido until" },
	{ HEAD("fido") "factor fido " FP " -1\n", 0, "line 10: bad fido until" },
	{ HEAD("fido") "factor fido " FP " 01\n", 0, "line 10: bad fido until" },
	{ HEAD("fido") "factor fido " FP " 0 \n", 0, "line 10: bad fido evidence" },
	{ HEAD("fido") "factor fido " FP " 0 7\n", 0, "line 10: bad fido until" },
	{ GOOD "more 1\n", 0, "line 12: trailing data" },
	{ HEAD("totp") "factor totp 5", 0, "line 10: trailing data (no end of line)" },
	{ HEAD("totp") "factor totp 5\n\n", 0, "line 11: trailing data" },
	{ "mspgate-attestation 2\nengineer alice", 0, "line 2: missing" },
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
		} else {
			/* A refusal leaves nothing behind. */
			assert_int_equal(a.mfa, 0);
			assert_string_equal(a.engineer, "");
		}
	}
	assert_int_equal(mfa_attest_parse(GOOD, strlen(GOOD), '\n', &a, err, sizeof(err)), 0);
	assert_string_equal(a.engineer, "alice");
	assert_int_equal(a.mfa, POL_MFA_FIDO | POL_MFA_TOTP);
	assert_string_equal(mfa_attest_evidence(&a, POL_MFA_FIDO), FP " 1830000000");
	assert_string_equal(mfa_attest_evidence(&a, POL_MFA_TOTP), "59833333");
	assert_string_equal(a.source, "192.0.2.7");
	assert_int_equal(a.port, 50123);
	/* The PAM environment's spelling: ';' for newlines. */
	assert_int_equal(mfa_attest_format(&a, ';', buf, sizeof(buf)), 0);
	assert_null(strchr(buf, '\n'));
	assert_non_null(strstr(buf, ";mfa fido+totp;factor fido " FP " 1830000000;"
	    "factor totp 59833333;"));
	assert_int_equal(mfa_attest_parse(buf, strlen(buf), ';', &a, err, sizeof(err)), 0);
	assert_string_equal(mfa_attest_evidence(&a, POL_MFA_TOTP), "59833333");
}

/* Bounds: the whole record, and one line. */
static void
test_parse_bounds(void **state)
{
	struct mfa_attest a;
	char big[MFA_ATTEST_MAX + 64], err[256];
	size_t n;

	(void)state;
	n = (size_t)snprintf(big, sizeof(big), "%s", HEAD("totp") "factor totp ");
	memset(big + n, '7', 200);
	snprintf(big + n + 200, sizeof(big) - n - 200, "\n");
	assert_int_equal(mfa_attest_parse(big, strlen(big), '\n', &a, err, sizeof(err)),
	    MG_ERR_PARSE);
	assert_non_null(strstr(err, "line 10: too long or not text"));
	memset(big, '\n', sizeof(big));
	assert_int_equal(mfa_attest_parse(big, MFA_ATTEST_MAX + 1, '\n', &a, err,
	    sizeof(err)), MG_ERR_PARSE);
	assert_non_null(strstr(err, "longer than 2048 bytes"));
}

/* The writer refuses what the reader would. */
static void
test_format_refuses(void **state)
{
	struct mfa_attest a;
	char buf[MFA_ATTEST_MAX], ev[MFA_EVIDENCE_MAX + 8];

	(void)state;
	mfa_attest_init(&a);
	snprintf(a.engineer, sizeof(a.engineer), "alice");
	/* No such factor; evidence too long for its slot. */
	assert_int_equal(mfa_attest_set(&a, 0x80, "1"), MG_ERR_INVAL);
	assert_int_equal(mfa_attest_set(&a, POL_MFA_FIDO | POL_MFA_TOTP, "1"), MG_ERR_INVAL);
	memset(ev, '1', sizeof(ev) - 1);
	ev[sizeof(ev) - 1] = '\0';
	assert_int_equal(mfa_attest_set(&a, POL_MFA_TOTP, ev), MG_ERR_TOOBIG);
	assert_int_equal(a.mfa, 0);
	assert_null(mfa_attest_evidence(&a, POL_MFA_TOTP));
	/* A verified factor without evidence (FIDO's fingerprint failed). */
	assert_int_equal(mfa_attest_set(&a, POL_MFA_FIDO, ""), 0);
	assert_int_equal(mfa_attest_format(&a, '\n', buf, sizeof(buf)), MG_ERR_INVAL);
	/* Evidence its factor refuses, or that would break the line. */
	assert_int_equal(mfa_attest_set(&a, POL_MFA_FIDO, FP), 0);
	assert_int_equal(mfa_attest_format(&a, '\n', buf, sizeof(buf)), MG_ERR_INVAL);
	assert_int_equal(mfa_attest_set(&a, POL_MFA_FIDO, FP " 0;mfa none"), 0);
	assert_int_equal(mfa_attest_format(&a, ';', buf, sizeof(buf)), MG_ERR_INVAL);
	assert_int_equal(mfa_attest_set(&a, POL_MFA_FIDO, FP " 0"), 0);
	assert_int_equal(mfa_attest_format(&a, '\n', buf, sizeof(buf)), 0);
	/* Evidence of a factor mfa does not name. */
	a.mfa = 0;
	assert_int_equal(mfa_attest_format(&a, '\n', buf, sizeof(buf)), MG_ERR_INVAL);
	mfa_attest_init(&a);
	snprintf(a.engineer, sizeof(a.engineer), "alice");
	assert_int_equal(mfa_attest_set(&a, POL_MFA_TOTP, "12"), 0);
	assert_int_equal(mfa_attest_format(&a, '\n', buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "\nmfa totp\nfactor totp 12\n"));
	/* The output bound. */
	assert_int_equal(mfa_attest_format(&a, '\n', buf, 100), MG_ERR_TOOBIG);
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
	assert_int_equal(mfa_attest_set(&a, POL_MFA_TOTP, "5"), 0);
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

/* ---- the TOTP transaction, a login's standing ---------------------------- */

static struct pol *
txn_policy(void)
{
	char text[4096], hk[512], sk[512], old[512], ed[512];
	struct mg_diag *d = mg_diag_new();
	struct pol *p = NULL;

	tk_key("host", 0, hk, sizeof(hk));
	tk_key("alice-sk", 1, sk, sizeof(sk));
	tk_key("alice-sk-old", 1, old, sizeof(old));
	tk_key("alice-ed", 0, ed, sizeof(ed));
	snprintf(text, sizeof(text),
	    "gateway: { state = \"%s/state\"; };\n"
	    "mfa: { totp: { store = \"%s/totp\"; skew_steps = 0; };\n"
	    "  lockout = { failures = 3; within = \"15m\"; lock_for = \"15m\"; }; };\n"
	    "engineers = ( { name = \"alice\"; keys = ( \"%s\",\n"
	    "  { key = \"%s\"; valid_until = \"2020-01-01\"; }, \"%s\" ); } );\n"
	    "tenants = ( { name = \"t\"; targets = ( { name = \"b\"; host = \"192.0.2.1\";"
	    " host_key = \"%s\"; logins = [\"x\"]; credential = \"c\"; } ); } );\n"
	    "grants = ( { to = \"alice\"; tenants = [\"t\"]; targets = [\"*\"];"
	    " logins = [\"x\"]; mfa = \"totp\"; } );\n", base, base, sk, old, ed, hk);
	if (pol_load_buffer(text, strlen(text), "/etc/mspgate/t.conf", &p, d) != 0) {
		if (mg_diag_count(d) > 0)
			print_error("%s\n", mg_diag_get(d, 0));
		fail();
	}
	mg_diag_free(d);
	return p;
}

/* The FIDO evidence of the engineer's key k, as its login step writes it. */
static void
fido_evidence(const struct pol_engineer *e, size_t k, char *ev, size_t len)
{
	char fp[MG_SSHKEY_FP_LEN];

	assert_true(k < e->nkeys);
	assert_int_equal(mg_sshkey_fingerprint(e->keys[k].key, fp, sizeof(fp)), 0);
	snprintf(ev, len, "%s %lld", fp, (long long)e->keys[k].valid_until);
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
	struct mfa_attest att;
	char ev[MFA_EVIDENCE_MAX];
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
	mfa_attest_init(&att);
	assert_int_equal(mfa_attest_set(&att, POL_MFA_TOTP, "5"), 0);
	assert_int_equal(mfa_txn_standing(p, e, &att, now, &still, why, sizeof(why)), 0);
	assert_int_equal(still, POL_MFA_TOTP);
	/* ...a FIDO key counts while it is one of the engineer's sk keys, in its
	   dates: not a key of hers, one past its valid_until, nor a plain key. */
	assert_int_equal(mfa_attest_set(&att, POL_MFA_FIDO, FP " 0"), 0);
	assert_int_equal(mfa_txn_standing(p, e, &att, now, &still, why, sizeof(why)), 0);
	assert_int_equal(still, POL_MFA_TOTP);
	fido_evidence(e, 0, ev, sizeof(ev));
	assert_int_equal(mfa_attest_set(&att, POL_MFA_FIDO, ev), 0);
	assert_int_equal(mfa_txn_standing(p, e, &att, now, &still, why, sizeof(why)), 0);
	assert_int_equal(still, POL_MFA_TOTP | POL_MFA_FIDO);
	fido_evidence(e, 1, ev, sizeof(ev));
	assert_int_equal(mfa_attest_set(&att, POL_MFA_FIDO, ev), 0);
	assert_int_equal(mfa_txn_standing(p, e, &att, now, &still, why, sizeof(why)), 0);
	assert_int_equal(still, POL_MFA_TOTP);
	fido_evidence(e, 2, ev, sizeof(ev));
	assert_int_equal(mfa_attest_set(&att, POL_MFA_FIDO, ev), 0);
	assert_int_equal(mfa_txn_standing(p, e, &att, now, &still, why, sizeof(why)), 0);
	assert_int_equal(still, POL_MFA_TOTP);
	/* A FIDO-only login on her key stands without TOTP. */
	mfa_attest_init(&att);
	fido_evidence(e, 0, ev, sizeof(ev));
	assert_int_equal(mfa_attest_set(&att, POL_MFA_FIDO, ev), 0);
	assert_int_equal(mfa_txn_standing(p, e, &att, now, &still, why, sizeof(why)), 0);
	assert_int_equal(still, POL_MFA_FIDO);
	mfa_attest_init(&att);
	assert_int_equal(mfa_attest_set(&att, POL_MFA_TOTP, "5"), 0);
	/* ...locked out (two more failures): the login no longer stands... */
	(void)mfa_txn_totp(p, "alice", "000002", now, &res, why, sizeof(why));
	(void)mfa_txn_totp(p, "alice", "000003", now, &res, why, sizeof(why));
	(void)mfa_txn_totp(p, "alice", "000004", now, &res, why, sizeof(why));
	assert_int_equal(mfa_txn_standing(p, e, &att, now, &still, why, sizeof(why)),
	    MG_ERR_DENIED);
	assert_non_null(strstr(why, "locked out"));
	assert_int_equal(still, 0);
	/* ...nor once TOTP is un-enrolled, whatever the security key says. */
	assert_int_equal(mfa_lockrec_remove(&st, "alice", err, sizeof(err)), 0);
	assert_int_equal(mfa_secret_remove(&st, "alice", err, sizeof(err)), 0);
	fido_evidence(e, 0, ev, sizeof(ev));
	assert_int_equal(mfa_attest_set(&att, POL_MFA_FIDO, ev), 0);
	assert_int_equal(mfa_txn_standing(p, e, &att, now, &still, why, sizeof(why)),
	    MG_ERR_DENIED);
	assert_string_equal(why, "TOTP is no longer enrolled for alice");
	assert_int_equal(still, 0);
	mfa_secret_wipe(&s);
	pol_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_bounds),
		cmocka_unit_test(test_format_refuses),
		cmocka_unit_test_setup_teardown(test_write_load_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_txn_success_clears_failures, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
