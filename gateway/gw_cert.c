/* SPDX-License-Identifier: BSD-2-Clause */
/* The session's ephemeral key and its certificate from mspgate-signer. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "gw_cert.h"
#include "gw_signmsg.h"
#include "mg_err.h"
#include "mg_util.h"

/* "ADDR/32" or "ADDR/128": the address this connection leaves from. */
static int
local_source(ssh_session s, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char a[INET6_ADDRSTRLEN];
	int fd = ssh_get_fd(s);

	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return -1;
	if (ss.ss_family == AF_INET &&
	    inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, a, sizeof(a)) != NULL)
		snprintf(buf, len, "%s/32", a);
	else if (ss.ss_family == AF_INET6 &&
	    inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, a, sizeof(a)) != NULL)
		snprintf(buf, len, "%s/128", a);
	else
		return -1;
	return 0;
}

/* The raw 32 bytes of an ed25519 public key, out of its wire blob. */
static int
raw_pub(ssh_key k, unsigned char pub[32])
{
	static const unsigned char head[] = "\0\0\0\x0bssh-ed25519\0\0\0\x20";
	unsigned char blob[64];
	char *b64 = NULL;
	size_t n = 0;
	int r = -1;

	if (ssh_pki_export_pubkey_base64(k, &b64) == SSH_OK && strlen(b64) <= 88 &&
	    mg_b64_decode(b64, strlen(b64), blob, &n) == 0 && n == 51 &&
	    memcmp(blob, head, 19) == 0) {
		memcpy(pub, blob + 19, 32);
		r = 0;
	}
	ssh_string_free_char(b64);
	return r;
}

static void
copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src != NULL ? src : "");
}

int
gw_cert_make(void *ctx, ssh_session s, ssh_key *out, char *err, size_t errlen)
{
	struct gw_cert_req *rq = ctx;
	struct gw_signmsg req, reply;
	ssh_key key = NULL, cert = NULL;
	const char *b64;
	int r;

	*out = NULL;
	memset(&req, 0, sizeof(req));
	req.type = GW_SIGN_REQUEST;
	copy(req.session, sizeof(req.session), rq->session);
	copy(req.engineer, sizeof(req.engineer), rq->engineer);
	copy(req.tenant, sizeof(req.tenant), rq->tenant);
	copy(req.target, sizeof(req.target), rq->target);
	copy(req.login, sizeof(req.login), rq->login);
	copy(req.ticket, sizeof(req.ticket), rq->ticket);
	req.lifetime = rq->lifetime;
	req.att_pid = rq->att_pid > 0 ? (uint32_t)rq->att_pid : 0;
	req.att_start = rq->att_start;
	if (local_source(s, req.source, sizeof(req.source)) != 0) {
		mg_seterr(err, errlen, "cannot read the connection's own address");
		return MG_ERR_SYSTEM;
	}
	/* Made here, used here, freed here: the private key is never written anywhere. */
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK ||
	    raw_pub(key, req.pubkey) != 0) {
		ssh_key_free(key);
		mg_seterr(err, errlen, "cannot make the session key");
		return MG_ERR_CRYPTO;
	}
	if ((r = gw_signer_ask(rq->socket, &req, rq->timeout_ms, &reply, err, errlen)) != 0)
		goto fail;
	b64 = strchr(reply.cert, ' ');
	if (strncmp(reply.cert, "ssh-ed25519-cert-v01@openssh.com ", 33) != 0 || b64 == NULL ||
	    ssh_pki_import_cert_base64(b64 + 1, SSH_KEYTYPE_ED25519_CERT01, &cert) != SSH_OK ||
	    ssh_pki_copy_cert_to_privkey(cert, key) != SSH_OK) {
		mg_seterr(err, errlen, "the signer's certificate does not fit the session key");
		r = MG_ERR_PARSE;
		goto fail;
	}
	ssh_key_free(cert);
	rq->serial = reply.serial;
	*out = key;
	return 0;
fail:
	ssh_key_free(cert);
	ssh_key_free(key);
	return r;
}
