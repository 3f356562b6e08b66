/* SPDX-License-Identifier: BSD-2-Clause */
/* For fuzz targets: the public key that signed a target's seeds, loaded once. */
#ifndef FUZZ_KEY_H
#define FUZZ_KEY_H

#include <stdlib.h>
#include <unistd.h>

#include "rec_key.h"

/* pem: the public half (the private half was thrown away); NULL if it does not load. */
static struct rec_key *
fuzz_key_once(const char *pem, size_t len)
{
	static struct rec_key *k;
	static int tried;

	if (!tried) {
		/* rec_key_load_public reads a file: use a temporary one. */
		char path[] = "/tmp/fuzzkey.XXXXXX";
		int fd = mkstemp(path);

		tried = 1;
		if (fd >= 0) {
			if (write(fd, pem, len) == (ssize_t)len)
				rec_key_load_public(path, &k, NULL, 0);
			close(fd);
			unlink(path);
		}
	}
	return k;
}

#endif
