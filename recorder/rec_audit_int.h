/* SPDX-License-Identifier: BSD-2-Clause */
/* The audit line's format, shared by its writer, verifier and checkers (internal). */
#ifndef REC_AUDIT_INT_H
#define REC_AUDIT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "rec_buf.h"

#define AUDIT_TAG "mspgate-audit-v1\n"
#define AUDIT_SIG_TAG "mspgate-audit-v1"	/* signed with its NUL */
#define AUDIT_TAIL 65536	/* the longest line read back */
/* ,"hash":"<64 hex>","sig":"<88 base64>"} */
#define HASH_KEY ",\"hash\":\""
#define SIG_KEY "\",\"sig\":\""
#define SUFFIX_LEN (sizeof(HASH_KEY) - 1 + 64 + sizeof(SIG_KEY) - 1 + 88 + 2)

/* SHA-256 of a then b (the tag, then the line's body). 0 or MG_ERR_*. */
int rec_audit_sha256(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[32]);
/* m gets what is signed for a line whose hash is hash. */
int rec_audit_sig_message(struct rec_buf *m, const uint8_t hash[32]);

#endif
