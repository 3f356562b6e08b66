/* SPDX-License-Identifier: BSD-2-Clause */
/* OpenSSH public key lines: strict base64, SSH wire-format checks and fingerprints. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "mg_err.h"
#include "mg_sshkey.h"
#include "mg_util.h"

/* A 16384-bit RSA key is about 2.8 KiB of base64; anything near this is hostile. */
#define KEY_LINE_MAX		(16 * 1024)
/* OpenSSH refuses RSA moduli above this, so a larger one could never log in. */
#define RSA_MAX_BITS		16384
#define RSA_MIN_BITS		2048
/* OpenSSL refuses exponents above 64 bits for large moduli; refuse them here. */
#define RSA_MAX_E_BYTES		8
#define ED25519_PK_LEN		32
#define SK_APP_MAX		256
#define CERT_SUFFIX		"-cert-v01@openssh.com"

struct keyinfo {
	enum mg_keytype type;
	const char *name;
	const char *curve;	/* ECDSA curve identifier inside the blob */
	int nid;		/* libcrypto curve, 0 when not ECDSA */
	unsigned int bits;
	int sk;
};

static const struct keyinfo keyinfos[] = {
	{ MG_KEY_ED25519, "ssh-ed25519", NULL, 0, 256, 0 },
	{ MG_KEY_ECDSA_P256, "ecdsa-sha2-nistp256", "nistp256",
	    NID_X9_62_prime256v1, 256, 0 },
	{ MG_KEY_ECDSA_P384, "ecdsa-sha2-nistp384", "nistp384",
	    NID_secp384r1, 384, 0 },
	{ MG_KEY_ECDSA_P521, "ecdsa-sha2-nistp521", "nistp521",
	    NID_secp521r1, 521, 0 },
	{ MG_KEY_RSA, "ssh-rsa", NULL, 0, 0, 0 },
	{ MG_KEY_SK_ED25519, "sk-ssh-ed25519@openssh.com", NULL, 0, 256, 1 },
	{ MG_KEY_SK_ECDSA_P256, "sk-ecdsa-sha2-nistp256@openssh.com",
	    "nistp256", NID_X9_62_prime256v1, 256, 1 },
};

/* A read cursor over a key blob; every read is bounds-checked. */
struct wire {
	const unsigned char *p;
	size_t left;
};

/*
 * Copies a string that came from the user or from inside a blob into out
 * for an error message: printable ASCII only and bounded, so a hostile key
 * cannot put control bytes into logs.
 */
