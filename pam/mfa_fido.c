/* SPDX-License-Identifier: BSD-2-Clause */
/* The FIDO first factor: which key sshd's publickey method accepted (SSH_AUTH_INFO_0), its evidence and standing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_err.h"
#include "mg_sshkey.h"
#include "mg_time.h"
#include "mfa_attest.h"
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

int
mfa_fido_login(struct mfa_login *l, int need, char *ev, size_t evlen)
{
	const struct pol_key *key = NULL;
	char why[256] = "", fp[MG_SSHKEY_FP_LEN];

	ev[0] = '\0';
	if (!need) {
		/* Not required, but verified when used: the attestation says so. */
		if (mfa_fido_check_key(l->e, l->authinfo, mg_clock_now(), &key, NULL, 0) != 0)
			return MG_ERR_NOENT;
	} else if (mfa_fido_check_key(l->e, l->authinfo, mg_clock_now(), &key, why,
	    sizeof(why)) != 0) {
		snprintf(l->why, l->whylen, "FIDO required: %s", why);
		l->say(l, "This account must log in with its registered FIDO security key.");
		return MG_ERR_DENIED;
	} else {
		snprintf(l->why, l->whylen, "%s", why);
	}
	/* No fingerprint, no evidence: the attestation then refuses the login. */
	if (mg_sshkey_fingerprint(key->key, fp, sizeof(fp)) == 0)
		snprintf(ev, evlen, "%s %lld", fp, (long long)key->valid_until);
	return 0;
}

static int
fp_ok(const char *s, size_t n)
{
	size_t i;

	if (n != MG_SSHKEY_FP_LEN - 1 || strncmp(s, "SHA256:", 7) != 0)
		return 0;
	for (i = 7; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '/'))
			return 0;
	return 1;
}

/* "FP UNTIL" into fp (MG_SSHKEY_FP_LEN bytes) and *until; NULL, or the bad field. */
static const char *
evidence_parse(const char *ev, char *fp, time_t *until)
{
	const char *sp = strchr(ev, ' ');
	long long n;

	if (sp == NULL)
		return fp_ok(ev, strlen(ev)) ? "until" : "fingerprint";
	if (!fp_ok(ev, (size_t)(sp - ev)))
		return "fingerprint";
	if (mfa_attest_num(sp + 1, 0, INT64_MAX / 2, &n) != 0)
		return "until";
	if (fp != NULL) {
		memcpy(fp, ev, (size_t)(sp - ev));
		fp[sp - ev] = '\0';
	}
	if (until != NULL)
		*until = (time_t)n;
	return NULL;
}

const char *
mfa_fido_evidence_check(const char *ev)
{
	return evidence_parse(ev, NULL, NULL);
}

int
mfa_fido_standing(struct mfa_state *st, const struct pol *p,
    const struct pol_engineer *e, const char *ev, time_t now, char *why, size_t whylen)
{
	char want[MG_SSHKEY_FP_LEN], fp[MG_SSHKEY_FP_LEN];
	size_t i;

	(void)st;
	(void)p;
	(void)why;
	(void)whylen;
	if (evidence_parse(ev, want, NULL) != NULL)
		return MG_ERR_NOENT;
	for (i = 0; i < e->nkeys; i++) {
		const struct pol_key *k = &e->keys[i];

		if (k->key == NULL || !mg_sshkey_is_sk(k->key) ||
		    mg_sshkey_fingerprint(k->key, fp, sizeof(fp)) != 0 ||
		    strcmp(fp, want) != 0)
			continue;
		if (key_ok(k, now))
			return 0;
	}
	/* Removed from the policy or past its dates: no longer counts. */
	return MG_ERR_NOENT;
}
