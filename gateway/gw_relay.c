/* SPDX-License-Identifier: BSD-2-Clause */
/* The relay loop: engineer fds <-> libssh channel, every byte recorded first. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <sys/ioctl.h>
#include <libssh/callbacks.h>

#include "gw_msg.h"
#include "gw_relay.h"
#include "mg_err.h"
#include "mg_time.h"
#include "mg_util.h"

#define RELAY_BUF (64 * 1024)
#define POLL_MS 200
#define RELAY_PIPE (256 * 1024)
#define STOP_GRACE_MS 1500
#define OUT_GONE_GRACE_S 2
/*
 * Output is written by the relay itself when nothing is queued, which
 * saves the writer thread's wake-up (about 0.1 ms an echo; on a bulk
 * stream, most of the session's futex calls and context switches). A
 * command's or sftp's pipes are non-blocking while the relay runs (their
 * flags are put back after), so such a write takes what fits and never
 * waits: the rest goes to the queue, which is then not empty, so the
 * relay writes nothing itself until the engineer has read it all. A
 * terminal stays blocking (it takes a few KiB at a time: non-blocking
 * writes there mostly came back EAGAIN, and measured no faster): a direct
 * write is at most DIRECT_MAX bytes of a descriptor that polls writable,
 * and a timer cuts it off after DIRECT_GUARD_MS at the latest.
 */
#define DIRECT_MAX 4096
#define DIRECT_GUARD_MS 20

static const struct {
	const char *name;
	int sig;
} signames[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL },
	{ "ABRT", SIGABRT }, { "FPE", SIGFPE }, { "KILL", SIGKILL }, { "SEGV", SIGSEGV },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
	{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
};

int
gw_signal_number(const char *name)
{
	size_t i;

	if (name == NULL)
		return 0;
	if (strncmp(name, "SIG", 3) == 0)
		name += 3;
	for (i = 0; i < sizeof(signames) / sizeof(signames[0]); i++)
		if (strcmp(name, signames[i].name) == 0)
			return signames[i].sig;
	return 0;
}

static void
on_exit_status(ssh_session s, ssh_channel c, int status, void *ud)
{
	struct gw_relay_result *res = ud;

	(void)s;
	(void)c;
	res->has_status = 1;
	res->exit_status = status;
}

static void
on_exit_signal(ssh_session s, ssh_channel c, const char *sig, int core,
    const char *errmsg, const char *lang, void *ud)
{
	struct gw_relay_result *res = ud;

	(void)s;
	(void)c;
	(void)core;
	(void)errmsg;
	(void)lang;
	res->has_status = 1;
	snprintf(res->signame, sizeof(res->signame), "%s", sig != NULL ? sig : "?");
	/* An unknown name still ends by a signal: report it as KILL would. */
	res->exit_signal = gw_signal_number(sig);
	if (res->exit_signal == 0)
		res->exit_signal = SIGKILL;
}


/*
 * The engineer-bound queue: NSLOT buffers of RELAY_BUF bytes. The relay
 * fills the slot after the queued ones (nobody else touches it), then
 * queues it; the writer thread writes the oldest queued slot to its fd and
 * frees it. Only head, n, quit and gone[] are shared, under mu.
 */
#define NSLOT (GW_RELAY_QUEUE / RELAY_BUF)
/* Tests (test_gw_outq.c) let the writer thread run at this point. */
#ifndef OUTQ_RACE_POINT
#define OUTQ_RACE_POINT() do { } while (0)
#endif

struct gw_outq {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct {
		char *buf;
		size_t len;
		int which;		/* 0: out, 1: err */
	} slot[NSLOT];
	unsigned head, n;
	int fd[2];			/* the writer's own copies (dup) */
	int flags[2];			/* their file status flags before the relay */
	int nonblock;			/* both made O_NONBLOCK (pipes; see DIRECT_MAX) */
	int gone[2];			/* a write failed: that reader is gone */
	int quit;
	int wake;			/* eventfd: the writer freed a slot */
	pthread_t th;
	int running;
};

static void
on_alarm(int sig)
{
	(void)sig;	/* only to cut a direct write short (no SA_RESTART) */
}

static void
on_usr2(int sig)
{
	(void)sig;	/* only to interrupt a blocked write(2) */
}

