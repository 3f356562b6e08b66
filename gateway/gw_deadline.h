/* SPDX-License-Identifier: BSD-2-Clause */
/* When a session must end, and when to warn the engineer before it does. */
#ifndef GW_DEADLINE_H
#define GW_DEADLINE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Warnings go out this long before the end: 5 minutes, then 1 minute. */
#define GW_WARN_FIRST	300
#define GW_WARN_LAST	60

struct gw_deadline {
	time_t end_by;		/* 0: none */
	unsigned warned;	/* bit 0: the first warning given, bit 1: the last */
};

/* A new deadline (a reload may bring it forward): warnings start again. */
void gw_deadline_set(struct gw_deadline *d, time_t end_by);
/*
 * Seconds left to warn about now, or 0 when no warning is due. Called
 * often; each warning is given once. A deadline already nearer than a
 * lead time gets one warning, with the time actually left.
 */
int64_t gw_deadline_warn(struct gw_deadline *d, time_t now);
/* "5 minutes", "1 minute", "42 seconds" */
void gw_deadline_left_text(int64_t left, char *buf, size_t len);

#endif
