/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mspgated: the broker; takes sessions from mspgate-shell, one process per
 * session. This file: options, start-up, the event loop, reload, shutdown.
 * What the loop calls is in gw_daemon.h (the daemon's state, one struct).
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <libssh/libssh.h>

#include "gw_audq.h"
#include "gw_daemon.h"
#include "mg_diag.h"
#include "mg_err.h"
#include "mg_log.h"
#include "mg_time.h"
#include "pol.h"
#include "pol_decide.h"
#include "st_ready.h"

#define STOP_WAIT_SECS 15

/*
 * Set by the signal handler and read by the loop: the one state that
 * stays file-scope, since a handler is given nothing to write into.
 */
static volatile sig_atomic_t got_stop, got_hup, got_chld;

static void
on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else
		got_stop = 1;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: mspgated -f POLICY [-D] [-t] [-d] [-s SOCKET] [-c SOCKET] "
	    "[-u USER] [-g GROUP]\n");
}

/* Every child that ended, to whichever part of the daemon it was. */
static void
reap(struct gw_daemon *d)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (gw_audq_reaped(d->audq, pid, status) || gw_watch_reaped(d, pid, status) ||
		    gw_alert_reaped(d, pid, status) || gw_broker_reaped(d, pid, status) ||
		    gw_ship_reaped(d, pid, status) ||
		    gw_sync_reaped(d, pid, status))
			continue;
		(void)gw_live_reaped(d, pid);
		if (WIFSIGNALED(status))
			mg_log(LOG_ERR, "session process %d died of signal %d", (int)pid,
			    WTERMSIG(status));
	}
}

/* why: the first problem, for the audit log (may be NULL). */
static int
load_policy(const char *path, struct pol **out, char *why, size_t whylen)
{
	struct mg_diag *d = mg_diag_new();
	size_t i;
	int r;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (d == NULL)
		return MG_ERR_NOMEM;
	r = pol_load(path, out, d);
	for (i = 0; i < mg_diag_count(d); i++)
		mg_log(LOG_ERR, "%s", mg_diag_get(d, i));
	if (r != 0 && why != NULL)
		snprintf(why, whylen, "%s", mg_diag_count(d) > 0 ? mg_diag_get(d, 0) :
		    mg_strerror(r));
	mg_diag_free(d);
	return r;
}

/*
 * The state database (state.backend = "postgresql"), as a login would use
 * it: a setting that can never work (conninfo, password, schema missing or
 * of another version, key file) stops the start; a database that does not
 * answer now is logged and the start goes on, as logins then refuse codes
 * until it answers and need no restart when it does.
 */
static int
state_check(const struct pol *p)
{
	char err[512];
	int r;

	if ((r = st_ready(p, err, sizeof(err))) == 0)
		return 0;
	if (r == MG_ERR_UNAVAIL) {
		mg_log(LOG_WARNING, "state database: %s; one-time codes are refused "
		    "until it answers", err);
		return 0;
	}
	mg_log(LOG_ERR, "%s:%d: state: %s", p->state.loc.file != NULL ?
	    p->state.loc.file : "policy", p->state.loc.line, err);
	return -1;
}

static int
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (getuid() != 0 && geteuid() != 0) {
		if (user == NULL)
			return 0;
		pw = getpwnam(user);
		if (pw != NULL && pw->pw_uid == geteuid())
			return 0;
		mg_log(LOG_ERR, "-u %s: only root can change user", user);
		return -1;
	}
	if (user == NULL)
		user = "mspgate";
	if ((pw = getpwnam(user)) == NULL) {
		mg_log(LOG_ERR, "no such user: %s", user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		mg_log(LOG_ERR, "refusing to run sessions as root");
		return -1;
	}
	/* Group list first, then gid, then uid; and check there is no way back. */
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		mg_log(LOG_ERR, "cannot become %s: %s", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0 || geteuid() == 0) {
		mg_log(LOG_ERR, "privileges not dropped");
		return -1;
	}
	return 0;
}

