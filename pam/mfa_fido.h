/* SPDX-License-Identifier: BSD-2-Clause */
/* The FIDO first factor: which key sshd's publickey method accepted (SSH_AUTH_INFO_0), its evidence and standing. */
#ifndef MFA_FIDO_H
#define MFA_FIDO_H

#include <stddef.h>
#include <time.h>

#include "pol.h"
#include "mfa_factor.h"

/* Longest SSH_AUTH_INFO_0 we read; sshd's are a few lines. */
#define MFA_AUTHINFO_MAX	65536

/*
 * Passes when authinfo (sshd's SSH_AUTH_INFO_0: one "METHOD [DETAILS]"
 * line per completed method, e.g. "publickey sk-ssh-ed25519@openssh.com
 * AAAA...") has a publickey line whose key is a security key (sk-*) of
 * engineer e, inside that key's validity dates at now.
 * Returns 0; MG_ERR_NOENT when authinfo is NULL or names no publickey
 * method (not behind sshd); MG_ERR_DENIED when no line has such a key;
 * MG_ERR_TOOBIG. why (may be NULL) gets a line for syslog, no secrets.
 */
int mfa_fido_check(const struct pol_engineer *e, const char *authinfo,
    time_t now, char *why, size_t whylen);
/* The same; on 0, *key (if not NULL) is the engineer's key that matched. */
int mfa_fido_check_key(const struct pol_engineer *e, const char *authinfo,
    time_t now, const struct pol_key **key, char *why, size_t whylen);

/*
 * Its entry in mfa_factors (pam/mfa_factor.h says what each does). The
 * evidence is "FP UNTIL": the SHA256 fingerprint of the key as checked
 * (mg_sshkey_fingerprint) and the end of its validity (Unix time, 0: no
 * bound). Used, FIDO is verified even where it is not required; it stands
 * while the key is still one of the engineer's sk keys, inside its dates.
 */
int mfa_fido_login(struct mfa_login *l, int need, char *ev, size_t evlen);
const char *mfa_fido_evidence_check(const char *ev);
int mfa_fido_standing(struct mfa_state *st, const struct pol *p,
    const struct pol_engineer *e, const char *ev,
    time_t now, char *why, size_t whylen);

#endif
