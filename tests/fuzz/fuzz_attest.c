/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target for the login attestation reader (mfa_attest_parse) and its writer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mfa_attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mfa_attest a, b;
	char err[256], buf[MFA_ATTEST_MAX + 1];
	char sep;

	/* The first byte picks the separator: the file's '\n' or the PAM env's ';'. */
	if (size == 0)
		return 0;
	sep = (data[0] & 1) ? ';' : '\n';
	data++;
	size--;
	err[0] = '\0';
	if (mfa_attest_parse((const char *)data, size, sep, &a, err, sizeof(err)) != 0) {
		/* A refusal says why and leaves nothing behind. */
		if (err[0] == '\0' || a.engineer[0] != '\0' || a.mfa != 0 || a.pid != 0)
			abort();
		return 0;
	}
	/* What the reader accepts, the writer writes back byte for byte... */
	if (mfa_attest_format(&a, sep, buf, sizeof(buf)) != 0 || strlen(buf) != size ||
	    memcmp(buf, data, size) != 0)
		abort();
	/* ...and that parses to the same record. */
	if (mfa_attest_parse(buf, strlen(buf), sep, &b, err, sizeof(err)) != 0 ||
	    memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	return 0;
}
