/* SPDX-License-Identifier: BSD-2-Clause */
/* The audit log: fields, chain, signatures, tampering, torn lines, concurrent writers, rotation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mg_err.h"
#include "rec_audit.h"
#include "rec_buf.h"
#include "rec_json.h"
#include "test_recorder_util.h"

int main(void);
int fdatasync(int fd);

/* The log's data syncs, counted: this definition stands in for libc's. */
static unsigned nsyncs;

int
fdatasync(int fd)
{
	nsyncs++;
	return (int)syscall(SYS_fdatasync, fd);
}

static char logged[4096];

static void
capture(int prio, const char *line, void *ctx)
{
	(void)prio;
	(void)ctx;
	snprintf(logged, sizeof(logged), "%s", line);
}

static struct rec_audit *
open_log(const char *name, char *path, size_t plen)
{
	struct rec_audit_opts o = { .no_syslog = 1, .log_fn = capture };
	struct rec_audit *a = NULL;
	char key[128], err[256];

	snprintf(path, plen, "%s/%s", dir, name);
	snprintf(key, sizeof(key), "%s/k.pem", dir);
	assert_int_equal(rec_audit_open(path, key, &o, &a, err, sizeof(err)), 0);
	return a;
}

static void
slurp(const char *path, struct rec_buf *b)
{
	FILE *f = fopen(path, "rb");
	int c;

	assert_non_null(f);
	rec_buf_reset(b);
	while ((c = fgetc(f)) != EOF)
		rec_buf_addc(b, c);
	fclose(f);
}

static void
spill(const char *path, const struct rec_buf *b)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b->p, 1, b->len, f), b->len);
	fclose(f);
}

static struct rec_verify_result
verify(const char *path)
{
	struct rec_verify_result res;

	assert_int_equal(rec_audit_verify_file(path, pub, &res), 0);
	return res;
}

static void
test_fields(void **state)
{
	struct rec_audit_event ev = { 0 };
	struct rec_json j = { 0 };
	struct rec_buf b = { 0 };
	struct rec_verify_result res;
	char path[128];
	struct rec_audit *a = open_log("fields.jsonl", path, sizeof(path));
	char *second;
	double v;

	(void)state;
	ev.type = REC_AUDIT_SESSION_END;
	ev.time = 1700000000;
	ev.session = "S-1";
	ev.engineer = "alice";
	ev.tenant = "acme";
	ev.target = "web01";
	ev.login = "deploy";
	ev.source = "192.0.2.7";
	ev.reason = "logout";
	ev.rule = "grants[0]";
	ev.has_stats = 1;
	ev.bytes_in = 12;
	ev.bytes_out = 3400;
	ev.duration = 61;
	ev.has_exit = 1;
	ev.exit_status = 0;
	ev.recording = "S-1.cast";
	ev.seal = "sha256:00";
	assert_int_equal(rec_audit_event(a, &ev), 0);
	rec_audit_close(a);
	slurp(path, &b);
	/* Line 1 is log_start; line 2 the event. */
	assert_non_null(second = strchr((char *)b.p, '\n'));
	second++;
	assert_int_equal(rec_json_parse(&j, second, strlen(second) - 1), 0);
	assert_string_equal(rec_json_get_str(&j, 0, "event"), "session_end");
	assert_string_equal(rec_json_get_str(&j, 0, "time"), "2023-11-14T22:13:20Z");
	assert_string_equal(rec_json_get_str(&j, 0, "engineer"), "alice");
	assert_string_equal(rec_json_get_str(&j, 0, "tenant"), "acme");
	assert_string_equal(rec_json_get_str(&j, 0, "target"), "web01");
	assert_string_equal(rec_json_get_str(&j, 0, "login"), "deploy");
	assert_string_equal(rec_json_get_str(&j, 0, "source"), "192.0.2.7");
	assert_string_equal(rec_json_get_str(&j, 0, "result"), "info");
	assert_string_equal(rec_json_get_str(&j, 0, "reason"), "logout");
	assert_string_equal(rec_json_get_str(&j, 0, "rule"), "grants[0]");
	assert_string_equal(rec_json_get_str(&j, 0, "seal"), "sha256:00");
	assert_int_equal(rec_json_get_num(&j, 0, "bytes_out", &v), 0);
	assert_true(v == 3400);
	assert_int_equal(rec_json_get_num(&j, 0, "duration", &v), 0);
	assert_true(v == 61);
	assert_int_equal(rec_json_get_num(&j, 0, "seq", &v), 0);
	assert_true(v == 2);
	/* One fixed-format syslog line. */
	assert_non_null(strstr(logged, "audit: event=session_end result=info session=S-1 "
	    "engineer=alice tenant=acme target=web01 login=deploy source=192.0.2.7 "
	    "rule=grants[0] reason=\"logout\" seq=2 hash="));
	res = verify(path);
	assert_int_equal(res.status, REC_VERIFY_OK);
	rec_json_free(&j);
	rec_buf_free(&b);
}

