/* SPDX-License-Identifier: BSD-2-Clause */
/* Per-user TOTP secrets and lockout records on disk, under a per-user lock. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mg_err.h"
#include "mg_file.h"
#include "mfa_state.h"
#include "mfa_state_pg.h"

/* The system user that owns the gateway's files, if the host has it. */
#define MFA_OWNER_NAME	"mspgate"

int
mfa_state_init(struct mfa_state *st, const struct pol *p)
{
	int n;

	memset(st, 0, sizeof(*st));
	n = snprintf(st->store, sizeof(st->store), "%s", p->mfa.totp_store);
	if (n < 0 || (size_t)n >= sizeof(st->store))
		return MG_ERR_TOOBIG;
	n = snprintf(st->lockdir, sizeof(st->lockdir), "%s/lockout", p->gateway.state);
	if (n < 0 || (size_t)n >= sizeof(st->lockdir))
		return MG_ERR_TOOBIG;
	st->lock_timeout_ms = 5000;
	if (p->gateway.user != NULL)
		snprintf(st->owner_name, sizeof(st->owner_name), "%s", p->gateway.user);
	st->failures = p->mfa.lockout_failures;
	st->within = p->mfa.lockout_within;
	st->lock_for = p->mfa.lockout_for;
	if (p->state.backend == POL_STATE_POSTGRESQL)
		st->ps = &p->state;
	return 0;
}

void
mfa_state_fini(struct mfa_state *st)
{
	if (MFA_STATE_PG(st))
		mfa_pg_fini(st);
}

/* A user name the database may hold: what the files backend may name. */
static int
pg_user(const char *user, char *err, size_t errlen)
{
	if (mfa_user_ok(user))
		return 0;
	snprintf(err, errlen, "invalid user name");
	return MG_ERR_INVAL;
}

/* Who the mspgate user is, if the host has one: asked once per st. */
static void
owner_lookup(struct mfa_state *st)
{
	struct passwd pw, *res = NULL;
	char pwbuf[4096];

	st->owner_known = 1;
	if (getpwnam_r(st->owner_name[0] ? st->owner_name : MFA_OWNER_NAME, &pw,
	    pwbuf, sizeof(pwbuf), &res) == 0 &&
	    res != NULL) {
		st->owner = pw.pw_uid;
		st->owner_gid = pw.pw_gid;
		st->owner_set = 1;
	}
}

/*
 * Whether root must give what it makes in the directory dfd to the
 * service account, and to whom. mspgated runs as that account and opens,
 * locks and rewrites these files itself ("require MFA again"): a
 * root:root 0600 file in its store or state would shut it out, and every
 * reauth would fail closed. Giving the file away grants nothing new: the
 * owner of a directory can already replace or remove any file in it.
 * Only a directory that is not root's makes us ask NSS who the account
 * is (see owner_retry); a process that is not root makes its own files.
 * Returns 1 and the owner in *uidp, *gidp, else 0 (keep ours).
 */
static int
give_to(struct mfa_state *st, int dfd, uid_t *uidp, gid_t *gidp)
{
	struct stat sb;

	if (geteuid() != 0 || fstat(dfd, &sb) != 0 || sb.st_uid == 0)
		return 0;
	if (!st->owner_known)
		owner_lookup(st);
	/* Someone else's directory: the safe-open checks refuse it anyway. */
	if (!st->owner_set || sb.st_uid != st->owner)
		return 0;
	*uidp = st->owner;
	*gidp = st->owner_gid;
	return 1;
}

