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
 *
 * The path must be absolute with no "." or ".." component and no trailing
 * slash. flags: O_RDONLY, O_WRONLY or O_RDWR, optionally O_APPEND or
 * O_NONBLOCK; O_CREAT, O_EXCL, O_TRUNC, O_DIRECTORY and O_PATH are refused
 * (MG_ERR_INVAL) because the checks run after the open (use ftruncate once
 * the fd is checked). The file is opened O_NONBLOCK|O_NOCTTY so a FIFO
 * cannot hang us; O_NONBLOCK is cleared again unless the caller passed it.
 * Owner: root, or r->owner when owner_set, else root or geteuid() (with
 * owner_set the effective uid is not trusted by itself).
 * check_dirs: every directory from "/" down is opened O_PATH|O_NOFOLLOW and
 * checked with the same owner rule; a symbolic link anywhere in the path is
 * refused (MG_ERR_PERM), not followed, and the file is opened relative to
 * the checked directory, so no parent can be swapped between check and
 * open. Without check_dirs only the last component must not be a link.
 */
int mg_file_open_safe(const char *path, int flags, const struct mg_file_rules *r,
    int *fdp, char *err, size_t errlen);
/*
 * Opens safely and reads the whole file into a NUL-terminated buffer.
 * max_size is enforced again while reading, as the file may grow. *buf is
 * the caller's: free(*buf), or mg_freezero(*buf, *len) if it held a secret.
 * Read errors: MG_ERR_IO (EIO) or MG_ERR_SYSTEM.
 */
int mg_file_read_safe(const char *path, const struct mg_file_rules *r,
    char **buf, size_t *len, char *err, size_t errlen);
/*
 * Replaces path atomically: a new file in the same directory (O_EXCL,
 * mode), write all, fsync, rename over path, fsync the directory. On any
 * error the old file is untouched and the temporary removed. Returns 0,
 * MG_ERR_IO (disk full, EIO) or MG_ERR_SYSTEM.
 *
 * The path must be absolute, without "." or ".." (else MG_ERR_INVAL); a
 * symbolic link at path is itself replaced, its target is not written. The
 * new file belongs to the effective uid and gid (the old owner is not kept)
 * and gets exactly mode, whatever the umask. ENOSPC, EDQUOT, EFBIG and EIO
 * give MG_ERR_IO. The temporary is "<path>.XXXXXX". If only the final
 * directory fsync fails, the new file is already in place and MG_ERR_IO is
 * returned with a message saying so.
 */
int mg_file_replace(const char *path, const void *data, size_t len, mode_t mode,
    char *err, size_t errlen);
/*
 * mg_file_replace, but the new file belongs to uid:gid: the temporary is
 * given away (fchown) before it is written and renamed, so no other owner
 * is ever seen at path. For root writing into a directory that a service
 * account owns, so that the account can use the file as well. fchown(2)
 * decides who may give a file to whom (root, in practice); a refusal is
 * MG_ERR_PERM, and the old file is kept.
 */
int mg_file_replace_owner(const char *path, const void *data, size_t len,
    mode_t mode, uid_t uid, gid_t gid, char *err, size_t errlen);
/* Frees a buffer that held a secret: wipes it first. NULL is fine. */
void mg_freezero(void *p, size_t len);

#endif
