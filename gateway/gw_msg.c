/* SPDX-License-Identifier: BSD-2-Clause */
/* Encoding, decoding, sending and receiving of session socket messages. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gw_msg.h"
#include "mg_err.h"
#include "mg_file.h"

#define TAGBIT(t) (1u << (t))

/* Which tags each type allows, and which it requires. */
static const struct {
	int type;
	unsigned allowed, required;
} type_rules[] = {
	{ GW_MSG_OPEN,
	  TAGBIT(GW_TAG_TARGET) | TAGBIT(GW_TAG_COMMAND) | TAGBIT(GW_TAG_SUBSYSTEM) |
	  TAGBIT(GW_TAG_FLAGS) | TAGBIT(GW_TAG_TERM) | TAGBIT(GW_TAG_WINSIZE) |
	  TAGBIT(GW_TAG_TICKET) | TAGBIT(GW_TAG_CONNECTION) | TAGBIT(GW_TAG_AUTHINFO),
	  TAGBIT(GW_TAG_TARGET) | TAGBIT(GW_TAG_FLAGS) },
	{ GW_MSG_LIST, TAGBIT(GW_TAG_CONNECTION) | TAGBIT(GW_TAG_AUTHINFO), 0 },
	{ GW_MSG_CONFIG, TAGBIT(GW_TAG_CONNECTION) | TAGBIT(GW_TAG_AUTHINFO) |
	  TAGBIT(GW_TAG_COMMAND), 0 },
	{ GW_MSG_RESIZE, TAGBIT(GW_TAG_WINSIZE), TAGBIT(GW_TAG_WINSIZE) },
	{ GW_MSG_TARGETS, TAGBIT(GW_TAG_ITEM), 0 },
	{ GW_MSG_END, TAGBIT(GW_TAG_STATUS) | TAGBIT(GW_TAG_TEXT), TAGBIT(GW_TAG_STATUS) },
};

/* Longest value of each string tag (fixed-size tags are checked apart). */
static size_t
tag_max(int tag)
{
	switch (tag) {
	case GW_TAG_TARGET: return 256;
	case GW_TAG_COMMAND: return 32768;
	case GW_TAG_SUBSYSTEM: return 64;
	case GW_TAG_TERM: return 64;
	case GW_TAG_TICKET: return 128;
	case GW_TAG_CONNECTION: return 256;
	case GW_TAG_AUTHINFO: return 16384;
	case GW_TAG_TEXT: return 1024;
	case GW_TAG_ITEM: return 512;
	default: return 0;
	}
}

static int
type_index(int type)
{
	size_t i;

	for (i = 0; i < sizeof(type_rules) / sizeof(type_rules[0]); i++)
		if (type_rules[i].type == type)
			return (int)i;
	return -1;
}

static char **
str_slot(struct gw_msg *m, int tag)
{
	switch (tag) {
	case GW_TAG_TARGET: return &m->target;
	case GW_TAG_COMMAND: return &m->command;
	case GW_TAG_SUBSYSTEM: return &m->subsystem;
	case GW_TAG_TERM: return &m->term;
	case GW_TAG_TICKET: return &m->ticket;
	case GW_TAG_CONNECTION: return &m->connection;
	case GW_TAG_AUTHINFO: return &m->authinfo;
	case GW_TAG_TEXT: return &m->text;
	default: return NULL;
	}
}

int
gw_msg_begin(struct gw_msg_writer *w, uint8_t *buf, size_t cap, int type)
{
	w->p = buf;
	w->cap = cap < GW_MSG_MAX ? cap : GW_MSG_MAX;
	w->len = 0;
	if (type < 1 || type > 0xff)
		return MG_ERR_INVAL;
	if (w->cap < 4)
		return MG_ERR_TOOBIG;
	buf[0] = 'M';
	buf[1] = 'G';
	buf[2] = GW_MSG_VERSION;
	buf[3] = (uint8_t)type;
	w->len = 4;
	return 0;
}

int
gw_msg_put(struct gw_msg_writer *w, int tag, const void *v, size_t n)
{
	if (n > 0xffff || w->cap - w->len < 3 || w->cap - w->len - 3 < n)
		return MG_ERR_TOOBIG;
	w->p[w->len++] = (uint8_t)tag;
	w->p[w->len++] = (uint8_t)(n >> 8);
	w->p[w->len++] = (uint8_t)n;
	if (n > 0)
		memcpy(w->p + w->len, v, n);
	w->len += n;
	return 0;
}

int
gw_msg_open(struct gw_msg_reader *r, const uint8_t *buf, size_t len, int *type)
{
	r->p = buf;
	r->len = len;
	r->off = 4;
	*type = 0;
	if (len < 4 || len > GW_MSG_MAX || buf[0] != 'M' || buf[1] != 'G' ||
	    buf[2] != GW_MSG_VERSION)
		return MG_ERR_PARSE;
	*type = buf[3];
	return 0;
}

