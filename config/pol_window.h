/* SPDX-License-Identifier: BSD-2-Clause */
/* Named access time windows: weekly hours, dated windows, exclusions. */
#ifndef POL_WINDOW_H
#define POL_WINDOW_H

#include <stddef.h>
#include <time.h>

#include "mg_tz.h"

struct pol_window;

/*
 * An empty window. tz may be NULL: it then uses the zone given to each
 * query. tz is borrowed and must outlive the window. NULL when out of memory.
 */
struct pol_window *pol_window_new(const char *name, const struct mg_tz *tz);
void pol_window_free(struct pol_window *w);
const char *pol_window_name(const struct pol_window *w);
const struct mg_tz *pol_window_tz(const struct pol_window *w);

/*
 * Adds weekly hours. days: "Mon-Fri", "Sat,Sun", "Mon-Wed,Fri", "Fri-Mon",
 * "*" (every day); names Mon Tue Wed Thu Fri Sat Sun, case-insensitive.
 * hours: "08:00-18:00"; "22:00-06:00" crosses midnight and belongs to the
 * day it starts on; "00:00-24:00" is the whole day. An empty range
 * ("09:00-09:00") is an error. Errors return MG_ERR_PARSE with a message
 * (MG_ERR_TOOBIG past 64 weekly, 64 dated or 64 excluded parts).
 */
int pol_window_add_weekly(struct pol_window *w, const char *days,
    const char *hours, char *err, size_t errlen);
/*
 * Adds a dated one-off window, or an exclusion that wins over everything
 * else. spec: "2026-12-25" (that whole day) or
 * "2026-12-24 18:00 .. 2026-12-27 08:00" (from inclusive, until exclusive,
 * wall-clock times in the window's zone). until must be after from.
 * An exclusion removes time from its own window only; another window of
 * the same set may still cover that time.
 */
int pol_window_add_dated(struct pol_window *w, const char *spec, char *err, size_t errlen);
int pol_window_add_except(struct pol_window *w, const char *spec, char *err, size_t errlen);
/*
 * 1 when the window has no weekly and no dated part (exclusions alone do
 * not count), so it could never open; 0 otherwise.
 */
int pol_window_is_empty(const struct pol_window *w);

/*
 * Queries over a set of windows (t is inside the set when inside any
 * window of it). deftz is the zone for windows without their own.
 * Wall-clock rules apply in local time: a window 08:00-18:00 is 08:00 to
 * 18:00 on the clock, on DST days too: it opens when the clock first
 * reads 08:00 or later (in a skipped hour, at the jump) and is open
 * whenever the clock reads a time inside, so a repeated hour counts twice.
 * Returns 1 inside, else 0; a window without any zone (its own nor deftz),
 * or t out of range, counts as outside (deny).
 */
int pol_window_set_contains(const struct pol_window *const *w, size_t n,
    const struct mg_tz *deftz, time_t t);
/*
 * When t is inside the set: the first instant after t at which it is not;
 * *close = 0 when the set stays open for the whole horizon (400 days).
 * Returns MG_ERR_INVAL when t is not inside, MG_ERR_RANGE when t is
 * before 1970 or too close to 9999.
 */
int pol_window_set_close(const struct pol_window *const *w, size_t n,
    const struct mg_tz *deftz, time_t t, time_t *close);
/*
 * When t is outside the set: the next instant at which it is inside;
 * *open = 0 when it never opens within the horizon. Returns MG_ERR_INVAL
 * when t is inside.
 */
int pol_window_set_next_open(const struct pol_window *const *w, size_t n,
    const struct mg_tz *deftz, time_t t, time_t *open);

/* A one-line description: "Mon-Fri 08:00-18:00 (Europe/London); except 2026-12-25". */
void pol_window_describe(const struct pol_window *w, char *buf, size_t len);
/* The same, naming deftz for a window without its own zone. */
void pol_window_describe_in(const struct pol_window *w, const struct mg_tz *deftz,
    char *buf, size_t len);

#endif
