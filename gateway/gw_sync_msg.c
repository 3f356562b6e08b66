/* SPDX-License-Identifier: BSD-2-Clause */
/* Encoding and decoding of the messages between mspgated and its state worker (gw_sync.h). */
#include <string.h>

#include "gw_sync.h"
#include "mg_err.h"

/* Where each tag's value sits in struct gw_sync_msg, and its longest. */
static const struct field {
	int tag;
	size_t off, max;	/* max 0: the 8-byte START */
} fields[] = {
	{ GW_ST_ID, offsetof(struct gw_sync_msg, id), GW_CHILD_ID_MAX },
	{ GW_ST_ENGINEER, offsetof(struct gw_sync_msg, engineer), GW_CHILD_NAME_MAX },
	{ GW_ST_TENANT, offsetof(struct gw_sync_msg, tenant), GW_CHILD_NAME_MAX },
	{ GW_ST_TARGET, offsetof(struct gw_sync_msg, target), GW_CHILD_NAME_MAX },
	{ GW_ST_LOGIN, offsetof(struct gw_sync_msg, login), GW_CHILD_NAME_MAX },
	{ GW_ST_SOURCE, offsetof(struct gw_sync_msg, source), GW_CHILD_SOURCE_MAX },
	{ GW_ST_KIND, offsetof(struct gw_sync_msg, kind), GW_SYNC_KIND_MAX },
	{ GW_ST_START, offsetof(struct gw_sync_msg, start), 0 },
	{ GW_ST_WHO, offsetof(struct gw_sync_msg, who), GW_CHILD_WHO_MAX },
	{ GW_ST_FROM, offsetof(struct gw_sync_msg, from), GW_SYNC_GW_MAX },
	{ GW_ST_WHY, offsetof(struct gw_sync_msg, why), GW_CHILD_WHY_MAX },
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))
#define BIT(tag) (1u << (tag))

/*
 * The one table: each type, who sends it, the tags it may have and those
 * it must have (a required string is not empty). KILL's "ID or ENGINEER,
 * exactly one" is checked on its own.
 */
/* A detector event (EVENT, and REMOTE with its FROM). */
#define EVENT_MAY	(BIT(GW_ST_KIND) | BIT(GW_ST_ENGINEER) | BIT(GW_ST_START) | \
	BIT(GW_ST_TENANT) | BIT(GW_ST_TARGET) | BIT(GW_ST_SOURCE))
#define EVENT_MUST	(BIT(GW_ST_KIND) | BIT(GW_ST_ENGINEER) | BIT(GW_ST_START))
static const struct mdef {
	int type;
	enum gw_sync_from from;
	const char *name;
	unsigned may, must;
} types[] = {
	{ GW_SYNC_SESSION, GW_SYNC_FROM_DAEMON, "session",
	  BIT(GW_ST_ID) | BIT(GW_ST_ENGINEER) | BIT(GW_ST_TENANT) | BIT(GW_ST_TARGET) |
	  BIT(GW_ST_LOGIN) | BIT(GW_ST_KIND) | BIT(GW_ST_START) | BIT(GW_ST_SOURCE),
	  BIT(GW_ST_ID) | BIT(GW_ST_ENGINEER) | BIT(GW_ST_TENANT) | BIT(GW_ST_TARGET) |
	  BIT(GW_ST_LOGIN) | BIT(GW_ST_KIND) | BIT(GW_ST_START) },
	{ GW_SYNC_GONE, GW_SYNC_FROM_DAEMON, "gone", BIT(GW_ST_ID), BIT(GW_ST_ID) },
	{ GW_SYNC_SNAPSHOT, GW_SYNC_FROM_DAEMON, "snapshot", 0, 0 },
	{ GW_SYNC_SNAPSHOT_END, GW_SYNC_FROM_DAEMON, "snapshot-end", 0, 0 },
	{ GW_SYNC_KILL_OTHERS, GW_SYNC_FROM_DAEMON, "kill-others",
	  BIT(GW_ST_ENGINEER) | BIT(GW_ST_WHY), BIT(GW_ST_ENGINEER) | BIT(GW_ST_WHY) },
	{ GW_SYNC_EVENT, GW_SYNC_FROM_DAEMON, "event", EVENT_MAY, EVENT_MUST },
	{ GW_SYNC_REMOTE, GW_SYNC_FROM_WORKER, "remote", EVENT_MAY | BIT(GW_ST_FROM),
	  EVENT_MUST | BIT(GW_ST_FROM) },
	{ GW_SYNC_PEERS, GW_SYNC_FROM_WORKER, "peers", 0, 0 },
	{ GW_SYNC_PEER, GW_SYNC_FROM_WORKER, "peer",
	  BIT(GW_ST_ID) | BIT(GW_ST_ENGINEER) | BIT(GW_ST_FROM) | BIT(GW_ST_SOURCE) |
	  BIT(GW_ST_START), BIT(GW_ST_ID) | BIT(GW_ST_ENGINEER) | BIT(GW_ST_FROM) },
	{ GW_SYNC_PEERS_END, GW_SYNC_FROM_WORKER, "peers-end", 0, 0 },
	{ GW_SYNC_KILL, GW_SYNC_FROM_WORKER, "kill",
	  BIT(GW_ST_ID) | BIT(GW_ST_ENGINEER) | BIT(GW_ST_WHO) | BIT(GW_ST_FROM) | BIT(GW_ST_WHY),
	  BIT(GW_ST_WHO) | BIT(GW_ST_FROM) | BIT(GW_ST_WHY) },
};
#define NTYPES (sizeof(types) / sizeof(types[0]))

