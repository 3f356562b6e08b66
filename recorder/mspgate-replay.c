/* SPDX-License-Identifier: BSD-2-Clause */
/* mspgate-replay: list, play, print, search, verify and export session recordings. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "mg_diag.h"
#include "mg_err.h"
#include "mg_time.h"
#include "mg_util.h"
#include "rec_audit.h"
#include "pol.h"
#include "rec_buf.h"
#include "rec_bundle.h"
#include "rec_evidence.h"
#include "rec_html.h"
#include "rec_json.h"
#include "rec_key.h"
#include "rec_reader.h"
#include "rec_sanitize.h"
#include "rec_text.h"
#include "rec_tty.h"
#include "rec_writer.h"

#define DEFAULT_DIR "/var/lib/mspgate/recordings"
#define MAX_FILES 1000000

static const char *prog = "mspgate-replay";

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: mspgate-replay list [DIR] [--engineer E] [--tenant T] [--target H]\n"
	    "                           [--since DATE] [--until DATE] [--json]\n"
	    "       mspgate-replay play [-s SPEED] [-m IDLE] [-t START] [--raw] FILE|ID\n"
	    "       mspgate-replay text [--markers] FILE|ID\n"
	    "       mspgate-replay search [-i] [--typed|--shown] [--engineer E] [--tenant T]\n"
	    "                             [--target H] [--since DATE] [--until DATE] REGEX [DIR]\n"
	    "       mspgate-replay verify --pubkey PUB [--dir RECDIR] FILE...\n"
	    "       mspgate-replay export (--asciicast|--html) [-o OUT] FILE|ID\n"
	    "       mspgate-replay bundle [-f POLICY] --tenant T --since DATE [--until DATE]\n"
	    "                             -o FILE.tar\n"
	    "       mspgate-replay verify-bundle --pubkey PUB FILE.tar\n"
	    "DIR defaults to $MSPGATE_RECORDINGS or " DEFAULT_DIR ".\n");
}

static const char *
default_dir(void)
{
	const char *d = getenv("MSPGATE_RECORDINGS");

	return d != NULL && d[0] != '\0' ? d : DEFAULT_DIR;
}

/* ---- finding recordings ---- */

struct flist {
	char **v;
	size_t n, cap;
};

static int
flist_add(struct flist *l, const char *path)
{
	if (l->n >= MAX_FILES)
		return MG_ERR_TOOBIG;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **nv = realloc(l->v, cap * sizeof(*nv));

		if (nv == NULL)
			return MG_ERR_NOMEM;
		l->v = nv;
		l->cap = cap;
	}
	if ((l->v[l->n] = strdup(path)) == NULL)
		return MG_ERR_NOMEM;
	l->n++;
	return 0;
}

