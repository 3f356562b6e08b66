/* SPDX-License-Identifier: BSD-2-Clause */
/* mspgate-policy target-setup: the lines a target needs to trust its tenant's CA; check's warnings. */
#include <stdlib.h>
#include <string.h>

#include "mg_err.h"
#include "mg_sshkey.h"
#include "mg_util.h"
#include "pol_target_setup.h"

int
pol_target_setup(const struct pol *p, const char *spec, const char *dir, FILE *out,
    char *err, size_t errlen)
{
	const struct pol_tenant *tn = NULL;
	const struct pol_target *tg = NULL;
	const char *slash = strchr(spec, '/');
	char tenant[128], *key = NULL;
	size_t i;

	if (slash != NULL && (size_t)(slash - spec) < sizeof(tenant)) {
		memcpy(tenant, spec, (size_t)(slash - spec));
		tenant[slash - spec] = '\0';
		if ((tn = pol_tenant_find(p, tenant)) != NULL)
			tg = pol_target_find(tn, slash + 1);
	}
	if (tg == NULL) {
		mg_seterr_value(err, errlen, "no target", spec, "give TENANT/TARGET from the policy");
		return MG_ERR_NOENT;
	}
	if (tg->cred == NULL || tg->cred->kind != POL_CRED_CERT) {
		mg_seterr(err, errlen, "%s:%d: target %s/%s logs in with the vault key '%s': "
		    "declare a credential of kind \"certificate\" for tenant %s and name it "
		    "in the target first", tg->loc.file, tg->loc.line, tn->name, tg->name,
		    tg->credential, tn->name);
		return MG_ERR_INVAL;
	}
	if (mg_sshkey_format(tg->cred->ca, &key) != 0) {
		mg_seterr(err, errlen, "out of memory");
		return MG_ERR_NOMEM;
	}
	fprintf(out, "# Target %s/%s (%s port %d): trust tenant %s's CA (credential %s)\n"
	    "# for the login%s", tn->name, tg->name, tg->host, tg->port, tn->name,
	    tg->cred->name, tg->nlogins == 1 ? "" : "s");
	for (i = 0; i < tg->nlogins; i++)
		fprintf(out, " %s", tg->logins[i]);
	fprintf(out, ". Each session's certificate names its login as principal.\n"
	    "# 1. Save this line as %s/mspgate-%s.pub (root's, mode 0644):\n"
	    "%s mspgate-%s\n"
	    "# 2. Add this line to %s/sshd_config (or a file in sshd_config.d):\n"
	    "TrustedUserCAKeys %s/mspgate-%s.pub\n"
	    "# 3. Check and reload: sshd -t && systemctl reload ssh; open a session\n"
	    "#    through the gateway, then remove the gateway's old vault key from\n"
	    "#    the logins' authorized_keys.\n",
	    dir, tg->cred->name, key, tg->cred->name, dir, dir, tg->cred->name);
	free(key);
	return 0;
}

size_t
pol_cert_warnings(const struct pol *p, FILE *out)
{
	size_t i, j, n = 0;

	for (i = 0; i < p->ntenants; i++)
		for (j = 0; j < p->tenants[i].ntargets; j++) {
			const struct pol_target *t = &p->tenants[i].targets[j];

			if (t->cred != NULL && t->cred->kind == POL_CRED_CERT)
				continue;
			fprintf(out, "%s:%d: warning: target %s/%s logs in with the standing "
			    "vault key '%s': a certificate credential would leave no key "
			    "to steal (README: Moving a client to certificates)\n",
			    t->loc.file, t->loc.line, p->tenants[i].name, t->name,
			    t->credential);
			n++;
		}
	return n;
}
