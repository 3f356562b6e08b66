/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for the per-uid rate limits: bursts, windows, summaries, a full table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "gw_ratelim.h"

struct seen {
	unsigned calls, total;
	uid_t last_uid;
	char last_name[64];
};

static void
on_report(void *ctx, uid_t uid, const char *name, unsigned suppressed, time_t window)
{
	struct seen *s = ctx;

	(void)window;
	s->calls++;
	s->total += suppressed;
	s->last_uid = uid;
	snprintf(s->last_name, sizeof(s->last_name), "%s", name);
}

/* A flood: the burst passes, the rest is counted once, per window. */
static void
test_burst_and_summary(void **state)
{
	static struct gw_ratelim rl;
	struct seen seen = { 0 };
	int i, passed = 0;

	(void)state;
	gw_ratelim_init(&rl, 10, 60);
	for (i = 0; i < 1000; i++)
		passed += gw_ratelim_charge(&rl, 1001, "eve", 100, on_report, &seen);
	assert_int_equal(passed, 10);
	assert_false(gw_ratelim_peek(&rl, 1001, 100));
	/* Another uid has its own budget. */
	assert_true(gw_ratelim_peek(&rl, 1002, 100));
	assert_int_equal(gw_ratelim_charge(&rl, 1002, "bob", 100, on_report, &seen), 1);
	/* Nothing reported inside the window ... */
	gw_ratelim_flush(&rl, 159, on_report, &seen);
	assert_int_equal(seen.calls, 0);
	/* ... one summary after it, with the count; bob had none suppressed. */
	gw_ratelim_flush(&rl, 160, on_report, &seen);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.total, 990);
	assert_int_equal(seen.last_uid, 1001);
	assert_string_equal(seen.last_name, "eve");
	/* A new window, a new burst. */
	assert_true(gw_ratelim_peek(&rl, 1001, 161));
	assert_int_equal(gw_ratelim_charge(&rl, 1001, "eve", 161, on_report, &seen), 1);
}

/* Events decided elsewhere count against the same budget. */
static void
test_count(void **state)
{
	static struct gw_ratelim rl;
	struct seen seen = { 0 };
	int i;

	(void)state;
	gw_ratelim_init(&rl, 3, 10);
	for (i = 0; i < 3; i++)
		gw_ratelim_count(&rl, 7, "x", 0, 1, on_report, &seen);
	assert_false(gw_ratelim_peek(&rl, 7, 5));
	gw_ratelim_count(&rl, 7, "x", 5, 0, on_report, &seen);
	gw_ratelim_count(&rl, 7, "x", 6, 0, on_report, &seen);
	/* The next event after the window ends flushes the old one first. */
	assert_int_equal(gw_ratelim_charge(&rl, 7, "x", 10, on_report, &seen), 1);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.total, 2);
}

/* More uids than slots: the oldest window makes room, its count reported. */
static void
test_full_table(void **state)
{
	static struct gw_ratelim rl;
	struct seen seen = { 0 };
	uid_t u;

	(void)state;
	gw_ratelim_init(&rl, 1, 60);
	/* uid 5000 floods first: its window is the oldest. */
	gw_ratelim_charge(&rl, 5000, "old", 0, on_report, &seen);
	assert_int_equal(gw_ratelim_charge(&rl, 5000, "old", 0, on_report, &seen), 0);
	for (u = 1; u < GW_RATELIM_SLOTS; u++)
		assert_int_equal(gw_ratelim_charge(&rl, u, "u", 1, on_report, &seen), 1);
	assert_int_equal(seen.calls, 0);
	assert_int_equal(gw_ratelim_charge(&rl, 9999, "new", 2, on_report, &seen), 1);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.last_uid, 5000);
	assert_int_equal(seen.total, 1);
	/* A clock that went back starts a new window rather than stalling. */
	assert_int_equal(gw_ratelim_charge(&rl, 9999, "new", 1, on_report, &seen), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_and_summary),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_full_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
