/* SPDX-License-Identifier: BSD-2-Clause */
/* CIDR blocks for source-address rules: strict parsing, matching, formatting. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mg_addr.h"
#include "mg_err.h"
#include "mg_util.h"

/* Longest numeric IPv6 text, with an embedded IPv4 part, plus room to spare. */
#define ADDR_TEXT_MAX	INET6_ADDRSTRLEN

static const unsigned char v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* Bounded, printable copy of the user's text for an error message. */
static const char *
shown(const char *s, char *out, size_t outsz)
{
	size_t i, n = 0;

	for (i = 0; s[i] != '\0' && n + 4 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];

		out[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (s[i] != '\0' && n + 3 < outsz) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

/*
 * A numeric address, IPv4 or IPv6, and nothing else: inet_pton takes no
 * names, no zone ids and (glibc) no octal-looking leading zeros.
 */
static int
addr_pton(const char *s, size_t len, int *family, unsigned char addr[16])
{
	char buf[ADDR_TEXT_MAX + 1];

	if (len == 0 || len > ADDR_TEXT_MAX)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

/* 1 when the first prefix bits of a and b agree. */
static int
prefix_equal(const unsigned char *a, const unsigned char *b, int prefix)
{
	int bytes = prefix / 8, bits = prefix % 8;
	unsigned char mask;

	if (memcmp(a, b, (size_t)bytes) != 0)
		return 0;
	if (bits == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - bits));
	return ((a[bytes] ^ b[bytes]) & mask) == 0;
}

int
mg_cidr_parse(const char *s, struct mg_cidr *out, char *err, size_t errlen)
{
	struct mg_cidr c;
	const char *slash, *d;
	char tmp[80], want[ADDR_TEXT_MAX + 8];
	size_t alen;
	int max, i;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	mg_seterr(err, errlen, "%s", "");
	if (s == NULL || out == NULL) {
		mg_seterr(err, errlen, "no address given");
		return MG_ERR_INVAL;
	}
	memset(&c, 0, sizeof(c));
	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (addr_pton(s, alen, &c.family, c.addr) != 0) {
		mg_seterr(err, errlen, "\"%s\" is not an IP address or CIDR block",
		    shown(s, tmp, sizeof(tmp)));
		return MG_ERR_PARSE;
	}
	max = c.family == AF_INET ? 32 : 128;
	if (slash == NULL) {
		c.prefix = max;
	} else {
		/*
		 * Decimal digits only, no sign, blank or leading zero, so
		 * "/08x" or "/ 8" cannot be read as something else.
		 */
		d = slash + 1;
		c.prefix = 0;
		for (i = 0; d[i] != '\0'; i++) {
			if (d[i] < '0' || d[i] > '9' || i >= 3 ||
			    (i == 1 && d[0] == '0'))
				break;
			c.prefix = c.prefix * 10 + (d[i] - '0');
		}
		if (i == 0 || d[i] != '\0') {
			mg_seterr(err, errlen, "\"%s\": the prefix length must be "
			    "a decimal number from 0 to %d",
			    shown(s, tmp, sizeof(tmp)), max);
			return MG_ERR_PARSE;
		}
		if (c.prefix > max) {
			mg_seterr(err, errlen, "\"%s\": the prefix length is more "
			    "than %d", shown(s, tmp, sizeof(tmp)), max);
			return MG_ERR_PARSE;
		}
	}
	/*
	 * "10.0.0.1/8" is more likely a typo than a wish for all of 10/8;
	 * refuse it rather than guess which one was meant.
	 */
	for (i = c.prefix; i < max; i++) {
		if (c.addr[i / 8] & (0x80 >> (i % 8))) {
			struct mg_cidr net = c;

			for (; i < max; i++)
				net.addr[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
			mg_cidr_format(&net, want, sizeof(want));
			mg_seterr(err, errlen, "\"%s\" has host bits set beyond "
			    "the prefix; the block is %s",
			    shown(s, tmp, sizeof(tmp)), want);
			return MG_ERR_PARSE;
		}
	}
	*out = c;
	return 0;
}

int
mg_cidr_match(const struct mg_cidr *c, const char *addr)
{
	unsigned char a[16];
	int family;

	if (c == NULL || addr == NULL)
		return 0;
	if (addr_pton(addr, strlen(addr), &family, a) != 0)
		return 0;
	/*
	 * A dual-stack socket shows an IPv4 peer as ::ffff:a.b.c.d; it is the
	 * same peer, so it meets IPv4 rules. The reverse is not done: an IPv6
	 * rule like ::/0 must not quietly admit every IPv4 peer.
	 */
	if (c->family == AF_INET && family == AF_INET6 &&
	    memcmp(a, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0) {
		memmove(a, a + 12, 4);
		family = AF_INET;
	}
	if (family != c->family)
		return 0;
	if (c->prefix < 0 || c->prefix > (family == AF_INET ? 32 : 128))
		return 0;
	return prefix_equal(a, c->addr, c->prefix);
}

void
mg_cidr_format(const struct mg_cidr *c, char *buf, size_t len)
{
	char a[ADDR_TEXT_MAX];

	if (buf == NULL || len == 0)
		return;
	buf[0] = '\0';
	if (c == NULL || (c->family != AF_INET && c->family != AF_INET6))
		return;
	if (inet_ntop(c->family, c->addr, a, sizeof(a)) == NULL)
		return;
	snprintf(buf, len, "%s/%d", a, c->prefix);
}