static const char *
printable(const void *in, size_t len, char *out, size_t outsz)
{
	const unsigned char *s = in;
	size_t i, n = 0;

	for (i = 0; i < len && n + 4 < outsz; i++)
		out[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
	if (i < len && n + 3 < outsz) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

static int
wire_string(struct wire *w, const unsigned char **s, size_t *len)
{
	uint32_t n;

	if (w->left < 4)
		return MG_ERR_PARSE;
	n = (uint32_t)w->p[0] << 24 | (uint32_t)w->p[1] << 16 |
	    (uint32_t)w->p[2] << 8 | w->p[3];
	if (n > w->left - 4)
		return MG_ERR_PARSE;
	*s = w->p + 4;
	*len = n;
	w->p += 4 + (size_t)n;
	w->left -= 4 + (size_t)n;
	return 0;
}

/*
 * Reads an mpint that must be non-negative and minimally encoded (a 0x00
 * only in front of a set top bit), so one key has one blob and equality by
 * blob is sound. Returns the magnitude without the sign byte.
 */
static int
wire_mpint(struct wire *w, const unsigned char **s, size_t *len)
{
	const unsigned char *p;
	size_t n;
	int r;

	if ((r = wire_string(w, &p, &n)) != 0)
		return r;
	if (n > 0 && (p[0] & 0x80) != 0)
		return MG_ERR_PARSE;
	if (n > 0 && p[0] == 0) {
		if (n == 1 || (p[1] & 0x80) == 0)
			return MG_ERR_PARSE;
		p++;
		n--;
	}
	*s = p;
	*len = n;
	return 0;
}

static unsigned int
mag_bits(const unsigned char *p, size_t len)
{
	unsigned int bits;
	unsigned char c;

	if (len == 0)
		return 0;
	bits = (unsigned int)(len - 1) * 8;
	for (c = p[0]; c != 0; c >>= 1)
		bits++;
	return bits;
}

static int
wire_equal(const unsigned char *s, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(s, want, len) == 0;
}

/*
 * Checks an uncompressed EC point the way sshd does before it trusts one:
 * on the curve, not the point at infinity, of the group's order, and with
 * coordinates neither tiny nor above order - 1. A key sshd would refuse is
 * refused here, where the policy check can say why.
 */
static int
ec_point_check(int nid, const unsigned char *q, size_t qlen, char *err, size_t errlen)
{
	EC_GROUP *g = NULL;
	EC_POINT *pt = NULL, *tmp = NULL;
	BN_CTX *ctx = NULL;
	BIGNUM *x, *y, *lim;
	const BIGNUM *order;
	int r = MG_ERR_NOMEM, obits;

	if ((ctx = BN_CTX_new()) == NULL)
		goto out;
	BN_CTX_start(ctx);
	if ((x = BN_CTX_get(ctx)) == NULL || (y = BN_CTX_get(ctx)) == NULL ||
	    (lim = BN_CTX_get(ctx)) == NULL)
		goto out;
	if ((g = EC_GROUP_new_by_curve_name(nid)) == NULL ||
	    (pt = EC_POINT_new(g)) == NULL || (tmp = EC_POINT_new(g)) == NULL)
		goto out;
	r = MG_ERR_PARSE;
	/* oct2point also fails for coordinates >= p and points off the curve. */
	if (EC_POINT_oct2point(g, pt, q, qlen, ctx) != 1 ||
	    EC_POINT_is_on_curve(g, pt, ctx) != 1) {
		mg_seterr(err, errlen, "EC point is not on the curve");
		goto out;
	}
	if (EC_POINT_is_at_infinity(g, pt)) {
		mg_seterr(err, errlen, "EC point is the point at infinity");
		goto out;
	}
	r = MG_ERR_CRYPTO;
	if ((order = EC_GROUP_get0_order(g)) == NULL ||
	    EC_POINT_mul(g, tmp, NULL, pt, order, ctx) != 1 ||
	    EC_POINT_get_affine_coordinates(g, pt, x, y, ctx) != 1 ||
	    !BN_sub(lim, order, BN_value_one()))
		goto out;
	r = MG_ERR_PARSE;
	if (!EC_POINT_is_at_infinity(g, tmp)) {
		mg_seterr(err, errlen, "EC point is not in the curve's group");
		goto out;
	}
	obits = BN_num_bits(order);
	if (BN_num_bits(x) <= obits / 2 || BN_num_bits(y) <= obits / 2 ||
	    BN_cmp(x, lim) >= 0 || BN_cmp(y, lim) >= 0) {
		mg_seterr(err, errlen, "EC public key is not valid");
		goto out;
	}
	r = 0;
 out:
	EC_POINT_free(tmp);
	EC_POINT_free(pt);
	EC_GROUP_free(g);
	if (ctx != NULL)
		BN_CTX_end(ctx);
	BN_CTX_free(ctx);
	return r;
}

static int
parse_ecdsa(const struct keyinfo *ki, struct wire *w, char *err, size_t errlen)
{
	const unsigned char *curve, *q;
	size_t curvelen, qlen, want;
	char tmp[80];
	int r;

	if ((r = wire_string(w, &curve, &curvelen)) != 0 ||
	    (r = wire_string(w, &q, &qlen)) != 0) {
		mg_seterr(err, errlen, "key blob is truncated");
		return r;
	}
	if (!wire_equal(curve, curvelen, ki->curve)) {
		mg_seterr(err, errlen, "key blob names curve %s but %s needs %s",
		    printable(curve, curvelen, tmp, sizeof(tmp)), ki->name,
		    ki->curve);
		return MG_ERR_PARSE;
	}
	want = 1 + 2 * (((size_t)ki->bits + 7) / 8);
	if (qlen == 0 || q[0] != 0x04) {
		mg_seterr(err, errlen, "EC point is not in uncompressed form");
		return MG_ERR_PARSE;
	}
	if (qlen != want) {
		mg_seterr(err, errlen, "EC point is %zu bytes; %s needs %zu",
		    qlen, ki->curve, want);
		return MG_ERR_PARSE;
	}
	return ec_point_check(ki->nid, q, qlen, err, errlen);
}

static int
parse_ed25519(struct wire *w, char *err, size_t errlen)
{
	const unsigned char *pk;
	size_t pklen;
	int r;

	if ((r = wire_string(w, &pk, &pklen)) != 0) {
		mg_seterr(err, errlen, "key blob is truncated");
		return r;
	}
	if (pklen != ED25519_PK_LEN) {
		mg_seterr(err, errlen, "ed25519 key is %zu bytes; it must be 32",
		    pklen);
		return MG_ERR_PARSE;
	}
	return 0;
}

static int
parse_rsa(struct wire *w, unsigned int *bitsp, char *err, size_t errlen)
{
	const unsigned char *e, *n;
	size_t elen, nlen;
	unsigned int bits;

	if (wire_mpint(w, &e, &elen) != 0 || wire_mpint(w, &n, &nlen) != 0) {
		mg_seterr(err, errlen, "RSA key is truncated or badly encoded");
		return MG_ERR_PARSE;
	}
	/* An even or tiny exponent makes no usable key: sshd could never verify. */
	if (elen == 0 || elen > RSA_MAX_E_BYTES || (e[elen - 1] & 1) == 0 ||
	    (elen == 1 && e[0] < 3)) {
		mg_seterr(err, errlen, "RSA public exponent is not valid");
		return MG_ERR_PARSE;
	}
	bits = mag_bits(n, nlen);
	if (bits < RSA_MIN_BITS) {
		mg_seterr(err, errlen, "RSA key is %u bits; at least %u are required",
		    bits, RSA_MIN_BITS);
		return MG_ERR_PARSE;
	}
	if (bits > RSA_MAX_BITS) {
		mg_seterr(err, errlen, "RSA key is %u bits; at most %u are supported",
		    bits, RSA_MAX_BITS);
		return MG_ERR_PARSE;
	}
	if ((n[nlen - 1] & 1) == 0) {
		mg_seterr(err, errlen, "RSA modulus is not valid");
		return MG_ERR_PARSE;
	}
	*bitsp = bits;
	return 0;
}

/*
 * The FIDO application (relying party) string: printable ASCII, bounded,
 * because it is shown to people and compared in policy.
 */
static int
parse_application(struct wire *w, char **appp, char *err, size_t errlen)
{
	const unsigned char *app;
	size_t applen, i;
	int r;

	*appp = NULL;
	if ((r = wire_string(w, &app, &applen)) != 0) {
		mg_seterr(err, errlen, "key blob is truncated");
		return r;
	}
	if (applen == 0 || applen > SK_APP_MAX)
		goto bad;
	for (i = 0; i < applen; i++) {
		if (app[i] < 0x20 || app[i] >= 0x7f)
			goto bad;
	}
	if ((*appp = strndup((const char *)app, applen)) == NULL)
		return MG_ERR_NOMEM;
	return 0;
 bad:
	mg_seterr(err, errlen, "security key application is not valid");
	return MG_ERR_PARSE;
}

static int
ends_with(const char *s, size_t len, const char *suffix)
{
	size_t sl = strlen(suffix);

	return len >= sl && memcmp(s + len - sl, suffix, sl) == 0;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static const struct keyinfo *
keyinfo_by_name(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(keyinfos) / sizeof(keyinfos[0]); i++) {
		if (wire_equal((const unsigned char *)s, len, keyinfos[i].name))
			return &keyinfos[i];
	}
	return NULL;
}

void
mg_sshkey_free(struct mg_sshkey *k)
{
	if (k == NULL)
		return;
	free(k->blob);
	free(k->application);
	free(k->comment);
	free(k);
}

/* Strict base64 into a new buffer the caller frees. */
static int
b64_decode_alloc(const char *s, size_t n, unsigned char **outp, size_t *outlenp)
{
	unsigned char *out;
	int r;

	*outp = NULL;
	*outlenp = 0;
	if (n == 0)
		return MG_ERR_PARSE;
	if ((out = malloc(n / 4 * 3 + 1)) == NULL)
		return MG_ERR_NOMEM;
	if ((r = mg_b64_decode(s, n, out, outlenp)) != 0) {
		free(out);
		return r;
	}
	*outp = out;
	return 0;
}

int
mg_sshkey_parse(const char *line, struct mg_sshkey **out, char *err, size_t errlen)
{
	const struct keyinfo *ki;
	struct mg_sshkey *k = NULL;
	struct wire w;
	const unsigned char *btype;
	const char *p, *end, *tok, *b64;
	size_t len, toklen, b64len, btypelen;
	char tmp1[80];
	int r = MG_ERR_PARSE;

	if (out != NULL)
		*out = NULL;
	mg_seterr(err, errlen, "%s", "");
	if (line == NULL || out == NULL) {
		mg_seterr(err, errlen, "no key given");
		return MG_ERR_INVAL;
	}
	if ((len = strnlen(line, KEY_LINE_MAX + 1)) > KEY_LINE_MAX) {
		mg_seterr(err, errlen, "key line is longer than %d bytes",
		    KEY_LINE_MAX);
		goto out;
	}
	/* Surrounding blanks and a line ending (from a .pub file) are harmless. */
	p = line;
	end = line + len;
	while (p < end && is_blank(*p))
		p++;
	while (end > p && (is_blank(end[-1]) || end[-1] == '\n' ||
	    end[-1] == '\r'))
		end--;
	if (p == end) {
		mg_seterr(err, errlen, "key line is empty");
		goto out;
	}
	/* The comment reaches logs and messages: no control bytes anywhere. */
	for (tok = p; tok < end; tok++) {
		if ((*tok != '\t' && (unsigned char)*tok < 0x20) || *tok == 0x7f) {
			mg_seterr(err, errlen, "key line contains a control character");
			goto out;
		}
	}

	tok = p;
	while (p < end && !is_blank(*p))
		p++;
	toklen = (size_t)(p - tok);
	if ((ki = keyinfo_by_name(tok, toklen)) == NULL) {
		printable(tok, toklen, tmp1, sizeof(tmp1));
		if (ends_with(tok, toklen, CERT_SUFFIX))
			mg_seterr(err, errlen, "certificates are not supported "
			    "(key type %s)", tmp1);
		else if (wire_equal((const unsigned char *)tok, toklen,
		    "ssh-dss"))
			mg_seterr(err, errlen, "key type ssh-dss is not supported");
		else
			mg_seterr(err, errlen, "unknown key type %s", tmp1);
		goto out;
	}
	while (p < end && is_blank(*p))
		p++;
	b64 = p;
	while (p < end && !is_blank(*p))
		p++;
	if ((b64len = (size_t)(p - b64)) == 0) {
		mg_seterr(err, errlen, "key line has no key data after the type");
		goto out;
	}
	while (p < end && is_blank(*p))
		p++;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		r = MG_ERR_NOMEM;
		goto out;
	}
	if ((r = b64_decode_alloc(b64, b64len, &k->blob, &k->bloblen)) != 0) {
		if (r == MG_ERR_PARSE)
			mg_seterr(err, errlen, "base64 data is damaged");
		goto out;
	}
	k->type = ki->type;
	k->type_name = ki->name;
	k->bits = ki->bits;

	w.p = k->blob;
	w.left = k->bloblen;
	if ((r = wire_string(&w, &btype, &btypelen)) != 0) {
		mg_seterr(err, errlen, "key blob is truncated");
		goto out;
	}
	/* The line's type is only a label; the blob's is what sshd will use. */
	if (!wire_equal(btype, btypelen, ki->name)) {
		mg_seterr(err, errlen, "key blob says %s but the line says %s",
		    printable(btype, btypelen, tmp1, sizeof(tmp1)), ki->name);
		r = MG_ERR_PARSE;
		goto out;
	}
	switch (ki->type) {
	case MG_KEY_ED25519:
		r = parse_ed25519(&w, err, errlen);
		break;
	case MG_KEY_SK_ED25519:
		if ((r = parse_ed25519(&w, err, errlen)) == 0)
			r = parse_application(&w, &k->application, err, errlen);
		break;
	case MG_KEY_ECDSA_P256:
	case MG_KEY_ECDSA_P384:
	case MG_KEY_ECDSA_P521:
		r = parse_ecdsa(ki, &w, err, errlen);
		break;
	case MG_KEY_SK_ECDSA_P256:
		if ((r = parse_ecdsa(ki, &w, err, errlen)) == 0)
			r = parse_application(&w, &k->application, err, errlen);
		break;
	case MG_KEY_RSA:
		r = parse_rsa(&w, &k->bits, err, errlen);
		break;
	default:
		r = MG_ERR_INTERNAL;
		break;
	}
	if (r != 0)
		goto out;
	/* Extra bytes could smuggle data past a check that reads only a prefix. */
	if (w.left != 0) {
		mg_seterr(err, errlen, "key blob has %zu bytes of trailing data",
		    w.left);
		r = MG_ERR_PARSE;
		goto out;
	}
	if (p < end && (k->comment = strndup(p, (size_t)(end - p))) == NULL) {
		r = MG_ERR_NOMEM;
		goto out;
	}
	*out = k;
	k = NULL;
	r = 0;
 out:
	if (r == MG_ERR_NOMEM)
		mg_seterr(err, errlen, "out of memory");
	mg_sshkey_free(k);
	return r;
}

int
mg_sshkey_is_sk(const struct mg_sshkey *k)
{
	return k != NULL && (k->type == MG_KEY_SK_ED25519 ||
	    k->type == MG_KEY_SK_ECDSA_P256);
}

int
mg_sshkey_equal(const struct mg_sshkey *a, const struct mg_sshkey *b)
{
	if (a == NULL || b == NULL)
		return 0;
	return a->type == b->type && a->bloblen == b->bloblen &&
	    memcmp(a->blob, b->blob, a->bloblen) == 0;
}

int
mg_sshkey_fingerprint(const struct mg_sshkey *k, char *buf, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	static const char prefix[] = "SHA256:";

	if (buf != NULL && len > 0)
		buf[0] = '\0';
	if (k == NULL || k->blob == NULL || buf == NULL)
		return MG_ERR_INVAL;
	if (len < MG_SSHKEY_FP_LEN)
		return MG_ERR_TOOBIG;
	if (EVP_Digest(k->blob, k->bloblen, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return MG_ERR_CRYPTO;
	memcpy(buf, prefix, sizeof(prefix) - 1);
	mg_b64_encode(md, mdlen, 0, buf + sizeof(prefix) - 1);
	return 0;
}

int
mg_sshkey_format(const struct mg_sshkey *k, char **out)
{
	size_t tlen, n;
	char *s;

	if (out != NULL)
		*out = NULL;
	if (k == NULL || k->blob == NULL || k->type_name == NULL || out == NULL)
		return MG_ERR_INVAL;
	tlen = strlen(k->type_name);
	/* The blob came from a bounded line, so this cannot overflow. */
	n = tlen + 1 + (k->bloblen + 2) / 3 * 4 + 1;
	if ((s = malloc(n)) == NULL)
		return MG_ERR_NOMEM;
	memcpy(s, k->type_name, tlen);
	s[tlen] = ' ';
	mg_b64_encode(k->blob, k->bloblen, 1, s + tlen + 1);
	*out = s;
	return 0;
}
