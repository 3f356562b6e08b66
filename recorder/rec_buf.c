/* SPDX-License-Identifier: BSD-2-Clause */
/* Growable byte buffers and the encodings the recorder needs (UTF-8, JSON strings, base64, hex). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define REC_AVX2 1
#endif

#include "mg_err.h"
#include "mg_util.h"
#include "rec_buf.h"

static int
reserve(struct rec_buf *b, size_t extra)
{
	size_t need, cap;
	uint8_t *np;

	if (extra > SIZE_MAX / 2 - b->len)
		return MG_ERR_NOMEM;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	if ((np = realloc(b->p, cap)) == NULL)
		return MG_ERR_NOMEM;
	b->p = np;
	b->cap = cap;
	return 0;
}

int
rec_buf_add(struct rec_buf *b, const void *p, size_t n)
{
	int r;

	if ((r = reserve(b, n)) != 0)
		return r;
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int
rec_buf_addz(struct rec_buf *b, size_t n)
{
	int r;

	if ((r = reserve(b, n)) != 0)
		return r;
	memset(b->p + b->len, 0, n + 1);
	b->len += n;
	return 0;
}

int
rec_buf_addc(struct rec_buf *b, int c)
{
	uint8_t ch = (uint8_t)c;

	return rec_buf_add(b, &ch, 1);
}

int
rec_buf_adds(struct rec_buf *b, const char *s)
{
	return rec_buf_add(b, s, strlen(s));
}

int
rec_buf_addf(struct rec_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return MG_ERR_INTERNAL;
	if ((r = reserve(b, (size_t)n)) != 0)
		return r;
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

/*
 * JSON string escaping and UTF-8 validation, one pass. Runs of plain bytes
 * (printable ASCII but '"' and '\\') are found sixteen (SSE2) or eight
 * (any 64-bit CPU) at a time and copied as whole words; every other ASCII
 * byte takes its escape from a table; bytes >= 0x80 are checked as UTF-8.
 * The output has room for 6 bytes per input byte left plus 2, so a word
 * or an escape may be stored whole and only its real length kept.
 */
#define W_ONES 0x0101010101010101ULL
#define W_HIGH 0x8080808080808080ULL

struct json_esc {
	uint8_t len;
	char s[7];
};

#define ESC_U(c) [c] = { 6, { '\\', 'u', '0', '0', "0123456789abcdef"[(c) >> 4], \
	"0123456789abcdef"[(c) & 15] } }
#define ESC_2(c, e) [c] = { 2, { '\\', e } }

/* The escape of every ASCII byte that is not plain; len 0 for plain ones. */
static const struct json_esc json_esc[128] = {
	ESC_U(0x00), ESC_U(0x01), ESC_U(0x02), ESC_U(0x03), ESC_U(0x04), ESC_U(0x05),
	ESC_U(0x06), ESC_U(0x07), ESC_2('\b', 'b'), ESC_2('\t', 't'), ESC_2('\n', 'n'),
	ESC_U(0x0b), ESC_2('\f', 'f'), ESC_2('\r', 'r'), ESC_U(0x0e), ESC_U(0x0f),
	ESC_U(0x10), ESC_U(0x11), ESC_U(0x12), ESC_U(0x13), ESC_U(0x14), ESC_U(0x15),
	ESC_U(0x16), ESC_U(0x17), ESC_U(0x18), ESC_U(0x19), ESC_U(0x1a), ESC_U(0x1b),
	ESC_U(0x1c), ESC_U(0x1d), ESC_U(0x1e), ESC_U(0x1f), ESC_2('"', '"'),
	ESC_2('\\', '\\'), ESC_U(0x7f),
};

