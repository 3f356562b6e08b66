/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mspgated's state worker (gw_sync.h): the one process of the gateway that
 * writes its live sessions to the state database and takes the requests
 * other gateways left for it. It may wait on the database; mspgated does
 * not wait on it. While the database is gone it keeps what mspgated told
 * it and writes it all once it is back.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gw_sync.h"
#include "mg_err.h"
#include "mg_log.h"
#include "mg_time.h"
#include "st_pg.h"

/* How often this gateway's requests are looked for (the promise is 2 s). */
#define POLL_MS		500
/* Reconnecting: the first wait, and the longest. */
#define BACKOFF_MIN_MS	500
#define BACKOFF_MAX_MS	5000
/* A request older than this is dropped, not carried out (mspgatectl gave up on it). */
#define KILL_MAX_AGE	"60 seconds"
/*
 * The detector's shared events: kept this long in mspgate_events (a new
 * or restarted gateway learns the sessions of that many days), deleted
 * that often, and read at most this many a look.
 */
#define EVENTS_KEEP	"8 days"
#define PRUNE_MS	600000
#define EVENTS_BATCH	"1000"
/* The detector's requests for others kept while the database is gone, and how long. */
#define PENDING_MAX	64
#define PENDING_MS	60000
/*
 * This gateway's detector events kept while the database is gone, written
 * once it is back (the oldest dropped beyond this many, and said).
 */
#define BACKLOG_MAX	4096
/* The other gateways' live sessions read at most (GW_DETECT_PEERS_MAX). */
#define PEERS_MAX_SQL	"4096"

struct wk {
	int fd;
	const struct pol_state *ps;
	char name[GW_SYNC_GW_MAX + 1];
	struct st_pg *pg;
	/* What mspgated told: its live sessions, the mirror of our rows. */
	struct gw_sync_msg *rows;
	size_t nrows, cap;
	int in_snapshot;
	int dirty;		/* the rows must be written whole */
	long long next_try, backoff, next_poll;
	char last_err[256];
	/* KILL_OTHERS not yet written (the database was gone). */
	struct {
		struct gw_sync_msg m;
		long long at;
	} pending[PENDING_MAX];
	size_t npending;
	/* The other gateways' events: the last row passed on; 0 before the first look. */
	long long event_id;
	int events_primed;
	long long next_prune;
	/* EVENTs not yet written: a ring of BACKLOG_MAX, allocated when first needed. */
	struct gw_sync_msg *backlog;
	size_t bl_head, bl_n;
	unsigned long bl_dropped, bl_kept;
	/* The other gateways' live sessions as last sent (a hash of the rows read). */
	uint64_t peers_hash;
	int peers_known;	/* a non-empty set was sent and holds */
};

/* One line per change of trouble: a database down for an hour is one line, not 7200. */
static void
trouble(struct wk *w, const char *what, const char *err)
{
	char line[256];

	snprintf(line, sizeof(line), "%s: %s", what, err);
	if (strcmp(line, w->last_err) == 0)
		return;
	snprintf(w->last_err, sizeof(w->last_err), "%s", line);
	mg_log(LOG_WARNING, "state worker: %s; live sessions are not shared until it "
	    "works again", line);
}

/* The next try waits longer each time, until a write works again. */
static void
later(struct wk *w)
{
	w->next_try = mg_mono_ms() + w->backoff;
	w->backoff = w->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : w->backoff * 2;
}

static void send_daemon(struct wk *w, const struct gw_sync_msg *m);
static void peers_forget(struct wk *w);

static void
lost(struct wk *w, const char *what, const char *err)
{
	trouble(w, what, err);
	peers_forget(w);
	st_pg_close(w->pg);
	w->pg = NULL;
	w->dirty = 1;
	later(w);
}

static void
try_connect(struct wk *w)
{
	char err[400];

	if (st_pg_open(w->ps, &w->pg, err, sizeof(err)) != 0) {
		w->pg = NULL;
		trouble(w, "cannot reach the state database", err);
		later(w);
		return;
	}
	w->dirty = 1;
	w->next_poll = 0;
}

