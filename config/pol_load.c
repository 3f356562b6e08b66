/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reads the policy file (libconfig) and its includes, and checks it strictly.
 * This is the driver: each section has its own pol_load_*.c file.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mg_diag.h"
#include "mg_err.h"
#include "mg_file.h"
#include "pol_load_priv.h"

static const char *const top_keys[] = {
	"gateway", "mfa", "pam", "windows", "engineers", "tenants", "grants",
	"alerts", "state", "credentials", "signer", NULL
};

/*
 * After grants: the pam tenant must exist, and an engineer's own mfa may
 * only add to what the grants demand, never weaken a grant.
 */
static void
check_after_grants(struct ctx *c)
{
	struct pol *p = c->p;
	size_t i, j;

	if (c->pam_tenant != NULL) {
		const char *tn = config_setting_get_string(c->pam_tenant);

		if ((p->pam.tenant = pol_tenant_find(p, tn)) == NULL)
			pl_err_set(c, c->pam_tenant, "pam: tenant '%s' is not defined", tn);
	}
	for (i = 0; i < p->nengineers; i++) {
		const struct pol_engineer *e = &p->engineers[i];
		unsigned u = 0;

		if (e->mfa == 0)
			continue;
		for (j = 0; j < p->ngrants; j++)
			if (pol_grant_applies(&p->grants[j], e))
				u |= p->grants[j].mfa;
		if ((e->mfa & u) != u)
			pl_err_at(c, e->mfa_loc.file, e->mfa_loc.line,
			    "engineer '%s': mfa \"%s\" is weaker than its grants "
			    "require (\"%s\")", e->name, pol_mfa_name(e->mfa),
			    pol_mfa_name(u));
	}
}

/* Settings that may appear in one file only. */
int
pl_once(struct ctx *c, const config_setting_t *s, struct pol_loc *seen)
{
	if (seen->file != NULL) {
		pl_err_set(c, s, "'%s' is already set at %s:%d", config_setting_name(s),
		    seen->file, seen->line);
		return 0;
	}
	*seen = pl_loc_of(c, s);
	return 1;
}

static void
each_in_list(struct ctx *c, const char *key, void (*fn)(struct ctx *,
    const config_setting_t *))
{
	size_t f;
	int i, n;

	for (f = 0; f < c->nsrcs; f++) {
		const config_setting_t *l =
		    config_setting_get_member(config_root_setting(&c->srcs[f].cfg), key);

		if (l == NULL)
			continue;
		if (!config_setting_is_list(l)) {
			pl_err_set(c, l, "'%s' must be a list ( { ... }, { ... } ), not %s",
			    key, pl_type_name(config_setting_type(l)));
			continue;
		}
		n = config_setting_length(l);
		for (i = 0; i < n; i++) {
			const config_setting_t *e = config_setting_get_elem(l, i);

			if (!config_setting_is_group(e)) {
				pl_err_set(c, e, "each entry of '%s' must be a group { ... }, "
				    "not %s", key, pl_type_name(config_setting_type(e)));
				continue;
			}
			fn(c, e);
		}
	}
}