/*
 * A lazy event (a PAM session opened or closed) is written without a sync
 * of its own; every other event, and a new log's first line, is synced,
 * and the chain is whole either way.
 */
static void
test_lazy_event(void **state)
{
	struct rec_audit_event ev = { 0 };
	struct rec_verify_result res;
	struct rec_buf b = { 0 };
	char path[128];
	struct rec_audit *a = open_log("lazy.jsonl", path, sizeof(path));

	(void)state;
	ev.type = REC_AUDIT_SESSION_START;
	ev.engineer = "alice";
	ev.reason = "pam session opened";
	ev.lazy = 1;
	/* A new log: its log_start line and this event go down with a sync. */
	nsyncs = 0;
	assert_int_equal(rec_audit_event(a, &ev), 0);
	assert_int_equal(nsyncs, 1);
	nsyncs = 0;
	assert_int_equal(rec_audit_event(a, &ev), 0);
	assert_int_equal(nsyncs, 0);
	ev.type = REC_AUDIT_AUTH_SUCCESS;
	ev.reason = "login";
	ev.lazy = 0;
	assert_int_equal(rec_audit_event(a, &ev), 0);
	assert_int_equal(nsyncs, 1);
	rec_audit_close(a);
	slurp(path, &b);
	assert_non_null(strstr((char *)b.p, "\"seq\":3"));
	res = verify(path);
	assert_int_equal(res.status, REC_VERIFY_OK);
	assert_int_equal(res.total_lines, 4);
	rec_buf_free(&b);
}