static void *
writer_main(void *arg)
{
	struct gw_outq *q = arg;
	sigset_t ss;
	uint64_t one = 1;

	/* Only SIGUSR2 (the relay's "stop now") reaches this thread. */
	sigemptyset(&ss);
	sigaddset(&ss, SIGUSR2);
	pthread_sigmask(SIG_UNBLOCK, &ss, NULL);
	for (;;) {
		size_t off = 0, len;
		const char *buf;
		int which, quit = 0, wake;

		pthread_mutex_lock(&q->mu);
		while (!q->quit && q->n == 0)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->quit) {
			pthread_mutex_unlock(&q->mu);
			break;
		}
		buf = q->slot[q->head].buf;
		len = q->slot[q->head].len;
		which = q->slot[q->head].which;
		if (q->gone[which])
			off = len;	/* nobody reads it: dropped (it is recorded) */
		pthread_mutex_unlock(&q->mu);
		while (off < len) {
			ssize_t w = write(q->fd[which], buf + off, len - off);

			if (w > 0) {
				off += (size_t)w;
				continue;
			}
			if (w < 0 && errno == EAGAIN) {
				/* Non-blocking: wait until it takes more (SIGUSR2 ends the wait). */
				struct pollfd pf = { q->fd[which], POLLOUT, 0 };

				if (poll(&pf, 1, -1) >= 0 || errno == EINTR)
					errno = EINTR;
				else
					errno = EIO;
				w = -1;
			}
			if (w < 0 && errno == EINTR) {
				pthread_mutex_lock(&q->mu);
				quit = q->quit;
				pthread_mutex_unlock(&q->mu);
				if (quit)
					break;
				continue;
			}
			/* EPIPE, EIO (a hung-up terminal): the reader went away. */
			pthread_mutex_lock(&q->mu);
			q->gone[which] = 1;
			pthread_mutex_unlock(&q->mu);
			break;
		}
		if (quit)
			break;
		pthread_mutex_lock(&q->mu);
		q->head = (q->head + 1) % NSLOT;
		/*
		 * The relay waits on the queue only when it was full (reading
		 * stopped), to see it empty (the session's end) or to learn
		 * that the reader is gone: woken then, not for every slot.
		 */
		wake = q->n == NSLOT || q->n == 1 || q->gone[which];
		q->n--;
		pthread_mutex_unlock(&q->mu);
		if (wake)
			(void)!write(q->wake, &one, sizeof(one));
	}
	return NULL;
}