static int
defaults(struct ctx *c)
{
	struct pol *p = c->p;
	struct pol_alerts *a = &p->alerts;

	p->gateway.vault = pl_xstrdup(c, "/etc/mspgate/vault");
	p->gateway.recordings = pl_xstrdup(c, "/var/lib/mspgate/recordings");
	p->gateway.audit = pl_xstrdup(c, "/var/log/mspgate/audit.jsonl");
	p->gateway.state = pl_xstrdup(c, "/var/lib/mspgate/state");
	p->gateway.control_socket = pl_xstrdup(c, "/run/mspgate/control.sock");
	p->gateway.session_socket = pl_xstrdup(c, "/run/mspgate/session.sock");
	p->gateway.user = pl_xstrdup(c, "mspgate");
	p->gateway.signing_key = pl_xstrdup(c, "/etc/mspgate/signing_key.pem");
	p->gateway.default_max_session = 4 * 3600;
	p->gateway.attestations = pl_xstrdup(c, "/run/mspgate-attest");
	p->gateway.max_login_age = 8 * 3600;
	p->gateway.idle_timeout = 30 * 60;
	p->gateway.reload_grace = 5 * 60;
	p->gateway.max_sessions = POL_MAX_SESSIONS_DEFAULT;
	p->gateway.max_sessions_per_engineer = POL_MAX_PER_ENGINEER_DEFAULT;
	p->signer.socket = pl_xstrdup(c, "/run/mspgate-signer/sign.sock");
	p->signer.ca_keys = pl_xstrdup(c, "/etc/mspgate-signer/ca");
	p->signer.audit = pl_xstrdup(c, "/var/log/mspgate-signer/audit.jsonl");
	p->signer.signing_key = pl_xstrdup(c, "/etc/mspgate-signer/signing_key.pem");
	p->signer.user = pl_xstrdup(c, "mspgate-signer");
	p->signer.per_minute = POL_SIGNER_PER_MINUTE_DEFAULT;
	p->mfa.totp_store = pl_xstrdup(c, "/var/lib/mspgate/totp");
	p->mfa.skew_steps = 1;
	p->mfa.digits = 6;
	p->mfa.period = 30;
	p->mfa.algorithm = pl_xstrdup(c, "sha1");
	p->mfa.lockout_failures = 5;
	p->mfa.lockout_within = 15 * 60;
	p->mfa.lockout_for = 15 * 60;
	p->state.backend = POL_STATE_FILES;
	p->state.timeout = POL_STATE_TIMEOUT_DEFAULT;
	a->fanout = (struct pol_alert_rule){ 1, POL_ACT_ALERT, 3, 30 * 60, 0, 0, { 0, 0 } };
	a->first_access = (struct pol_alert_rule){ 1, POL_ACT_ALERT, 90, 0, 0, 0, { 0, 0 } };
	a->off_hours = (struct pol_alert_rule){ 1, POL_ACT_ALERT, 3, 3600, 0, 0, { 0, 0 } };
	a->mfa_failures = (struct pol_alert_rule){ 1, POL_ACT_ALERT, 5, 600, 0, 0, { 0, 0 } };
	a->unusual = (struct pol_alert_rule){ 1, POL_ACT_ALERT, 30, 0, 0, 0, { 0, 0 } };
	a->parallel = (struct pol_alert_rule){ 1, POL_ACT_ALERT, 0, 0, 0, 0, { 0, 0 } };
	a->egress = (struct pol_alert_rule){ 1, POL_ACT_ALERT, 0, 0,
	    1024LL * 1024 * 1024, 10LL * 1024 * 1024 * 1024, { 0, 0 } };
	a->sensitive = (struct pol_alert_rule){ 1, POL_ACT_ALERT, 0, 0, 0, 0, { 0, 0 } };
	return c->errors ? -1 : 0;
}

