/* SPDX-License-Identifier: BSD-2-Clause */
/* Encoding, decoding, sending and receiving of mspgated <-> session process messages. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "gw_child.h"
#include "mg_err.h"

/* How a field's value sits on the wire and in struct gw_child_msg. */
enum fkind {
	F_STR,		/* char[max + 1] */
	F_TEXT,		/* struct gw_child_text, text up to max */
	F_TIME,		/* int64_t, 8 bytes, 0 .. INT64_MAX */
	F_U64,		/* uint64_t, 8 bytes */
	F_U8,		/* unsigned, 1 byte, 0 .. max */
	F_MASK,		/* unsigned, 1 byte, only the bits of max */
};

#define REQ	0x1	/* must be present */
#define NONEMPTY 0x2	/* a string that must not be empty (implies REQ) */

struct fdef {
	int tag;
	enum fkind kind;
	unsigned flags;
	uint64_t max;	/* string length, or the largest value or mask */
	size_t off;	/* in struct gw_child_msg */
};

#define AT(m) offsetof(struct gw_child_msg, u.m)

static const struct fdef attempt_f[] = {
	{ GW_CT_ENGINEER, F_STR, NONEMPTY, GW_CHILD_NAME_MAX, AT(attempt.engineer) },
	{ GW_CT_TENANT, F_STR, NONEMPTY, GW_CHILD_NAME_MAX, AT(attempt.tenant) },
	{ GW_CT_TARGET, F_STR, NONEMPTY, GW_CHILD_NAME_MAX, AT(attempt.target) },
	{ GW_CT_SOURCE, F_STR, 0, GW_CHILD_SOURCE_MAX, AT(attempt.source) },
	{ GW_CT_OUTCOME, F_U8, REQ, GW_CHILD_REFUSED_OTHER, AT(attempt.outcome) },
};

static const struct fdef start_f[] = {
	{ GW_CT_ID, F_STR, NONEMPTY, GW_CHILD_ID_MAX, AT(start.id) },
	{ GW_CT_ENGINEER, F_STR, NONEMPTY, GW_CHILD_NAME_MAX, AT(start.engineer) },
	{ GW_CT_TENANT, F_STR, NONEMPTY, GW_CHILD_NAME_MAX, AT(start.tenant) },
	{ GW_CT_TARGET, F_STR, NONEMPTY, GW_CHILD_NAME_MAX, AT(start.target) },
	{ GW_CT_LOGIN, F_STR, NONEMPTY, GW_CHILD_NAME_MAX, AT(start.login) },
	{ GW_CT_SOURCE, F_STR, 0, GW_CHILD_SOURCE_MAX, AT(start.source) },
	{ GW_CT_KIND, F_U8, REQ, GW_CHILD_SFTP, AT(start.kind) },
	{ GW_CT_START, F_TIME, REQ, 0, AT(start.start) },
	{ GW_CT_END_BY, F_TIME, REQ, 0, AT(start.end_by) },
	{ GW_CT_WINDOW_CLOSE, F_TIME, REQ, 0, AT(start.window_close) },
	{ GW_CT_MFA, F_MASK, REQ, GW_CHILD_MFA_MASK, AT(start.mfa) },
};
/* An F_MASK travels as one byte: eight factors at most. */
_Static_assert(GW_CHILD_MFA_MASK <= 0xff, "GW_CT_MFA is one byte");

static const struct fdef usage_f[] = {
	{ GW_CT_BYTES_IN, F_U64, REQ, 0, AT(usage.bytes_in) },
	{ GW_CT_BYTES_OUT, F_U64, REQ, 0, AT(usage.bytes_out) },
	{ GW_CT_LAST, F_TIME, REQ, 0, AT(usage.last) },
	{ GW_CT_END_BY, F_TIME, REQ, 0, AT(usage.end_by) },
};

static const struct fdef command_f[] = {
	{ GW_CT_TEXT, F_TEXT, REQ, GW_CHILD_COMMAND_MAX, AT(text) },
};

