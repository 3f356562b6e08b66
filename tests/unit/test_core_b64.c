/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Base64 (mg_b64_encode/mg_b64_decode): RFC 4648's vectors, and the fast
 * paths (24 or 12 bytes a step, on x86-64) against a plain reference written
 * here from the RFC, at every length and alignment, both paddings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mg_util.h"

int main(void);

/* RFC 4648 section 4, a character per 6 bits, one group at a time. */
static void
reference(const unsigned char *in, size_t len, int pad, char *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, n = 0, k;

	for (i = 0; i < len; i += 3) {
		unsigned long g = 0;
		size_t have = len - i < 3 ? len - i : 3;

		for (k = 0; k < 3; k++)
			g = g << 8 | (k < have ? in[i + k] : 0);
		for (k = 0; k < 4; k++) {
			if (k <= have)
				out[n++] = tab[(g >> (18 - 6 * k)) & 63];
			else if (pad)
				out[n++] = '=';
		}
	}
	out[n] = '\0';
}

static void
test_rfc_vectors(void **state)
{
	static const char *const v[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
		{ "foobarfoobarfoobar", "Zm9vYmFyZm9vYmFyZm9vYmFy" },
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		mg_b64_encode(v[i][0], strlen(v[i][0]), 1, out);
		assert_string_equal(out, v[i][1]);
	}
}

/* Every length up to 300 at 16 alignments, random bytes and each byte value. */
static void
against_reference(void)
{
	unsigned char buf[320], dec[320];
	char got[512], want[512];
	size_t len, off, dlen;
	int pad;
	unsigned seed = 12345;

	for (len = 0; len <= 300; len++)
		for (off = 0; off < 16; off++)
			for (pad = 0; pad <= 1; pad++) {
				size_t k;

				for (k = 0; k < len; k++) {
					seed = seed * 1103515245u + 12345u;
					buf[off + k] = (unsigned char)(seed >> 16);
				}
				mg_b64_encode(buf + off, len, pad, got);
				reference(buf + off, len, pad, want);
				assert_string_equal(got, want);
				if (pad) {
					assert_int_equal(mg_b64_decode(got, strlen(got), dec, &dlen), 0);
					assert_int_equal(dlen, len);
					assert_memory_equal(dec, buf + off, len);
				}
			}
	/* All 64 characters in every position of a step. */
	for (len = 0; len < 256; len++)
		buf[len] = (unsigned char)len;
	for (off = 0; off < 3; off++) {
		mg_b64_encode(buf + off, 253, 1, got);
		reference(buf + off, 253, 1, want);
		assert_string_equal(got, want);
	}
}

/* Each vector path the CPU has (AVX2, SSSE3), and none. */
static void
test_against_reference(void **state)
{
	int lv;

	(void)state;
	for (lv = 2; lv >= 0; lv--) {
		mg_b64_simd_limit(lv);
		against_reference();
	}
	mg_b64_simd_limit(2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_vectors),
		cmocka_unit_test(test_against_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