int
gw_msg_next(struct gw_msg_reader *r, int *tag, const uint8_t **v, size_t *n)
{
	size_t k;

	if (r->off >= r->len)
		return 0;
	if (r->len - r->off < 3)
		return MG_ERR_PARSE;
	k = (size_t)r->p[r->off + 1] << 8 | r->p[r->off + 2];
	if (k > r->len - r->off - 3)
		return MG_ERR_PARSE;
	*tag = r->p[r->off];
	*v = r->p + r->off + 3;
	*n = k;
	r->off += 3 + k;
	return 1;
}

static int
put_str(struct gw_msg_writer *w, int tag, const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strlen(s);
	if (n > tag_max(tag))
		return MG_ERR_TOOBIG;
	return gw_msg_put(w, tag, s, n);
}

int
gw_msg_encode(const struct gw_msg *m, uint8_t *buf, size_t cap, size_t *len)
{
	struct gw_msg_writer w;
	uint8_t v[5];
	size_t i;
	int r;

	*len = 0;
	if (type_index(m->type) < 0)
		return MG_ERR_INVAL;
	if ((r = gw_msg_begin(&w, buf, cap, m->type)) != 0)
		return r;
	if ((r = put_str(&w, GW_TAG_TARGET, m->target)) != 0 ||
	    (r = put_str(&w, GW_TAG_COMMAND, m->command)) != 0 ||
	    (r = put_str(&w, GW_TAG_SUBSYSTEM, m->subsystem)) != 0 ||
	    (r = put_str(&w, GW_TAG_TERM, m->term)) != 0 ||
	    (r = put_str(&w, GW_TAG_TICKET, m->ticket)) != 0 ||
	    (r = put_str(&w, GW_TAG_CONNECTION, m->connection)) != 0 ||
	    (r = put_str(&w, GW_TAG_AUTHINFO, m->authinfo)) != 0 ||
	    (r = put_str(&w, GW_TAG_TEXT, m->text)) != 0)
		return r;
	if (m->has_flags) {
		v[0] = (uint8_t)(m->flags >> 24);
		v[1] = (uint8_t)(m->flags >> 16);
		v[2] = (uint8_t)(m->flags >> 8);
		v[3] = (uint8_t)m->flags;
		if ((r = gw_msg_put(&w, GW_TAG_FLAGS, v, 4)) != 0)
			return r;
	}
	if (m->has_winsize) {
		if (m->cols > 0xffff || m->rows > 0xffff)
			return MG_ERR_INVAL;
		v[0] = (uint8_t)(m->cols >> 8);
		v[1] = (uint8_t)m->cols;
		v[2] = (uint8_t)(m->rows >> 8);
		v[3] = (uint8_t)m->rows;
		if ((r = gw_msg_put(&w, GW_TAG_WINSIZE, v, 4)) != 0)
			return r;
	}
	if (m->has_status) {
		uint32_t c = (uint32_t)m->code;

		if (m->end_kind > GW_END_ERROR)
			return MG_ERR_INVAL;
		v[0] = (uint8_t)m->end_kind;
		v[1] = (uint8_t)(c >> 24);
		v[2] = (uint8_t)(c >> 16);
		v[3] = (uint8_t)(c >> 8);
		v[4] = (uint8_t)c;
		if ((r = gw_msg_put(&w, GW_TAG_STATUS, v, 5)) != 0)
			return r;
	}
	if (m->nitems > GW_MSG_MAX_ITEMS)
		return MG_ERR_TOOBIG;
	for (i = 0; i < m->nitems; i++)
		if ((r = put_str(&w, GW_TAG_ITEM, m->items[i])) != 0)
			return r;
	*len = w.len;
	return 0;
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static char *
dup_value(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

int
gw_msg_decode(const uint8_t *buf, size_t len, struct gw_msg *m)
{
	struct gw_msg_reader rd;
	unsigned seen = 0;
	int ti, type, k, r = MG_ERR_PARSE;

	memset(m, 0, sizeof(*m));
	if (gw_msg_open(&rd, buf, len, &type) != 0 || (ti = type_index(type)) < 0)
		return MG_ERR_PARSE;
	m->type = type;
	for (;;) {
		const uint8_t *v;
		size_t n;
		int tag;
		char **slot;

		if ((k = gw_msg_next(&rd, &tag, &v, &n)) == 0)
			break;
		if (k < 0 || tag < 1 || tag > GW_TAG_ITEM)
			goto fail;
		if (!(type_rules[ti].allowed & TAGBIT(tag)))
			goto fail;
		if (tag != GW_TAG_ITEM && (seen & TAGBIT(tag)))
			goto fail;
		seen |= TAGBIT(tag);
		switch (tag) {
		case GW_TAG_FLAGS:
			if (n != 4)
				goto fail;
			m->flags = get_u32(v);
			if (m->flags & ~GW_F_MASK)
				goto fail;
			m->has_flags = 1;
			continue;
		case GW_TAG_WINSIZE:
			if (n != 4)
				goto fail;
			m->cols = (unsigned)v[0] << 8 | v[1];
			m->rows = (unsigned)v[2] << 8 | v[3];
			m->has_winsize = 1;
			continue;
		case GW_TAG_STATUS:
			if (n != 5 || v[0] > GW_END_ERROR)
				goto fail;
			m->end_kind = v[0];
			m->code = (int32_t)get_u32(v + 1);
			m->has_status = 1;
			continue;
		default:
			break;
		}
		/* A string: bounded, and no NUL (it could hide the rest). */
		if (n > tag_max(tag) || memchr(v, '\0', n) != NULL)
			goto fail;
		if (tag == GW_TAG_ITEM) {
			char **ni;

			if (m->nitems >= GW_MSG_MAX_ITEMS)
				goto fail;
			if ((ni = realloc(m->items, (m->nitems + 1) * sizeof(*ni))) == NULL)
				goto nomem;
			m->items = ni;
			if ((m->items[m->nitems] = dup_value(v, n)) == NULL)
				goto nomem;
			m->nitems++;
			continue;
		}
		slot = str_slot(m, tag);
		if ((*slot = dup_value(v, n)) == NULL)
			goto nomem;
	}
	if ((seen & type_rules[ti].required) != type_rules[ti].required)
		goto fail;
	return 0;
nomem:
	r = MG_ERR_NOMEM;
fail:
	gw_msg_clear(m);
	return r;
}

static void
free_str(char *s)
{
	if (s != NULL)
		mg_freezero(s, strlen(s));
}

void
gw_msg_clear(struct gw_msg *m)
{
	size_t i;

	free_str(m->target);
	free_str(m->command);
	free_str(m->subsystem);
	free_str(m->term);
	free_str(m->ticket);
	free_str(m->connection);
	free_str(m->authinfo);
	free_str(m->text);
	for (i = 0; i < m->nitems; i++)
		free_str(m->items[i]);
	free(m->items);
	memset(m, 0, sizeof(*m));
}

int
gw_msg_add_item(struct gw_msg *m, const char *item)
{
	char **ni;

	if (m->nitems >= GW_MSG_MAX_ITEMS || strlen(item) > tag_max(GW_TAG_ITEM))
		return MG_ERR_TOOBIG;
	if ((ni = realloc(m->items, (m->nitems + 1) * sizeof(*ni))) == NULL)
		return MG_ERR_NOMEM;
	m->items = ni;
	if ((m->items[m->nitems] = strdup(item)) == NULL)
		return MG_ERR_NOMEM;
	m->nitems++;
	return 0;
}

int
gw_msg_send(int sock, const struct gw_msg *m, const int *fds, size_t nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(3 * sizeof(int))];
	} cm;
	struct msghdr mh;
	struct iovec iov;
	uint8_t *buf;
	size_t len;
	ssize_t n;
	int r;

	if (nfds > 3)
		return MG_ERR_INVAL;
	if ((buf = malloc(GW_MSG_MAX)) == NULL)
		return MG_ERR_NOMEM;
	if ((r = gw_msg_encode(m, buf, GW_MSG_MAX, &len)) != 0)
		goto out;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.b;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	r = n == (ssize_t)len ? 0 : MG_ERR_SYSTEM;
out:
	if (r == 0 && m->ticket != NULL)
		explicit_bzero(buf, len);
	free(buf);
	return r;
}

