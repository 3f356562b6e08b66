/* SPDX-License-Identifier: BSD-2-Clause */
/* A session's certificate: a fresh key in memory, signed by mspgate-signer for this session alone. */
#ifndef GW_CERT_H
#define GW_CERT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <libssh/libssh.h>

/* What the session asks the signer for (strings borrowed). */
struct gw_cert_req {
	const char *socket;	/* signer.socket */
	const char *session, *engineer, *tenant, *target, *login, *ticket;
	pid_t att_pid;		/* the login attestation's session process */
	unsigned long long att_start;	/* and its start time: the signer checks both */
	uint32_t lifetime;	/* seconds from now */
	int timeout_ms;
	uint64_t serial;	/* out: the certificate's serial */
};

/*
 * A gw_ssh_cred_fn (ctx: struct gw_cert_req): generates an ed25519 key
 * that exists only in this process's memory, asks the signer to certify
 * it for req->login with the connection's own address (getsockname of
 * s) as source-address, and attaches the certificate to the key. The
 * signer's refusal or absence is the error, in err.
 */
int gw_cert_make(void *ctx, ssh_session s, ssh_key *out, char *err, size_t errlen);

#endif
