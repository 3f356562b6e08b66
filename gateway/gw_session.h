/* SPDX-License-Identifier: BSD-2-Clause */
/* One session in mspgated: identify, decide, connect, record, relay, audit. */
#ifndef GW_SESSION_H
#define GW_SESSION_H

#include <signal.h>

#include "gw_msg.h"
#include "pol.h"

struct gw_ctx {
	const struct pol *pol;
	volatile sig_atomic_t *stop;	/* set on SIGTERM: end the session cleanly */
	long connect_timeout;		/* seconds, per step of the target login */
	/*
	 * A SOCK_SEQPACKET socket to mspgated (-1: none). The session reports
	 * on it, tab-separated text, one message a packet:
	 *   S id engineer tenant target login start end_by window_close mfa source kind
	 *   U bytes_in bytes_out last_activity end_by
	 *   A engineer tenant target source allowed(1|0) refusal(window|other)
	 *                  the detector's ATTEMPT: the session waits for V
	 *   C text         an exec command (the rest of the packet, control
	 *                  characters as spaces, at most 32768 bytes)
	 *   I text         a line typed on a pty session (at most 512 bytes)
	 * S is the detector's START, U its BYTES (bytes_out), and the end of
	 * the process its END. The session reads from it:
	 *   V action words the verdict on A: none, alert, reauth or deny, and
	 *                  the rule in words ("tenant fan-out")
	 *   D words        the detector ended the session
	 *   K who          an operator ended the session (mspgatectl kill)
	 *   R end_by why   a reload withdrew the grant: end by end_by, warned
	 *   M words        the detector requires MFA again on the running
	 *                  session (reauth): a pty session is held, nothing
	 *                  relayed, until a fresh TOTP code is typed (60 s);
	 *                  a wrong code, none, or no terminal ends it
	 */
	int parent;
	/*
	 * This account's refusals are over its rate limit (mspgated's
	 * gw_ratelim): a refusal goes to syslog, not the audit log. Each
	 * refusal is reported as "X\t1" (audited) or "X\t0" (not).
	 */
	int quiet_refusals;
	/* gw_attest_ticks_now() when mspgated accepted the connection (0: now). */
	unsigned long long accepted;
};

/*
 * Serves one connection from mspgate-shell, in its own process (the
 * caller forked): the peer's identity comes from SO_PEERCRED only. first
 * is the connection's one request, already read by mspgated (GW_MSG_OPEN
 * with the engineer's fds 0-2 in fds, or GW_MSG_LIST); it is the callee's
 * to clear, the fds its to close. Ends by sending GW_MSG_END or the
 * TARGETS answer (unless the peer is gone). Returns 0 when a session ran
 * or the list was answered, 1 when it was refused or failed.
 */
int gw_session_serve(const struct gw_ctx *ctx, int sock, struct gw_msg *first,
    const int *fds, size_t nfds);

#endif
