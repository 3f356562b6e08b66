/* SPDX-License-Identifier: BSD-2-Clause */
/* mspgate-record: runs a command on a pty and records it as a signed asciicast v2 file. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "mg_err.h"
#include "mg_util.h"
#include "rec_audit.h"
#include "rec_buf.h"
#include "rec_key.h"
#include "rec_reader.h"
#include "rec_writer.h"

#define MAX_META 64
#define IOBUF 65536

static volatile sig_atomic_t got_winch, got_term, got_chld;
static struct termios saved_tio;
static int saved_tio_set;

static void
on_signal(int sig)
{
	if (sig == SIGWINCH)
		got_winch = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
	else
		got_term = sig;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: mspgate-record --key KEY -o FILE [--meta KEY=VALUE ...]\n"
	    "                      [--checkpoint-secs N] [--checkpoint-events N]\n"
	    "                      [--prompt-regex RE] [--record-passwords] [--size COLSxROWS]\n"
	    "                      [--audit LOG]\n"
	    "                      [-q] -- COMMAND [ARGS...]\n");
}

static void
restore_tty(void)
{
	if (saved_tio_set)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	saved_tio_set = 0;
}


/* Tells the writer whether the program on the pty is reading a secret. */
static int
update_echo(struct rec_writer *w, int master)
{
	struct termios t;

	if (tcgetattr(master, &t) != 0)
		return 0;
	return rec_writer_set_echo(w, REC_NOW, (t.c_lflag & ECHO) != 0,
	    (t.c_lflag & ICANON) != 0);
}

static void
set_meta(struct rec_meta *m, const char *k, const char *v, const char **extra, size_t *nextra)
{
	static const struct { const char *name; size_t off; } known[] = {
		{ "session", offsetof(struct rec_meta, session) },
		{ "engineer", offsetof(struct rec_meta, engineer) },
		{ "tenant", offsetof(struct rec_meta, tenant) },
		{ "target", offsetof(struct rec_meta, target) },
		{ "login", offsetof(struct rec_meta, login) },
		{ "mfa", offsetof(struct rec_meta, mfa) },
		{ "source", offsetof(struct rec_meta, source) },
		{ "ticket", offsetof(struct rec_meta, ticket) },
		{ "title", offsetof(struct rec_meta, title) },
	};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (strcmp(k, known[i].name) == 0) {
			*(const char **)((char *)m + known[i].off) = v;
			return;
		}
	}
	extra[(*nextra)++] = k;	/* the whole "k=v" string, see caller */
}

/* What the command line asked for. */
struct cli {
	const char *keyfile, *out, *auditlog;
	const char *extra[MAX_META + 1];
	char *metabuf[MAX_META];
	size_t nextra, nmeta;
	struct rec_writer_opts wo;
	struct rec_meta meta;
	struct winsize ws;
	int quiet;
	char **cmd;		/* the command and its arguments (NULL-terminated) */
	char cmdline[1024], sid[136];
};

/* One recorded run: the program on the pty, the recording and the audit log. */
struct run {
	struct rec_key *key;
	struct rec_writer *w;
	struct rec_audit *audit;
	struct rec_audit_event aev;
	time_t t0;
	int tty_in, master, status;
	pid_t pid;
	char *buf, *pend;	/* output batch; input waiting for the pty */
	size_t pend_off, pend_len;
	int in_open, send_eof;
};

/* One --meta KEY=VALUE. 0, or the exit code. */
static int
cli_meta(struct cli *c, char *arg)
{
	char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg || c->nmeta >= MAX_META) {
		fprintf(stderr, "mspgate-record: --meta wants KEY=VALUE\n");
		return 2;
	}
	if ((c->metabuf[c->nmeta] = strdup(arg)) == NULL)
		return 1;
	c->metabuf[c->nmeta][eq - arg] = '\0';
	set_meta(&c->meta, c->metabuf[c->nmeta], c->metabuf[c->nmeta] + (eq - arg) + 1,
	    c->extra, &c->nextra);
	if (c->nextra > 0 && c->extra[c->nextra - 1] == c->metabuf[c->nmeta])
		c->extra[c->nextra - 1] = arg;	/* keep "k=v" */
	c->nmeta++;
	return 0;
}

