/* SPDX-License-Identifier: BSD-2-Clause */
/* mspgatectl watch: a live session, read-only, through replay's safe filter. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "mspgatectl-watch.h"
#include "rec_buf.h"
#include "rec_reader.h"
#include "rec_sanitize.h"
#include "rec_tty.h"

#define EX_OK		0
#define EX_NOMATCH	1
#define EX_USAGE	2
#define EX_NOCONN	3
#define EX_REFUSED	4

/* How often the recording is looked at for more when nothing else happens. */
#define LOOK_MS 100

static volatile sig_atomic_t got_sig;
static struct termios saved_tio;
static int tio_saved;

static void
on_sig(int sig)
{
	got_sig = sig;
}

static void
restore_tty(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	tio_saved = 0;
}

static void
out_bytes(const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, c, n);

		if (w < 0 && errno == EINTR && !got_sig)
			continue;
		if (w <= 0)
			return;
		c += w;
		n -= (size_t)w;
	}
}

int
ctl_connect(const char *path, int *fd, int *denied)
{
	struct sockaddr_un sa;
	int e;

	*fd = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "mspgatectl: %s: path too long\n", path);
		return EX_USAGE;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0 &&
	    connect(*fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return EX_OK;
	e = errno;
	if (e == EACCES || e == EPERM) {
		if (denied != NULL)
			*denied = 1;
		fprintf(stderr, "mspgatectl: %s: permission denied (the control socket "
		    "is for root and the gateway's admin group)\n", path);
	} else if (e == ENOENT || e == ECONNREFUSED)
		fprintf(stderr, "mspgatectl: %s: mspgated is not running\n", path);
	else
		fprintf(stderr, "mspgatectl: %s: %s\n", path, strerror(e));
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return EX_NOCONN;
}

/* Asks mspgated for the recording: 0 and *conn, *recfd; or an exit code. */
static int
ask_watch(const char *path, const char *id, int *conn, int *recfd)
{
	char req[256], ans[512], ctlbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { ans, sizeof(ans) - 1 };
	struct msghdr mh;
	struct cmsghdr *cm;
	ssize_t n;
	int fd, rc;

	*conn = *recfd = -1;
	if ((rc = ctl_connect(path, &fd, NULL)) != EX_OK)
		return rc;
	snprintf(req, sizeof(req), "watch\t%s\n", id);
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
		fprintf(stderr, "mspgatectl: %s: %s\n", path, strerror(errno));
		close(fd);
		return EX_NOCONN;
	}
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctlbuf;
	mh.msg_controllen = sizeof(ctlbuf);
	while ((n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n <= 0) {
		fprintf(stderr, "mspgatectl: no answer from mspgated\n");
		close(fd);
		return EX_REFUSED;
	}
	ans[n] = '\0';
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(recfd, CMSG_DATA(cm), sizeof(int));
	if (strncmp(ans, "ok\n", 3) != 0 || *recfd < 0) {
		const char *e = strncmp(ans, "error: ", 7) == 0 ? ans + 7 : ans;

		fprintf(stderr, "mspgatectl: %.*s\n", (int)strcspn(e, "\n"), e);
		if (*recfd >= 0)
			close(*recfd);
		*recfd = -1;
		close(fd);
		return strncmp(e, "no such session", 15) == 0 ? EX_NOMATCH :
		    strncmp(e, "permission denied", 17) == 0 ? EX_NOCONN : EX_REFUSED;
	}
	*conn = fd;
	return EX_OK;
}

/* What the watcher follows: the recording's lines as they are written. */
struct follow {
	int fd;
	struct rec_buf pending;	/* bytes read, not yet a whole line */
	struct rec_buf header;	/* line 1, with its newline */
	struct rec_buf batch;	/* the header and the whole lines read this turn */
	struct rec_buf shown;	/* what the filter kept */
	struct rec_san *san;
	int ended;		/* the closing checkpoint came: the session is over */
};

/* The output of the whole lines in f->batch, filtered, onto stdout. */
static int
show_batch(struct follow *f)
{
	struct rec_reader *rd = NULL;
	struct rec_event ev;
	char err[256];
	int r;

	if (f->batch.len == f->header.len)
		return 0;
	if (rec_reader_open_mem(f->batch.p, f->batch.len, &rd, err, sizeof(err)) != 0) {
		fprintf(stderr, "\r\nmspgatectl: the recording cannot be read: %s\r\n", err);
		return -1;
	}
	while ((r = rec_reader_next(rd, &ev)) > 0) {
		if (ev.code == 'c' && ev.len > 0 &&
		    memmem(ev.data, ev.len, " final=1 ", 9) != NULL)
			f->ended = 1;
		if (ev.stream != 'o')
			continue;
		rec_buf_reset(&f->shown);
		/* Safe mode only: nothing the target printed may act on this terminal. */
		if (rec_san_feed(f->san, ev.data, ev.len, &f->shown) == 0 && f->shown.len > 0)
			out_bytes(f->shown.p, f->shown.len);
	}
	rec_reader_free(rd);
	if (r < 0) {
		fprintf(stderr, "\r\nmspgatectl: the recording cannot be read\r\n");
		return -1;
	}
	return 0;
}

