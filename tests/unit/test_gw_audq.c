/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemon's audit queue (gw_audq): the caller never waits on the log,
 * events reach the file in order with the time they happened, a failed
 * writer loses nothing, a full queue says so, and shutdown drains it.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "gw_audq.h"
#include "mg_err.h"
#include "rec_audit.h"
#include "test_recorder_util.h"

int main(void);

static char logpath[128], keypath[128];

/* The reasons of the log's denied events, in file order, joined by ','. */
static void
reasons(const char *path, char *out, size_t len, int64_t *last_ts)
{
	struct rec_audit_reader *r = NULL;
	struct rec_audit_line l;
	char err[256];

	out[0] = '\0';
	assert_int_equal(rec_audit_reader_open(path, &r, err, sizeof(err)), 0);
	while (rec_audit_reader_next(r, &l) == 1) {
		if (l.reason == NULL || l.type != REC_AUDIT_DENIED)
			continue;
		if (out[0] != '\0')
			strncat(out, ",", len - strlen(out) - 1);
		strncat(out, l.reason, len - strlen(out) - 1);
		if (last_ts != NULL)
			*last_ts = l.ts;
	}
	rec_audit_reader_free(r);
}

static void
add(struct gw_audq *q, const char *reason, time_t t)
{
	struct rec_audit_event ev;
	char copy[64];

	memset(&ev, 0, sizeof(ev));
	ev.type = REC_AUDIT_DENIED;
	ev.engineer = "alice";
	/* The queue keeps its own copy: the caller's buffer is reused. */
	snprintf(copy, sizeof(copy), "%s", reason);
	ev.reason = copy;
	ev.rule = "gateway.test";
	ev.time = t;
	assert_int_equal(gw_audq_add(q, &ev, 1), 0);
	memset(copy, 'x', sizeof(copy) - 1);
}

static void
wait_writer(struct gw_audq *q, pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(gw_audq_reaped(q, pid, status), 1);
}

static void
fresh_log(const char *name)
{
	snprintf(logpath, sizeof(logpath), "%s/%s", dir, name);
	snprintf(keypath, sizeof(keypath), "%s/k.pem", dir);
	unlink(logpath);
}

/* The writer waits for a log another process holds; the caller does not. */
static void
test_caller_never_waits(void **state)
{
	struct gw_audq *q = gw_audq_new();
	struct rec_audit *a = NULL;
	char got[256], err[256];
	int64_t ts = 0;
	int fd, status, i;
	pid_t pid;

	(void)state;
	fresh_log("wait.log");
	/* A log that exists, then held by "another writer". */
	assert_int_equal(rec_audit_open(logpath, keypath, NULL, &a, err, sizeof(err)), 0);
	rec_audit_close(a);
	assert_true((fd = open(logpath, O_RDWR)) >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	add(q, "one", 1700000001);
	add(q, "two", 1700000002);
	add(q, "three", 1700000003);
	pid = gw_audq_kick(q, logpath, keypath, NULL, NULL);
	assert_true(pid > 0);
	/* Kicked again while it runs: no second writer. */
	assert_int_equal(gw_audq_kick(q, logpath, keypath, NULL, NULL), 0);
	/* The writer is held by the lock; this process went on at once. */
	for (i = 0; i < 20; i++) {
		assert_int_equal(waitpid(pid, &status, WNOHANG), 0);
		usleep(10000);
	}
	assert_int_equal(gw_audq_len(q), 3);
	flock(fd, LOCK_UN);
	close(fd);
	wait_writer(q, pid);
	assert_int_equal(gw_audq_len(q), 0);
	reasons(logpath, got, sizeof(got), &ts);
	assert_string_equal(got, "one,two,three");
	/* The time each happened, not the time it reached the file. */
	assert_int_equal(ts, 1700000003);
	gw_audq_free(q);
}

/* A writer that cannot write loses nothing: the events wait for the next. */
static void
test_failed_writer_keeps_events(void **state)
{
	struct gw_audq *q = gw_audq_new();
	char bad[160], got[256];
	pid_t pid;

	(void)state;
	fresh_log("kept.log");
	snprintf(bad, sizeof(bad), "%s/no-such-dir/a.log", dir);
	add(q, "first", 0);
	add(q, "second", 0);
	pid = gw_audq_kick(q, bad, keypath, NULL, NULL);
	assert_true(pid > 0);
	wait_writer(q, pid);
	assert_int_equal(gw_audq_len(q), 2);
	/* Not again at once: a broken log is not a fork loop. */
	assert_int_equal(gw_audq_kick(q, logpath, keypath, NULL, NULL), 0);
	/* At shutdown everything left is written from the caller. */
	add(q, "third", 0);
	assert_int_equal(gw_audq_drain(q, logpath, keypath), 0);
	assert_int_equal(gw_audq_len(q), 0);
	reasons(logpath, got, sizeof(got), NULL);
	assert_string_equal(got, "first,second,third");
	gw_audq_free(q);
}

/* A queue that is full refuses the next event, and says so. */
static void
test_full_queue(void **state)
{
	struct gw_audq *q = gw_audq_new();
	struct rec_audit_event ev;
	size_t i;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.type = REC_AUDIT_DENIED;
	ev.reason = "flood";
	for (i = 0; i < GW_AUDQ_MAX; i++)
		assert_int_equal(gw_audq_add(q, &ev, 0), 0);
	assert_int_equal(gw_audq_add(q, &ev, 0), MG_ERR_BUSY);
	assert_int_equal(gw_audq_len(q), GW_AUDQ_MAX);
	gw_audq_free(q);
}

/* More than one writer's batch: all of it, in order, over several writers. */
static void
test_batches_in_order(void **state)
{
	struct gw_audq *q = gw_audq_new();
	char want[8192], got[8192], r[16];
	size_t i, n = GW_AUDQ_BATCH + 50;
	pid_t pid;

	(void)state;
	fresh_log("batches.log");
	want[0] = '\0';
	for (i = 0; i < n; i++) {
		snprintf(r, sizeof(r), "e%zu", i);
		add(q, r, 0);
		if (i)
			strcat(want, ",");
		strcat(want, r);
	}
	while ((pid = gw_audq_kick(q, logpath, keypath, NULL, NULL)) > 0)
		wait_writer(q, pid);
	assert_int_equal(gw_audq_len(q), 0);
	reasons(logpath, got, sizeof(got), NULL);
	assert_string_equal(got, want);
	gw_audq_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caller_never_waits),
		cmocka_unit_test(test_failed_writer_keeps_events),
		cmocka_unit_test(test_full_queue),
		cmocka_unit_test(test_batches_in_order),
	};

	return cmocka_run_group_tests(tests, rt_setup, rt_teardown);
}
