/* SPDX-License-Identifier: BSD-2-Clause */
/* The recorder's writer thread (rec_writer_opts.async): same bytes, a bounded backlog, failures that stop the session. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <cmocka.h>

#include "mg_err.h"
#include "rec_buf.h"
#include "rec_reader.h"
#include "rec_writer.h"
#include "test_recorder_util.h"

/* Random bytes, the same every run. */
static void
fill_random(uint8_t *p, size_t n, uint64_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		p[i] = (uint8_t)seed;
	}
}

/*
 * One session of every kind of event, at fixed times: random output, text,
 * zeros, a password typed at a prompt, a resize, markers, and enough events
 * for several checkpoints (every 7 events).
 */
static void
record_script(int async, struct rec_buf *b, struct rec_seal *seal)
{
	struct rec_meta m = { .session = "S-async", .engineer = "alice", .tenant = "acme",
	    .target = "web1" };
	struct rec_writer_opts o = { .checkpoint_events = 7, .async = async };
	struct rec_writer *w = NULL;
	static uint8_t rnd[300000];
	static const char text[] = "total 12\r\ndrwxr-xr-x 2 root root 4096 .\r\n\xc3\xa9t\xc3\xa9\r\n";
	uint8_t zeros[5000] = { 0 };
	char err[256];
	int64_t t = 1000;
	int i;

	fill_random(rnd, sizeof(rnd), 0x9e3779b97f4a7c15ULL);
	assert_int_equal(rec_writer_open_sink(&rec_sink_mem, "S-async.cast", b, &m, priv, &o,
	    &w, err, sizeof(err)), 0);
	for (i = 0; i < 40; i++) {
		assert_int_equal(rec_writer_output(w, t += 10, text, sizeof(text) - 1), 0);
		assert_int_equal(rec_writer_output(w, t += 10, rnd + i * 7000, 7000), 0);
		assert_int_equal(rec_writer_output(w, t += 10, zeros, sizeof(zeros)), 0);
		assert_int_equal(rec_writer_input(w, t += 10, "ls\r", 3), 0);
	}
	/* One large write: lines past the flush size in one call. */
	assert_int_equal(rec_writer_output(w, t += 10, rnd, sizeof(rnd)), 0);
	assert_int_equal(rec_writer_output(w, t += 10, "Password: ", 10), 0);
	assert_int_equal(rec_writer_input(w, t += 10, "hunter2-secret\r", 15), 0);
	assert_int_equal(rec_writer_resize(w, t += 10, 132, 43), 0);
	assert_int_equal(rec_writer_marker(w, t += 10, "exit status 0"), 0);
	assert_int_equal(rec_writer_close(w, seal), 0);
	rec_writer_free(w);
}

/*
 * The lines after the header, each checkpoint's as one word: the header
 * holds a nonce and the start time, so the chain and the signatures
 * differ from one recording to the next, and close stamps the final
 * checkpoint with the time it is called.
 */
static void
events_of(const struct rec_buf *b, struct rec_buf *out)
{
	const uint8_t *p = memchr(b->p, '\n', b->len), *end = b->p + b->len;

	assert_non_null(p);
	for (p++; p < end; ) {
		const uint8_t *e = memchr(p, '\n', (size_t)(end - p)), *c;

		assert_non_null(e);
		c = memmem(p, (size_t)(e - p) < 40 ? (size_t)(e - p) : 40, ", \"c\", ", 7);
		if (c != NULL)
			assert_int_equal(rec_buf_adds(out, "checkpoint"), 0);
		else
			assert_int_equal(rec_buf_add(out, p, (size_t)(e - p)), 0);
		assert_int_equal(rec_buf_addc(out, '\n'), 0);
		p = e + 1;
	}
}

/* The writer thread changes when bytes are written, never which: the same lines, and it verifies. */
static void
test_async_same_bytes(void **state)
{
	struct rec_buf a = { 0 }, s = { 0 }, ea = { 0 }, es = { 0 };
	struct rec_seal sa, ss;
	struct rec_verify_result res;

	(void)state;
	record_script(0, &s, &ss);
	record_script(1, &a, &sa);
	assert_true(s.len > 600000);
	assert_int_equal(a.len, s.len);
	events_of(&s, &es);
	events_of(&a, &ea);
	assert_int_equal(ea.len, es.len);
	assert_memory_equal(ea.p, es.p, es.len);
	assert_int_equal(sa.lines, ss.lines);
	rec_buf_free(&ea);
	rec_buf_free(&es);
	assert_null(memmem(a.p, a.len, "hunter2", 7));
	assert_int_equal(rec_verify_mem(a.p, a.len, "S-async.cast", pub, &res), 0);
	assert_int_equal(res.status, REC_VERIFY_OK);
	assert_string_equal(res.seal, sa.hash);
	assert_true(res.checkpoints > 10);
	rec_buf_free(&a);
	rec_buf_free(&s);
}

