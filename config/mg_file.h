/* SPDX-License-Identifier: BSD-2-Clause */
/* Safe opening, reading and atomic replacement of files. */
#ifndef MG_FILE_H
#define MG_FILE_H

#include <stddef.h>
#include <sys/types.h>

struct mg_file_rules {
	size_t max_size;	/* refuse files larger than this; 0: no bound */
	mode_t forbid_mode;	/* mode bits that must be clear (022, 077) */
	uid_t owner;		/* the allowed owner besides root... */
	int owner_set;		/* ...when set; else root or the effective uid */
	int check_dirs;		/* parent directories must be owned by root or
				   the owner and not group/world writable
				   (sticky root-owned ones such as /tmp pass) */
};

/*
 * Opens an absolute path with O_NOFOLLOW|O_CLOEXEC (plus flags), then checks
 * with fstat that it is a regular file, its owner and mode, and its size.
 * Returns 0 and the fd, or MG_ERR_NOENT, MG_ERR_PERM, MG_ERR_TOOBIG,
 * MG_ERR_INVAL (relative path), MG_ERR_SYSTEM; err says what and where.
 */
int mg_file_open_safe(const char *path, int flags, const struct mg_file_rules *r,
    int *fdp, char *err, size_t errlen);
/* Opens safely and reads the whole file into a NUL-terminated buffer. */
int mg_file_read_safe(const char *path, const struct mg_file_rules *r,
    char **buf, size_t *len, char *err, size_t errlen);
/*
 * Replaces path atomically: a new file in the same directory (O_EXCL,
 * mode), write all, fsync, rename over path, fsync the directory. On any
 * error the old file is untouched and the temporary removed. Returns 0,
 * MG_ERR_IO (disk full, EIO) or MG_ERR_SYSTEM.
 */
int mg_file_replace(const char *path, const void *data, size_t len, mode_t mode,
    char *err, size_t errlen);
/* Frees a buffer that held a secret: wipes it first. NULL is fine. */
void mg_freezero(void *p, size_t len);

#endif