static const struct fdef input_f[] = {
	{ GW_CT_TEXT, F_TEXT, REQ, GW_CHILD_INPUT_MAX, AT(text) },
};

static const struct fdef refused_f[] = {
	{ GW_CT_AUDITED, F_U8, REQ, 1, AT(refused.audited) },
};

static const struct fdef verdict_f[] = {
	{ GW_CT_ACTION, F_U8, REQ, GW_CHILD_ACT_DENY, AT(verdict.action) },
	{ GW_CT_WORDS, F_STR, NONEMPTY, GW_CHILD_WORDS_MAX, AT(verdict.words) },
};

static const struct fdef words_f[] = {
	{ GW_CT_WORDS, F_STR, NONEMPTY, GW_CHILD_WORDS_MAX, AT(verdict.words) },
};

static const struct fdef kill_f[] = {
	{ GW_CT_WHO, F_STR, NONEMPTY, GW_CHILD_WHO_MAX, AT(kill.who) },
};

/* A revoke's END_BY is a real time: 0 ("none") would mean nothing. */
static const struct fdef revoke_f[] = {
	{ GW_CT_END_BY, F_TIME, REQ | NONEMPTY, 0, AT(revoke.end_by) },
	{ GW_CT_WHY, F_STR, 0, GW_CHILD_WHY_MAX, AT(revoke.why) },
};

static const struct fdef approval_f[] = {
	{ GW_CT_APPROVED, F_U8, REQ, 1, AT(approval.approved) },
	{ GW_CT_START, F_TIME, REQ, 0, AT(approval.at) },
	{ GW_CT_WHO, F_STR, NONEMPTY, GW_CHILD_WHO_MAX, AT(approval.who) },
	{ GW_CT_WHY, F_STR, 0, GW_CHILD_WHY_MAX, AT(approval.comment) },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The one table: each type, who sends it, its fields. */
static const struct mdef {
	int type;
	enum gw_child_from from;
	const char *name;
	const struct fdef *f;
	size_t nf;
} types[] = {
	{ GW_CHILD_ATTEMPT, GW_CHILD_FROM_SESSION, "attempt", attempt_f, N(attempt_f) },
	{ GW_CHILD_START, GW_CHILD_FROM_SESSION, "start", start_f, N(start_f) },
	{ GW_CHILD_USAGE, GW_CHILD_FROM_SESSION, "usage", usage_f, N(usage_f) },
	{ GW_CHILD_COMMAND, GW_CHILD_FROM_SESSION, "command", command_f, N(command_f) },
	{ GW_CHILD_INPUT, GW_CHILD_FROM_SESSION, "input", input_f, N(input_f) },
	{ GW_CHILD_REFUSED, GW_CHILD_FROM_SESSION, "refused", refused_f, N(refused_f) },
	{ GW_CHILD_WAITING, GW_CHILD_FROM_SESSION, "waiting", start_f, N(start_f) },
	{ GW_CHILD_VERDICT, GW_CHILD_FROM_DAEMON, "verdict", verdict_f, N(verdict_f) },
	{ GW_CHILD_DENY, GW_CHILD_FROM_DAEMON, "deny", words_f, N(words_f) },
	{ GW_CHILD_REAUTH, GW_CHILD_FROM_DAEMON, "reauth", words_f, N(words_f) },
	{ GW_CHILD_KILL, GW_CHILD_FROM_DAEMON, "kill", kill_f, N(kill_f) },
	{ GW_CHILD_REVOKE, GW_CHILD_FROM_DAEMON, "revoke", revoke_f, N(revoke_f) },
	{ GW_CHILD_APPROVAL, GW_CHILD_FROM_DAEMON, "approval", approval_f, N(approval_f) },
};

static const struct mdef *
find_type(int type)
{
	size_t i;

	for (i = 0; i < N(types); i++)
		if (types[i].type == type)
			return &types[i];
	return NULL;
}

int
gw_child_from(int type)
{
	const struct mdef *d = find_type(type);

	return d != NULL ? (int)d->from : 0;
}

const char *
gw_child_type_name(int type)
{
	const struct mdef *d = find_type(type);

	return d != NULL ? d->name : "unknown";
}

const char *
gw_child_kind_name(unsigned kind)
{
	static const char *const names[] = { "shell", "exec", "scp", "sftp" };

	return kind < N(names) ? names[kind] : "?";
}

void
gw_child_copy(char *dst, size_t len, const char *src)
{
	size_t i;

	snprintf(dst, len, "%s", src != NULL ? src : "");
	for (i = 0; dst[i] != '\0'; i++)
		if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f)
			dst[i] = '?';
}