/*
 * Every session holds one socket in this process: lift the soft limit on
 * open files to what max_sessions needs (within the hard limit).
 */
static void
raise_nofile(const struct pol *p)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)p->gateway.max_sessions + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ?
	    rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
		mg_log(LOG_WARNING, "open-file limit %llu is below gateway.max_sessions "
		    "(%d) + 64: raise LimitNOFILE", (unsigned long long)rl.rlim_cur,
		    p->gateway.max_sessions);
}

static void
audit_reload(struct gw_daemon *d, const char *result, const char *reason)
{
	struct rec_audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = REC_AUDIT_POLICY_RELOAD;
	ev.result = result;
	ev.reason = reason;
	gw_daemon_audit(d, &ev, 0);
}

/*
 * Live session l decided again under np: 1 when it is no longer granted
 * (and then told to end reload_grace from now, unless "finish").
 */
static int
withdraw(struct gw_live *l, const struct pol *np, time_t now)
{
	struct pol_request req = { 0 };
	struct pol_decision dec;
	struct gw_child_msg m;

	req.engineer = l->engineer;
	req.tenant = l->tenant;
	req.target = l->target;
	req.login = l->login;
	req.mfa_used = l->mfa;
	req.source = l->source[0] ? l->source : NULL;
	if (pol_decide(np, &req, &dec) == 0 && dec.allow)
		return 0;
	if (np->gateway.reload_grace == POL_GRACE_FINISH) {
		mg_log(LOG_NOTICE, "session %s: no longer granted (%s); left to finish",
		    l->id, dec.reason);
		return 1;
	}
	l->withdrawn = 1;
	mg_log(LOG_NOTICE, "session %s: no longer granted (%s); ends in %llds", l->id,
	    dec.reason, (long long)np->gateway.reload_grace);
	m.type = GW_CHILD_REVOKE;
	memset(&m.u.revoke, 0, sizeof(m.u.revoke));
	m.u.revoke.end_by = now + np->gateway.reload_grace;
	gw_child_copy(m.u.revoke.why, sizeof(m.u.revoke.why), dec.reason);
	if (gw_live_tell(l, &m) != 0)
		kill(l->pid, SIGTERM);
	return 1;
}

/*
 * SIGHUP: a new policy, or the old one kept. Every live session is
 * decided again under the new one; those it no longer allows are told to
 * end reload_grace from now (with the usual warnings), unless the policy
 * says "finish".
 */
static void
reload(struct gw_daemon *d)
{
	struct pol *np = NULL;
	char why[600], reason[800];
	size_t i, withdrawn = 0;
	time_t now = time(NULL);

	if (load_policy(d->policy_path, &np, why, sizeof(why)) != 0) {
		mg_log(LOG_ERR, "policy reload failed; keeping the old one: %s", why);
		snprintf(reason, sizeof(reason), "refused, the old policy is kept: %s", why);
		audit_reload(d, "failure", reason);
		return;
	}
	if (d->det != NULL && gw_detect_set_policy(d->det, &np->alerts, why, sizeof(why)) != 0)
		mg_log(LOG_ERR, "detector keeps the old alert rules: %s", why);
	pol_free(d->pol);
	d->pol = np;
	for (i = 0; i < d->nlive; i++) {
		struct gw_live *l = &d->live[i];

		if (l->id[0] != '\0' && !l->withdrawn)
			withdrawn += withdraw(l, np, now);
	}
	snprintf(reason, sizeof(reason), "policy reloaded; %zu live session(s) no longer "
	    "granted%s", withdrawn, withdrawn && np->gateway.reload_grace == POL_GRACE_FINISH ?
	    " (left to finish)" : "");
	mg_log(LOG_INFO, "%s", reason);
	audit_reload(d, "success", reason);
}

