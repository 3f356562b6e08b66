/* SPDX-License-Identifier: BSD-2-Clause */
/* state/ where libpq cannot be loaded (its loader built to look for a library that is not there): every use fails closed, saying what to install. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_err.h"
#include "pol.h"
#include "st_pg.h"
#include "st_ready.h"

#define WANT "state.backend \"postgresql\" needs libpq-mspgate-absent.so.5: "

static void
open_fails_closed(void **state)
{
	struct pol_state ps;
	struct st_pg *pg = (struct st_pg *)&ps;
	char err[400];
	int i;

	(void)state;
	memset(&ps, 0, sizeof(ps));
	ps.backend = POL_STATE_POSTGRESQL;
	ps.conninfo = "host=127.0.0.1 port=1 dbname=mspgate";
	/* The first time and again (the load is tried once per process). */
	for (i = 0; i < 2; i++) {
		err[0] = '\0';
		assert_int_equal(st_pg_open(&ps, &pg, err, sizeof(err)), MG_ERR_NOENT);
		assert_null(pg);
		assert_non_null(strstr(err, WANT));
		assert_non_null(strstr(err, "(install libpq5)"));
	}
	/* What callers do with no connection needs no library. */
	assert_false(st_pg_ok(pg));
	st_pg_close(pg);
	PQclear(NULL);
}

static void
ready_stops_the_start(void **state)
{
	struct pol *p;
	char err[400] = "";

	(void)state;
	p = calloc(1, sizeof(*p));
	assert_non_null(p);
	/* Files: nothing to load, nothing to say. */
	assert_int_equal(st_ready(p, err, sizeof(err)), 0);
	/*
	 * PostgreSQL: not MG_ERR_UNAVAIL (which mspgated logs and starts
	 * anyway, as for a database down for now): a gateway without the
	 * library does not start, and says why.
	 */
	p->state.backend = POL_STATE_POSTGRESQL;
	p->state.conninfo = "host=127.0.0.1 port=1 dbname=mspgate";
	assert_int_equal(st_ready(p, err, sizeof(err)), MG_ERR_NOENT);
	assert_non_null(strstr(err, WANT));
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(open_fails_closed),
		cmocka_unit_test(ready_stops_the_start),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
