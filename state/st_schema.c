/* SPDX-License-Identifier: BSD-2-Clause */
/* The state database's schema: versioned, created and migrated on request only, checked before use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_err.h"
#include "mg_util.h"
#include "st_schema.h"

/*
 * Step i brings the schema from version i to i + 1, one statement a line
 * (the extended protocol takes one at a time). Steps are never edited once
 * released: a change is a new step.
 */
static const char *const step1[] = {
	/* TOTP secrets (sealed, st_seal.c) with the replay record. */
	"CREATE TABLE mspgate_totp ("
	" engineer text PRIMARY KEY,"
	" sealed text NOT NULL,"
	" used_step bigint NOT NULL DEFAULT -1,"
	" updated timestamptz NOT NULL DEFAULT now())",
	/* Lockout records, in mfa_lockrec_format's text. */
	"CREATE TABLE mspgate_lockout ("
	" engineer text PRIMARY KEY,"
	" record text NOT NULL,"
	" updated timestamptz NOT NULL DEFAULT now())",
	NULL
};
static const char *const step2[] = {
	/*
	 * Live sessions (issue 17): each gateway's own rows, written by its
	 * mspgated (gw_sync.c) and read by mspgatectl on any gateway.
	 */
	"CREATE TABLE mspgate_sessions ("
	" gateway text NOT NULL,"
	" id text NOT NULL,"
	" engineer text NOT NULL,"
	" tenant text NOT NULL,"
	" target text NOT NULL,"
	" login text NOT NULL,"
	" source text NOT NULL DEFAULT '',"
	" kind text NOT NULL DEFAULT '',"
	" started bigint NOT NULL,"
	" PRIMARY KEY (gateway, id))",
	/*
	 * Requests to end sessions on another gateway: a row names the one
	 * gateway that takes it (and deletes it), so each is carried out
	 * once; "every gateway" is a row for each gateway holding sessions.
	 * A session id, or an engineer's sessions.
	 */
	"CREATE TABLE mspgate_kill ("
	" id bigserial PRIMARY KEY,"
	" gateway text NOT NULL,"
	" session_id text,"
	" engineer text,"
	" requested_by text NOT NULL,"
	" from_gateway text NOT NULL,"
	" reason text NOT NULL,"
	" created timestamptz NOT NULL DEFAULT now(),"
	" CHECK (session_id IS NOT NULL OR engineer IS NOT NULL))",
	"CREATE INDEX mspgate_kill_gateway ON mspgate_kill (gateway)",
	NULL
};
static const char *const step3[] = {
	/*
	 * The central view of every gateway's audit log (issue 17): each line
	 * as the gateway's own signed chain holds it, copied by its mspgated
	 * (gw_ship.c) after it is written there, keyed by the line's chain
	 * hash, so a line copied twice is one row. The local chain stays the
	 * record: losing this table loses no audit line.
	 */
	"CREATE TABLE mspgate_audit ("
	" gateway text NOT NULL,"
	" hash text NOT NULL,"
	" seq bigint NOT NULL,"
	" time timestamptz NOT NULL,"
	" event text NOT NULL,"
	" engineer text,"
	" line jsonb NOT NULL,"
	" PRIMARY KEY (gateway, hash))",
	"CREATE INDEX mspgate_audit_time ON mspgate_audit (time)",
	NULL
};
static const char *const step4[] = {
	/*
	 * The detector's history across gateways (issue 17): each gateway's
	 * state worker adds the sessions it started and the MFA failures it
	 * saw, and reads the other gateways' rows. Bounded: the workers
	 * delete rows older than 8 days (gw_sync_worker.c).
	 */
	"CREATE TABLE mspgate_events ("
	" id bigserial PRIMARY KEY,"
	" gateway text NOT NULL,"
	" created timestamptz NOT NULL DEFAULT now(),"
	" kind text NOT NULL,"
	" engineer text NOT NULL,"
	" tenant text NOT NULL DEFAULT '',"
	" target text NOT NULL DEFAULT '',"
	" source text NOT NULL DEFAULT '',"
	" ts bigint NOT NULL)",
	"CREATE INDEX mspgate_events_created ON mspgate_events (created)",
	NULL
};
static const char *const *const steps[ST_SCHEMA_VERSION] = { step1, step2, step3,
    step4 };

int
st_schema_version(struct st_pg *pg, int *version, char *err, size_t errlen)
{
	PGresult *res = NULL;
	int r;

	*version = 0;
	/* One round trip (a login pays it): no table is no schema. */
	r = st_pg_exec(pg, "SELECT max(version) FROM mspgate_schema", 0, NULL, &res,
	    err, errlen);
	if (r == MG_ERR_NOENT)
		return 0;
	if (r != 0)
		return r;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		PQclear(res);
		mg_seterr(err, errlen, "state database: mspgate_schema holds no version");
		return MG_ERR_PARSE;
	}
	*version = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (*version < 1) {
		mg_seterr(err, errlen, "state database: schema version %d is not valid",
		    *version);
		return MG_ERR_PARSE;
	}
	return 0;
}

