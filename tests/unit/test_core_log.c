/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for escaping untrusted strings and for log lines on stderr. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mg_log.h"

#define NOLIMIT ((size_t)-1)

static void
test_escape_table(void **state)
{
	static const struct {
		const char *in;
		size_t maxin;
		size_t outsize;
		const char *want;
	} t[] = {
		{ "plain text", NOLIMIT, 64, "plain text" },
		{ "", NOLIMIT, 64, "" },
		{ "a\nb", NOLIMIT, 64, "a\\x0ab" },
		{ "\t\r\x1b[31m", NOLIMIT, 64, "\\x09\\x0d\\x1b[31m" },
		{ "\x01\x1f\x7f", NOLIMIT, 64, "\\x01\\x1f\\x7f" },
		{ "say \"hi\"", NOLIMIT, 64, "say \\x22hi\\x22" },
		{ "back\\slash", NOLIMIT, 64, "back\\x5cslash" },
		{ "caf\xc3\xa9", NOLIMIT, 64, "caf\\xc3\\xa9" },
		{ "\xff\x80", NOLIMIT, 64, "\\xff\\x80" },
		{ "~ '%s%n' {}", NOLIMIT, 64, "~ '%s%n' {}" },
		/* maxin bounds what is read; a cut there is not marked. */
		{ "abcdef", 3, 64, "abc" },
		{ "abcdef", 0, 64, "" },
		{ "ab\0cd", 5, 64, "ab" },
		/* outsize: whole escapes only, then "..." (or what fits). */
		{ "abcdefghij", NOLIMIT, 11, "abcdefghij" },
		{ "abcdefghij", NOLIMIT, 10, "abcdef..." },
		{ "abcdefghij", NOLIMIT, 8, "abcd..." },
		{ "abcdefghij", NOLIMIT, 4, "..." },
		{ "abcdefghij", NOLIMIT, 3, ".." },
		{ "abcdefghij", NOLIMIT, 2, "." },
		{ "abcdefghij", NOLIMIT, 1, "" },
		{ "a", NOLIMIT, 2, "a" },
		{ "\n", NOLIMIT, 5, "\\x0a" },
		{ "\n", NOLIMIT, 4, "..." },
		{ "\n\n\n", NOLIMIT, 8, "\\x0a..." },
		{ "\n\n\n", NOLIMIT, 10, "\\x0a..." },
		{ "\n\n\n", NOLIMIT, 11, "\\x0a..." },
		{ "\n\n\n", NOLIMIT, 12, "\\x0a\\x0a..." },
		{ "\n\n\n", NOLIMIT, 13, "\\x0a\\x0a\\x0a" },
		{ "ab\n", NOLIMIT, 7, "ab\\x0a" },
		{ "ab\n", NOLIMIT, 6, "ab..." },
		{ NULL, NOLIMIT, 8, "" },
	};
	char out[80];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(out, 'Z', sizeof(out));
		assert_ptr_equal(mg_str_escape(t[i].in, t[i].maxin, out,
		    t[i].outsize), out);
		if (strcmp(out, t[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, out,
			    t[i].want);
		/* Nothing written past outsize. */
		assert_int_equal(out[t[i].outsize], 'Z');
	}
	/* outsize 0 or no buffer: nothing written at all. */
	memset(out, 'Z', sizeof(out));
	assert_ptr_equal(mg_str_escape("abc", NOLIMIT, out, 0), out);
	assert_int_equal(out[0], 'Z');
	assert_null(mg_str_escape("abc", NOLIMIT, NULL, 10));
}

/* An input buffer with no NUL: maxin alone stops the read (ASan checks). */
static void
test_escape_unterminated(void **state)
{
	char *in = malloc(4), out[32];

	(void)state;
	assert_non_null(in);
	memcpy(in, "ab\"c", 4);
	assert_string_equal(mg_str_escape(in, 4, out, sizeof(out)),
	    "ab\\x22c");
	free(in);
}

/* The units of a fully escaped string: each literal byte or one \xNN. */
static size_t
unit_len(const char *s)
{
	return s[0] == '\\' ? 4 : 1;
}

/*
 * Every outsize from 1 to 32, on inputs that mix plain bytes and escapes:
 * the canary after outsize survives, the result is NUL-terminated, it is
 * the longest whole-unit prefix of the full escape that fits, and a cut
 * is marked with as many dots as fit.
 */
static void
test_escape_every_outsize(void **state)
{
	static const char *in[] = {
		"abcdefghijklmnopqrstuvwxyz0123456789",
		"\n\n\n\n\n\n\n\n\n\n",
		("a\nb\"c\\d\xc3\xa9" "e\x7f" "f\x01g"),
		("x\xffyy\xff" "zzz"),
		"",
		"short",
	};
	char full[256], out[64 + 8];
	size_t i, k, flen, olen, keep, pre, dots;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		mg_str_escape(in[i], NOLIMIT, full, sizeof(full));
		flen = strlen(full);
		for (k = 1; k <= 32; k++) {
			memset(out, 0xa5, sizeof(out));
			mg_str_escape(in[i], NOLIMIT, out, k);
			for (olen = k; olen < sizeof(out); olen++)
				assert_int_equal((unsigned char)out[olen], 0xa5);
			olen = strnlen(out, k);
			assert_true(olen < k);
			if (flen < k) {
				assert_string_equal(out, full);
				continue;
			}
			dots = k - 1 < 3 ? k - 1 : 3;
			keep = k - 1 - dots;
			/* The longest run of whole units within keep. */
			for (pre = 0; pre < flen &&
			    pre + unit_len(full + pre) <= keep;
			    pre += unit_len(full + pre))
				;
			assert_int_equal(olen, pre + dots);
			assert_memory_equal(out, full, pre);
			assert_memory_equal(out + pre, "...", dots);
		}
	}
}

