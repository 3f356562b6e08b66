/* SPDX-License-Identifier: BSD-2-Clause */
/* Whether the policy's state backend can be used now: for mspgate-policy check and mspgated's start. */
#include <pwd.h>
#include <string.h>

#include "mg_err.h"
#include "mg_util.h"
#include "st_pg.h"
#include "st_ready.h"
#include "st_schema.h"
#include "st_seal.h"

int
st_ready(const struct pol *p, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	unsigned char key[ST_KEY_LEN];
	struct st_pg *pg = NULL;
	char pwbuf[4096];
	int r;

	if (p->state.backend != POL_STATE_POSTGRESQL)
		return 0;
	if ((r = st_pg_open(&p->state, &pg, err, errlen)) != 0)
		return r;
	r = st_schema_check(pg, err, errlen);
	st_pg_close(pg);
	if (r != 0)
		return r;
	if (getpwnam_r(p->gateway.user != NULL ? p->gateway.user : "mspgate", &pw,
	    pwbuf, sizeof(pwbuf), &res) != 0)
		res = NULL;
	r = st_key_load(p->state.key_file, res != NULL ? res->pw_uid : 0, res != NULL,
	    key, err, errlen);
	explicit_bzero(key, sizeof(key));
	return r;
}
