/* SPDX-License-Identifier: BSD-2-Clause */
/* The MFA factors: one table of what each does at login, in the attestation and after. */
#include <stddef.h>

#include "mfa_attest.h"
#include "mfa_factor.h"
#include "mfa_fido.h"
#include "mfa_totp.h"

/*
 * In login order: FIDO first (sshd verified it before the module ran, so
 * checking it costs the engineer nothing), then TOTP, which asks for a
 * code and uses it up.
 */
const struct mfa_factor mfa_factors[] = {
	{ POL_MFA_FIDO, mfa_fido_login, mfa_fido_evidence_check, mfa_fido_standing },
	{ POL_MFA_TOTP, mfa_totp_login, mfa_totp_evidence_check, mfa_totp_standing },
};
const size_t mfa_nfactors = sizeof(mfa_factors) / sizeof(mfa_factors[0]);

/* The attestation keeps each factor's evidence in a slot of its own. */
_Static_assert(sizeof(mfa_factors) / sizeof(mfa_factors[0]) <= MFA_ATTEST_FACTORS,
    "more factors than MFA_ATTEST_FACTORS");

const struct mfa_factor *
mfa_factor_find(unsigned bit, size_t *index)
{
	size_t i;

	for (i = 0; i < mfa_nfactors; i++)
		if (mfa_factors[i].bit == bit) {
			if (index != NULL)
				*index = i;
			return &mfa_factors[i];
		}
	return NULL;
}