/* No control byte: a value must not break a log line or a tab-separated answer. */
static int
clean(const void *v, size_t n)
{
	const unsigned char *p = v;
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 0;
	return 1;
}

static void
put_be(uint8_t *b, uint64_t x)
{
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (uint8_t)x;
		x >>= 8;
	}
}

static uint64_t
get_be(const uint8_t *b)
{
	uint64_t x = 0;
	int i;

	for (i = 0; i < 8; i++)
		x = x << 8 | b[i];
	return x;
}

/* One field of m onto the wire; absent optional strings are left out. */
static int
put_one(struct gw_msg_writer *w, const struct gw_child_msg *m, const struct fdef *f)
{
	const char *base = (const char *)m + f->off;
	uint8_t b[8];
	unsigned u;
	int64_t t;
	size_t n;

	switch (f->kind) {
	case F_STR:
		if ((n = strnlen(base, f->max + 1)) > f->max || !clean(base, n))
			return MG_ERR_INVAL;
		if (n == 0 && (f->flags & NONEMPTY))
			return MG_ERR_INVAL;
		if (n == 0 && !(f->flags & REQ))
			return 0;
		return gw_msg_put(w, f->tag, base, n);
	case F_TEXT: {
		const struct gw_child_text *tx = (const void *)base;

		if (tx->len > f->max || !clean(tx->text, tx->len))
			return MG_ERR_INVAL;
		return gw_msg_put(w, f->tag, tx->text, tx->len);
	}
	case F_TIME:
		memcpy(&t, base, sizeof(t));
		if (t < 0 || (t == 0 && (f->flags & NONEMPTY)))
			return MG_ERR_INVAL;
		put_be(b, (uint64_t)t);
		return gw_msg_put(w, f->tag, b, 8);
	case F_U64: {
		uint64_t x;

		memcpy(&x, base, sizeof(x));
		put_be(b, x);
		return gw_msg_put(w, f->tag, b, 8);
	}
	case F_U8:
	case F_MASK:
		memcpy(&u, base, sizeof(u));
		if ((f->kind == F_U8 && u > f->max) || (f->kind == F_MASK && (u & ~f->max)))
			return MG_ERR_INVAL;
		b[0] = (uint8_t)u;
		return gw_msg_put(w, f->tag, b, 1);
	}
	return MG_ERR_INTERNAL;
}

int
gw_child_encode(const struct gw_child_msg *m, uint8_t *buf, size_t cap, size_t *len)
{
	const struct mdef *d = find_type(m->type);
	struct gw_msg_writer w;
	size_t i;
	int r;

	*len = 0;
	if (d == NULL)
		return MG_ERR_INVAL;
	if ((r = gw_msg_begin(&w, buf, cap < GW_CHILD_MAX ? cap : GW_CHILD_MAX, m->type)) != 0)
		return r;
	for (i = 0; i < d->nf; i++)
		if ((r = put_one(&w, m, &d->f[i])) != 0)
			return r;
	*len = w.len;
	return 0;
}

