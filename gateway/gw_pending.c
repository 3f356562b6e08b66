/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mspgated's session socket: connections are held (no process, no slot)
 * until they ask, then get a session process or a refusal.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <libssh/libssh.h>

#include "gw_attest.h"
#include "gw_daemon.h"
#include "gw_msg.h"
#include "gw_session.h"
#include "mg_err.h"
#include "mg_log.h"
#include "mg_time.h"
#include "pol.h"

int
gw_pending_listen(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	if (gw_daemon_sock_addr(path, &sa) != 0)
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
refuse_conn(struct gw_daemon *d, int fd, uid_t uid, const char *name, const char *reason,
    const char *rule, const char *tell)
{
	if (gw_ratelim_charge(&d->refusals, uid, name, time(NULL),
	    gw_daemon_refusals_summary, d)) {
		struct rec_audit_event ev;

		mg_log(LOG_WARNING, "session refused for %s: %s", name, reason);
		/* Queued before the engineer is told; on file a moment later (gw_audq). */
		memset(&ev, 0, sizeof(ev));
		ev.type = REC_AUDIT_DENIED;
		ev.engineer = name;
		ev.reason = reason;
		ev.rule = rule;
		gw_daemon_audit(d, &ev, 0);
	}
	tell_and_close(fd, tell);
}

/* Room for one more pending connection; -1 when out of memory. */
static int
pend_grow(struct gw_daemon *d)
{
	size_t cap = d->pend_cap < 16 ? 16 : d->pend_cap * 2;
	struct gw_pending *np;

	if (d->npend < d->pend_cap)
		return 0;
	if ((np = reallocarray(d->pend, cap, sizeof(*np))) == NULL)
		return -1;
	d->pend = np;
	d->pend_cap = cap;
	return 0;
}

/*
 * A new connection on the session socket. Who it is comes from the
 * kernel; only an engineer of the policy is held (as pending) at all.
 */
void
gw_pending_accept(struct gw_daemon *d)
{
	const struct pol *p = d->pol;
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	struct passwd pw, *res = NULL;
	struct gw_pending *pe;
	char buf[4096], reason[160], tell[160];
	unsigned long long accepted = gw_attest_ticks_now();
	int fd;

	if ((fd = accept4(d->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) != 0) {
		close(fd);
		return;
	}
	if (getpwuid_r(cr.uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL ||
	    strlen(pw.pw_name) >= sizeof(pe->name) ||
	    pol_engineer_find(p, pw.pw_name) == NULL) {
		/* Not an engineer: closed now, no process, no audit event. */
		if (gw_ratelim_charge(&d->strangers, cr.uid, res ? pw.pw_name : NULL, time(NULL),
		    gw_daemon_strangers_summary, NULL))
			mg_log(LOG_WARNING, "connection from %s (uid %u, pid %d) closed: not an "
			    "engineer in the policy", res ? pw.pw_name : "?", (unsigned)cr.uid,
			    (int)cr.pid);
		tell_and_close(fd, "not permitted: you are not an engineer in the gateway policy");
		return;
	}
	if (gw_live_rows(d, cr.uid, 0) >= (size_t)p->gateway.max_sessions_per_engineer) {
		snprintf(reason, sizeof(reason), "%zu connections open for one engineer "
		    "(gateway.max_sessions_per_engineer)", gw_live_rows(d, cr.uid, 0));
		snprintf(tell, sizeof(tell), "you have %d sessions open, the limit for one "
		    "engineer; end one first", p->gateway.max_sessions_per_engineer);
		refuse_conn(d, fd, cr.uid, pw.pw_name, reason,
		    "gateway.max_sessions_per_engineer", tell);
		return;
	}
	if (pend_grow(d) != 0) {
		close(fd);
		return;
	}
	pe = &d->pend[d->npend++];
	pe->fd = fd;
	pe->uid = cr.uid;
	pe->accepted = accepted;
	pe->deadline = mg_mono_ms() + GW_FIRST_REQUEST_MS;
	snprintf(pe->name, sizeof(pe->name), "%s", pw.pw_name);
}

/* Silent too long: the connection goes, its slot was never taken. */
void
gw_pending_expire(struct gw_daemon *d)
{
	long long now = mg_mono_ms();
	size_t i = 0;

	while (i < d->npend) {
		struct gw_pending *pe = &d->pend[i];

		if (pe->deadline > now) {
			i++;
			continue;
		}
		refuse_conn(d, pe->fd, pe->uid, pe->name, "no request within 2 s",
		    "gateway.first_request", "no request within 2 seconds");
		*pe = d->pend[--d->npend];
	}
}

/*
 * The session process: it keeps the policy and its own connection, and
 * lets go of everything else the daemon holds.
 */
static void __attribute__((noreturn))
session_child(struct gw_daemon *d, int cfd, int parent, struct gw_msg *first,
    const int *fds, size_t nfds, int quiet, unsigned long long accepted)
{
	struct pol *pol = d->pol;
	struct gw_ctx ctx;
	struct sigaction sa;
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	/* SIGTERM from the parent: end the session, seal the recording. */
	ctx.stop = d->stop;
	/* Other sessions' channels and admins' requests are not this one's business. */
	gw_daemon_close_fds(d, NULL);
	/*
	 * The daemon's queued audit events are its writer's to write, and
	 * the detector is the parent's alone.
	 */
	d->pol = NULL;
	gw_daemon_free(d);
	/* The session waits on its own connection with poll, as before. */
	(void)fcntl(cfd, F_SETFL, fcntl(cfd, F_GETFL) & ~O_NONBLOCK);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	/* Reloads reach a session through its parent, never directly. */
	sigaction(SIGHUP, &sa, NULL);
	*ctx.stop = 0;
	ctx.pol = pol;
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

/*
 * Checks a request before a process is made for it: 0 when it may have
 * one; otherwise the connection has been refused or closed.
 */
static int
request_check(struct gw_daemon *d, const struct gw_pending *pe, const struct gw_msg *m,
    int r, size_t nfds)
{
	const struct pol *p = d->pol;
	char reason[160], tell[160];

	if (r == MG_ERR_NOENT || r == MG_ERR_SYSTEM) {
		close(pe->fd);	/* gone before it asked */
		return -1;
	}
	if (r != 0 || (m->type != GW_MSG_OPEN && m->type != GW_MSG_LIST &&
	    m->type != GW_MSG_CONFIG) ||
	    (m->type == GW_MSG_OPEN && nfds != 3)) {
		refuse_conn(d, pe->fd, pe->uid, pe->name, "bad request from mspgate-shell",
		    "gateway.request", "bad request");
		return -1;
	}
	/* Only sessions take slots: a stalled or silent peer never did. */
	if (m->type == GW_MSG_OPEN && gw_live_rows(d, 0, 1) >= (size_t)p->gateway.max_sessions) {
		snprintf(reason, sizeof(reason), "gateway full: %zu sessions "
		    "(gateway.max_sessions)", gw_live_rows(d, 0, 1));
		snprintf(tell, sizeof(tell), "the gateway is at its limit of %d sessions; "
		    "try again later", p->gateway.max_sessions);
		refuse_conn(d, pe->fd, pe->uid, pe->name, reason, "gateway.max_sessions", tell);
		return -1;
	}
	if (gw_live_grow(d) != 0) {
		mg_log(LOG_ERR, "out of memory for the session table");
		close(pe->fd);
		return -1;
	}
	return 0;
}

/*
 * An OPEN takes a slot (if one is free) and gets a session process; a
 * LIST gets a process to answer it. Anything else is refused. The
 * connection leaves the pending list.
 */
void
gw_pending_request(struct gw_daemon *d, size_t j)
{
	struct gw_pending pe = d->pend[j];
	struct gw_live *l;
	struct gw_msg m;
	int fds[3], sp[2], r, quiet;
	size_t nfds = 0, i;
	pid_t pid;

	d->pend[j] = d->pend[--d->npend];
	memset(&m, 0, sizeof(m));
	r = gw_msg_recv(pe.fd, &m, fds, 3, &nfds);
	if (request_check(d, &pe, &m, r, nfds) != 0)
		goto drop;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) {
		mg_log(LOG_ERR, "socketpair: %s", strerror(errno));
		close(pe.fd);
		goto drop;
	}
	/* Over its refusal budget: the session's refusals go to syslog only. */
	quiet = !gw_ratelim_peek(&d->refusals, pe.uid, time(NULL));
	if ((pid = fork()) < 0) {
		mg_log(LOG_ERR, "fork: %s", strerror(errno));
		close(pe.fd);
		close(sp[0]);
		close(sp[1]);
		goto drop;
	}
	if (pid == 0) {
		close(sp[0]);
		session_child(d, pe.fd, sp[1], &m, fds, nfds, quiet, pe.accepted);
	}
	close(sp[1]);
	close(pe.fd);
	l = &d->live[d->nlive++];
	memset(l, 0, sizeof(*l));
	l->pid = pid;
	l->uid = pe.uid;
	l->is_open = m.type == GW_MSG_OPEN;
	l->fd = sp[0];
drop:
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	gw_msg_clear(&m);
}
