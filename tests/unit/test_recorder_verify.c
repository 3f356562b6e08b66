/* SPDX-License-Identifier: BSD-2-Clause */
/* Recording verification: each kind of tampering is caught and located. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mg_err.h"
#include "rec_buf.h"
#include "rec_reader.h"
#include "rec_writer.h"
#include "test_recorder_util.h"

int main(void);

/* A recording SESSION.cast with n output lines and a checkpoint every 10 events. */
static void
make(const char *session, int n, struct rec_buf *file)
{
	struct rec_writer_opts o = { .checkpoint_events = 10 };
	struct rec_meta m = { 0 };
	struct rec_writer *w;
	char path[128], err[256], line[64];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/%s.cast", dir, session);
	unlink(path);
	m.session = session;
	assert_int_equal(rec_writer_open(path, &m, priv, &o, &w, err, sizeof(err)), 0);
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "line %d\r\n", i);
		assert_int_equal(rec_writer_output(w, i * 1000, line, strlen(line)), 0);
	}
	assert_int_equal(rec_writer_close(w, NULL), 0);
	rec_writer_free(w);
	assert_non_null(f = fopen(path, "rb"));
	rec_buf_reset(file);
	while ((i = fgetc(f)) != EOF)
		rec_buf_addc(file, i);
	fclose(f);
}

/* Byte offsets of line starts. */
static size_t
line_start(const struct rec_buf *b, int lineno)
{
	size_t i, l = 1;

	if (lineno == 1)
		return 0;
	for (i = 0; i < b->len; i++) {
		if (b->p[i] == '\n' && ++l == (size_t)lineno)
			return i + 1;
	}
	return b->len;
}

static struct rec_verify_result
check(const struct rec_buf *b, const char *name)
{
	struct rec_verify_result res;

	assert_int_equal(rec_verify_mem(b->p, b->len, name, pub, &res), 0);
	return res;
}

static void
test_intact(void **state)
{
	struct rec_buf b = { 0 };
	struct rec_verify_result res;

	(void)state;
	make("s1", 35, &b);
	res = check(&b, "s1.cast");
	assert_int_equal(res.status, REC_VERIFY_OK);
	/* 35 events + 3 checkpoints + the final one, plus the header. */
	assert_int_equal(res.checkpoints, 4);
	assert_int_equal(res.total_lines, 40);
	rec_buf_free(&b);
}

static void
test_byte_changed(void **state)
{
	struct rec_buf b = { 0 };
	struct rec_verify_result res;
	size_t at;

	(void)state;
	make("s1", 35, &b);
	/* "line 14" -> "line 94" on line 16 (header, 10 events, checkpoint, ...). */
	at = line_start(&b, 17);
	assert_non_null(memmem(b.p + at, 60, "line 14", 7));
	((uint8_t *)memmem(b.p + at, 60, "line 14", 7))[5] = '9';
	res = check(&b, "s1.cast");
	assert_int_equal(res.status, REC_VERIFY_FAILED);
	/* Caught at the next checkpoint, naming the range that holds the edit. */
	assert_int_equal(res.line, 23);
	assert_non_null(strstr(res.msg, "lines 13-22"));
	assert_int_equal(res.verified_lines, 12);
	rec_buf_free(&b);
}

static void
test_byte_changed_everywhere(void **state)
{
	struct rec_buf b = { 0 };
	size_t i;

	(void)state;
	make("s1", 12, &b);
	/* Any single byte, anywhere: never OK. */
	for (i = 0; i < b.len; i++) {
		struct rec_verify_result res;
		uint8_t old = b.p[i];

		b.p[i] = old == 'x' ? 'y' : old == '\n' ? ' ' : 'x';
		res = check(&b, "s1.cast");
		if (res.status == REC_VERIFY_OK)
			fail_msg("byte %zu changed and still OK", i);
		b.p[i] = old;
	}
	rec_buf_free(&b);
}

static void
test_line_deleted(void **state)
{
	struct rec_buf b = { 0 };
	struct rec_verify_result res;
	size_t a, e;

	(void)state;
	make("s1", 35, &b);
	a = line_start(&b, 5);
	e = line_start(&b, 6);
	memmove(b.p + a, b.p + e, b.len - e);
	b.len -= e - a;
	res = check(&b, "s1.cast");
	assert_int_equal(res.status, REC_VERIFY_FAILED);
	assert_non_null(strstr(res.msg, "deleted"));
	assert_int_equal(res.line, 11);
	rec_buf_free(&b);
}

