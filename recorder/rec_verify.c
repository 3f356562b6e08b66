/* SPDX-License-Identifier: BSD-2-Clause */
/* Verifying a recording: hash chain, signed checkpoints, order, name, completeness. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_err.h"
#include "rec_buf.h"
#include "rec_chain.h"
#include "rec_reader.h"
#include "rec_sanitize.h"

static void
verdict(struct rec_verify_result *res, enum rec_verify_status st, uint64_t line,
    uint64_t off, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
verdict(struct rec_verify_result *res, enum rec_verify_status st, uint64_t line,
    uint64_t off, const char *fmt, ...)
{
	va_list ap;
	char m[sizeof(res->msg)];

	res->status = st;
	res->line = line;
	res->offset = off;
	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	/* It may quote the file (a forged header): printed, it must not act on a terminal. */
	rec_san_msg(res->msg, sizeof(res->msg), m);
}

/* "after checkpoint 3 (line 2001)" or "after the header". */
static void
since(const struct rec_verify_result *res, uint64_t cp_line, char *buf, size_t len)
{
	if (res->checkpoints == 0)
		snprintf(buf, len, "lines 2-");
	else
		snprintf(buf, len, "lines %" PRIu64 "-", cp_line + 1);
}

static int
run(struct rec_reader *rd, const char *name, const struct rec_key *pub,
    struct rec_verify_result *res)
{
	const struct rec_header *h = rec_reader_header(rd);
	struct rec_chain ch = { 0 };
	struct rec_buf msg = { 0 };
	struct rec_event ev;
	struct rec_cp cp;
	uint64_t cp_line = 1, lines = 1;
	double last_t = 0;
	int e, done = 0, r = 0;
	char range[64];

