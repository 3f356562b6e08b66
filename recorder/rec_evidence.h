/* SPDX-License-Identifier: BSD-2-Clause */
/* Accounting for a set of recordings against the session seals in the audit log. */
#ifndef REC_EVIDENCE_H
#define REC_EVIDENCE_H

#include <stddef.h>

#include "rec_audit.h"
#include "rec_reader.h"

enum rec_ev_verdict {
	REC_EV_OK,		/* the recording verifies and matches its seal */
	REC_EV_FAILED,		/* does not verify, or not what was sealed */
	REC_EV_MISSING,		/* sealed (or started) in the audit log, no recording */
	REC_EV_UNSEALED,	/* no seal in the logs given (still running, or not in them) */
};

/* One session's verdict. Strings are owned by the rec_evidence. */
struct rec_ev_item {
	const char *name;	/* the recording's path, or its file name when missing */
	const char *file;	/* its file name (SESSION.cast) */
	enum rec_ev_verdict verdict;
	char msg[600];
};

struct rec_ev_summary {
	size_t sessions, verified, missing, failed, unsealed;
};

struct rec_evidence;

int rec_evidence_new(struct rec_evidence **out);
/* NULL does nothing. */
void rec_evidence_free(struct rec_evidence *e);
/*
 * Notes one line of an audit log that verified (log: the log's name in
 * messages, kept by pointer: it must outlive e). session_end lines with a
 * seal are seals; session_start lines naming a recording say one exists;
 * any line naming the session or its recording is a trace.
 */
int rec_evidence_add_event(struct rec_evidence *e, const char *log,
    const struct rec_audit_line *ln);
/* Notes one recording as verified by rec_verify_* (name: its path, copied). */
int rec_evidence_add_recording(struct rec_evidence *e, const char *name,
    const struct rec_verify_result *res);
/*
 * Matches every seal and start to its recording by file name and session
 * id, and every recording to its seal: a recording that does not match its
 * seal, or whose seal names another session, fails; a sealed recording that
 * is incomplete fails (cut after its seal); a seal or start without a
 * recording is missing; a recording without a seal is unsealed, and its
 * message says whether the logs mention it at all. dir (may be NULL) is
 * put before a missing recording's file name. Fills sum. 0 or MG_ERR_NOMEM.
 */
int rec_evidence_match(struct rec_evidence *e, const char *dir, struct rec_ev_summary *sum);
size_t rec_evidence_count(const struct rec_evidence *e);
/* The i-th verdict, in file-name order (after match). */
const struct rec_ev_item *rec_evidence_item(const struct rec_evidence *e, size_t i);
const char *rec_ev_verdict_name(enum rec_ev_verdict v);

#endif
