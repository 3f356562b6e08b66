/* SPDX-License-Identifier: BSD-2-Clause */
/* A libpq connection to the shared state database, every call bounded by the policy's timeout. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mg_err.h"
#include "mg_util.h"
#include "st_pg.h"

struct st_pg {
	PGconn *conn;		/* NULL once dropped */
	int timeout_ms;
	long changed;
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* libpq's message, one line, without a trailing newline. */
static void
pq_msg(const char *m, char *err, size_t errlen, const char *what)
{
	char line[400];
	size_t i;

	snprintf(line, sizeof(line), "%s", m != NULL && *m ? m : "no message");
	for (i = 0; line[i] != '\0'; i++)
		if (line[i] == '\n' || line[i] == '\r' || line[i] == '\t')
			line[i] = ' ';
	while (i > 0 && line[i - 1] == ' ')
		line[--i] = '\0';
	mg_seterr(err, errlen, "%s: %s", what, line);
}

/*
 * Waits for the socket (POLLIN or POLLOUT) until deadline. Returns 1 ready,
 * 0 timed out, -1 error.
 */
static int
wait_sock(int fd, short ev, long long deadline)
{
	struct pollfd pfd;
	long long left;
	int r;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		pfd.fd = fd;
		pfd.events = ev;
		pfd.revents = 0;
		r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

static void
drop(struct st_pg *pg)
{
	if (pg->conn != NULL)
		PQfinish(pg->conn);
	pg->conn = NULL;
}

int
st_pg_open(const struct pol_state *ps, struct st_pg **out, char *err, size_t errlen)
{
	const char *kw[8], *val[8];
	char opts[160], app[96], ctimeout[16], *perr = NULL;
	PQconninfoOption *parsed;
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	struct st_pg *pg;
	long long deadline;
	int n = 0, r;

	*out = NULL;
	if (ps->conninfo == NULL || *ps->conninfo == '\0') {
		mg_seterr(err, errlen, "state: no conninfo");
		return MG_ERR_INVAL;
	}
	/* libpq itself, on the first connection only (MG_ERR_NOENT: not installed). */
	if ((r = st_pq_load(err, errlen)) != 0)
		return r;
	/* A clear error for a connection string that does not read. */
	if ((parsed = PQconninfoParse(ps->conninfo, &perr)) == NULL) {
		pq_msg(perr, err, errlen, "state.conninfo");
		PQfreemem(perr);
		return MG_ERR_INVAL;
	}
	PQconninfoFree(parsed);
	if ((pg = calloc(1, sizeof(*pg))) == NULL) {
		mg_seterr(err, errlen, "out of memory");
		return MG_ERR_NOMEM;
	}
	pg->timeout_ms = (int)(ps->timeout > 0 ? ps->timeout : 5) * 1000;
	/*
	 * The server holds a lock or runs a statement no longer than a login
	 * waits for it, so a gateway that gave up leaves nothing held.
	 */
	snprintf(opts, sizeof(opts), "-c statement_timeout=%d -c lock_timeout=%d "
	    "-c idle_in_transaction_session_timeout=%d", pg->timeout_ms,
	    pg->timeout_ms, pg->timeout_ms * 2);
	snprintf(app, sizeof(app), "mspgate/%s", ps->name != NULL ? ps->name : "gateway");
	snprintf(ctimeout, sizeof(ctimeout), "%d", pg->timeout_ms / 1000 < 2 ? 2 :
	    pg->timeout_ms / 1000);
	/* conninfo first: the keywords after it override what it says. */
	kw[n] = "dbname"; val[n++] = ps->conninfo;
	if (ps->passfile != NULL) {
		kw[n] = "passfile"; val[n++] = ps->passfile;
	}
	kw[n] = "application_name"; val[n++] = app;
	kw[n] = "options"; val[n++] = opts;
	kw[n] = "connect_timeout"; val[n++] = ctimeout;
	kw[n] = NULL; val[n] = NULL;
	deadline = now_ms() + pg->timeout_ms;
	pg->conn = PQconnectStartParams(kw, val, 1);
	if (pg->conn == NULL) {
		free(pg);
		mg_seterr(err, errlen, "out of memory");
		return MG_ERR_NOMEM;
	}
	if (PQstatus(pg->conn) == CONNECTION_BAD)
		st = PGRES_POLLING_FAILED;
	while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
		r = wait_sock(PQsocket(pg->conn),
		    st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
		if (r == 0) {
			mg_seterr(err, errlen, "the state database did not answer "
			    "within %d s", pg->timeout_ms / 1000);
			st_pg_close(pg);
			return MG_ERR_UNAVAIL;
		}
		if (r < 0)
			break;
		st = PQconnectPoll(pg->conn);
	}
	if (st != PGRES_POLLING_OK || PQstatus(pg->conn) != CONNECTION_OK) {
		const char *m = PQerrorMessage(pg->conn);

		r = MG_ERR_UNAVAIL;
		if (PQconnectionNeedsPassword(pg->conn) ||
		    strstr(m, "authentication failed") != NULL ||
		    strstr(m, "no password supplied") != NULL)
			r = MG_ERR_PERM;
		pq_msg(m, err, errlen, "cannot connect to the state database");
		st_pg_close(pg);
		return r;
	}
	*out = pg;
	return 0;
}

void
st_pg_close(struct st_pg *pg)
{
	if (pg == NULL)
		return;
	drop(pg);
	free(pg);
}

void
st_pg_gateway_name(const struct pol_state *ps, char *buf, size_t len)
{
	char host[256];

	if (ps->name != NULL) {
		snprintf(buf, len, "%s", ps->name);
		return;
	}
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "gateway");
	host[sizeof(host) - 1] = '\0';
	snprintf(buf, len, "%s", host);
}