/*
 * A sink the test holds: writes after the header wait until released, or
 * fail once fail_after bytes went through.
 */
struct held {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int hold, entered, released;
	size_t written, fail_after;
	struct rec_buf *b;
};

static int
held_init(void **state, const char *name, void *arg, char *err, size_t errlen)
{
	(void)name;
	(void)err;
	(void)errlen;
	*state = arg;
	return 0;
}

static int
held_write(void *state, const void *p, size_t len)
{
	struct held *h = state;
	int r = 0;

	pthread_mutex_lock(&h->mu);
	if (h->written > 0 && h->hold) {
		h->entered = 1;
		pthread_cond_broadcast(&h->cv);
		while (!h->released)
			pthread_cond_wait(&h->cv, &h->mu);
	}
	if (h->fail_after > 0 && h->written >= h->fail_after)
		r = MG_ERR_IO;
	else if (rec_buf_add(h->b, p, len) != 0)
		r = MG_ERR_NOMEM;
	else
		h->written += len;
	pthread_mutex_unlock(&h->mu);
	return r;
}

static int
held_close(void *state)
{
	(void)state;
	return 0;
}

static void
held_free(void *state, int discard)
{
	(void)state;
	(void)discard;
}

static const struct rec_sink_type held_sink = { held_init, held_write, held_close, held_free };

/* The session side: records total bytes of random output in 4 KiB writes, counting what was taken. */
struct feeder {
	struct rec_writer *w;
	const uint8_t *data;
	size_t total;
	pid_t tid;
	size_t taken;		/* under mu */
	int done, r;		/* under mu */
	pthread_mutex_t mu;
};

static void *
feed(void *arg)
{
	struct feeder *f = arg;
	size_t off;
	int r = 0;

	pthread_mutex_lock(&f->mu);
	f->tid = (pid_t)syscall(SYS_gettid);
	pthread_mutex_unlock(&f->mu);
	for (off = 0; off < f->total && r == 0; off += 4096) {
		r = rec_writer_output(f->w, REC_NOW, f->data + off, 4096);
		pthread_mutex_lock(&f->mu);
		if (r == 0)
			f->taken = off + 4096;
		pthread_mutex_unlock(&f->mu);
	}
	pthread_mutex_lock(&f->mu);
	f->done = 1;
	f->r = r;
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* 1 when thread tid sleeps in futex(2) (a condition wait), from /proc. */
static int
in_futex(pid_t tid)
{
	char path[64], buf[64];
	FILE *fp;
	long nr = -1;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), fp) != NULL)
		nr = strtol(buf, NULL, 10);
	fclose(fp);
	return nr == SYS_futex;
}

static void
nap(void)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* Random bytes are recorded in base64, longer than they are: the backlog bounds them too. */
#define BACKLOG_MAX (REC_WRITER_BACKLOG + 4096)

/*
 * A sink that stops taking bytes (a stalled disk) stops the session after
 * a bounded backlog: the session's writes block, they do not pile up in
 * memory while the engineer is shown more. Released, everything is
 * written and verifies.
 */
