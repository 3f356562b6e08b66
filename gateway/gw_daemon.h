/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mspgated's own state, one struct, and what its files (mspgated.c,
 * gw_daemon.c, gw_live.c, gw_pending.c, gw_ctl.c, gw_alert_act.c,
 * gw_watch.c) offer each other. Private to the daemon: nothing else
 * includes it.
 */
#ifndef GW_DAEMON_H
#define GW_DAEMON_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "gw_child.h"
#include "gw_detect.h"
#include "gw_ratelim.h"
#include "rec_audit.h"

struct pol;
struct gw_audq;
struct gw_sync;
struct sockaddr_un;

/*
 * Connections that have not asked for anything yet are held (in the poll
 * set, no process, no slot) this long at most.
 */
#define GW_FIRST_REQUEST_MS 2000
/* Control connections whose request is still coming in: this long, this many. */
#define GW_CTL_REQUEST_MS 2000
#define GW_CTL_MAX 16
/* Notification commands running at once; each gets this long, then SIGKILL. */
#define GW_NOTIFY_MAX 16
#define GW_NOTIFY_TIMEOUT_SECS 10
/*
 * Rate limits per account: audit events for refusals (a summary event
 * counts what was left out), syslog lines for strangers on the socket.
 */
#define GW_REFUSAL_BURST 20
#define GW_REFUSAL_WINDOW 60
#define GW_STRANGER_WINDOW 10
/* Audit-log lines longer than this are not events the daemon reads. */
#define GW_AUDIT_LINE_MAX 8192

/*
 * The live session table: one row per session process, filled in from
 * what the process reports over its socketpair (gw_child.h). A
 * process that has not reported yet (still deciding) has an empty id.
 */
struct gw_live {
	pid_t pid;
	uid_t uid;		/* the engineer's account (SO_PEERCRED) */
	int is_open;		/* a session (OPEN): takes a gateway slot */
	int fd;
	char id[GW_CHILD_ID_MAX + 1];
	char engineer[GW_CHILD_NAME_MAX + 1], tenant[GW_CHILD_NAME_MAX + 1];
	char target[GW_CHILD_NAME_MAX + 1], login[GW_CHILD_NAME_MAX + 1];
	char source[GW_CHILD_SOURCE_MAX + 1];	/* "": unknown */
	unsigned kind;		/* enum gw_child_kind */
	unsigned mfa;
	long long start, end_by, window_close, last;
	unsigned long long bin, bout;
	int withdrawn;
	int attempted;		/* its ATTEMPT came (one is all a session sends) */
	int started;		/* START sent to the detector: END is due */
	int waiting;		/* waits for approval (WAITING); end_by: until when */
	int denied;		/* the detector ended it already */
	int egress_held;	/* held once for a fresh code on egress (reauth) */
	int malformed;		/* it sent a report that did not read (logged once) */
};

/*
 * A connection on the session socket that has not asked yet. Only an
 * engineer's connection gets here, and no more of them than the
 * engineer's own cap (gateway.max_sessions_per_engineer).
 */
struct gw_pending {
	int fd;
	uid_t uid;
	unsigned long long accepted;	/* gw_attest_ticks_now() at accept */
	long long deadline;	/* ms, CLOCK_MONOTONIC */
	char name[64];
};

/* A control connection whose request is still coming in (gw_ctl.c). */
struct gw_ctl_pending {
	int fd;
	long long deadline;
	size_t got;
	char req[512];
	char who[128];
	uid_t uid;		/* the caller (SO_PEERCRED): approve and deny */
};

/*
 * An operator watching a live session (mspgatectl watch): the control
 * connection stays open while they watch, and its end is audited.
 */
#define GW_WATCH_MAX 16
struct gw_watcher {
	int fd;
	char id[GW_CHILD_ID_MAX + 1];
	char engineer[GW_CHILD_NAME_MAX + 1], tenant[GW_CHILD_NAME_MAX + 1];
	char target[GW_CHILD_NAME_MAX + 1];
	char who[128];
};

/* A notification command still running: reaped, or killed at its deadline. */
struct gw_notifier {
	pid_t pid;
	time_t deadline;
	char rule[32];
};

/*
 * Everything the daemon holds. One per mspgated, made in main and passed
 * down; a session process frees its copy (gw_daemon_free) but the policy,
 * which its session goes on using.
 */
