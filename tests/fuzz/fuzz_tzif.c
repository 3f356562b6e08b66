/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target: TZif parsing, then every zone query and a window on the zone. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mg_time.h"
#include "mg_tz.h"
#include "pol_window.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant is a bug: crash so the fuzzer keeps the input. */
#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static const int64_t instants[] = {
	INT64_MIN, MG_TIME_MIN - 1, MG_TIME_MIN, -5000000000LL, -1, 0,
	1000000000, 1774746000, 1792890000, 2374102800LL, 4102444800LL,
	MG_TIME_MAX - 86400 * 800LL, MG_TIME_MAX, MG_TIME_MAX + 1, INT64_MAX,
};

static void
query(const struct mg_tz *tz, int64_t t)
{
	struct mg_datetime dt;
	const char *abbr;
	time_t at[2], nx, x;
	int64_t lt;
	int off, dst, n, k;

	if (mg_tz_offset(tz, t, &off, &dst, &abbr) != 0)
		return;
	CHECK(off > -26 * 3600 && off < 26 * 3600);
	CHECK(dst == 0 || dst == 1);
	CHECK(strlen(abbr) < 16);
	CHECK(mg_tz_to_local(tz, t, &dt) == 0);
	CHECK(mg_tz_local_seconds(tz, t, &lt) == 0 && lt == t + off);
	if (mg_tz_from_local(tz, &dt, at, &n) == 0) {
		CHECK(n >= 0 && n <= 2);
		if (n == 2)
			CHECK(at[0] < at[1]);
	}
	for (k = 0, x = t; k < 8 && mg_tz_next_transition(tz, x, &nx) == 0; k++) {
		int off2;

		CHECK(nx > x);
		/* A reported change is a change of offset. */
		CHECK(mg_tz_offset(tz, nx, &off2, NULL, NULL) == 0);
		x = nx;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_tz *tz = NULL;
	struct pol_window *w = NULL;
	char err[256];
	size_t i;

	if (mg_tz_parse(data, size, "fuzz", &tz, err, sizeof(err)) != 0) {
		CHECK(tz == NULL);
		CHECK(strlen(err) < sizeof(err));
		return 0;
	}
	for (i = 0; i < sizeof(instants) / sizeof(instants[0]); i++)
		query(tz, instants[i]);
	/* Instants from the input itself reach odd corners. */
	for (i = 0; i + 8 <= size && i < 64; i += 8) {
		int64_t t;

		memcpy(&t, data + size - 8 - i, 8);
		query(tz, t % (MG_TIME_MAX + 1));
	}
	/* A window on a strange zone must still answer, and quickly. */
	if ((w = pol_window_new("f", tz)) != NULL &&
	    pol_window_add_weekly(w, "Mon-Fri", "08:00-18:00", NULL, 0) == 0 &&
	    pol_window_add_weekly(w, "Sun", "01:30-02:30", NULL, 0) == 0) {
		const struct pol_window *set[1] = { w };
		time_t t = 1774700000, r;

		if (pol_window_set_contains(set, 1, NULL, t))
			CHECK(pol_window_set_close(set, 1, NULL, t, &r) == 0);
		else
			CHECK(pol_window_set_next_open(set, 1, NULL, t, &r) == 0);
		if (r != 0)
			CHECK(r > t);
	}
	pol_window_free(w);
	mg_tz_free(tz);
	return 0;
}
