/* SPDX-License-Identifier: BSD-2-Clause */
/* The recorder into memory (rec_sink_mem): the event logic without a file, verified as a file would be. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include <cmocka.h>

#include "mg_err.h"
#include "rec_buf.h"
#include "rec_reader.h"
#include "rec_writer.h"
#include "test_recorder_util.h"

#define NAME "S-mem.cast"

static struct rec_writer *
open_mem(struct rec_buf *b)
{
	struct rec_meta m = { .session = "S-mem", .engineer = "alice", .tenant = "acme",
	    .target = "web1" };
	struct rec_writer *w = NULL;
	char err[256];

	assert_int_equal(rec_writer_open_sink(&rec_sink_mem, NAME, b, &m, priv, NULL, &w, err,
	    sizeof(err)), 0);
	return w;
}

/* A whole session recorded into memory verifies, and a password typed at a prompt is not in it. */
static void
test_mem_roundtrip(void **state)
{
	struct rec_buf b = { 0 };
	struct rec_writer *w;
	struct rec_seal seal;
	struct rec_verify_result res;
	struct rec_reader *rd = NULL;
	struct rec_event ev;
	char err[256];
	int saw_hello = 0, e;

	(void)state;
	w = open_mem(&b);
	/* Fail closed: the header reaches the sink before the session starts. */
	assert_true(b.len > 0 && b.p[b.len - 1] == '\n');
	assert_ptr_equal(memchr(b.p, '\n', b.len), b.p + b.len - 1);
	assert_int_equal(rec_writer_output(w, 1000, "hello\n", 6), 0);
	assert_int_equal(rec_writer_output(w, 2000, "Password: ", 10), 0);
	assert_int_equal(rec_writer_input(w, 3000, "hunter2-secret\r", 15), 0);
	assert_int_equal(rec_writer_output(w, 4000, "\r\nok\r\n", 6), 0);
	assert_int_equal(rec_writer_marker(w, 5000, "exit status 0"), 0);
	assert_int_equal(rec_writer_close(w, &seal), 0);
	rec_writer_free(w);

	/* Nothing went to a file of that name. */
	assert_int_not_equal(access(NAME, F_OK), 0);
	assert_null(memmem(b.p, b.len, "hunter2", 7));
	assert_int_equal(rec_verify_mem(b.p, b.len, NAME, pub, &res), 0);
	assert_int_equal(res.status, REC_VERIFY_OK);
	assert_string_equal(res.seal, seal.hash);
	assert_int_equal(res.total_lines, seal.lines);

	assert_int_equal(rec_reader_open_mem(b.p, b.len, &rd, err, sizeof(err)), 0);
	assert_non_null(rec_reader_header(rd));
	assert_string_equal(rec_reader_header(rd)->session, "S-mem");
	while ((e = rec_reader_next(rd, &ev)) > 0) {
		if (ev.code == 'o' && ev.len == 6 && memcmp(ev.data, "hello\n", 6) == 0)
			saw_hello = 1;
	}
	assert_int_equal(e, 0);
	assert_true(saw_hello);
	rec_reader_free(rd);
	rec_buf_free(&b);
}

/* The memory sink needs its buffer: a clear error, no writer. */
static void
test_mem_no_buffer(void **state)
{
	struct rec_meta m = { .session = "S-mem" };
	struct rec_writer *w = NULL;
	char err[256];

	(void)state;
	assert_int_equal(rec_writer_open_sink(&rec_sink_mem, NAME, NULL, &m, priv, NULL, &w,
	    err, sizeof(err)), MG_ERR_INVAL);
	assert_null(w);
	assert_string_equal(err, "no buffer to record into");
}

/* A sink that fails stops the recording, and every later call says so (fail closed). */
static int
failing_write(void *state, const void *p, size_t len)
{
	(void)p;
	(void)len;
	return ++*(int *)state > 1 ? MG_ERR_IO : 0;	/* the header goes; nothing after */
}

static int
failing_init(void **state, const char *name, void *arg, char *err, size_t errlen)
{
	(void)name;
	(void)err;
	(void)errlen;
	*state = arg;
	return 0;
}