static void
flist_free(struct flist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.cast under dir (depth-limited, symlinks not followed). */
static int
scan_dir(const char *dir, int depth, struct flist *l)
{
	DIR *d;
	struct dirent *e;
	char path[PATH_MAX];
	int r = 0;

	if (depth > 8)
		return 0;
	if ((d = opendir(dir)) == NULL)
		return depth == 0 ? MG_ERR_NOENT : 0;
	while (r == 0 && (e = readdir(d)) != NULL) {
		struct stat st;
		size_t n = strlen(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		if (lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			r = scan_dir(path, depth + 1, l);
		else if (S_ISREG(st.st_mode) && n > 5 && strcmp(e->d_name + n - 5, ".cast") == 0)
			r = flist_add(l, path);
	}
	closedir(d);
	if (depth == 0 && r == 0 && l->n > 1)
		qsort(l->v, l->n, sizeof(char *), cmpstr);
	return r;
}

/* FILE or ID: an existing path, else ID.cast in the recordings folder. */
static int
resolve(const char *arg, const char *dir, char *out, size_t outlen)
{
	struct flist l = { 0 };
	char want[PATH_MAX];
	size_t i;
	struct stat st;
	int found = 0;

	if (stat(arg, &st) == 0 && S_ISREG(st.st_mode)) {
		snprintf(out, outlen, "%s", arg);
		return 0;
	}
	if (!rec_session_id_valid(arg)) {
		fprintf(stderr, "%s: %s: no such file\n", prog, arg);
		return MG_ERR_NOENT;
	}
	snprintf(want, sizeof(want), "%s.cast", arg);
	if (scan_dir(dir ? dir : default_dir(), 0, &l) == 0) {
		for (i = 0; i < l.n; i++) {
			const char *b = strrchr(l.v[i], '/');

			if (strcmp(b ? b + 1 : l.v[i], want) == 0) {
				snprintf(out, outlen, "%s", l.v[i]);
				found = 1;
				break;
			}
		}
	}
	flist_free(&l);
	if (!found) {
		fprintf(stderr, "%s: %s: no such file, and no recording %s in %s\n", prog,
		    arg, want, dir ? dir : default_dir());
		return MG_ERR_NOENT;
	}
	return 0;
}

static int
open_rec(const char *arg, const char *dir, struct rec_reader **rd, char *path, size_t plen)
{
	char err[512];
	int r;

	if ((r = resolve(arg, dir, path, plen)) != 0)
		return r;
	if ((r = rec_reader_open(path, rd, err, sizeof(err))) != 0)
		fprintf(stderr, "%s: %s\n", prog, err);
	return r;
}

/* Time of the last event, from the file's tail (cheap for list). */
static double
last_time(const char *path)
{
	char buf[65536], *p;
	struct stat st;
	ssize_t n;
	off_t from;
	double t = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return 0;
	}
	from = st.st_size > (off_t)sizeof(buf) - 1 ? st.st_size - (off_t)sizeof(buf) + 1 : 0;
	n = pread(fd, buf, sizeof(buf) - 1, from);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The last line that starts with "[": its first number. */
	for (p = buf + n; p > buf; p--) {
		if (p[-1] == '\n' && p[0] == '[') {
			t = strtod(p + 1, NULL);
			break;
		}
	}
	return t;
}

/* ---- list ---- */

static int
parse_when(const char *s, int end, int64_t *out)
{
	struct mg_datetime dt;
	char err[200];

	if (mg_datetime_parse(s, &dt, err, sizeof(err)) == 0) {
		*out = mg_datetime_to_seconds(&dt);
		return 0;
	}
	if (mg_date_parse(s, &dt, err, sizeof(err)) == 0) {
		/* A bare date as --until means the whole day. */
		*out = mg_datetime_to_seconds(&dt) + (end ? 86400 : 0);
		return 0;
	}
	fprintf(stderr, "%s: %s: %s (want YYYY-MM-DD or \"YYYY-MM-DD HH:MM\", UTC)\n",
	    prog, s, err);
	return -1;
}

/* The filters that list and search share; NULL matches anything. */
static int
header_matches(const struct rec_header *h, const char *eng, const char *ten,
    const char *tgt, int64_t since, int64_t until)
{
	if ((eng && (!h->engineer || strcmp(eng, h->engineer) != 0)) ||
	    (ten && (!h->tenant || strcmp(ten, h->tenant) != 0)) ||
	    (tgt && (!h->target || strcmp(tgt, h->target) != 0)))
		return 0;
	return (int64_t)h->timestamp >= since && (int64_t)h->timestamp < until;
}

static void
json_field(struct rec_buf *b, const char *k, const char *v, int *first)
{
	if (!*first)
		rec_buf_adds(b, ", ");
	*first = 0;
	rec_buf_json_cstr(b, k);
	rec_buf_adds(b, ": ");
	if (v == NULL)
		rec_buf_adds(b, "null");
	else
		rec_san_json(b, v);	/* from the recording: C1 controls escaped too */
}

static int
cmd_list(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "engineer", required_argument, NULL, 'e' },
		{ "tenant", required_argument, NULL, 'T' },
		{ "target", required_argument, NULL, 'H' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	const char *eng = NULL, *ten = NULL, *tgt = NULL, *dir;
	int64_t since = INT64_MIN, until = INT64_MAX;
	int c, json = 0, shown = 0;
	struct flist l = { 0 };
	size_t i;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'e': eng = optarg; break;
		case 'T': ten = optarg; break;
		case 'H': tgt = optarg; break;
		case 's': if (parse_when(optarg, 0, &since) != 0) return 2; break;
		case 'u': if (parse_when(optarg, 1, &until) != 0) return 2; break;
		case 'j': json = 1; break;
		default: usage(stderr); return 2;
		}
	}
	dir = optind < argc ? argv[optind] : default_dir();
	if (scan_dir(dir, 0, &l) != 0) {
		fprintf(stderr, "%s: %s: cannot read folder\n", prog, dir);
		return 2;
	}
	if (json)
		printf("[");
	else
		printf("%-20s  %-24s  %-12s  %-24s  %-10s  %9s  %s\n", "START (UTC)", "SESSION",
		    "ENGINEER", "TENANT/TARGET", "LOGIN", "DURATION", "FILE");
	for (i = 0; i < l.n; i++) {
		struct rec_reader *rd = NULL;
		const struct rec_header *h;
		char err[512], when[32], tt[256], dur[32];
		struct tm tm;
		time_t ts;
		double d;

		if (rec_reader_open(l.v[i], &rd, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: skipping %s\n", prog, err);
			continue;
		}
		h = rec_reader_header(rd);
		ts = (time_t)h->timestamp;
		if (!header_matches(h, eng, ten, tgt, since, until)) {
			rec_reader_free(rd);
			continue;
		}
		gmtime_r(&ts, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		d = last_time(l.v[i]);
		snprintf(dur, sizeof(dur), "%d:%02d:%02d", (int)d / 3600, (int)d / 60 % 60,
		    (int)d % 60);
		snprintf(tt, sizeof(tt), "%s/%s", h->tenant ? h->tenant : "-",
		    h->target ? h->target : "-");
		if (json) {
			struct rec_buf b = { 0 };
			int first = 1;

			rec_buf_adds(&b, shown ? ",\n {" : "\n {");
			json_field(&b, "session", h->session, &first);
			json_field(&b, "start", when, &first);
			json_field(&b, "engineer", h->engineer, &first);
			json_field(&b, "tenant", h->tenant, &first);
			json_field(&b, "target", h->target, &first);
			json_field(&b, "login", h->login, &first);
			json_field(&b, "source", h->source, &first);
			json_field(&b, "ticket", h->ticket, &first);
			json_field(&b, "mfa", h->mfa, &first);
			rec_buf_addf(&b, ", \"timestamp\": %lld, \"duration\": %.3f",
			    h->timestamp, d);
			json_field(&b, "file", l.v[i], &first);
			rec_buf_adds(&b, "}");
			fputs((char *)b.p, stdout);
			rec_buf_free(&b);
		} else {
			/* Header fields come from the recording: shown, never emitted. */
			struct rec_buf e[5] = { { 0 } };
			size_t k;

			printf("%-20s  %-24s  %-12s  %-24s  %-10s  %9s  %s\n", when,
			    rec_san_cstr(&e[0], h->session), rec_san_cstr(&e[1], h->engineer),
			    rec_san_cstr(&e[2], tt), rec_san_cstr(&e[3], h->login), dur,
			    rec_san_cstr(&e[4], l.v[i]));
			for (k = 0; k < 5; k++)
				rec_buf_free(&e[k]);
		}
		shown++;
		rec_reader_free(rd);
	}
	if (json)
		printf("%s]\n", shown ? "\n" : "");
	flist_free(&l);
	return 0;
}

/* ---- text ---- */

static void
print_line(void *ctx, const char *line, size_t len, double t)
{
	(void)ctx;
	(void)t;
	fwrite(line, 1, len, stdout);
	putchar('\n');
}

static int
cmd_text(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "markers", no_argument, NULL, 'm' },
		{ "dir", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	struct rec_reader *rd = NULL;
	struct rec_text *tx = NULL;
	struct rec_event ev;
	const char *dir = NULL;
	char path[PATH_MAX];
	int c, markers = 0, r, rc = 0;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'm': markers = 1; break;
		case 'd': dir = optarg; break;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	if (open_rec(argv[optind], dir, &rd, path, sizeof(path)) != 0)
		return 2;
	if (rec_text_new(REC_TEXT_OUTPUT, print_line, NULL, &tx) != 0) {
		rec_reader_free(rd);
		return 2;
	}
	while ((r = rec_reader_next(rd, &ev)) > 0) {
		if (ev.stream == 'o')
			rec_text_feed(tx, ev.t, ev.data, ev.len);
		else if (ev.code == 'm' && markers) {
			struct rec_buf e = { 0 };

			rec_text_flush(tx);
			rec_san_str(&e, ev.data, ev.len);
			printf("[%.3f] --- %s ---\n", ev.t, e.p ? (const char *)e.p : "");
			rec_buf_free(&e);
		}
	}
	rec_text_flush(tx);
	if (r < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, rec_reader_errmsg(rd));
		rc = 1;
	}
	rec_text_free(tx);
	rec_reader_free(rd);
	return rc;
}

/* ---- search ---- */

struct search_ctx {
	regex_t re;
	const char *kind;	/* "shown" or "typed" */
	const char *session;	/* both escaped for display */
	const char *path;
	int matches;
};

static void
search_line(void *vctx, const char *line, size_t len, double t)
{
	struct search_ctx *s = vctx;
	int secs = (int)t;

	(void)len;
	if (regexec(&s->re, line, 0, NULL, 0) != 0)
		return;
	s->matches++;
	printf("%s\t+%d:%02d:%02d\t%s\t%s\t%s\n", s->session, secs / 3600, secs / 60 % 60,
	    secs % 60, s->kind, line, s->path);
}

static int
cmd_search(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "typed", no_argument, NULL, 'I' },
		{ "shown", no_argument, NULL, 'O' },
		{ "ignore-case", no_argument, NULL, 'i' },
		{ "engineer", required_argument, NULL, 'e' },
		{ "tenant", required_argument, NULL, 'T' },
		{ "target", required_argument, NULL, 'H' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	const char *eng = NULL, *ten = NULL, *tgt = NULL;
	int64_t since = INT64_MIN, until = INT64_MAX;
	struct search_ctx so = { 0 }, si = { 0 };
	struct rec_buf esess = { 0 }, epath = { 0 };
	int c, icase = 0, want_in = 1, want_out = 1, total = 0, bad = 0;
	struct flist l = { 0 };
	const char *dir;
	size_t i;

	while ((c = getopt_long(argc, argv, "i", lo, NULL)) != -1) {
		switch (c) {
		case 'I': want_out = 0; break;
		case 'O': want_in = 0; break;
		case 'i': icase = 1; break;
		case 'e': eng = optarg; break;
		case 'T': ten = optarg; break;
		case 'H': tgt = optarg; break;
		case 's': if (parse_when(optarg, 0, &since) != 0) return 2; break;
		case 'u': if (parse_when(optarg, 1, &until) != 0) return 2; break;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc || argc - optind > 2) {
		usage(stderr);
		return 2;
	}
	if (regcomp(&so.re, argv[optind], REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0)) != 0 ||
	    regcomp(&si.re, argv[optind], REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0)) != 0) {
		fprintf(stderr, "%s: %s: invalid regular expression\n", prog, argv[optind]);
		return 2;
	}
	so.kind = "shown";
	si.kind = "typed";
	dir = optind + 1 < argc ? argv[optind + 1] : default_dir();
	if (scan_dir(dir, 0, &l) != 0) {
		fprintf(stderr, "%s: %s: cannot read folder\n", prog, dir);
		regfree(&so.re);
		regfree(&si.re);
		return 2;
	}
	for (i = 0; i < l.n; i++) {
		struct rec_reader *rd = NULL;
		struct rec_text *to = NULL, *ti = NULL;
		struct rec_event ev;
		char err[512];
		int r;

		if (rec_reader_open(l.v[i], &rd, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: skipping %s\n", prog, err);
			bad++;
			continue;
		}
		if (!header_matches(rec_reader_header(rd), eng, ten, tgt, since, until)) {
			rec_reader_free(rd);
			continue;
		}
		so.session = si.session = rec_san_cstr(&esess, rec_reader_header(rd)->session);
		so.path = si.path = rec_san_cstr(&epath, l.v[i]);
		so.matches = si.matches = 0;
		if (rec_text_new(REC_TEXT_OUTPUT, search_line, &so, &to) != 0 ||
		    rec_text_new(REC_TEXT_INPUT, search_line, &si, &ti) != 0) {
			rec_text_free(to);
			rec_reader_free(rd);
			break;
		}
		while ((r = rec_reader_next(rd, &ev)) > 0) {
			if (ev.stream == 'o' && want_out)
				rec_text_feed(to, ev.t, ev.data, ev.len);
			else if (ev.stream == 'i' && want_in)
				rec_text_feed(ti, ev.t, ev.data, ev.len);
		}
		rec_text_flush(to);
		rec_text_flush(ti);
		if (r < 0) {
			fprintf(stderr, "%s: %s: %s\n", prog, l.v[i], rec_reader_errmsg(rd));
			bad++;
		}
		total += so.matches + si.matches;
		rec_text_free(to);
		rec_text_free(ti);
		rec_reader_free(rd);
	}
	flist_free(&l);
	rec_buf_free(&esess);
	rec_buf_free(&epath);
	regfree(&so.re);
	regfree(&si.re);
	return total > 0 ? 0 : 1;
}

/* ---- verify ---- */

/* 1 for an audit log, 0 for a recording: by the first line in buf. */
static int
kind_of(const char *p, size_t len)
{
	struct rec_json j = { 0 };
	const char *nl;
	int kind = 0;

	if (len > 4096)
		len = 4096;
	if ((nl = memchr(p, '\n', len)) != NULL)
		len = (size_t)(nl - p);
	if (rec_json_parse(&j, p, len) == 0 && j.n[0].type == REC_JSON_OBJ &&
	    rec_json_get(&j, 0, "event") >= 0 && rec_json_get(&j, 0, "version") < 0)
		kind = 1;
	rec_json_free(&j);
	return kind;
}

/* 1 for an audit log, 0 for a recording, -1 if unreadable. */
static int
file_kind(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n <= 0 ? 0 : kind_of(buf, (size_t)n);
}

/* 1 when the file starts with the gzip magic, 0 when not, -1 if unreadable. */
static int
is_gzip(const char *path)
{
	unsigned char m[2];
	int fd, gz;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	gz = read(fd, m, 2) == 2 && m[0] == 0x1f && m[1] == 0x8b;
	close(fd);
	return gz;
}

#define GZ_MAX ((size_t)4 << 30)

/*
 * A rotated, compressed log: decompressed by gzip(1) into out (at most
 * GZ_MAX bytes). The file is opened here and given to gzip as its stdin.
 */
static int
read_gzip(const char *path, struct rec_buf *out, char *err, size_t errlen)
{
	posix_spawn_file_actions_t fa;
	char *const av[] = { "gzip", "-dc", NULL };
	char buf[65536];
	int in = -1, pfd[2] = { -1, -1 }, st, r = 0, fa_ok = 0;
	pid_t pid = -1;
	ssize_t n;

	if ((in = open(path, O_RDONLY | O_CLOEXEC)) < 0 || pipe2(pfd, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		r = MG_ERR_SYSTEM;
		goto out;
	}
	if (posix_spawn_file_actions_init(&fa) != 0) {
		r = MG_ERR_NOMEM;
		goto out;
	}
	fa_ok = 1;
	if (posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO) != 0 ||
	    (errno = posix_spawnp(&pid, "gzip", &fa, NULL, av, environ)) != 0) {
		snprintf(err, errlen, "cannot run gzip -dc: %s", strerror(errno));
		pid = -1;
		r = MG_ERR_SYSTEM;
		goto out;
	}
	close(pfd[1]);
	pfd[1] = -1;
	while ((n = read(pfd[0], buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "read from gzip: %s", strerror(errno));
			r = MG_ERR_IO;
			goto out;
		}
		if (out->len + (size_t)n > GZ_MAX) {
			snprintf(err, errlen, "more than %zu bytes decompressed", GZ_MAX);
			r = MG_ERR_TOOBIG;
			goto out;
		}
		if ((r = rec_buf_add(out, buf, (size_t)n)) != 0)
			goto out;
	}
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (in >= 0)
		close(in);
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	if (pid > 0) {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (r == 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
			snprintf(err, errlen, "gzip -dc failed (not a complete gzip file?)");
			r = MG_ERR_PARSE;
		}
	}
	return r;
}

/*
 * Verifies one file (plain or gzip): 1 for an audit log, 0 for a recording,
 * -1 on error. keep (may be NULL) gets a gzip file's decompressed bytes.
 */
static int
verify_one(const char *path, const struct rec_key *pub, struct rec_verify_result *res,
    struct rec_audit_info *info, struct rec_buf *keep)
{
	struct rec_buf b = { 0 };
	char err[256], name[PATH_MAX];
	size_t len;
	int gz, kind, r;

	memset(res, 0, sizeof(*res));
	if ((gz = is_gzip(path)) < 0 || (!gz && (kind = file_kind(path)) < 0)) {
		snprintf(res->msg, sizeof(res->msg), "cannot open: %s", strerror(errno));
		return -1;
	}
	if (!gz) {
		r = kind ? rec_audit_verify_file_info(path, pub, res, info) :
		    rec_verify_file(path, pub, res);
		goto out;
	}
	if ((r = read_gzip(path, &b, err, sizeof(err))) != 0) {
		snprintf(res->msg, sizeof(res->msg), "%s", err);
		rec_buf_free(&b);
		return -1;
	}
	kind = kind_of((const char *)b.p, b.len);
	/* A recording's signed header names it without the .gz. */
	snprintf(name, sizeof(name), "%s", path);
	if ((len = strlen(name)) > 3 && strcmp(name + len - 3, ".gz") == 0)
		name[len - 3] = '\0';
	r = kind ? rec_audit_verify_mem_info(b.p, b.len, pub, res, info) :
	    rec_verify_mem(b.p, b.len, name, pub, res);
	if (keep != NULL && r == 0) {
		*keep = b;
		memset(&b, 0, sizeof(b));
	}
	rec_buf_free(&b);
out:
	if (r != 0) {
		if (res->msg[0] == '\0')
			snprintf(res->msg, sizeof(res->msg), "%s", mg_strerror(r));
		return -1;
	}
	return kind;
}

/*
 * Audit logs given together are also checked as one chain across their
 * rotations: each log's log_start names the log before it (its id, last
 * seq and last hash), so a missing, truncated or substituted log shows.
 */
static int
verify_chain(struct rec_audit_info *v, size_t n, int quiet)
{
	size_t *order, no, i;
	uint64_t events = 0;
	int bad;

	if ((order = calloc(n, sizeof(*order))) == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return -1;
	}
	if ((bad = rec_audit_chain(v, n, order, &no)) < 0) {
		fprintf(stderr, "%s: %s\n", prog, mg_strerror(bad));
		free(order);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (v[i].problem)
			printf("%s: FAILED: %s\n", v[i].name, v[i].chain_msg);
		else if (v[i].chain_msg[0] != '\0' && !quiet)
			printf("%s: %s\n", v[i].name, v[i].chain_msg);
	}
	if (n > 1 && bad == 0 && no == n) {
		if (!quiet) {
			printf("chain: ");
			for (i = 0; i < no; i++) {
				printf("%s%s", i ? " -> " : "", v[order[i]].name);
				events += v[order[i]].last_seq;
			}
			printf(": OK (%zu logs, %" PRIu64 " events)\n", no, events);
		} else
			printf("chain: OK\n");
	} else if (n > 1 && bad > 0)
		printf("chain: FAILED: %d of %zu logs are not where the chain says\n", bad, n);
	free(order);
	return bad;
}

/*
 * The lines of an audit log that verified (the first nlines), as events
 * for matching seals to recordings. buf: the log's bytes when it was
 * compressed, else NULL (read from path).
 */
static int
audit_events(struct rec_evidence *ev, const char *path, const struct rec_buf *buf,
    uint64_t nlines)
{
	struct rec_audit_reader *rd = NULL;
	struct rec_audit_line ln;
	char err[400];
	int r;

	if (nlines == 0)
		return 0;
	r = buf != NULL && buf->len > 0 ? rec_audit_reader_open_mem(buf->p, buf->len, &rd) :
	    rec_audit_reader_open(path, &rd, err, sizeof(err));
	if (r != 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, mg_strerror(r));
		return r;
	}
	while ((r = rec_audit_reader_next(rd, &ln)) > 0 && ln.lineno <= nlines) {
		if ((r = rec_evidence_add_event(ev, path, &ln)) != 0)
			break;
	}
	if (r < 0 && ln.lineno <= nlines)
		fprintf(stderr, "%s: %s: %s\n", prog, path, rec_audit_reader_errmsg(rd));
	else
		r = 0;
	rec_audit_reader_free(rd);
	return r;
}