static void
test_hostile_strings(void **state)
{
	struct rec_audit_event ev = { 0 };
	struct rec_verify_result res;
	char path[128], longs[2000];
	struct rec_audit *a = open_log("hostile.jsonl", path, sizeof(path));

	(void)state;
	memset(longs, 'A', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	ev.type = REC_AUDIT_AUTH_FAILURE;
	ev.engineer = "eve\n2024 fake line\"},{\"event\":\"x";
	ev.source = "\x1b[31m\xff\xfe";
	ev.reason = longs;
	assert_int_equal(rec_audit_event(a, &ev), 0);
	/* Escaped and bounded in syslog: no newline, no ESC, no raw quote. */
	assert_null(strchr(logged, '\n'));
	assert_null(strchr(logged, '\x1b'));
	assert_non_null(strstr(logged, "engineer=eve\\x0a2024"));
	assert_true(strlen(logged) < 1200);
	rec_audit_close(a);
	res = verify(path);
	assert_int_equal(res.status, REC_VERIFY_OK);
	assert_int_equal(res.total_lines, 2);
}

static void
write_n(const char *name, int n, char *path, size_t plen)
{
	struct rec_audit_event ev = { 0 };
	struct rec_audit *a = open_log(name, path, plen);
	char sid[32];
	int i;

	unlink(path);
	for (i = 0; i < n; i++) {
		snprintf(sid, sizeof(sid), "S%d", i);
		ev.type = (enum rec_audit_type)(i % REC_AUDIT_LOG_START);
		ev.session = sid;
		ev.engineer = "alice";
		assert_int_equal(rec_audit_event(a, &ev), 0);
	}
	rec_audit_close(a);
}

static size_t
line_start(const struct rec_buf *b, int lineno)
{
	size_t i, l = 1;

	if (lineno == 1)
		return 0;
	for (i = 0; i < b->len; i++) {
		if (b->p[i] == '\n' && ++l == (size_t)lineno)
			return i + 1;
	}
	return b->len;
}

static void
test_tampering(void **state)
{
	struct rec_buf b = { 0 }, c = { 0 };
	struct rec_verify_result res;
	char path[128];
	size_t i, a, e, m;

	(void)state;
	write_n("t.jsonl", 6, path, sizeof(path));
	slurp(path, &c);
	res = verify(path);
	assert_int_equal(res.status, REC_VERIFY_OK);
	/* Every single-byte change is caught, with its line. */
	for (i = 0; i < c.len; i++) {
		rec_buf_reset(&b);
		rec_buf_add(&b, c.p, c.len);
		b.p[i] = b.p[i] == 'x' ? 'y' : b.p[i] == '\n' ? ' ' : 'x';
		assert_int_equal(rec_audit_verify_mem(b.p, b.len, pub, &res), 0);
		if (res.status == REC_VERIFY_OK)
			fail_msg("byte %zu changed and still OK", i);
	}
	/* "alice" -> "alicf" on line 4: found on line 4. */
	rec_buf_reset(&b);
	rec_buf_add(&b, c.p, c.len);
	a = line_start(&b, 4);
	((char *)memmem(b.p + a, 300, "alice", 5))[4] = 'f';
	assert_int_equal(rec_audit_verify_mem(b.p, b.len, pub, &res), 0);
	assert_int_equal(res.status, REC_VERIFY_FAILED);
	assert_int_equal(res.line, 4);
	assert_non_null(strstr(res.msg, "line 4 "));
	/* Line 3 deleted. */
	rec_buf_reset(&b);
	a = line_start(&c, 3);
	e = line_start(&c, 4);
	rec_buf_add(&b, c.p, a);
	rec_buf_add(&b, c.p + e, c.len - e);
	assert_int_equal(rec_audit_verify_mem(b.p, b.len, pub, &res), 0);
	assert_int_equal(res.status, REC_VERIFY_FAILED);
	assert_int_equal(res.line, 3);
	/* Lines 3 and 4 swapped. */
	rec_buf_reset(&b);
	m = line_start(&c, 5);
	rec_buf_add(&b, c.p, a);
	rec_buf_add(&b, c.p + e, m - e);
	rec_buf_add(&b, c.p + a, e - a);
	rec_buf_add(&b, c.p + m, c.len - m);
	assert_int_equal(rec_audit_verify_mem(b.p, b.len, pub, &res), 0);
	assert_int_equal(res.status, REC_VERIFY_FAILED);
	assert_int_equal(res.line, 3);
	/* The first line deleted (renumbering cannot hide it). */
	rec_buf_reset(&b);
	e = line_start(&c, 2);
	rec_buf_add(&b, c.p + e, c.len - e);
	assert_int_equal(rec_audit_verify_mem(b.p, b.len, pub, &res), 0);
	assert_int_equal(res.status, REC_VERIFY_FAILED);
	rec_buf_free(&b);
	rec_buf_free(&c);
}

static void
test_torn_line(void **state)
{
	struct rec_buf b = { 0 };
	struct rec_verify_result res;
	struct rec_audit_event ev = { 0 };
	struct rec_audit *a;
	char path[128];

	(void)state;
	write_n("torn.jsonl", 3, path, sizeof(path));
	slurp(path, &b);
	/* A writer died in the middle of line 5. */
	rec_buf_adds(&b, "{\"time\":\"2026-01-01T00:00:00Z\",\"ts\":1,\"seq\":5,\"ev");
	spill(path, &b);
	res = verify(path);
	assert_int_equal(res.status, REC_VERIFY_INCOMPLETE);
	assert_int_equal(res.line, 5);
	/* The next writer cuts it off and continues the chain. */
	a = open_log("torn.jsonl", path, sizeof(path));
	ev.type = REC_AUDIT_POLICY_RELOAD;
	assert_int_equal(rec_audit_event(a, &ev), 0);
	rec_audit_close(a);
	res = verify(path);
	assert_int_equal(res.status, REC_VERIFY_OK);
	assert_int_equal(res.total_lines, 5);
	/* A damaged last line stops writers (fail closed). */
	slurp(path, &b);
	b.p[b.len - 2] = 'x';	/* the closing brace */
	spill(path, &b);
	a = open_log("torn.jsonl", path, sizeof(path));
	assert_int_equal(rec_audit_event(a, &ev), MG_ERR_PARSE);
	assert_non_null(strstr(rec_audit_errmsg(a), "damaged"));
	rec_audit_close(a);
	rec_buf_free(&b);
}

/* A writer process: n events as engineer "wI", sessions "0".."n-1"; exits. */
static void __attribute__((noreturn))
writer(const char *path, int i, int n)
{
	struct rec_audit_opts o = { .no_syslog = 1 };
	struct rec_audit_event ev = { 0 };
	struct rec_audit *a;
	char key[128], err[256], sid[32], who[16];
	int k;

	snprintf(key, sizeof(key), "%s/k.pem", dir);
	if (rec_audit_open(path, key, &o, &a, err, sizeof(err)) != 0)
		_exit(2);
	snprintf(who, sizeof(who), "w%d", i);
	for (k = 0; k < n; k++) {
		snprintf(sid, sizeof(sid), "%d", k);
		ev.type = REC_AUDIT_AUTH_SUCCESS;
		ev.engineer = who;
		ev.session = sid;
		if (rec_audit_event(a, &ev) != 0)
			_exit(3);
	}
	rec_audit_close(a);
	_exit(0);
}

/* 8 processes x 1000 events at once: all there, chain valid. */
static void
test_concurrent(void **state)
{
	struct rec_verify_result res;
	struct rec_json j = { 0 };
	struct rec_buf b = { 0 };
	char path[128], *p, *nl;
	static unsigned char seen[8][1000];
	pid_t pids[8];
	int i, st;

	(void)state;
	snprintf(path, sizeof(path), "%s/many.jsonl", dir);
	unlink(path);
	for (i = 0; i < 8; i++) {
		if ((pids[i] = fork()) == 0)
			writer(path, i, 1000);
		assert_true(pids[i] > 0);
	}
	for (i = 0; i < 8; i++) {
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	res = verify(path);
	if (res.status != REC_VERIFY_OK)
		fail_msg("%s", res.msg);
	assert_int_equal(res.total_lines, 8001);
	slurp(path, &b);
	memset(seen, 0, sizeof(seen));
	for (p = strchr((char *)b.p, '\n') + 1; *p != '\0'; p = nl + 1) {
		const char *who, *sid;

		nl = strchr(p, '\n');
		assert_int_equal(rec_json_parse(&j, p, (size_t)(nl - p)), 0);
		who = rec_json_get_str(&j, 0, "engineer");
		sid = rec_json_get_str(&j, 0, "session");
		seen[who[1] - '0'][atoi(sid)]++;
	}
	for (i = 0; i < 8000; i++)
		assert_int_equal(seen[i / 1000][i % 1000], 1);
	rec_json_free(&j);
	rec_buf_free(&b);
}

/* Writes n events through a (which follows a rotated path). */
static void
events(struct rec_audit *a, int n, const char *who, time_t t)
{
	struct rec_audit_event ev = { 0 };
	int i;

	for (i = 0; i < n; i++) {
		ev.type = REC_AUDIT_AUTH_SUCCESS;
		ev.time = t;
		ev.engineer = who;
		if (rec_audit_event(a, &ev) != 0)
			fail_msg("%s", rec_audit_errmsg(a));
	}
}

static void
info_of(const char *path, struct rec_audit_info *info)
{
	struct rec_verify_result res;

	memset(info, 0, sizeof(*info));
	info->name = strrchr(path, '/') + 1;
	if (rec_audit_verify_file_info(path, pub, &res, info) != 0)
		fail_msg("%s: %s", path, res.msg);
}

/* The line-1 member key of the log at path, as a string ("" if absent). */
static void
start_field(const char *path, const char *key, char *out, size_t len)
{
	struct rec_json j = { 0 };
	struct rec_buf b = { 0 };
	const char *s;
	double v;
	char *nl;

	slurp(path, &b);
	assert_non_null(nl = memchr(b.p, '\n', b.len));
	assert_int_equal(rec_json_parse(&j, (char *)b.p, (size_t)(nl - (char *)b.p)), 0);
	if ((s = rec_json_get_str(&j, 0, key)) != NULL)
		snprintf(out, len, "%s", s);
	else if (rec_json_get_num(&j, 0, key, &v) == 0)
		snprintf(out, len, "%.0f", v);
	else
		out[0] = '\0';
	rec_json_free(&j);
	rec_buf_free(&b);
}

/* Rotates base: base.N-1 -> base.N ... base -> base.1, as logrotate does. */
static void
rotate(const char *base, int keep)
{
	char from[160], to[160];
	int i;

	for (i = keep; i > 0; i--) {
		snprintf(from, sizeof(from), i == 1 ? "%s" : "%s.%d", base, i - 1);
		snprintf(to, sizeof(to), "%s.%d", base, i);
		if (rename(from, to) != 0 && errno != ENOENT)
			fail_msg("rename %s: %s", from, strerror(errno));
	}
}

static void
rm_logs(const char *base)
{
	char p[160];
	int i;

	unlink(base);
	for (i = 1; i < 10; i++) {
		snprintf(p, sizeof(p), "%s.%d", base, i);
		unlink(p);
	}
}

/* A rotated log's successor names it: log id, last seq, last hash. */
static void
test_rotate_link(void **state)
{
	struct rec_audit_info v[3];
	size_t order[3], no;
	char path[128], p1[160], p2[160], s[128], h[80];
	struct rec_audit *a = open_log("rot.jsonl", path, sizeof(path));

	(void)state;
	snprintf(p1, sizeof(p1), "%s.1", path);
	snprintf(p2, sizeof(p2), "%s.2", path);
	rm_logs(path);
	logged[0] = '\0';
	events(a, 3, "alice", 0);
	/* The first log: no link, and syslog says so. */
	assert_non_null(strstr(logged, "event=auth_success"));
	start_field(path, "prev_log", s, sizeof(s));
	assert_string_equal(s, "");
	rotate(path, 2);
	/* The same handle follows the rotation into a new log. */
	events(a, 2, "bob", 0);
	rotate(path, 2);
	events(a, 1, "carol", 0);
	rec_audit_close(a);
	info_of(p2, &v[0]);
	info_of(path, &v[1]);
	info_of(p1, &v[2]);
	assert_int_equal(v[0].ok && v[1].ok && v[2].ok, 1);
	assert_int_equal(v[0].last_seq, 4);
	assert_int_equal(v[2].link, REC_AUDIT_LINK_PREV);
	assert_string_equal(v[2].prev_log, v[0].log);
	assert_int_equal(v[2].prev_seq, 4);
	assert_memory_equal(v[2].prev_hash, v[0].last_hash, 32);
	start_field(p1, "prev_seq", s, sizeof(s));
	assert_string_equal(s, "4");
	start_field(p1, "prev_hash", h, sizeof(h));
	assert_int_equal(strlen(h), 64);
	assert_int_equal(v[1].link, REC_AUDIT_LINK_PREV);
	assert_string_equal(v[1].prev_log, v[2].log);
	/* Given in any order, the chain is put in order. */
	assert_int_equal(rec_audit_chain(v, 3, order, &no), 0);
	assert_int_equal(no, 3);
	assert_int_equal(order[0], 0);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 1);
	/* The newest alone: its link to a log not given is a note. */
	assert_int_equal(rec_audit_chain(&v[1], 1, order, &no), 0);
	assert_non_null(strstr(v[1].chain_msg, "(not given)"));
	rm_logs(path);
}

/* A PATH.1 left from an old rotation: no link when the log already runs. */
static void
test_rotate_leftover(void **state)
{
	char path[128], s[128];
	struct rec_audit *a = open_log("left.jsonl", path, sizeof(path));

	(void)state;
	rm_logs(path);
	events(a, 2, "alice", 0);
	rotate(path, 1);
	events(a, 1, "bob", 0);
	start_field(path, "prev_seq", s, sizeof(s));
	assert_string_equal(s, "3");
	events(a, 1, "carol", 0);
	/* Still one log_start: line 1. */
	start_field(path, "seq", s, sizeof(s));
	assert_string_equal(s, "1");
	rec_audit_close(a);
	rm_logs(path);
}

static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/*
 * A predecessor that cannot be read does not stop the log (fail closed
 * would refuse every login), but log_start says so and the chain fails.
 */
static void
test_rotate_bad_prev(void **state)
{
	static const struct {
		const char *what, *text, *want;
	} t[] = {
		{ "damaged last line", NULL, "last line is damaged" },
		{ "not a log", "hello\n", "line 1 is not a log_start" },
		{ "empty", "", "empty" },
		{ "symlink", "->", "a symbolic link" },
		{ "torn last line", "torn", NULL },
	};
	struct rec_audit_info v[2];
	struct rec_buf b = { 0 };
	size_t order[2], no, i;
	char path[128], p1[160], s[300];
	struct rec_audit *a;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		a = open_log("bad.jsonl", path, sizeof(path));
		snprintf(p1, sizeof(p1), "%s.1", path);
		rm_logs(path);
		events(a, 3, "alice", 0);
		rotate(path, 1);
		if (t[i].text == NULL) {
			slurp(p1, &b);
			b.p[b.len - 2] = 'x';
			spill(p1, &b);
		} else if (strcmp(t[i].text, "->") == 0) {
			unlink(p1);
			assert_int_equal(symlink("/etc/passwd", p1), 0);
		} else if (strcmp(t[i].text, "torn") == 0) {
			slurp(p1, &b);
			rec_buf_adds(&b, "{\"time\":\"2026-01");
			spill(p1, &b);
		} else
			put(p1, t[i].text);
		logged[0] = '\0';
		/* The new log is still written. */
		events(a, 1, "bob", 0);
		rec_audit_close(a);
		start_field(path, "prev_error", s, sizeof(s));
		if (t[i].want == NULL) {
			/* A torn line was never acknowledged: link to the one before. */
			assert_string_equal(s, "");
			start_field(path, "prev_seq", s, sizeof(s));
			assert_string_equal(s, "4");
			info_of(p1, &v[0]);
			info_of(path, &v[1]);
			assert_int_equal(rec_audit_chain(v, 2, order, &no), 0);
			continue;
		}
		if (strstr(s, t[i].want) == NULL || strstr(s, "bad.jsonl.1: ") != s)
			fail_msg("%s: prev_error \"%s\"", t[i].what, s);
		info_of(path, &v[0]);
		assert_int_equal(v[0].link, REC_AUDIT_LINK_UNKNOWN);
		assert_int_equal(rec_audit_chain(v, 1, order, &no), 1);
		assert_non_null(strstr(v[0].chain_msg, "could not read"));
	}
	rec_buf_free(&b);
	rm_logs(path);
}

