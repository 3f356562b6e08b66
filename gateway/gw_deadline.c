/* SPDX-License-Identifier: BSD-2-Clause */
/* When a session must end, and when to warn the engineer before it does. */
#include <stdio.h>

#include "gw_deadline.h"

void
gw_deadline_set(struct gw_deadline *d, time_t end_by)
{
	d->end_by = end_by;
	d->warned = 0;
}

int64_t
gw_deadline_warn(struct gw_deadline *d, time_t now)
{
	int64_t left;

	if (d->end_by == 0 || now >= d->end_by)
		return 0;
	left = (int64_t)(d->end_by - now);
	if (left <= GW_WARN_LAST) {
		if (d->warned & 2)
			return 0;
		d->warned |= 3;
		return left;
	}
	if (left <= GW_WARN_FIRST) {
		if (d->warned & 1)
			return 0;
		d->warned |= 1;
		return left;
	}
	return 0;
}

void
gw_deadline_left_text(int64_t left, char *buf, size_t len)
{
	int64_t m = (left + 30) / 60;

	if (left >= 90)
		snprintf(buf, len, "%lld minutes", (long long)m);
	else if (left >= 55)
		snprintf(buf, len, "1 minute");
	else
		snprintf(buf, len, "%lld second%s", (long long)left, left == 1 ? "" : "s");
}
