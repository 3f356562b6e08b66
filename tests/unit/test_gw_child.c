/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for the mspgated <-> session process messages (gw_child.h) and their transport. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gw_child.h"
#include "mg_err.h"

/* 33 KiB each: static, not on cmocka's stack. */
static struct gw_child_msg msg, got;
static uint8_t buf[GW_CHILD_MAX + 64];

static void
zero(struct gw_child_msg *m, int type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
}

/* Encodes msg, decodes it into got, and wants every byte back. */
static void
roundtrip(void)
{
	size_t len;

	assert_int_equal(gw_child_encode(&msg, buf, sizeof(buf), &len), 0);
	assert_int_equal(gw_child_decode(buf, len, &got), 0);
	assert_int_equal(got.type, msg.type);
	assert_memory_equal(&got, &msg, sizeof(msg));
}

static void
test_roundtrip_session(void **state)
{
	(void)state;
	zero(&msg, GW_CHILD_ATTEMPT);
	strcpy(msg.u.attempt.engineer, "alice");
	strcpy(msg.u.attempt.tenant, "acme");
	strcpy(msg.u.attempt.target, "web01");
	strcpy(msg.u.attempt.source, "2001:db8::7");
	msg.u.attempt.outcome = GW_CHILD_REFUSED_WINDOW;
	roundtrip();
	assert_int_equal(gw_child_from(GW_CHILD_ATTEMPT), GW_CHILD_FROM_SESSION);

	/* An unknown source is left out and reads back as "". */
	memset(msg.u.attempt.source, 0, sizeof(msg.u.attempt.source));
	roundtrip();

	zero(&msg, GW_CHILD_START);
	strcpy(msg.u.start.id, "20250101T120000Z-0a1b2c3d");
	strcpy(msg.u.start.engineer, "alice");
	strcpy(msg.u.start.tenant, "acme");
	strcpy(msg.u.start.target, "web01");
	strcpy(msg.u.start.login, "deploy");
	strcpy(msg.u.start.source, "192.0.2.1");
	msg.u.start.kind = GW_CHILD_SFTP;
	msg.u.start.start = 1735732800;
	msg.u.start.end_by = 1735740000;
	msg.u.start.window_close = 0;
	msg.u.start.mfa = POL_MFA_FIDO | POL_MFA_TOTP;
	roundtrip();

	zero(&msg, GW_CHILD_USAGE);
	msg.u.usage.bytes_in = 12;
	msg.u.usage.bytes_out = UINT64_MAX;
	msg.u.usage.last = INT64_MAX;
	msg.u.usage.end_by = 0;
	roundtrip();

	zero(&msg, GW_CHILD_COMMAND);
	memset(msg.u.text.text, 'x', GW_CHILD_COMMAND_MAX);
	msg.u.text.len = GW_CHILD_COMMAND_MAX;
	roundtrip();
	/* An empty command is still a command. */
	zero(&msg, GW_CHILD_COMMAND);
	roundtrip();

	zero(&msg, GW_CHILD_INPUT);
	strcpy(msg.u.text.text, "sudo cat /etc/shadow \xc3\xa9");
	msg.u.text.len = strlen(msg.u.text.text);
	roundtrip();

	zero(&msg, GW_CHILD_REFUSED);
	msg.u.refused.audited = 1;
	roundtrip();

	/* WAITING: a START's fields, END_BY when the wait for approval runs out. */
	zero(&msg, GW_CHILD_WAITING);
	strcpy(msg.u.start.id, "20250101T120000Z-0a1b2c3d");
	strcpy(msg.u.start.engineer, "alice");
	strcpy(msg.u.start.tenant, "acme");
	strcpy(msg.u.start.target, "web01");
	strcpy(msg.u.start.login, "deploy");
	msg.u.start.kind = GW_CHILD_SHELL;
	msg.u.start.start = 1735732800;
	msg.u.start.end_by = 1735733100;
	msg.u.start.mfa = POL_MFA_TOTP;
	roundtrip();
	assert_int_equal(gw_child_from(GW_CHILD_WAITING), GW_CHILD_FROM_SESSION);
}

