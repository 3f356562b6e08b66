/* SPDX-License-Identifier: BSD-2-Clause */
/* The bundle's tar: what the writer makes reads back; what it must not take is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mg_err.h"
#include "rec_buf.h"
#include "rec_tar.h"

int main(void);

static void
test_roundtrip(void **state)
{
	struct rec_buf t = { 0 };
	struct rec_tar_entry *e = NULL;
	size_t n = 0;
	char err[200];
	static char big[1500];

	(void)state;
	memset(big, 'x', sizeof(big));
	assert_int_equal(rec_tar_add(&t, "MANIFEST", "m\n", 2, 1796268059), 0);
	assert_int_equal(rec_tar_add(&t, "recordings/S-1.cast", big, sizeof(big), 0), 0);
	assert_int_equal(rec_tar_add(&t, "empty", "", 0, 0), 0);
	assert_int_equal(rec_tar_end(&t), 0);
	assert_int_equal(t.len % 512, 0);
	assert_int_equal(rec_tar_read(t.p, t.len, &e, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(e[1].name, "recordings/S-1.cast");
	assert_int_equal(e[1].len, sizeof(big));
	assert_memory_equal(e[1].data, big, sizeof(big));
	assert_int_equal(e[2].len, 0);
	free(e);
	rec_buf_free(&t);
}

/* A one-file archive whose header is changed by f, checksum fixed up. */
static int
mutated(void (*f)(uint8_t *h), char *err, size_t errlen)
{
	struct rec_buf t = { 0 };
	struct rec_tar_entry *e = NULL;
	size_t n, i;
	unsigned sum = 0;
	int r;

	rec_tar_add(&t, "a/b", "data", 4, 0);
	rec_tar_end(&t);
	f(t.p);
	memset(t.p + 148, ' ', 8);
	for (i = 0; i < 512; i++)
		sum += t.p[i];
	snprintf((char *)t.p + 148, 8, "%06o", sum);
	r = rec_tar_read(t.p, t.len, &e, &n, err, errlen);
	free(e);
	rec_buf_free(&t);
	return r;
}

static void m_symlink(uint8_t *h) { h[156] = '2'; }
static void m_dir(uint8_t *h) { h[156] = '5'; }
static void m_dotdot(uint8_t *h) { memcpy(h, "../etc", 7); }
static void m_abs(uint8_t *h) { memcpy(h, "/etc/x", 7); }
static void m_dot(uint8_t *h) { memcpy(h, "a/./b", 6); }
static void m_empty_part(uint8_t *h) { memcpy(h, "a//b", 5); }
static void m_space(uint8_t *h) { memcpy(h, "a b", 4); }
static void m_prefix(uint8_t *h) { memcpy(h + 345, "x", 1); }
static void m_size(uint8_t *h) { memcpy(h + 124, "77777777777", 11); }

static void
test_refused(void **state)
{
	static const struct { const char *what; void (*f)(uint8_t *); const char *msg; } c[] = {
		{ "symlink", m_symlink, "not a regular file" },
		{ "directory", m_dir, "not a regular file" },
		{ "..", m_dotdot, "not plain" },
		{ "absolute", m_abs, "not plain" },
		{ ".", m_dot, "not plain" },
		{ "empty part", m_empty_part, "not plain" },
		{ "space", m_space, "not plain" },
		{ "ustar prefix", m_prefix, "not plain" },
		{ "size past the end", m_size, "cut short" },
	};
	char err[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		err[0] = '\0';
		if (mutated(c[i].f, err, sizeof(err)) != MG_ERR_PARSE || strstr(err, c[i].msg) == NULL)
			fail_msg("%s: accepted or wrong message: %s", c[i].what, err);
	}
}

static void
test_damaged(void **state)
{
	struct rec_buf t = { 0 };
	struct rec_tar_entry *e = NULL;
	size_t n;
	char err[200];

	(void)state;
	rec_tar_add(&t, "a", "data", 4, 0);
	rec_tar_add(&t, "a", "again", 5, 0);
	rec_tar_end(&t);
	assert_int_equal(rec_tar_read(t.p, t.len, &e, &n, err, sizeof(err)), MG_ERR_PARSE);
	assert_non_null(strstr(err, "twice"));
	rec_buf_reset(&t);
	rec_tar_add(&t, "a", "data", 4, 0);
	rec_tar_end(&t);
	t.p[10] ^= 1;
	assert_int_equal(rec_tar_read(t.p, t.len, &e, &n, err, sizeof(err)), MG_ERR_PARSE);
	assert_non_null(strstr(err, "checksum"));
	t.p[10] ^= 1;
	rec_buf_addc(&t, 'x');
	assert_int_equal(rec_tar_read(t.p, t.len, &e, &n, err, sizeof(err)), MG_ERR_PARSE);
	assert_non_null(strstr(err, "after the end"));
	assert_int_equal(rec_tar_read(t.p, 1024, &e, &n, err, sizeof(err)), MG_ERR_PARSE);
	assert_int_equal(rec_tar_read(t.p, 0, &e, &n, err, sizeof(err)), MG_ERR_PARSE);
	rec_buf_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_damaged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
