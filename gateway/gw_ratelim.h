/* SPDX-License-Identifier: BSD-2-Clause */
/* Per-uid rate limits for what a flood could repeat: refusal audit events, syslog lines. */
#ifndef GW_RATELIM_H
#define GW_RATELIM_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/*
 * A fixed table (GW_RATELIM_SLOTS uids): each uid may have `burst` events
 * in a window of `window` seconds; more are counted, not let through.
 * When a window with suppressed events ends, gw_ratelim_flush reports the
 * count once (a summary event). A uid not in a full table takes the slot
 * whose window is oldest; that slot's count is flushed first. No
 * allocation: a flood of uids costs nothing more than one of them.
 */
#define GW_RATELIM_SLOTS 128

struct gw_ratelim_slot {
	uid_t uid;
	int used;			/* slot in use */
	time_t start;			/* window start */
	unsigned passed, suppressed;
	char name[64];			/* the account, for the summary */
};

struct gw_ratelim {
	unsigned burst;
	time_t window;
	struct gw_ratelim_slot slot[GW_RATELIM_SLOTS];
};

/* Called for each uid whose window ended with events suppressed. */
typedef void (*gw_ratelim_report)(void *ctx, uid_t uid, const char *name,
    unsigned suppressed, time_t window);

void gw_ratelim_init(struct gw_ratelim *rl, unsigned burst, time_t window);
/* Would one more event pass now? (Counts nothing.) */
int gw_ratelim_peek(struct gw_ratelim *rl, uid_t uid, time_t now);
/*
 * One event of uid (name, bounded, for the summary; may be NULL): 1 when it
 * passes, 0 when suppressed (counted). `passed` says whether the event was
 * already let through elsewhere (a session process that audited it): it
 * counts against the burst all the same. report/ctx: for a slot flushed to
 * make room (may be NULL).
 */
int gw_ratelim_charge(struct gw_ratelim *rl, uid_t uid, const char *name, time_t now,
    gw_ratelim_report report, void *ctx);
/* Same, for an event whose fate was decided elsewhere (passed: 1 or 0). */
void gw_ratelim_count(struct gw_ratelim *rl, uid_t uid, const char *name, time_t now,
    int passed, gw_ratelim_report report, void *ctx);
/* Reports and resets every window that has ended by now. */
void gw_ratelim_flush(struct gw_ratelim *rl, time_t now, gw_ratelim_report report,
    void *ctx);

#endif
