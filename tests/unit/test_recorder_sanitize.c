/* SPDX-License-Identifier: BSD-2-Clause */
/* The replay filter, the display escaper and text rendering against hostile terminal bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mg_err.h"
#include "rec_buf.h"
#include "rec_sanitize.h"
#include "rec_text.h"

int main(void);

#define E "\033"

struct tcase {
	const char *in;
	const char *want;
	size_t inlen;		/* 0: strlen(in) */
};

/* What play shows: dangerous sequences gone, drawing kept. */
static const struct tcase out_cases[] = {
	/* kept */
	{ "plain text", "plain text", 0 },
	{ "a\r\n\t\b\007b", "a\r\n\t\b\007b", 0 },
	{ E "[31mred" E "[0m", E "[31mred" E "[0m", 0 },
	{ E "[38:2::10:20:30m" E "[1;38;5;196m", E "[38:2::10:20:30m" E "[1;38;5;196m", 0 },
	{ E "[2;5H" E "[A" E "[10C" E "[2J" E "[K" E "[?25l", E "[2;5H" E "[A" E "[10C" E "[2J" E "[K" E "[?25l", 0 },
	{ E "[1;20r" E "[S" E "[3T" E "[L" E "[M" E "[P" E "[@" E "[X", E "[1;20r" E "[S" E "[3T" E "[L" E "[M" E "[P" E "[@" E "[X", 0 },
	{ E "[?1049h" E "[?1;7;2004h" E "[?1049l", E "[?1049h" E "[?1;7;2004h" E "[?1049l", 0 },
	{ E "(0lqk" E "(B" E "#8" E "7" E "8" E "=" E ">" E "M" E "D" E "c", E "(0lqk" E "(B" E "#8" E "7" E "8" E "=" E ">" E "M" E "D" E "c", 0 },
	{ E "[2 q" E "[!p" E "[4h" E "[s" E "[u", E "[2 q" E "[!p" E "[4h" E "[s" E "[u", 0 },
	{ "caf\xc3\xa9 \xe2\x94\x80 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x94\x80 \xf0\x9f\x98\x80", 0 },
	/* C0 inside a sequence is executed, the sequence goes on */
	{ E "[3\n1m", "\n" E "[31m", 0 },
	/* OSC: clipboard, links, titles, colour queries; BEL or ST ends them */
	{ "a" E "]52;c;aGVsbG8=\007b", "ab", 0 },
	{ E "]8;;https://x.example/" E "\\link" E "]8;;" E "\\", "link", 0 },
	{ E "]0;title\007" E "]2;title" E "\\" E "]10;?\007x", "x", 0 },
	/* DCS (DECRQSS, XTGETTCAP, sixel), SOS, PM, APC */
	{ E "P$qm" E "\\" E "P+q544e" E "\\" E "Pq#0;2;0;0;0" E "\\x", "x", 0 },
	{ E "Xsos" E "\\" E "^pm" E "\\" E "_apc\007still" E "\\x", "x", 0 },
	/* reports and queries */
	{ E "[21t" E "[14t" E "[8;30;100t" E "[22;0t" E "[ty", "y", 0 },
	{ E "[c" E "[0c" E "[>c" E "[=c" E "[5n" E "[6n" E "[?6n" E "[>q" E "Zy", "y", 0 },
	{ E "[?1$p" E "[$p" E "[x" E "[1;1;1;1*y" E "[5i" E "[?u" E "[>1u" E "[?996nz", "z", 0 },
	/* modes that make the terminal send, or lock it */
	{ E "[?1000h" E "[?1006;1000h" E "[?1004h" E "[?2h" E "[2h" E "[?2031h" E "[1;2;3;4;5Tz", "z", 0 },
	{ E " G" E " F" E "%@" E "%G" "\005z", "z", 0 },
	/* the UTF-8 forms of C1 controls */
	{ "\xc2\x9b" "31mred", E "[31mred", 0 },
	{ "\xc2\x9b" "21t" "\xc2\x9d" "0;t\xc2\x9c" "\xc2\x90$qm\xc2\x9c" "\xc2\x9f" "a\xc2\x9c" "z", "z", 0 },
	{ "\xc2\x9e" "pm" "\xc2\x9c" "\xc2\x98" "sos" "\xc2\x9c" "\xc2\x85" "z", E "Ez", 0 },
	/* 8-bit C1 bytes are not UTF-8: shown as a UTF-8 terminal shows them, never written */
	{ "\x9b" "21t\x9d" "0;t\x07z", "\xef\xbf\xbd" "21t\xef\xbf\xbd" "0;t\x07z", 0 },
	{ "\x90$q\x9c\x9f", "\xef\xbf\xbd$q\xef\xbf\xbd\xef\xbf\xbd", 0 },
	/* invalid UTF-8: overlong CSI, surrogate, above U+10FFFF, C0/C1 leads, cut */
	{ "\xe0\x82\x9b" "6nz", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "6nz", 0 },
	{ "\xed\xa0\x80z", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz", 0 },
	{ "\xf4\x90\x80\x80z", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz", 0 },
	{ "\xc0\xaf\xc1\x9b" "6nz", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "6nz", 0 },
	{ "\xe2\x82z\xff", "\xef\xbf\xbdz\xef\xbf\xbd", 0 },
	{ "\xe2\x82", "\xef\xbf\xbd", 0 },
	/* C0 that answers or does nothing */
	{ "a\005b\000c\001\x7f", "abc", 6 },
	/* ESC in a string ends it and starts anew; CAN and SUB cancel */
	{ E "]0;never ended" E "[31mx", E "[31mx", 0 },
	{ E "[3\030" "1mx" E "]0;t\032y", "1mxy", 0 },
	/* broken sequences */
	{ E "[3\xc3\xa9m", "\xc3\xa9m", 0 },
	{ E "[1;2?m" E "[2$qx", "x", 0 },
	/* unfinished at the end: dropped */
	{ "x" E "[31", "x", 0 },
	{ "x" E, "x", 0 },
};

/* What is taken as keys while playing: a terminal's answers are not keys. */
static const struct tcase in_cases[] = {
	{ " q.+-", " q.+-", 0 },
	{ E "[?64;1;2c" E "[0n" E "[3;7R" " ", " ", 0 },
	{ E "]lq quit title q" E "\\" E "P>|XTerm(379) q" E "\\" "q", "q", 0 },
	{ E "P1$r0 q" E "\\.", ".", 0 },
	{ "\x9b" "0n\x9d" "l q\x9cq", "q", 0 },
	{ "\x03\x7f", "\x03\x7f", 0 },
};

/* Fed whole, and cut into pieces of 1, 2 and 3 bytes: the same result. */
static const size_t splits[] = { 1, 2, 3, 4096 };

static void
run_case(enum rec_san_mode mode, const struct tcase *tc, size_t split)
{
	struct rec_san *s = NULL;
	struct rec_buf out = { 0 };
	size_t n = tc->inlen ? tc->inlen : strlen(tc->in), i;

	assert_int_equal(rec_san_new(mode, &s), 0);
	for (i = 0; i < n; i += split)
		assert_int_equal(rec_san_feed(s, tc->in + i, n - i < split ? n - i : split, &out), 0);
	assert_int_equal(rec_san_flush(s, &out), 0);
	assert_int_equal(rec_san_pending(s), 0);
	if (out.len != strlen(tc->want) || memcmp(out.p, tc->want, out.len) != 0) {
		struct rec_buf a = { 0 }, b = { 0 };

		rec_san_str(&a, tc->in, n);
		rec_san_str(&b, out.p, out.len);
		fail_msg("split %zu: %s\n  gave %s", split, (char *)a.p, b.p ? (char *)b.p : "");
	}
	rec_buf_free(&out);
	rec_san_free(s);
}

static void
test_output_table(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(out_cases) / sizeof(out_cases[0]); i++)
		for (k = 0; k < sizeof(splits) / sizeof(splits[0]); k++)
			run_case(REC_SAN_OUTPUT, &out_cases[i], splits[k]);
}

static void
test_input_table(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(in_cases) / sizeof(in_cases[0]); i++)
		for (k = 0; k < sizeof(splits) / sizeof(splits[0]); k++)
			run_case(REC_SAN_INPUT, &in_cases[i], splits[k]);
}