static int
failing_close(void *state)
{
	(void)state;
	return 0;
}

static void
failing_free(void *state, int discard)
{
	(void)state;
	(void)discard;
}

static void
test_sink_failure(void **state)
{
	static const struct rec_sink_type failing = { failing_init, failing_write,
	    failing_close, failing_free };
	struct rec_meta m = { .session = "S-fail" };
	struct rec_writer_opts o = { .checkpoint_events = 1 };
	struct rec_writer *w = NULL;
	char err[256];
	int calls = 0;

	(void)state;
	assert_int_equal(rec_writer_open_sink(&failing, "S-fail.cast", &calls, &m, priv, &o, &w,
	    err, sizeof(err)), 0);
	assert_int_equal(rec_writer_output(w, 1000, "x", 1), MG_ERR_IO);
	assert_int_equal(rec_writer_error(w), MG_ERR_IO);
	assert_int_equal(rec_writer_output(w, 2000, "y", 1), MG_ERR_IO);
	assert_int_equal(rec_writer_close(w, NULL), MG_ERR_IO);
	rec_writer_free(w);
}

/* Pages of the file resident in the page cache. */
static size_t
resident_pages(const char *path, size_t *total)
{
	struct stat st;
	unsigned char *vec;
	long pg = sysconf(_SC_PAGESIZE);
	size_t n, i, res = 0;
	void *map;
	int fd;

	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	n = ((size_t)st.st_size + (size_t)pg - 1) / (size_t)pg;
	assert_true((map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0)) !=
	    MAP_FAILED);
	assert_non_null(vec = malloc(n));
	assert_int_equal(mincore(map, (size_t)st.st_size, vec), 0);
	for (i = 0; i < n; i++)
		res += vec[i] & 1;
	free(vec);
	munmap(map, (size_t)st.st_size);
	close(fd);
	*total = n;
	return res;
}

/*
 * A recording on disk does not stay in the page cache: 48 MB of random
 * output (64 MB recorded) leaves next to none of its pages resident after
 * close, and the file still verifies.
 */
static void
test_file_not_cached(void **state)
{
	struct rec_meta m = { .session = "S-cache", .engineer = "alice", .tenant = "acme",
	    .target = "web1" };
	struct rec_verify_result res;
	struct rec_writer *w = NULL;
	struct rec_seal seal;
	struct statfs sf;
	char tdir[] = "/var/tmp/mg-cache-XXXXXX", path[128], err[256];
	static uint8_t buf[65536];
	size_t total = 0, resident, i;

	(void)state;
	assert_non_null(mkdtemp(tdir));
	assert_int_equal(statfs(tdir, &sf), 0);
	if (sf.f_type == TMPFS_MAGIC) {
		rmdir(tdir);
		skip();	/* tmpfs pages are the file itself: nothing to give back */
	}
	snprintf(path, sizeof(path), "%s/S-cache.cast", tdir);
	assert_int_equal(rec_writer_open(path, &m, priv, NULL, &w, err, sizeof(err)), 0);
	for (i = 0; i < 768; i++) {
		assert_int_equal(getrandom(buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
		assert_int_equal(rec_writer_output(w, (int64_t)i * 1000, buf, sizeof(buf)), 0);
	}
	assert_int_equal(rec_writer_close(w, &seal), 0);
	rec_writer_free(w);
	resident = resident_pages(path, &total);
	assert_true(total > 16000);
	if (resident > total / 100)
		fail_msg("%zu of %zu pages of the recording still in the page cache", resident,
		    total);
	assert_int_equal(rec_verify_file(path, pub, &res), 0);
	assert_int_equal(res.status, REC_VERIFY_OK);
	unlink(path);
	rmdir(tdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mem_roundtrip),
		cmocka_unit_test(test_mem_no_buffer),
		cmocka_unit_test(test_sink_failure),
		cmocka_unit_test(test_file_not_cached),
	};

	return cmocka_run_group_tests(tests, rt_setup, rt_teardown);
}
