/* SPDX-License-Identifier: BSD-2-Clause */
/* TOTP secrets, the replay record and lockout records in the shared state database. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mg_err.h"
#include "mg_file.h"
#include "mg_util.h"
#include "mfa_state.h"
#include "mfa_state_pg.h"
#include "st_pg.h"
#include "st_schema.h"
#include "st_seal.h"

/* The connection, opened and its schema checked on first use. */
static int
conn(struct mfa_state *st, char *err, size_t errlen)
{
	int r;

	if (st_pg_ok(st->pg))
		return 0;
	if (st->txn) {
		/* Lost inside a transaction: what it held is gone with it. */
		mg_seterr(err, errlen, "the connection to the state database was lost");
		return MG_ERR_UNAVAIL;
	}
	st_pg_close(st->pg);
	st->pg = NULL;
	if ((r = st_pg_open(st->ps, &st->pg, err, errlen)) != 0)
		return r == MG_ERR_INVAL || r == MG_ERR_PERM ? r : MG_ERR_UNAVAIL;
	if ((r = st_schema_check(st->pg, err, errlen)) != 0) {
		st_pg_close(st->pg);
		st->pg = NULL;
		return r;
	}
	return 0;
}

/* The sealing key, read on first use (root's or the service account's file). */
static int
key(struct mfa_state *st, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char pwbuf[4096];
	uid_t owner = 0;
	int owner_set = 0;

	if (st->key_loaded)
		return 0;
	if (getpwnam_r(st->owner_name[0] ? st->owner_name : "mspgate", &pw, pwbuf,
	    sizeof(pwbuf), &res) == 0 && res != NULL) {
		owner = pw.pw_uid;
		owner_set = 1;
	}
	if (st_key_load(st->ps->key_file, owner, owner_set, st->key, err, errlen) != 0)
		return MG_ERR_PERM;
	st->key_loaded = 1;
	return 0;
}

void
mfa_pg_fini(struct mfa_state *st)
{
	if (st->txn)
		st_pg_rollback(st->pg);
	st->txn = 0;
	st_pg_close(st->pg);
	st->pg = NULL;
	explicit_bzero(st->key, sizeof(st->key));
	st->key_loaded = 0;
}

int
mfa_pg_lock(struct mfa_state *st, const char *user, char *err, size_t errlen)
{
	const char *pv[1] = { user };
	int r;

	if (st->txn) {
		mg_seterr(err, errlen, "state: a lock is held already");
		return MG_ERR_INTERNAL;
	}
	if ((r = conn(st, err, errlen)) != 0)
		return r;
	if ((r = st_pg_begin(st->pg, err, errlen)) != 0)
		return r;
	st->txn = 1;
	/*
	 * One advisory lock per engineer, held to the end of the transaction:
	 * the files backend's flock, across gateways. The server's
	 * lock_timeout bounds the wait (MG_ERR_BUSY).
	 */
	r = st_pg_exec(st->pg, "SELECT pg_advisory_xact_lock(hashtextextended("
	    "'mspgate-user:' || $1, 0))", 1, pv, NULL, err, errlen);
	if (r != 0) {
		if (r == MG_ERR_BUSY)
			mg_seterr(err, errlen, "%s is being checked on another gateway "
			    "for too long (the state database's lock)", user);
		st_pg_rollback(st->pg);
		st->txn = 0;
	}
	return r;
}

int
mfa_pg_unlock(struct mfa_state *st, char *err, size_t errlen)
{
	int r;

	if (!st->txn)
		return 0;
	st->txn = 0;
	if ((r = st_pg_commit(st->pg, err, errlen)) != 0)
		st_pg_rollback(st->pg);
	return r;
}

