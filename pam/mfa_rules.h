/* SPDX-License-Identifier: BSD-2-Clause */
/* What the policy asks of an MSP account at login: MFA methods, and the account check (pol_decide_login) in words. */
#ifndef MFA_RULES_H
#define MFA_RULES_H

#include <stddef.h>
#include <time.h>

#include "pol.h"

/*
 * The MFA methods (POL_MFA_*) a login of e must pass: e->mfa when set
 * (the loader made sure it covers every grant), else the union of the mfa
 * of every grant that applies to e, so one login satisfies any of them.
 * 0 when no grant applies: such an account is denied.
 */
unsigned mfa_required(const struct pol *p, const struct pol_engineer *e);

/*
 * The account check at now, for a login from rhost (numeric address;
 * NULL or "" when local): pol_decide_login (config/pol_decide.h), the one
 * engine for validity, source and windows, for pam.tenant when the policy
 * sets one. umsg gets a sentence safe to show the engineer ("Outside your
 * access window; the next one opens Mon 08:00 Europe/London."), lmsg one
 * for syslog. Returns 0 when the account may log in now, MG_ERR_RANGE
 * outside the account's dates, else MG_ERR_DENIED.
 */
int mfa_account_check(const struct pol *p, const struct pol_engineer *e,
    const char *rhost, time_t now, char *umsg, size_t umsglen, char *lmsg,
    size_t lmsglen);

#endif