static void
test_async_backlog_bounded(void **state)
{
	struct rec_meta m = { .session = "S-held" };
	struct rec_writer_opts o = { .async = 1 };
	struct rec_buf b = { 0 };
	struct held h = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER,
	    .hold = 1, .b = &b };
	struct feeder f = { .total = 8 * 1024 * 1024, .mu = PTHREAD_MUTEX_INITIALIZER };
	struct rec_verify_result res;
	pthread_t th;
	uint8_t *data;
	size_t last = (size_t)-1, taken;
	char err[256];
	int still = 0, done = 0, i;

	(void)state;
	assert_non_null(data = malloc(f.total));
	fill_random(data, f.total, 42);
	f.data = data;
	assert_int_equal(rec_writer_open_sink(&held_sink, "S-held.cast", &h, &m, priv, &o,
	    &f.w, err, sizeof(err)), 0);
	assert_int_equal(pthread_create(&th, NULL, feed, &f), 0);
	/* Wait for the sink to be entered, then for the feeder to stop taking bytes. */
	pthread_mutex_lock(&h.mu);
	while (!h.entered)
		pthread_cond_wait(&h.cv, &h.mu);
	pthread_mutex_unlock(&h.mu);
	for (i = 0; i < 20000 && still < 20 && !done; i++) {
		pid_t tid;

		nap();
		pthread_mutex_lock(&f.mu);
		taken = f.taken;
		done = f.done;
		tid = f.tid;
		pthread_mutex_unlock(&f.mu);
		still = (taken == last && in_futex(tid)) ? still + 1 : 0;
		last = taken;
	}
	assert_false(done);	/* all 8 MB taken while nothing could be written */
	assert_int_equal(still, 20);
	assert_true(last <= BACKLOG_MAX);
	/* Released: the rest goes through and the recording is whole. */
	pthread_mutex_lock(&h.mu);
	h.released = 1;
	pthread_cond_broadcast(&h.cv);
	pthread_mutex_unlock(&h.mu);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(f.r, 0);
	assert_int_equal(f.taken, f.total);
	assert_int_equal(rec_writer_close(f.w, NULL), 0);
	rec_writer_free(f.w);
	assert_int_equal(rec_verify_mem(b.p, b.len, "S-held.cast", pub, &res), 0);
	assert_int_equal(res.status, REC_VERIFY_OK);
	free(data);
	rec_buf_free(&b);
}

/*
 * A sink that fails (a full disk) in the thread fails the session's next
 * writes within the same bounded backlog, and close says so: the relay
 * ends the session on it (fail closed).
 */
static void
test_async_failure_stops(void **state)
{
	struct rec_meta m = { .session = "S-fail" };
	struct rec_writer_opts o = { .async = 1 };
	struct rec_buf b = { 0 };
	struct held h = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER,
	    .fail_after = 1024 * 1024, .b = &b };
	struct rec_writer *w = NULL;
	static uint8_t data[4096];
	size_t off;
	char err[256];
	int r = 0;

	(void)state;
	fill_random(data, sizeof(data), 7);
	assert_int_equal(rec_writer_open_sink(&held_sink, "S-fail.cast", &h, &m, priv, &o,
	    &w, err, sizeof(err)), 0);
	for (off = 0; off < 64 * 1024 * 1024 && r == 0; off += sizeof(data))
		r = rec_writer_output(w, REC_NOW, data, sizeof(data));
	assert_int_equal(r, MG_ERR_IO);
	/* Taken before the failure showed: what was written plus the backlog. */
	assert_true(off <= 1024 * 1024 + BACKLOG_MAX);
	assert_int_equal(rec_writer_error(w), MG_ERR_IO);
	assert_int_equal(rec_writer_output(w, REC_NOW, "x", 1), MG_ERR_IO);
	assert_int_equal(rec_writer_close(w, NULL), MG_ERR_IO);
	rec_writer_free(w);
	rec_buf_free(&b);
}

/* A writer freed without close (a session torn down) stops its thread and keeps what it had. */
static void
test_async_free_unclosed(void **state)
{
	struct rec_meta m = { .session = "S-free" };
	struct rec_writer_opts o = { .async = 1 };
	struct rec_buf b = { 0 };
	struct rec_writer *w = NULL;
	char err[256];
	int i;

	(void)state;
	assert_int_equal(rec_writer_open_sink(&rec_sink_mem, "S-free.cast", &b, &m, priv, &o,
	    &w, err, sizeof(err)), 0);
	for (i = 0; i < 100; i++)
		assert_int_equal(rec_writer_output(w, REC_NOW, "line of output\r\n", 16), 0);
	rec_writer_free(w);
	assert_non_null(memmem(b.p, b.len, "line of output", 14));
	rec_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_async_same_bytes),
		cmocka_unit_test(test_async_backlog_bounded),
		cmocka_unit_test(test_async_failure_stops),
		cmocka_unit_test(test_async_free_unclosed),
	};

	return cmocka_run_group_tests(tests, rt_setup, rt_teardown);
}
