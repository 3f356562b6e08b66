/* SPDX-License-Identifier: BSD-2-Clause */
/* Writing one session recording: asciicast v2 with a hash chain and signed checkpoints. */
#ifndef REC_WRITER_H
#define REC_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "rec_key.h"

/* Pass as a timestamp to use the writer's own clock (monotonic, since open). */
#define REC_NOW ((int64_t)-1)

/* Largest raw payload of one event; longer writes become several events. */
#define REC_EVENT_MAX 16384

/*
 * What the header says about the session. Every string may be NULL (left
 * out) except session, which must match [A-Za-z0-9._:-]{1,128}. The writer
 * copies what it needs; the caller keeps ownership.
 */
struct rec_meta {
	const char *session;	/* session id; recordings are named SESSION.cast */
	const char *engineer;
	const char *tenant;
	const char *target;
	const char *login;
	const char *mfa;	/* MFA methods used, e.g. "fido+totp" */
	const char *source;	/* source address of the engineer */
	const char *ticket;
	const char *term;	/* TERM; env.TERM in the header */
	const char *shell;	/* env.SHELL, optional */
	const char *title;	/* asciicast title; default "tenant/target" */
	const char *command;	/* command recorded, optional */
	int cols, rows;		/* initial terminal size; 0: 80x24 */
	time_t start;		/* wall clock start; 0: mg_clock_now() */
	const char *const *extra;	/* NULL-terminated "key=value" list, or NULL */
};

struct rec_writer_opts {
	unsigned checkpoint_secs;	/* signed checkpoint at least this often; 0: 5 */
	unsigned checkpoint_events;	/* ...or after this many events; 0: 1000 */
	unsigned flush_ms;		/* write buffered events this often; 0: 1000 */
	const char *prompt_regex;	/* password prompt (POSIX ERE, case-insensitive);
					   NULL: REC_PROMPT_REGEX_DEFAULT, "": off */
	int record_passwords;		/* 1: do not mask input at prompts (not advised) */
	/*
	 * 1: hash and write in a thread of the writer's own, so a busy
	 * session's recording runs beside it on another core. The calls
	 * below still take each event into the writer's memory before they
	 * return (recorded before shown); what waits for the thread is
	 * bounded (REC_WRITER_BACKLOG): beyond it they block, and a write
	 * error in the thread is returned by the next call that reaches it.
	 */
	int async;
};

/*
 * Bytes of lines an async writer holds beyond what the sink has taken, at
 * most: the batch being filled, one queued and the one being written. A
 * batch is handed over at the first event that takes it past 128 KiB, and
 * an event line is under 24 KiB.
 */
#define REC_WRITER_BACKLOG	(3 * (128 + 24) * 1024)

#define REC_PROMPT_REGEX_DEFAULT \
	"(^|[^[:alpha:]])(password|passphrase|pass phrase|passcode|pin|" \
	"verification code|one-time code|otp|token code)[^\n]*[:?][[:space:]]*$"

/* What a closed recording ends with; the audit log keeps it as the seal. */
struct rec_seal {
	char hash[72];		/* "sha256:" + hex chain hash after the final checkpoint */
	uint64_t lines;		/* lines in the file */
	uint64_t bytes_in;	/* input bytes recorded or hidden */
	uint64_t bytes_out;	/* output bytes */
	double duration;	/* seconds */
};

struct rec_writer;

/*
 * Creates path (which must not exist; mode 0640, O_NOFOLLOW) and writes the
 * header. key must be a private key; the writer keeps a pointer to it, so
 * it must outlive the writer. opts may be NULL. err gets a message.
 * Returns 0, MG_ERR_EXISTS, MG_ERR_INVAL (bad session id), MG_ERR_IO,
 * MG_ERR_SYSTEM, MG_ERR_NOMEM.
 */
int rec_writer_open(const char *path, const struct rec_meta *meta,
    const struct rec_key *key, const struct rec_writer_opts *opts,
    struct rec_writer **out, char *err, size_t errlen);

/*
 * Where a recording's lines go (the seam between the recorder's event
 * logic and its storage, as tlog's json_writer): the file, or memory for
 * tests. init makes *state for name (the file name in the header) and
 * arg; write takes a batch of complete lines (0, or MG_ERR_IO /
 * MG_ERR_SYSTEM: the recording stops); close makes the recording durable
 * once complete; free releases state, discarding what was written when
 * the recording never started.
 */
struct rec_sink_type {
	int (*init)(void **state, const char *name, void *arg, char *err, size_t errlen);
	int (*write)(void *state, const void *p, size_t len);
	int (*close)(void *state);
	void (*free)(void *state, int discard);
};
/* The file at name, created new (mode 0640; arg unused): what rec_writer_open uses. */
extern const struct rec_sink_type rec_sink_file;
/* Memory: arg is a struct rec_buf * (rec_buf.h) the lines are appended to; the caller frees it. */
extern const struct rec_sink_type rec_sink_mem;

/* As rec_writer_open, into the sink given. */
int rec_writer_open_sink(const struct rec_sink_type *sink, const char *name, void *arg,
    const struct rec_meta *m, const struct rec_key *key, const struct rec_writer_opts *o,
    struct rec_writer **out, char *err, size_t errlen);

/*
 * Append events. t_us is microseconds since the start (REC_NOW: now); times
 * that go backwards are clamped. Each returns 0 or the error that stops the
 * recording (MG_ERR_IO on a full disk or I/O error, ...); after an error
 * every call returns it again, so the caller can end the session.
 */
int rec_writer_output(struct rec_writer *w, int64_t t_us, const void *buf, size_t len);
int rec_writer_input(struct rec_writer *w, int64_t t_us, const void *buf, size_t len);
int rec_writer_resize(struct rec_writer *w, int64_t t_us, int cols, int rows);
/* A marker ("m") for policy events: MFA, window warning, termination. */
int rec_writer_marker(struct rec_writer *w, int64_t t_us, const char *label);
/*
 * Tells the writer whether the local terminal echoes input (from
 * tcgetattr): echo off in canonical mode means a password is being read,
 * so input is hidden until echo returns. Pass echo=1 if unknown.
 */
int rec_writer_set_echo(struct rec_writer *w, int64_t t_us, int echo_on, int canonical);
/*
 * Call from the relay loop at least once a second (e.g. on poll timeout):
 * writes buffered events and a checkpoint when due.
 */
int rec_writer_tick(struct rec_writer *w);
/* Microseconds since open on the writer's monotonic clock. */
int64_t rec_writer_now(const struct rec_writer *w);
/* The writer's first error, or 0. */
int rec_writer_error(const struct rec_writer *w);

/*
 * Ends the recording: pending carry bytes, a final signed checkpoint,
 * write, fsync of the file and its directory. seal may be NULL. The
 * writer must still be freed.
 */
int rec_writer_close(struct rec_writer *w, struct rec_seal *seal);
/* Frees; a writer not closed is left without a final checkpoint. NULL ok. */
void rec_writer_free(struct rec_writer *w);

/* 1 if s is a valid session id. */
int rec_session_id_valid(const char *s);

#endif
