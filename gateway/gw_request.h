/* SPDX-License-Identifier: BSD-2-Clause */
/* What an engineer asks for: target, command, subsystem; and what sshd says about the login. */
#ifndef GW_REQUEST_H
#define GW_REQUEST_H

#include <stddef.h>

#include "pol.h"

/* Parts of "[login@]tenant/target". Fixed sizes: names are short. */
struct gw_target_spec {
	char login[65];		/* "" when not given */
	char tenant[65];
	char target[65];
};

/*
 * Parses "[login@]tenant/target". Tenant and target follow the policy's
 * rule for the names it defines, login the rule for client-host logins
 * (mg_name_ok: MG_NAME_POLICY, MG_NAME_LOGIN). Returns 0 or MG_ERR_PARSE.
 */
int gw_target_spec_parse(const char *s, struct gw_target_spec *out);

/* The session mspgate-shell asks for. Strings are allocated. */
struct gw_shell_request {
	char *target;		/* "[login@]tenant/target" (not yet checked) */
	char *command;		/* NULL: a login shell */
	char *subsystem;	/* "sftp" or NULL */
	int ssh_config;		/* "ssh-config [ARGS]": the engineer's own Host
				   blocks (command: ARGS or NULL), no target */
};

/*
 * Works out the request from MSPGATE_TARGET (env_target) and
 * SSH_ORIGINAL_COMMAND (orig_cmd); either may be NULL.
 *  - MSPGATE_TARGET set and not empty: that is the target; the command is
 *    SSH_ORIGINAL_COMMAND.
 *  - otherwise SSH_ORIGINAL_COMMAND's first word, when it is a target
 *    spec; the command is the rest (after blanks), if any.
 *  - "ssh-config" as MSPGATE_TARGET, or as the first word of
 *    SSH_ORIGINAL_COMMAND without MSPGATE_TARGET: ssh_config set, the
 *    command the words after it (no target: never a target spec).
 * Then a command that is sshd's sftp subsystem ("internal-sftp", or a
 * program named sftp-server, with or without arguments) becomes
 * subsystem "sftp" with no command.
 * Returns 0 (out->target set), MG_ERR_NOENT (no target given: the caller
 * may offer the picker), MG_ERR_PARSE (a target given but malformed:
 * out->target holds it as given, cut to GW_TARGET_GIVEN_MAX bytes, for
 * mspgated to refuse and audit), or MG_ERR_NOMEM. out is cleared first;
 * free with gw_shell_request_clear().
 */
#define GW_TARGET_GIVEN_MAX 256
int gw_shell_request_parse(const char *env_target, const char *orig_cmd,
    struct gw_shell_request *out);
void gw_shell_request_clear(struct gw_shell_request *r);

/*
 * The MFA methods sshd says the engineer passed, from the contents of the
 * SSH_USER_AUTH file (ExposeAuthInfo): POL_MFA_FIDO when a "publickey"
 * line holds one of this engineer's security keys from the policy,
 * POL_MFA_TOTP when a "keyboard-interactive" line shows that method
 * completed (pam_mspgate lets an MSP engineer through only after the
 * TOTP the policy asks for). NULL or unparsable lines count for nothing.
 */
unsigned gw_authinfo_mfa(const char *authinfo, const struct pol_engineer *e);

/*
 * The engineer's address: the first field of SSH_CONNECTION, if it is a
 * numeric IPv4 or IPv6 address; else "" (unknown). out needs 64 bytes.
 */
void gw_source_from_connection(const char *conn, char *out, size_t outlen);

#endif