struct gw_daemon {
	struct pol *pol;		/* the current policy; replaced on reload */
	const char *policy_path;
	char *sockpath, *ctlpath;	/* copies: a reload frees the policy's strings */
	int lfd, ctlfd;			/* the listening sockets, or -1 */
	gid_t admin_gid;		/* who may use the control socket */
	/* SIGTERM's flag (in mspgated.c), for a session process to watch. */
	volatile sig_atomic_t *stop;
	/* gw_broker.c: the TOTP broker (state.backend postgresql), or -1. */
	int broker_fd;
	pid_t broker_pid;
	time_t broker_next;		/* when it may be started again */
	/* gw_ship.c: the audit shipper (state.backend postgresql). */
	int ship_on;
	pid_t ship_pid;
	time_t ship_next;

	struct gw_live *live;		/* grown as needed up to gateway.max_sessions */
	size_t nlive, live_cap;
	struct gw_pending *pend;
	size_t npend, pend_cap;
	struct gw_ctl_pending ctlp[GW_CTL_MAX];
	size_t nctlp;
	struct gw_watcher watch[GW_WATCH_MAX];
	size_t nwatch;
	struct pollfd *pf;		/* the main loop's poll set */
	size_t pf_cap;

	struct gw_ratelim refusals, strangers;

	/*
	 * The one detector (gw_detect.h): sessions ask it through their
	 * socket pair; its history lives in <gateway.state>/detect.
	 */
	struct gw_detect *det;
	char det_path[4096];
	time_t det_saved;
	pid_t det_saver;		/* the process writing its state, or 0 */
	struct gw_notifier notifiers[GW_NOTIFY_MAX];
	size_t nnotifiers;
	/* Where the audit-log reader (MFA failures from pam_mspgate) is. */
	struct {
		off_t off;
		dev_t dev;
		ino_t ino;
		uint64_t seq;
		int primed;
	} tail;
	/*
	 * The daemon's own audit events wait here for a writer process
	 * (gw_audq.h): nothing in the main loop waits on the disk.
	 */
	struct gw_audq *audq;
	/*
	 * The state worker (gw_sync.h), with state.backend = "postgresql":
	 * live sessions shared with the other gateways. NULL with files.
	 */
	struct gw_sync *sync;
};

/* gw_daemon.c: the struct, the fds it holds, its audit events. */
struct gw_daemon *gw_daemon_new(void);
/* Frees everything d holds (the policy too, unless taken); closes nothing. */
void gw_daemon_free(struct gw_daemon *d);
/* In a forked process: closes the daemon's sockets but keep (may be NULL). */
void gw_daemon_close_fds(const struct gw_daemon *d, const int *keep);
/* Queues one of the daemon's audit events and starts its writer if none runs. */
void gw_daemon_audit(struct gw_daemon *d, const struct rec_audit_event *ev, int no_syslog);
/* Tries the writer again for events a failed one left behind. */
void gw_daemon_audit_kick(struct gw_daemon *d);
/*
 * One audit-log line (with its newline) through the audit library's
 * reader: 1 and the line in ln (its strings point into *rd, which the
 * caller frees, and into p), or 0 when it is no audit event.
 */
int gw_daemon_audit_parse(const char *p, size_t len, struct rec_audit_reader **rd,
    struct rec_audit_line *ln);
/*
 * Fills sa for path and removes a socket left there by a previous run;
 * anything else at path is not ours and is refused (-1, logged).
 */
int gw_daemon_sock_addr(const char *path, struct sockaddr_un *sa);
/* gw_ratelim reports; ctx is the daemon (refusals) or NULL (strangers). */
void gw_daemon_refusals_summary(void *ctx, uid_t uid, const char *name,
    unsigned suppressed, time_t window);
void gw_daemon_strangers_summary(void *ctx, uid_t uid, const char *name,
    unsigned suppressed, time_t window);

/* gw_live.c: the live session table and what session processes report. */
int gw_live_grow(struct gw_daemon *d);
/* Rows (and pending connections) of uid; or, open_only, the sessions holding a slot. */
size_t gw_live_rows(const struct gw_daemon *d, uid_t uid, int open_only);
/* Reads what l's process reported and answers the detector's questions. */
void gw_live_report(struct gw_daemon *d, struct gw_live *l);
/* A process ended: 1 when it was a session's (its row is gone). */
int gw_live_reaped(struct gw_daemon *d, pid_t pid);
/* The session behind l is over: the detector's END, once. */
void gw_live_end(struct gw_daemon *d, struct gw_live *l);
/* To a session process without waiting: 0, or -1 when it cannot be told. */
int gw_live_tell(const struct gw_live *l, const struct gw_child_msg *m);
/* Asks a session process to end (SIGTERM when it cannot be told). */
void gw_live_ask_end(const struct gw_live *l, const char *who);
/* The detector's deny on a running session, in words (another gateway's detector). */
void gw_live_deny(struct gw_live *l, const char *words);

