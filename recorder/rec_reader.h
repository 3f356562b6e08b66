/* SPDX-License-Identifier: BSD-2-Clause */
/* Reading recordings event by event, and verifying their chain and checkpoints. */
#ifndef REC_READER_H
#define REC_READER_H

#include <stddef.h>
#include <stdint.h>

#include "rec_key.h"

/* Longest line accepted; the writer never writes one longer than ~100 KiB. */
#define REC_LINE_MAX (1024 * 1024)

/* The header, decoded. Strings are owned by the reader; missing ones are NULL. */
struct rec_header {
	int width, height;
	long long timestamp;	/* start, seconds since the epoch */
	const char *term, *title;
	int mspgate;		/* 1 when the mspgate object is present */
	const char *session, *file, *nonce, *key;
	const char *start, *engineer, *tenant, *target, *login, *mfa, *source,
	    *ticket, *command;
	const char *const *meta;	/* NULL-terminated "key=value" list */
	const char *raw;	/* the header line as written (no newline) */
	size_t rawlen;
};

/* One event. Pointers stay valid until the next rec_reader_next(). */
struct rec_event {
	uint64_t line;		/* 1-based line number in the file */
	uint64_t offset;	/* byte offset of the line */
	double t;		/* seconds since the start */
	char code;		/* 'o' 'i' 'r' 'm' 'c' 'x', or '?' for other codes */
	char stream;		/* 'o' or 'i' for o, i and x events; else 0 */
	const uint8_t *data;	/* o/i/x: the bytes (x decoded); m/c/r: the string */
	size_t len;
	int cols, rows;		/* r events */
	const char *raw;	/* the whole line as written (no newline) */
	size_t rawlen;
};

struct rec_reader;

/* Opens a file (or the bytes buf[0..len), which must outlive the reader). */
int rec_reader_open(const char *path, struct rec_reader **out, char *err, size_t errlen);
int rec_reader_open_mem(const void *buf, size_t len, struct rec_reader **out,
    char *err, size_t errlen);
void rec_reader_free(struct rec_reader *r);
/* The header, parsed by open; NULL when the first line is not a valid header. */
const struct rec_header *rec_reader_header(const struct rec_reader *r);
/*
 * Reads the next event: 1 and *ev, 0 at a clean end of file, or an error
 * (MG_ERR_PARSE, MG_ERR_IO...) with rec_reader_errmsg() saying where:
 * "line 12 (byte 345): ...". After an error, next returns it again.
 */
int rec_reader_next(struct rec_reader *r, struct rec_event *ev);
const char *rec_reader_errmsg(const struct rec_reader *r);
/* 1 when the error was a last line without its newline (file cut short). */
int rec_reader_torn(const struct rec_reader *r);

enum rec_verify_status {
	REC_VERIFY_OK = 0,		/* complete, every line covered by the final seal */
	REC_VERIFY_INCOMPLETE = 1,	/* no final checkpoint: cut short; a prefix verified */
	REC_VERIFY_FAILED = 2,		/* changed, reordered, forged or unreadable */
};

struct rec_verify_result {
	enum rec_verify_status status;
	char msg[512];		/* what is wrong and where, or a summary when OK */
	uint64_t line;		/* where the problem was found (0: none) */
	uint64_t offset;	/* its byte offset */
	uint64_t verified_lines;	/* lines covered by the last good checkpoint */
	double verified_time;	/* the time of that checkpoint */
	uint64_t checkpoints;	/* good checkpoints */
	uint64_t total_lines;
	char session[136];
	char seal[72];		/* "sha256:..." of the complete recording */
};

/*
 * Verifies a recording against an auditor's public key: every line parses,
 * times never go back, every checkpoint's signature and chain hash match,
 * the last line is the final checkpoint, and the file is still named as
 * when it was written (name is the name to check, normally the path; NULL
 * skips this check). Returns 0 when the verification ran (the verdict is
 * in res->status) or an error when it could not (MG_ERR_NOENT...).
 */
int rec_verify_file(const char *path, const struct rec_key *pub,
    struct rec_verify_result *res);
int rec_verify_mem(const void *buf, size_t len, const char *name,
    const struct rec_key *pub, struct rec_verify_result *res);

/* Session id from a path: "dir/ID.cast" -> "ID" (into buf). */
void rec_path_session(const char *path, char *buf, size_t len);

#endif