static int
row_put(struct wk *w, const struct gw_sync_msg *m, char *err, size_t errlen)
{
	char start[24];
	const char *pv[9] = { w->name, m->id, m->engineer, m->tenant, m->target, m->login,
	    m->source, m->kind, start };

	snprintf(start, sizeof(start), "%lld", (long long)m->start);
	return st_pg_exec(w->pg, "INSERT INTO mspgate_sessions (gateway, id, engineer, "
	    "tenant, target, login, source, kind, started) VALUES ($1, $2, $3, $4, $5, $6, "
	    "$7, $8, $9::bigint) ON CONFLICT (gateway, id) DO UPDATE SET engineer = "
	    "EXCLUDED.engineer, tenant = EXCLUDED.tenant, target = EXCLUDED.target, login = "
	    "EXCLUDED.login, source = EXCLUDED.source, kind = EXCLUDED.kind, started = "
	    "EXCLUDED.started", 9, pv, NULL, err, errlen);
}

/* This gateway's rows become exactly the mirror, in one transaction. */
static void
write_all(struct wk *w)
{
	const char *pv[1] = { w->name };
	char err[400];
	size_t i;
	int r;

	if ((r = st_pg_begin(w->pg, err, sizeof(err))) == 0)
		r = st_pg_exec(w->pg, "DELETE FROM mspgate_sessions WHERE gateway = $1", 1, pv,
		    NULL, err, sizeof(err));
	for (i = 0; r == 0 && i < w->nrows; i++)
		r = row_put(w, &w->rows[i], err, sizeof(err));
	if (r == 0)
		r = st_pg_commit(w->pg, err, sizeof(err));
	if (r != 0) {
		st_pg_rollback(w->pg);
		lost(w, "cannot write this gateway's sessions", err);
		return;
	}
	/*
	 * Back once the table is written, not at connect: a database that
	 * takes connections but not our writes (a schema not migrated) is
	 * tried ever less often.
	 */
	if (w->last_err[0] != '\0')
		mg_log(LOG_NOTICE, "state worker: the state database works again");
	w->last_err[0] = '\0';
	w->backoff = BACKOFF_MIN_MS;
	w->dirty = 0;
}

static void
row_add(struct wk *w, const struct gw_sync_msg *m)
{
	size_t i;

	for (i = 0; i < w->nrows; i++)
		if (strcmp(w->rows[i].id, m->id) == 0) {
			w->rows[i] = *m;
			return;
		}
	if (w->nrows == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct gw_sync_msg *p = reallocarray(w->rows, cap, sizeof(*p));

		if (p == NULL) {
			/* Written whole when memory allows; until then one row short. */
			mg_log(LOG_ERR, "state worker: out of memory");
			return;
		}
		w->rows = p;
		w->cap = cap;
	}
	w->rows[w->nrows++] = *m;
}

static void
row_del(struct wk *w, const char *id)
{
	size_t i;

	for (i = 0; i < w->nrows; i++)
		if (strcmp(w->rows[i].id, id) == 0) {
			w->rows[i] = w->rows[--w->nrows];
			return;
		}
}

/* The detector's deny, to every other gateway that holds one of the engineer's sessions. */
static int
kill_others(struct wk *w, const struct gw_sync_msg *m, char *err, size_t errlen)
{
	const char *pv[3] = { w->name, m->engineer, m->why };
	int r;

	r = st_pg_exec(w->pg, "INSERT INTO mspgate_kill (gateway, engineer, requested_by, "
	    "from_gateway, reason) SELECT DISTINCT gateway, $2, 'detector', $1, $3 FROM "
	    "mspgate_sessions WHERE engineer = $2 AND gateway <> $1", 3, pv, NULL, err, errlen);
	if (r == 0 && st_pg_changed(w->pg) > 0)
		mg_log(LOG_NOTICE, "state worker: %s's sessions on %ld other gateway(s) "
		    "asked to end (%s)", m->engineer, st_pg_changed(w->pg), m->why);
	return r;
}

static void
pending_flush(struct wk *w)
{
	long long now = mg_mono_ms();
	char err[400];
	size_t i;

	for (i = 0; i < w->npending && w->pg != NULL; i++) {
		if (now - w->pending[i].at > PENDING_MS) {
			mg_log(LOG_ERR, "state worker: %s's sessions on other gateways were not "
			    "asked to end: the state database was gone for %d s",
			    w->pending[i].m.engineer, PENDING_MS / 1000);
			continue;
		}
		if (kill_others(w, &w->pending[i].m, err, sizeof(err)) != 0) {
			lost(w, "cannot ask other gateways to end sessions", err);
			/* The rest, and this one, wait for the next connection. */
			memmove(&w->pending[0], &w->pending[i],
			    (w->npending - i) * sizeof(w->pending[0]));
			w->npending -= i;
			return;
		}
	}
	w->npending = 0;
}