/* -1 to go on, or the exit code (help, bad usage). */
static int
cli_parse(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "output", required_argument, NULL, 'o' },
		{ "meta", required_argument, NULL, 'M' },
		{ "checkpoint-secs", required_argument, NULL, 'C' },
		{ "checkpoint-events", required_argument, NULL, 'E' },
		{ "prompt-regex", required_argument, NULL, 'P' },
		{ "record-passwords", no_argument, NULL, 'R' },
		{ "size", required_argument, NULL, 'S' },
		{ "audit", required_argument, NULL, 'A' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int o, e;

	while ((o = getopt_long(argc, argv, "+k:o:M:qh", longopts, NULL)) != -1) {
		switch (o) {
		case 'k': c->keyfile = optarg; break;
		case 'o': c->out = optarg; break;
		case 'M':
			if ((e = cli_meta(c, optarg)) != 0)
				return e;
			break;
		case 'C': c->wo.checkpoint_secs = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'E': c->wo.checkpoint_events = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'P': c->wo.prompt_regex = optarg; break;
		case 'R': c->wo.record_passwords = 1; break;
		case 'S':
			if (sscanf(optarg, "%hux%hu", &c->ws.ws_col, &c->ws.ws_row) != 2 ||
			    c->ws.ws_col == 0 || c->ws.ws_row == 0) {
				fprintf(stderr, "mspgate-record: --size wants COLSxROWS\n");
				return 2;
			}
			break;
		case 'A': c->auditlog = optarg; break;
		case 'q': c->quiet = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (c->keyfile == NULL || c->out == NULL || optind >= argc) {
		usage(stderr);
		return 2;
	}
	c->cmd = argv + optind;
	return -1;
}

/* The recording's header: command line, session id, terminal. 0 or -1. */
static int
cli_header(struct cli *c, int tty_in)
{
	size_t i;

	c->extra[c->nextra] = NULL;
	c->meta.extra = c->extra;
	for (i = 0; c->cmd[i] != NULL; i++) {
		size_t l = strlen(c->cmdline);

		snprintf(c->cmdline + l, sizeof(c->cmdline) - l, "%s%s", l ? " " : "",
		    c->cmd[i]);
	}
	c->meta.command = c->cmdline;
	if (c->meta.session == NULL) {
		/* Default: the file name, so the recording is found by its id. */
		rec_path_session(c->out, c->sid, sizeof(c->sid));
		if (!rec_session_id_valid(c->sid)) {
			uint8_t rnd[8];
			struct rec_buf hx = { 0 };

			if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd) ||
			    rec_buf_hex(&hx, rnd, sizeof(rnd)) != 0)
				return -1;
			snprintf(c->sid, sizeof(c->sid), "%s", (char *)hx.p);
			rec_buf_free(&hx);
		}
		c->meta.session = c->sid;
	}
	c->meta.term = getenv("TERM");
	c->meta.shell = getenv("SHELL");
	if (tty_in) {
		ioctl(STDIN_FILENO, TIOCGWINSZ, &c->ws);
		if (c->ws.ws_col == 0 || c->ws.ws_row == 0) {
			c->ws.ws_col = 80;
			c->ws.ws_row = 24;
		}
	}
	c->meta.cols = c->ws.ws_col;
	c->meta.rows = c->ws.ws_row;
	return 0;
}

/* The recording and the audit log's session_start. 0, or an error (said on stderr). */
static int
run_start(struct run *x, struct cli *c)
{
	char err[512];
	int r;

	if ((r = rec_key_load_private(c->keyfile, &x->key, err, sizeof(err))) != 0) {
		fprintf(stderr, "mspgate-record: %s\n", err);
		return r;
	}
	/* Fail closed: nothing runs unless the recording could be started. */
	if ((r = rec_writer_open(c->out, &c->meta, x->key, &c->wo, &x->w, err,
	    sizeof(err))) != 0) {
		fprintf(stderr, "mspgate-record: %s\n", err);
		return r;
	}
	/* Like the gateway: the session's start and its seal go to the audit
	 * log, and nothing runs if the start cannot be logged. */
	memset(&x->aev, 0, sizeof(x->aev));
	x->aev.session = c->meta.session;
	x->aev.engineer = c->meta.engineer;
	x->aev.tenant = c->meta.tenant;
	x->aev.target = c->meta.target;
	x->aev.login = c->meta.login;
	x->aev.source = c->meta.source;
	x->aev.ticket = c->meta.ticket;
	x->aev.recording = strrchr(c->out, '/') ? strrchr(c->out, '/') + 1 : c->out;
	if (c->auditlog != NULL) {
		struct rec_audit_opts ao = { .no_syslog = 1 };

		x->aev.type = REC_AUDIT_SESSION_START;
		x->aev.reason = c->cmdline;
		if ((r = rec_audit_open(c->auditlog, c->keyfile, &ao, &x->audit, err,
		    sizeof(err))) != 0 || (r = rec_audit_event(x->audit, &x->aev)) != 0) {
			fprintf(stderr, "mspgate-record: %s: %s\n", c->auditlog, x->audit ?
			    rec_audit_errmsg(x->audit) : err);
			return r;
		}
	}
	if ((x->buf = malloc(IOBUF)) == NULL || (x->pend = malloc(IOBUF)) == NULL)
		return MG_ERR_NOMEM;
	return 0;
}

