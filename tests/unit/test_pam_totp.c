/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for pam/ TOTP: RFC 6238 vectors, skew and replay, base32, the store and lockout formats. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mg_err.h"
#include "mg_file.h"
#include "mfa_state.h"
#include "mfa_store.h"
#include "mfa_totp.h"

static void
secret_init(struct mfa_secret *s, enum mfa_alg alg, const char *ascii, int digits)
{
	memset(s, 0, sizeof(*s));
	s->status = MFA_ACTIVE;
	s->alg = alg;
	s->digits = digits;
	s->period = 30;
	s->keylen = strlen(ascii);
	memcpy(s->key, ascii, s->keylen);
	s->last_step = -1;
}

/* RFC 6238 appendix B. */
static const struct {
	int64_t t;
	const char *sha1, *sha256, *sha512;
} rfc6238[] = {
	{ 59, "94287082", "46119246", "90693936" },
	{ 1111111109, "07081804", "68084774", "25091201" },
	{ 1111111111, "14050471", "67062674", "99943326" },
	{ 1234567890, "89005924", "91819424", "93441116" },
	{ 2000000000, "69279037", "90698825", "38618901" },
	{ 20000000000LL, "65353130", "77737706", "47863826" },
};

static void
test_rfc6238_vectors(void **state)
{
	struct mfa_secret s1, s256, s512;
	char out[16];
	size_t i;
	int64_t step;

	(void)state;
	secret_init(&s1, MFA_SHA1, "12345678901234567890", 8);
	secret_init(&s256, MFA_SHA256, "12345678901234567890123456789012", 8);
	secret_init(&s512, MFA_SHA512,
	    "1234567890123456789012345678901234567890123456789012345678901234", 8);
	for (i = 0; i < sizeof(rfc6238) / sizeof(rfc6238[0]); i++) {
		time_t t = (time_t)rfc6238[i].t;

		assert_int_equal(mfa_totp_code(&s1, mfa_totp_step(&s1, t), out, sizeof(out)), 0);
		assert_string_equal(out, rfc6238[i].sha1);
		assert_int_equal(mfa_totp_code(&s256, mfa_totp_step(&s256, t), out, sizeof(out)), 0);
		assert_string_equal(out, rfc6238[i].sha256);
		assert_int_equal(mfa_totp_code(&s512, mfa_totp_step(&s512, t), out, sizeof(out)), 0);
		assert_string_equal(out, rfc6238[i].sha512);
		/* And each is accepted by the check, exactly at its step. */
		assert_int_equal(mfa_totp_check(&s1, rfc6238[i].sha1, t, 0, &step), 0);
		assert_int_equal(step, rfc6238[i].t / 30);
		assert_int_equal(mfa_totp_check(&s512, rfc6238[i].sha512, t, 0, &step), 0);
	}
	/* 6 digits: the last six of the 8-digit code. */
	secret_init(&s1, MFA_SHA1, "12345678901234567890", 6);
	assert_int_equal(mfa_totp_code(&s1, mfa_totp_step(&s1, 59), out, sizeof(out)), 0);
	assert_string_equal(out, "287082");
}

static void
test_skew_and_replay(void **state)
{
	struct mfa_secret s;
	char c_prev[16], c_now[16], c_next[16], c_old[16], c_far[16];
	const time_t now = 1700000015;	/* step 56666667 */
	int64_t cur, step;

	(void)state;
	secret_init(&s, MFA_SHA1, "12345678901234567890", 6);
	cur = mfa_totp_step(&s, now);
	assert_int_equal(mfa_totp_code(&s, cur - 1, c_prev, sizeof(c_prev)), 0);
	assert_int_equal(mfa_totp_code(&s, cur, c_now, sizeof(c_now)), 0);
	assert_int_equal(mfa_totp_code(&s, cur + 1, c_next, sizeof(c_next)), 0);
	assert_int_equal(mfa_totp_code(&s, cur - 2, c_old, sizeof(c_old)), 0);
	assert_int_equal(mfa_totp_code(&s, cur + 2, c_far, sizeof(c_far)), 0);

	assert_int_equal(mfa_totp_check(&s, c_now, now, 1, &step), 0);
	assert_int_equal(step, cur);
	assert_int_equal(mfa_totp_check(&s, c_prev, now, 1, &step), 0);
	assert_int_equal(step, cur - 1);
	assert_int_equal(mfa_totp_check(&s, c_next, now, 1, &step), 0);
	assert_int_equal(step, cur + 1);
	assert_int_equal(mfa_totp_check(&s, c_old, now, 1, &step), MG_ERR_DENIED);
	assert_int_equal(mfa_totp_check(&s, c_far, now, 1, &step), MG_ERR_DENIED);
	assert_int_equal(mfa_totp_check(&s, c_next, now, 0, &step), MG_ERR_DENIED);
	/* Replay: once cur is used, cur and older are refused. */
	s.last_step = cur;
	assert_int_equal(mfa_totp_check(&s, c_now, now, 1, &step), MG_ERR_EXISTS);
	assert_int_equal(mfa_totp_check(&s, c_prev, now, 1, &step), MG_ERR_EXISTS);
	assert_int_equal(mfa_totp_check(&s, c_next, now, 1, &step), 0);
	/* Malformed answers never match. */
	assert_int_equal(mfa_totp_check(&s, "", now, 1, &step), MG_ERR_DENIED);
	assert_int_equal(mfa_totp_check(&s, "12345", now, 1, &step), MG_ERR_DENIED);
	assert_int_equal(mfa_totp_check(&s, "1234567", now, 1, &step), MG_ERR_DENIED);
	assert_int_equal(mfa_totp_check(&s, "12a456", now, 1, &step), MG_ERR_DENIED);
	assert_int_equal(mfa_totp_check(&s, "-12345", now, 1, &step), MG_ERR_DENIED);
	mfa_secret_wipe(&s);
}

