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
#include <unistd.h>
#include <libssh/libssh.h>

#include "gw_detect.h"
#include "gw_msg.h"
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
/* Session reports: an exec command is at most 32768 bytes (gw_msg.h). */
#define REPORT_MAX (32768 + 64)
/* Audit-log lines longer than this are not auth failures we can read. */
#define AUDIT_LINE_MAX 8192
#define AUDIT_READ_MAX (256 * 1024)

static volatile sig_atomic_t got_stop, got_hup, got_chld;

/*
 * The live session table: one row per session process, filled in from
 * what the process reports over its socketpair (see gw_session.h). A
 * process that has not reported yet (still deciding) has an empty id.
 */
struct live {
	pid_t pid;
	int fd;
	char id[64], engineer[64], tenant[64], target[64], login[64], source[64];
	char kind[8];
	unsigned mfa;
	long long start, end_by, window_close, last;
	unsigned long long bin, bout;
	int withdrawn;
	int started;		/* START sent to the detector: END is due */
	int denied;		/* the detector ended it already */
	int egress_held;	/* held once for a fresh code on egress (reauth) */
};
static struct live *live;	/* grown as needed up to gateway.max_sessions */
static size_t nchildren, live_cap;

/*
 * The one detector (gw_detect.h): sessions ask it through their socket
 * pair; its history lives in <gateway.state>/detect.
 */
static struct gw_detect *det;
static char det_path[4096];
static time_t det_saved;
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

static void end_row(struct live *l);
static void ctl_alerts(int fd, long long since);

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

