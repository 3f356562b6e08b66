/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for the one name rule (mg_name_ok), each kind at its edges. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "mg_name.h"

#define S32 "abcdefghijklmnopqrstuvwxyzabcdef"
#define S33 S32 "a"
#define S64 S32 S32
#define S65 S64 "a"

static void
test_kinds(void **state)
{
	static const struct {
		enum mg_name_kind kind;
		const char *in;
		int ok;
	} cases[] = {
		/* Policy names: tenants, targets, windows, groups. */
		{ MG_NAME_POLICY, "acme", 1 },
		{ MG_NAME_POLICY, "Acme.Corp_2-x", 1 },
		{ MG_NAME_POLICY, "0day", 1 },
		{ MG_NAME_POLICY, S64, 1 },
		{ MG_NAME_POLICY, S65, 0 },
		{ MG_NAME_POLICY, "", 0 },
		{ MG_NAME_POLICY, NULL, 0 },
		{ MG_NAME_POLICY, "-acme", 0 },
		{ MG_NAME_POLICY, ".acme", 0 },
		{ MG_NAME_POLICY, "_acme", 0 },
		{ MG_NAME_POLICY, "ac me", 0 },
		{ MG_NAME_POLICY, "ac/me", 0 },
		{ MG_NAME_POLICY, "ac:me", 0 },
		{ MG_NAME_POLICY, "ac\tme", 0 },
		{ MG_NAME_POLICY, "acm\xc3\xa9", 0 },
		{ MG_NAME_POLICY, "acme\n", 0 },
		/* Credentials: the policy rule, longer. */
		{ MG_NAME_CREDENTIAL, S64 S64, 1 },
		{ MG_NAME_CREDENTIAL, S64 S64 "a", 0 },
		{ MG_NAME_CREDENTIAL, "-key", 0 },
		/* Engineers: portable Unix user names. */
		{ MG_NAME_ENGINEER, "alice", 1 },
		{ MG_NAME_ENGINEER, "bob_smith-2", 1 },
		{ MG_NAME_ENGINEER, "_svc", 1 },
		{ MG_NAME_ENGINEER, S32, 1 },
		{ MG_NAME_ENGINEER, S33, 0 },
		{ MG_NAME_ENGINEER, "Alice", 0 },
		{ MG_NAME_ENGINEER, "al.ice", 0 },
		{ MG_NAME_ENGINEER, "1alice", 0 },
		{ MG_NAME_ENGINEER, "-alice", 0 },
		{ MG_NAME_ENGINEER, "al ice", 0 },
		{ MG_NAME_ENGINEER, "", 0 },
		{ MG_NAME_ENGINEER, NULL, 0 },
		/* Logins and groups on client hosts. */
		{ MG_NAME_LOGIN, "deploy", 1 },
		{ MG_NAME_LOGIN, "Deploy.Bot_1", 1 },
		{ MG_NAME_LOGIN, "1root", 1 },
		{ MG_NAME_LOGIN, ".hidden", 1 },
		{ MG_NAME_LOGIN, S32, 1 },
		{ MG_NAME_LOGIN, S33, 0 },
		{ MG_NAME_LOGIN, "-x", 0 },
		{ MG_NAME_LOGIN, "a@b", 0 },
		{ MG_NAME_LOGIN, "", 0 },
		/* Hosts: DNS names and addresses. */
		{ MG_NAME_HOST, "web01.acme.example", 1 },
		{ MG_NAME_HOST, "192.0.2.1", 1 },
		{ MG_NAME_HOST, "2001:db8::1", 1 },
		{ MG_NAME_HOST, "-web", 0 },
		{ MG_NAME_HOST, "web 01", 0 },
		{ MG_NAME_HOST, "web/01", 0 },
		{ MG_NAME_HOST, "", 0 },
		/* A kind that does not exist accepts nothing. */
		{ (enum mg_name_kind)99, "acme", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (mg_name_ok(cases[i].kind, cases[i].in) != cases[i].ok)
			fail_msg("case %zu: kind %d \"%s\": want %d", i,
			    (int)cases[i].kind, cases[i].in ? cases[i].in : "(null)",
			    cases[i].ok);
	}
}

/* Hosts may be long (253 bytes), but not longer. */
static void
test_host_length(void **state)
{
	char h[300];

	(void)state;
	memset(h, 'a', sizeof(h));
	h[253] = '\0';
	assert_int_equal(mg_name_ok(MG_NAME_HOST, h), 1);
	h[253] = 'a';
	h[254] = '\0';
	assert_int_equal(mg_name_ok(MG_NAME_HOST, h), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_host_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
