/* SPDX-License-Identifier: BSD-2-Clause */
/* The state database's schema: versioned, created and migrated on request only, checked before use. */
#ifndef ST_SCHEMA_H
#define ST_SCHEMA_H

#include <stddef.h>

#include "st_pg.h"

/* The schema version this mspgate reads and writes. */
#define ST_SCHEMA_VERSION 4

/*
 * The version the database holds: *version 0 when there is no schema.
 * Returns 0 or the st_pg_exec error.
 */
int st_schema_version(struct st_pg *pg, int *version, char *err, size_t errlen);

/*
 * Creates the schema at ST_SCHEMA_VERSION, all in one transaction.
 * MG_ERR_EXISTS when there is one already (migrate it instead).
 */
int st_schema_init(struct st_pg *pg, char *err, size_t errlen);

/*
 * Brings the schema from the version it has to ST_SCHEMA_VERSION in one
 * transaction (the version row locked, so two gateways migrating at once
 * take turns). *from gets the version found. MG_ERR_NOENT: no schema
 * (init it); MG_ERR_RANGE: newer than this mspgate.
 */
int st_schema_migrate(struct st_pg *pg, int *from, char *err, size_t errlen);

/*
 * Whether the schema can be used: 0, or MG_ERR_NOENT (missing: `mspgate-policy
 * state init`), MG_ERR_RANGE (older: migrate; newer: upgrade mspgate), or the
 * st_pg_exec error. err says which and what to run.
 */
int st_schema_check(struct st_pg *pg, char *err, size_t errlen);

#endif
