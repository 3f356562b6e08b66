/* SPDX-License-Identifier: BSD-2-Clause */
/* IPv4/IPv6 addresses and CIDR blocks for source restrictions. */
#ifndef MG_ADDR_H
#define MG_ADDR_H

#include <stddef.h>

struct mg_cidr {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16];	/* network address, host bits zero */
	int prefix;		/* 0..32 or 0..128 */
};

/*
 * Parses "192.0.2.0/24", "192.0.2.7" (a /32), "2001:db8::/32", "::1".
 * Host bits set beyond the prefix ("10.0.0.1/8") are an error, as are
 * hostnames. Returns 0 or MG_ERR_PARSE with a message.
 */
int mg_cidr_parse(const char *s, struct mg_cidr *out, char *err, size_t errlen);
/*
 * 1 when the numeric address string addr lies in c, else 0 (also for
 * hostnames and garbage, so a name never matches). An IPv4-mapped IPv6
 * address ("::ffff:192.0.2.7") matches IPv4 blocks.
 */
int mg_cidr_match(const struct mg_cidr *c, const char *addr);
/*
 * "192.0.2.0/24", always with the prefix; truncated to fit len, which
 * MG_CIDR_STRLEN always fits. An invalid c gives "".
 */
#define MG_CIDR_STRLEN	50	/* 45 for IPv6 text + "/128" + NUL */
void mg_cidr_format(const struct mg_cidr *c, char *buf, size_t len);

#endif
