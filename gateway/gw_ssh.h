/* SPDX-License-Identifier: BSD-2-Clause */
/* The outbound leg: vault credentials and a libssh connection with a pinned host key. */
#ifndef GW_SSH_H
#define GW_SSH_H

#include <stddef.h>
#include <libssh/libssh.h>

#include "pol.h"

/*
 * The vault (gateway.vault) is a directory readable only by the mspgate
 * user. Credential NAME is the file NAME.key in it: an OpenSSH private key
 * ("-----BEGIN OPENSSH PRIVATE KEY-----", as ssh-keygen writes it) without
 * a passphrase, owned by mspgate or root, mode 0600 or 0400, at most
 * 64 KiB; the directories above it must not be writable by others.
 *
 * Loads credential name from vault into *out (free with ssh_key_free).
 * The file's bytes are wiped once imported. Returns 0, MG_ERR_NOENT,
 * MG_ERR_PERM, MG_ERR_INVAL (bad name), MG_ERR_PARSE (not a key without
 * passphrase); err says what.
 */
int gw_vault_load(const char *vault, const char *name, ssh_key *out, char *err,
    size_t errlen);

/* Why a connection failed: the caller's message and audit depend on it. */
enum gw_ssh_fail {
	GW_SSH_OK,
	GW_SSH_UNREACHABLE,	/* connect, timeout, protocol error */
	GW_SSH_HOSTKEY,		/* the host key is none of the pinned keys */
	GW_SSH_AUTH,		/* the target refused the credential */
	GW_SSH_CRED,		/* no credential: the certificate was not issued */
	GW_SSH_INTERNAL,
};

/*
 * Connects to t as login with key, timing out after timeout_s seconds at
 * each step. No configuration file and no known_hosts file is read or
 * written: the server's host key must equal one of t->host_keys (the
 * offered host key algorithms are limited to their types). On success
 * *out is connected and authenticated (free with ssh_disconnect and
 * ssh_free); fp gets the server's key fingerprint in any case where it
 * was seen (MG_SSHKEY_FP_LEN bytes). Returns 0 or a negative MG_ERR_*
 * with *why and err set.
 */
int gw_ssh_connect(const struct pol_target *t, const char *login, ssh_key key,
    long timeout_s, ssh_session *out, enum gw_ssh_fail *why, char *fp, size_t fplen,
    char *err, size_t errlen);

/*
 * The key to log in with, asked for once the host key is verified and
 * before authentication (a certificate needs the connection's own
 * address). 0 with *out set (the caller of gw_ssh_connect_with frees
 * nothing: gw_ssh_connect_with frees it), or an error with err set.
 */
typedef int (*gw_ssh_cred_fn)(void *ctx, ssh_session s, ssh_key *out, char *err,
    size_t errlen);
/* gw_ssh_connect with the key from fn; its failure is GW_SSH_CRED. */
int gw_ssh_connect_with(const struct pol_target *t, const char *login, gw_ssh_cred_fn fn,
    void *ctx, long timeout_s, ssh_session *out, enum gw_ssh_fail *why, char *fp,
    size_t fplen, char *err, size_t errlen);

#endif