/* Counts of what verify found, for its exit status. */
struct vcount {
	int failed, incomplete, naudit, nrec;
};

/* Verifies one file, prints its line, and notes it for matching. */
static int
verify_path(const char *path, const struct rec_key *pub, struct rec_audit_info *ai,
    struct rec_evidence *ev, int quiet, struct vcount *vc)
{
	struct rec_verify_result res;
	struct rec_buf keep = { 0 };
	int kind, r = 0;

	ai->name = path;
	if ((kind = verify_one(path, pub, &res, ai, &keep)) < 0) {
		printf("%s: FAILED: %s\n", path, res.msg);
		vc->failed++;
		if (file_kind(path) == 0) {
			/* Unreadable recording: still accounted for, as failed. */
			res.status = REC_VERIFY_FAILED;
			vc->nrec++;
			r = rec_evidence_add_recording(ev, path, &res);
		}
		rec_buf_free(&keep);
		return r;
	}
	switch (res.status) {
	case REC_VERIFY_OK:
		if (!quiet)
			printf("%s: OK (%s: %s)\n", path, kind ? "audit log" : "recording",
			    res.msg);
		else
			printf("%s: OK\n", path);
		break;
	case REC_VERIFY_INCOMPLETE:
		printf("%s: INCOMPLETE: %s\n", path, res.msg);
		vc->incomplete++;
		break;
	default:
		printf("%s: FAILED: %s\n", path, res.msg);
		vc->failed++;
		break;
	}
	if (kind) {
		vc->naudit++;
		/* Only lines that verified say anything about recordings. */
		r = audit_events(ev, path, keep.len ? &keep : NULL, res.verified_lines);
	} else {
		vc->nrec++;
		r = rec_evidence_add_recording(ev, path, &res);
	}
	rec_buf_free(&keep);
	return r;
}

