/* SPDX-License-Identifier: BSD-2-Clause */
/* The daemon's own audit events, written off the main loop (see gw_audq.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gw_audq.h"
#include "mg_time.h"
#include "mg_err.h"
#include "mg_log.h"

struct item {
	struct rec_audit_event ev;	/* its strings are the item's own */
	int no_syslog;
};

struct gw_audq {
	struct item *it;
	size_t n, cap;
	pid_t writer;		/* running writer, or 0 */
	size_t batch;		/* events it took (from the head) */
	long long retry_at;	/* after a failed writer: not before (ms) */
	unsigned long lost;	/* refused while full, not yet reported */
};

/* The event's string fields, in one list for copying and freeing. */
static const char **
field(struct rec_audit_event *ev, size_t i)
{
	const char **f[] = { &ev->session, &ev->engineer, &ev->tenant, &ev->target,
	    &ev->login, &ev->source, &ev->result, &ev->reason, &ev->rule, &ev->ticket,
	    &ev->recording, &ev->seal };

	return i < sizeof(f) / sizeof(f[0]) ? f[i] : NULL;
}

static void
item_clear(struct item *it)
{
	const char **f;
	size_t i;

	for (i = 0; (f = field(&it->ev, i)) != NULL; i++)
		free((char *)*f);
	memset(it, 0, sizeof(*it));
}

struct gw_audq *
gw_audq_new(void)
{
	return calloc(1, sizeof(struct gw_audq));
}

void
gw_audq_free(struct gw_audq *q)
{
	size_t i;

	if (q == NULL)
		return;
	for (i = 0; i < q->n; i++)
		item_clear(&q->it[i]);
	free(q->it);
	free(q);
}

size_t
gw_audq_len(const struct gw_audq *q)
{
	return q != NULL ? q->n : 0;
}

int
gw_audq_add(struct gw_audq *q, const struct rec_audit_event *ev, int no_syslog)
{
	struct item it;
	const char **f;
	size_t i;

	if (q->n >= GW_AUDQ_MAX) {
		if (q->lost++ == 0)
			mg_log(LOG_ERR, "audit: %d events wait for the disk; more are lost "
			    "until they are written", GW_AUDQ_MAX);
		return MG_ERR_BUSY;
	}
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 16;
		struct item *p = realloc(q->it, cap * sizeof(*p));

		if (p == NULL)
			goto nomem;
		q->it = p;
		q->cap = cap;
	}
	memset(&it, 0, sizeof(it));
	it.ev = *ev;
	it.no_syslog = no_syslog;
	if (it.ev.time == 0)
		it.ev.time = mg_clock_now();
	for (i = 0; (f = field(&it.ev, i)) != NULL; i++) {
		if (*f == NULL)
			continue;
		if ((*f = strdup(*f)) == NULL) {
			/* The ones not copied yet still point at the caller's. */
			const char **g;
			size_t j;

			for (j = i + 1; (g = field(&it.ev, j)) != NULL; j++)
				*g = NULL;
			item_clear(&it);
			goto nomem;
		}
	}
	q->it[q->n++] = it;
	return 0;
nomem:
	mg_log(LOG_ERR, "audit: out of memory: an event is lost");
	return MG_ERR_NOMEM;
}

/* Writes it[0..n): the number written (in order, stopping at a failure). */
static size_t
write_events(struct item *it, size_t n, const char *path, const char *keyfile)
{
	struct rec_audit *a[2] = { NULL, NULL };
	char err[300];
	size_t i;

	for (i = 0; i < n; i++) {
		int k = it[i].no_syslog ? 1 : 0;

		if (a[k] == NULL) {
			struct rec_audit_opts o;

			memset(&o, 0, sizeof(o));
			o.no_syslog = k;
			if (rec_audit_open(path, keyfile, &o, &a[k], err, sizeof(err)) != 0) {
				mg_log(LOG_ERR, "audit log %s: %s", path, err);
				a[k] = NULL;
				break;
			}
		}
		if (rec_audit_event(a[k], &it[i].ev) != 0) {
			mg_log(LOG_ERR, "cannot write the audit log: %s", rec_audit_errmsg(a[k]));
			break;
		}
	}
	rec_audit_close(a[0]);
	rec_audit_close(a[1]);
	return i;
}

pid_t
gw_audq_kick(struct gw_audq *q, const char *path, const char *keyfile,
    void (*child_init)(void *), void *arg)
{
	size_t n;
	pid_t pid;

	if (q->lost != 0 && q->n < GW_AUDQ_MAX) {
		/* Counted, so that the log says what it does not hold. */
		mg_log(LOG_ERR, "audit: %lu events were lost while %d waited for the disk",
		    q->lost, GW_AUDQ_MAX);
		q->lost = 0;
	}
	if (q->writer != 0 || q->n == 0 || mg_mono_ms() < q->retry_at)
		return 0;
	n = q->n < GW_AUDQ_BATCH ? q->n : GW_AUDQ_BATCH;
	if ((pid = fork()) < 0) {
		mg_log(LOG_ERR, "audit writer: fork: %s", strerror(errno));
		q->retry_at = mg_mono_ms() + 1000;
		return -1;
	}
	if (pid == 0) {
		if (child_init != NULL)
			child_init(arg);
		_exit((int)write_events(q->it, n, path, keyfile));
	}
	q->writer = pid;
	q->batch = n;
	return pid;
}

/* The first k events are on file: they leave the queue. */
static void
drop_head(struct gw_audq *q, size_t k)
{
	size_t i;

	if (k > q->n)
		k = q->n;
	if (k == 0)
		return;		/* nothing to move (the queue may not even be allocated) */
	for (i = 0; i < k; i++)
		item_clear(&q->it[i]);
	memmove(q->it, q->it + k, (q->n - k) * sizeof(*q->it));
	q->n -= k;
}

int
gw_audq_reaped(struct gw_audq *q, pid_t pid, int status)
{
	size_t done = 0;

	if (q == NULL || pid <= 0 || pid != q->writer)
		return 0;
	if (WIFEXITED(status))
		done = (size_t)WEXITSTATUS(status);
	if (done > q->batch)
		done = 0;
	if (done < q->batch) {
		if (WIFSIGNALED(status))
			mg_log(LOG_ERR, "audit writer: killed by signal %d; %zu events wait",
			    WTERMSIG(status), q->n - done);
		q->retry_at = mg_mono_ms() + 1000;
	}
	drop_head(q, done);
	q->writer = 0;
	q->batch = 0;
	return 1;
}

size_t
gw_audq_drain(struct gw_audq *q, const char *path, const char *keyfile)
{
	int status;
	size_t done;

	if (q == NULL)
		return 0;
	if (q->writer != 0) {
		pid_t w;

		while ((w = waitpid(q->writer, &status, 0)) < 0 && errno == EINTR)
			;
		if (w == q->writer)
			gw_audq_reaped(q, w, status);
		else {
			q->writer = 0;	/* reaped elsewhere: its batch is written again */
			q->batch = 0;
		}
	}
	done = write_events(q->it, q->n, path, keyfile);
	drop_head(q, done);
	return q->n;
}
