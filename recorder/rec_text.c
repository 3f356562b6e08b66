/* SPDX-License-Identifier: BSD-2-Clause */
/* Turning terminal byte streams into plain text lines (for text, search and diff). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_err.h"
#include "rec_sanitize.h"
#include "rec_text.h"

enum { ST_NORMAL, ST_ESC, ST_ESC_INTER, ST_CSI, ST_STRING, ST_STRING_ESC, ST_STRING_C2 };

struct cell {
	uint8_t len;
	uint8_t b[4];
};

struct rec_text {
	enum rec_text_mode mode;
	rec_text_line_fn *fn;
	void *ctx;
	struct cell *cells;
	size_t ncells;		/* cells in use (line length) */
	size_t col;		/* cursor */
	int have_line;		/* something was written since the last newline */
	double t_line;
	int st;
	unsigned params[4];
	int nparam;
	uint8_t u[4];		/* UTF-8 sequence being collected */
	size_t ulen, uneed;
	uint8_t ulo, uhi;	/* the range of its next byte (strict UTF-8) */
	size_t slen;		/* bytes of the OSC/DCS/... string being skipped */
	char *out;		/* line being emitted */
};

int
rec_text_new(enum rec_text_mode mode, rec_text_line_fn *fn, void *ctx, struct rec_text **out)
{
	struct rec_text *x;

	*out = NULL;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return MG_ERR_NOMEM;
	x->cells = calloc(REC_TEXT_WIDTH_MAX, sizeof(struct cell));
	x->out = malloc(REC_TEXT_WIDTH_MAX * 4 + 1);
	if (x->cells == NULL || x->out == NULL) {
		rec_text_free(x);
		return MG_ERR_NOMEM;
	}
	x->mode = mode;
	x->fn = fn;
	x->ctx = ctx;
	*out = x;
	return 0;
}

void
rec_text_free(struct rec_text *x)
{
	if (x == NULL)
		return;
	free(x->cells);
	free(x->out);
	free(x);
}

static void
emit(struct rec_text *x)
{
	size_t i, o = 0, n = x->ncells;

	/* Trailing blanks are noise for grep and diff. */
	while (n > 0 && x->cells[n - 1].len == 1 && x->cells[n - 1].b[0] == ' ')
		n--;
	for (i = 0; i < n; i++) {
		if (x->cells[i].len == 0) {
			x->out[o++] = ' ';
			continue;
		}
		memcpy(x->out + o, x->cells[i].b, x->cells[i].len);
		o += x->cells[i].len;
	}
	x->out[o] = '\0';
	x->fn(x->ctx, x->out, o, x->t_line);
	x->ncells = x->col = 0;
	x->have_line = 0;
}

void
rec_text_flush(struct rec_text *x)
{
	if (x->have_line && x->ncells > 0)
		emit(x);
	x->ncells = x->col = 0;
	x->have_line = 0;
}

static void
put_cell(struct rec_text *x, double t, const uint8_t *b, size_t len)
{
	if (!x->have_line) {
		x->have_line = 1;
		x->t_line = t;
	}
	if (x->col >= REC_TEXT_WIDTH_MAX)
		emit(x);	/* wrap very long lines */
	if (!x->have_line) {
		x->have_line = 1;
		x->t_line = t;
	}
	while (x->ncells < x->col)
		x->cells[x->ncells++].len = 0;
	x->cells[x->col].len = (uint8_t)len;
	memcpy(x->cells[x->col].b, b, len);
	x->col++;
	if (x->col > x->ncells)
		x->ncells = x->col;
}

/* A C1 control (U+0080..U+009F) is shown, as less(1) shows it, never emitted. */
static void
put_c1(struct rec_text *x, double t, uint8_t c)
{
	char e[9];
	int i;

	snprintf(e, sizeof(e), "<U+%04X>", c);
	for (i = 0; e[i] != '\0'; i++)
		put_cell(x, t, (const uint8_t *)e + i, 1);
}

static void
csi(struct rec_text *x, uint8_t fin)
{
	unsigned n = x->nparam > 0 && x->params[0] > 0 ? x->params[0] : 1;

	if (x->mode != REC_TEXT_OUTPUT)
		return;
	switch (fin) {
	case 'K':	/* erase in line */
		if (x->nparam == 0 || x->params[0] == 0)
			x->ncells = x->col < x->ncells ? x->col : x->ncells;
		else if (x->params[0] == 2)
			x->ncells = 0;
		break;
	case 'C':	/* forward */
		x->col = x->col + n < REC_TEXT_WIDTH_MAX ? x->col + n : REC_TEXT_WIDTH_MAX - 1;
		break;
	case 'D':	/* back */
		x->col = x->col > n ? x->col - n : 0;
		break;
	case 'G':	/* column */
		x->col = n - 1 < REC_TEXT_WIDTH_MAX ? n - 1 : REC_TEXT_WIDTH_MAX - 1;
		break;
	default:
		break;
	}
}

