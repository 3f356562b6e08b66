/* SPDX-License-Identifier: BSD-2-Clause */
/* The TOTP secret and lockout record file formats: strict parsers and formatters. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_err.h"
#include "mfa_store.h"

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int
mfa_base32_encode(const unsigned char *in, size_t len, char *out, size_t outlen)
{
	size_t i, o = 0;
	unsigned int acc = 0;
	int bits = 0;

	if (len > (SIZE_MAX - 4) / 8 || outlen < (len * 8 + 4) / 5 + 1)
		return MG_ERR_TOOBIG;
	for (i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32_alphabet[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = b32_alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	acc = 0;
	return 0;
}

int
mfa_base32_decode(const char *in, size_t inlen, unsigned char *out,
    size_t outmax, size_t *outlen)
{
	unsigned int acc = 0;
	size_t i, o = 0;
	int bits = 0, pad = 0, r = 0;

	*outlen = 0;
	for (i = 0; i < inlen && in[i] != '\0'; i++) {
		int c = toupper((unsigned char)in[i]), v;

		if (c == ' ')
			continue;
		if (c == '=') {
			pad = 1;
			continue;
		}
		if (pad) {
			r = MG_ERR_PARSE;	/* data after padding */
			goto out;
		}
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= '2' && c <= '7')
			v = c - '2' + 26;
		else {
			r = MG_ERR_PARSE;
			goto out;
		}
		acc = (acc << 5) | (unsigned)v;
		bits += 5;
		if (bits >= 8) {
			if (o >= outmax) {
				r = MG_ERR_TOOBIG;
				goto out;
			}
			out[o++] = (unsigned char)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	/* Leftover bits must be zero padding, fewer than a byte. */
	if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
		r = MG_ERR_PARSE;
 out:
	acc = 0;
	if (r != 0) {
		explicit_bzero(out, outmax);
		return r;
	}
	*outlen = o;
	return 0;
}