/* give_to for the directory at path; 0 when it cannot be opened. */
static int
give_to_dir(struct mfa_state *st, const char *dir, uid_t *uidp, gid_t *gidp)
{
	int dfd, give;

	if (geteuid() != 0)
		return 0;
	if ((dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return 0;
	give = give_to(st, dfd, uidp, gidp);
	close(dfd);
	return give;
}

/*
 * A file opened for mspgated's sake that it could not open: say what to
 * do, as "Permission denied" alone does not.
 */
static void
access_hint(const struct mfa_state *st, int r, int e, char *err, size_t errlen)
{
	size_t n;

	if (r != MG_ERR_SYSTEM || e != EACCES || geteuid() == 0 || err == NULL)
		return;
	n = strlen(err);
	if (n < errlen)
		snprintf(err + n, errlen - n, " (the TOTP store and %s must belong "
		    "to %s, mode 0700/0600)", st->lockdir, st->owner_name[0] ?
		    st->owner_name : MFA_OWNER_NAME);
}

static void
rules_for(const struct mfa_state *st, struct mg_file_rules *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->max_size = max;
	/* Secrets and state: nobody but the owner may read or write them. */
	r->forbid_mode = 077;
	if (st->owner_known) {
		r->owner = st->owner;
		r->owner_set = st->owner_set;
	} else {
		/* Root only: a subset of what the full rule allows. */
		r->owner = 0;
		r->owner_set = 1;
	}
	r->check_dirs = 1;
}

/*
 * Whether to check a refused file again with the full owner rule. Files
 * and directories owned by root pass without asking NSS who "mspgate" is:
 * on a client host that user rarely exists, and a name that no source
 * knows is asked of every source in nsswitch.conf (sssd, LDAP) on every
 * login. Only a refusal (MG_ERR_PERM: owner, mode, type) looks the user
 * up; as root-only is a subset of the full rule, nothing passes that the
 * full rule would refuse, and the second check decides alone.
 */
static int
owner_retry(struct mfa_state *st, int r, struct mg_file_rules *rules)
{
	if (r != MG_ERR_PERM || st->owner_known)
		return 0;
	owner_lookup(st);
	rules_for(st, rules, rules->max_size);
	return 1;
}

static int
user_path(char *buf, size_t len, const char *dir, const char *user,
    const char *suffix, char *err, size_t errlen)
{
	int n;

	/* User names become file names: only the policy's name syntax. */
	if (!mfa_user_ok(user)) {
		snprintf(err, errlen, "invalid user name");
		return MG_ERR_INVAL;
	}
	n = snprintf(buf, len, "%s/%s%s", dir, user, suffix);
	if (n < 0 || (size_t)n >= len) {
		snprintf(err, errlen, "%s: path too long", dir);
		return MG_ERR_TOOBIG;
	}
	return 0;
}

/*
 * mkdir(dir, 0700); a new directory in one of the service account's is
 * given to it (give_to). 0, or -1 and errno (EEXIST: it was there).
 */
static int
make_dir(struct mfa_state *st, const char *dir)
{
	char parent[PATH_MAX];
	const char *base;
	char *slash;
	struct stat sb;
	uid_t uid;
	gid_t gid;
	int pfd, fd, r = -1, e;

	if ((size_t)snprintf(parent, sizeof(parent), "%s", dir) >= sizeof(parent) ||
	    (slash = strrchr(parent, '/')) == NULL || slash[1] == '\0') {
		errno = EINVAL;
		return -1;
	}
	base = dir + (slash - parent) + 1;
	if (slash == parent)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((pfd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if (mkdirat(pfd, base, 0700) != 0)
		goto out;
	r = 0;
	if (give_to(st, pfd, &uid, &gid)) {
		/* Only the directory we just made, never one put in its place. */
		fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1)
			r = -1;
		else if (fstat(fd, &sb) != 0 || sb.st_uid != 0) {
			errno = EPERM;
			r = -1;
		} else if (fchown(fd, uid, gid) != 0)
			r = -1;
		if (fd != -1) {
			e = errno;
			close(fd);
			errno = e;
		}
		/* Not left behind as root's: the next try would take it as is. */
		if (r != 0) {
			e = errno;
			(void)unlinkat(pfd, base, AT_REMOVEDIR);
			errno = e;
		}
	}
 out:
	e = errno;
	close(pfd);
	errno = e;
	return r;
}

/* Makes dir (mode 0700) and its parent when missing; never a deeper tree. */
static int
ensure_dir(struct mfa_state *st, const char *dir, char *err, size_t errlen)
{
	char parent[PATH_MAX];
	char *slash;

	if (make_dir(st, dir) == 0 || errno == EEXIST)
		return 0;
	if (errno == ENOENT) {
		snprintf(parent, sizeof(parent), "%s", dir);
		if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
			*slash = '\0';
			if ((make_dir(st, parent) == 0 || errno == EEXIST) &&
			    (make_dir(st, dir) == 0 || errno == EEXIST))
				return 0;
		}
	}
	snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
	return MG_ERR_SYSTEM;
}

int
mfa_lock(struct mfa_state *st, const char *user, int *fdp, char *err,
    size_t errlen)
{
	struct mg_file_rules rules;
	struct stat a, b;
	char path[PATH_MAX];
	unsigned waited;
	uid_t uid = 0;
	gid_t gid = 0;
	int r, fd, tries, give;
	if (MFA_STATE_PG(st)) {
		*fdp = -1;
		if ((r = pg_user(user, err, errlen)) != 0)
			return r;
		return mfa_pg_lock(st, user, err, errlen);
	}

	*fdp = -1;
	if ((r = user_path(path, sizeof(path), st->lockdir, user, ".lock", err,
	    errlen)) != 0)
		return r;
	if ((r = ensure_dir(st, st->lockdir, err, errlen)) != 0)
		return r;
	give = give_to_dir(st, st->lockdir, &uid, &gid);
	rules_for(st, &rules, 0);
	for (tries = 0; tries < 20; tries++) {
		r = mg_file_open_safe(path, O_RDWR, &rules, &fd, err, errlen);
		if (owner_retry(st, r, &rules))
			r = mg_file_open_safe(path, O_RDWR, &rules, &fd, err, errlen);
		if (r == MG_ERR_NOENT) {
			/* Made here, then opened and checked like any other. */
			int nfd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			    O_CLOEXEC, 0600);

			if (nfd < 0 && errno != EEXIST) {
				snprintf(err, errlen, "cannot create %s: %s", path,
				    strerror(errno));
				return MG_ERR_SYSTEM;
			}
			if (nfd >= 0 && give && fchown(nfd, uid, gid) != 0) {
				snprintf(err, errlen, "cannot give %s to uid %lu: %s",
				    path, (unsigned long)uid, strerror(errno));
				close(nfd);
				return MG_ERR_SYSTEM;
			}
			if (nfd >= 0)
				close(nfd);
			continue;
		}
		if (r != 0) {
			access_hint(st, r, errno, err, errlen);
			return r;
		}
		/*
		 * A lock file root made before files were given away: the
		 * service account's too from now on, or mspgated could never
		 * take the lock. Checked above: a regular file, 0600 at most.
		 * Only with one link: the account could have hard-linked any
		 * root file of that filesystem here (fs.protected_hardlinks=0),
		 * and must not be handed it.
		 */
		if (give && fstat(fd, &a) == 0 && a.st_uid == 0 && a.st_nlink == 1 &&
		    fchown(fd, uid, gid) != 0) {
			snprintf(err, errlen, "cannot give %s to uid %lu: %s", path,
			    (unsigned long)uid, strerror(errno));
			close(fd);
			return MG_ERR_SYSTEM;
		}
		for (waited = 0;; waited += 2) {
			if (flock(fd, LOCK_EX | LOCK_NB) == 0)
				break;
			if (errno != EWOULDBLOCK && errno != EINTR) {
				snprintf(err, errlen, "lock %s: %s", path, strerror(errno));
				close(fd);
				return MG_ERR_SYSTEM;
			}
			if (waited >= st->lock_timeout_ms) {
				snprintf(err, errlen, "%s is held by another login for "
				    "over %u ms", path, waited);
				close(fd);
				return MG_ERR_BUSY;
			}
			usleep(2000);
		}
		/*
		 * The lock counts only if the file we hold is still the one
		 * at the path (an admin may have removed it meanwhile).
		 */
		if (fstat(fd, &a) == 0 && lstat(path, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
			*fdp = fd;
			return 0;
		}
		close(fd);
	}
	snprintf(err, errlen, "%s keeps changing", path);
	return MG_ERR_BUSY;
}

int
mfa_unlock(struct mfa_state *st, int fd, char *err, size_t errlen)
{
	if (MFA_STATE_PG(st))
		return mfa_pg_unlock(st, err, errlen);
	if (fd >= 0)
		close(fd);	/* drops the flock */
	return 0;
}

int
mfa_secret_load(struct mfa_state *st, const char *user,
    struct mfa_secret *out, char *err, size_t errlen)
{
	struct mg_file_rules rules;
	char path[PATH_MAX], perr[256], *buf = NULL;
	size_t len = 0;
	int r;
	if (MFA_STATE_PG(st)) {
		mfa_secret_wipe(out);
		out->last_step = -1;
		if ((r = pg_user(user, err, errlen)) != 0)
			return r;
		return mfa_pg_secret_load(st, user, out, err, errlen);
	}

	mfa_secret_wipe(out);
	out->last_step = -1;
	if ((r = user_path(path, sizeof(path), st->store, user, "", err, errlen)) != 0)
		return r;
	rules_for(st, &rules, MFA_FILE_MAX);
	r = mg_file_read_safe(path, &rules, &buf, &len, err, errlen);
	if (owner_retry(st, r, &rules))
		r = mg_file_read_safe(path, &rules, &buf, &len, err, errlen);
	if (r != 0) {
		access_hint(st, r, errno, err, errlen);
		return r;
	}
	r = mfa_secret_parse(buf, len, out, perr, sizeof(perr));
	mg_freezero(buf, len);
	if (r != 0)
		snprintf(err, errlen, "%s: %s", path, perr);
	return r;
}

/* Replaces path (in dir) atomically, mode 0600, owned as give_to says. */
static int
save(struct mfa_state *st, const char *dir, const char *path, const char *data,
    size_t len, char *err, size_t errlen)
{
	uid_t uid;
	gid_t gid;
	int r;

	if ((r = ensure_dir(st, dir, err, errlen)) != 0)
		return r;
	if (give_to_dir(st, dir, &uid, &gid))
		return mg_file_replace_owner(path, data, len, 0600, uid, gid, err,
		    errlen);
	r = mg_file_replace(path, data, len, 0600, err, errlen);
	access_hint(st, r, errno, err, errlen);
	return r;
}

int
mfa_secret_save(struct mfa_state *st, const char *user,
    const struct mfa_secret *s, char *err, size_t errlen)
{
	char path[PATH_MAX], *buf = NULL;
	size_t len = 0;
	int r;
	if (MFA_STATE_PG(st))
		return (r = pg_user(user, err, errlen)) != 0 ? r :
		    mfa_pg_secret_save(st, user, s, err, errlen);

	if ((r = user_path(path, sizeof(path), st->store, user, "", err, errlen)) != 0)
		return r;
	if ((r = mfa_secret_format(s, &buf, &len)) != 0) {
		snprintf(err, errlen, "cannot format the secret: %s", mg_strerror(r));
		return r;
	}
	r = save(st, st->store, path, buf, len, err, errlen);
	mg_freezero(buf, len);
	return r;
}

static int
remove_file(const char *path, char *err, size_t errlen)
{
	if (unlink(path) == 0)
		return 0;
	if (errno == ENOENT)
		return MG_ERR_NOENT;
	snprintf(err, errlen, "cannot remove %s: %s", path, strerror(errno));
	return MG_ERR_SYSTEM;
}

int
mfa_secret_remove(struct mfa_state *st, const char *user, char *err,
    size_t errlen)
{
	char path[PATH_MAX];
	int r;
	if (MFA_STATE_PG(st))
		return (r = pg_user(user, err, errlen)) != 0 ? r :
		    mfa_pg_secret_remove(st, user, err, errlen);

	if ((r = user_path(path, sizeof(path), st->store, user, "", err, errlen)) != 0)
		return r;
	return remove_file(path, err, errlen);
}

int
mfa_lockrec_load(struct mfa_state *st, const char *user,
    struct mfa_lockrec *out, char *err, size_t errlen)
{
	struct mg_file_rules rules;
	char path[PATH_MAX], perr[256], *buf = NULL;
	size_t len = 0;
	int r;
	if (MFA_STATE_PG(st)) {
		memset(out, 0, sizeof(*out));
		return (r = pg_user(user, err, errlen)) != 0 ? r :
		    mfa_pg_lockrec_load(st, user, out, err, errlen);
	}

	memset(out, 0, sizeof(*out));
	if ((r = user_path(path, sizeof(path), st->lockdir, user, "", err,
	    errlen)) != 0)
		return r;
	rules_for(st, &rules, MFA_FILE_MAX * 8);
	r = mg_file_read_safe(path, &rules, &buf, &len, err, errlen);
	if (owner_retry(st, r, &rules))
		r = mg_file_read_safe(path, &rules, &buf, &len, err, errlen);
	if (r == MG_ERR_NOENT)
		return 0;
	if (r != 0) {
		access_hint(st, r, errno, err, errlen);
		return r;
	}
	r = mfa_lockrec_parse(buf, len, out, perr, sizeof(perr));
	free(buf);
	if (r != 0)
		snprintf(err, errlen, "%s: %s", path, perr);
	return r;
}

int
mfa_lockrec_save(struct mfa_state *st, const char *user,
    const struct mfa_lockrec *rec, char *err, size_t errlen)
{
	char path[PATH_MAX], *buf = NULL;
	size_t len = 0;
	int r;
	if (MFA_STATE_PG(st))
		return (r = pg_user(user, err, errlen)) != 0 ? r :
		    mfa_pg_lockrec_save(st, user, rec, err, errlen);

	if ((r = user_path(path, sizeof(path), st->lockdir, user, "", err,
	    errlen)) != 0)
		return r;
	if ((r = mfa_lockrec_format(rec, &buf, &len)) != 0) {
		snprintf(err, errlen, "cannot format the lockout record");
		return r;
	}
	r = save(st, st->lockdir, path, buf, len, err, errlen);
	free(buf);
	return r;
}

int
mfa_lockrec_remove(struct mfa_state *st, const char *user, char *err,
    size_t errlen)
{
	char path[PATH_MAX];
	int r;
	if (MFA_STATE_PG(st))
		return (r = pg_user(user, err, errlen)) != 0 ? r :
		    mfa_pg_lockrec_remove(st, user, err, errlen);

	if ((r = user_path(path, sizeof(path), st->lockdir, user, "", err,
	    errlen)) != 0)
		return r;
	return remove_file(path, err, errlen);
}

int
mfa_lockrec_locked(const struct mfa_state *st, const struct mfa_lockrec *r,
    time_t now)
{
	(void)st;
	return r->locked_until != 0 && (int64_t)now < r->locked_until;
}

int
mfa_lockrec_expire(const struct mfa_state *st, struct mfa_lockrec *r, time_t now)
{
	size_t i, keep = 0;
	int changed = 0;

	if (r->locked_until != 0 && (int64_t)now >= r->locked_until) {
		r->locked_until = 0;
		changed = 1;
	}
	for (i = 0; i < r->nfail; i++)
		if (r->fail[i] > (int64_t)now - st->within)
			r->fail[keep++] = r->fail[i];
	if (keep != r->nfail)
		changed = 1;
	r->nfail = keep;
	return changed;
}

int
mfa_lockrec_fail(const struct mfa_state *st, struct mfa_lockrec *r, time_t now)
{
	int64_t t = (int64_t)now;

	mfa_lockrec_expire(st, r, now);
	/* Kept in order even if the clock stepped back. */
	if (r->nfail > 0 && t < r->fail[r->nfail - 1])
		t = r->fail[r->nfail - 1];
	if (r->nfail == MFA_MAX_FAIL) {
		memmove(r->fail, r->fail + 1, (MFA_MAX_FAIL - 1) * sizeof(r->fail[0]));
		r->nfail--;
	}
	r->fail[r->nfail++] = t;
	if (st->failures > 0 && r->nfail >= (size_t)st->failures) {
		r->locked_until = t + st->lock_for;
		r->nfail = 0;
		return 1;
	}
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
mfa_state_list(const char *dir, char ***names, size_t *n, char *err,
    size_t errlen)
{
	DIR *d;
	struct dirent *de;
	char **v = NULL, **nv;
	size_t cnt = 0, cap = 0, i;

	*names = NULL;
	*n = 0;
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return MG_ERR_SYSTEM;
	}
	while ((de = readdir(d)) != NULL) {
		/* Lock files and temporaries have a '.', user names never. */
		if (!mfa_user_ok(de->d_name))
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL)
				goto nomem;
			v = nv;
		}
		if ((v[cnt] = strdup(de->d_name)) == NULL)
			goto nomem;
		cnt++;
	}
	closedir(d);
	if (cnt > 0)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*names = v;
	*n = cnt;
	return 0;
 nomem:
	closedir(d);
	for (i = 0; i < cnt; i++)
		free(v[i]);
	free(v);
	snprintf(err, errlen, "out of memory");
	return MG_ERR_NOMEM;
}