static void
reap(void)
{
	pid_t pid;
	int status;
	size_t i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
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
say(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
say(int fd, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;
	size_t off = 0;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	while (off < (size_t)n) {
		ssize_t w = send(fd, buf + off, (size_t)n - off, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

/* Asks a session process to end: it audits who asked and tells the engineer. */
static void
ask_end(struct live *l, const char *who)
{
	char msg[256];
	int n = snprintf(msg, sizeof(msg), "K\t%s", who);

	if (l->fd < 0 || n < 0 || send(l->fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		kill(l->pid, SIGTERM);	/* no channel: it still ends cleanly */
}

/*
 * One mspgatectl request, one answer, then the connection closes:
 *   list                  "ok" then one line per session
 *   kill id|engineer|tenant VALUE   "ok N" then the ids asked to end
 * Errors: "error: ..." alone.
 */
static void
ctl_serve(int lfd, gid_t admin_gid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct timeval tv = { 2, 0 };
	char req[512], who[128], *arg, *what;
	size_t got = 0, i, n;
	time_t now = time(NULL);
	int fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
		goto out;
	/* The socket's mode keeps others out; this is the second lock. */
	if (!in_group(cr.uid, admin_gid, who, sizeof(who)) && cr.uid != 0 &&
	    cr.uid != geteuid()) {
		mg_log(LOG_WARNING, "control: %s is not in the admin group: refused", who);
		say(fd, "error: permission denied\n");
		goto out;
	}
	while (got < sizeof(req) - 1) {
		ssize_t r = recv(fd, req + got, sizeof(req) - 1 - got, 0);

		if (r <= 0)
			break;
		got += (size_t)r;
		if (memchr(req, '\n', got) != NULL)
			break;
	}
	req[got] = '\0';
	req[strcspn(req, "\n")] = '\0';
	if (strcmp(req, "list") == 0) {
		say(fd, "ok\n");
		for (i = 0; i < nchildren; i++) {
			struct live *l = &live[i];

			if (l->id[0] == '\0')
				continue;
			say(fd, "%s\t%s\t%s/%s\t%s\t%lld\t%lld\t%llu\t%llu\t%lld\t%lld\t%d\t%s\t%s\n",
			    l->id, l->engineer, l->tenant, l->target, l->login, l->start,
			    (long long)now - (l->last ? l->last : l->start), l->bin, l->bout,
			    l->window_close, l->end_by, (int)l->pid, l->kind, l->source);
		}
		goto out;
	}
	if (strncmp(req, "alerts\t", 7) == 0) {
		char *e;
		long long since = strtoll(req + 7, &e, 10);

		if (e == req + 7 || *e != '\0')
			say(fd, "error: unknown request\n");
		else
			ctl_alerts(fd, since);
		goto out;
	}
	if (strncmp(req, "kill\t", 5) != 0 || (arg = strchr(req + 5, '\t')) == NULL) {
		say(fd, "error: unknown request\n");
		goto out;
	}
	*arg++ = '\0';
	what = req + 5;
	if (strcmp(what, "id") != 0 && strcmp(what, "engineer") != 0 &&
	    strcmp(what, "tenant") != 0) {
		say(fd, "error: unknown request\n");
		goto out;
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
		goto out;
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
out:
	close(fd);
}

/* Tab-separated fields of a report, bounded copies. */
static size_t
split(char *msg, char **f, size_t max)
{
	size_t n = 0;
	char *p = msg;

	while (n < max && p != NULL) {
		f[n++] = p;
		if ((p = strchr(p, '\t')) != NULL)
			*p++ = '\0';
	}
	return n;
}

#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

/* ------------------------------------------------------------------ */
/* The detector: verdicts, alerts (audit, syslog, notify), its state.  */

static const char *
rule_words(enum gw_detect_rule r)
{
	switch (r) {
	case GW_DETECT_FANOUT: return "tenant fan-out";
	case GW_DETECT_FIRST_ACCESS: return "first access";
	case GW_DETECT_OFF_HOURS: return "off-hours attempts";
	case GW_DETECT_MFA_FAILURES: return "MFA failures";
	case GW_DETECT_UNUSUAL: return "unusual time or source";
	case GW_DETECT_PARALLEL: return "parallel use";
	case GW_DETECT_EGRESS: return "data egress";
	case GW_DETECT_SENSITIVE: return "sensitive command";
	default: return "detector";
	}
}

/* The rule behind the strongest action (what the engineer is told). */
static const char *
result_words(const struct gw_detect_result *res)
{
	size_t i;

	for (i = 0; i < res->nhits; i++)
		if (res->hits[i].action == res->action)
			return rule_words(res->hits[i].rule);
	return "detector unavailable";
}

/* A JSON string value; names and evidence are printable ASCII already. */
static void
json_str(FILE *f, const char *k, const char *v)
{
	const unsigned char *p;

	fprintf(f, ",\"%s\":", k);
	if (v == NULL) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
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
	FILE *f;
	time_t now = time(NULL);
	struct tm tm;
	char ts[32];
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
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if ((f = fmemopen(json, sizeof(json) - 1, "w")) == NULL)
		return;
	fprintf(f, "{\"time\":\"%s\"", ts);
	json_str(f, "rule", gw_detect_rule_name(h->rule));
	json_str(f, "action", gw_detect_action_name(h->action));
	json_str(f, "severity", sev);
	json_str(f, "engineer", ev ? ev->engineer : NULL);
	json_str(f, "tenant", ev ? ev->tenant : NULL);
	json_str(f, "target", ev ? ev->target : NULL);
	json_str(f, "source", ev ? ev->source : NULL);
	json_str(f, "session", ev ? ev->session : NULL);
	json_str(f, "evidence", h->evidence);
	fputs("}\n", f);
	fflush(f);
	n = (size_t)ftell(f);
	fclose(f);
	json[n] = '\0';
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
	struct rec_audit_opts opts;
	struct rec_audit *a = NULL;
	char err[300];
	size_t i;

	if (res->nhits == 0)
		return;
	memset(&opts, 0, sizeof(opts));
	/* The fixed-format line below is the syslog record of an alert. */
	opts.no_syslog = 1;
	if (rec_audit_open(cur_pol->gateway.audit, cur_pol->gateway.signing_key, &opts, &a,
	    err, sizeof(err)) != 0) {
		mg_log(LOG_ERR, "audit log %s: %s", cur_pol->gateway.audit, err);
		a = NULL;
	}
	for (i = 0; i < res->nhits; i++) {
		const struct gw_detect_hit *h = &res->hits[i];
		struct rec_audit_event aev;
		char reason[GW_DETECT_EVIDENCE_MAX + 16], line[1024];

		gw_detect_audit_event(ev, h, reason, sizeof(reason), &aev);
		if (a != NULL && rec_audit_event(a, &aev) != 0)
			mg_log(LOG_ERR, "cannot write the audit log: %s", rec_audit_errmsg(a));
		gw_detect_syslog_line(ev, h, line, sizeof(line));
		mg_log(h->severity, "%s", line);
		notify(cur_pol->alerts.notify, ev, h);
	}
	rec_audit_close(a);
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

	if (det == NULL || !gw_detect_dirty(det) || (!force && now - det_saved <
	    DETECT_SAVE_SECS))
		return;
	det_saved = now;
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
	char msg[200];
	int n;

	if (l->denied)
		return;
	l->denied = 1;
	n = snprintf(msg, sizeof(msg), "D\t%s", result_words(res));
	if (l->fd < 0 || n < 0 || send(l->fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
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
	char msg[200];
	int n;

	if (l->denied)
		return;
	n = snprintf(msg, sizeof(msg), "M\t%s", result_words(res));
	if (l->fd < 0 || n < 0 || send(l->fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
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
static int
json_field(const char *line, const char *key, char *out, size_t outlen)
{
	char pat[40];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	if ((p = strstr(line, pat)) == NULL)
		return -1;
	p += strlen(pat);
	if ((e = strchr(p, '"')) == NULL || (size_t)(e - p) >= outlen ||
	    memchr(p, '\\', (size_t)(e - p)) != NULL)
		return -1;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return 0;
}

static void
audit_line(const char *line)
{
	struct gw_detect_event ev;
	struct gw_detect_result res;
	char eng[GW_DETECT_NAME_MAX + 1], src[64];
	const char *q;
	uint64_t seq;

	if ((q = strstr(line, "\"seq\":")) == NULL)
		return;
	seq = strtoull(q + 6, NULL, 10);
	if (seq <= tail.seq)
		return;
	tail.seq = seq;
	if (strstr(line, ",\"event\":\"auth_failure\"") == NULL ||
	    json_field(line, "engineer", eng, sizeof(eng)) != 0 ||
	    json_field(line, "source", src, sizeof(src)) != 0)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = GW_DETECT_MFA_FAILURE;
	ev.engineer = eng;
	ev.source = src;
	/* Not an account the policy knows, or no address: nothing to count. */
	if (gw_detect_event(det, &ev, &res) == 0)
		alert_hits(&ev, &res);
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
	if (st.st_size == tail.off || (buf = malloc(AUDIT_READ_MAX + 1)) == NULL) {
		close(fd);
		return;
	}
	n = pread(fd, buf, AUDIT_READ_MAX, tail.off);
	close(fd);
	if (n <= 0) {
		free(buf);
		return;
	}
	buf[n] = '\0';
	for (p = buf; (nl = memchr(p, '\n', (size_t)(buf + n - p))) != NULL; p = nl + 1) {
		*nl = '\0';
		if (nl - p < AUDIT_LINE_MAX)
			audit_line(p);
	}
	/* A line longer than what was read at once is skipped whole. */
	if (p == buf && n == AUDIT_READ_MAX)
		p = buf + n;
	tail.off += p - buf;
	free(buf);
}

/* "alerts\tSINCE": the alert events of the audit log from SINCE on (at most the last 1000). */
#define ALERTS_MAX 1000
static void
ctl_alerts(int fd, long long since)
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
		const char *q;

		if (n > AUDIT_LINE_MAX || strstr(line, ",\"event\":\"alert\"") == NULL ||
		    (q = strstr(line, "\"ts\":")) == NULL || strtoll(q + 5, NULL, 10) < since)
			continue;
		free(ring[head]);
		ring[head] = strdup(line);
		head = (head + 1) % ALERTS_MAX;
		if (count < ALERTS_MAX)
			count++;
	}
	free(line);
	fclose(f);
	say(fd, "ok\n");
	for (i = 0; i < count; i++) {
		const char *l = ring[(head + ALERTS_MAX - count + i) % ALERTS_MAX];
		char t[40], rule[40], res[16], eng[80], ten[80], tgt[80], why[GW_DETECT_EVIDENCE_MAX + 32];

		if (l == NULL || json_field(l, "time", t, sizeof(t)) != 0)
			continue;
		if (json_field(l, "rule", rule, sizeof(rule)) != 0)
			snprintf(rule, sizeof(rule), "-");
		if (json_field(l, "result", res, sizeof(res)) != 0)
			snprintf(res, sizeof(res), "-");
		if (json_field(l, "engineer", eng, sizeof(eng)) != 0)
			snprintf(eng, sizeof(eng), "-");
		if (json_field(l, "tenant", ten, sizeof(ten)) != 0)
			snprintf(ten, sizeof(ten), "-");
		if (json_field(l, "target", tgt, sizeof(tgt)) != 0)
			snprintf(tgt, sizeof(tgt), "-");
		if (json_field(l, "reason", why, sizeof(why)) != 0)
			snprintf(why, sizeof(why), "-");
		say(fd, "%s\t%s\t%s\t%s\t%s/%s\t%s\n", t, strncmp(rule, "alerts.", 7) == 0 ?
		    rule + 7 : rule, res, eng, ten, tgt, why);
	}
	for (i = 0; i < ALERTS_MAX; i++)
		free(ring[i]);
	free(ring);
}


/*
 * A report from a session process (our own code, still bounded; see
 * gw_session.h for the messages). The detector's questions are answered
 * here, at once: the session waits for the verdict.
 */
static void
child_report(struct live *l)
{
	static char msg[REPORT_MAX + 1];
	struct gw_detect_event ev;
	struct gw_detect_result res;
	char *f[12];
	ssize_t r;
	size_t n;

	while ((r = recv(l->fd, msg, REPORT_MAX, MSG_DONTWAIT)) > 0) {
		msg[r] = '\0';
		memset(&ev, 0, sizeof(ev));
		if (msg[0] == 'C' || msg[0] == 'I') {
			/* The text is the rest of the packet, tabs and all. */
			if (r < 2 || msg[1] != '\t' || !l->started)
				continue;
			ev.kind = msg[0] == 'C' ? GW_DETECT_COMMAND : GW_DETECT_INPUT;
			ev.engineer = l->engineer;
			ev.tenant = l->tenant;
			ev.target = l->target;
			ev.source = strcmp(l->source, "-") == 0 ? NULL : l->source;
			ev.session = l->id;
			ev.text = msg + 2;
			ev.text_len = (size_t)r - 2;
			judge(&ev, &res);
			act_live(l, &res);
			continue;
		}
		n = split(msg, f, 12);
		if (n == 7 && strcmp(f[0], "A") == 0) {
			char ans[200];
			int k;

			COPY(l->engineer, f[1]);
			COPY(l->tenant, f[2]);
			COPY(l->target, f[3]);
			COPY(l->source, f[4]);
			ev.kind = GW_DETECT_ATTEMPT;
			ev.engineer = l->engineer;
			ev.tenant = l->tenant;
			ev.target = l->target;
			ev.source = strcmp(l->source, "-") == 0 ? NULL : l->source;
			ev.allowed = strcmp(f[5], "1") == 0;
			ev.refusal = strcmp(f[6], "window") == 0 ? GW_DETECT_REFUSED_WINDOW :
			    GW_DETECT_REFUSED_OTHER;
			judge(&ev, &res);
			/*
			 * A stolen identity keeps what it already has open unless
			 * the policy says a deny ends that too.
			 */
			if (res.action == GW_DETECT_DENY && deny_ends_sessions())
				deny_engineer(l->engineer, l, &res);
			k = snprintf(ans, sizeof(ans), "V\t%s\t%s",
			    gw_detect_action_name(res.action), result_words(&res));
			/* No answer: the session refuses (it waits for one). */
			if (k > 0 && (size_t)k < sizeof(ans))
				(void)send(l->fd, ans, (size_t)k, MSG_NOSIGNAL | MSG_DONTWAIT);
		} else if (n == 12 && strcmp(f[0], "S") == 0) {
			COPY(l->id, f[1]);
			COPY(l->engineer, f[2]);
			COPY(l->tenant, f[3]);
			COPY(l->target, f[4]);
			COPY(l->login, f[5]);
			l->start = strtoll(f[6], NULL, 10);
			l->end_by = strtoll(f[7], NULL, 10);
			l->window_close = strtoll(f[8], NULL, 10);
			l->mfa = (unsigned)strtoul(f[9], NULL, 10);
			COPY(l->source, f[10]);
			COPY(l->kind, f[11]);
			l->last = l->start;
			if (l->started)
				continue;
			l->started = 1;
			ev.kind = GW_DETECT_START;
			ev.engineer = l->engineer;
			ev.tenant = l->tenant;
			ev.target = l->target;
			ev.source = strcmp(l->source, "-") == 0 ? NULL : l->source;
			ev.session = l->id;
			if (judge(&ev, &res) == GW_DETECT_DENY)
				deny_live(l, &res);
		} else if (n == 5 && strcmp(f[0], "U") == 0) {
			unsigned long long bout = strtoull(f[2], NULL, 10);
			int more = bout != l->bout;

			l->bin = strtoull(f[1], NULL, 10);
			l->bout = bout;
			l->last = strtoll(f[3], NULL, 10);
			l->end_by = strtoll(f[4], NULL, 10);
			if (!more || !l->started)
				continue;
			ev.kind = GW_DETECT_BYTES;
			ev.engineer = l->engineer;
			ev.tenant = l->tenant;
			ev.target = l->target;
			ev.session = l->id;
			ev.bytes_out = l->bout;
			judge(&ev, &res);
			/*
			 * Over a daily limit every report would ask again: a
			 * session is held for egress once.
			 */
			if (res.action == GW_DETECT_REAUTH && l->egress_held)
				continue;
			if (res.action == GW_DETECT_REAUTH)
				l->egress_held = 1;
			act_live(l, &res);
		}
	}
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
		close(l->fd);
		l->fd = -1;
	}
}

/* One event of the daemon itself in the audit log; failures go to syslog. */
static void
audit_one(const struct pol *p, const struct rec_audit_event *ev)
{
	struct rec_audit *a = NULL;
	char err[300];

	if (rec_audit_open(p->gateway.audit, p->gateway.signing_key, NULL, &a, err,
	    sizeof(err)) != 0) {
		mg_log(LOG_ERR, "audit log %s: %s", p->gateway.audit, err);
		return;
	}
	if (rec_audit_event(a, ev) != 0)
		mg_log(LOG_ERR, "cannot write the audit log: %s", rec_audit_errmsg(a));
	rec_audit_close(a);
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
		char msg[700];
		int n;

		if (l->id[0] == '\0' || l->withdrawn)
			continue;
		req.engineer = l->engineer;
		req.tenant = l->tenant;
		req.target = l->target;
		req.login = l->login;
		req.mfa_used = l->mfa;
		req.source = strcmp(l->source, "-") == 0 ? NULL : l->source;
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
		n = snprintf(msg, sizeof(msg), "R\t%lld\t%s",
		    (long long)(now + np->gateway.reload_grace), d.reason);
		if (l->fd < 0 || n < 0 || send(l->fd, msg, (size_t)n < sizeof(msg) ?
		    (size_t)n : sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			kill(l->pid, SIGTERM);
	}
	snprintf(reason, sizeof(reason), "policy reloaded; %zu live session(s) no longer "
	    "granted%s", withdrawn, withdrawn && np->gateway.reload_grace == POL_GRACE_FINISH ?
	    " (left to finish)" : "");
	mg_log(LOG_INFO, "%s", reason);
	audit_reload(np, "success", reason);
}

static void
session_child(struct pol *pol, int lfd, int ctlfd, int cfd, int parent)
{
	struct gw_ctx ctx;
	struct sigaction sa;
	size_t i;
	int rc;

	close(lfd);
	close(ctlfd);
	/* Other sessions' channels are not this one's business. */
	for (i = 0; i < nchildren; i++)
		if (live[i].fd >= 0)
			close(live[i].fd);
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
	rc = gw_session_serve(&ctx, cfd);
	close(cfd);
	close(parent);
	pol_free(pol);
	ssh_finalize();
	exit(rc);
}

/* Room for one more session row (and its poll slot); -1 when out of memory. */
static int
live_grow(struct pollfd **pf)
{
	size_t cap = live_cap < 64 ? 64 : live_cap * 2;
	struct live *nl;
	struct pollfd *np;

	if (nchildren < live_cap)
		return 0;
	if ((nl = reallocarray(live, cap, sizeof(*nl))) == NULL)
		return -1;
	live = nl;
	if ((np = reallocarray(*pf, cap + 2, sizeof(*np))) == NULL)
		return -1;
	*pf = np;
	live_cap = cap;
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

/*
 * The gateway is full: the engineer is told so (mspgate-shell prints the
 * text and exits 255), and the refusal is logged and audited.
 */
static void
refuse_full(const struct pol *p, int cfd)
{
	struct gw_msg m;
	struct rec_audit_event ev;
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	struct passwd *pw = NULL;
	struct pollfd pf;
	char text[200], reason[120];

	snprintf(reason, sizeof(reason), "gateway full: %zu sessions (gateway.max_sessions)",
	    nchildren);
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0)
		pw = getpwuid(cr.uid);
	mg_log(LOG_WARNING, "session refused for %s: %s", pw != NULL ? pw->pw_name : "?",
	    reason);
	/* Audited first: once told, the engineer may look. */
	memset(&ev, 0, sizeof(ev));
	ev.type = REC_AUDIT_DENIED;
	ev.engineer = pw != NULL ? pw->pw_name : NULL;
	ev.reason = reason;
	ev.rule = "gateway.max_sessions";
	audit_one(p, &ev);
	/*
	 * Take the request off the socket first (any fds it carries are
	 * dropped by the kernel): closing with it unread would reset the
	 * connection, and the engineer would not see the answer. A client
	 * that has not sent it yet gets 100 ms.
	 */
	pf.fd = cfd;
	pf.events = POLLIN;
	if (poll(&pf, 1, 100) > 0)
		while (recv(cfd, text, sizeof(text), MSG_DONTWAIT) > 0)
			;
	snprintf(text, sizeof(text), "the gateway is at its limit of %d sessions; "
	    "try again later", p->gateway.max_sessions);
	memset(&m, 0, sizeof(m));
	m.type = GW_MSG_END;
	m.has_status = 1;
	m.end_kind = GW_END_ERROR;
	m.text = text;
	(void)gw_msg_send(cfd, &m, NULL, 0);
}

int
main(int argc, char **argv)
{
	const char *policy = NULL, *user = NULL, *group = NULL;
	char *sockpath = NULL, *ctlpath = NULL;
	struct pol *pol = NULL;
	struct sigaction sa;
	struct pollfd *pf = NULL;
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
	if (!fg && daemon(0, 0) != 0) {
		mg_log(LOG_ERR, "daemon: %s", strerror(errno));
		goto out;
	}
	/* As the service account: the state file is its own. */
	cur_pol = pol;
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

	while (!got_stop) {
		pid_t pid;
		int cfd, sp[2];
		nfds_t npf = 0;

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
		audit_tail(pol->gateway.audit);
		detect_save(0);
		pf[npf].fd = lfd;
		pf[npf++].events = POLLIN;
		pf[npf].fd = ctlfd;
		pf[npf++].events = POLLIN;
		for (i = 0; i < nchildren; i++) {
			pf[npf].fd = live[i].fd;
			pf[npf++].events = POLLIN;
		}
		if (poll(pf, npf, 1000) <= 0)
			continue;
		/* Reports first: the table is current when mspgatectl asks. */
		for (i = 0; i < nchildren && i + 2 < npf; i++)
			if (live[i].fd >= 0 && pf[i + 2].fd == live[i].fd && pf[i + 2].revents)
				child_report(&live[i]);
		if (pf[1].revents & POLLIN)
			ctl_serve(ctlfd, gid);
		if (!(pf[0].revents & POLLIN))
			continue;
		if ((cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		if (nchildren >= (size_t)pol->gateway.max_sessions) {
			refuse_full(pol, cfd);
			close(cfd);
			continue;
		}
		if (live_grow(&pf) != 0) {
			mg_log(LOG_ERR, "out of memory for the session table");
			close(cfd);
			continue;
		}
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) {
			mg_log(LOG_ERR, "socketpair: %s", strerror(errno));
			close(cfd);
			continue;
		}
		if ((pid = fork()) < 0) {
			mg_log(LOG_ERR, "fork: %s", strerror(errno));
			close(cfd);
			close(sp[0]);
			close(sp[1]);
			continue;
		}
		if (pid == 0) {
			close(sp[0]);
			free(pf);
			free(sockpath);
			free(ctlpath);
			session_child(pol, lfd, ctlfd, cfd, sp[1]);
		}
		close(sp[1]);
		memset(&live[nchildren], 0, sizeof(live[nchildren]));
		live[nchildren].pid = pid;
		live[nchildren].fd = sp[0];
		nchildren++;
		close(cfd);
	}
	mg_log(LOG_INFO, "stopping: ending %zu session(s)", nchildren);
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
	free(live);
	free(sockpath);
	free(ctlpath);
	gw_detect_free(det);
	pol_free(pol);
	ssh_finalize();
	return rc;
}
