/* SPDX-License-Identifier: BSD-2-Clause */
/* mspgated's TOTP broker process: logins' transactions on a database connection it keeps. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gw_daemon.h"
#include "mfa_broker.h"
#include "mg_log.h"

static volatile int broker_stop;

static void
on_term(int sig)
{
	(void)sig;
	broker_stop = 1;
}

static int
spawn(struct gw_daemon *d)
{
	struct sigaction sa;
	pid_t pid;

	if ((pid = fork()) < 0) {
		mg_log(LOG_ERR, "state broker: fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		d->broker_pid = pid;
		return 0;
	}
	/* The child: the broker's socket only; mspgated's own are not its. */
	if (d->lfd >= 0)
		close(d->lfd);
	if (d->ctlfd >= 0)
		close(d->ctlfd);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* mspgated gone, however it went: so is its broker. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() == 1)
		_exit(0);
	signal(SIGHUP, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	mfa_broker_serve(d->policy_path, d->broker_fd, &broker_stop);
	_exit(0);
}

int
gw_broker_start(struct gw_daemon *d)
{
	char err[256];

	if (d->pol->state.backend != POL_STATE_POSTGRESQL)
		return 0;
	if ((d->broker_fd = mfa_broker_listen(d->pol, err, sizeof(err))) < 0) {
		/* Logins then open their own connections: slower, as safe. */
		mg_log(LOG_WARNING, "state broker: %s; logins connect to the state "
		    "database themselves", err);
		return 0;
	}
	(void)spawn(d);	/* a failed fork is tried again by gw_broker_tick */
	d->broker_next = time(NULL) + 1;
	return 0;
}

int
gw_broker_reaped(struct gw_daemon *d, pid_t pid, int status)
{
	if (pid != d->broker_pid || pid <= 0)
		return 0;
	d->broker_pid = -1;
	if (!*d->stop) {
		if (WIFSIGNALED(status))
			mg_log(LOG_ERR, "state broker %d died of signal %d; starting "
			    "another", (int)pid, WTERMSIG(status));
		else
			mg_log(LOG_ERR, "state broker %d exited (%d); starting another",
			    (int)pid, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		d->broker_next = time(NULL) + 1;
	}
	return 1;
}

void
gw_broker_tick(struct gw_daemon *d)
{
	if (d->broker_fd >= 0 && d->broker_pid < 0 && !*d->stop &&
	    time(NULL) >= d->broker_next)
		(void)spawn(d);
}

void
gw_broker_stop(struct gw_daemon *d)
{
	if (d->broker_pid > 0)
		kill(d->broker_pid, SIGTERM);
}
