/* SPDX-License-Identifier: BSD-2-Clause */
/* Vault keys and libssh connections to targets, with the host key checked against the pin. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_ssh.h"

#define GW_SSH_CIPHERS "aes256-gcm@openssh.com,aes128-gcm@openssh.com," \
	"chacha20-poly1305@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr"
#include "mg_err.h"
#include "mg_file.h"
#include "mg_sshkey.h"

#define VAULT_MAX_KEY (64 * 1024)

int
gw_vault_load(const char *vault, const char *name, ssh_key *out, char *err,
    size_t errlen)
{
	struct mg_file_rules rules = { 0 };
	char path[4096];
	char *buf = NULL;
	size_t len = 0, i;
	int r;

	*out = NULL;
	if (name == NULL || name[0] == '\0' || name[0] == '.' || strlen(name) > 128) {
		snprintf(err, errlen, "invalid credential name");
		return MG_ERR_INVAL;
	}
	for (i = 0; name[i] != '\0'; i++) {
		if (name[i] == '/') {
			snprintf(err, errlen, "invalid credential name");
			return MG_ERR_INVAL;
		}
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.key", vault, name) >= sizeof(path)) {
		snprintf(err, errlen, "vault path too long");
		return MG_ERR_INVAL;
	}
	/* A key others can read or replace is not a secret any more: refuse it. */
	rules.max_size = VAULT_MAX_KEY;
	rules.forbid_mode = 077;
	rules.owner = geteuid();
	rules.owner_set = 1;
	rules.check_dirs = 1;
	if ((r = mg_file_read_safe(path, &rules, &buf, &len, err, errlen)) != 0)
		return r;
	if (ssh_pki_import_privkey_base64(buf, NULL, NULL, NULL, out) != SSH_OK ||
	    !ssh_key_is_private(*out)) {
		ssh_key_free(*out);
		*out = NULL;
		snprintf(err, errlen, "%s: not an OpenSSH private key without passphrase",
		    path);
		r = MG_ERR_PARSE;
	}
	mg_freezero(buf, len);
	return r;
}

/* Host key algorithms to offer: the types of the pinned keys only. */
static void
hostkey_algos(const struct pol_target *t, char *buf, size_t len)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < t->nhost_keys; i++) {
		const char *a;

		switch (t->host_keys[i]->type) {
		case MG_KEY_RSA: a = "rsa-sha2-512,rsa-sha2-256"; break;
		case MG_KEY_ED25519:
		case MG_KEY_ECDSA_P256:
		case MG_KEY_ECDSA_P384:
		case MG_KEY_ECDSA_P521: a = t->host_keys[i]->type_name; break;
		default: continue;
		}
		if (strstr(buf, a) != NULL)
			continue;
		if (buf[0] != '\0')
			strncat(buf, ",", len - strlen(buf) - 1);
		strncat(buf, a, len - strlen(buf) - 1);
	}
}

/* The server's key as an mg_sshkey (parsed from its authorized_keys form). */
static int
server_key(ssh_session s, struct mg_sshkey **out)
{
	ssh_key k = NULL;
	char *b64 = NULL, *line = NULL, e[128];
	const char *tn;
	int r = MG_ERR_INTERNAL;

	*out = NULL;
	if (ssh_get_server_publickey(s, &k) != SSH_OK)
		return MG_ERR_INTERNAL;
	tn = ssh_key_type_to_char(ssh_key_type(k));
	if (tn != NULL && ssh_pki_export_pubkey_base64(k, &b64) == SSH_OK &&
	    asprintf(&line, "%s %s", tn, b64) > 0)
		r = mg_sshkey_parse(line, out, e, sizeof(e));
	ssh_string_free_char(b64);
	free(line);
	ssh_key_free(k);
	return r;
}

static int
connect_key(const struct pol_target *t, const char *login, ssh_key key,
    gw_ssh_cred_fn fn, void *ctx, long timeout_s, ssh_session *out,
    enum gw_ssh_fail *why, char *fp, size_t fplen, char *err, size_t errlen);

int
gw_ssh_connect(const struct pol_target *t, const char *login, ssh_key key,
    long timeout_s, ssh_session *out, enum gw_ssh_fail *why, char *fp, size_t fplen,
    char *err, size_t errlen)
{
	return connect_key(t, login, key, NULL, NULL, timeout_s, out, why, fp, fplen, err,
	    errlen);
}

