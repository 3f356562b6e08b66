/* SPDX-License-Identifier: BSD-2-Clause */
/* Signed evidence bundles: one tenant's recordings, audit events and grants, for the client. */
#ifndef REC_BUNDLE_H
#define REC_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rec_buf.h"
#include "rec_key.h"

struct rec_bundle_file {
	const char *name;	/* audit log: its name in messages; recording: its file name */
	const uint8_t *data;
	size_t len;
	int64_t start;		/* recordings: the header's timestamp */
};

struct rec_bundle_in {
	const char *tenant;
	int64_t since, until;	/* [since, until), seconds since the epoch */
	int64_t now;		/* creation time written in the manifest */
	const struct rec_key *key;	/* the signing key (private) */
	const char *grants;	/* `mspgate-policy report --tenant T` output */
	size_t grantslen;
	const struct rec_bundle_file *logs;	/* the audit logs, any order */
	size_t nlogs;
	const struct rec_bundle_file *recs;	/* the tenant's recordings */
	size_t nrecs;
};

/*
 * Builds the bundle (an uncompressed tar, doc/FORMATS.md "Evidence
 * bundles") into tar: the tenant's recordings that started in the period
 * or are named by its events, its audit events in the period (each log's
 * log_start and those lines, verbatim) with every line's hash and
 * signature so that their place in the chain shows without other
 * tenants' lines, the grants, the public key and a signed manifest.
 * Every audit log must verify first. 0, or an error with err saying why.
 */
int rec_bundle_make(const struct rec_bundle_in *in, struct rec_buf *tar, char *err,
    size_t errlen);

/*
 * Checks a bundle against the key the client pinned, printing one line per
 * part to out and a last "bundle: OK ..." or "bundle: FAILED ..." line.
 * Returns 0 when everything verifies, 1 when something does not, or a
 * negative MG_ERR_* when it could not run.
 */
int rec_bundle_verify(const void *tar, size_t len, const struct rec_key *pub, FILE *out);

#endif
