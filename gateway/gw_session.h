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
	 * A SOCK_SEQPACKET socket to mspgated (-1: none): the session reports
	 * on it and takes mspgated's requests from it, as gw_child.h says.
	 */
	int parent;
	/*
	 * This account's refusals are over its rate limit (mspgated's
	 * gw_ratelim): a refusal goes to syslog, not the audit log. Each
	 * refusal is reported (GW_CHILD_REFUSED, audited or not).
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