static void
test_roundtrip_daemon(void **state)
{
	(void)state;
	zero(&msg, GW_CHILD_VERDICT);
	msg.u.verdict.action = GW_CHILD_ACT_REAUTH;
	strcpy(msg.u.verdict.words, "tenant fan-out");
	roundtrip();
	assert_int_equal(gw_child_from(GW_CHILD_VERDICT), GW_CHILD_FROM_DAEMON);

	zero(&msg, GW_CHILD_DENY);
	strcpy(msg.u.verdict.words, "egress volume");
	roundtrip();
	zero(&msg, GW_CHILD_REAUTH);
	strcpy(msg.u.verdict.words, "off-hours access");
	roundtrip();

	zero(&msg, GW_CHILD_KILL);
	strcpy(msg.u.kill.who, "uid 0 (root)");
	roundtrip();

	zero(&msg, GW_CHILD_REVOKE);
	msg.u.revoke.end_by = 1735740000;
	strcpy(msg.u.revoke.why, "no grant allows alice on acme/web01");
	roundtrip();
	memset(msg.u.revoke.why, 0, sizeof(msg.u.revoke.why));
	roundtrip();

	zero(&msg, GW_CHILD_APPROVAL);
	msg.u.approval.approved = 1;
	msg.u.approval.at = 1735732900;
	strcpy(msg.u.approval.who, "carol (uid 1001)");
	strcpy(msg.u.approval.comment, "CHG-7, with Bob watching");
	roundtrip();
	/* Denied, without a comment. */
	msg.u.approval.approved = 0;
	memset(msg.u.approval.comment, 0, sizeof(msg.u.approval.comment));
	roundtrip();
	assert_string_equal(gw_child_type_name(GW_CHILD_APPROVAL), "approval");

	assert_int_equal(gw_child_from(GW_MSG_OPEN), 0);
	assert_string_equal(gw_child_type_name(GW_CHILD_REVOKE), "revoke");
	assert_string_equal(gw_child_kind_name(GW_CHILD_SCP), "scp");
	assert_string_equal(gw_child_kind_name(9), "?");
}

