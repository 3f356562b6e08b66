/* SPDX-License-Identifier: BSD-2-Clause */
/* The TOTP transaction run by mspgated's broker over a database connection it keeps, for logins on the gateway. */
#ifndef MFA_BROKER_H
#define MFA_BROKER_H

#include <stddef.h>
#include <time.h>

#include "mfa_txn.h"
#include "pol.h"

/*
 * With state.backend = "postgresql" a login would open a connection of its
 * own to the database (sshd starts a process per connection): the TCP
 * handshake, the SCRAM exchange and a new server backend cost about 11 ms,
 * ten times the transaction. On a gateway, mspgated runs a broker process
 * that keeps one connection open and runs the same transaction
 * (mfa_txn_totp_st) for each login it is asked to check.
 *
 * The socket is <gateway.state>/state.sock, the service account's, mode
 * 0600. The broker answers root (pam_mspgate in sshd) and the service
 * account (mspgated's sessions re-asking for a code) only (SO_PEERCRED);
 * a client talks to a socket only when the service account or root owns
 * it. One request a connection: "totp USER CODE NOW\n"; the answer
 * "R STEP LOCKED_NOW COUNTED WHY\n" (tab-separated; R an MG_ERR_* code, WHY
 * the line for syslog, never the code). Or a login's standing for a new
 * session: "standing USER NOW EV...\n" (tab-separated, each factor's
 * evidence from the attestation or "-", in mfa_factors' order), answered
 * "R STILL WHY\n" (STILL the factors that still count). The broker takes
 * no decision of its own: the answer is the transaction's.
 */

/*
 * What a login and a re-authentication call: with the state in the
 * database, the broker when there is one here, else mfa_txn_totp on a
 * connection of the caller's own; with files, mfa_txn_totp. Same result
 * and meaning as mfa_txn_totp.
 */
int mfa_broker_check(const struct pol *p, const char *user, const char *code,
    time_t now, struct mfa_txn_result *res, char *why, size_t whylen);

/*
 * What a new session on a login asks (mspgated's session processes): the
 * broker when the state is in the database and there is one here, else
 * mfa_txn_standing. Same result and meaning as mfa_txn_standing; a broker
 * that does not answer refuses (MG_ERR_UNAVAIL).
 */
int mfa_broker_standing_check(const struct pol *p, const struct pol_engineer *e,
    const struct mfa_attest *att, time_t now, unsigned *still, char *why, size_t whylen);
/* Asks the broker only: MG_ERR_NOENT when there is none here. */
int mfa_broker_standing(const struct pol *p, const struct pol_engineer *e,
    const struct mfa_attest *att, time_t now, unsigned *still, char *why, size_t whylen);

/* The socket's name under gateway.state. */
#define MFA_BROKER_SOCK "state.sock"

/*
 * Asks the broker. Returns MG_ERR_NOENT when there is no broker here (no
 * socket, nobody listening, not owned by root or the service account):
 * the caller then runs the transaction itself. Otherwise the transaction's
 * result, or MG_ERR_UNAVAIL when the broker did not answer within the
 * policy's state.timeout and a margin (refused: never retried elsewhere,
 * as the broker may have used the code).
 */
int mfa_broker_totp(const struct pol *p, const char *user, const char *code,
    time_t now, struct mfa_txn_result *res, char *why, size_t whylen);

/*
 * The broker: listens on lfd (bound by mfa_broker_listen) and answers
 * until *stop is set, with the policy at path (parsed again when its
 * files change). Returns 0 on stop.
 */
int mfa_broker_serve(const char *path, int lfd, volatile int *stop);

/* Binds <gateway.state>/state.sock (replacing a stale one), mode 0600. -1 on error (logged in err). */
int mfa_broker_listen(const struct pol *p, char *err, size_t errlen);

#endif
