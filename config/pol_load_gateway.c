/* SPDX-License-Identifier: BSD-2-Clause */
/* The gateway, mfa and pam sections of the policy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_name.h"
#include "pol_load_priv.h"

static const struct keyspec gateway_keys[] = {
	{ "vault", K_STR, 0 }, { "recordings", K_STR, 0 }, { "audit", K_STR, 0 },
	{ "state", K_STR, 0 }, { "control_socket", K_STR, 0 },
	{ "session_socket", K_STR, 0 }, { "user", K_STR, 0 },
	{ "signing_key", K_STR, 0 }, { "default_max_session", K_STR, 0 },
	{ "idle_timeout", K_STR, 0 }, { "reload_grace", K_STR, 0 },
	{ "max_sessions", K_INT, 0 }, { "max_sessions_per_engineer", K_INT, 0 },
	{ "attestations", K_STR, 0 }, { "max_login_age", K_STR, 0 }, { NULL, 0, 0 }
};

void
pl_load_gateway(struct ctx *c, const config_setting_t *g)
{
	struct pol_gateway *gw = &c->p->gateway;
	long long v;

	if (pl_check_keys(c, g, gateway_keys, "gateway") != 0)
		return;
	gw->loc = pl_loc_of(c, g);
	pl_set_path(c, g, "vault", &gw->vault);
	pl_set_path(c, g, "recordings", &gw->recordings);
	pl_set_path(c, g, "audit", &gw->audit);
	pl_set_path(c, g, "state", &gw->state);
	pl_set_path(c, g, "control_socket", &gw->control_socket);
	pl_set_path(c, g, "session_socket", &gw->session_socket);
	pl_set_user(c, g, "user", &gw->user);
	pl_set_path(c, g, "signing_key", &gw->signing_key);
	pl_set_path(c, g, "attestations", &gw->attestations);
	pl_get_duration(c, g, "default_max_session", &gw->default_max_session);
	pl_get_duration(c, g, "max_login_age", &gw->max_login_age);
	if (pl_member(g, "idle_timeout", K_STR) != NULL &&
	    strcmp(pl_get_str(g, "idle_timeout"), "none") == 0)
		gw->idle_timeout = 0;
	else
		pl_get_duration(c, g, "idle_timeout", &gw->idle_timeout);
	if (pl_member(g, "reload_grace", K_STR) != NULL &&
	    strcmp(pl_get_str(g, "reload_grace"), "finish") == 0)
		gw->reload_grace = POL_GRACE_FINISH;
	else
		pl_get_duration(c, g, "reload_grace", &gw->reload_grace);
	if (pl_get_int(c, g, "max_sessions", 1, POL_MAX_SESSIONS_LIMIT, &v) > 0)
		gw->max_sessions = (int)v;
	if (pl_get_int(c, g, "max_sessions_per_engineer", 1, POL_MAX_SESSIONS_LIMIT, &v) > 0)
		gw->max_sessions_per_engineer = (int)v;
}

static const struct keyspec mfa_keys[] = {
	{ "totp", K_GROUP, 0 }, { "lockout", K_GROUP, 0 }, { NULL, 0, 0 }
};
static const struct keyspec totp_keys[] = {
	{ "store", K_STR, 0 }, { "skew_steps", K_INT, 0 }, { "digits", K_INT, 0 },
	{ "period", K_INT, 0 }, { "algorithm", K_STR, 0 }, { NULL, 0, 0 }
};
static const struct keyspec lockout_keys[] = {
	{ "failures", K_INT, 0 }, { "within", K_STR, 0 }, { "lock_for", K_STR, 0 },
	{ NULL, 0, 0 }
};

void
pl_load_mfa(struct ctx *c, const config_setting_t *g)
{
	struct pol_mfa *m = &c->p->mfa;
	const config_setting_t *s;
	long long v;

	if (pl_check_keys(c, g, mfa_keys, "mfa") != 0)
		return;
	m->loc = pl_loc_of(c, g);
	if ((s = pl_member(g, "totp", K_GROUP)) != NULL &&
	    pl_check_keys(c, s, totp_keys, "mfa.totp") == 0) {
		const char *alg = pl_get_str(s, "algorithm");

		pl_set_path(c, s, "store", &m->totp_store);
		if (pl_get_int(c, s, "skew_steps", 0, 10, &v) > 0)
			m->skew_steps = (int)v;
		if (pl_get_int(c, s, "digits", 6, 8, &v) > 0) {
			if (v == 7)
				pl_err_set(c, config_setting_get_member(s, "digits"),
				    "'digits' must be 6 or 8");
			m->digits = (int)v;
		}
		if (pl_get_int(c, s, "period", 15, 300, &v) > 0)
			m->period = (int)v;
		if (alg != NULL) {
			if (strcmp(alg, "sha1") != 0 && strcmp(alg, "sha256") != 0 &&
			    strcmp(alg, "sha512") != 0)
				pl_err_set(c, config_setting_get_member(s, "algorithm"),
				    "'algorithm' must be \"sha1\", \"sha256\" or "
				    "\"sha512\", not \"%s\"", alg);
			else {
				free(m->algorithm);
				m->algorithm = pl_xstrdup(c, alg);
			}
		}
	}
	if ((s = pl_member(g, "lockout", K_GROUP)) != NULL &&
	    pl_check_keys(c, s, lockout_keys, "mfa.lockout") == 0) {
		if (pl_get_int(c, s, "failures", 1, 1000, &v) > 0)
			m->lockout_failures = (int)v;
		pl_get_duration(c, s, "within", &m->lockout_within);
		pl_get_duration(c, s, "lock_for", &m->lockout_for);
	}
}

static const struct keyspec pam_keys[] = {
	{ "group", K_STR, 0 }, { "sources", K_STRLIST, 0 }, { "tenant", K_STR, 0 },
	{ NULL, 0, 0 }
};

void
pl_load_pam(struct ctx *c, const config_setting_t *g)
{
	struct pol_pam *pp = &c->p->pam;
	struct mg_cidr *v = NULL;
	const char *grp;
	size_t n = 0;

	if (pl_check_keys(c, g, pam_keys, "pam") != 0)
		return;
	pp->loc = pl_loc_of(c, g);
	if ((grp = pl_get_str(g, "group")) != NULL) {
		/* What groupadd accepts: a Unix group name, not a pattern. */
		if (!mg_name_ok(MG_NAME_LOGIN, grp) || strlen(grp) >= sizeof(pp->group))
			pl_err_set(c, config_setting_get_member(g, "group"),
			    "pam: invalid group name \"%s\"", grp);
		else
			snprintf(pp->group, sizeof(pp->group), "%s", grp);
	}
	if (pl_get_cidrs(c, g, "pam", &v, &n) == 0) {
		if (n > POL_PAM_MAX_SOURCES)
			pl_err_set(c, config_setting_get_member(g, "sources"),
			    "pam: too many sources (%zu, at most %d)", n,
			    POL_PAM_MAX_SOURCES);
		else if (n > 0 && v != NULL) {
			memcpy(pp->sources, v, n * sizeof(*v));
			pp->nsources = n;
		}
		if (n == 0 && config_setting_get_member(g, "sources") != NULL)
			pl_err_set(c, config_setting_get_member(g, "sources"),
			    "pam: 'sources' is empty (leave it out for no restriction)");
	}
	free(v);
	c->pam_tenant = pl_member(g, "tenant", K_STR);
}
