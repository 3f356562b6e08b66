/* SPDX-License-Identifier: BSD-2-Clause */
/* The audit log: signed, hash-chained JSON lines that several processes append to. */
#ifndef REC_AUDIT_H
#define REC_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "rec_key.h"
#include "rec_reader.h"

enum rec_audit_type {
	REC_AUDIT_AUTH_SUCCESS,		/* "auth_success" */
	REC_AUDIT_AUTH_FAILURE,		/* "auth_failure" */
	REC_AUDIT_LOCKOUT,		/* "lockout" */
	REC_AUDIT_SESSION_START,	/* "session_start" */
	REC_AUDIT_SESSION_END,		/* "session_end" (bytes, exit, duration, seal) */
	REC_AUDIT_DENIED,		/* "denied": an attempt refused by policy */
	REC_AUDIT_WINDOW_WARNING,	/* "window_warning": the window closes soon */
	REC_AUDIT_TERMINATED,		/* "terminated": a session ended by mspgate */
	REC_AUDIT_POLICY_RELOAD,	/* "policy_reload" */
	REC_AUDIT_ALERT,		/* "alert": e.g. Cloud Hopper fan-out */
	REC_AUDIT_FILE_TRANSFER,	/* "file_transfer": reason "put PATH", "get PATH"...,
					 * bytes_in (put) or bytes_out (get) with has_stats */
	REC_AUDIT_OPERATOR_KILL,	/* "operator_kill": reason names who asked */
	REC_AUDIT_APPROVAL,		/* "approval": result requested, approved, denied
					 * or refused (who asked may not); reason says who */
	REC_AUDIT_WATCH,		/* "watch": an operator watches a live session;
					 * result start or stop, reason names who */
	REC_AUDIT_SSH_CONFIG,		/* "ssh_config": an engineer's own Host blocks given */
	REC_AUDIT_CERT_ISSUED,		/* "cert_issued": mspgate-signer's; reason has the
					 * serial, key id and validity */
	REC_AUDIT_LOG_START,		/* "log_start": written by the library itself (last) */
	REC_AUDIT_NTYPES
};

/*
 * One event. Strings may be NULL (left out); they are bounded to 256 bytes
 * and stored as JSON (escaped) in the file and escaped again for syslog.
 */
struct rec_audit_event {
	enum rec_audit_type type;
	time_t time;		/* 0: mg_clock_now() */
	const char *session, *engineer, *tenant, *target, *login, *source;
	const char *result;	/* NULL: "success", "failure", "denied" or "info" by type */
	const char *reason;	/* why: "bad TOTP code", "outside window uk-business" */
	const char *rule;	/* the policy rule that decided */
	const char *ticket;
	/* session_end (and terminated): set has_stats. */
	int has_stats;
	uint64_t bytes_in, bytes_out;
	int64_t duration;	/* seconds */
	int has_exit;
	int exit_status;
	const char *recording;	/* recording file name */
	const char *seal;	/* struct rec_seal.hash of the recording */
	/*
	 * 1: written without its own data sync. For events nothing waits on
	 * (a PAM session opened or closed): the next event written with a
	 * sync (every other) makes it durable too, since a sync of the log
	 * covers all its data; a crash before that loses only such events
	 * at the end of the log, and the chain stays whole.
	 */
	int lazy;
};

struct rec_audit_opts {
	int no_syslog;		/* 1: do not send the syslog line */
	/* Called with each syslog line as well (tests, foreground daemons). */
	void (*log_fn)(int prio, const char *line, void *ctx);
	void *log_ctx;
	unsigned lock_timeout_ms;	/* waiting for other writers; 0: 10000 */
	const char *key_owner;	/* a user who may own the key besides root */
	/*
	 * A signing key the caller loaded (and checked) already, borrowed for
	 * the life of the handle; keyfile is then not read. NULL: load it.
	 */
	const struct rec_key *key;
};

struct rec_audit;
struct rec_key;

/*
 * Opens (creating with mode 0640 if needed) the log at path and loads the
 * signing key from keyfile (see rec_key_load_private). opts may be NULL.
 * Returns 0, MG_ERR_SYSTEM, MG_ERR_PERM, MG_ERR_PARSE (bad key)...
 */
int rec_audit_open(const char *path, const char *keyfile,
    const struct rec_audit_opts *opts, struct rec_audit **out, char *err, size_t errlen);
/*
 * Appends one event under an exclusive lock: reads the last line's hash,
 * writes the new line, fsyncs. A torn last line left by a crash is cut
 * off first (it was never acknowledged). Safe across processes and
 * threads holding separate handles. A new log (the path missing or
 * empty, e.g. after logrotate) starts with log_start, which links to the
 * log rotated away to PATH.1 (doc/FORMATS.md, "Rotation"); one that
 * cannot be read is named in prev_error, and the log goes on. Returns
 * 0, MG_ERR_IO (disk full: nothing was added), MG_ERR_BUSY (lock, also
 * PATH.1's, not obtained in time), MG_ERR_PARSE (the last line is
 * damaged: the chain cannot continue).
 */
int rec_audit_event(struct rec_audit *a, const struct rec_audit_event *ev);
/* The last error message (static storage in a). */
const char *rec_audit_errmsg(const struct rec_audit *a);
void rec_audit_close(struct rec_audit *a);

