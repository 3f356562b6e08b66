/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mspgated's control socket for mspgatectl(8). One request, one answer,
 * then the connection closes:
 *   list                  "ok" then one line per session
 *   kill id|engineer|tenant VALUE   "ok N" then the ids asked to end
 *   alerts SINCE          "ok" then one line per alert in the audit log
 *   approve|deny ID COMMENT  "ok" once the waiting session is told
 *   watch ID              "ok" with the session's recording (an open file,
 *                         SCM_RIGHTS); the connection then stays open while
 *                         the operator watches, and its end is audited
 * Errors: "error: ..." alone. The request is read as it arrives (a
 * pending control connection, GW_CTL_REQUEST_MS at most) and the answer
 * is made in memory, then sent without waiting: a client that does not
 * read gets it from a short-lived process of its own (ctl_answer).
 * Nothing an admin's client does holds up the main loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "gw_daemon.h"
#include "mg_log.h"
#include "mg_time.h"
#include "pol.h"
#include "rec_writer.h"

/* "alerts": at most this many, the last ones. */
#define ALERTS_MAX 1000

/*
 * Owned by the service account, group gid, mode 0660; who asks is then
 * checked again by SO_PEERCRED.
 */
int
gw_ctl_listen(const char *path, uid_t uid, gid_t gid)
{
	struct sockaddr_un sa;
	int fd, r = -1;

	if (gw_daemon_sock_addr(path, &sa) != 0)
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

/* Sends the whole answer, at once or from a child that may wait (10 s). */
static void
ctl_answer(const struct gw_daemon *d, int fd, const char *data, size_t len)
{
	ssize_t w = len > 0 ? send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT) : 0;
	pid_t pid;

	if (w >= 0 && (size_t)w < len && (pid = fork()) == 0) {
		struct timeval tv = { 10, 0 };
		size_t off = (size_t)w;

		gw_daemon_close_fds(d, &fd);
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		while (off < len && (w = send(fd, data + off, len - off, MSG_NOSIGNAL)) > 0)
			off += (size_t)w;
		_exit(0);
	}
	close(fd);
}

