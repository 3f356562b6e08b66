/* SPDX-License-Identifier: BSD-2-Clause */
/* mspgated's live session table, and what session processes report to it (gw_child.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gw_daemon.h"
#include "mg_err.h"
#include "mg_log.h"
#include "mg_time.h"
#include "pol.h"

#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

/* Room for one more session row; -1 when out of memory. */
int
gw_live_grow(struct gw_daemon *d)
{
	size_t cap = d->live_cap < 64 ? 64 : d->live_cap * 2;
	struct gw_live *nl;

	if (d->nlive < d->live_cap)
		return 0;
	if ((nl = reallocarray(d->live, cap, sizeof(*nl))) == NULL)
		return -1;
	d->live = nl;
	d->live_cap = cap;
	return 0;
}

size_t
gw_live_rows(const struct gw_daemon *d, uid_t uid, int open_only)
{
	size_t i, n = 0;

	for (i = 0; i < d->nlive; i++)
		if ((open_only ? d->live[i].is_open : d->live[i].uid == uid))
			n++;
	if (!open_only)
		for (i = 0; i < d->npend; i++)
			if (d->pend[i].uid == uid)
				n++;
	return n;
}

int
gw_live_tell(const struct gw_live *l, const struct gw_child_msg *m)
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
tell_words(const struct gw_live *l, int type, unsigned action, const char *words)
{
	struct gw_child_msg m;

	m.type = type;
	memset(&m.u.verdict, 0, sizeof(m.u.verdict));
	m.u.verdict.action = action;
	/* Words are required on the wire: a rule without any still says who decided. */
	gw_child_copy(m.u.verdict.words, sizeof(m.u.verdict.words),
	    words != NULL && words[0] != '\0' ? words : "detector");
	return gw_live_tell(l, &m);
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

/* It audits who asked and tells the engineer. */
void
gw_live_ask_end(const struct gw_live *l, const char *who)
{
	struct gw_child_msg m;

	m.type = GW_CHILD_KILL;
	memset(&m.u.kill, 0, sizeof(m.u.kill));
	gw_child_copy(m.u.kill.who, sizeof(m.u.kill.who),
	    who != NULL && who[0] != '\0' ? who : "unknown");
	if (gw_live_tell(l, &m) != 0)
		kill(l->pid, SIGTERM);	/* no channel: it still ends cleanly */
}

/* A detector event about the session behind l, its names filled in. */
static void
live_event(const struct gw_live *l, enum gw_detect_kind kind, struct gw_detect_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->engineer = l->engineer;
	ev->tenant = l->tenant;
	ev->target = l->target;
	ev->session = l->id;
}

void
gw_live_end(struct gw_daemon *d, struct gw_live *l)
{
	struct gw_detect_event ev;
	struct gw_detect_result res;

	if (d->det == NULL || !l->started)
		return;
	l->started = 0;
	live_event(l, GW_DETECT_END, &ev);
	ev.bytes_out = l->bout;
	gw_alert_judge(d, &ev, &res);
}

/* A DENY on a running session: it is told to end, once. */
static void
deny_live(struct gw_live *l, const struct gw_detect_result *res)
{
	if (l->denied)
		return;
	l->denied = 1;
	if (tell_words(l, GW_CHILD_DENY, 0, gw_alert_words(res)) != 0)
		kill(l->pid, SIGTERM);
}

void
gw_live_deny(struct gw_live *l, const char *words)
{
	if (l->denied)
		return;
	l->denied = 1;
	if (tell_words(l, GW_CHILD_DENY, 0, words) != 0)
		kill(l->pid, SIGTERM);
}

/*
 * A REAUTH on a running session: it is held until the engineer types a
 * fresh code (ended without a terminal). Unsent (the socket full or gone),
 * the session ends: fail closed.
 */
static void
reauth_live(struct gw_live *l, const struct gw_detect_result *res)
{
	if (l->denied)
		return;
	if (tell_words(l, GW_CHILD_REAUTH, 0, gw_alert_words(res)) != 0) {
		l->denied = 1;
		kill(l->pid, SIGTERM);
	}
}

/* The verdict on an event of a running session, applied. */
static void
act_live(struct gw_live *l, const struct gw_detect_result *res)
{
	if (res->action == GW_DETECT_DENY)
		deny_live(l, res);
	else if (res->action == GW_DETECT_REAUTH)
		reauth_live(l, res);
}

/* Every other started session of engineer ends (alerts.deny_ends_sessions). */
static void
deny_engineer(struct gw_daemon *d, const char *engineer, const struct gw_live *except,
    const struct gw_detect_result *res)
{
	size_t i;

	for (i = 0; i < d->nlive; i++) {
		struct gw_live *o = &d->live[i];

		if (o != except && o->started && strcmp(o->engineer, engineer) == 0)
			deny_live(o, res);
	}
}

/*
 * A report that does not read (gw_child.h): refused whole, never half
 * used. The session process is our own code, so this is a bug or worse:
 * it is told to end, which also refuses an ATTEMPT it waits on (fail
 * closed), and killed if it cannot be told. Logged once per session.
 */
static void
child_malformed(struct gw_live *l, const char *what)
{
	/* Before a START that reads, the pid and the account (SO_PEERCRED) name it. */
	if (!l->malformed)
		mg_log(LOG_ERR, "session process %d (%s, uid %u): %s: refused; "
		    "the session is ended", (int)l->pid, l->id[0] ? l->id : "no session id yet",
		    (unsigned)l->uid, what);
	l->malformed = 1;
	if (l->denied)
		return;
	l->denied = 1;
	if (tell_words(l, GW_CHILD_DENY, 0, GW_DETECT_INTERNAL) != 0)
		kill(l->pid, SIGTERM);
}

/* The detector's ATTEMPT, and its verdict at once: the session waits for it. */
static void
child_attempt(struct gw_daemon *d, struct gw_live *l, const struct gw_child_attempt *a)
{
	struct gw_detect_event ev;
	struct gw_detect_result res;

	/* One question, before the session starts: another is not judged again. */
	if (l->attempted || l->started) {
		child_malformed(l, "an ATTEMPT out of order");
		return;
	}
	l->attempted = 1;
	COPY(l->engineer, a->engineer);
	COPY(l->tenant, a->tenant);
	COPY(l->target, a->target);
	COPY(l->source, a->source);
	live_event(l, GW_DETECT_ATTEMPT, &ev);
	ev.session = NULL;	/* an ATTEMPT comes before any session */
	ev.source = l->source[0] ? l->source : NULL;
	ev.allowed = a->outcome == GW_CHILD_ALLOWED;
	ev.refusal = a->outcome == GW_CHILD_REFUSED_WINDOW ? GW_DETECT_REFUSED_WINDOW :
	    GW_DETECT_REFUSED_OTHER;
	gw_alert_judge(d, &ev, &res);
	/*
	 * A stolen identity keeps what it already has open unless the policy
	 * says a deny ends that too: here, and (shared state) on every other
	 * gateway holding one of its sessions.
	 */
	if (res.action == GW_DETECT_DENY && d->pol != NULL && d->pol->alerts.deny_ends_sessions) {
		deny_engineer(d, l->engineer, l, &res);
		gw_sync_kill_others(d, l->engineer, gw_alert_words(&res));
	}
	/* No answer: the session refuses (it waits for one). */
	(void)tell_words(l, GW_CHILD_VERDICT, wire_action(res.action), gw_alert_words(&res));
}

/* Who the session is, from its START or WAITING. */
static void
fill_row(struct gw_live *l, const struct gw_child_start *st)
{
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
}

/* The session is open: its row in the table, and the detector's START once. */
static void
child_start(struct gw_daemon *d, struct gw_live *l, const struct gw_child_start *st)
{
	struct gw_detect_event ev;
	struct gw_detect_result res;

	/* Once: a second START would rewrite who the session is. */
	if (l->started) {
		child_malformed(l, "a START out of order");
		return;
	}
	/* An approved session keeps the id it waited under. */
	if (l->id[0] != '\0' && strcmp(l->id, st->id) != 0) {
		child_malformed(l, "a START with another id than its WAITING");
		return;
	}
	l->waiting = 0;
	fill_row(l, st);
	l->started = 1;
	gw_sync_session(d, l);
	live_event(l, GW_DETECT_START, &ev);
	ev.source = l->source[0] ? l->source : NULL;
	if (gw_alert_judge(d, &ev, &res) == GW_DETECT_DENY)
		deny_live(l, &res);
	/* The other gateways' detectors count it too (shared state). */
	gw_sync_event(d, &ev, mg_clock_now());
}

/* The session waits for approval: its row, for list, approve, deny and kill. */
static void
child_waiting(struct gw_live *l, const struct gw_child_start *st)
{
	if (l->started || l->waiting || l->id[0] != '\0') {
		child_malformed(l, "a WAITING out of order");
		return;
	}
	fill_row(l, st);
	l->waiting = 1;
}

/* The relay's counters; more bytes out is the detector's BYTES (egress). */
static void
child_usage(struct gw_daemon *d, struct gw_live *l, const struct gw_child_usage *u)
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
	live_event(l, GW_DETECT_BYTES, &ev);
	ev.bytes_out = l->bout;
	gw_alert_judge(d, &ev, &res);
	/* Over a daily limit every report would ask again: a session is held for egress once. */
	if (res.action == GW_DETECT_REAUTH && l->egress_held)
		return;
	if (res.action == GW_DETECT_REAUTH)
		l->egress_held = 1;
	act_live(l, &res);
}