/*
 * With audit logs, every session they seal must have its recording among
 * those given (or in --dir), and every recording must be the one sealed.
 */
static int
verify_match(struct rec_evidence *ev, const char *dir, int quiet, struct vcount *vc)
{
	struct rec_ev_summary sum;
	size_t i;
	int r;

	if ((r = rec_evidence_match(ev, dir, &sum)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, mg_strerror(r));
		return r;
	}
	for (i = 0; i < rec_evidence_count(ev); i++) {
		const struct rec_ev_item *it = rec_evidence_item(ev, i);

		if (it->verdict == REC_EV_OK && quiet)
			continue;
		printf("%s: %s: %s\n", it->name, it->verdict == REC_EV_OK ? "sealed" :
		    rec_ev_verdict_name(it->verdict), it->msg);
	}
	printf("summary: %zu sessions, %zu verified, %zu missing, %zu failed, "
	    "%zu unsealed\n", sum.sessions, sum.verified, sum.missing, sum.failed,
	    sum.unsealed);
	vc->failed += (int)(sum.missing + sum.failed);
	vc->incomplete += (int)sum.unsealed;
	return 0;
}

static int
cmd_verify(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pubkey", required_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "dir", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	const char *pubfile = NULL, *dir = NULL;
	struct rec_audit_info *info = NULL;
	struct rec_evidence *ev = NULL;
	struct rec_key *pub = NULL;
	struct flist l = { 0 };
	struct vcount vc = { 0 };
	char err[512];
	int c, i, quiet = 0, rc = 2;
	size_t k;

	while ((c = getopt_long(argc, argv, "p:q", lo, NULL)) != -1) {
		switch (c) {
		case 'p': pubfile = optarg; break;
		case 'q': quiet = 1; break;
		case 'd': dir = optarg; break;
		default: usage(stderr); return 2;
		}
	}
	if (pubfile == NULL || optind >= argc) {
		if (dir != NULL && pubfile != NULL)
			fprintf(stderr, "%s: verify --dir needs the audit logs that seal "
			    "its sessions (AUDIT...)\n", prog);
		usage(stderr);
		return 2;
	}
	if (rec_key_load_public(pubfile, &pub, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 2;
	}
	if (dir != NULL && (c = scan_dir(dir, 0, &l)) != 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, dir, c == MG_ERR_NOENT ?
		    "cannot open the folder" : mg_strerror(c));
		goto out;
	}
	/* Any file may turn out to be an audit log, those in --dir too. */
	if ((info = calloc((size_t)(argc - optind) + l.n, sizeof(*info))) == NULL ||
	    rec_evidence_new(&ev) != 0) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto out;
	}
	for (i = optind; i < argc; i++) {
		if (verify_path(argv[i], pub, &info[vc.naudit], ev, quiet, &vc) != 0)
			goto out;
	}
	for (k = 0; k < l.n; k++) {
		if (verify_path(l.v[k], pub, &info[vc.naudit], ev, quiet, &vc) != 0)
			goto out;
	}
	if (vc.naudit > 0) {
		int bad = verify_chain(info, (size_t)vc.naudit, quiet);

		if (bad < 0)
			goto out;
		vc.failed += bad;
	}
	/* Audit logs alone are checked as a chain; seals need the recordings. */
	if (vc.naudit > 0 && (vc.nrec > 0 || dir != NULL) &&
	    verify_match(ev, dir, quiet, &vc) != 0)
		goto out;
	rc = vc.failed ? 1 : vc.incomplete ? 3 : 0;
