/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target for the detector's state file parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * The detector's sources are compiled in here, so this target links with
 * the same libraries as every other fuzz target (`make fuzz` and `make
 * check`), and sees the state file's own writer (state_build).
 */
#include "../../gateway/gw_detect.c"
#include "../../gateway/gw_detect_hist.c"
#include "../../gateway/gw_detect_out.c"
#include "../../gateway/gw_detect_rules.c"
#include "../../gateway/gw_detect_state.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gw_detect *
fresh(void)
{
	struct pol_alerts a;
	struct gw_detect *d = NULL;
	char err[256];

	/* The policy loader's defaults, without loading a policy. */
	memset(&a, 0, sizeof(a));
	a.fanout = (struct pol_alert_rule){ 1, POL_ACT_DENY, 3, 1800, 0, 0, { 0, 0 } };
	a.first_access = (struct pol_alert_rule){ 1, POL_ACT_ALERT, 90, 0, 0, 0, { 0, 0 } };
	a.off_hours = (struct pol_alert_rule){ 1, POL_ACT_DENY, 3, 3600, 0, 0, { 0, 0 } };
	a.mfa_failures = (struct pol_alert_rule){ 1, POL_ACT_REAUTH, 5, 600, 0, 0, { 0, 0 } };
	a.unusual = (struct pol_alert_rule){ 1, POL_ACT_ALERT, 30, 0, 0, 0, { 0, 0 } };
	a.parallel = (struct pol_alert_rule){ 1, POL_ACT_ALERT, 0, 0, 0, 0, { 0, 0 } };
	a.egress = (struct pol_alert_rule){ 1, POL_ACT_DENY, 0, 0, 1 << 20, 10 << 20, { 0, 0 } };
	a.sensitive = (struct pol_alert_rule){ 1, POL_ACT_ALERT, 0, 0, 0, 0, { 0, 0 } };
	if (gw_detect_new(&a, &d, err, sizeof(err)) != 0)
		abort();
	return d;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_detect *d = fresh(), *d2;
	struct gw_detect_result res;
	struct gw_detect_stats st;
	struct sbuf b1 = { NULL, 0, 0, 0 }, b2 = { NULL, 0, 0, 0 };
	char err[256];
	int r;

	mg_clock_set(1795000000);
	r = gw_detect_load_buffer(d, (const char *)data, size, "fuzz", &res, err, sizeof(err));
	gw_detect_stats(d, &st);
	if (r != 0) {
		/* Refused: nothing half-loaded, and an alert says so. */
		if (r != MG_ERR_PARSE || st.engineers || st.sources || st.access || st.live ||
		    res.nhits != 1 || res.hits[0].rule != GW_DETECT_STATE || err[0] == '\0')
			abort();
		gw_detect_free(d);
		return 0;
	}
	if (res.nhits != 0 || st.engineers > GW_DETECT_MAX_ENGINEERS ||
	    st.sources > GW_DETECT_MAX_SOURCES || st.access > GW_DETECT_ACCESS_TOTAL)
		abort();
	/* What loads writes back, and that loads to the same text. */
	state_build(d, &b1);
	d2 = fresh();
	if (b1.err || gw_detect_load_buffer(d2, b1.p, b1.len, "again", &res, err,
	    sizeof(err)) != 0)
		abort();
	state_build(d2, &b2);
	if (b2.err || b1.len != b2.len || memcmp(b1.p, b2.p, b1.len) != 0)
		abort();
	/* The loaded history is usable, whatever times it holds. */
	{
		static const struct gw_detect_event evs[] = {
			{ .kind = GW_DETECT_ATTEMPT, .engineer = "alice", .tenant = "acme",
			    .target = "web01", .source = "192.0.2.10", .allowed = 1 },
			{ .kind = GW_DETECT_ATTEMPT, .engineer = "alice", .tenant = "acme",
			    .target = "web01", .source = "192.0.2.10", .allowed = 0,
			    .refusal = GW_DETECT_REFUSED_WINDOW },
			{ .kind = GW_DETECT_START, .engineer = "alice", .tenant = "acme",
			    .target = "web01", .source = "192.0.2.10", .session = "s1" },
			{ .kind = GW_DETECT_BYTES, .engineer = "alice", .session = "s1",
			    .bytes_out = 5 << 20 },
			{ .kind = GW_DETECT_MFA_FAILURE, .engineer = "bob", .source = "203.0.113.9" },
			{ .kind = GW_DETECT_END, .engineer = "alice", .session = "s1",
			    .bytes_out = 6 << 20 },
		};
		size_t i;

		for (i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
			if (gw_detect_event(d, &evs[i], &res) != 0)
				abort();
	}
	free(b1.p);
	free(b2.p);
	gw_detect_free(d);
	gw_detect_free(d2);
	mg_clock_reset();
	return 0;
}
