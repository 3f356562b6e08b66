/* SPDX-License-Identifier: BSD-2-Clause */
/* Small shared helpers: error messages into caller buffers, strict base64. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "mg_err.h"
#include "mg_util.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define MG_B64_SSSE3 1
#endif

void
mg_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *
mg_quote(const char *s, char *buf, size_t len)
{
	size_t i;

	if (len == 0)
		return "";
	for (i = 0; s[i] != '\0' && i + 1 < len; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	/* Show that the value was cut rather than silently shortening it. */
	if (s[i] != '\0' && i >= 3)
		buf[i - 1] = buf[i - 2] = buf[i - 3] = '.';
	buf[i] = '\0';
	return buf;
}

void
mg_seterr_value(char *err, size_t errlen, const char *what, const char *value,
    const char *why)
{
	char q[72];

	if (err == NULL || errlen == 0)
		return;
	snprintf(err, errlen, "%s \"%s\"%s%s", what, mg_quote(value, q, sizeof(q)),
	    why != NULL ? ": " : "", why != NULL ? why : "");
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
mg_b64_decode(const char *s, size_t n, unsigned char *out, size_t *outlen)
{
	size_t i, o = 0, pad = 0;
	uint32_t acc;
	int j, v;

	*outlen = 0;
	if (n % 4 != 0)
		return MG_ERR_PARSE;
	if (n > 0 && s[n - 1] == '=')
		pad = s[n - 2] == '=' ? 2 : 1;
	for (i = 0; i < n; i += 4) {
		int last = i + 4 == n;

		acc = 0;
		for (j = 0; j < 4; j++) {
			if (last && j >= 4 - (int)pad)
				v = 0;
			else if ((v = b64_value((unsigned char)s[i + j])) < 0)
				return MG_ERR_PARSE;
			acc = acc << 6 | (uint32_t)v;
		}
		out[o++] = (unsigned char)(acc >> 16);
		/* Bits the padding leaves unused must be zero: one spelling. */
		if (last && pad == 2) {
			if ((acc & 0xffff) != 0)
				return MG_ERR_PARSE;
			break;
		}
		out[o++] = (unsigned char)(acc >> 8);
		if (last && pad == 1) {
			if ((acc & 0xff) != 0)
				return MG_ERR_PARSE;
			break;
		}
		out[o++] = (unsigned char)acc;
	}
	*outlen = o;
	return 0;
}

#ifdef MG_B64_SSSE3
/*
 * Base64 with SSSE3, 12 input bytes to 16 characters a step, while 16
 * bytes can be loaded. Each 3-byte group a b c is spread over a 32-bit
 * lane as the bytes b a c b; two masked 16-bit multiplies move the four
 * 6-bit fields i0..i3 (a>>2, a<<4|b>>4, b<<2|c>>6, c) into the lane's
 * four bytes; a 16-entry table of offsets, picked per byte from the
 * field's range (A-Z, a-z, 0-9, +, /), turns each into its character.
 * Returns the input bytes done (a multiple of 3; 4/3 as many written).
 */
__attribute__((target("ssse3"))) static size_t
b64_encode_ssse3(const unsigned char *in, size_t len, char *out)
{
	const __m128i spread = _mm_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9,
	    11, 10);
	const __m128i m_hi = _mm_set1_epi32(0x0fc0fc00), mul_hi = _mm_set1_epi32(0x04000040);
	const __m128i m_lo = _mm_set1_epi32(0x003f03f0), mul_lo = _mm_set1_epi32(0x01000010);
	const __m128i offsets = _mm_setr_epi8(71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4,
	    -19, -16, 65, 0, 0);
	size_t i = 0, n = 0;

	for (; i + 16 <= len; i += 12, n += 16) {
		__m128i v = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(in + i)), spread);
		__m128i idx = _mm_or_si128(_mm_mulhi_epu16(_mm_and_si128(v, m_hi), mul_hi),
		    _mm_mullo_epi16(_mm_and_si128(v, m_lo), mul_lo));
		/* 0 for A-Z... : 13 below 26, 0 for 26..51, 1..12 for 52..63 */
		__m128i r = _mm_subs_epu8(idx, _mm_set1_epi8(51));
		__m128i lt26 = _mm_cmpgt_epi8(_mm_set1_epi8(26), idx);

		r = _mm_or_si128(r, _mm_and_si128(lt26, _mm_set1_epi8(13)));
		_mm_storeu_si128((__m128i *)(out + n),
		    _mm_add_epi8(idx, _mm_shuffle_epi8(offsets, r)));
	}
	return i;
}

