/* SPDX-License-Identifier: BSD-2-Clause */
/* Whether the policy's state backend can be used now: for mspgate-policy check and mspgated's start. */
#ifndef ST_READY_H
#define ST_READY_H

#include <stddef.h>

#include "pol.h"

/*
 * Files: 0 (nothing to reach). PostgreSQL: connects, checks the schema's
 * version and reads the sealing key, as a login would. Returns 0 or the
 * first error (MG_ERR_UNAVAIL, MG_ERR_PERM for a refused password or an
 * unsafe key file, MG_ERR_NOENT no schema, MG_ERR_RANGE a schema of
 * another version, MG_ERR_PARSE a bad key file...); err says what and
 * what to do.
 */
int st_ready(const struct pol *p, char *err, size_t errlen);

#endif
