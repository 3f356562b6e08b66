/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target: window, duration and date parsers, then window queries. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mg_time.h"
#include "mg_tz.h"
#include "pol_window.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)
#define NFIELD 8

static struct mg_tz *zone_a, *zone_b;

/* Zones are loaded once; without zoneinfo both fall back to UTC. */
static void
zones(void)
{
	if (zone_a != NULL)
		return;
	if (mg_tz_load("Europe/London", &zone_a, NULL, 0) != 0)
		(void)mg_tz_utc(&zone_a);
	if (mg_tz_load("America/New_York", &zone_b, NULL, 0) != 0)
		(void)mg_tz_utc(&zone_b);
}

static const time_t instants[] = {
	0, 1767225600, 1774745000, 1774746000, 1774749600, 1792887000,
	1792890000, 1835395200, 2374102800LL, 2392851600LL,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *f[NFIELD], err[256], desc[512];
	struct pol_window *w = NULL, *v = NULL;
	size_t i, nf = 0;
	struct mg_datetime dt;
	int64_t secs;
	int mins;

	zones();
	if (size > 4096 || (buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	/* Fields are separated by newlines; a NUL ends the input early. */
	f[nf++] = buf;
	for (i = 0; i < size && nf < NFIELD; i++) {
		if (buf[i] == '\n') {
			buf[i] = '\0';
			f[nf++] = buf + i + 1;
		}
	}
	for (i = nf; i < NFIELD; i++)
		f[i] = "";
	for (i = 0; i < NFIELD; i++) {
		if (mg_duration_parse(f[i], &secs, err, sizeof(err)) == 0) {
			char out[64];

			CHECK(secs > 0 && secs <= MG_DURATION_MAX);
			mg_duration_format(secs, out, sizeof(out));
		}
		if (mg_hhmm_parse(f[i], 1, &mins, err, sizeof(err)) == 0)
			CHECK(mins >= 0 && mins <= 1440);
		if (mg_datetime_parse(f[i], &dt, err, sizeof(err)) == 0)
			CHECK(mg_datetime_valid(&dt));
		if (mg_date_parse(f[i], &dt, err, sizeof(err)) == 0)
			CHECK(mg_datetime_valid(&dt));
	}
	if ((w = pol_window_new("w", zone_a)) == NULL ||
	    (v = pol_window_new("v", NULL)) == NULL)
		goto out;
	(void)pol_window_add_weekly(w, f[0], f[1], err, sizeof(err));
	(void)pol_window_add_weekly(v, f[2], f[3], err, sizeof(err));
	(void)pol_window_add_dated(w, f[4], err, sizeof(err));
	(void)pol_window_add_except(w, f[5], err, sizeof(err));
	(void)pol_window_add_dated(v, f[6], err, sizeof(err));
	(void)pol_window_add_except(v, f[7], err, sizeof(err));
	pol_window_describe(w, desc, sizeof(desc));
	pol_window_describe(v, desc, sizeof(desc));
	{
		const struct pol_window *set[2] = { w, v };

		for (i = 0; i < sizeof(instants) / sizeof(instants[0]); i++) {
			time_t t = instants[i], r = 0;
			int in = pol_window_set_contains(set, 2, zone_b, t);

			if (in) {
				CHECK(pol_window_set_close(set, 2, zone_b, t, &r) == 0);
				/* The answer is a real change of state. */
				if (r != 0)
					CHECK(r > t && !pol_window_set_contains(set, 2,
					    zone_b, r) && pol_window_set_contains(set, 2,
					    zone_b, r - 1));
			} else {
				CHECK(pol_window_set_next_open(set, 2, zone_b, t, &r) == 0);
				if (r != 0)
					CHECK(r > t && pol_window_set_contains(set, 2,
					    zone_b, r) && !pol_window_set_contains(set, 2,
					    zone_b, r - 1));
			}
		}
	}
 out:
	pol_window_free(w);
	pol_window_free(v);
	free(buf);
	return 0;
}
