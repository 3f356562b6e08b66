/* SPDX-License-Identifier: BSD-2-Clause */
/* The FIDO first factor: which key sshd's publickey method accepted (SSH_AUTH_INFO_0). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_err.h"
#include "mg_sshkey.h"
#include "mfa_fido.h"

static int
key_ok(const struct pol_key *k, time_t now)
{
	if (k->valid_from && now < k->valid_from)
		return 0;
	if (k->valid_until && now >= k->valid_until)
		return 0;
	return 1;
}

int
mfa_fido_check(const struct pol_engineer *e, const char *authinfo, time_t now,
    char *why, size_t whylen)
{
	return mfa_fido_check_key(e, authinfo, now, NULL, why, whylen);
}

int
mfa_fido_check_key(const struct pol_engineer *e, const char *authinfo, time_t now,
    const struct pol_key **key, char *why, size_t whylen)
{
	char dummy[2], perr[128];
	const char *p, *nl;
	size_t len, i;
	int seen_pk = 0, seen_sk = 0, expired = 0, r;

	if (why == NULL || whylen == 0) {
		why = dummy;
		whylen = sizeof(dummy);
	}
	why[0] = '\0';
	if (authinfo == NULL) {
		snprintf(why, whylen, "no SSH_AUTH_INFO_0 (not behind sshd with "
		    "publickey,keyboard-interactive)");
		return MG_ERR_NOENT;
	}
	if (strnlen(authinfo, MFA_AUTHINFO_MAX + 1) > MFA_AUTHINFO_MAX) {
		snprintf(why, whylen, "SSH_AUTH_INFO_0 is too long");
		return MG_ERR_TOOBIG;
	}
	for (p = authinfo; *p != '\0'; p = nl != NULL ? nl + 1 : p + len) {
		struct mg_sshkey *k = NULL;
		char *line;

		nl = strchr(p, '\n');
		len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (len < 10 || strncmp(p, "publickey ", 10) != 0)
			continue;
		seen_pk = 1;
		if ((line = strndup(p + 10, len - 10)) == NULL)
			return MG_ERR_NOMEM;
		r = mg_sshkey_parse(line, &k, perr, sizeof(perr));
		free(line);
		if (r != 0)
			continue;
		if (!mg_sshkey_is_sk(k)) {
			mg_sshkey_free(k);
			continue;
		}
		seen_sk = 1;
		for (i = 0; i < e->nkeys; i++) {
			if (!mg_sshkey_equal(e->keys[i].key, k))
				continue;
			if (!key_ok(&e->keys[i], now)) {
				expired = 1;
				continue;
			}
			mg_sshkey_free(k);
			if (key != NULL)
				*key = &e->keys[i];
			snprintf(why, whylen, "security key at %s:%d",
			    e->keys[i].loc.file, e->keys[i].loc.line);
			return 0;
		}
		mg_sshkey_free(k);
	}
	if (!seen_pk) {
		snprintf(why, whylen, "SSH_AUTH_INFO_0 names no publickey method");
		return MG_ERR_NOENT;
	}
	if (expired)
		snprintf(why, whylen, "the security key is outside its validity dates");
	else if (seen_sk)
		snprintf(why, whylen, "the security key is not one of %s's", e->name);
	else
		snprintf(why, whylen, "the publickey method did not use a security key");
	return MG_ERR_DENIED;
}
