/* SPDX-License-Identifier: BSD-2-Clause */
/* What the policy asks of an MSP account at login: MFA methods, validity, windows, source. */
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
 * The account checks at now, for a login from rhost (numeric address;
 * NULL or "" when local):
 * - e's validity dates (MG_ERR_RANGE);
 * - the source: PAM_RHOST must be in pam.sources when the policy sets them
 *   (a client host, reached only from the gateway), else in e's sources
 *   when set (the gateway, reached from the engineer's network);
 * - a grant (of pam.tenant only, when set) that is valid and inside its
 *   tenant's and its own windows now (MG_ERR_DENIED otherwise).
 * umsg gets a sentence safe to show the engineer ("Outside your access
 * window; the next one opens Mon 08:00 Europe/London."), lmsg one for
 * syslog. Returns 0 when the account may log in now.
 */
int mfa_account_check(const struct pol *p, const struct pol_engineer *e,
    const char *rhost, time_t now, char *umsg, size_t umsglen, char *lmsg,
    size_t lmsglen);

#endif
