/* SPDX-License-Identifier: BSD-2-Clause */
/* A small ustar writer and a strict reader, for evidence bundles (regular files only). */
#ifndef REC_TAR_H
#define REC_TAR_H

#include <stddef.h>
#include <stdint.h>

#include "rec_buf.h"

#define REC_TAR_NAME_MAX 100	/* names are written in the name field only */

/* Appends one regular file (mode 0644, owner 0, time mtime) to tar. */
int rec_tar_add(struct rec_buf *tar, const char *name, const void *data, size_t len,
    int64_t mtime);
/* Appends the two zero blocks that end an archive. */
int rec_tar_end(struct rec_buf *tar);

struct rec_tar_entry {
	char name[REC_TAR_NAME_MAX + 1];
	const uint8_t *data;	/* into the archive */
	size_t len;
};

/*
 * Reads an archive of regular files: each header's checksum is checked;
 * names are relative, of [A-Za-z0-9._:/-], without "." or ".." parts or
 * empty parts; anything else (links, devices, directories, a name given
 * twice, data after the end) is refused. On success *out (free()) holds
 * *n entries. MG_ERR_PARSE with err naming the entry and what is wrong.
 */
int rec_tar_read(const void *tar, size_t len, struct rec_tar_entry **out, size_t *n,
    char *err, size_t errlen);

#endif