static void
test_lines_swapped(void **state)
{
	struct rec_buf b = { 0 }, c = { 0 };
	struct rec_verify_result res;
	size_t a, m, e;

	(void)state;
	make("s1", 35, &b);
	/* Lines 3 and 4 (same length) change places; times reordered too. */
	a = line_start(&b, 3);
	m = line_start(&b, 4);
	e = line_start(&b, 5);
	rec_buf_add(&c, b.p, a);
	rec_buf_add(&c, b.p + m, e - m);
	rec_buf_add(&c, b.p + a, m - a);
	rec_buf_add(&c, b.p + e, b.len - e);
	res = check(&c, "s1.cast");
	assert_int_equal(res.status, REC_VERIFY_FAILED);
	assert_int_equal(res.line, 4);
	assert_non_null(strstr(res.msg, "backwards"));
	rec_buf_free(&b);
	rec_buf_free(&c);
}

static void
test_same_time_swapped(void **state)
{
	struct rec_writer *w;
	struct rec_meta m = { 0 };
	struct rec_buf b = { 0 }, c = { 0 };
	struct rec_verify_result res;
	char path[128], err[256];
	size_t a, mm, e;
	FILE *f;
	int ch;

	(void)state;
	/* Equal times: only the chain can tell the order. */
	snprintf(path, sizeof(path), "%s/s2.cast", dir);
	m.session = "s2";
	assert_int_equal(rec_writer_open(path, &m, priv, NULL, &w, err, sizeof(err)), 0);
	assert_int_equal(rec_writer_output(w, 5, "rm -rf /tmp/a\r\n", 15), 0);
	assert_int_equal(rec_writer_output(w, 5, "echo done\r\n", 11), 0);
	assert_int_equal(rec_writer_close(w, NULL), 0);
	rec_writer_free(w);
	assert_non_null(f = fopen(path, "rb"));
	while ((ch = fgetc(f)) != EOF)
		rec_buf_addc(&b, ch);
	fclose(f);
	a = line_start(&b, 2);
	mm = line_start(&b, 3);
	e = line_start(&b, 4);
	rec_buf_add(&c, b.p, a);
	rec_buf_add(&c, b.p + mm, e - mm);
	rec_buf_add(&c, b.p + a, mm - a);
	rec_buf_add(&c, b.p + e, b.len - e);
	res = check(&c, "s2.cast");
	assert_int_equal(res.status, REC_VERIFY_FAILED);
	assert_non_null(strstr(res.msg, "swapped"));
	rec_buf_free(&b);
	rec_buf_free(&c);
}

static void
test_truncated(void **state)
{
	struct rec_buf b = { 0 };
	struct rec_verify_result res;
	size_t full;

	(void)state;
	make("s1", 35, &b);
	full = b.len;
	/* At a line boundary after checkpoint 2 (line 23): incomplete, prefix verified. */
	b.len = line_start(&b, 26);
	res = check(&b, "s1.cast");
	assert_int_equal(res.status, REC_VERIFY_INCOMPLETE);
	assert_int_equal(res.verified_lines, 23);
	assert_int_equal(res.checkpoints, 2);
	assert_non_null(strstr(res.msg, "verified up to checkpoint 2"));
	/* In the middle of a line. */
	b.len = line_start(&b, 26) + 7;
	res = check(&b, "s1.cast");
	assert_int_equal(res.status, REC_VERIFY_INCOMPLETE);
	assert_int_equal(res.line, 26);
	assert_non_null(strstr(res.msg, "cut short"));
	/* Only the final checkpoint removed. */
	b.len = line_start(&b, 40);
	res = check(&b, "s1.cast");
	assert_int_equal(res.status, REC_VERIFY_INCOMPLETE);
	b.len = full;
	rec_buf_free(&b);
}