out:
	flist_free(&l);
	rec_evidence_free(ev);
	free(info);
	rec_key_free(pub);
	return rc;
}

/* ---- play ---- */

static struct termios play_tio;
static int play_raw;

static void
play_restore(void)
{
	if (play_raw)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &play_tio);
	play_raw = 0;
}

static void
play_sig(int sig)
{
	play_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
out_bytes(const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/*
 * Makes the viewer's terminal the recorded size, so that what is drawn
 * equals what the engineer saw: the xterm resize sequence (CSI 8;ROWS;COLS
 * t, which most terminal emulators honour), and, when the terminal stays
 * smaller, a notice saying so (lines would wrap and full-screen programs
 * would be drawn wrong). Only for a terminal: piped output stays the
 * exact recorded bytes.
 */
static void
play_size(int cols, int rows)
{
	struct winsize ws;
	char seq[48];
	int n;

	if (cols <= 0 || rows <= 0 || !isatty(STDOUT_FILENO))
		return;
	n = snprintf(seq, sizeof(seq), "\033[8;%d;%dt", rows, cols);
	out_bytes((const uint8_t *)seq, (size_t)n);
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0)
		return;
	if (ws.ws_col == 0 && ws.ws_row == 0) {
		/* The resize may take a moment to arrive. */
		usleep(50000);
		if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0)
			return;
	}
	/* A size of 0 is unknown (not a real terminal): nothing to compare. */
	if (ws.ws_col > 0 && ws.ws_row > 0 && (ws.ws_col < cols || ws.ws_row < rows))
		fprintf(stderr, "\r\n[%s: the session is %dx%d here, this terminal is "
		    "%dx%d: enlarge it to see what the engineer saw]\r\n", prog, cols, rows,
		    ws.ws_col, ws.ws_row);
}

