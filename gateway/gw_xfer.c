/* SPDX-License-Identifier: BSD-2-Clause */
/* File transfers seen in a relayed byte stream: SFTP packets and legacy scp headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_xfer.h"

/*
 * Both peers choose these bytes. Everything is bounded: a packet's first
 * HDR_MAX bytes are kept (enough for any header we read), the rest is
 * counted and skipped; tables have fixed sizes and evict the oldest.
 */
#define HDR_MAX		(4096 + 512)
#define PKT_MAX		(16u * 1024 * 1024)
#define PATH_MAX_KEEP	1024
#define HANDLE_MAX	256
#define NFILES		64
#define NPENDING	256
#define SCP_LINE_MAX	(PATH_MAX_KEEP + 64)
#define SCP_DEPTH	32

/* SFTP v3 (draft-ietf-secsh-filexfer-02) packet types and flags. */
enum {
	FXP_OPEN = 3, FXP_CLOSE = 4, FXP_READ = 5, FXP_WRITE = 6, FXP_REMOVE = 13,
	FXP_MKDIR = 14, FXP_RMDIR = 15, FXP_RENAME = 18,
	FXP_STATUS = 101, FXP_HANDLE = 102, FXP_DATA = 103,
};
#define FXF_WRITE 0x02

struct sfile {
	int used;
	unsigned age;
	unsigned char handle[HANDLE_MAX];
	size_t hlen;
	char path[2 * (PATH_MAX_KEEP + 4) + 8];	/* as big as a pending request's */
	int writing;
	uint64_t wrote, read;
};

struct pending {
	int used;
	unsigned age;
	uint32_t id;
	int type;		/* FXP_OPEN, FXP_READ, FXP_REMOVE... */
	int file;		/* FXP_READ: index into files */
	char path[2 * (PATH_MAX_KEEP + 4) + 8];
	int writing;
};

struct sdir {
	unsigned char lenbuf[4];
	size_t lenhave;
	uint32_t pktlen, got;
	unsigned char hdr[HDR_MAX];
};

struct gw_xfer {
	enum gw_xfer_kind kind;
	gw_xfer_fn fn;
	void *ctx;
	int broken;
	unsigned clock;
	/* sftp */
	struct sdir dir[2];
	struct sfile files[NFILES];
	struct pending pend[NPENDING];
	/* scp */
	int scp_mode;		/* 't' or 'f' */
	int scp_state;		/* 0 line, 1 data, 2 the status byte after data */
	char base[PATH_MAX_KEEP + 4];
	int recursive;
	char line[SCP_LINE_MAX];
	size_t linelen;
	char dirs[PATH_MAX_KEEP + 4];
	size_t dirlen[SCP_DEPTH];
	int depth, skipped_depth;
	char cur[3 * (PATH_MAX_KEEP + 4) + 8];
	uint64_t size, done;
};

struct rd {
	const unsigned char *p;
	size_t len, off;
};

static int
rd_u32(struct rd *r, uint32_t *v)
{
	if (r->len - r->off < 4)
		return -1;
	*v = (uint32_t)r->p[r->off] << 24 | (uint32_t)r->p[r->off + 1] << 16 |
	    (uint32_t)r->p[r->off + 2] << 8 | r->p[r->off + 3];
	r->off += 4;
	return 0;
}

static int
rd_u8(struct rd *r, unsigned *v)
{
	if (r->len - r->off < 1)
		return -1;
	*v = r->p[r->off++];
	return 0;
}

/* A string's bytes; only its length when the rest lies past what was kept. */
static int
rd_str(struct rd *r, const unsigned char **s, uint32_t *n, int need_bytes)
{
	if (rd_u32(r, n) != 0)
		return -1;
	if (!need_bytes) {
		*s = NULL;
		return 0;
	}
	if (*n > r->len - r->off)
		return -1;
	*s = r->p + r->off;
	r->off += *n;
	return 0;
}

