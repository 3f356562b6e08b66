/* SPDX-License-Identifier: BSD-2-Clause */
/* Ed25519 signing keys for recordings and the audit log (PEM files, OpenSSL EVP). */
#include <errno.h>
#include <pwd.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "mg_err.h"
#include "mg_file.h"
#include "rec_buf.h"
#include "rec_key.h"

#define KEY_FILE_MAX 65536

struct rec_key {
	EVP_PKEY *pkey;
	int priv;
	char id[2 * REC_KEYID_LEN + 1];
};

/* "a: b", or just "a" when b is empty. */
static void
seterr(char *err, size_t errlen, const char *a, const char *b)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s%s%s", a, b[0] ? ": " : "", b);
}

static int
set_id(struct rec_key *k)
{
	uint8_t raw[32], md[32];
	size_t rl = sizeof(raw);
	unsigned int ml = sizeof(md);
	struct rec_buf b = { 0 };
	int r;

	if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &rl) != 1 || rl != 32 ||
	    EVP_Digest(raw, rl, md, &ml, EVP_sha256(), NULL) != 1)
		return MG_ERR_CRYPTO;
	if ((r = rec_buf_hex(&b, md, REC_KEYID_LEN)) == 0)
		memcpy(k->id, b.p, sizeof(k->id));
	rec_buf_free(&b);
	return r;
}

/* Makes a relative path absolute for mg_file_open_safe(). */
static int
abspath(const char *path, char *out, size_t outlen)
{
	char cwd[PATH_MAX];
	int n;

	if (path[0] == '/')
		n = snprintf(out, outlen, "%s", path);
	else {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return MG_ERR_SYSTEM;
		n = snprintf(out, outlen, "%s/%s", cwd, path);
	}
	return n < 0 || (size_t)n >= outlen ? MG_ERR_TOOBIG : 0;
}

/*
 * The one form `openssl genpkey -algorithm ed25519` writes: PKCS#8 DER of
 * 48 bytes, a fixed 16-byte prefix and the 32-byte seed. Read directly, it
 * spares OpenSSL's generic decoder search (most of the cost of a PAM login
 * that writes an audit event). Anything else: NULL, and the caller falls
 * back to the generic reader.
 */
static EVP_PKEY *
ed25519_fast(const char *pem)
{
	static const char begin[] = "-----BEGIN PRIVATE KEY-----\n";
	static const char end[] = "\n-----END PRIVATE KEY-----";
	static const unsigned char prefix[16] = {
		0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
		0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20
	};
	unsigned char der[66];
	const char *b64, *e;
	EVP_PKEY *pk = NULL;
	int n;

	if (strncmp(pem, begin, sizeof(begin) - 1) != 0)
		return NULL;
	b64 = pem + sizeof(begin) - 1;
	/* One base64 line of 64 characters: 48 bytes. */
	if ((e = strstr(b64, end)) == NULL || e - b64 != 64)
		return NULL;
	n = EVP_DecodeBlock(der, (const unsigned char *)b64, 64);
	if (n == 48 && memcmp(der, prefix, sizeof(prefix)) == 0)
		pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, der + 16, 32);
	OPENSSL_cleanse(der, sizeof(der));
	return pk;
}