/*
 * Waits up to ms for a key; returns it, 0 on timeout, -1 when there is no
 * keyboard. What the terminal answers (to a query in a --raw recording) is
 * never a key.
 */
static int
wait_key(struct rec_tty_keys *keys, int ms)
{
	if (keys == NULL) {
		if (ms > 0) {
			struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

			nanosleep(&ts, NULL);
		}
		return 0;
	}
	return rec_tty_key(keys, ms);
}

static int
cmd_play(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "speed", required_argument, NULL, 's' },
		{ "idle-limit", required_argument, NULL, 'm' },
		{ "start", required_argument, NULL, 't' },
		{ "dir", required_argument, NULL, 'd' },
		{ "raw", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 }
	};
	struct rec_reader *rd = NULL;
	struct rec_event ev;
	const struct rec_header *h;
	double speed = 1, idle = 0, start = 0, prev = 0;
	const char *dir = NULL;
	char path[PATH_MAX];
	int c, r, paused = 0, step = 0, quit = 0, raw = 0;
	struct rec_tty_keys *keys = NULL;
	struct rec_san *san = NULL;
	struct rec_buf sb = { 0 }, e1 = { 0 }, e2 = { 0 };

	while ((c = getopt_long(argc, argv, "s:m:t:", lo, NULL)) != -1) {
		switch (c) {
		case 's': speed = strtod(optarg, NULL); break;
		case 'm': idle = strtod(optarg, NULL); break;
		case 't': start = strtod(optarg, NULL); break;
		case 'd': dir = optarg; break;
		case 'R': raw = 1; break;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc || !(speed > 0) || idle < 0 || start < 0) {
		usage(stderr);
		return 2;
	}
	if (open_rec(argv[optind], dir, &rd, path, sizeof(path)) != 0)
		return 2;
	h = rec_reader_header(rd);
	/* Safe mode unless --raw: nothing in the recording may act on this terminal. */
	if ((!raw && rec_san_new(REC_SAN_OUTPUT, &san) != 0) ||
	    (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &play_tio) == 0 &&
	    rec_tty_keys_new(STDIN_FILENO, &keys) != 0)) {
		fprintf(stderr, "%s: out of memory\n", prog);
		rec_reader_free(rd);
		return 2;
	}
	if (keys) {
		struct termios t = play_tio;

		t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
		play_raw = 1;
		signal(SIGINT, play_sig);
		signal(SIGTERM, play_sig);
		fprintf(stderr, "%s: %s (%s, %dx%d): space pause, . step, + faster, "
		    "- slower, q quit\r\n", prog, rec_san_cstr(&e1, h->session ? h->session : path),
		    rec_san_cstr(&e2, h->engineer), h->width, h->height);
	}
	play_size(h->width, h->height);
	prev = start;
	while (!quit && (r = rec_reader_next(rd, &ev)) > 0) {
		double delay;

		if (ev.code == 'r') {
			int cols, rows;
			char sz[32];

			/* Applied in order with the output, without a delay of its own. */
			snprintf(sz, sizeof(sz), "%.*s", (int)(ev.len < 31 ? ev.len : 31),
			    (const char *)ev.data);
			if (sscanf(sz, "%dx%d", &cols, &rows) == 2 && cols > 0 && rows > 0 &&
			    cols <= 10000 && rows <= 10000)
				play_size(cols, rows);
			continue;
		}
		if (ev.stream != 'o')
			continue;
		if (ev.t >= start) {
			delay = ev.t - prev;
			if (idle > 0 && delay > idle)
				delay = idle;
			prev = ev.t;
			/* Paused: wait for a key; otherwise sleep, still reading keys. */
			for (;;) {
				int k, ms = paused ? -1 : (int)(delay / speed * 1000);

				if (step) {
					step = 0;
					paused = 1;
					break;
				}
				if (!paused && ms <= 0)
					break;
				k = wait_key(keys, ms);
				if (k == 0 && !paused)
					break;
				if (k == 'q' || k < 0) {
					quit = 1;
					break;
				}
				if (k == ' ')
					paused = !paused;
				else if (k == '.' && paused) {
					step = 1;
					continue;
				} else if (k == '+')
					speed *= 2;
				else if (k == '-')
					speed /= 2;
				if (!paused)
					break;
			}
			if (quit)
				break;
		}
		if (raw) {
			/* The exact bytes the engineer's terminal received. */
			out_bytes(ev.data, ev.len);
			if (keys != NULL)
				rec_tty_note_output(keys, ev.data, ev.len);
			continue;
		}
		rec_buf_reset(&sb);
		if (rec_san_feed(san, ev.data, ev.len, &sb) == 0 && sb.len > 0)
			out_bytes(sb.p, sb.len);
	}
	if (san != NULL) {
		rec_buf_reset(&sb);
		if (rec_san_flush(san, &sb) == 0 && sb.len > 0)
			out_bytes(sb.p, sb.len);
	}
	/* Raw bytes may have asked the terminal something: its answers are not left behind. */
	if (raw && keys != NULL && isatty(STDOUT_FILENO))
		rec_tty_drain(keys, STDOUT_FILENO, 1000);
	play_restore();
	rec_tty_keys_free(keys);
	rec_san_free(san);
	rec_buf_free(&sb);
	rec_buf_free(&e1);
	rec_buf_free(&e2);
	if (r < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, rec_reader_errmsg(rd));
		rec_reader_free(rd);
		return 1;
	}
	rec_reader_free(rd);
	return 0;
}

/* ---- export ---- */

