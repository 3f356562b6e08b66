/* SPDX-License-Identifier: BSD-2-Clause */
/* mspgated: the broker; takes sessions from mspgate-shell, one process per session. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <libssh/libssh.h>

#include "gw_attest.h"
#include "gw_audq.h"
#include "gw_child.h"
#include "gw_detect.h"
#include "gw_msg.h"
#include "gw_ratelim.h"
#include "gw_session.h"
#include "mg_diag.h"
#include "mg_err.h"
#include "mg_file.h"
#include "mg_log.h"
#include "mg_time.h"
#include "pol.h"
#include "pol_decide.h"
#include "rec_audit.h"

#define STOP_WAIT_SECS 15
/* The detector's state is written at most this often (and at shutdown). */
#define DETECT_SAVE_SECS 10
/* A notification command gets this long, then SIGKILL. */
#define NOTIFY_TIMEOUT_SECS 10
#define MAX_NOTIFIERS 16
/* Audit-log lines longer than this are not auth failures we can read. */
#define AUDIT_LINE_MAX 8192
#define AUDIT_READ_MAX (256 * 1024)

static volatile sig_atomic_t got_stop, got_hup, got_chld;

/*
 * The live session table: one row per session process, filled in from
 * what the process reports over its socketpair (gw_child.h). A
 * process that has not reported yet (still deciding) has an empty id.
 */
struct live {
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
	int started;		/* START sent to the detector: END is due */
	int denied;		/* the detector ended it already */
	int egress_held;	/* held once for a fresh code on egress (reauth) */
	int malformed;		/* it sent a report that did not read (logged once) */
};
static struct live *live;	/* grown as needed up to gateway.max_sessions */
static size_t nchildren, live_cap;

/*
 * Connections that have not asked for anything yet: held here, in the
 * poll set, for FIRST_REQUEST_MS at most; no process, no slot. Only an
 * engineer's connection gets here, and no more of them than the
 * engineer's own cap (gateway.max_sessions_per_engineer).
 */
#define FIRST_REQUEST_MS 2000
struct pending {
	int fd;
	uid_t uid;
	unsigned long long accepted;	/* gw_attest_ticks_now() at accept */
	long long deadline;	/* ms, CLOCK_MONOTONIC */
	char name[64];
};
static struct pending *pend;
static size_t npend, pend_cap;

/* Control connections whose request is still coming in (see ctl_request). */
#define CTL_REQUEST_MS 2000
#define CTL_MAX 16
static struct ctl_pending {
	int fd;
	long long deadline;
	size_t got;
	char req[512];
	char who[128];
} ctlp[CTL_MAX];
static size_t nctlp;

/*
 * Rate limits per account: audit events for refusals (a summary event
 * counts what was left out), syslog lines for strangers on the socket.
 */
#define REFUSAL_BURST 20
#define REFUSAL_WINDOW 60
#define STRANGER_WINDOW 10
static struct gw_ratelim refusals, strangers;

/*
 * The one detector (gw_detect.h): sessions ask it through their socket
 * pair; its history lives in <gateway.state>/detect.
 */
static struct gw_detect *det;
static char det_path[4096];
static time_t det_saved;
static pid_t det_saver;		/* the process writing the detector's state, or 0 */
static struct pol *cur_pol;	/* for the audit log and the notify command */

/* Notification commands still running: reaped, or killed at their deadline. */
static struct notifier {
	pid_t pid;
	time_t deadline;
	char rule[32];
} notifiers[MAX_NOTIFIERS];
static size_t nnotifiers;

/* Where the audit-log reader (MFA failures from pam_mspgate) is. */
static struct {
	off_t off;
	dev_t dev;
	ino_t ino;
	uint64_t seq;
	int primed;
} tail;

/*
 * The daemon's own audit events wait here for a writer process (gw_audq.h):
 * nothing in the main loop waits on the disk.
 */
static struct gw_audq *audq;
static int g_lfd = -1, g_ctlfd = -1;	/* the listening sockets, for close_daemon_fds */

static void end_row(struct live *l);
static void child_report(struct live *l);
static void ctl_alerts(FILE *fd, long long since);
static void refusals_summary(void *ctx, uid_t uid, const char *name, unsigned suppressed,
    time_t window);

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

/*
 * In a process forked to do one job (an audit writer, the detector's
 * saver, an answer to a slow reader): the daemon's sockets are not its to
 * hold. A copy held open would keep an answered mspgatectl or a refused
 * engineer waiting for the end of the connection until that job ends.
 * keep: one descriptor the job needs (or NULL).
 */
static void
close_daemon_fds(const int *keep)
{
	size_t i;

	if (g_lfd >= 0)
		close(g_lfd);
	if (g_ctlfd >= 0)
		close(g_ctlfd);
	for (i = 0; i < nchildren; i++)
		if (live[i].fd >= 0)
			close(live[i].fd);
	for (i = 0; i < npend; i++)
		close(pend[i].fd);
	for (i = 0; i < nctlp; i++)
		if (keep == NULL || ctlp[i].fd != *keep)
			close(ctlp[i].fd);
}

static void
audit_child_init(void *arg)
{
	(void)arg;
	close_daemon_fds(NULL);
}

/* Queues one of the daemon's events and starts its writer if none runs. */
static void
audit_queue(const struct rec_audit_event *ev, int no_syslog)
{
	if (audq == NULL || cur_pol == NULL)
		return;
	(void)gw_audq_add(audq, ev, no_syslog);
	(void)gw_audq_kick(audq, cur_pol->gateway.audit, cur_pol->gateway.signing_key,
	    audit_child_init, NULL);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: mspgated -f POLICY [-D] [-t] [-d] [-s SOCKET] [-c SOCKET] "
	    "[-u USER] [-g GROUP]\n");
}

static void
reap(void)
{
	pid_t pid;
	int status;
	size_t i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (gw_audq_reaped(audq, pid, status))
			continue;
		if (pid == det_saver) {
			det_saver = 0;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				/* Not on file: written again at the next turn. */
				if (det != NULL)
					gw_detect_set_dirty(det, 1);
				mg_log(LOG_ERR, "detector state %s: not saved", det_path);
			}
			continue;
		}
		for (i = 0; i < nnotifiers; i++) {
			if (notifiers[i].pid != pid)
				continue;
			if (WIFSIGNALED(status))
				mg_log(LOG_ERR, "alert notification (%s): killed by signal %d",
				    notifiers[i].rule, WTERMSIG(status));
			else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
				mg_log(LOG_ERR, "alert notification (%s): exit status %d",
				    notifiers[i].rule, WEXITSTATUS(status));
			notifiers[i] = notifiers[--nnotifiers];
			pid = 0;
			break;
		}
		if (pid == 0)
			continue;
		for (i = 0; i < nchildren; i++) {
			if (live[i].pid == pid) {
				/* Its last reports (a refusal to count) before it goes. */
				if (live[i].fd >= 0)
					child_report(&live[i]);
				end_row(&live[i]);
				if (live[i].fd >= 0)
					close(live[i].fd);
				live[i] = live[--nchildren];
				break;
			}
		}
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
 * Fills sa for path and removes a socket left there by a previous run;
 * anything else at path is not ours and is refused.
 */