static const struct mdef *
find_type(int type)
{
	size_t i;

	for (i = 0; i < NTYPES; i++)
		if (types[i].type == type)
			return &types[i];
	return NULL;
}

int
gw_sync_from(int type)
{
	const struct mdef *d = find_type(type);

	return d != NULL ? (int)d->from : 0;
}

const char *
gw_sync_type_name(int type)
{
	const struct mdef *d = find_type(type);

	return d != NULL ? d->name : "unknown";
}

/* No control byte: values end up in log lines and tab-separated answers. */
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

/* The tags present in m (non-empty strings, a START above 0). */
static unsigned
present(const struct gw_sync_msg *m)
{
	unsigned set = 0;
	size_t i;

	for (i = 0; i < NFIELDS; i++) {
		const char *p = (const char *)m + fields[i].off;

		if (fields[i].max == 0 ? m->start != 0 : p[0] != '\0')
			set |= BIT(fields[i].tag);
	}
	return set;
}

/* KILL names what to end: an ID or an ENGINEER, never both, never neither. */
static int
kill_target_ok(int type, unsigned set)
{
	if (type != GW_SYNC_KILL)
		return 1;
	return !(set & BIT(GW_ST_ID)) != !(set & BIT(GW_ST_ENGINEER));
}

int
gw_sync_encode(const struct gw_sync_msg *m, uint8_t *buf, size_t cap, size_t *len)
{
	const struct mdef *d = find_type(m->type);
	struct gw_msg_writer w;
	unsigned set;
	uint8_t b[8];
	size_t i, n;
	int r, k;

	*len = 0;
	if (d == NULL)
		return MG_ERR_INVAL;
	set = present(m);
	if ((set & ~d->may) || (set & d->must) != d->must || !kill_target_ok(m->type, set) ||
	    m->start < 0)
		return MG_ERR_INVAL;
	if ((r = gw_msg_begin(&w, buf, cap < GW_SYNC_MAX ? cap : GW_SYNC_MAX, m->type)) != 0)
		return r;
	for (i = 0; i < NFIELDS; i++) {
		const char *p = (const char *)m + fields[i].off;

		if (!(set & BIT(fields[i].tag)))
			continue;
		if (fields[i].max == 0) {
			uint64_t x = (uint64_t)m->start;

			for (k = 7; k >= 0; k--, x >>= 8)
				b[k] = (uint8_t)x;
			r = gw_msg_put(&w, fields[i].tag, b, 8);
		} else {
			if ((n = strnlen(p, fields[i].max + 1)) > fields[i].max || !clean(p, n))
				return MG_ERR_INVAL;
			r = gw_msg_put(&w, fields[i].tag, p, n);
		}
		if (r != 0)
			return r;
	}
	*len = w.len;
	return 0;
}

int
gw_sync_decode(const uint8_t *buf, size_t len, struct gw_sync_msg *m)
{
	const struct mdef *d;
	struct gw_msg_reader rd;
	unsigned seen = 0;
	size_t i;
	int type, k;

	memset(m, 0, sizeof(*m));
	if (len > GW_SYNC_MAX || gw_msg_open(&rd, buf, len, &type) != 0 ||
	    (d = find_type(type)) == NULL)
		return MG_ERR_PARSE;
	m->type = type;
	for (;;) {
		const uint8_t *v;
		size_t n;
		int tag;

		if ((k = gw_msg_next(&rd, &tag, &v, &n)) == 0)
			break;
		if (k < 0 || tag < 0 || tag > 31 || !(d->may & BIT(tag)) || (seen & BIT(tag)))
			goto fail;
		seen |= BIT(tag);
		for (i = 0; i < NFIELDS && fields[i].tag != tag; i++)
			;
		if (i == NFIELDS)
			goto fail;
		if (fields[i].max == 0) {
			uint64_t x = 0;

			if (n != 8)
				goto fail;
			for (k = 0; k < 8; k++)
				x = x << 8 | v[k];
			if (x == 0 || x > INT64_MAX)
				goto fail;
			m->start = (int64_t)x;
		} else {
			char *p = (char *)m + fields[i].off;

			if (n == 0 || n > fields[i].max || !clean(v, n))
				goto fail;
			memcpy(p, v, n);
			p[n] = '\0';
		}
	}
	if ((seen & d->must) != d->must || !kill_target_ok(type, seen))
		goto fail;
	return 0;
fail:
	memset(m, 0, sizeof(*m));
	return MG_ERR_PARSE;
}
