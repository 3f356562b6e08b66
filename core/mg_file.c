/* SPDX-License-Identifier: BSD-2-Clause */
/* Safe opening, bounded reading and atomic replacement of files. */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mg_err.h"
#include "mg_util.h"
#include "mg_file.h"

/*
 * Flags a caller may not pass to mg_file_open_safe: the checks run after
 * open(), so creating or truncating first would act on a file we might
 * then refuse.
 */
#define MG_FILE_BAD_FLAGS (O_CREAT | O_EXCL | O_TRUNC | O_DIRECTORY | O_PATH)

/* Disk full and hardware errors get their own code so callers can say so. */
static int
io_err(int e)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT:
	case EIO:
	case EFBIG:
		return MG_ERR_IO;
	}
	return MG_ERR_SYSTEM;
}

static const char *
type_name(mode_t m)
{
	if (S_ISDIR(m))
		return "is a directory";
	if (S_ISLNK(m))
		return "is a symbolic link";
	if (S_ISFIFO(m))
		return "is a FIFO";
	if (S_ISSOCK(m))
		return "is a socket";
	if (S_ISCHR(m))
		return "is a character device";
	if (S_ISBLK(m))
		return "is a block device";
	return "is not a regular file";
}

static const char *
mode_problem(mode_t bad)
{
	if (bad & 022)
		return "group or world writable";
	if (bad & 044)
		return "group or world readable";
	if (bad & 011)
		return "group or world executable";
	if (bad & 07000)
		return "setuid, setgid or sticky";
	return "forbidden permission bits set";
}

/* The one uid trusted besides root: the configured owner, else ourselves. */
static uid_t
allowed_uid(const struct mg_file_rules *r)
{
	return r->owner_set ? r->owner : geteuid();
}

static int
owner_ok(uid_t uid, const struct mg_file_rules *r)
{
	return uid == 0 || uid == allowed_uid(r);
}

static void
owner_err(const char *path, int plen, const char *kind, uid_t uid,
    const struct mg_file_rules *r, char *err, size_t errlen)
{
	uid_t a = allowed_uid(r);

	if (a == 0)
		mg_seterr(err, errlen, "%.*s: %sowned by uid %lu, expected root",
		    plen, path, kind, (unsigned long)uid);
	else
		mg_seterr(err, errlen, "%.*s: %sowned by uid %lu, expected root "
		    "or uid %lu", plen, path, kind, (unsigned long)uid,
		    (unsigned long)a);
}

/*
 * Only canonical absolute paths: no "." or ".." components and no trailing
 * slash, so the directories we check are exactly the ones the path names.
 */
static int
check_path(const char *path, char *err, size_t errlen)
{
	const char *p, *c;
	size_t n;

	if (path == NULL || *path == '\0') {
		mg_seterr(err, errlen, "empty path");
		return MG_ERR_INVAL;
	}
	if (*path != '/') {
		mg_seterr(err, errlen, "%s: not an absolute path", path);
		return MG_ERR_INVAL;
	}
	if (strlen(path) >= PATH_MAX) {
		mg_seterr(err, errlen, "%.64s...: path too long", path);
		return MG_ERR_INVAL;
	}
	for (p = path; *p != '\0'; p = c) {
		while (*p == '/')
			p++;
		c = p + strcspn(p, "/");
		n = (size_t)(c - p);
		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.')) {
			mg_seterr(err, errlen, "%s: path must not contain \".\" "
			    "or \"..\"", path);
			return MG_ERR_INVAL;
		}
	}
	if (path[strlen(path) - 1] == '/') {
		mg_seterr(err, errlen, "%s: names a directory", path);
		return MG_ERR_INVAL;
	}
	return 0;
}

/*
 * One parent directory: a directory that others can write to could have
 * our file swapped underneath us, unless it is sticky and root's (/tmp).
 */
static int
check_dir(int dfd, const char *path, int plen, const struct mg_file_rules *r,
    char *err, size_t errlen)
{
	struct stat st;

	if (fstat(dfd, &st) != 0) {
		mg_seterr(err, errlen, "%.*s: %s", plen, path, strerror(errno));
		return MG_ERR_SYSTEM;
	}
	if (S_ISLNK(st.st_mode)) {
		/* Refused rather than followed: see mg_file.h. */
		mg_seterr(err, errlen, "%.*s: is a symbolic link; give the path "
		    "without symbolic links", plen, path);
		return MG_ERR_PERM;
	}
	if (!S_ISDIR(st.st_mode)) {
		mg_seterr(err, errlen, "%.*s: not a directory", plen, path);
		errno = ENOTDIR;
		return MG_ERR_SYSTEM;
	}
	if (!owner_ok(st.st_uid, r)) {
		owner_err(path, plen, "directory ", st.st_uid, r, err,
		    errlen);
		return MG_ERR_PERM;
	}
	if ((st.st_mode & 022) != 0 &&
	    !((st.st_mode & S_ISVTX) != 0 && st.st_uid == 0)) {
		mg_seterr(err, errlen, "%.*s: directory mode 0%03o is unsafe "
		    "(group or world writable)", plen, path,
		    (unsigned int)(st.st_mode & 07777));
		return MG_ERR_PERM;
	}
	return 0;
}

