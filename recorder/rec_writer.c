/* SPDX-License-Identifier: BSD-2-Clause */
/* Writing one session recording: asciicast v2 with a hash chain and signed checkpoints. */
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "mg_err.h"
#include "mg_time.h"
#include "rec_buf.h"
#include "rec_chain.h"
#include "rec_writer.h"

/*
 * Buffered bytes that force a write (a batch, for an async writer's
 * thread), keeping memory bounded. An async writer holds up to QDEPTH
 * batches and the one being built: what is shown before it is on disk is
 * at most three of these, each with one event past it (REC_WRITER_BACKLOG,
 * the window mspgated(8) documents). 128 KiB rather than 64: half the
 * hand-overs and writes, about a tenth less CPU a MB of a bulk session.
 */
#define FLUSH_BYTES 131072
#define TAIL_MAX 256
/* Bytes of valid UTF-8 that end a binary run (shorter ones stay inside it). */
#define REC_TEXT_RUN 32
/* Batches an async writer's thread holds: the one it writes and one queued. */
#define QDEPTH 2
/*
 * In a batch, where a checkpoint goes: this byte (no line begins with it)
 * and a struct cp_mark. The chain is where the lines are hashed, so the
 * checkpoint's line is made there (consume).
 */
#define CP_MARK 0x01

struct cp_mark {
	uint64_t seq;
	uint64_t lines;		/* lines before the checkpoint's own */
	int64_t t;
	uint64_t final;
};

struct rec_writer {
	const struct rec_sink_type *sink;	/* where the lines go */
	void *sink_state;
	char *session;
	const struct rec_key *key;
	struct rec_chain chain;
	struct rec_buf out;	/* lines not yet written, then the line being built */
	size_t line_start;	/* where that line starts in out */
	struct rec_buf line;	/* the header while it is built */
	struct rec_buf tmp;
	struct rec_buf msg;
	struct rec_buf join;	/* held bytes + the next write */
	struct timespec t0;	/* monotonic start */
	int64_t last_t;		/* last event time (us), never decreasing */
	int64_t last_flush;	/* monotonic us of the last write */
	int64_t last_cp;	/* monotonic us of the last checkpoint */
	uint64_t lines;		/* lines built so far, header included */
	uint64_t events_since_cp;
	uint64_t cp_seq;
	uint64_t bytes_in, bytes_out;
	unsigned cp_secs, cp_events, flush_ms;
	/* Partial UTF-8 sequences held back until the next write: [0] out, [1] in. */
	uint8_t carry[2][4];
	size_t carry_len[2];
	/* Password masking. */
	regex_t prompt;
	int have_prompt;
	int prompt_default;	/* the pattern is REC_PROMPT_REGEX_DEFAULT */
	int record_passwords;
	char tail[TAIL_MAX + 1];	/* output since the last newline */
	size_t tail_len;
	int tail_dirty;
	int mask_prompt;	/* a prompt was seen: hide input to the next newline */
	int mask_echo;		/* the terminal does not echo: hide input */
	uint64_t hidden;	/* bytes hidden in the current run */
	int err;		/* first error; sticky */
	int closed;
	/*
	 * Behind the line builder: the batches of lines are hashed into the
	 * chain and handed to the sink by consume(), at once or, async, by
	 * the writer's thread. The chain, key, sink, cpl, msg and tmp are
	 * then the thread's alone; the rest below is under mu.
	 */
	struct rec_buf cpl;	/* a checkpoint line */
	int async;
	int thread_on;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work;	/* a batch was queued, or stop */
	pthread_cond_t room;	/* a batch was done */
	struct rec_buf q[QDEPTH];	/* queued batches from qhead, qlen of them */
	unsigned qhead, qlen;
	int stop;
	int aerr;		/* the thread's first error; later batches are dropped */
};

int
rec_session_id_valid(const char *s)
{
	size_t i, n;

	if (s == NULL || (n = strlen(s)) == 0 || n > 128 || s[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == ':'))
			return 0;
	}
	return 1;
}

static int64_t
mono_us(const struct rec_writer *w)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)(ts.tv_sec - w->t0.tv_sec) * 1000000 +
	    (ts.tv_nsec - w->t0.tv_nsec) / 1000;
}

int64_t
rec_writer_now(const struct rec_writer *w)
{
	return mono_us(w);
}

int
rec_writer_error(const struct rec_writer *w)
{
	return w->err;
}