/* What a sender must not put on the wire is refused before it gets there. */
static void
test_encode_refuses(void **state)
{
	size_t len;

	(void)state;
	zero(&msg, 0);
	assert_int_equal(gw_child_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
	zero(&msg, GW_MSG_END);
	assert_int_equal(gw_child_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);

	/* A required name empty. */
	zero(&msg, GW_CHILD_KILL);
	assert_int_equal(gw_child_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
	/* A control byte. */
	strcpy(msg.u.kill.who, "root\tx");
	assert_int_equal(gw_child_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
	/* Unterminated: longer than its bound. */
	memset(msg.u.kill.who, 'a', sizeof(msg.u.kill.who));
	assert_int_equal(gw_child_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);

	/* Numbers out of range. */
	zero(&msg, GW_CHILD_VERDICT);
	strcpy(msg.u.verdict.words, "w");
	msg.u.verdict.action = GW_CHILD_ACT_DENY + 1;
	assert_int_equal(gw_child_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
	zero(&msg, GW_CHILD_REVOKE);
	assert_int_equal(gw_child_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
	msg.u.revoke.end_by = -5;
	assert_int_equal(gw_child_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
	zero(&msg, GW_CHILD_INPUT);
	msg.u.text.len = GW_CHILD_INPUT_MAX + 1;
	memset(msg.u.text.text, 'a', msg.u.text.len);
	assert_int_equal(gw_child_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);

	/* An approval is yes or no, and names who gave it. */
	zero(&msg, GW_CHILD_APPROVAL);
	msg.u.approval.approved = 2;
	strcpy(msg.u.approval.who, "carol");
	assert_int_equal(gw_child_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
	msg.u.approval.approved = 1;
	msg.u.approval.who[0] = '\0';
	assert_int_equal(gw_child_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);

	/* No room. */
	zero(&msg, GW_CHILD_REFUSED);
	assert_int_equal(gw_child_encode(&msg, buf, 6, &len), MG_ERR_TOOBIG);
	assert_int_equal(len, 0);
}

/* A field for a hand-made packet. */
struct fld {
	int tag;
	const char *v;
	size_t n;
};

#define S(t, s) { (t), (s), sizeof(s) - 1 }
#define T8(t, ...) { (t), (const char []){ __VA_ARGS__ }, 8 }

/* Packets a receiver must refuse as a whole. */
static const struct {
	const char *name;
	int type;
	struct fld f[12];
} bad[] = {
	{ "unknown type", 22, { S(GW_CT_AUDITED, "\x01") } },
	{ "a shell protocol type", GW_MSG_RESIZE, { { 6, "\x00\x50\x00\x18", 4 } } },
	{ "refused without audited", GW_CHILD_REFUSED, { { 0, NULL, 0 } } },
	{ "audited 2", GW_CHILD_REFUSED, { S(GW_CT_AUDITED, "\x02") } },
	{ "audited two bytes", GW_CHILD_REFUSED, { S(GW_CT_AUDITED, "\x00\x01") } },
	{ "repeated field", GW_CHILD_REFUSED,
	  { S(GW_CT_AUDITED, "\x01"), S(GW_CT_AUDITED, "\x01") } },
	{ "a tag of another type", GW_CHILD_REFUSED,
	  { S(GW_CT_AUDITED, "\x01"), S(GW_CT_WORDS, "x") } },
	{ "an unknown tag", GW_CHILD_REFUSED, { S(GW_CT_AUDITED, "\x01"), S(99, "x") } },
	{ "attempt without target", GW_CHILD_ATTEMPT,
	  { S(GW_CT_ENGINEER, "alice"), S(GW_CT_TENANT, "acme"), S(GW_CT_OUTCOME, "\x00") } },
	{ "attempt with an empty engineer", GW_CHILD_ATTEMPT,
	  { S(GW_CT_ENGINEER, ""), S(GW_CT_TENANT, "acme"), S(GW_CT_TARGET, "web01"),
	    S(GW_CT_OUTCOME, "\x00") } },
	{ "attempt outcome 3", GW_CHILD_ATTEMPT,
	  { S(GW_CT_ENGINEER, "alice"), S(GW_CT_TENANT, "acme"), S(GW_CT_TARGET, "web01"),
	    S(GW_CT_OUTCOME, "\x03") } },
	{ "a tab in a name", GW_CHILD_ATTEMPT,
	  { S(GW_CT_ENGINEER, "ali\tce"), S(GW_CT_TENANT, "acme"), S(GW_CT_TARGET, "web01"),
	    S(GW_CT_OUTCOME, "\x00") } },
	{ "a NUL in a name", GW_CHILD_ATTEMPT,
	  { S(GW_CT_ENGINEER, "ali\0ce"), S(GW_CT_TENANT, "acme"), S(GW_CT_TARGET, "web01"),
	    S(GW_CT_OUTCOME, "\x00") } },
	{ "a name of 65 bytes", GW_CHILD_ATTEMPT,
	  { S(GW_CT_ENGINEER, "alice"), S(GW_CT_TENANT, "acme"),
	    S(GW_CT_TARGET, "0123456789012345678901234567890123456789012345678901234567890123x"),
	    S(GW_CT_OUTCOME, "\x00") } },
	{ "a time of 7 bytes", GW_CHILD_USAGE,
	  { T8(GW_CT_BYTES_IN, 0, 0, 0, 0, 0, 0, 0, 1), T8(GW_CT_BYTES_OUT, 0, 0, 0, 0, 0, 0, 0, 1),
	    { GW_CT_LAST, "\0\0\0\0\0\0\1", 7 }, T8(GW_CT_END_BY, 0, 0, 0, 0, 0, 0, 0, 0) } },
	{ "a negative time", GW_CHILD_USAGE,
	  { T8(GW_CT_BYTES_IN, 0, 0, 0, 0, 0, 0, 0, 1), T8(GW_CT_BYTES_OUT, 0, 0, 0, 0, 0, 0, 0, 1),
	    T8(GW_CT_LAST, (char)0x80, 0, 0, 0, 0, 0, 0, 0),
	    T8(GW_CT_END_BY, 0, 0, 0, 0, 0, 0, 0, 0) } },
	{ "usage without end_by", GW_CHILD_USAGE,
	  { T8(GW_CT_BYTES_IN, 0, 0, 0, 0, 0, 0, 0, 1), T8(GW_CT_BYTES_OUT, 0, 0, 0, 0, 0, 0, 0, 1),
	    T8(GW_CT_LAST, 0, 0, 0, 0, 0, 0, 0, 1) } },
	{ "start with unknown mfa bits", GW_CHILD_START,
	  { S(GW_CT_ID, "x"), S(GW_CT_ENGINEER, "a"), S(GW_CT_TENANT, "t"),
	    S(GW_CT_TARGET, "w"), S(GW_CT_LOGIN, "l"), S(GW_CT_KIND, "\x00"),
	    T8(GW_CT_START, 0, 0, 0, 0, 0, 0, 0, 1), T8(GW_CT_END_BY, 0, 0, 0, 0, 0, 0, 0, 0),
	    T8(GW_CT_WINDOW_CLOSE, 0, 0, 0, 0, 0, 0, 0, 0), S(GW_CT_MFA, "\x04") } },
	{ "start with kind 4", GW_CHILD_START,
	  { S(GW_CT_ID, "x"), S(GW_CT_ENGINEER, "a"), S(GW_CT_TENANT, "t"),
	    S(GW_CT_TARGET, "w"), S(GW_CT_LOGIN, "l"), S(GW_CT_KIND, "\x04"),
	    T8(GW_CT_START, 0, 0, 0, 0, 0, 0, 0, 1), T8(GW_CT_END_BY, 0, 0, 0, 0, 0, 0, 0, 0),
	    T8(GW_CT_WINDOW_CLOSE, 0, 0, 0, 0, 0, 0, 0, 0), S(GW_CT_MFA, "\x01") } },
	{ "an input line of 513 bytes", GW_CHILD_INPUT, { { GW_CT_TEXT, NULL, 513 } } },
	{ "verdict without words", GW_CHILD_VERDICT, { S(GW_CT_ACTION, "\x00") } },
	{ "verdict action 4", GW_CHILD_VERDICT,
	  { S(GW_CT_ACTION, "\x04"), S(GW_CT_WORDS, "tenant fan-out") } },
	{ "deny with a newline", GW_CHILD_DENY, { S(GW_CT_WORDS, "a\nb") } },
	{ "kill without who", GW_CHILD_KILL, { { 0, NULL, 0 } } },
	{ "revoke at 0", GW_CHILD_REVOKE,
	  { T8(GW_CT_END_BY, 0, 0, 0, 0, 0, 0, 0, 0), S(GW_CT_WHY, "x") } },
};

static size_t
build(int type, const struct fld *f, size_t nf)
{
	static char big[GW_CHILD_COMMAND_MAX + 1];
	struct gw_msg_writer w;
	size_t i;

	memset(big, 'a', sizeof(big));
	assert_int_equal(gw_msg_begin(&w, buf, sizeof(buf), type), 0);
	for (i = 0; i < nf && f[i].tag != 0; i++)
		assert_int_equal(gw_msg_put(&w, f[i].tag, f[i].v ? f[i].v : big, f[i].n), 0);
	return w.len;
}

static void
test_refused(void **state)
{
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = build(bad[i].type, bad[i].f, 12);
		memset(&got, 0x55, sizeof(got));
		if (gw_child_decode(buf, len, &got) != MG_ERR_PARSE)
			fail_msg("not refused: %s", bad[i].name);
		/* Refused whole: nothing half-read is left. */
		assert_int_equal(got.type, 0);
		assert_int_equal(got.u.start.id[0], 0);
	}
	/* Cut short, wrong magic, a packet over GW_CHILD_MAX. */
	zero(&msg, GW_CHILD_REFUSED);
	assert_int_equal(gw_child_encode(&msg, buf, sizeof(buf), &len), 0);
	assert_int_equal(gw_child_decode(buf, len - 1, &got), MG_ERR_PARSE);
	buf[0] = 'X';
	assert_int_equal(gw_child_decode(buf, len, &got), MG_ERR_PARSE);
	assert_int_equal(gw_child_decode(buf, GW_CHILD_MAX + 1, &got), MG_ERR_PARSE);
}

static void
test_copy(void **state)
{
	char s[8];

	(void)state;
	gw_child_copy(s, sizeof(s), "a\tb\x7f\n");
	assert_string_equal(s, "a?b??");
	gw_child_copy(s, sizeof(s), "0123456789");
	assert_string_equal(s, "0123456");
	gw_child_copy(s, sizeof(s), NULL);
	assert_string_equal(s, "");
}

static void
test_socket(void **state)
{
	int sv[2];
	size_t len;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	/* Nothing waiting: EAGAIN, not an error of the peer. */
	assert_int_equal(gw_child_recv(sv[1], GW_CHILD_FROM_SESSION, &got, MSG_DONTWAIT),
	    MG_ERR_SYSTEM);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);

	zero(&msg, GW_CHILD_USAGE);
	msg.u.usage.bytes_out = 4096;
	assert_int_equal(gw_child_send(sv[0], &msg, MSG_DONTWAIT), 0);
	assert_int_equal(gw_child_recv(sv[1], GW_CHILD_FROM_SESSION, &got, 0), 0);
	assert_memory_equal(&got, &msg, sizeof(msg));

	/* A type of the other direction is refused, and consumed. */
	zero(&msg, GW_CHILD_KILL);
	strcpy(msg.u.kill.who, "root");
	assert_int_equal(gw_child_send(sv[0], &msg, 0), 0);
	assert_int_equal(gw_child_recv(sv[1], GW_CHILD_FROM_SESSION, &got, 0), MG_ERR_PARSE);
	assert_int_equal(got.type, 0);

	/* A packet longer than GW_CHILD_MAX: refused, not read cut short. */
	memset(buf, 0, sizeof(buf));
	zero(&msg, GW_CHILD_REFUSED);
	assert_int_equal(gw_child_encode(&msg, buf, sizeof(buf), &len), 0);
	assert_int_equal(send(sv[0], buf, GW_CHILD_MAX + 1, 0), GW_CHILD_MAX + 1);
	assert_int_equal(gw_child_recv(sv[1], GW_CHILD_FROM_SESSION, &got, 0), MG_ERR_PARSE);

	/* Garbage, then a good one: the good one still reads. */
	assert_int_equal(send(sv[0], "S\talice", 7, 0), 7);
	assert_int_equal(gw_child_send(sv[0], &msg, 0), 0);
	assert_int_equal(gw_child_recv(sv[1], GW_CHILD_FROM_SESSION, &got, 0), MG_ERR_PARSE);
	assert_int_equal(gw_child_recv(sv[1], GW_CHILD_FROM_SESSION, &got, 0), 0);
	assert_int_equal(got.type, GW_CHILD_REFUSED);

	/* The peer closing is told apart from a bad message. */
	close(sv[0]);
	assert_int_equal(gw_child_recv(sv[1], GW_CHILD_FROM_SESSION, &got, 0), MG_ERR_NOENT);
	close(sv[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_session),
		cmocka_unit_test(test_roundtrip_daemon),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