/* A protocol path into a C string: bounded, NUL bytes shown as "?". */
static void
copy_path(char *dst, size_t dstlen, const unsigned char *s, size_t n)
{
	size_t i, m = n < PATH_MAX_KEEP ? n : PATH_MAX_KEEP;

	if (dstlen == 0)
		return;
	if (m > dstlen - 4)
		m = dstlen - 4;
	for (i = 0; i < m; i++)
		dst[i] = s[i] == '\0' ? '?' : (char)s[i];
	if (m < n)
		memcpy(dst + m, "...", 3), m += 3;
	dst[m] = '\0';
}

static void
emit(struct gw_xfer *x, const char *op, const char *path, uint64_t bytes, int complete)
{
	struct gw_xfer_event ev;

	ev.op = op;
	ev.path = path;
	ev.bytes = bytes;
	ev.complete = complete;
	if (x->fn != NULL)
		x->fn(&ev, x->ctx);
}

static void
file_report(struct gw_xfer *x, struct sfile *f, int complete)
{
	int up = f->wrote > 0 || (f->writing && f->read == 0);

	emit(x, up ? "put" : "get", f->path, up ? f->wrote : f->read, complete);
	f->used = 0;
}

static struct sfile *
file_find(struct gw_xfer *x, const unsigned char *h, size_t hlen, int *idx)
{
	int i;

	for (i = 0; i < NFILES; i++) {
		if (x->files[i].used && x->files[i].hlen == hlen &&
		    memcmp(x->files[i].handle, h, hlen) == 0) {
			if (idx != NULL)
				*idx = i;
			return &x->files[i];
		}
	}
	return NULL;
}

static void
file_add(struct gw_xfer *x, const unsigned char *h, size_t hlen, const struct pending *p)
{
	struct sfile *f = NULL;
	int i;

	if (hlen == 0 || hlen > HANDLE_MAX)
		return;
	/* A handle the server reuses names a new file: the old one closed unseen. */
	if ((f = file_find(x, h, hlen, NULL)) != NULL)
		file_report(x, f, 0);
	for (i = 0; i < NFILES && f == NULL; i++)
		if (!x->files[i].used)
			f = &x->files[i];
	if (f == NULL) {
		/* Full: the oldest is reported as cut off. */
		f = &x->files[0];
		for (i = 1; i < NFILES; i++)
			if (x->files[i].age < f->age)
				f = &x->files[i];
		file_report(x, f, 0);
	}
	memset(f, 0, sizeof(*f));
	f->used = 1;
	f->age = x->clock++;
	memcpy(f->handle, h, hlen);
	f->hlen = hlen;
	snprintf(f->path, sizeof(f->path), "%s", p->path);
	f->writing = p->writing;
}

static struct pending *
pend_add(struct gw_xfer *x, uint32_t id, int type)
{
	struct pending *p = NULL;
	int i;

	for (i = 0; i < NPENDING; i++) {
		if (!x->pend[i].used) {
			p = &x->pend[i];
			break;
		}
	}
	if (p == NULL) {
		p = &x->pend[0];
		for (i = 1; i < NPENDING; i++)
			if (x->pend[i].age < p->age)
				p = &x->pend[i];
	}
	memset(p, 0, sizeof(*p));
	p->used = 1;
	p->age = x->clock++;
	p->id = id;
	p->type = type;
	return p;
}

static struct pending *
pend_take(struct gw_xfer *x, uint32_t id)
{
	int i;

	for (i = 0; i < NPENDING; i++) {
		if (x->pend[i].used && x->pend[i].id == id) {
			x->pend[i].used = 0;
			return &x->pend[i];
		}
	}
	return NULL;
}

