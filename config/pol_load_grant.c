/* SPDX-License-Identifier: BSD-2-Clause */
/* The grants section: who may reach which targets, when and how. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pol_load_priv.h"

static const struct keyspec grant_keys[] = {
	{ "to", K_STRLIST, 1 }, { "tenants", K_STRLIST, 1 },
	{ "targets", K_STRLIST, 1 }, { "logins", K_STRLIST, 1 },
	{ "mfa", K_STR, 1 }, { "max_session", K_STR, 0 }, { "ticket", K_BOOL, 0 },
	{ "max_login_age", K_STR, 0 },
	{ "windows", K_STRLIST, 0 }, { "sources", K_STRLIST, 0 },
	{ "valid_from", K_STR, 0 }, { "valid_until", K_STR, 0 },
	{ "comment", K_STR, 0 }, { "approval", K_STR, 0 },
	{ "approval_timeout", K_STR, 0 }, { NULL, 0, 0 }
};

static int
group_exists(const struct pol *p, const char *g)
{
	size_t i;

	for (i = 0; i < p->nengineers; i++)
		if (pl_str_in(p->engineers[i].groups, p->engineers[i].ngroups, g))
			return 1;
	return 0;
}

/*
 * approval = "required" | "none"; approval_timeout. A required approval
 * needs someone to give it: every tenant of the grant names approvers.
 */
static void
load_approval(struct ctx *c, const config_setting_t *g, const char *what,
    struct pol_grant *gr)
{
	const config_setting_t *m = pl_member(g, "approval", K_STR);
	const char *v = pl_get_str(g, "approval");
	size_t i;

	gr->approval_timeout = POL_APPROVAL_TIMEOUT_DEFAULT;
	if (pl_get_duration(c, g, "approval_timeout", &gr->approval_timeout) > 0 &&
	    (gr->approval_timeout < POL_APPROVAL_TIMEOUT_MIN ||
	    gr->approval_timeout > POL_APPROVAL_TIMEOUT_MAX))
		pl_err_set(c, config_setting_get_member(g, "approval_timeout"),
		    "%s: 'approval_timeout' must be between %ds and %dm", what,
		    POL_APPROVAL_TIMEOUT_MIN, POL_APPROVAL_TIMEOUT_MAX / 60);
	if (m == NULL || v == NULL)
		return;
	if (strcmp(v, "required") == 0)
		gr->approval = 1;
	else if (strcmp(v, "none") != 0) {
		pl_err_set(c, m, "%s: 'approval' must be \"required\" or \"none\", not "
		    "\"%s\"", what, v);
		return;
	}
	for (i = 0; gr->approval && i < gr->ntenants; i++)
		if (gr->tenants[i]->napprovers == 0)
			pl_err_set(c, m, "%s: approval is required but tenant '%s' names no "
			    "approvers", what, gr->tenants[i]->name);
}

