/* SPDX-License-Identifier: BSD-2-Clause */
/* TOTP secrets sealed for the state database: AES-256-GCM under a key file each gateway holds. */
#ifndef ST_SEAL_H
#define ST_SEAL_H

#include <stddef.h>
#include <sys/types.h>

#define ST_KEY_LEN 32

/*
 * Reads the key file: 64 hex digits (a 256-bit key), an optional newline,
 * nothing else. The file must belong to root or to owner (when owner_set)
 * and have no group-write or world bits (0600 or 0640: mspgated reads it
 * through its group). Returns 0, MG_ERR_NOENT, MG_ERR_PERM, MG_ERR_PARSE;
 * err names the file. key is wiped on error.
 */
int st_key_load(const char *path, uid_t owner, int owner_set,
    unsigned char key[ST_KEY_LEN], char *err, size_t errlen);

/*
 * Seals len bytes of in for the row named aad (the engineer: a sealed
 * secret moved to another engineer's row does not open). *out gets
 * NUL-terminated hex: version byte, 12-byte random nonce, ciphertext,
 * 16-byte tag; the caller frees it. Returns 0, MG_ERR_CRYPTO, MG_ERR_NOMEM.
 */
int st_seal(const unsigned char key[ST_KEY_LEN], const char *aad,
    const unsigned char *in, size_t len, char **out);

/*
 * Opens what st_seal made. *out (NUL-terminated, *outlen bytes) is the
 * caller's: mg_freezero(*out, *outlen). Returns 0, MG_ERR_PARSE (not a
 * sealed value), MG_ERR_VERIFY (wrong key, wrong row or altered),
 * MG_ERR_NOMEM.
 */
int st_unseal(const unsigned char key[ST_KEY_LEN], const char *aad,
    const char *hex, unsigned char **out, size_t *outlen);

#endif