/* An unterminated string drops at most REC_SAN_STRING_MAX bytes; what follows is shown. */
static void
test_string_bound(void **state)
{
	static const char *const intro[] = { E "]0;", E "P", E "_", E "^", E "X", "\xc2\x9d", "\xc2\x90" };
	size_t i, n = REC_SAN_STRING_MAX + 100;
	char *buf = malloc(n + 16);

	(void)state;
	assert_non_null(buf);
	for (i = 0; i < sizeof(intro) / sizeof(intro[0]); i++) {
		struct rec_san *s = NULL;
		struct rec_buf out = { 0 };
		size_t il = strlen(intro[i]);

		memcpy(buf, intro[i], il);
		memset(buf + il, 'A', n - il);
		memcpy(buf + n, "SHOWN", 5);
		assert_int_equal(rec_san_new(REC_SAN_OUTPUT, &s), 0);
		assert_int_equal(rec_san_feed(s, buf, n + 5, &out), 0);
		assert_int_equal(rec_san_flush(s, &out), 0);
		/* 100 As minus the introducer's tail are past the bound, then SHOWN. */
		assert_true(out.len >= 5 && out.len <= 105);
		assert_memory_equal(out.p + out.len - 5, "SHOWN", 5);
		rec_buf_free(&out);
		rec_san_free(s);
	}
	free(buf);
}

