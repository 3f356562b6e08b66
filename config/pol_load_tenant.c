/* SPDX-License-Identifier: BSD-2-Clause */
/* The tenants section and their targets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_name.h"
#include "mg_sshkey.h"
#include "pol_load_priv.h"

static const struct keyspec tenant_keys[] = {
	{ "name", K_STR, 1 }, { "tz", K_STR, 0 }, { "windows", K_STRLIST, 0 },
	{ "targets", K_LIST, 0 }, { "description", K_STR, 0 }, { "host_ca", K_STR, 0 },
	{ "approvers", K_STRLIST, 0 }, { NULL, 0, 0 }
};
static const struct keyspec target_keys[] = {
	{ "name", K_STR, 1 }, { "host", K_STR, 1 }, { "port", K_INT, 0 },
	{ "host_key", K_STR, 0 }, { "host_keys", K_STRLIST, 0 },
	{ "logins", K_STRLIST, 1 }, { "credential", K_STR, 1 },
	{ "description", K_STR, 0 }, { NULL, 0, 0 }
};

static void
load_target(struct ctx *c, const config_setting_t *g, struct pol_tenant *t)
{
	const struct pol_target *dup;
	struct pol_target *tg = &t->targets[t->ntargets];
	const char *name;
	char what[160], e[256], **hk = NULL;
	size_t i, nhk = 0;
	long long port = 22;
	const config_setting_t *hks;

	if (pl_check_keys(c, g, target_keys, "a target") != 0)
		return;
	name = pl_get_str(g, "name");
	snprintf(what, sizeof(what), "target '%.64s/%.64s'", t->name, name);
	if (!mg_name_ok(MG_NAME_POLICY, name)) {
		pl_err_set(c, config_setting_get_member(g, "name"),
		    "invalid target name '%s'", name);
		return;
	}
	if ((dup = pol_target_find(t, name)) != NULL) {
		pl_already(c, g, what, dup->loc);
		return;
	}
	t->ntargets++;
	tg->tenant = t;
	tg->loc = pl_loc_of(c, g);
	tg->name = pl_xstrdup(c, name);
	tg->host = pl_xstrdup(c, pl_get_str(g, "host"));
	if (tg->host != NULL && !mg_name_ok(MG_NAME_HOST, tg->host))
		pl_err_set(c, config_setting_get_member(g, "host"),
		    "%s: invalid host \"%s\"", what, tg->host);
	pl_get_int(c, g, "port", 1, 65535, &port);
	tg->port = (int)port;
	tg->credential = pl_xstrdup(c, pl_get_str(g, "credential"));
	if (tg->credential != NULL && !mg_name_ok(MG_NAME_CREDENTIAL, tg->credential))
		pl_err_set(c, config_setting_get_member(g, "credential"),
		    "%s: invalid credential name \"%s\"", what, tg->credential);
	if (pl_get_strlist(c, g, "logins", what, &tg->logins, &tg->nlogins) == 0) {
		if (tg->nlogins == 0)
			pl_err_set(c, config_setting_get_member(g, "logins"),
			    "%s: 'logins' is empty", what);
		for (i = 0; i < tg->nlogins; i++)
			if (!mg_name_ok(MG_NAME_LOGIN, tg->logins[i]))
				pl_err_set(c, pl_strlist_elem(g, "logins", i),
				    "%s: invalid login '%s'", what, tg->logins[i]);
	}
	/* Host keys are pinned: the gateway never trusts on first use. */
	if (pl_get_str(g, "host_key") != NULL && pl_member(g, "host_keys", K_STRLIST)) {
		pl_err_set(c, g, "%s: use either 'host_key' or 'host_keys'", what);
		return;
	}
	if (pl_get_str(g, "host_key") != NULL) {
		hks = config_setting_get_member(g, "host_key");
		pl_get_strlist(c, g, "host_key", what, &hk, &nhk);
	} else {
		hks = config_setting_get_member(g, "host_keys");
		pl_get_strlist(c, g, "host_keys", what, &hk, &nhk);
	}
	/* No pin: only a host certificate from the tenant's host_ca will do. */
	if (nhk == 0 && t->host_ca != NULL && hks == NULL) {
		pl_strv_free(hk, nhk);
		return;
	}
	if (nhk == 0) {
		pl_err_set(c, hks ? hks : g, "%s has no pinned host key: add host_key = "
		    "\"ssh-ed25519 AAAA...\" (ssh-keyscan shows it), or give tenant "
		    "'%.64s' a host_ca", what, t->name);
		pl_strv_free(hk, nhk);
		return;
	}
	if ((tg->host_keys = calloc(nhk, sizeof(*tg->host_keys))) == NULL) {
		pl_err_at(c, NULL, 0, "out of memory");
		pl_strv_free(hk, nhk);
		return;
	}
	for (i = 0; i < nhk; i++) {
		const config_setting_t *es = config_setting_type(hks) == CONFIG_TYPE_STRING ?
		    hks : config_setting_get_elem(hks, (unsigned)i);

		if (mg_sshkey_parse(hk[i], &tg->host_keys[tg->nhost_keys], e,
		    sizeof(e)) != 0)
			pl_err_set(c, es, "host key of %s: %s", what, e);
		else
			tg->nhost_keys++;
	}
	pl_strv_free(hk, nhk);
}

