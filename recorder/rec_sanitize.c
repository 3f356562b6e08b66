/* SPDX-License-Identifier: BSD-2-Clause */
/* Making recorded terminal bytes safe to show on an auditor's terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_err.h"
#include "rec_sanitize.h"

enum { ST_GROUND, ST_ESC, ST_CSI, ST_STRING };

/* ESC, then at most this many intermediates, then the final byte. */
#define ESC_INTER_MAX 4

struct rec_san {
	enum rec_san_mode mode;
	int st;
	int ignore;		/* the sequence is too long or malformed: drop it at its end */
	uint8_t str_kind;	/* ST_STRING: ']' 'P' 'X' '^' or '_' */
	size_t str_len;		/* ST_STRING: bytes dropped so far */
	uint8_t seq[REC_SAN_SEQ_MAX];	/* ST_ESC, ST_CSI: the sequence so far, 7-bit */
	size_t seqlen;
	uint8_t u[4];		/* a UTF-8 sequence being collected */
	size_t ulen;
};

static const uint8_t fffd[3] = { 0xef, 0xbf, 0xbd };

size_t
rec_san_utf8(const uint8_t *s, size_t n, uint32_t *cp, int *partial)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;
	uint32_t v;

	*partial = 0;
	*cp = c;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;	/* shorter forms are overlong */
		else if (c == 0xed)
			hi = 0x9f;	/* U+D800..U+DFFF are surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;	/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else
		return 0;	/* a continuation byte, C0/C1 (overlong) or F5..FF */
	for (i = 1; i < need; i++) {
		if (i >= n) {
			*partial = 1;
			return 0;
		}
		if (s[i] < lo || s[i] > hi)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = v;
	return need;
}

int
rec_san_new(enum rec_san_mode mode, struct rec_san **out)
{
	struct rec_san *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return MG_ERR_NOMEM;
	s->mode = mode;
	*out = s;
	return 0;
}

void
rec_san_free(struct rec_san *s)
{
	free(s);
}

int
rec_san_pending(const struct rec_san *s)
{
	return s->st != ST_GROUND || s->ulen > 0;
}

static void
to_ground(struct rec_san *s)
{
	s->st = ST_GROUND;
	s->seqlen = 0;
	s->ignore = 0;
	s->str_len = 0;
}

void
rec_san_reset(struct rec_san *s)
{
	to_ground(s);
	s->ulen = 0;
}

/* C0 controls that draw (bell, cursor, line feeds, charset shifts); the rest, ENQ among them, go. */
static int
exec_c0(struct rec_san *s, uint8_t c, struct rec_buf *out)
{
	if (s->mode == REC_SAN_INPUT || (c >= 0x07 && c <= 0x0f))
		return rec_buf_addc(out, c);
	return 0;
}

/* ESC I... F: which of them only draw. */
static int
esc_allowed(const uint8_t *inter, size_t ni, uint8_t f)
{
	if (ni == 0)
		return strchr("78=>DEHMNOcno|}~", f) != NULL;
	/* Designating a character set (ESC ( 0 is line drawing). */
	if (strchr("()*+-./", inter[0]) != NULL && ni <= 2)
		return 1;
	/* Double-height and double-width lines, the alignment pattern. */
	return ni == 1 && inter[0] == '#' && strchr("34568", f) != NULL;
}

/* DEC private modes that change drawing or keys only; mouse, focus, VT52 and
 * notification modes (which make the terminal send) are not among them. */
static const unsigned dec_modes[] = {
	1, 3, 4, 5, 6, 7, 8, 12, 25, 40, 45, 47, 66, 67, 69, 1007, 1010, 1011,
	1034, 1035, 1036, 1037, 1039, 1042, 1043, 1046, 1047, 1048, 1049, 2004,
	2026, 2027,
};

static int
mode_allowed(int private, unsigned v)
{
	size_t i;

	if (!private)
		return v == 4 || v == 20;	/* IRM and LNM; KAM (2) locks the keyboard */
	for (i = 0; i < sizeof(dec_modes) / sizeof(dec_modes[0]); i++) {
		if (dec_modes[i] == v)
			return 1;
	}
	return 0;
}

