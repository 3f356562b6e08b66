/* SPDX-License-Identifier: BSD-2-Clause */
/* mspgated's state (struct gw_daemon): made, freed, its fds closed in a child, its audit events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "gw_audq.h"
#include "gw_daemon.h"
#include "mg_log.h"
#include "pol.h"

struct gw_daemon *
gw_daemon_new(void)
{
	struct gw_daemon *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->lfd = d->ctlfd = -1;
	d->broker_fd = -1;
	d->broker_pid = -1;
	d->ship_pid = -1;
	gw_ratelim_init(&d->refusals, GW_REFUSAL_BURST, GW_REFUSAL_WINDOW);
	gw_ratelim_init(&d->strangers, 1, GW_STRANGER_WINDOW);
	return d;
}

void
gw_daemon_free(struct gw_daemon *d)
{
	if (d == NULL)
		return;
	free(d->live);
	free(d->pend);
	free(d->pf);
	free(d->sockpath);
	free(d->ctlpath);
	gw_detect_free(d->det);
	gw_audq_free(d->audq);
	gw_sync_free(d->sync);
	pol_free(d->pol);
	free(d);
}

/*
 * In a process forked to do one job (an audit writer, the detector's
 * saver, an answer to a slow reader, a session): the daemon's sockets are
 * not its to hold. A copy held open would keep an answered mspgatectl or
 * a refused engineer waiting for the end of the connection until that
 * job ends. keep: one descriptor the job needs (or NULL).
 */
void
gw_daemon_close_fds(const struct gw_daemon *d, const int *keep)
{
	size_t i;

	if (d->lfd >= 0)
		close(d->lfd);
	if (d->ctlfd >= 0)
		close(d->ctlfd);
	for (i = 0; i < d->nlive; i++)
		if (d->live[i].fd >= 0)
			close(d->live[i].fd);
	for (i = 0; i < d->npend; i++)
		close(d->pend[i].fd);
	for (i = 0; i < d->nctlp; i++)
		if (keep == NULL || d->ctlp[i].fd != *keep)
			close(d->ctlp[i].fd);
	for (i = 0; i < d->nwatch; i++)
		close(d->watch[i].fd);
	gw_sync_close_fd(d->sync);
}

static void
audit_child_init(void *arg)
{
	gw_daemon_close_fds(arg, NULL);
}

void
gw_daemon_audit_kick(struct gw_daemon *d)
{
	if (d->audq == NULL || d->pol == NULL)
		return;
	(void)gw_audq_kick(d->audq, d->pol->gateway.audit, d->pol->gateway.signing_key,
	    audit_child_init, d);
}

void
gw_daemon_audit(struct gw_daemon *d, const struct rec_audit_event *ev, int no_syslog)
{
	if (d->audq == NULL || d->pol == NULL)
		return;
	(void)gw_audq_add(d->audq, ev, no_syslog);
	gw_daemon_audit_kick(d);
}

/*
 * The audit library is the one owner of the format: a line that does not
 * read is skipped on its own, the lines after it still count.
 */
int
gw_daemon_audit_parse(const char *p, size_t len, struct rec_audit_reader **rd,
    struct rec_audit_line *ln)
{
	if (rec_audit_reader_open_mem(p, len, rd) != 0) {
		*rd = NULL;
		return 0;
	}
	if (rec_audit_reader_next(*rd, ln) != 1) {
		rec_audit_reader_free(*rd);
		*rd = NULL;
		return 0;
	}
	return 1;
}

int
gw_daemon_sock_addr(const char *path, struct sockaddr_un *sa)
{
	struct stat st;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		mg_log(LOG_ERR, "%s: socket path too long", path);
		return -1;
	}
	memcpy(sa->sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			mg_log(LOG_ERR, "%s exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
	return 0;
}

/* The rate limit's summary: one audit event for what it left out. */
void
gw_daemon_refusals_summary(void *ctx, uid_t uid, const char *name, unsigned suppressed,
    time_t window)
{
	struct rec_audit_event ev;
	char reason[200], who[80];

	snprintf(who, sizeof(who), "%s", name[0] ? name : "");
	if (who[0] == '\0')
		snprintf(who, sizeof(who), "uid %u", (unsigned)uid);
	snprintf(reason, sizeof(reason), "%u more refusals for %s in %llds not audited one "
	    "by one (rate limit: %d a minute)", suppressed, who, (long long)window,
	    GW_REFUSAL_BURST);
	mg_log(LOG_WARNING, "%s", reason);
	memset(&ev, 0, sizeof(ev));
	ev.type = REC_AUDIT_DENIED;
	ev.engineer = name[0] ? name : NULL;
	ev.reason = reason;
	ev.rule = "gateway.rate_limit";
	if (ctx != NULL)
		gw_daemon_audit(ctx, &ev, 0);
}

void
gw_daemon_strangers_summary(void *ctx, uid_t uid, const char *name, unsigned suppressed,
    time_t window)
{
	(void)ctx;
	mg_log(LOG_WARNING, "%u more connections from %s (uid %u), not an engineer, closed "
	    "in the last %llds", suppressed, name[0] ? name : "?", (unsigned)uid,
	    (long long)window);
}
