/* SPDX-License-Identifier: BSD-2-Clause */
/* The messages between mspgated and its state worker: live sessions shared through the state database. */
#ifndef GW_SYNC_H
#define GW_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "gw_child.h"
#include "pol.h"

/*
 * With state.backend = "postgresql", mspgated forks one long-lived worker
 * (gw_sync_worker.c) that alone talks to the database, so the main loop
 * never waits on it. The two ends of an AF_UNIX SOCK_SEQPACKET socket pair
 * speak the gw_msg framing (gw_msg.h), one message a packet, with the
 * types and tags below. Strings hold no NUL and no control byte; a
 * receiver refuses a message with an unknown type or tag, a repeated or
 * missing field, a string too long or unclean (MG_ERR_PARSE), and the
 * worker cleans what it read from the database before it sends it.
 *
 * mspgated -> worker (sent without waiting; queued in mspgated, bounded:
 * a message that does not fit is dropped and logged, and a SNAPSHOT
 * follows once the queue has drained, so the worker is right again):
 *
 * GW_SYNC_SESSION  a session started. ID, ENGINEER, TENANT, TARGET, LOGIN,
 *     KIND (required), START (required), SOURCE. The worker writes its
 *     row in mspgate_sessions.
 * GW_SYNC_GONE  the session ID (required) ended: its row is deleted.
 * GW_SYNC_SNAPSHOT  the whole table follows, as SESSIONs, then
 *     GW_SYNC_SNAPSHOT_END; the worker replaces this gateway's rows with
 *     exactly those. Sent to every new worker and after a dropped message.
 * GW_SYNC_KILL_OTHERS  the detector denied ENGINEER (required) and
 *     alerts.deny_ends_sessions is on: WHY (required, the rule in the
 *     engineer's words). The worker asks every other gateway holding a
 *     session of the engineer to end it (a mspgate_kill row each).
 * GW_SYNC_EVENT  the local detector committed an event to its history:
 *     KIND (required: "start" or "mfa_failure"), ENGINEER (required), START
 *     (required: when, seconds since the epoch), TENANT, TARGET (a
 *     "start"), SOURCE. The worker adds it to mspgate_events with this
 *     gateway's name; while the database is gone it is kept (the last
 *     4096, in order; the oldest beyond are dropped and said) and written
 *     once it is back, with its own time.
 *
 * worker -> mspgated (the worker may wait to send; mspgated never does):
 *
 * GW_SYNC_KILL  another gateway asked this one to end a session: ID (that
 *     session) or ENGINEER (every session of that engineer, a detector's
 *     deny), exactly one; WHO (required: the operator, or "detector"),
 *     FROM (required: the gateway that asked), WHY (required: the reason,
 *     or the detector's words). mspgated ends it as mspgatectl kill (an
 *     ID) or as the detector's deny (an ENGINEER) would, naming WHO and
 *     FROM; the session process audits it.
 * GW_SYNC_REMOTE  an event another gateway's detector committed (an
 *     mspgate_events row): the fields of GW_SYNC_EVENT, and FROM (required:
 *     that gateway). mspgated gives it to its detector as history only
 *     (gw_detect_remote): nothing is judged, nobody is refused for it.
 *     The worker looks for new rows every 0.5 s; its first look takes the
 *     sessions started in the last 8 days, so a gateway started again
 *     learns the recent history.
 * GW_SYNC_PEERS  the other gateways' live sessions follow, as PEERs, then
 *     GW_SYNC_PEERS_END: mspgated's detector replaces the set it had with
 *     exactly those (parallel use across gateways). Sent when the set
 *     read (every 0.5 s) differs from the one sent last, and empty when
 *     the database is lost (the other gateways' sessions are not known).
 * GW_SYNC_PEER  one of them: ID, ENGINEER, FROM (required: its gateway),
 *     SOURCE, START.
 */

#define GW_SYNC_MAX		4096	/* one packet, in bytes */
#define GW_SYNC_KIND_MAX	15
#define GW_SYNC_GW_MAX		POL_STATE_NAME_MAX	/* a gateway's name */

enum gw_sync_type {
	GW_SYNC_SESSION = 64,
	GW_SYNC_GONE = 65,
	GW_SYNC_SNAPSHOT = 66,
	GW_SYNC_SNAPSHOT_END = 67,
	GW_SYNC_KILL_OTHERS = 68,
	GW_SYNC_EVENT = 69,
	GW_SYNC_KILL = 80,
	GW_SYNC_REMOTE = 81,
	GW_SYNC_PEERS = 82,
	GW_SYNC_PEER = 83,
	GW_SYNC_PEERS_END = 84,
};

enum gw_sync_from {
	GW_SYNC_FROM_DAEMON = 1,
	GW_SYNC_FROM_WORKER = 2,
};

enum gw_sync_tag {
	GW_ST_ID = 1,		/* string, GW_CHILD_ID_MAX */
	GW_ST_ENGINEER = 2,	/* string, GW_CHILD_NAME_MAX */
	GW_ST_TENANT = 3,	/* string, GW_CHILD_NAME_MAX */
	GW_ST_TARGET = 4,	/* string, GW_CHILD_NAME_MAX */
	GW_ST_LOGIN = 5,	/* string, GW_CHILD_NAME_MAX */
	GW_ST_SOURCE = 6,	/* string, GW_CHILD_SOURCE_MAX */
	GW_ST_KIND = 7,		/* string, GW_SYNC_KIND_MAX ("shell", ...) */
	GW_ST_START = 8,	/* 8 bytes big-endian, seconds since the epoch, > 0 */
	GW_ST_WHO = 9,		/* string, GW_CHILD_WHO_MAX */
	GW_ST_FROM = 10,	/* string, GW_SYNC_GW_MAX */
	GW_ST_WHY = 11,		/* string, GW_CHILD_WHY_MAX */
};

/* One message: fixed-size, nothing to free. Absent strings are "". */
struct gw_sync_msg {
	int type;			/* enum gw_sync_type */
	char id[GW_CHILD_ID_MAX + 1];
	char engineer[GW_CHILD_NAME_MAX + 1];
	char tenant[GW_CHILD_NAME_MAX + 1];
	char target[GW_CHILD_NAME_MAX + 1];
	char login[GW_CHILD_NAME_MAX + 1];
	char source[GW_CHILD_SOURCE_MAX + 1];
	char kind[GW_SYNC_KIND_MAX + 1];
	int64_t start;
	char who[GW_CHILD_WHO_MAX + 1];
	char from[GW_SYNC_GW_MAX + 1];
	char why[GW_CHILD_WHY_MAX + 1];
};

/*
 * Encodes m into buf (cap bytes): 0 and *len, MG_ERR_INVAL (unknown type,
 * a field unclean, too long, missing, or one the type does not have) or
 * MG_ERR_TOOBIG.
 */
int gw_sync_encode(const struct gw_sync_msg *m, uint8_t *buf, size_t cap, size_t *len);
/* Decodes one packet into *m (zeroed first, and again on error): 0 or MG_ERR_PARSE. */
int gw_sync_decode(const uint8_t *buf, size_t len, struct gw_sync_msg *m);
/* Who sends type: GW_SYNC_FROM_DAEMON, GW_SYNC_FROM_WORKER, or 0. */
int gw_sync_from(int type);
/* "session", "gone", ...; "unknown". */
const char *gw_sync_type_name(int type);

/*
 * The worker: runs until mspgated closes its end of fd, then removes this
 * gateway's rows (its sessions are over) and exits. Never returns.
 */
void gw_sync_worker_run(int fd, const struct pol_state *ps) __attribute__((noreturn));

#endif