/* Every parameter of a SM/RM (or DECSET/DECRST) is a mode that only draws. */
static int
modes_allowed(const uint8_t *p, size_t n, int private)
{
	size_t i = 0;

	if (n == 0)
		return 0;
	while (i <= n) {
		unsigned v = 0;
		size_t d = 0;

		while (i < n && p[i] >= '0' && p[i] <= '9') {
			if (v < 100000)
				v = v * 10 + (unsigned)(p[i] - '0');
			i++;
			d++;
		}
		if (d == 0 || !mode_allowed(private, v))
			return 0;
		if (i == n)
			return 1;
		if (p[i] != ';')
			return 0;
		i++;
	}
	return 0;
}

/* CSI P... I... F: which of them only draw. None of them makes a terminal answer. */
static int
csi_allowed(const uint8_t *b, size_t n, uint8_t f)
{
	uint8_t priv = 0;
	size_t np = 0, i;
	int semi = 0, colon = 0;

	if (n > 0 && b[0] >= '<' && b[0] <= '?') {
		priv = b[0];
		b++;
		n--;
	}
	while (np < n && b[np] >= 0x30 && b[np] <= 0x3f) {
		if (b[np] == ';')
			semi = 1;
		else if (b[np] == ':')
			colon = 1;
		else if (b[np] > '9')
			return 0;	/* a private marker after the start */
		np++;
	}
	for (i = np; i < n; i++) {
		if (b[i] < 0x20 || b[i] > 0x2f)
			return 0;	/* a parameter after an intermediate */
	}
	if (colon && !(f == 'm' && priv == 0 && np == n))
		return 0;	/* sub-parameters: only colours use them */
	if (np == n && priv == 0) {
		if (strchr("@ABCDEFGHIJKLMPSXZ`abdefgmrsu", f) != NULL)
			return 1;
		if (f == 'T')
			return !semi;	/* with more parameters: xterm mouse highlighting */
		if (f == 'h' || f == 'l')
			return modes_allowed(b, np, 0);
		return 0;	/* c n t x y i q p...: queries, reports, printing */
	}
	if (np == n && priv == '?') {
		if (f == 'J' || f == 'K')
			return 1;	/* selective erase */
		if (f == 'h' || f == 'l')
			return modes_allowed(b, np, 1);
		return 0;
	}
	if (priv == 0 && n - np == 1) {
		if (b[np] == ' ' && f == 'q')
			return 1;	/* cursor style */
		if (b[np] == '!' && f == 'p' && np == 0)
			return 1;	/* soft reset */
	}
	return 0;
}

static int
seq_add(struct rec_san *s, uint8_t c)
{
	if (s->seqlen >= sizeof(s->seq)) {
		s->ignore = 1;
		return 0;
	}
	s->seq[s->seqlen++] = c;
	return 1;
}

/* A complete sequence: kept (7-bit) when the allow-list says so. */
static int
dispatch(struct rec_san *s, uint8_t f, struct rec_buf *out)
{
	int keep = 0, r = 0;

	if (s->mode == REC_SAN_OUTPUT && !s->ignore && seq_add(s, f)) {
		if (s->st == ST_ESC)
			keep = esc_allowed(s->seq + 1, s->seqlen - 2, f);
		else
			keep = csi_allowed(s->seq + 2, s->seqlen - 3, f);
	}
	if (keep)
		r = rec_buf_add(out, s->seq, s->seqlen);
	to_ground(s);
	return r;
}

static int ascii(struct rec_san *s, uint8_t c, struct rec_buf *out);

/* One byte of a string being dropped: the string ends at its bound. */
static int
string_bytes(struct rec_san *s, size_t n)
{
	if (n > REC_SAN_STRING_MAX - s->str_len) {
		/* Unterminated, or too long to be anything a screen needs. */
		to_ground(s);
		return 1;
	}
	s->str_len += n;
	return 0;
}

