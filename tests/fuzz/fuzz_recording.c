/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz target: the recording reader, verifier and text renderer, and the audit-log verifier. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rec_audit.h"
#include "rec_key.h"
#include "rec_reader.h"
#include "rec_text.h"
#include "fuzz_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The public half of the key that signed the seeds (the private half was thrown away). */
static const char pubpem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAyL45m2LCgv24+Hm5sOp5I2Y+Q0B8qXzAh33GgYC3qHc=\n"
    "-----END PUBLIC KEY-----\n";

static void
sink(void *ctx, const char *line, size_t len, double t)
{
	(void)ctx;
	(void)line;
	(void)len;
	(void)t;
}

static struct rec_key *
key(void)
{
	return fuzz_key_once(pubpem, sizeof(pubpem) - 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec_reader *rd = NULL;
	struct rec_verify_result res;
	struct rec_text *tx = NULL;
	struct rec_event ev;
	char err[256];

	if (rec_reader_open_mem(data, size, &rd, err, sizeof(err)) == 0) {
		rec_text_new(REC_TEXT_OUTPUT, sink, NULL, &tx);
		while (rec_reader_next(rd, &ev) > 0) {
			if (tx != NULL && ev.stream != 0)
				rec_text_feed(tx, ev.t, ev.data, ev.len);
		}
		if (tx != NULL)
			rec_text_flush(tx);
		rec_text_free(tx);
		rec_reader_free(rd);
	}
	if (key() != NULL) {
		rec_verify_mem(data, size, "fuzz.cast", key(), &res);
		rec_audit_verify_mem(data, size, key(), &res);
	}
	return 0;
}
