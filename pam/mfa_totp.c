/* SPDX-License-Identifier: BSD-2-Clause */
/* RFC 6238 TOTP codes through liboath, checked in constant time with replay protection. */
#include <ctype.h>
#include <liboath/oath.h>
#include <openssl/crypto.h>
#include <string.h>

#include "mg_err.h"
#include "mfa_totp.h"

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
