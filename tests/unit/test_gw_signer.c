/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mspgate-signer's decision (gw_signer_handle), table-driven: what it
 * certifies, each refusal and its reason, and that every issue and refusal
 * is in its audit log before anything is signed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "gw_signer.h"
#include "mfa_attest.h"
#include "mg_diag.h"
#include "mg_sshcert.h"
#include "mg_time.h"
#include "mg_util.h"
#include "pol.h"
#include "rec_key.h"
#include "../lib/testkeys.h"

int main(void);

#define GW_UID 4242

static char dir[] = "/tmp/mgsignXXXXXX";
static char audit_path[128];
static struct pol *pol;
static struct rec_key *key;
static struct gw_signer signer;
static const unsigned char ca_seed[32] = { 7, 7, 7 };

/*
 * Login attestations in a folder of the test's (root's, as the signer
 * wants): alice's for this process, bob's and a factor-less one of alice's
 * for two children that wait on a pipe, one for a process gone, and a live
 * child with none.
 */
enum att { ATT_ALICE, ATT_NONE, ATT_STALE, ATT_BOB, ATT_GONE, ATT_NO_MFA, ATT_PID0, ATT_N };
static char att_dir[160];
static pid_t att_pid[ATT_N];
static unsigned long long att_start[ATT_N];
static int hold[2] = { -1, -1 };

/* A child that lives until the pipe closes. */
static pid_t
child(void)
{
	char c;
	pid_t pid = fork();

	if (pid == 0) {
		close(hold[1]);
		while (read(hold[0], &c, 1) > 0)
			;
		_exit(0);
	}
	assert_true(pid > 0);
	return pid;
}

static void
attest(enum att which, const char *eng, pid_t pid, unsigned long long start, int totp)
{
	struct mfa_attest a;
	char err[300];

	mfa_attest_init(&a);
	snprintf(a.engineer, sizeof(a.engineer), "%s", eng);
	a.uid = 1001;
	a.pid = pid;
	a.start = start;
	a.login = time(NULL);
	if (totp)
		assert_int_equal(mfa_attest_set(&a, POL_MFA_TOTP, "5"), 0);
	if (mfa_attest_write(att_dir, &a, err, sizeof(err)) != 0)
		fail_msg("attestation: %s", err);
	att_pid[which] = pid;
	att_start[which] = start;
}

static void
attestations(void)
{
	unsigned long long st;
	pid_t pid;
	int i;

	snprintf(att_dir, sizeof(att_dir), "%s/attest", dir);
	free(pol->gateway.attestations);
	assert_non_null(pol->gateway.attestations = strdup(att_dir));
	assert_int_equal(pipe(hold), 0);
	assert_int_equal(mfa_proc_stat(getpid(), &st, NULL), 0);
	attest(ATT_ALICE, "alice", getpid(), st, 1);
	att_pid[ATT_STALE] = getpid();
	att_start[ATT_STALE] = st + 1;
	for (i = 0; i < 3; i++) {
		pid = child();
		assert_int_equal(mfa_proc_stat(pid, &st, NULL), 0);
		if (i == 0)
			attest(ATT_BOB, "bob", pid, st, 1);
		else if (i == 1)
			attest(ATT_NO_MFA, "alice", pid, st, 0);
		else {
			att_pid[ATT_NONE] = pid;
			att_start[ATT_NONE] = st;
		}
	}
	/* Gone: its attestation stays behind (a crash), its process does not. */
	if ((pid = fork()) == 0)
		_exit(0);
	assert_true(pid > 0);
	assert_int_equal(mfa_proc_stat(pid, &st, NULL), 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	attest(ATT_GONE, "alice", pid, st, 1);
}

static int
setup(void **state)
{
#define TMPL \
	    "credentials = ( { name = \"acme-ca\"; kind = \"certificate\"; ca = \"%s\"; } );\n" \
	    "signer: { audit = \"%s\"; per_minute = 3; };\n" \
	    "engineers = ( { name = \"alice\"; keys = [ \"%s\" ]; },\n" \
	    "  { name = \"bob\"; keys = [ \"%s\" ]; } );\n" \
	    "tenants = ( { name = \"acme\"; targets = (\n" \
	    "  { name = \"web01\"; host = \"192.0.2.10\"; host_key = \"%s\"; logins = [ \"deploy\", \"root\" ];\n" \
	    "    credential = \"acme-ca\"; },\n" \
	    "  { name = \"db01\"; host = \"192.0.2.11\"; host_key = \"%s\"; logins = [ \"deploy\" ];\n" \
	    "    credential = \"vaultkey\"; } ); } );\n" \
	    "grants = ( { to = \"alice\"; tenants = [ \"acme\" ]; targets = [ \"*\" ];\n" \
	    "  logins = [ \"deploy\" ]; mfa = \"totp\"; max_session = \"1h\"; } );\n"
	unsigned char pub[32], blob[51];
	char capub[100], b64[80], text[4096], kpath[160], err[256], k1[512], k2[512];
	struct mg_diag *d = mg_diag_new();
	EVP_PKEY *k;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(audit_path, sizeof(audit_path), "%s/audit.jsonl", dir);
	assert_int_equal(mg_sshcert_ed25519_pub(ca_seed, pub), 0);
	memcpy(blob, "\0\0\0\x0bssh-ed25519\0\0\0\x20", 19);
	memcpy(blob + 19, pub, 32);
	mg_b64_encode(blob, sizeof(blob), 1, b64);
	snprintf(capub, sizeof(capub), "ssh-ed25519 %s", b64);
	tk_key("alice", 0, k1, sizeof(k1));
	tk_key("bob", 0, k2, sizeof(k2));
	snprintf(text, sizeof(text), TMPL, capub, audit_path, k1, k2, capub, capub);
	if (pol_load_buffer(text, strlen(text), "/etc/mspgate/t.conf", &pol, d) != 0)
		fail_msg("policy: %s", mg_diag_count(d) > 0 ? mg_diag_get(d, 0) : "?");
	mg_diag_free(d);
	/* The audit log's signing key, made here. */
	snprintf(kpath, sizeof(kpath), "%s/audit.pem", dir);
	assert_non_null(k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));
	assert_non_null(f = fopen(kpath, "w"));
	assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	EVP_PKEY_free(k);
	chmod(kpath, 0600);
	assert_int_equal(rec_key_load_private(kpath, &key, err, sizeof(err)), 0);
	signer.pol = pol;
	signer.gateway_uid = GW_UID;
	signer.audit_key = key;
	gw_ratelim_init(&signer.refused, GW_SIGNER_REFUSALS, 60);
	signer.cas = calloc(1, sizeof(*signer.cas));
	signer.ncas = 1;
	signer.cas[0].cred = pol_credential_find(pol, "acme-ca");
	memcpy(signer.cas[0].seed, ca_seed, 32);
	attestations();
	return 0;
}