/*
 * Walks path from "/" one component at a time with O_PATH|O_NOFOLLOW,
 * checking each directory, so the final open is relative to a directory fd
 * we have checked and cannot be redirected by renaming a parent afterwards.
 * Returns the last directory's fd in *dfdp.
 */
static int
walk_dirs(const char *path, const struct mg_file_rules *r, int *dfdp,
    char *err, size_t errlen)
{
	char comp[NAME_MAX + 1];
	const char *p, *c;
	int dfd = -1, nfd, r2;
	size_t n;

	*dfdp = -1;
	if ((dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1) {
		mg_seterr(err, errlen, "/: %s", strerror(errno));
		return MG_ERR_SYSTEM;
	}
	if ((r2 = check_dir(dfd, "/", 1, r, err, errlen)) != 0)
		goto out;
	for (p = path;;) {
		while (*p == '/')
			p++;
		c = p + strcspn(p, "/");
		if (*c == '\0')
			break;		/* p is the file name itself */
		n = (size_t)(c - p);
		if (n > NAME_MAX) {
			mg_seterr(err, errlen, "%.*s: name too long",
			    (int)(c - path), path);
			errno = ENAMETOOLONG;
			r2 = MG_ERR_SYSTEM;
			goto out;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		nfd = openat(dfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (nfd == -1) {
			int e = errno;

			mg_seterr(err, errlen, "%.*s: %s", (int)(c - path), path,
			    strerror(e));
			r2 = e == ENOENT ? MG_ERR_NOENT : MG_ERR_SYSTEM;
			errno = e;
			goto out;
		}
		close(dfd);
		dfd = nfd;
		if ((r2 = check_dir(dfd, path, (int)(c - path), r, err,
		    errlen)) != 0)
			goto out;
		p = c;
	}
	*dfdp = dfd;
	dfd = -1;
	r2 = 0;
 out:
	if (dfd != -1) {
		int e = errno;

		close(dfd);
		errno = e;
	}
	return r2;
}

/* Explains a failed open() in the caller's terms. */
static int
open_failed(const char *path, int dfd, const char *base, int e, char *err,
    size_t errlen)
{
	struct stat st;
	int have;

	/* Only for the message: the refusal already happened. */
	if (dfd != -1)
		have = fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
	else
		have = lstat(path, &st) == 0;
	switch (e) {
	case ENOENT:
		mg_seterr(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return MG_ERR_NOENT;
	case ELOOP:
	case ENXIO:
	case ENODEV:
	case EISDIR:
	case EWOULDBLOCK:
		if (have && !S_ISREG(st.st_mode)) {
			mg_seterr(err, errlen, "%s: %s, not a regular file", path,
			    type_name(st.st_mode));
			errno = e;
			return MG_ERR_PERM;
		}
		break;
	}
	mg_seterr(err, errlen, "%s: %s", path, strerror(e));
	errno = e;
	return MG_ERR_SYSTEM;
}

/* mg_file_open_safe, also handing back what fstat said. */
static int
open_safe_st(const char *path, int flags, const struct mg_file_rules *r,
    int *fdp, struct stat *stp, char *err, size_t errlen)
{
	const char *base;
	struct stat st;
	mode_t bad;
	int fd = -1, dfd = -1, ret, e, fl;
	int oflags;

	if (err != NULL && errlen > 0)
		*err = '\0';
	if (fdp != NULL)
		*fdp = -1;
	if (fdp == NULL || r == NULL) {
		mg_seterr(err, errlen, "invalid argument");
		return MG_ERR_INVAL;
	}
	if ((ret = check_path(path, err, errlen)) != 0)
		return ret;
	if ((flags & MG_FILE_BAD_FLAGS) != 0) {
		mg_seterr(err, errlen, "%s: open flags not allowed", path);
		return MG_ERR_INVAL;
	}
	/*
	 * O_NONBLOCK so that a FIFO planted in place of the file cannot block
	 * us in open(); O_NOCTTY so a terminal cannot become ours.
	 */
	oflags = flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	base = strrchr(path, '/') + 1;
	if (r->check_dirs) {
		if ((ret = walk_dirs(path, r, &dfd, err, errlen)) != 0)
			goto out;
		fd = openat(dfd, base, oflags);
	} else
		fd = open(path, oflags);
	if (fd == -1) {
		ret = open_failed(path, dfd, base, errno, err, errlen);
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		mg_seterr(err, errlen, "%s: %s", path, strerror(errno));
		ret = MG_ERR_SYSTEM;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		mg_seterr(err, errlen, "%s: %s, not a regular file", path,
		    type_name(st.st_mode));
		ret = MG_ERR_PERM;
		goto out;
	}
	if (!owner_ok(st.st_uid, r)) {
		owner_err(path, (int)strlen(path), "", st.st_uid, r, err,
		    errlen);
		ret = MG_ERR_PERM;
		goto out;
	}
	if ((bad = st.st_mode & r->forbid_mode & 07777) != 0) {
		mg_seterr(err, errlen, "%s: mode 0%03o is unsafe (%s)", path,
		    (unsigned int)(st.st_mode & 07777), mode_problem(bad));
		ret = MG_ERR_PERM;
		goto out;
	}
	if (r->max_size != 0 && (uintmax_t)st.st_size > r->max_size) {
		mg_seterr(err, errlen, "%s: size %jd exceeds the limit of %zu "
		    "bytes", path, (intmax_t)st.st_size, r->max_size);
		ret = MG_ERR_TOOBIG;
		goto out;
	}
	/* Blocking I/O from here on, unless the caller asked otherwise. */
	if ((flags & O_NONBLOCK) == 0) {
		if ((fl = fcntl(fd, F_GETFL)) == -1 ||
		    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
			mg_seterr(err, errlen, "%s: fcntl: %s", path,
			    strerror(errno));
			ret = MG_ERR_SYSTEM;
			goto out;
		}
	}
	if (stp != NULL)
		*stp = st;
	*fdp = fd;
	fd = -1;
	ret = 0;
 out:
	e = errno;
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
	errno = e;
	return ret;
}

int
mg_file_open_safe(const char *path, int flags, const struct mg_file_rules *r,
    int *fdp, char *err, size_t errlen)
{
	return open_safe_st(path, flags, r, fdp, NULL, err, errlen);
}

/* Grows a buffer that may hold a secret: the old copy is wiped, not left. */
static int
grow(char **bufp, size_t *capp, size_t used, size_t ncap)
{
	char *n;

	if ((n = malloc(ncap)) == NULL)
		return MG_ERR_NOMEM;
	if (*bufp != NULL) {
		memcpy(n, *bufp, used);
		mg_freezero(*bufp, *capp);
	}
	*bufp = n;
	*capp = ncap;
	return 0;
}

int
mg_file_read_safe(const char *path, const struct mg_file_rules *r,
    char **bufp, size_t *lenp, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t cap = 0, len = 0, want, ncap;
	ssize_t n;
	int fd = -1, ret, e;

	if (bufp != NULL)
		*bufp = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if (bufp == NULL) {
		mg_seterr(err, errlen, "invalid argument");
		return MG_ERR_INVAL;
	}
	if ((ret = open_safe_st(path, O_RDONLY, r, &fd, &st, err,
	    errlen)) != 0)
		return ret;
	/*
	 * Room for the file as fstat saw it, one byte to notice that it grew
	 * and the NUL; never more than one byte past the bound.
	 */
	want = (size_t)st.st_size;
	if (r->max_size != 0 && want > r->max_size)
		want = r->max_size;
	if (want > SIZE_MAX - 2) {
		ret = MG_ERR_NOMEM;
		goto nomem;
	}
	if ((ret = grow(&buf, &cap, 0, want + 2)) != 0)
		goto nomem;
	for (;;) {
		if (cap - len < 2) {
			if (cap > SIZE_MAX / 2) {
				ret = MG_ERR_NOMEM;
				goto nomem;
			}
			ncap = cap * 2;
			if (r->max_size != 0 && r->max_size <= SIZE_MAX - 2 &&
			    ncap > r->max_size + 2)
				ncap = r->max_size + 2;
			if ((ret = grow(&buf, &cap, len, ncap)) != 0)
				goto nomem;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			e = errno;
			mg_seterr(err, errlen, "%s: read: %s", path, strerror(e));
			ret = io_err(e);
			errno = e;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		/* The file may have grown since fstat: the bound still holds. */
		if (r->max_size != 0 && len > r->max_size) {
			mg_seterr(err, errlen, "%s: larger than the limit of %zu "
			    "bytes", path, r->max_size);
			ret = MG_ERR_TOOBIG;
			goto out;
		}
	}
	buf[len] = '\0';
	*bufp = buf;
	if (lenp != NULL)
		*lenp = len;
	buf = NULL;
	ret = 0;
	goto out;
 nomem:
	mg_seterr(err, errlen, "%s: out of memory", path);
 out:
	e = errno;
	mg_freezero(buf, cap);
	close(fd);
	errno = e;
	return ret;
}

/* Writes all of data, through short writes and signals. */
static int
write_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			/* No progress and no error: treat as a full disk. */
			errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* mg_file_replace and mg_file_replace_owner: give set, the new file is uid:gid's. */
static int
replace(const char *path, const void *data, size_t len, mode_t mode,
    int give, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	char *tmp = NULL, *dir = NULL, *slash;
	int fd = -1, dfd = -1, made = 0, ret, e;
	size_t plen;

	if (err != NULL && errlen > 0)
		*err = '\0';
	if (data == NULL && len != 0) {
		mg_seterr(err, errlen, "invalid argument");
		return MG_ERR_INVAL;
	}
	if ((ret = check_path(path, err, errlen)) != 0)
		return ret;
	plen = strlen(path);
	if ((tmp = malloc(plen + 8)) == NULL || (dir = strdup(path)) == NULL) {
		mg_seterr(err, errlen, "%s: out of memory", path);
		ret = MG_ERR_NOMEM;
		goto out;
	}
	snprintf(tmp, plen + 8, "%s.XXXXXX", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';	/* a file directly in "/" */
	else
		*slash = '\0';
	/* Opened first so a missing directory fails before anything is made. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		e = errno;
		mg_seterr(err, errlen, "%s: cannot open directory %s: %s", path,
		    dir, strerror(e));
		ret = MG_ERR_SYSTEM;
		errno = e;
		goto out;
	}
	/* mkostemp: O_EXCL and mode 0600, so nobody else can open it. */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		e = errno;
		mg_seterr(err, errlen, "%s: cannot create a temporary file: %s",
		    path, strerror(e));
		ret = io_err(e);
		errno = e;
		goto out;
	}
	made = 1;
	/*
	 * Given away while nobody else can open it (0600, ours), and before
	 * the rename, so the name never points at a file of the wrong owner.
	 * Before fchmod: a change of owner clears the setuid and setgid bits.
	 */
	if (give && fchown(fd, uid, gid) != 0) {
		e = errno;
		mg_seterr(err, errlen, "%s: cannot give the new file to uid %lu: %s",
		    path, (unsigned long)uid, strerror(e));
		ret = e == EPERM ? MG_ERR_PERM : MG_ERR_SYSTEM;
		errno = e;
		goto out;
	}
	if (fchmod(fd, mode & 07777) != 0) {
		e = errno;
		mg_seterr(err, errlen, "%s: fchmod: %s", path, strerror(e));
		ret = MG_ERR_SYSTEM;
		errno = e;
		goto out;
	}
	if (write_all(fd, data, len) != 0) {
		e = errno;
		mg_seterr(err, errlen, "%s: write: %s", path, strerror(e));
		ret = io_err(e);
		errno = e;
		goto out;
	}
	/* Data on disk before the name points at it, or a crash loses both. */
	if (fsync(fd) != 0) {
		e = errno;
		mg_seterr(err, errlen, "%s: fsync: %s", path, strerror(e));
		ret = io_err(e);
		errno = e;
		goto out;
	}
	/* Some file systems report write errors only at close. */
	e = close(fd);
	fd = -1;
	if (e != 0) {
		e = errno;
		mg_seterr(err, errlen, "%s: close: %s", path, strerror(e));
		ret = io_err(e);
		errno = e;
		goto out;
	}
	if (rename(tmp, path) != 0) {
		e = errno;
		mg_seterr(err, errlen, "%s: rename: %s", path, strerror(e));
		ret = io_err(e);
		errno = e;
		goto out;
	}
	free(tmp);
	tmp = NULL;		/* renamed: nothing left to remove */
	/*
	 * Makes the rename itself durable. The new file is already in place,
	 * so a failure here is reported but cannot bring the old one back.
	 * EINVAL: the file system does not sync directories; nothing to do.
	 */
	if (fsync(dfd) != 0 && errno != EINVAL) {
		e = errno;
		mg_seterr(err, errlen, "%s: replaced, but syncing directory %s "
		    "failed: %s", path, dir, strerror(e));
		ret = io_err(e);
		errno = e;
		goto out;
	}
	ret = 0;
 out:
	e = errno;
	if (fd != -1)
		close(fd);
	/* Never unlink the bare template: that name may belong to someone. */
	if (made && tmp != NULL)
		unlink(tmp);
	if (dfd != -1)
		close(dfd);
	free(tmp);
	free(dir);
	errno = e;
	return ret;
}

int
mg_file_replace(const char *path, const void *data, size_t len, mode_t mode,
    char *err, size_t errlen)
{
	return replace(path, data, len, mode, 0, 0, 0, err, errlen);
}

int
mg_file_replace_owner(const char *path, const void *data, size_t len,
    mode_t mode, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	return replace(path, data, len, mode, 1, uid, gid, err, errlen);
}

void
mg_freezero(void *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}
