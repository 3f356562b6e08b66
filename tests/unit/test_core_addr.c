/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for CIDR parsing, matching and formatting. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <stdio.h>
#include <string.h>

#include "mg_addr.h"
#include "mg_err.h"

static void
test_parse_good(void **state)
{
	static const struct {
		const char *in;
		int family;
		int prefix;
		const char *formatted;
	} t[] = {
		{ "192.0.2.0/24", AF_INET, 24, "192.0.2.0/24" },
		{ "192.0.2.7", AF_INET, 32, "192.0.2.7/32" },
		{ "192.0.2.7/32", AF_INET, 32, "192.0.2.7/32" },
		{ "0.0.0.0/0", AF_INET, 0, "0.0.0.0/0" },
		{ "10.0.0.0/8", AF_INET, 8, "10.0.0.0/8" },
		{ "172.16.0.0/12", AF_INET, 12, "172.16.0.0/12" },
		{ "255.255.255.255", AF_INET, 32, "255.255.255.255/32" },
		{ "2001:db8::/32", AF_INET6, 32, "2001:db8::/32" },
		{ "2001:DB8:0:0::/64", AF_INET6, 64, "2001:db8::/64" },
		{ "::1", AF_INET6, 128, "::1/128" },
		{ "::/0", AF_INET6, 0, "::/0" },
		{ "fe80::/10", AF_INET6, 10, "fe80::/10" },
		{ "::ffff:192.0.2.0/120", AF_INET6, 120, "::ffff:192.0.2.0/120" },
		{ "2001:db8:1:2:3:4:5:6/127", AF_INET6, 127,
		    "2001:db8:1:2:3:4:5:6/127" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", AF_INET6, 128,
		    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128" },
	};
	char err[256], buf[MG_CIDR_STRLEN];
	struct mg_cidr c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (mg_cidr_parse(t[i].in, &c, err, sizeof(err)) != 0)
			fail_msg("%s: %s", t[i].in, err);
		assert_int_equal(c.family, t[i].family);
		assert_int_equal(c.prefix, t[i].prefix);
		mg_cidr_format(&c, buf, sizeof(buf));
		assert_string_equal(buf, t[i].formatted);
	}
}