int
gw_msg_recv(int sock, struct gw_msg *m, int *fds, size_t maxfds, size_t *nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(8 * sizeof(int))];
	} cm;
	struct msghdr mh;
	struct cmsghdr *c;
	struct iovec iov;
	uint8_t *buf;
	ssize_t n;
	size_t got = 0, i;
	int r = 0, bad = 0;

	*nfds = 0;
	memset(m, 0, sizeof(*m));
	if ((buf = malloc(GW_MSG_MAX)) == NULL)
		return MG_ERR_NOMEM;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = GW_MSG_MAX;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof(cm.b);
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r = MG_ERR_SYSTEM;
		goto out;
	}
	/* Collect every descriptor first, so none leaks whatever happens next. */
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		size_t k;
		int fd;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (got < maxfds)
				fds[got++] = fd;
			else {
				close(fd);
				bad = 1;
			}
		}
	}
	if (n == 0 && got == 0) {
		r = MG_ERR_NOENT;
		goto out;
	}
	if (bad || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		r = MG_ERR_PARSE;
		goto out;
	}
	r = gw_msg_decode(buf, (size_t)n, m);
out:
	if (r != 0) {
		for (i = 0; i < got; i++)
			close(fds[i]);
		got = 0;
	}
	*nfds = got;
	explicit_bzero(buf, n > 0 ? (size_t)n : 0);
	free(buf);
	return r;
}
