/* SPDX-License-Identifier: BSD-2-Clause */
/* The TOTP secret and lockout record file formats: parse and format, no I/O. */
#ifndef MFA_STORE_H
#define MFA_STORE_H

#include <stddef.h>
#include <stdint.h>

/* A secret is 10 to 64 bytes (80 to 512 bits); 20 is what we make. */
#define MFA_KEY_MIN	10
#define MFA_KEY_MAX	64
#define MFA_KEY_LEN	20
/* A record file is small: anything larger is not ours. */
#define MFA_FILE_MAX	4096
/* Failure times kept in a lockout record (the policy allows at most 1000). */
#define MFA_MAX_FAIL	1000

enum mfa_status { MFA_PENDING = 1, MFA_ACTIVE = 2 };
enum mfa_alg { MFA_SHA1 = 1, MFA_SHA256 = 2, MFA_SHA512 = 3 };

/* One user's TOTP secret. Holds key material: wipe with mfa_secret_wipe. */
struct mfa_secret {
	enum mfa_status status;
	enum mfa_alg alg;
	int digits;		/* 6 or 8 */
	int period;		/* 15..300 seconds */
	unsigned char key[MFA_KEY_MAX];
	size_t keylen;
	int64_t last_step;	/* last accepted time step; -1: none yet */
	int64_t created;	/* seconds since the epoch */
};

/* One user's recent failures and lock. */
struct mfa_lockrec {
	int64_t fail[MFA_MAX_FAIL];	/* oldest first */
	size_t nfail;
	int64_t locked_until;	/* 0: not locked */
};

/*
 * Parses a secret file's text (len bytes, need not be NUL-terminated).
 * Strict: "key = value" lines, '#' comments, every key known and given
 * once; version, status, algorithm, digits, period and secret required.
 * Returns 0 or MG_ERR_PARSE (err says which line). out is wiped on error.
 */
int mfa_secret_parse(const char *buf, size_t len, struct mfa_secret *out,
    char *err, size_t errlen);
/*
 * Formats s; *out is the caller's (a secret: mg_freezero(*out, *outlen)).
 * Returns 0, MG_ERR_INVAL (s out of range) or MG_ERR_NOMEM.
 */
int mfa_secret_format(const struct mfa_secret *s, char **out, size_t *outlen);
void mfa_secret_wipe(struct mfa_secret *s);

/* The same for lockout records ("failures = T T T", "locked_until = T"). */
int mfa_lockrec_parse(const char *buf, size_t len, struct mfa_lockrec *out,
    char *err, size_t errlen);
int mfa_lockrec_format(const struct mfa_lockrec *r, char **out, size_t *outlen);

/* "sha1" <-> MFA_SHA1 ...; parse returns 0 or MG_ERR_PARSE. */
int mfa_alg_parse(const char *s, enum mfa_alg *out);
const char *mfa_alg_name(enum mfa_alg a);

/*
 * RFC 4648 base32, upper case, no padding. encode: out needs
 * (len * 8 + 4) / 5 + 1 bytes; returns 0 or MG_ERR_TOOBIG.
 * decode: accepts upper or lower case, ignores spaces and trailing '=';
 * returns 0, MG_ERR_PARSE (bad character or leftover bits), MG_ERR_TOOBIG.
 */
int mfa_base32_encode(const unsigned char *in, size_t len, char *out, size_t outlen);
int mfa_base32_decode(const char *in, size_t inlen, unsigned char *out,
    size_t outmax, size_t *outlen);

/* 1 for a name the store may use as a file name: a policy engineer name. */
int mfa_user_ok(const char *name);

#endif