/* The poll set fits every row and pending connection; -1 when out of memory. */
static int
pf_fit(struct gw_daemon *d)
{
	size_t want = d->nlive + d->npend + d->nctlp + d->nwatch + 3;
	struct pollfd *np;

	if (want <= d->pf_cap)
		return 0;
	want += 64;
	if ((np = reallocarray(d->pf, want, sizeof(*np))) == NULL)
		return -1;
	d->pf = np;
	d->pf_cap = want;
	return 0;
}

/*
 * Where each part of the table sits in the poll set: the two listening
 * sockets, the session rows, the control requests, the pending connections.
 */
struct poll_at {
	size_t nlive, ctl, nctl, pend, npend, watch, nwatch, n;
	int timeout;
	long sync;		/* the state worker's slot, or -1 */
};

/* A slot for fd; the timeout shrinks to its deadline (ms; 0: none). */
static void
poll_add(struct gw_daemon *d, struct poll_at *at, int fd, long long deadline)
{
	d->pf[at->n].fd = fd;
	d->pf[at->n++].events = POLLIN;
	if (deadline != 0) {
		long long left = deadline - mg_mono_ms();

		/* Wake for the first deadline: nobody waits on a silent peer. */
		if (left < at->timeout)
			at->timeout = left < 0 ? 0 : (int)left;
	}
}

static void
poll_build(struct gw_daemon *d, struct poll_at *at)
{
	size_t i;
	short ev;
	int fd;

	memset(at, 0, sizeof(*at));
	at->timeout = 1000;
	poll_add(d, at, d->lfd, 0);
	poll_add(d, at, d->ctlfd, 0);
	for (i = 0; i < d->nlive; i++)
		poll_add(d, at, d->live[i].fd, 0);
	at->nlive = d->nlive;
	/* Control requests still coming in, then silent session connections. */
	at->ctl = at->n;
	for (i = 0; i < d->nctlp; i++)
		poll_add(d, at, d->ctlp[i].fd, d->ctlp[i].deadline);
	at->nctl = d->nctlp;
	at->pend = at->n;
	for (i = 0; i < d->npend; i++)
		poll_add(d, at, d->pend[i].fd, d->pend[i].deadline);
	at->npend = d->npend;
	at->watch = at->n;
	for (i = 0; i < d->nwatch; i++)
		poll_add(d, at, d->watch[i].fd, 0);
	at->nwatch = d->nwatch;
	at->sync = -1;
	if ((fd = gw_sync_pollfd(d, &ev)) >= 0) {
		at->sync = (long)at->n;
		poll_add(d, at, fd, 0);
		d->pf[at->sync].events = ev;
	}
}

/*
 * What poll found. Control requests and pending connections are taken
 * last first: each one handled leaves its list, and the last moves into
 * its place.
 */
static void
poll_dispatch(struct gw_daemon *d, const struct poll_at *at)
{
	const struct pollfd *pf = d->pf;
	size_t i, j;

	/* Reports first: the table is current when mspgatectl asks. */
	for (i = 0; i < d->nlive && i < at->nlive; i++)
		if (d->live[i].fd >= 0 && pf[2 + i].fd == d->live[i].fd && pf[2 + i].revents)
			gw_live_report(d, &d->live[i]);
	for (j = at->nctl; j-- > 0;)
		if (j < d->nctlp && pf[at->ctl + j].fd == d->ctlp[j].fd &&
		    pf[at->ctl + j].revents)
			gw_ctl_read(d, j);
	for (j = at->nwatch; j-- > 0;)
		if (j < d->nwatch && pf[at->watch + j].fd == d->watch[j].fd &&
		    pf[at->watch + j].revents)
			gw_ctl_watch_io(d, j);
	if (pf[1].revents & POLLIN)
		gw_ctl_accept(d);
	/* Requests on pending connections; a new row may be made for each. */
	for (j = at->npend; j-- > 0;)
		if (j < d->npend && pf[at->pend + j].fd == d->pend[j].fd &&
		    pf[at->pend + j].revents)
			gw_pending_request(d, j);
	if (pf[0].revents & POLLIN)
		gw_pending_accept(d);
	if (at->sync >= 0 && pf[at->sync].revents)
		gw_sync_io(d, pf[at->sync].revents);
}

