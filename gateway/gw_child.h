/* SPDX-License-Identifier: BSD-2-Clause */
/* The messages mspgated and its session processes exchange: the whole contract. */
#ifndef GW_CHILD_H
#define GW_CHILD_H

#include <stddef.h>
#include <stdint.h>

#include "gw_msg.h"
#include "pol.h"

/*
 * mspgated forks one session process per connection (gw_session.c) and
 * keeps the other end of an AF_UNIX SOCK_SEQPACKET socket pair to it. Both
 * ends speak the gw_msg framing (gw_msg.h: 'M' 'G' version type, then
 * TAG LENGTH VALUE fields, one message a packet), with the types and tags
 * below; gw_child.c holds the one table of which fields each type has.
 *
 * Fields. Strings hold no NUL and no control byte (below 0x20, or 0x7f):
 * a sender cleans what it did not make itself (gw_child_copy), a receiver
 * refuses the message. Lengths are in bytes, without a terminator. Numbers
 * are big-endian and fixed-size: a time is 8 bytes, seconds since the
 * epoch, 0 for "none", never negative; a count is 8 bytes unsigned; a
 * small enumeration is 1 byte, checked against its range. Every field
 * appears at most once; fields marked (required) must be there, and
 * required names are not empty; an optional string left out reads as "".
 *
 * Refused as a whole (MG_ERR_PARSE), never half-read: wrong magic or
 * version, a type of the other direction or of the shell's protocol, an
 * unknown tag or one the type does not have, a repeated or missing field,
 * a string too long or with a control byte, a number of the wrong size
 * or out of range, a packet longer than GW_CHILD_MAX.
 *
 * Session process -> mspgated (reports; the session's row in the live
 * table and the detector's events, gw_detect.h):
 *
 * GW_CHILD_ATTEMPT  the policy decided (allowed or not), before anything
 *     else happens. ENGINEER, TENANT, TARGET (required), SOURCE,
 *     OUTCOME (required, GW_CHILD_ALLOWED or a refusal). Sent blocking;
 *     the session then waits VERDICT_TIMEOUT (5 s) for GW_CHILD_VERDICT.
 *     mspgated judges it at once (GW_DETECT_ATTEMPT) and answers VERDICT.
 *     No answer, or anything else in its place, refuses the session.
 *     One per session process, before its START: another (it would be
 *     judged again) is refused as a malformed report is, and the session
 *     is ended.
 * GW_CHILD_START  the session is open and relaying. ID, ENGINEER, TENANT,
 *     TARGET, LOGIN, KIND (required), START, END_BY, WINDOW_CLOSE, MFA
 *     (required), SOURCE. mspgated fills the session's row (mspgatectl
 *     list, kill, reloads) and sends GW_DETECT_START once.
 *     Sent once, after the ATTEMPT; a second START (it would rewrite who
 *     the session is) is refused as a malformed report is: the session
 *     is ended.
 * GW_CHILD_USAGE  the relay's counters changed. BYTES_IN, BYTES_OUT,
 *     LAST (last activity), END_BY (required). mspgated updates the row
 *     and, when BYTES_OUT grew, sends GW_DETECT_BYTES.
 * GW_CHILD_COMMAND  an exec session's command. TEXT (required, at most
 *     GW_CHILD_COMMAND_MAX, may be empty; cut there by the sender). For
 *     sensitive_commands: GW_DETECT_COMMAND, ignored before START.
 * GW_CHILD_INPUT  a line typed on a pty session. TEXT (required, at most
 *     GW_CHILD_INPUT_MAX). GW_DETECT_INPUT, ignored before START.
 * GW_CHILD_WAITING  the session waits for approval (a grant with
 *     approval = "required"), before it connects to the target. The
 *     fields of a START; START is when it began to wait, END_BY when
 *     the wait runs out. mspgated keeps the row as waiting (mspgatectl
 *     list, approve, deny, kill); no detector event. At most one, before
 *     START; another is refused as a malformed report is.
 * GW_CHILD_REFUSED  the session refused its engineer. AUDITED (required:
 *     1 written to the audit log, 0 syslog only, over the rate limit).
 *     mspgated counts it against the account (gw_ratelim).
 * All but ATTEMPT and COMMAND are sent without waiting: a report lost to
 * a full socket costs a table row or a detector event, never the relay.
 *
 * mspgated -> session process (all sent without waiting; one that cannot
 * be sent is replaced by SIGTERM, which ends the session cleanly):
 *
 * GW_CHILD_VERDICT  the answer to ATTEMPT. ACTION, WORDS (required; the
 *     rule that decided, in the engineer's words, or "detector
 *     unavailable"). The session goes on (NONE, ALERT), asks for a fresh
 *     TOTP code (REAUTH) or refuses (DENY).
 * GW_CHILD_DENY  the detector ends the running session. WORDS (required).
 *     Also the answer to any malformed report: the session ends, and an
 *     ATTEMPT it was waiting on is refused.
 * GW_CHILD_REAUTH  the detector requires MFA again on the running session.
 *     WORDS (required). A pty session is held (nothing relayed) until a
 *     fresh TOTP code is typed (60 s); a wrong code, none, or no terminal
 *     ends it.
 * GW_CHILD_KILL  an operator ends the session (mspgatectl kill). WHO
 *     (required): the operator, for the audit log and the engineer.
 * GW_CHILD_REVOKE  a policy reload withdrew the grant. END_BY (required,
 *     not 0), WHY: the session ends by END_BY (with the usual warnings)
 *     unless it already ends sooner.
 * GW_CHILD_APPROVAL  an approver decided on a WAITING session (mspgatectl
 *     approve or deny). APPROVED (required, 1 or 0), WHO (required: the
 *     approver's account and uid), START (required: when), WHY (the
 *     approver's comment). mspgated checked that WHO is one of the
 *     tenant's approvers and not the engineer; the session audits it,
 *     goes on (the approval in its recording's header) or is refused.
 *     Only while the session waits; at any other point it is unexpected.
 * A session process that receives a malformed message, or one it does not
 * expect at that point, ends the session (fail closed) and says so.
 */