/* Flags (high bit of each byte) the bytes of a word that are not plain. */
static inline uint64_t
word_special(uint64_t x)
{
	uint64_t lt = (x - W_ONES * 0x20) & ~x;		/* < 0x20 */
	uint64_t q = x ^ (W_ONES * 0x22), bs = x ^ (W_ONES * 0x5c), del = x ^ (W_ONES * 0x7f);

	q = (q - W_ONES) & ~q;
	bs = (bs - W_ONES) & ~bs;
	del = (del - W_ONES) & ~del;
	return (lt | q | bs | del | x) & W_HIGH;	/* x: bytes >= 0x80 */
}

/*
 * Index of the first flagged byte of a word loaded from memory. The lowest
 * flag is exact: a borrow only spreads to more significant bytes, which on
 * a little-endian CPU come later in memory.
 */
static inline size_t
word_first(uint64_t m)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	(void)m;
	return 0;		/* borrows spread the other way: no shortcut */
#else
	return (size_t)__builtin_ctzll(m) / 8;
#endif
}

/*
 * Strict UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above
 * U+10FFFF) as a small automaton: each byte falls in one of 12 classes,
 * and a state says what the bytes so far still need. One table look-up per
 * byte, no branches on the byte's value; ASCII is skipped a word or sixteen
 * bytes at a time before it.
 */
enum {
	U_ASCII, U_C80, U_C90, U_CA0,	/* continuations 80-8F, 90-9F, A0-BF */
	U_L2, U_E0, U_L3, U_ED, U_F0, U_L4, U_F4, U_BAD, U_NCLASS
};
enum {
	S_OK,			/* between sequences */
	S_1, S_2, S_3,		/* 1, 2 or 3 continuation bytes left */
	S_E0, S_ED, S_F0, S_F4,	/* after a lead whose second byte is narrowed */
	S_ERR, S_NSTATE
};

#define R16(c) c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c
static const uint8_t u_class[256] = {
	R16(U_ASCII), R16(U_ASCII), R16(U_ASCII), R16(U_ASCII),
	R16(U_ASCII), R16(U_ASCII), R16(U_ASCII), R16(U_ASCII),
	R16(U_C80), R16(U_C90), R16(U_CA0), R16(U_CA0),
	U_BAD, U_BAD, U_L2, U_L2, U_L2, U_L2, U_L2, U_L2,	/* C0, C1: overlong */
	U_L2, U_L2, U_L2, U_L2, U_L2, U_L2, U_L2, U_L2,
	R16(U_L2),
	U_E0, U_L3, U_L3, U_L3, U_L3, U_L3, U_L3, U_L3,
	U_L3, U_L3, U_L3, U_L3, U_L3, U_ED, U_L3, U_L3,
	U_F0, U_L4, U_L4, U_L4, U_F4, U_BAD, U_BAD, U_BAD,	/* F5-FF: above U+10FFFF */
	U_BAD, U_BAD, U_BAD, U_BAD, U_BAD, U_BAD, U_BAD, U_BAD,
};
#undef R16

static const uint8_t u_next[S_NSTATE][U_NCLASS] = {
	/*          ASCII  80-8F  90-9F  A0-BF  L2    E0    L3    ED    F0    L4    F4    bad */
	[S_OK]  = { S_OK,  S_ERR, S_ERR, S_ERR, S_1,  S_E0, S_2,  S_ED, S_F0, S_3,  S_F4, S_ERR },
	[S_1]   = { S_ERR, S_OK,  S_OK,  S_OK,  S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR },
	[S_2]   = { S_ERR, S_1,   S_1,   S_1,   S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR },
	[S_3]   = { S_ERR, S_2,   S_2,   S_2,   S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR },
	[S_E0]  = { S_ERR, S_ERR, S_ERR, S_1,   S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR },
	[S_ED]  = { S_ERR, S_1,   S_1,   S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR },
	[S_F0]  = { S_ERR, S_ERR, S_2,   S_2,   S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR },
	[S_F4]  = { S_ERR, S_2,   S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR },
	[S_ERR] = { S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR, S_ERR },
};

