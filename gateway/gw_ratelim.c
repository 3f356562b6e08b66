/* SPDX-License-Identifier: BSD-2-Clause */
/* Per-uid rate limits: a fixed table of windows, suppressed events counted for a summary. */
#include <stdio.h>
#include <string.h>

#include "gw_ratelim.h"

void
gw_ratelim_init(struct gw_ratelim *rl, unsigned burst, time_t window)
{
	memset(rl, 0, sizeof(*rl));
	rl->burst = burst;
	rl->window = window;
}

static void
flush_slot(struct gw_ratelim *rl, struct gw_ratelim_slot *s, gw_ratelim_report report,
    void *ctx)
{
	if (s->used && s->suppressed > 0 && report != NULL)
		report(ctx, s->uid, s->name, s->suppressed, rl->window);
	s->passed = s->suppressed = 0;
}

/* The uid's slot, its window current; NULL only when peeking at a stranger. */
static struct gw_ratelim_slot *
find(struct gw_ratelim *rl, uid_t uid, time_t now, int take, gw_ratelim_report report,
    void *ctx)
{
	struct gw_ratelim_slot *s, *oldest = NULL, *s_free = NULL;
	size_t i;

	for (i = 0; i < GW_RATELIM_SLOTS; i++) {
		s = &rl->slot[i];
		if (!s->used) {
			if (s_free == NULL)
				s_free = s;
			continue;
		}
		if (s->uid == uid) {
			if (now - s->start >= rl->window || now < s->start) {
				flush_slot(rl, s, report, ctx);
				s->start = now;
			}
			return s;
		}
		if (oldest == NULL || s->start < oldest->start)
			oldest = s;
	}
	if (!take)
		return NULL;
	if ((s = s_free) == NULL) {
		s = oldest;
		flush_slot(rl, s, report, ctx);
	}
	memset(s, 0, sizeof(*s));
	s->used = 1;
	s->uid = uid;
	s->start = now;
	return s;
}

int
gw_ratelim_peek(struct gw_ratelim *rl, uid_t uid, time_t now)
{
	struct gw_ratelim_slot *s = find(rl, uid, now, 0, NULL, NULL);

	return s == NULL || s->passed < rl->burst;
}

void
gw_ratelim_count(struct gw_ratelim *rl, uid_t uid, const char *name, time_t now,
    int passed, gw_ratelim_report report, void *ctx)
{
	struct gw_ratelim_slot *s = find(rl, uid, now, 1, report, ctx);

	if (name != NULL)
		snprintf(s->name, sizeof(s->name), "%s", name);
	if (passed)
		s->passed++;
	else
		s->suppressed++;
}

int
gw_ratelim_charge(struct gw_ratelim *rl, uid_t uid, const char *name, time_t now,
    gw_ratelim_report report, void *ctx)
{
	struct gw_ratelim_slot *s = find(rl, uid, now, 1, report, ctx);
	int pass = s->passed < rl->burst;

	if (name != NULL)
		snprintf(s->name, sizeof(s->name), "%s", name);
	if (pass)
		s->passed++;
	else
		s->suppressed++;
	return pass;
}

void
gw_ratelim_flush(struct gw_ratelim *rl, time_t now, gw_ratelim_report report, void *ctx)
{
	size_t i;

	for (i = 0; i < GW_RATELIM_SLOTS; i++) {
		struct gw_ratelim_slot *s = &rl->slot[i];

		if (!s->used || (now - s->start < rl->window && now >= s->start))
			continue;
		flush_slot(rl, s, report, ctx);
		s->used = 0;
	}
}
