/* SPDX-License-Identifier: BSD-2-Clause */
/* Reading audit-log lines as events, for tools that act on what the log says. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mg_err.h"
#include "rec_audit.h"
#include "rec_json.h"
#include "rec_lines.h"

#define AUDIT_LINE_MAX 65536

struct rec_audit_reader {
	struct rec_lines lr;
	struct rec_json j;
	char errmsg[300];
	int err;
};

int
rec_audit_reader_open(const char *path, struct rec_audit_reader **out, char *err,
    size_t errlen)
{
	struct rec_audit_reader *r;
	int fd;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return e == ENOENT ? MG_ERR_NOENT : MG_ERR_SYSTEM;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		close(fd);
		return MG_ERR_NOMEM;
	}
	rec_lines_init_fd(&r->lr, fd, AUDIT_LINE_MAX);
	*out = r;
	return 0;
}

int
rec_audit_reader_open_mem(const void *buf, size_t len, struct rec_audit_reader **out)
{
	struct rec_audit_reader *r;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return MG_ERR_NOMEM;
	rec_lines_init_mem(&r->lr, buf, len, AUDIT_LINE_MAX);
	*out = r;
	return 0;
}

void
rec_audit_reader_free(struct rec_audit_reader *r)
{
	if (r == NULL)
		return;
	rec_lines_free(&r->lr);
	rec_json_free(&r->j);
	free(r);
}

const char *
rec_audit_reader_errmsg(const struct rec_audit_reader *r)
{
	return r->errmsg;
}

static const char *
str(const struct rec_json *j, const char *key)
{
	const char *s;
	size_t l;

	/* A string with a NUL in it is not one a writer wrote: left out. */
	if ((s = rec_json_str(j, rec_json_get(j, 0, key), &l)) == NULL || strlen(s) != l)
		return NULL;
	return s;
}

static int
rerr(struct rec_audit_reader *r, int e, const struct rec_line *ln, const char *what)
{
	snprintf(r->errmsg, sizeof(r->errmsg), "line %llu (byte %llu): %s",
	    (unsigned long long)ln->lineno, (unsigned long long)ln->offset, what);
	r->err = e;
	return e;
}

int
rec_audit_reader_next(struct rec_audit_reader *r, struct rec_audit_line *out)
{
	struct rec_line ln;
	double v;
	int e;

	memset(out, 0, sizeof(*out));
	if (r->err != 0)
		return r->err;
	if ((e = rec_lines_next(&r->lr, &ln)) <= 0) {
		if (e < 0) {
			snprintf(r->errmsg, sizeof(r->errmsg), "%s", rec_lines_errmsg(&r->lr));
			r->err = e;
		}
		return e;
	}
	out->lineno = ln.lineno;
	out->offset = ln.offset;
	if (!ln.newline)
		return rerr(r, MG_ERR_PARSE, &ln, "last line cut short (no newline)");
	if ((e = rec_json_parse(&r->j, ln.p, ln.len)) != 0)
		return rerr(r, e, &ln, e == MG_ERR_NOMEM ? "out of memory" : "not valid JSON");
	if (r->j.n[0].type != REC_JSON_OBJ || rec_json_get_num(&r->j, 0, "seq", &v) != 0 ||
	    v < 1 || v > 1e15 || (out->event = str(&r->j, "event")) == NULL ||
	    (out->hash = str(&r->j, "hash")) == NULL || strlen(out->hash) != 64 ||
	    (out->sig = str(&r->j, "sig")) == NULL)
		return rerr(r, MG_ERR_PARSE, &ln, "not an audit event (seq, event, hash)");
	out->seq = (uint64_t)v;
	out->type = rec_audit_type_parse(out->event);
	/* Bounded before the conversion: a number out of range is no time. */
	if (rec_json_get_num(&r->j, 0, "ts", &v) == 0 && v > -1e15 && v < 1e15)
		out->ts = (int64_t)v;
	out->time = str(&r->j, "time");
	out->log = str(&r->j, "log");
	out->prev_log = str(&r->j, "prev_log");
	out->prev_hash = str(&r->j, "prev_hash");
	if (rec_json_get_num(&r->j, 0, "prev_seq", &v) == 0 && v >= 1 && v <= 1e15)
		out->prev_seq = (uint64_t)v;
	out->session = str(&r->j, "session");
	out->engineer = str(&r->j, "engineer");
	out->tenant = str(&r->j, "tenant");
	out->target = str(&r->j, "target");
	out->login = str(&r->j, "login");
	out->source = str(&r->j, "source");
	out->ticket = str(&r->j, "ticket");
	out->result = str(&r->j, "result");
	out->reason = str(&r->j, "reason");
	out->rule = str(&r->j, "rule");
	out->recording = str(&r->j, "recording");
	out->seal = str(&r->j, "seal");
	out->raw = ln.p;
	out->rawlen = ln.len;
	return 1;
}