/* A long CSI is dropped whole, and the filter is back in its ground state. */
static void
test_long_csi(void **state)
{
	struct rec_san *s = NULL;
	struct rec_buf out = { 0 };
	char buf[4096];

	(void)state;
	memcpy(buf, E "[", 2);
	memset(buf + 2, '1', sizeof(buf) - 2);
	assert_int_equal(rec_san_new(REC_SAN_OUTPUT, &s), 0);
	assert_int_equal(rec_san_feed(s, buf, sizeof(buf), &out), 0);
	assert_int_equal(rec_san_pending(s), 1);
	assert_int_equal(rec_san_feed(s, "mX", 2, &out), 0);
	assert_int_equal(out.len, 1);
	assert_int_equal(out.p[0], 'X');
	rec_san_reset(s);
	rec_buf_free(&out);
	rec_san_free(s);
}

static void
test_display_escape(void **state)
{
	static const struct tcase t[] = {
		{ "alice", "alice", 0 },
		{ "caf\xc3\xa9", "caf\xc3\xa9", 0 },
		{ "a" E "]52;c;x\007b", "a^[]52;c;x^Gb", 0 },
		{ "\x7f\t\n", "^?^I^J", 0 },
		{ "\xc2\x9b" "1m\xc2\x9f", "<U+009B>1m<U+009F>", 0 },
		{ "\xc2\xa0", "\xc2\xa0", 0 },
		{ "\xe0\x82\x9b", "<E0><82><9B>", 0 },
		{ "\xed\xa0\x80", "<ED><A0><80>", 0 },
		{ "\xf4\x90\x80\x80", "<F4><90><80><80>", 0 },
		{ "\xe2\x82", "<E2><82>", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct rec_buf b = { 0 };

		assert_int_equal(rec_san_str(&b, t[i].in, strlen(t[i].in)), 0);
		assert_string_equal(b.p, t[i].want);
		assert_string_equal(rec_san_cstr(&b, t[i].in), t[i].want);
		rec_buf_free(&b);
	}
}

static void
test_json_escape(void **state)
{
	static const struct tcase t[] = {
		{ "alice", "\"alice\"", 0 },
		{ "T" E "]52;c;x\007-\xc2\x9b?1h\xc2\x9f", "\"T\\u001b]52;c;x\\u0007-\\u009b?1h\\u009f\"", 0 },
		{ "\xc3\xa9\xc2\xa0\xc2", "\"\xc3\xa9\xc2\xa0\xef\xbf\xbd\"", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct rec_buf b = { 0 };

		assert_int_equal(rec_san_json(&b, t[i].in), 0);
		assert_string_equal(b.p, t[i].want);
		rec_buf_free(&b);
	}
}

static void
test_utf8_decoder(void **state)
{
	static const struct { const char *s; size_t len; uint32_t cp; int partial; } t[] = {
		{ "A", 1, 'A', 0 }, { "\xc2\x80", 2, 0x80, 0 }, { "\xdf\xbf", 2, 0x7ff, 0 },
		{ "\xe0\xa0\x80", 3, 0x800, 0 }, { "\xef\xbf\xbf", 3, 0xffff, 0 },
		{ "\xf0\x90\x80\x80", 4, 0x10000, 0 }, { "\xf4\x8f\xbf\xbf", 4, 0x10ffff, 0 },
		{ "\xc1\xbf", 0, 0, 0 }, { "\xe0\x9f\xbf", 0, 0, 0 }, { "\xed\xa0\x80", 0, 0, 0 },
		{ "\xe0\x82\x9b", 0, 0, 0 }, { "\xc0\x9b", 0, 0, 0 }, { "\xc2\x9b", 2, 0x9b, 0 },
		{ "\xed\xbf\xbf", 0, 0, 0 }, { "\xed\x9f\xbf", 3, 0xd7ff, 0 },
		{ "\xf0\x8f\xbf\xbf", 0, 0, 0 }, { "\xf4\x90\x80\x80", 0, 0, 0 },
		{ "\xf5\x80\x80\x80", 0, 0, 0 }, { "\x80", 0, 0, 0 },
		{ "\xe2\x82", 0, 0, 1 }, { "\xf0", 0, 0, 1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint32_t cp;
		int partial;
		size_t k = rec_san_utf8((const uint8_t *)t[i].s, strlen(t[i].s), &cp, &partial);

		assert_int_equal(k, t[i].len);
		assert_int_equal(partial, t[i].partial);
		if (k > 0)
			assert_int_equal(cp, t[i].cp);
		/* The recorder's validator, which sends what it refuses to x events, agrees. */
		assert_int_equal(rec_utf8_valid_len((const uint8_t *)t[i].s, strlen(t[i].s)), k);
	}
}

/* text and search: lines hold no control character and only valid UTF-8. */
struct lines {
	struct rec_buf b;
};

static void
collect(void *ctx, const char *line, size_t len, double t)
{
	struct lines *l = ctx;

	(void)t;
	rec_buf_add(&l->b, line, len);
	rec_buf_addc(&l->b, '\n');
}

static void
test_text_lines(void **state)
{
	static const struct tcase t[] = {
		{ "caf\xc3\xa9\n", "caf\xc3\xa9\n", 0 },
		{ "a\xc2\x9b" "31mb\n", "a<U+009B>31mb\n", 0 },
		{ "\xc2\x9d" "0;t\xc2\x9cx\n", "<U+009D>0;t<U+009C>x\n", 0 },
		{ "a\xe0\x82\x9b" "b\n", "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "b\n", 0 },
		{ "a\xed\xa0\x80" "b\n", "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "b\n", 0 },
		{ "a\xf4\x90\x80\x80" "b\n", "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "b\n", 0 },
		{ "a\xc0\x9b" "b\n", "a\xef\xbf\xbd\xef\xbf\xbd" "b\n", 0 },
		{ "a" E "[31mb" E "]0;t\007c\n", "abc\n", 0 },
		/* an unterminated OSC ends at the next ESC, as on a terminal */
		{ "a" E "]0;never" E "[1mb\n", "ab\n", 0 },
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		for (k = 0; k < 2; k++) {
			struct lines l = { { 0 } };
			struct rec_text *x = NULL;
			size_t n = strlen(t[i].in), j;

			assert_int_equal(rec_text_new(REC_TEXT_OUTPUT, collect, &l, &x), 0);
			/* All at once, and byte by byte. */
			for (j = 0; j < n; j += k ? 1 : n)
				rec_text_feed(x, 0, (const uint8_t *)t[i].in + j, k ? 1 : n);
			rec_text_flush(x);
			assert_non_null(l.b.p);
			assert_string_equal(l.b.p, t[i].want);
			rec_text_free(x);
			rec_buf_free(&l.b);
		}
	}
}

/* An unterminated string in text output ends at its bound too. */
static void
test_text_bound(void **state)
{
	struct lines l = { { 0 } };
	struct rec_text *x = NULL;
	size_t n = REC_SAN_STRING_MAX + 10;
	uint8_t *buf = malloc(n + 8);

	(void)state;
	assert_non_null(buf);
	memcpy(buf, E "P", 2);
	memset(buf + 2, 'A', n - 2);
	memcpy(buf + n, "\nSHOWN\n", 7);
	assert_int_equal(rec_text_new(REC_TEXT_OUTPUT, collect, &l, &x), 0);
	rec_text_feed(x, 0, buf, n + 7);
	rec_text_flush(x);
	assert_non_null(l.b.p);
	assert_non_null(strstr((char *)l.b.p, "\nSHOWN\n"));
	rec_text_free(x);
	rec_buf_free(&l.b);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_table),
		cmocka_unit_test(test_input_table),
		cmocka_unit_test(test_string_bound),
		cmocka_unit_test(test_long_csi),
		cmocka_unit_test(test_display_escape),
		cmocka_unit_test(test_json_escape),
		cmocka_unit_test(test_utf8_decoder),
		cmocka_unit_test(test_text_lines),
		cmocka_unit_test(test_text_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
