/* SPDX-License-Identifier: BSD-2-Clause */
/* "Require MFA again": a fresh TOTP code checked through pam/'s store and TOTP code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_reauth.h"
#include "mg_err.h"
#include "mg_time.h"

#ifdef MG_GW_TOTP
#include "mfa_state.h"
#include "mfa_totp.h"

int
gw_reauth_check(const struct pol *p, const char *engineer, const char *code,
    char *why, size_t whylen)
{
	struct mfa_state st;
	struct mfa_secret s;
	struct mfa_lockrec lr;
	char err[300];
	time_t now = mg_clock_now();
	int64_t step;
	int fd = -1, r, fail = 0;

	memset(&s, 0, sizeof(s));
	memset(&lr, 0, sizeof(lr));
	if ((r = mfa_state_init(&st, p)) != 0) {
		snprintf(why, whylen, "store path too long");
		return r;
	}
	/* Read, check and record under pam_mspgate's lock: a code is used once. */
	if ((r = mfa_lock(&st, engineer, &fd, err, sizeof(err))) != 0) {
		snprintf(why, whylen, "cannot lock: %s", err);
		return r;
	}
	if ((r = mfa_lockrec_load(&st, engineer, &lr, err, sizeof(err))) != 0) {
		snprintf(why, whylen, "lockout record unreadable: %s", err);
		goto out;
	}
	if (mfa_lockrec_locked(&st, &lr, now)) {
		snprintf(why, whylen, "account locked");
		r = MG_ERR_DENIED;
		goto out;
	}
	if ((r = mfa_secret_load(&st, engineer, &s, err, sizeof(err))) != 0) {
		snprintf(why, whylen, r == MG_ERR_NOENT ? "no TOTP secret enrolled" :
		    "TOTP secret unusable: %s", err);
		fail = r == MG_ERR_NOENT;
		r = r == MG_ERR_NOENT ? MG_ERR_DENIED : r;
	} else if (s.status != MFA_ACTIVE) {
		snprintf(why, whylen, "TOTP secret not activated");
		r = MG_ERR_DENIED;
	} else if ((r = mfa_totp_check(&s, code, now, p->mfa.skew_steps, &step)) == 0) {
		s.last_step = step;
		/* Unrecorded, the code could be used again: refuse. */
		if ((r = mfa_secret_save(&st, engineer, &s, err, sizeof(err))) != 0)
			snprintf(why, whylen, "cannot record the used code: %s", err);
		else
			snprintf(why, whylen, "fresh TOTP code accepted");
	} else if (r == MG_ERR_EXISTS || r == MG_ERR_DENIED) {
		snprintf(why, whylen, r == MG_ERR_EXISTS ? "TOTP code already used (replay)" :
		    "wrong TOTP code");
		r = MG_ERR_DENIED;
		fail = 1;
	} else
		snprintf(why, whylen, "TOTP check failed: %s", mg_strerror(r));
	if (fail) {
		(void)mfa_lockrec_fail(&st, &lr, now);
		(void)mfa_lockrec_save(&st, engineer, &lr, err, sizeof(err));
	}
out:
	mfa_secret_wipe(&s);
	mfa_unlock(fd);
	return r;
}
#else
int
gw_reauth_check(const struct pol *p, const char *engineer, const char *code,
    char *why, size_t whylen)
{
	(void)p;
	(void)engineer;
	(void)code;
	/* No TOTP code linked in: no code can be accepted. */
	snprintf(why, whylen, "fresh TOTP codes cannot be checked by this build");
	return MG_ERR_DENIED;
}
#endif
