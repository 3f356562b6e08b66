/* SPDX-License-Identifier: BSD-2-Clause */
/* libpq, loaded when the state database is first used: nothing else maps it (the PAM module runs in every sshd session). */
#ifndef ST_PQ_H
#define ST_PQ_H

#include <stddef.h>
#include <libpq-fe.h>

/* The library loaded; a test build may name another (tests/unit/test_st_pqmissing). */
#ifndef ST_PQ_SONAME
#define ST_PQ_SONAME "libpq.so.5"
#endif

/* Every libpq function state/ and its callers use: libpq-fe.h gives the types. */
#define ST_PQ_FUNCS(X) \
	X(PQclear) X(PQcmdStatus) X(PQcmdTuples) X(PQconnectPoll) \
	X(PQconnectStartParams) X(PQconnectionNeedsPassword) X(PQconninfoFree) \
	X(PQconninfoParse) X(PQconsumeInput) X(PQerrorMessage) X(PQfinish) \
	X(PQflush) X(PQfreemem) X(PQgetResult) X(PQgetisnull) X(PQgetlength) \
	X(PQgetvalue) X(PQisBusy) X(PQntuples) X(PQresultErrorField) \
	X(PQresultErrorMessage) X(PQresultStatus) X(PQsendQueryParams) \
	X(PQsocket) X(PQstatus) X(PQtransactionStatus)

#define ST_PQ_MEMBER(f) __typeof__(f) *f;
struct st_pq {
	ST_PQ_FUNCS(ST_PQ_MEMBER)
};
#undef ST_PQ_MEMBER

/*
 * Loads ST_PQ_SONAME (once per process, whichever thread comes first) and
 * fills st_pq_lib. Returns 0, or MG_ERR_NOENT every time after a load that
 * failed (not there, a function missing): err names the library and the
 * package to install. Never falls back to anything. st_pg_open calls it
 * before its first libpq call; nothing else needs to.
 */
int st_pq_load(char *err, size_t errlen);

/*
 * One load of soname into *t (for st_pq_load, and tests): 0, or
 * MG_ERR_NOENT with err as above and *t untouched. The library stays
 * loaded once resolved; nothing is left loaded when it fails.
 */
int st_pq_resolve(const char *soname, struct st_pq *t, char *err, size_t errlen);

/* The functions once st_pq_load returned 0; unset (NULL) before. */
extern struct st_pq st_pq_lib;

/* Nothing to free needs no library (cleanup after a failed load). */
static inline void
st_pq_clear(PGresult *r)
{
	if (r != NULL)
		st_pq_lib.PQclear(r);
}

static inline void
st_pq_freemem(void *p)
{
	if (p != NULL)
		st_pq_lib.PQfreemem(p);
}

/* So the state code reads as libpq code. */
#ifndef ST_PQ_LOADER
#define PQclear(r)			st_pq_clear(r)
#define PQfreemem(p)			st_pq_freemem(p)
#define PQcmdStatus(...)		st_pq_lib.PQcmdStatus(__VA_ARGS__)
#define PQcmdTuples(...)		st_pq_lib.PQcmdTuples(__VA_ARGS__)
#define PQconnectPoll(...)		st_pq_lib.PQconnectPoll(__VA_ARGS__)
#define PQconnectStartParams(...)	st_pq_lib.PQconnectStartParams(__VA_ARGS__)
#define PQconnectionNeedsPassword(...)	st_pq_lib.PQconnectionNeedsPassword(__VA_ARGS__)
#define PQconninfoFree(...)		st_pq_lib.PQconninfoFree(__VA_ARGS__)
#define PQconninfoParse(...)		st_pq_lib.PQconninfoParse(__VA_ARGS__)
#define PQconsumeInput(...)		st_pq_lib.PQconsumeInput(__VA_ARGS__)
#define PQerrorMessage(...)		st_pq_lib.PQerrorMessage(__VA_ARGS__)
#define PQfinish(...)			st_pq_lib.PQfinish(__VA_ARGS__)
#define PQflush(...)			st_pq_lib.PQflush(__VA_ARGS__)
#define PQgetResult(...)		st_pq_lib.PQgetResult(__VA_ARGS__)
#define PQgetisnull(...)		st_pq_lib.PQgetisnull(__VA_ARGS__)
#define PQgetlength(...)		st_pq_lib.PQgetlength(__VA_ARGS__)
#define PQgetvalue(...)			st_pq_lib.PQgetvalue(__VA_ARGS__)
#define PQisBusy(...)			st_pq_lib.PQisBusy(__VA_ARGS__)
#define PQntuples(...)			st_pq_lib.PQntuples(__VA_ARGS__)
#define PQresultErrorField(...)		st_pq_lib.PQresultErrorField(__VA_ARGS__)
#define PQresultErrorMessage(...)	st_pq_lib.PQresultErrorMessage(__VA_ARGS__)
#define PQresultStatus(...)		st_pq_lib.PQresultStatus(__VA_ARGS__)
#define PQsendQueryParams(...)		st_pq_lib.PQsendQueryParams(__VA_ARGS__)
#define PQsocket(...)			st_pq_lib.PQsocket(__VA_ARGS__)
#define PQstatus(...)			st_pq_lib.PQstatus(__VA_ARGS__)
#define PQtransactionStatus(...)	st_pq_lib.PQtransactionStatus(__VA_ARGS__)
#endif

#endif