int
mfa_user_ok(const char *s)
{
	size_t i, n;

	if (s == NULL)
		return 0;
	n = strlen(s);
	if (n == 0 || n > 32 || !(islower((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) &&
		    s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

int
mfa_alg_parse(const char *s, enum mfa_alg *out)
{
	if (strcmp(s, "sha1") == 0)
		*out = MFA_SHA1;
	else if (strcmp(s, "sha256") == 0)
		*out = MFA_SHA256;
	else if (strcmp(s, "sha512") == 0)
		*out = MFA_SHA512;
	else
		return MG_ERR_PARSE;
	return 0;
}

const char *
mfa_alg_name(enum mfa_alg a)
{
	switch (a) {
	case MFA_SHA1:	return "sha1";
	case MFA_SHA256:	return "sha256";
	case MFA_SHA512:	return "sha512";
	}
	return "?";
}

/* A non-negative decimal integer, no sign, no spaces, at most max. */
static int
num_parse(const char *s, int64_t max, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (s[0] == '\0' || strlen(s) > 19)
		return MG_ERR_PARSE;
	for (i = 0; s[i] != '\0'; i++) {
		if (!isdigit((unsigned char)s[i]))
			return MG_ERR_PARSE;
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
			return MG_ERR_PARSE;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return MG_ERR_PARSE;
	*out = v;
	return 0;
}

/*
 * Splits buf into lines and calls fn(key, value) for each "key = value";
 * blank lines and '#' comments are skipped. A line longer than 1023 bytes,
 * a NUL byte or a line without '=' is an error. Keys and values are
 * trimmed; the line copy is wiped after use as it may hold a secret.
 */
static int
each_line(const char *buf, size_t len, int (*fn)(void *, const char *,
    const char *, char *, size_t), void *ctx, char *err, size_t errlen)
{
	char line[1024], *k, *v, *eq, *end;
	size_t pos = 0, n;
	int lineno = 0, r = 0;

	if (memchr(buf, '\0', len) != NULL) {
		snprintf(err, errlen, "the file contains a NUL byte");
		return MG_ERR_PARSE;
	}
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);

		n = nl != NULL ? (size_t)(nl - (buf + pos)) : len - pos;
		lineno++;
		if (n >= sizeof(line)) {
			snprintf(err, errlen, "line %d: too long", lineno);
			r = MG_ERR_PARSE;
			break;
		}
		memcpy(line, buf + pos, n);
		line[n] = '\0';
		pos += n + (nl != NULL);
		for (k = line; *k == ' ' || *k == '\t'; k++)
			;
		if (*k == '\0' || *k == '#')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			snprintf(err, errlen, "line %d: expected key = value", lineno);
			r = MG_ERR_PARSE;
			break;
		}
		for (end = eq; end > k && (end[-1] == ' ' || end[-1] == '\t'); end--)
			;
		*end = '\0';
		for (v = eq + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (end = v + strlen(v); end > v && (end[-1] == ' ' ||
		    end[-1] == '\t' || end[-1] == '\r'); end--)
			;
		*end = '\0';
		if ((r = fn(ctx, k, v, err, errlen)) != 0) {
			/* Prefix the line number to the callback's message. */
			char m[256];

			snprintf(m, sizeof(m), "%s", err);
			snprintf(err, errlen, "line %d: %.200s", lineno, m);
			break;
		}
	}
	explicit_bzero(line, sizeof(line));
	return r;
}

/* Keys of the secret file, each seen at most once. */
enum { SK_VERSION, SK_STATUS, SK_ALG, SK_DIGITS, SK_PERIOD, SK_SECRET,
	SK_LAST, SK_CREATED, SK_N };
static const char *const secret_keys[SK_N] = {
	"version", "status", "algorithm", "digits", "period", "secret",
	"last_step", "created"
};

struct sctx {
	struct mfa_secret *s;
	int seen[SK_N];
};

static int
secret_kv(void *vc, const char *k, const char *v, char *err, size_t errlen)
{
	struct sctx *c = vc;
	struct mfa_secret *s = c->s;
	int64_t n;
	int i;

	for (i = 0; i < SK_N; i++)
		if (strcmp(k, secret_keys[i]) == 0)
			break;
	if (i == SK_N) {
		snprintf(err, errlen, "unknown key '%.32s'", k);
		return MG_ERR_PARSE;
	}
	if (c->seen[i]++) {
		snprintf(err, errlen, "'%s' given twice", k);
		return MG_ERR_PARSE;
	}
	switch (i) {
	case SK_VERSION:
		if (strcmp(v, "1") != 0) {
			snprintf(err, errlen, "unsupported version");
			return MG_ERR_PARSE;
		}
		return 0;
	case SK_STATUS:
		if (strcmp(v, "pending") == 0)
			s->status = MFA_PENDING;
		else if (strcmp(v, "active") == 0)
			s->status = MFA_ACTIVE;
		else {
			snprintf(err, errlen, "status must be pending or active");
			return MG_ERR_PARSE;
		}
		return 0;
	case SK_ALG:
		if (mfa_alg_parse(v, &s->alg) != 0) {
			snprintf(err, errlen, "algorithm must be sha1, sha256 or sha512");
			return MG_ERR_PARSE;
		}
		return 0;
	case SK_DIGITS:
		if (num_parse(v, 8, &n) != 0 || (n != 6 && n != 8)) {
			snprintf(err, errlen, "digits must be 6 or 8");
			return MG_ERR_PARSE;
		}
		s->digits = (int)n;
		return 0;
	case SK_PERIOD:
		if (num_parse(v, 300, &n) != 0 || n < 15) {
			snprintf(err, errlen, "period must be 15 to 300");
			return MG_ERR_PARSE;
		}
		s->period = (int)n;
		return 0;
	case SK_SECRET:
		/* The message never quotes the value: it is the secret. */
		if (mfa_base32_decode(v, strlen(v), s->key, sizeof(s->key),
		    &s->keylen) != 0 || s->keylen < MFA_KEY_MIN) {
			snprintf(err, errlen, "secret is not base32 of %d to %d bytes",
			    MFA_KEY_MIN, MFA_KEY_MAX);
			return MG_ERR_PARSE;
		}
		return 0;
	case SK_LAST:
		if (num_parse(v, INT64_MAX / 2, &s->last_step) != 0) {
			snprintf(err, errlen, "last_step must be a number");
			return MG_ERR_PARSE;
		}
		return 0;
	case SK_CREATED:
		if (num_parse(v, INT64_MAX / 2, &s->created) != 0) {
			snprintf(err, errlen, "created must be a number");
			return MG_ERR_PARSE;
		}
		return 0;
	}
	return MG_ERR_INTERNAL;
}

int
mfa_secret_parse(const char *buf, size_t len, struct mfa_secret *out,
    char *err, size_t errlen)
{
	struct sctx c;
	int r, i;

	memset(out, 0, sizeof(*out));
	out->last_step = -1;
	memset(&c, 0, sizeof(c));
	c.s = out;
	if (len > MFA_FILE_MAX) {
		snprintf(err, errlen, "file too large");
		return MG_ERR_PARSE;
	}
	if ((r = each_line(buf, len, secret_kv, &c, err, errlen)) != 0)
		goto fail;
	for (i = 0; i <= SK_SECRET; i++) {
		if (!c.seen[i]) {
			snprintf(err, errlen, "'%s' is missing", secret_keys[i]);
			r = MG_ERR_PARSE;
			goto fail;
		}
	}
	return 0;
 fail:
	mfa_secret_wipe(out);
	out->last_step = -1;
	return r;
}

int
mfa_secret_format(const struct mfa_secret *s, char **out, size_t *outlen)
{
	char b32[(MFA_KEY_MAX * 8 + 4) / 5 + 1], last[48];
	char *buf;
	int n;
	const size_t cap = 1024;

	*out = NULL;
	*outlen = 0;
	if (s->keylen < MFA_KEY_MIN || s->keylen > MFA_KEY_MAX ||
	    (s->digits != 6 && s->digits != 8) || s->period < 15 || s->period > 300 ||
	    (s->status != MFA_PENDING && s->status != MFA_ACTIVE) ||
	    s->last_step < -1 || s->created < 0)
		return MG_ERR_INVAL;
	if (mfa_base32_encode(s->key, s->keylen, b32, sizeof(b32)) != 0)
		return MG_ERR_INTERNAL;
	if ((buf = malloc(cap)) == NULL) {
		explicit_bzero(b32, sizeof(b32));
		return MG_ERR_NOMEM;
	}
	if (s->last_step >= 0)
		snprintf(last, sizeof(last), "last_step = %" PRId64 "\n", s->last_step);
	else
		last[0] = '\0';
	n = snprintf(buf, cap,
	    "# mspgate TOTP secret: see mspgate-enroll(8). Do not copy or edit.\n"
	    "version = 1\nstatus = %s\nalgorithm = %s\ndigits = %d\nperiod = %d\n"
	    "secret = %s\n%screated = %" PRId64 "\n",
	    s->status == MFA_ACTIVE ? "active" : "pending", mfa_alg_name(s->alg),
	    s->digits, s->period, b32, last, s->created);
	explicit_bzero(b32, sizeof(b32));
	if (n < 0 || (size_t)n >= cap) {
		explicit_bzero(buf, cap);
		free(buf);
		return MG_ERR_INTERNAL;
	}
	*out = buf;
	*outlen = (size_t)n;
	return 0;
}

void
mfa_secret_wipe(struct mfa_secret *s)
{
	if (s != NULL)
		explicit_bzero(s, sizeof(*s));
}

struct lctx {
	struct mfa_lockrec *r;
	int seen_f, seen_l;
};

static int
lock_kv(void *vc, const char *k, const char *v, char *err, size_t errlen)
{
	struct lctx *c = vc;
	char tok[32];
	const char *p;
	int64_t n, prev = 0;
	size_t tl;

	if (strcmp(k, "locked_until") == 0) {
		if (c->seen_l++ || num_parse(v, INT64_MAX / 2, &c->r->locked_until) != 0) {
			snprintf(err, errlen, "bad or repeated locked_until");
			return MG_ERR_PARSE;
		}
		return 0;
	}
	if (strcmp(k, "failures") != 0) {
		snprintf(err, errlen, "unknown key '%.32s'", k);
		return MG_ERR_PARSE;
	}
	if (c->seen_f++) {
		snprintf(err, errlen, "'failures' given twice");
		return MG_ERR_PARSE;
	}
	for (p = v; *p != '\0';) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		tl = strcspn(p, " ");
		if (tl >= sizeof(tok) || c->r->nfail >= MFA_MAX_FAIL) {
			snprintf(err, errlen, "too many or too long failure times");
			return MG_ERR_PARSE;
		}
		memcpy(tok, p, tl);
		tok[tl] = '\0';
		p += tl;
		/* Oldest first: a record out of order is not one we wrote. */
		if (num_parse(tok, INT64_MAX / 2, &n) != 0 || n < prev) {
			snprintf(err, errlen, "bad failure time");
			return MG_ERR_PARSE;
		}
		prev = n;
		c->r->fail[c->r->nfail++] = n;
	}
	return 0;
}

int
mfa_lockrec_parse(const char *buf, size_t len, struct mfa_lockrec *out,
    char *err, size_t errlen)
{
	struct lctx c;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.r = out;
	if (len > MFA_FILE_MAX * 8) {
		snprintf(err, errlen, "file too large");
		return MG_ERR_PARSE;
	}
	if ((r = each_line(buf, len, lock_kv, &c, err, errlen)) != 0)
		memset(out, 0, sizeof(*out));
	return r;
}

int
mfa_lockrec_format(const struct mfa_lockrec *r, char **out, size_t *outlen)
{
	size_t cap = 128 + r->nfail * 21, o, i;
	char *buf;
	int n;

	*out = NULL;
	*outlen = 0;
	if (r->nfail > MFA_MAX_FAIL || r->locked_until < 0)
		return MG_ERR_INVAL;
	if ((buf = malloc(cap)) == NULL)
		return MG_ERR_NOMEM;
	n = snprintf(buf, cap, "# mspgate lockout record: see mspgate-enroll(8)\n"
	    "locked_until = %" PRId64 "\nfailures =", r->locked_until);
	o = (size_t)n;
	for (i = 0; i < r->nfail; i++) {
		if (r->fail[i] < 0 || (i > 0 && r->fail[i] < r->fail[i - 1])) {
			free(buf);
			return MG_ERR_INVAL;
		}
		o += (size_t)snprintf(buf + o, cap - o, " %" PRId64, r->fail[i]);
	}
	o += (size_t)snprintf(buf + o, cap - o, "\n");
	*out = buf;
	*outlen = o;
	return 0;
}
