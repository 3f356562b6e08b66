/* SPDX-License-Identifier: BSD-2-Clause */
/* mspgated: the broker; takes sessions from mspgate-shell, one process per session. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libssh/libssh.h>

#include "gw_session.h"
#include "mg_diag.h"
#include "mg_err.h"
#include "mg_log.h"
#include "mg_time.h"
#include "pol.h"

#define MAX_SESSIONS 512
#define STOP_WAIT_SECS 15

static volatile sig_atomic_t got_stop, got_hup, got_chld;
static pid_t children[MAX_SESSIONS];
static size_t nchildren;

static void
on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else
		got_stop = 1;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: mspgated -f POLICY [-D] [-t] [-d] [-s SOCKET] [-u USER]\n");
}

static void
reap(void)
{
	pid_t pid;
	int status;
	size_t i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < nchildren; i++) {
			if (children[i] == pid) {
				children[i] = children[--nchildren];
				break;
			}
		}
		if (WIFSIGNALED(status))
			mg_log(LOG_ERR, "session process %d died of signal %d", (int)pid,
			    WTERMSIG(status));
	}
}

static int
load_policy(const char *path, struct pol **out)
{
	struct mg_diag *d = mg_diag_new();
	size_t i;
	int r;

	if (d == NULL)
		return MG_ERR_NOMEM;
	r = pol_load(path, out, d);
	for (i = 0; i < mg_diag_count(d); i++)
		mg_log(LOG_ERR, "%s", mg_diag_get(d, i));
	mg_diag_free(d);
	return r;
}

static int
listen_on(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		mg_log(LOG_ERR, "%s: socket path too long", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* A socket left by a previous run is replaced; anything else is not ours. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			mg_log(LOG_ERR, "%s exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, 0666) != 0 || listen(fd, 64) != 0) {
		mg_log(LOG_ERR, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* Any local account may ask: who it is comes from SO_PEERCRED. */
	return fd;
}

static int
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (getuid() != 0 && geteuid() != 0) {
		if (user == NULL)
			return 0;
		pw = getpwnam(user);
		if (pw != NULL && pw->pw_uid == geteuid())
			return 0;
		mg_log(LOG_ERR, "-u %s: only root can change user", user);
		return -1;
	}
	if (user == NULL)
		user = "mspgate";
	if ((pw = getpwnam(user)) == NULL) {
		mg_log(LOG_ERR, "no such user: %s", user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		mg_log(LOG_ERR, "refusing to run sessions as root");
		return -1;
	}
	/* Group list first, then gid, then uid; and check there is no way back. */
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		mg_log(LOG_ERR, "cannot become %s: %s", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0 || geteuid() == 0) {
		mg_log(LOG_ERR, "privileges not dropped");
		return -1;
	}
	return 0;
}

static void
session_child(struct pol *pol, int lfd, int cfd)
{
	struct gw_ctx ctx;
	struct sigaction sa;
	int rc;

	close(lfd);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	got_stop = 0;
	memset(&ctx, 0, sizeof(ctx));
	ctx.pol = pol;
	/* SIGTERM from the parent: end the session, seal the recording. */
	ctx.stop = &got_stop;
	ctx.connect_timeout = 10;
	rc = gw_session_serve(&ctx, cfd);
	close(cfd);
	pol_free(pol);
	ssh_finalize();
	exit(rc);
}

int
main(int argc, char **argv)
{
	const char *policy = NULL, *user = NULL;
	char *sockpath = NULL;
	struct pol *pol = NULL;
	struct sigaction sa;
	int c, fg = 0, test = 0, lfd = -1, rc = 1;
	size_t i;
	time_t stop_at;

	while ((c = getopt(argc, argv, "f:Dtds:u:h")) != -1) {
		switch (c) {
		case 'f': policy = optarg; break;
		case 'D': fg = 1; break;
		case 't': test = 1; break;
		case 'd': mg_log_set_verbose(1); break;
		case 's': free(sockpath); sockpath = strdup(optarg); break;
		case 'u': user = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (policy == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	mg_log_init("mspgated", LOG_AUTHPRIV, fg || test);
	if (load_policy(policy, &pol) != 0) {
		mg_log(LOG_ERR, "%s: policy not loaded", policy);
		return 1;
	}
	if (test) {
		free(sockpath);
		pol_free(pol);
		return 0;
	}
	/* A copy: a reloaded policy frees the old strings. */
	if (sockpath == NULL && (sockpath = strdup(pol->gateway.session_socket)) == NULL)
		goto out;
	if (ssh_init() != 0) {
		mg_log(LOG_ERR, "libssh initialisation failed");
		goto out;
	}
	if ((lfd = listen_on(sockpath)) < 0 || drop_privileges(user) != 0)
		goto out;
	if (!fg && daemon(0, 0) != 0) {
		mg_log(LOG_ERR, "daemon: %s", strerror(errno));
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	mg_log(LOG_INFO, "listening on %s", sockpath);

	while (!got_stop) {
		struct pollfd pf = { lfd, POLLIN, 0 };
		pid_t pid;
		int cfd;

		if (got_chld) {
			got_chld = 0;
			reap();
		}
		if (got_hup) {
			struct pol *np = NULL;

			got_hup = 0;
			/* A bad new policy keeps the old one: never half a policy. */
			if (load_policy(policy, &np) == 0) {
				pol_free(pol);
				pol = np;
				mg_log(LOG_INFO, "policy reloaded");
			} else
				mg_log(LOG_ERR, "policy reload failed; keeping the old one");
		}
		if (poll(&pf, 1, 1000) <= 0)
			continue;
		if ((cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		if (nchildren >= MAX_SESSIONS) {
			mg_log(LOG_WARNING, "too many sessions; connection refused");
			close(cfd);
			continue;
		}
		if ((pid = fork()) < 0) {
			mg_log(LOG_ERR, "fork: %s", strerror(errno));
			close(cfd);
			continue;
		}
		if (pid == 0)
			session_child(pol, lfd, cfd);
		children[nchildren++] = pid;
		close(cfd);
	}
	mg_log(LOG_INFO, "stopping: ending %zu session(s)", nchildren);
	for (i = 0; i < nchildren; i++)
		kill(children[i], SIGTERM);
	stop_at = time(NULL) + STOP_WAIT_SECS;
	while (nchildren > 0 && time(NULL) < stop_at) {
		reap();
		if (nchildren > 0)
			usleep(100000);
	}
	for (i = 0; i < nchildren; i++)
		kill(children[i], SIGKILL);
	rc = 0;
out:
	if (lfd >= 0) {
		close(lfd);
		unlink(sockpath);
	}
	free(sockpath);
	pol_free(pol);
	ssh_finalize();
	return rc;
}