/* The command on a new pty; our terminal goes raw. 0 or -1. */
static int
run_spawn(struct run *x, struct cli *c)
{
	struct sigaction sa;
	struct termios tio;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGWINCH, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (x->tty_in && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
		x->pid = forkpty(&x->master, NULL, &saved_tio, &c->ws);
	} else
		x->pid = forkpty(&x->master, NULL, NULL, &c->ws);
	if (x->pid < 0) {
		fprintf(stderr, "mspgate-record: forkpty: %s\n", strerror(errno));
		return -1;
	}
	if (x->pid == 0) {
		/* The session starts with default signals, even when we were
		 * started with some ignored (nohup, CI runners): ending it
		 * relies on SIGHUP and SIGTERM. */
		signal(SIGPIPE, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		execvp(c->cmd[0], c->cmd);
		fprintf(stderr, "mspgate-record: %s: %s\r\n", c->cmd[0], strerror(errno));
		_exit(127);
	}
	if (!c->quiet)
		fprintf(stderr, "mspgate-record: recording to %s (session %s)\r\n", c->out,
		    c->meta.session);
	if (x->tty_in) {
		tio = saved_tio;
		saved_tio_set = 1;
		cfmakeraw(&tio);
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &tio);
	}
	fcntl(x->master, F_SETFL, fcntl(x->master, F_GETFL) | O_NONBLOCK);
	return 0;
}

/* The program's output: recorded, then shown. 1 when the pty is gone, -1 on error. */
static int
relay_output(struct run *x)
{
	size_t got = 0;
	ssize_t n = 0;
	int gone = 0;

	/* A pty read returns at most a few KiB: read what is
	 * already there, up to IOBUF, and record and show it as
	 * one batch (fewer events, fewer writes). This never
	 * waits for more data. */
	while (got < IOBUF) {
		n = read(x->master, x->buf + got, IOBUF - got);
		if (n > 0)
			got += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else {
			gone = n == 0 || errno != EAGAIN;
			break;	/* EIO: the child side closed */
		}
	}
	if (got > 0) {
		/* Recorded before shown: a failed write hides it too. */
		if (rec_writer_output(x->w, REC_NOW, x->buf, got) != 0)
			return -1;
		mg_write_full(STDOUT_FILENO, x->buf, got);
	}
	return gone;
}

/* Our input: recorded (or hidden, at a password prompt), then queued for the pty. 0 or -1. */
static int
relay_input(struct run *x)
{
	ssize_t n = read(STDIN_FILENO, x->pend, IOBUF);

	if (n > 0) {
		if (update_echo(x->w, x->master) != 0 ||
		    rec_writer_input(x->w, REC_NOW, x->pend, (size_t)n) != 0)
			return -1;
		x->pend_off = 0;
		x->pend_len = (size_t)n;
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		x->in_open = 0;
		x->send_eof = 1;
	}
	return 0;
}

/* End of input: the program sees end of file. */
static void
relay_eof(struct run *x)
{
	struct termios t;

	x->send_eof = 0;
	if (tcgetattr(x->master, &t) == 0 && (t.c_lflag & ICANON)) {
		char eof = (char)t.c_cc[VEOF];

		if (write(x->master, &eof, 1) < 0) {
			/* the program is gone: nothing to tell it */
		}
	}
}

/* Relays between our terminal and the pty until the program or the recording ends. */
static void
relay(struct run *x)
{
	struct winsize ws;

	for (;;) {
		struct pollfd pf[2];
		int nfds = 0, pr, in_idx = -1;

		if (got_term) {
			kill(x->pid, SIGHUP);
			rec_writer_marker(x->w, REC_NOW, "recording stopped by a signal");
			break;
		}
		if (got_winch && x->tty_in) {
			got_winch = 0;
			if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
				ioctl(x->master, TIOCSWINSZ, &ws);
				if (rec_writer_resize(x->w, REC_NOW, ws.ws_col, ws.ws_row) != 0)
					break;
			}
		}
		pf[nfds].fd = x->master;
		/* Input waits in pend until the pty takes it; meanwhile output
		 * keeps being read, so a busy program cannot deadlock us. */
		pf[nfds++].events = POLLIN | (x->pend_off < x->pend_len ? POLLOUT : 0);
		if (x->in_open && x->pend_off == x->pend_len) {
			in_idx = nfds;
			pf[nfds].fd = STDIN_FILENO;
			pf[nfds++].events = POLLIN;
		}
		pr = poll(pf, (nfds_t)nfds, 250);
		if (pr < 0 && errno != EINTR)
			break;
		if (pr <= 0) {
			if (rec_writer_tick(x->w) != 0)
				break;
			continue;
		}
		if ((pf[0].revents & (POLLIN | POLLHUP | POLLERR)) && relay_output(x) != 0)
			break;
		if ((pf[0].revents & POLLOUT) && x->pend_off < x->pend_len) {
			ssize_t n = write(x->master, x->pend + x->pend_off,
			    x->pend_len - x->pend_off);

			if (n > 0)
				x->pend_off += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				x->pend_off = x->pend_len;	/* the program is gone */
		}
		if (in_idx >= 0 && (pf[in_idx].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    relay_input(x) != 0)
			break;
		if (x->send_eof && x->pend_off == x->pend_len)
			relay_eof(x);
		if (rec_writer_error(x->w) != 0)
			break;
	}
}