#define GW_CHILD_MAX		(32768 + 1024)	/* one packet, in bytes */

#define GW_CHILD_ID_MAX		63	/* a session id */
#define GW_CHILD_NAME_MAX	64	/* engineer, tenant, target, login */
#define GW_CHILD_SOURCE_MAX	63	/* the engineer's address */
#define GW_CHILD_COMMAND_MAX	32768	/* an exec command */
#define GW_CHILD_INPUT_MAX	512	/* one typed line */
#define GW_CHILD_WORDS_MAX	127	/* a detector rule, in words */
#define GW_CHILD_WHO_MAX	159	/* the operator who ended a session */
#define GW_CHILD_WHY_MAX	255	/* why a reload withdrew the grant */

/*
 * The MFA methods of a START: POL_MFA_* bits, nothing else (every factor
 * the policy knows, so a new one is not dropped on the way).
 */
#define GW_CHILD_MFA_MASK	POL_MFA_ALL

/* Types: from the session process 16..31, from mspgated 32..47. */
enum gw_child_type {
	GW_CHILD_ATTEMPT = 16,
	GW_CHILD_START = 17,
	GW_CHILD_USAGE = 18,
	GW_CHILD_COMMAND = 19,
	GW_CHILD_INPUT = 20,
	GW_CHILD_REFUSED = 21,
	GW_CHILD_WAITING = 22,
	GW_CHILD_VERDICT = 32,
	GW_CHILD_DENY = 33,
	GW_CHILD_REAUTH = 34,
	GW_CHILD_KILL = 35,
	GW_CHILD_REVOKE = 36,
	GW_CHILD_APPROVAL = 37,
};

/* Who sends a type (the receiver says which it accepts). */
enum gw_child_from {
	GW_CHILD_FROM_SESSION = 1,
	GW_CHILD_FROM_DAEMON = 2,
};