int
st_pg_ok(const struct st_pg *pg)
{
	struct pollfd pfd;

	if (pg == NULL || pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK)
		return 0;
	/*
	 * Idle, nothing is owed to us (we LISTEN to nothing): anything to read
	 * is the server leaving (its FATAL, then the end), so the connection
	 * is not used again.
	 */
	if (PQtransactionStatus(pg->conn) == PQTRANS_IDLE &&
	    (pfd.fd = PQsocket(pg->conn)) >= 0) {
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) != 0)
			return 0;
	}
	return 1;
}

long
st_pg_changed(const struct st_pg *pg)
{
	return pg->changed;
}

/* MG_ERR_* for a server error's SQLSTATE. */
static int
state_err(const char *code)
{
	if (code == NULL)
		return MG_ERR_IO;
	if (strcmp(code, "55P03") == 0 || strcmp(code, "57014") == 0 ||
	    strcmp(code, "40P01") == 0 || strcmp(code, "40001") == 0)
		return MG_ERR_BUSY;	/* lock or statement timeout, deadlock */
	if (strcmp(code, "23505") == 0 || strcmp(code, "42P07") == 0 ||
	    strcmp(code, "42710") == 0)
		return MG_ERR_EXISTS;
	if (strcmp(code, "42P01") == 0)
		return MG_ERR_NOENT;
	if (strncmp(code, "08", 2) == 0 || strncmp(code, "57P", 3) == 0)
		return MG_ERR_UNAVAIL;	/* connection, shutdown */
	return MG_ERR_IO;
}

int
st_pg_exec(struct st_pg *pg, const char *sql, int n, const char *const *params,
    PGresult **res, char *err, size_t errlen)
{
	PGresult *r, *keep = NULL;
	long long deadline;
	int fd, w, rc = 0, fl;

	if (res != NULL)
		*res = NULL;
	pg->changed = 0;
	if (!st_pg_ok(pg)) {
		mg_seterr(err, errlen, "the connection to the state database was lost");
		drop(pg);
		return MG_ERR_UNAVAIL;
	}
	deadline = now_ms() + pg->timeout_ms;
	if (!PQsendQueryParams(pg->conn, sql, n, NULL, params, NULL, NULL, 0))
		goto lost;
	fd = PQsocket(pg->conn);
	while ((fl = PQflush(pg->conn)) == 1) {
		if ((w = wait_sock(fd, POLLOUT | POLLIN, deadline)) <= 0)
			goto slow;
		if (!PQconsumeInput(pg->conn))
			goto lost;
	}
	if (fl < 0)
		goto lost;
	for (;;) {
		while (PQisBusy(pg->conn)) {
			if ((w = wait_sock(fd, POLLIN, deadline)) <= 0)
				goto slow;
			if (!PQconsumeInput(pg->conn))
				goto lost;
		}
		if ((r = PQgetResult(pg->conn)) == NULL)
			break;
		switch (PQresultStatus(r)) {
		case PGRES_TUPLES_OK:
		case PGRES_COMMAND_OK:
			if (rc == 0) {
				pg->changed = strtol(PQcmdTuples(r), NULL, 10);
				PQclear(keep);
				keep = r;
				r = NULL;
			}
			break;
		default:
			if (rc == 0) {
				rc = state_err(PQresultErrorField(r, PG_DIAG_SQLSTATE));
				pq_msg(PQresultErrorMessage(r), err, errlen, "state database");
			}
			break;
		}
		PQclear(r);
	}
	if (rc == 0 && PQstatus(pg->conn) != CONNECTION_OK)
		goto lost;
	if (rc == MG_ERR_UNAVAIL)
		drop(pg);
	if (rc == 0 && res != NULL)
		*res = keep;
	else
		PQclear(keep);
	return rc;
 slow:
	PQclear(keep);
	mg_seterr(err, errlen, "the state database did not answer within %d s",
	    pg->timeout_ms / 1000);
	/* Dropped, not cancelled: the server rolls back on its own. */
	drop(pg);
	return MG_ERR_UNAVAIL;
 lost:
	PQclear(keep);
	pq_msg(PQerrorMessage(pg->conn), err, errlen,
	    "the connection to the state database was lost");
	drop(pg);
	return MG_ERR_UNAVAIL;
}

int
st_pg_begin(struct st_pg *pg, char *err, size_t errlen)
{
	return st_pg_exec(pg, "BEGIN", 0, NULL, NULL, err, errlen);
}

int
st_pg_commit(struct st_pg *pg, char *err, size_t errlen)
{
	PGresult *res = NULL;
	int r;

	if ((r = st_pg_exec(pg, "COMMIT", 0, NULL, &res, err, errlen)) != 0)
		return r;
	/* COMMIT of a transaction that failed answers ROLLBACK, not an error. */
	if (res == NULL || strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		mg_seterr(err, errlen, "state database: the transaction was rolled back");
		r = MG_ERR_IO;
	}
	PQclear(res);
	return r;
}

void
st_pg_rollback(struct st_pg *pg)
{
	char err[64];

	if (st_pg_ok(pg) && PQtransactionStatus(pg->conn) != PQTRANS_IDLE)
		(void)st_pg_exec(pg, "ROLLBACK", 0, NULL, NULL, err, sizeof(err));
}