static void
build(struct ctx *c)
{
	size_t f;

	for (f = 0; f < c->nsrcs; f++) {
		const config_setting_t *root = config_root_setting(&c->srcs[f].cfg);
		int i, n = config_setting_length(root);

		for (i = 0; i < n; i++) {
			const config_setting_t *s = config_setting_get_elem(root, i);
			const char *name = config_setting_name(s);
			size_t k;

			for (k = 0; top_keys[k] != NULL; k++)
				if (strcmp(top_keys[k], name) == 0)
					break;
			if (top_keys[k] == NULL)
				pl_err_set(c, s, "unknown key '%s' at the top level "
				    "(expected gateway, mfa, pam, windows, engineers, "
				    "tenants, grants, alerts, state, credentials or "
				    "signer)", name);
			else if (strcmp(name, "gateway") == 0 &&
			    pl_once(c, s, &c->seen_gateway))
				pl_load_gateway(c, s);
			else if (strcmp(name, "mfa") == 0 && pl_once(c, s, &c->seen_mfa))
				pl_load_mfa(c, s);
			else if (strcmp(name, "pam") == 0 && pl_once(c, s, &c->seen_pam))
				pl_load_pam(c, s);
			else if (strcmp(name, "alerts") == 0 &&
			    pl_once(c, s, &c->seen_alerts))
				pl_load_alerts(c, s);
			else if (strcmp(name, "state") == 0 &&
			    pl_once(c, s, &c->seen_state))
				pl_load_state(c, s);
			else if (strcmp(name, "signer") == 0 &&
			    pl_once(c, s, &c->seen_signer))
				pl_load_signer(c, s);
		}
	}
	/* Windows first: tenants and grants name them. */
	for (f = 0; f < c->nsrcs; f++) {
		const config_setting_t *w = config_setting_get_member(
		    config_root_setting(&c->srcs[f].cfg), "windows");

		if (w != NULL)
			pl_load_windows(c, w);
	}
	each_in_list(c, "engineers", pl_load_engineer);
	each_in_list(c, "credentials", pl_load_credential);
	each_in_list(c, "tenants", pl_load_tenant);
	pl_check_credentials(c);
	each_in_list(c, "grants", pl_load_grant);
	check_after_grants(c);
}

static int
load_common(struct ctx *c, char *buf, const char *name)
{
	const char *stored;

	if (defaults(c) != 0)
		return -1;
	if (pl_add_file(c, name, &stored) != 0)
		return -1;
	if (pl_read_text(c, buf, stored, 0) != 0)
		return -1;
	build(c);
	return c->errors ? -1 : 0;
}

static void
ctx_done(struct ctx *c)
{
	size_t i;

	for (i = 0; i < c->nsrcs; i++)
		config_destroy(&c->srcs[i].cfg);
	free(c->srcs);
	c->srcs = NULL;
	c->nsrcs = 0;
}

int
pol_load_buffer(const char *buf, size_t len, const char *name, struct pol **out,
    struct mg_diag *diag)
{
	struct ctx c;
	char *copy = NULL;
	int r = MG_ERR_POLICY;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	c.diag = diag;
	if ((c.p = pol_internal_new()) == NULL)
		return MG_ERR_NOMEM;
	if (memchr(buf, '\0', len) != NULL) {
		mg_diag_add(diag, name, 0, "file contains a NUL byte");
		goto out;
	}
	if ((copy = strndup(buf, len)) == NULL) {
		r = MG_ERR_NOMEM;
		goto out;
	}
	if (load_common(&c, copy, name) == 0) {
		*out = c.p;
		c.p = NULL;
		r = 0;
	}
 out:
	ctx_done(&c);
	free(copy);
	pol_free(c.p);
	return r;
}

int
pol_load(const char *path, struct pol **out, struct mg_diag *diag)
{
	struct mg_file_rules rules;
	char abs[PATH_MAX], cwd[PATH_MAX], e[512], *buf = NULL;
	size_t len;
	int r;

	*out = NULL;
	if (path[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    (size_t)snprintf(abs, sizeof(abs), "%s/%s", cwd, path) >= sizeof(abs)) {
			mg_diag_add(diag, path, 0, "cannot make the path absolute");
			return MG_ERR_POLICY;
		}
		path = abs;
	}
	memset(&rules, 0, sizeof(rules));
	rules.max_size = POL_MAX_FILE;
	rules.forbid_mode = 022;
	if ((r = mg_file_read_safe(path, &rules, &buf, &len, e, sizeof(e))) != 0) {
		mg_diag_add(diag, NULL, 0, "%s", e);
		return MG_ERR_POLICY;
	}
	r = pol_load_buffer(buf, len, path, out, diag);
	free(buf);
	return r;
}
