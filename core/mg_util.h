/* SPDX-License-Identifier: BSD-2-Clause */
/* Small shared helpers: error messages into caller buffers, strict base64. */
#ifndef MG_UTIL_H
#define MG_UTIL_H

#include <stddef.h>

/* Formats into err (if err != NULL and errlen > 0). */
void mg_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Copies s into buf (len bytes) for an error message: bounded, control and
 * non-ASCII bytes shown as '?', and "..." at the end when s was cut, since
 * values may come from any file. Returns buf ("" when len is 0).
 */
const char *mg_quote(const char *s, char *buf, size_t len);

/* Formats `what "value": why` into err (why may be NULL), value quoted. */
void mg_seterr_value(char *err, size_t errlen, const char *what,
    const char *value, const char *why);

/* Bytes mg_b64_encode writes for n input bytes, padded, plus the NUL. */
#define MG_B64_ENCLEN(n)	(((n) + 2) / 3 * 4 + 1)

/*
 * Decodes padded base64 and nothing else: no whitespace, padding only at
 * the end and unused low bits zero, so each byte string has exactly one
 * spelling. out must hold n / 4 * 3 bytes. Returns 0 (*outlen set) or
 * MG_ERR_PARSE.
 */
int mg_b64_decode(const char *s, size_t n, unsigned char *out, size_t *outlen);
/* Encodes base64, padded or not (SSH fingerprints); out is NUL-terminated. */
void mg_b64_encode(const void *in, size_t len, int pad, char *out);
/*
 * For tests: the vector code mg_b64_encode uses at most (0 none, 1 SSSE3,
 * 2 AVX2; the CPU's best by default); returns the limit before.
 */
int mg_b64_simd_limit(int max);

/*
 * Writes all of p[0..n) to a blocking or non-blocking fd (waiting in poll
 * when it is full). 0, or -1 when the fd is gone or fails.
 */
int mg_write_full(int fd, const void *p, size_t n);

#endif
