/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target for the host certificate reader (mg_sshcert_check_host). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mg_sshcert.h"
#include "mg_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input is a certificate blob. The key and CA checked against are its
 * own bytes where a well-formed ed25519 certificate has them (the key at
 * offset 87 after a 32-byte nonce, the CA 32 bytes before the signature),
 * so the signature check is reached too; nothing may be accepted that
 * does not verify.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char zero[32];
	unsigned char key[32], ca[32];
	char err[256], *b64;

	if (size > 16384)
		return 0;
	if ((b64 = malloc(MG_B64_ENCLEN(size))) == NULL)
		abort();
	mg_b64_encode(data, size, 1, b64);
	memcpy(key, size >= 87 + 32 ? data + 87 : zero, 32);
	memcpy(ca, size >= 32 + 87 ? data + size - 87 - 32 + 19 : zero, 32);
	(void)mg_sshcert_check_host(b64, key, ca, "127.0.0.1", 1893456100, err, sizeof(err));
	(void)mg_sshcert_check_host(b64, zero, zero, "", 0, err, sizeof(err));
	/* Messages are bounded and terminated. */
	if (strlen(err) >= sizeof(err))
		abort();
	free(b64);
	return 0;
}
