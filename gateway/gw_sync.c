/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mspgated's side of the state worker (gw_sync.h): the worker started,
 * restarted when it dies, told of every session without waiting, and what
 * it passes on from other gateways acted on. Only with state.backend =
 * "postgresql"; the files backend has no worker and nothing here runs.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gw_daemon.h"
#include "gw_sync.h"
#include "mg_err.h"
#include "mg_log.h"
#include "mg_time.h"
#include "pol.h"

/*
 * Messages waiting for room in the socket. Past this one is dropped (and
 * logged); a snapshot puts the worker right once the queue has drained.
 */
#define QUEUE_MAX	4096
/* A worker that died is started again after this; sooner than that it died young. */
#define RESTART_MS	1000
#define RESTART_SLOW_MS	10000
#define YOUNG_MS	10000

struct pkt {
	size_t len;
	uint8_t b[];
};

struct gw_sync {
	int fd;			/* our end of the socket pair, or -1 */
	pid_t pid;		/* the worker, or 0 */
	long long started, restart_at;
	struct pkt **q;
	size_t qhead, qn, qcap;
	int resync;		/* a snapshot is due once the queue drains */
	int dropped;		/* messages were dropped since the last snapshot */
	/* The other gateways' live sessions, between PEERS and PEERS_END. */
	struct peer {
		char id[GW_CHILD_ID_MAX + 1];
		char engineer[GW_CHILD_NAME_MAX + 1];
		char from[GW_SYNC_GW_MAX + 1];
		char source[GW_CHILD_SOURCE_MAX + 1];
	} *peers;
	size_t npeers, peers_cap;
	int in_peers;
};

static void
queue_clear(struct gw_sync *s)
{
	size_t i;

	for (i = 0; i < s->qn; i++)
		free(s->q[(s->qhead + i) % s->qcap]);
	s->qhead = s->qn = 0;
}

/* Queues m; over the bound (unless force, for a snapshot) it is dropped. */
static void
queue_add(struct gw_sync *s, const struct gw_sync_msg *m, int force)
{
	uint8_t buf[GW_SYNC_MAX];
	struct pkt *p;
	size_t len;
	int r;

	if (s->fd < 0)
		return;		/* no worker: the next one gets a snapshot */
	if ((r = gw_sync_encode(m, buf, sizeof(buf), &len)) != 0) {
		mg_log(LOG_ERR, "state worker: %s not sent: %s", gw_sync_type_name(m->type),
		    mg_strerror(r));
		return;
	}
	if (!force && s->qn >= QUEUE_MAX) {
		if (!s->dropped)
			mg_log(LOG_ERR, "state worker: %d messages wait for it; more are dropped "
			    "until it catches up, then it is sent the whole table", QUEUE_MAX);
		s->dropped = s->resync = 1;
		return;
	}
	if (s->qn == s->qcap) {
		size_t cap = s->qcap ? s->qcap * 2 : 64, i;
		struct pkt **nq = calloc(cap, sizeof(*nq));

		if (nq == NULL)
			goto nomem;
		for (i = 0; i < s->qn; i++)
			nq[i] = s->q[(s->qhead + i) % s->qcap];
		free(s->q);
		s->q = nq;
		s->qcap = cap;
		s->qhead = 0;
	}
	if ((p = malloc(sizeof(*p) + len)) == NULL)
		goto nomem;
	p->len = len;
	memcpy(p->b, buf, len);
	s->q[(s->qhead + s->qn++) % s->qcap] = p;
	return;
nomem:
	mg_log(LOG_ERR, "state worker: out of memory; it is sent the whole table later");
	s->resync = 1;
}