/*
 * The same automaton for long stretches, one 64-bit word per class: bits
 * 6s to 6s+5 hold 6 times the state that state s goes to on that class,
 * and a state is kept as 6 times its number. A step is then a shift: the
 * look-ups hang on the bytes only, not on the state before, so the CPU
 * runs them ahead. Built from u_next when the program is loaded.
 */
static uint64_t u_row[U_NCLASS];

__attribute__((constructor)) static void
u_row_init(void)
{
	unsigned st, c;

	for (c = 0; c < U_NCLASS; c++) {
		uint64_t r = 0;

		for (st = 0; st < S_NSTATE; st++)
			r |= (uint64_t)(u_next[st][c] * 6) << (6 * st);
		u_row[c] = r;
	}
}

#define U_OK6 (S_OK * 6)
#define U_ERR6 (S_ERR * 6)
/* The next state (times 6) from st6 on byte b. */
#define U_STEP6(st6, b) ((unsigned)(u_row[u_class[(b)]] >> (st6)) & 63)

/*
 * Length of the sequence starting at s[0] if it is complete and valid;
 * 0 if not, with *incomplete set when the bytes so far are a valid
 * prefix that runs out at n.
 */
static inline size_t
seq_len(const uint8_t *s, size_t n, int *incomplete)
{
	unsigned st = u_next[S_OK][u_class[s[0]]];
	size_t i = 1;

	*incomplete = 0;
	while (st != S_OK && st != S_ERR) {
		if (i >= n) {
			*incomplete = 1;
			return 0;
		}
		st = u_next[st][u_class[s[i++]]];
	}
	return st == S_OK ? i : 0;
}


/*
 * The widest vector code the CPU runs, checked once: 2 AVX2, 1 SSE2, 0
 * plain C; rec_buf_simd_limit lowers it (tests run every path). Relaxed
 * atomics: a session's threads may ask first at the same time, and all
 * find the same answer.
 */
static int simd_level = -1, simd_cap = 2;

static int
simd(void)
{
	int l = __atomic_load_n(&simd_level, __ATOMIC_RELAXED), cap;

	if (l < 0) {
		l = 0;
#ifdef __SSE2__
		l = 1;
#endif
#ifdef REC_AVX2
		if (__builtin_cpu_supports("avx2"))
			l = 2;
#endif
		__atomic_store_n(&simd_level, l, __ATOMIC_RELAXED);
	}
	cap = __atomic_load_n(&simd_cap, __ATOMIC_RELAXED);
	return l < cap ? l : cap;
}

int
rec_buf_simd_limit(int max)
{
	return __atomic_exchange_n(&simd_cap, max, __ATOMIC_RELAXED);
}

/*
 * Plain bytes at the start of s[0..n), stored at o as they are found:
 * sixteen at a time with SSE2 (lv >= 1). Not AVX2: terminal lines are
 * short, and a 32-byte step measured slower on them.
 */
static inline size_t
plain_run(uint8_t *o, const uint8_t *s, size_t n, int lv)
{
	size_t i = 0;

#ifdef __SSE2__
	while (lv >= 1 && n - i >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i sp = _mm_or_si128(
		    _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
		    _mm_cmpeq_epi8(v, _mm_set1_epi8(0x22))),
		    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(0x5c)),
		    _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f))));
		unsigned m = (unsigned)_mm_movemask_epi8(sp);

		_mm_storeu_si128((__m128i *)(void *)(o + i), v);
		if (m != 0)
			return i + (size_t)__builtin_ctz(m);
		i += 16;
	}
#else
	(void)lv;
#endif
	while (n - i >= 8) {
		uint64_t x, m;

		memcpy(&x, s + i, 8);
		memcpy(o + i, &x, 8);
		if ((m = word_special(x)) != 0)
			return i + word_first(m);
		i += 8;
	}
	while (i < n && s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\') {
		o[i] = s[i];
		i++;
	}
	return i;
}