static void
test_parse_bad(void **state)
{
	static const struct {
		const char *in;
		const char *want;
	} t[] = {
		{ "10.0.0.0/33", "\"10.0.0.0/33\": the prefix length is more than 32" },
		{ "2001:db8::/129",
		    "\"2001:db8::/129\": the prefix length is more than 128" },
		{ "10.0.0.0/", "\"10.0.0.0/\": the prefix length must be a "
		    "decimal number from 0 to 32" },
		{ "10.0.0.0/08x", "\"10.0.0.0/08x\": the prefix length must be a "
		    "decimal number from 0 to 32" },
		{ "10.0.0.0/08", "\"10.0.0.0/08\": the prefix length must be a "
		    "decimal number from 0 to 32" },
		{ "10.0.0.0/8x", "\"10.0.0.0/8x\": the prefix length must be a "
		    "decimal number from 0 to 32" },
		{ "10.0.0.0/-8", "\"10.0.0.0/-8\": the prefix length must be a "
		    "decimal number from 0 to 32" },
		{ "10.0.0.0/+8", "\"10.0.0.0/+8\": the prefix length must be a "
		    "decimal number from 0 to 32" },
		{ "10.0.0.0/ 8", "\"10.0.0.0/ 8\": the prefix length must be a "
		    "decimal number from 0 to 32" },
		{ "10.0.0.0/8/8", "\"10.0.0.0/8/8\": the prefix length must be a "
		    "decimal number from 0 to 32" },
		{ "10.0.0.0/0008", "\"10.0.0.0/0008\": the prefix length must be a "
		    "decimal number from 0 to 32" },
		{ "::/4294967304", "\"::/4294967304\": the prefix length must be a "
		    "decimal number from 0 to 128" },
		{ "10.0.0.1/8", "\"10.0.0.1/8\" has host bits set beyond the "
		    "prefix; the block is 10.0.0.0/8" },
		{ "192.0.2.129/25", "\"192.0.2.129/25\" has host bits set beyond "
		    "the prefix; the block is 192.0.2.128/25" },
		{ "2001:db8::1/64", "\"2001:db8::1/64\" has host bits set beyond "
		    "the prefix; the block is 2001:db8::/64" },
		{ "example.com", "\"example.com\" is not an IP address or CIDR block" },
		{ "localhost/8", "\"localhost/8\" is not an IP address or CIDR block" },
		{ "", "\"\" is not an IP address or CIDR block" },
		{ "/8", "\"/8\" is not an IP address or CIDR block" },
		{ "10.0.0", "\"10.0.0\" is not an IP address or CIDR block" },
		{ "10.0.0.0.0", "\"10.0.0.0.0\" is not an IP address or CIDR block" },
		{ "010.0.0.0/8", "\"010.0.0.0/8\" is not an IP address or CIDR block" },
		{ "0x0a.0.0.0/8", "\"0x0a.0.0.0/8\" is not an IP address or CIDR block" },
		{ "256.0.0.0/8", "\"256.0.0.0/8\" is not an IP address or CIDR block" },
		{ " 10.0.0.0/8", "\" 10.0.0.0/8\" is not an IP address or CIDR block" },
		{ "fe80::1%eth0", "\"fe80::1%eth0\" is not an IP address or CIDR block" },
		{ "2001:db8:::/48", "\"2001:db8:::/48\" is not an IP address or CIDR block" },
		{ "bad\x1b[2J/8", "\"bad?[2J/8\" is not an IP address or CIDR block" },
	};
	char err[256];
	struct mg_cidr c;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&c, 0x5a, sizeof(c));
		err[0] = '\0';
		r = mg_cidr_parse(t[i].in, &c, err, sizeof(err));
		if (r != MG_ERR_PARSE || strcmp(err, t[i].want) != 0)
			fail_msg("%s: got %d \"%s\", want \"%s\"", t[i].in, r, err,
			    t[i].want);
		/* A failed parse leaves nothing that could match. */
		assert_int_equal(c.family, 0);
		assert_int_equal(mg_cidr_match(&c, "10.0.0.1"), 0);
	}
}

