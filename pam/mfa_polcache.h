/* SPDX-License-Identifier: BSD-2-Clause */
/* The policy, parsed once per change of its files and shared by the PAM handles of a process. */
#ifndef MFA_POLCACHE_H
#define MFA_POLCACHE_H

#include "mg_diag.h"
#include "pol.h"

struct mfa_polref;

/*
 * The policy at path: the one parsed before when none of its files (the
 * main one and every @include) changed since (device, inode, size,
 * modification and change times), else parsed now (pol_load: every check
 * again). *out stays valid until mfa_polcache_put(*ref), whatever later
 * calls load. Thread-safe. Returns 0, or pol_load's error (diag says why).
 */
int mfa_polcache_get(const char *path, struct mfa_polref **ref, const struct pol **out,
    struct mg_diag *diag);
/* Gives the reference back; NULL does nothing. */
void mfa_polcache_put(struct mfa_polref *ref);

#endif