static int
fail(struct rec_writer *w, int r)
{
	if (w->err == 0)
		w->err = r;
	return w->err;
}

static int
put_prefix(struct rec_buf *b, int64_t t, const char *code);

/* A checkpoint's line for the chain as it stands, hashed, into w->cpl. */
static int
cp_line(struct rec_writer *w, const struct cp_mark *m)
{
	struct rec_cp cp = { 0 };
	int r;

	cp.seq = m->seq;
	cp.lines = m->lines;
	cp.final = m->final != 0;
	memcpy(cp.hash, w->chain.h, REC_HASH_LEN);
	rec_buf_reset(&w->tmp);
	rec_buf_reset(&w->cpl);
	if ((r = rec_cp_message(&w->msg, w->session, w->chain.h0, &cp)) != 0 ||
	    (r = rec_key_sign(w->key, w->msg.p, w->msg.len, cp.sig)) != 0 ||
	    (r = rec_cp_format(&w->tmp, &cp)) != 0 ||
	    (r = put_prefix(&w->cpl, m->t, "c")) != 0 ||
	    (r = rec_buf_json_str(&w->cpl, w->tmp.p, w->tmp.len)) != 0 ||
	    (r = rec_buf_addc(&w->cpl, ']')) != 0 ||
	    (r = rec_chain_add(&w->chain, w->cpl.p, w->cpl.len)) != 0)
		return r;
	return rec_buf_addc(&w->cpl, '\n');
}

/*
 * One batch of lines, in order, into the hash chain and then the sink; a
 * checkpoint mark becomes its signed line here, where the chain is.
 */
static int
consume(struct rec_writer *w, const uint8_t *p, size_t n)
{
	size_t i = 0, seg = 0;
	int r;

	while (i < n) {
		const uint8_t *e;
		struct cp_mark m;

		if (p[i] == CP_MARK) {
			if (n - i < 1 + sizeof(m))
				return MG_ERR_INTERNAL;
			memcpy(&m, p + i + 1, sizeof(m));
			if (i > seg && (r = w->sink->write(w->sink_state, p + seg, i - seg)) != 0)
				return r;
			if ((r = cp_line(w, &m)) != 0 ||
			    (r = w->sink->write(w->sink_state, w->cpl.p, w->cpl.len)) != 0)
				return r;
			i += 1 + sizeof(m);
			seg = i;
			continue;
		}
		if ((e = memchr(p + i, '\n', n - i)) == NULL)
			return MG_ERR_INTERNAL;
		if ((r = rec_chain_add(&w->chain, p + i, (size_t)(e - (p + i)))) != 0)
			return r;
		i = (size_t)(e - p) + 1;
	}
	if (n > seg)
		return w->sink->write(w->sink_state, p + seg, n - seg);
	return 0;
}

/* The writer's thread: consumes the queued batches in order until told to stop and none is left. */
static void *
drain_main(void *arg)
{
	struct rec_writer *w = arg;
	struct rec_buf cur = { 0 }, t;
	int r, skip;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->qlen == 0 && !w->stop)
			pthread_cond_wait(&w->work, &w->mu);
		if (w->qlen == 0)
			break;
		/* Take the batch; its slot keeps an empty buffer for the builder. */
		t = w->q[w->qhead];
		w->q[w->qhead] = cur;
		cur = t;
		skip = w->aerr != 0;
		pthread_mutex_unlock(&w->mu);
		r = skip ? 0 : consume(w, cur.p, cur.len);
		rec_buf_reset(&cur);
		pthread_mutex_lock(&w->mu);
		w->qhead = (w->qhead + 1) % QDEPTH;
		w->qlen--;
		if (r != 0 && w->aerr == 0)
			w->aerr = r;
		pthread_cond_broadcast(&w->room);
	}
	pthread_mutex_unlock(&w->mu);
	rec_buf_free(&cur);
	return NULL;
}

/* Queues w->out for the thread, waiting while the queue is full; the thread's error, if any. */
static int
hand_over(struct rec_writer *w)
{
	struct rec_buf t;
	unsigned k;
	int r;

	pthread_mutex_lock(&w->mu);
	while (w->qlen == QDEPTH && w->aerr == 0)
		pthread_cond_wait(&w->room, &w->mu);
	if ((r = w->aerr) == 0) {
		k = (w->qhead + w->qlen) % QDEPTH;
		t = w->q[k];
		w->q[k] = w->out;
		w->out = t;
		w->qlen++;
		pthread_cond_signal(&w->work);
	}
	pthread_mutex_unlock(&w->mu);
	return r;
}

