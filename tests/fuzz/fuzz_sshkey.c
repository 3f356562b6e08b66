/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target for OpenSSH public key lines (mg_sshkey_parse and friends). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mg_sshkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_line(const char *line)
{
	struct mg_sshkey *k = NULL, *k2 = NULL;
	char err[256], fp[MG_SSHKEY_FP_LEN], *fmt = NULL;

	if (mg_sshkey_parse(line, &k, err, sizeof(err)) != 0) {
		/* A refusal must always say why. */
		if (k != NULL || err[0] == '\0')
			abort();
		return;
	}
	if (k == NULL || mg_sshkey_fingerprint(k, fp, sizeof(fp)) != 0 ||
	    strncmp(fp, "SHA256:", 7) != 0 || strlen(fp) != MG_SSHKEY_FP_LEN - 1)
		abort();
	/* What we print must parse back to the same key. */
	if (mg_sshkey_format(k, &fmt) != 0 ||
	    mg_sshkey_parse(fmt, &k2, err, sizeof(err)) != 0 ||
	    !mg_sshkey_equal(k, k2) || k2->comment != NULL ||
	    mg_sshkey_is_sk(k) != mg_sshkey_is_sk(k2) ||
	    (mg_sshkey_is_sk(k) && k->application == NULL))
		abort();
	free(fmt);
	mg_sshkey_free(k2);
	mg_sshkey_free(k);
}

/*
 * Random text almost never survives base64, so the input is also taken as
 * a raw key blob: labelled with the type name it starts with and encoded,
 * it reaches the wire-format checks directly.
 */
static void
check_blob(const uint8_t *data, size_t size)
{
	char *line;
	size_t tlen, i;

	if (size < 5 || size > 12 * 1024)
		return;
	tlen = (size_t)data[0] << 24 | (size_t)data[1] << 16 |
	    (size_t)data[2] << 8 | data[3];
	if (tlen == 0 || tlen > 64 || tlen > size - 4)
		return;
	for (i = 0; i < tlen; i++) {
		if (data[4 + i] <= 0x20 || data[4 + i] >= 0x7f)
			return;
	}
	if ((line = malloc(tlen + 1 + (size + 2) / 3 * 4 + 1)) == NULL)
		return;
	memcpy(line, data + 4, tlen);
	line[tlen] = ' ';
	EVP_EncodeBlock((unsigned char *)line + tlen + 1, data, (int)size);
	check_line(line);
	free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line;

	/* Keys arrive as C strings; an embedded NUL simply ends the line. */
	if ((line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	check_line(line);
	free(line);
	check_blob(data, size);
	return 0;
}
