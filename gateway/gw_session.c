/* SPDX-License-Identifier: BSD-2-Clause */
/* One brokered session: who asks, may they, the vaulted login, the recording, the relay. */
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "gw_attest.h"
#include "gw_cert.h"
#include "gw_child.h"
#include "gw_decide.h"
#include "gw_deadline.h"
#include "gw_detect.h"
#include "gw_msg.h"
#include "gw_reauth.h"
#include "gw_relay.h"
#include "gw_request.h"
#include "gw_signmsg.h"
#include "gw_session.h"
#include "gw_ssh.h"
#include "gw_xfer.h"
#include "mg_err.h"
#include "mg_log.h"
#include "mg_time.h"
#include "mfa_broker.h"
#include "pol_decide.h"
#include "pol_sshconfig.h"
#include "rec_audit.h"
#include "rec_key.h"
#include "rec_writer.h"

#define TICKET_TIMEOUT_MS 120000
#define VERDICT_TIMEOUT_MS 5000
#define REAUTH_TIMEOUT_MS 120000
#define HOLD_TIMEOUT_MS 60000	/* a session held for a fresh code mid-session */
#define INPUT_LINE_MAX GW_CHILD_INPUT_MAX

/* Everything one session holds; freed in one place. */
struct sess {
	const struct gw_ctx *ctx;
	int sock;
	int fds[3];
	size_t nfds;
	char engineer[64];
	uid_t uid;
	pid_t pid;
	struct gw_msg open;
	struct gw_target_spec spec;
	char source[64];
	unsigned mfa_used;
	/* The login behind the peer, as pam_mspgate attested it (gw_attest.c). */
	struct mfa_attest att;
	int attested;
	char att_why[400];
	char ticket[129];
	char id[64];
	char recname[96];
	struct rec_audit *audit;
	struct rec_key *key;
	struct rec_writer *rec;
	ssh_session ssh;
	ssh_channel ch;
	struct gw_relay_exitwatch exitwatch;	/* from the channel's opening on */
	struct termios saved_tio;
	int tio_saved;
	/* Live: deadline, operator and reload requests, transfers, reports. */
	struct pol_decision d;
	int pty;
	struct gw_deadline dl;
	char killed_by[160];
	int revoked;
	char revoke_why[256];
	struct gw_xfer *xfer;
	uint64_t rep_in, rep_out;
	time_t rep_last, rep_end_by;
	/* The detector: what ended the session, the typed line so far. */
	char denied_by[128];
	char held_why[300];	/* a hold for a fresh code ended the session: why */
	int proto_failed;	/* mspgated sent what this process cannot take */
	char line[INPUT_LINE_MAX];
	size_t linelen;
	struct gw_relay *relay;	/* while the relay runs: output goes through it */
	int end_now;		/* a gw_relay_end that arrived while held */
	/* An approval (grants with approval = "required"): who, when, why. */
	char approved_by[GW_CHILD_WHO_MAX + 1];
	char approval_comment[GW_CHILD_WHY_MAX + 1];
	time_t approved_at;
};

/* Untrusted strings in logs: escaped and bounded. */
static const char *
esc(const char *s, char *buf, size_t len)
{
	return mg_str_escape(s, 256, buf, len);
}

static void
send_end(struct sess *s, unsigned kind, int code, const char *text)
{
	struct gw_msg m;

	memset(&m, 0, sizeof(m));
	m.type = GW_MSG_END;
	m.has_status = 1;
	m.end_kind = kind;
	m.code = code;
	m.text = (char *)text;
	gw_msg_send(s->sock, &m, NULL, 0);
}

static void
audit(struct sess *s, struct rec_audit_event *ev)
{
	ev->session = s->id[0] ? s->id : NULL;
	ev->engineer = s->engineer[0] ? s->engineer : NULL;
	ev->tenant = s->spec.tenant[0] ? s->spec.tenant : NULL;
	ev->target = s->spec.target[0] ? s->spec.target : NULL;
	if (ev->login == NULL && s->spec.login[0])
		ev->login = s->spec.login;
	ev->source = s->source[0] ? s->source : NULL;
	ev->ticket = s->ticket[0] ? s->ticket : ev->ticket;
	if (s->audit == NULL || rec_audit_event(s->audit, ev) != 0)
		mg_log(LOG_ERR, "session %s: cannot write the audit log: %s", s->id,
		    s->audit ? rec_audit_errmsg(s->audit) : "not open");
}

static void tell_refused(struct sess *s);

/* Refuses: audit "denied", log, and one line for the engineer. */
static int
deny(struct sess *s, const char *reason, const char *rule, const char *tell)
{
	struct rec_audit_event ev;
	char e1[300], e2[300];

	memset(&ev, 0, sizeof(ev));
	ev.type = REC_AUDIT_DENIED;
	ev.reason = reason;
	ev.rule = rule;
	/* Over this account's rate limit: syslog only, and mspgated counts it. */
	if (!s->ctx->quiet_refusals)
		audit(s, &ev);
	tell_refused(s);
	mg_log(LOG_NOTICE, "denied %s -> %s/%s from %s: %s", s->engineer,
	    esc(s->spec.tenant, e1, sizeof(e1)), esc(s->spec.target, e2, sizeof(e2)),
	    s->source[0] ? s->source : "unknown", reason);
	send_end(s, GW_END_ERROR, 255, tell != NULL ? tell : reason);
	return 1;
}

