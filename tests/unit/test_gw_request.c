/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for target specs, SSH_ORIGINAL_COMMAND, SSH_USER_AUTH and SSH_CONNECTION parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_request.h"
#include "mg_err.h"
#include "pol.h"

static const struct {
	const char *in;
	int ok;
	const char *login, *tenant, *target;
} specs[] = {
	{ "acme/web01", 1, "", "acme", "web01" },
	{ "deploy@acme/web01", 1, "deploy", "acme", "web01" },
	{ "a.b_c-d/x.y", 1, "", "a.b_c-d", "x.y" },
	{ "acme/", 0, NULL, NULL, NULL },
	{ "/web01", 0, NULL, NULL, NULL },
	{ "acme", 0, NULL, NULL, NULL },
	{ "acme/web/01", 0, NULL, NULL, NULL },
	{ "@acme/web01", 0, NULL, NULL, NULL },
	{ "-x@acme/web01", 0, NULL, NULL, NULL },
	{ "a@b@acme/web01", 0, NULL, NULL, NULL },
	/* The policy cannot define these names, so the spec is refused here. */
	{ "-acme/web01", 0, NULL, NULL, NULL },
	{ "acme/.web01", 0, NULL, NULL, NULL },
	{ "abcdefghijklmnopqrstuvwxyzabcdefg@acme/web01", 0, NULL, NULL, NULL },
	{ "abcdefghijklmnopqrstuvwxyzabcdef@acme/web01", 1,
	  "abcdefghijklmnopqrstuvwxyzabcdef", "acme", "web01" },
	{ "acme/web01 ", 0, NULL, NULL, NULL },
	{ "acme/web;01", 0, NULL, NULL, NULL },
	{ "ac me/web01", 0, NULL, NULL, NULL },
	{ "acme/\x1b[2J", 0, NULL, NULL, NULL },
	{ "", 0, NULL, NULL, NULL },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/x", 0, NULL, NULL,
	  NULL },	/* 65 characters */
};

static void
test_target_spec(void **state)
{
	struct gw_target_spec s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		int r = gw_target_spec_parse(specs[i].in, &s);

		if (specs[i].ok != (r == 0))
			fail_msg("'%s': got %d", specs[i].in, r);
		if (r == 0) {
			assert_string_equal(s.login, specs[i].login);
			assert_string_equal(s.tenant, specs[i].tenant);
			assert_string_equal(s.target, specs[i].target);
		}
	}
	assert_int_not_equal(gw_target_spec_parse(NULL, &s), 0);
}

static const struct {
	const char *env, *orig;
	int want;
	const char *target, *command, *subsystem;
} reqs[] = {
	{ "acme/web01", NULL, 0, "acme/web01", NULL, NULL },
	{ "acme/web01", "uptime", 0, "acme/web01", "uptime", NULL },
	/* With MSPGATE_TARGET set, a command starting with a spec is just a command. */
	{ "acme/web01", "other/x ls", 0, "acme/web01", "other/x ls", NULL },
	{ NULL, "acme/web01", 0, "acme/web01", NULL, NULL },
	{ NULL, "acme/web01 ls -l  /tmp", 0, "acme/web01", "ls -l  /tmp", NULL },
	{ NULL, "  deploy@acme/web01\tuptime", 0, "deploy@acme/web01", "uptime", NULL },
	{ "", "acme/web01 id", 0, "acme/web01", "id", NULL },
	/* sftp: sshd's subsystem command becomes the subsystem. */
	{ "acme/web01", "internal-sftp", 0, "acme/web01", NULL, "sftp" },
	{ "acme/web01", "/usr/lib/openssh/sftp-server", 0, "acme/web01", NULL, "sftp" },
	{ "acme/web01", "/usr/lib/openssh/sftp-server -l INFO", 0, "acme/web01", NULL, "sftp" },
	{ NULL, "acme/web01 internal-sftp", 0, "acme/web01", NULL, "sftp" },
	{ "acme/web01", "internal-sftpx", 0, "acme/web01", "internal-sftpx", NULL },
	{ "acme/web01", "scp -t /tmp", 0, "acme/web01", "scp -t /tmp", NULL },
	/* Nothing to go on: the picker's case. */
	{ NULL, NULL, MG_ERR_NOENT, NULL, NULL, NULL },
	{ "", "", MG_ERR_NOENT, NULL, NULL, NULL },
	{ NULL, "   ", MG_ERR_NOENT, NULL, NULL, NULL },
	{ NULL, "uptime", MG_ERR_NOENT, NULL, NULL, NULL },
	{ NULL, "internal-sftp", MG_ERR_NOENT, NULL, NULL, NULL },
	{ NULL, "/usr/lib/openssh/sftp-server", MG_ERR_NOENT, NULL, NULL, NULL },
	{ NULL, "/bin/ls /tmp", MG_ERR_NOENT, NULL, NULL, NULL },
	/* A target was meant but is malformed: kept as given, for mspgated to audit. */
	{ "acme", NULL, MG_ERR_PARSE, "acme", NULL, NULL },
	{ "acme/web01;id", "x", MG_ERR_PARSE, "acme/web01;id", NULL, NULL },
	{ NULL, "acme/web/01 ls", MG_ERR_PARSE, "acme/web/01", NULL, NULL },
	{ "../../etc/passwd", "id", MG_ERR_PARSE, "../../etc/passwd", NULL, NULL },
	{ "acme/web01 extra", NULL, MG_ERR_PARSE, "acme/web01 extra", NULL, NULL },
};