/*
 * The same with AVX2, 24 bytes to 32 characters a step: each 128-bit lane
 * does what one SSSE3 step does, on 12 bytes loaded into it on their own.
 */
__attribute__((target("avx2"))) static size_t
b64_encode_avx2(const unsigned char *in, size_t len, char *out)
{
	const __m256i spread = _mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9,
	    11, 10, 1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
	const __m256i m_hi = _mm256_set1_epi32(0x0fc0fc00), mul_hi = _mm256_set1_epi32(0x04000040);
	const __m256i m_lo = _mm256_set1_epi32(0x003f03f0), mul_lo = _mm256_set1_epi32(0x01000010);
	const __m256i offsets = _mm256_setr_epi8(71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4,
	    -19, -16, 65, 0, 0, 71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0);
	size_t i = 0, n = 0;

	for (; i + 28 <= len; i += 24, n += 32) {
		__m256i v = _mm256_set_m128i(_mm_loadu_si128((const __m128i *)(in + i + 12)),
		    _mm_loadu_si128((const __m128i *)(in + i)));
		__m256i idx, r, lt26;

		v = _mm256_shuffle_epi8(v, spread);
		idx = _mm256_or_si256(_mm256_mulhi_epu16(_mm256_and_si256(v, m_hi), mul_hi),
		    _mm256_mullo_epi16(_mm256_and_si256(v, m_lo), mul_lo));
		r = _mm256_subs_epu8(idx, _mm256_set1_epi8(51));
		lt26 = _mm256_cmpgt_epi8(_mm256_set1_epi8(26), idx);
		r = _mm256_or_si256(r, _mm256_and_si256(lt26, _mm256_set1_epi8(13)));
		_mm256_storeu_si256((__m256i *)(void *)(out + n),
		    _mm256_add_epi8(idx, _mm256_shuffle_epi8(offsets, r)));
	}
	return i;
}

/*
 * The widest of the above the CPU runs (2 AVX2, 1 SSSE3, 0 none), checked
 * once; relaxed atomics, as threads may ask first at the same time.
 */
static int b64_level = -1, b64_cap = 2;

static int
b64_simd(void)
{
	int l = __atomic_load_n(&b64_level, __ATOMIC_RELAXED), cap;

	if (l < 0) {
		l = __builtin_cpu_supports("avx2") ? 2 : __builtin_cpu_supports("ssse3") ? 1 : 0;
		__atomic_store_n(&b64_level, l, __ATOMIC_RELAXED);
	}
	cap = __atomic_load_n(&b64_cap, __ATOMIC_RELAXED);
	return l < cap ? l : cap;
}
#endif

int
mg_b64_simd_limit(int max)
{
#ifdef MG_B64_SSSE3
	return __atomic_exchange_n(&b64_cap, max, __ATOMIC_RELAXED);
#else
	(void)max;
	return 0;
#endif
}

void
mg_b64_encode(const void *inp, size_t len, int pad, char *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *in = inp;
	size_t i = 0, n = 0;
	uint32_t acc;
#ifdef MG_B64_SSSE3
	int lv;
#endif

#ifdef MG_B64_SSSE3
	/* Recordings of binary output are mostly this: 24 or 12 bytes at a time. */
	if (len >= 16 && (lv = b64_simd()) > 0) {
		if (lv >= 2)
			i = b64_encode_avx2(in, len, out);
		i += b64_encode_ssse3(in + i, len - i, out + i / 3 * 4);
		n = i / 3 * 4;
	}
#endif
	for (; i + 3 <= len; i += 3) {
		acc = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[n++] = tab[(acc >> 18) & 0x3f];
		out[n++] = tab[(acc >> 12) & 0x3f];
		out[n++] = tab[(acc >> 6) & 0x3f];
		out[n++] = tab[acc & 0x3f];
	}
	if (len - i == 1) {
		acc = (uint32_t)in[i] << 16;
		out[n++] = tab[(acc >> 18) & 0x3f];
		out[n++] = tab[(acc >> 12) & 0x3f];
		if (pad) {
			out[n++] = '=';
			out[n++] = '=';
		}
	} else if (len - i == 2) {
		acc = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[n++] = tab[(acc >> 18) & 0x3f];
		out[n++] = tab[(acc >> 12) & 0x3f];
		out[n++] = tab[(acc >> 6) & 0x3f];
		if (pad)
			out[n++] = '=';
	}
	out[n] = '\0';
}

int
mg_write_full(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = { fd, POLLOUT, 0 };

			if (poll(&pf, 1, 1000) < 0 && errno != EINTR)
				return -1;
			if (pf.revents & (POLLERR | POLLHUP | POLLNVAL))
				return -1;
			continue;
		}
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}
