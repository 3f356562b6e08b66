/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for the session deadline: warnings 5 and 1 minute before, once each. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "gw_deadline.h"
#include "mg_time.h"

/* A session's life, second by second: when warnings go out and what they say. */
static void
run(time_t start, time_t end_by, const int64_t *want, size_t nwant)
{
	struct gw_deadline d;
	time_t t;
	size_t got = 0;

	gw_deadline_set(&d, end_by);
	for (t = start; t <= end_by + 5; t++) {
		int64_t left;

		mg_clock_set(t);
		left = gw_deadline_warn(&d, mg_clock_now());
		if (left == 0)
			continue;
		assert_true(got < nwant);
		assert_int_equal(left, want[got]);
		got++;
	}
	assert_int_equal(got, nwant);
	mg_clock_reset();
}

static void
test_warnings(void **state)
{
	static const int64_t both[] = { 300, 60 };
	static const int64_t late[] = { 200, 60 };
	static const int64_t short_[] = { 3 };
	static const int64_t one[] = { 60 };

	(void)state;
	run(1000000, 1000000 + 3600, both, 2);	/* an hour: 5 min, then 1 min */
	run(1000000, 1000000 + 200, late, 2);	/* starts inside the 5 minutes */
	run(1000000, 1000000 + 60, one, 1);
	run(1000000, 1000000 + 3, short_, 1);	/* a few seconds: one warning */
	run(1000000, 0, NULL, 0);		/* no deadline: never */
}

static void
test_moved(void **state)
{
	struct gw_deadline d;

	(void)state;
	gw_deadline_set(&d, 2000);
	assert_int_equal(gw_deadline_warn(&d, 1700), 300);
	assert_int_equal(gw_deadline_warn(&d, 1701), 0);
	/* A reload brings the end forward: warned again, with the new time. */
	gw_deadline_set(&d, 1760);
	assert_int_equal(gw_deadline_warn(&d, 1702), 58);
	assert_int_equal(gw_deadline_warn(&d, 1703), 0);
	assert_int_equal(gw_deadline_warn(&d, 1760), 0);
	assert_int_equal(gw_deadline_warn(&d, 1999), 0);
}

static void
test_text(void **state)
{
	static const struct {
		int64_t left;
		const char *text;
	} cases[] = {
		{ 300, "5 minutes" }, { 299, "5 minutes" }, { 120, "2 minutes" },
		{ 60, "1 minute" }, { 58, "1 minute" }, { 30, "30 seconds" },
		{ 1, "1 second" }, { 3600, "60 minutes" },
	};
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gw_deadline_left_text(cases[i].left, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_moved),
		cmocka_unit_test(test_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