int
mfa_pg_secret_load(struct mfa_state *st, const char *user, struct mfa_secret *out,
    char *err, size_t errlen)
{
	const char *pv[1] = { user };
	PGresult *res = NULL;
	unsigned char *text = NULL;
	size_t len = 0;
	long long used;
	char perr[256];
	int r;

	mfa_secret_wipe(out);
	out->last_step = -1;
	if ((r = conn(st, err, errlen)) != 0)
		return r;
	if ((r = st_pg_exec(st->pg, "SELECT sealed, used_step FROM mspgate_totp "
	    "WHERE engineer = $1", 1, pv, &res, err, errlen)) != 0)
		return r;
	if (PQntuples(res) == 0) {
		PQclear(res);
		mg_seterr(err, errlen, "%s has no TOTP secret", user);
		return MG_ERR_NOENT;
	}
	if ((r = key(st, err, errlen)) != 0) {
		PQclear(res);
		return r;
	}
	used = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	r = st_unseal(st->key, user, PQgetvalue(res, 0, 0), &text, &len);
	PQclear(res);
	if (r != 0) {
		mg_seterr(err, errlen, "the TOTP secret of %s in the state database %s",
		    user, r == MG_ERR_VERIFY ? "does not open with this gateway's "
		    "state.key_file (another key, or altered)" : "is not a sealed value");
		return r == MG_ERR_NOMEM ? r : MG_ERR_PARSE;
	}
	r = mfa_secret_parse((const char *)text, len, out, perr, sizeof(perr));
	mg_freezero(text, len + 1);
	if (r != 0) {
		mg_seterr(err, errlen, "the TOTP secret of %s in the state database: %s",
		    user, perr);
		return MG_ERR_PARSE;
	}
	if (used > out->last_step)
		out->last_step = used;
	return 0;
}

int
mfa_pg_secret_save(struct mfa_state *st, const char *user, const struct mfa_secret *s,
    char *err, size_t errlen)
{
	char *text = NULL, *sealed = NULL, step[24];
	const char *pv[3];
	size_t len = 0;
	int r;

	if ((r = conn(st, err, errlen)) != 0)
		return r;
	if ((r = key(st, err, errlen)) != 0)
		return r;
	if ((r = mfa_secret_format(s, &text, &len)) != 0) {
		mg_seterr(err, errlen, "cannot format the secret: %s", mg_strerror(r));
		return r;
	}
	r = st_seal(st->key, user, (const unsigned char *)text, len, &sealed);
	mg_freezero(text, len);
	if (r != 0) {
		mg_seterr(err, errlen, "cannot seal the secret: %s", mg_strerror(r));
		return r;
	}
	snprintf(step, sizeof(step), "%lld", (long long)s->last_step);
	pv[0] = user;
	pv[1] = sealed;
	pv[2] = step;
	/*
	 * A new row starts its replay record at the secret's; an existing
	 * row's is moved by mfa_pg_used_save alone, as the files backend's
	 * lock-file record outlives a new secret.
	 */
	r = st_pg_exec(st->pg, "INSERT INTO mspgate_totp (engineer, sealed, used_step) "
	    "VALUES ($1, $2, $3::bigint) ON CONFLICT (engineer) DO UPDATE SET "
	    "sealed = EXCLUDED.sealed, updated = now()", 3, pv, NULL, err, errlen);
	free(sealed);
	return r;
}

static int
remove_row(struct mfa_state *st, const char *sql, const char *user, char *err,
    size_t errlen)
{
	const char *pv[1] = { user };
	int r;

	if ((r = conn(st, err, errlen)) != 0)
		return r;
	if ((r = st_pg_exec(st->pg, sql, 1, pv, NULL, err, errlen)) != 0)
		return r;
	if (st_pg_changed(st->pg) == 0) {
		mg_seterr(err, errlen, "%s: nothing to remove", user);
		return MG_ERR_NOENT;
	}
	return 0;
}

int
mfa_pg_secret_remove(struct mfa_state *st, const char *user, char *err, size_t errlen)
{
	return remove_row(st, "DELETE FROM mspgate_totp WHERE engineer = $1", user,
	    err, errlen);
}

int
mfa_pg_lockrec_load(struct mfa_state *st, const char *user, struct mfa_lockrec *out,
    char *err, size_t errlen)
{
	const char *pv[1] = { user };
	PGresult *res = NULL;
	char perr[256];
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = conn(st, err, errlen)) != 0)
		return r;
	if ((r = st_pg_exec(st->pg, "SELECT record FROM mspgate_lockout WHERE "
	    "engineer = $1", 1, pv, &res, err, errlen)) != 0)
		return r;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	r = mfa_lockrec_parse(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0),
	    out, perr, sizeof(perr));
	PQclear(res);
	if (r != 0) {
		mg_seterr(err, errlen, "the lockout record of %s in the state database: %s",
		    user, perr);
		return MG_ERR_PARSE;
	}
	return 0;
}