/*
 * Reads what the recording has gained; shows the events of its whole
 * lines. Returns 1 when something was read, 0 when nothing, -1 on error.
 */
static int
follow_more(struct follow *f)
{
	char buf[65536];
	ssize_t n;
	int got = 0;

	while ((n = read(f->fd, buf, sizeof(buf))) > 0) {
		got = 1;
		if (rec_buf_add(&f->pending, buf, (size_t)n) != 0)
			return -1;
		if (f->pending.len > REC_LINE_MAX + sizeof(buf))
			break;
	}
	if (n < 0 && errno != EINTR)
		return -1;
	if (!got)
		return 0;
	for (;;) {
		const char *nl;
		size_t take;

		if (f->pending.len == 0 ||
		    (nl = memchr(f->pending.p, '\n', f->pending.len)) == NULL)
			break;
		take = (size_t)(nl - (const char *)f->pending.p) + 1;
		/* The lines so far go behind the header, which a reader needs first. */
		if (f->header.len == 0) {
			if (rec_buf_add(&f->header, f->pending.p, take) != 0)
				return -1;
			rec_buf_reset(&f->batch);
			if (rec_buf_add(&f->batch, f->header.p, f->header.len) != 0)
				return -1;
		} else if (rec_buf_add(&f->batch, f->pending.p, take) != 0) {
			return -1;
		}
		memmove(f->pending.p, (char *)f->pending.p + take, f->pending.len - take);
		f->pending.len -= take;
	}
	if (f->pending.len > REC_LINE_MAX)
		return -1;
	if (f->header.len > 0) {
		int r = show_batch(f);

		f->batch.len = f->header.len;
		if (r != 0)
			return -1;
	}
	return 1;
}

int
ctl_watch(const char *sock, const char *id)
{
	struct follow f;
	struct rec_tty_keys *keys = NULL;
	struct sigaction sa;
	int conn, rc, quit = 0;

	memset(&f, 0, sizeof(f));
	if ((rc = ask_watch(sock, id, &conn, &f.fd)) != EX_OK)
		return rc;
	if (rec_san_new(REC_SAN_OUTPUT, &f.san) != 0 ||
	    (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tio) == 0 &&
	    rec_tty_keys_new(STDIN_FILENO, &keys) != 0)) {
		fprintf(stderr, "mspgatectl: out of memory\n");
		rc = EX_REFUSED;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (keys != NULL) {
		struct termios t = saved_tio;

		/* Keys one at a time, not echoed; Ctrl-C still interrupts. */
		t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
		tio_saved = 1;
	}
	fprintf(stderr, "mspgatectl: watching %s (read-only; q or Ctrl-C to stop)\r\n", id);
	/* Joining: everything recorded so far redraws the screen, then what follows. */
	while (!quit && !got_sig && !f.ended) {
		struct pollfd pf = { conn, POLLIN, 0 };
		int r = follow_more(&f), k;

		if (r < 0) {
			rc = EX_REFUSED;
			break;
		}
		if (f.ended)
			break;
		if (r > 0)
			continue;
		/* mspgated gone: nobody follows the session any more. */
		if (poll(&pf, 1, 0) > 0 && (pf.revents & (POLLHUP | POLLERR | POLLIN))) {
			char c;

			if (recv(conn, &c, 1, MSG_DONTWAIT) <= 0) {
				fprintf(stderr, "\r\nmspgatectl: mspgated went away\r\n");
				rc = EX_NOCONN;
				break;
			}
		}
		if (keys != NULL) {
			k = rec_tty_key(keys, LOOK_MS);
			if (k == 'q' || k == 'Q' || k < 0)
				quit = 1;
		} else {
			poll(NULL, 0, LOOK_MS);
		}
	}
	rec_buf_reset(&f.shown);
	if (rec_san_flush(f.san, &f.shown) == 0 && f.shown.len > 0)
		out_bytes(f.shown.p, f.shown.len);
	restore_tty();
	if (f.ended)
		fprintf(stderr, "\r\nmspgatectl: session %s ended\r\n", id);
	else if (rc == EX_OK)
		fprintf(stderr, "\r\nmspgatectl: stopped watching %s\r\n", id);
out:
	restore_tty();
	rec_tty_keys_free(keys);
	rec_san_free(f.san);
	rec_buf_free(&f.pending);
	rec_buf_free(&f.header);
	rec_buf_free(&f.batch);
	rec_buf_free(&f.shown);
	if (f.fd >= 0)
		close(f.fd);
	/* Closing the connection is what mspgated audits as the end of watching. */
	close(conn);
	return rc;
}
