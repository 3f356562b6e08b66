/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for the messages between mspgated and its state worker (gw_sync.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "gw_sync.h"
#include "mg_err.h"

static struct gw_sync_msg msg, got;
static uint8_t buf[GW_SYNC_MAX + 64];

static void
zero(int type)
{
	memset(&msg, 0, sizeof(msg));
	msg.type = type;
}

static void
roundtrip(void)
{
	size_t len;

	assert_int_equal(gw_sync_encode(&msg, buf, sizeof(buf), &len), 0);
	assert_int_equal(gw_sync_decode(buf, len, &got), 0);
	assert_memory_equal(&got, &msg, sizeof(msg));
}

static size_t
encoded(void)
{
	size_t len;

	assert_int_equal(gw_sync_encode(&msg, buf, sizeof(buf), &len), 0);
	return len;
}

static void
session(void)
{
	zero(GW_SYNC_SESSION);
	strcpy(msg.id, "20261203T120000Z-0a1b2c3d");
	strcpy(msg.engineer, "alice");
	strcpy(msg.tenant, "acme");
	strcpy(msg.target, "web01");
	strcpy(msg.login, "deploy");
	strcpy(msg.kind, "shell");
	strcpy(msg.source, "2001:db8::7");
	msg.start = 1764763200;
}

static void
test_roundtrip(void **state)
{
	(void)state;
	session();
	roundtrip();
	assert_int_equal(gw_sync_from(GW_SYNC_SESSION), GW_SYNC_FROM_DAEMON);
	memset(msg.source, 0, sizeof(msg.source));	/* optional: left out, reads back as "" */
	roundtrip();

	zero(GW_SYNC_GONE);
	strcpy(msg.id, "x");
	roundtrip();
	zero(GW_SYNC_SNAPSHOT);
	roundtrip();
	zero(GW_SYNC_SNAPSHOT_END);
	roundtrip();
	zero(GW_SYNC_KILL_OTHERS);
	strcpy(msg.engineer, "alice");
	strcpy(msg.why, "too many tenants in 30m");
	roundtrip();

	zero(GW_SYNC_KILL);
	strcpy(msg.id, "s1");
	strcpy(msg.who, "root (uid 0)");
	strcpy(msg.from, "gwa");
	strcpy(msg.why, "mspgatectl kill");
	roundtrip();
	assert_int_equal(gw_sync_from(GW_SYNC_KILL), GW_SYNC_FROM_WORKER);
	memset(msg.id, 0, sizeof(msg.id));
	strcpy(msg.engineer, "alice");
	roundtrip();
	assert_string_equal(gw_sync_type_name(GW_SYNC_KILL), "kill");
	assert_int_equal(gw_sync_from(99), 0);
}

/* What a sender must not send: refused before it reaches the socket. */
static void
test_encode_refuses(void **state)
{
	size_t len;

	(void)state;
	session();
	msg.login[0] = '\0';		/* required */
	assert_int_equal(gw_sync_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
	session();
	msg.engineer[3] = '\n';		/* control byte */
	assert_int_equal(gw_sync_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
	session();
	strcpy(msg.who, "root");	/* not a SESSION's field */
	assert_int_equal(gw_sync_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
	session();
	msg.start = 0;			/* required */
	assert_int_equal(gw_sync_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
	session();
	memset(msg.kind, 'k', sizeof(msg.kind));	/* unterminated */
	assert_int_equal(gw_sync_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);

	/* A KILL names one session or one engineer, not both, not neither. */
	zero(GW_SYNC_KILL);
	strcpy(msg.who, "root");
	strcpy(msg.from, "gwa");
	strcpy(msg.why, "w");
	assert_int_equal(gw_sync_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
	strcpy(msg.id, "s1");
	strcpy(msg.engineer, "alice");
	assert_int_equal(gw_sync_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
	zero(77);
	assert_int_equal(gw_sync_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
}

/* Packets spoilt on the wire: every one refused whole, the message left empty. */
static void
test_decode_refuses(void **state)
{
	uint8_t bad[GW_SYNC_MAX + 64];
	size_t len, i;

	(void)state;
	session();
	len = encoded();
	/* Cut anywhere: refused (a shorter packet misses a required field or is cut mid-field). */
	for (i = 0; i < len; i++) {
		assert_int_equal(gw_sync_decode(buf, i, &got), MG_ERR_PARSE);
		assert_int_equal(got.type, 0);
	}
	/* A control byte in a string (the id's first byte, after the 4-byte header and 3-byte tag). */
	memcpy(bad, buf, len);
	assert_int_equal(bad[4], GW_ST_ID);
	bad[7] = 0x1b;
	assert_int_equal(gw_sync_decode(bad, len, &got), MG_ERR_PARSE);
	/* A field repeated. */
	memcpy(bad, buf, len);
	memcpy(bad + len, buf + 4, 3 + buf[6]);
	assert_int_equal(gw_sync_decode(bad, len + 3 + buf[6], &got), MG_ERR_PARSE);
	/* A field of another type (WHO on a SESSION). */
	memcpy(bad, buf, len);
	bad[len] = GW_ST_WHO;
	bad[len + 1] = 0;
	bad[len + 2] = 1;
	bad[len + 3] = 'x';
	assert_int_equal(gw_sync_decode(bad, len + 4, &got), MG_ERR_PARSE);
	/* An unknown type. */
	memcpy(bad, buf, len);
	bad[3] = 99;
	assert_int_equal(gw_sync_decode(bad, len, &got), MG_ERR_PARSE);
	/* START 0 or past INT64_MAX. */
	zero(GW_SYNC_KILL);
	strcpy(msg.engineer, "alice");
	strcpy(msg.who, "detector");
	strcpy(msg.from, "gwa");
	strcpy(msg.why, "w");
	len = encoded();
	assert_int_equal(gw_sync_decode(buf, len, &got), 0);
	memcpy(bad, buf, len);
	bad[len] = GW_ST_ID;		/* and an ID: both */
	bad[len + 1] = 0;
	bad[len + 2] = 1;
	bad[len + 3] = 's';
	assert_int_equal(gw_sync_decode(bad, len + 4, &got), MG_ERR_PARSE);
	session();
	len = encoded();
	for (i = 0; i + 11 <= len; i++)
		if (buf[i] == GW_ST_START && buf[i + 1] == 0 && buf[i + 2] == 8)
			break;
	assert_true(i + 11 <= len);
	memcpy(bad, buf, len);
	memset(bad + i + 3, 0, 8);
	assert_int_equal(gw_sync_decode(bad, len, &got), MG_ERR_PARSE);
	memset(bad + i + 3, 0xff, 8);
	assert_int_equal(gw_sync_decode(bad, len, &got), MG_ERR_PARSE);
	assert_int_equal(gw_sync_decode(buf, GW_SYNC_MAX + 1, &got), MG_ERR_PARSE);
}

/* A detector event, and another gateway's: their fields and refusals. */
static void
event(int type)
{
	zero(type);
	strcpy(msg.kind, "start");
	strcpy(msg.engineer, "alice");
	strcpy(msg.tenant, "acme");
	strcpy(msg.target, "web01");
	strcpy(msg.source, "192.0.2.10");
	msg.start = 1764763200;
	if (type == GW_SYNC_REMOTE)
		strcpy(msg.from, "gwb");
}

static void
test_event(void **state)
{
	size_t len;

	(void)state;
	event(GW_SYNC_EVENT);
	roundtrip();
	assert_int_equal(gw_sync_from(GW_SYNC_EVENT), GW_SYNC_FROM_DAEMON);
	assert_string_equal(gw_sync_type_name(GW_SYNC_EVENT), "event");
	/* An MFA failure: no tenant, no target. */
	strcpy(msg.kind, "mfa_failure");
	memset(msg.tenant, 0, sizeof(msg.tenant));
	memset(msg.target, 0, sizeof(msg.target));
	roundtrip();
	event(GW_SYNC_REMOTE);
	roundtrip();
	assert_int_equal(gw_sync_from(GW_SYNC_REMOTE), GW_SYNC_FROM_WORKER);
	assert_string_equal(gw_sync_type_name(GW_SYNC_REMOTE), "remote");

	/* Required: KIND, ENGINEER, START; REMOTE's FROM. Not theirs: ID, WHO. */
	event(GW_SYNC_EVENT);
	msg.kind[0] = '\0';
	assert_int_equal(gw_sync_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
	event(GW_SYNC_EVENT);
	msg.engineer[0] = '\0';
	assert_int_equal(gw_sync_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
	event(GW_SYNC_EVENT);
	msg.start = 0;
	assert_int_equal(gw_sync_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
	event(GW_SYNC_EVENT);
	strcpy(msg.from, "gwb");	/* the worker says where it came from, not mspgated */
	assert_int_equal(gw_sync_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
	event(GW_SYNC_EVENT);
	strcpy(msg.id, "s1");
	assert_int_equal(gw_sync_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
	event(GW_SYNC_REMOTE);
	msg.from[0] = '\0';
	assert_int_equal(gw_sync_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
	event(GW_SYNC_REMOTE);
	msg.tenant[1] = '\t';
	assert_int_equal(gw_sync_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
	/* Cut anywhere: refused whole. */
	event(GW_SYNC_REMOTE);
	len = encoded();
	for (size_t i = 0; i < len; i++)
		assert_int_equal(gw_sync_decode(buf, i, &got), MG_ERR_PARSE);
}

/* The other gateways' live sessions: PEERS, PEER..., PEERS_END. */
static void
test_peers(void **state)
{
	size_t len;

	(void)state;
	zero(GW_SYNC_PEERS);
	roundtrip();
	zero(GW_SYNC_PEERS_END);
	roundtrip();
	assert_int_equal(gw_sync_from(GW_SYNC_PEERS), GW_SYNC_FROM_WORKER);
	assert_int_equal(gw_sync_from(GW_SYNC_PEER), GW_SYNC_FROM_WORKER);
	assert_int_equal(gw_sync_from(GW_SYNC_PEERS_END), GW_SYNC_FROM_WORKER);
	assert_string_equal(gw_sync_type_name(GW_SYNC_PEER), "peer");
	zero(GW_SYNC_PEER);
	strcpy(msg.id, "b-7");
	strcpy(msg.engineer, "alice");
	strcpy(msg.from, "gwb");
	strcpy(msg.source, "192.0.2.10");
	msg.start = 1764763200;
	roundtrip();
	/* SOURCE and START may be missing; ID, ENGINEER and FROM may not. */
	memset(msg.source, 0, sizeof(msg.source));
	msg.start = 0;
	roundtrip();
	msg.from[0] = '\0';
	assert_int_equal(gw_sync_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
	strcpy(msg.from, "gwb");
	msg.id[0] = '\0';
	assert_int_equal(gw_sync_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
	strcpy(msg.id, "b-7");
	strcpy(msg.tenant, "acme");	/* not a PEER's */
	assert_int_equal(gw_sync_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
	zero(GW_SYNC_PEERS);
	strcpy(msg.id, "b-7");		/* the list's start carries nothing */
	assert_int_equal(gw_sync_encode(&msg, buf, sizeof(buf), &len), MG_ERR_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_decode_refuses),
		cmocka_unit_test(test_event),
		cmocka_unit_test(test_peers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
