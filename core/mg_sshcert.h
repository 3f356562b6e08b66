/* SPDX-License-Identifier: BSD-2-Clause */
/* OpenSSH user certificates (PROTOCOL.certkeys) for ed25519 keys, signed by an ed25519 CA. */
#ifndef MG_SSHCERT_H
#define MG_SSHCERT_H

#include <stddef.h>
#include <stdint.h>

/* The certificate type: a user may log in with it (1), a host presents it (2). */
#define MG_SSHCERT_USER	1
#define MG_SSHCERT_HOST	2

/*
 * What a certificate says. Strings are NUL-terminated and bounded
 * (MG_SSHCERT_STR_MAX); at most MG_SSHCERT_MAX_PRINCIPALS principals.
 */
#define MG_SSHCERT_STR_MAX		1024
#define MG_SSHCERT_MAX_PRINCIPALS	16
struct mg_sshcert_spec {
	const unsigned char *pub;	/* the subject's ed25519 public key (32 bytes) */
	uint64_t serial;
	unsigned type;			/* MG_SSHCERT_USER or MG_SSHCERT_HOST */
	const char *key_id;
	const char *const *principals;
	size_t nprincipals;
	uint64_t valid_after, valid_before;	/* seconds since the epoch */
	const char *source_address;	/* critical option; NULL: none */
	int permit_pty;			/* user certificates: the only extension */
};

/*
 * Builds the certificate and signs it with the ed25519 CA whose 32-byte
 * private seed is ca_seed. *out (free) is the certificate in
 * authorized_keys form, "ssh-ed25519-cert-v01@openssh.com BASE64", NUL
 * terminated. No extension but permit-pty is ever granted: a certificate
 * made here permits no port, agent or X11 forwarding and no user rc.
 * Returns 0, MG_ERR_INVAL (a bound or a missing field; err says which),
 * MG_ERR_CRYPTO, MG_ERR_NOMEM.
 */
int mg_sshcert_sign(const struct mg_sshcert_spec *spec, const unsigned char ca_seed[32],
    char **out, char *err, size_t errlen);

/*
 * Checks a host certificate (the base64 of an ssh-ed25519-cert-v01 blob,
 * as ssh-keyscan -c prints it): it certifies exactly key (32 bytes, the
 * key the server proved it holds), it is a host certificate, name is
 * one of its principals (a certificate without principals is refused),
 * now is within its validity, it has no critical option, and it is
 * signed by the ed25519 CA ca (32 bytes) with a good signature.
 * 0, or MG_ERR_VERIFY / MG_ERR_PARSE with err saying which.
 */
int mg_sshcert_check_host(const char *b64, const unsigned char key[32],
    const unsigned char ca[32], const char *name, int64_t now, char *err, size_t errlen);

/* The ed25519 public key (32 bytes) of a private seed. 0 or MG_ERR_CRYPTO. */
int mg_sshcert_ed25519_pub(const unsigned char seed[32], unsigned char pub[32]);

/*
 * Loads an ed25519 private key from a PEM file (PKCS#8, as `openssl
 * genpkey -algorithm ed25519` writes it) already read into buf, into
 * seed. 0 or MG_ERR_PARSE (not an ed25519 key; err says so).
 */
int mg_sshcert_load_ed25519(const char *buf, size_t len, unsigned char seed[32],
    char *err, size_t errlen);

#endif
