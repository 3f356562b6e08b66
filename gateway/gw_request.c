/* SPDX-License-Identifier: BSD-2-Clause */
/* Parsing of target specs, SSH_ORIGINAL_COMMAND and SSH_CONNECTION (SSH_USER_AUTH: gw_authinfo.c). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "gw_request.h"
#include "mg_err.h"
#include "mg_name.h"

/*
 * Copies s[0..n) into out (64 chars max) if it is a good name of that kind
 * (mg_name_ok, the rule the policy uses to define it).
 */
static int
take_name(const char *s, size_t n, enum mg_name_kind kind, char *out)
{
	if (n == 0 || n > MG_NAME_POLICY_MAX)
		return MG_ERR_PARSE;
	memcpy(out, s, n);
	out[n] = '\0';
	if (!mg_name_ok(kind, out)) {
		out[0] = '\0';
		return MG_ERR_PARSE;
	}
	return 0;
}

int
gw_target_spec_parse(const char *s, struct gw_target_spec *out)
{
	const char *at, *slash;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return MG_ERR_PARSE;
	slash = strchr(s, '/');
	if (slash == NULL || strchr(slash + 1, '/') != NULL)
		goto bad;
	at = memchr(s, '@', (size_t)(slash - s));
	if (at != NULL) {
		if (take_name(s, (size_t)(at - s), MG_NAME_LOGIN, out->login) != 0)
			goto bad;
		s = at + 1;
	}
	if (take_name(s, (size_t)(slash - s), MG_NAME_POLICY, out->tenant) != 0 ||
	    take_name(slash + 1, strlen(slash + 1), MG_NAME_POLICY,
	    out->target) != 0)
		goto bad;
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	return MG_ERR_PARSE;
}

static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

/* sshd runs the forced command for the sftp subsystem with its configured
 * command in SSH_ORIGINAL_COMMAND: "internal-sftp" or ".../sftp-server". */
static int
is_sftp_command(const char *cmd)
{
	size_t n = strcspn(cmd, " \t");
	const char *base = cmd, *p;

	for (p = cmd; p < cmd + n; p++)
		if (*p == '/')
			base = p + 1;
	n -= (size_t)(base - cmd);
	return (n == 13 && strncmp(base, "internal-sftp", 13) == 0) ||
	    (n == 11 && strncmp(base, "sftp-server", 11) == 0);
}

/*
 * A target given but malformed: kept as given, cut to GW_TARGET_GIVEN_MAX
 * bytes, so that mspgated refuses and audits it (a well-formed spec is
 * shorter than that, so a cut value is never taken for one).
 */
static int
malformed(const char *v, size_t n, struct gw_shell_request *out)
{
	if (n > GW_TARGET_GIVEN_MAX)
		n = GW_TARGET_GIVEN_MAX;
	if ((out->target = strndup(v, n)) == NULL)
		return MG_ERR_NOMEM;
	return MG_ERR_PARSE;
}

/* "ssh-config": what follows is its arguments, for mspgated to check. */
static int
config_request(const char *args, struct gw_shell_request *out)
{
	out->ssh_config = 1;
	if (args != NULL)
		args += strspn(args, " \t");
	if (args != NULL && *args != '\0' && (out->command = strdup(args)) == NULL)
		return MG_ERR_NOMEM;
	return 0;
}

void
gw_shell_request_clear(struct gw_shell_request *r)
{
	free(r->target);
	free(r->command);
	free(r->subsystem);
	memset(r, 0, sizeof(*r));
}

int
gw_shell_request_parse(const char *env_target, const char *orig_cmd,
    struct gw_shell_request *out)
{
	struct gw_target_spec spec;
	const char *cmd = NULL;

	memset(out, 0, sizeof(*out));
	if (env_target != NULL && strcmp(env_target, "ssh-config") == 0)
		return config_request(orig_cmd, out);
	if ((env_target == NULL || *env_target == '\0') && orig_cmd != NULL) {
		const char *p = orig_cmd + strspn(orig_cmd, " \t");

		if (strncmp(p, "ssh-config", 10) == 0 && (p[10] == '\0' || blank(p[10])))
			return config_request(p + 10, out);
	}
	if (env_target != NULL && *env_target != '\0') {
		if (gw_target_spec_parse(env_target, &spec) != 0)
			return malformed(env_target, strlen(env_target), out);
		if ((out->target = strdup(env_target)) == NULL)
			goto nomem;
		cmd = orig_cmd;
	} else if (orig_cmd != NULL) {
		const char *p = orig_cmd;
		size_t n;

		while (blank(*p))
			p++;
		n = strcspn(p, " \t");
		if (n == 0)
			return MG_ERR_NOENT;
		if ((out->target = strndup(p, n)) == NULL)
			goto nomem;
		if (gw_target_spec_parse(out->target, &spec) != 0) {
			/* A command but no target in front of it: an sftp or scp
			 * client without MSPGATE_TARGET lands here. */
			int looks_like_target = memchr(p, '/', n) != NULL &&
			    p[0] != '/' && !is_sftp_command(p);

			gw_shell_request_clear(out);
			return looks_like_target ? malformed(p, n, out) : MG_ERR_NOENT;
		}
		p += n;
		while (blank(*p))
			p++;
		cmd = *p != '\0' ? p : NULL;
	} else
		return MG_ERR_NOENT;

	if (cmd != NULL && *cmd != '\0') {
		if (is_sftp_command(cmd)) {
			if ((out->subsystem = strdup("sftp")) == NULL)
				goto nomem;
		} else if ((out->command = strdup(cmd)) == NULL)
			goto nomem;
	}
	return 0;
nomem:
	gw_shell_request_clear(out);
	return MG_ERR_NOMEM;
}

void
gw_source_from_connection(const char *conn, char *out, size_t outlen)
{
	unsigned char a[sizeof(struct in6_addr)];
	char tmp[64];
	size_t n;

	if (outlen > 0)
		out[0] = '\0';
	if (conn == NULL || outlen == 0)
		return;
	n = strcspn(conn, " ");
	if (n == 0 || n >= sizeof(tmp))
		return;
	memcpy(tmp, conn, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, a) != 1 && inet_pton(AF_INET6, tmp, a) != 1)
		return;
	if (n < outlen)
		memcpy(out, tmp, n + 1);
}
