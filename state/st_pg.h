/* SPDX-License-Identifier: BSD-2-Clause */
/* A libpq connection to the shared state database, every call bounded by the policy's timeout. */
#ifndef ST_PG_H
#define ST_PG_H

#include <stddef.h>
#include "pol.h"
#include "st_pq.h"

struct st_pg;

/*
 * Connects as the policy's state section says (conninfo, passfile,
 * application_name "mspgate/NAME"), in at most ps->timeout seconds; the
 * server is told the same limit for statements and lock waits, so a
 * session it cancels releases what it held. Returns 0, MG_ERR_UNAVAIL
 * (unreachable, refused, timed out: err says what libpq said, never a
 * password), MG_ERR_PERM (authentication failed), MG_ERR_INVAL (the
 * conninfo does not parse), MG_ERR_NOENT (libpq cannot be loaded: see
 * st_pq_load), MG_ERR_NOMEM.
 */
int st_pg_open(const struct pol_state *ps, struct st_pg **out, char *err,
    size_t errlen);
void st_pg_close(struct st_pg *pg);

/*
 * Runs sql with n text parameters (NULL for SQL NULL) and waits for its
 * result at most the timeout. *res (when res is not NULL) gets the result
 * of a statement that returns rows: PQclear it. Returns 0, MG_ERR_UNAVAIL
 * (connection lost or the server did not answer in time: the connection is
 * dropped, so the server rolls back whatever was open), MG_ERR_BUSY (a
 * lock or statement timeout on the server), MG_ERR_EXISTS (a unique or
 * duplicate-object violation), MG_ERR_NOENT (an undefined table: the
 * schema is missing), MG_ERR_IO (any other error). err has SQLSTATE and
 * the server's message.
 */
int st_pg_exec(struct st_pg *pg, const char *sql, int n, const char *const *params,
    PGresult **res, char *err, size_t errlen);

/* BEGIN, COMMIT, ROLLBACK; rollback on a dropped connection is a no-op. */
int st_pg_begin(struct st_pg *pg, char *err, size_t errlen);
int st_pg_commit(struct st_pg *pg, char *err, size_t errlen);
void st_pg_rollback(struct st_pg *pg);

/* Rows a command changed (UPDATE, DELETE, INSERT) from its last exec. */
long st_pg_changed(const struct st_pg *pg);

/*
 * This gateway's name in the shared tables: state.name, or the host name
 * when the policy names none. Cut to len - 1 bytes.
 */
void st_pg_gateway_name(const struct pol_state *ps, char *buf, size_t len);

/*
 * 1 while the connection is usable. A kept connection idle between
 * transactions is looked at first: a server that went away (stopped,
 * restarted) has said so or closed it (anything to read while idle counts
 * as that), and it is not usable then, so the caller connects again
 * instead of failing its next statement.
 */
int st_pg_ok(const struct st_pg *pg);

#endif
