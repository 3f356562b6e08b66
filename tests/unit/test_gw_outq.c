/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The relay's engineer-bound queue (gw_relay.c: outq_*), against its
 * writer thread: every byte the relay queues reaches the engineer once,
 * in order, while the writer frees slots as fast as it can. A benchmark
 * found sftp downloads through the gateway that arrived whole in size but
 * held, at one place, a chunk from 128-256 KiB earlier: the slot the relay
 * filled was not the one it queued. The static functions are tested where
 * they live: the file is included.
 */
#include <sched.h>
/* Between the relay's look at the queue and its use of a slot, the writer runs. */
#define OUTQ_RACE_POINT() sched_yield()
#include "../../gateway/gw_relay.c"

#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

int main(void);

#define TOTAL (64u * 1024 * 1024)

struct reader {
	int fd;
	uint64_t got;		/* bytes read */
	uint64_t bad_at;	/* first byte that was not the next in sequence */
	int bad;
	unsigned pause_every;	/* 0, or stop 2 ms every so many reads */
};

/* The stream is byte i = (i * 7 + i / 65521) & 0xff: no chunk repeats another. */
static unsigned char
seq_byte(uint64_t i)
{
	return (unsigned char)((i * 7 + i / 65521) & 0xff);
}

static void *
reader_main(void *arg)
{
	struct reader *rd = arg;
	unsigned char buf[65536];
	ssize_t n, k;
	unsigned turns = 0;

	/* A stopping reader reads little at a time, so the pipe fills. */
	while ((n = read(rd->fd, buf, rd->pause_every ? 4096 : sizeof(buf))) > 0) {
		for (k = 0; k < n; k++) {
			if (!rd->bad && buf[k] != seq_byte(rd->got + (uint64_t)k)) {
				rd->bad = 1;
				rd->bad_at = rd->got + (uint64_t)k;
			}
		}
		rd->got += (uint64_t)n;
		if (rd->pause_every && ++turns % rd->pause_every == 0)
			usleep(2000);
	}
	return NULL;
}

static void
test_queue_keeps_order_under_a_fast_writer(void **state)
{
	struct gw_outq *q;
	struct reader rd;
	pthread_t th;
	int p[2], devnull;
	uint64_t sent = 0;
	unsigned seed = 1;

	(void)state;
	/*
	 * Relay and writer on one CPU, as on a busy gateway: the writer, woken
	 * by the relay's unlock, can run before the relay's next instruction.
	 */
	{
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(0, &one);
		(void)sched_setaffinity(0, sizeof(one), &one);
	}
	assert_int_equal(pipe(p), 0);
	assert_true((devnull = open("/dev/null", O_WRONLY)) >= 0);
	memset(&rd, 0, sizeof(rd));
	rd.fd = p[0];
	assert_int_equal(pthread_create(&th, NULL, reader_main, &rd), 0);
	assert_non_null(q = outq_start(p[1], devnull, 1));
	close(p[1]);
	while (sent < TOTAL) {
		char *buf;
		size_t n, i;

		if (outq_room(q, &buf) == NULL) {
			uint64_t v;
			struct pollfd pf = { q->wake, POLLIN, 0 };

			/* Full: wait for the writer, as the relay does. */
			(void)poll(&pf, 1, 100);
			(void)!read(q->wake, &v, sizeof(v));
			continue;
		}
		/* Chunks of every size, small ones mostly: many turns, many races. */
		seed = seed * 1103515245u + 12345u;
		n = 1 + (seed >> 8) % ((seed & 3) == 0 ? RELAY_BUF : 512);
		if (n > TOTAL - sent)
			n = (size_t)(TOTAL - sent);
		for (i = 0; i < n; i++)
			buf[i] = (char)seq_byte(sent + i);
		outq_push(q, n, 0);
		sent += n;
	}
	/* The writer drains what is queued, then stops; the reader sees EOF. */
	while (outq_queued(q, NULL) != 0)
		usleep(1000);
	outq_stop(q);
	close(devnull);
	pthread_join(th, NULL);
	if (rd.bad)
		fail_msg("byte %llu of %u is not the one queued there",
		    (unsigned long long)rd.bad_at, TOTAL);
	assert_int_equal(rd.got, TOTAL);
}

/*
 * The relay's direct writes (queue_or_write: any size while nothing is
 * queued, on a descriptor made non-blocking) and the writer thread's
 * (which waits in poll when the pipe is full) share one stream: every
 * byte once, in order, against a reader that keeps stopping. After the
 * relay, the engineer's descriptor is blocking again, as it was.
 */
static void
test_direct_writes_keep_order_and_flags(void **state)
{
	struct gw_relay r;
	struct reader rd;
	pthread_t th;
	int p[2], devnull;
	uint64_t sent = 0;
	unsigned seed = 7;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_true((devnull = open("/dev/null", O_WRONLY)) >= 0);
	assert_int_equal(fcntl(p[1], F_GETFL) & O_NONBLOCK, 0);
	memset(&rd, 0, sizeof(rd));
	rd.fd = p[0];
	rd.pause_every = 64;
	assert_int_equal(pthread_create(&th, NULL, reader_main, &rd), 0);
	memset(&r, 0, sizeof(r));
	r.out = p[1];
	r.err = devnull;
	assert_non_null(r.outq = outq_start(p[1], devnull, 1));
	assert_true(r.outq->nonblock);
	assert_int_not_equal(fcntl(p[1], F_GETFL) & O_NONBLOCK, 0);
	while (sent < TOTAL / 4) {
		char *buf;
		size_t n, i;

		if (outq_room(r.outq, &buf) == NULL) {
			uint64_t v;
			struct pollfd pf = { r.outq->wake, POLLIN, 0 };

			(void)poll(&pf, 1, 100);
			(void)!read(r.outq->wake, &v, sizeof(v));
			continue;
		}
		seed = seed * 1103515245u + 12345u;
		n = 1 + (seed >> 8) % ((seed & 1) == 0 ? RELAY_BUF : 4096);
		if (n > TOTAL / 4 - sent)
			n = (size_t)(TOTAL / 4 - sent);
		for (i = 0; i < n; i++)
			buf[i] = (char)seq_byte(sent + i);
		queue_or_write(&r, buf, n, 0);
		sent += n;
	}
	while (outq_queued(r.outq, NULL) != 0)
		usleep(1000);
	outq_stop(r.outq);
	assert_int_equal(fcntl(p[1], F_GETFL) & O_NONBLOCK, 0);
	close(p[1]);
	close(devnull);
	pthread_join(th, NULL);
	if (rd.bad)
		fail_msg("byte %llu of %u is not the one written there",
		    (unsigned long long)rd.bad_at, TOTAL / 4);
	assert_int_equal(rd.got, TOTAL / 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_keeps_order_under_a_fast_writer),
		cmocka_unit_test(test_direct_writes_keep_order_and_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
