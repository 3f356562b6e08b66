/* SPDX-License-Identifier: BSD-2-Clause */
/* TOTP secrets sealed for the state database: AES-256-GCM under a key file each gateway holds. */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_err.h"
#include "mg_file.h"
#include "mg_util.h"
#include "st_seal.h"

#define SEAL_VERSION	1
#define NONCE_LEN	12
#define TAG_LEN		16
/* The additional data: a label and the row's engineer. */
#define AAD_LABEL	"mspgate-totp-secret-v1:"

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

static int
hex_decode(const char *s, size_t n, unsigned char *out)
{
	size_t i;
	int a, b;

	for (i = 0; i < n / 2; i++) {
		if ((a = hexval((unsigned char)s[2 * i])) < 0 ||
		    (b = hexval((unsigned char)s[2 * i + 1])) < 0)
			return -1;
		out[i] = (unsigned char)(a << 4 | b);
	}
	return 0;
}

int
st_key_load(const char *path, uid_t owner, int owner_set,
    unsigned char key[ST_KEY_LEN], char *err, size_t errlen)
{
	struct mg_file_rules rules = { 0 };
	char *buf = NULL, e[256];
	size_t len = 0, n;
	int r;

	explicit_bzero(key, ST_KEY_LEN);
	rules.max_size = 256;
	rules.forbid_mode = 027;
	rules.owner = owner;
	rules.owner_set = owner_set;
	if ((r = mg_file_read_safe(path, &rules, &buf, &len, e, sizeof(e))) != 0) {
		mg_seterr(err, errlen, "state.key_file: %s", e);
		return r;
	}
	n = len;
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n != 2 * ST_KEY_LEN || hex_decode(buf, n, key) != 0) {
		mg_freezero(buf, len);
		explicit_bzero(key, ST_KEY_LEN);
		mg_seterr(err, errlen, "state.key_file %s: not a key (64 hex digits "
		    "and a newline; make one with: openssl rand -hex 32)", path);
		return MG_ERR_PARSE;
	}
	mg_freezero(buf, len);
	return 0;
}

/* One AES-256-GCM pass; enc 1 seals (tag out), 0 opens (tag in). */
static int
gcm(int enc, const unsigned char *key, const unsigned char *nonce, const char *aad,
    const unsigned char *in, size_t len, unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX *ctx;
	int n = 0, ok;

	if (len > 65536 || (ctx = EVP_CIPHER_CTX_new()) == NULL)
		return MG_ERR_CRYPTO;
	ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) == 1 &&
	    EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)AAD_LABEL,
	    (int)strlen(AAD_LABEL)) == 1 &&
	    EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)aad,
	    (int)strlen(aad)) == 1 &&
	    EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1;
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1;
	if (ok)
		ok = EVP_CipherFinal_ex(ctx, out + n, &n) == 1;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : enc ? MG_ERR_CRYPTO : MG_ERR_VERIFY;
}

int
st_seal(const unsigned char key[ST_KEY_LEN], const char *aad,
    const unsigned char *in, size_t len, char **out)
{
	static const char hx[] = "0123456789abcdef";
	unsigned char *raw;
	size_t n = 1 + NONCE_LEN + len + TAG_LEN, i;
	char *h;
	int r;

	*out = NULL;
	if (len > 65536)
		return MG_ERR_TOOBIG;
	if ((raw = malloc(n)) == NULL)
		return MG_ERR_NOMEM;
	raw[0] = SEAL_VERSION;
	if (RAND_bytes(raw + 1, NONCE_LEN) != 1) {
		free(raw);
		return MG_ERR_CRYPTO;
	}
	if ((r = gcm(1, key, raw + 1, aad, in, len, raw + 1 + NONCE_LEN,
	    raw + 1 + NONCE_LEN + len)) != 0) {
		mg_freezero(raw, n);
		return r;
	}
	if ((h = malloc(2 * n + 1)) == NULL) {
		free(raw);
		return MG_ERR_NOMEM;
	}
	for (i = 0; i < n; i++) {
		h[2 * i] = hx[raw[i] >> 4];
		h[2 * i + 1] = hx[raw[i] & 15];
	}
	h[2 * n] = '\0';
	free(raw);
	*out = h;
	return 0;
}

int
st_unseal(const unsigned char key[ST_KEY_LEN], const char *aad,
    const char *hex, unsigned char **out, size_t *outlen)
{
	size_t hl = strlen(hex), n, len;
	unsigned char *raw, *pt;
	int r;

	*out = NULL;
	*outlen = 0;
	if (hl % 2 != 0 || hl / 2 < 1 + NONCE_LEN + TAG_LEN || hl / 2 > 70000)
		return MG_ERR_PARSE;
	n = hl / 2;
	if ((raw = malloc(n)) == NULL)
		return MG_ERR_NOMEM;
	if (hex_decode(hex, hl, raw) != 0 || raw[0] != SEAL_VERSION) {
		free(raw);
		return MG_ERR_PARSE;
	}
	len = n - 1 - NONCE_LEN - TAG_LEN;
	if ((pt = malloc(len + 1)) == NULL) {
		free(raw);
		return MG_ERR_NOMEM;
	}
	r = gcm(0, key, raw + 1, aad, raw + 1 + NONCE_LEN, len, pt,
	    raw + 1 + NONCE_LEN + len);
	free(raw);
	if (r != 0) {
		mg_freezero(pt, len + 1);
		return MG_ERR_VERIFY;
	}
	pt[len] = '\0';
	*out = pt;
	*outlen = len;
	return 0;
}
