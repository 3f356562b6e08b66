/* SPDX-License-Identifier: BSD-2-Clause */
/* RFC 6238 TOTP codes through liboath, checked in constant time with replay protection; the factor. */
#ifndef MFA_TOTP_H
#define MFA_TOTP_H

#include <stdint.h>
#include <time.h>

#include "pol.h"
#include "mfa_factor.h"
#include "mfa_store.h"

/* What an engineer is told when the state database cannot record a code. */
#define MFA_TOTP_MSG_UNAVAIL "Access denied: the gateway cannot check one-time " \
	"codes right now. Try again in a minute; tell your MSP if it goes on."

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

/*
 * Its entry in mfa_factors (pam/mfa_factor.h says what each does). Only a
 * code asked for and checked at login (mfa_txn_totp) is TOTP; the
 * evidence is "STEP", the step of the code accepted (mfa_totp_evidence
 * writes it). The login stands while the secret is enrolled and active.
 */
int mfa_totp_login(struct mfa_login *l, int need, char *ev, size_t evlen);
int mfa_totp_evidence(int64_t step, char *ev, size_t evlen);
const char *mfa_totp_evidence_check(const char *ev);
int mfa_totp_standing(struct mfa_state *st, const struct pol *p,
    const struct pol_engineer *e, const char *ev,
    time_t now, char *why, size_t whylen);

#endif
