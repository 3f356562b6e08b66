/* SPDX-License-Identifier: BSD-2-Clause */
/* The hash chain and checkpoint lines shared by the recording writer and verifier. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mg_err.h"
#include "rec_chain.h"

#define CHAIN_TAG "mspgate-rec-v1\n"
#define CP_TAG "mspgate-checkpoint-v1"

static int
digest2(struct rec_chain *c, const void *a, size_t alen, const void *b, size_t blen,
    uint8_t out[REC_HASH_LEN])
{
	unsigned int ol = REC_HASH_LEN;

	if (EVP_DigestInit_ex(c->ctx, c->md, NULL) != 1 ||
	    EVP_DigestUpdate(c->ctx, a, alen) != 1 ||
	    EVP_DigestUpdate(c->ctx, b, blen) != 1 ||
	    EVP_DigestFinal_ex(c->ctx, out, &ol) != 1)
		return MG_ERR_CRYPTO;
	return 0;
}

int
rec_chain_start(struct rec_chain *c, const void *header, size_t len)
{
	memset(c, 0, sizeof(*c));
	if ((c->md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (c->ctx = EVP_MD_CTX_new()) == NULL) {
		rec_chain_free(c);
		return MG_ERR_CRYPTO;
	}
	if (digest2(c, CHAIN_TAG, strlen(CHAIN_TAG), header, len, c->h0) != 0) {
		rec_chain_free(c);
		return MG_ERR_CRYPTO;
	}
	memcpy(c->h, c->h0, REC_HASH_LEN);
	return 0;
}

int
rec_chain_add(struct rec_chain *c, const void *line, size_t len)
{
	uint8_t prev[REC_HASH_LEN];

	memcpy(prev, c->h, REC_HASH_LEN);
	return digest2(c, prev, REC_HASH_LEN, line, len, c->h);
}

void
rec_chain_free(struct rec_chain *c)
{
	EVP_MD_CTX_free(c->ctx);
	EVP_MD_free(c->md);
	c->ctx = NULL;
	c->md = NULL;
}

static int
add_be64(struct rec_buf *b, uint64_t v)
{
	uint8_t x[8];
	int i;

	for (i = 7; i >= 0; i--) {
		x[i] = (uint8_t)v;
		v >>= 8;
	}
	return rec_buf_add(b, x, 8);
}

int
rec_cp_message(struct rec_buf *msg, const char *session,
    const uint8_t h0[REC_HASH_LEN], const struct rec_cp *cp)
{
	int r;

	rec_buf_reset(msg);
	if ((r = rec_buf_add(msg, CP_TAG, sizeof(CP_TAG))) != 0 ||
	    (r = rec_buf_add(msg, session, strlen(session) + 1)) != 0 ||
	    (r = rec_buf_add(msg, h0, REC_HASH_LEN)) != 0 ||
	    (r = add_be64(msg, cp->seq)) != 0 ||
	    (r = add_be64(msg, cp->lines)) != 0 ||
	    (r = rec_buf_addc(msg, cp->final ? 1 : 0)) != 0 ||
	    (r = rec_buf_add(msg, cp->hash, REC_HASH_LEN)) != 0)
		return r;
	return 0;
}

int
rec_cp_format(struct rec_buf *b, const struct rec_cp *cp)
{
	int r;

	if ((r = rec_buf_addf(b, "mgcp1 seq=%" PRIu64 " lines=%" PRIu64 " final=%d hash=",
	    cp->seq, cp->lines, cp->final ? 1 : 0)) != 0 ||
	    (r = rec_buf_hex(b, cp->hash, REC_HASH_LEN)) != 0 ||
	    (r = rec_buf_adds(b, " sig=")) != 0 ||
	    (r = rec_buf_base64(b, cp->sig, REC_SIG_LEN)) != 0)
		return r;
	return 0;
}

/* Reads "name=" then a decimal number up to a space. */
static int
field_u64(const char **pp, const char *end, const char *name, uint64_t *v)
{
	const char *p = *pp;
	size_t nl = strlen(name);
	int digits = 0;

	if ((size_t)(end - p) < nl || memcmp(p, name, nl) != 0)
		return MG_ERR_PARSE;
	p += nl;
	*v = 0;
	while (p < end && *p >= '0' && *p <= '9') {
		if (*v > (UINT64_MAX - 9) / 10)
			return MG_ERR_PARSE;
		*v = *v * 10 + (uint64_t)(*p - '0');
		p++;
		digits++;
	}
	if (digits == 0 || digits > 19 || p >= end || *p != ' ')
		return MG_ERR_PARSE;
	*pp = p + 1;
	return 0;
}

int
rec_cp_parse(const char *s, size_t len, struct rec_cp *cp)
{
	const char *p = s, *end = s + len;
	struct rec_buf sig = { 0 };
	uint64_t fin;
	int r;

	memset(cp, 0, sizeof(*cp));
	if (len < 6 || memcmp(p, "mgcp1 ", 6) != 0)
		return MG_ERR_PARSE;
	p += 6;
	if (field_u64(&p, end, "seq=", &cp->seq) != 0 ||
	    field_u64(&p, end, "lines=", &cp->lines) != 0 ||
	    field_u64(&p, end, "final=", &fin) != 0 || fin > 1)
		return MG_ERR_PARSE;
	cp->final = (int)fin;
	if ((size_t)(end - p) < 5 + 2 * REC_HASH_LEN + 5 || memcmp(p, "hash=", 5) != 0)
		return MG_ERR_PARSE;
	p += 5;
	if (rec_hex_decode(p, 2 * REC_HASH_LEN, cp->hash, REC_HASH_LEN) != 0)
		return MG_ERR_PARSE;
	p += 2 * REC_HASH_LEN;
	if (memcmp(p, " sig=", 5) != 0)
		return MG_ERR_PARSE;
	p += 5;
	r = rec_base64_decode(p, (size_t)(end - p), &sig);
	if (r == 0 && sig.len == REC_SIG_LEN)
		memcpy(cp->sig, sig.p, REC_SIG_LEN);
	else
		r = MG_ERR_PARSE;
	rec_buf_free(&sig);
	return r;
}
