/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target for sealed TOTP secrets as the state database hands them back (st_unseal), and the seal's round trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* No libpq: the seal is built straight in, as make fuzz builds one file. */
#include "../../state/st_seal.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char key[ST_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	unsigned char *out = NULL;
	size_t outlen = 0;
	char *text, *sealed = NULL;
	int r;

	/* A row's value, whatever the database holds: refused, never opened. */
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	r = st_unseal(key, "alice", text, &out, &outlen);
	if (r == 0)
		abort();	/* nobody but the key's holder makes a value that opens */
	if (out != NULL || outlen != 0)
		abort();	/* a refusal leaves nothing behind */
	free(text);

	/* What is sealed opens to the same bytes, for that row only. */
	if (st_seal(key, "alice", data, size, &sealed) != 0)
		return 0;
	if (st_unseal(key, "alice", sealed, &out, &outlen) != 0 || outlen != size ||
	    memcmp(out, data, size) != 0)
		abort();
	free(out);
	out = NULL;
	if (st_unseal(key, "bob", sealed, &out, &outlen) != MG_ERR_VERIFY || out != NULL)
		abort();
	free(sealed);
	return 0;
}