/* The recording failed: the session does not go on unrecorded. */
static void
run_stop(struct run *x, const char *out, int r)
{
	int i;

	fprintf(stderr, "mspgate-record: %s: recording failed (%s); ending the "
	    "session\n", out, mg_strerror(r));
	close(x->master);
	x->master = -1;
	kill(x->pid, SIGHUP);
	kill(x->pid, SIGTERM);
	/* A program that ignores both still does not outlive us. */
	for (i = 0; i < 40; i++) {
		if (waitpid(x->pid, &x->status, WNOHANG) != 0)
			break;
		usleep(50000);
	}
	if (i == 40)
		kill(x->pid, SIGKILL);
}

/* The program has ended: the recording's last marker, its seal and session_end. 0 or an error. */
static int
run_finish(struct run *x, struct cli *c)
{
	struct rec_seal seal;
	int r = rec_writer_error(x->w);

	if (r != 0)
		run_stop(x, c->out, r);
	while (waitpid(x->pid, &x->status, 0) < 0 && errno == EINTR)
		;
	if (r == 0) {
		char lbl[64];

		if (WIFEXITED(x->status))
			snprintf(lbl, sizeof(lbl), "exit status %d", WEXITSTATUS(x->status));
		else
			snprintf(lbl, sizeof(lbl), "killed by signal %d",
			    WIFSIGNALED(x->status) ? WTERMSIG(x->status) : 0);
		if ((r = rec_writer_marker(x->w, REC_NOW, lbl)) == 0)
			r = rec_writer_close(x->w, &seal);
		if (r != 0)
			fprintf(stderr, "mspgate-record: %s: closing failed (%s)\n", c->out,
			    mg_strerror(r));
		else if (!c->quiet)
			fprintf(stderr, "mspgate-record: %s: %llu lines, seal %s\n", c->out,
			    (unsigned long long)seal.lines, seal.hash);
	}
	if (x->audit != NULL) {
		struct rec_audit_event *aev = &x->aev;

		aev->type = REC_AUDIT_SESSION_END;
		aev->reason = r == 0 ? "recording closed" : "the recording failed";
		aev->result = "info";
		aev->has_stats = 1;
		aev->bytes_in = r == 0 ? seal.bytes_in : 0;
		aev->bytes_out = r == 0 ? seal.bytes_out : 0;
		aev->duration = (int64_t)(time(NULL) - x->t0);
		aev->has_exit = WIFEXITED(x->status) || WIFSIGNALED(x->status);
		aev->exit_status = WIFEXITED(x->status) ? WEXITSTATUS(x->status) :
		    128 + WTERMSIG(x->status);
		aev->seal = r == 0 ? seal.hash : NULL;
		if (rec_audit_event(x->audit, aev) != 0) {
			fprintf(stderr, "mspgate-record: %s: %s\n", c->auditlog,
			    rec_audit_errmsg(x->audit));
			r = MG_ERR_IO;
		}
	}
	return r;
}

int
main(int argc, char **argv)
{
	static struct cli c = { .ws = { 24, 80, 0, 0 } };
	struct run x = { .master = -1, .in_open = 1 };
	size_t i;
	int rc;

	x.t0 = time(NULL);
	if ((rc = cli_parse(&c, argc, argv)) >= 0)
		goto done;
	rc = 1;
	x.tty_in = isatty(STDIN_FILENO);
	if (cli_header(&c, x.tty_in) != 0 || run_start(&x, &c) != 0 || run_spawn(&x, &c) != 0)
		goto done;
	relay(&x);
	restore_tty();
	if (run_finish(&x, &c) == 0)
		rc = WIFEXITED(x.status) ? WEXITSTATUS(x.status) : 128 + WTERMSIG(x.status);
done:
	restore_tty();
	if (x.master >= 0)
		close(x.master);
	rec_writer_free(x.w);
	rec_audit_close(x.audit);
	rec_key_free(x.key);
	free(x.buf);
	if (x.pend != NULL)
		explicit_bzero(x.pend, IOBUF);	/* may have held a password */
	free(x.pend);
	for (i = 0; i < c.nmeta; i++)
		free(c.metabuf[i]);
	return rc;
}
