/* SPDX-License-Identifier: BSD-2-Clause */
/* The clock, durations, and calendar dates and times (no time zones). */
#ifndef MG_TIME_H
#define MG_TIME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*
 * Every time-dependent decision reads the clock here, so tests can set it.
 * mg_clock_set(t) fixes the clock at t; mg_clock_reset() returns to the
 * system clock.
 */
time_t mg_clock_now(void);
/* Milliseconds of CLOCK_MONOTONIC: for deadlines and waits, not dates. */
long long mg_mono_ms(void);
/* The earlier of two limits, where 0 means none: "valid until", "ends by". */
time_t mg_earliest(time_t a, time_t b);
void mg_clock_set(time_t t);
void mg_clock_reset(void);

/* Longest duration accepted anywhere: 3660 days. */
#define MG_DURATION_MAX ((int64_t)3660 * 86400)

/*
 * Parses a duration: one or more <number><unit> parts, unit one of s, m,
 * h, d, w ("90s", "15m", "2h", "7d", "1h30m"). A unit is required; zero,
 * negative and overlong values are errors. err (may be NULL) receives a
 * message. Returns 0 or MG_ERR_PARSE / MG_ERR_RANGE.
 */
int mg_duration_parse(const char *s, int64_t *secs, char *err, size_t errlen);
/* Formats secs the short way ("2h", "1h30m", "90s" -> "1m30s"). */
void mg_duration_format(int64_t secs, char *buf, size_t len);

/* A calendar date and wall-clock time, no zone. */
struct mg_datetime {
	int year;	/* 1970..9999 */
	int mon;	/* 1..12 */
	int day;	/* 1..31, checked against the month and leap years */
	int hour;	/* 0..23 */
	int min;	/* 0..59 */
	int sec;	/* 0..59 */
};

/* "YYYY-MM-DD"; checks the day exists (leap years). Time set to 00:00:00. */
int mg_date_parse(const char *s, struct mg_datetime *out, char *err, size_t errlen);
/*
 * "HH:MM" -> minutes since midnight. "24:00" is accepted only when
 * allow_24 is set (the end of a range). "25:00", "12:60", "8:00" are errors.
 */
int mg_hhmm_parse(const char *s, int allow_24, int *minutes, char *err, size_t errlen);
/* "YYYY-MM-DD HH:MM" or "YYYY-MM-DD HH:MM:SS" (also with 'T' between). */
int mg_datetime_parse(const char *s, struct mg_datetime *out, char *err, size_t errlen);

/* Days since 1970-01-01 for a proleptic Gregorian date, and back. */
/* Gregorian leap year? And the days in month m (1..12) of year y. */
int mg_year_is_leap(int64_t y);
int mg_month_days(int64_t y, int m);
int64_t mg_days_from_civil(int year, int mon, int day);
void mg_civil_from_days(int64_t days, int *year, int *mon, int *day);
/* Day of the week of a day number: 0 = Monday .. 6 = Sunday. */
int mg_weekday(int64_t days);
/* The datetime as seconds, as if it were UTC. */
int64_t mg_datetime_to_seconds(const struct mg_datetime *dt);
/* Seconds (as if UTC) to a datetime. */
void mg_datetime_from_seconds(int64_t secs, struct mg_datetime *out);
/* 1 when every field is in range and the day exists (years 1..9999). */
int mg_datetime_valid(const struct mg_datetime *dt);
/* "YYYY-MM-DD HH:MM:SS". */
void mg_datetime_format(const struct mg_datetime *dt, char *buf, size_t len);

/*
 * The instants the zone and window code accept: 0001-01-01 to
 * 9999-12-31 UTC. Outside this range they return MG_ERR_RANGE (and
 * window queries deny).
 */
#define MG_TIME_MIN ((int64_t)-62135596800LL)
#define MG_TIME_MAX ((int64_t)253402300799LL)

#endif
