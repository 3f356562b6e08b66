/* SPDX-License-Identifier: BSD-2-Clause */
/* The attested login behind a peer: from its pid up to the sshd session that owns it. */
#ifndef GW_ATTEST_H
#define GW_ATTEST_H

#include <stddef.h>
#include <sys/types.h>

#include "mfa_attest.h"

/* Boot-time clock ticks now (the unit of /proc/PID/stat's start time). */
unsigned long long gw_attest_ticks_now(void);

/*
 * Finds the login attestation that vouches for peer (the pid and uid
 * SO_PEERCRED gave for a connection accepted at accepted_ticks). From the
 * peer up through its parents, every process must run as uid alone; the
 * first one that runs as root is the session process (sshd's monitor for
 * the connection), and only its attestation, <dir>/<pid>, counts. It must
 * name that process (pid and start time: a reused pid does not match), the
 * engineer and the uid. A peer that started after accepted_ticks is not the
 * process that connected (its pid was reused).
 * Returns 0 (*out filled), or MG_ERR_DENIED with why saying what is
 * missing (for the audit log; the engineer is told "login not attested").
 */
int gw_attest_find(const char *dir, pid_t peer, uid_t uid, const char *engineer,
    unsigned long long accepted_ticks, struct mfa_attest *out, char *why,
    size_t whylen);

#endif
