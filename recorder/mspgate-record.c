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
#include <unistd.h>

#include "mg_err.h"
#include "mg_util.h"
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

int
main(int argc, char **argv)
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
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *keyfile = NULL, *out = NULL, *extra[MAX_META + 1] = { NULL };
	char *metabuf[MAX_META] = { NULL };
	size_t nextra = 0, nmeta = 0, i;
	struct rec_writer_opts wo = { 0 };
	struct rec_meta meta = { 0 };
	struct rec_writer *w = NULL;
	struct rec_key *key = NULL;
	struct rec_seal seal;
	struct winsize ws = { 24, 80, 0, 0 };
	struct termios tio;
	int tty_in, master = -1, c, r, quiet = 0, status = 0, in_open = 1, rc = 1;
	char err[512], sid[136], cmdline[1024] = "", *buf = NULL, *pend = NULL;
	size_t pend_off = 0, pend_len = 0;
	int send_eof = 0;
	struct sigaction sa;
	pid_t pid;

	while ((c = getopt_long(argc, argv, "+k:o:M:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': keyfile = optarg; break;
		case 'o': out = optarg; break;
		case 'M': {
			char *eq = strchr(optarg, '=');

			if (eq == NULL || eq == optarg || nmeta >= MAX_META) {
				fprintf(stderr, "mspgate-record: --meta wants KEY=VALUE\n");
				return 2;
			}
			if ((metabuf[nmeta] = strdup(optarg)) == NULL)
				return 1;
			metabuf[nmeta][eq - optarg] = '\0';
			set_meta(&meta, metabuf[nmeta], metabuf[nmeta] + (eq - optarg) + 1,
			    extra, &nextra);
			if (nextra > 0 && extra[nextra - 1] == metabuf[nmeta])
				extra[nextra - 1] = optarg;	/* keep "k=v" */
			nmeta++;
			break;
		}
		case 'C': wo.checkpoint_secs = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'E': wo.checkpoint_events = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'P': wo.prompt_regex = optarg; break;
		case 'R': wo.record_passwords = 1; break;
		case 'S':
			if (sscanf(optarg, "%hux%hu", &ws.ws_col, &ws.ws_row) != 2 ||
			    ws.ws_col == 0 || ws.ws_row == 0) {
				fprintf(stderr, "mspgate-record: --size wants COLSxROWS\n");
				return 2;
			}
			break;
		case 'q': quiet = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (keyfile == NULL || out == NULL || optind >= argc) {
		usage(stderr);
		return 2;
	}
	extra[nextra] = NULL;
	meta.extra = extra;
	for (i = (size_t)optind; i < (size_t)argc; i++) {
		size_t l = strlen(cmdline);

		snprintf(cmdline + l, sizeof(cmdline) - l, "%s%s", l ? " " : "", argv[i]);
	}
	meta.command = cmdline;
	if (meta.session == NULL) {
		/* Default: the file name, so the recording is found by its id. */
		rec_path_session(out, sid, sizeof(sid));
		if (!rec_session_id_valid(sid)) {
			uint8_t rnd[8];
			struct rec_buf hx = { 0 };

			if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd) ||
			    rec_buf_hex(&hx, rnd, sizeof(rnd)) != 0)
				return 1;
			snprintf(sid, sizeof(sid), "%s", (char *)hx.p);
			rec_buf_free(&hx);
		}
		meta.session = sid;
	}
	meta.term = getenv("TERM");
	meta.shell = getenv("SHELL");
	tty_in = isatty(STDIN_FILENO);
	if (tty_in) {
		ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
		if (ws.ws_col == 0 || ws.ws_row == 0) {
			ws.ws_col = 80;
			ws.ws_row = 24;
		}
	}
	meta.cols = ws.ws_col;
	meta.rows = ws.ws_row;

	if ((r = rec_key_load_private(keyfile, &key, err, sizeof(err))) != 0) {
		fprintf(stderr, "mspgate-record: %s\n", err);
		goto done;
	}
	/* Fail closed: nothing runs unless the recording could be started. */
	if ((r = rec_writer_open(out, &meta, key, &wo, &w, err, sizeof(err))) != 0) {
		fprintf(stderr, "mspgate-record: %s\n", err);
		goto done;
	}
	if ((buf = malloc(IOBUF)) == NULL || (pend = malloc(IOBUF)) == NULL)
		goto done;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGWINCH, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (tty_in && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
		pid = forkpty(&master, NULL, &saved_tio, &ws);
	} else
		pid = forkpty(&master, NULL, NULL, &ws);
	if (pid < 0) {
		fprintf(stderr, "mspgate-record: forkpty: %s\n", strerror(errno));
		goto done;
	}
	if (pid == 0) {
		/* The session starts with default signals, even when we were
		 * started with some ignored (nohup, CI runners): ending it
		 * relies on SIGHUP and SIGTERM. */
		signal(SIGPIPE, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "mspgate-record: %s: %s\r\n", argv[optind], strerror(errno));
		_exit(127);
	}
	if (!quiet)
		fprintf(stderr, "mspgate-record: recording to %s (session %s)\r\n", out,
		    meta.session);
	if (tty_in) {
		tio = saved_tio;
		saved_tio_set = 1;
		cfmakeraw(&tio);
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &tio);
	}
	fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);

	for (;;) {
		struct pollfd pf[2];
		int nfds = 0, pr, in_idx = -1;

		if (got_term) {
			kill(pid, SIGHUP);
			rec_writer_marker(w, REC_NOW, "recording stopped by a signal");
			break;
		}
		if (got_winch && tty_in) {
			got_winch = 0;
			if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
				ioctl(master, TIOCSWINSZ, &ws);
				if ((r = rec_writer_resize(w, REC_NOW, ws.ws_col, ws.ws_row)) != 0)
					break;
			}
		}
		pf[nfds].fd = master;
		/* Input waits in pend until the pty takes it; meanwhile output
		 * keeps being read, so a busy program cannot deadlock us. */
		pf[nfds++].events = POLLIN | (pend_off < pend_len ? POLLOUT : 0);
		if (in_open && pend_off == pend_len) {
			in_idx = nfds;
			pf[nfds].fd = STDIN_FILENO;
			pf[nfds++].events = POLLIN;
		}
		pr = poll(pf, (nfds_t)nfds, 250);
		if (pr < 0 && errno != EINTR)
			break;
		if (pr <= 0) {
			if ((r = rec_writer_tick(w)) != 0)
				break;
			continue;
		}
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			size_t got = 0;
			ssize_t n = 0;
			int gone = 0;

			/* A pty read returns at most a few KiB: read what is
			 * already there, up to IOBUF, and record and show it as
			 * one batch (fewer events, fewer writes). This never
			 * waits for more data. */
			while (got < IOBUF) {
				n = read(master, buf + got, IOBUF - got);
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
				if ((r = rec_writer_output(w, REC_NOW, buf, got)) != 0)
					break;
				mg_write_full(STDOUT_FILENO, buf, got);
			}
			if (gone)
				break;
		}
		if ((pf[0].revents & POLLOUT) && pend_off < pend_len) {
			ssize_t n = write(master, pend + pend_off, pend_len - pend_off);

			if (n > 0)
				pend_off += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				pend_off = pend_len;	/* the program is gone */
		}
		if (in_idx >= 0 && (pf[in_idx].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(STDIN_FILENO, pend, IOBUF);

			if (n > 0) {
				if ((r = update_echo(w, master)) != 0 ||
				    (r = rec_writer_input(w, REC_NOW, pend, (size_t)n)) != 0)
					break;
				pend_off = 0;
				pend_len = (size_t)n;
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				in_open = 0;
				send_eof = 1;
			}
		}
		if (send_eof && pend_off == pend_len) {
			struct termios t;

			send_eof = 0;
			/* End of input: the program sees end of file. */
			if (tcgetattr(master, &t) == 0 && (t.c_lflag & ICANON)) {
				char eof = (char)t.c_cc[VEOF];

				if (write(master, &eof, 1) < 0) {
					/* the program is gone: nothing to tell it */
				}
			}
		}
		if ((r = rec_writer_error(w)) != 0)
			break;
	}
	restore_tty();
	r = rec_writer_error(w);
	if (r != 0) {
		/* Fail closed: the session does not go on unrecorded. */
		fprintf(stderr, "mspgate-record: %s: recording failed (%s); ending the "
		    "session\n", out, mg_strerror(r));
		close(master);
		master = -1;
		kill(pid, SIGHUP);
		kill(pid, SIGTERM);
		/* A program that ignores both still does not outlive us. */
		for (i = 0; i < 40; i++) {
			if (waitpid(pid, &status, WNOHANG) != 0)
				break;
			usleep(50000);
		}
		if (i == 40)
			kill(pid, SIGKILL);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == 0) {
		char lbl[64];

		if (WIFEXITED(status))
			snprintf(lbl, sizeof(lbl), "exit status %d", WEXITSTATUS(status));
		else
			snprintf(lbl, sizeof(lbl), "killed by signal %d",
			    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		if ((r = rec_writer_marker(w, REC_NOW, lbl)) == 0)
			r = rec_writer_close(w, &seal);
		if (r != 0)
			fprintf(stderr, "mspgate-record: %s: closing failed (%s)\n", out,
			    mg_strerror(r));
		else if (!quiet)
			fprintf(stderr, "mspgate-record: %s: %llu lines, seal %s\n", out,
			    (unsigned long long)seal.lines, seal.hash);
	}
	if (r == 0)
		rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
done:
	restore_tty();
	if (master >= 0)
		close(master);
	rec_writer_free(w);
	rec_key_free(key);
	free(buf);
	if (pend != NULL)
		explicit_bzero(pend, IOBUF);	/* may have held a password */
	free(pend);
	for (i = 0; i < nmeta; i++)
		free(metabuf[i]);
	return rc;
}
