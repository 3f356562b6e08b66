/* SPDX-License-Identifier: BSD-2-Clause */
/* The credentials list (vault keys and per-tenant certificate authorities) and the signer section. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_name.h"
#include "mg_sshkey.h"
#include "pol_load_priv.h"

static const struct keyspec cred_keys[] = {
	{ "name", K_STR, 1 }, { "kind", K_STR, 1 }, { "ca", K_STR, 0 },
	{ "source_address", K_STRLIST, 0 }, { "description", K_STR, 0 },
	{ NULL, 0, 0 }
};
static const struct keyspec signer_keys[] = {
	{ "socket", K_STR, 0 }, { "ca_keys", K_STR, 0 }, { "audit", K_STR, 0 },
	{ "signing_key", K_STR, 0 }, { "user", K_STR, 0 },
	{ "per_minute", K_INT, 0 }, { NULL, 0, 0 }
};

/* "a/32,b/128" from the list, each entry a checked CIDR; NULL when empty. */
static char *
source_list(struct ctx *c, const config_setting_t *g, const char *what)
{
	struct mg_cidr cidr;
	char **v = NULL, e[256], *out = NULL;
	size_t n = 0, i, len = 1;

	if (pl_get_strlist(c, g, "source_address", what, &v, &n) != 0 || n == 0) {
		if (n == 0 && pl_member(g, "source_address", K_STRLIST) != NULL)
			pl_err_set(c, config_setting_get_member(g, "source_address"),
			    "%s: 'source_address' is empty (leave it out for the "
			    "connection's own address)", what);
		pl_strv_free(v, n);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (mg_cidr_parse(v[i], &cidr, e, sizeof(e)) != 0 ||
		    strchr(v[i], ',') != NULL) {
			pl_err_set(c, pl_strlist_elem(g, "source_address", i),
			    "source_address in %s: %s", what, e);
			pl_strv_free(v, n);
			return NULL;
		}
		len += strlen(v[i]) + 1;
	}
	if ((out = calloc(1, len)) == NULL) {
		pl_err_at(c, NULL, 0, "out of memory");
	} else {
		for (i = 0; i < n; i++) {
			if (i > 0)
				strcat(out, ",");
			strcat(out, v[i]);
		}
	}
	pl_strv_free(v, n);
	return out;
}

void
pl_load_credential(struct ctx *c, const config_setting_t *g)
{
	struct pol_internal *in = pol_internal(c->p);
	const struct pol_credential *dup;
	struct pol_credential *cr;
	const char *name, *kind, *ca;
	char what[128], e[256];

	if (pl_check_keys(c, g, cred_keys, "a credential") != 0)
		return;
	name = pl_get_str(g, "name");
	kind = pl_get_str(g, "kind");
	snprintf(what, sizeof(what), "credential '%.64s'", name);
	if (!mg_name_ok(MG_NAME_CREDENTIAL, name)) {
		pl_err_set(c, config_setting_get_member(g, "name"),
		    "invalid credential name \"%s\"", name);
		return;
	}
	if ((dup = pol_credential_find(c->p, name)) != NULL) {
		pl_already(c, g, what, dup->loc);
		return;
	}
	if ((cr = pl_xgrow(c, c->p->credentials, &in->cap_cred, c->p->ncredentials,
	    sizeof(*cr))) == NULL)
		return;
	c->p->credentials = cr;
	cr = &c->p->credentials[c->p->ncredentials++];
	cr->loc = pl_loc_of(c, g);
	cr->name = pl_xstrdup(c, name);
	ca = pl_get_str(g, "ca");
	if (strcmp(kind, "key") == 0) {
		/* A vault key: what an undeclared credential is too. */
		cr->kind = POL_CRED_KEY;
		if (ca != NULL || pl_member(g, "source_address", K_ANY) != NULL)
			pl_err_set(c, g, "%s: 'ca' and 'source_address' are for kind "
			    "\"certificate\" only", what);
		return;
	}
	if (strcmp(kind, "certificate") != 0) {
		pl_err_set(c, config_setting_get_member(g, "kind"),
		    "%s: kind must be \"key\" or \"certificate\", not \"%s\"", what, kind);
		return;
	}
	cr->kind = POL_CRED_CERT;
	if (ca == NULL) {
		pl_err_set(c, g, "%s: a certificate credential needs 'ca', the CA's "
		    "public key (\"ssh-ed25519 AAAA...\", mspgate-signer pubkey prints it)",
		    what);
		return;
	}
	if (mg_sshkey_parse(ca, &cr->ca, e, sizeof(e)) != 0) {
		pl_err_set(c, config_setting_get_member(g, "ca"), "ca of %s: %s", what, e);
		return;
	}
	/* The signer makes ed25519 signatures only (mg_sshcert.h). */
	if (cr->ca->type != MG_KEY_ED25519)
		pl_err_set(c, config_setting_get_member(g, "ca"),
		    "ca of %s: only ssh-ed25519 CAs are supported, not %s", what,
		    cr->ca->type_name);
	cr->source_address = source_list(c, g, what);
}

/*
 * After tenants: one CA per tenant, so one client's CA is never trusted
 * for another client's hosts. Each target points at its credential.
 */
void
pl_check_credentials(struct ctx *c)
{
	struct pol *p = c->p;
	size_t i, j;

	for (i = 0; i < p->ntenants; i++)
		for (j = 0; j < p->tenants[i].ntargets; j++) {
			struct pol_target *t = &p->tenants[i].targets[j];
			struct pol_credential *cr = (struct pol_credential *)
			    pol_credential_find(p, t->credential);

			t->cred = cr;
			if (cr == NULL || cr->kind != POL_CRED_CERT)
				continue;
			if (cr->tenant == NULL)
				cr->tenant = &p->tenants[i];
			else if (cr->tenant != &p->tenants[i])
				pl_err_at(c, t->loc.file, t->loc.line, "target '%s/%s': "
				    "certificate credential '%s' is tenant '%s''s (%s:%d): "
				    "one CA per tenant", p->tenants[i].name, t->name, cr->name,
				    cr->tenant->name, cr->loc.file, cr->loc.line);
		}
}

void
pl_load_signer(struct ctx *c, const config_setting_t *g)
{
	struct pol_signer *s = &c->p->signer;
	long long v;

	if (pl_check_keys(c, g, signer_keys, "signer") != 0)
		return;
	s->loc = pl_loc_of(c, g);
	pl_set_path(c, g, "socket", &s->socket);
	pl_set_path(c, g, "ca_keys", &s->ca_keys);
	pl_set_path(c, g, "audit", &s->audit);
	pl_set_path(c, g, "signing_key", &s->signing_key);
	pl_set_user(c, g, "user", &s->user);
	if (pl_get_int(c, g, "per_minute", 1, 100000, &v) > 0)
		s->per_minute = (int)v;
}
