/* SPDX-License-Identifier: BSD-2-Clause */
/* Turning terminal byte streams into plain text lines (for text, search and diff). */
#ifndef REC_TEXT_H
#define REC_TEXT_H

#include <stddef.h>
#include <stdint.h>

#define REC_TEXT_WIDTH_MAX 4096	/* longer lines are wrapped */

enum rec_text_mode {
	REC_TEXT_OUTPUT,	/* what the terminal showed: \r returns, escapes dropped */
	REC_TEXT_INPUT,		/* what was typed: DEL/^H erase, ^U kills, Enter ends a line */
};

/* Called once per finished line: UTF-8 text without newline, and the time it began. */
typedef void rec_text_line_fn(void *ctx, const char *line, size_t len, double t);

struct rec_text;

int rec_text_new(enum rec_text_mode mode, rec_text_line_fn *fn, void *ctx,
    struct rec_text **out);
/* Feeds bytes seen at time t. Returns 0 or MG_ERR_NOMEM. */
int rec_text_feed(struct rec_text *x, double t, const uint8_t *p, size_t n);
/* Emits a pending unfinished line, if any. */
void rec_text_flush(struct rec_text *x);
void rec_text_free(struct rec_text *x);

#endif
