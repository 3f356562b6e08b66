/* SPDX-License-Identifier: BSD-2-Clause */
/* The MFA factors: one table of what each does at login, in the attestation and after. */
#ifndef MFA_FACTOR_H
#define MFA_FACTOR_H

#include <stddef.h>
#include <time.h>

#include "pol.h"

struct mfa_state;

/*
 * What a factor's login step is given: the login, and the PAM stage's
 * conversation and audit log (pam/mfa_pam.c fills in the functions, so a
 * factor needs nothing of libpam).
 */
struct mfa_login {
	const struct pol *p;
	const struct pol_engineer *e;
	const char *user;
	const char *authinfo;	/* sshd's SSH_AUTH_INFO_0, or NULL */
	/* Asks for a code (echo off); 0, or not 0 with conv_failed set. */
	int (*ask)(struct mfa_login *l, char *code, size_t len);
	/* Shows msg to the user as an error, and notes that one was shown. */
	void (*say)(struct mfa_login *l, const char *msg);
	/*
	 * Opens the audit log unless it is open: 0, or MG_ERR_DENIED when the
	 * login cannot be recorded (why is set and the user told).
	 */
	int (*audit_ready)(struct mfa_login *l);
	void *ctx;		/* the PAM stage's */
	char *why;		/* out: the line for syslog and the audit event */
	size_t whylen;
	int shown;		/* out: the user was shown why */
	int locked_now;		/* out: a failure locked the account */
	int conv_failed;	/* out: the user could not be asked */
};

struct mfa_factor {
	unsigned bit;		/* POL_MFA_*; its name is pol_mfa_name(bit) */
	/*
	 * The factor's part of a login. need: the policy requires it. Returns
	 * 0 when it was verified, with its evidence for the attestation in ev
	 * (an empty ev makes the attestation refuse the login);
	 * MG_ERR_NOENT when it was not verified and is not needed; else the
	 * login is refused (MG_ERR_NOMEM, or any other MG_ERR_*; see also
	 * l->conv_failed). A step that refuses sets l->why; one that is
	 * needed and passes sets it too.
	 */
	int (*login)(struct mfa_login *l, int need, char *ev, size_t evlen);
	/*
	 * Checks evidence as the attestation carries it (one spelling per
	 * value). NULL when good, else the name of the bad field.
	 */
	const char *(*evidence_check)(const char *ev);
	/*
	 * Whether a login verified with evidence ev still counts for this
	 * factor at now, for a new session: 0 it does; MG_ERR_NOENT it no
	 * longer counts; MG_ERR_DENIED (why says what) or another MG_ERR_*
	 * refuses the session whatever the other factors say. st is the
	 * shared state, open (one connection for the whole check).
	 */
	int (*standing)(struct mfa_state *st, const struct pol *p,
	    const struct pol_engineer *e, const char *ev, time_t now, char *why,
	    size_t whylen);
};

/*
 * Every factor, in the order a login checks them (FIDO first: sshd has
 * verified it before the module runs) and the attestation lists them.
 */
extern const struct mfa_factor mfa_factors[];
extern const size_t mfa_nfactors;

/* The factor of bit (one POL_MFA_* bit) and its index in mfa_factors; NULL if none. */
const struct mfa_factor *mfa_factor_find(unsigned bit, size_t *index);

#endif