/* One of this gateway's detector events, for the others. */
static int
event_put(struct wk *w, const struct gw_sync_msg *m, char *err, size_t errlen)
{
	char ts[24];
	const char *pv[7] = { w->name, m->kind, m->engineer, m->tenant, m->target,
	    m->source, ts };

	snprintf(ts, sizeof(ts), "%lld", (long long)m->start);
	return st_pg_exec(w->pg, "INSERT INTO mspgate_events (gateway, kind, engineer, "
	    "tenant, target, source, ts) VALUES ($1, $2, $3, $4, $5, $6, $7::bigint)", 7, pv,
	    NULL, err, errlen);
}

/* An event kept for later; the oldest goes when the ring is full. */
static void
backlog_add(struct wk *w, const struct gw_sync_msg *m)
{
	if (w->backlog == NULL &&
	    (w->backlog = calloc(BACKLOG_MAX, sizeof(*w->backlog))) == NULL) {
		w->bl_dropped++;
		return;
	}
	if (w->bl_n == BACKLOG_MAX) {
		w->bl_head = (w->bl_head + 1) % BACKLOG_MAX;
		w->bl_n--;
		w->bl_dropped++;
	}
	w->backlog[(w->bl_head + w->bl_n) % BACKLOG_MAX] = *m;
	w->bl_n++;
	w->bl_kept++;
}

/* The kept events written, in order, while the connection holds. */
static void
backlog_flush(struct wk *w)
{
	char err[400];

	while (w->bl_n > 0 && w->pg != NULL) {
		if (event_put(w, &w->backlog[w->bl_head], err, sizeof(err)) != 0) {
			lost(w, "cannot share the detector's events", err);
			return;
		}
		w->bl_head = (w->bl_head + 1) % BACKLOG_MAX;
		w->bl_n--;
	}
	if (w->bl_n == 0 && w->bl_kept > 0) {
		mg_log(LOG_NOTICE, "state worker: %lu kept detector event%s written to the "
		    "state database%s", w->bl_kept - w->bl_dropped,
		    w->bl_kept - w->bl_dropped == 1 ? "" : "s", w->bl_dropped ? "" : " (none lost)");
		if (w->bl_dropped)
			mg_log(LOG_ERR, "state worker: %lu detector events were lost: more than "
			    "%d waited for the state database", w->bl_dropped, BACKLOG_MAX);
		w->bl_kept = w->bl_dropped = 0;
	}
}

static void
on_message(struct wk *w, const struct gw_sync_msg *m)
{
	const char *pv[2] = { w->name, m->id };
	char err[400];
	int r = 0;

	switch (m->type) {
	case GW_SYNC_SNAPSHOT:
		w->nrows = 0;
		w->in_snapshot = 1;
		return;
	case GW_SYNC_SNAPSHOT_END:
		w->in_snapshot = 0;
		w->dirty = 1;
		return;
	case GW_SYNC_SESSION:
		row_add(w, m);
		if (w->pg != NULL && !w->dirty && !w->in_snapshot)
			r = row_put(w, m, err, sizeof(err));
		break;
	case GW_SYNC_GONE:
		row_del(w, m->id);
		if (w->pg != NULL && !w->dirty && !w->in_snapshot)
			r = st_pg_exec(w->pg, "DELETE FROM mspgate_sessions WHERE gateway = $1 "
			    "AND id = $2", 2, pv, NULL, err, sizeof(err));
		break;
	case GW_SYNC_EVENT:
		/* While the database is gone (or others wait), kept for later, in order. */
		if (w->pg == NULL || w->bl_n > 0) {
			backlog_add(w, m);
			return;
		}
		if ((r = event_put(w, m, err, sizeof(err))) != 0) {
			backlog_add(w, m);
			lost(w, "cannot share the detector's events", err);
		}
		return;
	case GW_SYNC_KILL_OTHERS:
		if (w->npending == PENDING_MAX) {
			mg_log(LOG_ERR, "state worker: %s's sessions on other gateways not asked "
			    "to end: too many requests wait for the state database", m->engineer);
			return;
		}
		w->pending[w->npending].m = *m;
		w->pending[w->npending++].at = mg_mono_ms();
		pending_flush(w);
		return;
	}
	if (r != 0)
		lost(w, "cannot write this gateway's sessions", err);
}