/* An exec command or a typed line, for sensitive_commands. */
static void
child_text(struct gw_daemon *d, struct gw_live *l, int type, const struct gw_child_text *t)
{
	struct gw_detect_event ev;
	struct gw_detect_result res;

	if (!l->started)
		return;
	live_event(l, type == GW_CHILD_COMMAND ? GW_DETECT_COMMAND : GW_DETECT_INPUT, &ev);
	ev.source = l->source[0] ? l->source : NULL;
	ev.text = t->text;
	ev.text_len = t->len;
	gw_alert_judge(d, &ev, &res);
	act_live(l, &res);
}

/* Read until nothing more waits; the detector's questions are answered at once. */
void
gw_live_report(struct gw_daemon *d, struct gw_live *l)
{
	/* 33 KiB (an exec command): kept off the main loop's stack. */
	static struct gw_child_msg m;
	int r;

	for (;;) {
		r = gw_child_recv(l->fd, GW_CHILD_FROM_SESSION, &m, MSG_DONTWAIT);
		if (r == MG_ERR_PARSE) {
			child_malformed(l, "a malformed report");
			continue;
		}
		if (r != 0)
			break;
		switch (m.type) {
		case GW_CHILD_ATTEMPT:
			child_attempt(d, l, &m.u.attempt);
			break;
		case GW_CHILD_START:
			child_start(d, l, &m.u.start);
			break;
		case GW_CHILD_WAITING:
			child_waiting(l, &m.u.start);
			break;
		case GW_CHILD_USAGE:
			child_usage(d, l, &m.u.usage);
			break;
		case GW_CHILD_COMMAND:
		case GW_CHILD_INPUT:
			child_text(d, l, m.type, &m.u.text);
			break;
		case GW_CHILD_REFUSED:
			/* A refusal, audited by the session or not: it counts. */
			gw_ratelim_count(&d->refusals, l->uid, NULL, time(NULL),
			    m.u.refused.audited, gw_daemon_refusals_summary, d);
			break;
		}
	}
	if (r == MG_ERR_NOENT ||
	    (r == MG_ERR_SYSTEM && errno != EAGAIN && errno != EWOULDBLOCK)) {
		close(l->fd);
		l->fd = -1;
	}
}

int
gw_live_reaped(struct gw_daemon *d, pid_t pid)
{
	size_t i;

	for (i = 0; i < d->nlive; i++) {
		struct gw_live *l = &d->live[i];

		if (l->pid != pid)
			continue;
		/* Its last reports (a refusal to count) before it goes. */
		if (l->fd >= 0)
			gw_live_report(d, l);
		gw_live_end(d, l);
		if (l->started || l->id[0] != '\0')
			gw_sync_gone(d, l);
		if (l->fd >= 0)
			close(l->fd);
		*l = d->live[--d->nlive];
		return 1;
	}
	return 0;
}
