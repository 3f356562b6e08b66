/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz target: the audit-log verifier's log_start links and the chain across rotated logs. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rec_audit.h"
#include "rec_key.h"
#include "fuzz_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LOGS 8

/* The public half of the key that signed the seeds (the private half was thrown away). */
static const char pubpem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAGXdjg0KwYtR134zpHu/iriFXxpKrKwd9XQlPp+wTEl4=\n"
    "-----END PUBLIC KEY-----\n";

static struct rec_key *
key(void)
{
	return fuzz_key_once(pubpem, sizeof(pubpem) - 1);
}

/*
 * The input is up to MAX_LOGS audit logs, each ended by a line holding
 * only a form feed ("\f\n"), which no audit line can hold (JSON escapes
 * it): each is verified, then all are put in chain order.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *names[MAX_LOGS] = { "l0", "l1", "l2", "l3", "l4", "l5", "l6", "l7" };
	struct rec_audit_info v[MAX_LOGS];
	struct rec_verify_result res;
	size_t order[MAX_LOGS], no, n = 0, off = 0, end;
	const uint8_t *sep;

	if (key() == NULL)
		return 0;
	while (off <= size && n < MAX_LOGS) {
		sep = size - off >= 2 ? memmem(data + off, size - off, "\f\n", 2) : NULL;
		end = sep != NULL ? (size_t)(sep - data) : size;
		memset(&v[n], 0, sizeof(v[n]));
		v[n].name = names[n];
		if (rec_audit_verify_mem_info(data + off, end - off, key(), &res, &v[n]) == 0)
			n++;
		if (sep == NULL)
			break;
		off = end + 2;
	}
	rec_audit_chain(v, n, order, &no);
	return 0;
}