/* gw_pending.c: connections on the session socket until they ask. */
int gw_pending_listen(const char *path);
void gw_pending_accept(struct gw_daemon *d);
void gw_pending_expire(struct gw_daemon *d);
/* The one request of pending connection j: a session process, or a refusal. */
void gw_pending_request(struct gw_daemon *d, size_t j);

/* gw_ctl.c: the control socket for mspgatectl(8). */
int gw_ctl_listen(const char *path, uid_t uid, gid_t gid);
void gw_ctl_accept(struct gw_daemon *d);
/* What arrived on pending control connection i; answered once complete. */
void gw_ctl_read(struct gw_daemon *d, size_t i);
void gw_ctl_expire(struct gw_daemon *d);
/* A watcher's connection said something or closed: its end is audited. */
void gw_ctl_watch_io(struct gw_daemon *d, size_t i);
/* At shutdown: every watcher's end audited, the connections closed. */
void gw_ctl_watch_close(struct gw_daemon *d);

/* gw_alert_act.c: the detector's verdicts acted on: audit, syslog, notify. */
enum gw_detect_action gw_alert_judge(struct gw_daemon *d, const struct gw_detect_event *ev,
    struct gw_detect_result *res);
void gw_alert_hits(struct gw_daemon *d, const struct gw_detect_event *ev,
    const struct gw_detect_result *res);
/* The rule behind the strongest action (what the engineer is told). */
const char *gw_alert_words(const struct gw_detect_result *res);
void gw_alert_expire(struct gw_daemon *d);
/* A process ended: 1 when it was a notification command. */
int gw_alert_reaped(struct gw_daemon *d, pid_t pid, int status);

/*
 * gw_broker.c: the process that runs logins' TOTP transactions on a
 * database connection it keeps (pam/mfa_broker.h), with state.backend =
 * "postgresql". Started after the privileges are dropped; restarted (at
 * most once a second) when it dies; stopped with the daemon.
 */
int gw_broker_start(struct gw_daemon *d);
int gw_broker_reaped(struct gw_daemon *d, pid_t pid, int status);
void gw_broker_tick(struct gw_daemon *d);
void gw_broker_stop(struct gw_daemon *d);

/*
 * gw_ship.c: the process that copies each line of the gateway's audit log
 * into the state database (mspgate_audit) once it is written, for
 * mspgatectl audit across gateways; the local log stays the record.
 */
int gw_ship_start(struct gw_daemon *d);
int gw_ship_reaped(struct gw_daemon *d, pid_t pid, int status);
void gw_ship_tick(struct gw_daemon *d);
void gw_ship_stop(struct gw_daemon *d);

/* gw_watch.c: the detector's state file, and MFA failures from the audit log. */
int gw_watch_start(struct gw_daemon *d);
/* Saves the state when due (force: now, from this process). */
void gw_watch_save(struct gw_daemon *d, int force);
/* A process ended: 1 when it was the state's writer. */
int gw_watch_reaped(struct gw_daemon *d, pid_t pid, int status);
/* New MFA failures in the audit log, to the detector. */
void gw_watch_tail(struct gw_daemon *d);

/* gw_sync.c: the state worker, with state.backend = "postgresql" (else no-ops). */
int gw_sync_start(struct gw_daemon *d);
void gw_sync_free(struct gw_sync *s);
/* In a forked process: closes the daemon's end of the worker's socket. */
void gw_sync_close_fd(const struct gw_sync *s);
/* At shutdown: what is queued is sent if it fits, and the socket closed. */
void gw_sync_stop(struct gw_daemon *d);
/* A session started (its row is complete) or ended: told to the worker. */
void gw_sync_session(struct gw_daemon *d, const struct gw_live *l);
void gw_sync_gone(struct gw_daemon *d, const struct gw_live *l);
/* The detector denied engineer: their sessions on the other gateways end too. */
void gw_sync_kill_others(struct gw_daemon *d, const char *engineer, const char *why);
/* A START or MFA_FAILURE the detector committed at when, for the other gateways' detectors. */
void gw_sync_event(struct gw_daemon *d, const struct gw_detect_event *ev, time_t when);
/* The worker's socket for the poll set (-1: none) and what to wait for. */
int gw_sync_pollfd(const struct gw_daemon *d, short *events);
void gw_sync_io(struct gw_daemon *d, short revents);
/* A process ended: 1 when it was the worker (started again later). */
int gw_sync_reaped(struct gw_daemon *d, pid_t pid, int status);
/* Each turn: a worker due is started again, the queue sent, a snapshot when due. */
void gw_sync_tick(struct gw_daemon *d);

#endif
