/* SPDX-License-Identifier: BSD-2-Clause */
/* Splitting a file or a buffer into lines with bounded memory (internal). */
#ifndef REC_LINES_H
#define REC_LINES_H

#include <stddef.h>
#include <stdint.h>

struct rec_lines {
	int fd;			/* -1 for memory */
	const char *mem;	/* memory source */
	size_t memlen;
	char *buf;		/* file source buffer */
	size_t cap, start, end;
	int eof;
	size_t max;		/* longest line */
	uint64_t lineno;	/* of the last line returned */
	uint64_t offset;	/* of the next line */
	char errmsg[200];
};

struct rec_line {
	const char *p;		/* not NUL-terminated; valid until the next call */
	size_t len;		/* without the newline */
	int newline;		/* 0 for a last line without newline */
	uint64_t lineno;
	uint64_t offset;
};

/* The reader owns fd and closes it in rec_lines_free(). */
void rec_lines_init_fd(struct rec_lines *l, int fd, size_t max);
void rec_lines_init_mem(struct rec_lines *l, const void *p, size_t len, size_t max);
/* 1 and a line, 0 at the end, or MG_ERR_TOOBIG / MG_ERR_IO / MG_ERR_NOMEM. */
int rec_lines_next(struct rec_lines *l, struct rec_line *ln);
const char *rec_lines_errmsg(const struct rec_lines *l);
void rec_lines_free(struct rec_lines *l);

#endif
