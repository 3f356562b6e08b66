/* SPDX-License-Identifier: BSD-2-Clause */
/* Growable byte buffers and the encodings the recorder needs (UTF-8, JSON strings, base64, hex). */
#ifndef REC_BUF_H
#define REC_BUF_H

#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer; always NUL-terminated after a successful append. */
struct rec_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
};

/* Appenders return 0 or MG_ERR_NOMEM (the buffer is left as it was). */
int rec_buf_add(struct rec_buf *b, const void *p, size_t n);
int rec_buf_addc(struct rec_buf *b, int c);
int rec_buf_adds(struct rec_buf *b, const char *s);
/* Appends n NUL bytes. */
int rec_buf_addz(struct rec_buf *b, size_t n);
int rec_buf_addf(struct rec_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s[0..n) as a quoted JSON string. s must be valid UTF-8
 * (rec_utf8_valid_len(s, n) == n); control characters, '"', '\\' and DEL are escaped. */
int rec_buf_json_str(struct rec_buf *b, const void *s, size_t n);
/*
 * Appends, as a quoted JSON string, the longest prefix of s[0..n) made of
 * complete, valid UTF-8 sequences (validation and escaping in one pass);
 * *used gets its length. Appends nothing when that prefix is empty.
 */
int rec_buf_json_utf8(struct rec_buf *b, const void *s, size_t n, size_t *used);
/*
 * Control bytes that escape to six (\u00XX) and that a terminal ignores or
 * seldom acts on: C0 except BEL, BS, TAB, LF, VT, FF, CR and ESC, and DEL.
 * A run of REC_CTL_RUN or more of them is binary data (a NUL-padded file,
 * /dev/zero), which recordings keep base64-encoded instead.
 */
#define REC_CTL_RUN 16
/* The length of the run of such bytes at the start of p[0..n). */
size_t rec_ctl_run_len(const void *p, size_t n);
/* The length of the run of NUL bytes at the start of p[0..n). */
size_t rec_zero_run_len(const void *p, size_t n);
/* rec_buf_json_utf8 that also stops before a run of REC_CTL_RUN such bytes. */
int rec_buf_json_text(struct rec_buf *b, const void *s, size_t n, size_t *used);
/* Appends a C string as a JSON string, replacing invalid UTF-8 with U+FFFD. */
int rec_buf_json_cstr(struct rec_buf *b, const char *s);
/* Base64 (RFC 4648, padded) and lowercase hex. */
int rec_buf_base64(struct rec_buf *b, const void *p, size_t n);
int rec_buf_hex(struct rec_buf *b, const void *p, size_t n);
void rec_buf_reset(struct rec_buf *b);	/* len = 0, keeps memory */
void rec_buf_free(struct rec_buf *b);	/* wipes and frees; b may be zeroed again */

/*
 * Length of the longest prefix of s[0..n) made of complete, valid UTF-8
 * sequences (strict: no overlongs, no surrogates, nothing above U+10FFFF).
 */
size_t rec_utf8_valid_len(const uint8_t *s, size_t n);
/*
 * Length of one maximal invalid run at the start of s: bytes that cannot
 * begin a valid sequence. *partial is set when s[0..n) is an incomplete
 * but so far valid sequence (it may still be completed by later bytes);
 * the return value is then n.
 */
size_t rec_utf8_invalid_len(const uint8_t *s, size_t n, int *partial);

/*
 * Length of the binary (not text) run at the start of s[0..n), found in one
 * pass: it ends where a run of at least textrun bytes of complete, valid
 * UTF-8 begins, or where a valid run that reaches n begins (one that may
 * end in an incomplete sequence, which later bytes may complete); n if
 * neither. 0 when s[0..n) itself is such a run.
 */
size_t rec_utf8_bin_len(const uint8_t *s, size_t n, size_t textrun);
/*
 * For tests: the vector code used at most (0 plain C, 1 SSE2, 2 AVX2; the
 * CPU's best by default); returns the limit before.
 */
int rec_buf_simd_limit(int max);

/* Strict base64 decoding (padding required, no whitespace). */
int rec_base64_decode(const char *s, size_t n, struct rec_buf *out);
/* Strict lowercase/uppercase hex into exactly outlen bytes. */
int rec_hex_decode(const char *s, size_t n, uint8_t *out, size_t outlen);

#endif
