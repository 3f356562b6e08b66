/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz target: verify-bundle on an archive from anyone (tar reader, manifest, audit excerpts). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rec_bundle.h"
#include "rec_key.h"
#include "fuzz_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The public half of the key that signed the seeds (the private half was thrown away). */
static const char pubpem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAoDNxW8lzhvDQmzgbLpIg7TYIQHxFfOjZwFZbIBQJXhU=\n"
    "-----END PUBLIC KEY-----\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec_key *k = fuzz_key_once(pubpem, sizeof(pubpem) - 1);
	FILE *out;
	int r;

	if (k == NULL || (out = fopen("/dev/null", "w")) == NULL)
		return 0;
	r = rec_bundle_verify(data, size, k, out);
	fclose(out);
	/* 0, 1, or a resource error: never anything else. */
	if (r != 0 && r != 1 && r >= 0)
		__builtin_trap();
	return 0;
}