/* Gaps, truncations, forks and second chain starts are each reported. */
static void
test_chain_breaks(void **state)
{
	struct rec_audit_info v[4];
	struct rec_buf b = { 0 };
	size_t order[4], no;
	char path[128], p[4][160], fork[160];
	struct rec_audit *a = open_log("brk.jsonl", path, sizeof(path));
	int i;

	(void)state;
	rm_logs(path);
	for (i = 0; i < 4; i++)
		snprintf(p[i], sizeof(p[i]), i < 3 ? "%s.%d" : "%s", path, 3 - i);
	/* brk.jsonl.3 -> .2 -> .1 -> brk.jsonl */
	for (i = 0; i < 4; i++) {
		if (i > 0)
			rotate(path, 3);
		events(a, 2 + i, "alice", 1700000000 + 1000 * i);
	}
	for (i = 0; i < 4; i++)
		info_of(p[i], &v[i]);
	assert_int_equal(rec_audit_chain(v, 4, order, &no), 0);
	/* The middle log missing. */
	info_of(p[0], &v[0]);
	info_of(p[2], &v[1]);
	info_of(p[3], &v[2]);
	assert_int_equal(rec_audit_chain(v, 3, order, &no), 1);
	assert_int_equal(v[1].problem, 1);
	assert_non_null(strstr(v[1].chain_msg, "a log is missing between brk.jsonl.3 and "
	    "brk.jsonl.1"));
	/* .2 lost its last line (cut at a line boundary: verifies alone). */
	slurp(p[1], &b);
	b.len = line_start(&b, 4);
	spill(p[1], &b);
	for (i = 0; i < 4; i++)
		info_of(p[i], &v[i]);
	assert_int_equal(v[1].ok, 1);
	assert_int_equal(rec_audit_chain(v, 4, order, &no), 1);
	assert_non_null(strstr(v[2].chain_msg, "links to line 4 of brk.jsonl.2"));
	assert_non_null(strstr(v[2].chain_msg, "ends at line 3"));
	/* A second successor of .1: the current log moved aside, another started. */
	snprintf(fork, sizeof(fork), "%s.fork", path);
	assert_int_equal(rename(p[3], fork), 0);
	events(a, 1, "mallory", 1700009000);
	info_of(p[2], &v[0]);
	info_of(fork, &v[1]);
	info_of(p[3], &v[2]);
	assert_int_equal(rec_audit_chain(v, 3, order, &no), 1);
	assert_non_null(strstr(v[2].chain_msg, "which brk.jsonl.fork links to as well"));
	/* A log that starts a new chain after others. */
	assert_int_equal(rename(p[3], fork), 0);
	rotate(path, 3);
	unlink(p[2]);
	events(a, 1, "trent", 1700010000);
	info_of(p[0], &v[0]);
	info_of(p[3], &v[1]);
	assert_int_equal(v[1].link, REC_AUDIT_LINK_NONE);
	assert_int_equal(rec_audit_chain(v, 2, order, &no), 1);
	assert_non_null(strstr(v[1].chain_msg, "starts a new chain"));
	/* The same log twice. */
	info_of(p[0], &v[0]);
	info_of(p[0], &v[1]);
	assert_int_equal(rec_audit_chain(v, 2, order, &no), 1);
	assert_non_null(strstr(v[1].chain_msg, "the same log"));
	rec_audit_close(a);
	unlink(fork);
	rm_logs(path);
	rec_buf_free(&b);
}