/* What is due each turn, whatever woke the loop. */
static void
loop_chores(struct gw_daemon *d)
{
	if (got_chld) {
		got_chld = 0;
		reap(d);
	}
	if (got_hup) {
		got_hup = 0;
		reload(d);
		raise_nofile(d->pol);
	}
	gw_alert_expire(d);
	/* Events a failed writer left behind are tried again. */
	gw_daemon_audit_kick(d);
	gw_watch_tail(d);
	gw_watch_save(d, 0);
	gw_broker_tick(d);
	gw_ship_tick(d);
	gw_pending_expire(d);
	gw_ctl_expire(d);
	gw_sync_tick(d);
	gw_ratelim_flush(&d->refusals, time(NULL), gw_daemon_refusals_summary, d);
	gw_ratelim_flush(&d->strangers, time(NULL), gw_daemon_strangers_summary, NULL);
}

static void
loop(struct gw_daemon *d)
{
	struct poll_at at;

	while (!got_stop) {
		loop_chores(d);
		if (pf_fit(d) != 0) {
			mg_log(LOG_ERR, "out of memory for the session table");
			usleep(100000);
			continue;
		}
		poll_build(d, &at);
		if (poll(d->pf, at.n, at.timeout) > 0)
			poll_dispatch(d, &at);
	}
}

/* Every session ends (SIGTERM, then SIGKILL); what is owed is written. */
static void
shutdown_daemon(struct gw_daemon *d)
{
	time_t stop_at;
	size_t i;

	mg_log(LOG_INFO, "stopping: ending %zu session(s)", d->nlive);
	gw_broker_stop(d);
	gw_ship_stop(d);
	for (i = 0; i < d->npend; i++)
		close(d->pend[i].fd);
	d->npend = 0;
	for (i = 0; i < d->nctlp; i++)
		close(d->ctlp[i].fd);
	d->nctlp = 0;
	gw_ctl_watch_close(d);
	for (i = 0; i < d->nlive; i++)
		kill(d->live[i].pid, SIGTERM);
	stop_at = time(NULL) + STOP_WAIT_SECS;
	while (d->nlive > 0 && time(NULL) < stop_at) {
		reap(d);
		if (d->nlive > 0)
			usleep(100000);
	}
	for (i = 0; i < d->nlive; i++) {
		gw_live_end(d, &d->live[i]);
		kill(d->live[i].pid, SIGKILL);
	}
	gw_watch_save(d, 1);
	gw_sync_stop(d);
	/* What the rate limits left out is counted before the daemon goes. */
	reap(d);
	gw_ratelim_flush(&d->refusals, time(NULL) + GW_REFUSAL_WINDOW,
	    gw_daemon_refusals_summary, d);
	gw_ratelim_flush(&d->strangers, time(NULL) + GW_STRANGER_WINDOW,
	    gw_daemon_strangers_summary, NULL);
	/* The daemon's last events, from this process: nothing queued is lost. */
	if (gw_audq_drain(d->audq, d->pol->gateway.audit, d->pol->gateway.signing_key) != 0)
		mg_log(LOG_ERR, "audit: %zu events could not be written", gw_audq_len(d->audq));
}

/*
 * The sockets (as root, if started so), then the service account, the
 * background, the audit queue, the detector and the signal handlers.
 */