static void
outq_free(struct gw_outq *q)
{
	size_t i;

	if (q == NULL)
		return;
	for (i = 0; i < NSLOT; i++)
		free(q->slot[i].buf);
	/* The engineer's descriptors as they were (the session writes after the relay). */
	for (i = 0; i < 2; i++)
		if (q->fd[i] >= 0 && q->flags[i] >= 0)
			(void)fcntl(q->fd[i], F_SETFL, q->flags[i]);
	for (i = 0; i < 2; i++)
		if (q->fd[i] >= 0)
			close(q->fd[i]);
	if (q->wake >= 0)
		close(q->wake);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

/* Stops the writer, even one blocked in write(2), and frees the queue. */
static void
outq_stop(struct gw_outq *q)
{
	int i;

	if (q == NULL)
		return;
	if (q->running) {
		pthread_mutex_lock(&q->mu);
		q->quit = 1;
		pthread_cond_signal(&q->cv);
		pthread_mutex_unlock(&q->mu);
		for (i = 0; i < 100; i++) {
			struct timespec ts;

			pthread_kill(q->th, SIGUSR2);
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 20 * 1000 * 1000;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			if (pthread_timedjoin_np(q->th, NULL, &ts) == 0) {
				q->running = 0;
				break;
			}
		}
		if (q->running) {
			/*
			 * Cannot happen with a no-op handler; should it, the
			 * thread keeps the queue (and its own fds) until the
			 * session process exits.
			 */
			pthread_detach(q->th);
			return;
		}
	}
	outq_free(q);
}

static struct gw_outq *
outq_start(int out, int err, int nonblock)
{
	struct gw_outq *q;
	struct sigaction sa;
	sigset_t all, old;
	size_t i;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->fd[0] = q->fd[1] = q->wake = -1;
	q->flags[0] = q->flags[1] = -1;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	for (i = 0; i < NSLOT; i++)
		if ((q->slot[i].buf = malloc(RELAY_BUF)) == NULL)
			goto fail;
	/* The writer's own descriptors: numbers the session never closes. */
	if ((q->fd[0] = fcntl(out, F_DUPFD_CLOEXEC, 3)) < 0 ||
	    (q->fd[1] = fcntl(err, F_DUPFD_CLOEXEC, 3)) < 0 ||
	    (q->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		goto fail;
	/*
	 * Non-blocking while the relay runs, if asked (see DIRECT_MAX). out
	 * and err may be one open file: both flags are read first, so both
	 * are put back as they were.
	 */
	q->flags[0] = fcntl(q->fd[0], F_GETFL);
	q->flags[1] = fcntl(q->fd[1], F_GETFL);
	q->nonblock = nonblock && q->flags[0] >= 0 && q->flags[1] >= 0 &&
	    fcntl(q->fd[0], F_SETFL, q->flags[0] | O_NONBLOCK) == 0 &&
	    fcntl(q->fd[1], F_SETFL, q->flags[1] | O_NONBLOCK) == 0;
	/* No SA_RESTART: SIGUSR2 ends a blocked write with EINTR. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	/* The same for the relay's own direct writes, cut short by SIGALRM. */
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	/* The thread starts with every signal blocked, then lets SIGUSR2 in. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&q->th, NULL, writer_main, q) == 0)
		q->running = 1;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!q->running)
		goto fail;
	return q;
fail:
	outq_free(q);
	return NULL;
}

/* The slot to fill next, or NULL when the queue is full. */
static struct gw_outq *
outq_room(struct gw_outq *q, char **buf)
{
	unsigned n, i;

	/*
	 * The free slot is head + n, both read under the lock: the writer
	 * moves head on as it frees a slot, and a head read after the unlock
	 * named the slot after the free one. The relay then filled that one
	 * and queued the free one, which still held what it carried 4 slots
	 * before: sftp downloads arrived whole in size with a chunk of older
	 * data in them. head + n stays the same until outq_push, as only the
	 * relay adds and the writer moves head and n together.
	 */
	pthread_mutex_lock(&q->mu);
	n = q->n;
	i = (q->head + n) % NSLOT;
	pthread_mutex_unlock(&q->mu);
	OUTQ_RACE_POINT();
	if (n >= NSLOT)
		return NULL;
	*buf = q->slot[i].buf;
	return q;
}

static void
outq_push(struct gw_outq *q, size_t len, int which)
{
	unsigned i;

	pthread_mutex_lock(&q->mu);
	i = (q->head + q->n) % NSLOT;
	q->slot[i].len = len;
	q->slot[i].which = which;
	q->n++;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

static unsigned
outq_queued(struct gw_outq *q, int *gone_out)
{
	unsigned n;

	pthread_mutex_lock(&q->mu);
	n = q->n;
	if (gone_out != NULL)
		*gone_out = q->gone[0];
	pthread_mutex_unlock(&q->mu);
	return n;
}

int
gw_relay_say(struct gw_relay *r, const char *text, size_t len)
{
	char *buf;

	if (r == NULL || r->outq == NULL || len > RELAY_BUF ||
	    outq_room(r->outq, &buf) == NULL)
		return -1;
	memcpy(buf, text, len);
	outq_push(r->outq, len, 0);
	return 0;
}

/*
 * buf is the next free slot's buffer (outq_room), holding n bytes for the
 * engineer: written here when that cannot hold up the relay (see
 * DIRECT_MAX), else queued; what a cut-short write left is queued.
 */
static void
queue_or_write(struct gw_relay *r, char *buf, size_t n, int which)
{
	struct gw_outq *q = r->outq;
	struct itimerval on = { { 0, 0 }, { 0, DIRECT_GUARD_MS * 1000 } }, off = { { 0, 0 }, { 0, 0 } };
	struct pollfd pf;
	ssize_t w;
	int gone;

	pf.fd = which ? r->err : r->out;
	pf.events = POLLOUT;
	pf.revents = 0;
	if (outq_queued(q, NULL) != 0 || (!q->nonblock && (n > DIRECT_MAX ||
	    poll(&pf, 1, 0) != 1 || (pf.revents & (POLLERR | POLLHUP | POLLNVAL)) ||
	    !(pf.revents & POLLOUT)))) {
		outq_push(q, n, which);
		return;
	}
	pthread_mutex_lock(&q->mu);
	gone = q->gone[which];
	pthread_mutex_unlock(&q->mu);
	if (gone)
		return;		/* nobody reads it: dropped (it is recorded) */
	if (q->nonblock) {
		w = write(pf.fd, buf, n);
	} else {
		setitimer(ITIMER_REAL, &on, NULL);
		w = write(pf.fd, buf, n);
		setitimer(ITIMER_REAL, &off, NULL);
	}
	if (w < 0 && errno != EINTR && errno != EAGAIN) {
		/* EPIPE, EIO (a hung-up terminal): the reader went away. */
		pthread_mutex_lock(&q->mu);
		q->gone[which] = 1;
		pthread_mutex_unlock(&q->mu);
		return;
	}
	if (w < 0)
		w = 0;
	if ((size_t)w < n) {
		memmove(buf, buf + w, n - (size_t)w);
		outq_push(q, n - (size_t)w, which);
	}
}

/*
 * Reads what the channel has buffered, as far as the queue has room:
 * recorded first, then queued for the engineer (unless show is 0: the
 * engineer's reader is gone). *empty is set when the channel had nothing
 * left. Returns 0, -1 on a recording error, -2 on a channel error.
 */
static int
drain_channel(struct gw_relay *r, struct gw_relay_result *res, int show, time_t *last,
    int *empty)
{
	int stream, n, moved, err;
	char *buf;

	*empty = 0;
	do {
		moved = 0;
		for (stream = 0; stream < 2; stream++) {
			if (outq_room(r->outq, &buf) == NULL)
				return 0;	/* full: the target waits (its window) */
			/*
			 * What the channel has now, up to a slot: a bulk stream
			 * arrives as a packet of a few KiB at a time, and one
			 * write (and one recorded event) per slot instead of per
			 * packet halves the relay's work on a terminal.
			 */
			n = 0;
			err = 0;
			while (n < RELAY_BUF) {
				int k = ssh_channel_read_nonblocking(r->channel, buf + n,
				    (uint32_t)(RELAY_BUF - n), stream);

				if (k == SSH_ERROR) {
					err = 1;
					break;
				}
				if (k <= 0)
					break;
				n += k;
			}
			if (n == 0 && err)
				return ssh_channel_is_closed(r->channel) ? (*empty = 1, 0) : -2;
			if (n <= 0)
				continue;
			moved = 1;
			*last = mg_clock_now();
			res->bytes_out += (uint64_t)n;
			/* Recorded before shown: what the engineer saw is on file. */
			if (rec_writer_output(r->rec, REC_NOW, buf, (size_t)n) != 0)
				return -1;
			if (r->observe != NULL)
				r->observe(r->observe_ctx, 1, buf, (size_t)n);
			if (show)
				queue_or_write(r, buf, (size_t)n, stream == 1 && !r->pty);
		}
	} while (moved);
	*empty = 1;
	return 0;
}

/*
 * Ends the remote side now: HUP to the command's process group (sshd
 * honours "signal" requests for ordinary sessions), a grace period, then
 * KILL, then the channel is closed. Output in the meantime is recorded,
 * not shown: the engineer's side may not be reading.
 */
static void
stop_remote(struct gw_relay *r, struct gw_relay_result *res)
{
	int64_t waited = 0;
	char *buf;
	int stream, n;

	if (ssh_channel_is_closed(r->channel))
		return;
	ssh_channel_request_send_signal(r->channel, "HUP");
	ssh_channel_send_eof(r->channel);
	buf = malloc(RELAY_BUF);
	while (waited < STOP_GRACE_MS && !ssh_channel_is_closed(r->channel) &&
	    !(ssh_channel_is_eof(r->channel) && res->has_status)) {
		if (ssh_channel_poll_timeout(r->channel, 100, 0) == SSH_ERROR)
			break;
		for (stream = 0; buf != NULL && stream < 2; stream++) {
			while ((n = ssh_channel_read_nonblocking(r->channel, buf, RELAY_BUF,
			    stream)) > 0) {
				res->bytes_out += (uint64_t)n;
				if (rec_writer_output(r->rec, REC_NOW, buf, (size_t)n) != 0)
					break;
			}
		}
		waited += 100;
	}
	free(buf);
	if (!ssh_channel_is_closed(r->channel) && !res->has_status)
		ssh_channel_request_send_signal(r->channel, "KILL");
	ssh_channel_close(r->channel);
}

/*
 * Writes pending input to the channel, no more than its window takes, so
 * ssh_channel_write never waits for the target. Returns 0 or -1.
 */
static int
push_input(struct gw_relay *r, const char *buf, size_t *off, size_t len)
{
	while (*off < len) {
		uint32_t win = ssh_channel_window_size(r->channel);
		size_t k = len - *off;
		int w;

		if (win == 0)
			return 0;	/* the target is not reading: wait */
		if (k > win)
			k = win;
		if ((w = ssh_channel_write(r->channel, buf + *off, (uint32_t)k)) < 0)
			return -1;
		if (w == 0)
			return 0;
		*off += (size_t)w;
	}
	return 0;
}

/* Tells the target a new terminal size (once) and records it; 0 or -1. */
static int
resize(struct gw_relay *r, unsigned cols, unsigned rows)
{
	if (cols == 0 || rows == 0 || cols >= 10000 || rows >= 10000 ||
	    (cols == r->cols && rows == r->rows))
		return 0;
	r->cols = cols;
	r->rows = rows;
	ssh_channel_change_pty_size(r->channel, (int)cols, (int)rows);
	return rec_writer_resize(r->rec, REC_NOW, (int)cols, (int)rows) != 0 ? -1 : 0;
}

/*
 * The engineer's terminal is ours to ask: sshd sets its size before it
 * passes on what was typed after the resize, so asking before sending input
 * keeps the two in order (mspgate-shell's RESIZE may come later).
 */
static int
resize_from_tty(struct gw_relay *r)
{
	struct winsize ws;

	if (!r->pty || ioctl(r->in, TIOCGWINSZ, &ws) != 0)
		return 0;
	return resize(r, ws.ws_col, ws.ws_row);
}

static int
handle_ctl(struct gw_relay *r)
{
	struct gw_msg m;
	size_t nfds = 0;
	int fds[1], rc;

	rc = gw_msg_recv(r->ctl, &m, fds, 0, &nfds);
	if (rc == MG_ERR_NOENT || rc == MG_ERR_SYSTEM)
		return 1;	/* mspgate-shell is gone: so is the engineer */
	if (rc != 0)
		return 0;	/* a bad message is ignored, not fatal */
	if (m.type == GW_MSG_RESIZE && r->pty)
		rc = resize(r, m.cols, m.rows);
	gw_msg_clear(&m);
	return rc < 0 ? -1 : 0;
}

void
gw_relay_exitwatch_start(ssh_channel ch, struct gw_relay_exitwatch *w)
{
	memset(w, 0, sizeof(*w));
	w->cb.userdata = &w->res;
	w->cb.channel_exit_status_function = on_exit_status;
	w->cb.channel_exit_signal_function = on_exit_signal;
	ssh_callbacks_init(&w->cb);
	ssh_set_channel_callbacks(ch, &w->cb);
}

int
gw_relay_run(struct gw_relay *r, struct gw_relay_result *res)
{
	struct ssh_channel_callbacks_struct cb;
	ssh_event ev = NULL;
	char *inbuf = NULL;
	size_t inlen = 0, inoff = 0;
	int in_open = 1, eof_due = 0, rc, empty = 0, gone = 0;
	time_t last, now, last_tick = 0, out_gone = 0;

	memset(res, 0, sizeof(*res));
	res->end = GW_RELAY_NETWORK;
	memset(&cb, 0, sizeof(cb));
	cb.userdata = res;
	cb.channel_exit_status_function = on_exit_status;
	cb.channel_exit_signal_function = on_exit_signal;
	ssh_callbacks_init(&cb);
	ssh_set_channel_callbacks(r->channel, &cb);
	/*
	 * Once the remote side has sent EOF, reading the channel no longer
	 * processes packets, so its exit status and close would wait in the
	 * socket for ever: an event context processes whatever arrives.
	 */
	if ((inbuf = malloc(RELAY_BUF)) == NULL ||
	    (r->outq = outq_start(r->out, r->err, !r->pty)) == NULL ||
	    (ev = ssh_event_new()) == NULL || ssh_event_add_session(ev, r->session) != SSH_OK) {
		snprintf(res->err, sizeof(res->err), "out of memory");
		ssh_event_free(ev);
		outq_stop(r->outq);
		r->outq = NULL;
		stop_remote(r, res);
		ssh_remove_channel_callbacks(r->channel, &cb);
		free(inbuf);
		return MG_ERR_NOMEM;
	}
	/*
	 * sshd's pipes (not a terminal): 256 KiB instead of 64, so a stream
	 * of requests (an sftp upload) keeps moving while this process records
	 * (random uploads went from 0.86x to about 1.0x the double hop). Not
	 * more: the pages count against the engineer's pipe-user-pages-soft
	 * (64 MiB), and 64 sessions (max_sessions_per_engineer) stay within
	 * it at this size. Failure (a lower pipe-max-size, the limit reached)
	 * changes nothing.
	 */
	if (!r->pty) {
		(void)fcntl(r->in, F_SETPIPE_SZ, RELAY_PIPE);
		(void)fcntl(r->out, F_SETPIPE_SZ, RELAY_PIPE);
	}
	last = mg_clock_now();

	for (;;) {
		struct pollfd pf[5];
		int npf = 0, i_in = -1, i_ctl, i_out, i_wake, pr;
		unsigned queued;

		if (ssh_event_dopoll(ev, 0) == SSH_ERROR && !ssh_channel_is_closed(r->channel)) {
			res->end = GW_RELAY_NETWORK;
			snprintf(res->err, sizeof(res->err), "%s", ssh_get_error(r->session));
			break;
		}
		(void)outq_queued(r->outq, &gone);
		if (gone && r->pty) {
			res->end = GW_RELAY_ENGINEER;
			break;
		} else if (gone && out_gone == 0) {
			out_gone = mg_clock_now();
		}
		rc = drain_channel(r, res, out_gone == 0, &last, &empty);
		if (rc == -1) {
			res->end = GW_RELAY_RECORDING;
			break;
		} else if (rc == -2) {
			res->end = GW_RELAY_NETWORK;
			snprintf(res->err, sizeof(res->err), "%s", ssh_get_error(r->session));
			break;
		}
		/* Input the target's window could not take yet. */
		if (inoff < inlen && push_input(r, inbuf, &inoff, inlen) != 0) {
			res->end = GW_RELAY_NETWORK;
			snprintf(res->err, sizeof(res->err), "%s", ssh_get_error(r->session));
			break;
		}
		if (inoff == inlen && eof_due) {
			eof_due = 0;
			ssh_channel_send_eof(r->channel);
		}
		queued = outq_queued(r->outq, NULL);
		/* The remote is done once all it sent has reached the engineer. */
		if (empty && (ssh_channel_is_closed(r->channel) ||
		    (ssh_channel_is_eof(r->channel) && res->has_status)) &&
		    (queued == 0 || out_gone != 0)) {
			res->end = GW_RELAY_REMOTE;
			break;
		}
		/* The clock: checked every turn, whatever either side does. */
		if (r->stop != NULL && *r->stop) {
			res->end = GW_RELAY_SHUTDOWN;
			break;
		}
		now = mg_clock_now();
		if (out_gone != 0 && now - out_gone >= OUT_GONE_GRACE_S) {
			res->end = GW_RELAY_ENGINEER;
			break;
		}
		if (r->end_by != 0 && now >= r->end_by) {
			res->end = GW_RELAY_TIME;
			break;
		}
		if (r->idle_timeout > 0 && now - last >= r->idle_timeout) {
			res->end = GW_RELAY_IDLE;
			break;
		}
		if (now != last_tick) {
			int t;

			last_tick = now;
			r->bytes_in = res->bytes_in;
			r->bytes_out = res->bytes_out;
			r->last_activity = last;
			if (r->tick != NULL && (t = r->tick(r, now, r->tick_ctx)) != 0) {
				res->end = (enum gw_relay_end)t;
				break;
			}
			if (r->end_by != 0 && mg_clock_now() >= r->end_by) {
				res->end = GW_RELAY_TIME;
				break;
			}
			if (rec_writer_tick(r->rec) != 0) {
				res->end = GW_RELAY_RECORDING;
				break;
			}
		}

		/*
		 * A full queue reads nothing more from the target (its window
		 * and TCP hold it back): waiting on its socket then would wake
		 * at once, every turn, and spin beside the writer thread,
		 * which is what empties the queue. The writer's wake (a slot
		 * freed) and the clock still come through.
		 */
		pf[npf].fd = ssh_get_fd(r->session);
		pf[npf++].events = queued >= NSLOT ? 0 : POLLIN;
		/* Read the engineer only when the last input has gone on. */
		if (in_open && inoff == inlen) {
			i_in = npf;
			pf[npf].fd = r->in;
			pf[npf++].events = POLLIN;
		}
		i_ctl = npf;
		pf[npf].fd = r->ctl;
		pf[npf++].events = POLLIN;
		/* No events asked: POLLERR/POLLHUP say the reader went away. */
		i_out = npf;
		pf[npf].fd = out_gone ? -1 : r->out;
		pf[npf++].events = 0;
		i_wake = npf;
		pf[npf].fd = r->outq->wake;
		pf[npf++].events = POLLIN;
		pr = poll(pf, (nfds_t)npf, POLL_MS);
		if (pr < 0 && errno != EINTR) {
			snprintf(res->err, sizeof(res->err), "poll: %s", strerror(errno));
			res->end = GW_RELAY_NETWORK;
			break;
		}
		/*
		 * Quiet for a turn: what was recorded goes to the file now
		 * (flush_ms), not at the next second's tick, so a watcher
		 * following the recording sees it within a fraction of one.
		 */
		if (pr == 0 && rec_writer_tick(r->rec) != 0) {
			res->end = GW_RELAY_RECORDING;
			break;
		}
		if (pr <= 0)
			continue;
		if (pf[i_wake].revents & POLLIN) {
			uint64_t v;

			(void)!read(r->outq->wake, &v, sizeof(v));
		}
		if (pf[i_out].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			if (r->pty) {
				res->end = GW_RELAY_ENGINEER;
				break;
			}
			/*
			 * scp, sftp and rsync close their end once done, before
			 * the exit status arrives: give the remote a moment to
			 * finish (output still recorded), so it can be passed on.
			 */
			if (out_gone == 0)
				out_gone = mg_clock_now();
		}
		if (pf[i_ctl].revents) {
			rc = handle_ctl(r);
			if (rc > 0) {
				res->end = GW_RELAY_ENGINEER;
				break;
			} else if (rc < 0) {
				res->end = GW_RELAY_RECORDING;
				break;
			}
		}
		if (i_in >= 0 && pf[i_in].revents) {
			ssize_t n = read(r->in, inbuf, RELAY_BUF);

			if (n > 0) {
				last = mg_clock_now();
				res->bytes_in += (uint64_t)n;
				/* The size first: typed after a resize, read after it. */
				if (resize_from_tty(r) != 0) {
					res->end = GW_RELAY_RECORDING;
					break;
				}
				if (rec_writer_input(r->rec, REC_NOW, inbuf, (size_t)n) != 0) {
					res->end = GW_RELAY_RECORDING;
					break;
				}
				if (r->observe != NULL)
					r->observe(r->observe_ctx, 0, inbuf, (size_t)n);
				inlen = (size_t)n;
				inoff = 0;
				if (push_input(r, inbuf, &inoff, inlen) != 0) {
					res->end = GW_RELAY_NETWORK;
					snprintf(res->err, sizeof(res->err), "%s",
					    ssh_get_error(r->session));
					break;
				}
			} else if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
				continue;
			} else if (r->pty) {
				/* EIO or end of file on a terminal: it hung up. */
				res->end = GW_RELAY_ENGINEER;
				break;
			} else {
				in_open = 0;
				eof_due = 1;
			}
		}
	}
	ssh_event_remove_session(ev, r->session);
	ssh_event_free(ev);
	/* What arrived before the relay started (a quick command). */
	if (!res->has_status && r->early != NULL && r->early->has_status) {
		res->has_status = 1;
		res->exit_status = r->early->exit_status;
		res->exit_signal = r->early->exit_signal;
		memcpy(res->signame, r->early->signame, sizeof(res->signame));
	}
	/* Last resort: libssh keeps a status it saw (the channel is closed). */
	if (res->end == GW_RELAY_REMOTE && !res->has_status) {
		int st = ssh_channel_get_exit_status(r->channel);

		if (st >= 0) {
			res->has_status = 1;
			res->exit_status = st;
		}
	}
	if (res->end == GW_RELAY_RECORDING)
		snprintf(res->err, sizeof(res->err), "%s",
		    mg_strerror(rec_writer_error(r->rec)));
	/* The target first: nothing the engineer does holds up its end. */
	if (res->end != GW_RELAY_REMOTE)
		stop_remote(r, res);
	outq_stop(r->outq);
	r->outq = NULL;
	ssh_remove_channel_callbacks(r->channel, &cb);
	free(inbuf);
	return 0;
}