static void
test_match(void **state)
{
	static const struct {
		const char *cidr;
		const char *addr;
		int want;
	} t[] = {
		{ "192.0.2.0/24", "192.0.2.0", 1 },
		{ "192.0.2.0/24", "192.0.2.255", 1 },
		{ "192.0.2.0/24", "192.0.3.0", 0 },
		{ "192.0.2.0/24", "192.0.1.255", 0 },
		{ "192.0.2.128/25", "192.0.2.127", 0 },
		{ "192.0.2.128/25", "192.0.2.128", 1 },
		{ "10.0.0.0/8", "10.255.255.255", 1 },
		{ "10.0.0.0/8", "11.0.0.0", 0 },
		{ "172.16.0.0/12", "172.31.1.1", 1 },
		{ "172.16.0.0/12", "172.32.0.0", 0 },
		{ "0.0.0.0/0", "203.0.113.9", 1 },
		{ "0.0.0.0/0", "2001:db8::1", 0 },
		{ "192.0.2.7", "192.0.2.7", 1 },
		{ "192.0.2.7", "192.0.2.6", 0 },
		/* An IPv4 peer seen through a dual-stack socket. */
		{ "192.0.2.0/24", "::ffff:192.0.2.7", 1 },
		{ "192.0.2.0/24", "::FFFF:c000:0207", 1 },
		{ "192.0.2.0/24", "::ffff:192.0.3.7", 0 },
		{ "0.0.0.0/0", "::ffff:1.2.3.4", 1 },
		/* Not mapped: IPv4-compatible and NAT64 forms stay IPv6. */
		{ "192.0.2.0/24", "::192.0.2.7", 0 },
		{ "192.0.2.0/24", "64:ff9b::192.0.2.7", 0 },
		/* IPv6 rules do not take IPv4 peers. */
		{ "::/0", "192.0.2.7", 0 },
		{ "::ffff:0:0/96", "192.0.2.7", 0 },
		{ "::ffff:0:0/96", "::ffff:192.0.2.7", 1 },
		{ "::/0", "::ffff:192.0.2.7", 1 },
		{ "2001:db8::/32", "2001:db8:ffff::1", 1 },
		{ "2001:db8::/32", "2001:db9::1", 0 },
		{ "2001:db8::/33", "2001:db8:7fff::", 1 },
		{ "2001:db8::/33", "2001:db8:8000::", 0 },
		{ "2001:db8::1", "2001:db8::1", 1 },
		{ "2001:db8::1", "2001:db8::2", 0 },
		{ "::/0", "::", 1 },
		/* Names and garbage never match, not even a catch-all. */
		{ "0.0.0.0/0", "localhost", 0 },
		{ "0.0.0.0/0", "example.com", 0 },
		{ "127.0.0.0/8", "localhost", 0 },
		{ "::/0", "localhost", 0 },
		{ "0.0.0.0/0", "", 0 },
		{ "0.0.0.0/0", "10.0.0.1/8", 0 },
		{ "0.0.0.0/0", " 10.0.0.1", 0 },
		{ "0.0.0.0/0", "10.0.0.1 ", 0 },
		{ "0.0.0.0/0", "010.0.0.1", 0 },
		{ "::/0", "fe80::1%eth0", 0 },
		{ "::/0", "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000", 0 },
	};
	char err[256];
	struct mg_cidr c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (mg_cidr_parse(t[i].cidr, &c, err, sizeof(err)) != 0)
			fail_msg("%s: %s", t[i].cidr, err);
		if (mg_cidr_match(&c, t[i].addr) != t[i].want)
			fail_msg("%s in %s: want %d", t[i].addr, t[i].cidr,
			    t[i].want);
	}
}

static void
test_api_edges(void **state)
{
	struct mg_cidr c;
	char buf[MG_CIDR_STRLEN], small[8], err[16];

	(void)state;
	assert_int_equal(mg_cidr_parse(NULL, &c, err, sizeof(err)), MG_ERR_INVAL);
	assert_int_equal(mg_cidr_parse("10.0.0.0/8", NULL, NULL, 0), MG_ERR_INVAL);
	assert_int_equal(mg_cidr_parse("nope", &c, NULL, 0), MG_ERR_PARSE);
	assert_int_equal(mg_cidr_match(NULL, "10.0.0.1"), 0);

	assert_int_equal(mg_cidr_parse("10.0.0.0/8", &c, NULL, 0), 0);
	assert_int_equal(mg_cidr_match(&c, NULL), 0);
	/* A short buffer truncates and stays terminated. */
	mg_cidr_format(&c, small, sizeof(small));
	assert_string_equal(small, "10.0.0.");
	mg_cidr_format(&c, buf, 0);
	mg_cidr_format(NULL, buf, sizeof(buf));
	assert_string_equal(buf, "");

	/* The longest text fits MG_CIDR_STRLEN. */
	assert_int_equal(mg_cidr_parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
	    &c, NULL, 0), 0);
	mg_cidr_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	assert_int_equal(mg_cidr_parse("::ffff:255.255.255.255", &c, NULL, 0), 0);
	mg_cidr_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "::ffff:255.255.255.255/128");

	/* A hand-built block with a bad prefix never matches. */
	assert_int_equal(mg_cidr_parse("10.0.0.0/8", &c, NULL, 0), 0);
	c.prefix = 33;
	assert_int_equal(mg_cidr_match(&c, "10.0.0.1"), 0);
	c.prefix = -1;
	assert_int_equal(mg_cidr_match(&c, "10.0.0.1"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_api_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
