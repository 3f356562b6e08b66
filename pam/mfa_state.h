/* SPDX-License-Identifier: BSD-2-Clause */
/* Per-user TOTP secrets and lockout records on disk, under a per-user lock. */
#ifndef MFA_STATE_H
#define MFA_STATE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "mfa_store.h"
#include "pol.h"

struct st_pg;

/*
 * Where the state is, from the policy: files (where they are and who may
 * own them) or the state database (the policy's state section; see
 * mfa_state_pg.c), behind the same functions.
 */
struct mfa_state {
	char store[PATH_MAX];	/* mfa.totp.store: <store>/<user> */
	char lockdir[PATH_MAX];	/* <gateway.state>/lockout: <user>, <user>.lock */
	char owner_name[33];	/* gateway.user: the service account */
	uid_t owner;		/* that user, besides root... */
	gid_t owner_gid;	/* ...and its group */
	int owner_set;		/* ...when it exists */
	int owner_known;	/* 0: not looked up yet; until then only root's
				   files pass, and a refusal looks it up and
				   checks again (see mfa_state.c) */
	unsigned lock_timeout_ms;	/* waiting for another login; 5000 */
	/* lockout policy */
	int failures;
	int64_t within, lock_for;
	/* state.backend = "postgresql" */
	const struct pol_state *ps;	/* NULL: the files backend */
	struct st_pg *pg;		/* the connection, opened on first use */
	int txn;			/* mfa_lock's transaction is open */
	unsigned char key[32];		/* state.key_file, read on first use */
	int key_loaded;
};

/*
 * Fills st from the policy (no I/O: a database is connected to on first
 * use). Returns 0 or MG_ERR_TOOBIG (path too long). mfa_state_fini ends
 * what it opened.
 * The functions that open or make files take st non-const: they may fill
 * in the owner the first time a file or directory is not root's.
 *
 * Owners: a file may belong to root or to the service account
 * (gateway.user). Root (pam_mspgate, mspgate-enroll) gives every file and
 * directory it makes in a directory of the service account to that
 * account, so that mspgated, running as it, can lock, read and rewrite
 * them too ("require MFA again"); in a root-owned directory (a client
 * host) root's files stay root's and the account is never looked up.
 */
int mfa_state_init(struct mfa_state *st, const struct pol *p);
/* Closes the connection (rolling back an open lock) and wipes the key. */
void mfa_state_fini(struct mfa_state *st);

/*
 * Takes user's exclusive lock (flock on <lockdir>/<user>.lock, made if
 * missing with the lockout directory), waiting up to lock_timeout_ms.
 * The kernel drops a flock when its holder exits, so a crashed login never
 * leaves a stale lock. Returns 0 and an fd to pass to mfa_unlock, or
 * MG_ERR_BUSY (held too long by a live process), MG_ERR_PERM,
 * MG_ERR_SYSTEM; err says what.
 * With the state database the lock is a transaction holding an advisory
 * lock on the user, so two gateways take turns as two logins on one do;
 * *fdp is -1, and MG_ERR_UNAVAIL means the database cannot be used now.
 * mfa_unlock ends it: what was written under the lock is committed, and
 * an error there (the database lost it) must refuse what depended on it.
 * Files: closing the lock file; always 0. fd -1: nothing held, 0.
 */
int mfa_lock(struct mfa_state *st, const char *user, int *fdp,
    char *err, size_t errlen);
int mfa_unlock(struct mfa_state *st, int fd, char *err, size_t errlen);

/*
 * Loads user's secret. MG_ERR_NOENT: not enrolled; MG_ERR_PERM: unsafe
 * file (owner, mode, links); MG_ERR_PARSE: damaged. out is wiped on error.
 */
int mfa_secret_load(struct mfa_state *st, const char *user,
    struct mfa_secret *out, char *err, size_t errlen);
/* Replaces user's secret atomically (mode 0600). */
int mfa_secret_save(struct mfa_state *st, const char *user,
    const struct mfa_secret *s, char *err, size_t errlen);
/* Removes the secret; MG_ERR_NOENT when there was none. */
int mfa_secret_remove(struct mfa_state *st, const char *user,
    char *err, size_t errlen);

/* Loads the lockout record; a missing one is empty (0). */
int mfa_lockrec_load(struct mfa_state *st, const char *user,
    struct mfa_lockrec *out, char *err, size_t errlen);
int mfa_lockrec_save(struct mfa_state *st, const char *user,
    const struct mfa_lockrec *r, char *err, size_t errlen);
int mfa_lockrec_remove(struct mfa_state *st, const char *user,
    char *err, size_t errlen);

/* 1 when r locks the account at now. */
int mfa_lockrec_locked(const struct mfa_state *st, const struct mfa_lockrec *r,
    time_t now);
/*
 * Adds a failure at now: failures older than `within` are forgotten; at
 * `failures` within the period the account is locked for `lock_for`.
 * Returns 1 when this failure locked it, else 0.
 */
int mfa_lockrec_fail(const struct mfa_state *st, struct mfa_lockrec *r, time_t now);
/* Forgets old failures and an expired lock; 1 when r changed. */
int mfa_lockrec_expire(const struct mfa_state *st, struct mfa_lockrec *r, time_t now);

/*
 * Lists user names with a file in dir (the store or the lockout
 * directory), sorted; skips lock files and temporaries. *names is the
 * caller's: free each and the array.
 */
int mfa_state_list(const char *dir, char ***names, size_t *n, char *err,
    size_t errlen);
/* The users with a secret, or with a lockout record, from either backend. */
int mfa_state_list_secrets(struct mfa_state *st, char ***names, size_t *n,
    char *err, size_t errlen);
int mfa_state_list_lockouts(struct mfa_state *st, char ***names, size_t *n,
    char *err, size_t errlen);

/*
 * The replay record: the last TOTP step used, as one fixed-size record at
 * the start of the user's lock file (lockfd from mfa_lock, held). Saving
 * rewrites it in place with one fdatasync (the first record also syncs the
 * file and the lockout directory); no rename, so it costs one sync where a
 * rewritten secret file costs three, and a used code stays used after a
 * crash all the same. The step to refuse is the larger of this and the
 * secret's last_step. load: *step -1 when there is none; MG_ERR_PARSE when
 * it is damaged (refuse: a replay could pass); MG_ERR_IO.
 * The state database keeps it in the secret's row; saving there is one
 * UPDATE that changes the row only for a later step, so a step is taken
 * once whatever the locks did (MG_ERR_EXISTS: taken already).
 */
int mfa_used_load(struct mfa_state *st, const char *user, int lockfd, int64_t *step,
    char *err, size_t errlen);
int mfa_used_save(struct mfa_state *st, const char *user, int lockfd, int64_t step,
    char *err, size_t errlen);

#endif