/*
 * Escapes s[0..n) into o and returns the bytes consumed; *olen gets the
 * bytes written. With strict set it stops before the first byte that does
 * not start a complete, valid UTF-8 sequence; otherwise bytes >= 0x80 are
 * copied as they are.
 */
/* A byte that escapes to \u00XX and that terminals do not act on in runs. */
static inline int
inert_ctl(uint8_t c)
{
	return (c < 0x20 && (c < 0x07 || c > 0x0d) && c != 0x1b) || c == 0x7f;
}

size_t
rec_ctl_run_len(const void *p, size_t n)
{
	const uint8_t *s = p;
	size_t i = rec_zero_run_len(p, n);

	while (i < n && inert_ctl(s[i]))
		i++;
	return i;
}

size_t
rec_zero_run_len(const void *p, size_t n)
{
	const uint8_t *s = p;
	size_t i = 0;
	uint64_t x;

	while (n - i >= 8) {
		memcpy(&x, s + i, 8);
		if (x != 0)
			break;
		i += 8;
	}
	while (i < n && s[i] == 0)
		i++;
	return i;
}

static size_t
json_body(uint8_t *o, const uint8_t *s, size_t n, int strict, size_t *olen)
{
	uint8_t *o0 = o;
	size_t i = 0;
	int lv = simd();

	while (i < n) {
		size_t k = plain_run(o, s + i, n - i, lv);
		uint8_t c;

		o += k;
		i += k;
		if (i == n)
			break;
		c = s[i];
		if (c < 0x80) {
			const struct json_esc *e = &json_esc[c];

			/* strict 2: stop before a long run of inert control bytes. */
			if (strict == 2 && inert_ctl(c) && n - i >= REC_CTL_RUN &&
			    rec_ctl_run_len(s + i, REC_CTL_RUN) == REC_CTL_RUN)
				break;

			memcpy(o, e->s, 6);
			o += e->len;
			i++;
			continue;
		}
		if (strict) {
			/* A stretch of non-ASCII text, checked by the automaton and
			 * copied as it goes; only whole sequences are kept. */
			size_t j = i, ok = i;
			unsigned st6 = U_OK6;

			while (j < n && s[j] >= 0x80) {
				if ((st6 = U_STEP6(st6, s[j])) == U_ERR6)
					break;
				o[j - i] = s[j];
				j++;
				if (st6 == U_OK6)
					ok = j;
			}
			if (ok == i)
				break;
			o += ok - i;
			i = ok;
			continue;
		}
		*o++ = c;
		i++;
	}
	*olen = (size_t)(o - o0);
	return i;
}

int
rec_buf_json_str(struct rec_buf *b, const void *s, size_t n)
{
	size_t ol;
	int r;

	/* Worst case every byte becomes \u00XX. */
	if (n > (SIZE_MAX - 8) / 6 || (r = reserve(b, n * 6 + 2)) != 0)
		return MG_ERR_NOMEM;
	b->p[b->len++] = '"';
	json_body(b->p + b->len, s, n, 0, &ol);
	b->len += ol;
	b->p[b->len++] = '"';
	b->p[b->len] = '\0';
	return 0;
}

static int
json_utf8(struct rec_buf *b, const void *s, size_t n, size_t *used, int mode)
{
	size_t ol;
	int r;

	*used = 0;
	if (n > (SIZE_MAX - 8) / 6 || (r = reserve(b, n * 6 + 2)) != 0)
		return MG_ERR_NOMEM;
	if ((*used = json_body(b->p + b->len + 1, s, n, mode, &ol)) == 0) {
		b->p[b->len] = '\0';
		return 0;
	}
	b->p[b->len] = '"';
	b->len += ol + 1;
	b->p[b->len++] = '"';
	b->p[b->len] = '\0';
	return 0;
}