enum gw_child_tag {
	GW_CT_ID = 32,		/* string, GW_CHILD_ID_MAX */
	GW_CT_ENGINEER = 33,	/* string, GW_CHILD_NAME_MAX */
	GW_CT_TENANT = 34,	/* string, GW_CHILD_NAME_MAX */
	GW_CT_TARGET = 35,	/* string, GW_CHILD_NAME_MAX */
	GW_CT_LOGIN = 36,	/* string, GW_CHILD_NAME_MAX */
	GW_CT_SOURCE = 37,	/* string, GW_CHILD_SOURCE_MAX */
	GW_CT_KIND = 38,	/* u8, enum gw_child_kind */
	GW_CT_START = 39,	/* time */
	GW_CT_END_BY = 40,	/* time */
	GW_CT_WINDOW_CLOSE = 41,	/* time */
	GW_CT_MFA = 42,		/* u8, GW_CHILD_MFA_MASK bits */
	GW_CT_BYTES_IN = 43,	/* u64 */
	GW_CT_BYTES_OUT = 44,	/* u64 */
	GW_CT_LAST = 45,	/* time */
	GW_CT_OUTCOME = 46,	/* u8, enum gw_child_outcome */
	GW_CT_TEXT = 47,	/* string, GW_CHILD_COMMAND_MAX or GW_CHILD_INPUT_MAX */
	GW_CT_AUDITED = 48,	/* u8, 0 or 1 */
	GW_CT_ACTION = 49,	/* u8, enum gw_child_action */
	GW_CT_WORDS = 50,	/* string, GW_CHILD_WORDS_MAX */
	GW_CT_WHO = 51,		/* string, GW_CHILD_WHO_MAX */
	GW_CT_WHY = 52,		/* string, GW_CHILD_WHY_MAX */
	GW_CT_APPROVED = 53,	/* u8, 0 or 1 */
};

/* What a session relays (mspgatectl list shows its name). */
enum gw_child_kind {
	GW_CHILD_SHELL = 0,
	GW_CHILD_EXEC = 1,
	GW_CHILD_SCP = 2,
	GW_CHILD_SFTP = 3,
};

/* The policy's answer an ATTEMPT reports. */
enum gw_child_outcome {
	GW_CHILD_ALLOWED = 0,
	GW_CHILD_REFUSED_WINDOW = 1,	/* refused: outside the access window */
	GW_CHILD_REFUSED_OTHER = 2,	/* refused for any other reason */
};

/* A VERDICT's action: the detector's (gw_detect.h), in wire values. */
enum gw_child_action {
	GW_CHILD_ACT_NONE = 0,
	GW_CHILD_ACT_ALERT = 1,
	GW_CHILD_ACT_REAUTH = 2,
	GW_CHILD_ACT_DENY = 3,
};

struct gw_child_attempt {
	char engineer[GW_CHILD_NAME_MAX + 1];
	char tenant[GW_CHILD_NAME_MAX + 1];
	char target[GW_CHILD_NAME_MAX + 1];
	char source[GW_CHILD_SOURCE_MAX + 1];	/* "": unknown */
	unsigned outcome;			/* enum gw_child_outcome */
};

struct gw_child_start {
	char id[GW_CHILD_ID_MAX + 1];
	char engineer[GW_CHILD_NAME_MAX + 1];
	char tenant[GW_CHILD_NAME_MAX + 1];
	char target[GW_CHILD_NAME_MAX + 1];
	char login[GW_CHILD_NAME_MAX + 1];
	char source[GW_CHILD_SOURCE_MAX + 1];	/* "": unknown */
	unsigned kind;				/* enum gw_child_kind */
	int64_t start, end_by, window_close;	/* end_by, window_close 0: none */
	unsigned mfa;				/* POL_MFA_* */
};

struct gw_child_usage {
	uint64_t bytes_in, bytes_out;
	int64_t last, end_by;
};

