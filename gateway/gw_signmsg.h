/* SPDX-License-Identifier: BSD-2-Clause */
/* The messages a session process and mspgate-signer exchange, and the session's side of the exchange. */
#ifndef GW_SIGNMSG_H
#define GW_SIGNMSG_H

#include <stddef.h>
#include <stdint.h>

/*
 * Wire format, version 1, on an AF_UNIX SOCK_SEQPACKET socket (one packet
 * a message, one request and one reply a connection):
 *
 *   'M' 'S' VERSION TYPE  FIELD*
 *   FIELD = TAG (1 byte)  LENGTH (2 bytes, big-endian)  VALUE
 *
 * GW_SIGN_REQUEST (session -> signer) must have SESSION, ENGINEER,
 * TENANT, TARGET, LOGIN, PUBKEY, LIFETIME, SOURCE, ATT_PID and
 * ATT_START, and may have TICKET. GW_SIGN_CERT (signer -> session) has CERT and SERIAL;
 * GW_SIGN_REFUSED has TEXT. A tag appears at most once and only in the
 * types above; strings hold no control bytes and no NUL and are at most
 * the length given; anything else is refused as a whole (MG_ERR_PARSE).
 */
#define GW_SIGN_VERSION	1
/* Backdating for clocks a little behind the signer's. */
#define GW_SIGNER_SKEW	60
/* A certificate outlives the session's limit by this much, never more. */
#define GW_SIGNER_GRACE	60
#define GW_SIGN_MAX	16384

enum gw_sign_type { GW_SIGN_REQUEST = 1, GW_SIGN_CERT = 2, GW_SIGN_REFUSED = 3 };

enum gw_sign_tag {
	GW_ST_SESSION = 1,	/* the session id, <= 64 */
	GW_ST_ENGINEER = 2,	/* <= 64 */
	GW_ST_TENANT = 3,	/* <= 64 */
	GW_ST_TARGET = 4,	/* <= 64 */
	GW_ST_LOGIN = 5,	/* the principal, <= 64 */
	GW_ST_TICKET = 6,	/* <= 128 */
	GW_ST_PUBKEY = 7,	/* the ephemeral ed25519 public key: 32 bytes */
	GW_ST_LIFETIME = 8,	/* u32 seconds the certificate is asked for */
	GW_ST_SOURCE = 9,	/* the connection's own address(es), "CIDR[,CIDR]", <= 512 */
	GW_ST_CERT = 10,	/* "ssh-ed25519-cert-v01@openssh.com BASE64", <= 8192 */
	GW_ST_SERIAL = 11,	/* u64 */
	GW_ST_TEXT = 12,	/* why refused, <= 512 */
	GW_ST_ATT_PID = 13,	/* u32: the login attestation's pid (its sshd session) */
	GW_ST_ATT_START = 14,	/* u64: that process's start time, as in the attestation */
	GW_ST_NTAGS
};

struct gw_signmsg {
	enum gw_sign_type type;
	/* Strings NUL-terminated ("" when absent). */
	char session[65], engineer[65], tenant[65], target[65], login[65];
	char ticket[129], source[513], cert[8193], text[513];
	unsigned char pubkey[32];
	uint32_t lifetime, att_pid;
	uint64_t serial, att_start;
};

/* Encodes m into buf (GW_SIGN_MAX bytes); the length, or MG_ERR_INVAL. */
int gw_signmsg_encode(const struct gw_signmsg *m, unsigned char *buf, size_t len);
/* Decodes one packet into m (zeroed first). 0 or MG_ERR_PARSE. */
int gw_signmsg_decode(const unsigned char *buf, size_t len, struct gw_signmsg *m);

/*
 * The session's side: connects to the signer's socket, sends req, and
 * waits at most timeout_ms for the answer. 0 with the certificate in
 * reply (GW_SIGN_CERT); MG_ERR_DENIED with the signer's reason in err
 * (GW_SIGN_REFUSED); MG_ERR_UNAVAIL when the signer cannot be reached or
 * does not answer in time; MG_ERR_PARSE for a reply that is neither.
 */
int gw_signer_ask(const char *socket_path, const struct gw_signmsg *req,
    int timeout_ms, struct gw_signmsg *reply, char *err, size_t errlen);

#endif
