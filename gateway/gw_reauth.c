/* SPDX-License-Identifier: BSD-2-Clause */
/* "Require MFA again": a fresh TOTP code checked through pam/'s store and TOTP code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_reauth.h"
#include "mg_time.h"

#include "mfa_broker.h"
#include "mfa_txn.h"

int
gw_reauth_check(const struct pol *p, const char *engineer, const char *code,
    char *why, size_t whylen)
{
	struct mfa_txn_result res;

	int r;

	/* The login's own transaction (pam/mfa_txn.c): same lock, record, lockout. */
	r = mfa_broker_check(p, engineer, code, mg_clock_now(), &res, why, whylen);
	if (r == 0)
		snprintf(why, whylen, "fresh TOTP code accepted");
	return r;
}
