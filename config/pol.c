/* SPDX-License-Identifier: BSD-2-Clause */
/* The policy model: lookups, grant matching and freeing. */
#include <fnmatch.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_err.h"
#include "pol.h"
#include "pol_internal.h"

struct pol_whole {
	struct pol p;
	struct pol_internal in;
};

struct pol *
pol_internal_new(void)
{
	struct pol_whole *w = calloc(1, sizeof(*w));

	return w != NULL ? &w->p : NULL;
}

struct pol_internal *
pol_internal(struct pol *p)
{
	return &((struct pol_whole *)(void *)((char *)p -
	    offsetof(struct pol_whole, p)))->in;
}

int
pol_internal_add_winloc(struct pol_internal *in, const char *name,
    struct pol_loc loc)
{
	struct pol_winloc *n;

	if ((n = reallocarray(in->winloc, in->nwinloc + 1, sizeof(*n))) == NULL)
		return MG_ERR_NOMEM;
	in->winloc = n;
	if ((n[in->nwinloc].name = strdup(name)) == NULL)
		return MG_ERR_NOMEM;
	n[in->nwinloc++].loc = loc;
	return 0;
}

static void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
target_free(struct pol_target *t)
{
	size_t i;

	free(t->name);
	free(t->host);
	for (i = 0; i < t->nhost_keys; i++)
		mg_sshkey_free(t->host_keys[i]);
	free(t->host_keys);
	strv_free(t->logins, t->nlogins);
	free(t->credential);
}

void
pol_free(struct pol *p)
{
	struct pol_internal *in;
	size_t i, j;

	if (p == NULL)
		return;
	in = pol_internal(p);
	strv_free(p->files, p->nfiles);
	free(p->gateway.vault);
	free(p->gateway.recordings);
	free(p->gateway.audit);
	free(p->gateway.state);
	free(p->gateway.control_socket);
	free(p->gateway.session_socket);
	free(p->gateway.user);
	free(p->gateway.signing_key);
	free(p->gateway.attestations);
	free(p->mfa.totp_store);
	free(p->mfa.algorithm);
	free(p->state.conninfo);
	free(p->state.passfile);
	free(p->state.key_file);
	free(p->state.name);
	strv_free(p->alerts.patterns, p->alerts.npatterns);
	for (i = 0; i < p->nwindows; i++)
		pol_window_free(p->windows[i]);
	free(p->windows);
	for (i = 0; i < p->nengineers; i++) {
		struct pol_engineer *e = &p->engineers[i];

		free(e->name);
		strv_free(e->groups, e->ngroups);
		for (j = 0; j < e->nkeys; j++)
			mg_sshkey_free(e->keys[j].key);
		free(e->keys);
		free(e->sources);
	}
	free(p->engineers);
	for (i = 0; i < p->ntenants; i++) {
		struct pol_tenant *t = &p->tenants[i];

		free(t->name);
		free(t->description);
		free(t->windows);
		strv_free(t->approvers, t->napprovers);
		mg_sshkey_free(t->host_ca);
		for (j = 0; j < t->ntargets; j++)
			target_free(&t->targets[j]);
		free(t->targets);
	}
	free(p->tenants);
	for (i = 0; i < p->ngrants; i++) {
		struct pol_grant *g = &p->grants[i];

		strv_free(g->to, g->nto);
		free(g->tenants);
		strv_free(g->targets, g->ntargets);
		strv_free(g->logins, g->nlogins);
		free(g->windows);
		free(g->sources);
		free(g->comment);
	}
	free(p->grants);
	for (i = 0; i < p->ncredentials; i++) {
		mg_sshkey_free(p->credentials[i].ca);
		free(p->credentials[i].name);
		free(p->credentials[i].source_address);
	}
	free(p->credentials);
	free(p->signer.socket);
	free(p->signer.ca_keys);
	free(p->signer.audit);
	free(p->signer.signing_key);
	free(p->signer.user);
	for (i = 0; i < in->ntz; i++)
		mg_tz_free(in->tz[i]);
	free(in->tz);
	for (i = 0; i < in->nwinloc; i++)
		free(in->winloc[i].name);
	free(in->winloc);
	free((char *)p - offsetof(struct pol_whole, p));
}

const struct pol_engineer *
pol_engineer_find(const struct pol *p, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < p->nengineers; i++)
		if (p->engineers[i].name != NULL &&
		    strcmp(p->engineers[i].name, name) == 0)
			return &p->engineers[i];
	return NULL;
}

const struct pol_tenant *
pol_tenant_find(const struct pol *p, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < p->ntenants; i++)
		if (p->tenants[i].name != NULL &&
		    strcmp(p->tenants[i].name, name) == 0)
			return &p->tenants[i];
	return NULL;
}

const struct pol_target *
pol_target_find(const struct pol_tenant *t, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < t->ntargets; i++)
		if (t->targets[i].name != NULL &&
		    strcmp(t->targets[i].name, name) == 0)
			return &t->targets[i];
	return NULL;
}

