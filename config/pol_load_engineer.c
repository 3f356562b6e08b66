/* SPDX-License-Identifier: BSD-2-Clause */
/* The engineers section: names, groups, mfa and SSH keys. */
#include <stdio.h>
#include <stdlib.h>

#include "mg_name.h"
#include "mg_sshkey.h"
#include "pol_load_priv.h"

static const struct keyspec engineer_keys[] = {
	{ "name", K_STR, 1 }, { "groups", K_STRLIST, 0 }, { "keys", K_ANY, 0 },
	{ "valid_from", K_STR, 0 }, { "valid_until", K_STR, 0 },
	{ "sources", K_STRLIST, 0 }, { "description", K_STR, 0 },
	{ "email", K_STR, 0 }, { "mfa", K_STR, 0 }, { NULL, 0, 0 }
};
static const struct keyspec key_keys[] = {
	{ "key", K_STR, 1 }, { "verify_required", K_BOOL, 0 },
	{ "valid_from", K_STR, 0 }, { "valid_until", K_STR, 0 },
	{ "description", K_STR, 0 }, { NULL, 0, 0 }
};

static void
load_keys(struct ctx *c, const config_setting_t *ks, struct pol_engineer *e,
    const char *what)
{
	int i, n, t = config_setting_type(ks);

	if (t == CONFIG_TYPE_STRING) {
		pl_err_set(c, ks, "'keys' in %s must be a list: keys = [ \"...\" ];", what);
		return;
	}
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		pl_err_set(c, ks, "'keys' in %s must be a list, not %s", what, pl_type_name(t));
		return;
	}
	n = config_setting_length(ks);
	if (n > 64) {
		pl_err_set(c, ks, "%s has too many keys (%d, at most 64)", what, n);
		return;
	}
	if (n == 0)
		return;
	if ((e->keys = calloc((size_t)n, sizeof(*e->keys))) == NULL) {
		pl_err_at(c, NULL, 0, "out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		const config_setting_t *k = config_setting_get_elem(ks, i), *ks_set = k;
		struct pol_key *pk = &e->keys[e->nkeys];
		const char *line;
		char err[256];

		if (config_setting_type(k) == CONFIG_TYPE_GROUP) {
			if (pl_check_keys(c, k, key_keys, "a key entry") != 0)
				continue;
			line = pl_get_str(k, "key");
			ks_set = config_setting_get_member(k, "key");
		} else if (config_setting_type(k) == CONFIG_TYPE_STRING) {
			line = config_setting_get_string(k);
		} else {
			pl_err_set(c, k, "a key in %s must be a string or a group "
			    "{ key = \"...\"; }, not %s", what,
			    pl_type_name(config_setting_type(k)));
			continue;
		}
		pk->loc = pl_loc_of(c, ks_set);
		if (mg_sshkey_parse(line, &pk->key, err, sizeof(err)) != 0) {
			pl_err_set(c, ks_set, "key in %s: %s", what, err);
			continue;
		}
		if (config_setting_type(k) == CONFIG_TYPE_GROUP) {
			const config_setting_t *vr = pl_member(k, "verify_required", K_BOOL);

			if (vr != NULL && config_setting_get_bool(vr)) {
				if (!mg_sshkey_is_sk(pk->key)) {
					pl_err_set(c, vr, "verify_required is only for "
					    "security keys (sk-...), not %s",
					    pk->key->type_name);
					mg_sshkey_free(pk->key);
					continue;
				}
				pk->verify_required = 1;
			}
			pl_get_date(c, k, "valid_from", 0, &pk->valid_from);
			pl_get_date(c, k, "valid_until", 1, &pk->valid_until);
		}
		e->nkeys++;
	}
}

void
pl_load_engineer(struct ctx *c, const config_setting_t *g)
{
	const struct pol_engineer *dup;
	struct pol_internal *in = pol_internal(c->p);
	struct pol_engineer *e;
	const char *name;
	char what[128];
	size_t i, j, k, l;

	if (pl_check_keys(c, g, engineer_keys, "engineer") != 0)
		return;
	name = pl_get_str(g, "name");
	snprintf(what, sizeof(what), "engineer '%.64s'", name);
	if (!mg_name_ok(MG_NAME_ENGINEER, name)) {
		pl_err_set(c, config_setting_get_member(g, "name"),
		    "invalid engineer name '%s' (it becomes a Unix account: lower "
		    "case letters, digits, '_' and '-', at most 32)", name);
		return;
	}
	if ((dup = pol_engineer_find(c->p, name)) != NULL) {
		pl_already(c, g, what, dup->loc);
		return;
	}
	if ((e = pl_xgrow(c, c->p->engineers, &in->cap_eng, c->p->nengineers,
	    sizeof(*e))) == NULL)
		return;
	c->p->engineers = e;
	e = &c->p->engineers[c->p->nengineers++];
	e->loc = pl_loc_of(c, g);
	e->name = pl_xstrdup(c, name);
	pl_get_strlist(c, g, "groups", what, &e->groups, &e->ngroups);
	for (i = 0; i < e->ngroups; i++)
		if (!mg_name_ok(MG_NAME_POLICY, e->groups[i]))
			pl_err_set(c, pl_strlist_elem(g, "groups", i),
			    "invalid group name '%s' in %s", e->groups[i], what);
	if (config_setting_get_member(g, "keys") != NULL)
		load_keys(c, config_setting_get_member(g, "keys"), e, what);
	pl_get_date(c, g, "valid_from", 0, &e->valid_from);
	pl_get_date(c, g, "valid_until", 1, &e->valid_until);
	if (e->valid_from && e->valid_until && e->valid_until <= e->valid_from)
		pl_err_set(c, config_setting_get_member(g, "valid_until"),
		    "%s: valid_until is before valid_from", what);
	pl_get_cidrs(c, g, what, &e->sources, &e->nsources);
	if (pl_get_mfa(c, g, what, &e->mfa))
		e->mfa_loc = pl_loc_of(c, config_setting_get_member(g, "mfa"));
	/* One key, one engineer: a shared key would blur who did what. */
	for (k = 0; k < e->nkeys; k++) {
		for (i = 0; i + 1 < c->p->nengineers; i++) {
			const struct pol_engineer *o = &c->p->engineers[i];

			for (j = 0; j < o->nkeys; j++)
				if (mg_sshkey_equal(o->keys[j].key, e->keys[k].key))
					pl_err_at(c, e->keys[k].loc.file, e->keys[k].loc.line,
					    "%s: this key already belongs to engineer "
					    "'%s' (%s:%d)", what, o->name,
					    o->keys[j].loc.file, o->keys[j].loc.line);
		}
		for (l = 0; l < k; l++)
			if (mg_sshkey_equal(e->keys[l].key, e->keys[k].key))
				pl_err_at(c, e->keys[k].loc.file, e->keys[k].loc.line,
				    "%s: the same key is listed twice", what);
	}
}
