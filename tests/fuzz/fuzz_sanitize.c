/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz target: the replay filter, the display escapers and text rendering hold their promises on any bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rec_buf.h"
#include "rec_json.h"
#include "rec_sanitize.h"
#include "rec_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
filter(enum rec_san_mode mode, const uint8_t *p, size_t n, size_t chunk, struct rec_buf *out)
{
	struct rec_san *s = NULL;
	size_t i;

	if (rec_san_new(mode, &s) != 0)
		abort();
	for (i = 0; i < n; i += chunk)
		if (rec_san_feed(s, p + i, n - i < chunk ? n - i : chunk, out) != 0)
			abort();
	if (rec_san_flush(s, out) != 0 || rec_san_pending(s))
		abort();
	rec_san_free(s);
}

/*
 * An independent reading of what play may write: valid UTF-8, no C1 control,
 * no C0 but BEL..SI, and every ESC starts a complete sequence that is not a
 * string, a query, a report or a mode change that makes the terminal send.
 */
static void
check_safe(const uint8_t *p, size_t n)
{
	size_t i = 0;

	if (rec_utf8_valid_len(p, n) != n)
		abort();
	while (i < n) {
		uint8_t c = p[i];

		if (c == 0xc2 && i + 1 < n && p[i + 1] < 0xa0)
			abort();	/* a C1 control */
		if (c < 0x20 && c != 0x1b && (c < 0x07 || c > 0x0f))
			abort();
		if (c != 0x1b) {
			i++;
			continue;
		}
		if (++i >= n)
			abort();	/* an unfinished sequence */
		c = p[i];
		if (strchr("]PX^_Z% ", c) != NULL)
			abort();
		if (c == '[') {
			size_t st = ++i;
			uint8_t f;

			while (i < n && p[i] >= 0x20 && p[i] <= 0x3f)
				i++;
			if (i >= n || p[i] < 0x40 || p[i] > 0x7e)
				abort();
			f = p[i];
			if (i > st && (p[st] == '>' || p[st] == '=' || p[st] == '<'))
				abort();
			if (strchr("cntxyiqpw", f) != NULL &&
			    !(f == 'q' && p[i - 1] == ' ') && !(f == 'p' && p[i - 1] == '!'))
				abort();
			/* mouse tracking and focus reports */
			if ((f == 'h' || f == 'l') && i - st >= 5 && p[st] == '?' &&
			    memcmp(p + st + 1, "100", 3) == 0)
				abort();
		} else {
			while (i < n && p[i] >= 0x20 && p[i] <= 0x2f)
				i++;
			if (i >= n || p[i] < 0x30 || p[i] > 0x7e)
				abort();
		}
		i++;
	}
}

/* Escaped for display: valid UTF-8, no control character at all. */
static void
check_shown(const uint8_t *p, size_t n, int tabs)
{
	size_t i;

	if (rec_utf8_valid_len(p, n) != n)
		abort();
	for (i = 0; i < n; i++) {
		if ((p[i] < 0x20 && !(tabs && p[i] == '\t')) || p[i] == 0x7f)
			abort();
		if (p[i] == 0xc2 && i + 1 < n && p[i + 1] < 0xa0)
			abort();
	}
}

static void
line(void *ctx, const char *l, size_t len, double t)
{
	(void)t;
	check_shown((const uint8_t *)l, len, *(int *)ctx);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec_buf whole = { 0 }, cut = { 0 }, again = { 0 }, in = { 0 }, shown = { 0 }, js = { 0 };
	struct rec_json j = { 0 };
	struct rec_text *tx = NULL;
	size_t chunk = size > 0 ? (size_t)data[0] % 7 + 1 : 1;
	char *cs;
	int mode, tabs;
	size_t i;

	/* The recorder's validator (which decides what goes into x events) agrees with this decoder. */
	for (i = 0; i < size;) {
		uint32_t cp;
		int partial;
		size_t k = rec_san_utf8(data + i, size - i, &cp, &partial);

		if (k == 0)
			break;
		i += k;
	}
	if (rec_utf8_valid_len(data, size) != i)
		abort();

	/* Whole or cut anywhere: the same output; it is safe; filtering it again changes nothing. */
	filter(REC_SAN_OUTPUT, data, size, size + 1, &whole);
	filter(REC_SAN_OUTPUT, data, size, chunk, &cut);
	if (whole.len != cut.len || (whole.len > 0 && memcmp(whole.p, cut.p, whole.len) != 0))
		abort();
	check_safe(whole.p, whole.len);
	filter(REC_SAN_OUTPUT, whole.p, whole.len, whole.len + 1, &again);
	if (again.len != whole.len || (whole.len > 0 && memcmp(whole.p, again.p, whole.len) != 0))
		abort();

	/* Keys: valid UTF-8, and no escape or C1 control is left. */
	filter(REC_SAN_INPUT, data, size, chunk, &in);
	if (rec_utf8_valid_len(in.p, in.len) != in.len ||
	    (in.len > 0 && memchr(in.p, 0x1b, in.len) != NULL))
		abort();
	for (i = 0; i + 1 < in.len; i++)
		if (in.p[i] == 0xc2 && in.p[i + 1] < 0xa0)
			abort();

	/* Header fields and markers as list, text and search show them. */
	if (rec_san_str(&shown, data, size) != 0)
		abort();
	check_shown(shown.p, shown.len, 0);
	if ((cs = malloc(size + 1)) == NULL)
		abort();
	memcpy(cs, data, size);
	cs[size] = '\0';
	if (rec_san_json(&js, cs) != 0 || rec_json_parse(&j, (const char *)js.p, js.len) != 0)
		abort();
	check_shown(js.p, js.len, 0);
	free(cs);

	/* text (what was shown) and search (what was typed): lines hold no control character. */
	for (mode = 0; mode < 2; mode++) {
		tabs = mode == 1;
		if (rec_text_new(mode ? REC_TEXT_INPUT : REC_TEXT_OUTPUT, line, &tabs, &tx) != 0)
			abort();
		rec_text_feed(tx, 0, data, size);
		rec_text_flush(tx);
		rec_text_free(tx);
	}

	rec_json_free(&j);
	rec_buf_free(&whole);
	rec_buf_free(&cut);
	rec_buf_free(&again);
	rec_buf_free(&in);
	rec_buf_free(&shown);
	rec_buf_free(&js);
	return 0;
}