/* engineer -> target */
static void
sftp_request(struct gw_xfer *x, struct rd *r, unsigned type)
{
	const unsigned char *s, *s2;
	uint32_t id, n, n2, pflags, rlen;
	struct sfile *f;
	struct pending *p;
	int idx;

	if (rd_u32(r, &id) != 0)
		return;
	switch (type) {
	case FXP_OPEN:
		if (rd_str(r, &s, &n, 1) != 0 || rd_u32(r, &pflags) != 0)
			return;
		p = pend_add(x, id, FXP_OPEN);
		copy_path(p->path, sizeof(p->path), s, n);
		p->writing = (pflags & FXF_WRITE) != 0;
		break;
	case FXP_CLOSE:
		if (rd_str(r, &s, &n, 1) == 0 && (f = file_find(x, s, n, NULL)) != NULL)
			file_report(x, f, 1);
		break;
	case FXP_READ:
		if (rd_str(r, &s, &n, 1) != 0 || (f = file_find(x, s, n, &idx)) == NULL)
			return;
		if (r->len - r->off < 8)
			return;
		r->off += 8;
		if (rd_u32(r, &rlen) != 0)
			return;
		p = pend_add(x, id, FXP_READ);
		p->file = idx;
		break;
	case FXP_WRITE:
		if (rd_str(r, &s, &n, 1) != 0 || (f = file_find(x, s, n, NULL)) == NULL)
			return;
		if (r->len - r->off < 8)
			return;
		r->off += 8;
		/* The data's length only: the data itself was not kept. */
		if (rd_str(r, &s2, &n2, 0) != 0)
			return;
		f->wrote += n2;
		break;
	case FXP_REMOVE:
	case FXP_MKDIR:
	case FXP_RMDIR:
		if (rd_str(r, &s, &n, 1) != 0)
			return;
		p = pend_add(x, id, (int)type);
		copy_path(p->path, sizeof(p->path), s, n);
		break;
	case FXP_RENAME: {
		char a[PATH_MAX_KEEP + 4], b[PATH_MAX_KEEP + 4];

		if (rd_str(r, &s, &n, 1) != 0 || rd_str(r, &s2, &n2, 1) != 0)
			return;
		copy_path(a, sizeof(a), s, n);
		copy_path(b, sizeof(b), s2, n2);
		p = pend_add(x, id, FXP_RENAME);
		snprintf(p->path, sizeof(p->path), "%s -> %s", a, b);
		break;
	}
	default:
		break;
	}
}

/* target -> engineer */
static void
sftp_reply(struct gw_xfer *x, struct rd *r, unsigned type)
{
	const unsigned char *s;
	uint32_t id, n, code;
	struct pending *p;

	if (rd_u32(r, &id) != 0)
		return;
	switch (type) {
	case FXP_HANDLE:
		if ((p = pend_take(x, id)) != NULL && p->type == FXP_OPEN &&
		    rd_str(r, &s, &n, 1) == 0)
			file_add(x, s, n, p);
		break;
	case FXP_DATA:
		if ((p = pend_take(x, id)) != NULL && p->type == FXP_READ &&
		    rd_str(r, &s, &n, 0) == 0 && x->files[p->file].used)
			x->files[p->file].read += n;
		break;
	case FXP_STATUS:
		if ((p = pend_take(x, id)) == NULL || rd_u32(r, &code) != 0 || code != 0)
			return;
		if (p->type == FXP_REMOVE)
			emit(x, "remove", p->path, 0, 1);
		else if (p->type == FXP_MKDIR)
			emit(x, "mkdir", p->path, 0, 1);
		else if (p->type == FXP_RMDIR)
			emit(x, "rmdir", p->path, 0, 1);
		else if (p->type == FXP_RENAME)
			emit(x, "rename", p->path, 0, 1);
		break;
	default:
		break;
	}
}

