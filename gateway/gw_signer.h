/* SPDX-License-Identifier: BSD-2-Clause */
/* mspgate-signer's decision: which request gets a certificate, audited before it is signed. */
#ifndef GW_SIGNER_H
#define GW_SIGNER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "gw_ratelim.h"
#include "gw_signmsg.h"
#include "pol.h"
#include "rec_key.h"


struct gw_signer_ca {
	const struct pol_credential *cred;
	unsigned char seed[32];		/* the CA's private key; wiped on free */
};

struct gw_signer {
	const struct pol *pol;		/* borrowed */
	uid_t gateway_uid;		/* the only peer served */
	const struct rec_key *audit_key;	/* borrowed: signs the signer's audit log */
	struct gw_signer_ca *cas;
	size_t ncas;
	time_t win_start;		/* the rate limit's minute */
	unsigned win_count;
	uint64_t last_serial;
	/*
	 * Refusals audited one by one per uid (GW_SIGNER_REFUSALS a minute),
	 * then counted in one event: a flood cannot fill the log. Set with
	 * gw_ratelim_init before the first request.
	 */
	struct gw_ratelim refused;
};
#define GW_SIGNER_REFUSALS	20

/*
 * Loads every certificate credential's CA key, ca_keys/NAME.pem (ed25519
 * PKCS#8 PEM, owned by the effective uid or root, no access for group or
 * others, 0600 or 0400), and checks it against the policy's public key.
 * 0, or an error with err naming the file.
 */
int gw_signer_load_cas(struct gw_signer *s, char *err, size_t errlen);
/* Wipes and frees the CA keys. */
void gw_signer_free_cas(struct gw_signer *s);

/*
 * One request from a peer of uid peer: reply is GW_SIGN_CERT, or
 * GW_SIGN_REFUSED saying why. Refused: a peer other than the gateway's
 * service account, over the rate, an unknown tenant or target, a target
 * whose credential is not a certificate, a login or engineer no grant
 * allows there, no live attested login behind the request (no
 * attestation in gateway.attestations for the pid it names, another start
 * time, a session process gone, another engineer's login, or factors no
 * such grant accepts), a lifetime over the longest such grant's max_session
 * plus GW_SIGNER_GRACE, a bad source address, or an audit log that
 * cannot be written (nothing is signed that is not audited first).
 * Every issue and every refusal goes to the signer's audit log.
 */
void gw_signer_handle(struct gw_signer *s, uid_t peer, const struct gw_signmsg *req,
    struct gw_signmsg *reply);

#endif