/* One field from the wire into m: its size, range and bytes checked. */
static int
get_one(struct gw_child_msg *m, const struct fdef *f, const uint8_t *v, size_t n)
{
	char *base = (char *)m + f->off;
	unsigned u;
	int64_t t;
	uint64_t x;

	switch (f->kind) {
	case F_STR:
		if (n > f->max || !clean(v, n) || (n == 0 && (f->flags & NONEMPTY)))
			return MG_ERR_PARSE;
		memcpy(base, v, n);
		base[n] = '\0';
		return 0;
	case F_TEXT: {
		struct gw_child_text *tx = (void *)base;

		if (n > f->max || !clean(v, n))
			return MG_ERR_PARSE;
		memcpy(tx->text, v, n);
		tx->text[n] = '\0';
		tx->len = n;
		return 0;
	}
	case F_TIME:
		if (n != 8 || (x = get_be(v)) > INT64_MAX ||
		    (x == 0 && (f->flags & NONEMPTY)))
			return MG_ERR_PARSE;
		t = (int64_t)x;
		memcpy(base, &t, sizeof(t));
		return 0;
	case F_U64:
		if (n != 8)
			return MG_ERR_PARSE;
		x = get_be(v);
		memcpy(base, &x, sizeof(x));
		return 0;
	case F_U8:
	case F_MASK:
		if (n != 1)
			return MG_ERR_PARSE;
		u = v[0];
		if ((f->kind == F_U8 && u > f->max) || (f->kind == F_MASK && (u & ~f->max)))
			return MG_ERR_PARSE;
		memcpy(base, &u, sizeof(u));
		return 0;
	}
	return MG_ERR_PARSE;
}

int
gw_child_decode(const uint8_t *buf, size_t len, struct gw_child_msg *m)
{
	const struct mdef *d;
	struct gw_msg_reader rd;
	uint32_t seen = 0;
	size_t i;
	int type, k;

	memset(m, 0, sizeof(*m));
	if (len > GW_CHILD_MAX || gw_msg_open(&rd, buf, len, &type) != 0 ||
	    (d = find_type(type)) == NULL)
		return MG_ERR_PARSE;
	m->type = type;
	for (;;) {
		const uint8_t *v;
		size_t n;
		int tag;

		if ((k = gw_msg_next(&rd, &tag, &v, &n)) == 0)
			break;
		if (k < 0)
			goto fail;
		for (i = 0; i < d->nf && d->f[i].tag != tag; i++)
			;
		/* Not this type's field, or seen before: the whole packet is refused. */
		if (i == d->nf || (seen & (1u << i)))
			goto fail;
		seen |= 1u << i;
		if (get_one(m, &d->f[i], v, n) != 0)
			goto fail;
	}
	for (i = 0; i < d->nf; i++)
		if ((d->f[i].flags & (REQ | NONEMPTY)) && !(seen & (1u << i)))
			goto fail;
	return 0;
fail:
	memset(m, 0, sizeof(*m));
	return MG_ERR_PARSE;
}

int
gw_child_send(int sock, const struct gw_child_msg *m, int flags)
{
	uint8_t buf[GW_CHILD_MAX];
	size_t len;
	ssize_t n;
	int r;

	if ((r = gw_child_encode(m, buf, sizeof(buf), &len)) != 0)
		return r;
	do
		n = send(sock, buf, len, flags | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return MG_ERR_SYSTEM;
	return (size_t)n == len ? 0 : MG_ERR_SYSTEM;
}

int
gw_child_recv(int sock, enum gw_child_from from, struct gw_child_msg *m, int flags)
{
	/* One byte more than a packet may have: a longer one shows as cut. */
	uint8_t buf[GW_CHILD_MAX + 1];
	struct msghdr mh;
	struct iovec iov;
	ssize_t n;
	int r;

	/* Not the whole struct: this runs on every relay tick, mostly for EAGAIN. */
	m->type = 0;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	do
		n = recvmsg(sock, &mh, flags);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return MG_ERR_SYSTEM;
	if (n == 0)
		return MG_ERR_NOENT;
	if ((mh.msg_flags & MSG_TRUNC) || (size_t)n > GW_CHILD_MAX)
		return MG_ERR_PARSE;
	if ((r = gw_child_decode(buf, (size_t)n, m)) != 0)
		return r;
	if (gw_child_from(m->type) != (int)from) {
		m->type = 0;
		return MG_ERR_PARSE;
	}
	return 0;
}