static void
test_base32(void **state)
{
	static const struct { const char *in, *out; } v[] = {
		/* RFC 4648 section 10, without padding. */
		{ "", "" }, { "f", "MY" }, { "fo", "MZXQ" }, { "foo", "MZXW6" },
		{ "foob", "MZXW6YQ" }, { "fooba", "MZXW6YTB" }, { "foobar", "MZXW6YTBOI" },
	};
	unsigned char bin[64];
	char enc[128];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(mfa_base32_encode((const unsigned char *)v[i].in,
		    strlen(v[i].in), enc, sizeof(enc)), 0);
		assert_string_equal(enc, v[i].out);
		assert_int_equal(mfa_base32_decode(v[i].out, strlen(v[i].out), bin,
		    sizeof(bin), &n), 0);
		assert_int_equal(n, strlen(v[i].in));
		assert_memory_equal(bin, v[i].in, n);
	}
	assert_int_equal(mfa_base32_decode("mzxw6ytboi======", 16, bin, sizeof(bin), &n), 0);
	assert_int_equal(n, 6);
	assert_int_equal(mfa_base32_decode("MZXW6YTBO1", 10, bin, sizeof(bin), &n), MG_ERR_PARSE);
	assert_int_equal(mfa_base32_decode("MZ=XW", 5, bin, sizeof(bin), &n), MG_ERR_PARSE);
	/* Leftover bits that are not zero: not something an encoder makes. */
	assert_int_equal(mfa_base32_decode("MZ7", 3, bin, sizeof(bin), &n), MG_ERR_PARSE);
	assert_int_equal(mfa_base32_decode("MZXW6YTBOI", 10, bin, 3, &n), MG_ERR_TOOBIG);
	assert_int_equal(mfa_base32_encode((const unsigned char *)"foo", 3, enc, 5), MG_ERR_TOOBIG);
}

static const char good_store[] =
    "# comment\n"
    "version = 1\nstatus = active\nalgorithm = sha256\ndigits = 8\n"
    "period = 60\nsecret = GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n"
    "last_step = 42\ncreated = 1700000000\n";