/* As much of the queue as the socket takes now; never waits. */
static void
queue_flush(struct gw_sync *s)
{
	ssize_t n;

	while (s->qn > 0 && s->fd >= 0) {
		struct pkt *p = s->q[s->qhead];

		n = send(s->fd, p->b, p->len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* Sent, or the worker is gone (reaped later): either way it leaves the queue. */
		free(p);
		s->qhead = (s->qhead + 1) % s->qcap;
		s->qn--;
		if (n < 0) {
			queue_clear(s);
			return;
		}
	}
}

static void
session_msg(const struct gw_live *l, struct gw_sync_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = GW_SYNC_SESSION;
	gw_child_copy(m->id, sizeof(m->id), l->id);
	gw_child_copy(m->engineer, sizeof(m->engineer), l->engineer);
	gw_child_copy(m->tenant, sizeof(m->tenant), l->tenant);
	gw_child_copy(m->target, sizeof(m->target), l->target);
	gw_child_copy(m->login, sizeof(m->login), l->login);
	gw_child_copy(m->source, sizeof(m->source), l->source);
	gw_child_copy(m->kind, sizeof(m->kind), gw_child_kind_name(l->kind));
	m->start = l->start > 0 ? l->start : 1;
}

/* Every started session, in one go: the worker's rows become exactly these. */
static void
snapshot(struct gw_daemon *d)
{
	struct gw_sync *s = d->sync;
	struct gw_sync_msg m;
	size_t i;

	s->resync = s->dropped = 0;
	memset(&m, 0, sizeof(m));
	m.type = GW_SYNC_SNAPSHOT;
	queue_add(s, &m, 1);
	for (i = 0; i < d->nlive; i++)
		if (d->live[i].started && d->live[i].id[0] != '\0') {
			session_msg(&d->live[i], &m);
			queue_add(s, &m, 1);
		}
	memset(&m, 0, sizeof(m));
	m.type = GW_SYNC_SNAPSHOT_END;
	queue_add(s, &m, 1);
}

static void
worker_start(struct gw_daemon *d)
{
	struct gw_sync *s = d->sync;
	int sv[2];
	pid_t pid;

	/* The backend is chosen at start: a reload that changes it takes effect at restart. */
	if (d->pol->state.backend != POL_STATE_POSTGRESQL) {
		mg_log(LOG_ERR, "state worker: not started again: the reloaded policy keeps "
		    "the state in files (restart mspgated to stop sharing live sessions)");
		s->restart_at = 0;
		return;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		mg_log(LOG_ERR, "state worker: socketpair: %s", strerror(errno));
		s->restart_at = mg_mono_ms() + RESTART_SLOW_MS;
		return;
	}
	if ((pid = fork()) < 0) {
		mg_log(LOG_ERR, "state worker: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		s->restart_at = mg_mono_ms() + RESTART_SLOW_MS;
		return;
	}
	if (pid == 0) {
		close(sv[0]);
		gw_daemon_close_fds(d, NULL);
		/* mspgated's handlers set its flags: here they would do nothing. */
		signal(SIGTERM, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGHUP, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		(void)prctl(PR_SET_NAME, "mspgate-sync", 0, 0, 0);
		gw_sync_worker_run(sv[1], &d->pol->state);
	}
	close(sv[1]);
	s->fd = sv[0];
	s->pid = pid;
	s->started = mg_mono_ms();
	s->restart_at = 0;
	/* A new worker knows nothing: it gets the whole table first. */
	queue_clear(s);
	snapshot(d);
	queue_flush(s);
}

int
gw_sync_start(struct gw_daemon *d)
{
	if (d->pol->state.backend != POL_STATE_POSTGRESQL)
		return 0;
	if ((d->sync = calloc(1, sizeof(*d->sync))) == NULL) {
		mg_log(LOG_ERR, "out of memory");
		return -1;
	}
	d->sync->fd = -1;
	worker_start(d);
	return 0;
}

void
gw_sync_free(struct gw_sync *s)
{
	if (s == NULL)
		return;
	queue_clear(s);
	free(s->q);
	free(s->peers);
	free(s);
}

void
gw_sync_close_fd(const struct gw_sync *s)
{
	if (s != NULL && s->fd >= 0)
		close(s->fd);
}

void
gw_sync_stop(struct gw_daemon *d)
{
	struct gw_sync *s = d->sync;

	if (s == NULL || s->fd < 0)
		return;
	/* What fits goes; the worker, seeing the end, removes this gateway's rows anyway. */
	queue_flush(s);
	close(s->fd);
	s->fd = -1;
}

void
gw_sync_session(struct gw_daemon *d, const struct gw_live *l)
{
	struct gw_sync_msg m;

	if (d->sync == NULL)
		return;
	session_msg(l, &m);
	queue_add(d->sync, &m, 0);
	queue_flush(d->sync);
}

void
gw_sync_gone(struct gw_daemon *d, const struct gw_live *l)
{
	struct gw_sync_msg m;

	if (d->sync == NULL || l->id[0] == '\0')
		return;
	memset(&m, 0, sizeof(m));
	m.type = GW_SYNC_GONE;
	gw_child_copy(m.id, sizeof(m.id), l->id);
	queue_add(d->sync, &m, 0);
	queue_flush(d->sync);
}

void
gw_sync_kill_others(struct gw_daemon *d, const char *engineer, const char *why)
{
	struct gw_sync_msg m;

	if (d->sync == NULL)
		return;
	memset(&m, 0, sizeof(m));
	m.type = GW_SYNC_KILL_OTHERS;
	gw_child_copy(m.engineer, sizeof(m.engineer), engineer);
	gw_child_copy(m.why, sizeof(m.why), why != NULL && why[0] ? why : "detector");
	queue_add(d->sync, &m, 0);
	queue_flush(d->sync);
}

void
gw_sync_event(struct gw_daemon *d, const struct gw_detect_event *ev, time_t when)
{
	struct gw_sync_msg m;

	if (d->sync == NULL || ev->engineer == NULL || when <= 0 ||
	    (ev->kind != GW_DETECT_START && ev->kind != GW_DETECT_MFA_FAILURE))
		return;
	memset(&m, 0, sizeof(m));
	m.type = GW_SYNC_EVENT;
	gw_child_copy(m.kind, sizeof(m.kind), ev->kind == GW_DETECT_START ? "start" :
	    "mfa_failure");
	gw_child_copy(m.engineer, sizeof(m.engineer), ev->engineer);
	if (ev->kind == GW_DETECT_START) {
		gw_child_copy(m.tenant, sizeof(m.tenant), ev->tenant ? ev->tenant : "");
		gw_child_copy(m.target, sizeof(m.target), ev->target ? ev->target : "");
	}
	gw_child_copy(m.source, sizeof(m.source), ev->source ? ev->source : "");
	m.start = (int64_t)when;
	queue_add(d->sync, &m, 0);
	queue_flush(d->sync);
}

int
gw_sync_pollfd(const struct gw_daemon *d, short *events)
{
	if (d->sync == NULL || d->sync->fd < 0)
		return -1;
	*events = POLLIN | (d->sync->qn > 0 ? POLLOUT : 0);
	return d->sync->fd;
}

/* Another gateway asks for one of ours to end: as mspgatectl kill or the detector would. */
static void
on_kill(struct gw_daemon *d, const struct gw_sync_msg *m)
{
	char who[GW_CHILD_WHO_MAX + 1], words[GW_CHILD_WORDS_MAX + 1];
	size_t i, n = 0;

	/* Cut to what the session protocol carries; the log line below has it whole. */
	if (snprintf(who, sizeof(who), "%s on gateway %s", m->who, m->from) < 0 ||
	    snprintf(words, sizeof(words), "%s (on gateway %s)", m->why, m->from) < 0)
		return;
	for (i = 0; i < d->nlive; i++) {
		struct gw_live *l = &d->live[i];

		if (!l->started || l->id[0] == '\0')
			continue;
		if (m->id[0] != '\0' && strcmp(l->id, m->id) == 0) {
			mg_log(LOG_NOTICE, "control: %s ends session %s (%s -> %s/%s): %s", who,
			    l->id, l->engineer, l->tenant, l->target, m->why);
			gw_live_ask_end(l, who);
			n++;
		} else if (m->engineer[0] != '\0' && strcmp(l->engineer, m->engineer) == 0) {
			mg_log(LOG_NOTICE, "detector on gateway %s denied %s: session %s (%s/%s) "
			    "ends: %s", m->from, l->engineer, l->id, l->tenant, l->target, m->why);
			gw_live_deny(l, words);
			n++;
		}
	}
	if (n == 0)
		mg_log(LOG_NOTICE, "%s asked to end %s%s, which is not live here", who,
		    m->id[0] ? "session " : "the sessions of ", m->id[0] ? m->id : m->engineer);
}

/* Another gateway's session or MFA failure: history for our detector, nothing judged. */
static void
on_remote(struct gw_daemon *d, const struct gw_sync_msg *m)
{
	struct gw_detect_event ev;
	int r;

	if (d->det == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	if (strcmp(m->kind, "start") == 0)
		ev.kind = GW_DETECT_START;
	else if (strcmp(m->kind, "mfa_failure") == 0)
		ev.kind = GW_DETECT_MFA_FAILURE;
	else {
		mg_log(LOG_ERR, "state worker: an event of kind %s from gateway %s: ignored",
		    m->kind, m->from);
		return;
	}
	ev.engineer = m->engineer;
	ev.tenant = m->tenant;
	ev.target = m->target;
	ev.source = m->source[0] ? m->source : NULL;
	if ((r = gw_detect_remote(d->det, &ev, (time_t)m->start)) != 0) {
		mg_log(LOG_ERR, "detector: an event of %s from gateway %s not kept: %s",
		    m->engineer, m->from, mg_strerror(r));
		return;
	}
	/* As a session's start is logged on its own gateway: one line each. */
	if (ev.kind == GW_DETECT_START)
		mg_log(LOG_INFO, "detector: history from gateway %s: %s reached %s/%s at %lld",
		    m->from, m->engineer, m->tenant, m->target, (long long)m->start);
	else
		mg_log(LOG_INFO, "detector: history from gateway %s: an MFA failure of %s "
		    "from %s at %lld", m->from, m->engineer, m->source, (long long)m->start);
}

/* The other gateways' live sessions: gathered, then given to the detector whole. */
static void
on_peers(struct gw_daemon *d, const struct gw_sync_msg *m)
{
	struct gw_sync *s = d->sync;
	struct gw_detect_peer *v;
	size_t i;
	int r;

	if (m->type == GW_SYNC_PEERS) {
		s->in_peers = 1;
		s->npeers = 0;
		return;
	}
	if (!s->in_peers) {
		mg_log(LOG_ERR, "state worker: a %s outside a list of peers: refused",
		    gw_sync_type_name(m->type));
		return;
	}
	if (m->type == GW_SYNC_PEER) {
		if (s->npeers == GW_DETECT_PEERS_MAX)
			return;		/* the worker sends no more */
		if (s->npeers == s->peers_cap) {
			size_t cap = s->peers_cap ? s->peers_cap * 2 : 64;
			struct peer *np = realloc(s->peers, cap * sizeof(*np));

			if (np == NULL)
				return;
			s->peers = np;
			s->peers_cap = cap;
		}
		snprintf(s->peers[s->npeers].id, sizeof(s->peers[0].id), "%s", m->id);
		snprintf(s->peers[s->npeers].engineer, sizeof(s->peers[0].engineer), "%s",
		    m->engineer);
		snprintf(s->peers[s->npeers].from, sizeof(s->peers[0].from), "%s", m->from);
		snprintf(s->peers[s->npeers].source, sizeof(s->peers[0].source), "%s",
		    m->source);
		s->npeers++;
		return;
	}
	s->in_peers = 0;
	if (d->det == NULL)
		return;
	if ((v = calloc(s->npeers ? s->npeers : 1, sizeof(*v))) == NULL) {
		mg_log(LOG_ERR, "detector: the other gateways' live sessions not kept: %s",
		    mg_strerror(MG_ERR_NOMEM));
		return;
	}
	for (i = 0; i < s->npeers; i++) {
		v[i].gateway = s->peers[i].from;
		v[i].id = s->peers[i].id;
		v[i].engineer = s->peers[i].engineer;
		v[i].source = s->peers[i].source;
	}
	r = gw_detect_peers_set(d->det, v, s->npeers);
	free(v);
	if (r != 0)
		mg_log(LOG_ERR, "detector: %s of the other gateways' %zu live sessions not kept",
		    r < 0 ? "all" : "some", s->npeers);
	else	/* sent only when it changed */
		mg_log(LOG_INFO, "detector: the other gateways hold %zu live session%s",
		    s->npeers, s->npeers == 1 ? "" : "s");
}

void
gw_sync_io(struct gw_daemon *d, short revents)
{
	struct gw_sync *s = d->sync;
	uint8_t buf[GW_SYNC_MAX + 1];
	struct gw_sync_msg m;
	ssize_t n;

	if (s == NULL || s->fd < 0)
		return;
	if (revents & POLLOUT)
		queue_flush(s);
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	for (;;) {
		n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			/* The worker is gone: reaped, logged and started again from chores. */
			close(s->fd);
			s->fd = -1;
			queue_clear(s);
			/* Nobody tells us about the other gateways now. */
			s->in_peers = 0;
			if (d->det != NULL && gw_detect_peers_set(d->det, NULL, 0) == 0)
				mg_log(LOG_INFO, "detector: the other gateways' live sessions "
				    "are not known while the state worker is away");
			return;
		}
		if ((size_t)n > GW_SYNC_MAX || gw_sync_decode(buf, (size_t)n, &m) != 0 ||
		    gw_sync_from(m.type) != GW_SYNC_FROM_WORKER) {
			mg_log(LOG_ERR, "state worker: a malformed message: refused");
			continue;
		}
		if (m.type == GW_SYNC_REMOTE)
			on_remote(d, &m);
		else if (m.type == GW_SYNC_PEERS || m.type == GW_SYNC_PEER ||
		    m.type == GW_SYNC_PEERS_END)
			on_peers(d, &m);
		else
			on_kill(d, &m);
	}
}

int
gw_sync_reaped(struct gw_daemon *d, pid_t pid, int status)
{
	struct gw_sync *s = d->sync;
	long long now = mg_mono_ms();

	if (s == NULL || s->pid == 0 || pid != s->pid)
		return 0;
	if (*d->stop)
		;	/* at shutdown it ends as it should */
	else if (WIFSIGNALED(status))
		mg_log(LOG_ERR, "state worker %d died of signal %d; started again", (int)pid,
		    WTERMSIG(status));
	else
		mg_log(LOG_ERR, "state worker %d exited with status %d; started again",
		    (int)pid, WEXITSTATUS(status));
	s->pid = 0;
	if (*d->stop) {
		s->restart_at = 0;
		return 1;
	}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	queue_clear(s);
	s->restart_at = now + (now - s->started < YOUNG_MS ? RESTART_SLOW_MS : RESTART_MS);
	return 1;
}

void
gw_sync_tick(struct gw_daemon *d)
{
	struct gw_sync *s = d->sync;

	if (s == NULL)
		return;
	if (s->pid == 0 && s->restart_at != 0 && mg_mono_ms() >= s->restart_at &&
	    !*d->stop)
		worker_start(d);
	queue_flush(s);
	if (s->resync && s->qn == 0)
		snapshot(d);
	queue_flush(s);
}
