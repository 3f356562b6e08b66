/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for the mspgate-shell <-> mspgated message format and its socket transport. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gw_msg.h"
#include "mg_err.h"

static void
test_roundtrip_open(void **state)
{
	struct gw_msg m, d;
	uint8_t buf[GW_MSG_MAX];
	size_t len;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = GW_MSG_OPEN;
	m.target = "deploy@acme/web01";
	m.command = "ls -l /tmp; echo 'x y'";
	m.term = "xterm-256color";
	m.ticket = "INC-42";
	m.connection = "192.0.2.1 5555 192.0.2.2 2222";
	m.authinfo = "publickey ssh-ed25519 AAAA\nkeyboard-interactive\n";
	m.has_flags = 1;
	m.flags = GW_F_TTY;
	m.has_winsize = 1;
	m.cols = 132;
	m.rows = 43;
	assert_int_equal(gw_msg_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(gw_msg_decode(buf, len, &d), 0);
	assert_int_equal(d.type, GW_MSG_OPEN);
	assert_string_equal(d.target, m.target);
	assert_string_equal(d.command, m.command);
	assert_string_equal(d.term, m.term);
	assert_string_equal(d.ticket, m.ticket);
	assert_string_equal(d.connection, m.connection);
	assert_string_equal(d.authinfo, m.authinfo);
	assert_null(d.subsystem);
	assert_int_equal(d.flags, GW_F_TTY);
	assert_int_equal(d.cols, 132);
	assert_int_equal(d.rows, 43);
	gw_msg_clear(&d);
	assert_null(d.target);
}

static void
test_roundtrip_end_and_items(void **state)
{
	struct gw_msg m, d;
	uint8_t buf[GW_MSG_MAX];
	size_t len;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = GW_MSG_END;
	m.has_status = 1;
	m.end_kind = GW_END_SIGNAL;
	m.code = -7;
	m.text = "why";
	assert_int_equal(gw_msg_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(gw_msg_decode(buf, len, &d), 0);
	assert_int_equal(d.end_kind, GW_END_SIGNAL);
	assert_int_equal(d.code, -7);
	assert_string_equal(d.text, "why");
	gw_msg_clear(&d);

	memset(&m, 0, sizeof(m));
	m.type = GW_MSG_TARGETS;
	assert_int_equal(gw_msg_add_item(&m, "acme/web01\tdeploy"), 0);
	assert_int_equal(gw_msg_add_item(&m, "acme/db01\tpostgres"), 0);
	assert_int_equal(gw_msg_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(gw_msg_decode(buf, len, &d), 0);
	assert_int_equal(d.nitems, 2);
	assert_string_equal(d.items[1], "acme/db01\tpostgres");
	gw_msg_clear(&d);
	gw_msg_clear(&m);

	/* CONFIG: the words after "ssh-config", and what sshd said. */
	memset(&m, 0, sizeof(m));
	m.type = GW_MSG_CONFIG;
	m.command = "--gateway gw.example:2222";
	m.connection = "192.0.2.1 1 192.0.2.2 2222";
	assert_int_equal(gw_msg_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(gw_msg_decode(buf, len, &d), 0);
	assert_int_equal(d.type, GW_MSG_CONFIG);
	assert_string_equal(d.command, "--gateway gw.example:2222");
	assert_string_equal(d.connection, "192.0.2.1 1 192.0.2.2 2222");
	gw_msg_clear(&d);
}

/* Table of packets that must be refused, whole. */
static const struct {
	const char *name;
	const char *bytes;
	size_t len;
} bad[] = {
	{ "empty", "", 0 },
	{ "short header", "MG\x01", 3 },
	{ "bad magic", "XG\x01\x03\x06\x00\x04\x00\x50\x00\x18", 11 },
	{ "bad version", "MG\x02\x03\x06\x00\x04\x00\x50\x00\x18", 11 },
	{ "unknown type", "MG\x01\x09", 4 },
	{ "type 0", "MG\x01\x00", 4 },
	{ "resize without winsize", "MG\x01\x03", 4 },
	{ "winsize too short", "MG\x01\x03\x06\x00\x03\x00\x50\x00", 10 },
	{ "field runs past the end", "MG\x01\x03\x06\x00\x05\x00\x50\x00\x18", 11 },
	{ "truncated field header", "MG\x01\x03\x06\x00", 6 },
	{ "repeated field",
	  "MG\x01\x03\x06\x00\x04\x00\x50\x00\x18\x06\x00\x04\x00\x50\x00\x18", 18 },
	{ "tag not allowed for type", "MG\x01\x03\x06\x00\x04\x00\x50\x00\x18\x01\x00\x01x", 15 },
	{ "unknown tag", "MG\x01\x02\x0d\x00\x00", 7 },
	{ "tag 0", "MG\x01\x02\x00\x00\x00", 7 },
	{ "NUL inside a string", "MG\x01\x02\x08\x00\x03" "a\0b", 10 },
	{ "open without target", "MG\x01\x01\x04\x00\x04\x00\x00\x00\x00", 11 },
	{ "open without flags", "MG\x01\x01\x01\x00\x03" "a/b", 10 },
	{ "unknown flag bits",
	  "MG\x01\x01\x01\x00\x03" "a/b\x04\x00\x04\x00\x00\x00\x02", 17 },
	{ "end kind out of range", "MG\x01\x05\x0a\x00\x05\x03\x00\x00\x00\x00", 12 },
	{ "end without status", "MG\x01\x05\x0b\x00\x01x", 8 },
	{ "config with a target", "MG\x01\x06\x01\x00\x03" "a/b", 10 },
};

static void
test_refused(void **state)
{
	struct gw_msg d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = gw_msg_decode((const uint8_t *)bad[i].bytes, bad[i].len, &d);

		if (r != MG_ERR_PARSE)
			fail_msg("%s: decoded (%d)", bad[i].name, r);
		assert_null(d.target);
		assert_int_equal(d.nitems, 0);
	}
}

static void
test_bounds(void **state)
{
	struct gw_msg m, d;
	uint8_t *buf = malloc(GW_MSG_MAX + 16);
	char *big = malloc(40000);
	size_t len;

	(void)state;
	assert_non_null(buf);
	assert_non_null(big);
	memset(big, 'a', 39999);
	big[39999] = '\0';
	memset(&m, 0, sizeof(m));
	m.type = GW_MSG_OPEN;
	m.target = "a/b";
	m.has_flags = 1;
	m.command = big;	/* over the 32 KiB command bound */
	assert_int_equal(gw_msg_encode(&m, buf, GW_MSG_MAX, &len), MG_ERR_TOOBIG);
	big[32768] = '\0';
	assert_int_equal(gw_msg_encode(&m, buf, GW_MSG_MAX, &len), 0);
	assert_int_equal(gw_msg_decode(buf, len, &d), 0);
	assert_int_equal(strlen(d.command), 32768);
	gw_msg_clear(&d);
	/* A TERM over its bound, hand-made: refused by the decoder. */
	memcpy(buf, "MG\x01\x01\x01\x00\x03" "a/b\x04\x00\x04\x00\x00\x00\x00\x05\x00\x41", 20);
	memset(buf + 20, 'x', 65);
	assert_int_equal(gw_msg_decode(buf, 85, &d), MG_ERR_PARSE);
	/* Longer than a packet may be. */
	assert_int_equal(gw_msg_decode(buf, GW_MSG_MAX + 1, &d), MG_ERR_PARSE);
	/* Too small a buffer. */
	m.command = NULL;
	assert_int_equal(gw_msg_encode(&m, buf, 5, &len), MG_ERR_TOOBIG);
	free(big);
	free(buf);
}

static void
test_socket_fds(void **state)
{
	struct gw_msg m, d;
	int sv[2], fds[3], got[3], pipefd[2];
	size_t n = 0;
	struct stat a, b;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(pipe(pipefd), 0);
	fds[0] = pipefd[0];
	fds[1] = pipefd[1];
	fds[2] = pipefd[1];
	memset(&m, 0, sizeof(m));
	m.type = GW_MSG_OPEN;
	m.target = "t/x";
	m.has_flags = 1;
	assert_int_equal(gw_msg_send(sv[0], &m, fds, 3), 0);
	assert_int_equal(gw_msg_recv(sv[1], &d, got, 3, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(fstat(got[0], &a), 0);
	assert_int_equal(fstat(pipefd[0], &b), 0);
	assert_true(a.st_ino == b.st_ino);
	assert_true(fcntl(got[0], F_GETFD) & FD_CLOEXEC);
	gw_msg_clear(&d);
	close(got[0]);
	close(got[1]);
	close(got[2]);

	/* More descriptors than the receiver takes: refused, none leaked. */
	assert_int_equal(gw_msg_send(sv[0], &m, fds, 3), 0);
	assert_int_equal(gw_msg_recv(sv[1], &d, got, 1, &n), MG_ERR_PARSE);
	assert_int_equal(n, 0);

	/* The peer closing is told apart from a bad message. */
	close(sv[0]);
	assert_int_equal(gw_msg_recv(sv[1], &d, got, 3, &n), MG_ERR_NOENT);
	close(sv[1]);
	close(pipefd[0]);
	close(pipefd[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_open),
		cmocka_unit_test(test_roundtrip_end_and_items),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_socket_fds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
