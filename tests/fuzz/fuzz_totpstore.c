/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target for the TOTP store and lockout record files (mfa_secret_parse, mfa_lockrec_parse). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The parser has no I/O and no liboath: built straight in, as make fuzz builds one file. */
#include "../../pam/mfa_store.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mfa_secret s, t;
	struct mfa_lockrec *r, *q;
	char err[256], *buf = NULL;
	size_t len = 0;

	/* A secret file: what parses formats, and the format parses the same. */
	err[0] = '\0';
	if (mfa_secret_parse((const char *)data, size, &s, err, sizeof(err)) == 0) {
		if (mfa_secret_format(&s, &buf, &len) == 0) {
			if (mfa_secret_parse(buf, len, &t, err, sizeof(err)) != 0 ||
			    memcmp(&s, &t, sizeof(s)) != 0)
				abort();
			explicit_bzero(buf, len);
			free(buf);
		}
		mfa_secret_wipe(&t);
	} else if (err[0] == '\0' || s.keylen != 0) {
		abort();	/* a failure says why and leaves nothing behind */
	}
	mfa_secret_wipe(&s);

	if ((r = malloc(sizeof(*r))) == NULL || (q = malloc(sizeof(*q))) == NULL) {
		free(r);
		return 0;
	}
	if (mfa_lockrec_parse((const char *)data, size, r, err, sizeof(err)) == 0 &&
	    mfa_lockrec_format(r, &buf, &len) == 0) {
		if (mfa_lockrec_parse(buf, len, q, err, sizeof(err)) != 0 ||
		    q->nfail != r->nfail || q->locked_until != r->locked_until ||
		    memcmp(q->fail, r->fail, r->nfail * sizeof(r->fail[0])) != 0)
			abort();
		free(buf);
	}
	free(r);
	free(q);
	return 0;
}
