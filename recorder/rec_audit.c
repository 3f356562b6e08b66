/* SPDX-License-Identifier: BSD-2-Clause */
/* The audit log's writer: signed, hash-chained JSON lines that several processes append to. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "mg_err.h"
#include "mg_log.h"
#include "mg_time.h"
#include "rec_audit.h"
#include "rec_audit_int.h"
#include "rec_buf.h"
#include "rec_chain.h"
#include "rec_json.h"
#include "rec_lines.h"
#include "rec_sanitize.h"

#define FIELD_MAX 256

/* What a new log's log_start says about the log before it (see find_prev). */
struct prev_link {
	enum rec_audit_link link;
	char log[33];
	uint64_t seq;
	uint8_t hash[32];
	char error[200];
	int owner_ok;		/* the predecessor's owner may write the log: uid, gid */
	uid_t uid;
	gid_t gid;
};

/* find_prev: the log was rotated while we looked; start again. */
#define PREV_MOVED 1

struct rec_audit {
	char *path;
	int fd;
	const struct rec_key *key;
	struct rec_key *key_owned;	/* loaded here; NULL when borrowed */
	struct rec_audit_opts opts;
	struct rec_json j;
	char errmsg[300];
};


static int
aerr(struct rec_audit *a, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
aerr(struct rec_audit *a, int r, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(a->errmsg, sizeof(a->errmsg), "%s: ", a->path);
	if (n < 0 || (size_t)n >= sizeof(a->errmsg))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(a->errmsg + n, sizeof(a->errmsg) - (size_t)n, fmt, ap);
	va_end(ap);
	return r;
}

const char *
rec_audit_errmsg(const struct rec_audit *a)
{
	return a->errmsg;
}

/* A message for the administrator: syslog and the caller's log_fn. */
static void
note(struct rec_audit *a, int prio, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
note(struct rec_audit *a, int prio, const char *fmt, ...)
{
	char m[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	if (!a->opts.no_syslog)
		syslog(LOG_AUTHPRIV | prio, "%s", m);
	if (a->opts.log_fn != NULL)
		a->opts.log_fn(prio, m, a->opts.log_ctx);
}

/* Reads exactly n bytes at off. */
static int
pread_all(int fd, char *buf, size_t n, off_t off)
{
	size_t i;
	ssize_t got;

	for (i = 0; i < n; i += (size_t)got) {
		if ((got = pread(fd, buf + i, n - i, off + (off_t)i)) < 0 && errno == EINTR) {
			got = 0;
			continue;
		}
		if (got <= 0)
			return got < 0 ? -1 : -2;
	}
	return 0;
}


static int
open_fd(struct rec_audit *a)
{
	struct stat st;

	a->fd = open(a->path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (a->fd < 0)
		return aerr(a, errno == ENOENT ? MG_ERR_NOENT : MG_ERR_SYSTEM, "%s",
		    strerror(errno));
	if (fstat(a->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(a->fd);
		a->fd = -1;
		return aerr(a, MG_ERR_PERM, "not a regular file");
	}
	return 0;
}

/*
 * A first log made by root (the PAM module in sshd, mspgate-enroll) in a
 * directory that belongs to the gateway's service account (opts.key_owner)
 * goes to that account, so mspgated can append to it. Only a root-owned
 * file with one link (not a hard link to something else); the name is
 * looked up only when the directory is not root's.
 */
static void
give_new_log(struct rec_audit *a, const struct stat *st)
{
	struct stat ds;
	struct passwd pw, *res = NULL;
	char dir[PATH_MAX], pwbuf[4096], *slash;

	if (geteuid() != 0 || st->st_uid != 0 || st->st_nlink != 1 ||
	    a->opts.key_owner == NULL || strlen(a->path) >= sizeof(dir))
		return;
	strcpy(dir, a->path);
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &ds) != 0 || ds.st_uid == 0)
		return;
	if (getpwnam_r(a->opts.key_owner, &pw, pwbuf, sizeof(pwbuf), &res) != 0 ||
	    res == NULL || pw.pw_uid != ds.st_uid)
		return;
	if (fchown(a->fd, pw.pw_uid, pw.pw_gid) != 0)
		note(a, LOG_WARNING, "audit: %s: cannot give the new log to %s: %s",
		    a->path, a->opts.key_owner, strerror(errno));
}

int
rec_audit_open(const char *path, const char *keyfile, const struct rec_audit_opts *opts,
    struct rec_audit **out, char *err, size_t errlen)
{
	struct rec_audit *a;
	int r;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return MG_ERR_NOMEM;
	a->fd = -1;
	if (opts != NULL)
		a->opts = *opts;
	if (a->opts.lock_timeout_ms == 0)
		a->opts.lock_timeout_ms = 10000;
	if ((a->path = strdup(path)) == NULL) {
		r = MG_ERR_NOMEM;
		goto fail;
	}
	if (opts != NULL && opts->key != NULL)
		a->key = opts->key;
	else if ((r = rec_key_load_private_owner(keyfile, opts != NULL ?
	    opts->key_owner : NULL, &a->key_owned, err, errlen)) != 0)
		goto fail;
	else
		a->key = a->key_owned;
	if ((r = open_fd(a)) != 0) {
		snprintf(err, errlen, "%s", a->errmsg);
		goto fail;
	}
	*out = a;
	return 0;
fail:
	rec_audit_close(a);
	return r;
}

void
rec_audit_close(struct rec_audit *a)
{
	if (a == NULL)
		return;
	if (a->fd >= 0)
		close(a->fd);
	rec_key_free(a->key_owned);
	rec_json_free(&a->j);
	free(a->path);
	free(a);
}

/* Takes the lock, reopening when the log was rotated under us. */
static int
lock_log(struct rec_audit *a)
{
	unsigned waited = 0;
	struct stat s1, s2;
	int r;

	for (;;) {
		if (flock(a->fd, LOCK_EX | LOCK_NB) != 0) {
			if (errno != EWOULDBLOCK && errno != EINTR)
				return aerr(a, MG_ERR_SYSTEM, "lock: %s", strerror(errno));
			if (waited >= a->opts.lock_timeout_ms)
				return aerr(a, MG_ERR_BUSY, "locked by another process for "
				    "%u ms", waited);
			usleep(2000);
			waited += 2;
			continue;
		}
		if (fstat(a->fd, &s1) == 0 && lstat(a->path, &s2) == 0 &&
		    s1.st_dev == s2.st_dev && s1.st_ino == s2.st_ino)
			return 0;
		/* Rotated or removed: continue in the file now at path. */
		close(a->fd);
		a->fd = -1;
		if ((r = open_fd(a)) != 0)
			return r;
	}
}

/*
 * Finds the last complete line: its seq and hash. Cuts off a torn last
 * line (a writer died mid-write; the event was never acknowledged).
 * *seq = 0 for an empty log.
 */
static int
read_last(struct rec_audit *a, uint64_t *seq, uint8_t hash[32])
{
	char *buf = NULL;
	struct stat st;
	off_t from;
	size_t n, i, ls;
	ssize_t got;
	const char *h;
	size_t hl;
	double v;
	int r;

	*seq = 0;
	memset(hash, 0, 32);
	if (fstat(a->fd, &st) != 0)
		return aerr(a, MG_ERR_SYSTEM, "fstat: %s", strerror(errno));
	if (st.st_size == 0)
		return 0;
	from = st.st_size > AUDIT_TAIL ? st.st_size - AUDIT_TAIL : 0;
	n = (size_t)(st.st_size - from);
	if ((buf = malloc(n + 1)) == NULL)
		return MG_ERR_NOMEM;
	if ((got = pread_all(a->fd, buf, n, from)) != 0) {
		free(buf);
		return aerr(a, MG_ERR_IO, "read: %s", got == -1 ? strerror(errno) : "short");
	}
	buf[n] = '\0';
	if (buf[n - 1] != '\n') {
		for (i = n - 1; i > 0 && buf[i - 1] != '\n'; i--)
			;
		if (i == 0 && from > 0) {
			free(buf);
			return aerr(a, MG_ERR_PARSE, "last line longer than %d bytes", AUDIT_TAIL);
		}
		if (ftruncate(a->fd, from + (off_t)i) != 0) {
			free(buf);
			return aerr(a, MG_ERR_IO, "truncate: %s", strerror(errno));
		}
		note(a, LOG_WARNING, "audit: %s: removed a torn last line (%zu bytes) "
		    "left by an interrupted write", a->path, n - i);
		n = i;
		if (n == 0) {
			free(buf);
			return 0;
		}
	}
	/* n > 0 and buf[n-1] == '\n': find the start of the last line. */
	for (ls = n - 1; ls > 0 && buf[ls - 1] != '\n'; ls--)
		;
	if (ls == 0 && from > 0) {
		free(buf);
		return aerr(a, MG_ERR_PARSE, "last line longer than %d bytes", AUDIT_TAIL);
	}
	r = rec_json_parse(&a->j, buf + ls, n - 1 - ls);
	if (r != 0 || rec_json_get_num(&a->j, 0, "seq", &v) != 0 || v < 1 || v > 1e15 ||
	    (h = rec_json_str(&a->j, rec_json_get(&a->j, 0, "hash"), &hl)) == NULL ||
	    rec_hex_decode(h, hl, hash, 32) != 0) {
		free(buf);
		/* Fail closed: appending after a damaged line would hide it. */
		return aerr(a, MG_ERR_PARSE, "last line is damaged; the chain cannot "
		    "continue (run mspgate-replay verify, then rotate the log)");
	}
	*seq = (uint64_t)v;
	free(buf);
	return 0;
}

/* The predecessor's owner may write the log: root, us, the log's owner, the key's owner. */
static int
prev_owner_ok(const struct rec_audit *a, const struct stat *st, const struct stat *cur)
{
	char pwbuf[4096];
	struct passwd pw, *res = NULL;

	if (st->st_uid == 0 || st->st_uid == geteuid() || st->st_uid == cur->st_uid)
		return 1;
	return a->opts.key_owner != NULL &&
	    getpwnam_r(a->opts.key_owner, &pw, pwbuf, sizeof(pwbuf), &res) == 0 &&
	    res != NULL && res->pw_uid == st->st_uid;
}

static void
prev_unknown(struct prev_link *pl, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
prev_unknown(struct prev_link *pl, const char *name, const char *fmt, ...)
{
	va_list ap;
	int n;

	pl->link = REC_AUDIT_LINK_UNKNOWN;
	n = snprintf(pl->error, sizeof(pl->error), "%s: ", name);
	if (n < 0 || (size_t)n >= sizeof(pl->error))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(pl->error + n, sizeof(pl->error) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Shared lock on the predecessor, waiting at most the writers' timeout. */
static int
lock_shared(struct rec_audit *a, int fd)
{
	unsigned waited = 0;

	while (flock(fd, LOCK_SH | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return aerr(a, MG_ERR_SYSTEM, "lock %s.1: %s", a->path, strerror(errno));
		if (waited >= a->opts.lock_timeout_ms)
			return aerr(a, MG_ERR_BUSY, "%s.1 locked by another process for %u ms",
			    a->path, waited);
		usleep(2000);
		waited += 2;
	}
	return 0;
}

/*
 * Parses line 1 (log_start: its log id) and the last complete line (seq
 * and hash) of the predecessor held open in fd, of the given size. A torn
 * last line (a writer died mid-write, never acknowledged) is skipped, not
 * cut off: the predecessor is never written to. Problems go to pl.
 */
static int
prev_read(struct rec_audit *a, int fd, off_t size, const char *name, struct prev_link *pl)
{
	char *buf = NULL;
	const char *s;
	size_t n, end, ls, sl;
	off_t from;
	double v;
	int e, r = 0;

	n = size > AUDIT_TAIL ? AUDIT_TAIL : (size_t)size;
	if ((buf = malloc(n + 1)) == NULL)
		return MG_ERR_NOMEM;
	/* Line 1: the predecessor's log id. */
	if ((e = pread_all(fd, buf, n, 0)) != 0) {
		prev_unknown(pl, name, "read: %s", e == -1 ? strerror(errno) : "short");
		goto out;
	}
	for (end = 0; end < n && buf[end] != '\n'; end++)
		;
	if (end == n || (r = rec_json_parse(&a->j, buf, end)) != 0 ||
	    a->j.n[0].type != REC_JSON_OBJ ||
	    (s = rec_json_get_str(&a->j, 0, "event")) == NULL || strcmp(s, "log_start") != 0 ||
	    rec_json_get_num(&a->j, 0, "seq", &v) != 0 || v != 1 ||
	    (s = rec_json_str(&a->j, rec_json_get(&a->j, 0, "log"), &sl)) == NULL ||
	    sl != 32 || strspn(s, "0123456789abcdef") != 32) {
		if (r == MG_ERR_NOMEM)
			goto out;
		r = 0;
		prev_unknown(pl, name, "line 1 is not a log_start with a log id");
		goto out;
	}
	memcpy(pl->log, s, 33);
	/* The last complete line: its seq and hash. */
	from = size > AUDIT_TAIL ? size - AUDIT_TAIL : 0;
	if ((e = pread_all(fd, buf, n, from)) != 0) {
		prev_unknown(pl, name, "read: %s", e == -1 ? strerror(errno) : "short");
		goto out;
	}
	for (end = n; end > 0 && buf[end - 1] != '\n'; end--)
		;
	if (end < n)
		note(a, LOG_WARNING, "audit: %s: the previous log %s ends in a torn line "
		    "(%zu bytes, never acknowledged): linking to the line before it",
		    a->path, name, n - end);
	if (end == 0) {
		if (from == 0)
			prev_unknown(pl, name, "no complete line");
		else
			prev_unknown(pl, name, "last line longer than %d bytes", AUDIT_TAIL);
		goto out;
	}
	for (ls = end - 1; ls > 0 && buf[ls - 1] != '\n'; ls--)
		;
	if (ls == 0 && from > 0) {
		prev_unknown(pl, name, "last line longer than %d bytes", AUDIT_TAIL);
		goto out;
	}
	if ((r = rec_json_parse(&a->j, buf + ls, end - 1 - ls)) != 0 ||
	    a->j.n[0].type != REC_JSON_OBJ ||
	    rec_json_get_num(&a->j, 0, "seq", &v) != 0 || v < 1 || v > 1e15 ||
	    (s = rec_json_str(&a->j, rec_json_get(&a->j, 0, "hash"), &sl)) == NULL ||
	    rec_hex_decode(s, sl, pl->hash, 32) != 0) {
		if (r == MG_ERR_NOMEM)
			goto out;
		r = 0;
		prev_unknown(pl, name, "last line is damaged");
		goto out;
	}
	pl->seq = (uint64_t)v;
	pl->link = REC_AUDIT_LINK_PREV;
out:
	free(buf);
	return r;
}

/*
 * A new log (the path was missing or empty: cur is our file, locked)
 * links to the log rotated away before it. The shipped logrotate
 * configuration (nocreate, no dateext, delaycompress) leaves that log
 * at PATH.1, uncompressed. Its tail is read under a shared lock: a writer
 * that checked, under its exclusive lock, that the path still named the
 * old file just before the rotation renamed it may still be appending;
 * every writer that locks the old file after the rename sees that the
 * path names another file and follows it (lock_log), so once we hold the
 * lock no line can be added to PATH.1 any more. A PATH.1 that cannot be
 * used does not stop the log (that would refuse every login until an
 * administrator stepped in): log_start then records prev_error, which
 * verify reports as a broken chain, and syslog says why. Returns 0,
 * PREV_MOVED when our own file was rotated meanwhile, or an MG_ERR_*.
 */
static int
find_prev(struct rec_audit *a, const struct stat *cur, struct prev_link *pl)
{
	char p1[PATH_MAX], name[NAME_MAX + 3];
	const char *base;
	struct stat st;
	int fd = -1, r = 0;

	memset(pl, 0, sizeof(*pl));
	base = strrchr(a->path, '/');
	base = base != NULL ? base + 1 : a->path;
	snprintf(name, sizeof(name), "%s.1", base);
	if (snprintf(p1, sizeof(p1), "%s.1", a->path) >= (int)sizeof(p1))
		return aerr(a, MG_ERR_INVAL, "path too long");
	/* Not a symlink: someone else's file must not become our link. */
	fd = open(p1, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) {
			note(a, LOG_NOTICE, "audit: %s: starting a new log with no link to a "
			    "previous one (no %s)", a->path, name);
			return 0;
		}
		prev_unknown(pl, name, "%s", errno == ELOOP ? "a symbolic link" :
		    strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		prev_unknown(pl, name, "fstat: %s", strerror(errno));
		goto out;
	}
	if (st.st_dev == cur->st_dev && st.st_ino == cur->st_ino) {
		r = PREV_MOVED;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		prev_unknown(pl, name, "not a regular file");
		goto out;
	}
	if (!prev_owner_ok(a, &st, cur) || (st.st_mode & S_IWOTH)) {
		prev_unknown(pl, name, "owned by uid %u, mode %04o: not trusted",
		    (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	pl->owner_ok = 1;
	pl->uid = st.st_uid;
	pl->gid = st.st_gid;
	if ((r = lock_shared(a, fd)) != 0)
		goto out;
	/* Its size now: a writer may have finished a line while we waited. */
	if (fstat(fd, &st) != 0) {
		prev_unknown(pl, name, "fstat: %s", strerror(errno));
		goto out;
	}
	if (st.st_size == 0)
		prev_unknown(pl, name, "empty");
	else
		r = prev_read(a, fd, st.st_size, name, pl);
out:
	if (fd >= 0)
		close(fd);
	if (r == 0 && pl->link == REC_AUDIT_LINK_UNKNOWN)
		note(a, LOG_WARNING, "audit: %s: starting a new log that cannot link to the "
		    "previous one: %s (recorded as prev_error in log_start)", a->path,
		    pl->error);
	return r;
}

static int
add_str(struct rec_buf *b, const char *key, const char *val)
{
	char tmp[FIELD_MAX + 1];
	int r;

	if (val == NULL)
		return 0;
	/* Bounded: an engineer or a peer chose these strings. */
	snprintf(tmp, sizeof(tmp), "%s", val);
	if ((r = rec_buf_addf(b, ",\"%s\":", key)) != 0)
		return r;
	return rec_buf_json_cstr(b, tmp);
}

static const char *
default_result(enum rec_audit_type t)
{
	switch (t) {
	case REC_AUDIT_AUTH_SUCCESS:
	case REC_AUDIT_SESSION_START:
		return "success";
	case REC_AUDIT_AUTH_FAILURE:
	case REC_AUDIT_LOCKOUT:
		return "failure";
	case REC_AUDIT_DENIED:
	case REC_AUDIT_TERMINATED:
		return "denied";
	default:
		return "info";
	}
}

/* Builds one complete signed line (with newline) into out. */
static int
build_line(struct rec_audit *a, const struct rec_audit_event *ev, uint64_t seq,
    const struct prev_link *pl, const uint8_t prev[32], uint8_t hash[32],
    struct rec_buf *out)
{
	struct rec_buf msg = { 0 };
	uint8_t sig[REC_SIG_LEN];
	time_t t = ev->time ? ev->time : mg_clock_now();
	size_t start = out->len, body;
	char ts[32];
	struct tm tm;
	int r;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if ((r = rec_buf_addf(out, "{\"time\":\"%s\",\"ts\":%lld,\"seq\":%" PRIu64
	    ",\"event\":\"%s\"", ts, (long long)t, seq, rec_audit_type_name(ev->type))) != 0)
		goto out;
	if (ev->type == REC_AUDIT_LOG_START) {
		uint8_t id[16];

		if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id)) {
			r = MG_ERR_SYSTEM;
			goto out;
		}
		if ((r = rec_buf_adds(out, ",\"log\":\"")) != 0 ||
		    (r = rec_buf_hex(out, id, sizeof(id))) != 0 ||
		    (r = rec_buf_adds(out, "\",\"key\":\"")) != 0 ||
		    (r = rec_buf_adds(out, rec_key_id(a->key))) != 0 ||
		    (r = rec_buf_adds(out, "\"")) != 0)
			goto out;
		/* The link to the log rotated away before this one. */
		if (pl != NULL && pl->link == REC_AUDIT_LINK_PREV &&
		    ((r = rec_buf_addf(out, ",\"prev_log\":\"%s\",\"prev_seq\":%" PRIu64
		    ",\"prev_hash\":\"", pl->log, pl->seq)) != 0 ||
		    (r = rec_buf_hex(out, pl->hash, 32)) != 0 ||
		    (r = rec_buf_adds(out, "\"")) != 0))
			goto out;
		if (pl != NULL && pl->link == REC_AUDIT_LINK_UNKNOWN &&
		    (r = add_str(out, "prev_error", pl->error)) != 0)
			goto out;
	}
	if ((r = add_str(out, "session", ev->session)) != 0 ||
	    (r = add_str(out, "engineer", ev->engineer)) != 0 ||
	    (r = add_str(out, "tenant", ev->tenant)) != 0 ||
	    (r = add_str(out, "target", ev->target)) != 0 ||
	    (r = add_str(out, "login", ev->login)) != 0 ||
	    (r = add_str(out, "source", ev->source)) != 0 ||
	    (r = add_str(out, "ticket", ev->ticket)) != 0 ||
	    (r = add_str(out, "result", ev->result ? ev->result : default_result(ev->type))) != 0 ||
	    (r = add_str(out, "reason", ev->reason)) != 0 ||
	    (r = add_str(out, "rule", ev->rule)) != 0)
		goto out;
	if (ev->has_stats && (r = rec_buf_addf(out, ",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%"
	    PRIu64 ",\"duration\":%lld", ev->bytes_in, ev->bytes_out,
	    (long long)ev->duration)) != 0)
		goto out;
	if (ev->has_exit && (r = rec_buf_addf(out, ",\"exit\":%d", ev->exit_status)) != 0)
		goto out;
	if ((r = add_str(out, "recording", ev->recording)) != 0 ||
	    (r = add_str(out, "seal", ev->seal)) != 0 ||
	    (r = rec_buf_addf(out, ",\"pid\":%ld,\"prev\":\"", (long)getpid())) != 0 ||
	    (r = rec_buf_hex(out, prev, 32)) != 0 ||
	    (r = rec_buf_adds(out, "\"")) != 0)
		goto out;
	body = out->len - start;
	if ((r = rec_audit_sha256(AUDIT_TAG, strlen(AUDIT_TAG), out->p + start, body, hash)) != 0 ||
	    (r = rec_audit_sig_message(&msg, hash)) != 0 ||
	    (r = rec_key_sign(a->key, msg.p, msg.len, sig)) != 0 ||
	    (r = rec_buf_adds(out, HASH_KEY)) != 0 ||
	    (r = rec_buf_hex(out, hash, 32)) != 0 ||
	    (r = rec_buf_adds(out, SIG_KEY)) != 0 ||
	    (r = rec_buf_base64(out, sig, sizeof(sig))) != 0 ||
	    (r = rec_buf_adds(out, "\"}\n")) != 0)
		goto out;
out:
	rec_buf_free(&msg);
	return r;
}

/* The fixed-format syslog line: bounded, escaped, one per event. */
static void
log_line(struct rec_audit *a, const struct rec_audit_event *ev, uint64_t seq,
    const uint8_t hash[32])
{
	char f[8][140], reason[220], line[1700];
	const char *v[8] = { ev->session, ev->engineer, ev->tenant, ev->target, ev->login,
	    ev->source, ev->rule, ev->result ? ev->result : default_result(ev->type) };
	int i, prio;

	for (i = 0; i < 8; i++)
		mg_str_escape(v[i] ? v[i] : "-", 100, f[i], sizeof(f[i]));
	mg_str_escape(ev->reason ? ev->reason : "", 200, reason, sizeof(reason));
	snprintf(line, sizeof(line), "audit: event=%s result=%s session=%s engineer=%s "
	    "tenant=%s target=%s login=%s source=%s rule=%s reason=\"%s\" seq=%" PRIu64
	    " hash=%02x%02x%02x%02x%02x%02x%02x%02x", rec_audit_type_name(ev->type), f[7],
	    f[0], f[1], f[2], f[3], f[4], f[5], f[6], reason, seq, hash[0], hash[1],
	    hash[2], hash[3], hash[4], hash[5], hash[6], hash[7]);
	switch (ev->type) {
	case REC_AUDIT_AUTH_FAILURE:
	case REC_AUDIT_LOCKOUT:
	case REC_AUDIT_DENIED:
	case REC_AUDIT_TERMINATED:
	case REC_AUDIT_ALERT:
	case REC_AUDIT_OPERATOR_KILL:
		prio = LOG_WARNING;
		break;
	default:
		prio = LOG_INFO;
	}
	if (!a->opts.no_syslog)
		syslog(LOG_AUTHPRIV | prio, "%s", line);
	if (a->opts.log_fn != NULL)
		a->opts.log_fn(prio, line, a->opts.log_ctx);
}

static int
write_all(struct rec_audit *a, const struct rec_buf *b, off_t size_before, int sync)
{
	size_t off = 0;

	while (off < b->len) {
		ssize_t n = write(a->fd, b->p + off, b->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = errno;

			/* Leave no torn line behind: the event did not happen. */
			if (ftruncate(a->fd, size_before) != 0) {
				/* The next writer cuts it off instead. */
			}
			return aerr(a, MG_ERR_IO, "write: %s", n < 0 ? strerror(e) : "short");
		}
		off += (size_t)n;
	}
	if (sync && fdatasync(a->fd) != 0)
		return aerr(a, MG_ERR_IO, "fsync: %s", strerror(errno));
	return 0;
}

/* 1 when the path still names the file we hold. */
static int
still_ours(const struct rec_audit *a, const struct stat *st)
{
	struct stat s2;

	return lstat(a->path, &s2) == 0 && s2.st_dev == st->st_dev && s2.st_ino == st->st_ino;
}

int
rec_audit_event(struct rec_audit *a, const struct rec_audit_event *ev)
{
	struct rec_audit_event start = { 0 };
	struct rec_buf line = { 0 };
	struct prev_link pl;
	uint8_t prev[32], hash[32], shash[32];
	uint64_t seq, sseq = 0;
	struct stat st;
	int r, tries;

	a->errmsg[0] = '\0';
	if ((unsigned)ev->type >= REC_AUDIT_LOG_START)
		return aerr(a, MG_ERR_INVAL, "bad event type");
	for (tries = 0;; tries++) {
		if ((r = lock_log(a)) != 0)
			return r;
		if ((r = read_last(a, &seq, prev)) != 0)
			goto out;
		if (fstat(a->fd, &st) != 0) {
			r = aerr(a, MG_ERR_SYSTEM, "fstat: %s", strerror(errno));
			goto out;
		}
		if (seq != 0)
			break;
		if ((r = find_prev(a, &st, &pl)) < 0)
			goto out;
		/*
		 * Our (empty) file was rotated away while we read PATH.1:
		 * nothing was written; start again in the file now at path.
		 */
		if (r == PREV_MOVED || !still_ours(a, &st)) {
			flock(a->fd, LOCK_UN);
			if (tries < 5)
				continue;
			return aerr(a, MG_ERR_BUSY, "rotated again and again while starting "
			    "a new log");
		}
		break;
	}
	if (seq == 0) {
		/*
		 * A new log started by root (the PAM module in sshd) takes the
		 * owner of the log before it, so that mspgated, which runs as
		 * the service account, can still append to it.
		 */
		if (pl.owner_ok && geteuid() == 0 && (st.st_uid != pl.uid ||
		    st.st_gid != pl.gid) && fchown(a->fd, pl.uid, pl.gid) != 0)
			note(a, LOG_WARNING, "audit: %s: cannot give the new log to uid %u: "
			    "%s", a->path, (unsigned)pl.uid, strerror(errno));
		else if (!pl.owner_ok)
			give_new_log(a, &st);
		/* A new log starts with its own random id, bound into the chain. */
		start.type = REC_AUDIT_LOG_START;
		start.time = ev->time;
		sseq = ++seq;
		if ((r = build_line(a, &start, seq, &pl, prev, shash, &line)) != 0)
			goto out;
		memcpy(prev, shash, 32);
	}
	if ((r = build_line(a, ev, ++seq, NULL, prev, hash, &line)) != 0 ||
	    (r = write_all(a, &line, st.st_size, !ev->lazy || sseq != 0)) != 0)
		goto out;
	if (sseq != 0)
		log_line(a, &start, sseq, shash);
	log_line(a, ev, seq, hash);
out:
	if (r == MG_ERR_NOMEM)
		aerr(a, r, "out of memory");
	else if (r != 0 && a->errmsg[0] == '\0')
		aerr(a, r, "%s", mg_strerror(r));
	flock(a->fd, LOCK_UN);
	rec_buf_free(&line);
	return r;
}
