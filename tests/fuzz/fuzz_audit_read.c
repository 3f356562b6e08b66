/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz target: reading audit lines as events, and matching seals to recordings. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rec_audit.h"
#include "rec_evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input is an audit log: its events are read and matched against two
 * recordings, one sealed as A.cast (session A), one a copy of it cut short.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec_audit_reader *rd = NULL;
	struct rec_evidence *e = NULL;
	struct rec_audit_line ln;
	struct rec_verify_result res = { 0 };
	struct rec_ev_summary sum;
	size_t i;

	if (rec_audit_reader_open_mem(data, size, &rd) != 0 || rec_evidence_new(&e) != 0)
		goto out;
	while (rec_audit_reader_next(rd, &ln) > 0) {
		/* Everything the reader hands out is a string or NULL. */
		if (ln.session != NULL && strlen(ln.session) > size)
			__builtin_trap();
		if (rec_evidence_add_event(e, "log", &ln) != 0)
			goto out;
	}
	res.status = REC_VERIFY_OK;
	snprintf(res.session, sizeof(res.session), "A");
	snprintf(res.seal, sizeof(res.seal), "sha256:%064d", 0);
	if (rec_evidence_add_recording(e, "d/A.cast", &res) != 0)
		goto out;
	res.status = REC_VERIFY_INCOMPLETE;
	if (rec_evidence_add_recording(e, "e/A.cast.gz", &res) != 0 ||
	    rec_evidence_match(e, "d", &sum) != 0)
		goto out;
	for (i = 0; i < rec_evidence_count(e); i++) {
		const struct rec_ev_item *it = rec_evidence_item(e, i);

		if (it == NULL || it->name == NULL || strlen(it->msg) >= sizeof(it->msg))
			__builtin_trap();
	}
	if (sum.sessions != sum.verified + sum.missing + sum.failed + sum.unsealed)
		__builtin_trap();
out:
	rec_evidence_free(e);
	rec_audit_reader_free(rd);
	return 0;
}
