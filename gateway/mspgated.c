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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libssh/libssh.h>

#include "gw_session.h"
#include "mg_diag.h"
#include "mg_err.h"
#include "mg_log.h"
#include "mg_time.h"
#include "pol.h"
#include "pol_decide.h"
#include "rec_audit.h"

#define MAX_SESSIONS 512
#define STOP_WAIT_SECS 15

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
};
static struct live live[MAX_SESSIONS];
static size_t nchildren;

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
		for (i = 0; i < nchildren; i++) {
			if (live[i].pid == pid) {
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

static int
listen_on(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		mg_log(LOG_ERR, "%s: socket path too long", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* A socket left by a previous run is replaced; anything else is not ours. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			mg_log(LOG_ERR, "%s exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
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
	struct stat st;
	int fd, r = -1;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		mg_log(LOG_ERR, "%s: socket path too long", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			mg_log(LOG_ERR, "%s exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
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

/* A report from a session process (our own code, still bounded). */
static void
child_report(struct live *l)
{
	char msg[1200], *f[12];
	ssize_t r;
	size_t n;

	while ((r = recv(l->fd, msg, sizeof(msg) - 1, MSG_DONTWAIT)) > 0) {
		msg[r] = '\0';
		n = split(msg, f, 12);
		if (n == 12 && strcmp(f[0], "S") == 0) {
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
		} else if (n == 5 && strcmp(f[0], "U") == 0) {
			l->bin = strtoull(f[1], NULL, 10);
			l->bout = strtoull(f[2], NULL, 10);
			l->last = strtoll(f[3], NULL, 10);
			l->end_by = strtoll(f[4], NULL, 10);
		}
	}
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
		close(l->fd);
		l->fd = -1;
	}
}

static void
audit_reload(const struct pol *p, const char *result, const char *reason)
{
	struct rec_audit *a = NULL;
	struct rec_audit_event ev;
	char err[300];

	if (rec_audit_open(p->gateway.audit, p->gateway.signing_key, NULL, &a, err,
	    sizeof(err)) != 0) {
		mg_log(LOG_ERR, "audit log %s: %s", p->gateway.audit, err);
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = REC_AUDIT_POLICY_RELOAD;
	ev.result = result;
	ev.reason = reason;
	if (rec_audit_event(a, &ev) != 0)
		mg_log(LOG_ERR, "cannot write the audit log: %s", rec_audit_errmsg(a));
	rec_audit_close(a);
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
	pol_free(*pol);
	*pol = np;
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
	mg_log_init("mspgated", LOG_AUTHPRIV, fg || test);
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
	    (pf = calloc(MAX_SESSIONS + 2, sizeof(*pf))) == NULL)
		goto out;
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
		}
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
		if (nchildren >= MAX_SESSIONS) {
			mg_log(LOG_WARNING, "too many sessions; connection refused");
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
	for (i = 0; i < nchildren; i++)
		kill(live[i].pid, SIGKILL);
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
	free(sockpath);
	free(ctlpath);
	pol_free(pol);
	ssh_finalize();
	return rc;
}
