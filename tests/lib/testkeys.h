/* SPDX-License-Identifier: BSD-2-Clause */
/* Test helper: public-key lines made from a seed at run time (no key files in git). */
#ifndef TESTKEYS_H
#define TESTKEYS_H

#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

static inline void
tk_put(unsigned char *b, size_t *o, const void *s, size_t n)
{
	b[(*o)++] = (unsigned char)(n >> 24);
	b[(*o)++] = (unsigned char)(n >> 16);
	b[(*o)++] = (unsigned char)(n >> 8);
	b[(*o)++] = (unsigned char)n;
	memcpy(b + *o, s, n);
	*o += n;
}

/*
 * Writes "TYPE BASE64" for an ed25519 (sk = 0) or sk-ssh-ed25519 (sk = 1)
 * public key whose 32 key bytes are SHA-256(seed). Only public keys: they
 * identify, they do not authenticate anyone.
 */
static inline void
tk_key(const char *seed, int sk, char *out, size_t outlen)
{
	const char *type = sk ? "sk-ssh-ed25519@openssh.com" : "ssh-ed25519";
	unsigned char pk[SHA256_DIGEST_LENGTH], blob[128];
	unsigned char b64[256];
	size_t o = 0;

	SHA256((const unsigned char *)seed, strlen(seed), pk);
	tk_put(blob, &o, type, strlen(type));
	tk_put(blob, &o, pk, sizeof(pk));
	if (sk)
		tk_put(blob, &o, "ssh:", 4);
	EVP_EncodeBlock(b64, blob, (int)o);
	snprintf(out, outlen, "%s %s", type, (char *)b64);
}

#endif