/* Lets the thread finish what is queued, and joins it; its error, if any. */
static int
stop_thread(struct rec_writer *w)
{
	if (!w->thread_on)
		return 0;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	w->thread_on = 0;
	return w->aerr;
}

static int
start_thread(struct rec_writer *w)
{
	sigset_t all, old;
	int r;

	if (pthread_mutex_init(&w->mu, NULL) != 0)
		return MG_ERR_SYSTEM;
	if (pthread_cond_init(&w->work, NULL) != 0) {
		pthread_mutex_destroy(&w->mu);
		return MG_ERR_SYSTEM;
	}
	if (pthread_cond_init(&w->room, NULL) != 0) {
		pthread_cond_destroy(&w->work);
		pthread_mutex_destroy(&w->mu);
		return MG_ERR_SYSTEM;
	}
	w->async = 1;
	/* Signals are the session's, never this thread's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&w->thread, NULL, drain_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		return MG_ERR_SYSTEM;
	w->thread_on = 1;
	return 0;
}

/*
 * Hands everything buffered on: consumed now, or queued for the thread.
 * An error stops the recording; fail closed: the caller ends the session
 * on it.
 */
static int
flush_out(struct rec_writer *w)
{
	int r;

	if (w->out.len > 0) {
		r = w->thread_on ? hand_over(w) : consume(w, w->out.p, w->out.len);
		if (r != 0)
			return fail(w, r);
	}
	rec_buf_reset(&w->out);
	w->last_flush = mono_us(w);
	return 0;
}

/*
 * Lines are built in place at the end of the output buffer: no copy; the
 * chain hashes them from there when the batch is consumed.
 */
static int
commit_line(struct rec_writer *w)
{
	int r;

	if ((r = rec_buf_addc(&w->out, '\n')) != 0) {
		w->out.len = w->line_start;
		return fail(w, r);
	}
	w->lines++;
	return 0;
}

/* Drops a line begun but not committed. */
static void
abort_line(struct rec_writer *w)
{
	w->out.len = w->line_start;
	if (w->out.p != NULL)
		w->out.p[w->out.len] = '\0';
}

/* Appends "[SECONDS.MICROS, "CODE", " (t >= 0) without printf: this runs per event. */
static int
put_prefix(struct rec_buf *b, int64_t t, const char *code)
{
	char tmp[48], *p = tmp + 24, *q = tmp + 24;
	uint64_t secs = (uint64_t)t / 1000000, us = (uint64_t)t % 1000000;
	int i;

	*q++ = '.';
	for (i = 5; i >= 0; i--) {
		q[i] = (char)('0' + us % 10);
		us /= 10;
	}
	q += 6;
	do {
		*--p = (char)('0' + secs % 10);
		secs /= 10;
	} while (secs > 0);
	*--p = '[';
	memcpy(q, ", \"", 3);
	q += 3;
	*q++ = code[0];
	memcpy(q, "\", ", 3);
	q += 3;
	return rec_buf_add(b, p, (size_t)(q - p));
}

/* Starts an event line at the end of the output buffer. */
static int
begin_line(struct rec_writer *w, int64_t t, const char *code)
{
	w->line_start = w->out.len;
	return put_prefix(&w->out, t, code);
}

/* A signed checkpoint after the lines so far: its mark, made into a line by consume. */
static int
checkpoint(struct rec_writer *w, int final)
{
	struct cp_mark m;
	int r;

	memset(&m, 0, sizeof(m));
	m.seq = ++w->cp_seq;
	m.lines = w->lines;
	m.t = w->last_t;
	m.final = final != 0;
	w->line_start = w->out.len;
	if ((r = rec_buf_addc(&w->out, CP_MARK)) != 0 ||
	    (r = rec_buf_add(&w->out, &m, sizeof(m))) != 0) {
		abort_line(w);
		return fail(w, r);
	}
	w->lines++;
	w->events_since_cp = 0;
	w->last_cp = mono_us(w);
	return flush_out(w);
}

/* After each event: checkpoint or write when due. */
static int
maybe_flush(struct rec_writer *w)
{
	int64_t now;

	if (w->events_since_cp >= w->cp_events)
		return checkpoint(w, 0);
	now = mono_us(w);
	if (w->events_since_cp > 0 && now - w->last_cp >= (int64_t)w->cp_secs * 1000000)
		return checkpoint(w, 0);
	if (w->out.len >= FLUSH_BYTES ||
	    (w->out.len > 0 && now - w->last_flush >= (int64_t)w->flush_ms * 1000))
		return flush_out(w);
	return 0;
}

static int
event_time(struct rec_writer *w, int64_t t)
{
	if (t < 0)
		t = mono_us(w);
	if (t < w->last_t)
		t = w->last_t;
	w->last_t = t;
	return 0;
}

/*
 * Ends the event line being built: on error r, drops it and fails the
 * writer; otherwise commits it and checkpoints or writes when due.
 */
static int
end_event(struct rec_writer *w, int r)
{
	if (r != 0) {
		abort_line(w);
		return fail(w, r);
	}
	if ((r = commit_line(w)) != 0)
		return r;
	w->events_since_cp++;
	return maybe_flush(w);
}

/* One event with a JSON string payload of valid UTF-8. */
static int
emit_str(struct rec_writer *w, const char *code, const void *p, size_t n)
{
	int r;

	if ((r = begin_line(w, w->last_t, code)) == 0 &&
	    (r = rec_buf_json_str(&w->out, p, n)) == 0)
		r = rec_buf_addc(&w->out, ']');
	return end_event(w, r);
}

/*
 * Bytes that are not UTF-8: an "x" event "STREAM:BASE64" that players
 * ignore. Base64 needs no JSON escape: it goes straight into the line.
 */
static int
emit_raw(struct rec_writer *w, int stream, const uint8_t *p, size_t n)
{
	int r;

	if ((r = begin_line(w, w->last_t, "x")) == 0 &&
	    (r = rec_buf_adds(&w->out, stream ? "\"i:" : "\"o:")) == 0 &&
	    (r = rec_buf_base64(&w->out, p, n)) == 0)
		r = rec_buf_adds(&w->out, "\"]");
	return end_event(w, r);
}

/* n NUL bytes (1..REC_EVENT_MAX): an "x" event "STREAM*N". */
static int
emit_zeros(struct rec_writer *w, int stream, size_t n)
{
	int r;

	if ((r = begin_line(w, w->last_t, "x")) == 0)
		r = rec_buf_addf(&w->out, "\"%c*%zu\"]", stream ? 'i' : 'o', n);
	return end_event(w, r);
}

/* Splits bytes into valid UTF-8 events and raw events, keeping a trailing partial sequence. */
static int
emit_bytes(struct rec_writer *w, int stream, const uint8_t *s, size_t n)
{
	const char *code = stream ? "i" : "o";
	size_t i = 0;
	int r;

	while (i < n) {
		size_t win = n - i < REC_EVENT_MAX ? n - i : REC_EVENT_MAX;
		size_t v;

		/* The valid UTF-8 prefix, validated and escaped in one pass. */
		if ((r = begin_line(w, w->last_t, code)) != 0 ||
		    (r = rec_buf_json_text(&w->out, s + i, win, &v)) != 0 ||
		    (v > 0 && (r = rec_buf_addc(&w->out, ']')) != 0)) {
			abort_line(w);
			return fail(w, r);
		}
		if (v > 0) {
			if ((r = end_event(w, 0)) != 0)
				return r;
			i += v;
			continue;
		}
		abort_line(w);
		/*
		 * A long run of control bytes is binary data: NUL runs (zero-filled
		 * blocks) are counted, others kept in base64 (\u0000 would be 6x).
		 */
		if ((v = rec_zero_run_len(s + i, win)) >= REC_CTL_RUN) {
			if ((r = emit_zeros(w, stream, v)) != 0)
				return r;
			i += v;
			continue;
		}
		if ((v = rec_ctl_run_len(s + i, win)) >= REC_CTL_RUN) {
			if ((r = emit_raw(w, stream, s + i, v)) != 0)
				return r;
			i += v;
			continue;
		}
		/*
		 * Binary data, found in one pass: it runs to where at least
		 * REC_TEXT_RUN bytes of text begin, so short printable runs
		 * between bad bytes go into the same raw event rather than one
		 * event each. 0: the rest is a sequence cut short.
		 */
		if ((v = rec_utf8_bin_len(s + i, win, REC_TEXT_RUN)) == 0) {
			if (n - i < sizeof(w->carry[stream])) {
				/* Never split a sequence: hold it for the next write. */
				memcpy(w->carry[stream], s + i, n - i);
				w->carry_len[stream] = n - i;
				return 0;
			}
			v = win;	/* not reached: text would have been taken above */
		}
		if ((r = emit_raw(w, stream, s + i, v)) != 0)
			return r;
		i += v;
	}
	return 0;
}

static int
stream_bytes(struct rec_writer *w, int stream, const uint8_t *s, size_t n)
{
	size_t k = w->carry_len[stream];
	int r;

	if (k == 0)
		return emit_bytes(w, stream, s, n);
	/* Rejoin the held bytes with this write (rare: one copy). */
	w->carry_len[stream] = 0;
	rec_buf_reset(&w->join);
	if ((r = rec_buf_add(&w->join, w->carry[stream], k)) != 0 ||
	    (r = rec_buf_add(&w->join, s, n)) != 0)
		return fail(w, r);
	r = emit_bytes(w, stream, w->join.p, w->join.len);
	if (w->join.cap > 4 * REC_EVENT_MAX)
		rec_buf_free(&w->join);	/* keep memory bounded */
	return r;
}

static int
flush_carry(struct rec_writer *w, int stream)
{
	size_t k = w->carry_len[stream];

	if (k == 0)
		return 0;
	w->carry_len[stream] = 0;
	return emit_raw(w, stream, w->carry[stream], k);
}

static int
end_hidden(struct rec_writer *w)
{
	char label[64];

	if (w->hidden == 0)
		return 0;
	snprintf(label, sizeof(label), "input hidden: %llu bytes",
	    (unsigned long long)w->hidden);
	w->hidden = 0;
	return emit_str(w, "m", label, strlen(label));
}

/* Keeps the current output line so prompts can be recognised. */
static void
track_tail(struct rec_writer *w, const uint8_t *s, size_t n)
{
	const uint8_t *nl = memrchr(s, '\n', n);
	size_t i, st = 0;

	if (nl != NULL) {
		st = (size_t)(nl - s) + 1;
		w->tail_len = 0;
	}
	/* Only the end of a long line can be a prompt: keep its last part. */
	if (n - st > TAIL_MAX) {
		st = n - TAIL_MAX;
		w->tail_len = 0;
	}
	for (i = st; i < n; i++) {
		uint8_t c = s[i];

		if (c == '\0' || c == '\r')
			continue;
		if (w->tail_len == TAIL_MAX) {
			memmove(w->tail, w->tail + TAIL_MAX / 2, TAIL_MAX / 2);
			w->tail_len = TAIL_MAX / 2;
		}
		w->tail[w->tail_len++] = (char)c;
	}
	w->tail[w->tail_len] = '\0';
	w->tail_dirty = 1;
}

/*
 * The default pattern only matches a line ending in ':' or '?' and blanks:
 * a cheap test spares the regex on bulk output. Other patterns always run.
 */
static int
prompt_may_end(const struct rec_writer *w)
{
	size_t i = w->tail_len;

	if (!w->prompt_default)
		return 1;
	while (i > 0 && strchr(" \t\v\f", w->tail[i - 1]) != NULL)
		i--;
	return i > 0 && (w->tail[i - 1] == ':' || w->tail[i - 1] == '?');
}

int
rec_writer_output(struct rec_writer *w, int64_t t, const void *buf, size_t len)
{
	int r;

	if (w->err != 0)
		return w->err;
	if (len == 0)
		return 0;
	event_time(w, t);
	w->bytes_out += len;
	if ((r = stream_bytes(w, 0, buf, len)) != 0)
		return r;
	if (w->have_prompt && !w->mask_prompt) {
		track_tail(w, buf, len);
		if (w->tail_len > 0 && prompt_may_end(w) &&
		    regexec(&w->prompt, w->tail, 0, NULL, 0) == 0)
			w->mask_prompt = 1;
	}
	return 0;
}

int
rec_writer_input(struct rec_writer *w, int64_t t, const void *buf, size_t len)
{
	const uint8_t *s = buf;
	size_t i;
	int r;

	if (w->err != 0)
		return w->err;
	if (len == 0)
		return 0;
	event_time(w, t);
	w->bytes_in += len;
	if (w->mask_echo) {
		/* The terminal is reading a secret: keep only its length. */
		w->hidden += len;
		return 0;
	}
	if (w->mask_prompt) {
		for (i = 0; i < len; i++) {
			/* Enter ends the answer; ^C and ^D abandon it. */
			if (s[i] == '\r' || s[i] == '\n' || s[i] == 3 || s[i] == 4)
				break;
		}
		if (i == len) {
			w->hidden += len;
			return 0;
		}
		w->hidden += i + 1;
		w->mask_prompt = 0;
		w->tail_len = 0;
		w->tail[0] = '\0';
		if ((r = end_hidden(w)) != 0)
			return r;
		s += i + 1;
		len -= i + 1;
		if (len == 0)
			return 0;
	}
	return stream_bytes(w, 1, s, len);
}

int
rec_writer_set_echo(struct rec_writer *w, int64_t t, int echo_on, int canonical)
{
	int hide;

	if (w->err != 0)
		return w->err;
	/* Echo off in canonical mode is how getpass() reads; raw-mode
	 * programs (readline, editors) turn both off and echo themselves. */
	hide = !w->record_passwords && !echo_on && canonical;
	if (hide == w->mask_echo)
		return 0;
	event_time(w, t);
	w->mask_echo = hide;
	if (!hide)
		return end_hidden(w);
	return 0;
}

int
rec_writer_resize(struct rec_writer *w, int64_t t, int cols, int rows)
{
	char sz[32];

	if (w->err != 0)
		return w->err;
	if (cols <= 0 || rows <= 0 || cols > 10000 || rows > 10000)
		return MG_ERR_RANGE;
	event_time(w, t);
	snprintf(sz, sizeof(sz), "%dx%d", cols, rows);
	return emit_str(w, "r", sz, strlen(sz));
}

int
rec_writer_marker(struct rec_writer *w, int64_t t, const char *label)
{
	int r;

	if (w->err != 0)
		return w->err;
	event_time(w, t);
	if ((r = begin_line(w, w->last_t, "m")) != 0 ||
	    (r = rec_buf_json_cstr(&w->out, label)) != 0 ||
	    (r = rec_buf_addc(&w->out, ']')) != 0) {
		abort_line(w);
		return fail(w, r);
	}
	if ((r = commit_line(w)) != 0)
		return r;
	w->events_since_cp++;
	return maybe_flush(w);
}

int
rec_writer_tick(struct rec_writer *w)
{
	int64_t now;

	if (w->err != 0)
		return w->err;
	now = mono_us(w);
	if (w->events_since_cp > 0 && now - w->last_cp >= (int64_t)w->cp_secs * 1000000)
		return checkpoint(w, 0);
	if (w->out.len > 0)
		return flush_out(w);
	return 0;
}

static int
add_member(struct rec_buf *b, int *first, const char *key, const char *val)
{
	int r;

	if (val == NULL)
		return 0;
	if (!*first && (r = rec_buf_adds(b, ", ")) != 0)
		return r;
	*first = 0;
	if ((r = rec_buf_json_cstr(b, key)) != 0 || (r = rec_buf_adds(b, ": ")) != 0)
		return r;
	return rec_buf_json_cstr(b, val);
}

static int
build_header(struct rec_writer *w, const struct rec_meta *m, const char *file,
    struct rec_buf *b)
{
	uint8_t nonce[16];
	char start[32], title[300];
	time_t now = m->start ? m->start : mg_clock_now();
	struct tm tm;
	int first, r;
	size_t i;

	if (getrandom(nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
		return MG_ERR_SYSTEM;
	gmtime_r(&now, &tm);
	strftime(start, sizeof(start), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (m->title == NULL)
		snprintf(title, sizeof(title), "%s%s%s", m->tenant ? m->tenant : "",
		    m->tenant && m->target ? "/" : "", m->target ? m->target : m->session);
	if ((r = rec_buf_addf(b, "{\"version\": 2, \"width\": %d, \"height\": %d, "
	    "\"timestamp\": %lld, \"env\": {", m->cols > 0 ? m->cols : 80,
	    m->rows > 0 ? m->rows : 24, (long long)now)) != 0)
		return r;
	first = 1;
	if ((r = add_member(b, &first, "TERM", m->term)) != 0 ||
	    (r = add_member(b, &first, "SHELL", m->shell)) != 0 ||
	    (r = rec_buf_adds(b, "}, ")) != 0)
		return r;
	first = 1;
	if ((r = add_member(b, &first, "title", m->title ? m->title : title)) != 0 ||
	    (r = rec_buf_adds(b, ", \"mspgate\": {\"format\": 1")) != 0)
		return r;
	first = 0;
	if ((r = add_member(b, &first, "session", m->session)) != 0 ||
	    (r = add_member(b, &first, "file", file)) != 0 ||
	    (r = rec_buf_adds(b, ", \"nonce\": \"")) != 0 ||
	    (r = rec_buf_hex(b, nonce, sizeof(nonce))) != 0 ||
	    (r = rec_buf_adds(b, "\"")) != 0 ||
	    (r = add_member(b, &first, "key", rec_key_id(w->key))) != 0 ||
	    (r = add_member(b, &first, "start", start)) != 0 ||
	    (r = add_member(b, &first, "engineer", m->engineer)) != 0 ||
	    (r = add_member(b, &first, "tenant", m->tenant)) != 0 ||
	    (r = add_member(b, &first, "target", m->target)) != 0 ||
	    (r = add_member(b, &first, "login", m->login)) != 0 ||
	    (r = add_member(b, &first, "mfa", m->mfa)) != 0 ||
	    (r = add_member(b, &first, "source", m->source)) != 0 ||
	    (r = add_member(b, &first, "ticket", m->ticket)) != 0 ||
	    (r = add_member(b, &first, "command", m->command)) != 0)
		return r;
	if (m->extra != NULL && m->extra[0] != NULL) {
		if ((r = rec_buf_adds(b, ", \"meta\": {")) != 0)
			return r;
		first = 1;
		for (i = 0; m->extra[i] != NULL; i++) {
			const char *eq = strchr(m->extra[i], '=');
			char key[128];
			size_t kl;
			size_t j;

			if (eq == NULL || (kl = (size_t)(eq - m->extra[i])) == 0 || kl >= sizeof(key))
				return MG_ERR_INVAL;
			memcpy(key, m->extra[i], kl);
			key[kl] = '\0';
			/* Duplicate keys are refused by the reader: refuse them here. */
			for (j = 0; j < i; j++) {
				if (strncmp(m->extra[j], key, kl) == 0 && m->extra[j][kl] == '=')
					return MG_ERR_INVAL;
			}
			if ((r = add_member(b, &first, key, eq + 1)) != 0)
				return r;
		}
		if ((r = rec_buf_adds(b, "}")) != 0)
			return r;
	}
	return rec_buf_adds(b, "}}");
}


int
rec_writer_open_sink(const struct rec_sink_type *sink, const char *name, void *arg,
    const struct rec_meta *m, const struct rec_key *key, const struct rec_writer_opts *o,
    struct rec_writer **out, char *err, size_t errlen)
{
	struct rec_writer *w = NULL;
	char *pcopy = NULL;
	int r = MG_ERR_NOMEM, rr;
	const char *re;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (m == NULL || !rec_session_id_valid(m->session)) {
		snprintf(err ? err : (char[1]){0}, err ? errlen : 1,
		    "invalid session id (letters, digits, '.', '_', '-', ':')");
		return MG_ERR_INVAL;
	}
	if (key == NULL || !rec_key_is_private(key)) {
		snprintf(err ? err : (char[1]){0}, err ? errlen : 1, "a private key is needed");
		return MG_ERR_INVAL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return MG_ERR_NOMEM;
	w->sink = sink;
	w->key = key;
	clock_gettime(CLOCK_MONOTONIC, &w->t0);
	w->cp_secs = o && o->checkpoint_secs ? o->checkpoint_secs : 5;
	w->cp_events = o && o->checkpoint_events ? o->checkpoint_events : 1000;
	w->flush_ms = o && o->flush_ms ? o->flush_ms : 1000;
	if (w->flush_ms > 1000)
		w->flush_ms = 1000;
	w->record_passwords = o ? o->record_passwords : 0;
	re = o && o->prompt_regex ? o->prompt_regex : REC_PROMPT_REGEX_DEFAULT;
	if (!w->record_passwords && re[0] != '\0') {
		if ((rr = regcomp(&w->prompt, re, REG_EXTENDED | REG_ICASE | REG_NOSUB)) != 0) {
			snprintf(err ? err : (char[1]){0}, err ? errlen : 1,
			    "invalid password prompt pattern");
			r = MG_ERR_INVAL;
			goto out;
		}
		w->have_prompt = 1;
		w->prompt_default = strcmp(re, REC_PROMPT_REGEX_DEFAULT) == 0;
	}
	if ((w->session = strdup(m->session)) == NULL || (pcopy = strdup(name)) == NULL)
		goto out;
	if ((r = build_header(w, m, basename(pcopy), &w->line)) != 0) {
		snprintf(err ? err : (char[1]){0}, err ? errlen : 1, "invalid metadata");
		goto out;
	}
	if ((r = sink->init(&w->sink_state, name, arg, err, errlen)) != 0)
		goto out;
	if ((r = rec_chain_start(&w->chain, w->line.p, w->line.len)) != 0)
		goto out;
	if ((r = rec_buf_add(&w->line, "\n", 1)) != 0)
		goto out;
	w->lines = 1;
	/*
	 * The header reaches the disk before the session starts (fail
	 * closed); it is the chain's start (h0), not one of its lines.
	 */
	if ((r = sink->write(w->sink_state, w->line.p, w->line.len)) != 0) {
		snprintf(err ? err : (char[1]){0}, err ? errlen : 1, "%s: write failed", name);
		goto out;
	}
	w->last_flush = mono_us(w);
	if (o != NULL && o->async && (r = start_thread(w)) != 0) {
		snprintf(err ? err : (char[1]){0}, err ? errlen : 1, "cannot start the "
		    "recording's thread");
		goto out;
	}
	*out = w;
	w = NULL;
	r = 0;
out:
	free(pcopy);
	if (w != NULL) {
		/* Nothing of a recording that did not start is kept. */
		if (w->sink_state != NULL)
			sink->free(w->sink_state, 1);
		w->sink_state = NULL;
		rec_writer_free(w);
	}
	return r;
}

int
rec_writer_open(const char *path, const struct rec_meta *m, const struct rec_key *key,
    const struct rec_writer_opts *o, struct rec_writer **out, char *err, size_t errlen)
{
	return rec_writer_open_sink(&rec_sink_file, path, NULL, m, key, o, out, err, errlen);
}

int
rec_writer_close(struct rec_writer *w, struct rec_seal *seal)
{
	struct rec_buf hx = { 0 };
	int r;

	if (seal != NULL)
		memset(seal, 0, sizeof(*seal));
	if (w->closed)
		return MG_ERR_INVAL;
	if (w->err != 0)
		return w->err;
	event_time(w, REC_NOW);
	if ((r = flush_carry(w, 0)) != 0 || (r = flush_carry(w, 1)) != 0 ||
	    (r = end_hidden(w)) != 0 || (r = checkpoint(w, 1)) != 0)
		return r;
	/* Everything consumed before the file is closed and the seal read. */
	if ((r = stop_thread(w)) != 0)
		return fail(w, r);
	if ((r = w->sink->close(w->sink_state)) != 0)
		return fail(w, r);
	w->closed = 1;
	if (seal != NULL) {
		if ((r = rec_buf_adds(&hx, "sha256:")) != 0 ||
		    (r = rec_buf_hex(&hx, w->chain.h, REC_HASH_LEN)) != 0) {
			rec_buf_free(&hx);
			return r;
		}
		snprintf(seal->hash, sizeof(seal->hash), "%s", (char *)hx.p);
		seal->lines = w->lines;
		seal->bytes_in = w->bytes_in;
		seal->bytes_out = w->bytes_out;
		seal->duration = (double)w->last_t / 1e6;
		rec_buf_free(&hx);
	}
	return 0;
}

void
rec_writer_free(struct rec_writer *w)
{
	unsigned i;

	if (w == NULL)
		return;
	if (w->sink_state != NULL) {
		/* Best effort: whatever was buffered is still worth keeping. */
		if (!w->closed && w->err == 0)
			flush_out(w);
		(void)stop_thread(w);
		w->sink->free(w->sink_state, 0);
	}
	if (w->async) {
		pthread_cond_destroy(&w->room);
		pthread_cond_destroy(&w->work);
		pthread_mutex_destroy(&w->mu);
	}
	for (i = 0; i < QDEPTH; i++)
		rec_buf_free(&w->q[i]);
	rec_buf_free(&w->cpl);
	if (w->have_prompt)
		regfree(&w->prompt);
	rec_chain_free(&w->chain);
	rec_buf_free(&w->out);
	rec_buf_free(&w->line);
	rec_buf_free(&w->tmp);
	rec_buf_free(&w->msg);
	rec_buf_free(&w->join);
	explicit_bzero(w->tail, sizeof(w->tail));
	free(w->session);
	free(w);
}
