/* SPDX-License-Identifier: BSD-2-Clause */
/* The Cloud Hopper detector: rules over session, MFA and command events, with bounded, persisted history. */
#ifndef GW_DETECT_H
#define GW_DETECT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mg_file.h"
#include "pol.h"
#include "rec_audit.h"

/*
 * Who owns it. The detector is a plain object with no I/O of its own
 * except gw_detect_load/gw_detect_save. Sessions are separate processes,
 * so exactly one detector exists: mspgated's parent owns it, and each
 * session process asks the parent over its pipe (issue 6) and acts on the
 * answer. Nothing here locks: call it from one thread. Time comes from
 * mg_clock_now() (tests set it with mg_clock_set()).
 *
 * The sequence a session produces:
 *   GW_DETECT_ATTEMPT   the policy decided (allowed or not); before the
 *                       session is let through. DENY: refuse it; REAUTH:
 *                       ask for a fresh TOTP code (refuse if there is
 *                       none); ALERT or NONE: go on.
 *   GW_DETECT_START     the session really opened (after any reauth). This
 *                       commits it to history; an attempt the gateway then
 *                       refused is never sent as START, so it does not
 *                       count as a tenant reached.
 *   GW_DETECT_BYTES     from time to time: bytes sent to the engineer so
 *                       far in this session (cumulative).
 *   GW_DETECT_COMMAND   an exec command; GW_DETECT_INPUT a typed line.
 *   GW_DETECT_END       the session ended, with its final bytes.
 * and, from the MFA step (pam_mspgate's auth_failure events):
 *   GW_DETECT_MFA_FAILURE  a wrong code or refused key, engineer + source.
 *
 * What DENY means on events other than ATTEMPT: BYTES, COMMAND, INPUT:
 * end that session; MFA_FAILURE: the login already failed, and further
 * ATTEMPTs of that engineer are denied while the failures stay above the
 * threshold (the same "pressure" gating applies to off_hours and the daily
 * egress: with action deny or reauth, an ATTEMPT made while the count is
 * at or above the threshold gets that action). REAUTH on a live session:
 * hold it and ask for a fresh code.
 *
 * A non-zero return from gw_detect_event() means the detector could not
 * judge the event (bad name or address, out of memory); the gateway must
 * then refuse an ATTEMPT, as for any other error (fail closed).
 */

#define GW_DETECT_NAME_MAX	64	/* engineer, tenant, target names */
#define GW_DETECT_ID_MAX	64	/* session ids */
#define GW_DETECT_EVIDENCE_MAX	200	/* fits the audit reason and its syslog line */
#define GW_DETECT_MAX_HITS	8

/* Bounds on memory (see gw_detect_hist.c for why these numbers). */
#define GW_DETECT_MAX_ENGINEERS	2048
#define GW_DETECT_MAX_SOURCES	4096	/* MFA failure sources */
#define GW_DETECT_ACCESS_PER_ENG	128	/* tenant/target pairs per engineer */
#define GW_DETECT_ACCESS_TOTAL	32768
#define GW_DETECT_NETS_PER_ENG	32	/* source /24 or /48 networks */
#define GW_DETECT_LIVE_PER_ENG	16
#define GW_DETECT_PEERS_MAX	4096	/* other gateways' live sessions */
#define GW_DETECT_GATEWAY_MAX	63	/* a gateway's name (POL_STATE_NAME_MAX) */
#define GW_DETECT_RING		32	/* time buckets per counter */
/* unusual: no verdict before this much history (else every new engineer alerts) */
#define GW_DETECT_UNUSUAL_MIN_DAYS	7
#define GW_DETECT_UNUSUAL_MIN_SESSIONS	10
/* a live-session entry older than this is dropped (a lost END) */
#define GW_DETECT_LIVE_MAX_AGE	(7 * 86400)
/* the state file: refused above this size */
#define GW_DETECT_STATE_MAX	(64u * 1024 * 1024)

enum gw_detect_kind {
	GW_DETECT_ATTEMPT,
	GW_DETECT_START,
	GW_DETECT_END,
	GW_DETECT_BYTES,
	GW_DETECT_MFA_FAILURE,
	GW_DETECT_COMMAND,
	GW_DETECT_INPUT,
};

/* Why the policy refused an ATTEMPT: only window refusals are "off hours". */
enum gw_detect_refusal {
	GW_DETECT_REFUSED_OTHER,
	GW_DETECT_REFUSED_WINDOW,
};

/*
 * One event. Names must be what the policy allows (letters, digits, "_.-",
 * at most 64 bytes); source is a numeric IPv4 or IPv6 address. Nothing is
 * kept by pointer.
 */
