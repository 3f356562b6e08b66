/* SPDX-License-Identifier: BSD-2-Clause */
/* Ed25519 signing keys for recordings and the audit log (PEM files, OpenSSL EVP). */
#ifndef REC_KEY_H
#define REC_KEY_H

#include <stddef.h>
#include <stdint.h>

#define REC_SIG_LEN 64
#define REC_KEYID_LEN 16	/* bytes of SHA-256(raw public key) shown as the key id */

struct rec_key;

/*
 * Loads a private key written by `openssl genpkey -algorithm ed25519`.
 * The file must be a regular file, not a symlink, owned by root or the
 * effective uid, and not readable by group or others. Relative paths are
 * taken from the current directory. err (may be NULL) gets a message.
 * Returns 0, MG_ERR_NOENT, MG_ERR_PERM, MG_ERR_PARSE (not an Ed25519 key) ...
 */
int rec_key_load_private(const char *path, struct rec_key **out, char *err, size_t errlen);
/* The same, also accepting a key owned by the user named owner (NULL: no one else). */
int rec_key_load_private_owner(const char *path, const char *owner, struct rec_key **out,
    char *err, size_t errlen);
/* Loads a public key (`openssl pkey -pubout`) or, also, a private key file. */
int rec_key_load_public(const char *path, struct rec_key **out, char *err, size_t errlen);
void rec_key_free(struct rec_key *k);
/* 1 if the key can sign. */
int rec_key_is_private(const struct rec_key *k);
/* Hex key id (2*REC_KEYID_LEN chars + NUL). */
const char *rec_key_id(const struct rec_key *k);
/* Signs msg into sig[REC_SIG_LEN]. MG_ERR_CRYPTO on failure. */
int rec_key_sign(const struct rec_key *k, const void *msg, size_t len,
    uint8_t sig[REC_SIG_LEN]);
/* 0 when sig is a valid signature of msg, MG_ERR_VERIFY when not. */
int rec_key_verify(const struct rec_key *k, const void *msg, size_t len,
    const uint8_t *sig, size_t siglen);

struct rec_buf;
/* Appends the public key as PEM (what `openssl pkey -pubout` writes). */
int rec_key_public_pem(const struct rec_key *k, struct rec_buf *out);

#endif
