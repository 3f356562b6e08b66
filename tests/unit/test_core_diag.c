/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for error names and the diagnostics list. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mg_diag.h"
#include "mg_err.h"

static void
test_strerror_names_every_code(void **state)
{
	int e;

	(void)state;
	for (e = MG_ERR_EXISTS; e <= 0; e++)
		assert_string_not_equal(mg_strerror(e), "unknown error");
	assert_string_equal(mg_strerror(-999), "unknown error");
	assert_string_equal(mg_strerror(MG_ERR_POLICY), "invalid policy");
}

static void
test_diag_formats(void **state)
{
	static const struct {
		const char *file;
		int line;
		const char *want;
	} t[] = {
		{ "/etc/a.conf", 12, "/etc/a.conf:12: bad 7" },
		{ "/etc/a.conf", 0, "/etc/a.conf: bad 7" },
		{ NULL, 3, "bad 7" },
	};
	struct mg_diag *d = mg_diag_new();
	size_t i;

	(void)state;
	assert_non_null(d);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		mg_diag_add(d, t[i].file, t[i].line, "bad %d", 7);
	assert_int_equal(mg_diag_count(d), 3);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(mg_diag_get(d, i), t[i].want);
	assert_null(mg_diag_get(d, 3));
	mg_diag_clear(d);
	assert_int_equal(mg_diag_count(d), 0);
	mg_diag_free(d);
	mg_diag_free(NULL);
	mg_diag_add(NULL, "x", 1, "dropped");
}

static void
test_diag_bounded(void **state)
{
	struct mg_diag *d = mg_diag_new();
	int i;

	(void)state;
	for (i = 0; i < 1000; i++)
		mg_diag_add(d, "f", i + 1, "error %d", i);
	/* 200 kept, plus one line saying the rest were dropped. */
	assert_int_equal(mg_diag_count(d), 201);
	assert_string_equal(mg_diag_get(d, 200), "further errors were not shown");
	mg_diag_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strerror_names_every_code),
		cmocka_unit_test(test_diag_formats),
		cmocka_unit_test(test_diag_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
