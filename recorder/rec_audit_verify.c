/* SPDX-License-Identifier: BSD-2-Clause */
/* Verifying an audit log: every line's shape, sequence, hash chain and signature. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mg_err.h"
#include "rec_audit.h"
#include "rec_audit_int.h"
#include "rec_buf.h"
#include "rec_chain.h"
#include "rec_json.h"
#include "rec_lines.h"
#include "rec_sanitize.h"

static void
averdict(struct rec_verify_result *res, enum rec_verify_status st, uint64_t line,
    uint64_t off, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
averdict(struct rec_verify_result *res, enum rec_verify_status st, uint64_t line,
    uint64_t off, const char *fmt, ...)
{
	va_list ap;
	int n;

	res->status = st;
	res->line = line;
	res->offset = off;
	n = snprintf(res->msg, sizeof(res->msg), "line %" PRIu64 " (byte %" PRIu64 "): ",
	    line, off);
	if (n < 0 || (size_t)n >= sizeof(res->msg))
		n = 0;
	char m[sizeof(res->msg)];

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	/* It may quote the log (a forged line): printed, it must not act on a terminal. */
	rec_san_msg(res->msg + n, sizeof(res->msg) - (size_t)n, m);
}

/* 1 when s (sl bytes) is n lower-case hex digits. */
static int
is_hex(const char *s, size_t sl, size_t n)
{
	size_t i;

	if (s == NULL || sl != n)
		return 0;
	for (i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

/*
 * Line 1 (already verified): the log id and the link to the log before
 * it. 0, or -1 when the link fields are malformed (all or none of
 * prev_log, prev_seq and prev_hash; prev_error alone).
 */
static int
start_info(const struct rec_json *j, struct rec_audit_info *info)
{
	const char *s;
	size_t sl;
	double v;
	int has_log, has_seq, has_hash;

	s = rec_json_str(j, rec_json_get(j, 0, "log"), &sl);
	if (!is_hex(s, sl, 32))
		return -1;
	memcpy(info->log, s, 33);
	if (rec_json_get_num(j, 0, "ts", &v) == 0)
		info->start = (time_t)v;
	has_log = rec_json_get(j, 0, "prev_log") >= 0;
	has_seq = rec_json_get(j, 0, "prev_seq") >= 0;
	has_hash = rec_json_get(j, 0, "prev_hash") >= 0;
	if ((s = rec_json_str(j, rec_json_get(j, 0, "prev_error"), &sl)) != NULL) {
		if (has_log || has_seq || has_hash || sl == 0)
			return -1;
		info->link = REC_AUDIT_LINK_UNKNOWN;
		snprintf(info->prev_error, sizeof(info->prev_error), "%s", s);
		return 0;
	}
	if (rec_json_get(j, 0, "prev_error") >= 0)
		return -1;
	if (!has_log && !has_seq && !has_hash) {
		info->link = REC_AUDIT_LINK_NONE;
		return 0;
	}
	s = rec_json_str(j, rec_json_get(j, 0, "prev_log"), &sl);
	if (!is_hex(s, sl, 32))
		return -1;
	memcpy(info->prev_log, s, 33);
	if (rec_json_get_num(j, 0, "prev_seq", &v) != 0 || v < 1 || v > 1e15 ||
	    v != (double)(uint64_t)v)
		return -1;
	info->prev_seq = (uint64_t)v;
	s = rec_json_str(j, rec_json_get(j, 0, "prev_hash"), &sl);
	if (!is_hex(s, sl, 64) || rec_hex_decode(s, sl, info->prev_hash, 32) != 0)
		return -1;
	info->link = REC_AUDIT_LINK_PREV;
	return 0;
}

static int
verify_lines(struct rec_lines *lr, const struct rec_key *pub, struct rec_verify_result *res,
    struct rec_audit_info *info)
{
	struct rec_json j = { 0 };
	struct rec_buf msg = { 0 }, sig = { 0 };
	struct rec_line ln;
	uint8_t prev[32] = { 0 }, hash[32], want[32];
	const char *s, *ev;
	size_t sl, body;
	double v;
	int e, r = 0;

	memset(res, 0, sizeof(*res));
	if (info != NULL) {
		const char *name = info->name;

		memset(info, 0, sizeof(*info));
		info->name = name;
	}
	for (;;) {
		if ((e = rec_lines_next(lr, &ln)) == 0)
			break;
		if (e < 0) {
			if (e == MG_ERR_NOMEM) {
				r = e;
				goto out;
			}
			res->status = REC_VERIFY_FAILED;
			snprintf(res->msg, sizeof(res->msg), "%s", rec_lines_errmsg(lr));
			goto out;
		}
		res->total_lines = ln.lineno;
		if (!ln.newline) {
			averdict(res, REC_VERIFY_INCOMPLETE, ln.lineno, ln.offset, "last line "
			    "cut short (no newline): an interrupted write or a truncation; "
			    "lines 1-%" PRIu64 " verified", ln.lineno - 1);
			/* The lines before it stand: links to them can be checked. */
			if (info != NULL && ln.lineno > 1)
				info->ok = 1;
			goto out;
		}
		if ((e = rec_json_parse(&j, ln.p, ln.len)) != 0) {
			if (e == MG_ERR_NOMEM) {
				r = e;
				goto out;
			}
			averdict(res, REC_VERIFY_FAILED, ln.lineno, ln.offset + j.err_off,
			    "not valid JSON: %s", j.err);
			goto out;
		}
		if (j.n[0].type != REC_JSON_OBJ || rec_json_get_num(&j, 0, "seq", &v) != 0 ||
		    (ev = rec_json_get_str(&j, 0, "event")) == NULL) {
			averdict(res, REC_VERIFY_FAILED, ln.lineno, ln.offset,
			    "not an audit event (no seq or event)");
			goto out;
		}
		if (v != (double)ln.lineno) {
			averdict(res, REC_VERIFY_FAILED, ln.lineno, ln.offset, "sequence number "
			    "%.0f where %" PRIu64 " was expected: events deleted, inserted or "
			    "reordered before this line", v, ln.lineno);
			goto out;
		}
		if (ln.lineno == 1 && strcmp(ev, "log_start") != 0) {
			averdict(res, REC_VERIFY_FAILED, ln.lineno, ln.offset,
			    "the log does not begin with log_start: its start was cut off");
			goto out;
		}
		/* The exact suffix: the hash covers every byte before it. */
		if (ln.len < SUFFIX_LEN + 1 || memcmp(ln.p + ln.len - SUFFIX_LEN, HASH_KEY,
		    sizeof(HASH_KEY) - 1) != 0 || memcmp(ln.p + ln.len - 2, "\"}", 2) != 0) {
			averdict(res, REC_VERIFY_FAILED, ln.lineno, ln.offset,
			    "hash and signature are not where they belong (end of line)");
			goto out;
		}
		body = ln.len - SUFFIX_LEN;
		if ((s = rec_json_str(&j, rec_json_get(&j, 0, "prev"), &sl)) == NULL ||
		    rec_hex_decode(s, sl, want, 32) != 0 || memcmp(want, prev, 32) != 0) {
			averdict(res, REC_VERIFY_FAILED, ln.lineno, ln.offset, "prev does not "
			    "match the hash of line %" PRIu64 ": a line was changed, deleted "
			    "or moved", ln.lineno - 1);
			goto out;
		}
		if ((r = rec_audit_sha256(AUDIT_TAG, strlen(AUDIT_TAG), ln.p, body, hash)) != 0)
			goto out;
		if ((s = rec_json_str(&j, rec_json_get(&j, 0, "hash"), &sl)) == NULL ||
		    rec_hex_decode(s, sl, want, 32) != 0 || memcmp(want, hash, 32) != 0) {
			averdict(res, REC_VERIFY_FAILED, ln.lineno, ln.offset,
			    "the line was changed (its hash does not match its content)");
			goto out;
		}
		rec_buf_reset(&sig);
		if ((s = rec_json_str(&j, rec_json_get(&j, 0, "sig"), &sl)) == NULL ||
		    rec_base64_decode(s, sl, &sig) != 0 || sig.len != REC_SIG_LEN ||
		    (r = rec_audit_sig_message(&msg, hash)) != 0 ||
		    rec_key_verify(pub, msg.p, msg.len, sig.p, sig.len) != 0) {
			if (r != 0)
				goto out;
			averdict(res, REC_VERIFY_FAILED, ln.lineno, ln.offset,
			    "bad signature: forged, or signed by another key");
			goto out;
		}
		if (ln.lineno == 1 && info != NULL && start_info(&j, info) != 0) {
			averdict(res, REC_VERIFY_FAILED, ln.lineno, ln.offset, "log_start has "
			    "no valid log id or a malformed link to the previous log "
			    "(prev_log, prev_seq, prev_hash or prev_error)");
			goto out;
		}
		if (ln.lineno == 1 && info != NULL)
			info->has_start = 1;
		memcpy(prev, hash, 32);
		res->verified_lines = ln.lineno;
		res->checkpoints = ln.lineno;
		if (info != NULL) {
			info->last_seq = ln.lineno;
			memcpy(info->last_hash, hash, 32);
		}
	}
	if (res->total_lines == 0) {
		res->status = REC_VERIFY_FAILED;
		snprintf(res->msg, sizeof(res->msg), "empty audit log");
		goto out;
	}
	res->status = REC_VERIFY_OK;
	if (info != NULL)
		info->ok = 1;
	{
		struct rec_buf hx = { 0 };

		if (rec_buf_hex(&hx, prev, 32) == 0)
			snprintf(res->seal, sizeof(res->seal), "sha256:%s", (char *)hx.p);
		rec_buf_free(&hx);
	}
	snprintf(res->msg, sizeof(res->msg), "%" PRIu64 " events, last hash %.23s",
	    res->total_lines, res->seal);
out:
	rec_json_free(&j);
	rec_buf_free(&msg);
	rec_buf_free(&sig);
	return r;
}

int
rec_audit_verify_file(const char *path, const struct rec_key *pub,
    struct rec_verify_result *res)
{
	return rec_audit_verify_file_info(path, pub, res, NULL);
}

int
rec_audit_verify_mem(const void *buf, size_t len, const struct rec_key *pub,
    struct rec_verify_result *res)
{
	return rec_audit_verify_mem_info(buf, len, pub, res, NULL);
}

int
rec_audit_verify_file_info(const char *path, const struct rec_key *pub,
    struct rec_verify_result *res, struct rec_audit_info *info)
{
	struct rec_lines lr;
	int fd, r;

	memset(res, 0, sizeof(*res));
	if (info != NULL) {
		const char *name = info->name;

		memset(info, 0, sizeof(*info));
		info->name = name;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		snprintf(res->msg, sizeof(res->msg), "%s: %s", path, strerror(errno));
		return errno == ENOENT ? MG_ERR_NOENT : MG_ERR_SYSTEM;
	}
	rec_lines_init_fd(&lr, fd, AUDIT_TAIL);
	r = verify_lines(&lr, pub, res, info);
	rec_lines_free(&lr);
	return r;
}

int
rec_audit_verify_mem_info(const void *buf, size_t len, const struct rec_key *pub,
    struct rec_verify_result *res, struct rec_audit_info *info)
{
	struct rec_lines lr;
	int r;

	rec_lines_init_mem(&lr, buf, len, AUDIT_TAIL);
	r = verify_lines(&lr, pub, res, info);
	rec_lines_free(&lr);
	return r;
}