/* A new control connection: who it is, then its request as it comes. */
void
gw_ctl_accept(struct gw_daemon *d)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct gw_ctl_pending *c;
	char who[128];
	static const char denied[] = "error: permission denied\n";
	int fd;

	if ((fd = accept4(d->ctlfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) {
		close(fd);
		return;
	}
	/* The socket's mode keeps others out; this is the second lock. */
	if (!in_group(cr.uid, d->admin_gid, who, sizeof(who)) && cr.uid != 0 &&
	    cr.uid != geteuid()) {
		mg_log(LOG_WARNING, "control: %s is not in the admin group: refused", who);
		ctl_answer(d, fd, denied, sizeof(denied) - 1);
		return;
	}
	if (d->nctlp == GW_CTL_MAX) {
		mg_log(LOG_WARNING, "control: %s: too many requests at once: refused", who);
		close(fd);
		return;
	}
	c = &d->ctlp[d->nctlp++];
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->deadline = mg_mono_ms() + GW_CTL_REQUEST_MS;
	c->uid = cr.uid;
	snprintf(c->who, sizeof(c->who), "%s", who);
}

/*
 * "list": every session that has reported its start, or that waits for
 * approval, one line each; the last column says which ("running",
 * "waiting": then END_BY is when the wait runs out).
 */
static void
ctl_list(const struct gw_daemon *d, FILE *fd)
{
	time_t now = time(NULL);
	size_t i;

	say(fd, "ok\n");
	for (i = 0; i < d->nlive; i++) {
		const struct gw_live *l = &d->live[i];

		if (l->id[0] == '\0')
			continue;
		say(fd, "%s\t%s\t%s/%s\t%s\t%lld\t%lld\t%llu\t%llu\t%lld\t%lld\t%d\t%s\t%s\t%s\n",
		    l->id, l->engineer, l->tenant, l->target, l->login, l->start,
		    (long long)now - (l->last ? l->last : l->start), l->bin, l->bout,
		    l->window_close, l->end_by, (int)l->pid, gw_child_kind_name(l->kind),
		    l->source[0] ? l->source : "-", l->waiting ? "waiting" : "running");
	}
}

/* Does row l answer "kill WHAT ARG"? Rows not started yet never do. */
static int
kill_match(const struct gw_live *l, const char *what, const char *arg)
{
	if (l->id[0] == '\0')
		return 0;
	return (strcmp(what, "id") == 0 && strcmp(l->id, arg) == 0) ||
	    (strcmp(what, "engineer") == 0 && strcmp(l->engineer, arg) == 0) ||
	    (strcmp(what, "tenant") == 0 && strcmp(l->tenant, arg) == 0);
}

/* "kill\tWHAT\tARG": the sessions matched are asked to end; "ok N" and their ids. */
static void
ctl_kill(struct gw_daemon *d, char *req, const char *who, FILE *fd)
{
	char *arg, *what;
	size_t i, n;

	if ((arg = strchr(req, '\t')) == NULL) {
		say(fd, "error: unknown request\n");
		return;
	}
	*arg++ = '\0';
	what = req;
	if (strcmp(what, "id") != 0 && strcmp(what, "engineer") != 0 &&
	    strcmp(what, "tenant") != 0) {
		say(fd, "error: unknown request\n");
		return;
	}
	for (i = 0, n = 0; i < d->nlive; i++)
		if (kill_match(&d->live[i], what, arg))
			n++;
	if (n == 0) {
		say(fd, "error: no such session\n");
		return;
	}
	say(fd, "ok %zu\n", n);
	for (i = 0; i < d->nlive; i++) {
		struct gw_live *l = &d->live[i];

		if (!kill_match(l, what, arg))
			continue;
		mg_log(LOG_NOTICE, "control: %s ends session %s (%s -> %s/%s)", who, l->id,
		    l->engineer, l->tenant, l->target);
		gw_live_ask_end(l, who);
		say(fd, "%s\n", l->id);
	}
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
static void
ctl_alerts(const struct gw_daemon *d, FILE *fd, long long since)
{
	char *line = NULL, **ring;
	size_t cap = 0, head = 0, count = 0, i;
	ssize_t n;
	FILE *f;

	if ((ring = calloc(ALERTS_MAX, sizeof(*ring))) == NULL) {
		say(fd, "error: out of memory\n");
		return;
	}
	if ((f = fopen(d->pol->gateway.audit, "re")) == NULL) {
		say(fd, "error: %s: %s\n", d->pol->gateway.audit, strerror(errno));
		free(ring);
		return;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		struct rec_audit_reader *rd;
		struct rec_audit_line ln;
		char *row;

		if (n > GW_AUDIT_LINE_MAX || !gw_daemon_audit_parse(line, (size_t)n, &rd, &ln))
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

/* 1 when the account (name, uid) is one of the tenant's approvers. */
static int
is_approver(const struct pol_tenant *t, const char *name, uid_t uid)
{
	struct passwd pw, *res = NULL;
	struct group *gr;
	char buf[4096];
	size_t i;

	if (t == NULL || getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return 0;
	for (i = 0; i < t->napprovers; i++) {
		const char *a = t->approvers[i];

		if (strncmp(a, "group:", 6) != 0) {
			if (strcmp(a, name) == 0)
				return 1;
			continue;
		}
		if ((gr = getgrnam(a + 6)) == NULL)
			continue;
		{
			char gname[64];

			if (in_group(uid, gr->gr_gid, gname, sizeof(gname)))
				return 1;
		}
	}
	return 0;
}

/* An approval refused (who asked may not): audited, and the answer. */
static void
approval_refused(struct gw_daemon *d, const struct gw_live *l, const char *why, FILE *fd)
{
	struct rec_audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = REC_AUDIT_APPROVAL;
	ev.result = "refused";
	ev.reason = why;
	if (l != NULL) {
		ev.session = l->id;
		ev.engineer = l->engineer;
		ev.tenant = l->tenant;
		ev.target = l->target;
		ev.login = l->login;
	}
	gw_daemon_audit(d, &ev, 0);
	say(fd, "error: %s\n", why);
}

/*
 * "approve\tID\tCOMMENT" or "deny\tID\tCOMMENT": by one of the tenant's
 * approvers (the caller as the kernel names it), never the engineer.
 */
static void
ctl_approve(struct gw_daemon *d, int approve, char *req, uid_t uid, FILE *fd)
{
	struct passwd pw, *res = NULL;
	struct gw_child_msg m;
	struct gw_live *l = NULL;
	char buf[4096], name[80], why[400], *comment;
	size_t i;

	if ((comment = strchr(req, '\t')) == NULL) {
		say(fd, "error: unknown request\n");
		return;
	}
	*comment++ = '\0';
	for (i = 0; i < d->nlive; i++)
		if (d->live[i].id[0] != '\0' && strcmp(d->live[i].id, req) == 0)
			l = &d->live[i];
	if (l == NULL) {
		say(fd, "error: no such session\n");
		return;
	}
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL ||
	    strlen(pw.pw_name) > 64) {
		snprintf(why, sizeof(why), "uid %u has no account name: cannot approve",
		    (unsigned)uid);
		approval_refused(d, l, why, fd);
		return;
	}
	snprintf(name, sizeof(name), "%s", pw.pw_name);
	if (!l->waiting) {
		say(fd, "error: session %s is not waiting for approval\n", l->id);
		return;
	}
	/* Four eyes: the engineer never approves (or denies) their own session. */
	if (strcmp(name, l->engineer) == 0) {
		snprintf(why, sizeof(why), "%s may not %s their own session", name,
		    approve ? "approve" : "deny");
		approval_refused(d, l, why, fd);
		return;
	}
	if (!is_approver(pol_tenant_find(d->pol, l->tenant), name, uid)) {
		snprintf(why, sizeof(why), "%s is not an approver for tenant %s", name,
		    l->tenant);
		approval_refused(d, l, why, fd);
		return;
	}
	memset(&m, 0, sizeof(m));
	m.type = GW_CHILD_APPROVAL;
	m.u.approval.approved = approve != 0;
	m.u.approval.at = mg_clock_now();
	snprintf(buf, sizeof(buf), "%s (uid %u)", name, (unsigned)uid);
	gw_child_copy(m.u.approval.who, sizeof(m.u.approval.who), buf);
	gw_child_copy(m.u.approval.comment, sizeof(m.u.approval.comment), comment);
	if (gw_live_tell(l, &m) != 0) {
		say(fd, "error: session %s could not be told (it is ending)\n", l->id);
		return;
	}
	/* Told once: a second approve or deny finds it no longer waiting. */
	l->waiting = 0;
	mg_log(LOG_NOTICE, "control: %s %s session %s (%s -> %s/%s)", buf,
	    approve ? "approves" : "denies", l->id, l->engineer, l->tenant, l->target);
	say(fd, "ok\n");
}

static void
ctl_request(struct gw_daemon *d, const char *req, const char *who, uid_t uid, FILE *fd)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", req);
	if (strcmp(buf, "list") == 0) {
		ctl_list(d, fd);
		return;
	}
	if (strncmp(buf, "alerts\t", 7) == 0) {
		char *e;
		long long since = strtoll(buf + 7, &e, 10);

		if (e == buf + 7 || *e != '\0')
			say(fd, "error: unknown request\n");
		else
			ctl_alerts(d, fd, since);
		return;
	}
	if (strncmp(buf, "approve\t", 8) == 0 || strncmp(buf, "deny\t", 5) == 0) {
		ctl_approve(d, buf[0] == 'a', buf + (buf[0] == 'a' ? 8 : 5), uid, fd);
		return;
	}
	if (strncmp(buf, "kill\t", 5) != 0) {
		say(fd, "error: unknown request\n");
		return;
	}
	ctl_kill(d, buf + 5, who, fd);
}

/* A "watch" audit event: start or stop, naming who watches. */
static void
watch_audit(struct gw_daemon *d, const struct gw_watcher *w, const char *result)
{
	struct rec_audit_event ev;
	char why[200];

	snprintf(why, sizeof(why), "watched by %s", w->who);
	memset(&ev, 0, sizeof(ev));
	ev.type = REC_AUDIT_WATCH;
	ev.result = result;
	ev.reason = why;
	ev.session = w->id;
	ev.engineer = w->engineer;
	ev.tenant = w->tenant;
	ev.target = w->target;
	gw_daemon_audit(d, &ev, 0);
}

/*
 * "watch\tID": the running session's recording, opened here (the
 * recordings are the service account's alone) and handed over read-only.
 * The watcher follows the file: nothing it does (or fails to do) reaches
 * the session. Returns 1 when the connection became a watcher's.
 */
static int
ctl_watch(struct gw_daemon *d, const struct gw_ctl_pending *c, const char *id, FILE *f)
{
	char path[4096], ctlbuf[CMSG_SPACE(sizeof(int))];
	static const char ok[] = "ok\n";
	struct iovec iov = { (void *)ok, sizeof(ok) - 1 };
	struct msghdr mh;
	struct cmsghdr *cm;
	struct gw_watcher *w;
	const struct gw_live *l = NULL;
	size_t i;
	int fd;

	for (i = 0; i < d->nlive; i++)
		if (d->live[i].id[0] != '\0' && strcmp(d->live[i].id, id) == 0)
			l = &d->live[i];
	if (l == NULL || !l->started) {
		say(f, l == NULL ? "error: no such session\n" :
		    "error: session %s has not started (it waits for approval)\n", id);
		return 0;
	}
	if (d->nwatch == GW_WATCH_MAX) {
		say(f, "error: too many watchers at once (%d)\n", GW_WATCH_MAX);
		return 0;
	}
	/* The id names a file: only a well-formed one (no '/', no "..") does. */
	if (!rec_session_id_valid(l->id) ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s.cast", d->pol->gateway.recordings,
	    l->id) >= sizeof(path) ||
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)) < 0) {
		say(f, "error: the recording of %s cannot be opened\n", id);
		return 0;
	}
	memset(&mh, 0, sizeof(mh));
	memset(ctlbuf, 0, sizeof(ctlbuf));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctlbuf;
	mh.msg_controllen = sizeof(ctlbuf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	/* A few bytes into an empty socket: this does not wait. */
	if (sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)iov.iov_len) {
		close(fd);
		return 0;
	}
	close(fd);
	w = &d->watch[d->nwatch++];
	memset(w, 0, sizeof(*w));
	w->fd = c->fd;
	snprintf(w->id, sizeof(w->id), "%s", l->id);
	snprintf(w->engineer, sizeof(w->engineer), "%s", l->engineer);
	snprintf(w->tenant, sizeof(w->tenant), "%s", l->tenant);
	snprintf(w->target, sizeof(w->target), "%s", l->target);
	snprintf(w->who, sizeof(w->who), "%s", c->who);
	mg_log(LOG_NOTICE, "control: %s watches session %s (%s -> %s/%s)", w->who, w->id,
	    w->engineer, w->tenant, w->target);
	watch_audit(d, w, "start");
	return 1;
}

