/* SPDX-License-Identifier: BSD-2-Clause */
/* RFC 6238 TOTP codes through liboath, checked in constant time with replay protection. */
#ifndef MFA_TOTP_H
#define MFA_TOTP_H

#include <stdint.h>
#include <time.h>

#include "mfa_store.h"

/* The time step (RFC 6238 T) of now for s's period. */
int64_t mfa_totp_step(const struct mfa_secret *s, time_t now);
/*
 * The code for one time step into out (digits + NUL, at least 9 bytes).
 * Returns 0 or MG_ERR_CRYPTO.
 */
int mfa_totp_code(const struct mfa_secret *s, int64_t step, char *out, size_t outlen);
/*
 * Checks code against the steps now-skew .. now+skew. The code must be
 * exactly s->digits decimal digits. Every candidate step is compared (in
 * constant time), whatever matched. Returns 0 with *step set when it
 * matches a step after s->last_step; MG_ERR_EXISTS when it matches only a
 * step already used (a replay, or an older code); MG_ERR_DENIED when it
 * matches none; MG_ERR_CRYPTO when liboath fails.
 */
int mfa_totp_check(const struct mfa_secret *s, const char *code, time_t now,
    int skew, int64_t *step);

#endif