static void
control(struct rec_text *x, double t, uint8_t c)
{
	switch (c) {
	case '\n':
		if (x->mode == REC_TEXT_INPUT || x->have_line)
			emit(x);
		else if (x->mode == REC_TEXT_OUTPUT) {
			/* An empty line is still a line. */
			x->t_line = t;
			x->have_line = 1;
			emit(x);
		}
		break;
	case '\r':
		if (x->mode == REC_TEXT_INPUT) {
			if (x->have_line)
				emit(x);
		} else
			x->col = 0;
		break;
	case '\b':
		if (x->mode == REC_TEXT_OUTPUT) {
			if (x->col > 0)
				x->col--;
			break;
		}
		/* FALLTHROUGH */
	case 0x7f:
		if (x->mode == REC_TEXT_INPUT && x->col > 0) {
			memmove(&x->cells[x->col - 1], &x->cells[x->col],
			    (x->ncells - x->col) * sizeof(struct cell));
			x->col--;
			x->ncells--;
		}
		break;
	case 0x15:	/* ^U */
		if (x->mode == REC_TEXT_INPUT)
			x->ncells = x->col = 0;
		break;
	case 0x03:	/* ^C abandons a typed line */
		if (x->mode == REC_TEXT_INPUT && x->have_line) {
			put_cell(x, t, (const uint8_t *)"^C", 2);
			emit(x);
		}
		break;
	case '\t':
		if (x->mode == REC_TEXT_OUTPUT) {
			do
				put_cell(x, t, (const uint8_t *)" ", 1);
			while (x->col % 8 != 0 && x->col < REC_TEXT_WIDTH_MAX);
		} else
			put_cell(x, t, (const uint8_t *)"\t", 1);
		break;
	default:
		break;
	}
}

int
rec_text_feed(struct rec_text *x, double t, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t c = p[i];

		switch (x->st) {
		case ST_ESC:
			if (c == '[') {
				x->st = ST_CSI;
				x->nparam = 0;
				memset(x->params, 0, sizeof(x->params));
			} else if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_') {
				x->st = ST_STRING;
				x->slen = 0;
			}
			else if (c >= 0x20 && c <= 0x2f)
				x->st = ST_ESC_INTER;
			else
				x->st = ST_NORMAL;
			continue;
		case ST_ESC_INTER:
			if (c < 0x20 || c > 0x2f)
				x->st = ST_NORMAL;
			continue;
		case ST_CSI:
			if (c >= '0' && c <= '9') {
				if (x->nparam == 0)
					x->nparam = 1;
				if (x->nparam <= 4 && x->params[x->nparam - 1] < 100000)
					x->params[x->nparam - 1] = x->params[x->nparam - 1] * 10 +
					    (unsigned)(c - '0');
			} else if (c == ';') {
				if (x->nparam == 0)
					x->nparam = 1;
				x->nparam++;
			} else if (c >= 0x40 && c <= 0x7e) {
				csi(x, c);
				x->st = ST_NORMAL;
			} else if (c < 0x20 || c > 0x7e)
				x->st = ST_NORMAL;
			continue;
		case ST_STRING:
			/* Unterminated: what follows it is shown, not hidden. */
			if (++x->slen > REC_SAN_STRING_MAX) {
				x->st = ST_NORMAL;
				break;
			}
			if (c == 0x07)
				x->st = ST_NORMAL;
			else if (c == 0x1b)
				x->st = ST_STRING_ESC;
			else if (c == 0xc2)
				x->st = ST_STRING_C2;
			continue;
		case ST_STRING_C2:
			/* C2 9C, ST as UTF-8, ends it as on a terminal. */
			x->st = c == 0x9c ? ST_NORMAL : ST_STRING;
			if (c != 0x9c)
				i--;
			continue;
		case ST_STRING_ESC:
			/* ESC \ ends it; ESC and anything else ends it and starts anew. */
			x->st = c == '\\' ? ST_NORMAL : ST_ESC;
			if (c != '\\')
				i--;
			continue;
		default:
			break;
		}
		if (x->uneed > 0) {
			if (c >= x->ulo && c <= x->uhi) {
				x->u[x->ulen++] = c;
				x->ulo = 0x80;
				x->uhi = 0xbf;
				if (x->ulen < x->uneed)
					continue;
				if (x->u[0] == 0xc2 && x->u[1] < 0xa0)
					put_c1(x, t, x->u[1]);	/* a C1 control */
				else
					put_cell(x, t, x->u, x->ulen);
				x->uneed = x->ulen = 0;
				continue;
			}
			/* A broken sequence: show the replacement character. */
			put_cell(x, t, (const uint8_t *)"\xef\xbf\xbd", 3);
			x->uneed = x->ulen = 0;
		}
		if (c == 0x1b)
			x->st = ST_ESC;
		else if (c < 0x20 || c == 0x7f)
			control(x, t, c);
		else if (c < 0x80)
			put_cell(x, t, &c, 1);
		else if (c >= 0xc2 && c <= 0xf4) {
			x->u[0] = c;
			x->ulen = 1;
			x->uneed = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
			/* No overlongs, surrogates or code points above U+10FFFF. */
			x->ulo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
			x->uhi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
		} else
			put_cell(x, t, (const uint8_t *)"\xef\xbf\xbd", 3);
	}
	return 0;
}