static int
cmd_export(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "asciicast", no_argument, NULL, 'a' },
		{ "html", no_argument, NULL, 'H' },
		{ "output", required_argument, NULL, 'o' },
		{ "player", required_argument, NULL, 'P' },
		{ "dir", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	struct rec_reader *rd = NULL;
	struct rec_buf cast = { 0 };
	struct rec_event ev;
	const struct rec_header *h;
	const char *outp = NULL, *dir = NULL, *player = NULL;
	char path[PATH_MAX], err[512];
	int c, fmt = 0, r, rc = 1;
	FILE *f = stdout;

	while ((c = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
		switch (c) {
		case 'a': fmt = 'a'; break;
		case 'H': fmt = 'h'; break;
		case 'o': outp = optarg; break;
		case 'P': player = optarg; break;
		case 'd': dir = optarg; break;
		default: usage(stderr); return 2;
		}
	}
	if (fmt == 0 || optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	if (open_rec(argv[optind], dir, &rd, path, sizeof(path)) != 0)
		return 2;
	h = rec_reader_header(rd);
	/* Plain asciicast v2: the header and the o, i, r and m lines as written. */
	rec_buf_add(&cast, h->raw, h->rawlen);
	rec_buf_addc(&cast, '\n');
	while ((r = rec_reader_next(rd, &ev)) > 0) {
		if (ev.code == 'o' || ev.code == 'i' || ev.code == 'r' || ev.code == 'm') {
			if (rec_buf_add(&cast, ev.raw, ev.rawlen) != 0 ||
			    rec_buf_addc(&cast, '\n') != 0) {
				r = MG_ERR_NOMEM;
				break;
			}
		}
	}
	if (r < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, r == MG_ERR_NOMEM ?
		    "out of memory" : rec_reader_errmsg(rd));
		goto out;
	}
	if (fmt == 'h') {
		struct rec_buf page = { 0 };

		if ((r = rec_html_page(&page, (const char *)cast.p, cast.len,
		    h->title ? h->title : h->session, player, err, sizeof(err))) != 0) {
			fprintf(stderr, "%s: export --html: %s\n", prog, err);
			rec_buf_free(&page);
			goto out;
		}
		rec_buf_free(&cast);
		cast = page;
	}
	if (outp != NULL && strcmp(outp, "-") != 0 && (f = fopen(outp, "wx")) == NULL) {
		fprintf(stderr, "%s: %s: %s\n", prog, outp, strerror(errno));
		goto out;
	}
	if (fwrite(cast.p, 1, cast.len, f) != cast.len || fflush(f) != 0) {
		fprintf(stderr, "%s: %s: write error\n", prog, outp ? outp : "stdout");
		goto out;
	}
	rc = 0;
out:
	if (f != stdout && f != NULL && fclose(f) != 0)
		rc = 1;
	rec_buf_free(&cast);
	rec_reader_free(rd);
	return rc;
}

/* ---- evidence bundles ---- */

#define DEFAULT_POLICY "/etc/mspgate/mspgate.conf"
#define BUNDLE_MAX ((size_t)4 << 30)

/* A whole file (plain, or gzip when it is one) into b. */
static int
read_any(const char *path, struct rec_buf *b, char *err, size_t errlen)
{
	char buf[65536];
	ssize_t n;
	int fd, gz, r = 0;

	if ((gz = is_gzip(path)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return MG_ERR_NOENT;
	}
	if (gz)
		return read_gzip(path, b, err, errlen);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return MG_ERR_SYSTEM;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || b->len + (size_t)n > BUNDLE_MAX) {
			snprintf(err, errlen, "%s: %s", path, n < 0 ? strerror(errno) : "too big");
			r = n < 0 ? MG_ERR_IO : MG_ERR_TOOBIG;
			break;
		}
		if ((r = rec_buf_add(b, buf, (size_t)n)) != 0)
			break;
	}
	close(fd);
	return r;
}

/*
 * The grants, as `mspgate-policy report --tenant T` prints them: the
 * policy tool's own report, run from beside this program (or $PATH).
 */
static int
grants_report(const char *policy, const char *tenant, struct rec_buf *out)
{
	posix_spawn_file_actions_t fa;
	char self[PATH_MAX], tool[PATH_MAX + 32], buf[8192], *slash;
	char *av[] = { "mspgate-policy", "report", "-f", (char *)policy, "--tenant",
	    (char *)tenant, NULL };
	int pfd[2], st, r = 0;
	ssize_t n, l;
	pid_t pid;

	snprintf(tool, sizeof(tool), "mspgate-policy");
	if ((l = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[l] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			snprintf(tool, sizeof(tool), "%s/mspgate-policy", self);
			if (access(tool, X_OK) != 0)
				snprintf(tool, sizeof(tool), "mspgate-policy");
		}
	}
	if (pipe2(pfd, O_CLOEXEC) != 0 || posix_spawn_file_actions_init(&fa) != 0)
		return MG_ERR_SYSTEM;
	if (posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO) != 0 ||
	    (errno = posix_spawnp(&pid, tool, &fa, NULL, av, environ)) != 0) {
		fprintf(stderr, "%s: cannot run %s: %s\n", prog, tool, strerror(errno));
		posix_spawn_file_actions_destroy(&fa);
		close(pfd[0]);
		close(pfd[1]);
		return MG_ERR_SYSTEM;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	while ((n = read(pfd[0], buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (r = rec_buf_add(out, buf, (size_t)n)) != 0) {
			r = r ? r : MG_ERR_IO;
			break;
		}
	}
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
		fprintf(stderr, "%s: mspgate-policy report --tenant %s failed\n", prog, tenant);
		r = MG_ERR_POLICY;
	}
	return r;
}

