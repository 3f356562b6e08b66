/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target: the policy loader on arbitrary text. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_diag.h"
#include "pol.h"
#include "pol_decide.h"
#include "pol_sshconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
sshconfig(const struct pol *p, const char *engineer)
{
	struct pol_sshconfig_gw gw;
	char err[600], *text = NULL;
	size_t len = 0, i;
	FILE *f;

	if (pol_sshconfig_gw_parse("gw.example:2222", &gw, err, sizeof(err)) != 0 ||
	    (f = open_memstream(&text, &len)) == NULL)
		abort();
	if (pol_sshconfig_write(p, engineer, &gw, f, err, sizeof(err)) == 0) {
		fclose(f);
		/* No control byte but newlines, no quote: no line can break out. */
		for (i = 0; i < len; i++)
			if (((unsigned char)text[i] < 0x20 && text[i] != '\n') || text[i] == '"')
				abort();
	} else
		fclose(f);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_diag *d = mg_diag_new();
	struct pol *p = NULL;
	size_t i;

	if (d == NULL || size > 256 * 1024) {
		mg_diag_free(d);
		return 0;
	}
	/* No directory: @include of a relative path resolves to nothing. */
	if (pol_load_buffer((const char *)data, size, "/nonexistent/fuzz.conf", &p, d) == 0) {
		/* A loaded policy must answer every question without crashing. */
		for (i = 0; i < p->ntenants && i < 4; i++) {
			struct pol_request r = { 0 };
			struct pol_decision dec;

			if (p->tenants[i].ntargets == 0 || p->nengineers == 0)
				continue;
			r.engineer = p->engineers[0].name;
			r.tenant = p->tenants[i].name;
			r.target = p->tenants[i].targets[0].name;
			r.at = 1798761600;	/* 2027-01-01 */
			r.mfa_used = POL_MFA_FIDO | POL_MFA_TOTP;
			r.source = "192.0.2.1";
			(void)pol_decide(p, &r, &dec);
		}
		/* Every engineer's ssh_config (pol_sshconfig.c) holds only safe lines. */
		for (i = 0; i < p->nengineers && i < 4; i++)
			sshconfig(p, p->engineers[i].name);
	}
	for (i = 0; i < mg_diag_count(d); i++)
		(void)mg_diag_get(d, i);
	pol_free(p);
	mg_diag_free(d);
	return 0;
}