static int
teardown(void **state)
{
	char cmd[200];

	(void)state;
	close(hold[0]);
	close(hold[1]);
	/* The pipe closed, the children end. */
	waitpid(att_pid[ATT_BOB], NULL, 0);
	waitpid(att_pid[ATT_NO_MFA], NULL, 0);
	waitpid(att_pid[ATT_NONE], NULL, 0);
	gw_signer_free_cas(&signer);
	rec_key_free(key);
	pol_free(pol);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
request(struct gw_signmsg *m, const char *eng, const char *target, const char *login,
    uint32_t life, const char *source)
{
	memset(m, 0, sizeof(*m));
	m->type = GW_SIGN_REQUEST;
	snprintf(m->session, sizeof(m->session), "S-1");
	snprintf(m->engineer, sizeof(m->engineer), "%s", eng);
	snprintf(m->tenant, sizeof(m->tenant), "acme");
	snprintf(m->target, sizeof(m->target), "%s", target);
	snprintf(m->login, sizeof(m->login), "%s", login);
	snprintf(m->source, sizeof(m->source), "%s", source);
	m->lifetime = life;
	memset(m->pubkey, 9, 32);
	m->att_pid = (uint32_t)att_pid[ATT_ALICE];
	m->att_start = att_start[ATT_ALICE];
}

static size_t
count(const char *what)
{
	char line[4096];
	size_t n = 0;
	FILE *f = fopen(audit_path, "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, what) != NULL)
			n++;
	fclose(f);
	return n;
}

static void
test_refusals(void **state)
{
	static const struct {
		const char *what;
		uid_t uid;
		const char *eng, *target, *login;
		uint32_t life;
		const char *source, *reason;
		enum att att;
	} cases[] = {
		{ "another uid", 1000, "alice", "web01", "deploy", 60, "10.0.0.1/32",
		  "uid 1000 is not the gateway's service account", ATT_ALICE },
		{ "unknown target", GW_UID, "alice", "web99", "deploy", 60, "10.0.0.1/32",
		  "no target acme/web99 in the policy", ATT_ALICE },
		{ "a vault-key target", GW_UID, "alice", "db01", "deploy", 60, "10.0.0.1/32",
		  "target acme/db01 has no certificate credential", ATT_ALICE },
		{ "unknown engineer", GW_UID, "mallory", "web01", "deploy", 60, "10.0.0.1/32",
		  "no engineer mallory in the policy", ATT_ALICE },
		{ "no grant for the engineer", GW_UID, "bob", "web01", "deploy", 60, "10.0.0.1/32",
		  "no grant lets bob reach acme/web01 as deploy", ATT_ALICE },
		{ "a login the grant does not give", GW_UID, "alice", "web01", "root", 60,
		  "10.0.0.1/32", "no grant lets alice reach acme/web01 as root", ATT_ALICE },
		{ "over max_session + 60 s", GW_UID, "alice", "web01", "deploy", 3661,
		  "10.0.0.1/32", "lifetime 3661s is over the grants' max_session 3600s + 60s", ATT_ALICE },
		{ "no lifetime", GW_UID, "alice", "web01", "deploy", 0, "10.0.0.1/32",
		  "lifetime 0s", ATT_ALICE },
		{ "a bad source", GW_UID, "alice", "web01", "deploy", 60, "10.0.0.1/33",
		  "bad source address", ATT_ALICE },
		{ "no source", GW_UID, "alice", "web01", "deploy", 60, "", "bad source address", ATT_ALICE },
		/* A stolen service account: no live attested login of the engineer behind. */
		{ "no attestation for the pid", GW_UID, "alice", "web01", "deploy", 60,
		  "10.0.0.1/32", "no attested login: no attestation for session process",
		  ATT_NONE },
		{ "no pid", GW_UID, "alice", "web01", "deploy", 60, "10.0.0.1/32",
		  "no attested login: the request names pid 0", ATT_PID0 },
		{ "a stale start time", GW_UID, "alice", "web01", "deploy", 60, "10.0.0.1/32",
		  "is of another session", ATT_STALE },
		{ "another engineer's login", GW_UID, "alice", "web01", "deploy", 60,
		  "10.0.0.1/32", "is bob's, not alice's", ATT_BOB },
		{ "a session process gone", GW_UID, "alice", "web01", "deploy", 60, "10.0.0.1/32",
		  "has ended", ATT_GONE },
		{ "a login without the grant's factors", GW_UID, "alice", "web01", "deploy", 60,
		  "10.0.0.1/32", "the login's MFA (none) is not what a grant", ATT_NO_MFA },
	};
	struct gw_signmsg req, reply;
	size_t i, denied = count("\"denied\"");

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		request(&req, cases[i].eng, cases[i].target, cases[i].login, cases[i].life,
		    cases[i].source);
		req.att_pid = (uint32_t)att_pid[cases[i].att];
		req.att_start = att_start[cases[i].att];
		gw_signer_handle(&signer, cases[i].uid, &req, &reply);
		if (reply.type != GW_SIGN_REFUSED || strstr(reply.text, cases[i].reason) == NULL)
			fail_msg("case '%s': type %d, text '%s'", cases[i].what, reply.type,
			    reply.text);
		assert_int_equal(count("\"denied\""), ++denied);
	}
	assert_int_equal(count("\"cert_issued\""), 0);
	/* Refusals to one uid past the bound (10 here) are counted, not audited one by one. */
	gw_ratelim_init(&signer.refused, 10, 60);
	mg_clock_set(time(NULL));
	for (i = 0; i < 12; i++) {
		request(&req, "alice", "web01", "deploy", 60, "10.0.0.1/32");
		gw_signer_handle(&signer, 1000, &req, &reply);
		assert_int_equal(reply.type, GW_SIGN_REFUSED);
	}
	assert_int_equal(count("uid 1000 is not the gateway"), 1 + 10);
	/* The next window says in one event how many were held back. */
	mg_clock_set(time(NULL) + 61);
	gw_signer_handle(&signer, 1000, &req, &reply);
	mg_clock_reset();
	assert_int_equal(count("2 more certificate refusals to uid 1000 in 60s"), 1);
	assert_int_equal(count("uid 1000 is not the gateway"), 12);
}

static void
test_issue_and_rate(void **state)
{
	struct gw_signmsg req, reply;
	uint64_t last = 0;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		request(&req, "alice", "web01", "deploy", 3660, "10.0.0.1/32");
		gw_signer_handle(&signer, GW_UID, &req, &reply);
		assert_int_equal(reply.type, GW_SIGN_CERT);
		assert_true(strncmp(reply.cert, "ssh-ed25519-cert-v01@openssh.com ", 33) == 0);
		/* Serials only grow. */
		assert_true(reply.serial > last);
		last = reply.serial;
		assert_int_equal(count("\"cert_issued\""), (size_t)i + 1);
	}
	assert_int_equal(count("key_id \\\"mspgate engineer=alice session=S-1 ticket=-\\\""), 3);
	gw_signer_handle(&signer, GW_UID, &req, &reply);
	assert_int_equal(reply.type, GW_SIGN_REFUSED);
	assert_non_null(strstr(reply.text, "rate limit: 3 certificates a minute"));
	assert_int_equal(count("\"cert_issued\""), 3);
}

static void
test_unwritable_audit(void **state)
{
	struct gw_signmsg req, reply;
	char *saved = pol->signer.audit;

	(void)state;
	signer.win_count = 0;
	pol->signer.audit = "/nonexistent/dir/audit.jsonl";
	request(&req, "alice", "web01", "deploy", 60, "10.0.0.1/32");
	gw_signer_handle(&signer, GW_UID, &req, &reply);
	pol->signer.audit = saved;
	assert_int_equal(reply.type, GW_SIGN_REFUSED);
	assert_string_equal(reply.text, "the signer cannot write its audit log: nothing signed");
	assert_int_equal(reply.cert[0], '\0');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_issue_and_rate),
		cmocka_unit_test(test_unwritable_audit),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
