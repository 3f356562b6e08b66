/* SPDX-License-Identifier: BSD-2-Clause */
/* mspgated's detector upkeep: its state file, and the MFA failures it reads from the audit log. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gw_daemon.h"
#include "mg_file.h"
#include "mg_log.h"
#include "mg_time.h"
#include "pol.h"

/* The detector's state is written at most this often (and at shutdown). */
#define DETECT_SAVE_SECS 10
/* The audit log is read at most this much at a time. */
#define AUDIT_READ_MAX (256 * 1024)

int
gw_watch_start(struct gw_daemon *d)
{
	struct gw_detect_result res;
	struct mg_file_rules rules;
	const struct pol *p = d->pol;
	char err[300];

	if (gw_detect_new(&p->alerts, &d->det, err, sizeof(err)) != 0) {
		mg_log(LOG_ERR, "detector: %s", err);
		return -1;
	}
	if ((size_t)snprintf(d->det_path, sizeof(d->det_path), "%s/detect",
	    p->gateway.state) >= sizeof(d->det_path)) {
		mg_log(LOG_ERR, "%s: path too long", p->gateway.state);
		return -1;
	}
	memset(&rules, 0, sizeof(rules));
	rules.max_size = GW_DETECT_STATE_MAX;
	rules.forbid_mode = 077;
	memset(&res, 0, sizeof(res));
	/* A damaged file is an alert of its own; the history starts empty. */
	if (gw_detect_load(d->det, d->det_path, &rules, &res, err, sizeof(err)) != 0)
		mg_log(LOG_ERR, "detector state %s: %s; history starts empty", d->det_path, err);
	gw_alert_hits(d, NULL, &res);
	/* No session outlives mspgated: none is live any more. */
	gw_detect_sessions_clear(d->det);
	d->det_saved = time(NULL);
	return 0;
}

void
gw_watch_save(struct gw_daemon *d, int force)
{
	char err[300];
	time_t now = time(NULL);
	pid_t pid;
	int status;

	if (force && d->det_saver != 0) {
		/* At shutdown: the last word is this process's own save. */
		while (waitpid(d->det_saver, &status, 0) < 0 && errno == EINTR)
			;
		d->det_saver = 0;
	}
	if (d->det == NULL || !gw_detect_dirty(d->det) || (!force && (d->det_saver != 0 ||
	    now - d->det_saved < DETECT_SAVE_SECS)))
		return;
	d->det_saved = now;
	if (!force) {
		/*
		 * Written (and synced) by a process of its own from a copy of
		 * the history: a disk busy with recordings holds up that
		 * process, never the main loop. One at a time.
		 */
		if ((pid = fork()) == 0) {
			gw_daemon_close_fds(d, NULL);
			if (gw_detect_save(d->det, d->det_path, err, sizeof(err)) != 0) {
				mg_log(LOG_ERR, "detector state %s: %s", d->det_path, err);
				_exit(1);
			}
			_exit(0);
		}
		if (pid > 0) {
			d->det_saver = pid;
			gw_detect_set_dirty(d->det, 0);
			return;
		}
		mg_log(LOG_ERR, "detector state: fork: %s; saving it here", strerror(errno));
	}
	if (gw_detect_save(d->det, d->det_path, err, sizeof(err)) != 0)
		mg_log(LOG_ERR, "detector state %s: %s", d->det_path, err);
}

int
gw_watch_reaped(struct gw_daemon *d, pid_t pid, int status)
{
	if (pid != d->det_saver || pid == 0)
		return 0;
	d->det_saver = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* Not on file: written again at the next turn. */
		if (d->det != NULL)
			gw_detect_set_dirty(d->det, 1);
		mg_log(LOG_ERR, "detector state %s: not saved", d->det_path);
	}
	return 1;
}

/*
 * MFA failures happen in pam_mspgate inside sshd; they reach the detector
 * through the audit log they are written to. New complete lines are read
 * each second (bounded); a file that shrank or was replaced is read again
 * from the start. At start-up the reader begins at the end: older
 * failures were judged by the run that saw them.
 */
static void
audit_line(struct gw_daemon *d, const char *line, size_t len)
{
	struct gw_detect_event ev;
	struct gw_detect_result res;
	struct rec_audit_reader *rd;
	struct rec_audit_line ln;

	if (!gw_daemon_audit_parse(line, len, &rd, &ln))
		return;
	if (ln.seq <= d->tail.seq)
		goto out;
	d->tail.seq = ln.seq;
	if (ln.type != REC_AUDIT_AUTH_FAILURE || ln.engineer == NULL || ln.source == NULL ||
	    strlen(ln.engineer) > GW_DETECT_NAME_MAX || strlen(ln.source) >= 64)
		goto out;
	memset(&ev, 0, sizeof(ev));
	ev.kind = GW_DETECT_MFA_FAILURE;
	ev.engineer = ln.engineer;
	ev.source = ln.source;
	/* Not an account the policy knows, or no address: nothing to count. */
	if (gw_detect_event(d->det, &ev, &res) == 0) {
		gw_alert_hits(d, &ev, &res);
		/* The other gateways' detectors count it too (shared state). */
		gw_sync_event(d, &ev, mg_clock_now());
	}
out:
	rec_audit_reader_free(rd);
}

/* Where the reader is: primed at the end at start-up, back to 0 on a new file. */
static void
tail_follow(struct gw_daemon *d, const struct stat *st)
{
	if (!d->tail.primed) {
		d->tail.primed = 1;
		d->tail.off = st->st_size;
		d->tail.dev = st->st_dev;
		d->tail.ino = st->st_ino;
	}
	if (st->st_dev != d->tail.dev || st->st_ino != d->tail.ino ||
	    st->st_size < d->tail.off) {
		d->tail.off = 0;
		d->tail.seq = 0;
		d->tail.dev = st->st_dev;
		d->tail.ino = st->st_ino;
	}
}

void
gw_watch_tail(struct gw_daemon *d)
{
	struct stat st;
	char *buf, *p, *nl;
	ssize_t n;
	int fd;

	if (d->det == NULL ||
	    (fd = open(d->pol->gateway.audit, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	tail_follow(d, &st);
	if (st.st_size == d->tail.off || (buf = malloc(AUDIT_READ_MAX)) == NULL) {
		close(fd);
		return;
	}
	n = pread(fd, buf, AUDIT_READ_MAX, d->tail.off);
	close(fd);
	if (n <= 0) {
		free(buf);
		return;
	}
	for (p = buf; (nl = memchr(p, '\n', (size_t)(buf + n - p))) != NULL; p = nl + 1) {
		if (nl - p < GW_AUDIT_LINE_MAX)
			audit_line(d, p, (size_t)(nl - p) + 1);
	}
	/* A line longer than what was read at once is skipped whole. */
	if (p == buf && n == AUDIT_READ_MAX)
		p = buf + n;
	d->tail.off += p - buf;
	free(buf);
}
