/* SPDX-License-Identifier: BSD-2-Clause */
/* JSON escaping and UTF-8 validation of event data: the fast paths against a plain reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mg_err.h"
#include "rec_buf.h"
#include "rec_writer.h"
#include "test_recorder_util.h"

int main(void);

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* Reference: one complete, valid UTF-8 sequence at s (RFC 3629), or 0. */
static size_t
ref_seq(const uint8_t *s, size_t n)
{
	uint32_t cp;
	size_t need, i;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		need = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((need == 2 && cp < 0x80) || (need == 3 && cp < 0x800) ||
	    (need == 4 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

static size_t
ref_valid_len(const uint8_t *s, size_t n)
{
	size_t i = 0, k;

	while (i < n && (k = ref_seq(s + i, n - i)) != 0)
		i += k;
	return i;
}

/* Reference: the escaping documented in doc/FORMATS.md, a byte at a time. */
static void
ref_json(struct rec_buf *b, const uint8_t *s, size_t n)
{
	size_t i;

	rec_buf_addc(b, '"');
	for (i = 0; i < n; i++) {
		uint8_t c = s[i];

		if (c == '"')
			rec_buf_adds(b, "\\\"");
		else if (c == '\\')
			rec_buf_adds(b, "\\\\");
		else if (c == '\n')
			rec_buf_adds(b, "\\n");
		else if (c == '\r')
			rec_buf_adds(b, "\\r");
		else if (c == '\t')
			rec_buf_adds(b, "\\t");
		else if (c == '\b')
			rec_buf_adds(b, "\\b");
		else if (c == '\f')
			rec_buf_adds(b, "\\f");
		else if (c < 0x20 || c == 0x7f)
			rec_buf_addf(b, "\\u%04x", c);
		else
			rec_buf_addc(b, c);
	}
	rec_buf_addc(b, '"');
}

/* Both escapers and the validator agree with the reference on s[0..n). */
static void
check_level(const uint8_t *s, size_t n)
{
	struct rec_buf want = { 0 }, got = { 0 }, got2 = { 0 };
	size_t v = ref_valid_len(s, n), used = 99;

	assert_int_equal(rec_utf8_valid_len(s, n), v);
	ref_json(&want, s, v);
	assert_int_equal(rec_buf_json_utf8(&got, s, n, &used), 0);
	assert_int_equal(used, v);
	if (v == 0) {
		assert_int_equal(got.len, 0);
	} else {
		assert_int_equal(got.len, want.len);
		assert_memory_equal(got.p, want.p, want.len);
	}
	assert_int_equal(rec_buf_json_str(&got2, s, v), 0);
	assert_int_equal(got2.len, want.len);
	assert_memory_equal(got2.p, want.p, want.len);
	rec_buf_free(&want);
	rec_buf_free(&got);
	rec_buf_free(&got2);
}

/* The same on each vector path the CPU has (AVX2, SSE2), and plain C. */
static void
check_one(const uint8_t *s, size_t n)
{
	int lv;

	for (lv = 2; lv >= 0; lv--) {
		rec_buf_simd_limit(lv);
		check_level(s, n);
	}
	rec_buf_simd_limit(2);
}

/* Every byte value, alone and at every offset of a plain run (every block size). */
static void
test_each_byte(void **state)
{
	uint8_t s[80];
	size_t c, at, len;

	(void)state;
	for (c = 0; c < 256; c++) {
		for (len = 1; len <= 79; len += 13) {
			for (at = 0; at < len; at++) {
				memset(s, 'a', len);
				s[at] = (uint8_t)c;
				check_one(s, len);
			}
		}
	}
}

/* Sequences that are valid, overlong, surrogates, too large or cut short. */
static void
test_utf8_table(void **state)
{
	static const struct { const char *s; size_t valid; } t[] = {
		{ "caf\xc3\xa9", 5 },
		{ "\xe2\x82\xac\xf0\x9f\x98\x80", 7 },		/* euro sign, emoji */
		{ "\xf4\x8f\xbf\xbf", 4 },			/* U+10FFFF */
		{ "\xf4\x90\x80\x80", 0 },			/* above U+10FFFF */
		{ "\xc0\xaf", 0 },				/* overlong */
		{ "\xe0\x80\xaf", 0 },				/* overlong */
		{ "\xed\xa0\x80", 0 },				/* surrogate */
		{ "ab\xe2\x82", 2 },				/* cut short */
		{ "\x80", 0 },					/* lone continuation */
		{ "0123456789abcdef\xff", 16 },
		{ "0123456789abcdefghijklmnopqrstu\xc3\xa9\xfe", 33 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t n = strlen(t[i].s);

		assert_int_equal(ref_valid_len((const uint8_t *)t[i].s, n), t[i].valid);
		check_one((const uint8_t *)t[i].s, n);
	}
}

/* Random mixes of plain text, escapes, multibyte and invalid bytes. */
static void
test_random(void **state)
{
	static const char *const pieces[] = {
		"plain text ", "\x1b[32m", "\r\n", "\"", "\\", "\x7f", "\t", "\xc3\xa9",
		"\xe2\x94\x80", "\xf0\x9f\x98\x80", "\xff", "\xe2\x82", "\x00", "0123456789abcdef",
	};
	uint8_t s[600];
	int iter;

	(void)state;
	for (iter = 0; iter < 20000; iter++) {
		size_t n = 0, lim = rnd() % 500;

		while (n < lim) {
			if (rnd() % 4 == 0) {
				s[n++] = (uint8_t)rnd();
			} else {
				const char *p = pieces[rnd() % (sizeof(pieces) / sizeof(pieces[0]))];
				size_t l = p[0] == '\0' ? 1 : strlen(p);

				memcpy(s + n, p, l);
				n += l;
			}
		}
		check_one(s, n);
	}
}

/* The writer's event line, byte for byte, as doc/FORMATS.md shows it. */
static void
test_event_line(void **state)
{
	static const char want[] =
	    "[1.234567, \"o\", \"a\\u001b[0m\\\"\\\\\\u007f\xc3\xa9\\r\\n\"]\n"
	    "[12.000005, \"o\", \"x\"]\n";
	struct rec_meta m = { 0 };
	struct rec_writer *w = NULL;
	char path[128], err[256], buf[65536];
	const char *p;
	FILE *f;
	size_t n;

	(void)state;
	snprintf(path, sizeof(path), "%s/line.cast", dir);
	m.session = "line";
	assert_int_equal(rec_writer_open(path, &m, priv, NULL, &w, err, sizeof(err)), 0);
	assert_int_equal(rec_writer_output(w, 1234567, "a\x1b[0m\"\\\x7f\xc3\xa9\r\n", 12), 0);
	assert_int_equal(rec_writer_output(w, 12000005, "x", 1), 0);
	assert_int_equal(rec_writer_close(w, NULL), 0);
	rec_writer_free(w);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_non_null(p = strchr(buf, '\n'));
	assert_memory_equal(p + 1, want, strlen(want));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_byte),
		cmocka_unit_test(test_utf8_table),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_event_line),
	};

	return cmocka_run_group_tests(tests, rt_setup, rt_teardown);
}