void
gw_ctl_watch_io(struct gw_daemon *d, size_t i)
{
	struct gw_watcher *w = &d->watch[i];
	char buf[256];
	ssize_t r = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT);

	/* A watcher has nothing more to say: what it sends is dropped. */
	if (r > 0 || (r < 0 && (errno == EAGAIN || errno == EINTR)))
		return;
	mg_log(LOG_NOTICE, "control: %s stopped watching session %s", w->who, w->id);
	watch_audit(d, w, "stop");
	close(w->fd);
	*w = d->watch[--d->nwatch];
}

void
gw_ctl_watch_close(struct gw_daemon *d)
{
	while (d->nwatch > 0) {
		struct gw_watcher *w = &d->watch[--d->nwatch];

		watch_audit(d, w, "stop");
		close(w->fd);
	}
}

void
gw_ctl_read(struct gw_daemon *d, size_t i)
{
	struct gw_ctl_pending *c = &d->ctlp[i];
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
		if (strncmp(c->req, "watch\t", 6) == 0 && ctl_watch(d, c, c->req + 6, f)) {
			fclose(f);	/* the connection is the watcher's now */
		} else {
			if (strncmp(c->req, "watch\t", 6) != 0)
				ctl_request(d, c->req, c->who, c->uid, f);
			fclose(f);
			ctl_answer(d, c->fd, out, outlen);
		}
	} else
		close(c->fd);
	free(out);
	*c = d->ctlp[--d->nctlp];
}

/* Control connections that said nothing in time are closed. */
void
gw_ctl_expire(struct gw_daemon *d)
{
	long long now = mg_mono_ms();
	size_t i = 0;

	while (i < d->nctlp) {
		if (d->ctlp[i].deadline > now) {
			i++;
			continue;
		}
		close(d->ctlp[i].fd);
		d->ctlp[i] = d->ctlp[--d->nctlp];
	}
}
