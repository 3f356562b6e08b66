/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Certificates (mg_sshcert_sign): OpenSSH's own ssh-keygen -L reads what
 * we write (type, key id, serial, principals, validity, the one critical
 * option and the one extension, the CA), and every bad field is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mg_err.h"
#include "mg_sshcert.h"
#include "mg_util.h"

int main(void);

static const unsigned char ca_seed[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 };
static const unsigned char user_seed[32] = { 42, 43, 44 };

/* Runs ssh-keygen -L on the certificate; its output in a new string. */
static char *
keygen_list(const char *cert)
{
	char dir[] = "/tmp/mgcertXXXXXX", path[64], cmd[160];
	static char buf[8192];
	FILE *f;
	size_t n;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/c-cert.pub", dir);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "%s\n", cert);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "TZ=UTC ssh-keygen -L -f %s 2>&1", path);
	assert_non_null(f = popen(cmd, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	assert_int_equal(pclose(f), 0);
	unlink(path);
	rmdir(dir);
	return buf;
}

static void
test_keygen_reads_it(void **state)
{
	const char *princ[] = { "deploy" };
	unsigned char pub[32];
	struct mg_sshcert_spec sp = { 0 };
	char *cert = NULL, err[200], *out;

	(void)state;
	assert_int_equal(mg_sshcert_ed25519_pub(user_seed, pub), 0);
	sp.pub = pub;
	sp.serial = 0x1234567890ULL;
	sp.type = MG_SSHCERT_USER;
	sp.key_id = "engineer=alice session=s1 ticket=CHG-1";
	sp.principals = princ;
	sp.nprincipals = 1;
	sp.valid_after = 1893456000;	/* 2030-01-01T00:00:00Z */
	sp.valid_before = 1893459600;
	sp.source_address = "127.0.0.1/32";
	sp.permit_pty = 1;
	assert_int_equal(mg_sshcert_sign(&sp, ca_seed, &cert, err, sizeof(err)), 0);
	assert_true(strncmp(cert, "ssh-ed25519-cert-v01@openssh.com AAAA", 37) == 0);
	out = keygen_list(cert);
	assert_non_null(strstr(out, "Type: ssh-ed25519-cert-v01@openssh.com user certificate"));
	assert_non_null(strstr(out, "Key ID: \"engineer=alice session=s1 ticket=CHG-1\""));
	assert_non_null(strstr(out, "Serial: 78187493520"));
	assert_non_null(strstr(out, "Signing CA: ED25519 SHA256:"));
	assert_non_null(strstr(out, "Valid: from 2030-01-01T00:00:00 to 2030-01-01T01:00:00"));
	assert_non_null(strstr(out, "Principals: \n                deploy"));
	assert_non_null(strstr(out, "source-address 127.0.0.1/32"));
	assert_non_null(strstr(out, "permit-pty"));
	/* Nothing else is permitted. */
	assert_null(strstr(out, "port-forwarding"));
	assert_null(strstr(out, "agent-forwarding"));
	assert_null(strstr(out, "X11-forwarding"));
	assert_null(strstr(out, "user-rc"));
	free(cert);

	/* Without a pty and without source-address: both lists empty. */
	sp.permit_pty = 0;
	sp.source_address = NULL;
	assert_int_equal(mg_sshcert_sign(&sp, ca_seed, &cert, err, sizeof(err)), 0);
	out = keygen_list(cert);
	assert_non_null(strstr(out, "Critical Options: (none)"));
	assert_non_null(strstr(out, "Extensions: (none)"));
	free(cert);
}

static void
test_refusals(void **state)
{
	const char *princ[] = { "deploy" }, *bad[] = { "de\nploy" };
	unsigned char pub[32] = { 0 };
	struct mg_sshcert_spec sp = { 0 }, s2;
	char *cert = (char *)1, err[200], big[MG_SSHCERT_STR_MAX + 2];

	(void)state;
	sp.pub = pub;
	sp.type = MG_SSHCERT_USER;
	sp.key_id = "k";
	sp.principals = princ;
	sp.nprincipals = 1;
	sp.valid_after = 10;
	sp.valid_before = 20;
	s2 = sp; s2.key_id = "";
	assert_int_equal(mg_sshcert_sign(&s2, ca_seed, &cert, err, sizeof(err)), MG_ERR_INVAL);
	assert_null(cert);
	s2 = sp; s2.nprincipals = 0;
	assert_int_equal(mg_sshcert_sign(&s2, ca_seed, &cert, err, sizeof(err)), MG_ERR_INVAL);
	s2 = sp; s2.principals = bad;
	assert_int_equal(mg_sshcert_sign(&s2, ca_seed, &cert, err, sizeof(err)), MG_ERR_INVAL);
	s2 = sp; s2.valid_before = 10;
	assert_int_equal(mg_sshcert_sign(&s2, ca_seed, &cert, err, sizeof(err)), MG_ERR_INVAL);
	s2 = sp; s2.type = 3;
	assert_int_equal(mg_sshcert_sign(&s2, ca_seed, &cert, err, sizeof(err)), MG_ERR_INVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	s2 = sp; s2.source_address = big;
	assert_int_equal(mg_sshcert_sign(&s2, ca_seed, &cert, err, sizeof(err)), MG_ERR_INVAL);
	s2 = sp; s2.pub = NULL;
	assert_int_equal(mg_sshcert_sign(&s2, ca_seed, &cert, err, sizeof(err)), MG_ERR_INVAL);
}

static void
test_pem_load(void **state)
{
	static const char other[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
	unsigned char seed[32];
	char err[200];

	(void)state;
	assert_int_equal(mg_sshcert_load_ed25519(other, sizeof(other) - 1, seed, err,
	    sizeof(err)), MG_ERR_PARSE);
	assert_non_null(strstr(err, "ed25519"));
}

/* The base64 part of "TYPE BASE64": a pointer into s. */
static const char *
b64_of(const char *s)
{
	const char *sp = strchr(s, ' ');

	assert_non_null(sp);
	return sp + 1;
}

static void
test_host_check(void **state)
{
	static const unsigned char other_ca[32] = { 99 };
	const char *names[] = { "web01.example", "192.0.2.10" }, *other[] = { "db.example" };
	unsigned char pub[32], capub[32], ocapub[32];
	struct mg_sshcert_spec sp = { 0 }, s2;
	char *cert = NULL, err[200];
	const int64_t now = 1893456000 + 100;

	(void)state;
	assert_int_equal(mg_sshcert_ed25519_pub(user_seed, pub), 0);
	assert_int_equal(mg_sshcert_ed25519_pub(ca_seed, capub), 0);
	assert_int_equal(mg_sshcert_ed25519_pub(other_ca, ocapub), 0);
	sp.pub = pub;
	sp.serial = 7;
	sp.type = MG_SSHCERT_HOST;
	sp.key_id = "web01";
	sp.principals = names;
	sp.nprincipals = 2;
	sp.valid_after = 1893456000;
	sp.valid_before = 1893459600;
	assert_int_equal(mg_sshcert_sign(&sp, ca_seed, &cert, err, sizeof(err)), 0);
	assert_int_equal(mg_sshcert_check_host(b64_of(cert), pub, capub, "192.0.2.10", now,
	    err, sizeof(err)), 0);
	assert_int_equal(mg_sshcert_check_host(b64_of(cert), pub, capub, "web01.example", now,
	    err, sizeof(err)), 0);
	/* Another name, another CA, another key, outside the validity. */
	assert_int_equal(mg_sshcert_check_host(b64_of(cert), pub, capub, "web02.example", now,
	    err, sizeof(err)), MG_ERR_VERIFY);
	assert_non_null(strstr(err, "not for web02.example"));
	assert_int_equal(mg_sshcert_check_host(b64_of(cert), pub, ocapub, "192.0.2.10", now,
	    err, sizeof(err)), MG_ERR_VERIFY);
	assert_non_null(strstr(err, "another CA"));
	assert_int_equal(mg_sshcert_check_host(b64_of(cert), capub, capub, "192.0.2.10", now,
	    err, sizeof(err)), MG_ERR_VERIFY);
	assert_non_null(strstr(err, "another key"));
	assert_int_equal(mg_sshcert_check_host(b64_of(cert), pub, capub, "192.0.2.10",
	    1893459600, err, sizeof(err)), MG_ERR_VERIFY);
	assert_non_null(strstr(err, "validity"));
	/* One byte changed anywhere signed: the signature fails, or the parse. */
	{
		size_t n = strlen(cert), k;

		for (k = 60; k < n - 90; k += 7) {
			char c = cert[k];

			cert[k] = c == 'A' ? 'B' : 'A';
			assert_int_not_equal(mg_sshcert_check_host(b64_of(cert), pub, capub,
			    "192.0.2.10", now, err, sizeof(err)), 0);
			cert[k] = c;
		}
	}
	free(cert);
	/* A user certificate, one with other names, one with none. */
	s2 = sp; s2.type = MG_SSHCERT_USER;
	assert_int_equal(mg_sshcert_sign(&s2, ca_seed, &cert, err, sizeof(err)), 0);
	assert_int_equal(mg_sshcert_check_host(b64_of(cert), pub, capub, "192.0.2.10", now,
	    err, sizeof(err)), MG_ERR_VERIFY);
	assert_non_null(strstr(err, "not a host certificate"));
	free(cert);
	s2 = sp; s2.principals = other; s2.nprincipals = 1;
	assert_int_equal(mg_sshcert_sign(&s2, ca_seed, &cert, err, sizeof(err)), 0);
	assert_int_equal(mg_sshcert_check_host(b64_of(cert), pub, capub, "192.0.2.10", now,
	    err, sizeof(err)), MG_ERR_VERIFY);
	free(cert);
	assert_int_equal(mg_sshcert_check_host("AAAA", pub, capub, "x", now, err,
	    sizeof(err)), MG_ERR_PARSE);
	assert_int_equal(mg_sshcert_check_host("not base64!", pub, capub, "x", now, err,
	    sizeof(err)), MG_ERR_PARSE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keygen_reads_it),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_pem_load),
		cmocka_unit_test(test_host_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