static int
tenant_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 128)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int
cmd_bundle(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "tenant", required_argument, NULL, 'T' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	const char *policy = DEFAULT_POLICY, *tenant = NULL, *outp = NULL;
	struct rec_bundle_file *logs = NULL, *recs = NULL;
	struct rec_buf *lbuf = NULL, *rbuf = NULL, grants = { 0 }, tar = { 0 };
	struct rec_bundle_in in = { 0 };
	struct rec_key *key = NULL;
	struct mg_diag *d = NULL;
	struct pol *p = NULL;
	struct flist l = { 0 };
	int64_t since = INT64_MIN, until = INT64_MAX;
	size_t i, nlogs = 0, nrecs = 0;
	char err[1024], path[PATH_MAX];
	int c, fd = -1, rc = 2;

	while ((c = getopt_long(argc, argv, "f:o:", lo, NULL)) != -1) {
		switch (c) {
		case 'f': policy = optarg; break;
		case 'T': tenant = optarg; break;
		case 's': if (parse_when(optarg, 0, &since) != 0) return 2; break;
		case 'u': if (parse_when(optarg, 1, &until) != 0) return 2; break;
		case 'o': outp = optarg; break;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: bundle: unexpected argument %s\n", prog, argv[optind]);
		return 2;
	}
	/* What is missing, by name: an auditor should not have to guess. */
	if (tenant == NULL || since == INT64_MIN || outp == NULL) {
		fprintf(stderr, "%s: bundle needs --tenant T, --since DATE and -o FILE; "
		    "missing:%s%s%s\n", prog, tenant == NULL ? " --tenant" : "",
		    since == INT64_MIN ? " --since" : "", outp == NULL ? " -o" : "");
		return 2;
	}
	if (!tenant_name_ok(tenant)) {
		fprintf(stderr, "%s: --tenant %s: not a tenant name\n", prog, tenant);
		return 2;
	}
	if (until == INT64_MAX)
		until = (int64_t)time(NULL) + 1;
	if ((d = mg_diag_new()) == NULL)
		goto out;
	if (pol_load(policy, &p, d) != 0) {
		for (i = 0; i < mg_diag_count(d); i++)
			fprintf(stderr, "%s\n", mg_diag_get(d, i));
		fprintf(stderr, "%s: %s: the policy does not load: no bundle made\n", prog,
		    policy);
		goto out;
	}
	if (pol_tenant_find(p, tenant) == NULL) {
		fprintf(stderr, "%s: %s: no tenant %s in the policy\n", prog, policy, tenant);
		goto out;
	}
	/* The signing key, the audit log and the recordings, as the gateway has them. */
	if (rec_key_load_private_owner(p->gateway.signing_key, p->gateway.user, &key, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s (gateway.signing_key)\n", prog, err);
		goto out;
	}
	if (grants_report(policy, tenant, &grants) != 0)
		goto out;
	/* The log and the rotated ones beside it: PATH, PATH.1, PATH.2.gz ... */
	if ((lbuf = calloc(1001, sizeof(*lbuf))) == NULL ||
	    (logs = calloc(1001, sizeof(*logs))) == NULL)
		goto out;
	for (i = 0; i <= 1000; i++) {
		struct stat st;

		if (i == 0)
			snprintf(path, sizeof(path), "%s", p->gateway.audit);
		else if (snprintf(path, sizeof(path), "%s.%zu", p->gateway.audit, i),
		    lstat(path, &st) != 0)
			snprintf(path, sizeof(path), "%s.%zu.gz", p->gateway.audit, i);
		if (lstat(path, &st) != 0) {
			if (i == 0)
				continue;
			break;
		}
		if (read_any(path, &lbuf[nlogs], err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: %s\n", prog, err);
			goto out;
		}
		logs[nlogs].name = strdup(path);
		logs[nlogs].data = lbuf[nlogs].p;
		logs[nlogs].len = lbuf[nlogs].len;
		if (logs[nlogs].name == NULL)
			goto out;
		nlogs++;
	}
	if ((c = scan_dir(p->gateway.recordings, 0, &l)) != 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, p->gateway.recordings, mg_strerror(c));
		goto out;
	}
	if ((rbuf = calloc(l.n + 1, sizeof(*rbuf))) == NULL ||
	    (recs = calloc(l.n + 1, sizeof(*recs))) == NULL)
		goto out;
	for (i = 0; i < l.n; i++) {
		struct rec_reader *rd = NULL;
		const struct rec_header *h;
		const char *b = strrchr(l.v[i], '/');
		int mine;

		/* Only this tenant's recordings are read at all. */
		if (rec_reader_open(l.v[i], &rd, err, sizeof(err)) != 0)
			continue;
		h = rec_reader_header(rd);
		mine = h != NULL && h->tenant != NULL && strcmp(h->tenant, tenant) == 0;
		recs[nrecs].start = mine ? (int64_t)h->timestamp : 0;
		rec_reader_free(rd);
		if (!mine)
			continue;
		if (read_any(l.v[i], &rbuf[nrecs], err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: %s\n", prog, err);
			goto out;
		}
		recs[nrecs].name = b ? b + 1 : l.v[i];
		recs[nrecs].data = rbuf[nrecs].p;
		recs[nrecs].len = rbuf[nrecs].len;
		nrecs++;
	}
	in.tenant = tenant;
	in.since = since;
	in.until = until;
	in.now = (int64_t)time(NULL);
	in.key = key;
	in.grants = (const char *)grants.p;
	in.grantslen = grants.len;
	in.logs = logs;
	in.nlogs = nlogs;
	in.recs = recs;
	in.nrecs = nrecs;
	if (rec_bundle_make(&in, &tar, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		rc = 1;
		goto out;
	}
	if ((fd = open(outp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640)) < 0 ||
	    mg_write_full(fd, tar.p, tar.len) != 0 || fsync(fd) != 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, outp, strerror(errno));
		rc = 1;
		goto out;
	}
	fprintf(stderr, "%s: %s: tenant %s, %s\n", prog, outp, tenant, err);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	for (i = 0; lbuf != NULL && i < nlogs; i++) {
		rec_buf_free(&lbuf[i]);
		free((char *)logs[i].name);
	}
	for (i = 0; rbuf != NULL && i < nrecs; i++)
		rec_buf_free(&rbuf[i]);
	free(lbuf);
	free(logs);
	free(rbuf);
	free(recs);
	rec_buf_free(&grants);
	rec_buf_free(&tar);
	flist_free(&l);
	rec_key_free(key);
	pol_free(p);
	mg_diag_free(d);
	return rc;
}

static int
cmd_verify_bundle(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pubkey", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	const char *pubfile = NULL;
	struct rec_key *pub = NULL;
	struct rec_buf b = { 0 };
	char err[512];
	int c, r, rc = 2;

	while ((c = getopt_long(argc, argv, "p:", lo, NULL)) != -1) {
		switch (c) {
		case 'p': pubfile = optarg; break;
		default: usage(stderr); return 2;
		}
	}
	if (pubfile == NULL || optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	if (rec_key_load_public(pubfile, &pub, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 2;
	}
	if (read_any(argv[optind], &b, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		goto out;
	}
	if ((r = rec_bundle_verify(b.p, b.len, pub, stdout)) < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, argv[optind], mg_strerror(r));
		goto out;
	}
	rc = r;
out:
	rec_buf_free(&b);
	rec_key_free(pub);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	argc--;
	argv++;
	if (strcmp(cmd, "list") == 0)
		return cmd_list(argc, argv);
	if (strcmp(cmd, "play") == 0)
		return cmd_play(argc, argv);
	if (strcmp(cmd, "text") == 0)
		return cmd_text(argc, argv);
	if (strcmp(cmd, "search") == 0)
		return cmd_search(argc, argv);
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(argc, argv);
	if (strcmp(cmd, "export") == 0)
		return cmd_export(argc, argv);
	if (strcmp(cmd, "bundle") == 0)
		return cmd_bundle(argc, argv);
	if (strcmp(cmd, "verify-bundle") == 0)
		return cmd_verify_bundle(argc, argv);
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "%s: unknown command %s\n", prog, cmd);
	usage(stderr);
	return 2;
}
