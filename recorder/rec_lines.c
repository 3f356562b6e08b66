/* SPDX-License-Identifier: BSD-2-Clause */
/* Splitting a file or a buffer into lines with bounded memory (internal). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mg_err.h"
#include "rec_lines.h"

#define CHUNK (256 * 1024)

void
rec_lines_init_fd(struct rec_lines *l, int fd, size_t max)
{
	memset(l, 0, sizeof(*l));
	l->fd = fd;
	l->max = max;
}

void
rec_lines_init_mem(struct rec_lines *l, const void *p, size_t len, size_t max)
{
	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->mem = p;
	l->memlen = len;
	l->max = max;
}

void
rec_lines_free(struct rec_lines *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	free(l->buf);
	l->buf = NULL;
}

const char *
rec_lines_errmsg(const struct rec_lines *l)
{
	return l->errmsg;
}

static int
too_long(struct rec_lines *l)
{
	snprintf(l->errmsg, sizeof(l->errmsg), "line %" PRIu64 " (byte %" PRIu64
	    "): line longer than %zu bytes", l->lineno + 1, l->offset, l->max);
	return MG_ERR_TOOBIG;
}

static void
emit(struct rec_lines *l, struct rec_line *ln, const char *p, size_t len, int nl)
{
	ln->p = p;
	ln->len = len;
	ln->newline = nl;
	ln->lineno = ++l->lineno;
	ln->offset = l->offset;
	l->offset += len + (nl ? 1 : 0);
}

int
rec_lines_next(struct rec_lines *l, struct rec_line *ln)
{
	if (l->fd < 0) {
		size_t pos = (size_t)l->offset, n;
		const char *nl;

		if (pos >= l->memlen)
			return 0;
		n = l->memlen - pos;
		nl = memchr(l->mem + pos, '\n', n > l->max + 1 ? l->max + 1 : n);
		if (nl == NULL && n > l->max)
			return too_long(l);
		if (nl == NULL)
			emit(l, ln, l->mem + pos, n, 0);
		else
			emit(l, ln, l->mem + pos, (size_t)(nl - (l->mem + pos)), 1);
		return 1;
	}
	for (;;) {
		char *nl = l->buf == NULL ? NULL :
		    memchr(l->buf + l->start, '\n', l->end - l->start);
		ssize_t got;

		if (nl != NULL) {
			size_t len = (size_t)(nl - (l->buf + l->start));

			if (len > l->max)
				return too_long(l);
			emit(l, ln, l->buf + l->start, len, 1);
			l->start += len + 1;
			return 1;
		}
		if (l->end - l->start > l->max)
			return too_long(l);
		if (l->eof) {
			if (l->end == l->start)
				return 0;
			emit(l, ln, l->buf + l->start, l->end - l->start, 0);
			l->start = l->end;
			return 1;
		}
		/* Make room: move the partial line to the front, grow if full. */
		if (l->start > 0) {
			memmove(l->buf, l->buf + l->start, l->end - l->start);
			l->end -= l->start;
			l->start = 0;
		}
		if (l->cap - l->end < CHUNK / 2) {
			size_t cap = l->cap ? l->cap * 2 : CHUNK;
			char *nb = realloc(l->buf, cap);

			if (nb == NULL)
				return MG_ERR_NOMEM;
			l->buf = nb;
			l->cap = cap;
		}
		got = read(l->fd, l->buf + l->end, l->cap - l->end);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			snprintf(l->errmsg, sizeof(l->errmsg), "byte %" PRIu64 ": read error: %s",
			    l->offset, strerror(errno));
			return MG_ERR_IO;
		}
		if (got == 0)
			l->eof = 1;
		l->end += (size_t)got;
	}
}
