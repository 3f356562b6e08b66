/* SPDX-License-Identifier: BSD-2-Clause */
/* The audit shipper: each line of this gateway's signed audit log copied into the state database, for a view across gateways. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gw_daemon.h"
#include "mg_err.h"
#include "mg_log.h"
#include "st_pg.h"

/*
 * The gateway's own audit log stays the record (durability first): the
 * shipper only reads it, after the lines are written and synced, and
 * copies each into mspgate_audit, keyed by the line's chain hash, so a
 * line copied twice (a restart reads the file from its start again) is
 * one row. A database that is away is tried again, and the lines written
 * meanwhile follow when it is back; nothing waits on it. It holds the log
 * open while it reads, so a rotation (the old file renamed) is read to its
 * end before the new file is taken up.
 */

#define SHIP_READ_MAX	(256 * 1024)
#define SHIP_LINE_MAX	(64 * 1024)

static volatile int ship_stop;

static void
on_term(int sig)
{
	(void)sig;
	ship_stop = 1;
}

struct ship {
	const struct pol *p;
	const char *name;	/* this gateway's name */
	struct st_pg *pg;
	int fd;			/* the log being read */
	dev_t dev;
	ino_t ino;
	off_t off;		/* shipped up to here */
	int down;		/* said once that the database is away */
};

/* One line into the table: 0, or the database's error (the line stays). */
static int
ship_line(struct ship *s, const char *line, size_t len)
{
	const char *pv[2];
	char err[512], *copy;
	int r;

	if ((copy = strndup(line, len)) == NULL)
		return MG_ERR_NOMEM;
	pv[0] = s->name;
	pv[1] = copy;
	/* The database reads the JSON: a line it cannot read is said, then skipped. */
	r = st_pg_exec(s->pg, "INSERT INTO mspgate_audit (gateway, hash, seq, time, event, "
	    "engineer, line) SELECT $1, l->>'hash', (l->>'seq')::bigint, "
	    "(l->>'time')::timestamptz, l->>'event', l->>'engineer', l FROM "
	    "(SELECT $2::jsonb AS l) AS x WHERE l ? 'hash' ON CONFLICT DO NOTHING", 2,
	    pv, NULL, err, sizeof(err));
	free(copy);
	if (r == MG_ERR_IO) {
		mg_log(LOG_WARNING, "audit shipper: a line of %s not copied: %s",
		    s->p->gateway.audit, err);
		return 0;
	}
	if (r != 0 && !s->down) {
		mg_log(LOG_WARNING, "audit shipper: %s; the lines follow when it is back", err);
		s->down = 1;
	}
	return r;
}

/* Reads what is new in the open log and ships whole lines; 0 or an error. */
static int
drain(struct ship *s)
{
	char *buf, *p, *nl;
	ssize_t n;
	int r = 0;

	if ((buf = malloc(SHIP_READ_MAX)) == NULL)
		return MG_ERR_NOMEM;
	while (!ship_stop && (n = pread(s->fd, buf, SHIP_READ_MAX, s->off)) > 0) {
		for (p = buf; (nl = memchr(p, '\n', (size_t)(buf + n - p))) != NULL;
		    p = nl + 1) {
			if (nl - p > 0 && nl - p < SHIP_LINE_MAX &&
			    (r = ship_line(s, p, (size_t)(nl - p))) != 0)
				break;
			s->off += nl + 1 - p;
		}
		if (r != 0)
			break;
		if (p == buf) {
			/* No newline in a whole read: a line too long, skipped. */
			if (n == SHIP_READ_MAX)
				s->off += n;
			break;
		}
	}
	free(buf);
	return r;
}

/* The log at its path now: a new file (rotation) after the old one's end. */
static void
follow(struct ship *s)
{
	struct stat st;
	int fd;

	if ((fd = open(s->p->gateway.audit, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (s->fd >= 0 && st.st_dev == s->dev && st.st_ino == s->ino)) {
		close(fd);
		return;
	}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = fd;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->off = 0;
}

static void
run(const struct pol *p)
{
	struct ship s;
	char host[64], err[512];
	unsigned wait = 1;
	int r;

	memset(&s, 0, sizeof(s));
	s.p = p;
	s.fd = -1;
	if (p->state.name != NULL)
		s.name = p->state.name;
	else {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "gateway");
		host[sizeof(host) - 1] = '\0';
		s.name = host;
	}
	while (!ship_stop) {
		if (!st_pg_ok(s.pg)) {
			st_pg_close(s.pg);
			s.pg = NULL;
			if ((r = st_pg_open(&p->state, &s.pg, err, sizeof(err))) != 0) {
				if (!s.down)
					mg_log(LOG_WARNING, "audit shipper: %s; the lines "
					    "follow when it is back", err);
				s.down = 1;
				sleep(wait);
				wait = wait < 8 ? wait * 2 : 10;
				continue;
			}
		}
		if (s.fd < 0)
			follow(&s);
		if (s.fd >= 0 && (r = drain(&s)) == 0) {
			/* The old file read to its end: now the one at the path. */
			follow(&s);
			if (drain(&s) == 0) {
				if (s.down)
					mg_log(LOG_INFO, "audit shipper: the state database "
					    "takes the audit lines again");
				s.down = 0;
				wait = 1;
			}
		}
		sleep(s.down ? wait : 1);
		if (s.down)
			wait = wait < 8 ? wait * 2 : 10;
	}
	st_pg_close(s.pg);
}

static int
spawn(struct gw_daemon *d)
{
	struct sigaction sa;
	pid_t pid;

	if ((pid = fork()) < 0) {
		mg_log(LOG_ERR, "audit shipper: fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		d->ship_pid = pid;
		return 0;
	}
	if (d->lfd >= 0)
		close(d->lfd);
	if (d->ctlfd >= 0)
		close(d->ctlfd);
	if (d->broker_fd >= 0)
		close(d->broker_fd);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() == 1)
		_exit(0);
	run(d->pol);
	_exit(0);
}

int
gw_ship_start(struct gw_daemon *d)
{
	if (d->pol->state.backend != POL_STATE_POSTGRESQL || d->pol->gateway.audit == NULL)
		return 0;
	d->ship_on = 1;
	(void)spawn(d);
	d->ship_next = time(NULL) + 1;
	return 0;
}

int
gw_ship_reaped(struct gw_daemon *d, pid_t pid, int status)
{
	if (pid != d->ship_pid || pid <= 0)
		return 0;
	d->ship_pid = -1;
	if (!*d->stop) {
		mg_log(LOG_ERR, "audit shipper %d %s %d; starting another", (int)pid,
		    WIFSIGNALED(status) ? "died of signal" : "exited",
		    WIFSIGNALED(status) ? WTERMSIG(status) :
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		d->ship_next = time(NULL) + 1;
	}
	return 1;
}

void
gw_ship_tick(struct gw_daemon *d)
{
	if (d->ship_on && d->ship_pid < 0 && !*d->stop && time(NULL) >= d->ship_next)
		(void)spawn(d);
}

void
gw_ship_stop(struct gw_daemon *d)
{
	if (d->ship_pid > 0)
		kill(d->ship_pid, SIGTERM);
}