const char *rec_audit_type_name(enum rec_audit_type t);
/* Name to type; -1 when unknown. */
int rec_audit_type_parse(const char *name);

/*
 * Verifies an audit log: every line parses, the sequence numbers run 1, 2,
 * ... without gaps, each line's prev is the hash of the line before, each
 * hash matches its line and each signature is good. Returns 0 with the
 * verdict in res (REC_VERIFY_INCOMPLETE for a torn last line), or an
 * error when the file cannot be read.
 */
int rec_audit_verify_file(const char *path, const struct rec_key *pub,
    struct rec_verify_result *res);
int rec_audit_verify_mem(const void *buf, size_t len, const struct rec_key *pub,
    struct rec_verify_result *res);

/* How a log's log_start names the log before it (see doc/FORMATS.md). */
enum rec_audit_link {
	REC_AUDIT_LINK_NONE,	/* no link: the first log, or no predecessor was found */
	REC_AUDIT_LINK_PREV,	/* prev_log, prev_seq, prev_hash */
	REC_AUDIT_LINK_UNKNOWN,	/* a predecessor existed but could not be read: prev_error */
};

/* What verification learnt about one log, for checking the links between logs. */
struct rec_audit_info {
	const char *name;	/* set by the caller: the file's name in messages */
	int ok;			/* 1: verified (a torn last line allowed): last_* are good */
	int has_start;		/* 1: line 1 verified: log, start and the link are good */
	char log[33];		/* this log's id */
	time_t start;		/* ts of line 1 */
	enum rec_audit_link link;
	char prev_log[33];
	uint64_t prev_seq;
	uint8_t prev_hash[32];
	char prev_error[260];
	uint64_t last_seq;	/* the last verified line */
	uint8_t last_hash[32];
	/* Set by rec_audit_chain(). */
	int problem;		/* 1: this file's place in the chain is wrong */
	char chain_msg[700];	/* what is wrong, or a note ("" when nothing to say) */
};

/* As rec_audit_verify_file/_mem, also filling info (name is kept). */
int rec_audit_verify_file_info(const char *path, const struct rec_key *pub,
    struct rec_verify_result *res, struct rec_audit_info *info);
int rec_audit_verify_mem_info(const void *buf, size_t len, const struct rec_key *pub,
    struct rec_verify_result *res, struct rec_audit_info *info);

/*
 * Orders n verified logs by their links and checks every link: each
 * successor names its predecessor's log id, last seq and last hash; one
 * successor per log; no gap (a log whose predecessor is not among those
 * given, other than the first); no second chain start. order (n entries)
 * gets the indexes of the files that are in the chain, first first, and
 * *norder their count. Returns the number of files with a problem (each
 * says what in chain_msg, which may also hold a note, such as the first
 * log's link to a log not given), or MG_ERR_NOMEM.
 */
int rec_audit_chain(struct rec_audit_info *v, size_t n, size_t *order, size_t *norder);

/*
 * Reading a log's lines as events (the format's reader: other modules
 * use this, not string searches). It checks the shape of each line, not
 * its hash or signature: verify the log first (rec_audit_verify_*) and
 * read only the lines that verified. Strings point into the reader and
 * stay valid until the next call; absent members are NULL.
 */
struct rec_audit_line {
	uint64_t lineno, offset;	/* 1-based line, byte offset */
	uint64_t seq;
	const char *event;	/* the event name as written */
	int type;		/* enum rec_audit_type, -1 when unknown */
	int64_t ts;
	const char *time;	/* the time as written, e.g. "2026-01-02T03:04:05Z" */
	const char *log;	/* log_start: the log id */
	const char *prev_log, *prev_hash;	/* log_start: the link to the log before */
	uint64_t prev_seq;	/* (0 when none) */
	const char *session, *engineer, *tenant, *target, *login, *source, *ticket;
	const char *result, *reason, *rule;
	const char *recording, *seal;
	const char *hash;	/* 64 hex digits */
	const char *sig;	/* base64 */
	const char *raw;	/* the line as written, without the newline */
	size_t rawlen;
};

struct rec_audit_reader;

int rec_audit_reader_open(const char *path, struct rec_audit_reader **out, char *err,
    size_t errlen);
/* buf must outlive the reader. */
int rec_audit_reader_open_mem(const void *buf, size_t len, struct rec_audit_reader **out);
/* 1 and a line, 0 at the end, or MG_ERR_PARSE / MG_ERR_IO... (errmsg says where). */
int rec_audit_reader_next(struct rec_audit_reader *r, struct rec_audit_line *out);
const char *rec_audit_reader_errmsg(const struct rec_audit_reader *r);
void rec_audit_reader_free(struct rec_audit_reader *r);

/*
 * One line on its own (no newline), as an excerpt of a log: its hash
 * matches its bytes and its signature is good. hash and prev get the
 * line's hash and its prev member. 0, MG_ERR_PARSE (not an audit line's
 * shape), MG_ERR_VERIFY (changed, or signed by another key).
 */
int rec_audit_line_check(const char *line, size_t len, const struct rec_key *pub,
    uint8_t hash[32], uint8_t prev[32]);
/* 0 when sig is the log's signature of the line hash (MG_ERR_VERIFY if not). */
int rec_audit_sig_check(const uint8_t hash[32], const uint8_t *sig, size_t siglen,
    const struct rec_key *pub);

#endif
