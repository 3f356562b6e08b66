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
