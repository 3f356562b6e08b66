/* SPDX-License-Identifier: BSD-2-Clause */
/* The policy, parsed once per change of its files and shared by the PAM handles of a process. */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mg_err.h"
#include "mfa_polcache.h"

struct stamp {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

struct mfa_polref {
	char path[PATH_MAX];
	struct pol *p;
	struct stamp *st;	/* one per p->files[i] */
	int refs;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct mfa_polref *current;	/* holds one reference */

static int
stamp_of(const char *path, struct stamp *s)
{
	struct stat sb;

	if (stat(path, &sb) != 0)
		return -1;
	memset(s, 0, sizeof(*s));
	s->dev = sb.st_dev;
	s->ino = sb.st_ino;
	s->size = sb.st_size;
	s->mtime = sb.st_mtim;
	s->ctime = sb.st_ctim;
	return 0;
}

static int
before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* 1 when no file of r changed (a mode or owner change moves ctime too). */
static int
fresh(const struct mfa_polref *r)
{
	struct stamp s;
	size_t i;

	for (i = 0; i < r->p->nfiles; i++) {
		if (stamp_of(r->p->files[i], &s) != 0 || s.dev != r->st[i].dev ||
		    s.ino != r->st[i].ino || s.size != r->st[i].size ||
		    s.mtime.tv_sec != r->st[i].mtime.tv_sec ||
		    s.mtime.tv_nsec != r->st[i].mtime.tv_nsec ||
		    s.ctime.tv_sec != r->st[i].ctime.tv_sec ||
		    s.ctime.tv_nsec != r->st[i].ctime.tv_nsec)
			return 0;
	}
	return 1;
}

static void
ref_drop(struct mfa_polref *r)
{
	if (r != NULL && --r->refs == 0) {
		pol_free(r->p);
		free(r->st);
		free(r);
	}
}

int
mfa_polcache_get(const char *path, struct mfa_polref **ref, const struct pol **out,
    struct mg_diag *diag)
{
	struct mfa_polref *r = NULL;
	struct stamp *st = NULL;
	struct pol *p = NULL;
	struct timespec t0;
	size_t i;
	int e;

	*ref = NULL;
	*out = NULL;
	if (strlen(path) >= sizeof(r->path))
		return MG_ERR_TOOBIG;
	pthread_mutex_lock(&lock);
	if (current != NULL && strcmp(current->path, path) == 0 && fresh(current)) {
		current->refs++;
		*ref = current;
		*out = current->p;
		pthread_mutex_unlock(&lock);
		return 0;
	}
	/* The clock file times come from (coarse), a tick or two back. */
	clock_gettime(CLOCK_REALTIME_COARSE, &t0);
	t0.tv_nsec -= 20000000;
	if (t0.tv_nsec < 0) {
		t0.tv_nsec += 1000000000;
		t0.tv_sec--;
	}
	if ((e = pol_load(path, &p, diag)) != 0)
		goto out;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (st = calloc(p->nfiles ? p->nfiles : 1, sizeof(*st))) == NULL) {
		e = MG_ERR_NOMEM;
		goto out;
	}
	/*
	 * A file changed while (or just before) pol_load read it may hold more
	 * than was parsed: such a stamp never matches, so the next call parses
	 * again rather than keep a policy older than its files.
	 */
	for (i = 0; i < p->nfiles; i++)
		if (stamp_of(p->files[i], &st[i]) != 0 || !before(&st[i].ctime, &t0) ||
		    !before(&st[i].mtime, &t0))
			memset(&st[i], 0, sizeof(st[i]));
	strcpy(r->path, path);
	r->p = p;
	r->st = st;
	r->refs = 2;		/* the cache's and the caller's */
	p = NULL;
	st = NULL;
	ref_drop(current);
	current = r;
	*ref = r;
	*out = r->p;
	r = NULL;
	e = 0;
 out:
	pthread_mutex_unlock(&lock);
	pol_free(p);
	free(st);
	free(r);
	return e;
}

void
mfa_polcache_put(struct mfa_polref *ref)
{
	if (ref == NULL)
		return;
	pthread_mutex_lock(&lock);
	ref_drop(ref);
	pthread_mutex_unlock(&lock);
}
