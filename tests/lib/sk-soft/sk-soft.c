/* SPDX-License-Identifier: BSD-2-Clause */
/* A software FIDO key for the end-to-end tests: OpenSSH security-key middleware (API 0x000a0000). */

/*
 * *******************************************************************
 * TEST-ONLY.  THIS IS NOT A SECURITY KEY AND PROTECTS NOTHING.
 *
 * The private key is stored IN THE CLEAR inside the key handle, and the
 * key handle is stored inside the "private" key file ssh-keygen writes.
 * Anyone who can read that file can sign as the key, with or without the
 * "touch" flag.  Its only purpose is to let the test suite drive ssh,
 * ssh-keygen and a real sshd through the ed25519-sk and ecdsa-sk code
 * paths (user presence, user verification) on machines with no
 * authenticator.  Never install it, never point a real account at it.
 * *******************************************************************
 *
 * Interface facts (from OpenSSH 9.2p1 sk-api.h and ssh-sk.c, the version
 * Debian 12 ships; ssh-sk-helper compares against 0x000a0000):
 *  - the middleware is handed the raw data and hashes it with SHA-256;
 *  - the authenticator signs apphash || flags || counter (big endian) ||
 *    datahash, where apphash = SHA-256(application): Ed25519 over those
 *    69 bytes, ECDSA P-256 over their SHA-256;
 *  - an Ed25519 signature goes in sig_r (64 bytes), ECDSA r and s as
 *    unsigned big-endian integers in sig_r and sig_s;
 *  - the flags in the enroll response become the key's flags;
 *  - an ECDSA public key is an uncompressed point, Ed25519 32 raw bytes.
 *
 * The library keeps no state: every key handle is
 *	"sk-soft1" (8) | alg (1) | SHA-256(application) (32) | DER private key
 * so a key enrolled by one process signs in another.
 *
 * Environment, read on every sk_sign():
 *	SK_SOFT_NO_UP=1	sign without the user-presence flag (no "touch")
 *	SK_SOFT_UV=1	set the user-verified flag (as if a PIN was checked)
 *	SK_SOFT_FAIL=1	refuse to sign (as if the key was unplugged)
 *	SK_SOFT_DEBUG=1	say why a call failed, on stderr
 */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

/* The ABI of OpenSSH's sk-api.h, API version 0x000a0000. */
#define SSH_SK_VERSION_MAJOR		0x000a0000

#define SSH_SK_USER_PRESENCE_REQD	0x01
#define SSH_SK_USER_VERIFICATION_REQD	0x04
#define SSH_SK_FORCE_OPERATION		0x10
#define SSH_SK_RESIDENT_KEY		0x20

#define SSH_SK_ECDSA			0x00
#define SSH_SK_ED25519			0x01

#define SSH_SK_ERR_GENERAL		-1
#define SSH_SK_ERR_UNSUPPORTED		-2

struct sk_enroll_response {
	uint8_t flags;
	uint8_t *public_key;
	size_t public_key_len;
	uint8_t *key_handle;
	size_t key_handle_len;
	uint8_t *signature;
	size_t signature_len;
	uint8_t *attestation_cert;
	size_t attestation_cert_len;
	uint8_t *authdata;
	size_t authdata_len;
};

struct sk_sign_response {
	uint8_t flags;
	uint32_t counter;
	uint8_t *sig_r;
	size_t sig_r_len;
	uint8_t *sig_s;
	size_t sig_s_len;
};

struct sk_resident_key {
	uint32_t alg;
	size_t slot;
	char *application;
	struct sk_enroll_response key;
	uint8_t flags;
	uint8_t *user_id;
	size_t user_id_len;
};

struct sk_option {
	char *name;
	char *value;
	uint8_t required;
};

#define SK_EXPORT	__attribute__((visibility("default")))

SK_EXPORT uint32_t sk_api_version(void);
SK_EXPORT int sk_enroll(uint32_t alg, const uint8_t *challenge,
    size_t challenge_len, const char *application, uint8_t flags,
    const char *pin, struct sk_option **options,
    struct sk_enroll_response **enroll_response);
SK_EXPORT int sk_sign(uint32_t alg, const uint8_t *data, size_t data_len,
    const char *application, const uint8_t *key_handle,
    size_t key_handle_len, uint8_t flags, const char *pin,
    struct sk_option **options, struct sk_sign_response **sign_response);
SK_EXPORT int sk_load_resident_keys(const char *pin,
    struct sk_option **options, struct sk_resident_key ***rks, size_t *nrks);