int
rec_buf_json_utf8(struct rec_buf *b, const void *s, size_t n, size_t *used)
{
	return json_utf8(b, s, n, used, 1);
}

int
rec_buf_json_text(struct rec_buf *b, const void *s, size_t n, size_t *used)
{
	return json_utf8(b, s, n, used, 2);
}

int
rec_buf_json_cstr(struct rec_buf *b, const char *s)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t n = strlen(s), i = 0;
	struct rec_buf tmp = { 0 };
	int r = 0, partial;

	if (rec_utf8_valid_len(u, n) == n)
		return rec_buf_json_str(b, s, n);
	while (i < n && r == 0) {
		size_t v = rec_utf8_valid_len(u + i, n - i);

		if ((r = rec_buf_add(&tmp, u + i, v)) != 0)
			break;
		i += v;
		if (i < n) {
			i += rec_utf8_invalid_len(u + i, n - i, &partial);
			r = rec_buf_add(&tmp, "\xef\xbf\xbd", 3);
		}
	}
	if (r == 0)
		r = rec_buf_json_str(b, tmp.p, tmp.len);
	rec_buf_free(&tmp);
	return r;
}

int
rec_buf_base64(struct rec_buf *b, const void *p, size_t n)
{
	int r;

	if (n > SIZE_MAX / 2 || (r = reserve(b, MG_B64_ENCLEN(n))) != 0)
		return MG_ERR_NOMEM;
	mg_b64_encode(p, n, 1, (char *)b->p + b->len);
	b->len += MG_B64_ENCLEN(n) - 1;
	return 0;
}

int
rec_buf_hex(struct rec_buf *b, const void *pp, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	const uint8_t *p = pp;
	size_t i;
	int r;

	if (n > SIZE_MAX / 4 || (r = reserve(b, n * 2)) != 0)
		return MG_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		b->p[b->len++] = (uint8_t)hexd[p[i] >> 4];
		b->p[b->len++] = (uint8_t)hexd[p[i] & 15];
	}
	b->p[b->len] = '\0';
	return 0;
}