static void
test_forged_checkpoint(void **state)
{
	struct rec_buf b = { 0 };
	struct rec_verify_result res;
	char *sig;

	(void)state;
	make("s1", 5, &b);
	/* Change one character of the final signature. */
	assert_non_null(sig = strstr((char *)b.p, "sig="));
	sig[6] = sig[6] == 'A' ? 'B' : 'A';
	res = check(&b, "s1.cast");
	assert_int_equal(res.status, REC_VERIFY_FAILED);
	assert_non_null(strstr(res.msg, "bad signature"));
	assert_int_equal(res.line, 7);
	rec_buf_free(&b);
}

static void
test_other_key(void **state)
{
	struct rec_key *other;
	struct rec_buf b = { 0 };
	struct rec_verify_result res;
	char path[128], err[256];

	(void)state;
	make("s1", 5, &b);
	snprintf(path, sizeof(path), "%s/other.pem", dir);
	assert_int_equal(rec_key_load_public(path, &other, err, sizeof(err)), 0);
	assert_int_equal(rec_verify_mem(b.p, b.len, "s1.cast", other, &res), 0);
	assert_int_equal(res.status, REC_VERIFY_FAILED);
	rec_key_free(other);
	rec_buf_free(&b);
}

static void
test_checkpoint_from_other_recording(void **state)
{
	struct rec_buf a = { 0 }, o = { 0 }, c = { 0 };
	struct rec_verify_result res;
	size_t la, lo;

	(void)state;
	/* Same session id, same content, same key: only the header nonce differs. */
	make("s1", 5, &o);
	make("s1", 5, &a);
	la = line_start(&a, 7);
	lo = line_start(&o, 7);
	rec_buf_add(&c, a.p, la);
	rec_buf_add(&c, o.p + lo, o.len - lo);
	res = check(&c, "s1.cast");
	assert_int_equal(res.status, REC_VERIFY_FAILED);
	assert_int_equal(res.line, 7);
	assert_non_null(strstr(res.msg, "another recording"));
	rec_buf_free(&a);
	rec_buf_free(&o);
	rec_buf_free(&c);
}

static void
test_renamed(void **state)
{
	struct rec_buf b = { 0 };
	struct rec_verify_result res;
	char from[128], to[128];

	(void)state;
	make("s1", 5, &b);
	res = check(&b, "s2.cast");
	assert_int_equal(res.status, REC_VERIFY_FAILED);
	assert_non_null(strstr(res.msg, "renamed"));
	/* And on disk. */
	snprintf(from, sizeof(from), "%s/s1.cast", dir);
	snprintf(to, sizeof(to), "%s/s3.cast", dir);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(rec_verify_file(to, pub, &res), 0);
	assert_int_equal(res.status, REC_VERIFY_FAILED);
	assert_non_null(strstr(res.msg, "written as s1.cast (session s1)"));
	rec_buf_free(&b);
}

static void
test_header_edited(void **state)
{
	struct rec_buf b = { 0 };
	struct rec_verify_result res;
	char *p;

	(void)state;
	make("s1", 5, &b);
	/* Give the session to another engineer: the header is in the chain. */
	assert_non_null(p = strstr((char *)b.p, "\"format\": 1"));
	p[10] = '2';
	res = check(&b, "s1.cast");
	assert_int_equal(res.status, REC_VERIFY_FAILED);
	rec_buf_free(&b);
}

static void
test_appended_after_final(void **state)
{
	struct rec_buf b = { 0 };
	struct rec_verify_result res;

	(void)state;
	make("s1", 5, &b);
	rec_buf_adds(&b, "[9.0, \"o\", \"extra\"]\n");
	res = check(&b, "s1.cast");
	assert_int_equal(res.status, REC_VERIFY_FAILED);
	assert_non_null(strstr(res.msg, "after the final checkpoint"));
	rec_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intact),
		cmocka_unit_test(test_byte_changed),
		cmocka_unit_test(test_byte_changed_everywhere),
		cmocka_unit_test(test_line_deleted),
		cmocka_unit_test(test_lines_swapped),
		cmocka_unit_test(test_same_time_swapped),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_forged_checkpoint),
		cmocka_unit_test(test_other_key),
		cmocka_unit_test(test_checkpoint_from_other_recording),
		cmocka_unit_test(test_renamed),
		cmocka_unit_test(test_header_edited),
		cmocka_unit_test(test_appended_after_final),
	};

	return cmocka_run_group_tests(tests, rt_setup, rt_teardown);
}