static void
sftp_feed(struct gw_xfer *x, int from_target, const unsigned char *b, size_t len)
{
	struct sdir *d = &x->dir[from_target ? 1 : 0];

	while (len > 0 && !x->broken) {
		if (d->lenhave < 4) {
			d->lenbuf[d->lenhave++] = *b++;
			len--;
			if (d->lenhave == 4) {
				d->pktlen = (uint32_t)d->lenbuf[0] << 24 |
				    (uint32_t)d->lenbuf[1] << 16 |
				    (uint32_t)d->lenbuf[2] << 8 | d->lenbuf[3];
				d->got = 0;
				/* Not SFTP as we know it: stop reading, keep relaying. */
				if (d->pktlen == 0 || d->pktlen > PKT_MAX)
					x->broken = 1;
			}
			continue;
		} else {
			size_t take = d->pktlen - d->got;

			if (take > len)
				take = len;
			if (d->got < HDR_MAX) {
				size_t keep = HDR_MAX - d->got < take ? HDR_MAX - d->got : take;

				memcpy(d->hdr + d->got, b, keep);
			}
			d->got += (uint32_t)take;
			b += take;
			len -= take;
			if (d->got == d->pktlen) {
				struct rd r;
				unsigned type;

				r.p = d->hdr;
				r.len = d->pktlen < HDR_MAX ? d->pktlen : HDR_MAX;
				r.off = 0;
				if (rd_u8(&r, &type) == 0) {
					if (from_target)
						sftp_reply(x, &r, type);
					else
						sftp_request(x, &r, type);
				}
				d->lenhave = 0;
			}
		}
	}
}

int
gw_scp_command(const char *cmd, char *path, size_t pathlen, int *recursive)
{
	const char *p = cmd, *w;
	size_t n;
	int mode = 0;

	if (pathlen > 0)
		path[0] = '\0';
	*recursive = 0;
	if (cmd == NULL)
		return 0;
	while (*p == ' ')
		p++;
	w = p;
	p += strcspn(p, " ");
	/* "scp" or ".../scp" */
	if (!((size_t)(p - w) == 3 && strncmp(w, "scp", 3) == 0) &&
	    !((size_t)(p - w) > 4 && strncmp(p - 4, "/scp", 4) == 0))
		return 0;
	for (;;) {
		while (*p == ' ')
			p++;
		if (*p != '-')
			break;
		w = p;
		p += strcspn(p, " ");
		if ((size_t)(p - w) == 2 && w[1] == '-') {
			while (*p == ' ')
				p++;
			break;
		}
		for (w++; w < p; w++) {
			if (*w == 't' || *w == 'f')
				mode = mode == 0 || mode == *w ? *w : -1;
			else if (*w == 'r')
				*recursive = 1;
			else if (*w != 'd' && *w != 'p' && *w != 'v' && *w != 'q')
				return 0;
		}
	}
	if (mode <= 0 || *p == '\0')
		return 0;
	n = strlen(p);
	/* scp quotes the path it sends: 'a b' */
	if (n >= 2 && p[0] == '\'' && p[n - 1] == '\'') {
		p++;
		n -= 2;
	}
	if (pathlen > 0)
		snprintf(path, pathlen, "%.*s", (int)(n < pathlen - 1 ? n : pathlen - 1), p);
	return mode;
}

/* "C0644 123 name": 0 and the size and name, or -1. */
static int
scp_header(const char *l, uint64_t *size, const char **name)
{
	const char *p = l + 1;
	uint64_t v = 0;
	int i;

	for (i = 0; i < 4; i++)
		if (p[i] < '0' || p[i] > '7')
			return -1;
	p += 4;
	if (*p++ != ' ' || *p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p++ - '0');
	}
	if (*p++ != ' ' || *p == '\0' || strchr(p, '/') != NULL || strcmp(p, "..") == 0)
		return -1;
	*size = v;
	*name = p;
	return 0;
}

