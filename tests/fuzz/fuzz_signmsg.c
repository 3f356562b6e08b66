/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target for the messages between a session process and mspgate-signer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Compiled in, as the other gateway targets do. */
#include "../../gateway/gw_signmsg.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char buf[GW_SIGN_MAX];
	static struct gw_signmsg m, m2, zero;
	int len;

	if (gw_signmsg_decode(data, size, &m) != 0) {
		/* A refused packet leaves only an unknown type behind. */
		if (m.type != 0 && m.type != GW_SIGN_REQUEST && m.type != GW_SIGN_CERT &&
		    m.type != GW_SIGN_REFUSED)
			abort();
		return 0;
	}
	/* What decodes encodes back, no longer, and decodes to the same fields. */
	if ((len = gw_signmsg_encode(&m, buf, sizeof(buf))) < 0 || (size_t)len > size ||
	    gw_signmsg_decode(buf, (size_t)len, &m2) != 0 || memcmp(&m, &m2, sizeof(m)) != 0)
		abort();
	/* Strings hold no control byte. */
	for (len = 0; m.session[len]; len++)
		if ((unsigned char)m.session[len] < 0x20)
			abort();
	/* Only a request names a login attestation. */
	if (m.type != GW_SIGN_REQUEST && (m.att_pid != 0 || m.att_start != 0))
		abort();
	(void)zero;
	return 0;
}
