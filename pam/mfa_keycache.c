/* SPDX-License-Identifier: BSD-2-Clause */
/* The audit signing key, loaded once per change of its file and shared by the PAM handles of a process. */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mg_err.h"
#include "rec_key.h"
#include "mfa_keycache.h"

struct mfa_keyref {
	char path[PATH_MAX];
	char owner[64];
	struct rec_key *key;
	struct stat st;
	int refs;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct mfa_keyref *current;	/* holds one reference */

static int
same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size && a->st_mode == b->st_mode &&
	    a->st_uid == b->st_uid &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static int
before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void
ref_drop(struct mfa_keyref *r)
{
	if (r != NULL && --r->refs == 0) {
		rec_key_free(r->key);
		free(r);
	}
}

int
mfa_keycache_get(const char *path, const char *owner, struct mfa_keyref **ref,
    const struct rec_key **key, char *err, size_t errlen)
{
	struct mfa_keyref *r;
	struct stat sb, after;
	struct timespec t0;
	int e, ok;

	*ref = NULL;
	*key = NULL;
	if (owner == NULL)
		owner = "";
	if (strlen(path) >= sizeof(r->path) || strlen(owner) >= sizeof(r->owner))
		return MG_ERR_TOOBIG;
	pthread_mutex_lock(&lock);
	ok = lstat(path, &sb) == 0;
	if (ok && current != NULL && strcmp(current->path, path) == 0 &&
	    strcmp(current->owner, owner) == 0 && same(&sb, &current->st)) {
		current->refs++;
		*ref = current;
		*key = current->key;
		pthread_mutex_unlock(&lock);
		return 0;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		pthread_mutex_unlock(&lock);
		return MG_ERR_NOMEM;
	}
	/* The clock file times come from (coarse), a tick or two back. */
	clock_gettime(CLOCK_REALTIME_COARSE, &t0);
	t0.tv_nsec -= 20000000;
	if (t0.tv_nsec < 0) {
		t0.tv_nsec += 1000000000;
		t0.tv_sec--;
	}
	if ((e = rec_key_load_private_owner(path, owner[0] ? owner : NULL, &r->key, err,
	    errlen)) != 0) {
		pthread_mutex_unlock(&lock);
		free(r);
		return e;
	}
	strcpy(r->path, path);
	strcpy(r->owner, owner);
	/*
	 * Only a file that did not change around the load is kept for later
	 * calls: one written just now may hold more than was read.
	 */
	if (lstat(path, &after) == 0 && ok && same(&sb, &after) &&
	    before(&after.st_ctim, &t0) && before(&after.st_mtim, &t0))
		r->st = after;
	else
		memset(&r->st, 0, sizeof(r->st));
	r->refs = 2;
	ref_drop(current);
	current = r;
	*ref = r;
	*key = r->key;
	pthread_mutex_unlock(&lock);
	return 0;
}

void
mfa_keycache_put(struct mfa_keyref *ref)
{
	if (ref == NULL)
		return;
	pthread_mutex_lock(&lock);
	ref_drop(ref);
	pthread_mutex_unlock(&lock);
}
