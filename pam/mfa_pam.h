/* SPDX-License-Identifier: BSD-2-Clause */
/* The PAM stages of pam_mspgate: scope, MFA, account rules, session audit. */
#ifndef MFA_PAM_H
#define MFA_PAM_H

#include <security/pam_modules.h>

int mfa_pam_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv);
int mfa_pam_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv);
int mfa_pam_account(pam_handle_t *pamh, int flags, int argc, const char **argv);
/* open: 1 for pam_open_session, 0 for pam_close_session. */
int mfa_pam_session(pam_handle_t *pamh, int flags, int argc, const char **argv,
    int open);

#endif
