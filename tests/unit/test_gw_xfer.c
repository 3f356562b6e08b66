/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for the file-transfer parsers: which files an SFTP or scp stream names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_xfer.h"

struct seen {
	char text[8][1200];
	size_t n;
};

static void
record(const struct gw_xfer_event *ev, void *ctx)
{
	struct seen *s = ctx;

	assert_true(s->n < 8);
	snprintf(s->text[s->n++], sizeof(s->text[0]), "%s %s %llu%s", ev->op, ev->path,
	    (unsigned long long)ev->bytes, ev->complete ? "" : " incomplete");
}

struct buf {
	unsigned char b[8192];
	size_t n;
};

static void
put32(struct buf *b, uint32_t v)
{
	b->b[b->n++] = (unsigned char)(v >> 24);
	b->b[b->n++] = (unsigned char)(v >> 16);
	b->b[b->n++] = (unsigned char)(v >> 8);
	b->b[b->n++] = (unsigned char)v;
}

static void
putstr(struct buf *b, const void *s, size_t n)
{
	put32(b, (uint32_t)n);
	memcpy(b->b + b->n, s, n);
	b->n += n;
}

/* A packet: length, type, id, then body as given. */
static void
pkt(struct buf *out, unsigned type, uint32_t id, const struct buf *body)
{
	put32(out, (uint32_t)(1 + 4 + body->n));
	out->b[out->n++] = (unsigned char)type;
	put32(out, id);
	memcpy(out->b + out->n, body->b, body->n);
	out->n += body->n;
}

/* One conversation, in order; fed a packet at a time or a byte at a time. */
struct conv {
	struct buf all;
	size_t start[32], len[32];
	int from[32];
	size_t n;
};

static void
add(struct conv *c, int from_target, unsigned type, uint32_t id, const struct buf *body)
{
	c->start[c->n] = c->all.n;
	pkt(&c->all, type, id, body);
	c->len[c->n] = c->all.n - c->start[c->n];
	c->from[c->n++] = from_target;
}

static void
sftp_run(int bytewise, struct seen *seen)
{
	static struct conv c;
	struct buf b;
	static const unsigned char h1[] = { 0, 0, 0, 1 }, h2[] = { 0, 0, 0, 2 };
	static unsigned char data[3000];
	struct gw_xfer *x = gw_xfer_new(GW_XFER_SFTP, NULL, record, seen);
	size_t i, k;

	assert_non_null(x);
	memset(&c, 0, sizeof(c));
	/* OPEN /srv/up.bin for writing -> HANDLE 1; WRITE 3000; CLOSE. */
	b.n = 0; putstr(&b, "/srv/up.bin", 11); put32(&b, 0x1a); put32(&b, 0);
	add(&c, 0, 3, 1, &b);
	b.n = 0; putstr(&b, h1, 4);
	add(&c, 1, 102, 1, &b);
	b.n = 0; putstr(&b, h1, 4); put32(&b, 0); put32(&b, 0); putstr(&b, data, sizeof(data));
	add(&c, 0, 6, 2, &b);
	b.n = 0; putstr(&b, h1, 4);
	add(&c, 0, 4, 3, &b);
	/* OPEN down.txt for reading -> HANDLE 2; READ -> DATA 700; READ -> EOF; CLOSE. */
	b.n = 0; putstr(&b, "down.txt", 8); put32(&b, 1); put32(&b, 0);
	add(&c, 0, 3, 4, &b);
	b.n = 0; putstr(&b, h2, 4);
	add(&c, 1, 102, 4, &b);
	b.n = 0; putstr(&b, h2, 4); put32(&b, 0); put32(&b, 0); put32(&b, 32768);
	add(&c, 0, 5, 5, &b);
	b.n = 0; putstr(&b, data, 700);
	add(&c, 1, 103, 5, &b);
	b.n = 0; putstr(&b, h2, 4); put32(&b, 0); put32(&b, 700); put32(&b, 32768);
	add(&c, 0, 5, 6, &b);
	b.n = 0; put32(&b, 1);
	add(&c, 1, 101, 6, &b);
	b.n = 0; putstr(&b, h2, 4);
	add(&c, 0, 4, 7, &b);
	/* REMOVE refused (status 2), REMOVE done. */
	b.n = 0; putstr(&b, "keep", 4);
	add(&c, 0, 13, 8, &b);
	b.n = 0; put32(&b, 2);
	add(&c, 1, 101, 8, &b);
	b.n = 0; putstr(&b, "old.log", 7);
	add(&c, 0, 13, 9, &b);
	b.n = 0; put32(&b, 0);
	add(&c, 1, 101, 9, &b);
	for (i = 0; i < c.n; i++) {
		if (!bytewise) {
			gw_xfer_feed(x, c.from[i], c.all.b + c.start[i], c.len[i]);
			continue;
		}
		for (k = 0; k < c.len[i]; k++)
			gw_xfer_feed(x, c.from[i], c.all.b + c.start[i] + k, 1);
	}
	assert_false(gw_xfer_broken(x));
	gw_xfer_free(x);
}