/* -------------------------------------------------------------------- */
/* The replay record, in the user's lock file */

#define USED_FMT	"mspgate-used 1 %020lld %08x\n"
#define USED_LEN	45

/* FNV-1a: a torn or edited record must not pass for a valid one. */
static uint32_t
used_sum(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

int
mfa_used_load(struct mfa_state *st, const char *user, int lockfd, int64_t *step,
    char *err, size_t errlen)
{
	char buf[USED_LEN + 8], head[40];
	long long v;
	unsigned sum;
	ssize_t n;
	if (MFA_STATE_PG(st)) {
		*step = -1;
		return pg_user(user, err, errlen) != 0 ? MG_ERR_INVAL :
		    mfa_pg_used_load(st, user, step, err, errlen);
	}

	*step = -1;
	if ((n = pread(lockfd, buf, sizeof(buf) - 1, 0)) < 0) {
		snprintf(err, errlen, "replay record: %s", strerror(errno));
		return MG_ERR_IO;
	}
	if (n == 0)
		return 0;	/* none yet: the secret's last_step stands */
	buf[n] = '\0';
	if (n != USED_LEN || sscanf(buf, "mspgate-used 1 %20lld %8x", &v, &sum) != 2 ||
	    v < 0 || buf[USED_LEN - 1] != '\n' ||
	    used_sum(buf, 35) != sum) {
		snprintf(err, errlen, "replay record damaged (the lock file of this "
		    "user: remove it to go on from the secret's own record)");
		return MG_ERR_PARSE;
	}
	snprintf(head, sizeof(head), "mspgate-used 1 %020lld ", v);
	if (memcmp(head, buf, 35) != 0) {
		snprintf(err, errlen, "replay record damaged");
		return MG_ERR_PARSE;
	}
	*step = v;
	return 0;
}

int
mfa_used_save(struct mfa_state *st, const char *user, int lockfd, int64_t step,
    char *err, size_t errlen)
{
	char buf[USED_LEN + 1], head[40];
	struct stat sb;
	int first, dfd;
	if (MFA_STATE_PG(st))
		return pg_user(user, err, errlen) != 0 ? MG_ERR_INVAL :
		    mfa_pg_used_save(st, user, step, err, errlen);

	snprintf(head, sizeof(head), "mspgate-used 1 %020lld ", (long long)step);
	snprintf(buf, sizeof(buf), USED_FMT, (long long)step, used_sum(head, 35));
	if (fstat(lockfd, &sb) != 0) {
		snprintf(err, errlen, "replay record: %s", strerror(errno));
		return MG_ERR_SYSTEM;
	}
	first = sb.st_size == 0;
	/* One fixed-size record at offset 0: rewritten in place, never renamed. */
	if (pwrite(lockfd, buf, USED_LEN, 0) != USED_LEN) {
		snprintf(err, errlen, "replay record: %s", strerror(errno));
		return errno == ENOSPC || errno == EIO ? MG_ERR_IO : MG_ERR_SYSTEM;
	}
	if (!first) {
		/* Same size, same blocks: the data is all there is to sync. */
		if (fdatasync(lockfd) != 0) {
			snprintf(err, errlen, "replay record: fdatasync: %s",
			    strerror(errno));
			return MG_ERR_IO;
		}
		return 0;
	}
	/* The first record: the file and its name must outlive a crash too. */
	if (fsync(lockfd) != 0) {
		snprintf(err, errlen, "replay record: fsync: %s", strerror(errno));
		return MG_ERR_IO;
	}
	if ((dfd = open(st->lockdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (fsync(dfd) != 0 && errno != EINVAL)) {
		snprintf(err, errlen, "%s: fsync: %s", st->lockdir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return MG_ERR_IO;
	}
	close(dfd);
	return 0;
}

int
mfa_state_list_secrets(struct mfa_state *st, char ***names, size_t *n, char *err,
    size_t errlen)
{
	if (MFA_STATE_PG(st))
		return mfa_pg_list_secrets(st, names, n, err, errlen);
	return mfa_state_list(st->store, names, n, err, errlen);
}

int
mfa_state_list_lockouts(struct mfa_state *st, char ***names, size_t *n, char *err,
    size_t errlen)
{
	if (MFA_STATE_PG(st))
		return mfa_pg_list_lockouts(st, names, n, err, errlen);
	return mfa_state_list(st->lockdir, names, n, err, errlen);
}
