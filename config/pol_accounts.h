/* SPDX-License-Identifier: BSD-2-Clause */
/* Gateway accounts for the policy's engineers: create, lock, unlock, remove. */
#ifndef POL_ACCOUNTS_H
#define POL_ACCOUNTS_H

#include "pol.h"

struct pol_accounts_opts {
	const char *shell;	/* login shell: mspgate-shell */
	const char *home_base;	/* NULL: useradd's default (/home) */
	const char *state_file;	/* accounts this tool created; NULL: <state>/accounts */
	int dry_run;		/* say what would change, change nothing */
};

struct pol_accounts_result {
	int created, locked, unlocked, removed, unchanged, conflicts, failed;
};

/*
 * Makes the host's accounts match the policy: an account for each engineer
 * valid now (shell opts->shell, no password), expired (locked) for one not
 * valid now, removed for one no longer in the policy. Only accounts this
 * tool created (listed in the state file) are ever changed: an existing
 * account of the same name is reported as a conflict and left alone.
 * Idempotent. Prints one line per change to stdout, problems to stderr.
 * Returns 0 when everything matched or was changed, MG_ERR_EXISTS when
 * there were conflicts, MG_ERR_SYSTEM when a command failed.
 */
int pol_accounts_sync(const struct pol *p, const struct pol_accounts_opts *o,
    struct pol_accounts_result *res);

#endif
