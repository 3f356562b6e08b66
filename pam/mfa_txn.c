/* SPDX-License-Identifier: BSD-2-Clause */
/* The one TOTP transaction (lock, lockout, secret, check, replay record, unlock); whether a login stands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_err.h"
#include "mfa_factor.h"
#include "mfa_state.h"
#include "mfa_totp.h"
#include "mfa_txn.h"

int
mfa_txn_totp(const struct pol *p, const char *user, const char *code, time_t now,
    struct mfa_txn_result *res, char *why, size_t whylen)
{
	struct mfa_state st;
	int r;

	memset(res, 0, sizeof(*res));
	res->step = -1;
	if ((r = mfa_state_init(&st, p)) != 0) {
		snprintf(why, whylen, "store path too long");
		return r;
	}
	r = mfa_txn_totp_st(&st, p, user, code, now, res, why, whylen);
	mfa_state_fini(&st);
	return r;
}

int
mfa_txn_totp_st(struct mfa_state *stp, const struct pol *p, const char *user,
    const char *code, time_t now, struct mfa_txn_result *res, char *why, size_t whylen)
{
	struct mfa_secret s;
	struct mfa_lockrec *lr = NULL;
	char err[512];
	int64_t step, used = -1;
	int fd = -1, r, u, fail = 0;

	memset(res, 0, sizeof(*res));
	res->step = -1;
	memset(&s, 0, sizeof(s));
	if ((lr = calloc(1, sizeof(*lr))) == NULL) {
		snprintf(why, whylen, "out of memory");
		return MG_ERR_NOMEM;
	}
	/* Read, check and update under one lock: a code is used once. */
	if ((r = mfa_lock(stp, user, &fd, err, sizeof(err))) != 0) {
		snprintf(why, whylen, "cannot lock: %s", err);
		goto out;
	}
	if ((r = mfa_lockrec_load(stp, user, lr, err, sizeof(err))) != 0) {
		/* A damaged record could hide a lock: deny until it is cleared. */
		snprintf(why, whylen, "lockout record unreadable (%s); "
		    "clear it with mspgate-enroll --unlock", err);
		goto out;
	}
	if (mfa_lockrec_locked(stp, lr, now)) {
		snprintf(why, whylen, "account locked for %lld more seconds",
		    (long long)(lr->locked_until - now));
		r = MG_ERR_DENIED;
		goto out;
	}
	if ((r = mfa_used_load(stp, user, fd, &used, err, sizeof(err))) != 0) {
		/* Without it a used code could pass again: refuse. */
		snprintf(why, whylen, "%s", err);
		goto out;
	}
	r = mfa_secret_load(stp, user, &s, err, sizeof(err));
	if (r == 0 && used > s.last_step)
		s.last_step = used;
	if (r == MG_ERR_NOENT) {
		snprintf(why, whylen, "no TOTP secret enrolled (mspgate-enroll)");
		fail = 1;
	} else if (r != 0) {
		snprintf(why, whylen, "TOTP secret unusable: %s", err);
	} else if (s.status != MFA_ACTIVE) {
		snprintf(why, whylen, "TOTP secret not activated yet");
		fail = 1;
	} else if ((r = mfa_totp_check(&s, code, now, p->mfa.skew_steps, &step)) == 0) {
		/* Recorded (synced) before it counts: a used code stays used. */
		if ((r = mfa_used_save(stp, user, fd, step, err, sizeof(err))) == MG_ERR_EXISTS) {
			/* Taken by another gateway's login since we read it. */
			snprintf(why, whylen, "TOTP code already used (replay)");
			fail = 1;
		} else if (r != 0) {
			/* Unrecorded, the code could be used again: deny. */
			snprintf(why, whylen, "cannot record the used code: %s", err);
		} else {
			snprintf(why, whylen, "TOTP code accepted");
			res->step = step;
			/* Success forgets earlier failures, for login and re-auth alike. */
			if (lr->nfail > 0 || lr->locked_until != 0)
				(void)mfa_lockrec_remove(stp, user, err, sizeof(err));
		}
	} else if (r == MG_ERR_EXISTS) {
		snprintf(why, whylen, "TOTP code already used (replay)");
		fail = 1;
	} else if (r == MG_ERR_DENIED) {
		snprintf(why, whylen, "wrong TOTP code");
		fail = 1;
	} else {
		snprintf(why, whylen, "TOTP check failed: %s", mg_strerror(r));
	}
	if (fail) {
		r = MG_ERR_DENIED;
		res->counted = 1;
		res->locked_now = mfa_lockrec_fail(stp, lr, now);
		if (mfa_lockrec_save(stp, user, lr, err, sizeof(err)) != 0) {
			size_t n = strlen(why);

			snprintf(why + n, whylen - n, "; cannot record the failure: %s", err);
		}
	}
	/* Anything but a recorded success refuses. */
	if (r == 0 && res->step < 0)
		r = MG_ERR_INTERNAL;
 out:
	/* The state database commits here: a success it lost is none. */
	if ((u = mfa_unlock(stp, fd, err, sizeof(err))) != 0) {
		size_t n = strlen(why);

		if (r == 0) {
			snprintf(why, whylen, "cannot record the used code: %s", err);
			res->step = -1;
			r = u;
		} else if (res->counted) {
			snprintf(why + n, whylen - n, "; cannot record the failure: %s", err);
		}
	}
	mfa_secret_wipe(&s);
	free(lr);
	return r;
}

int
mfa_txn_standing_st(struct mfa_state *st, const struct pol *p,
    const struct pol_engineer *e, const struct mfa_attest *att, time_t now,
    unsigned *still, char *why, size_t whylen)
{
	struct mfa_lockrec lr;
	char err[512];
	size_t i;
	int r;

	*still = 0;
	memset(&lr, 0, sizeof(lr));
	/* A lockout after the login stops the connection's new sessions too. */
	if ((r = mfa_lockrec_load(st, e->name, &lr, err, sizeof(err))) != 0) {
		snprintf(why, whylen, "lockout record unreadable: %s", err);
		return r;
	}
	if (mfa_lockrec_locked(st, &lr, now)) {
		snprintf(why, whylen, "the account is locked out (for %lld more seconds)",
		    (long long)(lr.locked_until - now));
		return MG_ERR_DENIED;
	}
	/* Each factor the login verified says whether it still counts. */
	for (i = 0; i < mfa_nfactors; i++) {
		const struct mfa_factor *f = &mfa_factors[i];
		const char *ev = mfa_attest_evidence(att, f->bit);

		if (ev == NULL)
			continue;
		r = f->standing(st, p, e, ev, now, why, whylen);
		if (r == 0) {
			*still |= f->bit;
		} else if (r != MG_ERR_NOENT) {
			*still = 0;
			return r;
		}
	}
	return 0;
}

int
mfa_txn_standing(const struct pol *p, const struct pol_engineer *e,
    const struct mfa_attest *att, time_t now, unsigned *still, char *why, size_t whylen)
{
	struct mfa_state st;
	int r;

	*still = 0;
	if ((r = mfa_state_init(&st, p)) != 0) {
		snprintf(why, whylen, "store path too long");
		return r;
	}
	r = mfa_txn_standing_st(&st, p, e, att, now, still, why, whylen);
	mfa_state_fini(&st);
	return r;
}