static void
scp_line(struct gw_xfer *x)
{
	const char *name;
	size_t n;

	x->line[x->linelen] = '\0';
	switch (x->line[0]) {
	case 'C':
		if (scp_header(x->line, &x->size, &name) != 0) {
			x->broken = 1;
			return;
		}
		/*
		 * A single file to a path that may be a directory or the file
		 * itself (only the target knows): "PATH (NAME)" unless they agree.
		 */
		n = strlen(x->base);
		if (x->depth == 0 && !x->recursive && n > 0 && x->base[n - 1] != '/' &&
		    strcmp(x->base, ".") != 0) {
			const char *bn = strrchr(x->base, '/');

			bn = bn != NULL ? bn + 1 : x->base;
			if (strcmp(bn, name) == 0)
				snprintf(x->cur, sizeof(x->cur), "%s", x->base);
			else
				snprintf(x->cur, sizeof(x->cur), "%s (%s)", x->base, name);
		} else if (n > 0 && x->base[n - 1] == '/')
			snprintf(x->cur, sizeof(x->cur), "%s%s%s", x->base, x->dirs, name);
		else
			snprintf(x->cur, sizeof(x->cur), "%s/%s%s", x->base, x->dirs, name);
		x->done = 0;
		x->scp_state = x->size > 0 ? 1 : 2;
		break;
	case 'D':
		if (scp_header(x->line, &x->size, &name) != 0) {
			x->broken = 1;
			return;
		}
		if (x->depth >= SCP_DEPTH || x->depth < 0) {
			x->skipped_depth++;
			return;
		}
		n = strlen(x->dirs);
		x->dirlen[x->depth++] = n;
		snprintf(x->dirs + n, sizeof(x->dirs) - n, "%s/", name);
		break;
	case 'E':
		if (x->skipped_depth > 0)
			x->skipped_depth--;
		else if (x->depth > 0)
			x->dirs[x->dirlen[--x->depth]] = '\0';
		break;
	case 'T':
	case '\1':
	case '\2':
		break;
	default:
		x->broken = 1;
	}
}

static void
scp_feed(struct gw_xfer *x, int from_target, const unsigned char *b, size_t len)
{
	/* The source side carries the headers; the sink only acknowledges. */
	if (from_target != (x->scp_mode == 'f'))
		return;
	while (len > 0 && !x->broken) {
		if (x->scp_state == 1) {
			uint64_t take = x->size - x->done;

			if (take > len)
				take = len;
			x->done += take;
			b += take;
			len -= (size_t)take;
			if (x->done == x->size)
				x->scp_state = 2;
		} else if (x->scp_state == 2) {
			/* The source's status byte after the data. */
			emit(x, x->scp_mode == 't' ? "put" : "get", x->cur, x->size, *b == 0);
			b++;
			len--;
			x->scp_state = 0;
		} else {
			if (*b == '\n') {
				scp_line(x);
				x->linelen = 0;
			} else if (x->linelen >= sizeof(x->line) - 1) {
				x->broken = 1;
			} else {
				x->line[x->linelen++] = (char)*b;
			}
			b++;
			len--;
		}
	}
}

struct gw_xfer *
gw_xfer_new(enum gw_xfer_kind kind, const char *command, gw_xfer_fn fn, void *ctx)
{
	struct gw_xfer *x;
	char path[PATH_MAX_KEEP + 4];
	int mode = 0, rec = 0;

	if (kind == GW_XFER_SCP &&
	    (mode = gw_scp_command(command, path, sizeof(path), &rec)) == 0)
		return NULL;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	x->kind = kind;
	x->fn = fn;
	x->ctx = ctx;
	if (kind == GW_XFER_SCP) {
		x->scp_mode = mode;
		x->recursive = rec;
		snprintf(x->base, sizeof(x->base), "%s", path);
	}
	return x;
}

void
gw_xfer_feed(struct gw_xfer *x, int from_target, const void *buf, size_t len)
{
	if (x == NULL || x->broken || buf == NULL)
		return;
	if (x->kind == GW_XFER_SFTP)
		sftp_feed(x, from_target, buf, len);
	else
		scp_feed(x, from_target, buf, len);
}

int
gw_xfer_broken(const struct gw_xfer *x)
{
	return x != NULL && x->broken;
}

void
gw_xfer_free(struct gw_xfer *x)
{
	int i;

	if (x == NULL)
		return;
	if (x->kind == GW_XFER_SFTP) {
		for (i = 0; i < NFILES; i++)
			if (x->files[i].used)
				file_report(x, &x->files[i], 0);
	} else if (x->scp_state == 1) {
		emit(x, x->scp_mode == 't' ? "put" : "get", x->cur, x->done, 0);
	}
	free(x);
}