/* 4 processes x 300 events while the log is rotated 6 times: none lost, one chain. */
static void
test_rotate_concurrent(void **state)
{
	static unsigned char seen[4][300];
	struct rec_audit_info v[10];
	struct rec_verify_result res;
	struct rec_json j = { 0 };
	struct rec_buf b = { 0 };
	char path[128], files[10][160], *p, *nl;
	size_t order[10], no, nf = 0, k;
	pid_t pids[4];
	int i, st;

	(void)state;
	snprintf(path, sizeof(path), "%s/crot.jsonl", dir);
	rm_logs(path);
	for (i = 0; i < 4; i++) {
		if ((pids[i] = fork()) == 0)
			writer(path, i, 300);
		assert_true(pids[i] > 0);
	}
	for (i = 0; i < 6; i++) {
		usleep(20000);
		rotate(path, 9);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	memset(seen, 0, sizeof(seen));
	for (i = 9; i >= 0; i--) {
		snprintf(files[nf], sizeof(files[nf]), i ? "%s.%d" : "%s", path, i);
		if (access(files[nf], F_OK) != 0)
			continue;
		memset(&v[nf], 0, sizeof(v[nf]));
		v[nf].name = files[nf];
		assert_int_equal(rec_audit_verify_file_info(files[nf], pub, &res, &v[nf]), 0);
		if (res.status != REC_VERIFY_OK)
			fail_msg("%s: %s", files[nf], res.msg);
		slurp(files[nf], &b);
		for (p = strchr((char *)b.p, '\n') + 1; *p != '\0'; p = nl + 1) {
			const char *who, *sid;

			nl = strchr(p, '\n');
			assert_int_equal(rec_json_parse(&j, p, (size_t)(nl - p)), 0);
			who = rec_json_get_str(&j, 0, "engineer");
			sid = rec_json_get_str(&j, 0, "session");
			seen[who[1] - '0'][atoi(sid)]++;
		}
		nf++;
	}
	assert_true(nf >= 2);
	if (rec_audit_chain(v, nf, order, &no) != 0) {
		for (k = 0; k < nf; k++)
			if (v[k].problem)
				fail_msg("%s: %s", v[k].name, v[k].chain_msg);
	}
	assert_int_equal(no, nf);
	for (i = 0; i < 1200; i++)
		assert_int_equal(seen[i / 300][i % 300], 1);
	rec_json_free(&j);
	rec_buf_free(&b);
	rm_logs(path);
}

static void
test_type_names(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < REC_AUDIT_NTYPES; i++)
		assert_int_equal(rec_audit_type_parse(rec_audit_type_name(i)), i);
	assert_int_equal(rec_audit_type_parse("nope"), -1);
	/* Names are what the log holds: they never change meaning. */
	assert_string_equal(rec_audit_type_name(REC_AUDIT_FILE_TRANSFER), "file_transfer");
	assert_string_equal(rec_audit_type_name(REC_AUDIT_OPERATOR_KILL), "operator_kill");
	assert_string_equal(rec_audit_type_name(REC_AUDIT_POLICY_RELOAD), "policy_reload");
	assert_string_equal(rec_audit_type_name(REC_AUDIT_LOG_START), "log_start");
	assert_string_equal(rec_audit_type_name(REC_AUDIT_SSH_CONFIG), "ssh_config");
	assert_int_equal(rec_audit_type_parse("file_transfer"), REC_AUDIT_FILE_TRANSFER);
	assert_string_equal(rec_audit_type_name(REC_AUDIT_NTYPES), "unknown");
}

