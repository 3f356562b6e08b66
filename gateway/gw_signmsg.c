/* SPDX-License-Identifier: BSD-2-Clause */
/* Encoding and decoding of the signer's messages, and the session's request. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "gw_signmsg.h"
#include "mg_err.h"
#include "mg_util.h"

/* Where each tag's value lives in the struct, its bound and who may carry it. */
enum fkind { F_STR, F_BYTES32, F_U32, F_U64 };
struct field {
	enum fkind kind;
	size_t off, max;
	unsigned may;		/* bit (1 << type) */
	unsigned must;
};
#define T(x) (1u << (x))
#define S(m) offsetof(struct gw_signmsg, m), sizeof(((struct gw_signmsg *)0)->m) - 1
static const struct field fields[GW_ST_NTAGS] = {
	[GW_ST_SESSION] = { F_STR, S(session), T(GW_SIGN_REQUEST), T(GW_SIGN_REQUEST) },
	[GW_ST_ENGINEER] = { F_STR, S(engineer), T(GW_SIGN_REQUEST), T(GW_SIGN_REQUEST) },
	[GW_ST_TENANT] = { F_STR, S(tenant), T(GW_SIGN_REQUEST), T(GW_SIGN_REQUEST) },
	[GW_ST_TARGET] = { F_STR, S(target), T(GW_SIGN_REQUEST), T(GW_SIGN_REQUEST) },
	[GW_ST_LOGIN] = { F_STR, S(login), T(GW_SIGN_REQUEST), T(GW_SIGN_REQUEST) },
	[GW_ST_TICKET] = { F_STR, S(ticket), T(GW_SIGN_REQUEST), 0 },
	[GW_ST_PUBKEY] = { F_BYTES32, offsetof(struct gw_signmsg, pubkey), 32,
	    T(GW_SIGN_REQUEST), T(GW_SIGN_REQUEST) },
	[GW_ST_LIFETIME] = { F_U32, offsetof(struct gw_signmsg, lifetime), 4,
	    T(GW_SIGN_REQUEST), T(GW_SIGN_REQUEST) },
	[GW_ST_SOURCE] = { F_STR, S(source), T(GW_SIGN_REQUEST), T(GW_SIGN_REQUEST) },
	[GW_ST_CERT] = { F_STR, S(cert), T(GW_SIGN_CERT), T(GW_SIGN_CERT) },
	[GW_ST_SERIAL] = { F_U64, offsetof(struct gw_signmsg, serial), 8,
	    T(GW_SIGN_CERT), T(GW_SIGN_CERT) },
	[GW_ST_TEXT] = { F_STR, S(text), T(GW_SIGN_REFUSED), T(GW_SIGN_REFUSED) },
	[GW_ST_ATT_PID] = { F_U32, offsetof(struct gw_signmsg, att_pid), 4,
	    T(GW_SIGN_REQUEST), T(GW_SIGN_REQUEST) },
	[GW_ST_ATT_START] = { F_U64, offsetof(struct gw_signmsg, att_start), 8,
	    T(GW_SIGN_REQUEST), T(GW_SIGN_REQUEST) },
};

static int
type_ok(unsigned t)
{
	return t >= GW_SIGN_REQUEST && t <= GW_SIGN_REFUSED;
}

static int
clean(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 0;
	return 1;
}

int
gw_signmsg_encode(const struct gw_signmsg *m, unsigned char *buf, size_t len)
{
	size_t o = 4, n, tag;
	const unsigned char *base = (const unsigned char *)m;

	if (!type_ok(m->type) || len < GW_SIGN_MAX)
		return MG_ERR_INVAL;
	buf[0] = 'M';
	buf[1] = 'S';
	buf[2] = GW_SIGN_VERSION;
	buf[3] = (unsigned char)m->type;
	for (tag = 1; tag < GW_ST_NTAGS; tag++) {
		const struct field *f = &fields[tag];
		unsigned char v[8];
		const unsigned char *p = v;
		uint32_t u32;
		uint64_t u64;

		if (!(f->may & T(m->type)))
			continue;
		switch (f->kind) {
		case F_STR:
			p = base + f->off;
			n = strnlen((const char *)p, f->max + 1);
			if (n > f->max || !clean(p, n))
				return MG_ERR_INVAL;
			if (n == 0 && !(f->must & T(m->type)))
				continue;
			break;
		case F_BYTES32:
			p = base + f->off;
			n = 32;
			break;
		case F_U32:
			n = 4;
			memcpy(&u32, base + f->off, 4);
			for (size_t i = 0; i < 4; i++)
				v[i] = (unsigned char)(u32 >> (24 - 8 * i));
			break;
		case F_U64:
		default:
			n = 8;
			memcpy(&u64, base + f->off, 8);
			for (size_t i = 0; i < 8; i++)
				v[i] = (unsigned char)(u64 >> (56 - 8 * i));
			break;
		}
		if (o + 3 + n > GW_SIGN_MAX)
			return MG_ERR_INVAL;
		buf[o] = (unsigned char)tag;
		buf[o + 1] = (unsigned char)(n >> 8);
		buf[o + 2] = (unsigned char)n;
		memcpy(buf + o + 3, p, n);
		o += 3 + n;
	}
	return (int)o;
}

