/* SPDX-License-Identifier: BSD-2-Clause */
/* mspgated's alert actions: each detector hit audited, logged and sent to alerts.notify. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gw_daemon.h"
#include "mg_err.h"
#include "mg_log.h"
#include "pol.h"

const char *
gw_alert_words(const struct gw_detect_result *res)
{
	size_t i;

	for (i = 0; i < res->nhits; i++)
		if (res->hits[i].action == res->action)
			return gw_detect_rule_words(res->hits[i].rule);
	return GW_DETECT_NO_VERDICT;
}

/* The notify command's child: stdin from the pipe, defaults, then exec. */
static void __attribute__((noreturn))
notify_exec(const char *cmd, int in, char **envp)
{
	struct sigaction sa;
	sigset_t none;
	char *argv[2];
	int null = open("/dev/null", O_WRONLY);

	/* Ignored signals stay ignored across exec: give the command defaults. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in, 0) < 0 || (null >= 0 && dup2(null, 1) < 0))
		_exit(126);
	setsid();
	argv[0] = (char *)cmd;
	argv[1] = NULL;
	execve(cmd, argv, envp);
	_exit(127);
}

/*
 * alerts.notify: the command, no shell, the alert as JSON on stdin. It
 * never holds up sessions: stdin is a pipe written without blocking (the
 * JSON is far below a pipe's buffer), the child is reaped with the
 * sessions and killed after GW_NOTIFY_TIMEOUT_SECS.
 */
static void
notify(struct gw_daemon *d, const char *cmd, const struct gw_detect_event *ev,
    const struct gw_detect_hit *h)
{
	char json[2048], env[4][160], *envp[5];
	const char *sev = h->severity == LOG_ALERT ? "alert" : "warning";
	const char *rule = gw_detect_rule_name(h->rule);
	struct gw_notifier *nt;
	size_t n;
	int pfd[2];
	pid_t pid;

	if (cmd == NULL || cmd[0] == '\0')
		return;
	if (d->nnotifiers >= GW_NOTIFY_MAX) {
		mg_log(LOG_ERR, "alert notification (%s) skipped: %zu still running", rule,
		    d->nnotifiers);
		return;
	}
	if ((n = gw_detect_notify_json(ev, h, time(NULL), json, sizeof(json))) == 0) {
		mg_log(LOG_ERR, "alert notification (%s) skipped: the alert does not fit", rule);
		return;
	}
	snprintf(env[0], sizeof(env[0]), "MSPGATE_ALERT_RULE=%s", rule);
	snprintf(env[1], sizeof(env[1]), "MSPGATE_ALERT_SEVERITY=%s", sev);
	snprintf(env[2], sizeof(env[2]), "MSPGATE_ALERT_ENGINEER=%s",
	    ev && ev->engineer ? ev->engineer : "");
	snprintf(env[3], sizeof(env[3]), "PATH=/usr/bin:/bin");
	envp[0] = env[0], envp[1] = env[1], envp[2] = env[2], envp[3] = env[3], envp[4] = NULL;
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		mg_log(LOG_ERR, "alert notification: pipe: %s", strerror(errno));
		return;
	}
	if ((pid = fork()) < 0) {
		mg_log(LOG_ERR, "alert notification: fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return;
	}
	if (pid == 0)
		notify_exec(cmd, pfd[0], envp);
	close(pfd[0]);
	if (fcntl(pfd[1], F_SETFL, O_NONBLOCK) != 0 ||
	    write(pfd[1], json, n) != (ssize_t)n)
		mg_log(LOG_ERR, "alert notification (%s): could not write the alert", rule);
	close(pfd[1]);
	nt = &d->notifiers[d->nnotifiers++];
	nt->pid = pid;
	nt->deadline = time(NULL) + GW_NOTIFY_TIMEOUT_SECS;
	snprintf(nt->rule, sizeof(nt->rule), "%s", rule);
}

void
gw_alert_expire(struct gw_daemon *d)
{
	time_t now = time(NULL);
	size_t i;

	for (i = 0; i < d->nnotifiers; i++) {
		struct gw_notifier *nt = &d->notifiers[i];

		if (nt->deadline > now || nt->deadline == 0)
			continue;
		mg_log(LOG_ERR, "alert notification (%s): no answer in %ds, killed",
		    nt->rule, GW_NOTIFY_TIMEOUT_SECS);
		kill(nt->pid, SIGKILL);
		nt->deadline = 0;	/* reaped as usual */
	}
}

int
gw_alert_reaped(struct gw_daemon *d, pid_t pid, int status)
{
	size_t i;

	for (i = 0; i < d->nnotifiers; i++) {
		if (d->notifiers[i].pid != pid)
			continue;
		if (WIFSIGNALED(status))
			mg_log(LOG_ERR, "alert notification (%s): killed by signal %d",
			    d->notifiers[i].rule, WTERMSIG(status));
		else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
			mg_log(LOG_ERR, "alert notification (%s): exit status %d",
			    d->notifiers[i].rule, WEXITSTATUS(status));
		d->notifiers[i] = d->notifiers[--d->nnotifiers];
		return 1;
	}
	return 0;
}

/* Every hit: an audit event, a syslog line, the notification. */
void
gw_alert_hits(struct gw_daemon *d, const struct gw_detect_event *ev,
    const struct gw_detect_result *res)
{
	size_t i;

	for (i = 0; i < res->nhits; i++) {
		const struct gw_detect_hit *h = &res->hits[i];
		struct rec_audit_event aev;
		char reason[GW_DETECT_EVIDENCE_MAX + 16], line[1024];

		gw_detect_audit_event(ev, h, reason, sizeof(reason), &aev);
		/* The fixed-format line below is the syslog record of an alert. */
		gw_daemon_audit(d, &aev, 1);
		gw_detect_syslog_line(ev, h, line, sizeof(line));
		mg_log(h->severity, "%s", line);
		notify(d, d->pol->alerts.notify, ev, h);
	}
}

/* Judges one event; the action (DENY when it cannot be judged: fail closed). */
enum gw_detect_action
gw_alert_judge(struct gw_daemon *d, const struct gw_detect_event *ev,
    struct gw_detect_result *res)
{
	int r;

	if ((r = gw_detect_event(d->det, ev, res)) != 0)
		mg_log(LOG_ERR, "detector: cannot judge an event of %s: %s",
		    ev->engineer ? ev->engineer : "-", mg_strerror(r));
	gw_alert_hits(d, ev, res);
	return res->action;
}