/*
 * A first log made by root in the service account's directory is the
 * account's (mspgated appends as it); in root's directory it stays root's.
 */
static void
test_new_log_owner(void **state)
{
	struct rec_audit_opts o = { .no_syslog = 1, .log_fn = capture, .key_owner = "nobody" };
	struct rec_audit_event ev = { .type = REC_AUDIT_AUTH_SUCCESS, .engineer = "alice" };
	const char *sub[] = { "own-nobody", "own-root" };
	struct passwd *pw;
	struct stat st;
	char d[256], path[300], key[128], err[256];
	int i;

	(void)state;
	if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL)
		skip();
	snprintf(key, sizeof(key), "%s/k.pem", dir);
	for (i = 0; i < 2; i++) {
		struct rec_audit *a = NULL;

		snprintf(d, sizeof(d), "%s/%s", dir, sub[i]);
		assert_int_equal(mkdir(d, 0755), 0);
		if (i == 0)
			assert_int_equal(chown(d, pw->pw_uid, pw->pw_gid), 0);
		snprintf(path, sizeof(path), "%s/audit.jsonl", d);
		assert_int_equal(rec_audit_open(path, key, &o, &a, err, sizeof(err)), 0);
		assert_int_equal(rec_audit_event(a, &ev), 0);
		rec_audit_close(a);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_uid, i == 0 ? pw->pw_uid : 0);
		assert_int_equal(st.st_mode & 07777, 0640);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_lazy_event),
		cmocka_unit_test(test_hostile_strings),
		cmocka_unit_test(test_tampering),
		cmocka_unit_test(test_torn_line),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_rotate_link),
		cmocka_unit_test(test_rotate_leftover),
		cmocka_unit_test(test_rotate_bad_prev),
		cmocka_unit_test(test_chain_breaks),
		cmocka_unit_test(test_rotate_concurrent),
		cmocka_unit_test(test_new_log_owner),
	};

	return cmocka_run_group_tests(tests, rt_setup, rt_teardown);
}