int
gw_signmsg_decode(const unsigned char *buf, size_t len, struct gw_signmsg *m)
{
	unsigned seen = 0, tag;
	size_t o = 4, n, i;
	unsigned char *base = (unsigned char *)m;

	memset(m, 0, sizeof(*m));
	if (len < 4 || len > GW_SIGN_MAX || buf[0] != 'M' || buf[1] != 'S' ||
	    buf[2] != GW_SIGN_VERSION || !type_ok(buf[3]))
		return MG_ERR_PARSE;
	m->type = buf[3];
	while (o < len) {
		const struct field *f;
		uint32_t u32 = 0;
		uint64_t u64 = 0;

		if (len - o < 3)
			return MG_ERR_PARSE;
		tag = buf[o];
		n = (size_t)buf[o + 1] << 8 | buf[o + 2];
		o += 3;
		if (tag == 0 || tag >= GW_ST_NTAGS || n > len - o || (seen & T(tag)))
			return MG_ERR_PARSE;
		f = &fields[tag];
		if (!(f->may & T(m->type)))
			return MG_ERR_PARSE;
		seen |= T(tag);
		switch (f->kind) {
		case F_STR:
			if (n > f->max || !clean(buf + o, n))
				return MG_ERR_PARSE;
			memcpy(base + f->off, buf + o, n);
			base[f->off + n] = '\0';
			break;
		case F_BYTES32:
			if (n != 32)
				return MG_ERR_PARSE;
			memcpy(base + f->off, buf + o, 32);
			break;
		case F_U32:
			if (n != 4)
				return MG_ERR_PARSE;
			for (i = 0; i < 4; i++)
				u32 = u32 << 8 | buf[o + i];
			memcpy(base + f->off, &u32, 4);
			break;
		case F_U64:
		default:
			if (n != 8)
				return MG_ERR_PARSE;
			for (i = 0; i < 8; i++)
				u64 = u64 << 8 | buf[o + i];
			memcpy(base + f->off, &u64, 8);
			break;
		}
		o += n;
	}
	for (tag = 1; tag < GW_ST_NTAGS; tag++)
		if ((fields[tag].must & T(m->type)) && !(seen & T(tag)))
			return MG_ERR_PARSE;
	return 0;
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int
gw_signer_ask(const char *socket_path, const struct gw_signmsg *req, int timeout_ms,
    struct gw_signmsg *reply, char *err, size_t errlen)
{
	static unsigned char buf[GW_SIGN_MAX];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timespec t0;
	struct pollfd pfd;
	ssize_t n;
	int fd = -1, len, r = MG_ERR_UNAVAIL;

	memset(reply, 0, sizeof(*reply));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (strlen(socket_path) >= sizeof(sa.sun_path)) {
		mg_seterr(err, errlen, "signer socket path too long");
		return MG_ERR_INVAL;
	}
	strcpy(sa.sun_path, socket_path);
	if ((len = gw_signmsg_encode(req, buf, sizeof(buf))) < 0) {
		mg_seterr(err, errlen, "the request does not fit the signer's bounds");
		return MG_ERR_INVAL;
	}
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		mg_seterr(err, errlen, "signer %s: %s", socket_path, strerror(errno));
		goto out;
	}
	if (send(fd, buf, (size_t)len, MSG_NOSIGNAL) != len) {
		mg_seterr(err, errlen, "signer %s: send: %s", socket_path, strerror(errno));
		goto out;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		long left = timeout_ms - ms_since(&t0);
		int pr;

		if (left <= 0) {
			mg_seterr(err, errlen, "signer %s: no answer in %d ms", socket_path,
			    timeout_ms);
			goto out;
		}
		pr = poll(&pfd, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			continue;
		break;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n <= 0) {
		mg_seterr(err, errlen, "signer %s: closed without an answer", socket_path);
		goto out;
	}
	if (gw_signmsg_decode(buf, (size_t)n, reply) != 0 || reply->type == GW_SIGN_REQUEST) {
		mg_seterr(err, errlen, "signer %s: a malformed answer", socket_path);
		r = MG_ERR_PARSE;
		goto out;
	}
	if (reply->type == GW_SIGN_REFUSED) {
		mg_seterr(err, errlen, "%s", reply->text);
		r = MG_ERR_DENIED;
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}