void
pl_load_grant(struct ctx *c, const config_setting_t *g)
{
	struct pol_internal *in = pol_internal(c->p);
	struct pol_grant *gr;
	char what[128], **tn = NULL;
	size_t i, j, k, ntn = 0;

	if (pl_check_keys(c, g, grant_keys, "grant") != 0)
		return;
	if ((gr = pl_xgrow(c, c->p->grants, &in->cap_gra, c->p->ngrants,
	    sizeof(*gr))) == NULL)
		return;
	c->p->grants = gr;
	gr = &c->p->grants[c->p->ngrants++];
	gr->loc = pl_loc_of(c, g);
	snprintf(what, sizeof(what), "grant at line %d", gr->loc.line);
	gr->max_session = c->p->gateway.default_max_session;
	gr->max_login_age = c->p->gateway.max_login_age;

	if (pl_get_strlist(c, g, "to", what, &gr->to, &gr->nto) == 0) {
		if (gr->nto == 0)
			pl_err_set(c, config_setting_get_member(g, "to"),
			    "%s: 'to' is empty", what);
		for (i = 0; i < gr->nto; i++) {
			const char *to = gr->to[i];

			if (strncmp(to, "group:", 6) == 0) {
				if (!group_exists(c->p, to + 6))
					pl_err_set(c, pl_strlist_elem(g, "to", i),
					    "%s: no engineer is in group '%s'", what,
					    to + 6);
			} else if (pol_engineer_find(c->p, to) == NULL) {
				pl_err_set(c, pl_strlist_elem(g, "to", i),
				    "%s: engineer '%s' is not defined%s", what, to,
				    strchr(to, ':') ? " (groups are written group:NAME)" : "");
			}
		}
	}
	/* Tenants are named one by one: no wildcard may span clients. */
	if (pl_get_strlist(c, g, "tenants", what, &tn, &ntn) != 0) {
		ntn = 0;
	} else {
		if (ntn == 0)
			pl_err_set(c, config_setting_get_member(g, "tenants"),
			    "%s: 'tenants' is empty", what);
		if (ntn > 0 && (gr->tenants = calloc(ntn, sizeof(*gr->tenants))) == NULL)
			pl_err_at(c, NULL, 0, "out of memory");
		for (i = 0; gr->tenants != NULL && i < ntn; i++) {
			struct pol_tenant *t = (struct pol_tenant *)pol_tenant_find(c->p, tn[i]);

			if (t == NULL)
				pl_err_set(c, pl_strlist_elem(g, "tenants", i),
				    "%s: tenant '%s' is not defined%s", what, tn[i],
				    strpbrk(tn[i], "*?[") ? " (tenants are named one "
				    "by one; wildcards are not allowed)" : "");
			else
				gr->tenants[gr->ntenants++] = t;
		}
		pl_strv_free(tn, ntn);
	}
	/* With a tenant missing, checks against its targets would only echo that. */
	if (gr->ntenants != ntn)
		gr->ntenants = 0;
	if (pl_get_strlist(c, g, "targets", what, &gr->targets, &gr->ntargets) == 0) {
		if (gr->ntargets == 0)
			pl_err_set(c, config_setting_get_member(g, "targets"),
			    "%s: 'targets' is empty", what);
		/* A pattern that matches nothing is almost always a typo. */
		for (i = 0; i < gr->ntargets && gr->ntenants > 0; i++) {
			int hit = 0;

			for (j = 0; j < gr->ntenants && !hit; j++)
				for (k = 0; k < gr->tenants[j]->ntargets && !hit; k++)
					if (fnmatch(gr->targets[i],
					    gr->tenants[j]->targets[k].name, 0) == 0)
						hit = 1;
			if (!hit)
				pl_err_set(c, pl_strlist_elem(g, "targets", i),
				    "%s: target '%s' matches no target of its tenants",
				    what, gr->targets[i]);
		}
	}
	if (pl_get_strlist(c, g, "logins", what, &gr->logins, &gr->nlogins) == 0) {
		if (gr->nlogins == 0)
			pl_err_set(c, config_setting_get_member(g, "logins"),
			    "%s: 'logins' is empty", what);
		for (i = 0; i < gr->nlogins; i++) {
			int hit = 0;

			for (j = 0; j < gr->ntenants && !hit; j++)
				for (k = 0; k < gr->tenants[j]->ntargets && !hit; k++)
					if (pol_grant_covers(gr, &gr->tenants[j]->targets[k]) &&
					    pl_str_in(gr->tenants[j]->targets[k].logins,
					    gr->tenants[j]->targets[k].nlogins, gr->logins[i]))
						hit = 1;
			if (!hit && gr->ntenants > 0)
				pl_err_set(c, pl_strlist_elem(g, "logins", i),
				    "%s: login '%s' is not allowed on any target the "
				    "grant covers", what, gr->logins[i]);
		}
	}
	(void)pl_get_mfa(c, g, what, &gr->mfa);
	pl_get_duration(c, g, "max_session", &gr->max_session);
	pl_get_duration(c, g, "max_login_age", &gr->max_login_age);
	if (pl_member(g, "ticket", K_BOOL) != NULL)
		gr->ticket = config_setting_get_bool(config_setting_get_member(g, "ticket"));
	pl_resolve_windows(c, g, what, &gr->windows, &gr->nwindows);
	pl_get_cidrs(c, g, what, &gr->sources, &gr->nsources);
	pl_get_date(c, g, "valid_from", 0, &gr->valid_from);
	pl_get_date(c, g, "valid_until", 1, &gr->valid_until);
	if (gr->valid_from && gr->valid_until && gr->valid_until <= gr->valid_from)
		pl_err_set(c, config_setting_get_member(g, "valid_until"),
		    "%s: valid_until is before valid_from", what);
	load_approval(c, g, what, gr);
	if (pl_get_str(g, "comment") != NULL)
		gr->comment = pl_xstrdup(c, pl_get_str(g, "comment"));
}
