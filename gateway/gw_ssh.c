/* SPDX-License-Identifier: BSD-2-Clause */
/* Vault keys and libssh connections to targets, with the host key checked against the pin. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gw_ssh.h"

#define GW_SSH_CIPHERS "aes256-gcm@openssh.com,aes128-gcm@openssh.com," \
	"chacha20-poly1305@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr"
#include "mg_err.h"
#include "mg_file.h"
#include "mg_sshcert.h"
#include "mg_sshkey.h"
#include "mg_time.h"

#define VAULT_MAX_KEY (64 * 1024)
/* OpenSSH's scanner fetches a host certificate, which libssh 0.10 cannot negotiate. */
#ifndef GW_SSH_KEYSCAN
#define GW_SSH_KEYSCAN "/usr/bin/ssh-keyscan"
#endif
#define KEYSCAN_MAX (32 * 1024)

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
	/* Host certificates are ed25519 ones (mg_sshcert_check_host). */
	if (t->nhost_keys == 0)
		snprintf(buf, len, "ssh-ed25519");
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

/* ssh-keyscan -c's output for the target, at most KEYSCAN_MAX bytes, within timeout_s. */
static int
keyscan(const struct pol_target *t, long timeout_s, char *buf, size_t len, char *err,
    size_t errlen)
{
	posix_spawn_file_actions_t fa;
	char port[16], tmo[24], *argv[12], *envp[] = { NULL };
	struct timespec t0, now;
	size_t got = 0;
	pid_t pid;
	int p[2], st, r = MG_ERR_UNAVAIL;

	snprintf(port, sizeof(port), "%d", t->port);
	snprintf(tmo, sizeof(tmo), "%ld", timeout_s > 0 ? timeout_s : 10);
	argv[0] = "ssh-keyscan"; argv[1] = "-c"; argv[2] = "-t"; argv[3] = "ed25519";
	argv[4] = "-T"; argv[5] = tmo; argv[6] = "-p"; argv[7] = port; argv[8] = "--";
	argv[9] = t->host; argv[10] = NULL;
	if (pipe2(p, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return MG_ERR_SYSTEM;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	st = posix_spawn(&pid, GW_SSH_KEYSCAN, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (st != 0) {
		close(p[0]);
		snprintf(err, errlen, "%s: %s", GW_SSH_KEYSCAN, strerror(st));
		return MG_ERR_SYSTEM;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		long left;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = (timeout_s + 2) * 1000 - ((now.tv_sec - t0.tv_sec) * 1000 +
		    (now.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			snprintf(err, errlen, "no host certificate from %s port %d in time",
			    t->host, t->port);
			kill(pid, SIGKILL);
			break;
		}
		n = read(p[0], buf + got, len - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (got += (size_t)n) >= len - 1) {
			r = 0;
			break;
		}
	}
	buf[got] = '\0';
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return r;
}

/*
 * A target without a pinned key: the key it proved it holds (sk) must be
 * certified for its host name by the tenant's host_ca. The certificate
 * may come over any channel, since it is checked against sk and the CA;
 * a plain key, a certificate for another name or from another CA is
 * refused, never trusted on first use.
 */
static int
host_cert_ok(const struct pol_target *t, const struct mg_sshkey *sk, long timeout_s,
    char *err, size_t errlen)
{
	const struct mg_sshkey *ca = t->tenant != NULL ? t->tenant->host_ca : NULL;
	char *buf, *line, *save = NULL, e[256];
	int r;

	if (ca == NULL || sk->type != MG_KEY_ED25519 || sk->bloblen < 32) {
		snprintf(err, errlen, "host key %s is not pinned and no host_ca applies",
		    sk->type_name);
		return MG_ERR_VERIFY;
	}
	if ((buf = malloc(KEYSCAN_MAX)) == NULL)
		return MG_ERR_NOMEM;
	if ((r = keyscan(t, timeout_s, buf, KEYSCAN_MAX, err, errlen)) != 0) {
		free(buf);
		return MG_ERR_VERIFY;
	}
	r = MG_ERR_VERIFY;
	snprintf(e, sizeof(e), "no host certificate: the target presents a plain key");
	for (line = strtok_r(buf, "\n", &save); line != NULL && r != 0;
	    line = strtok_r(NULL, "\n", &save)) {
		char *c = strstr(line, "ssh-ed25519-cert-v01@openssh.com "), *end;

		if (c == NULL)
			continue;
		c += strlen("ssh-ed25519-cert-v01@openssh.com ");
		if ((end = strpbrk(c, " \t\r")) != NULL)
			*end = '\0';
		r = mg_sshcert_check_host(c, sk->blob + sk->bloblen - 32,
		    ca->blob + ca->bloblen - 32, t->host, (int64_t)mg_clock_now(), e,
		    sizeof(e));
	}
	free(buf);
	if (r != 0)
		snprintf(err, errlen, "%s/%s: %s", t->tenant->name, t->name, e);
	return r != 0 ? MG_ERR_VERIFY : 0;
}

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
	if (t->nhost_keys == 0) {
		if (host_cert_ok(t, sk, timeout_s, err, errlen) != 0) {
			*why = GW_SSH_HOSTKEY;
			r = MG_ERR_VERIFY;
			goto out;
		}
		i = 0;
	} else {
		/* Pinned, not trusted on first use: any one of the listed keys. */
		for (i = 0; i < t->nhost_keys; i++)
			if (mg_sshkey_equal(sk, t->host_keys[i]))
				break;
	}
	if (t->nhost_keys > 0 && i == t->nhost_keys) {
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