void
rec_buf_reset(struct rec_buf *b)
{
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

void
rec_buf_free(struct rec_buf *b)
{
	if (b->p != NULL) {
		explicit_bzero(b->p, b->cap);
		free(b->p);
	}
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Bytes below 0x80 at the start of s[0..n). */
static inline size_t
ascii_run(const uint8_t *s, size_t n)
{
	size_t i = 0;

#ifdef __SSE2__
	while (n - i >= 16) {
		unsigned m = (unsigned)_mm_movemask_epi8(
		    _mm_loadu_si128((const __m128i *)(const void *)(s + i)));

		if (m != 0)
			return i + (size_t)__builtin_ctz(m);
		i += 16;
	}
#endif
	while (n - i >= 8) {
		uint64_t x;

		memcpy(&x, s + i, 8);
		if ((x & W_HIGH) != 0)
			break;
		i += 8;
	}
	while (i < n && s[i] < 0x80)
		i++;
	return i;
}

size_t
rec_utf8_valid_len(const uint8_t *s, size_t n)
{
	size_t i = 0, ok = 0;
	unsigned st6 = U_OK6;

	while (i < n) {
		if (st6 == U_OK6) {
			i += ascii_run(s + i, n - i);
			ok = i;
			if (i == n)
				break;
		}
		if ((st6 = U_STEP6(st6, s[i++])) == U_ERR6)
			return ok;
		if (st6 == U_OK6)
			ok = i;
	}
	return ok;
}

/* A valid or possibly valid (cut short at n) sequence starts at s. */
static inline int
seq_starts(const uint8_t *s, size_t n)
{
	int inc;

	return seq_len(s, n, &inc) != 0 || inc;
}

size_t
rec_utf8_invalid_len(const uint8_t *s, size_t n, int *partial)
{
	size_t i;

	*partial = 0;
	if (n == 0)
		return 0;
	if (seq_len(s, n, partial) == 0 && *partial)
		return n;
	*partial = 0;
	i = 1;
	/* One look at each byte: only a byte that may begin a sequence (ASCII
	 * or a lead) needs the few after it. */
	while (i < n) {
		unsigned c = u_class[s[i]];

		if (c == U_ASCII)
			break;
		if (c >= U_L2 && c != U_BAD && seq_starts(s + i, n - i))
			break;
		i++;
	}
	return i;
}

/*
 * Bytes that no valid UTF-8 run can hold: C0, C1 and F5-FF; a continuation
 * after an ASCII byte; a lead not followed by a continuation. The vector
 * versions mark them one bit per byte, reading one byte before and one
 * after the block. Signed compares: 0x80-0xBF are -128..-65, C2-F4 are
 * -62..-12.
 */
#ifdef __SSE2__
static inline unsigned
never_text16(const uint8_t *p)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i pv = _mm_loadu_si128((const __m128i *)(const void *)(p - 1));
	__m128i nx = _mm_loadu_si128((const __m128i *)(const void *)(p + 1));
	__m128i cont = _mm_cmplt_epi8(v, _mm_set1_epi8(-64));
	__m128i after_ascii = _mm_cmpgt_epi8(pv, _mm_set1_epi8(-1));
	__m128i next_cont = _mm_cmplt_epi8(nx, _mm_set1_epi8(-64));
	__m128i lead = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(-63)),
	    _mm_cmplt_epi8(v, _mm_set1_epi8(-11)));
	__m128i bad = _mm_or_si128(
	    _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(-65)), _mm_cmplt_epi8(v, _mm_set1_epi8(-62))),
	    _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(-12)), _mm_cmplt_epi8(v, _mm_setzero_si128())));

	bad = _mm_or_si128(bad, _mm_and_si128(cont, after_ascii));
	bad = _mm_or_si128(bad, _mm_andnot_si128(next_cont, lead));
	return (unsigned)_mm_movemask_epi8(bad);
}

/*
 * One block of w bytes from j, m marking its bytes as above: 1 when a gap
 * that could hold a valid run of textrun bytes begins at *f (just past the
 * last marked byte so far) or inside the block; else 0, *f moved past the
 * block's last marked byte.
 */
static inline int
gap_found(uint32_t m, size_t j, size_t w, size_t textrun, size_t *f)
{
	if (m == 0)
		return j + w - *f >= textrun;
	if (j + (size_t)__builtin_ctz(m) - *f >= textrun)
		return 1;
	*f = j + 32 - (size_t)__builtin_clz(m);
	return 0;
}

/*
 * From j (the automaton in its first state there), sixteen bytes at a
 * time while marked bytes come closer than textrun apart: returns where
 * the automaton resumes, just past the last marked byte before the first
 * gap that could hold a valid run of textrun bytes (or before the last 16
 * bytes).
 */
static size_t
skip_sse2(const uint8_t *s, size_t n, size_t j, size_t textrun)
{
	size_t f = j;

	while (n - j >= 17 && !gap_found(never_text16(s + j), j, 16, textrun, &f))
		j += 16;
	return f;
}
#endif