int
mfa_pg_lockrec_save(struct mfa_state *st, const char *user, const struct mfa_lockrec *rec,
    char *err, size_t errlen)
{
	const char *pv[2];
	char *text = NULL;
	size_t len = 0;
	int r;

	if ((r = conn(st, err, errlen)) != 0)
		return r;
	if ((r = mfa_lockrec_format(rec, &text, &len)) != 0) {
		mg_seterr(err, errlen, "cannot format the lockout record: %s",
		    mg_strerror(r));
		return r;
	}
	pv[0] = user;
	pv[1] = text;
	r = st_pg_exec(st->pg, "INSERT INTO mspgate_lockout (engineer, record) VALUES "
	    "($1, $2) ON CONFLICT (engineer) DO UPDATE SET record = EXCLUDED.record, "
	    "updated = now()", 2, pv, NULL, err, errlen);
	free(text);
	return r;
}

int
mfa_pg_lockrec_remove(struct mfa_state *st, const char *user, char *err, size_t errlen)
{
	return remove_row(st, "DELETE FROM mspgate_lockout WHERE engineer = $1", user,
	    err, errlen);
}

int
mfa_pg_used_load(struct mfa_state *st, const char *user, int64_t *step, char *err,
    size_t errlen)
{
	const char *pv[1] = { user };
	PGresult *res = NULL;
	int r;

	*step = -1;
	if ((r = conn(st, err, errlen)) != 0)
		return r;
	if ((r = st_pg_exec(st->pg, "SELECT used_step FROM mspgate_totp WHERE "
	    "engineer = $1", 1, pv, &res, err, errlen)) != 0)
		return r;
	if (PQntuples(res) == 1)
		*step = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

int
mfa_pg_used_save(struct mfa_state *st, const char *user, int64_t step, char *err,
    size_t errlen)
{
	const char *pv[2];
	char v[24];
	int r;

	if ((r = conn(st, err, errlen)) != 0)
		return r;
	snprintf(v, sizeof(v), "%lld", (long long)step);
	pv[0] = user;
	pv[1] = v;
	/*
	 * Atomic on its own: the row changes only for a step above the one
	 * stored, so of two gateways racing with one code exactly one
	 * changes it, even if their locks failed them.
	 */
	if ((r = st_pg_exec(st->pg, "UPDATE mspgate_totp SET used_step = $2::bigint, "
	    "updated = now() WHERE engineer = $1 AND used_step < $2::bigint", 2, pv,
	    NULL, err, errlen)) != 0)
		return r;
	if (st_pg_changed(st->pg) != 1) {
		mg_seterr(err, errlen, "the code's time step was used already");
		return MG_ERR_EXISTS;
	}
	return 0;
}

static int
list(struct mfa_state *st, const char *sql, char ***names, size_t *n, char *err,
    size_t errlen)
{
	PGresult *res = NULL;
	char **v;
	int r, i, rows;

	*names = NULL;
	*n = 0;
	if ((r = conn(st, err, errlen)) != 0)
		return r;
	if ((r = st_pg_exec(st->pg, sql, 0, NULL, &res, err, errlen)) != 0)
		return r;
	rows = PQntuples(res);
	if ((v = calloc((size_t)rows + 1, sizeof(*v))) == NULL) {
		PQclear(res);
		return MG_ERR_NOMEM;
	}
	for (i = 0; i < rows; i++)
		if ((v[i] = strdup(PQgetvalue(res, i, 0))) == NULL) {
			while (i-- > 0)
				free(v[i]);
			free(v);
			PQclear(res);
			return MG_ERR_NOMEM;
		}
	PQclear(res);
	*names = v;
	*n = (size_t)rows;
	return 0;
}

int
mfa_pg_list_secrets(struct mfa_state *st, char ***names, size_t *n, char *err,
    size_t errlen)
{
	return list(st, "SELECT engineer FROM mspgate_totp ORDER BY engineer COLLATE \"C\"",
	    names, n, err, errlen);
}

int
mfa_pg_list_lockouts(struct mfa_state *st, char ***names, size_t *n, char *err,
    size_t errlen)
{
	return list(st, "SELECT engineer FROM mspgate_lockout ORDER BY engineer "
	    "COLLATE \"C\"", names, n, err, errlen);
}