static int
run_steps(struct st_pg *pg, int from, char *err, size_t errlen)
{
	char v[16];
	const char *pv[1] = { v };
	int i, j, r;

	for (i = from; i < ST_SCHEMA_VERSION; i++)
		for (j = 0; steps[i][j] != NULL; j++)
			if ((r = st_pg_exec(pg, steps[i][j], 0, NULL, NULL, err,
			    errlen)) != 0)
				return r;
	snprintf(v, sizeof(v), "%d", ST_SCHEMA_VERSION);
	return st_pg_exec(pg, "UPDATE mspgate_schema SET version = $1::integer, "
	    "migrated = now()", 1, pv, NULL, err, errlen);
}

int
st_schema_init(struct st_pg *pg, char *err, size_t errlen)
{
	int r;

	if ((r = st_pg_begin(pg, err, errlen)) != 0)
		return r;
	r = st_pg_exec(pg, "CREATE TABLE mspgate_schema (version integer NOT NULL, "
	    "migrated timestamptz NOT NULL DEFAULT now())", 0, NULL, NULL, err, errlen);
	if (r == MG_ERR_EXISTS)
		mg_seterr(err, errlen, "the state database has a schema already "
		    "(mspgate-policy state migrate brings it up to date)");
	if (r == 0)
		r = st_pg_exec(pg, "INSERT INTO mspgate_schema (version) VALUES (0)", 0,
		    NULL, NULL, err, errlen);
	if (r == 0)
		r = run_steps(pg, 0, err, errlen);
	if (r == 0)
		r = st_pg_commit(pg, err, errlen);
	if (r != 0)
		st_pg_rollback(pg);
	return r;
}

int
st_schema_migrate(struct st_pg *pg, int *from, char *err, size_t errlen)
{
	PGresult *res = NULL;
	int r;

	*from = 0;
	if ((r = st_pg_begin(pg, err, errlen)) != 0)
		return r;
	/* Locked: a second gateway migrating waits, then finds it done. */
	r = st_pg_exec(pg, "SELECT version FROM mspgate_schema FOR UPDATE", 0, NULL,
	    &res, err, errlen);
	if (r == MG_ERR_NOENT)
		mg_seterr(err, errlen, "the state database has no schema "
		    "(mspgate-policy state init creates it)");
	if (r == 0 && PQntuples(res) != 1) {
		mg_seterr(err, errlen, "state database: mspgate_schema has %d rows, "
		    "not one", PQntuples(res));
		r = MG_ERR_PARSE;
	}
	if (r == 0) {
		*from = atoi(PQgetvalue(res, 0, 0));
		if (*from > ST_SCHEMA_VERSION) {
			mg_seterr(err, errlen, "the state database's schema is version "
			    "%d, newer than this mspgate's (%d): upgrade mspgate", *from,
			    ST_SCHEMA_VERSION);
			r = MG_ERR_RANGE;
		} else if (*from < 1) {
			mg_seterr(err, errlen, "state database: schema version %d is "
			    "not valid", *from);
			r = MG_ERR_PARSE;
		} else if (*from < ST_SCHEMA_VERSION) {
			r = run_steps(pg, *from, err, errlen);
		}
	}
	PQclear(res);
	if (r == 0)
		r = st_pg_commit(pg, err, errlen);
	if (r != 0)
		st_pg_rollback(pg);
	return r;
}

int
st_schema_check(struct st_pg *pg, char *err, size_t errlen)
{
	int v, r;

	if ((r = st_schema_version(pg, &v, err, errlen)) != 0)
		return r;
	if (v == 0) {
		mg_seterr(err, errlen, "the state database has no mspgate schema: "
		    "run mspgate-policy state init");
		return MG_ERR_NOENT;
	}
	if (v < ST_SCHEMA_VERSION) {
		mg_seterr(err, errlen, "the state database's schema is version %d, "
		    "this mspgate needs %d: run mspgate-policy state migrate", v,
		    ST_SCHEMA_VERSION);
		return MG_ERR_RANGE;
	}
	if (v > ST_SCHEMA_VERSION) {
		mg_seterr(err, errlen, "the state database's schema is version %d, "
		    "newer than this mspgate's (%d): upgrade mspgate on this gateway",
		    v, ST_SCHEMA_VERSION);
		return MG_ERR_RANGE;
	}
	return 0;
}
