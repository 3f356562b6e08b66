/* SPDX-License-Identifier: BSD-2-Clause */
/* OpenSSH certificates built from the PROTOCOL.certkeys layout and signed with ed25519. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "mg_err.h"
#include "mg_sshcert.h"
#include "mg_util.h"

#define CERT_TYPE	"ssh-ed25519-cert-v01@openssh.com"
#define KEY_TYPE	"ssh-ed25519"
#define CERT_MAX	(64 * 1024)

/* A bounded byte buffer in SSH wire encoding; a write past the end sets bad. */
struct wbuf {
	unsigned char b[CERT_MAX];
	size_t n;
	int bad;
};

static void
put(struct wbuf *w, const void *p, size_t n)
{
	if (w->bad || n > sizeof(w->b) - w->n) {
		w->bad = 1;
		return;
	}
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void
put_u32(struct wbuf *w, uint32_t v)
{
	unsigned char b[4] = { v >> 24, v >> 16, v >> 8, v };

	put(w, b, 4);
}

static void
put_u64(struct wbuf *w, uint64_t v)
{
	put_u32(w, (uint32_t)(v >> 32));
	put_u32(w, (uint32_t)v);
}

static void
put_str(struct wbuf *w, const void *p, size_t n)
{
	if (n > UINT32_MAX) {
		w->bad = 1;
		return;
	}
	put_u32(w, (uint32_t)n);
	put(w, p, n);
}

static void
put_cstr(struct wbuf *w, const char *s)
{
	put_str(w, s, strlen(s));
}

/* A string holding a string: how an option's value is wrapped. */
static void
put_wrapped(struct wbuf *w, const char *s)
{
	size_t n = strlen(s);

	put_u32(w, (uint32_t)(n + 4));
	put_str(w, s, n);
}

static int
ok_str(const char *s)
{
	size_t i, n;

	if (s == NULL || (n = strlen(s)) == 0 || n > MG_SSHCERT_STR_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int
ed25519_sign(const unsigned char seed[32], const unsigned char *msg, size_t len,
    unsigned char sig[64])
{
	EVP_PKEY *k;
	EVP_MD_CTX *md = NULL;
	size_t siglen = 64;
	int r = MG_ERR_CRYPTO;

	if ((k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32)) == NULL)
		return MG_ERR_CRYPTO;
	if ((md = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestSignInit(md, NULL, NULL, NULL, k) == 1 &&
	    EVP_DigestSign(md, sig, &siglen, msg, len) == 1 && siglen == 64)
		r = 0;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return r;
}

int
mg_sshcert_ed25519_pub(const unsigned char seed[32], unsigned char pub[32])
{
	EVP_PKEY *k;
	size_t n = 32;
	int r = MG_ERR_CRYPTO;

	if ((k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32)) == NULL)
		return MG_ERR_CRYPTO;
	if (EVP_PKEY_get_raw_public_key(k, pub, &n) == 1 && n == 32)
		r = 0;
	EVP_PKEY_free(k);
	return r;
}

int
mg_sshcert_load_ed25519(const char *buf, size_t len, unsigned char seed[32],
    char *err, size_t errlen)
{
	BIO *bio;
	EVP_PKEY *k = NULL;
	size_t n = 32;
	int r = MG_ERR_PARSE;

	if (len > INT32_MAX || (bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		mg_seterr(err, errlen, "out of memory");
		return MG_ERR_NOMEM;
	}
	if ((k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) != NULL &&
	    EVP_PKEY_id(k) == EVP_PKEY_ED25519 &&
	    EVP_PKEY_get_raw_private_key(k, seed, &n) == 1 && n == 32)
		r = 0;
	else
		mg_seterr(err, errlen, "not an ed25519 private key in PEM (PKCS#8) form");
	EVP_PKEY_free(k);
	BIO_free(bio);
	return r;
}

int
mg_sshcert_sign(const struct mg_sshcert_spec *sp, const unsigned char ca_seed[32],
    char **out, char *err, size_t errlen)
{
	struct wbuf *w = NULL, *sub = NULL;
	unsigned char nonce[32], capub[32], sig[64];
	char *text = NULL;
	size_t i;
	int r;

	*out = NULL;
	if (sp->pub == NULL || !ok_str(sp->key_id) ||
	    (sp->type != MG_SSHCERT_USER && sp->type != MG_SSHCERT_HOST) ||
	    sp->nprincipals == 0 || sp->nprincipals > MG_SSHCERT_MAX_PRINCIPALS ||
	    sp->valid_after >= sp->valid_before ||
	    (sp->source_address != NULL && !ok_str(sp->source_address))) {
		mg_seterr(err, errlen, "certificate: a field is missing, empty, too long "
		    "or has control characters");
		return MG_ERR_INVAL;
	}
	for (i = 0; i < sp->nprincipals; i++)
		if (!ok_str(sp->principals[i])) {
			mg_seterr(err, errlen, "certificate: bad principal");
			return MG_ERR_INVAL;
		}
	if ((w = calloc(1, sizeof(*w))) == NULL || (sub = calloc(1, sizeof(*sub))) == NULL) {
		r = MG_ERR_NOMEM;
		goto out;
	}
	if ((r = mg_sshcert_ed25519_pub(ca_seed, capub)) != 0)
		goto out;
	/* The nonce makes every certificate's signed bytes unpredictable. */
	if (RAND_bytes(nonce, sizeof(nonce)) != 1) {
		r = MG_ERR_CRYPTO;
		goto out;
	}
	put_cstr(w, CERT_TYPE);
	put_str(w, nonce, sizeof(nonce));
	put_str(w, sp->pub, 32);
	put_u64(w, sp->serial);
	put_u32(w, sp->type);
	put_cstr(w, sp->key_id);
	sub->n = 0;
	for (i = 0; i < sp->nprincipals; i++)
		put_cstr(sub, sp->principals[i]);
	put_str(w, sub->b, sub->n);
	put_u64(w, sp->valid_after);
	put_u64(w, sp->valid_before);
	/* Critical options, then extensions: each list sorted by name. */
	sub->n = 0;
	if (sp->source_address != NULL) {
		put_cstr(sub, "source-address");
		put_wrapped(sub, sp->source_address);
	}
	put_str(w, sub->b, sub->n);
	sub->n = 0;
	if (sp->type == MG_SSHCERT_USER && sp->permit_pty) {
		put_cstr(sub, "permit-pty");
		put_str(sub, "", 0);
	}
	put_str(w, sub->b, sub->n);
	put_str(w, "", 0);	/* reserved */
	sub->n = 0;
	put_cstr(sub, KEY_TYPE);
	put_str(sub, capub, sizeof(capub));
	put_str(w, sub->b, sub->n);
	if (w->bad || sub->bad) {
		mg_seterr(err, errlen, "certificate: too large");
		r = MG_ERR_INVAL;
		goto out;
	}
	/* The signature covers every byte before it. */
	if ((r = ed25519_sign(ca_seed, w->b, w->n, sig)) != 0) {
		mg_seterr(err, errlen, "certificate: signing failed");
		goto out;
	}
	sub->n = 0;
	put_cstr(sub, KEY_TYPE);
	put_str(sub, sig, sizeof(sig));
	put_str(w, sub->b, sub->n);
	if (w->bad) {
		mg_seterr(err, errlen, "certificate: too large");
		r = MG_ERR_INVAL;
		goto out;
	}
	if ((text = malloc(strlen(CERT_TYPE) + 1 + MG_B64_ENCLEN(w->n))) == NULL) {
		r = MG_ERR_NOMEM;
		goto out;
	}
	memcpy(text, CERT_TYPE " ", strlen(CERT_TYPE) + 1);
	mg_b64_encode(w->b, w->n, 1, text + strlen(CERT_TYPE) + 1);
	*out = text;
	r = 0;
out:
	if (r == MG_ERR_NOMEM)
		mg_seterr(err, errlen, "out of memory");
	free(w);
	free(sub);
	return r;
}

/* A bounded reader of the same wire encoding; any overrun sets bad. */
struct rbuf {
	const unsigned char *p;
	size_t n, off;
	int bad;
};

static uint64_t
get_uint(struct rbuf *r, size_t len)
{
	uint64_t v = 0;
	size_t i;

	if (r->bad || r->n - r->off < len) {
		r->bad = 1;
		return 0;
	}
	for (i = 0; i < len; i++)
		v = v << 8 | r->p[r->off + i];
	r->off += len;
	return v;
}

static const unsigned char *
get_str(struct rbuf *r, size_t *len)
{
	const unsigned char *s;
	size_t n = (size_t)get_uint(r, 4);

	if (r->bad || r->n - r->off < n) {
		r->bad = 1;
		*len = 0;
		return (const unsigned char *)"";
	}
	s = r->p + r->off;
	r->off += n;
	*len = n;
	return s;
}

static int
str_is(const unsigned char *s, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(s, want, n) == 0;
}

static int
ed25519_verify(const unsigned char pub[32], const unsigned char *msg, size_t len,
    const unsigned char *sig, size_t siglen)
{
	EVP_PKEY *k;
	EVP_MD_CTX *md = NULL;
	int ok = 0;

	if ((k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32)) == NULL)
		return 0;
	if ((md = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) == 1 &&
	    EVP_DigestVerify(md, sig, siglen, msg, len) == 1)
		ok = 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return ok;
}

int
mg_sshcert_check_host(const char *b64, const unsigned char key[32],
    const unsigned char ca[32], const char *name, int64_t now, char *err, size_t errlen)
{
	unsigned char *blob = NULL;
	const unsigned char *s, *pk, *sk, *sig;
	struct rbuf r = { 0 }, sub = { 0 };
	size_t n, len = strlen(b64), pkn, skn, sign, signed_len, i;
	uint64_t va, vb;
	int named = 0, nprinc = 0, res = MG_ERR_PARSE;

	if (len > CERT_MAX * 2 || (blob = malloc(len / 4 * 3 + 3)) == NULL ||
	    mg_b64_decode(b64, len, blob, &n) != 0) {
		mg_seterr(err, errlen, "host certificate: not base64");
		goto out;
	}
	r.p = blob;
	r.n = n;
	s = get_str(&r, &len);
	if (!str_is(s, len, CERT_TYPE)) {
		mg_seterr(err, errlen, "host certificate: not an %s", CERT_TYPE);
		goto out;
	}
	(void)get_str(&r, &len);	/* nonce */
	pk = get_str(&r, &pkn);
	(void)get_uint(&r, 8);		/* serial */
	i = (size_t)get_uint(&r, 4);
	(void)get_str(&r, &len);	/* key id */
	s = get_str(&r, &len);
	sub.p = s;
	sub.n = len;
	while (!r.bad && sub.off < sub.n && !sub.bad) {
		const unsigned char *pr = get_str(&sub, &len);

		nprinc++;
		if (!sub.bad && str_is(pr, len, name))
			named = 1;
	}
	va = get_uint(&r, 8);
	vb = get_uint(&r, 8);
	(void)get_str(&r, &len);	/* critical options */
	n = len;
	(void)get_str(&r, &len);	/* extensions */
	(void)get_str(&r, &len);	/* reserved */
	s = get_str(&r, &len);		/* signature key */
	sub = (struct rbuf){ s, len, 0, 0 };
	s = get_str(&sub, &len);
	sk = get_str(&sub, &skn);
	if (!str_is(s, len, KEY_TYPE))
		skn = 0;	/* not an ed25519 CA: not the tenant's */
	if (sub.bad || sub.off != sub.n) {
		mg_seterr(err, errlen, "host certificate: malformed CA key");
		goto out;
	}
	signed_len = r.off;
	s = get_str(&r, &len);		/* signature */
	sub = (struct rbuf){ s, len, 0, 0 };
	s = get_str(&sub, &len);
	sig = get_str(&sub, &sign);
	if (r.bad || sub.bad || r.off != r.n || sub.off != sub.n || pkn != 32) {
		mg_seterr(err, errlen, "host certificate: malformed");
		goto out;
	}
	res = MG_ERR_VERIFY;
	if (memcmp(pk, key, 32) != 0) {
		mg_seterr(err, errlen, "host certificate: it certifies another key than the "
		    "one the target presented");
		goto out;
	}
	if (i != MG_SSHCERT_HOST) {
		mg_seterr(err, errlen, "host certificate: not a host certificate");
		goto out;
	}
	if (skn != 32 || memcmp(sk, ca, 32) != 0) {
		mg_seterr(err, errlen, "host certificate: signed by another CA than the "
		    "tenant's host_ca");
		goto out;
	}
	if (!str_is(s, len, KEY_TYPE) || !ed25519_verify(ca, blob, signed_len, sig, sign)) {
		mg_seterr(err, errlen, "host certificate: bad signature");
		goto out;
	}
	if (!named) {
		mg_seterr(err, errlen, "host certificate: for %s, not for %s",
		    nprinc == 0 ? "any host (no principals)" : "other names", name);
		goto out;
	}
	if (now < 0 || (uint64_t)now < va || (uint64_t)now >= vb) {
		mg_seterr(err, errlen, "host certificate: outside its validity");
		goto out;
	}
	if (n != 0) {
		mg_seterr(err, errlen, "host certificate: has critical options");
		goto out;
	}
	res = 0;
out:
	free(blob);
	return res;
}
