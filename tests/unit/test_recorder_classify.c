/* SPDX-License-Identifier: BSD-2-Clause */
/* The recorder's byte classification (UTF-8 text or binary run) against a byte-at-a-time reference. */
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
#include "rec_reader.h"
#include "rec_writer.h"
#include "test_recorder_util.h"

int main(void);

/* Deterministic xorshift so a failure can be replayed. */
static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/*
 * Reference, written from RFC 3629 rather than from the code under test:
 * decode the code point and reject overlongs, surrogates and values above
 * U+10FFFF. The length of the complete valid sequence at s, or 0.
 */
static size_t
ref_seq(const uint8_t *s, size_t n)
{
	uint32_t cp;
	size_t need, i;

	if (n == 0)
		return 0;
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

/* s[0..n) is the start of a valid sequence that runs out: some completion is valid. */
static int
ref_incomplete(const uint8_t *s, size_t n)
{
	uint8_t t[4];
	size_t need;
	unsigned b;

	if (n == 0 || n > 3)
		return 0;
	need = s[0] >= 0xc0 && s[0] < 0xe0 ? 2 : s[0] >= 0xe0 && s[0] < 0xf0 ? 3 :
	    s[0] >= 0xf0 && s[0] < 0xf8 ? 4 : 0;
	if (need <= n)
		return 0;
	/* Only the second byte narrows what may follow; the rest just continue. */
	for (b = 0x80; b <= 0xbf; b++) {
		memset(t, 0x80, sizeof(t));
		memcpy(t, s, n);
		if (n == 1)
			t[1] = (uint8_t)b;
		if (ref_seq(t, need) == need)
			return 1;
	}
	return 0;
}

static size_t
ref_valid_len(const uint8_t *s, size_t n)
{
	size_t i = 0, k;

	while (i < n && (k = ref_seq(s + i, n - i)) != 0)
		i += k;
	return i;
}

/* A valid or possibly valid sequence starts at s. */
static int
ref_starts(const uint8_t *s, size_t n)
{
	return ref_seq(s, n) != 0 || ref_incomplete(s, n);
}

static size_t
ref_invalid_len(const uint8_t *s, size_t n, int *partial)
{
	size_t i;

	*partial = 0;
	if (n == 0)
		return 0;
	if (ref_seq(s, n) == 0 && ref_incomplete(s, n)) {
		*partial = 1;
		return n;
	}
	for (i = 1; i < n && !ref_starts(s + i, n - i); i++)
		;
	return i;
}

/*
 * The binary run at s: it ends where a run of at least textrun bytes of
 * complete valid UTF-8 starts, or a valid run (perhaps ending in an
 * incomplete sequence) that reaches the end.
 */
static size_t
ref_bin_len(const uint8_t *s, size_t n, size_t textrun)
{
	size_t p = 0;

	while (p < n) {
		size_t v = ref_valid_len(s + p, n - p), q;

		if (v >= textrun || p + v == n || ref_incomplete(s + p + v, n - p - v))
			return p;
		for (q = p + v + 1; q < n && !ref_starts(s + q, n - q); q++)
			;
		p = q;
	}
	return n;
}

static const size_t runs[] = { 1, 2, 3, 4, 8, 15, 16, 17, 31, 32, 33, 40, 100 };

/* Every classifier agrees with the reference on s[0..n). */
static void
check(const uint8_t *s, size_t n)
{
	size_t k, got, want;
	int p1, p2, lv;

	assert_int_equal(rec_utf8_valid_len(s, n), ref_valid_len(s, n));
	if (n > 0) {
		got = rec_utf8_invalid_len(s, n, &p1);
		want = ref_invalid_len(s, n, &p2);
		if (got != want || p1 != p2)
			fail_msg("invalid_len n=%zu: got %zu/%d want %zu/%d", n, got, p1, want, p2);
	}
	/* Every vector path the CPU has (AVX2, SSE2, plain C) gives the same. */
	for (lv = 2; lv >= 0; lv--) {
		rec_buf_simd_limit(lv);
		for (k = 0; k < sizeof(runs) / sizeof(runs[0]); k++) {
			got = rec_utf8_bin_len(s, n, runs[k]);
			want = ref_bin_len(s, n, runs[k]);
			if (got != want) {
				size_t i;

				rec_buf_simd_limit(2);
				for (i = 0; i < n && i < 96; i++)
					fprintf(stderr, "%02x%s", s[i], i % 32 == 31 ? "\n" : " ");
				fail_msg("bin_len n=%zu textrun=%zu simd=%d: got %zu want %zu", n,
				    runs[k], lv, got, want);
			}
		}
	}
	rec_buf_simd_limit(2);
}

/* Bytes at every boundary of the encoding, and some plain ones. */
static const uint8_t edge[] = {
	0x00, 0x01, 0x1b, 0x41, 0x7f, 0x80, 0x81, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1,
	0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xf7,
	0xf8, 0xfb, 0xfc, 0xfe, 0xff,
};
#define NEDGE (sizeof(edge) / sizeof(edge[0]))

/* Every sequence of one to four edge bytes, alone and inside text, binary and ends. */
static void
test_every_edge_sequence(void **state)
{
	uint8_t buf[128];
	size_t a, b, c, d, len, ctx;

	(void)state;
	for (a = 0; a < NEDGE; a++)
	for (b = 0; b <= NEDGE; b++)
	for (c = 0; c <= (b < NEDGE ? NEDGE : 0); c++)
	/* Four bytes only after a lead of four (or a byte that is none). */
	for (d = 0; d <= (c < NEDGE && edge[a] >= 0xf0 ? NEDGE : 0); d++) {
		uint8_t seq[4];

		len = 0;
		seq[len++] = edge[a];
		if (b < NEDGE)
			seq[len++] = edge[b];
		if (b < NEDGE && c < NEDGE)
			seq[len++] = edge[c];
		if (b < NEDGE && c < NEDGE && d < NEDGE)
			seq[len++] = edge[d];
		/* Four bytes: only inside one context, to keep the run short. */
		for (ctx = 0; ctx < (len == 4 ? 2 : 6); ctx++) {
			size_t pre = 0, post = 0, i;
			uint8_t fill = ctx % 2 ? 0xff : 'a';

			if (ctx >= 2)
				pre = ctx < 4 ? 40 : 17;
			if (ctx >= 2)
				post = ctx < 4 ? 3 : 50;
			for (i = 0; i < pre; i++)
				buf[i] = fill;
			memcpy(buf + pre, seq, len);
			for (i = 0; i < post; i++)
				buf[pre + len + i] = fill;
			check(buf, pre + len + post);
		}
	}
}

/* One random code point, encoded; sometimes a broken one. */
static size_t
put_char(uint8_t *o)
{
	uint32_t cp, r = rnd() % 100;

	if (r < 50)
		cp = 0x20 + rnd() % 0x5f;
	else if (r < 70)
		cp = 0x80 + rnd() % 0x780;
	else if (r < 85)
		cp = 0x800 + rnd() % 0xf800;
	else
		cp = 0x10000 + rnd() % 0x100000;
	if (cp >= 0xd800 && cp <= 0xdfff)
		cp = 0xfffd;
	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (uint8_t)(0xc0 | cp >> 6);
		o[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (uint8_t)(0xe0 | cp >> 12);
		o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (uint8_t)(0xf0 | cp >> 18);
	o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* Text runs of every length between binary, edge bytes and random bytes. */
static size_t
gen(uint8_t *buf, size_t cap)
{
	size_t n = 0;

	while (n + 8 < cap) {
		uint32_t kind = rnd() % 6, len = rnd() % 60, i;

		for (i = 0; i < len && n + 8 < cap; i++) {
			if (kind < 2)
				n += put_char(buf + n);
			else if (kind == 2)
				buf[n++] = edge[rnd() % NEDGE];
			else if (kind == 3)
				buf[n++] = (uint8_t)rnd();
			else if (kind == 4)
				buf[n++] = (uint8_t)(0x80 + rnd() % 0x80);
			else {
				/* A character cut short. */
				size_t k = put_char(buf + n);

				n += k > 1 ? 1 + rnd() % (k - 1) : k;
			}
		}
		if (rnd() % 8 == 0)
			break;
	}
	return n;
}

static void
test_random_differential(void **state)
{
	static uint8_t buf[4096];
	int round;

	(void)state;
	for (round = 0; round < 6000; round++) {
		size_t n = gen(buf, round % 10 == 0 ? sizeof(buf) : 300), off;

		check(buf, n);
		/* Other alignments of the same bytes, and cut at a random end. */
		off = rnd() % 17;
		if (off < n)
			check(buf + off, n - off - rnd() % (n - off));
	}
}

/* Uniform random bytes: binary all the way, found in one call. */
static void
test_random_bytes(void **state)
{
	static uint8_t buf[65536];
	size_t i;
	int round;

	(void)state;
	for (round = 0; round < 20; round++) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)rnd();
		check(buf + round, 2000 - (size_t)round);
		/* Long random data has no 32-byte run of text: one run to the end,
		 * less a valid tail. */
		assert_true(rec_utf8_bin_len(buf, sizeof(buf), 32) + 32 > sizeof(buf));
		assert_int_equal(rec_utf8_bin_len(buf, sizeof(buf), 32),
		    ref_bin_len(buf, sizeof(buf), 32));
	}
}

static struct rec_writer *
open_writer(const char *name)
{
	struct rec_writer_opts o = { .prompt_regex = "" };
	struct rec_meta m = { 0 };
	struct rec_writer *w = NULL;
	char path[128], err[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	m.session = "cls";
	assert_int_equal(rec_writer_open(path, &m, priv, &o, &w, err, sizeof(err)), 0);
	return w;
}

struct got {
	struct rec_buf out;
	size_t o_events, x_events;
	long long size;
	int text_seen;	/* an "o" event holds the marker text */
};

static void
read_back(const char *name, struct got *g, const char *marker)
{
	struct rec_verify_result res;
	struct rec_reader *rd;
	struct rec_event ev;
	char path[128], err[256];
	FILE *f;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(rec_verify_file(path, pub, &res), 0);
	if (res.status != REC_VERIFY_OK)
		fail_msg("verify: %s", res.msg);
	assert_non_null(f = fopen(path, "r"));
	fseek(f, 0, SEEK_END);
	g->size = ftell(f);
	fclose(f);
	assert_int_equal(rec_reader_open(path, &rd, err, sizeof(err)), 0);
	while ((r = rec_reader_next(rd, &ev)) > 0) {
		if (ev.stream == 'o')
			assert_int_equal(rec_buf_add(&g->out, ev.data, ev.len), 0);
		if (ev.code == 'o') {
			g->o_events++;
			/* Player-visible events hold only complete, valid UTF-8. */
			assert_int_equal(ref_valid_len(ev.data, ev.len), ev.len);
			if (marker != NULL && memmem(ev.data, ev.len, marker, strlen(marker)))
				g->text_seen = 1;
		} else if (ev.code == 'x')
			g->x_events++;
	}
	if (r < 0)
		fail_msg("read: %s", rec_reader_errmsg(rd));
	rec_reader_free(rd);
}

/* Random data in writes of every size comes back byte for byte, at base64 size. */
static void
test_roundtrip_random(void **state)
{
	static uint8_t data[1 << 20];
	const char *marker = "make: *** [Makefile:12: all] Error 1, see the log";
	size_t i, off, mlen = strlen(marker);
	int round;

	(void)state;
	for (round = 0; round < 4; round++) {
		struct got g = { 0 };
		struct rec_writer *w = open_writer("rnd.cast");
		size_t n = round == 0 ? sizeof(data) : 200000 + rnd() % 100000;

		for (i = 0; i < n; i++)
			data[i] = (uint8_t)rnd();
		if (round >= 2) {
			/* Text lines and broken sequences in the middle of binary. */
			for (i = 0; i < 20; i++) {
				size_t at = rnd() % (n - 200);

				memcpy(data + at, marker, mlen);
				data[at + mlen] = 0xe2;	/* cut: the next byte is random */
			}
		}
		for (off = 0; off < n; ) {
			size_t len = round == 0 ? 65536 : 1 + rnd() % (round == 1 ? 7 : 70000);

			if (len > n - off)
				len = n - off;
			assert_int_equal(rec_writer_output(w, REC_NOW, data + off, len), 0);
			off += len;
		}
		assert_int_equal(rec_writer_close(w, NULL), 0);
		rec_writer_free(w);
		read_back("rnd.cast", &g, round >= 2 ? marker : NULL);
		assert_int_equal(g.out.len, n);
		assert_memory_equal(g.out.p, data, n);
		if (round == 0) {
			/* Binary is kept as base64 (4/3) in events near 16 KiB: the
			 * recording stays within 1.37 times the data. */
			if ((double)g.size > 1.37 * (double)n)
				fail_msg("recording %lld bytes for %zu random bytes", g.size, n);
			assert_true(g.x_events <= n / 16384 + 8);
		}
		if (round >= 2)
			assert_true(g.text_seen);
		rec_buf_free(&g.out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_edge_sequence),
		cmocka_unit_test(test_random_differential),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_roundtrip_random),
	};

	return cmocka_run_group_tests(tests, rt_setup, rt_teardown);
}