/* A long malformed value is cut: what goes on the wire is bounded. */
static void
test_shell_request_long(void **state)
{
	struct gw_shell_request r;
	char v[5001];

	(void)state;
	memset(v, 'a', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	assert_int_equal(gw_shell_request_parse(v, "id", &r), MG_ERR_PARSE);
	assert_int_equal(strlen(r.target), GW_TARGET_GIVEN_MAX);
	gw_shell_request_clear(&r);
	v[10] = '/';
	assert_int_equal(gw_shell_request_parse(NULL, v, &r), MG_ERR_PARSE);
	assert_int_equal(strlen(r.target), GW_TARGET_GIVEN_MAX);
	gw_shell_request_clear(&r);
}

static void
test_shell_request(void **state)
{
	struct gw_shell_request r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		int got = gw_shell_request_parse(reqs[i].env, reqs[i].orig, &r);

		if (got != reqs[i].want)
			fail_msg("case %zu (%s | %s): got %d want %d", i,
			    reqs[i].env ? reqs[i].env : "-", reqs[i].orig ? reqs[i].orig : "-",
			    got, reqs[i].want);
		if (got == MG_ERR_PARSE) {
			assert_string_equal(r.target, reqs[i].target);
			assert_null(r.command);
			assert_null(r.subsystem);
		} else if (got == 0) {
			assert_string_equal(r.target, reqs[i].target);
			if (reqs[i].command == NULL)
				assert_null(r.command);
			else
				assert_string_equal(r.command, reqs[i].command);
			if (reqs[i].subsystem == NULL)
				assert_null(r.subsystem);
			else
				assert_string_equal(r.subsystem, reqs[i].subsystem);
		} else
			assert_null(r.target);
		gw_shell_request_clear(&r);
	}
}

/* "ssh-config": the engineer's own Host blocks, never a target. */
static void
test_shell_request_config(void **state)
{
	static const struct {
		const char *env, *orig;
		int want, config;
		const char *command;
	} cases[] = {
		{ "ssh-config", NULL, 0, 1, NULL },
		{ "ssh-config", "--gateway gw.example:2222", 0, 1, "--gateway gw.example:2222" },
		{ NULL, "ssh-config", 0, 1, NULL },
		{ "", " ssh-config\t --gateway gw", 0, 1, "--gateway gw" },
		{ NULL, "ssh-config   ", 0, 1, NULL },
		/* Only the word itself. */
		{ NULL, "ssh-configx", MG_ERR_NOENT, 0, NULL },
		{ "ssh-configx", NULL, MG_ERR_PARSE, 0, NULL },
		/* With a target, "ssh-config" is a command on it. */
		{ "acme/web01", "ssh-config", 0, 0, "ssh-config" },
		{ NULL, "acme/web01 ssh-config", 0, 0, "ssh-config" },
	};
	struct gw_shell_request r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = gw_shell_request_parse(cases[i].env, cases[i].orig, &r);

		if (got != cases[i].want || r.ssh_config != cases[i].config)
			fail_msg("case %zu: got %d/%d", i, got, r.ssh_config);
		if (cases[i].config)
			assert_null(r.target);
		if (got == 0 && cases[i].command == NULL)
			assert_null(r.command);
		else if (got == 0)
			assert_string_equal(r.command, cases[i].command);
		gw_shell_request_clear(&r);
	}
}

