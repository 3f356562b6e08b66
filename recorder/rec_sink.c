/* SPDX-License-Identifier: BSD-2-Clause */
/* Where a recording's lines go: a new file, written through and made durable at close, or memory. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mg_err.h"
#include "rec_buf.h"
#include "rec_writer.h"

/* Written bytes after which writeback is started (see file_write). */
#define SYNC_BYTES (4 * 1024 * 1024)

/* The file: created new, written through, made durable at close. */
struct file_sink {
	int fd;
	char *path;
	uint64_t written;	/* bytes written to the file */
	uint64_t synced;	/* bytes handed to writeback */
	uint64_t dropped;	/* bytes before this were offered back to the kernel */
};

static int
sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, r = 0;

	if (copy == NULL)
		return MG_ERR_NOMEM;
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (fsync(fd) != 0 && errno != EINVAL)
			r = MG_ERR_IO;
		close(fd);
	}
	free(copy);
	return r;
}

static int
file_init(void **state, const char *path, void *arg, char *err, size_t errlen)
{
	struct file_sink *f;

	(void)arg;
	if ((f = calloc(1, sizeof(*f))) == NULL || (f->path = strdup(path)) == NULL) {
		free(f);
		return MG_ERR_NOMEM;
	}
	if ((f->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0640)) < 0) {
		int e = errno;

		snprintf(err ? err : (char[1]){0}, err ? errlen : 1, "%s: %s", path,
		    strerror(e));
		free(f->path);
		free(f);
		return e == EEXIST ? MG_ERR_EXISTS : MG_ERR_SYSTEM;
	}
	*state = f;
	return 0;
}

/*
 * A recording is written once and read rarely, later: keeping it in the
 * page cache only pushes out what the machine does use, and makes the
 * kernel find fresh memory for every page written (on a virtual machine,
 * memory the host has not yet backed: that made page-cache copies half of
 * a busy session's CPU). So the pages whose writeback was started one
 * window earlier are given back (clean pages only; pages still being
 * written stay, and are tried again for a few windows). The cache then
 * recycles the same few megabytes. Nothing here waits for the disk.
 */
static void
drop_cached(struct file_sink *f)
{
	uint64_t end, start;

	if (f->synced < 2 * (uint64_t)SYNC_BYTES)
		return;
	end = f->synced - SYNC_BYTES;
	start = f->dropped > 4 * (uint64_t)SYNC_BYTES ? f->dropped - 4 * (uint64_t)SYNC_BYTES : 0;
	(void)posix_fadvise(f->fd, (off_t)start, (off_t)(end - start), POSIX_FADV_DONTNEED);
	f->dropped = end;
}

/* A short write or error stops the recording. */
static int
file_write(void *state, const void *p, size_t len)
{
	struct file_sink *f = state;
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(f->fd, (const char *)p + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (n < 0 && errno != ENOSPC && errno != EIO && errno != EDQUOT &&
			    errno != EFBIG) ? MG_ERR_SYSTEM : MG_ERR_IO;
		off += (size_t)n;
	}
	f->written += len;
	/* Start writing back what is in the page cache now, without waiting,
	 * so the fsync at close has little left to do and a busy session is
	 * on disk sooner. An I/O error here ends the recording early. */
	if (f->written - f->synced >= SYNC_BYTES) {
		if (sync_file_range(f->fd, (off64_t)f->synced, (off64_t)(f->written - f->synced),
		    SYNC_FILE_RANGE_WRITE) != 0 && errno == EIO)
			return MG_ERR_IO;
		f->synced = f->written;
		drop_cached(f);
	}
	return 0;
}

static int
file_close(void *state)
{
	struct file_sink *f = state;
	int r;

	if (fsync(f->fd) != 0)
		return MG_ERR_IO;
	/* All clean now: none of it stays cached (see drop_cached). */
	(void)posix_fadvise(f->fd, 0, 0, POSIX_FADV_DONTNEED);
	r = close(f->fd);
	f->fd = -1;
	if (r != 0)
		return MG_ERR_IO;
	return sync_dir(f->path);
}

static void
file_free(void *state, int discard)
{
	struct file_sink *f = state;

	if (f->fd >= 0) {
		close(f->fd);
		if (discard)
			unlink(f->path);
	}
	free(f->path);
	free(f);
}

const struct rec_sink_type rec_sink_file = { file_init, file_write, file_close, file_free };

/* Memory: the lines are appended to the caller's struct rec_buf (arg). */
static int
mem_init(void **state, const char *name, void *arg, char *err, size_t errlen)
{
	(void)name;
	if (arg == NULL) {
		snprintf(err ? err : (char[1]){0}, err ? errlen : 1, "no buffer to record into");
		return MG_ERR_INVAL;
	}
	*state = arg;
	return 0;
}

static int
mem_write(void *state, const void *p, size_t len)
{
	return rec_buf_add(state, p, len) == 0 ? 0 : MG_ERR_IO;
}

static int
mem_close(void *state)
{
	(void)state;
	return 0;
}

static void
mem_free(void *state, int discard)
{
	if (discard)
		rec_buf_reset(state);
}

const struct rec_sink_type rec_sink_mem = { mem_init, mem_write, mem_close, mem_free };
