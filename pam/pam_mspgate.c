/* SPDX-License-Identifier: BSD-2-Clause */
/* pam_mspgate: the PAM entry points, and nothing else (see mfa_pam.c). */
#include <security/pam_modules.h>

#include "mfa_pam.h"

#define MG_EXPORT __attribute__((visibility("default")))

MG_EXPORT int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return mfa_pam_authenticate(pamh, flags, argc, argv);
}

MG_EXPORT int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return mfa_pam_setcred(pamh, flags, argc, argv);
}

MG_EXPORT int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return mfa_pam_account(pamh, flags, argc, argv);
}

MG_EXPORT int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return mfa_pam_session(pamh, flags, argc, argv, 1);
}

MG_EXPORT int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return mfa_pam_session(pamh, flags, argc, argv, 0);
}
