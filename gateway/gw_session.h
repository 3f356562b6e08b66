/* SPDX-License-Identifier: BSD-2-Clause */
/* One session in mspgated: identify, decide, connect, record, relay, audit. */
#ifndef GW_SESSION_H
#define GW_SESSION_H

#include <signal.h>

#include "pol.h"

struct gw_ctx {
	const struct pol *pol;
	volatile sig_atomic_t *stop;	/* set on SIGTERM: end the session cleanly */
	long connect_timeout;		/* seconds, per step of the target login */
};

/*
 * Serves one connection from mspgate-shell, in its own process (the
 * caller forked): the peer's identity comes from SO_PEERCRED only. Ends by
 * sending GW_MSG_END (unless the peer is gone). Returns 0 when a session
 * ran, 1 when it was refused or failed.
 */
int gw_session_serve(const struct gw_ctx *ctx, int sock);

#endif