/*
 * fd 2 is pointed at a temporary file between begin and end; end returns
 * what was written. Assertions wait until after end so failures are seen.
 */
static char captured[4096];

static void
capture_begin(int *saved, FILE **f)
{
	fflush(stderr);
	*f = tmpfile();
	assert_non_null(*f);
	*saved = dup(2);
	assert_true(*saved >= 0);
	assert_true(dup2(fileno(*f), 2) == 2);
}

static const char *
capture_end(int saved, FILE *f)
{
	size_t n;

	fflush(stderr);
	assert_true(dup2(saved, 2) == 2);
	close(saved);
	rewind(f);
	n = fread(captured, 1, sizeof(captured) - 1, f);
	captured[n] = '\0';
	fclose(f);
	return captured;
}

static void
test_log_stderr(void **state)
{
	char big[2000], want[1100], esc[64];
	const char *hostile = "%s%n%x%p";
	int saved, e;
	FILE *f;

	(void)state;
	mg_log_init("mgtest", LOG_LOCAL0, 1);

	capture_begin(&saved, &f);
	mg_log(LOG_ERR, "user %s denied on %s", "alice", "acme/web01");
	assert_string_equal(capture_end(saved, f),
	    "mgtest: user alice denied on acme/web01\n");

	/* A hostile string is data, never a format. */
	capture_begin(&saved, &f);
	mg_log(LOG_ERR, "%s", hostile);
	mg_log(LOG_WARNING, "target %s", hostile);
	assert_string_equal(capture_end(saved, f),
	    "mgtest: %s%n%x%p\nmgtest: target %s%n%x%p\n");

	/* A newline cannot forge a second line, even when not escaped. */
	capture_begin(&saved, &f);
	mg_log(LOG_NOTICE, "user %s", "x\nmgtest: user root accepted");
	assert_string_equal(capture_end(saved, f),
	    "mgtest: user x?mgtest: user root accepted\n");

	/* The intended way: escape, then log. */
	capture_begin(&saved, &f);
	mg_log(LOG_NOTICE, "login \"%s\"", mg_str_escape("b\"ob\x1b[2J",
	    NOLIMIT, esc, sizeof(esc)));
	assert_string_equal(capture_end(saved, f),
	    "mgtest: login \"b\\x22ob\\x1b[2J\"\n");

	/* LOG_DEBUG only when verbose. */
	capture_begin(&saved, &f);
	mg_log(LOG_DEBUG, "hidden %d", 1);
	mg_log_set_verbose(1);
	mg_log(LOG_DEBUG, "shown %d", 2);
	mg_log_set_verbose(0);
	mg_log(LOG_DEBUG, "hidden %d", 3);
	mg_log(LOG_INFO, "info %d", 4);
	assert_string_equal(capture_end(saved, f),
	    "mgtest: shown 2\nmgtest: info 4\n");

	/* Long messages are cut and marked, still one line. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(want, sizeof(want), "mgtest: %.1020s...\n", big);
	capture_begin(&saved, &f);
	mg_log(LOG_ERR, "%s", big);
	assert_string_equal(capture_end(saved, f), want);

	/* errno survives, so callers can log and then report it. */
	capture_begin(&saved, &f);
	errno = EACCES;
	mg_log(LOG_ERR, "denied");
	e = errno;
	assert_string_equal(capture_end(saved, f), "mgtest: denied\n");
	assert_int_equal(e, EACCES);

	/* Syslog only: nothing on stderr. */
	mg_log_init("mgquiet", LOG_LOCAL0, 0);
	capture_begin(&saved, &f);
	mg_log(LOG_ERR, "quiet");
	assert_string_equal(capture_end(saved, f), "");
	closelog();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_table),
		cmocka_unit_test(test_escape_unterminated),
		cmocka_unit_test(test_escape_every_outsize),
		cmocka_unit_test(test_log_stderr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
