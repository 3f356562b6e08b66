/* SPDX-License-Identifier: BSD-2-Clause */
/* Relaying one session between the engineer's fds and a target channel, recorded. */
#ifndef GW_RELAY_H
#define GW_RELAY_H

#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <libssh/libssh.h>
#include <libssh/callbacks.h>

#include "rec_writer.h"

/* Why the relay stopped. */
enum gw_relay_end {
	GW_RELAY_REMOTE,	/* the remote command ended (exit status or signal) */
	GW_RELAY_ENGINEER,	/* the engineer's side went away */
	GW_RELAY_TIME,		/* end_by reached: window closed or max session */
	GW_RELAY_IDLE,		/* no traffic for idle_timeout */
	GW_RELAY_RECORDING,	/* the recording failed: fail closed */
	GW_RELAY_SHUTDOWN,	/* mspgated is stopping */
	GW_RELAY_NETWORK,	/* the connection to the target broke */
	GW_RELAY_KILLED,	/* an operator ended it (mspgatectl kill) */
	GW_RELAY_REVOKED,	/* a policy reload withdrew the grant */
	GW_RELAY_DENIED,	/* the anomaly detector ended it (gw_detect.h) */
};

struct gw_relay {
	int in, out, err;	/* the engineer's fds 0, 1, 2 */
	int ctl;		/* the mspgate-shell socket: RESIZE, hangup */
	int pty;		/* a pty session: in is a terminal, output on out */
	unsigned cols, rows;	/* pty: the size the target was last told */
	ssh_session session;
	ssh_channel channel;
	struct rec_writer *rec;
	time_t end_by;		/* 0: no limit */
	int64_t idle_timeout;	/* seconds; 0: none */
	volatile sig_atomic_t *stop;	/* set by a signal handler: shut down */
	/*
	 * Called once a second (warnings, reports to mspgated, operator
	 * requests); may change end_by. May be NULL. Returns 0 to go on, or
	 * the gw_relay_end that ends the session now.
	 */
	int (*tick)(struct gw_relay *r, time_t now, void *ctx);
	void *tick_ctx;
	/* Sees every relayed chunk (file-transfer audit); may be NULL. */
	void (*observe)(void *ctx, int from_target, const void *buf, size_t len);
	void *observe_ctx;
	/* Kept current by the relay, for tick: traffic so far and when last. */
	uint64_t bytes_in, bytes_out;
	time_t last_activity;
	/* What gw_relay_exitwatch_start saw before the relay ran; may be NULL. */
	const struct gw_relay_result *early;
	/* The relay's own: the engineer-bound queue and its writer (gw_relay.c). */
	struct gw_outq *outq;
};

struct gw_relay_result {
	enum gw_relay_end end;
	int has_status;		/* exit status received */
	int exit_status;
	int exit_signal;	/* a signal number, when the command was killed */
	char signame[32];	/* its name as the target sent it */
	uint64_t bytes_in, bytes_out;
	char err[256];		/* on GW_RELAY_NETWORK / RECORDING */
};

/*
 * Exit status and signal as they arrive, watched from the moment the
 * channel opens: a quick command can end while the session still waits for
 * the reply to its exec request, before the relay runs.
 */
struct gw_relay_exitwatch {
	struct gw_relay_result res;
	struct ssh_channel_callbacks_struct cb;
};
void gw_relay_exitwatch_start(ssh_channel ch, struct gw_relay_exitwatch *w);

/*
 * Runs the relay until the session ends; the channel is open and its
 * shell, exec or subsystem request done. On any end other than
 * GW_RELAY_REMOTE the remote command is stopped (signals HUP, then KILL)
 * and the channel closed, at once. Returns 0 (res says how it ended).
 *
 * The loop never blocks on either side, so stop, end_by, idle_timeout and
 * tick hold whatever the engineer's client does. Output for the engineer
 * goes through a bounded queue (GW_RELAY_QUEUE bytes) that a writer thread
 * empties with ordinary writes: the engineer's fds are shared with sshd's
 * side and stay blocking. A full queue stops reading the channel, so the
 * target's SSH window holds it back; input is written to the channel only
 * as far as its window allows, and the engineer's fd is not read until the
 * last input is gone. Everything is recorded as it is read, so what the
 * engineer never read is on file all the same. At the end the writer is
 * interrupted (SIGUSR2, a no-op handler) and joined.
 */
#define GW_RELAY_QUEUE (4 * 64 * 1024)
int gw_relay_run(struct gw_relay *r, struct gw_relay_result *res);

/*
 * Queues text for the engineer's terminal (warnings, prompts) while the
 * relay runs (from tick): never blocks. Returns 0, or -1 when the queue is
 * full or the relay is not running (the text is dropped: an engineer who
 * reads nothing sees nothing).
 */
int gw_relay_say(struct gw_relay *r, const char *text, size_t len);

/* Signal number of an SSH signal name ("TERM", "KILL"...), 0 if unknown. */
int gw_signal_number(const char *name);

#endif