const struct pol_credential *
pol_credential_find(const struct pol *p, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < p->ncredentials; i++)
		if (p->credentials[i].name != NULL &&
		    strcmp(p->credentials[i].name, name) == 0)
			return &p->credentials[i];
	return NULL;
}

int
pol_grant_applies(const struct pol_grant *g, const struct pol_engineer *e)
{
	size_t i, j;

	for (i = 0; i < g->nto; i++) {
		if (strncmp(g->to[i], "group:", 6) == 0) {
			for (j = 0; j < e->ngroups; j++)
				if (strcmp(e->groups[j], g->to[i] + 6) == 0)
					return 1;
		} else if (strcmp(g->to[i], e->name) == 0) {
			return 1;
		}
	}
	return 0;
}

int
pol_grant_covers(const struct pol_grant *g, const struct pol_target *t)
{
	size_t i;
	int in_tenant = 0;

	for (i = 0; i < g->ntenants; i++)
		if (g->tenants[i] == t->tenant)
			in_tenant = 1;
	if (!in_tenant)
		return 0;
	for (i = 0; i < g->ntargets; i++)
		if (fnmatch(g->targets[i], t->name, 0) == 0)
			return 1;
	return 0;
}

int
pol_grant_login_ok(const struct pol_grant *g, const struct pol_target *t,
    const char *login)
{
	size_t i, j;

	for (i = 0; i < g->nlogins; i++) {
		if (strcmp(g->logins[i], login) != 0)
			continue;
		for (j = 0; j < t->nlogins; j++)
			if (strcmp(t->logins[j], login) == 0)
				return 1;
	}
	return 0;
}

/*
 * Every set of MFA methods by its bits: the one table of factor names. A
 * policy, the attestation and every program's output spell a set this way;
 * a set is parsed from its factors' names joined by '+' in any order.
 */
static const char *const mfa_names[POL_MFA_ALL + 1] = {
	[0] = "none",
	[POL_MFA_FIDO] = "fido",
	[POL_MFA_TOTP] = "totp",
	[POL_MFA_FIDO | POL_MFA_TOTP] = "fido+totp",
};

int
pol_mfa_parse(const char *s, unsigned *out)
{
	unsigned set = 0, bit;
	size_t n;

	for (;;) {
		n = strcspn(s, "+");
		for (bit = 1; bit <= POL_MFA_ALL; bit <<= 1)
			if (strlen(mfa_names[bit]) == n &&
			    strncmp(s, mfa_names[bit], n) == 0)
				break;
		/* An unknown or repeated factor is a typo, never a weaker set. */
		if (bit > POL_MFA_ALL || (set & bit) != 0)
			return MG_ERR_PARSE;
		set |= bit;
		if (s[n] == '\0')
			break;
		s += n + 1;
	}
	*out = set;
	return 0;
}

const char *
pol_mfa_name(unsigned mfa)
{
	return mfa_names[mfa & POL_MFA_ALL];
}

const char *
pol_mfa_sets(const char *sep, const char *last, char *buf, size_t len)
{
	size_t o = 0;
	unsigned m;

	buf[0] = '\0';
	for (m = 1; m <= POL_MFA_ALL && o < len; m++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", m == 1 ? "" :
		    m < POL_MFA_ALL ? sep : last, mfa_names[m]);
	return buf;
}

const char *
pol_approvers_text(const struct pol_tenant *t, const char *sep, char *buf,
    size_t len)
{
	size_t i, o = 0;
	int k;

	buf[0] = '\0';
	for (i = 0; t != NULL && i < t->napprovers && o < len; i++) {
		if ((k = snprintf(buf + o, len - o, "%s%s", i ? sep : "",
		    t->approvers[i])) < 0)
			break;
		o += (size_t)k;
	}
	return buf;
}

static void
windows_text(const struct pol_window *const *w, size_t n,
    const struct mg_tz *deftz, char *buf, size_t len)
{
	size_t i, off = 0;
	char d[512];

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++) {
		pol_window_describe_in(w[i], deftz, d, sizeof(d));
		off += (size_t)snprintf(buf + off, len - off, "%s%s: %s",
		    i ? "; or " : "", pol_window_name(w[i]), d);
	}
}

void
pol_grant_when(const struct pol_grant *g, const struct pol_target *t, char *buf,
    size_t len)
{
	char a[1024], b[1024];

	if (t->tenant->nwindows == 0 && g->nwindows == 0) {
		snprintf(buf, len, "any time");
		return;
	}
	windows_text(t->tenant->windows, t->tenant->nwindows, t->tenant->tz,
	    a, sizeof(a));
	windows_text(g->windows, g->nwindows, t->tenant->tz, b, sizeof(b));
	if (t->tenant->nwindows > 0 && g->nwindows > 0)
		snprintf(buf, len, "%.1000s; and %.1000s", a, b);
	else
		snprintf(buf, len, "%s", t->tenant->nwindows > 0 ? a : b);
}
