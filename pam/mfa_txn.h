/* SPDX-License-Identifier: BSD-2-Clause */
/* The one TOTP transaction (lock, lockout, secret, check, replay record, unlock); whether a login stands. */
#ifndef MFA_TXN_H
#define MFA_TXN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "pol.h"
#include "mfa_attest.h"

struct mfa_txn_result {
	int64_t step;		/* the step accepted (on 0) */
	int locked_now;		/* this failure locked the account */
	int counted;		/* the attempt counted as a lockout failure */
};

/*
 * Checks code for user against the policy's store at now, all under the
 * user's lock: a locked account is refused; a wrong or replayed code, or
 * no (active) secret, counts as a failure (and may lock the account); a
 * good code is recorded as used before it is accepted, and clears the
 * failure count. pam_mspgate (login) and mspgated (require MFA again)
 * both come here (through mfa_broker_check, which may run it in
 * mspgated's broker), so the two cannot drift.
 * Returns 0 (accepted), MG_ERR_DENIED (refused: wrong, replayed, not
 * enrolled, not active, locked) or another MG_ERR_* (the store cannot be
 * used: refused too). why gets a line for syslog and the audit log, never
 * the code.
 */
int mfa_txn_totp(const struct pol *p, const char *user, const char *code, time_t now,
    struct mfa_txn_result *res, char *why, size_t whylen);
/*
 * The same transaction on st, which the caller made with mfa_state_init
 * for p and keeps (the broker, mfa_broker.c: its database connection
 * stays open between logins). mfa_txn_totp runs it on a state of its own;
 * mfa_broker_check (mfa_broker.h) asks the broker first.
 */
struct mfa_state;
int mfa_txn_totp_st(struct mfa_state *st, const struct pol *p, const char *user,
    const char *code, time_t now, struct mfa_txn_result *res, char *why, size_t whylen);

/*
 * Whether a login verified at some earlier time still stands at now, for
 * a new session on its connection (checked per channel, from the shared
 * state): the account is not locked out, and each factor of att still
 * counts as its standing function in mfa_factors says (TOTP: the secret
 * is still enrolled and active; a security key: still one of e's keys,
 * inside its dates). *still gets the factors of att->mfa that still count.
 * Returns 0, or MG_ERR_DENIED (why says what), or another MG_ERR_* when
 * the state cannot be read (refused too).
 */
int mfa_txn_standing(const struct pol *p, const struct pol_engineer *e,
    const struct mfa_attest *att, time_t now, unsigned *still, char *why, size_t whylen);
/* The same on a state the caller keeps open (mspgated's broker). */
int mfa_txn_standing_st(struct mfa_state *st, const struct pol *p,
    const struct pol_engineer *e, const struct mfa_attest *att, time_t now,
    unsigned *still, char *why, size_t whylen);

#endif
