/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The MFA methods sshd reports in SSH_USER_AUTH. Apart from gw_request.c
 * because it needs the key parser (and libcrypto), which mspgate-shell,
 * alive beside every session, does without.
 */
#include <stdlib.h>
#include <string.h>

#include "gw_request.h"
#include "mg_sshkey.h"

/* 1 when the key line (after "publickey ") is one of e's security keys. */
static int
is_engineer_sk(const char *line, size_t n, const struct pol_engineer *e)
{
	struct mg_sshkey *k = NULL;
	char *s, err[128];
	size_t i;
	int found = 0;

	if ((s = strndup(line, n)) == NULL)
		return 0;
	if (mg_sshkey_parse(s, &k, err, sizeof(err)) == 0 && mg_sshkey_is_sk(k)) {
		for (i = 0; i < e->nkeys && !found; i++)
			found = e->keys[i].key != NULL && mg_sshkey_equal(k, e->keys[i].key);
	}
	mg_sshkey_free(k);
	free(s);
	return found;
}

unsigned
gw_authinfo_mfa(const char *authinfo, const struct pol_engineer *e)
{
	const char *p = authinfo;
	unsigned mfa = 0;

	if (p == NULL || e == NULL)
		return 0;
	while (*p != '\0') {
		size_t n = strcspn(p, "\n");

		if (n > 10 && strncmp(p, "publickey ", 10) == 0) {
			if (is_engineer_sk(p + 10, n - 10, e))
				mfa |= POL_MFA_FIDO;
		} else if ((n == 20 && strncmp(p, "keyboard-interactive", 20) == 0) ||
		    (n > 20 && strncmp(p, "keyboard-interactive", 20) == 0 &&
		    (p[20] == '/' || p[20] == ' '))) {
			mfa |= POL_MFA_TOTP;
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	return mfa;
}
