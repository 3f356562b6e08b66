/* SPDX-License-Identifier: BSD-2-Clause */
/* Making recorded terminal bytes safe to show on an auditor's terminal. */
#ifndef REC_SANITIZE_H
#define REC_SANITIZE_H

#include <stddef.h>
#include <stdint.h>

#include "rec_buf.h"

/*
 * A recording holds bytes that a target or an engineer chose. Sent to a
 * terminal as they are, some of them act on the auditor's machine (OSC 52
 * writes the clipboard), mislead (OSC 8 links, titles) or make the terminal
 * answer (DA, DSR, title reports, DECRQSS), and the answers then arrive as
 * if typed. The filter below is a streaming state machine (ECMA-48 and the
 * DEC parser, UTF-8 aware) that keeps what draws a screen and drops the rest.
 *
 * REC_SAN_OUTPUT keeps: printable text (valid UTF-8, no C1 controls); BEL,
 * BS, HT, LF, VT, FF, CR, SO, SI; SGR (colours), cursor movement, erase,
 * insert/delete, scrolling regions, the alternate screen and other DEC
 * modes that do not report, charset designation (line drawing), DECSC,
 * DECRC, keypad modes, IND, NEL, RI, HTS, RIS, DECSCUSR and DECSTR.
 * Everything else is dropped whole: OSC, DCS, SOS, PM and APC strings,
 * every query and report (DA, DSR, CSI t, XTVERSION, DECRQM...), mouse
 * and focus reporting modes, keyboard lock, S8C1T, ESC %, ENQ and other
 * C0 controls. C1 controls in UTF-8 (C2 80..C2 9F) are read as their 7-bit
 * equivalents, as a UTF-8 terminal reads them; what is kept is written
 * 7-bit. Bytes that are not valid UTF-8 (8-bit C1 bytes 0x80..0x9F,
 * overlongs, surrogates, above U+10FFFF, cut sequences) become U+FFFD, as
 * a UTF-8 terminal shows them: no byte 0x80..0x9F is ever written, so no
 * terminal, in UTF-8 mode or not, acts on an 8-bit control either. The
 * output never holds an unfinished sequence, so the terminal is back in
 * its ground state after each call.
 *
 * REC_SAN_INPUT is for what a terminal sends while a recording plays:
 * every escape sequence and string (a terminal's answers, 7-bit or 8-bit)
 * is dropped, plain keys and C0 controls are kept.
 */
enum rec_san_mode {
	REC_SAN_OUTPUT,
	REC_SAN_INPUT,
};

/* A control sequence longer than this is dropped whole. */
#define REC_SAN_SEQ_MAX 256
/*
 * An OSC, DCS, SOS, PM or APC string is dropped up to this many bytes; an
 * unterminated one ends there, and what follows is shown, so a recording
 * cannot hide the rest of a session behind one unfinished string.
 */
#define REC_SAN_STRING_MAX 65536

struct rec_san;

/* Returns 0 or MG_ERR_NOMEM; free with rec_san_free(). */
int rec_san_new(enum rec_san_mode mode, struct rec_san **out);
void rec_san_free(struct rec_san *s);
/*
 * Filters p[0..n) and appends what is kept to out. A sequence split across
 * calls is held until it ends. Returns 0 or MG_ERR_NOMEM.
 */
int rec_san_feed(struct rec_san *s, const void *p, size_t n, struct rec_buf *out);
/*
 * The end of the stream: an unfinished sequence is dropped, a cut UTF-8
 * sequence becomes U+FFFD. The filter is then as new.
 */
int rec_san_flush(struct rec_san *s, struct rec_buf *out);
/* 1 when the filter is inside a sequence or string (more bytes will finish it). */
int rec_san_pending(const struct rec_san *s);
/* Forgets an unfinished sequence (a key read after a lone ESC, say). */
void rec_san_reset(struct rec_san *s);

/*
 * Appends s[0..n) for display on a terminal, as less(1) shows what it
 * cannot print: C0 controls and DEL as ^X (^[ for ESC, ^? for DEL), C1
 * controls as <U+0080>..<U+009F>, each byte that is not valid UTF-8 as
 * <XX>. Returns 0 or MG_ERR_NOMEM.
 */
int rec_san_str(struct rec_buf *b, const void *s, size_t n);
/* rec_san_str into a buffer of its own: a NUL-terminated string, or "?" when out of memory. */
const char *rec_san_cstr(struct rec_buf *b, const char *s);
/*
 * Writes src escaped as rec_san_str() does into dst[0..len), NUL-terminated,
 * cut at a character boundary when too long. For messages that quote a file.
 */
void rec_san_msg(char *dst, size_t len, const char *src);
/*
 * Appends s as a quoted JSON string that is safe on a terminal: C0, DEL and
 * C1 controls escaped as \u00XX, invalid UTF-8 replaced by U+FFFD.
 */
int rec_san_json(struct rec_buf *b, const char *s);

/*
 * One step of a strict UTF-8 decoder (RFC 3629): the length of the complete,
 * valid sequence at s[0..n) and *cp, or 0 when s[0] starts no valid
 * sequence; *partial is set (and 0 returned) when s[0..n) is a valid but
 * unfinished prefix.
 */
size_t rec_san_utf8(const uint8_t *s, size_t n, uint32_t *cp, int *partial);

#endif
