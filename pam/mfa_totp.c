/* SPDX-License-Identifier: BSD-2-Clause */
/* RFC 6238 TOTP codes through liboath, checked in constant time with replay protection; the factor. */
#include <ctype.h>
#include <liboath/oath.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "mg_err.h"
#include "mg_time.h"
#include "mfa_attest.h"
#include "mfa_broker.h"
#include "mfa_state.h"
#include "mfa_totp.h"
#include "mfa_txn.h"

int64_t
mfa_totp_step(const struct mfa_secret *s, time_t now)
{
	if (now < 0)
		return 0;
	return (int64_t)now / s->period;
}

int
mfa_totp_code(const struct mfa_secret *s, int64_t step, char *out, size_t outlen)
{
	int flags = 0, r;

	if (outlen < 9 || step < 0 || (s->digits != 6 && s->digits != 8))
		return MG_ERR_INVAL;
	if (s->alg == MFA_SHA256)
		flags = OATH_TOTP_HMAC_SHA256;
	else if (s->alg == MFA_SHA512)
		flags = OATH_TOTP_HMAC_SHA512;
	/* liboath's own state is set up per call; it holds nothing of ours. */
	if (oath_init() != OATH_OK)
		return MG_ERR_CRYPTO;
	r = oath_totp_generate2((const char *)s->key, s->keylen,
	    (time_t)(step * s->period), (unsigned)s->period, 0,
	    (unsigned)s->digits, flags, out);
	oath_done();
	if (r != OATH_OK) {
		explicit_bzero(out, outlen);
		return MG_ERR_CRYPTO;
	}
	return 0;
}

int
mfa_totp_check(const struct mfa_secret *s, const char *code, time_t now,
    int skew, int64_t *step)
{
	char want[16];
	int64_t cur = mfa_totp_step(s, now), i, hit = -1;
	size_t n = strlen(code), k;
	int r = 0, used = 0, ok;

	*step = -1;
	if (n != (size_t)s->digits)
		return MG_ERR_DENIED;
	for (k = 0; k < n; k++)
		if (!isdigit((unsigned char)code[k]))
			return MG_ERR_DENIED;
	/*
	 * Newest step first, so a code valid for two steps (it happens with
	 * 6 digits) is credited to the later one. Every step is compared,
	 * matching or not, so the time taken says nothing about the code.
	 */
	for (i = cur + skew; i >= cur - skew; i--) {
		if (i < 0)
			continue;
		if ((r = mfa_totp_code(s, i, want, sizeof(want))) != 0)
			break;
		ok = CRYPTO_memcmp(want, code, n) == 0;
		if (ok && hit < 0 && i > s->last_step)
			hit = i;
		else if (ok)
			used = 1;
	}
	explicit_bzero(want, sizeof(want));
	if (r != 0)
		return r;
	if (hit >= 0) {
		*step = hit;
		return 0;
	}
	return used ? MG_ERR_EXISTS : MG_ERR_DENIED;
}

/* -------------------------------------------------------------------- */
/* The factor */

int
mfa_totp_login(struct mfa_login *l, int need, char *ev, size_t evlen)
{
	struct mfa_txn_result tres;
	char code[32];
	int r;

	ev[0] = '\0';
	/* Only a code asked for and checked here is TOTP. */
	if (!need)
		return MG_ERR_NOENT;
	if ((r = l->ask(l, code, sizeof(code))) != 0) {
		snprintf(l->why, l->whylen, "no code entered");
		goto out;
	}
	/*
	 * The audit log is opened before the code is checked: a login that
	 * could not be recorded is denied anyway (fail closed), and then
	 * without using up the engineer's code. It also keeps the key
	 * loading out of the time the user's lock is held.
	 */
	if ((r = l->audit_ready(l)) != 0)
		goto out;
	r = mfa_broker_check(l->p, l->user, code, mg_clock_now(), &tres, l->why, l->whylen);
	l->locked_now = tres.locked_now;
	/*
	 * The shared state cannot be reached (or answered too late): the code
	 * could not be recorded as used, so it was not accepted. Said plainly,
	 * so the engineer does not take it for a wrong code and lock herself out.
	 */
	if (r == MG_ERR_UNAVAIL || (r == MG_ERR_BUSY && l->p->state.backend ==
	    POL_STATE_POSTGRESQL))
		l->say(l, MFA_TOTP_MSG_UNAVAIL);
	if (r == 0)
		r = mfa_totp_evidence(tres.step, ev, evlen);
 out:
	explicit_bzero(code, sizeof(code));
	return r;
}

int
mfa_totp_evidence(int64_t step, char *ev, size_t evlen)
{
	int n = snprintf(ev, evlen, "%lld", (long long)step);

	return n < 0 || (size_t)n >= evlen ? MG_ERR_TOOBIG : 0;
}

const char *
mfa_totp_evidence_check(const char *ev)
{
	long long n;

	return mfa_attest_num(ev, 0, INT64_MAX / 2, &n) == 0 ? NULL : "step";
}

int
mfa_totp_standing(struct mfa_state *st, const struct pol *p,
    const struct pol_engineer *e, const char *ev, time_t now, char *why, size_t whylen)
{
	struct mfa_secret s;
	char err[512];
	int r;

	(void)p;
	(void)ev;
	(void)now;
	memset(&s, 0, sizeof(s));
	r = mfa_secret_load(st, e->name, &s, err, sizeof(err));
	if (r == 0 && s.status != MFA_ACTIVE)
		r = MG_ERR_NOENT;
	mfa_secret_wipe(&s);
	if (r == MG_ERR_NOENT) {
		snprintf(why, whylen, "TOTP is no longer enrolled for %s", e->name);
		return MG_ERR_DENIED;
	}
	if (r != 0) {
		snprintf(why, whylen, "TOTP secret unusable: %s", err);
		return r;
	}
	return 0;
}