#ifdef REC_AVX2
__attribute__((target("avx2"))) static inline uint32_t
never_text32(const uint8_t *p)
{
	__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
	__m256i pv = _mm256_loadu_si256((const __m256i *)(const void *)(p - 1));
	__m256i nx = _mm256_loadu_si256((const __m256i *)(const void *)(p + 1));
	__m256i cont = _mm256_cmpgt_epi8(_mm256_set1_epi8(-64), v);
	__m256i after_ascii = _mm256_cmpgt_epi8(pv, _mm256_set1_epi8(-1));
	__m256i next_cont = _mm256_cmpgt_epi8(_mm256_set1_epi8(-64), nx);
	__m256i lead = _mm256_and_si256(_mm256_cmpgt_epi8(v, _mm256_set1_epi8(-63)),
	    _mm256_cmpgt_epi8(_mm256_set1_epi8(-11), v));
	__m256i bad = _mm256_or_si256(
	    _mm256_and_si256(_mm256_cmpgt_epi8(v, _mm256_set1_epi8(-65)),
	    _mm256_cmpgt_epi8(_mm256_set1_epi8(-62), v)),
	    _mm256_and_si256(_mm256_cmpgt_epi8(v, _mm256_set1_epi8(-12)),
	    _mm256_cmpgt_epi8(_mm256_setzero_si256(), v)));

	bad = _mm256_or_si256(bad, _mm256_and_si256(cont, after_ascii));
	bad = _mm256_or_si256(bad, _mm256_andnot_si256(next_cont, lead));
	return (uint32_t)_mm256_movemask_epi8(bad);
}

/* skip_sse2, thirty-two bytes a step. */
__attribute__((target("avx2"))) static size_t
skip_avx2(const uint8_t *s, size_t n, size_t j, size_t textrun)
{
	size_t f = j;

	while (n - j >= 33 && !gap_found(never_text32(s + j), j, 32, textrun, &f))
		j += 32;
	return f;
}
#endif

/*
 * One pass of the automaton, restarted after each error at the byte that
 * broke the sequence (or past it when that byte cannot begin one); run is
 * where the current valid run began. With vectors and textrun > 16 (32
 * for AVX2), stretches where marked bytes come closer than textrun apart
 * are skipped a block at a time: inside a block no gap between two marked
 * bytes is that long, no valid run of textrun bytes fits there, and after
 * a marked byte the automaton is back in its first state, so it resumes
 * exactly as if it had looked at every byte.
 */
size_t
rec_utf8_bin_len(const uint8_t *s, size_t n, size_t textrun)
{
	size_t i = 0, run = 0;
	unsigned st = S_OK;
	int lv = textrun > 16 ? simd() : 0;

	if (textrun == 0)
		textrun = 1;
	while (i < n) {
		unsigned c, ns;

		if (lv > 0 && st == S_OK && run == i && i > 0) {
			size_t f = i;

#ifdef REC_AVX2
			/* A block's marked bytes leave gaps of 30 at most inside it. */
			if (lv >= 2 && textrun >= 32)
				f = skip_avx2(s, n, f, textrun);
#endif
#ifdef __SSE2__
			f = skip_sse2(s, n, f, textrun);
#endif
			i = run = f;
			if (i == n)
				break;
		}
		c = u_class[s[i]];
		if ((ns = u_next[st][c]) == S_ERR) {
			/* The byte that broke the sequence may begin the next. */
			if ((ns = u_next[S_OK][c]) == S_ERR) {
				ns = S_OK;
				run = i + 1;
			} else
				run = i;
		}
		st = ns;
		i++;
		if (st == S_OK && i - run >= textrun)
			return run;
	}
	return run;
}

int
rec_base64_decode(const char *s, size_t n, struct rec_buf *out)
{
	size_t got;
	int r;

	if (n % 4 != 0)
		return MG_ERR_PARSE;
	if ((r = reserve(out, n / 4 * 3)) != 0)
		return r;
	if ((r = mg_b64_decode(s, n, out->p + out->len, &got)) != 0)
		return r;
	out->len += got;
	out->p[out->len] = '\0';
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
rec_hex_decode(const char *s, size_t n, uint8_t *out, size_t outlen)
{
	size_t i;

	if (n != outlen * 2)
		return MG_ERR_PARSE;
	for (i = 0; i < outlen; i++) {
		int h = hexval(s[2 * i]), l = hexval(s[2 * i + 1]);

		if (h < 0 || l < 0)
			return MG_ERR_PARSE;
		out[i] = (uint8_t)(h << 4 | l);
	}
	return 0;
}

