/* SPDX-License-Identifier: BSD-2-Clause */
/* A small ustar writer and a strict reader, for evidence bundles (regular files only). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_err.h"
#include "rec_tar.h"

#define BLK 512
#define MAX_ENTRIES 100000

static void
octal(char *dst, size_t width, uint64_t v)
{
	size_t i;

	/* width-1 digits and a NUL, as ustar wants (callers keep v in range). */
	dst[width - 1] = '\0';
	for (i = width - 1; i > 0; i--) {
		dst[i - 1] = (char)('0' + (v & 7));
		v >>= 3;
	}
}

int
rec_tar_add(struct rec_buf *tar, const char *name, const void *data, size_t len,
    int64_t mtime)
{
	char h[BLK];
	unsigned sum = 0;
	size_t i, nl = strlen(name);
	int r;

	if (nl == 0 || nl > REC_TAR_NAME_MAX || (uint64_t)len > 077777777777ULL)
		return MG_ERR_TOOBIG;
	memset(h, 0, sizeof(h));
	memcpy(h, name, nl);
	octal(h + 100, 8, 0644);
	octal(h + 108, 8, 0);
	octal(h + 116, 8, 0);
	octal(h + 124, 12, len);
	octal(h + 136, 12, mtime > 0 ? (uint64_t)mtime : 0);
	memset(h + 148, ' ', 8);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	for (i = 0; i < BLK; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	if ((r = rec_buf_add(tar, h, BLK)) != 0 || (r = rec_buf_add(tar, data, len)) != 0)
		return r;
	return rec_buf_addz(tar, (BLK - len % BLK) % BLK);
}

int
rec_tar_end(struct rec_buf *tar)
{
	return rec_buf_addz(tar, 2 * BLK);
}

static int
zero_block(const uint8_t *p)
{
	size_t i;

	for (i = 0; i < BLK; i++) {
		if (p[i] != 0)
			return 0;
	}
	return 1;
}

/* An octal field: digits, then spaces or NULs. -1 when malformed. */
static int
parse_octal(const uint8_t *p, size_t width, uint64_t *v)
{
	size_t i = 0;
	int digits = 0;

	*v = 0;
	while (i < width && p[i] == ' ')
		i++;
	for (; i < width && p[i] >= '0' && p[i] <= '7'; i++, digits++) {
		if (*v >> 60)
			return -1;
		*v = *v * 8 + (uint64_t)(p[i] - '0');
	}
	for (; i < width; i++) {
		if (p[i] != ' ' && p[i] != 0)
			return -1;
	}
	return digits > 0 ? 0 : -1;
}

static int
name_ok(const char *s)
{
	const char *part = s;
	size_t i, n = strlen(s);

	if (n == 0 || s[0] == '/')
		return 0;
	for (i = 0; i <= n; i++) {
		char c = s[i];

		if (c == '/' || c == '\0') {
			size_t pl = (size_t)(s + i - part);

			if (pl == 0 || (pl == 1 && part[0] == '.') ||
			    (pl == 2 && part[0] == '.' && part[1] == '.'))
				return 0;
			part = s + i + 1;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-' || c == ':'))
			return 0;
	}
	return 1;
}

int
rec_tar_read(const void *tar, size_t len, struct rec_tar_entry **out, size_t *n,
    char *err, size_t errlen)
{
	const uint8_t *p = tar;
	struct rec_tar_entry *v = NULL;
	size_t off = 0, cap = 0, cnt = 0, i;
	int r = MG_ERR_PARSE;

	*out = NULL;
	*n = 0;
	for (;;) {
		const uint8_t *h = p + off;
		uint64_t size, sum, mine = 0;
		struct rec_tar_entry *e;

		if (len - off < BLK) {
			snprintf(err, errlen, "byte %zu: the archive ends without its end blocks",
			    off);
			goto out;
		}
		if (zero_block(h)) {
			/* The end: one more zero block, then only zeros. */
			for (i = off; i < len; i++) {
				if (p[i] != 0) {
					snprintf(err, errlen, "byte %zu: data after the end of the "
					    "archive", i);
					goto out;
				}
			}
			if (len - off < 2 * BLK) {
				snprintf(err, errlen, "byte %zu: the archive is cut short", off);
				goto out;
			}
			break;
		}
		if (cnt >= MAX_ENTRIES) {
			snprintf(err, errlen, "more than %d files", MAX_ENTRIES);
			goto out;
		}
		for (i = 0; i < BLK; i++)
			mine += (i >= 148 && i < 156) ? ' ' : h[i];
		if (parse_octal(h + 148, 8, &sum) != 0 || sum != mine) {
			snprintf(err, errlen, "byte %zu: bad header checksum", off);
			goto out;
		}
		if (cnt == cap) {
			struct rec_tar_entry *nv;

			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				r = MG_ERR_NOMEM;
				goto out;
			}
			v = nv;
		}
		e = &v[cnt];
		memset(e, 0, sizeof(*e));
		memcpy(e->name, h, REC_TAR_NAME_MAX);
		if (memchr(h, 0, REC_TAR_NAME_MAX) == NULL || h[345] != 0 || !name_ok(e->name)) {
			snprintf(err, errlen, "byte %zu: a file name that is not plain (only "
			    "letters, digits, '.', '_', '-', ':' and '/' between parts)", off);
			goto out;
		}
		if (h[156] != '0' && h[156] != 0) {
			snprintf(err, errlen, "%s: not a regular file (type '%c')", e->name,
			    h[156] >= 32 && h[156] < 127 ? h[156] : '?');
			goto out;
		}
		if (parse_octal(h + 124, 12, &size) != 0 || size > len - off - BLK) {
			snprintf(err, errlen, "%s: bad size, or the archive is cut short", e->name);
			goto out;
		}
		for (i = 0; i < cnt; i++) {
			if (strcmp(v[i].name, e->name) == 0) {
				snprintf(err, errlen, "%s: in the archive twice", e->name);
				goto out;
			}
		}
		e->data = h + BLK;
		e->len = (size_t)size;
		cnt++;
		off += BLK + (size_t)((size + BLK - 1) / BLK * BLK);
		if (off > len) {
			snprintf(err, errlen, "%s: the archive is cut short", e->name);
			goto out;
		}
	}
	*out = v;
	*n = cnt;
	v = NULL;
	r = 0;
out:
	free(v);
	return r;
}
