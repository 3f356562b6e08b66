/* SPDX-License-Identifier: BSD-2-Clause */
/* OpenSSH public keys in authorized_keys form, parsed and checked. */
#ifndef MG_SSHKEY_H
#define MG_SSHKEY_H

#include <stddef.h>

enum mg_keytype {
	MG_KEY_ED25519,		/* ssh-ed25519 */
	MG_KEY_ECDSA_P256,	/* ecdsa-sha2-nistp256 */
	MG_KEY_ECDSA_P384,	/* ecdsa-sha2-nistp384 */
	MG_KEY_ECDSA_P521,	/* ecdsa-sha2-nistp521 */
	MG_KEY_RSA,		/* ssh-rsa, at least 2048 bits */
	MG_KEY_SK_ED25519,	/* sk-ssh-ed25519@openssh.com */
	MG_KEY_SK_ECDSA_P256,	/* sk-ecdsa-sha2-nistp256@openssh.com */
};

struct mg_sshkey {
	enum mg_keytype type;
	const char *type_name;	/* static: "sk-ssh-ed25519@openssh.com" */
	unsigned char *blob;	/* the decoded key blob (wire format) */
	size_t bloblen;
	char *application;	/* security keys: "ssh:" usually; else NULL */
	char *comment;		/* may be NULL */
	unsigned int bits;	/* RSA modulus size, curve size, 256 for ed25519 */
};

/*
 * Parses "TYPE BASE64 [COMMENT]" and checks the blob: the type inside must
 * match, every field must be well formed, points and lengths valid, no
 * trailing bytes. ssh-dss, certificates and short RSA keys are refused.
 * Fields are separated by spaces or tabs; surrounding blanks and a final
 * line ending are ignored; the comment is the rest of the line. Lines over
 * 16 KiB or holding control characters are refused. On error *out is NULL.
 * Returns 0, MG_ERR_PARSE (err says why), or MG_ERR_NOMEM.
 */
int mg_sshkey_parse(const char *line, struct mg_sshkey **out, char *err, size_t errlen);
void mg_sshkey_free(struct mg_sshkey *k);
/* 1 for security-key (FIDO) types. */
int mg_sshkey_is_sk(const struct mg_sshkey *k);
/* 1 when both are the same key (type and blob). */
int mg_sshkey_equal(const struct mg_sshkey *a, const struct mg_sshkey *b);
/*
 * "SHA256:..." as ssh-keygen -l prints it. buf needs MG_SSHKEY_FP_LEN bytes;
 * a smaller one gives MG_ERR_TOOBIG.
 */
#define MG_SSHKEY_FP_LEN	51	/* "SHA256:" + 43 base64 + NUL */
int mg_sshkey_fingerprint(const struct mg_sshkey *k, char *buf, size_t len);
/* "TYPE BASE64" (no comment), into a new string the caller frees. */
int mg_sshkey_format(const struct mg_sshkey *k, char **out);

#endif