/*
 * approvers: gateway accounts ("carol") or their Unix groups
 * ("group:leads"), as mspgatectl's caller is known to the kernel.
 */
static void
load_approvers(struct ctx *c, const config_setting_t *g, const char *what,
    struct pol_tenant *t)
{
	size_t i;

	if (pl_get_strlist(c, g, "approvers", what, &t->approvers, &t->napprovers) != 0)
		return;
	if (pl_member(g, "approvers", K_STRLIST) != NULL && t->napprovers == 0)
		pl_err_set(c, config_setting_get_member(g, "approvers"),
		    "%s: 'approvers' is empty", what);
	for (i = 0; i < t->napprovers; i++) {
		const char *a = t->approvers[i];
		int grp = strncmp(a, "group:", 6) == 0;

		if (!mg_name_ok(MG_NAME_LOGIN, grp ? a + 6 : a))
			pl_err_set(c, pl_strlist_elem(g, "approvers", i),
			    "%s: invalid approver '%s' (an account on the gateway, or "
			    "group:NAME for its members)", what, a);
	}
}

void
pl_load_tenant(struct ctx *c, const config_setting_t *g)
{
	const struct pol_tenant *dup;
	struct pol_internal *in = pol_internal(c->p);
	struct pol_tenant *t;
	const config_setting_t *ts;
	const char *name, *zname;
	char what[128];
	int i, n;

	if (pl_check_keys(c, g, tenant_keys, "tenant") != 0)
		return;
	name = pl_get_str(g, "name");
	snprintf(what, sizeof(what), "tenant '%.64s'", name);
	if (!mg_name_ok(MG_NAME_POLICY, name)) {
		pl_err_set(c, config_setting_get_member(g, "name"),
		    "invalid tenant name '%s'", name);
		return;
	}
	if ((dup = pol_tenant_find(c->p, name)) != NULL) {
		pl_already(c, g, what, dup->loc);
		return;
	}
	if ((t = pl_xgrow(c, c->p->tenants, &in->cap_ten, c->p->ntenants,
	    sizeof(*t))) == NULL)
		return;
	/* The table may have moved: each target points back at its tenant. */
	if (t != c->p->tenants)
		for (i = 0; i < (int)c->p->ntenants; i++)
			for (n = 0; n < (int)t[i].ntargets; n++)
				t[i].targets[n].tenant = &t[i];
	c->p->tenants = t;
	t = &c->p->tenants[c->p->ntenants++];
	t->loc = pl_loc_of(c, g);
	t->name = pl_xstrdup(c, name);
	if (pl_get_str(g, "description") != NULL)
		t->description = pl_xstrdup(c, pl_get_str(g, "description"));
	zname = pl_get_str(g, "tz");
	if (zname == NULL)
		zname = "UTC";
	t->tz = pl_tz_get(c, zname == NULL || pl_get_str(g, "tz") == NULL ? g :
	    config_setting_get_member(g, "tz"), zname);
	pl_resolve_windows(c, g, what, &t->windows, &t->nwindows);
	load_approvers(c, g, what, t);
	if (pl_get_str(g, "host_ca") != NULL) {
		char e[256];

		if (mg_sshkey_parse(pl_get_str(g, "host_ca"), &t->host_ca, e, sizeof(e)) != 0)
			pl_err_set(c, config_setting_get_member(g, "host_ca"),
			    "host_ca of %s: %s", what, e);
		else if (t->host_ca->type != MG_KEY_ED25519)
			pl_err_set(c, config_setting_get_member(g, "host_ca"),
			    "host_ca of %s: only ssh-ed25519 CAs are supported, not %s",
			    what, t->host_ca->type_name);
	}
	if ((ts = pl_member(g, "targets", K_LIST)) == NULL)
		return;
	n = config_setting_length(ts);
	if (n > 10000) {
		pl_err_set(c, ts, "%s has too many targets", what);
		return;
	}
	if (n == 0)
		return;
	if ((t->targets = calloc((size_t)n, sizeof(*t->targets))) == NULL) {
		pl_err_at(c, NULL, 0, "out of memory");
		return;
	}
	for (i = 0; i < n; i++)
		load_target(c, config_setting_get_elem(ts, i), t);
}