	if (!h->mspgate || h->session == NULL || h->file == NULL || h->nonce == NULL) {
		verdict(res, REC_VERIFY_FAILED, 1, 0,
		    "line 1: not an mspgate recording (no session, file and nonce in the header)");
		return 0;
	}
	snprintf(res->session, sizeof(res->session), "%s", h->session);
	if (name != NULL) {
		const char *b = strrchr(name, '/');

		b = b ? b + 1 : name;
		/* The name is part of the signed header: a renamed copy of
		 * another session's recording must not pass as this one. */
		if (strcmp(b, h->file) != 0) {
			verdict(res, REC_VERIFY_FAILED, 1, 0, "file is named %s but was "
			    "written as %s (session %s): renamed or substituted", b,
			    h->file, h->session);
			return 0;
		}
	}
	if ((r = rec_chain_start(&ch, h->raw, h->rawlen)) != 0)
		goto out;
	for (;;) {
		if ((e = rec_reader_next(rd, &ev)) == 0)
			break;
		if (e < 0) {
			if (e == MG_ERR_NOMEM) {
				r = e;
				goto out;
			}
			res->total_lines = ev.line ? ev.line : lines + 1;
			if (rec_reader_torn(rd) && !done) {
				verdict(res, REC_VERIFY_INCOMPLETE, ev.line, ev.offset,
				    "%s; no final checkpoint", rec_reader_errmsg(rd));
				goto incomplete;
			}
			verdict(res, REC_VERIFY_FAILED, ev.line, ev.offset, "%s",
			    rec_reader_errmsg(rd));
			goto out;
		}
		lines = ev.line;
		if (done) {
			verdict(res, REC_VERIFY_FAILED, ev.line, ev.offset, "line %" PRIu64
			    " (byte %" PRIu64 "): data after the final checkpoint", ev.line,
			    ev.offset);
			goto out;
		}
		if (ev.t < last_t) {
			verdict(res, REC_VERIFY_FAILED, ev.line, ev.offset, "line %" PRIu64
			    " (byte %" PRIu64 "): time goes backwards (%.6f after %.6f): "
			    "lines reordered?", ev.line, ev.offset, ev.t, last_t);
			goto out;
		}
		last_t = ev.t;
		if (ev.code == 'c') {
			since(res, cp_line, range, sizeof(range));
			if (rec_cp_parse((const char *)ev.data, ev.len, &cp) != 0) {
				verdict(res, REC_VERIFY_FAILED, ev.line, ev.offset, "line %"
				    PRIu64 " (byte %" PRIu64 "): malformed checkpoint", ev.line,
				    ev.offset);
				goto out;
			}
			if (cp.seq != res->checkpoints + 1) {
				verdict(res, REC_VERIFY_FAILED, ev.line, ev.offset, "line %"
				    PRIu64 ": checkpoint %" PRIu64 " where %" PRIu64 " was "
				    "expected: a checkpoint was removed, repeated or moved",
				    ev.line, cp.seq, res->checkpoints + 1);
				goto out;
			}
			if ((r = rec_cp_message(&msg, h->session, ch.h0, &cp)) != 0)
				goto out;
			if (rec_key_verify(pub, msg.p, msg.len, cp.sig, REC_SIG_LEN) != 0) {
				verdict(res, REC_VERIFY_FAILED, ev.line, ev.offset, "line %"
				    PRIu64 ": checkpoint %" PRIu64 " has a bad signature: forged, "
				    "signed by another key, or copied from another recording "
				    "(this one is session %s, key %s)", ev.line, cp.seq,
				    h->session, h->key ? h->key : "?");
				goto out;
			}
			if (cp.lines != ev.line - 1) {
				verdict(res, REC_VERIFY_FAILED, ev.line, ev.offset, "line %"
				    PRIu64 ": checkpoint %" PRIu64 " signed %" PRIu64 " lines "
				    "before it, found %" PRIu64 ": lines deleted or inserted in %s%"
				    PRIu64, ev.line, cp.seq, cp.lines, ev.line - 1, range,
				    ev.line - 1);
				goto out;
			}
			if (memcmp(cp.hash, ch.h, REC_HASH_LEN) != 0) {
				verdict(res, REC_VERIFY_FAILED, ev.line, ev.offset, "line %"
				    PRIu64 ": checkpoint %" PRIu64 " does not match the lines "
				    "before it: a line in %s%" PRIu64 " was changed, swapped "
				    "or replaced", ev.line, cp.seq, range, ev.line - 1);
				goto out;
			}
			res->checkpoints++;
			res->verified_lines = ev.line;
			res->verified_time = ev.t;
			cp_line = ev.line;
			if (cp.final)
				done = 1;
		}
		if ((r = rec_chain_add(&ch, ev.raw, ev.rawlen)) != 0)
			goto out;
	}
	res->total_lines = lines;
	if (!done) {
		verdict(res, REC_VERIFY_INCOMPLETE, lines, 0, "no final checkpoint: the "
		    "recording was cut short (crash or truncation) after line %" PRIu64,
		    lines);
		goto incomplete;
	}
	{
		struct rec_buf hx = { 0 };

		if ((r = rec_buf_adds(&hx, "sha256:")) == 0 &&
		    (r = rec_buf_hex(&hx, ch.h, REC_HASH_LEN)) == 0)
			snprintf(res->seal, sizeof(res->seal), "%s", (char *)hx.p);
		rec_buf_free(&hx);
		if (r != 0)
			goto out;
	}
	verdict(res, REC_VERIFY_OK, 0, 0, "%" PRIu64 " lines, %" PRIu64
	    " checkpoints, %.1fs, seal %s", lines, res->checkpoints, last_t, res->seal);
	goto out;
incomplete:
	{
		size_t l = strlen(res->msg);

		if (res->checkpoints > 0)
			snprintf(res->msg + l, sizeof(res->msg) - l, "; verified up to "
			    "checkpoint %" PRIu64 " (lines 1-%" PRIu64 ", %.1fs); lines "
			    "after it are not covered by a signature", res->checkpoints,
			    res->verified_lines, res->verified_time);
		else
			snprintf(res->msg + l, sizeof(res->msg) - l, "; no checkpoint was "
			    "written: nothing can be verified");
	}
out:
	rec_chain_free(&ch);
	rec_buf_free(&msg);
	return r;
}

static int
verify_reader(struct rec_reader *rd, const char *name, const struct rec_key *pub,
    struct rec_verify_result *res)
{
	return run(rd, name, pub, res);
}

int
rec_verify_file(const char *path, const struct rec_key *pub, struct rec_verify_result *res)
{
	struct rec_reader *rd = NULL;
	char err[400];
	int r;

	memset(res, 0, sizeof(*res));
	if ((r = rec_reader_open(path, &rd, err, sizeof(err))) != 0) {
		if (r == MG_ERR_PARSE || r == MG_ERR_TOOBIG) {
			const char *p = strncmp(err, path, strlen(path)) == 0 ?
			    err + strlen(path) + 2 : err;

			verdict(res, REC_VERIFY_FAILED, 1, 0, "%s", p);
			return 0;
		}
		snprintf(res->msg, sizeof(res->msg), "%s", err);
		return r;
	}
	r = verify_reader(rd, path, pub, res);
	rec_reader_free(rd);
	return r;
}

int
rec_verify_mem(const void *buf, size_t len, const char *name, const struct rec_key *pub,
    struct rec_verify_result *res)
{
	struct rec_reader *rd = NULL;
	char err[400];
	int r;

	memset(res, 0, sizeof(*res));
	if ((r = rec_reader_open_mem(buf, len, &rd, err, sizeof(err))) != 0) {
		if (r == MG_ERR_PARSE || r == MG_ERR_TOOBIG) {
			verdict(res, REC_VERIFY_FAILED, 1, 0, "%s", err);
			return 0;
		}
		return r;
	}
	r = verify_reader(rd, name, pub, res);
	rec_reader_free(rd);
	return r;
}