/* Everything mspgated sent; 0, or -1 once it is gone. */
static int
read_daemon(struct wk *w)
{
	uint8_t buf[GW_SYNC_MAX + 1];
	struct gw_sync_msg m;
	ssize_t n;

	for (;;) {
		n = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		if (n == 0)
			return -1;
		if ((size_t)n > GW_SYNC_MAX || gw_sync_decode(buf, (size_t)n, &m) != 0 ||
		    gw_sync_from(m.type) != GW_SYNC_FROM_DAEMON) {
			/* Our own parent's bug: said, and the table is written whole later. */
			mg_log(LOG_ERR, "state worker: a malformed message from mspgated: ignored");
			continue;
		}
		on_message(w, &m);
	}
}

static void
send_kill(struct wk *w, const PGresult *res, int i)
{
	struct gw_sync_msg m;
	uint8_t buf[GW_SYNC_MAX];
	size_t len;
	int r;

	memset(&m, 0, sizeof(m));
	m.type = GW_SYNC_KILL;
	/* Whoever can write the table wrote these: cleaned and cut as a peer's names are. */
	if (!PQgetisnull(res, i, 0))
		gw_child_copy(m.id, sizeof(m.id), PQgetvalue(res, i, 0));
	else
		gw_child_copy(m.engineer, sizeof(m.engineer), PQgetvalue(res, i, 1));
	gw_child_copy(m.who, sizeof(m.who), PQgetvalue(res, i, 2));
	gw_child_copy(m.from, sizeof(m.from), PQgetvalue(res, i, 3));
	gw_child_copy(m.why, sizeof(m.why), PQgetvalue(res, i, 4));
	if (m.who[0] == '\0')
		snprintf(m.who, sizeof(m.who), "unknown");
	if (m.from[0] == '\0')
		snprintf(m.from, sizeof(m.from), "unknown");
	if (m.why[0] == '\0')
		snprintf(m.why, sizeof(m.why), "no reason given");
	if (strcmp(PQgetvalue(res, i, 5), "t") == 0) {
		mg_log(LOG_NOTICE, "state worker: a request from %s on gateway %s to end %s "
		    "came after more than %s: not carried out", m.who, m.from,
		    m.id[0] ? m.id : m.engineer, KILL_MAX_AGE);
		return;
	}
	if (gw_sync_encode(&m, buf, sizeof(buf), &len) != 0) {
		mg_log(LOG_ERR, "state worker: a request from gateway %s that does not read: "
		    "dropped", m.from);
		return;
	}
	/* mspgated reads its socket every turn of its loop: this wait is short. */
	do
		r = (int)send(w->fd, buf, len, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
}

/* The requests left for this gateway, taken (deleted) and passed on. */
static void
poll_kills(struct wk *w)
{
	const char *pv[1] = { w->name };
	PGresult *res = NULL;
	char err[400];
	int i, r;

	r = st_pg_exec(w->pg, "DELETE FROM mspgate_kill WHERE gateway = $1 RETURNING "
	    "session_id, engineer, requested_by, from_gateway, reason, created < now() - "
	    "interval '" KILL_MAX_AGE "'", 1, pv, &res, err, sizeof(err));
	if (r != 0) {
		lost(w, "cannot read requests from other gateways", err);
		return;
	}
	for (i = 0; i < PQntuples(res); i++)
		send_kill(w, res, i);
	PQclear(res);
}

/* Sends m to mspgated; it reads its socket every turn of its loop: the wait is short. */
static void
send_daemon(struct wk *w, const struct gw_sync_msg *m)
{
	uint8_t buf[GW_SYNC_MAX];
	size_t len;
	int r;

	if (gw_sync_encode(m, buf, sizeof(buf), &len) != 0) {
		mg_log(LOG_ERR, "state worker: a %s from gateway %s that does not read: dropped",
		    gw_sync_type_name(m->type), m->from);
		return;
	}
	do
		r = (int)send(w->fd, buf, len, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
}

/* One mspgate_events row (id, gateway, kind, engineer, tenant, target, source, ts) passed on. */
static void
send_event(struct wk *w, const PGresult *res, int i)
{
	struct gw_sync_msg m;

	memset(&m, 0, sizeof(m));
	m.type = GW_SYNC_REMOTE;
	/* Whoever can write the table wrote these: cleaned and cut as a peer's names are. */
	gw_child_copy(m.from, sizeof(m.from), PQgetvalue(res, i, 1));
	gw_child_copy(m.kind, sizeof(m.kind), PQgetvalue(res, i, 2));
	gw_child_copy(m.engineer, sizeof(m.engineer), PQgetvalue(res, i, 3));
	gw_child_copy(m.tenant, sizeof(m.tenant), PQgetvalue(res, i, 4));
	gw_child_copy(m.target, sizeof(m.target), PQgetvalue(res, i, 5));
	gw_child_copy(m.source, sizeof(m.source), PQgetvalue(res, i, 6));
	m.start = strtoll(PQgetvalue(res, i, 7), NULL, 10);
	if (m.from[0] == '\0')
		snprintf(m.from, sizeof(m.from), "unknown");
	if (m.start <= 0 || m.kind[0] == '\0' || m.engineer[0] == '\0')
		return;
	send_daemon(w, &m);
}

/*
 * The other gateways' new events, passed on. The first look after a
 * (re)start takes the sessions started in the last EVENTS_KEEP, not their
 * MFA failures: those count for minutes, and this gateway's detector may
 * have counted them already (its state file). A row whose id was taken
 * by a transaction that commits after a higher one was read is missed:
 * each is one statement, so that is rare, and only history is lost.
 */
static void
poll_events(struct wk *w)
{
	char last[24];
	const char *pv[2] = { w->name, last };
	PGresult *res = NULL;
	char err[400];
	int i, r;

	if (!w->events_primed) {
		r = st_pg_exec(w->pg, "SELECT coalesce(max(id), 0) FROM mspgate_events", 0,
		    NULL, &res, err, sizeof(err));
		if (r != 0)
			goto fail;
		snprintf(last, sizeof(last), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		res = NULL;
		r = st_pg_exec(w->pg, "SELECT id, gateway, kind, engineer, tenant, target, "
		    "source, ts FROM mspgate_events WHERE gateway <> $1 AND id <= $2::bigint "
		    "AND kind = 'start' AND created > now() - interval '" EVENTS_KEEP "' "
		    "ORDER BY id", 2, pv, &res, err, sizeof(err));
		if (r != 0)
			goto fail;
		for (i = 0; i < PQntuples(res); i++)
			send_event(w, res, i);
		PQclear(res);
		w->event_id = strtoll(last, NULL, 10);
		w->events_primed = 1;
		return;
	}
	do {
		snprintf(last, sizeof(last), "%lld", w->event_id);
		r = st_pg_exec(w->pg, "SELECT id, gateway, kind, engineer, tenant, target, "
		    "source, ts FROM mspgate_events WHERE gateway <> $1 AND id > $2::bigint "
		    "ORDER BY id LIMIT " EVENTS_BATCH, 2, pv, &res, err, sizeof(err));
		if (r != 0)
			goto fail;
		for (i = 0; i < PQntuples(res); i++) {
			send_event(w, res, i);
			w->event_id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		}
		i = PQntuples(res);
		PQclear(res);
		res = NULL;
	} while (i == atoi(EVENTS_BATCH));
	if (mg_mono_ms() >= w->next_prune) {
		/* Bounded: what no gateway needs any more goes (each gateway does it, cheaply). */
		r = st_pg_exec(w->pg, "DELETE FROM mspgate_events WHERE created < now() - "
		    "interval '" EVENTS_KEEP "'", 0, NULL, NULL, err, sizeof(err));
		if (r != 0)
			goto fail;
		w->next_prune = mg_mono_ms() + PRUNE_MS;
	}
	return;
fail:
	PQclear(res);
	lost(w, "cannot read the other gateways' detector events", err);
}

/* FNV-1a over s and its NUL, on from h. */
static uint64_t
fnv(uint64_t h, const char *s)
{
	do {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	} while (*s++ != '\0');
	return h;
}

/* The set sent empty: the other gateways' sessions are not known any more. */
static void
peers_forget(struct wk *w)
{
	struct gw_sync_msg m;

	if (!w->peers_known)
		return;
	memset(&m, 0, sizeof(m));
	m.type = GW_SYNC_PEERS;
	send_daemon(w, &m);
	m.type = GW_SYNC_PEERS_END;
	send_daemon(w, &m);
	w->peers_known = 0;
	w->peers_hash = 0;
}

/* The other gateways' live sessions, passed on whole when they changed. */
static void
poll_peers(struct wk *w)
{
	const char *pv[1] = { w->name };
	struct gw_sync_msg m;
	PGresult *res = NULL;
	uint64_t h = 0xcbf29ce484222325ULL;
	char err[400];
	int i, j, n;

	if (st_pg_exec(w->pg, "SELECT gateway, id, engineer, source, started FROM "
	    "mspgate_sessions WHERE gateway <> $1 ORDER BY gateway, id LIMIT "
	    PEERS_MAX_SQL, 1, pv, &res, err, sizeof(err)) != 0) {
		PQclear(res);
		lost(w, "cannot read the other gateways' live sessions", err);
		return;
	}
	n = PQntuples(res);
	for (i = 0; i < n; i++)
		for (j = 0; j < 5; j++)
			h = fnv(h, PQgetvalue(res, i, j));
	if ((n == 0 && !w->peers_known) || (n > 0 && w->peers_known && h == w->peers_hash)) {
		PQclear(res);
		return;
	}
	memset(&m, 0, sizeof(m));
	m.type = GW_SYNC_PEERS;
	send_daemon(w, &m);
	for (i = 0; i < n; i++) {
		memset(&m, 0, sizeof(m));
		m.type = GW_SYNC_PEER;
		/* Whoever can write the table wrote these: cleaned and cut as a peer's names are. */
		gw_child_copy(m.from, sizeof(m.from), PQgetvalue(res, i, 0));
		gw_child_copy(m.id, sizeof(m.id), PQgetvalue(res, i, 1));
		gw_child_copy(m.engineer, sizeof(m.engineer), PQgetvalue(res, i, 2));
		gw_child_copy(m.source, sizeof(m.source), PQgetvalue(res, i, 3));
		m.start = strtoll(PQgetvalue(res, i, 4), NULL, 10);
		if (m.start <= 0)
			m.start = 1;
		if (m.from[0] == '\0' || m.id[0] == '\0' || m.engineer[0] == '\0')
			continue;
		send_daemon(w, &m);
	}
	memset(&m, 0, sizeof(m));
	m.type = GW_SYNC_PEERS_END;
	send_daemon(w, &m);
	PQclear(res);
	w->peers_hash = h;
	w->peers_known = n > 0;
}

/* mspgated is gone, and its sessions with it: its rows go too. */
static void
goodbye(struct wk *w)
{
	const char *pv[1] = { w->name };
	char err[400];

	if (w->pg != NULL)
		(void)st_pg_exec(w->pg, "DELETE FROM mspgate_sessions WHERE gateway = $1", 1,
		    pv, NULL, err, sizeof(err));
	st_pg_close(w->pg);
	free(w->rows);
	free(w->backlog);
	_exit(0);
}

void
gw_sync_worker_run(int fd, const struct pol_state *ps)
{
	struct wk w;
	struct pollfd pfd;
	long long now, wake;

	memset(&w, 0, sizeof(w));
	w.fd = fd;
	w.ps = ps;
	w.backoff = BACKOFF_MIN_MS;
	w.dirty = 1;
	st_pg_gateway_name(ps, w.name, sizeof(w.name));
	for (;;) {
		now = mg_mono_ms();
		if (w.pg == NULL && now >= w.next_try)
			try_connect(&w);
		if (w.pg != NULL && w.dirty && !w.in_snapshot)
			write_all(&w);
		if (w.pg != NULL && w.npending > 0)
			pending_flush(&w);
		if (w.pg != NULL && w.bl_n > 0)
			backlog_flush(&w);
		if (w.pg != NULL && mg_mono_ms() >= w.next_poll) {
			poll_kills(&w);
			if (w.pg != NULL)
				poll_events(&w);
			if (w.pg != NULL)
				poll_peers(&w);
			w.next_poll = mg_mono_ms() + POLL_MS;
		}
		now = mg_mono_ms();
		wake = w.pg != NULL ? w.next_poll : w.next_try;
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, wake <= now ? 0 : (int)(wake - now)) > 0 && read_daemon(&w) != 0)
			goodbye(&w);
	}
}
