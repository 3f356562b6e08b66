/* SPDX-License-Identifier: BSD-2-Clause */
/* IANA time zones read from TZif files, without touching TZ or tzset(). */
#ifndef MG_TZ_H
#define MG_TZ_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mg_time.h"

struct mg_tz;

/*
 * Loads zone NAME ("Europe/London", "UTC") from the zoneinfo directory
 * ($TZDIR when set, else /usr/share/zoneinfo). Names are checked first:
 * no absolute paths, no "..", only [A-Za-z0-9_+-/]. Returns 0,
 * MG_ERR_NOENT for an unknown zone, MG_ERR_PARSE for a damaged file.
 * err (may be NULL) receives a message. Also MG_ERR_INVAL for a bad name,
 * MG_ERR_TOOBIG for a file over 256 KiB. $TZDIR is read with
 * secure_getenv(), so set-uid callers always use the system directory.
 * The caller frees *out with mg_tz_free().
 */
int mg_tz_load(const char *name, struct mg_tz **out, char *err, size_t errlen);
/*
 * Parses TZif data (versions 1-4, including the POSIX TZ footer, which
 * gives the rules after the last transition). Leap-second ("right/")
 * files and files over 256 KiB are refused. name may be NULL.
 */
int mg_tz_parse(const void *buf, size_t len, const char *name,
    struct mg_tz **out, char *err, size_t errlen);
/* The UTC zone, no file needed. */
int mg_tz_utc(struct mg_tz **out);
void mg_tz_free(struct mg_tz *tz);
const char *mg_tz_name(const struct mg_tz *tz);

/*
 * UTC offset (seconds east), DST flag and abbreviation ("BST") in force at
 * t; abbr points into tz. Every query below returns MG_ERR_RANGE for an
 * instant outside MG_TIME_MIN..MG_TIME_MAX.
 */
int mg_tz_offset(const struct mg_tz *tz, time_t t, int *gmtoff, int *isdst,
    const char **abbr);
/* The wall-clock time at t. */
int mg_tz_to_local(const struct mg_tz *tz, time_t t, struct mg_datetime *out);
/* The same as seconds-as-if-UTC: t plus the offset in force at t. */
int mg_tz_local_seconds(const struct mg_tz *tz, time_t t, int64_t *local);
/*
 * Every instant at which the wall clock reads lt: *n = 1 normally, 2 in a
 * repeated hour (out[0] < out[1]), 0 in a skipped hour.
 */
int mg_tz_from_local(const struct mg_tz *tz, const struct mg_datetime *lt,
    time_t out[2], int *n);
/* The same, for a wall time given as seconds-as-if-UTC. */
int mg_tz_from_local_seconds(const struct mg_tz *tz, int64_t lt, time_t out[2],
    int *n);
/*
 * The first change of UTC offset strictly after t (a change of only the
 * abbreviation or DST flag is skipped); MG_ERR_NOENT when none.
 */
int mg_tz_next_transition(const struct mg_tz *tz, time_t t, time_t *next);

#endif