static int
ascii(struct rec_san *s, uint8_t c, struct rec_buf *out)
{
	/* From anywhere: CAN and SUB cancel, ESC starts anew (in a string it may be ST). */
	if (c == 0x18 || c == 0x1a) {
		to_ground(s);
		return s->mode == REC_SAN_INPUT ? rec_buf_addc(out, c) : 0;
	}
	if (c == 0x1b) {
		to_ground(s);
		s->st = ST_ESC;
		s->seq[s->seqlen++] = c;
		return 0;
	}
	switch (s->st) {
	case ST_GROUND:
		if (c < 0x20)
			return exec_c0(s, c, out);
		if (c == 0x7f && s->mode == REC_SAN_OUTPUT)
			return 0;	/* DEL draws nothing */
		return rec_buf_addc(out, c);
	case ST_ESC:
		if (c < 0x20)
			return exec_c0(s, c, out);	/* executed inside the sequence */
		if (c == 0x7f)
			return 0;
		if (c < 0x30) {
			if (s->seqlen > ESC_INTER_MAX)
				s->ignore = 1;
			else
				seq_add(s, c);
			return 0;
		}
		if (s->seqlen == 1 && c == '[') {
			s->st = ST_CSI;
			s->seq[s->seqlen++] = c;
			return 0;
		}
		if (s->seqlen == 1 && (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_')) {
			to_ground(s);
			s->st = ST_STRING;
			s->str_kind = c;
			return 0;
		}
		return dispatch(s, c, out);
	case ST_CSI:
		if (c < 0x20)
			return exec_c0(s, c, out);
		if (c == 0x7f)
			return 0;
		if (c < 0x40) {
			seq_add(s, c);
			return 0;
		}
		return dispatch(s, c, out);
	default:	/* ST_STRING */
		if (c == 0x07 && s->str_kind == ']') {
			to_ground(s);	/* BEL ends an OSC (xterm) */
			return 0;
		}
		if (string_bytes(s, 1))
			return ascii(s, c, out);
		return 0;
	}
}

/* A C1 control (UTF-8 or 8-bit): what ESC and its 7-bit equivalent do. */
static int
c1(struct rec_san *s, uint8_t c, struct rec_buf *out)
{
	int r;

	if ((r = ascii(s, 0x1b, out)) != 0)
		return r;
	return ascii(s, (uint8_t)(c - 0x40), out);
}

/* A printable character, or (bad) bytes that are not UTF-8 shown as U+FFFD. */
static int
text(struct rec_san *s, const uint8_t *p, size_t n, int bad, struct rec_buf *out)
{
	if (s->st == ST_STRING) {
		if (!string_bytes(s, bad ? 1 : n))
			return 0;
	} else if (s->st != ST_GROUND)
		to_ground(s);	/* no control sequence holds one: it is broken */
	if (bad)
		return s->mode == REC_SAN_OUTPUT ? rec_buf_add(out, fffd, sizeof(fffd)) : 0;
	return rec_buf_add(out, p, n);
}

static int
byte(struct rec_san *s, uint8_t c, struct rec_buf *out)
{
	uint32_t cp;
	size_t k;
	int partial, r;

	if (s->ulen == 0 && c < 0x80)
		return ascii(s, c, out);
	s->u[s->ulen++] = c;
	k = rec_san_utf8(s->u, s->ulen, &cp, &partial);
	if (partial)
		return 0;
	if (k > 0) {
		s->ulen = 0;
		if (cp < 0xa0)
			return c1(s, (uint8_t)cp, out);
		return text(s, s->u, k, 0, out);
	}
	if (s->ulen == 1) {
		s->ulen = 0;
		/*
		 * A lone 0x80..0x9F. Played, it is shown as a UTF-8 terminal shows
		 * it (U+FFFD), not read as an 8-bit C1 control: what follows it was
		 * visible to the engineer and must not be hidden from the auditor;
		 * no such byte is written, so no terminal can act on one. From a
		 * terminal (its answers after S8C1T) it is the 8-bit control.
		 */
		if (c >= 0x80 && c <= 0x9f && s->mode == REC_SAN_INPUT)
			return c1(s, c, out);
		return text(s, NULL, 0, 1, out);
	}
	/* A valid start cut by c: one U+FFFD for it, then c on its own. */
	s->ulen = 0;
	if ((r = text(s, NULL, 0, 1, out)) != 0)
		return r;
	return byte(s, c, out);
}

int
rec_san_feed(struct rec_san *s, const void *pv, size_t n, struct rec_buf *out)
{
	const uint8_t *p = pv;
	size_t i = 0;
	int r;

	while (i < n) {
		size_t j = i;

		/* Plain text in the ground state, at once. */
		if (s->st == ST_GROUND && s->ulen == 0) {
			while (j < n && p[j] >= 0x20 && p[j] < 0x7f)
				j++;
			if (j > i) {
				if ((r = rec_buf_add(out, p + i, j - i)) != 0)
					return r;
				i = j;
				continue;
			}
		}
		if ((r = byte(s, p[i], out)) != 0)
			return r;
		i++;
	}
	return 0;
}

int
rec_san_flush(struct rec_san *s, struct rec_buf *out)
{
	int r = 0;

	if (s->ulen > 0) {
		s->ulen = 0;
		r = text(s, NULL, 0, 1, out);
	}
	to_ground(s);
	return r;
}

int
rec_san_str(struct rec_buf *b, const void *pv, size_t n)
{
	const uint8_t *p = pv;
	size_t i = 0;
	int r = 0;

	while (i < n && r == 0) {
		uint32_t cp;
		int partial;
		size_t k = rec_san_utf8(p + i, n - i, &cp, &partial);

		if (k == 0) {
			r = rec_buf_addf(b, "<%02X>", p[i]);
			i++;
			continue;
		}
		if (cp < 0x20)
			r = rec_buf_addf(b, "^%c", (char)(cp + 0x40));
		else if (cp == 0x7f)
			r = rec_buf_adds(b, "^?");
		else if (cp >= 0x80 && cp < 0xa0)
			r = rec_buf_addf(b, "<U+%04X>", (unsigned)cp);
		else
			r = rec_buf_add(b, p + i, k);
		i += k;
	}
	return r;
}

const char *
rec_san_cstr(struct rec_buf *b, const char *s)
{
	rec_buf_reset(b);
	if (s == NULL)
		return "-";
	if (rec_san_str(b, s, strlen(s)) != 0 || b->p == NULL)
		return "?";
	if (b->len == 0)
		return "";
	return (const char *)b->p;
}

void
rec_san_msg(char *dst, size_t len, const char *src)
{
	struct rec_buf b = { 0 };
	size_t n, i;

	if (len == 0)
		return;
	if (rec_san_str(&b, src, strlen(src)) != 0 || b.p == NULL) {
		/* Out of memory: no control byte gets through either way. */
		for (i = 0; i + 1 < len && src[i] != '\0'; i++)
			dst[i] = (uint8_t)src[i] < 0x20 || (uint8_t)src[i] >= 0x7f ? '?' : src[i];
		dst[i] = '\0';
		rec_buf_free(&b);
		return;
	}
	n = b.len < len - 1 ? b.len : len - 1;
	/* Do not cut a UTF-8 sequence: back off to its lead byte. */
	if (n < b.len)
		while (n > 0 && (b.p[n] & 0xc0) == 0x80)
			n--;
	memcpy(dst, b.p, n);
	dst[n] = '\0';
	rec_buf_free(&b);
}

int
rec_san_json(struct rec_buf *b, const char *s)
{
	struct rec_buf tmp = { 0 };
	size_t i, from = 0;
	int r;

	/* Valid UTF-8 with C0 and DEL escaped; C1 is left: escape it too. */
	if ((r = rec_buf_json_cstr(&tmp, s)) != 0)
		goto out;
	for (i = 0; i + 1 < tmp.len; i++) {
		/* In valid UTF-8, C2 is always a lead byte: C2 80..9F is U+0080..U+009F. */
		if (tmp.p[i] != 0xc2 || tmp.p[i + 1] < 0x80 || tmp.p[i + 1] > 0x9f)
			continue;
		if ((r = rec_buf_add(b, tmp.p + from, i - from)) != 0 ||
		    (r = rec_buf_addf(b, "\\u%04x", tmp.p[i + 1])) != 0)
			goto out;
		from = i + 2;
		i++;
	}
	r = rec_buf_add(b, tmp.p + from, tmp.len - from);
out:
	rec_buf_free(&tmp);
	return r;
}