static void
test_sftp(void **state)
{
	int bytewise;

	(void)state;
	for (bytewise = 0; bytewise < 2; bytewise++) {
		struct seen s;

		memset(&s, 0, sizeof(s));
		sftp_run(bytewise, &s);
		assert_int_equal(s.n, 3);
		assert_string_equal(s.text[0], "put /srv/up.bin 3000");
		assert_string_equal(s.text[1], "get down.txt 700");
		assert_string_equal(s.text[2], "remove old.log 0");
	}
}

static void
test_sftp_hostile(void **state)
{
	struct seen s;
	struct gw_xfer *x;
	static const unsigned char huge[] = { 0xff, 0xff, 0xff, 0xff, 3 };
	struct buf up = { { 0 }, 0 }, b;
	char longname[3000];

	(void)state;
	memset(&s, 0, sizeof(s));
	x = gw_xfer_new(GW_XFER_SFTP, NULL, record, &s);
	gw_xfer_feed(x, 0, huge, sizeof(huge));
	assert_true(gw_xfer_broken(x));
	gw_xfer_free(x);
	assert_int_equal(s.n, 0);

	/* A path longer than kept: cut, marked; the file left open is reported. */
	memset(longname, 'a', sizeof(longname));
	x = gw_xfer_new(GW_XFER_SFTP, NULL, record, &s);
	b.n = 0; putstr(&b, longname, sizeof(longname)); put32(&b, 2); put32(&b, 0);
	pkt(&up, 3, 1, &b);
	gw_xfer_feed(x, 0, up.b, up.n);
	up.n = 0;
	b.n = 0; putstr(&b, "h", 1);
	pkt(&up, 102, 1, &b);
	gw_xfer_feed(x, 1, up.b, up.n);
	gw_xfer_free(x);
	assert_int_equal(s.n, 1);
	assert_non_null(strstr(s.text[0], "aaa... 0 incomplete"));
	assert_int_equal(strncmp(s.text[0], "put aaaa", 8), 0);
}

static const struct {
	const char *cmd;
	int mode, recursive;
	const char *path;
} cmds[] = {
	{ "scp -t -- /tmp/x", 't', 0, "/tmp/x" },
	{ "scp -r -d -t tree", 't', 1, "tree" },
	{ "/usr/bin/scp -f 'a b'", 'f', 0, "a b" },
	{ "scp -pf x", 'f', 0, "x" },
	{ "scp -t", 0, 0, "" },
	{ "scp -x -t y", 0, 0, "" },
	{ "scp -t -f y", 0, 0, "" },
	{ "rsync --server . x", 0, 0, "" },
	{ "myscp -t x", 0, 0, "" },
};

static void
test_scp_command(void **state)
{
	char path[64];
	size_t i;
	int rec;

	(void)state;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		assert_int_equal(gw_scp_command(cmds[i].cmd, path, sizeof(path), &rec),
		    cmds[i].mode);
		if (cmds[i].mode != 0) {
			assert_string_equal(path, cmds[i].path);
			assert_int_equal(rec, cmds[i].recursive);
		}
	}
	assert_null(gw_xfer_new(GW_XFER_SCP, "ls -l", record, NULL));
}

static void
test_scp_stream(void **state)
{
	static const char sink[] = "C0644 5 a.txt\nhello\0D0755 0 sub\nC0600 3 b\nabc\0E\n";
	static const char source[] = "T1 0 1 0\nC0644 4 f\nabcd\0\1scp: oops\nC0644 9 g\nabc";
	struct seen s;
	struct gw_xfer *x;
	size_t i;

	(void)state;
	memset(&s, 0, sizeof(s));
	x = gw_xfer_new(GW_XFER_SCP, "scp -r -t dst/", record, &s);
	for (i = 0; i < sizeof(sink) - 1; i++)
		gw_xfer_feed(x, 0, sink + i, 1);
	gw_xfer_feed(x, 1, "\0\0\0\0", 4);	/* the sink's acks: not headers */
	gw_xfer_free(x);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.text[0], "put dst/a.txt 5");
	assert_string_equal(s.text[1], "put dst/sub/b 3");

	memset(&s, 0, sizeof(s));
	x = gw_xfer_new(GW_XFER_SCP, "scp -f f", record, &s);
	gw_xfer_feed(x, 0, "C0644 1 nope\n", 13);	/* the sink side is ignored */
	gw_xfer_feed(x, 1, source, sizeof(source) - 1);
	gw_xfer_free(x);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.text[0], "get f 4");
	assert_string_equal(s.text[1], "get f (g) 3 incomplete");

	/* A name with a slash is not scp: parsing stops, nothing is made up. */
	memset(&s, 0, sizeof(s));
	x = gw_xfer_new(GW_XFER_SCP, "scp -t x", record, &s);
	gw_xfer_feed(x, 0, "C0644 1 ../y\nz\0", 15);
	assert_true(gw_xfer_broken(x));
	gw_xfer_free(x);
	assert_int_equal(s.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sftp),
		cmocka_unit_test(test_sftp_hostile),
		cmocka_unit_test(test_scp_command),
		cmocka_unit_test(test_scp_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