int
gw_ssh_connect_with(const struct pol_target *t, const char *login, gw_ssh_cred_fn fn,
    void *ctx, long timeout_s, ssh_session *out, enum gw_ssh_fail *why, char *fp,
    size_t fplen, char *err, size_t errlen)
{
	return connect_key(t, login, NULL, fn, ctx, timeout_s, out, why, fp, fplen, err,
	    errlen);
}

static int
connect_key(const struct pol_target *t, const char *login, ssh_key key,
    gw_ssh_cred_fn fn, void *ctx, long timeout_s, ssh_session *out,
    enum gw_ssh_fail *why, char *fp, size_t fplen, char *err, size_t errlen)
{
	ssh_key made = NULL;
	ssh_session s = NULL;
	struct mg_sshkey *sk = NULL;
	unsigned int port = (unsigned int)t->port;
	char algos[256];
	bool no = false;
	int strict = 0, one = 1, r = MG_ERR_INTERNAL, rc;
	size_t i;

	*out = NULL;
	*why = GW_SSH_INTERNAL;
	if (fplen > 0)
		fp[0] = '\0';
	snprintf(err, errlen, "internal error");
	if ((s = ssh_new()) == NULL)
		return MG_ERR_NOMEM;
	hostkey_algos(t, algos, sizeof(algos));
	/* Nothing from mspgate's home: no config, no known_hosts (the pin
	 * in the policy is the only trust there is). */
	if (ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_HOST, t->host) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_PORT, &port) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_USER, login) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout_s) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_STRICTHOSTKEYCHECK, &strict) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null") != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") != 0 ||
	    /* Small SFTP requests and keystrokes must not wait for delayed ACKs. */
	    ssh_options_set(s, SSH_OPTIONS_NODELAY, &one) != 0 ||
	    /*
	     * AES-GCM first: with AES-NI, libcrypto's GCM costs the session
	     * process far less per byte than libssh's ChaCha20-Poly1305, and
	     * this process also records every byte. Both are AEAD; the
	     * others stay for targets that offer neither.
	     */
	    ssh_options_set(s, SSH_OPTIONS_CIPHERS_C_S, GW_SSH_CIPHERS) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_CIPHERS_S_C, GW_SSH_CIPHERS) != 0 ||
	    (algos[0] != '\0' && ssh_options_set(s, SSH_OPTIONS_HOSTKEYS, algos) != 0)) {
		snprintf(err, errlen, "cannot set connection options: %s", ssh_get_error(s));
		goto out;
	}
	if (ssh_connect(s) != SSH_OK) {
		*why = GW_SSH_UNREACHABLE;
		snprintf(err, errlen, "%s port %d: %s", t->host, t->port, ssh_get_error(s));
		r = MG_ERR_SYSTEM;
		goto out;
	}
	if ((r = server_key(s, &sk)) != 0) {
		*why = GW_SSH_HOSTKEY;
		snprintf(err, errlen, "cannot read the target's host key");
		r = MG_ERR_VERIFY;
		goto out;
	}
	mg_sshkey_fingerprint(sk, fp, fplen);
	/* Pinned, not trusted on first use: any one of the listed keys. */
	for (i = 0; i < t->nhost_keys; i++)
		if (mg_sshkey_equal(sk, t->host_keys[i]))
			break;
	if (i == t->nhost_keys) {
		*why = GW_SSH_HOSTKEY;
		snprintf(err, errlen, "host key %s %s is not the one pinned in the policy",
		    sk->type_name, fplen > 0 ? fp : "");
		r = MG_ERR_VERIFY;
		goto out;
	}
	if (fn != NULL) {
		if ((r = fn(ctx, s, &made, err, errlen)) != 0) {
			*why = GW_SSH_CRED;
			goto out;
		}
		key = made;
	}
	rc = ssh_userauth_publickey(s, NULL, key);
	if (rc != SSH_AUTH_SUCCESS) {
		*why = rc == SSH_AUTH_ERROR ? GW_SSH_UNREACHABLE : GW_SSH_AUTH;
		snprintf(err, errlen, "the target refused the %s for %s%s%s",
		    fn != NULL ? "session certificate" : "vault credential", login, rc == SSH_AUTH_ERROR ? ": " : "",
		    rc == SSH_AUTH_ERROR ? ssh_get_error(s) : "");
		r = MG_ERR_DENIED;
		goto out;
	}
	*why = GW_SSH_OK;
	*out = s;
	s = NULL;
	r = 0;
	snprintf(err, errlen, "ok");
out:
	ssh_key_free(made);
	mg_sshkey_free(sk);
	if (s != NULL) {
		ssh_disconnect(s);
		ssh_free(s);
	}
	return r;
}
