/* SPDX-License-Identifier: BSD-2-Clause */
/* What a target's sshd needs to trust its tenant's certificate authority, and which targets could move to one. */
#ifndef POL_TARGET_SETUP_H
#define POL_TARGET_SETUP_H

#include <stdio.h>

#include "pol.h"

/*
 * Prints to out the steps and the exact lines for target spec
 * ("TENANT/TARGET") to accept the session certificates of its credential:
 * the CA's public key (to save as DIR/mspgate-CREDENTIAL.pub) and the
 * sshd_config line naming it. dir: where the key file goes ("/etc/ssh").
 * Returns 0, MG_ERR_NOENT (no such target) or MG_ERR_INVAL (its
 * credential is a vault key); err says which.
 */
int pol_target_setup(const struct pol *p, const char *spec, const char *dir, FILE *out,
    char *err, size_t errlen);

/*
 * One warning line ("FILE:LINE: warning: ...") per target that logs in
 * with a standing vault key; the number of lines.
 */
size_t pol_cert_warnings(const struct pol *p, FILE *out);

#endif
