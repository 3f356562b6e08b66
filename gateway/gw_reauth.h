/* SPDX-License-Identifier: BSD-2-Clause */
/* "Require MFA again": a fresh TOTP code checked as pam_mspgate checks it. */
#ifndef GW_REAUTH_H
#define GW_REAUTH_H

#include <stddef.h>

#include "pol.h"

/*
 * Checks a TOTP code typed by engineer against the store in the policy
 * (mfa.totp.store), under the same per-user lock and replay record as
 * pam_mspgate (pam/mfa_state.c, pam/mfa_totp.c): a code is used once,
 * whoever uses it first. A wrong or replayed code counts as a lockout
 * failure. Returns 0 when accepted; MG_ERR_DENIED (wrong, replayed, not
 * enrolled, locked) or another MG_ERR_* (the store is unusable), why says
 * what (never the code).
 */
int gw_reauth_check(const struct pol *p, const char *engineer, const char *code,
    char *why, size_t whylen);

#endif