/* Two real-looking keys: security keys from the example policy. */
#define SK1 "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIKZRu//DfsKsgkCOjHpdxoiuippfcK6vmxGJmuZUZTOTAAAABHNzaDo="
#define SK2 "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIK1Lw/23WeCIwhzsPcxKzRAxUq6NXSIb6+v0Ijy+LInPAAAABHNzaDo="
#define ED1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINJShWu/OQ/JJFdfpfWlBRF8SDzu70EH00PA9LCTs4o0"

static void
test_authinfo(void **state)
{
	struct mg_sshkey *k1 = NULL, *k2 = NULL;
	struct pol_key keys[2];
	struct pol_engineer e;
	char err[128];
	static const struct {
		const char *info;
		unsigned want;
	} cases[] = {
		{ "publickey " SK1 "\n", POL_MFA_FIDO },
		{ "publickey " SK1 "\nkeyboard-interactive\n", POL_MFA_FIDO | POL_MFA_TOTP },
		{ "publickey " SK1 "\nkeyboard-interactive/pam\n", POL_MFA_FIDO | POL_MFA_TOTP },
		{ "keyboard-interactive", POL_MFA_TOTP },
		/* Someone else's security key is not this engineer's FIDO. */
		{ "publickey " SK2 "\n", 0 },
		/* A plain key is this engineer's but not a security key. */
		{ "publickey " ED1 "\n", 0 },
		{ "publickey garbage\n", 0 },
		{ "password\n", 0 },
		{ "keyboard-interactivex\n", 0 },
		{ " keyboard-interactive\n", 0 },
		{ "", 0 },
	};
	size_t i;

	(void)state;
	assert_int_equal(mg_sshkey_parse(SK1, &k1, err, sizeof(err)), 0);
	assert_int_equal(mg_sshkey_parse(ED1, &k2, err, sizeof(err)), 0);
	memset(keys, 0, sizeof(keys));
	memset(&e, 0, sizeof(e));
	keys[0].key = k1;
	keys[1].key = k2;
	e.name = "alice";
	e.keys = keys;
	e.nkeys = 2;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (gw_authinfo_mfa(cases[i].info, &e) != cases[i].want)
			fail_msg("case %zu: got %u want %u", i,
			    gw_authinfo_mfa(cases[i].info, &e), cases[i].want);
	assert_int_equal(gw_authinfo_mfa(NULL, &e), 0);
	assert_int_equal(gw_authinfo_mfa("keyboard-interactive", NULL), 0);
	mg_sshkey_free(k1);
	mg_sshkey_free(k2);
}

static void
test_source(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "192.0.2.1 5555 192.0.2.2 2222", "192.0.2.1" },
		{ "2001:db8::1 5555 2001:db8::2 22", "2001:db8::1" },
		{ "192.0.2.300 1 2 3", "" },
		{ "host.example 1 2 3", "" },
		{ "", "" },
		{ " 192.0.2.1 1 2 3", "" },
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gw_source_from_connection(cases[i].in, out, sizeof(out));
		assert_string_equal(out, cases[i].want);
	}
	gw_source_from_connection(NULL, out, sizeof(out));
	assert_string_equal(out, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target_spec),
		cmocka_unit_test(test_shell_request),
		cmocka_unit_test(test_shell_request_long),
		cmocka_unit_test(test_shell_request_config),
		cmocka_unit_test(test_authinfo),
		cmocka_unit_test(test_source),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
