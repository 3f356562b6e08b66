/* SPDX-License-Identifier: BSD-2-Clause */
/* The audit signing key, loaded once per change of its file and shared by the PAM handles of a process. */
#ifndef MFA_KEYCACHE_H
#define MFA_KEYCACHE_H

#include <stddef.h>

struct rec_key;
struct mfa_keyref;

/*
 * The private key at path (owner: root or owner), loaded and checked by
 * rec_key_load_private_owner the first time and again whenever the file
 * changes (device, inode, size, modification and change times: a new
 * owner or mode moves the change time). *key stays valid until
 * mfa_keycache_put(*ref). Thread-safe. 0 or rec_key's error (err says).
 */
int mfa_keycache_get(const char *path, const char *owner, struct mfa_keyref **ref,
    const struct rec_key **key, char *err, size_t errlen);
void mfa_keycache_put(struct mfa_keyref *ref);

#endif