/* COMMAND and INPUT. */
struct gw_child_text {
	size_t len;
	char text[GW_CHILD_COMMAND_MAX + 1];	/* NUL-terminated too */
};

struct gw_child_refused {
	unsigned audited;
};

/* VERDICT (action and words), DENY and REAUTH (words only). */
struct gw_child_verdict {
	unsigned action;			/* enum gw_child_action */
	char words[GW_CHILD_WORDS_MAX + 1];
};

struct gw_child_kill {
	char who[GW_CHILD_WHO_MAX + 1];
};

struct gw_child_revoke {
	int64_t end_by;
	char why[GW_CHILD_WHY_MAX + 1];
};

struct gw_child_approval {
	unsigned approved;			/* 1 approved, 0 denied */
	int64_t at;
	char who[GW_CHILD_WHO_MAX + 1];
	char comment[GW_CHILD_WHY_MAX + 1];	/* "": none */
};

/*
 * One message. Fixed-size, nothing allocated: nothing to free. Fill it
 * zeroed (memset), set type and the member of u that type uses.
 */
struct gw_child_msg {
	int type;				/* enum gw_child_type */
	union {
		struct gw_child_attempt attempt;	/* ATTEMPT */
		struct gw_child_start start;		/* START, WAITING */
		struct gw_child_usage usage;		/* USAGE */
		struct gw_child_text text;		/* COMMAND, INPUT */
		struct gw_child_refused refused;	/* REFUSED */
		struct gw_child_verdict verdict;	/* VERDICT, DENY, REAUTH */
		struct gw_child_kill kill;		/* KILL */
		struct gw_child_revoke revoke;		/* REVOKE */
		struct gw_child_approval approval;	/* APPROVAL */
	} u;
};

/*
 * Encodes m into buf (cap bytes). Returns 0 and *len; MG_ERR_INVAL (an
 * unknown type, a string unterminated or with a control byte, a number out
 * of range, a required name empty) or MG_ERR_TOOBIG (does not fit).
 */
int gw_child_encode(const struct gw_child_msg *m, uint8_t *buf, size_t cap, size_t *len);
/*
 * Decodes one packet into *m (zeroed first, and again on error). Returns
 * 0 or MG_ERR_PARSE. Either direction's types: see gw_child_from().
 */
int gw_child_decode(const uint8_t *buf, size_t len, struct gw_child_msg *m);
/* Who sends type: GW_CHILD_FROM_SESSION, GW_CHILD_FROM_DAEMON, or 0 (none). */
int gw_child_from(int type);

/*
 * Sends m as one packet (flags: 0 or MSG_DONTWAIT; never SIGPIPE).
 * Returns 0, an encode error, or MG_ERR_SYSTEM (errno kept: EAGAIN when
 * the socket is full under MSG_DONTWAIT, EPIPE when the peer is gone).
 */
int gw_child_send(int sock, const struct gw_child_msg *m, int flags);
/*
 * Receives one packet and decodes it; a type that from does not send is
 * refused. Returns 0; MG_ERR_NOENT (the peer closed); MG_ERR_SYSTEM
 * (errno kept: EAGAIN when nothing waits under MSG_DONTWAIT); MG_ERR_PARSE
 * (the packet was malformed or too long; it is consumed). On any error
 * m->type is 0.
 */
int gw_child_recv(int sock, enum gw_child_from from, struct gw_child_msg *m, int flags);

/*
 * Copies src into dst (len bytes, at least 1) for a message: cut to fit,
 * control bytes shown as '?'. For names and words the sender did not
 * check itself (a peer's, a policy's).
 */
void gw_child_copy(char *dst, size_t len, const char *src);

/* "shell", "exec", "scp", "sftp"; "?" out of range. */
const char *gw_child_kind_name(unsigned kind);
/* "attempt", "start", ..., "revoke"; "unknown" for any other type. */
const char *gw_child_type_name(int type);

#endif
