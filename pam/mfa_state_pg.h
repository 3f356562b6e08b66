/* SPDX-License-Identifier: BSD-2-Clause */
/* The state database behind mfa_state.h's functions (mfa_state.c calls these when state.backend is postgresql). */
#ifndef MFA_STATE_PG_H
#define MFA_STATE_PG_H

#include <stddef.h>
#include <stdint.h>

#include "mfa_state.h"

/* 1 when st keeps its state in the database. */
#define MFA_STATE_PG(st) ((st)->ps != NULL)

void mfa_pg_fini(struct mfa_state *st);
int mfa_pg_lock(struct mfa_state *st, const char *user, char *err, size_t errlen);
int mfa_pg_unlock(struct mfa_state *st, char *err, size_t errlen);
int mfa_pg_secret_load(struct mfa_state *st, const char *user, struct mfa_secret *out,
    char *err, size_t errlen);
int mfa_pg_secret_save(struct mfa_state *st, const char *user, const struct mfa_secret *s,
    char *err, size_t errlen);
int mfa_pg_secret_remove(struct mfa_state *st, const char *user, char *err,
    size_t errlen);
int mfa_pg_lockrec_load(struct mfa_state *st, const char *user, struct mfa_lockrec *out,
    char *err, size_t errlen);
int mfa_pg_lockrec_save(struct mfa_state *st, const char *user,
    const struct mfa_lockrec *rec, char *err, size_t errlen);
int mfa_pg_lockrec_remove(struct mfa_state *st, const char *user, char *err,
    size_t errlen);
int mfa_pg_used_load(struct mfa_state *st, const char *user, int64_t *step, char *err,
    size_t errlen);
int mfa_pg_used_save(struct mfa_state *st, const char *user, int64_t step, char *err,
    size_t errlen);
int mfa_pg_list_secrets(struct mfa_state *st, char ***names, size_t *n, char *err,
    size_t errlen);
int mfa_pg_list_lockouts(struct mfa_state *st, char ***names, size_t *n, char *err,
    size_t errlen);

#endif
