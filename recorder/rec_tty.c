/* SPDX-License-Identifier: BSD-2-Clause */
/* Keys from the auditor's terminal while a recording plays: the terminal's answers are not keys. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mg_err.h"
#include "mg_time.h"
#include "rec_buf.h"
#include "rec_sanitize.h"
#include "rec_tty.h"

/* How long the rest of an escape sequence may take to arrive before it is a lone Esc key. */
#define SEQ_GAP_MS 100

/* Status requests (DSR 5) written and their answers: 7-bit, UTF-8 C1 and 8-bit forms. */
static const char *const dsr_ask[] = { "\033[5n", "\302\2335n", "\2335n", NULL };
static const char *const dsr_answer[] = { "\033[0n", "\033[3n", "\2330n", "\2333n", NULL };

/* Finds patterns across reads: the last bytes of the previous read are kept. */
struct scan {
	uint8_t buf[4 + 256];
	size_t carry;
};

struct rec_tty_keys {
	int fd;
	struct rec_san *san;
	struct rec_buf keys;	/* keys read and not yet returned */
	size_t next;
	struct scan out, in;
	long pending;		/* status requests written and not yet answered */
};

/* How many of pats end in p[0..n) (they may begin in what came before). */
static long
scan_count(struct scan *sc, const char *const *pats, const uint8_t *p, size_t n)
{
	long found = 0;

	while (n > 0) {
		size_t take = n < sizeof(sc->buf) - sc->carry ? n : sizeof(sc->buf) - sc->carry;
		size_t len = sc->carry + take, i, keep;

		memcpy(sc->buf + sc->carry, p, take);
		for (i = 0; pats[i] != NULL; i++) {
			size_t pl = strlen(pats[i]), at = 0;
			const uint8_t *m;

			while (at < len && (m = memmem(sc->buf + at, len - at, pats[i], pl)) != NULL) {
				at = (size_t)(m - sc->buf) + 1;
				if ((size_t)(m - sc->buf) + pl > sc->carry)
					found++;
			}
		}
		keep = len < 3 ? len : 3;
		memmove(sc->buf, sc->buf + len - keep, keep);
		sc->carry = keep;
		p += take;
		n -= take;
	}
	return found;
}

void
rec_tty_note_output(struct rec_tty_keys *k, const void *p, size_t n)
{
	k->pending += scan_count(&k->out, dsr_ask, p, n);
}

int
rec_tty_keys_new(int fd, struct rec_tty_keys **out)
{
	struct rec_tty_keys *k;

	*out = NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return MG_ERR_NOMEM;
	k->fd = fd;
	if (rec_san_new(REC_SAN_INPUT, &k->san) != 0) {
		free(k);
		return MG_ERR_NOMEM;
	}
	*out = k;
	return 0;
}

void
rec_tty_keys_free(struct rec_tty_keys *k)
{
	if (k == NULL)
		return;
	rec_san_free(k->san);
	rec_buf_free(&k->keys);
	free(k);
}

/* Waits for input up to ms (-1: without end): 1 readable, 0 timeout, -1 error. */
static int
wait_in(int fd, int ms)
{
	struct pollfd pf = { fd, POLLIN, 0 };
	int r;

	while ((r = poll(&pf, 1, ms)) < 0 && errno == EINTR)
		;
	return r < 0 ? -1 : r > 0;
}

int
rec_tty_key(struct rec_tty_keys *k, int ms)
{
	long long end = ms >= 0 ? mg_mono_ms() + ms : -1;

	for (;;) {
		uint8_t buf[256];
		ssize_t n;
		int left, w;

		if (k->next < k->keys.len)
			return k->keys.p[k->next++];
		rec_buf_reset(&k->keys);
		k->next = 0;
		left = end < 0 ? -1 : (int)(end - mg_mono_ms() > 0 ? end - mg_mono_ms() : 0);
		/* Mid-sequence, the rest comes at once or it was the Esc key alone. */
		if (rec_san_pending(k->san) && (left < 0 || left > SEQ_GAP_MS))
			left = SEQ_GAP_MS;
		if ((w = wait_in(k->fd, left)) < 0)
			return -1;
		if (w == 0) {
			if (rec_san_pending(k->san)) {
				rec_san_reset(k->san);
				continue;
			}
			return 0;
		}
		if ((n = read(k->fd, buf, sizeof(buf))) < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		k->pending -= scan_count(&k->in, dsr_answer, buf, (size_t)n);
		if (rec_san_feed(k->san, buf, (size_t)n, &k->keys) != 0)
			return -1;
	}
}

int
rec_tty_drain(struct rec_tty_keys *k, int outfd, int ms)
{
	static const char dsr[] = "\033[5n";
	long long end = mg_mono_ms() + ms;
	int found = 0;

	if (write(outfd, dsr, sizeof(dsr) - 1) != (ssize_t)(sizeof(dsr) - 1))
		return -1;
	/*
	 * Ours is the last request: when as many answers as requests have
	 * come, ours among them, every earlier answer has come too (the
	 * recording may hold requests of its own, answered or not yet).
	 */
	if (k->pending < 0)
		k->pending = 0;
	k->pending++;
	while (mg_mono_ms() < end) {
		uint8_t buf[256];
		ssize_t n;
		int w;

		if ((w = wait_in(k->fd, (int)(end - mg_mono_ms()))) <= 0)
			break;
		if ((n = read(k->fd, buf, sizeof(buf))) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		k->pending -= scan_count(&k->in, dsr_answer, buf, (size_t)n);
		if (k->pending <= 0) {
			found = 1;
			break;
		}
	}
	/* Whatever came with it is dropped too; a key pressed now is not wanted either. */
	rec_san_reset(k->san);
	rec_buf_reset(&k->keys);
	k->next = 0;
	return found ? 0 : -1;
}