static int
sock_addr(const char *path, struct sockaddr_un *sa)
{
	struct stat st;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		mg_log(LOG_ERR, "%s: socket path too long", path);
		return -1;
	}
	memcpy(sa->sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			mg_log(LOG_ERR, "%s exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
	return 0;
}

static int
listen_on(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	if (sock_addr(path, &sa) != 0)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, 0666) != 0 || listen(fd, 64) != 0) {
		mg_log(LOG_ERR, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* Any local account may ask: who it is comes from SO_PEERCRED. */
	return fd;
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
 * The control socket for mspgatectl(8): owned by the service account,
 * group gid, mode 0660; who asks is then checked again by SO_PEERCRED.
 */
static int
ctl_listen(const char *path, uid_t uid, gid_t gid)
{
	struct sockaddr_un sa;
	int fd, r = -1;

	if (sock_addr(path, &sa) != 0)
		return -1;
	/* Created with no access for others; the group only once it is the right one. */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
		mode_t old = umask(0177);

		r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
		umask(old);
	}
	if (fd < 0 || r != 0 || (geteuid() == 0 && chown(path, uid, gid) != 0) ||
	    chmod(path, 0660) != 0 || listen(fd, 16) != 0) {
		mg_log(LOG_ERR, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int
in_group(uid_t uid, gid_t gid, char *name, size_t namelen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	gid_t groups[256];
	int n = 256, i;

	snprintf(name, namelen, "uid %u", (unsigned)uid);
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return 0;
	snprintf(name, namelen, "%.64s (uid %u)", pw.pw_name, (unsigned)uid);
	if (pw.pw_gid == gid)
		return 1;
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
		return 0;
	for (i = 0; i < n; i++)
		if (groups[i] == gid)
			return 1;
	return 0;
}

static void
say(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
say(FILE *f, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	/* One line at most 1023 bytes, as before: peer strings are bounded. */
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	fwrite(buf, 1, (size_t)n, f);
}

/* To a session process (gw_child.h), without waiting: 0, or -1 when it cannot be told. */
static int
tell_child(struct live *l, const struct gw_child_msg *m)
{
	int r;

	if (l->fd < 0)
		return -1;
	/* Full or gone: the caller falls back on SIGTERM. Unencodable: a bug here. */
	if ((r = gw_child_send(l->fd, m, MSG_DONTWAIT)) != 0 && r != MG_ERR_SYSTEM)
		mg_log(LOG_ERR, "session process %d: %s not sent: %s", (int)l->pid,
		    gw_child_type_name(m->type), mg_strerror(r));
	return r == 0 ? 0 : -1;
}

/* DENY, REAUTH or VERDICT (action) with the detector's words. */
static int
tell_words(struct live *l, int type, unsigned action, const char *words)
{
	struct gw_child_msg m;

	m.type = type;
	memset(&m.u.verdict, 0, sizeof(m.u.verdict));
	m.u.verdict.action = action;
	/* Words are required on the wire: a rule without any still says who decided. */
	gw_child_copy(m.u.verdict.words, sizeof(m.u.verdict.words),
	    words != NULL && words[0] != '\0' ? words : "detector");
	return tell_child(l, &m);
}

/* The detector's action in the session protocol's values. */
static unsigned
wire_action(enum gw_detect_action a)
{
	switch (a) {
	case GW_DETECT_NONE:
		return GW_CHILD_ACT_NONE;
	case GW_DETECT_ALERT:
		return GW_CHILD_ACT_ALERT;
	case GW_DETECT_REAUTH:
		return GW_CHILD_ACT_REAUTH;
	default:
		return GW_CHILD_ACT_DENY;
	}
}

/* Asks a session process to end: it audits who asked and tells the engineer. */
static void
ask_end(struct live *l, const char *who)
{
	struct gw_child_msg m;

	m.type = GW_CHILD_KILL;
	memset(&m.u.kill, 0, sizeof(m.u.kill));
	gw_child_copy(m.u.kill.who, sizeof(m.u.kill.who),
	    who != NULL && who[0] != '\0' ? who : "unknown");
	if (tell_child(l, &m) != 0)
		kill(l->pid, SIGTERM);	/* no channel: it still ends cleanly */
}

/*
 * One mspgatectl request, one answer, then the connection closes:
 *   list                  "ok" then one line per session
 *   kill id|engineer|tenant VALUE   "ok N" then the ids asked to end
 * Errors: "error: ..." alone. The request is read as it arrives (a
 * pending control connection, CTL_REQUEST_MS at most) and the answer is
 * made in memory, then sent without waiting: a client that does not read
 * gets it from a short-lived process of its own (ctl_answer). Nothing an
 * admin's client does holds up the main loop.
 */


/* Sends the whole answer, at once or from a child that may wait (10 s). */
static void
ctl_answer(int fd, const char *data, size_t len)
{
	ssize_t w = len > 0 ? send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT) : 0;
	pid_t pid;

	if (w >= 0 && (size_t)w < len && (pid = fork()) == 0) {
		struct timeval tv = { 10, 0 };
		size_t off = (size_t)w;

		close_daemon_fds(&fd);
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		while (off < len && (w = send(fd, data + off, len - off, MSG_NOSIGNAL)) > 0)
			off += (size_t)w;
		_exit(0);
	}
	close(fd);
}

/* A new control connection: who it is, then its request as it comes. */
static void
ctl_accept(int lfd, gid_t admin_gid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	char who[128];
	static const char denied[] = "error: permission denied\n";
	int fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) {
		close(fd);
		return;
	}
	/* The socket's mode keeps others out; this is the second lock. */
	if (!in_group(cr.uid, admin_gid, who, sizeof(who)) && cr.uid != 0 &&
	    cr.uid != geteuid()) {
		mg_log(LOG_WARNING, "control: %s is not in the admin group: refused", who);
		ctl_answer(fd, denied, sizeof(denied) - 1);
		return;
	}
	if (nctlp == CTL_MAX) {
		mg_log(LOG_WARNING, "control: %s: too many requests at once: refused", who);
		close(fd);
		return;
	}
	memset(&ctlp[nctlp], 0, sizeof(ctlp[nctlp]));
	ctlp[nctlp].fd = fd;
	ctlp[nctlp].deadline = mg_mono_ms() + CTL_REQUEST_MS;
	snprintf(ctlp[nctlp].who, sizeof(ctlp[nctlp].who), "%s", who);
	nctlp++;
}

static void
ctl_request(const char *req, const char *who, FILE *fd)
{
	char *arg, *what, buf[512];
	size_t i, n;
	time_t now = time(NULL);

	snprintf(buf, sizeof(buf), "%s", req);
	if (strcmp(buf, "list") == 0) {
		say(fd, "ok\n");
		for (i = 0; i < nchildren; i++) {
			struct live *l = &live[i];

			if (l->id[0] == '\0')
				continue;
			say(fd, "%s\t%s\t%s/%s\t%s\t%lld\t%lld\t%llu\t%llu\t%lld\t%lld\t%d\t%s\t%s\n",
			    l->id, l->engineer, l->tenant, l->target, l->login, l->start,
			    (long long)now - (l->last ? l->last : l->start), l->bin, l->bout,
			    l->window_close, l->end_by, (int)l->pid, gw_child_kind_name(l->kind),
			    l->source[0] ? l->source : "-");
		}
		return;
	}
	if (strncmp(buf, "alerts\t", 7) == 0) {
		char *e;
		long long since = strtoll(buf + 7, &e, 10);

		if (e == buf + 7 || *e != '\0')
			say(fd, "error: unknown request\n");
		else
			ctl_alerts(fd, since);
		return;
	}
	if (strncmp(buf, "kill\t", 5) != 0 || (arg = strchr(buf + 5, '\t')) == NULL) {
		say(fd, "error: unknown request\n");
		return;
	}
	*arg++ = '\0';
	what = buf + 5;
	if (strcmp(what, "id") != 0 && strcmp(what, "engineer") != 0 &&
	    strcmp(what, "tenant") != 0) {
		say(fd, "error: unknown request\n");
		return;
	}
	for (i = 0, n = 0; i < nchildren; i++) {
		struct live *l = &live[i];

		if (l->id[0] == '\0' || !((strcmp(what, "id") == 0 && strcmp(l->id, arg) == 0) ||
		    (strcmp(what, "engineer") == 0 && strcmp(l->engineer, arg) == 0) ||
		    (strcmp(what, "tenant") == 0 && strcmp(l->tenant, arg) == 0)))
			continue;
		n++;
	}
	if (n == 0) {
		say(fd, "error: no such session\n");
		return;
	}
	say(fd, "ok %zu\n", n);
	for (i = 0; i < nchildren; i++) {
		struct live *l = &live[i];

		if (l->id[0] == '\0' || !((strcmp(what, "id") == 0 && strcmp(l->id, arg) == 0) ||
		    (strcmp(what, "engineer") == 0 && strcmp(l->engineer, arg) == 0) ||
		    (strcmp(what, "tenant") == 0 && strcmp(l->tenant, arg) == 0)))
			continue;
		mg_log(LOG_NOTICE, "control: %s ends session %s (%s -> %s/%s)", who, l->id,
		    l->engineer, l->tenant, l->target);
		ask_end(l, who);
		say(fd, "%s\n", l->id);
	}
}

/* What arrived on pending control connection i; answered once complete. */
static void
ctl_read(size_t i)
{
	struct ctl_pending *c = &ctlp[i];
	ssize_t r;
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;

	r = recv(c->fd, c->req + c->got, sizeof(c->req) - 1 - c->got, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r > 0)
		c->got += (size_t)r;
	c->req[c->got] = '\0';
	if (r > 0 && memchr(c->req, '\n', c->got) == NULL && c->got < sizeof(c->req) - 1)
		return;		/* more to come */
	c->req[strcspn(c->req, "\n")] = '\0';
	if ((f = open_memstream(&out, &outlen)) != NULL) {
		ctl_request(c->req, c->who, f);
		fclose(f);
		ctl_answer(c->fd, out, outlen);
	} else
		close(c->fd);
	free(out);
	ctlp[i] = ctlp[--nctlp];
}

/* Control connections that said nothing in time are closed. */
static void
ctl_expire(void)
{
	long long now = mg_mono_ms();
	size_t i = 0;

	while (i < nctlp) {
		if (ctlp[i].deadline > now) {
			i++;
			continue;
		}
		close(ctlp[i].fd);
		ctlp[i] = ctlp[--nctlp];
	}
}

#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

/* ------------------------------------------------------------------ */
/* The detector: verdicts, alerts (audit, syslog, notify), its state.  */

/* The rule behind the strongest action (what the engineer is told). */
static const char *
result_words(const struct gw_detect_result *res)
{
	size_t i;

	for (i = 0; i < res->nhits; i++)
		if (res->hits[i].action == res->action)
			return gw_detect_rule_words(res->hits[i].rule);
	return "detector unavailable";
}

/*
 * alerts.notify: the command, no shell, the alert as JSON on stdin. It
 * never holds up sessions: stdin is a pipe written without blocking (the
 * JSON is far below a pipe's buffer), the child is reaped with the
 * sessions and killed after NOTIFY_TIMEOUT_SECS.
 */
static void
notify(const char *cmd, const struct gw_detect_event *ev, const struct gw_detect_hit *h)
{
	char json[2048], env[4][160], *envp[5], *argv[2];
	const char *sev = h->severity == LOG_ALERT ? "alert" : "warning";
	struct notifier *nt;
	size_t n;
	int pfd[2];
	pid_t pid;

	if (cmd == NULL || cmd[0] == '\0')
		return;
	if (nnotifiers >= MAX_NOTIFIERS) {
		mg_log(LOG_ERR, "alert notification (%s) skipped: %zu still running",
		    gw_detect_rule_name(h->rule), nnotifiers);
		return;
	}
	if ((n = gw_detect_notify_json(ev, h, time(NULL), json, sizeof(json))) == 0) {
		mg_log(LOG_ERR, "alert notification (%s) skipped: the alert does not fit",
		    gw_detect_rule_name(h->rule));
		return;
	}
	snprintf(env[0], sizeof(env[0]), "MSPGATE_ALERT_RULE=%s", gw_detect_rule_name(h->rule));
	snprintf(env[1], sizeof(env[1]), "MSPGATE_ALERT_SEVERITY=%s", sev);
	snprintf(env[2], sizeof(env[2]), "MSPGATE_ALERT_ENGINEER=%s",
	    ev && ev->engineer ? ev->engineer : "");
	snprintf(env[3], sizeof(env[3]), "PATH=/usr/bin:/bin");
	envp[0] = env[0], envp[1] = env[1], envp[2] = env[2], envp[3] = env[3], envp[4] = NULL;
	argv[0] = (char *)cmd;
	argv[1] = NULL;
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		mg_log(LOG_ERR, "alert notification: pipe: %s", strerror(errno));
		return;
	}
	if ((pid = fork()) < 0) {
		mg_log(LOG_ERR, "alert notification: fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return;
	}
	if (pid == 0) {
		struct sigaction sa;
		sigset_t none;
		int null = open("/dev/null", O_WRONLY);

		/* Ignored signals stay ignored across exec: give the command defaults. */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigaction(SIGPIPE, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(pfd[0], 0) < 0 || (null >= 0 && dup2(null, 1) < 0))
			_exit(126);
		setsid();
		execve(cmd, argv, envp);
		_exit(127);
	}
	close(pfd[0]);
	if (fcntl(pfd[1], F_SETFL, O_NONBLOCK) != 0 ||
	    write(pfd[1], json, n) != (ssize_t)n)
		mg_log(LOG_ERR, "alert notification (%s): could not write the alert",
		    gw_detect_rule_name(h->rule));
	close(pfd[1]);
	nt = &notifiers[nnotifiers++];
	nt->pid = pid;
	nt->deadline = time(NULL) + NOTIFY_TIMEOUT_SECS;
	snprintf(nt->rule, sizeof(nt->rule), "%s", gw_detect_rule_name(h->rule));
}

static void
notifiers_expire(void)
{
	time_t now = time(NULL);
	size_t i;

	for (i = 0; i < nnotifiers; i++) {
		if (notifiers[i].deadline > now || notifiers[i].deadline == 0)
			continue;
		mg_log(LOG_ERR, "alert notification (%s): no answer in %ds, killed",
		    notifiers[i].rule, NOTIFY_TIMEOUT_SECS);
		kill(notifiers[i].pid, SIGKILL);
		notifiers[i].deadline = 0;	/* reaped as usual */
	}
}

/* Every hit: an audit event, a syslog line, the notification. */
static void
alert_hits(const struct gw_detect_event *ev, const struct gw_detect_result *res)
{
	size_t i;

	for (i = 0; i < res->nhits; i++) {
		const struct gw_detect_hit *h = &res->hits[i];
		struct rec_audit_event aev;
		char reason[GW_DETECT_EVIDENCE_MAX + 16], line[1024];

		gw_detect_audit_event(ev, h, reason, sizeof(reason), &aev);
		/* The fixed-format line below is the syslog record of an alert. */
		audit_queue(&aev, 1);
		gw_detect_syslog_line(ev, h, line, sizeof(line));
		mg_log(h->severity, "%s", line);
		notify(cur_pol->alerts.notify, ev, h);
	}
}

/* Judges one event; the action (DENY when it cannot be judged: fail closed). */
static enum gw_detect_action
judge(const struct gw_detect_event *ev, struct gw_detect_result *res)
{
	int r;

	if ((r = gw_detect_event(det, ev, res)) != 0)
		mg_log(LOG_ERR, "detector: cannot judge an event of %s: %s",
		    ev->engineer ? ev->engineer : "-", mg_strerror(r));
	alert_hits(ev, res);
	return res->action;
}

static void
detect_save(int force)
{
	char err[300];
	time_t now = time(NULL);
	pid_t pid;
	int status;

	if (force && det_saver != 0) {
		/* At shutdown: the last word is this process's own save. */
		while (waitpid(det_saver, &status, 0) < 0 && errno == EINTR)
			;
		det_saver = 0;
	}
	if (det == NULL || !gw_detect_dirty(det) || (!force && (det_saver != 0 ||
	    now - det_saved < DETECT_SAVE_SECS)))
		return;
	det_saved = now;
	if (!force) {
		/*
		 * Written (and synced) by a process of its own from a copy of
		 * the history: a disk busy with recordings holds up that
		 * process, never the main loop. One at a time.
		 */
		if ((pid = fork()) == 0) {
			close_daemon_fds(NULL);
			if (gw_detect_save(det, det_path, err, sizeof(err)) != 0) {
				mg_log(LOG_ERR, "detector state %s: %s", det_path, err);
				_exit(1);
			}
			_exit(0);
		}
		if (pid > 0) {
			det_saver = pid;
			gw_detect_set_dirty(det, 0);
			return;
		}
		mg_log(LOG_ERR, "detector state: fork: %s; saving it here", strerror(errno));
	}
	if (gw_detect_save(det, det_path, err, sizeof(err)) != 0)
		mg_log(LOG_ERR, "detector state %s: %s", det_path, err);
}

static int
detect_start(const struct pol *p)
{
	struct gw_detect_result res;
	struct mg_file_rules rules;
	char err[300];

	if (gw_detect_new(&p->alerts, &det, err, sizeof(err)) != 0) {
		mg_log(LOG_ERR, "detector: %s", err);
		return -1;
	}
	if ((size_t)snprintf(det_path, sizeof(det_path), "%s/detect", p->gateway.state) >=
	    sizeof(det_path)) {
		mg_log(LOG_ERR, "%s: path too long", p->gateway.state);
		return -1;
	}
	memset(&rules, 0, sizeof(rules));
	rules.max_size = GW_DETECT_STATE_MAX;
	rules.forbid_mode = 077;
	memset(&res, 0, sizeof(res));
	/* A damaged file is an alert of its own; the history starts empty. */
	if (gw_detect_load(det, det_path, &rules, &res, err, sizeof(err)) != 0)
		mg_log(LOG_ERR, "detector state %s: %s; history starts empty", det_path, err);
	alert_hits(NULL, &res);
	/* No session outlives mspgated: none is live any more. */
	gw_detect_sessions_clear(det);
	det_saved = time(NULL);
	return 0;
}

/* The session behind l is over: END, once, if it had started. */
static void
end_row(struct live *l)
{
	struct gw_detect_event ev;
	struct gw_detect_result res;

	if (det == NULL || !l->started)
		return;
	l->started = 0;
	memset(&ev, 0, sizeof(ev));
	ev.kind = GW_DETECT_END;
	ev.engineer = l->engineer;
	ev.tenant = l->tenant;
	ev.target = l->target;
	ev.session = l->id;
	ev.bytes_out = l->bout;
	judge(&ev, &res);
}

/* A DENY on a running session: it is told to end, once. */
static void
deny_live(struct live *l, const struct gw_detect_result *res)
{
	if (l->denied)
		return;
	l->denied = 1;
	if (tell_words(l, GW_CHILD_DENY, 0, result_words(res)) != 0)
		kill(l->pid, SIGTERM);
}

/*
 * A REAUTH on a running session: it is held until the engineer types a
 * fresh code (ended without a terminal). Unsent (the socket full or gone),
 * the session ends: fail closed.
 */
static void
reauth_live(struct live *l, const struct gw_detect_result *res)
{
	if (l->denied)
		return;
	if (tell_words(l, GW_CHILD_REAUTH, 0, result_words(res)) != 0) {
		l->denied = 1;
		kill(l->pid, SIGTERM);
	}
}

/* The verdict on an event of a running session, applied. */
static void
act_live(struct live *l, const struct gw_detect_result *res)
{
	if (res->action == GW_DETECT_DENY)
		deny_live(l, res);
	else if (res->action == GW_DETECT_REAUTH)
		reauth_live(l, res);
}

static int
deny_ends_sessions(void)
{
	return cur_pol != NULL && cur_pol->alerts.deny_ends_sessions;
}

/* Every other started session of engineer ends (alerts.deny_ends_sessions). */
static void
deny_engineer(const char *engineer, const struct live *except,
    const struct gw_detect_result *res)
{
	size_t i;

	for (i = 0; i < nchildren; i++) {
		struct live *o = &live[i];

		if (o != except && o->started && strcmp(o->engineer, engineer) == 0)
			deny_live(o, res);
	}
}

/*
 * MFA failures happen in pam_mspgate inside sshd; they reach the detector
 * through the audit log they are written to. New complete lines are read
 * each second (bounded); a file that shrank or was replaced is read again
 * from the start. At start-up the reader begins at the end: older
 * failures were judged by the run that saw them.
 */

/*
 * One line (with its newline) through the audit library's reader, the one
 * owner of the format. 1 and the line in ln (its strings point into *rd,
 * which the caller frees, and into p), or 0 when it is no audit event:
 * such a line is skipped on its own, the lines after it still count.
 */
static int
audit_parse(const char *p, size_t len, struct rec_audit_reader **rd,
    struct rec_audit_line *ln)
{
	if (rec_audit_reader_open_mem(p, len, rd) != 0) {
		*rd = NULL;
		return 0;
	}
	if (rec_audit_reader_next(*rd, ln) != 1) {
		rec_audit_reader_free(*rd);
		*rd = NULL;
		return 0;
	}
	return 1;
}

static void
audit_line(const char *line, size_t len)
{
	struct gw_detect_event ev;
	struct gw_detect_result res;
	struct rec_audit_reader *rd;
	struct rec_audit_line ln;

	if (!audit_parse(line, len, &rd, &ln))
		return;
	if (ln.seq <= tail.seq)
		goto out;
	tail.seq = ln.seq;
	if (ln.type != REC_AUDIT_AUTH_FAILURE || ln.engineer == NULL || ln.source == NULL ||
	    strlen(ln.engineer) > GW_DETECT_NAME_MAX || strlen(ln.source) >= 64)
		goto out;
	memset(&ev, 0, sizeof(ev));
	ev.kind = GW_DETECT_MFA_FAILURE;
	ev.engineer = ln.engineer;
	ev.source = ln.source;
	/* Not an account the policy knows, or no address: nothing to count. */
	if (gw_detect_event(det, &ev, &res) == 0)
		alert_hits(&ev, &res);
out:
	rec_audit_reader_free(rd);
}

static void
audit_tail(const char *path)
{
	struct stat st;
	char *buf, *p, *nl;
	ssize_t n;
	int fd;

	if (det == NULL || (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	if (!tail.primed) {
		tail.primed = 1;
		tail.off = st.st_size;
		tail.dev = st.st_dev;
		tail.ino = st.st_ino;
	}
	if (st.st_dev != tail.dev || st.st_ino != tail.ino || st.st_size < tail.off) {
		tail.off = 0;
		tail.seq = 0;
		tail.dev = st.st_dev;
		tail.ino = st.st_ino;
	}
	if (st.st_size == tail.off || (buf = malloc(AUDIT_READ_MAX)) == NULL) {
		close(fd);
		return;
	}
	n = pread(fd, buf, AUDIT_READ_MAX, tail.off);
	close(fd);
	if (n <= 0) {
		free(buf);
		return;
	}
	for (p = buf; (nl = memchr(p, '\n', (size_t)(buf + n - p))) != NULL; p = nl + 1) {
		if (nl - p < AUDIT_LINE_MAX)
			audit_line(p, (size_t)(nl - p) + 1);
	}
	/* A line longer than what was read at once is skipped whole. */
	if (p == buf && n == AUDIT_READ_MAX)
		p = buf + n;
	tail.off += p - buf;
	free(buf);
}

/*
 * A member for the tab-separated answer: "-" when absent, longer than max
 * or holding a control character (a tab or newline would break the row).
 */
static const char *
alert_col(const char *v, size_t max)
{
	const unsigned char *c;

	if (v == NULL || strlen(v) > max)
		return "-";
	for (c = (const unsigned char *)v; *c != '\0'; c++)
		if (*c < 0x20 || *c == 0x7f)
			return "-";
	return v;
}

/* One alert line as the answer's row, or NULL (no time, or out of memory). */
static char *
alert_row(const struct rec_audit_line *ln)
{
	const char *rule = alert_col(ln->rule, 39);
	char *row;

	if (alert_col(ln->time, 39) != ln->time)
		return NULL;
	if (asprintf(&row, "%s\t%s\t%s\t%s\t%s/%s\t%s\n", ln->time,
	    strncmp(rule, "alerts.", 7) == 0 ? rule + 7 : rule, alert_col(ln->result, 15),
	    alert_col(ln->engineer, 79), alert_col(ln->tenant, 79), alert_col(ln->target, 79),
	    alert_col(ln->reason, GW_DETECT_EVIDENCE_MAX + 31)) < 0)
		return NULL;
	return row;
}

/* "alerts\tSINCE": the alert events of the audit log from SINCE on (at most the last 1000). */
#define ALERTS_MAX 1000
static void
ctl_alerts(FILE *fd, long long since)
{
	char *line = NULL, **ring;
	size_t cap = 0, head = 0, count = 0, i;
	ssize_t n;
	FILE *f;

	if ((ring = calloc(ALERTS_MAX, sizeof(*ring))) == NULL) {
		say(fd, "error: out of memory\n");
		return;
	}
	if ((f = fopen(cur_pol->gateway.audit, "re")) == NULL) {
		say(fd, "error: %s: %s\n", cur_pol->gateway.audit, strerror(errno));
		free(ring);
		return;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		struct rec_audit_reader *rd;
		struct rec_audit_line ln;
		char *row;

		if (n > AUDIT_LINE_MAX || !audit_parse(line, (size_t)n, &rd, &ln))
			continue;
		row = ln.type == REC_AUDIT_ALERT && ln.ts >= since ? alert_row(&ln) : NULL;
		rec_audit_reader_free(rd);
		if (row == NULL)
			continue;
		free(ring[head]);
		ring[head] = row;
		head = (head + 1) % ALERTS_MAX;
		if (count < ALERTS_MAX)
			count++;
	}
	free(line);
	fclose(f);
	say(fd, "ok\n");
	for (i = 0; i < count; i++)
		say(fd, "%s", ring[(head + ALERTS_MAX - count + i) % ALERTS_MAX]);
	for (i = 0; i < ALERTS_MAX; i++)
		free(ring[i]);
	free(ring);
}


/*
 * A report that does not read (gw_child.h): refused whole, never half
 * used. The session process is our own code, so this is a bug or worse:
 * it is told to end, which also refuses an ATTEMPT it waits on (fail
 * closed), and killed if it cannot be told. Logged once per session.
 */
static void
child_malformed(struct live *l)
{
	if (!l->malformed)
		mg_log(LOG_ERR, "session process %d (%s): a malformed report: refused; "
		    "the session is ended", (int)l->pid, l->id[0] ? l->id : "not started");
	l->malformed = 1;
	if (l->denied)
		return;
	l->denied = 1;
	if (tell_words(l, GW_CHILD_DENY, 0, "an internal error in the gateway") != 0)
		kill(l->pid, SIGTERM);
}

/* The detector's ATTEMPT, and its verdict at once: the session waits for it. */
static void
child_attempt(struct live *l, const struct gw_child_attempt *a)
{
	struct gw_detect_event ev;
	struct gw_detect_result res;

	COPY(l->engineer, a->engineer);
	COPY(l->tenant, a->tenant);
	COPY(l->target, a->target);
	COPY(l->source, a->source);
	memset(&ev, 0, sizeof(ev));
	ev.kind = GW_DETECT_ATTEMPT;
	ev.engineer = l->engineer;
	ev.tenant = l->tenant;
	ev.target = l->target;
	ev.source = l->source[0] ? l->source : NULL;
	ev.allowed = a->outcome == GW_CHILD_ALLOWED;
	ev.refusal = a->outcome == GW_CHILD_REFUSED_WINDOW ? GW_DETECT_REFUSED_WINDOW :
	    GW_DETECT_REFUSED_OTHER;
	judge(&ev, &res);
	/*
	 * A stolen identity keeps what it already has open unless the policy
	 * says a deny ends that too.
	 */
	if (res.action == GW_DETECT_DENY && deny_ends_sessions())
		deny_engineer(l->engineer, l, &res);
	/* No answer: the session refuses (it waits for one). */
	(void)tell_words(l, GW_CHILD_VERDICT, wire_action(res.action), result_words(&res));
}

/* The session is open: its row in the table, and the detector's START once. */
static void
child_start(struct live *l, const struct gw_child_start *st)
{
	struct gw_detect_event ev;
	struct gw_detect_result res;

	COPY(l->id, st->id);
	COPY(l->engineer, st->engineer);
	COPY(l->tenant, st->tenant);
	COPY(l->target, st->target);
	COPY(l->login, st->login);
	COPY(l->source, st->source);
	l->start = st->start;
	l->end_by = st->end_by;
	l->window_close = st->window_close;
	l->mfa = st->mfa;
	l->kind = st->kind;
	l->last = l->start;
	if (l->started)
		return;
	l->started = 1;
	memset(&ev, 0, sizeof(ev));
	ev.kind = GW_DETECT_START;
	ev.engineer = l->engineer;
	ev.tenant = l->tenant;
	ev.target = l->target;
	ev.source = l->source[0] ? l->source : NULL;
	ev.session = l->id;
	if (judge(&ev, &res) == GW_DETECT_DENY)
		deny_live(l, &res);
}

/* The relay's counters; more bytes out is the detector's BYTES (egress). */
static void
child_usage(struct live *l, const struct gw_child_usage *u)
{
	struct gw_detect_event ev;
	struct gw_detect_result res;
	int more = u->bytes_out != l->bout;

	l->bin = u->bytes_in;
	l->bout = u->bytes_out;
	l->last = u->last;
	l->end_by = u->end_by;
	if (!more || !l->started)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = GW_DETECT_BYTES;
	ev.engineer = l->engineer;
	ev.tenant = l->tenant;
	ev.target = l->target;
	ev.session = l->id;
	ev.bytes_out = l->bout;
	judge(&ev, &res);
	/* Over a daily limit every report would ask again: a session is held for egress once. */
	if (res.action == GW_DETECT_REAUTH && l->egress_held)
		return;
	if (res.action == GW_DETECT_REAUTH)
		l->egress_held = 1;
	act_live(l, &res);
}

/* An exec command or a typed line, for sensitive_commands. */
static void
child_text(struct live *l, int type, const struct gw_child_text *t)
{
	struct gw_detect_event ev;
	struct gw_detect_result res;

	if (!l->started)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = type == GW_CHILD_COMMAND ? GW_DETECT_COMMAND : GW_DETECT_INPUT;
	ev.engineer = l->engineer;
	ev.tenant = l->tenant;
	ev.target = l->target;
	ev.source = l->source[0] ? l->source : NULL;
	ev.session = l->id;
	ev.text = t->text;
	ev.text_len = t->len;
	judge(&ev, &res);
	act_live(l, &res);
}

/*
 * What a session process reported (gw_child.h), read until nothing more
 * waits. The detector's questions are answered here, at once.
 */
static void
child_report(struct live *l)
{
	/* 33 KiB (an exec command): kept off the main loop's stack. */
	static struct gw_child_msg m;
	int r;

	for (;;) {
		r = gw_child_recv(l->fd, GW_CHILD_FROM_SESSION, &m, MSG_DONTWAIT);
		if (r == MG_ERR_PARSE) {
			child_malformed(l);
			continue;
		}
		if (r != 0)
			break;
		switch (m.type) {
		case GW_CHILD_ATTEMPT:
			child_attempt(l, &m.u.attempt);
			break;
		case GW_CHILD_START:
			child_start(l, &m.u.start);
			break;
		case GW_CHILD_USAGE:
			child_usage(l, &m.u.usage);
			break;
		case GW_CHILD_COMMAND:
		case GW_CHILD_INPUT:
			child_text(l, m.type, &m.u.text);
			break;
		case GW_CHILD_REFUSED:
			/* A refusal, audited by the session or not: it counts. */
			gw_ratelim_count(&refusals, l->uid, NULL, time(NULL),
			    m.u.refused.audited, refusals_summary, (void *)cur_pol);
			break;
		}
	}
	if (r == MG_ERR_NOENT ||
	    (r == MG_ERR_SYSTEM && errno != EAGAIN && errno != EWOULDBLOCK)) {
		close(l->fd);
		l->fd = -1;
	}
}

/* One event of the daemon itself in the audit log (queued; see audit_queue). */
static void
audit_one(const struct pol *p, const struct rec_audit_event *ev)
{
	(void)p;
	audit_queue(ev, 0);
}

static void
audit_reload(const struct pol *p, const char *result, const char *reason)
{
	struct rec_audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = REC_AUDIT_POLICY_RELOAD;
	ev.result = result;
	ev.reason = reason;
	audit_one(p, &ev);
}

/*
 * SIGHUP: a new policy, or the old one kept. Every live session is
 * decided again under the new one; those it no longer allows are told to
 * end reload_grace from now (with the usual warnings), unless the policy
 * says "finish".
 */
static void
reload(const char *path, struct pol **pol)
{
	struct pol *np = NULL;
	char why[600], reason[800];
	size_t i, withdrawn = 0;
	time_t now = time(NULL);

	if (load_policy(path, &np, why, sizeof(why)) != 0) {
		mg_log(LOG_ERR, "policy reload failed; keeping the old one: %s", why);
		snprintf(reason, sizeof(reason), "refused, the old policy is kept: %s", why);
		audit_reload(*pol, "failure", reason);
		return;
	}
	if (det != NULL && gw_detect_set_policy(det, &np->alerts, why, sizeof(why)) != 0)
		mg_log(LOG_ERR, "detector keeps the old alert rules: %s", why);
	pol_free(*pol);
	*pol = np;
	cur_pol = np;
	for (i = 0; i < nchildren; i++) {
		struct live *l = &live[i];
		struct pol_request req = { 0 };
		struct pol_decision d;
		struct gw_child_msg m;

		if (l->id[0] == '\0' || l->withdrawn)
			continue;
		req.engineer = l->engineer;
		req.tenant = l->tenant;
		req.target = l->target;
		req.login = l->login;
		req.mfa_used = l->mfa;
		req.source = l->source[0] ? l->source : NULL;
		if (pol_decide(np, &req, &d) == 0 && d.allow)
			continue;
		withdrawn++;
		if (np->gateway.reload_grace == POL_GRACE_FINISH) {
			mg_log(LOG_NOTICE, "session %s: no longer granted (%s); left to finish",
			    l->id, d.reason);
			continue;
		}
		l->withdrawn = 1;
		mg_log(LOG_NOTICE, "session %s: no longer granted (%s); ends in %llds", l->id,
		    d.reason, (long long)np->gateway.reload_grace);
		m.type = GW_CHILD_REVOKE;
		memset(&m.u.revoke, 0, sizeof(m.u.revoke));
		m.u.revoke.end_by = now + np->gateway.reload_grace;
		gw_child_copy(m.u.revoke.why, sizeof(m.u.revoke.why), d.reason);
		if (tell_child(l, &m) != 0)
			kill(l->pid, SIGTERM);
	}
	snprintf(reason, sizeof(reason), "policy reloaded; %zu live session(s) no longer "
	    "granted%s", withdrawn, withdrawn && np->gateway.reload_grace == POL_GRACE_FINISH ?
	    " (left to finish)" : "");
	mg_log(LOG_INFO, "%s", reason);
	audit_reload(np, "success", reason);
}

static void
session_child(struct pol *pol, int lfd, int ctlfd, int cfd, int parent, struct gw_msg *first,
    const int *fds, size_t nfds, int quiet, unsigned long long accepted)
{
	struct gw_ctx ctx;
	struct sigaction sa;
	int rc;

	(void)lfd;
	(void)ctlfd;
	/* Other sessions' channels and admins' requests are not this one's business. */
	close_daemon_fds(NULL);
	free(pend);
	/* The daemon's queued audit events are its writer's to write. */
	gw_audq_free(audq);
	audq = NULL;
	/* The session waits on its own connection with poll, as before. */
	(void)fcntl(cfd, F_SETFL, fcntl(cfd, F_GETFL) & ~O_NONBLOCK);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	/* Reloads reach a session through its parent, never directly. */
	sigaction(SIGHUP, &sa, NULL);
	/* The detector is the parent's alone. */
	gw_detect_free(det);
	det = NULL;
	got_stop = 0;
	memset(&ctx, 0, sizeof(ctx));
	ctx.pol = pol;
	/* SIGTERM from the parent: end the session, seal the recording. */
	ctx.stop = &got_stop;
	ctx.connect_timeout = 10;
	ctx.parent = parent;
	ctx.quiet_refusals = quiet;
	ctx.accepted = accepted;
	rc = gw_session_serve(&ctx, cfd, first, fds, nfds);
	close(cfd);
	close(parent);
	pol_free(pol);
	ssh_finalize();
	exit(rc);
}

/* Room for one more session row; -1 when out of memory. */
static int
live_grow(void)
{
	size_t cap = live_cap < 64 ? 64 : live_cap * 2;
	struct live *nl;

	if (nchildren < live_cap)
		return 0;
	if ((nl = reallocarray(live, cap, sizeof(*nl))) == NULL)
		return -1;
	live = nl;
	live_cap = cap;
	return 0;
}

/* The poll set fits every row and pending connection; -1 when out of memory. */
static int
pf_fit(struct pollfd **pf, size_t *cap)
{
	size_t want = nchildren + npend + nctlp + 2;
	struct pollfd *np;

	if (want <= *cap)
		return 0;
	want += 64;
	if ((np = reallocarray(*pf, want, sizeof(*np))) == NULL)
		return -1;
	*pf = np;
	*cap = want;
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

/* The rate limit's summary: one audit event for what it left out. */
static void
refusals_summary(void *ctx, uid_t uid, const char *name, unsigned suppressed, time_t window)
{
	struct rec_audit_event ev;
	char reason[200], who[80];

	snprintf(who, sizeof(who), "%s", name[0] ? name : "");
	if (who[0] == '\0')
		snprintf(who, sizeof(who), "uid %u", (unsigned)uid);
	snprintf(reason, sizeof(reason), "%u more refusals for %s in %llds not audited one "
	    "by one (rate limit: %d a minute)", suppressed, who, (long long)window,
	    REFUSAL_BURST);
	mg_log(LOG_WARNING, "%s", reason);
	memset(&ev, 0, sizeof(ev));
	ev.type = REC_AUDIT_DENIED;
	ev.engineer = name[0] ? name : NULL;
	ev.reason = reason;
	ev.rule = "gateway.rate_limit";
	if (ctx != NULL)
		audit_one(ctx, &ev);
}

static void
strangers_summary(void *ctx, uid_t uid, const char *name, unsigned suppressed,
    time_t window)
{
	(void)ctx;
	mg_log(LOG_WARNING, "%u more connections from %s (uid %u), not an engineer, closed "
	    "in the last %llds", suppressed, name[0] ? name : "?", (unsigned)uid,
	    (long long)window);
}

/*
 * The engineer is told (a packet the non-blocking socket takes at once, or
 * nothing: a peer that reads nothing costs nothing), and whatever the peer
 * sent is taken off the socket before it is closed, so the answer is not
 * lost to a reset.
 */
static void
tell_and_close(int fd, const char *tell)
{
	struct gw_msg m;
	char junk[64];

	memset(&m, 0, sizeof(m));
	m.type = GW_MSG_END;
	m.has_status = 1;
	m.end_kind = GW_END_ERROR;
	m.text = (char *)tell;
	(void)gw_msg_send(fd, &m, NULL, 0);
	while (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
	close(fd);
}

/*
 * Refuses a connection without waiting on it: logged and audited (within
 * the account's rate limit), then the engineer is told (tell_and_close).
 */
static void
refuse_conn(const struct pol *p, int fd, uid_t uid, const char *name, const char *reason,
    const char *rule, const char *tell)
{
	if (gw_ratelim_charge(&refusals, uid, name, time(NULL), refusals_summary,
	    (void *)p)) {
		struct rec_audit_event ev;

		mg_log(LOG_WARNING, "session refused for %s: %s", name, reason);
		/* Queued before the engineer is told; on file a moment later (gw_audq). */
		memset(&ev, 0, sizeof(ev));
		ev.type = REC_AUDIT_DENIED;
		ev.engineer = name;
		ev.reason = reason;
		ev.rule = rule;
		audit_one(p, &ev);
	}
	tell_and_close(fd, tell);
}

static size_t
rows_of(uid_t uid, int open_only)
{
	size_t i, n = 0;

	for (i = 0; i < nchildren; i++)
		if ((open_only ? live[i].is_open : live[i].uid == uid))
			n++;
	if (!open_only)
		for (i = 0; i < npend; i++)
			if (pend[i].uid == uid)
				n++;
	return n;
}

/*
 * A new connection on the session socket. Who it is comes from the
 * kernel; only an engineer of the policy is held (as pending) at all.
 */
static void
accept_conn(const struct pol *p, int lfd)
{
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	struct passwd pw, *res = NULL;
	char buf[4096], reason[160], tell[160];
	int fd;

	unsigned long long accepted = gw_attest_ticks_now();

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) != 0) {
		close(fd);
		return;
	}
	if (getpwuid_r(cr.uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL ||
	    strlen(pw.pw_name) >= sizeof(pend[0].name) ||
	    pol_engineer_find(p, pw.pw_name) == NULL) {
		/* Not an engineer: closed now, no process, no audit event. */
		if (gw_ratelim_charge(&strangers, cr.uid, res ? pw.pw_name : NULL, time(NULL),
		    strangers_summary, NULL))
			mg_log(LOG_WARNING, "connection from %s (uid %u, pid %d) closed: not an "
			    "engineer in the policy", res ? pw.pw_name : "?", (unsigned)cr.uid,
			    (int)cr.pid);
		tell_and_close(fd, "not permitted: you are not an engineer in the gateway policy");
		return;
	}
	if (rows_of(cr.uid, 0) >= (size_t)p->gateway.max_sessions_per_engineer) {
		snprintf(reason, sizeof(reason), "%zu connections open for one engineer "
		    "(gateway.max_sessions_per_engineer)", rows_of(cr.uid, 0));
		snprintf(tell, sizeof(tell), "you have %d sessions open, the limit for one "
		    "engineer; end one first", p->gateway.max_sessions_per_engineer);
		refuse_conn(p, fd, cr.uid, pw.pw_name, reason,
		    "gateway.max_sessions_per_engineer", tell);
		return;
	}
	if (npend == pend_cap) {
		size_t cap = pend_cap < 16 ? 16 : pend_cap * 2;
		struct pending *np = reallocarray(pend, cap, sizeof(*np));

		if (np == NULL) {
			close(fd);
			return;
		}
		pend = np;
		pend_cap = cap;
	}
	pend[npend].fd = fd;
	pend[npend].uid = cr.uid;
	pend[npend].accepted = accepted;
	pend[npend].deadline = mg_mono_ms() + FIRST_REQUEST_MS;
	snprintf(pend[npend].name, sizeof(pend[npend].name), "%s", pw.pw_name);
	npend++;
}

static void
pend_drop(size_t i)
{
	pend[i] = pend[--npend];
}

/* Silent too long: the connection goes, its slot was never taken. */
static void
pend_expire(const struct pol *p)
{
	long long now = mg_mono_ms();
	size_t i = 0;

	while (i < npend) {
		if (pend[i].deadline > now) {
			i++;
			continue;
		}
		refuse_conn(p, pend[i].fd, pend[i].uid, pend[i].name,
		    "no request within 2 s", "gateway.first_request",
		    "no request within 2 seconds");
		pend_drop(i);
	}
}
/* What a session process frees of its parent's (tidy under valgrind). */
struct child_frees {
	void *a, *b, *c;
};

/*
 * The one request of a pending connection: an OPEN takes a slot (if one
 * is free) and gets a session process; a LIST gets a process to answer
 * it. Anything else is refused. The connection leaves the pending list.
 */
static void
pend_request(struct pol *p, size_t j, int lfd, int ctlfd, struct child_frees *cf)
{
	struct pending pe = pend[j];
	struct gw_msg m;
	char reason[160], tell[160];
	int fds[3], sp[2], r, quiet;
	size_t nfds = 0, i;
	pid_t pid;

	pend_drop(j);
	memset(&m, 0, sizeof(m));
	r = gw_msg_recv(pe.fd, &m, fds, 3, &nfds);
	if (r == MG_ERR_NOENT || r == MG_ERR_SYSTEM) {
		close(pe.fd);	/* gone before it asked */
		return;
	}
	if (r != 0 || (m.type != GW_MSG_OPEN && m.type != GW_MSG_LIST) ||
	    (m.type == GW_MSG_OPEN && nfds != 3)) {
		refuse_conn(p, pe.fd, pe.uid, pe.name, "bad request from mspgate-shell",
		    "gateway.request", "bad request");
		goto drop;
	}
	/* Only sessions take slots: a stalled or silent peer never did. */
	if (m.type == GW_MSG_OPEN && rows_of(0, 1) >= (size_t)p->gateway.max_sessions) {
		snprintf(reason, sizeof(reason), "gateway full: %zu sessions "
		    "(gateway.max_sessions)", rows_of(0, 1));
		snprintf(tell, sizeof(tell), "the gateway is at its limit of %d sessions; "
		    "try again later", p->gateway.max_sessions);
		refuse_conn(p, pe.fd, pe.uid, pe.name, reason, "gateway.max_sessions", tell);
		goto drop;
	}
	if (live_grow() != 0) {
		mg_log(LOG_ERR, "out of memory for the session table");
		close(pe.fd);
		goto drop;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) {
		mg_log(LOG_ERR, "socketpair: %s", strerror(errno));
		close(pe.fd);
		goto drop;
	}
	/* Over its refusal budget: the session's refusals go to syslog only. */
	quiet = !gw_ratelim_peek(&refusals, pe.uid, time(NULL));
	if ((pid = fork()) < 0) {
		mg_log(LOG_ERR, "fork: %s", strerror(errno));
		close(pe.fd);
		close(sp[0]);
		close(sp[1]);
		goto drop;
	}
	if (pid == 0) {
		close(sp[0]);
		free(cf->a);
		free(cf->b);
		free(cf->c);
		session_child(p, lfd, ctlfd, pe.fd, sp[1], &m, fds, nfds, quiet, pe.accepted);
	}
	close(sp[1]);
	close(pe.fd);
	memset(&live[nchildren], 0, sizeof(live[nchildren]));
	live[nchildren].pid = pid;
	live[nchildren].uid = pe.uid;
	live[nchildren].is_open = m.type == GW_MSG_OPEN;
	live[nchildren].fd = sp[0];
	nchildren++;
drop:
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	gw_msg_clear(&m);
}

int
main(int argc, char **argv)
{
	const char *policy = NULL, *user = NULL, *group = NULL;
	char *sockpath = NULL, *ctlpath = NULL;
	struct pol *pol = NULL;
	struct sigaction sa;
	struct pollfd *pf = NULL;
	size_t pf_cap = 2;
	struct passwd *pw;
	struct group *gr;
	uid_t uid;
	gid_t gid;
	int c, fg = 0, test = 0, lfd = -1, ctlfd = -1, rc = 1;
	size_t i;
	time_t stop_at;

	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	while ((c = getopt(argc, argv, "f:Dtds:c:u:g:h")) != -1) {
		switch (c) {
		case 'f': policy = optarg; break;
		case 'D': fg = 1; break;
		case 't': test = 1; break;
		case 'd': mg_log_set_verbose(1); break;
		case 's': free(sockpath); sockpath = strdup(optarg); break;
		case 'c': free(ctlpath); ctlpath = strdup(optarg); break;
		case 'u': user = optarg; break;
		case 'g': group = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (policy == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	/*
	 * -D copies each message to stderr, except under systemd with stderr
	 * in the journal (JOURNAL_STREAM), which has the syslog line already.
	 */
	mg_log_init("mspgated", LOG_AUTHPRIV, test || (fg && getenv("JOURNAL_STREAM") == NULL));
	if (load_policy(policy, &pol, NULL, 0) != 0) {
		mg_log(LOG_ERR, "%s: policy not loaded", policy);
		free(sockpath);
		free(ctlpath);
		return 1;
	}
	if (test) {
		free(sockpath);
		free(ctlpath);
		pol_free(pol);
		return 0;
	}
	/* Copies: a reloaded policy frees the old strings. */
	if ((sockpath == NULL && (sockpath = strdup(pol->gateway.session_socket)) == NULL) ||
	    (ctlpath == NULL && (ctlpath = strdup(pol->gateway.control_socket)) == NULL) ||
	    (pf = calloc(2, sizeof(*pf))) == NULL)
		goto out;
	raise_nofile(pol);
	if (ssh_init() != 0) {
		mg_log(LOG_ERR, "libssh initialisation failed");
		goto out;
	}
	/* Who owns the control socket: the service account, and the admin group. */
	if (user == NULL && (getuid() == 0 || geteuid() == 0))
		user = pol->gateway.user;
	pw = getpwnam(user != NULL ? user : "");
	uid = pw != NULL ? pw->pw_uid : geteuid();
	gid = pw != NULL ? pw->pw_gid : getegid();
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL) {
			mg_log(LOG_ERR, "-g %s: no such group", group);
			goto out;
		}
		gid = gr->gr_gid;
	}
	if ((lfd = listen_on(sockpath)) < 0 || (ctlfd = ctl_listen(ctlpath, uid, gid)) < 0 ||
	    drop_privileges(user) != 0)
		goto out;
	g_lfd = lfd;
	g_ctlfd = ctlfd;
	if (!fg && daemon(0, 0) != 0) {
		mg_log(LOG_ERR, "daemon: %s", strerror(errno));
		goto out;
	}
	/* As the service account: the state file is its own. */
	cur_pol = pol;
	if ((audq = gw_audq_new()) == NULL) {
		mg_log(LOG_ERR, "out of memory");
		goto out;
	}
	if (detect_start(pol) != 0)
		goto out;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	mg_log(LOG_INFO, "listening on %s, control on %s", sockpath, ctlpath);

	gw_ratelim_init(&refusals, REFUSAL_BURST, REFUSAL_WINDOW);
	gw_ratelim_init(&strangers, 1, STRANGER_WINDOW);
	while (!got_stop) {
		nfds_t npf = 0, npf_live, npf_ctl, nctlp_polled;
		size_t k;
		int timeout = 1000;

		if (got_chld) {
			got_chld = 0;
			reap();
		}
		if (got_hup) {
			got_hup = 0;
			reload(policy, &pol);
			raise_nofile(pol);
		}
		notifiers_expire();
		/* Events a failed writer left behind are tried again. */
		(void)gw_audq_kick(audq, pol->gateway.audit, pol->gateway.signing_key,
		    audit_child_init, NULL);
		audit_tail(pol->gateway.audit);
		detect_save(0);
		pend_expire(pol);
		ctl_expire();
		gw_ratelim_flush(&refusals, time(NULL), refusals_summary, pol);
		gw_ratelim_flush(&strangers, time(NULL), strangers_summary, NULL);
		if (pf_fit(&pf, &pf_cap) != 0) {
			mg_log(LOG_ERR, "out of memory for the session table");
			usleep(100000);
			continue;
		}
		pf[npf].fd = lfd;
		pf[npf++].events = POLLIN;
		pf[npf].fd = ctlfd;
		pf[npf++].events = POLLIN;
		for (i = 0; i < nchildren; i++) {
			pf[npf].fd = live[i].fd;
			pf[npf++].events = POLLIN;
		}
		/* Control requests still coming in, then silent session connections. */
		nctlp_polled = nctlp;
		for (i = 0; i < nctlp; i++) {
			long long left = ctlp[i].deadline - mg_mono_ms();

			pf[npf].fd = ctlp[i].fd;
			pf[npf++].events = POLLIN;
			if (left < timeout)
				timeout = left < 0 ? 0 : (int)left;
		}
		npf_ctl = npf;
		npf_live = npf;
		for (i = 0; i < npend; i++) {
			long long left = pend[i].deadline - mg_mono_ms();

			pf[npf].fd = pend[i].fd;
			pf[npf++].events = POLLIN;
			/* Wake for the first deadline: nobody waits on a silent peer. */
			if (left < timeout)
				timeout = left < 0 ? 0 : (int)left;
		}
		if (poll(pf, npf, timeout) <= 0)
			continue;
		/* Reports first: the table is current when mspgatectl asks. */
		for (i = 0; i < nchildren && i + 2 < npf_live - nctlp_polled; i++)
			if (live[i].fd >= 0 && pf[i + 2].fd == live[i].fd && pf[i + 2].revents)
				child_report(&live[i]);
		for (k = npf_ctl; k > npf_ctl - nctlp_polled; k--) {
			size_t j = k - 1 - (npf_ctl - nctlp_polled);

			if (j < nctlp && pf[k - 1].fd == ctlp[j].fd && pf[k - 1].revents)
				ctl_read(j);
		}
		if (pf[1].revents & POLLIN)
			ctl_accept(ctlfd, gid);
		/* Requests on pending connections; a new row may be made for each. */
		for (k = npf; k > npf_live; k--) {
			size_t j = k - 1 - npf_live;

			if (j < npend && pf[k - 1].fd == pend[j].fd && pf[k - 1].revents) {
				struct child_frees cf = { pf, sockpath, ctlpath };

				pend_request(pol, j, lfd, ctlfd, &cf);
			}
		}
		if (pf[0].revents & POLLIN)
			accept_conn(pol, lfd);
	}
	mg_log(LOG_INFO, "stopping: ending %zu session(s)", nchildren);
	for (i = 0; i < npend; i++)
		close(pend[i].fd);
	npend = 0;
	for (i = 0; i < nctlp; i++)
		close(ctlp[i].fd);
	nctlp = 0;
	for (i = 0; i < nchildren; i++)
		kill(live[i].pid, SIGTERM);
	stop_at = time(NULL) + STOP_WAIT_SECS;
	while (nchildren > 0 && time(NULL) < stop_at) {
		reap();
		if (nchildren > 0)
			usleep(100000);
	}
	for (i = 0; i < nchildren; i++) {
		end_row(&live[i]);
		kill(live[i].pid, SIGKILL);
	}
	detect_save(1);
	/* What the rate limits left out is counted before the daemon goes. */
	reap();
	gw_ratelim_flush(&refusals, time(NULL) + REFUSAL_WINDOW, refusals_summary, pol);
	gw_ratelim_flush(&strangers, time(NULL) + STRANGER_WINDOW, strangers_summary, NULL);
	/* The daemon's last events, from this process: nothing queued is lost. */
	if (gw_audq_drain(audq, pol->gateway.audit, pol->gateway.signing_key) != 0)
		mg_log(LOG_ERR, "audit: %zu events could not be written", gw_audq_len(audq));
	rc = 0;
out:
	if (lfd >= 0) {
		close(lfd);
		unlink(sockpath);
	}
	if (ctlfd >= 0) {
		close(ctlfd);
		unlink(ctlpath);
	}
	free(pf);
	free(pend);
	free(live);
	free(sockpath);
	free(ctlpath);
	gw_detect_free(det);
	gw_audq_free(audq);
	pol_free(pol);
	ssh_finalize();
	return rc;
}
