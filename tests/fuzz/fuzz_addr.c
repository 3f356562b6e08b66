/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target for CIDR blocks and addresses (mg_cidr_parse, _match, _format). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mg_addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_cidr c, c2;
	char err[256], buf[MG_CIDR_STRLEN], *s, *addr;

	/*
	 * The input is "CIDR" or "CIDR ADDR": the block is parsed, and the
	 * address (or the block's own text) is matched against it.
	 */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if ((addr = strchr(s, ' ')) != NULL)
		*addr++ = '\0';
	if (mg_cidr_parse(s, &c, err, sizeof(err)) != 0) {
		if (err[0] == '\0' || mg_cidr_match(&c, "127.0.0.1") != 0)
			abort();
		goto out;
	}
	mg_cidr_format(&c, buf, sizeof(buf));
	/* The formatted block parses back to itself... */
	if (mg_cidr_parse(buf, &c2, err, sizeof(err)) != 0 ||
	    memcmp(&c, &c2, sizeof(c)) != 0)
		abort();
	/* ...and contains its own network address. */
	*strchr(buf, '/') = '\0';
	if (mg_cidr_match(&c, buf) != 1)
		abort();
	if (addr != NULL)
		(void)mg_cidr_match(&c, addr);
 out:
	free(s);
	return 0;
}
