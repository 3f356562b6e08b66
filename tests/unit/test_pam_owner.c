/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for who owns the TOTP store and lockout files that root and the service account share. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "mg_err.h"
#include "mg_file.h"
#include "mfa_state.h"
#include "mfa_store.h"
#include "../lib/testtotp.h"

/* The stand-in for the service account: an account every Debian has. */
#define SVC	"nobody"

static char base[64];
static uid_t svc_uid;
static gid_t svc_gid;

static int
setup(void **state)
{
	struct passwd *pw;

	(void)state;
	if (geteuid() != 0 || (pw = getpwnam(SVC)) == NULL)
		return 0;	/* each test skips */
	svc_uid = pw->pw_uid;
	svc_gid = pw->pw_gid;
	snprintf(base, sizeof(base), "/tmp/mgowner.XXXXXX");
	if (mkdtemp(base) == NULL || chmod(base, 0711) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	if (base[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

static void
need_root(void)
{
	if (base[0] == '\0')
		skip();
}

/* path's owner and mode, as "uid:gid mode". */
static void
owner_of(const char *path, uid_t *uid, gid_t *gid, mode_t *mode)
{
	struct stat sb;

	assert_int_equal(lstat(path, &sb), 0);
	*uid = sb.st_uid;
	*gid = sb.st_gid;
	*mode = sb.st_mode & 07777;
}

static void
mkdir_owned(const char *dir, uid_t uid, gid_t gid)
{
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chown(dir, uid, gid), 0);
}

static void
state_for(struct mfa_state *st, const char *tag)
{
	memset(st, 0, sizeof(*st));
	snprintf(st->store, sizeof(st->store), "%s/%s-totp", base, tag);
	snprintf(st->lockdir, sizeof(st->lockdir), "%s/%s-state/lockout", base, tag);
	snprintf(st->owner_name, sizeof(st->owner_name), "%s", SVC);
	st->lock_timeout_ms = 1000;
	st->failures = 5;
	st->within = 900;
	st->lock_for = 900;
}

/* The test secret, with a step already used. */
static void
secret_init(struct mfa_secret *s)
{
	tt_secret(s);
	s->last_step = 7;
}

/* mg_file_replace_owner: the new file is given away, atomically, 0600. */
static void
test_replace_owner(void **state)
{
	char path[128], tmpl[140], *buf = NULL, err[256];
	uid_t uid;
	gid_t gid;
	mode_t mode;
	size_t len;
	struct mg_file_rules r;

	(void)state;
	need_root();
	snprintf(path, sizeof(path), "%s/given", base);
	assert_int_equal(mg_file_replace_owner(path, "one\n", 4, 0600, 54321, 54322,
	    err, sizeof(err)), 0);
	owner_of(path, &uid, &gid, &mode);
	assert_int_equal(uid, 54321);
	assert_int_equal(gid, 54322);
	assert_int_equal(mode, 0600);
	/* Read back with the owner allowed: the contents are whole. */
	memset(&r, 0, sizeof(r));
	r.forbid_mode = 077;
	r.owner = 54321;
	r.owner_set = 1;
	assert_int_equal(mg_file_read_safe(path, &r, &buf, &len, err, sizeof(err)), 0);
	assert_string_equal(buf, "one\n");
	free(buf);
	/* mg_file_replace is unchanged: ours, whoever owned the old file. */
	assert_int_equal(mg_file_replace(path, "two\n", 4, 0600, err, sizeof(err)), 0);
	owner_of(path, &uid, &gid, &mode);
	assert_int_equal(uid, 0);
	assert_int_equal(mode, 0600);
	/* No temporary left behind. */
	snprintf(tmpl, sizeof(tmpl), "ls %s | grep -q 'given\\.'", base);
	assert_int_not_equal(system(tmpl), 0);
}

/* Not root: giving a file away is refused and the old one kept. */
static void
test_replace_owner_refused(void **state)
{
	char path[128], err[256];
	uid_t uid;
	gid_t gid;
	mode_t mode;
	pid_t pid;
	int status;

	(void)state;
	need_root();
	snprintf(path, sizeof(path), "%s/svcdir", base);
	mkdir_owned(path, svc_uid, svc_gid);
	snprintf(path, sizeof(path), "%s/svcdir/f", base);
	if ((pid = fork()) == 0) {
		if (setgid(svc_gid) != 0 || setuid(svc_uid) != 0)
			_exit(2);
		if (mg_file_replace(path, "old\n", 4, 0600, err, sizeof(err)) != 0)
			_exit(3);
		_exit(mg_file_replace_owner(path, "new\n", 4, 0600, 54321, 54321,
		    err, sizeof(err)) == MG_ERR_PERM ? 0 : 4);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	owner_of(path, &uid, &gid, &mode);
	assert_int_equal(uid, svc_uid);
}

/*
 * Root in the service account's directories (a packaged gateway): the
 * lockout directory, the lock file, the lockout record and the secret it
 * makes or rewrites are the account's, never group or world readable.
 */
static void
test_root_gives_to_service(void **state)
{
	struct mfa_state st;
	struct mfa_secret s, got;
	struct mfa_lockrec rec;
	char dir[PATH_MAX], path[PATH_MAX + 32], err[256];
	uid_t uid;
	gid_t gid;
	mode_t mode;
	int fd;

	(void)state;
	need_root();
	state_for(&st, "gw");
	mkdir_owned(st.store, svc_uid, svc_gid);
	snprintf(dir, sizeof(dir), "%s/gw-state", base);
	mkdir_owned(dir, svc_uid, svc_gid);
	assert_int_equal(mfa_lock(&st, "alice", &fd, err, sizeof(err)), 0);
	owner_of(st.lockdir, &uid, &gid, &mode);
	assert_int_equal(uid, svc_uid);
	assert_int_equal(gid, svc_gid);
	assert_int_equal(mode, 0700);
	snprintf(path, sizeof(path), "%s/alice.lock", st.lockdir);
	owner_of(path, &uid, &gid, &mode);
	assert_int_equal(uid, svc_uid);
	assert_int_equal(mode, 0600);
	secret_init(&s);
	assert_int_equal(mfa_secret_save(&st, "alice", &s, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/alice", st.store);
	owner_of(path, &uid, &gid, &mode);
	assert_int_equal(uid, svc_uid);
	assert_int_equal(gid, svc_gid);
	assert_int_equal(mode, 0600);
	memset(&rec, 0, sizeof(rec));
	rec.nfail = 1;
	rec.fail[0] = 100;
	assert_int_equal(mfa_lockrec_save(&st, "alice", &rec, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/alice", st.lockdir);
	owner_of(path, &uid, &gid, &mode);
	assert_int_equal(uid, svc_uid);
	assert_int_equal(mode, 0600);
	mfa_unlock(&st, fd, err, sizeof(err));
	/* Root reads the account's files back (a fresh st: looked up again). */
	state_for(&st, "gw");
	assert_int_equal(mfa_secret_load(&st, "alice", &got, err, sizeof(err)), 0);
	assert_int_equal(got.last_step, 7);
	assert_int_equal(mfa_lockrec_load(&st, "alice", &rec, err, sizeof(err)), 0);
	assert_int_equal(rec.nfail, 1);
	mfa_secret_wipe(&got);
	mfa_secret_wipe(&s);
}

/*
 * A lock file root made before files were given away (an older version)
 * is given to the account the next time root takes the lock.
 */
static void
test_old_lock_file_given(void **state)
{
	struct mfa_state st;
	char dir[PATH_MAX], path[PATH_MAX + 32], err[256];
	uid_t uid;
	gid_t gid;
	mode_t mode;
	int fd;

	(void)state;
	need_root();
	state_for(&st, "old");
	snprintf(dir, sizeof(dir), "%s/old-state", base);
	mkdir_owned(dir, svc_uid, svc_gid);
	mkdir_owned(st.lockdir, svc_uid, svc_gid);
	snprintf(path, sizeof(path), "%s/bob.lock", st.lockdir);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
	close(fd);
	assert_int_equal(mfa_lock(&st, "bob", &fd, err, sizeof(err)), 0);
	mfa_unlock(&st, fd, err, sizeof(err));
	owner_of(path, &uid, &gid, &mode);
	assert_int_equal(uid, svc_uid);
	assert_int_equal(mode, 0600);
	/*
	 * A root file hard-linked in as a lock file (where the kernel lets
	 * the account do so) is used as a lock but never given away.
	 */
	snprintf(dir, sizeof(dir), "%s/rootsecret", base);
	assert_true((fd = open(dir, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/carl.lock", st.lockdir);
	assert_int_equal(link(dir, path), 0);
	assert_int_equal(mfa_lock(&st, "carl", &fd, err, sizeof(err)), 0);
	mfa_unlock(&st, fd, err, sizeof(err));
	owner_of(dir, &uid, &gid, &mode);
	assert_int_equal(uid, 0);
}

/*
 * Root in root's directories (a client host): files stay root's, and the
 * service account is never looked up (NSS can be slow inside sshd).
 */
static void
test_root_dirs_stay_root(void **state)
{
	struct mfa_state st;
	struct mfa_secret s, got;
	char dir[PATH_MAX], path[PATH_MAX + 32], err[256];
	uid_t uid;
	gid_t gid;
	mode_t mode;
	int fd;

	(void)state;
	need_root();
	state_for(&st, "client");
	mkdir_owned(st.store, 0, 0);
	snprintf(dir, sizeof(dir), "%s/client-state", base);
	mkdir_owned(dir, 0, 0);
	assert_int_equal(mfa_lock(&st, "carol", &fd, err, sizeof(err)), 0);
	secret_init(&s);
	assert_int_equal(mfa_secret_save(&st, "carol", &s, err, sizeof(err)), 0);
	assert_int_equal(mfa_secret_load(&st, "carol", &got, err, sizeof(err)), 0);
	mfa_unlock(&st, fd, err, sizeof(err));
	assert_int_equal(st.owner_known, 0);
	owner_of(st.lockdir, &uid, &gid, &mode);
	assert_int_equal(uid, 0);
	snprintf(path, sizeof(path), "%s/carol", st.store);
	owner_of(path, &uid, &gid, &mode);
	assert_int_equal(uid, 0);
	assert_int_equal(mode, 0600);
	/* Someone else's directory: nothing is given to that someone. */
	state_for(&st, "other");
	mkdir_owned(st.store, 54321, 54321);
	assert_int_equal(mfa_secret_save(&st, "carol", &s, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/carol", st.store);
	owner_of(path, &uid, &gid, &mode);
	assert_int_equal(uid, 0);
	/* ...and reading there is refused: the directory is not trusted. */
	assert_int_equal(mfa_secret_load(&st, "carol", &got, err, sizeof(err)),
	    MG_ERR_PERM);
	mfa_secret_wipe(&got);
	mfa_secret_wipe(&s);
}

/*
 * The service account (mspgated) uses what root made: lock, read,
 * rewrite; a file root kept (root:root 0600) fails closed with a hint.
 */
static void
test_service_uses_root_files(void **state)
{
	struct mfa_state st;
	struct mfa_secret s;
	char dir[PATH_MAX], path[PATH_MAX + 32], err[256];
	pid_t pid;
	int fd, status;

	(void)state;
	need_root();
	state_for(&st, "svc");
	mkdir_owned(st.store, svc_uid, svc_gid);
	snprintf(dir, sizeof(dir), "%s/svc-state", base);
	mkdir_owned(dir, svc_uid, svc_gid);
	/* As root: the lock (and the lockout directory), a secret. */
	assert_int_equal(mfa_lock(&st, "dave", &fd, err, sizeof(err)), 0);
	mfa_unlock(&st, fd, err, sizeof(err));
	secret_init(&s);
	assert_int_equal(mfa_secret_save(&st, "dave", &s, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/erin", st.store);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
	close(fd);
	if ((pid = fork()) == 0) {
		struct mfa_secret got;

		if (setgid(svc_gid) != 0 || setuid(svc_uid) != 0)
			_exit(2);
		state_for(&st, "svc");
		if (mfa_lock(&st, "dave", &fd, err, sizeof(err)) != 0)
			_exit(3);
		if (mfa_secret_load(&st, "dave", &got, err, sizeof(err)) != 0)
			_exit(4);
		got.last_step = 8;
		if (mfa_secret_save(&st, "dave", &got, err, sizeof(err)) != 0)
			_exit(5);
		mfa_unlock(&st, fd, err, sizeof(err));
		mfa_secret_wipe(&got);
		/* erin's is root:root 0600: refused, and the message says why. */
		if (mfa_secret_load(&st, "erin", &got, err, sizeof(err)) !=
		    MG_ERR_SYSTEM || strstr(err, "must belong to " SVC) == NULL)
			_exit(6);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* Root reads what the account wrote. */
	state_for(&st, "svc");
	assert_int_equal(mfa_secret_load(&st, "dave", &s, err, sizeof(err)), 0);
	assert_int_equal(s.last_step, 8);
	mfa_secret_wipe(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace_owner),
		cmocka_unit_test(test_replace_owner_refused),
		cmocka_unit_test(test_root_gives_to_service),
		cmocka_unit_test(test_old_lock_file_given),
		cmocka_unit_test(test_root_dirs_stay_root),
		cmocka_unit_test(test_service_uses_root_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
