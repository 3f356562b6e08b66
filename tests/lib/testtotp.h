/* SPDX-License-Identifier: BSD-2-Clause */
/* Test helper: an active TOTP secret (SHA1, 6 digits, 30 s) with a fixed test key. */
#ifndef TESTTOTP_H
#define TESTTOTP_H

#include <string.h>

#include "mfa_state.h"

static inline void
tt_secret(struct mfa_secret *s)
{
	memset(s, 0, sizeof(*s));
	s->status = MFA_ACTIVE;
	s->alg = MFA_SHA1;
	s->digits = 6;
	s->period = 30;
	s->keylen = MFA_KEY_LEN;
	memset(s->key, 'k', s->keylen);
	s->last_step = -1;
	s->created = 1;
}

#endif