#define KH_MAGIC	"sk-soft1"
#define KH_MAGIC_LEN	8
#define KH_HDR_LEN	(KH_MAGIC_LEN + 1 + SHA256_DIGEST_LENGTH)
/* Far above any DER key of these two types; bounds what d2i reads. */
#define KH_MAX_LEN	1024
#define P256_POINT_LEN	65
#define ED25519_PK_LEN	32
/* apphash || flags || counter || datahash */
#define SIGNED_LEN	(SHA256_DIGEST_LENGTH + 1 + 4 + SHA256_DIGEST_LENGTH)

static void dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
env_on(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && strcmp(v, "1") == 0;
}

static void
dbg(const char *fmt, ...)
{
	va_list ap;

	if (!env_on("SK_SOFT_DEBUG"))
		return;
	fputs("sk-soft: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
freezero(void *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

static void
enroll_response_free(struct sk_enroll_response *r)
{
	if (r == NULL)
		return;
	freezero(r->public_key, r->public_key_len);
	freezero(r->key_handle, r->key_handle_len);
	freezero(r->signature, r->signature_len);
	freezero(r->attestation_cert, r->attestation_cert_len);
	freezero(r->authdata, r->authdata_len);
	freezero(r, sizeof(*r));
}

static void
sign_response_free(struct sk_sign_response *r)
{
	if (r == NULL)
		return;
	freezero(r->sig_r, r->sig_r_len);
	freezero(r->sig_s, r->sig_s_len);
	freezero(r, sizeof(*r));
}

/* Like a real key: "device" and "user" are fine, any other required option is not. */
static int
options_check(struct sk_option **options)
{
	size_t i;

	if (options == NULL)
		return 0;
	for (i = 0; options[i] != NULL; i++) {
		if (strcmp(options[i]->name, "device") == 0 ||
		    strcmp(options[i]->name, "user") == 0)
			continue;
		if (options[i]->required) {
			dbg("unsupported required option \"%.64s\"",
			    options[i]->name);
			return SSH_SK_ERR_UNSUPPORTED;
		}
	}
	return 0;
}

static int
sha256(const void *p, size_t len, uint8_t out[SHA256_DIGEST_LENGTH])
{
	unsigned int outlen = SHA256_DIGEST_LENGTH;

	if (EVP_Digest(p, len, out, &outlen, EVP_sha256(), NULL) != 1 ||
	    outlen != SHA256_DIGEST_LENGTH)
		return SSH_SK_ERR_GENERAL;
	return 0;
}

static int
alg_pkey_type(uint32_t alg)
{
	switch (alg) {
	case SSH_SK_ECDSA:
		return EVP_PKEY_EC;
	case SSH_SK_ED25519:
		return EVP_PKEY_ED25519;
	default:
		return -1;
	}
}

static EVP_PKEY *
key_generate(uint32_t alg)
{
	if (alg == SSH_SK_ED25519)
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* The public key as ssh-sk.c takes it: 32 raw bytes, or an uncompressed point. */
static int
pubkey_export(EVP_PKEY *pkey, uint32_t alg, uint8_t **outp, size_t *lenp)
{
	uint8_t buf[P256_POINT_LEN];
	size_t len = sizeof(buf);

	*outp = NULL;
	*lenp = 0;
	if (alg == SSH_SK_ED25519) {
		if (EVP_PKEY_get_raw_public_key(pkey, buf, &len) != 1 ||
		    len != ED25519_PK_LEN)
			return SSH_SK_ERR_GENERAL;
	} else {
		/* OpenSSL's default point format is the uncompressed one. */
		if (EVP_PKEY_get_octet_string_param(pkey,
		    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, buf, sizeof(buf),
		    &len) != 1 || len != P256_POINT_LEN || buf[0] != 0x04)
			return SSH_SK_ERR_GENERAL;
	}
	if ((*outp = malloc(len)) == NULL)
		return SSH_SK_ERR_GENERAL;
	memcpy(*outp, buf, len);
	*lenp = len;
	return 0;
}

static int
handle_make(EVP_PKEY *pkey, uint32_t alg, const char *application,
    uint8_t **outp, size_t *lenp)
{
	uint8_t *kh = NULL, *p;
	size_t khlen = 0;
	int derlen, r = SSH_SK_ERR_GENERAL;

	*outp = NULL;
	*lenp = 0;
	if ((derlen = i2d_PrivateKey(pkey, NULL)) <= 0 ||
	    (size_t)derlen > KH_MAX_LEN - KH_HDR_LEN)
		goto out;
	khlen = KH_HDR_LEN + (size_t)derlen;
	if ((kh = calloc(1, khlen)) == NULL)
		goto out;
	memcpy(kh, KH_MAGIC, KH_MAGIC_LEN);
	kh[KH_MAGIC_LEN] = (uint8_t)alg;
	if ((r = sha256(application, strlen(application),
	    kh + KH_MAGIC_LEN + 1)) != 0)
		goto out;
	p = kh + KH_HDR_LEN;
	if (i2d_PrivateKey(pkey, &p) != derlen) {
		r = SSH_SK_ERR_GENERAL;
		goto out;
	}
	*outp = kh;
	*lenp = khlen;
	kh = NULL;
	r = 0;
 out:
	freezero(kh, khlen);
	return r;
}

/*
 * Recovers the private key from a key handle made by handle_make().
 * A handle for another application or algorithm is refused, as a real
 * authenticator refuses a credential that is not bound to the RP ID.
 */
static int
handle_open(const uint8_t *kh, size_t khlen, uint32_t alg,
    const uint8_t apphash[SHA256_DIGEST_LENGTH], EVP_PKEY **pkeyp)
{
	const uint8_t *p;
	EVP_PKEY *pkey = NULL;

	*pkeyp = NULL;
	if (kh == NULL || khlen <= KH_HDR_LEN || khlen > KH_MAX_LEN ||
	    memcmp(kh, KH_MAGIC, KH_MAGIC_LEN) != 0) {
		dbg("not an sk-soft key handle");
		return SSH_SK_ERR_GENERAL;
	}
	if (kh[KH_MAGIC_LEN] != alg) {
		dbg("key handle is for another algorithm");
		return SSH_SK_ERR_GENERAL;
	}
	if (CRYPTO_memcmp(kh + KH_MAGIC_LEN + 1, apphash,
	    SHA256_DIGEST_LENGTH) != 0) {
		dbg("key handle is for another application");
		return SSH_SK_ERR_GENERAL;
	}
	p = kh + KH_HDR_LEN;
	if ((pkey = d2i_AutoPrivateKey(NULL, &p,
	    (long)(khlen - KH_HDR_LEN))) == NULL ||
	    p != kh + khlen || EVP_PKEY_get_base_id(pkey) != alg_pkey_type(alg)) {
		dbg("key handle holds no usable key");
		EVP_PKEY_free(pkey);
		return SSH_SK_ERR_GENERAL;
	}
	*pkeyp = pkey;
	return 0;
}

uint32_t
sk_api_version(void)
{
	return SSH_SK_VERSION_MAJOR;
}

int
sk_enroll(uint32_t alg, const uint8_t *challenge, size_t challenge_len,
    const char *application, uint8_t flags, const char *pin,
    struct sk_option **options, struct sk_enroll_response **enroll_response)
{
	struct sk_enroll_response *resp = NULL;
	EVP_PKEY *pkey = NULL;
	int r = SSH_SK_ERR_GENERAL;

	/* No attestation is made, and no PIN is asked for. */
	(void)challenge;
	(void)challenge_len;
	(void)pin;

	if (enroll_response == NULL)
		return SSH_SK_ERR_GENERAL;
	*enroll_response = NULL;
	if (application == NULL || *application == '\0') {
		dbg("enroll: no application");
		goto out;
	}
	if (alg_pkey_type(alg) < 0) {
		dbg("enroll: unsupported algorithm %u", alg);
		r = SSH_SK_ERR_UNSUPPORTED;
		goto out;
	}
	if ((r = options_check(options)) != 0)
		goto out;
	/* A resident key needs storage, and this key has none. */
	if ((flags & SSH_SK_RESIDENT_KEY) != 0) {
		dbg("enroll: resident keys are not supported");
		r = SSH_SK_ERR_UNSUPPORTED;
		goto out;
	}
	r = SSH_SK_ERR_GENERAL;
	if ((resp = calloc(1, sizeof(*resp))) == NULL)
		goto out;
	if ((pkey = key_generate(alg)) == NULL) {
		dbg("enroll: key generation failed");
		goto out;
	}
	if ((r = pubkey_export(pkey, alg, &resp->public_key,
	    &resp->public_key_len)) != 0 ||
	    (r = handle_make(pkey, alg, application, &resp->key_handle,
	    &resp->key_handle_len)) != 0) {
		dbg("enroll: cannot export the key");
		goto out;
	}
	/* These become the key's flags: what was asked for is what the key does. */
	resp->flags = flags & (uint8_t)~SSH_SK_FORCE_OPERATION;
	*enroll_response = resp;
	resp = NULL;
	r = 0;
 out:
	EVP_PKEY_free(pkey);
	enroll_response_free(resp);
	return r;
}

static int
sig_split_ecdsa(const uint8_t *der, size_t derlen, struct sk_sign_response *resp)
{
	const uint8_t *p = der;
	ECDSA_SIG *sig = NULL;
	const BIGNUM *sr, *ss;
	int r = SSH_SK_ERR_GENERAL;

	if ((sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL)
		goto out;
	ECDSA_SIG_get0(sig, &sr, &ss);
	resp->sig_r_len = (size_t)BN_num_bytes(sr);
	resp->sig_s_len = (size_t)BN_num_bytes(ss);
	if (resp->sig_r_len == 0 || resp->sig_s_len == 0 ||
	    (resp->sig_r = calloc(1, resp->sig_r_len)) == NULL ||
	    (resp->sig_s = calloc(1, resp->sig_s_len)) == NULL)
		goto out;
	BN_bn2bin(sr, resp->sig_r);
	BN_bn2bin(ss, resp->sig_s);
	r = 0;
 out:
	ECDSA_SIG_free(sig);
	return r;
}

int
sk_sign(uint32_t alg, const uint8_t *data, size_t data_len,
    const char *application, const uint8_t *key_handle, size_t key_handle_len,
    uint8_t flags, const char *pin, struct sk_option **options,
    struct sk_sign_response **sign_response)
{
	struct sk_sign_response *resp = NULL;
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *ctx = NULL;
	uint8_t tbs[SIGNED_LEN], *sig = NULL;
	size_t siglen = 0;
	uint32_t counter;
	uint8_t sflags = 0;
	int r = SSH_SK_ERR_GENERAL;

	/*
	 * The key's own flags do not matter: the test decides through the
	 * environment what the "authenticator" claims, so that sshd's checks
	 * of those claims can be exercised both ways.
	 */
	(void)flags;
	(void)pin;

	if (sign_response == NULL)
		return SSH_SK_ERR_GENERAL;
	*sign_response = NULL;
	if (env_on("SK_SOFT_FAIL")) {
		dbg("sign: SK_SOFT_FAIL=1, refusing");
		goto out;
	}
	if ((data == NULL && data_len != 0) || application == NULL ||
	    alg_pkey_type(alg) < 0)
		goto out;
	if ((r = options_check(options)) != 0)
		goto out;
	r = SSH_SK_ERR_GENERAL;
	if (sha256(application, strlen(application), tbs) != 0 ||
	    handle_open(key_handle, key_handle_len, alg, tbs, &pkey) != 0)
		goto out;

	if (!env_on("SK_SOFT_NO_UP"))
		sflags |= SSH_SK_USER_PRESENCE_REQD;
	if (env_on("SK_SOFT_UV"))
		sflags |= SSH_SK_USER_VERIFICATION_REQD;
	/* Monotonic enough across processes; sshd does not track it anyway. */
	counter = (uint32_t)time(NULL);

	tbs[SHA256_DIGEST_LENGTH] = sflags;
	tbs[SHA256_DIGEST_LENGTH + 1] = (uint8_t)(counter >> 24);
	tbs[SHA256_DIGEST_LENGTH + 2] = (uint8_t)(counter >> 16);
	tbs[SHA256_DIGEST_LENGTH + 3] = (uint8_t)(counter >> 8);
	tbs[SHA256_DIGEST_LENGTH + 4] = (uint8_t)counter;
	if (sha256(data, data_len, tbs + SHA256_DIGEST_LENGTH + 5) != 0)
		goto out;

	/* Ed25519 signs the bytes themselves, ECDSA their SHA-256. */
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL,
	    alg == SSH_SK_ECDSA ? EVP_sha256() : NULL, NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, NULL, &siglen, tbs, sizeof(tbs)) != 1 ||
	    (sig = calloc(1, siglen)) == NULL ||
	    EVP_DigestSign(ctx, sig, &siglen, tbs, sizeof(tbs)) != 1) {
		dbg("sign: signature failed");
		goto out;
	}
	if ((resp = calloc(1, sizeof(*resp))) == NULL)
		goto out;
	resp->flags = sflags;
	resp->counter = counter;
	if (alg == SSH_SK_ED25519) {
		if (siglen != 64)
			goto out;
		resp->sig_r = sig;
		resp->sig_r_len = siglen;
		sig = NULL;
	} else if (sig_split_ecdsa(sig, siglen, resp) != 0)
		goto out;
	*sign_response = resp;
	resp = NULL;
	r = 0;
 out:
	explicit_bzero(tbs, sizeof(tbs));
	freezero(sig, siglen);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	sign_response_free(resp);
	return r;
}

/* Stateless, so there is never a resident key to list. */
int
sk_load_resident_keys(const char *pin, struct sk_option **options,
    struct sk_resident_key ***rks, size_t *nrks)
{
	int r;

	(void)pin;
	if (rks == NULL || nrks == NULL)
		return SSH_SK_ERR_GENERAL;
	*rks = NULL;
	*nrks = 0;
	if ((r = options_check(options)) != 0)
		return r;
	return 0;
}
