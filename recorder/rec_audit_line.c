/* SPDX-License-Identifier: BSD-2-Clause */
/* The audit line's format: event names, a line's hash and signature, one line checked alone. */
#include <string.h>

#include <openssl/evp.h>

#include "mg_err.h"
#include "rec_audit.h"
#include "rec_audit_int.h"
#include "rec_buf.h"
#include "rec_chain.h"
#include "rec_key.h"

static const char *type_names[REC_AUDIT_NTYPES] = {
	"auth_success", "auth_failure", "lockout", "session_start", "session_end",
	"denied", "window_warning", "terminated", "policy_reload", "alert", "file_transfer",
	"operator_kill", "approval", "watch", "ssh_config", "cert_issued", "log_start",
};

const char *
rec_audit_type_name(enum rec_audit_type t)
{
	return (unsigned)t < REC_AUDIT_NTYPES ? type_names[t] : "unknown";
}

int
rec_audit_type_parse(const char *name)
{
	int i;

	for (i = 0; i < REC_AUDIT_NTYPES; i++) {
		if (strcmp(name, type_names[i]) == 0)
			return i;
	}
	return -1;
}

int
rec_audit_sha256(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int ol = 32;
	int ok;

	if (c == NULL)
		return MG_ERR_NOMEM;
	ok = EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(c, a, alen) == 1 && EVP_DigestUpdate(c, b, blen) == 1 &&
	    EVP_DigestFinal_ex(c, out, &ol) == 1;
	EVP_MD_CTX_free(c);
	return ok ? 0 : MG_ERR_CRYPTO;
}

int
rec_audit_sig_message(struct rec_buf *m, const uint8_t hash[32])
{
	int r;

	rec_buf_reset(m);
	if ((r = rec_buf_add(m, AUDIT_SIG_TAG, sizeof(AUDIT_SIG_TAG))) != 0)
		return r;
	return rec_buf_add(m, hash, 32);
}

int
rec_audit_line_check(const char *line, size_t len, const struct rec_key *pub,
    uint8_t hash[32], uint8_t prev[32])
{
	struct rec_buf msg = { 0 }, sig = { 0 };
	const char *h, *sg, *pv;
	uint8_t want[32];
	size_t body;
	int r = MG_ERR_VERIFY;

	/* The exact suffix: ,"hash":"<64 hex>","sig":"<88 base64>"} */
	if (len < SUFFIX_LEN + 1 || memcmp(line + len - SUFFIX_LEN, HASH_KEY,
	    sizeof(HASH_KEY) - 1) != 0 || memcmp(line + len - 2, "\"}", 2) != 0)
		return MG_ERR_PARSE;
	body = len - SUFFIX_LEN;
	h = line + body + sizeof(HASH_KEY) - 1;
	if (memcmp(h + 64, SIG_KEY, sizeof(SIG_KEY) - 1) != 0)
		return MG_ERR_PARSE;
	sg = h + 64 + sizeof(SIG_KEY) - 1;
	/* prev is the member just before hash: ,"prev":"<64 hex>" */
	if (body < 74 || memcmp(line + body - 74, ",\"prev\":\"", 9) != 0 ||
	    line[body - 1] != '"')
		return MG_ERR_PARSE;
	pv = line + body - 65;
	if (rec_hex_decode(pv, 64, prev, 32) != 0 || rec_hex_decode(h, 64, want, 32) != 0)
		return MG_ERR_PARSE;
	if ((r = rec_audit_sha256(AUDIT_TAG, strlen(AUDIT_TAG), line, body, hash)) != 0)
		goto out;
	r = MG_ERR_VERIFY;
	if (memcmp(want, hash, 32) != 0 || rec_base64_decode(sg, 88, &sig) != 0 ||
	    sig.len != REC_SIG_LEN || rec_audit_sig_message(&msg, hash) != 0 ||
	    rec_key_verify(pub, msg.p, msg.len, sig.p, sig.len) != 0)
		goto out;
	r = 0;
out:
	rec_buf_free(&msg);
	rec_buf_free(&sig);
	return r;
}

int
rec_audit_sig_check(const uint8_t hash[32], const uint8_t *sig, size_t siglen,
    const struct rec_key *pub)
{
	struct rec_buf msg = { 0 };
	int r;

	if ((r = rec_audit_sig_message(&msg, hash)) == 0)
		r = rec_key_verify(pub, msg.p, msg.len, sig, siglen);
	rec_buf_free(&msg);
	return r;
}