static void
test_store_roundtrip(void **state)
{
	struct mfa_secret s, t;
	char err[256], *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(mfa_secret_parse(good_store, strlen(good_store), &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.status, MFA_ACTIVE);
	assert_int_equal(s.alg, MFA_SHA256);
	assert_int_equal(s.digits, 8);
	assert_int_equal(s.period, 60);
	assert_int_equal(s.keylen, 20);
	assert_memory_equal(s.key, "12345678901234567890", 20);
	assert_int_equal(s.last_step, 42);
	assert_int_equal(s.created, 1700000000);
	assert_int_equal(mfa_secret_format(&s, &buf, &len), 0);
	assert_int_equal(mfa_secret_parse(buf, len, &t, err, sizeof(err)), 0);
	assert_memory_equal(&s, &t, sizeof(s));
	mg_freezero(buf, len);
	/* No last_step: none used yet. */
	s.last_step = -1;
	s.status = MFA_PENDING;
	assert_int_equal(mfa_secret_format(&s, &buf, &len), 0);
	assert_null(strstr(buf, "last_step"));
	assert_int_equal(mfa_secret_parse(buf, len, &t, err, sizeof(err)), 0);
	assert_int_equal(t.last_step, -1);
	assert_int_equal(t.status, MFA_PENDING);
	mg_freezero(buf, len);
	s.digits = 7;
	assert_int_equal(mfa_secret_format(&s, &buf, &len), MG_ERR_INVAL);
	mfa_secret_wipe(&s);
	mfa_secret_wipe(&t);
}

static const struct {
	const char *text, *want;
} bad_stores[] = {
	{ "version = 1\nstatus = active\nalgorithm = sha1\ndigits = 6\nperiod = 30\n", "'secret' is missing" },
	{ "version = 2\n", "line 1: unsupported version" },
	{ "version = 1\nversion = 1\n", "line 2: 'version' given twice" },
	{ "colour = blue\n", "line 1: unknown key 'colour'" },
	{ "version 1\n", "line 1: expected key = value" },
	{ "version = 1\nstatus = maybe\n", "line 2: status must be" },
	{ "version = 1\ndigits = 7\n", "line 2: digits must be 6 or 8" },
	{ "version = 1\ndigits = -6\n", "line 2: digits must be 6 or 8" },
	{ "version = 1\nperiod = 5\n", "period must be 15 to 300" },
	{ "version = 1\nalgorithm = md5\n", "algorithm must be" },
	{ "version = 1\nsecret = MZXW6\n", "secret is not base32 of 10 to 64 bytes" },
	{ "version = 1\nsecret = !!!!\n", "secret is not base32" },
	{ "version = 1\nlast_step = 99999999999999999999\n", "last_step must be a number" },
	{ "version = 1\nlast_step = 1x\n", "last_step must be a number" },
};

static void
test_store_errors(void **state)
{
	struct mfa_secret s;
	char err[256], big[MFA_FILE_MAX + 10];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_stores) / sizeof(bad_stores[0]); i++) {
		err[0] = '\0';
		if (mfa_secret_parse(bad_stores[i].text, strlen(bad_stores[i].text), &s,
		    err, sizeof(err)) != MG_ERR_PARSE)
			fail_msg("accepted: %s", bad_stores[i].text);
		if (strstr(err, bad_stores[i].want) == NULL)
			fail_msg("'%s': got '%s'", bad_stores[i].want, err);
		assert_int_equal(s.keylen, 0);
	}
	/* The secret is never quoted back in a message. */
	assert_int_equal(mfa_secret_parse("secret = SECRETSECRET1\n", 23, &s, err,
	    sizeof(err)), MG_ERR_PARSE);
	assert_null(strstr(err, "SECRET"));
	assert_int_equal(mfa_secret_parse("version = 1\0x", 13, &s, err, sizeof(err)),
	    MG_ERR_PARSE);
	memset(big, '#', sizeof(big));
	assert_int_equal(mfa_secret_parse(big, sizeof(big), &s, err, sizeof(err)),
	    MG_ERR_PARSE);
}

static void
test_lockrec(void **state)
{
	struct mfa_state st;
	struct mfa_lockrec *r = calloc(1, sizeof(*r)), *q = calloc(1, sizeof(*q));
	char err[256], *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_non_null(r);
	assert_non_null(q);
	memset(&st, 0, sizeof(st));
	st.failures = 3;
	st.within = 600;
	st.lock_for = 900;
	assert_int_equal(mfa_lockrec_fail(&st, r, 1000), 0);
	assert_int_equal(mfa_lockrec_fail(&st, r, 1100), 0);
	/* The first failure is forgotten after `within`. */
	assert_int_equal(mfa_lockrec_fail(&st, r, 1601), 0);
	assert_int_equal(r->nfail, 2);
	assert_false(mfa_lockrec_locked(&st, r, 1601));
	assert_int_equal(mfa_lockrec_format(r, &buf, &len), 0);
	assert_int_equal(mfa_lockrec_parse(buf, len, q, err, sizeof(err)), 0);
	assert_int_equal(q->nfail, 2);
	assert_int_equal(q->fail[1], 1601);
	free(buf);
	assert_int_equal(mfa_lockrec_fail(&st, r, 1602), 1);
	assert_true(mfa_lockrec_locked(&st, r, 1602));
	assert_true(mfa_lockrec_locked(&st, r, 1602 + 899));
	assert_false(mfa_lockrec_locked(&st, r, 1602 + 900));
	assert_int_equal(mfa_lockrec_expire(&st, r, 1602 + 900), 1);
	assert_int_equal(r->locked_until, 0);
	/* Records out of order or malformed are refused (a lock could hide). */
	assert_int_equal(mfa_lockrec_parse("failures = 5 4\n", 15, q, err, sizeof(err)),
	    MG_ERR_PARSE);
	assert_int_equal(mfa_lockrec_parse("locked_until = x\n", 17, q, err, sizeof(err)),
	    MG_ERR_PARSE);
	assert_int_equal(mfa_lockrec_parse("owner = me\n", 11, q, err, sizeof(err)),
	    MG_ERR_PARSE);
	free(r);
	free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6238_vectors),
		cmocka_unit_test(test_skew_and_replay),
		cmocka_unit_test(test_base32),
		cmocka_unit_test(test_store_roundtrip),
		cmocka_unit_test(test_store_errors),
		cmocka_unit_test(test_lockrec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
