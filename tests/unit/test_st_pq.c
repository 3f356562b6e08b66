/* SPDX-License-Identifier: BSD-2-Clause */
/* state/st_pq.c: libpq loaded on first use, its functions resolved, a clear error when it cannot be. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "mg_err.h"
#include "st_pq.h"

/* 1 when this process maps a file whose name has lib (from /proc/self/maps). */
static int
mapped(const char *lib)
{
	char line[512];
	FILE *f;
	int found = 0;

	f = fopen("/proc/self/maps", "r");
	assert_non_null(f);
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, lib) != NULL;
	fclose(f);
	return found;
}

static void
not_there(void **state)
{
	struct st_pq t;
	char err[400] = "";

	(void)state;
	memset(&t, 0xa5, sizeof(t));
	assert_int_equal(st_pq_resolve("libpq-mspgate-absent.so.5", &t, err, sizeof(err)),
	    MG_ERR_NOENT);
	assert_non_null(strstr(err, "state.backend \"postgresql\" needs "
	    "libpq-mspgate-absent.so.5: "));
	assert_non_null(strstr(err, "(install libpq5)"));
	/* Left as it was: nothing half filled. */
	assert_int_equal(((unsigned char *)&t)[0], 0xa5);
}

static void
function_missing(void **state)
{
	struct st_pq t;
	char err[400] = "";

	(void)state;
	memset(&t, 0, sizeof(t));
	/* A library that loads but is not libpq: the first function is named. */
	assert_int_equal(st_pq_resolve("libc.so.6", &t, err, sizeof(err)), MG_ERR_NOENT);
	assert_non_null(strstr(err, "needs libc.so.6 with PQclear: "));
	assert_null(t.PQclear);
}

static void
loaded_on_first_use(void **state)
{
	PQconninfoOption *o;
	char err[400] = "", *perr = NULL;

	(void)state;
	/* This program is linked without libpq: nothing maps it before. */
	assert_false(mapped("/libpq.so"));
	assert_null(st_pq_lib.PQconninfoParse);
	/* Nothing to free needs no library. */
	PQclear(NULL);
	PQfreemem(NULL);
	assert_int_equal(st_pq_load(err, sizeof(err)), 0);
	assert_true(mapped("/libpq.so"));
#define ST_PQ_SET(f) assert_non_null(st_pq_lib.f);
	ST_PQ_FUNCS(ST_PQ_SET)
#undef ST_PQ_SET
	/* Real libpq behind the names. */
	o = PQconninfoParse("host=127.0.0.1 port=5 dbname=x", &perr);
	assert_non_null(o);
	PQconninfoFree(o);
	assert_null(PQconninfoParse("nosuchkeyword=1", &perr));
	assert_non_null(perr);
	assert_non_null(strstr(perr, "nosuchkeyword"));
	PQfreemem(perr);
	/* Once: the same table again. */
	assert_int_equal(st_pq_load(err, sizeof(err)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(not_there),
		cmocka_unit_test(function_missing),
		cmocka_unit_test(loaded_on_first_use),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
