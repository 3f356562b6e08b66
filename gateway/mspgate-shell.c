/* SPDX-License-Identifier: BSD-2-Clause */
/* mspgate-shell: the forced command; hands the engineer's session to mspgated. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "gw_msg.h"
#include "gw_request.h"
#include "mg_err.h"

#define DEFAULT_SOCKET "/run/mspgate/session.sock"
#define AUTHINFO_MAX 16384

static volatile sig_atomic_t got_winch;

static void
on_winch(int sig)
{
	(void)sig;
	got_winch = 1;
}

/* Errors: one line, and exit 255 like ssh itself. */
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mspgate: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 255;
}

/* The SSH_USER_AUTH file sshd wrote for this session (ExposeAuthInfo). */
static char *
read_authinfo(void)
{
	const char *path = getenv("SSH_USER_AUTH");
	char *buf;
	ssize_t n;
	size_t len = 0;
	int fd;

	if (path == NULL || (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) < 0)
		return NULL;
	if ((buf = malloc(AUTHINFO_MAX + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (len < AUTHINFO_MAX && (n = read(fd, buf + len, AUTHINFO_MAX - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	/* A NUL would cut the message short: keep what is before it. */
	buf[strlen(buf)] = '\0';
	return buf;
}

static int
connect_daemon(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
winsize(unsigned *cols, unsigned *rows)
{
	struct winsize ws;

	*cols = *rows = 0;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDOUT_FILENO,
	    TIOCGWINSZ, &ws) == 0) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

/*
 * The request could not be sent: mspgated may have refused the connection
 * at once (gateway full, not an engineer) and said why; show that, else
 * the generic text. Returns 255.
 */
static int
refused(int sock, const char *generic)
{
	struct pollfd pf = { sock, POLLIN, 0 };
	struct gw_msg e;
	size_t nfds;
	int dummy[1];

	if (poll(&pf, 1, 0) > 0 && gw_msg_recv(sock, &e, dummy, 0, &nfds) == 0) {
		if (e.type == GW_MSG_END && e.text != NULL) {
			fail("%s", e.text);
			gw_msg_clear(&e);
			return 255;
		}
		gw_msg_clear(&e);
	}
	return fail("%s", generic);
}

/* The picker: the targets mspgated says may be reached now; returns a spec. */
static char *
pick(int sock, const char *conn, const char *authinfo)
{
	struct gw_msg q, a;
	size_t i, nfds;
	char line[300], *out = NULL;
	int fds[1];

	memset(&q, 0, sizeof(q));
	q.type = GW_MSG_LIST;
	q.connection = (char *)conn;
	q.authinfo = (char *)authinfo;
	if (gw_msg_send(sock, &q, NULL, 0) != 0) {
		refused(sock, "the gateway service did not answer");
		return NULL;
	}
	if (gw_msg_recv(sock, &a, fds, 0, &nfds) != 0) {
		fail("%s", "the gateway service did not answer");
		return NULL;
	}
	if (a.type != GW_MSG_TARGETS) {
		if (a.type == GW_MSG_END && a.text != NULL)
			fail("%s", a.text);
		gw_msg_clear(&a);
		return NULL;
	}
	if (a.nitems == 0) {
		fail("%s", "no target may be reached now");
		gw_msg_clear(&a);
		return NULL;
	}
	fprintf(stderr, "Targets you may reach now:\r\n");
	for (i = 0; i < a.nitems; i++) {
		char *tab = strchr(a.items[i], '\t');

		if (tab != NULL)
			*tab = '\0';
		fprintf(stderr, "  %2zu) %-32s %s\r\n", i + 1, a.items[i],
		    tab ? tab + 1 : "");
	}
	fprintf(stderr, "Number or tenant/target (empty to quit): ");
	fflush(stderr);
	if (fgets(line, sizeof(line), stdin) != NULL) {
		char *end;
		unsigned long n;

		line[strcspn(line, "\r\n")] = '\0';
		n = strtoul(line, &end, 10);
		if (line[0] != '\0' && *end == '\0' && n >= 1 && n <= a.nitems)
			out = strdup(a.items[n - 1]);
		else if (line[0] != '\0' && strchr(line, '/') != NULL)
			out = strdup(line);
		else if (line[0] != '\0')
			fail("%s", "no such choice");
	}
	gw_msg_clear(&a);
	return out;
}

/*
 * "ssh-config": mspgated writes the engineer's own Host blocks, in pieces;
 * they go to stdout as they come. Returns the exit status.
 */
static int
ssh_config(int sock, const char *args, const char *conn, const char *authinfo)
{
	struct gw_msg q, a;
	size_t i, nfds;
	int fds[1], rc = 255;

	memset(&q, 0, sizeof(q));
	q.type = GW_MSG_CONFIG;
	q.command = (char *)args;
	q.connection = (char *)conn;
	q.authinfo = (char *)authinfo;
	if (args != NULL && strlen(args) > 1024)
		return fail("%s", "ssh-config: arguments too long");
	if (gw_msg_send(sock, &q, NULL, 0) != 0)
		return refused(sock, "the gateway service did not answer");
	for (;;) {
		if (gw_msg_recv(sock, &a, fds, 0, &nfds) != 0)
			return fail("%s", "the gateway service did not answer");
		if (a.type == GW_MSG_TARGETS) {
			for (i = 0; i < a.nitems; i++)
				fputs(a.items[i], stdout);
			gw_msg_clear(&a);
			continue;
		}
		if (a.type == GW_MSG_END && a.end_kind == GW_END_EXIT)
			rc = fflush(stdout) == 0 && !ferror(stdout) ? a.code & 0xff : 255;
		else if (a.type == GW_MSG_END && a.text != NULL)
			fail("%s", a.text);
		gw_msg_clear(&a);
		return rc;
	}
}

int
main(int argc, char **argv)
{
	const char *sockpath = getenv("MSPGATE_SOCKET");
	const char *conn = getenv("SSH_CONNECTION");
	struct gw_shell_request req;
	struct gw_msg m;
	struct sigaction sa;
	char *authinfo = NULL;
	int c, sock = -1, tty, r, rc = 255;
	int fds[3] = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO };

	while ((c = getopt(argc, argv, "s:c:")) != -1) {
		switch (c) {
		case 's': sockpath = optarg; break;
		case 'c': break;	/* "-c COMMAND" from a login shell: sshd sets
					   SSH_ORIGINAL_COMMAND, which is what counts */
		default:
			fprintf(stderr, "usage: mspgate-shell [-s SOCKET]\n");
			return 255;
		}
	}
	if (sockpath == NULL || sockpath[0] == '\0')
		sockpath = DEFAULT_SOCKET;
	signal(SIGPIPE, SIG_IGN);
	tty = isatty(STDIN_FILENO);
	r = gw_shell_request_parse(getenv("MSPGATE_TARGET"), getenv("SSH_ORIGINAL_COMMAND"),
	    &req);
	if (r == MG_ERR_NOMEM)
		return fail("%s", "out of memory");
	authinfo = read_authinfo();
	if ((sock = connect_daemon(sockpath)) < 0) {
		rc = fail("the gateway service is not running (%s)", sockpath);
		goto out;
	}
	if (req.ssh_config) {
		rc = ssh_config(sock, req.command, conn != NULL && strlen(conn) <= 256 ?
		    conn : NULL, authinfo);
		goto out;
	}
	/*
	 * Every request goes to mspgated, well-formed or not: it decides, and
	 * a probe after a successful login is what the audit log is for. A
	 * malformed target goes as given (cut short); no target at all, with
	 * no terminal for the picker, as an empty one.
	 */
	if (r == MG_ERR_NOENT && !tty) {
		if ((req.target = strdup("")) == NULL) {
			rc = fail("%s", "out of memory");
			goto out;
		}
	} else if (r == MG_ERR_NOENT) {
		char *t = pick(sock, conn, authinfo);

		if (t == NULL)
			goto out;
		req.target = t;
		/* One request per connection: the session asks anew. */
		close(sock);
		if ((sock = connect_daemon(sockpath)) < 0) {
			rc = fail("the gateway service is not running (%s)", sockpath);
			goto out;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_winch;
	sigaction(SIGWINCH, &sa, NULL);

	memset(&m, 0, sizeof(m));
	m.type = GW_MSG_OPEN;
	m.target = req.target;
	m.command = req.command;
	m.subsystem = req.subsystem;
	m.has_flags = 1;
	m.flags = tty ? GW_F_TTY : 0;
	m.term = tty ? getenv("TERM") : NULL;
	if (m.term != NULL && strlen(m.term) > 64)
		m.term = NULL;
	if (tty) {
		m.has_winsize = 1;
		winsize(&m.cols, &m.rows);
	}
	m.ticket = getenv("MSPGATE_TICKET");
	m.connection = (char *)conn;
	m.authinfo = authinfo;
	if (m.command != NULL && strlen(m.command) > 32768) {
		rc = fail("%s", "command too long");
		goto out;
	}
	if (m.connection != NULL && strlen(m.connection) > 256)
		m.connection = NULL;
	if (m.ticket != NULL && strlen(m.ticket) > 128) {
		rc = fail("%s", "malformed ticket");
		goto out;
	}
	/* The session's own fds go to mspgated, which relays them from now on. */
	if (gw_msg_send(sock, &m, fds, 3) != 0) {
		rc = refused(sock, "cannot hand the session to the gateway service");
		goto out;
	}

	for (;;) {
		struct pollfd pf = { sock, POLLIN, 0 };
		struct gw_msg e;
		size_t nfds;
		int dummy[1];

		if (got_winch) {
			struct gw_msg rz;

			got_winch = 0;
			memset(&rz, 0, sizeof(rz));
			rz.type = GW_MSG_RESIZE;
			rz.has_winsize = 1;
			winsize(&rz.cols, &rz.rows);
			if (rz.cols > 0 && rz.rows > 0)
				gw_msg_send(sock, &rz, NULL, 0);
		}
		if (poll(&pf, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		r = gw_msg_recv(sock, &e, dummy, 0, &nfds);
		if (r == MG_ERR_NOENT || r == MG_ERR_SYSTEM) {
			rc = fail("%s", "the gateway service ended the session unexpectedly");
			break;
		}
		if (r != 0)
			continue;
		if (e.type != GW_MSG_END) {
			gw_msg_clear(&e);
			continue;
		}
		/*
		 * mspgated has let go of the session's fds: ours alone now. An
		 * engineer who stopped reading must not keep this process (and
		 * the session's slot in sshd) alive, so the last words are
		 * written without waiting, or dropped.
		 */
		(void)fcntl(STDERR_FILENO, F_SETFL, fcntl(STDERR_FILENO, F_GETFL) | O_NONBLOCK);
		if (e.end_kind == GW_END_EXIT)
			rc = e.code & 0xff;
		else if (e.end_kind == GW_END_SIGNAL)
			rc = 128 + (e.code & 0x7f);
		else {
			if (e.text != NULL)
				fail("%s", e.text);
			rc = 255;
		}
		gw_msg_clear(&e);
		break;
	}
out:
	if (sock >= 0)
		close(sock);
	if (authinfo != NULL) {
		explicit_bzero(authinfo, strlen(authinfo));
		free(authinfo);
	}
	gw_shell_request_clear(&req);
	return rc;
}