struct gw_detect_event {
	enum gw_detect_kind kind;
	const char *engineer;	/* all kinds */
	const char *tenant, *target;	/* ATTEMPT, START (may be given elsewhere) */
	const char *source;	/* ATTEMPT, START, MFA_FAILURE */
	const char *session;	/* START, END, BYTES, COMMAND, INPUT */
	int allowed;		/* ATTEMPT: what the policy decided */
	enum gw_detect_refusal refusal;	/* ATTEMPT with allowed == 0 */
	uint64_t bytes_out;	/* END, BYTES: target -> engineer, cumulative */
	const char *text;	/* COMMAND, INPUT: need not be NUL-terminated */
	size_t text_len;
};

enum gw_detect_action {
	GW_DETECT_NONE,
	GW_DETECT_ALERT,
	GW_DETECT_REAUTH,
	GW_DETECT_DENY,
};

enum gw_detect_rule {
	GW_DETECT_FANOUT,
	GW_DETECT_FIRST_ACCESS,
	GW_DETECT_OFF_HOURS,
	GW_DETECT_MFA_FAILURES,
	GW_DETECT_UNUSUAL,
	GW_DETECT_PARALLEL,
	GW_DETECT_EGRESS,
	GW_DETECT_SENSITIVE,
	GW_DETECT_STATE,	/* the detector's own state was lost or damaged */
	GW_DETECT_NRULES
};

struct gw_detect_hit {
	enum gw_detect_rule rule;
	enum gw_detect_action action;	/* never NONE */
	int severity;			/* LOG_WARNING or LOG_ALERT */
	/* printable ASCII; strings from the engineer already escaped */
	char evidence[GW_DETECT_EVIDENCE_MAX];
};

struct gw_detect_result {
	enum gw_detect_action action;	/* the strongest of the hits; NONE: nothing */
	size_t nhits;
	struct gw_detect_hit hits[GW_DETECT_MAX_HITS];
	unsigned suppressed;	/* repeated alert-only hits left out */
};

struct gw_detect_stats {
	size_t engineers, sources, access, live;
};

struct gw_detect;

/*
 * A detector with the policy's thresholds (copied; the policy may be freed
 * after). Patterns are compiled here as extended, case-insensitive regular
 * expressions; an empty list means the built-in defaults. Returns 0,
 * MG_ERR_NOMEM, or MG_ERR_POLICY with err naming the bad pattern.
 */
int gw_detect_new(const struct pol_alerts *a, struct gw_detect **out,
    char *err, size_t errlen);
/* A policy reload: new thresholds, history kept. On error nothing changes. */
int gw_detect_set_policy(struct gw_detect *d, const struct pol_alerts *a,
    char *err, size_t errlen);
void gw_detect_free(struct gw_detect *d);

/*
 * Judges one event at mg_clock_now() and updates the history. res is
 * cleared first. Returns 0, MG_ERR_INVAL (bad name, address, kind) or
 * MG_ERR_NOMEM; on error res->action is DENY with no hits, so a caller that
 * only looks at the action still fails closed.
 */
int gw_detect_event(struct gw_detect *d, const struct gw_detect_event *ev,
    struct gw_detect_result *res);

/*
 * An event another gateway's detector committed (state.backend
 * "postgresql": gw_sync.h's REMOTE), at time when (one ahead of
 * mg_clock_now() counts as now): history only, never judged, no hit, no
 * action. START (engineer, tenant, target; source may be NULL) counts as
 * the tenant and target reached (fanout, first_access) and as a session at
 * that hour from that network (unusual); MFA_FAILURE (engineer, source)
 * counts in the mfa_failures counters of both. The next local ATTEMPT
 * sees it. It is not a live session here: parallel use looks at this
 * gateway's and gw_detect_peers_set's. Older than the rules look back: ignored.
 * Returns 0, MG_ERR_INVAL (bad name, address or kind) or MG_ERR_NOMEM.
 */
int gw_detect_remote(struct gw_detect *d, const struct gw_detect_event *ev, time_t when);

/* A live session on another gateway, as the state database shows it. */
struct gw_detect_peer {
	const char *gateway, *id, *engineer;
	const char *source;	/* may be NULL or "": not known */
};
/*
 * The other gateways' live sessions (state.backend "postgresql"), as the
 * state worker last read them, replace those given before; n = 0: none
 * known (the database is gone). Parallel use judges a new session here
 * against these as against this gateway's own; nothing else looks at
 * them, and they are not kept in the state file. At most
 * GW_DETECT_PEERS_MAX are kept; an entry with an unclean name, id or
 * address is left out. Returns how many were left out, or MG_ERR_NOMEM
 * (none kept then).
 */
int gw_detect_peers_set(struct gw_detect *d, const struct gw_detect_peer *p, size_t n);

