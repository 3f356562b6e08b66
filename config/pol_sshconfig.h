/* SPDX-License-Identifier: BSD-2-Clause */
/* An engineer's ssh_config: one Host block per target (and login) the policy grants. */
#ifndef POL_SSHCONFIG_H
#define POL_SSHCONFIG_H

#include <stdio.h>

#include "pol.h"

/* Where the engineers' ssh connects: the gateway's sshd. */
struct pol_sshconfig_gw {
	char host[254];		/* a DNS name or an address (mg_name_ok MG_NAME_HOST) */
	int port;		/* 1..65535 */
};
#define POL_SSHCONFIG_PORT	2222	/* the packaged gateway sshd's */

/*
 * Parses "HOST", "HOST:PORT" or "[ADDRESS]:PORT" (an IPv6 address with a
 * port); the port is POL_SSHCONFIG_PORT when not given. HOST must be safe
 * in an ssh_config line: the host-name rule, so no blank, quote, '%' or
 * control character. Returns 0 or MG_ERR_PARSE with a message in err.
 */
int pol_sshconfig_gw_parse(const char *s, struct pol_sshconfig_gw *out,
    char *err, size_t errlen);

/*
 * Writes the engineer's blocks to out: for every target a grant of theirs
 * covers (globs expanded against the tenant's targets), "Host TENANT-TARGET"
 * (MSPGATE_TARGET without a login when the grants allow one, else naming
 * the first) and, when they allow several, "Host TENANT-TARGET-LOGIN" for
 * each of them. Each block: HostName and Port of gw, User the engineer,
 * SetEnv MSPGATE_TARGET, its own ControlMaster (ControlPath ~/.ssh with %C
 * and a hash of the block's name: a shared connection carries its own
 * SetEnv to every session on it, so two targets never share one), and
 * ControlPersist at most an hour and never longer than the grants'
 * max_login_age; comments give the windows (in the tenant's zone), MFA,
 * ticket and expiry. Host names are lower case (ssh matches them so).
 * Returns 0; MG_ERR_NOENT (no such engineer), MG_ERR_PARSE (a name unsafe
 * in ssh_config, or two targets that would get the same Host name: err
 * names them), MG_ERR_NOMEM, MG_ERR_IO (writing out failed). On error,
 * out may hold part of the text: callers write to a buffer first.
 */
int pol_sshconfig_write(const struct pol *p, const char *engineer,
    const struct pol_sshconfig_gw *gw, FILE *out, char *err, size_t errlen);

/* ControlPersist when no grant sets a shorter max_login_age: 1 hour. */
#define POL_SSHCONFIG_PERSIST_MAX	3600

#endif