static int
load(const char *path, int want_priv, const char *owner, struct rec_key **out,
    char *err, size_t errlen)
{
	struct mg_file_rules rules = { 0 };
	struct rec_key *k = NULL;
	char ap[PATH_MAX], e[256] = "";
	char *buf = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	int r;

	*out = NULL;
	if ((r = abspath(path, ap, sizeof(ap))) != 0) {
		seterr(err, errlen, path, "path too long");
		return r;
	}
	rules.max_size = KEY_FILE_MAX;
	if (want_priv) {
		/* A signing key readable by others would let them forge seals. */
		rules.forbid_mode = 077;
		r = mg_file_read_safe(ap, &rules, &buf, &len, e, sizeof(e));
		/*
		 * The gateway's service account may own the key too (its broker
		 * signs with it). Asked only after a refusal: name lookups can
		 * be slow (LDAP, sssd) and most keys are owned by root.
		 */
		if (r == MG_ERR_PERM && owner != NULL) {
			char pwbuf[4096];
			struct passwd pw, *res = NULL;

			if (getpwnam_r(owner, &pw, pwbuf, sizeof(pwbuf), &res) == 0 &&
			    res != NULL) {
				rules.owner = res->pw_uid;
				rules.owner_set = 1;
				r = mg_file_read_safe(ap, &rules, &buf, &len, e, sizeof(e));
			}
		}
		if (r != 0) {
			seterr(err, errlen, e, "");
			return r;
		}
	} else {
		/* An auditor's copy of a public key: any owner, no secrecy. */
		int fd = open(ap, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		struct stat st;
		ssize_t got;

		if (fd < 0) {
			seterr(err, errlen, path, strerror(errno));
			return errno == ENOENT ? MG_ERR_NOENT : MG_ERR_SYSTEM;
		}
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > KEY_FILE_MAX ||
		    (buf = malloc((size_t)st.st_size + 1)) == NULL) {
			close(fd);
			seterr(err, errlen, path, "not a regular file of sane size");
			return MG_ERR_INVAL;
		}
		while (len < (size_t)st.st_size &&
		    (got = read(fd, buf + len, (size_t)st.st_size - len)) > 0)
			len += (size_t)got;
		close(fd);
		buf[len] = '\0';
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		r = MG_ERR_NOMEM;
		goto out;
	}
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		r = MG_ERR_NOMEM;
		goto out;
	}
	if (strstr(buf, "PRIVATE KEY") != NULL) {
		k->pkey = ed25519_fast(buf);
		if (k->pkey == NULL)
			k->pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
		k->priv = 1;
	} else if (!want_priv)
		k->pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	if (k->pkey == NULL || EVP_PKEY_get_id(k->pkey) != EVP_PKEY_ED25519) {
		seterr(err, errlen, path, want_priv ?
		    "not an Ed25519 private key in PEM form (openssl genpkey -algorithm ed25519)" :
		    "not an Ed25519 public key in PEM form (openssl pkey -pubout)");
		r = MG_ERR_PARSE;
		goto out;
	}
	if ((r = set_id(k)) != 0)
		goto out;
	*out = k;
	k = NULL;
out:
	BIO_free(bio);
	mg_freezero(buf, len);
	rec_key_free(k);
	return r;
}

int
rec_key_load_private(const char *path, struct rec_key **out, char *err, size_t errlen)
{
	return load(path, 1, NULL, out, err, errlen);
}

int
rec_key_load_private_owner(const char *path, const char *owner, struct rec_key **out,
    char *err, size_t errlen)
{
	return load(path, 1, owner, out, err, errlen);
}

int
rec_key_load_public(const char *path, struct rec_key **out, char *err, size_t errlen)
{
	return load(path, 0, NULL, out, err, errlen);
}

void
rec_key_free(struct rec_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

int
rec_key_is_private(const struct rec_key *k)
{
	return k->priv;
}

const char *
rec_key_id(const struct rec_key *k)
{
	return k->id;
}

int
rec_key_sign(const struct rec_key *k, const void *msg, size_t len, uint8_t sig[REC_SIG_LEN])
{
	EVP_MD_CTX *ctx;
	size_t sl = REC_SIG_LEN;
	int ok;

	if (!k->priv)
		return MG_ERR_INVAL;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return MG_ERR_NOMEM;
	ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	    EVP_DigestSign(ctx, sig, &sl, msg, len) == 1 && sl == REC_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : MG_ERR_CRYPTO;
}

int
rec_key_verify(const struct rec_key *k, const void *msg, size_t len,
    const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *ctx;
	int ok;

	if (siglen != REC_SIG_LEN)
		return MG_ERR_VERIFY;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return MG_ERR_NOMEM;
	ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : MG_ERR_VERIFY;
}

int
rec_key_public_pem(const struct rec_key *k, struct rec_buf *out)
{
	BIO *b;
	char *p;
	long n;
	int r = MG_ERR_CRYPTO;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return MG_ERR_NOMEM;
	if (PEM_write_bio_PUBKEY(b, k->pkey) == 1 && (n = BIO_get_mem_data(b, &p)) > 0)
		r = rec_buf_add(out, p, (size_t)n);
	BIO_free(b);
	return r;
}