/*
 * Live sessions are kept in the state file. After a restart in which no
 * session survived, the gateway calls this so they do not count as
 * parallel use.
 */
void gw_detect_sessions_clear(struct gw_detect *d);

/*
 * The state file: versioned text, one record per line, see gw_detect_state.c.
 * gw_detect_save writes it with mg_file_replace (mode 0600). Returns 0 or
 * MG_ERR_*, err says why.
 *
 * gw_detect_load replaces the history with the file's. A missing file is
 * a first start: 0, empty history, no hit. Any other problem (unsafe owner
 * or mode, too big, unknown version, a damaged or truncated line, a bound
 * exceeded) is never half-loaded and never ignored: the history is
 * emptied, res gets one GW_DETECT_STATE hit (LOG_ALERT) that says so and
 * must be written as an alert, and the error is returned; the detector
 * stays usable. rules (may be NULL) are the mg_file_read_safe checks.
 */
int gw_detect_save(struct gw_detect *d, const char *path, char *err, size_t errlen);
int gw_detect_load(struct gw_detect *d, const char *path,
    const struct mg_file_rules *rules, struct gw_detect_result *res,
    char *err, size_t errlen);
/* The same from memory (tests, fuzzing); name is used in messages. */
int gw_detect_load_buffer(struct gw_detect *d, const char *buf, size_t len,
    const char *name, struct gw_detect_result *res, char *err, size_t errlen);
/* 1 when the history changed since the last save or load. */
int gw_detect_dirty(const struct gw_detect *d);
/*
 * Marks the state saved (0: a copy was handed to a process that writes it)
 * or not (1: that write failed).
 */
void gw_detect_set_dirty(struct gw_detect *d, int dirty);

void gw_detect_stats(const struct gw_detect *d, struct gw_detect_stats *st);

/* "fanout", "first_access", ... "sensitive_commands", "state": the policy's key names. */
const char *gw_detect_rule_name(enum gw_detect_rule r);
/* "tenant fan-out", "first access", ...: the rule in the engineer's words. */
const char *gw_detect_rule_words(enum gw_detect_rule r);
/*
 * The line a session refused by the detector gets (mspgate-shell prints it
 * after "mspgate: "); %s is gw_detect_rule_words() of the deciding rule.
 */
#define GW_DETECT_REFUSED_FMT \
	"refused: unusual activity (%s); your MSP's security team has been alerted"
/* The same for a running session the detector ends (egress, sensitive commands). */
#define GW_DETECT_ENDED_FMT \
	"session ended: unusual activity (%s); your MSP's security team has been alerted"
/*
 * The words a refusal carries when no verdict came (mspgated did not
 * answer in time, or its answer did not read): refused, fail closed, but
 * nobody was alerted, so the engineer is not told so.
 */
#define GW_DETECT_NO_VERDICT "detector unavailable"
/* The same when mspgated could not read what the session process asked. */
#define GW_DETECT_INTERNAL "an internal error in the gateway"
/* "none", "alert", "reauth", "deny" */
const char *gw_detect_action_name(enum gw_detect_action a);
/* The built-in sensitive_commands patterns, NULL-terminated, and what each catches. */
extern const char *const gw_detect_default_patterns[];
extern const char *const gw_detect_default_pattern_names[];

/*
 * The audit event for one hit: type alert, rule "alerts.<rule>", result
 * the action, reason "<severity>: <evidence>" (reason_buf, at least
 * GW_DETECT_EVIDENCE_MAX + 16 bytes), and the event's names. Pointers
 * refer to ev, hit and reason_buf.
 */
void gw_detect_audit_event(const struct gw_detect_event *ev,
    const struct gw_detect_hit *hit, char *reason_buf, size_t reason_len,
    struct rec_audit_event *out);
/*
 * The alert as alerts.notify's command reads it: one line of JSON ending in
 * "\n" (time, rule, action, severity, engineer, tenant, target, source,
 * session, evidence; names absent from ev are null), at time now. Returns
 * its length, or 0 when buf (2048 bytes is always enough) is too small.
 */
size_t gw_detect_notify_json(const struct gw_detect_event *ev,
    const struct gw_detect_hit *hit, time_t now, char *buf, size_t len);
/*
 * The fixed-format syslog line for one hit, every field bounded and
 * escaped; log it at hit->severity with LOG_AUTHPRIV:
 * "alert: rule=fanout action=deny severity=alert engineer=alice
 *  tenant=initech target=db01 source=198.51.100.7 session=- evidence="...""
 */
void gw_detect_syslog_line(const struct gw_detect_event *ev,
    const struct gw_detect_hit *hit, char *buf, size_t len);

#endif