static int
start(struct gw_daemon *d, const char *user, const char *group, int fg)
{
	struct sigaction sa;
	struct passwd *pw;
	struct group *gr;
	uid_t uid;

	/* Who owns the control socket: the service account, and the admin group. */
	if (user == NULL && (getuid() == 0 || geteuid() == 0))
		user = d->pol->gateway.user;
	pw = getpwnam(user != NULL ? user : "");
	uid = pw != NULL ? pw->pw_uid : geteuid();
	d->admin_gid = pw != NULL ? pw->pw_gid : getegid();
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL) {
			mg_log(LOG_ERR, "-g %s: no such group", group);
			return -1;
		}
		d->admin_gid = gr->gr_gid;
	}
	if ((d->lfd = gw_pending_listen(d->sockpath)) < 0 ||
	    (d->ctlfd = gw_ctl_listen(d->ctlpath, uid, d->admin_gid)) < 0 ||
	    drop_privileges(user) != 0)
		return -1;
	if (!fg && daemon(0, 0) != 0) {
		mg_log(LOG_ERR, "daemon: %s", strerror(errno));
		return -1;
	}
	/* As the service account: the state file is its own. */
	if ((d->audq = gw_audq_new()) == NULL) {
		mg_log(LOG_ERR, "out of memory");
		return -1;
	}
	if (gw_watch_start(d) != 0 || gw_broker_start(d) != 0 ||
	    gw_ship_start(d) != 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* As the service account too: the worker reads the state's password file as it. */
	if (gw_sync_start(d) != 0)
		return -1;
	mg_log(LOG_INFO, "listening on %s, control on %s", d->sockpath, d->ctlpath);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *user = NULL, *group = NULL;
	struct gw_daemon *d;
	int c, fg = 0, test = 0, rc = 1;

	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if ((d = gw_daemon_new()) == NULL) {
		fprintf(stderr, "mspgated: out of memory\n");
		return 1;
	}
	d->stop = &got_stop;
	while ((c = getopt(argc, argv, "f:Dtds:c:u:g:h")) != -1) {
		switch (c) {
		case 'f': d->policy_path = optarg; break;
		case 'D': fg = 1; break;
		case 't': test = 1; break;
		case 'd': mg_log_set_verbose(1); break;
		case 's': free(d->sockpath); d->sockpath = strdup(optarg); break;
		case 'c': free(d->ctlpath); d->ctlpath = strdup(optarg); break;
		case 'u': user = optarg; break;
		case 'g': group = optarg; break;
		case 'h': usage(stdout); rc = 0; goto out;
		default: usage(stderr); rc = 2; goto out;
		}
	}
	if (d->policy_path == NULL || optind != argc) {
		usage(stderr);
		rc = 2;
		goto out;
	}
	/*
	 * -D copies each message to stderr, except under systemd with stderr
	 * in the journal (JOURNAL_STREAM), which has the syslog line already.
	 */
	mg_log_init("mspgated", LOG_AUTHPRIV, test || (fg && getenv("JOURNAL_STREAM") == NULL));
	if (load_policy(d->policy_path, &d->pol, NULL, 0) != 0) {
		mg_log(LOG_ERR, "%s: policy not loaded", d->policy_path);
		goto out;
	}
	if (state_check(d->pol) != 0)
		goto out;
	if (test) {
		rc = 0;
		goto out;
	}
	/* Copies: a reloaded policy frees the old strings. */
	if ((d->sockpath == NULL &&
	    (d->sockpath = strdup(d->pol->gateway.session_socket)) == NULL) ||
	    (d->ctlpath == NULL &&
	    (d->ctlpath = strdup(d->pol->gateway.control_socket)) == NULL))
		goto out;
	raise_nofile(d->pol);
	if (ssh_init() != 0) {
		mg_log(LOG_ERR, "libssh initialisation failed");
		goto out;
	}
	if (start(d, user, group, fg) == 0) {
		loop(d);
		shutdown_daemon(d);
		rc = 0;
	}
	ssh_finalize();
out:
	if (d->lfd >= 0) {
		close(d->lfd);
		unlink(d->sockpath);
	}
	if (d->ctlfd >= 0) {
		close(d->ctlfd);
		unlink(d->ctlpath);
	}
	gw_daemon_free(d);
	return rc;
}
