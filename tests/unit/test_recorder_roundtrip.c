/* SPDX-License-Identifier: BSD-2-Clause */
/* Recorder round trips: random byte streams, split UTF-8, masking, bounded events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "mg_err.h"
#include "rec_buf.h"
#include "rec_reader.h"
#include "rec_writer.h"
#include "test_recorder_util.h"

int main(void);

/* Deterministic xorshift so a failure can be replayed. */
static uint64_t rng = 88172645463325252ULL;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static struct rec_writer *
open_writer(const char *name, const struct rec_writer_opts *o)
{
	struct rec_meta m = { 0 };
	struct rec_writer *w = NULL;
	char path[128], err[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	m.session = "rt";
	m.engineer = "alice";
	assert_int_equal(rec_writer_open(path, &m, priv, o, &w, err, sizeof(err)), 0);
	return w;
}

/* Rebuilds both streams and checks the file verifies. */
static void
read_back(const char *name, struct rec_buf *out, struct rec_buf *in, int *resizes)
{
	struct rec_reader *rd;
	struct rec_event ev;
	struct rec_verify_result res;
	char path[128], err[256];
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(rec_verify_file(path, pub, &res), 0);
	if (res.status != REC_VERIFY_OK)
		fail_msg("verify: %s", res.msg);
	assert_int_equal(rec_reader_open(path, &rd, err, sizeof(err)), 0);
	while ((r = rec_reader_next(rd, &ev)) > 0) {
		if (ev.stream == 'o')
			assert_int_equal(rec_buf_add(out, ev.data, ev.len), 0);
		else if (ev.stream == 'i')
			assert_int_equal(rec_buf_add(in, ev.data, ev.len), 0);
		if (ev.code == 'o' || ev.code == 'i')
			/* Player-visible events hold only complete UTF-8. */
			assert_int_equal(rec_utf8_valid_len(ev.data, ev.len), ev.len);
		if (ev.code == 'r' && resizes != NULL)
			(*resizes)++;
		assert_true(ev.len <= REC_EVENT_MAX);
	}
	if (r < 0)
		fail_msg("read: %s", rec_reader_errmsg(rd));
	rec_reader_free(rd);
}

static void
test_random_streams(void **state)
{
	struct rec_writer_opts o = { .prompt_regex = "" , .checkpoint_events = 50 };
	int round;

	(void)state;
	for (round = 0; round < 20; round++) {
		struct rec_buf out = { 0 }, in = { 0 }, gout = { 0 }, gin = { 0 };
		struct rec_writer *w = open_writer("rand.cast", &o);
		int i, n = (int)(rnd() % 200) + 1, resizes = 0, want_resizes = 0;
		uint8_t buf[40000];

		for (i = 0; i < n; i++) {
			size_t len = rnd() % (round % 4 == 0 ? sizeof(buf) : 64), k;

			if (round % 4 == 0 && i > 30)
				break;
			int kind = (int)(rnd() % 10);

			/* Mix binary, ASCII and multi-byte UTF-8. */
			for (k = 0; k < len; k++) {
				uint32_t v = rnd();

				buf[k] = round % 3 == 0 ? (uint8_t)v :
				    round % 3 == 1 ? (uint8_t)("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n"[v % 11]) :
				    (uint8_t)(v % 5 == 0 ? 0x80 + v % 0x80 : v % 0x80);
			}
			if (kind < 6) {
				assert_int_equal(rec_writer_output(w, i * 1000, buf, len), 0);
				rec_buf_add(&out, buf, len);
			} else if (kind < 9) {
				assert_int_equal(rec_writer_input(w, i * 1000, buf, len), 0);
				rec_buf_add(&in, buf, len);
			} else {
				assert_int_equal(rec_writer_resize(w, i * 1000,
				    (int)(rnd() % 300) + 1, (int)(rnd() % 100) + 1), 0);
				want_resizes++;
			}
		}
		assert_int_equal(rec_writer_close(w, NULL), 0);
		rec_writer_free(w);
		read_back("rand.cast", &gout, &gin, &resizes);
		assert_int_equal(gout.len, out.len);
		assert_int_equal(gin.len, in.len);
		if (out.len)
			assert_memory_equal(gout.p, out.p, out.len);
		if (in.len)
			assert_memory_equal(gin.p, in.p, in.len);
		assert_int_equal(resizes, want_resizes);
		rec_buf_free(&out);
		rec_buf_free(&in);
		rec_buf_free(&gout);
		rec_buf_free(&gin);
	}
}

/* Every way of cutting a multi-byte character across writes. */
static void
test_split_utf8(void **state)
{
	static const char *const texts[] = {
		"caf\xc3\xa9", "\xe2\x82\xac 5", "\xf0\x9f\x98\x80!", "a\xe2\x82\xac\xe2\x82\xac",
		"\xe2\x82", "\xff\xe2\x82\xac", "\xc3\xc3\xa9", "\xf0\x9f\x98",
	};
	size_t t;

	(void)state;
	for (t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		const char *s = texts[t];
		size_t n = strlen(s), cut1, cut2;

		for (cut1 = 0; cut1 <= n; cut1++) {
			for (cut2 = cut1; cut2 <= n; cut2++) {
				struct rec_writer *w = open_writer("split.cast", NULL);
				struct rec_buf out = { 0 }, in = { 0 };

				assert_int_equal(rec_writer_output(w, 1, s, cut1), 0);
				assert_int_equal(rec_writer_output(w, 2, s + cut1, cut2 - cut1), 0);
				assert_int_equal(rec_writer_output(w, 3, s + cut2, n - cut2), 0);
				assert_int_equal(rec_writer_close(w, NULL), 0);
				rec_writer_free(w);
				read_back("split.cast", &out, &in, NULL);
				assert_int_equal(out.len, n);
				assert_memory_equal(out.p, s, n);
				rec_buf_free(&out);
				rec_buf_free(&in);
			}
		}
	}
}

/* The valid characters are whole inside one "o" event. */
static void
test_sequence_not_split(void **state)
{
	struct rec_writer *w = open_writer("whole.cast", NULL);
	struct rec_reader *rd;
	struct rec_event ev;
	char path[128], err[256];
	int found = 0;

	(void)state;
	assert_int_equal(rec_writer_output(w, 1, "x\xe2", 2), 0);
	assert_int_equal(rec_writer_output(w, 2, "\x82", 1), 0);
	assert_int_equal(rec_writer_output(w, 3, "\xac" "y", 2), 0);
	assert_int_equal(rec_writer_close(w, NULL), 0);
	rec_writer_free(w);
	snprintf(path, sizeof(path), "%s/whole.cast", dir);
	assert_int_equal(rec_reader_open(path, &rd, err, sizeof(err)), 0);
	while (rec_reader_next(rd, &ev) > 0) {
		assert_true(ev.code != 'x');
		if (ev.code == 'o' && ev.len == 4 && memcmp(ev.data, "\xe2\x82\xacy", 4) == 0)
			found = 1;
	}
	rec_reader_free(rd);
	assert_true(found);
}

/*
 * Runs of NUL and other inert control bytes: 16 or more go base64 into "x"
 * events (not six bytes each as \u0000), shorter runs stay in "o" events,
 * and both streams still rebuild exactly.
 */
static void
test_control_runs(void **state)
{
	static const size_t runs[] = { 1, 15, 16, 17, 31, 100, 16384, 40000 };
	struct rec_writer *w = open_writer("ctl.cast", NULL);
	struct rec_buf want = { 0 }, out = { 0 }, in = { 0 };
	struct rec_reader *rd;
	struct rec_event ev;
	char path[128], err[256];
	uint8_t buf[40100];
	size_t t, xbytes = 0, obytes = 0;
	FILE *f;
	long size;

	(void)state;
	for (t = 0; t < sizeof(runs) / sizeof(runs[0]); t++) {
		size_t n = 0;

		memcpy(buf, "ab\r\n", 4);
		n = 4;
		memset(buf + n, t % 2 ? 0x00 : 0x01, runs[t]);
		n += runs[t];
		/* ESC, CR and LF are not inert: a run of them stays text. */
		memset(buf + n, 0x1b, 20);
		n += 20;
		buf[n++] = 'z';
		assert_int_equal(rec_writer_output(w, (int64_t)t, buf, n), 0);
		assert_int_equal(rec_buf_add(&want, buf, n), 0);
	}
	assert_int_equal(rec_writer_close(w, NULL), 0);
	rec_writer_free(w);
	read_back("ctl.cast", &out, &in, NULL);
	assert_int_equal(out.len, want.len);
	assert_memory_equal(out.p, want.p, want.len);
	snprintf(path, sizeof(path), "%s/ctl.cast", dir);
	assert_int_equal(rec_reader_open(path, &rd, err, sizeof(err)), 0);
	while (rec_reader_next(rd, &ev) > 0) {
		if (ev.code == 'x')
			xbytes += ev.len;
		else if (ev.code == 'o')
			obytes += ev.len;
	}
	rec_reader_free(rd);
	/* Runs of 16 and more (16+17+31+100+16384+40000) are raw; 1 and 15 are text. */
	assert_int_equal(xbytes, 16 + 17 + 31 + 100 + 16384 + 40000);
	assert_int_equal(obytes, want.len - xbytes);
	assert_non_null(f = fopen(path, "r"));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	fclose(f);
	assert_true(size < (long)want.len * 3 / 2 + 8192);
	assert_int_equal(rec_ctl_run_len("\0\x01\x7f\x1f\x0e\n", 6), 5);
	assert_int_equal(rec_ctl_run_len("\x1b\0", 2), 0);
	assert_int_equal(rec_zero_run_len("\0\0\0\0\0\0\0\0\0\x01", 10), 9);
	assert_int_equal(rec_zero_run_len("\0\0", 2), 2);
	rec_buf_free(&want);
	rec_buf_free(&out);
	rec_buf_free(&in);
}

/* Zero-filled output (a disk image, /dev/zero) is counted, not spelled out. */
static void
test_zero_runs(void **state)
{
	static uint8_t zeros[1 << 20];
	struct rec_writer *w = open_writer("zero.cast", NULL);
	struct rec_buf out = { 0 }, in = { 0 };
	char path[128];
	size_t k;
	FILE *f;
	long size;

	(void)state;
	for (k = 0; k < 16; k++)
		assert_int_equal(rec_writer_output(w, (int64_t)k, zeros, sizeof(zeros) / 16), 0);
	assert_int_equal(rec_writer_input(w, 20, zeros, 17), 0);
	assert_int_equal(rec_writer_close(w, NULL), 0);
	rec_writer_free(w);
	read_back("zero.cast", &out, &in, NULL);
	assert_int_equal(out.len, sizeof(zeros));
	assert_memory_equal(out.p, zeros, sizeof(zeros));
	assert_int_equal(in.len, 17);
	assert_memory_equal(in.p, zeros, 17);
	snprintf(path, sizeof(path), "%s/zero.cast", dir);
	assert_non_null(f = fopen(path, "r"));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	fclose(f);
	/* 64 events of 16 KiB, about 40 bytes each, and the checkpoints. */
	assert_true(size < 16384);
	rec_buf_free(&out);
	rec_buf_free(&in);
}

/* The reader takes "o*N" for 1 <= N <= 16384 only. */
static void
test_zero_event_parse(void **state)
{
	static const struct { const char *data; int ok; } cases[] = {
		{ "o*1", 1 }, { "i*16384", 1 }, { "o*16385", 0 }, { "o*0", 0 },
		{ "o*", 0 }, { "o*01", 0 }, { "o*-1", 0 }, { "o*1x", 0 }, { "x*1", 0 },
		{ "o*99999999999", 0 },
	};
	size_t t;

	(void)state;
	for (t = 0; t < sizeof(cases) / sizeof(cases[0]); t++) {
		struct rec_reader *rd;
		struct rec_event ev;
		char path[128], err[256];
		FILE *f;
		int r;

		snprintf(path, sizeof(path), "%s/zp.cast", dir);
		assert_non_null(f = fopen(path, "w"));
		fprintf(f, "{\"version\": 2, \"width\": 80, \"height\": 24}\n[0.5, \"x\", \"%s\"]\n",
		    cases[t].data);
		fclose(f);
		assert_int_equal(rec_reader_open(path, &rd, err, sizeof(err)), 0);
		r = rec_reader_next(rd, &ev);
		if (cases[t].ok) {
			assert_int_equal(r, 1);
			assert_int_equal(ev.code, 'x');
			assert_int_equal(ev.len, (size_t)atoi(cases[t].data + 2));
			assert_int_equal(ev.data[0], 0);
		} else {
			if (r >= 0)
				fail_msg("%s: accepted", cases[t].data);
		}
		rec_reader_free(rd);
	}
}

struct mask_case {
	const char *prompt;	/* output before the input */
	const char *typed;
	const char *recorded;	/* input that must be in the file */
	int hidden;		/* bytes a marker must report; 0: no marker */
};

static void
test_password_masking(void **state)
{
	static const struct mask_case cases[] = {
		{ "[sudo] password for alice: ", "hunter2\rls\r", "ls\r", 8 },
		{ "Password: ", "s3cret\n", "", 7 },
		{ "Enter passphrase for key '/home/a/.ssh/id': ", "pp\r", "", 3 },
		{ "Verification code: ", "123456\r", "", 7 },
		{ "$ ", "echo password\r", "echo password\r", 0 },
		{ "the password is changed\r\n$ ", "ls\r", "ls\r", 0 },
		{ "Password: ", "abc\x03whoami\r", "whoami\r", 4 },
		/* The end of a line longer than the tail kept. */
		{ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  " Password for root:\t ", "pw\r", "", 3 },
		{ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  " password: done\r\n$ ", "ls\r", "ls\r", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rec_writer *w = open_writer("mask.cast", NULL);
		struct rec_reader *rd;
		struct rec_event ev;
		struct rec_buf in = { 0 };
		char path[128], err[256], want[64] = "";
		int marker = 0;

		assert_int_equal(rec_writer_output(w, 1, cases[i].prompt,
		    strlen(cases[i].prompt)), 0);
		assert_int_equal(rec_writer_input(w, 2, cases[i].typed,
		    strlen(cases[i].typed)), 0);
		assert_int_equal(rec_writer_close(w, NULL), 0);
		rec_writer_free(w);
		snprintf(path, sizeof(path), "%s/mask.cast", dir);
		if (cases[i].hidden)
			snprintf(want, sizeof(want), "input hidden: %d bytes", cases[i].hidden);
		assert_int_equal(rec_reader_open(path, &rd, err, sizeof(err)), 0);
		while (rec_reader_next(rd, &ev) > 0) {
			if (ev.stream == 'i')
				rec_buf_add(&in, ev.data, ev.len);
			if (ev.code == 'm' && strncmp((const char *)ev.data, "input hidden", 12) == 0) {
				assert_string_equal((const char *)ev.data, want);
				marker = 1;
			}
		}
		rec_reader_free(rd);
		assert_int_equal(marker, cases[i].hidden != 0);
		assert_int_equal(in.len, strlen(cases[i].recorded));
		if (in.len)
			assert_memory_equal(in.p, cases[i].recorded, in.len);
		rec_buf_free(&in);
	}
}

static void
test_echo_masking(void **state)
{
	struct rec_writer *w = open_writer("echo.cast", NULL);
	struct rec_reader *rd;
	struct rec_event ev;
	struct rec_buf in = { 0 };
	char path[128], err[256];
	int marker = 0;

	(void)state;
	/* Raw mode (readline) echoes itself: recorded. */
	assert_int_equal(rec_writer_set_echo(w, 1, 0, 0), 0);
	assert_int_equal(rec_writer_input(w, 2, "ls\r", 3), 0);
	/* getpass(): canonical without echo: hidden. */
	assert_int_equal(rec_writer_set_echo(w, 3, 0, 1), 0);
	assert_int_equal(rec_writer_input(w, 4, "topsecret\r", 10), 0);
	assert_int_equal(rec_writer_set_echo(w, 5, 1, 1), 0);
	assert_int_equal(rec_writer_input(w, 6, "id\r", 3), 0);
	assert_int_equal(rec_writer_close(w, NULL), 0);
	rec_writer_free(w);
	snprintf(path, sizeof(path), "%s/echo.cast", dir);
	assert_int_equal(rec_reader_open(path, &rd, err, sizeof(err)), 0);
	while (rec_reader_next(rd, &ev) > 0) {
		if (ev.stream == 'i')
			rec_buf_add(&in, ev.data, ev.len);
		if (ev.code == 'm' && strcmp((const char *)ev.data, "input hidden: 10 bytes") == 0)
			marker = 1;
	}
	rec_reader_free(rd);
	assert_true(marker);
	assert_int_equal(in.len, 6);
	assert_memory_equal(in.p, "ls\rid\r", 6);
	rec_buf_free(&in);
}

static void
test_header_and_seal(void **state)
{
	static const char *const extra[] = { "change=CHG-1", "site=\"lon\"", NULL };
	struct rec_meta m = { 0 };
	struct rec_writer *w;
	struct rec_reader *rd;
	struct rec_seal seal;
	struct rec_verify_result res;
	const struct rec_header *h;
	char path[128], err[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/S-42.cast", dir);
	m.session = "S-42";
	m.engineer = "alice";
	m.tenant = "acme";
	m.target = "web01";
	m.login = "deploy";
	m.mfa = "fido+totp";
	m.source = "192.0.2.7";
	m.ticket = "INC-1";
	m.term = "xterm-256color";
	m.cols = 132;
	m.rows = 43;
	m.start = 1700000000;
	m.extra = extra;
	assert_int_equal(rec_writer_open(path, &m, priv, NULL, &w, err, sizeof(err)), 0);
	assert_int_equal(rec_writer_marker(w, 5, "MFA: fido+totp"), 0);
	assert_int_equal(rec_writer_close(w, &seal), 0);
	assert_int_equal(rec_writer_close(w, NULL), MG_ERR_INVAL);
	rec_writer_free(w);
	assert_int_equal(strncmp(seal.hash, "sha256:", 7), 0);
	assert_int_equal(rec_verify_file(path, pub, &res), 0);
	assert_int_equal(res.status, REC_VERIFY_OK);
	assert_string_equal(res.seal, seal.hash);
	assert_int_equal(rec_reader_open(path, &rd, err, sizeof(err)), 0);
	h = rec_reader_header(rd);
	assert_int_equal(h->width, 132);
	assert_int_equal(h->height, 43);
	assert_int_equal(h->timestamp, 1700000000);
	assert_string_equal(h->session, "S-42");
	assert_string_equal(h->tenant, "acme");
	assert_string_equal(h->target, "web01");
	assert_string_equal(h->login, "deploy");
	assert_string_equal(h->mfa, "fido+totp");
	assert_string_equal(h->source, "192.0.2.7");
	assert_string_equal(h->ticket, "INC-1");
	assert_string_equal(h->term, "xterm-256color");
	assert_string_equal(h->start, "2023-11-14T22:13:20Z");
	assert_string_equal(h->meta[0], "change=CHG-1");
	assert_string_equal(h->meta[1], "site=\"lon\"");
	assert_null(h->meta[2]);
	rec_reader_free(rd);
	/* The file exists now: never overwritten. */
	assert_int_equal(rec_writer_open(path, &m, priv, NULL, &w, err, sizeof(err)),
	    MG_ERR_EXISTS);
}

static void
test_bad_arguments(void **state)
{
	static const char *const bad_ids[] = { "", "../x", "a b", ".hidden", "a/b", NULL };
	struct rec_meta m = { 0 };
	struct rec_writer *w = NULL;
	char path[128], err[256];
	size_t i;

	(void)state;
	snprintf(path, sizeof(path), "%s/bad.cast", dir);
	for (i = 0; bad_ids[i] != NULL; i++) {
		m.session = bad_ids[i];
		assert_int_equal(rec_writer_open(path, &m, priv, NULL, &w, err, sizeof(err)),
		    MG_ERR_INVAL);
		assert_null(w);
	}
	m.session = "ok";
	/* A public key cannot sign. */
	assert_int_equal(rec_writer_open(path, &m, pub, NULL, &w, err, sizeof(err)),
	    MG_ERR_INVAL);
	assert_int_equal(access(path, F_OK), -1);
}

/* Fail closed: a write error (here: file size limit) is reported at once and stays. */
static void
test_write_error(void **state)
{
	struct rec_meta m = { 0 };
	struct rec_writer *w = NULL;
	char path[128], err[256];
	pid_t pid;
	int st;

	(void)state;
	m.session = "full";
	/* An existing file (or a symlink to one) is never written to. */
	snprintf(path, sizeof(path), "%s/full.cast", dir);
	assert_int_equal(symlink("/dev/null", path), 0);
	assert_int_not_equal(rec_writer_open(path, &m, priv, NULL, &w, err, sizeof(err)), 0);
	assert_null(w);
	unlink(path);
	if ((pid = fork()) == 0) {
		struct rlimit rl = { 65536, 65536 };
		char buf[4096];
		int i, r = 0, first = -1;

		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &rl);
		if (rec_writer_open(path, &m, priv, NULL, &w, err, sizeof(err)) != 0)
			_exit(2);
		memset(buf, 'a', sizeof(buf));
		for (i = 0; i < 256 && r == 0; i++) {
			r = rec_writer_output(w, i, buf, sizeof(buf));
			if (r != 0)
				first = i;
		}
		/* Reported within the 64 KiB buffer bound, sticky after. */
		if (r != MG_ERR_IO || first > 40 || rec_writer_input(w, 1, "x", 1) != MG_ERR_IO ||
		    rec_writer_close(w, NULL) != MG_ERR_IO)
			_exit(3);
		rec_writer_free(w);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_streams),
		cmocka_unit_test(test_split_utf8),
		cmocka_unit_test(test_sequence_not_split),
		cmocka_unit_test(test_control_runs),
		cmocka_unit_test(test_zero_runs),
		cmocka_unit_test(test_zero_event_parse),
		cmocka_unit_test(test_password_masking),
		cmocka_unit_test(test_echo_masking),
		cmocka_unit_test(test_header_and_seal),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_write_error),
	};

	return cmocka_run_group_tests(tests, rt_setup, rt_teardown);
}