static int
peer_identity(struct sess *s)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getsockopt(s->sock, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
		return -1;
	s->uid = cr.uid;
	s->pid = cr.pid;
	/* The kernel's word, not the peer's: the account running mspgate-shell. */
	if (getpwuid_r(cr.uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL ||
	    strlen(pw.pw_name) >= sizeof(s->engineer))
		return -1;
	snprintf(s->engineer, sizeof(s->engineer), "%s", pw.pw_name);
	return 0;
}

/* "acme/web01 (deploy) until 18:00" for every target allowed now. */
static int
answer_list(struct sess *s, const struct gw_msg *q)
{
	const struct pol *p = s->ctx->pol;
	const struct pol_engineer *e = pol_engineer_find(p, s->engineer);
	struct gw_msg m;
	size_t i, j;
	int r = 0;

	memset(&m, 0, sizeof(m));
	m.type = GW_MSG_TARGETS;
	(void)q;	/* its connection and authinfo are the engineer's claims */
	/* Only an attested login is offered anything (what the shell says is not). */
	if (e != NULL && s->attested) {
		unsigned mfa = 0;
		char why[300];

		if (mfa_broker_standing_check(p, e, &s->att, mg_clock_now(), &mfa,
		    why, sizeof(why)) != 0)
			e = NULL;

		for (i = 0; i < p->ntenants && r == 0; i++) {
			for (j = 0; j < p->tenants[i].ntargets && r == 0; j++) {
				struct pol_request req = { 0 };
				struct pol_decision d;
				char item[256], until[32] = "";

				req.engineer = s->engineer;
				req.tenant = p->tenants[i].name;
				req.target = p->tenants[i].targets[j].name;
				req.mfa_used = mfa;
				req.source = s->source;
				req.login_time = s->att.login;
				if (e == NULL || pol_decide(p, &req, &d) != 0 || !d.allow)
					continue;
				if (d.end_by != 0) {
					struct tm tm;
					time_t t = d.end_by;

					gmtime_r(&t, &tm);
					strftime(until, sizeof(until), " until %Y-%m-%d %H:%M UTC",
					    &tm);
				}
				snprintf(item, sizeof(item), "%s/%s\t%s%s", req.tenant,
				    req.target, d.login, until);
				r = gw_msg_add_item(&m, item);
			}
		}
	}
	if (r == 0)
		r = gw_msg_send(s->sock, &m, NULL, 0);
	gw_msg_clear(&m);
	return r;
}

/*
 * Where the engineer connected: the gateway's address and port in
 * SSH_CONNECTION (sshd's, passed on by mspgate-shell); "" when unknown.
 */
static void
gateway_from_connection(const char *conn, char *out, size_t len)
{
	char c[64], cp[16], h[64], port[16];

	out[0] = '\0';
	if (conn == NULL || sscanf(conn, "%63s %15s %63s %15s", c, cp, h, port) != 4)
		return;
	snprintf(out, len, strchr(h, ':') != NULL ? "[%s]:%s" : "%s:%s", h, port);
}

/*
 * "ssh-config [--gateway HOST[:PORT]]": the engineer's own Host blocks,
 * to an attested login whose MFA still stands, audited either way.
 */
static int
answer_config(struct sess *s)
{
	const struct pol *p = s->ctx->pol;
	const struct pol_engineer *e = pol_engineer_find(p, s->engineer);
	const char *args = s->open.command;
	struct pol_sshconfig_gw gw;
	struct rec_audit_event ev;
	struct timeval tv = { 10, 0 };
	char gws[300], err[600], why[300];
	char *text = NULL;
	size_t len = 0, off = 0;
	unsigned mfa = 0;
	FILE *mem;
	int r;

	if (e == NULL || !s->attested)
		return deny(s, "ssh-config: no attested login", NULL,
		    "not permitted: no verified login");
	if (mfa_txn_standing(p, e, &s->att, mg_clock_now(), &mfa, why, sizeof(why)) != 0)
		return deny(s, why, NULL, why);
	if (args == NULL)
		gateway_from_connection(s->open.connection, gws, sizeof(gws));
	else if (strncmp(args, "--gateway", 9) == 0 && (args[9] == ' ' || args[9] == '=') &&
	    strlen(args + 10) < sizeof(gws) && strpbrk(args + 10, " \t") == NULL)
		snprintf(gws, sizeof(gws), "%s", args + 10);
	else
		return deny(s, "ssh-config: bad arguments", NULL,
		    "usage: ssh-config [--gateway HOST[:PORT]]");
	/* Unknown (no SSH_CONNECTION): a name the engineer replaces. */
	if (gws[0] == '\0')
		snprintf(gws, sizeof(gws), "gateway.invalid");
	if (pol_sshconfig_gw_parse(gws, &gw, err, sizeof(err)) != 0)
		return deny(s, "ssh-config: bad gateway", NULL, err);
	if ((mem = open_memstream(&text, &len)) == NULL)
		return deny(s, "ssh-config: out of memory", NULL, "internal error");
	r = pol_sshconfig_write(p, e->name, &gw, mem, err, sizeof(err));
	if (fclose(mem) != 0 && r == 0)
		r = MG_ERR_NOMEM;
	if (r != 0) {
		free(text);
		return deny(s, r == MG_ERR_NOMEM ? "ssh-config: out of memory" : err, NULL,
		    r == MG_ERR_NOMEM ? "internal error" : err);
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = REC_AUDIT_SSH_CONFIG;
	ev.result = "success";
	snprintf(why, sizeof(why), "ssh_config for gateway %s port %d", gw.host, gw.port);
	ev.reason = why;
	audit(s, &ev);
	/* An engineer who stops reading holds this process 10 s at most a piece. */
	(void)setsockopt(s->sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	r = 0;
	while (off < len && r == 0) {
		struct gw_msg m;
		char piece[501];
		int k;

		memset(&m, 0, sizeof(m));
		m.type = GW_MSG_TARGETS;
		for (k = 0; k < 16 && off < len && r == 0; k++) {
			size_t n = len - off < sizeof(piece) - 1 ? len - off : sizeof(piece) - 1;

			memcpy(piece, text + off, n);
			piece[n] = '\0';
			off += n;
			r = gw_msg_add_item(&m, piece);
		}
		if (r == 0)
			r = gw_msg_send(s->sock, &m, NULL, 0);
		gw_msg_clear(&m);
	}
	free(text);
	if (r == 0)
		send_end(s, GW_END_EXIT, 0, NULL);
	return r == 0 ? 0 : 1;
}

/* Asks "Ticket: " on the engineer's terminal (cooked mode, as it is). */
static int
ask_ticket(struct sess *s)
{
	char line[sizeof(((struct sess *)0)->ticket)];
	size_t n = 0;
	int waited = 0;
	static const char prompt[] = "Ticket: ";

	if (write(s->fds[1], prompt, sizeof(prompt) - 1) < 0)
		return -1;
	while (n < sizeof(line) - 1 && waited < TICKET_TIMEOUT_MS) {
		struct pollfd pf[2] = { { s->fds[0], POLLIN, 0 }, { s->sock, POLLIN, 0 } };
		ssize_t r;

		if (poll(pf, 2, 1000) == 0) {
			waited += 1000;
			continue;
		}
		if (pf[1].revents)
			return -1;	/* mspgate-shell went away */
		r = read(s->fds[0], line + n, sizeof(line) - 1 - n);
		if (r <= 0)
			return -1;
		n += (size_t)r;
		if (memchr(line, '\n', n) != NULL)
			break;
	}
	line[n] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	snprintf(s->ticket, sizeof(s->ticket), "%s", line);
	return 0;
}

static void
make_id(struct sess *s)
{
	unsigned char rnd[4];
	struct tm tm;
	time_t now = mg_clock_now();
	char ts[32];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(s->id, sizeof(s->id), "%s-%02x%02x%02x%02x", ts, rnd[0], rnd[1], rnd[2],
	    rnd[3]);
	snprintf(s->recname, sizeof(s->recname), "%s.cast", s->id);
}

/*
 * Text for the engineer's terminal. While the relay runs it is queued
 * behind the session's output (never a blocking write to a peer the
 * engineer controls); before, the terminal has nothing pending.
 */
static void
say(struct sess *s, const char *text, size_t len)
{
	if (s->relay != NULL)
		(void)gw_relay_say(s->relay, text, len);
	else
		(void)!write(s->fds[1], text, len);
}

/* TCSANOW throughout: TCSADRAIN would wait on an engineer who reads nothing. */
static void
restore_tty(struct sess *s)
{
	if (s->tio_saved)
		tcsetattr(s->fds[0], TCSANOW, &s->saved_tio);
	s->tio_saved = 0;
}

static const char *
end_text(const struct sess *s, const struct gw_relay_result *res, char *buf, size_t len)
{
	const struct pol_decision *d = &s->d;

	switch (res->end) {
	case GW_RELAY_KILLED:
		return "session ended by an operator";
	case GW_RELAY_REVOKED:
		return "session ended: access withdrawn by a policy reload";
	case GW_RELAY_DENIED:
		if (s->proto_failed)
			return "session ended: an internal error in the gateway (see its log)";
		/* Nobody was alerted of a failure: the engineer is not told so. */
		if (strcmp(s->denied_by, GW_DETECT_INTERNAL) == 0 ||
		    strcmp(s->denied_by, GW_DETECT_NO_VERDICT) == 0) {
			snprintf(buf, len, "session ended: %s (see the gateway's log)", s->denied_by);
			return buf;
		}
		if (s->held_why[0] != '\0') {
			snprintf(buf, len, "session ended: unusual activity (%s): %s; your MSP's "
			    "security team has been alerted", s->denied_by, s->held_why);
			return buf;
		}
		snprintf(buf, len, GW_DETECT_ENDED_FMT, s->denied_by);
		return buf;
	case GW_RELAY_TIME:
		if (s->revoked)
			return "session ended: access withdrawn by a policy reload";
		return d->window_close != 0 && s->dl.end_by == d->window_close ?
		    "session ended: the access window closed" :
		    "session ended: the maximum session time was reached";
	case GW_RELAY_IDLE:
		return "session ended: idle for too long";
	case GW_RELAY_RECORDING:
		return "session ended: the recording failed";
	case GW_RELAY_SHUTDOWN:
		return "session ended: the gateway is shutting down";
	case GW_RELAY_ENGINEER:
		return "session ended: the engineer's connection closed";
	case GW_RELAY_NETWORK:
		snprintf(buf, len, "connection to the target lost: %s", res->err);
		return buf;
	case GW_RELAY_REMOTE:
		if (!res->has_status)
			return "the target closed the session without an exit status";
		return NULL;
	}
	return "session ended";
}

/*
 * To mspgated (gw_child.h). flags 0 waits for room (the detector's
 * question, a command it must see), MSG_DONTWAIT does not: a lost report
 * costs a table row or a detector event, never the relay.
 */
static int
tell_parent(struct sess *s, const struct gw_child_msg *m, int flags)
{
	int r;

	if (s->ctx->parent < 0)
		return 0;
	r = gw_child_send(s->ctx->parent, m, flags);
	/* Full or gone is the parent's business; an unencodable report is a bug here. */
	if (r != 0 && r != MG_ERR_SYSTEM)
		mg_log(LOG_ERR, "session %s: %s report not sent: %s", s->id,
		    gw_child_type_name(m->type), mg_strerror(r));
	return r;
}

/* A refusal, for mspgated's per-account rate limit. */
static void
tell_refused(struct sess *s)
{
	struct gw_child_msg m;

	m.type = GW_CHILD_REFUSED;
	memset(&m.u.refused, 0, sizeof(m.u.refused));
	m.u.refused.audited = !s->ctx->quiet_refusals;
	(void)tell_parent(s, &m, MSG_DONTWAIT);
}

/* Who the session is, for a START or a WAITING. */
static void
fill_start(struct sess *s, struct gw_child_msg *m, int type, const char *login,
    unsigned kind, time_t t0, time_t end_by)
{
	struct gw_child_start *st = &m->u.start;

	m->type = type;
	memset(st, 0, sizeof(*st));
	gw_child_copy(st->id, sizeof(st->id), s->id);
	gw_child_copy(st->engineer, sizeof(st->engineer), s->engineer);
	gw_child_copy(st->tenant, sizeof(st->tenant), s->spec.tenant);
	gw_child_copy(st->target, sizeof(st->target), s->spec.target);
	gw_child_copy(st->login, sizeof(st->login), login);
	gw_child_copy(st->source, sizeof(st->source), s->source);
	st->kind = kind;
	st->start = t0;
	st->end_by = end_by;
	st->window_close = s->d.window_close;
	st->mfa = s->mfa_used & GW_CHILD_MFA_MASK;
}

/* The session's row in mspgated's table, and the detector's START. */
static void
tell_start(struct sess *s, const char *login, time_t t0, unsigned kind)
{
	struct gw_child_msg m;

	fill_start(s, &m, GW_CHILD_START, login, kind, t0, s->d.end_by);
	(void)tell_parent(s, &m, MSG_DONTWAIT);
}

/*
 * The exec command, for the detector's sensitive_commands: cut to
 * GW_CHILD_COMMAND_MAX, control characters as spaces (as a typed line).
 */
static void
tell_command(struct sess *s, const char *cmd)
{
	struct gw_child_msg m;
	struct gw_child_text *tx = &m.u.text;
	size_t k;

	m.type = GW_CHILD_COMMAND;
	tx->len = strnlen(cmd, GW_CHILD_COMMAND_MAX);
	for (k = 0; k < tx->len; k++) {
		unsigned char ch = (unsigned char)cmd[k];

		tx->text[k] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
	}
	tx->text[tx->len] = '\0';
	(void)tell_parent(s, &m, 0);
}

/* A file the protocol showed: audited and marked in the recording. */
static void
on_xfer(const struct gw_xfer_event *x, void *ctx)
{
	struct sess *s = ctx;
	struct rec_audit_event ev;
	char reason[1200], e1[300];

	snprintf(reason, sizeof(reason), "%s %s", x->op, x->path);
	memset(&ev, 0, sizeof(ev));
	ev.type = REC_AUDIT_FILE_TRANSFER;
	ev.result = x->complete ? "success" : "incomplete";
	ev.reason = reason;
	ev.has_stats = 1;
	if (strcmp(x->op, "get") == 0)
		ev.bytes_out = x->bytes;
	else
		ev.bytes_in = x->bytes;
	ev.recording = s->recname;
	audit(s, &ev);
	if (s->rec != NULL) {
		snprintf(reason, sizeof(reason), "file %s %s (%llu bytes%s)", x->op, x->path,
		    (unsigned long long)x->bytes, x->complete ? "" : ", incomplete");
		rec_writer_marker(s->rec, REC_NOW, reason);
	}
	mg_log(LOG_INFO, "session %s: %s %s, %llu bytes%s", s->id, x->op,
	    esc(x->path, e1, sizeof(e1)), (unsigned long long)x->bytes,
	    x->complete ? "" : " (incomplete)");
}

/* A typed line to the detector (sensitive commands); dropped if mspgated is busy. */
static void
send_line(struct sess *s)
{
	struct gw_child_msg m;

	if (s->linelen == 0 || s->ctx->parent < 0)
		return;
	/* on_relayed made it: no control characters, at most GW_CHILD_INPUT_MAX. */
	m.type = GW_CHILD_INPUT;
	m.u.text.len = s->linelen;
	memcpy(m.u.text.text, s->line, s->linelen);
	m.u.text.text[s->linelen] = '\0';
	(void)tell_parent(s, &m, MSG_DONTWAIT);
	explicit_bzero(m.u.text.text, s->linelen);
	explicit_bzero(s->line, s->linelen);
	s->linelen = 0;
}

static void
on_relayed(void *ctx, int from_target, const void *buf, size_t len)
{
	struct sess *s = ctx;
	const unsigned char *p = buf;
	size_t i;

	if (s->xfer != NULL)
		gw_xfer_feed(s->xfer, from_target, buf, len);
	/* What the engineer types on a pty, cut into lines (as the recording has it). */
	if (!s->pty || from_target)
		return;
	for (i = 0; i < len; i++) {
		if (p[i] == '\r' || p[i] == '\n') {
			send_line(s);
			continue;
		}
		s->line[s->linelen++] = p[i] < 0x20 || p[i] == 0x7f ? ' ' : (char)p[i];
		if (s->linelen == sizeof(s->line))
			send_line(s);
	}
}

/* The 5- and 1-minute warnings: the terminal, the recording, the audit log. */
static void
warn_end(struct sess *s, struct gw_relay *r, int64_t left)
{
	struct rec_audit_event ev;
	char when[32], text[512];
	const char *what;

	gw_deadline_left_text(left, when, sizeof(when));
	if (s->revoked)
		what = "your access was withdrawn by a policy reload: the session ends";
	else if (s->d.window_close != 0 && s->dl.end_by == s->d.window_close)
		what = "the access window closes";
	else
		what = "the maximum session time runs out";
	snprintf(text, sizeof(text), "%s in %s", what, when);
	/* Non-pty sessions carry data: nothing is added to their streams. */
	if (s->pty) {
		char line[600];
		int n = snprintf(line, sizeof(line), "\r\nmspgate: %s\r\n", text);

		/* Queued: an engineer who reads nothing does not stop the clock. */
		if (n > 0 && (size_t)n < sizeof(line) && gw_relay_say(r, line, (size_t)n) != 0)
			mg_log(LOG_DEBUG, "session %s: warning not shown", s->id);
	}
	rec_writer_marker(s->rec, REC_NOW, text);
	memset(&ev, 0, sizeof(ev));
	ev.type = REC_AUDIT_WINDOW_WARNING;
	ev.reason = text;
	ev.recording = s->recname;
	audit(s, &ev);
	mg_log(LOG_INFO, "session %s: warned: %s", s->id, text);
}

static int reauth(struct sess *s, const char *words, const char *prompt, int timeout_ms,
    char *why, size_t whylen);

/*
 * "Require MFA again" on a running session (mspgated's M): nothing is
 * relayed while it is held (the relay loop waits in its tick; the
 * engineer's input stays in the terminal, the target's output in the
 * channel, both bounded by the kernel and the SSH window). Returns 0 to go
 * on, or GW_RELAY_DENIED.
 */
static int
hold(struct sess *s, const char *words)
{
	char prompt[400], why[300], text[700];

	snprintf(s->denied_by, sizeof(s->denied_by), "%s", words);
	if (!s->pty) {
		snprintf(s->held_why, sizeof(s->held_why), "a fresh verification code is "
		    "required and this session has no terminal to ask on");
		snprintf(text, sizeof(text), "held for a fresh verification code (%s): no "
		    "terminal", words);
		rec_writer_marker(s->rec, REC_NOW, text);
		mg_log(LOG_WARNING, "session %s: %s: ended", s->id, text);
		return GW_RELAY_DENIED;
	}
	snprintf(text, sizeof(text), "held for a fresh verification code (%s)", words);
	rec_writer_marker(s->rec, REC_NOW, text);
	mg_log(LOG_NOTICE, "session %s: %s", s->id, text);
	snprintf(prompt, sizeof(prompt), "\r\nmspgate: unusual activity (%s): enter a fresh "
	    "verification code to continue: ", words);
	if (reauth(s, words, prompt, HOLD_TIMEOUT_MS, why, sizeof(why)) != 0) {
		/* Killed, denied or out of time while held: that is why it ends. */
		if (s->end_now != 0)
			return s->end_now;
		snprintf(s->held_why, sizeof(s->held_why), "the fresh verification code was "
		    "not accepted (%.200s)", why);
		snprintf(text, sizeof(text), "fresh verification code (%s): %s", words, why);
		rec_writer_marker(s->rec, REC_NOW, text);
		return GW_RELAY_DENIED;
	}
	snprintf(text, sizeof(text), "fresh verification code (%s) accepted: the session "
	    "goes on", words);
	rec_writer_marker(s->rec, REC_NOW, text);
	{
		static const char ok[] = "mspgate: code accepted, the session goes on\r\n";

		say(s, ok, sizeof(ok) - 1);
	}
	s->denied_by[0] = '\0';
	return 0;
}

/*
 * mspgated sent what this process cannot take (malformed, or not what
 * this point of the session expects): the two disagree on where they are,
 * so the session ends (fail closed) and says so.
 */
static int
proto_error(struct sess *s, const char *what)
{
	mg_log(LOG_ERR, "session %s: %s from mspgated: the session ends", s->id, what);
	s->proto_failed = 1;
	snprintf(s->denied_by, sizeof(s->denied_by), "an internal error in the gateway");
	return GW_RELAY_DENIED;
}

/* One request from mspgated: 0, or the gw_relay_end that ends the session. */
static int
parent_request(struct sess *s, const struct gw_child_msg *m, int *held)
{
	switch (m->type) {
	case GW_CHILD_DENY:
		snprintf(s->denied_by, sizeof(s->denied_by), "%s", m->u.verdict.words);
		return GW_RELAY_DENIED;
	case GW_CHILD_REAUTH:
		/* Asked again within one batch: one code covers what came before it. */
		if (*held)
			return 0;
		*held = 1;
		return hold(s, m->u.verdict.words);
	case GW_CHILD_KILL:
		snprintf(s->killed_by, sizeof(s->killed_by), "%s", m->u.kill.who);
		return GW_RELAY_KILLED;
	case GW_CHILD_REVOKE: {
		char text[400];

		snprintf(s->revoke_why, sizeof(s->revoke_why), "%s", m->u.revoke.why);
		snprintf(text, sizeof(text), "access withdrawn by a policy reload: %s",
		    s->revoke_why);
		rec_writer_marker(s->rec, REC_NOW, text);
		/* An end already sooner stays, with its own warnings and reason. */
		if (s->dl.end_by == 0 || m->u.revoke.end_by < (int64_t)s->dl.end_by) {
			s->revoked = 1;
			gw_deadline_set(&s->dl, (time_t)m->u.revoke.end_by);
		}
		return 0;
	}
	default:
		/* A verdict nobody is waiting for. */
		return proto_error(s, "an unexpected message");
	}
}

/*
 * Everything mspgated sent so far, in order: 0, or the gw_relay_end that
 * ends the session (the rest stays unread: the session is over).
 */
static int
parent_drain(struct sess *s, int *held)
{
	struct gw_child_msg m;
	int r, end;

	while (s->ctx->parent >= 0) {
		r = gw_child_recv(s->ctx->parent, GW_CHILD_FROM_DAEMON, &m, MSG_DONTWAIT);
		if (r == MG_ERR_PARSE)
			return proto_error(s, "a malformed message");
		/* Nothing more (or mspgated gone: it ends sessions with SIGTERM). */
		if (r != 0)
			break;
		if ((end = parent_request(s, &m, held)) != 0)
			return end;
	}
	return 0;
}

/* The relay's counters, for mspgated's table and the detector's egress rule. */
static void
tell_usage(struct sess *s, const struct gw_relay *r)
{
	struct gw_child_msg m;

	m.type = GW_CHILD_USAGE;
	memset(&m.u.usage, 0, sizeof(m.u.usage));
	m.u.usage.bytes_in = r->bytes_in;
	m.u.usage.bytes_out = r->bytes_out;
	m.u.usage.last = r->last_activity > 0 ? r->last_activity : 0;
	m.u.usage.end_by = r->end_by > 0 ? r->end_by : 0;
	(void)tell_parent(s, &m, MSG_DONTWAIT);
}

static int
session_tick(struct gw_relay *r, time_t now, void *ctx)
{
	struct sess *s = ctx;
	int64_t left;
	int end, held = 0;

	if ((end = parent_drain(s, &held)) != 0)
		return end;
	if ((left = gw_deadline_warn(&s->dl, now)) > 0)
		warn_end(s, r, left);
	r->end_by = s->dl.end_by;
	if (r->bytes_in != s->rep_in || r->bytes_out != s->rep_out ||
	    r->last_activity != s->rep_last || r->end_by != s->rep_end_by) {
		s->rep_in = r->bytes_in;
		s->rep_out = r->bytes_out;
		s->rep_last = r->last_activity;
		s->rep_end_by = r->end_by;
		tell_usage(s, r);
	}
	return 0;
}

/*
 * The detector's ATTEMPT: mspgated judges it and answers at once. With a
 * parent, no answer in time refuses (fail closed); without one (a session
 * served outside mspgated) there is no detector to ask.
 */
static enum gw_detect_action
ask_detector(struct sess *s, int allowed, int window, char *words, size_t wlen)
{
	struct gw_child_msg m;
	struct gw_child_attempt *a = &m.u.attempt;
	struct pollfd pf;
	int r, waited = 0;

	snprintf(words, wlen, "%s", GW_DETECT_NO_VERDICT);
	if (s->ctx->parent < 0)
		return GW_DETECT_NONE;
	m.type = GW_CHILD_ATTEMPT;
	memset(a, 0, sizeof(*a));
	gw_child_copy(a->engineer, sizeof(a->engineer), s->engineer);
	gw_child_copy(a->tenant, sizeof(a->tenant), s->spec.tenant);
	gw_child_copy(a->target, sizeof(a->target), s->spec.target);
	gw_child_copy(a->source, sizeof(a->source), s->source);
	a->outcome = allowed ? GW_CHILD_ALLOWED :
	    window ? GW_CHILD_REFUSED_WINDOW : GW_CHILD_REFUSED_OTHER;
	if (tell_parent(s, &m, 0) != 0)
		return GW_DETECT_DENY;
	pf.fd = s->ctx->parent;
	pf.events = POLLIN;
	while (waited < VERDICT_TIMEOUT_MS) {
		if (poll(&pf, 1, 200) <= 0) {
			waited += 200;
			continue;
		}
		r = gw_child_recv(s->ctx->parent, GW_CHILD_FROM_DAEMON, &m, MSG_DONTWAIT);
		if (r == MG_ERR_SYSTEM && (errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (r != 0) {
			mg_log(LOG_ERR, "session %s: %s from the detector: refused", s->id,
			    r == MG_ERR_PARSE ? "a malformed verdict" : "no verdict");
			return GW_DETECT_DENY;
		}
		/* DENY in place of a verdict: mspgated could not read the question. */
		if (m.type == GW_CHILD_DENY) {
			snprintf(words, wlen, "%s", m.u.verdict.words);
			return GW_DETECT_DENY;
		}
		if (m.type != GW_CHILD_VERDICT) {
			mg_log(LOG_ERR, "session %s: a %s message in place of the detector's "
			    "verdict: refused", s->id, gw_child_type_name(m.type));
			return GW_DETECT_DENY;
		}
		snprintf(words, wlen, "%s", m.u.verdict.words);
		switch (m.u.verdict.action) {
		case GW_CHILD_ACT_NONE:
			return GW_DETECT_NONE;
		case GW_CHILD_ACT_ALERT:
			return GW_DETECT_ALERT;
		case GW_CHILD_ACT_REAUTH:
			return GW_DETECT_REAUTH;
		default:
			return GW_DETECT_DENY;
		}
	}
	mg_log(LOG_ERR, "session %s: no verdict from the detector: refused", s->id);
	return GW_DETECT_DENY;
}

/*
 * "Require MFA again": a fresh TOTP code typed on the engineer's terminal,
 * without echo, checked as pam_mspgate checks it (a code is used once).
 * Audited as an auth_success or auth_failure; mspgated counts failures.
 */
/*
 * While a session is held for a fresh code: requests from mspgated still
 * count (a kill, the detector's deny, a reload's new deadline), and so does
 * the deadline. Returns 0, or the gw_relay_end that ends the session now.
 */
static int
held_interrupt(struct sess *s)
{
	int end, held = 1;

	/* held = 1: a second "require MFA again" is covered by this one. */
	if ((end = parent_drain(s, &held)) != 0)
		return end;
	if (s->dl.end_by != 0 && mg_clock_now() >= s->dl.end_by)
		return GW_RELAY_TIME;
	return 0;
}

static int
reauth(struct sess *s, const char *words, const char *prompt, int timeout_ms,
    char *why, size_t whylen)
{
	struct rec_audit_event ev;
	struct termios tio, noecho;
	char code[16], msg[700];
	size_t n = 0;
	int waited = 0, echo_off = 0, r = MG_ERR_DENIED, gone = 0;

	snprintf(why, whylen, "no terminal");
	/* Echo off before the prompt is out: a code typed at once is never shown. */
	if (tcgetattr(s->fds[0], &tio) == 0) {
		noecho = tio;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		echo_off = tcsetattr(s->fds[0], TCSANOW, &noecho) == 0;
	}
	say(s, prompt, strlen(prompt));
	while (n < sizeof(code) - 1 && waited < timeout_ms) {
		struct pollfd pf[3] = { { s->fds[0], POLLIN, 0 }, { s->sock, POLLIN, 0 },
		    { s->ctx->parent, POLLIN, 0 } };
		ssize_t k;

		/* mspgated stopping (SIGTERM) does not wait for the engineer. */
		if (s->ctx->stop != NULL && *s->ctx->stop) {
			gone = 1;
			break;
		}
		/* Nor does a kill, a deadline or the detector (held mid-session). */
		if (s->relay != NULL && (s->end_now = held_interrupt(s)) != 0) {
			gone = 1;
			break;
		}
		if (poll(pf, s->relay != NULL && s->ctx->parent >= 0 ? 3 : 2, 200) == 0) {
			waited += 200;
			continue;
		}
		if (pf[2].revents && s->relay != NULL)
			continue;	/* read by held_interrupt next turn */
		if (pf[1].revents) {
			struct gw_msg m;
			size_t nfds = 0;
			int fdv[1], rc = gw_msg_recv(s->sock, &m, fdv, 0, &nfds);

			/* mspgate-shell went away; anything else (a resize) waits. */
			if (rc == MG_ERR_NOENT || rc == MG_ERR_SYSTEM) {
				gone = 1;
				break;
			}
			if (rc == 0)
				gw_msg_clear(&m);
			continue;
		}
		if ((k = read(s->fds[0], code + n, sizeof(code) - 1 - n)) <= 0) {
			gone = 1;
			break;
		}
		n += (size_t)k;
		if (memchr(code, '\n', n) != NULL || memchr(code, '\r', n) != NULL)
			break;
	}
	if (echo_off)
		tcsetattr(s->fds[0], TCSANOW, &tio);
	say(s, "\r\n", 2);
	code[n] = '\0';
	code[strcspn(code, "\r\n")] = '\0';
	if (s->end_now != 0)
		snprintf(why, whylen, "the session was ended while it waited for the code");
	else if (code[0] != '\0')
		r = gw_reauth_check(s->ctx->pol, s->engineer, code, why, whylen);
	else if (gone && s->ctx->stop != NULL && *s->ctx->stop)
		snprintf(why, whylen, "the gateway is stopping");
	else if (gone)
		snprintf(why, whylen, "the terminal closed");
	else
		snprintf(why, whylen, "no code given within %d seconds", timeout_ms / 1000);
	explicit_bzero(code, sizeof(code));
	/* words: the detector's rule, or why else a fresh code was asked for. */
	snprintf(msg, sizeof(msg), "fresh TOTP code for %s%s%s: %s",
	    strcmp(words, "login age") == 0 ? "" : "unusual activity (", words,
	    strcmp(words, "login age") == 0 ? " (max_login_age)" : ")", why);
	memset(&ev, 0, sizeof(ev));
	ev.type = r == 0 ? REC_AUDIT_AUTH_SUCCESS : REC_AUDIT_AUTH_FAILURE;
	ev.reason = msg;
	audit(s, &ev);
	mg_log(r == 0 ? LOG_INFO : LOG_WARNING, "session %s: %s", s->id, msg);
	return r == 0 ? 0 : -1;
}

/* Opens the channel and asks for the pty, shell, command or subsystem. */
static int
open_channel(struct sess *s, int pty, char *err, size_t errlen)
{
	const struct gw_msg *m = &s->open;

	if ((s->ch = ssh_channel_new(s->ssh)) == NULL ||
	    ssh_channel_open_session(s->ch) != SSH_OK)
		goto fail;
	/* Before any request: a quick command's exit status is not lost. */
	gw_relay_exitwatch_start(s->ch, &s->exitwatch);
	if (pty && ssh_channel_request_pty_size(s->ch, m->term ? m->term : "xterm",
	    m->cols ? (int)m->cols : 80, m->rows ? (int)m->rows : 24) != SSH_OK)
		goto fail;
	if (m->subsystem != NULL) {
		if (ssh_channel_request_subsystem(s->ch, m->subsystem) != SSH_OK)
			goto fail;
	} else if (m->command != NULL) {
		if (ssh_channel_request_exec(s->ch, m->command) != SSH_OK)
			goto fail;
	} else if (ssh_channel_request_shell(s->ch) != SSH_OK)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s", ssh_get_error(s->ssh));
	return -1;
}

/*
 * What mspgate-shell said about the login decides nothing; when it
 * disagrees with the attestation that is worth a line in the log.
 */
static void
attest_crosscheck(struct sess *s)
{
	const struct pol_engineer *e = pol_engineer_find(s->ctx->pol, s->engineer);
	char said[64], e1[300];
	unsigned mfa;

	gw_source_from_connection(s->open.connection, said, sizeof(said));
	mfa = e != NULL ? gw_authinfo_mfa(s->open.authinfo, e) : 0;
	if (strcmp(said, s->source) != 0 || mfa != s->att.mfa)
		mg_log(LOG_WARNING, "session %s: mspgate-shell of %s claims source %s, "
		    "mfa %s; the attested login has %s, mfa %s (the attestation "
		    "counts)", s->id, s->engineer, said[0] ? esc(said, e1, sizeof(e1)) : "-",
		    pol_mfa_name(mfa), s->source[0] ? s->source : "-",
		    pol_mfa_name(s->att.mfa));
}

/* The detector, for gw_decide: the spec it was given is the one to report. */
static enum gw_detect_action
decide_ask_detector(void *ctx, const struct gw_target_spec *spec, int allowed, int window,
    char *words, size_t wlen)
{
	struct sess *s = ctx;

	s->spec = *spec;
	return ask_detector(s, allowed, window, words, wlen);
}

/*
 * May this session start? gw_decide() decides; this carries out what it
 * says: asks the engineer for a fresh code or a ticket and decides again,
 * or refuses. Returns 0 (allowed: *d, rule, s->spec, s->mfa_used are set)
 * or 1 (refused, audited, the engineer told).
 */
static int
decide(struct sess *s, struct pol_decision *d, char *rule, size_t rulelen)
{
	struct gw_decide_req rq = { 0 };
	struct gw_verdict v;
	enum gw_fresh *f;
	char rwhy[300];

	if (s->open.ticket != NULL && s->open.ticket[0] != '\0')
		snprintf(s->ticket, sizeof(s->ticket), "%s", s->open.ticket);
	rq.target = s->open.target;
	rq.ticket = s->ticket;
	rq.tty = (s->open.flags & GW_F_TTY) != 0;
	rq.attested = s->attested;
	rq.att_why = s->att_why;
	rq.engineer = s->engineer;
	rq.att = &s->att;
	rq.source = s->source;
	rq.ask_detector = decide_ask_detector;
	rq.ask_ctx = s;
	if (s->attested)
		attest_crosscheck(s);
	for (;;) {
		gw_decide(s->ctx->pol, &rq, &v);
		s->spec = v.spec;
		s->mfa_used = v.mfa_used;
		switch (v.kind) {
		case GW_VERDICT_ALLOW:
			*d = v.d;
			snprintf(rule, rulelen, "%s", v.rule);
			return 0;
		case GW_VERDICT_ASK_CODE:
			/* Each code is asked once: a second ask would be a loop. */
			f = v.code_for == GW_CODE_LOGIN_AGE ? &rq.login_age_code : &rq.detector_code;
			if (*f != GW_FRESH_NONE)
				return deny(s, "a fresh code was asked for twice", NULL, NULL);
			*f = reauth(s, v.ask_words, v.tell, REAUTH_TIMEOUT_MS, rwhy,
			    sizeof(rwhy)) == 0 ? GW_FRESH_OK : GW_FRESH_FAILED;
			rq.login_age_at = mg_clock_now();
			continue;
		case GW_VERDICT_ASK_TICKET:
			if (rq.ticket_asked || ask_ticket(s) != 0)
				s->ticket[0] = '\0';
			rq.ticket_asked = 1;
			continue;
		case GW_VERDICT_DENY:
		default:
			/* A ticket that was not accepted is not the session's. */
			if (rq.ticket_asked && !gw_ticket_ok(s->ticket))
				s->ticket[0] = '\0';
			return deny(s, v.reason, v.rule[0] ? v.rule : NULL, v.tell);
		}
	}
}

/* The session's row in mspgated's table while it waits for an approver. */
static void
tell_waiting(struct sess *s, time_t since, time_t until)
{
	struct gw_child_msg m;

	fill_start(s, &m, GW_CHILD_WAITING, s->d.login, s->open.subsystem ? GW_CHILD_SFTP :
	    s->open.command ? GW_CHILD_EXEC : GW_CHILD_SHELL, since, until);
	(void)tell_parent(s, &m, 0);
}

/* An "approval" audit event: requested, approved or denied. */
static void
audit_approval(struct sess *s, const char *result, const char *reason, const char *rule)
{
	struct rec_audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = REC_AUDIT_APPROVAL;
	ev.result = result;
	ev.reason = reason;
	ev.rule = rule;
	ev.login = s->d.login;
	audit(s, &ev);
	mg_log(LOG_NOTICE, "session %s: approval %s: %s", s->id, result, reason);
}

/*
 * A grant with approval = "required": the session waits, before anything
 * reaches the target, until one of the tenant's approvers approves it
 * (mspgatectl approve, checked by mspgated) or denies it, or the wait runs
 * out. Only this process waits; mspgated's loop goes on. A kill, the
 * detector, a reload, the engineer leaving or the gateway stopping end the
 * wait too. Returns 0 (approved: s->approved_*) or 1 (refused, audited,
 * the engineer told).
 */
static int
wait_approval(struct sess *s, const char *rule)
{
	const struct pol_grant *g = s->d.grant;
	time_t since = mg_clock_now(), until = since + (time_t)g->approval_timeout;
	char who[400], text[900], why[700];

	pol_approvers_text(s->d.target != NULL ? s->d.target->tenant : NULL, ", ", who,
	    sizeof(who));
	snprintf(text, sizeof(text), "waiting for approval by %s (%s), up to %lld s", who,
	    s->id, (long long)g->approval_timeout);
	audit_approval(s, "requested", text, rule);
	{
		char line[1000];
		int n = snprintf(line, sizeof(line), "mspgate: %s\r\n", text);

		/* stderr: a pty shows it, an exec or sftp stream stays clean. */
		if (n > 0 && (size_t)n < sizeof(line))
			(void)!write(s->fds[2], line, (size_t)n);
	}
	tell_waiting(s, since, until);
	for (;;) {
		struct pollfd pf[2] = { { s->ctx->parent, POLLIN, 0 }, { s->sock, POLLIN, 0 } };
		struct gw_child_msg m;
		int r;

		if (s->ctx->stop != NULL && *s->ctx->stop)
			return deny(s, "the gateway stopped while the session waited for "
			    "approval", rule, "session ended: the gateway is shutting down");
		if (mg_clock_now() >= until) {
			snprintf(why, sizeof(why), "no approval within %lld s",
			    (long long)g->approval_timeout);
			snprintf(text, sizeof(text), "not permitted: no approval within %lld s "
			    "(%s)", (long long)g->approval_timeout, s->id);
			return deny(s, why, rule, text);
		}
		if (poll(pf, 2, 200) <= 0)
			continue;
		if (pf[1].revents) {
			struct gw_msg gm;
			size_t nfds = 0;
			int fdv[1], rc = gw_msg_recv(s->sock, &gm, fdv, 0, &nfds);

			/* mspgate-shell went away (the engineer gave up); a resize waits. */
			if (rc == MG_ERR_NOENT || rc == MG_ERR_SYSTEM)
				return deny(s, "the engineer left while the session waited for "
				    "approval", rule, NULL);
			if (rc == 0)
				gw_msg_clear(&gm);
		}
		if (s->ctx->parent < 0 || !(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		r = gw_child_recv(s->ctx->parent, GW_CHILD_FROM_DAEMON, &m, MSG_DONTWAIT);
		if (r == MG_ERR_SYSTEM && (errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (r != 0) {
			/* mspgated gone or talking nonsense: nobody can approve (fail closed). */
			mg_log(LOG_ERR, "session %s: %s from mspgated while waiting for approval",
			    s->id, r == MG_ERR_PARSE ? "a malformed message" : "no answer");
			return deny(s, "no approval: mspgated cannot be reached", rule,
			    "session ended: an internal error in the gateway (see its log)");
		}
		switch (m.type) {
		case GW_CHILD_APPROVAL:
			if (m.u.approval.comment[0] != '\0')
				snprintf(why, sizeof(why), "%s by %s: %s", m.u.approval.approved ?
				    "approved" : "denied", m.u.approval.who, m.u.approval.comment);
			else
				snprintf(why, sizeof(why), "%s by %s", m.u.approval.approved ?
				    "approved" : "denied", m.u.approval.who);
			audit_approval(s, m.u.approval.approved ? "approved" : "denied", why, rule);
			if (!m.u.approval.approved) {
				snprintf(text, sizeof(text), "not permitted: %s", why);
				return deny(s, why, rule, text);
			}
			snprintf(s->approved_by, sizeof(s->approved_by), "%s", m.u.approval.who);
			snprintf(s->approval_comment, sizeof(s->approval_comment), "%s",
			    m.u.approval.comment);
			s->approved_at = (time_t)m.u.approval.at;
			return 0;
		case GW_CHILD_KILL:
			snprintf(why, sizeof(why), "ended by operator %s while waiting for approval",
			    m.u.kill.who);
			return deny(s, why, rule, "session ended by an operator");
		case GW_CHILD_DENY:
			snprintf(why, sizeof(why), GW_DETECT_ENDED_FMT, m.u.verdict.words);
			return deny(s, why, rule, why);
		case GW_CHILD_REVOKE:
			return deny(s, "access withdrawn by a policy reload while waiting for "
			    "approval", rule, "session ended: access withdrawn by a policy reload");
		default:
			mg_log(LOG_ERR, "session %s: a %s message while waiting for approval",
			    s->id, gw_child_type_name(m.type));
			return deny(s, "no approval: an unexpected message from mspgated", rule,
			    "session ended: an internal error in the gateway (see its log)");
		}
	}
}

/*
 * A certificate credential: the signer certifies a key made for this
 * session, valid to the session's end plus a minute (never past the
 * grant's max_session plus a minute).
 */
static int
connect_cert(struct sess *s, enum gw_ssh_fail *why, char *fp, size_t fplen, char *err,
    size_t errlen)
{
	struct gw_cert_req rq = { 0 };
	time_t now = mg_clock_now();
	int64_t life = s->d.max_session;
	int r;

	if (s->d.end_by > now && s->d.end_by - now < life)
		life = s->d.end_by - now;
	if (life <= 0 || life > UINT32_MAX - GW_SIGNER_GRACE)
		life = s->d.max_session > 0 ? s->d.max_session : 60;
	rq.socket = s->ctx->pol->signer.socket;
	rq.session = s->id;
	rq.engineer = s->engineer;
	rq.tenant = s->spec.tenant;
	rq.target = s->spec.target;
	rq.login = s->d.login;
	rq.ticket = s->ticket[0] ? s->ticket : NULL;
	rq.att_pid = s->att.pid;
	rq.att_start = s->att.start;
	rq.lifetime = (uint32_t)(life + GW_SIGNER_GRACE);
	rq.timeout_ms = (int)(s->ctx->connect_timeout > 0 ? s->ctx->connect_timeout * 1000 :
	    10000);
	r = gw_ssh_connect_with(s->d.target, s->d.login, gw_cert_make, &rq,
	    s->ctx->connect_timeout, &s->ssh, why, fp, fplen, err, errlen);
	if (r == 0)
		mg_log(LOG_INFO, "session %s: logged in to %s/%s as %s with certificate serial "
		    "%llu", s->id, s->spec.tenant, s->spec.target, s->d.login,
		    (unsigned long long)rq.serial);
	return r;
}

/*
 * The credential, then the target: nothing is recorded for a target that
 * cannot be reached or is not the pinned host. Returns 0, or 1 (refused).
 */
static int
connect_target(struct sess *s, const char *rule)
{
	const struct pol_gateway *gw = &s->ctx->pol->gateway;
	struct rec_audit_event ev;
	enum gw_ssh_fail why;
	ssh_key cred = NULL;
	char err[512], msg[768], fp[MG_SSHKEY_FP_LEN];
	int r;

	if (s->d.target->cred != NULL && s->d.target->cred->kind == POL_CRED_CERT) {
		r = connect_cert(s, &why, fp, sizeof(fp), err, sizeof(err));
	} else {
		if ((r = gw_vault_load(gw->vault, s->d.target->credential, &cred, err,
		    sizeof(err))) != 0) {
			mg_log(LOG_ERR, "session %s: vault: %s", s->id, err);
			snprintf(msg, sizeof(msg), "credential %s unavailable",
			    s->d.target->credential);
			return deny(s, msg, rule, "the credential for this target is unavailable "
			    "(see the gateway's log)");
		}
		r = gw_ssh_connect(s->d.target, s->d.login, cred, s->ctx->connect_timeout,
		    &s->ssh, &why, fp, sizeof(fp), err, sizeof(err));
		ssh_key_free(cred);
		cred = NULL;
	}
	if (r != 0) {
		switch (why) {
		case GW_SSH_CRED:
			mg_log(LOG_ERR, "session %s: certificate: %s", s->id, err);
			snprintf(msg, sizeof(msg), "no session certificate for %s/%s: %s",
			    s->spec.tenant, s->spec.target, err);
			return deny(s, msg, rule, msg);
		case GW_SSH_HOSTKEY:
			memset(&ev, 0, sizeof(ev));
			ev.type = REC_AUDIT_ALERT;
			ev.result = "failure";
			ev.reason = err;
			ev.rule = rule;
			ev.login = s->d.login;
			audit(s, &ev);
			mg_log(LOG_ALERT, "session %s: %s/%s: %s", s->id, s->spec.tenant,
			    s->spec.target, err);
			snprintf(msg, sizeof(msg), "target host key mismatch: %s/%s did not "
			    "present %s (reported)", s->spec.tenant, s->spec.target,
			    s->d.target->nhost_keys > 0 ? "the host key pinned in the policy" :
			    "a host certificate from its tenant's host_ca");
			return deny(s, err, rule, msg);
		case GW_SSH_AUTH:
			snprintf(msg, sizeof(msg), "target refused the gateway's login as %s",
			    s->d.login);
			return deny(s, err, rule, msg);
		default:
			snprintf(msg, sizeof(msg), "target unreachable: %s/%s (%s)",
			    s->spec.tenant, s->spec.target, err);
			return deny(s, err, rule, msg);
		}
	}
	return 0;
}

/*
 * Fail closed: no recording, no session. Opens the recording, then the
 * channel, and audits the start. Returns 0, or 1 (refused).
 */
static int
open_recording(struct sess *s, int pty, const char *rule)
{
	const struct pol_gateway *gw = &s->ctx->pol->gateway;
	struct rec_audit_event ev;
	struct rec_meta meta = { 0 };
	struct rec_writer_opts wo = { 0 };
	struct rec_seal seal;
	char err[512], msg[768], path[4096], appr[3][GW_CHILD_WHY_MAX + 32];
	const char *extra[4];
	int r;

	if ((r = rec_key_load_private(gw->signing_key, &s->key, err, sizeof(err))) != 0 ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", gw->recordings, s->recname) >=
	    sizeof(path)) {
		mg_log(LOG_ERR, "session %s: signing key: %s", s->id, err);
		return deny(s, "recording unavailable: no signing key", rule,
		    "recording unavailable: the session cannot start");
	}
	meta.session = s->id;
	meta.engineer = s->engineer;
	meta.tenant = s->spec.tenant;
	meta.target = s->spec.target;
	meta.login = s->d.login;
	meta.mfa = s->mfa_used ? pol_mfa_name(s->mfa_used) : "none";
	meta.source = s->source[0] ? s->source : NULL;
	meta.ticket = s->ticket[0] ? s->ticket : NULL;
	meta.term = pty ? s->open.term : NULL;
	meta.command = s->open.subsystem ? "subsystem sftp" : s->open.command;
	meta.cols = pty && s->open.cols ? (int)s->open.cols : 80;
	meta.rows = pty && s->open.rows ? (int)s->open.rows : 24;
	/* Who approved it, when and why, in the header (rec_reader: meta). */
	if (s->approved_by[0] != '\0') {
		struct tm tm;
		char at[40];

		gmtime_r(&s->approved_at, &tm);
		strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(appr[0], sizeof(appr[0]), "approved_by=%s", s->approved_by);
		snprintf(appr[1], sizeof(appr[1]), "approved_at=%s", at);
		snprintf(appr[2], sizeof(appr[2]), "approval_comment=%s", s->approval_comment);
		extra[0] = appr[0];
		extra[1] = appr[1];
		extra[2] = s->approval_comment[0] != '\0' ? appr[2] : NULL;
		extra[3] = NULL;
		meta.extra = extra;
	}
	/* Hashed and written beside the relay, on the other core (bounded: rec_writer.h). */
	wo.async = 1;
	/* Written out within about 200 ms: mspgatectl watch follows the file. */
	wo.flush_ms = 200;
	if ((r = rec_writer_open(path, &meta, s->key, &wo, &s->rec, err, sizeof(err))) != 0) {
		mg_log(LOG_ERR, "session %s: recording: %s", s->id, err);
		return deny(s, "recording unavailable", rule,
		    "recording unavailable: the session cannot start");
	}
	if (s->approved_by[0] != '\0') {
		snprintf(msg, sizeof(msg), "approved by %s%s%s", s->approved_by,
		    s->approval_comment[0] ? ": " : "", s->approval_comment);
		rec_writer_marker(s->rec, REC_NOW, msg);
	}
	if (open_channel(s, pty, err, sizeof(err)) != 0) {
		rec_writer_marker(s->rec, REC_NOW, "the target refused the session");
		rec_writer_close(s->rec, &seal);
		snprintf(msg, sizeof(msg), "the target refused the session: %s", err);
		return deny(s, msg, rule, msg);
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = REC_AUDIT_SESSION_START;
	ev.login = s->d.login;
	ev.rule = rule;
	ev.recording = s->recname;
	ev.reason = meta.command;
	audit(s, &ev);
	mg_log(LOG_INFO, "session %s: %s -> %s@%s/%s from %s, mfa %s%s%s: started", s->id,
	    s->engineer, s->d.login, s->spec.tenant, s->spec.target,
	    s->source[0] ? s->source : "unknown", meta.mfa,
	    s->ticket[0] ? ", ticket " : "", s->ticket);
	return 0;
}

/* The relay, with the live state mspgated and the detector follow. */
static void
relay_session(struct sess *s, int pty, struct gw_relay_result *res, time_t *t0,
    time_t *ended)
{
	const struct pol_gateway *gw = &s->ctx->pol->gateway;
	struct gw_relay relay;

	if (pty && tcgetattr(s->fds[0], &s->saved_tio) == 0) {
		struct termios raw = s->saved_tio;

		/* The target's pty does the echo and line editing now. */
		s->tio_saved = 1;
		cfmakeraw(&raw);
		tcsetattr(s->fds[0], TCSANOW, &raw);
	}
	memset(&relay, 0, sizeof(relay));
	relay.in = s->fds[0];
	relay.out = s->fds[1];
	relay.err = s->fds[2];
	relay.ctl = s->sock;
	relay.pty = pty;
	relay.cols = s->open.cols ? s->open.cols : 80;
	relay.rows = s->open.rows ? s->open.rows : 24;
	relay.session = s->ssh;
	relay.channel = s->ch;
	relay.early = &s->exitwatch.res;
	relay.rec = s->rec;
	relay.end_by = s->d.end_by;
	relay.idle_timeout = gw->idle_timeout;
	relay.stop = s->ctx->stop;
	/* Live state: the deadline, transfers seen, the row in mspgated's table. */
	s->pty = pty;
	gw_deadline_set(&s->dl, s->d.end_by);
	if (s->open.subsystem != NULL)
		s->xfer = gw_xfer_new(GW_XFER_SFTP, NULL, on_xfer, s);
	else if (s->open.command != NULL)
		s->xfer = gw_xfer_new(GW_XFER_SCP, s->open.command, on_xfer, s);
	relay.tick = session_tick;
	relay.tick_ctx = s;
	if (s->xfer != NULL || pty) {
		relay.observe = on_relayed;
		relay.observe_ctx = s;
	}
	*t0 = mg_clock_now();
	tell_start(s, s->d.login, *t0, s->open.subsystem ? GW_CHILD_SFTP : s->xfer ? GW_CHILD_SCP :
	    pty ? GW_CHILD_SHELL : GW_CHILD_EXEC);
	/* The exec command, for the detector's sensitive_commands. */
	if (s->open.command != NULL)
		tell_command(s, s->open.command);
	s->relay = &relay;
	gw_relay_run(&relay, res);
	s->relay = NULL;
	/*
	 * The session ended now: the events below carry this time, however
	 * long a busy disk takes to seal the recording and write them.
	 */
	*ended = mg_clock_now();
	restore_tty(s);
	/* Files still open are audited as cut off, before the recording is sealed. */
	gw_xfer_free(s->xfer);
	s->xfer = NULL;
}

/* Audits how the session ended, seals the recording, tells mspgate-shell. */
static int
end_session(struct sess *s, const struct gw_relay_result *res, const char *rule,
    time_t t0, time_t ended)
{
	struct rec_audit_event ev;
	struct rec_seal seal;
	char err[512], msg[768];
	const char *text;
	int r;

	if (res->end == GW_RELAY_KILLED) {
		char who[300];

		memset(&ev, 0, sizeof(ev));
		ev.type = REC_AUDIT_OPERATOR_KILL;
		ev.time = ended;
		ev.result = "terminated";
		snprintf(who, sizeof(who), "ended by operator %s", s->killed_by);
		ev.reason = who;
		ev.login = s->d.login;
		ev.recording = s->recname;
		audit(s, &ev);
		rec_writer_marker(s->rec, REC_NOW, who);
		mg_log(LOG_NOTICE, "session %s: %s", s->id, who);
	}

	text = end_text(s, res, err, sizeof(err));
	if (text != NULL)
		rec_writer_marker(s->rec, REC_NOW, text);
	else if (res->exit_signal) {
		snprintf(msg, sizeof(msg), "killed by signal %s", res->signame);
		rec_writer_marker(s->rec, REC_NOW, msg);
	} else {
		snprintf(msg, sizeof(msg), "exit status %d", res->exit_status);
		rec_writer_marker(s->rec, REC_NOW, msg);
	}
	memset(&seal, 0, sizeof(seal));
	r = rec_writer_close(s->rec, &seal);
	if (r != 0 && text == NULL)
		text = "session ended: the recording failed";

	memset(&ev, 0, sizeof(ev));
	ev.type = REC_AUDIT_SESSION_END;
	ev.time = ended;
	ev.login = s->d.login;
	ev.rule = rule;
	ev.result = res->end == GW_RELAY_REMOTE && res->has_status ? "success" : "terminated";
	ev.reason = text;
	ev.has_stats = 1;
	ev.bytes_in = res->bytes_in;
	ev.bytes_out = res->bytes_out;
	ev.duration = (int64_t)(ended - t0);
	if (res->has_status) {
		ev.has_exit = 1;
		ev.exit_status = res->exit_signal ? 128 + res->exit_signal : res->exit_status;
	}
	ev.recording = s->recname;
	ev.seal = r == 0 ? seal.hash : NULL;
	audit(s, &ev);
	mg_log(LOG_INFO, "session %s: ended: %s; %llu bytes in, %llu out, seal %s", s->id,
	    text ? text : "remote command finished",
	    (unsigned long long)res->bytes_in, (unsigned long long)res->bytes_out,
	    r == 0 ? seal.hash : "none");

	if (text != NULL)
		send_end(s, GW_END_ERROR, 255, text);
	else if (res->exit_signal)
		send_end(s, GW_END_SIGNAL, res->exit_signal, NULL);
	else
		send_end(s, GW_END_EXIT, res->exit_status, NULL);
	return text == NULL ? 0 : 1;
}

static int
run_session(struct sess *s)
{
	struct gw_relay_result res;
	char rule[300];
	time_t t0, ended;
	int pty;

	make_id(s);
	if (s->nfds != 3)
		return deny(s, "mspgate-shell sent no terminal or pipes", NULL,
		    "internal error: no session descriptors");
	if (decide(s, &s->d, rule, sizeof(rule)) != 0)
		return 1;
	/* Four eyes: nothing reaches the target before an approver says yes. */
	if (s->d.grant != NULL && s->d.grant->approval && wait_approval(s, rule) != 0)
		return 1;
	if (connect_target(s, rule) != 0)
		return 1;
	pty = (s->open.flags & GW_F_TTY) && s->open.subsystem == NULL;
	if (open_recording(s, pty, rule) != 0)
		return 1;
	relay_session(s, pty, &res, &t0, &ended);
	return end_session(s, &res, rule, t0, ended);
}

int
gw_session_serve(const struct gw_ctx *ctx, int sock, struct gw_msg *first,
    const int *fds, size_t nfds)
{
	struct sess s;
	char err[512];
	size_t i;
	int rc = 1;
	/*
	 * When mspgated accepted the connection: a peer that started later is
	 * not the one that connected (a reused pid).
	 */
	unsigned long long accepted = ctx->accepted != 0 ? ctx->accepted :
	    gw_attest_ticks_now();

	memset(&s, 0, sizeof(s));
	s.ctx = ctx;
	s.sock = sock;
	s.open = *first;
	memset(first, 0, sizeof(*first));
	for (i = 0; i < nfds && i < 3; i++)
		s.fds[s.nfds++] = fds[i];
	if (peer_identity(&s) != 0) {
		send_end(&s, GW_END_ERROR, 255, "not permitted: unknown local account");
		goto out;
	}
	/* The factors, source and login time: root's word (pam_mspgate), no one else's. */
	s.attested = gw_attest_find(ctx->pol->gateway.attestations, s.pid, s.uid,
	    s.engineer, accepted, &s.att, s.att_why, sizeof(s.att_why)) == 0;
	if (s.attested)
		snprintf(s.source, sizeof(s.source), "%s", s.att.source);
	if (rec_audit_open(ctx->pol->gateway.audit, ctx->pol->gateway.signing_key, NULL,
	    &s.audit, err, sizeof(err)) != 0) {
		/* No audit trail, no session. */
		mg_log(LOG_ERR, "audit log %s: %s", ctx->pol->gateway.audit, err);
		send_end(&s, GW_END_ERROR, 255, "the gateway's audit log is unavailable: "
		    "no session can start");
		goto out;
	}
	/* The picker's question: one answer; the session comes on its own connection. */
	if (s.open.type == GW_MSG_LIST) {
		rc = answer_list(&s, &s.open) == 0 ? 0 : 1;
		goto out;
	}
	if (s.open.type == GW_MSG_CONFIG) {
		rc = answer_config(&s);
		goto out;
	}
	if (s.open.type != GW_MSG_OPEN) {
		mg_log(LOG_WARNING, "uid %u pid %d: bad request from mspgate-shell",
		    (unsigned)s.uid, (int)s.pid);
		goto out;
	}
	rc = run_session(&s);
out:
	restore_tty(&s);
	gw_xfer_free(s.xfer);
	if (s.ch != NULL) {
		ssh_channel_close(s.ch);
		ssh_channel_free(s.ch);
	}
	if (s.ssh != NULL) {
		ssh_disconnect(s.ssh);
		ssh_free(s.ssh);
	}
	rec_writer_free(s.rec);
	rec_key_free(s.key);
	rec_audit_close(s.audit);
	for (i = 0; i < s.nfds; i++)
		close(s.fds[i]);
	gw_msg_clear(&s.open);
	explicit_bzero(s.ticket, sizeof(s.ticket));
	return rc;
}
