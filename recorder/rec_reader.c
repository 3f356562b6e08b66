/* SPDX-License-Identifier: BSD-2-Clause */
/* Reading recordings event by event. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>		/* isfinite (a macro: no -lm) */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mg_err.h"
#include "rec_buf.h"
#include "rec_json.h"
#include "rec_lines.h"
#include "rec_reader.h"
#include "rec_writer.h"

struct rec_reader {
	struct rec_lines lr;
	struct rec_json j;
	struct rec_buf data;	/* decoded x payloads */
	struct rec_header h;
	int have_header;
	char *hraw;
	char **strs;		/* strings owned for the header */
	size_t nstrs;
	char **meta;
	int err;
	int torn;
	char errmsg[300];
};

static int
rerr(struct rec_reader *r, int code, uint64_t line, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
rerr(struct rec_reader *r, int code, uint64_t line, uint64_t off, const char *fmt, ...)
{
	char m[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	snprintf(r->errmsg, sizeof(r->errmsg), "line %" PRIu64 " (byte %" PRIu64 "): %s",
	    line, off, m);
	r->err = code;
	return code;
}

static const char *
keep(struct rec_reader *r, const char *s)
{
	char **ns;

	if (s == NULL)
		return NULL;
	if ((ns = realloc(r->strs, (r->nstrs + 1) * sizeof(*ns))) == NULL)
		return NULL;
	r->strs = ns;
	if ((ns[r->nstrs] = strdup(s)) == NULL)
		return NULL;
	return ns[r->nstrs++];
}

static const char *
hstr(struct rec_reader *r, long obj, const char *key)
{
	if (obj < 0)
		return NULL;
	return keep(r, rec_json_get_str(&r->j, (size_t)obj, key));
}

static int
parse_header(struct rec_reader *r, const char *line, size_t len)
{
	struct rec_json *j = &r->j;
	double v, w, h;
	long mg, env, meta;
	int e;

	if ((e = rec_json_parse(j, line, len)) != 0) {
		if (e == MG_ERR_NOMEM)
			return e;
		return rerr(r, MG_ERR_PARSE, 1, j->err_off, "header: %s", j->err);
	}
	if (j->n[0].type != REC_JSON_OBJ || rec_json_get_num(j, 0, "version", &v) != 0 ||
	    v != 2)
		return rerr(r, MG_ERR_PARSE, 1, 0, "not an asciicast v2 header");
	if (rec_json_get_num(j, 0, "width", &w) != 0 || rec_json_get_num(j, 0, "height", &h) != 0 ||
	    w < 1 || h < 1 || w > 10000 || h > 10000 || w != (int)w || h != (int)h)
		return rerr(r, MG_ERR_PARSE, 1, 0, "header: bad width or height");
	r->h.width = (int)w;
	r->h.height = (int)h;
	if (rec_json_get_num(j, 0, "timestamp", &v) == 0 && v >= 0 && v < 1e12)
		r->h.timestamp = (long long)v;
	env = rec_json_get(j, 0, "env");
	r->h.term = hstr(r, env, "TERM");
	r->h.title = hstr(r, 0, "title");
	mg = rec_json_get(j, 0, "mspgate");
	if (mg >= 0 && j->n[mg].type == REC_JSON_OBJ) {
		r->h.mspgate = 1;
		r->h.session = hstr(r, mg, "session");
		r->h.file = hstr(r, mg, "file");
		r->h.nonce = hstr(r, mg, "nonce");
		r->h.key = hstr(r, mg, "key");
		r->h.start = hstr(r, mg, "start");
		r->h.engineer = hstr(r, mg, "engineer");
		r->h.tenant = hstr(r, mg, "tenant");
		r->h.target = hstr(r, mg, "target");
		r->h.login = hstr(r, mg, "login");
		r->h.mfa = hstr(r, mg, "mfa");
		r->h.source = hstr(r, mg, "source");
		r->h.ticket = hstr(r, mg, "ticket");
		r->h.command = hstr(r, mg, "command");
		meta = rec_json_get(j, (size_t)mg, "meta");
		if (meta >= 0 && j->n[meta].type == REC_JSON_OBJ) {
			uint32_t k;
			size_t n = 0;

			if ((r->meta = calloc(j->n[meta].count + 1, sizeof(char *))) == NULL)
				return MG_ERR_NOMEM;
			for (k = j->n[meta].child; k != 0; k = j->n[k].next) {
				const char *val = rec_json_str(j, (long)k, NULL);

				if (val == NULL)
					continue;
				if (asprintf(&r->meta[n], "%s=%s", rec_json_key(j, k), val) < 0) {
					r->meta[n] = NULL;
					return MG_ERR_NOMEM;
				}
				n++;
			}
		}
	}
	r->h.meta = (const char *const *)r->meta;
	if ((r->hraw = malloc(len + 1)) == NULL)
		return MG_ERR_NOMEM;
	memcpy(r->hraw, line, len);
	r->hraw[len] = '\0';
	r->h.raw = r->hraw;
	r->h.rawlen = len;
	r->have_header = 1;
	return 0;
}

static int
start(struct rec_reader *r, char *err, size_t errlen)
{
	struct rec_line ln;
	int e;

	e = rec_lines_next(&r->lr, &ln);
	if (e < 0) {
		snprintf(err, errlen, "%s", rec_lines_errmsg(&r->lr));
		return e;
	}
	if (e == 0) {
		snprintf(err, errlen, "empty file");
		return MG_ERR_PARSE;
	}
	if (!ln.newline) {
		r->torn = 1;
		snprintf(err, errlen, "line 1 (byte 0): header cut short");
		return MG_ERR_PARSE;
	}
	if ((e = parse_header(r, ln.p, ln.len)) != 0) {
		snprintf(err, errlen, "%s", e == MG_ERR_NOMEM ? "out of memory" : r->errmsg);
		return e;
	}
	return 0;
}

int
rec_reader_open(const char *path, struct rec_reader **out, char *err, size_t errlen)
{
	struct rec_reader *r;
	char e[300] = "";
	int fd, rc;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? MG_ERR_NOENT : MG_ERR_SYSTEM;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		close(fd);
		return MG_ERR_NOMEM;
	}
	rec_lines_init_fd(&r->lr, fd, REC_LINE_MAX);
	if ((rc = start(r, e, sizeof(e))) != 0) {
		snprintf(err, errlen, "%s: %s", path, e);
		rec_reader_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int
rec_reader_open_mem(const void *buf, size_t len, struct rec_reader **out, char *err,
    size_t errlen)
{
	struct rec_reader *r;
	int rc;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return MG_ERR_NOMEM;
	rec_lines_init_mem(&r->lr, buf, len, REC_LINE_MAX);
	if ((rc = start(r, err, errlen)) != 0) {
		rec_reader_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void
rec_reader_free(struct rec_reader *r)
{
	size_t i;

	if (r == NULL)
		return;
	rec_lines_free(&r->lr);
	rec_json_free(&r->j);
	rec_buf_free(&r->data);
	for (i = 0; i < r->nstrs; i++)
		free(r->strs[i]);
	free(r->strs);
	if (r->meta != NULL) {
		for (i = 0; r->meta[i] != NULL; i++)
			free(r->meta[i]);
		free(r->meta);
	}
	free(r->hraw);
	free(r);
}

const struct rec_header *
rec_reader_header(const struct rec_reader *r)
{
	return r->have_header ? &r->h : NULL;
}

const char *
rec_reader_errmsg(const struct rec_reader *r)
{
	return r->errmsg;
}

int
rec_reader_torn(const struct rec_reader *r)
{
	return r->torn;
}

int
rec_reader_next(struct rec_reader *r, struct rec_event *ev)
{
	struct rec_json *j = &r->j;
	struct rec_line ln;
	long a0, a1, a2;
	const char *code, *s;
	size_t clen, slen;
	int e;

	memset(ev, 0, sizeof(*ev));
	if (r->err != 0)
		return r->err;
	if ((e = rec_lines_next(&r->lr, &ln)) < 0) {
		snprintf(r->errmsg, sizeof(r->errmsg), "%s", rec_lines_errmsg(&r->lr));
		r->err = e;
		return e;
	}
	if (e == 0)
		return 0;
	ev->line = ln.lineno;
	ev->offset = ln.offset;
	ev->raw = ln.p;
	ev->rawlen = ln.len;
	if (!ln.newline) {
		r->torn = 1;
		return rerr(r, MG_ERR_PARSE, ln.lineno, ln.offset,
		    "last line cut short (no newline): the file was truncated");
	}
	if ((e = rec_json_parse(j, ln.p, ln.len)) != 0) {
		if (e == MG_ERR_NOMEM)
			return (r->err = e);
		return rerr(r, MG_ERR_PARSE, ln.lineno, ln.offset + j->err_off, "%s", j->err);
	}
	if (j->n[0].type != REC_JSON_ARR || j->n[0].count != 3)
		return rerr(r, MG_ERR_PARSE, ln.lineno, ln.offset,
		    "an event must be [time, code, data]");
	a0 = rec_json_at(j, 0, 0);
	a1 = rec_json_at(j, 0, 1);
	a2 = rec_json_at(j, 0, 2);
	if (j->n[a0].type != REC_JSON_NUM || !isfinite(j->n[a0].num) || j->n[a0].num < 0 ||
	    j->n[a0].num > 1e9)
		return rerr(r, MG_ERR_PARSE, ln.lineno, ln.offset, "bad event time");
	ev->t = j->n[a0].num;
	if ((code = rec_json_str(j, a1, &clen)) == NULL)
		return rerr(r, MG_ERR_PARSE, ln.lineno, ln.offset, "event code is not a string");
	s = rec_json_str(j, a2, &slen);
	ev->code = clen == 1 && strchr("oirmcx", code[0]) != NULL ? code[0] : '?';
	if (ev->code == '?')
		return 1;	/* other players' codes: skipped, still chained */
	if (s == NULL)
		return rerr(r, MG_ERR_PARSE, ln.lineno, ln.offset, "event data is not a string");
	ev->data = (const uint8_t *)s;
	ev->len = slen;
	switch (ev->code) {
	case 'o':
	case 'i':
		ev->stream = ev->code;
		break;
	case 'x':
		if (slen < 2 || (s[0] != 'o' && s[0] != 'i') || (s[1] != ':' && s[1] != '*'))
			return rerr(r, MG_ERR_PARSE, ln.lineno, ln.offset,
			    "raw-bytes event must be \"o:BASE64\", \"i:BASE64\", "
			    "\"o*COUNT\" or \"i*COUNT\"");
		ev->stream = s[0];
		rec_buf_reset(&r->data);
		if (s[1] == '*') {
			size_t k, cnt = 0;

			/* COUNT NUL bytes: 1..REC_EVENT_MAX, decimal, no leading zero. */
			for (k = 2; k < slen && k < 8 && s[k] >= '0' && s[k] <= '9'; k++)
				cnt = cnt * 10 + (size_t)(s[k] - '0');
			if (k != slen || slen == 2 || s[2] == '0' || cnt > REC_EVENT_MAX)
				return rerr(r, MG_ERR_PARSE, ln.lineno, ln.offset,
				    "raw-bytes event: bad NUL count");
			if (rec_buf_addz(&r->data, cnt) != 0)
				return rerr(r, MG_ERR_NOMEM, ln.lineno, ln.offset, "out of memory");
			ev->data = r->data.p;
			ev->len = r->data.len;
			break;
		}
		if (rec_base64_decode(s + 2, slen - 2, &r->data) != 0 || r->data.len == 0)
			return rerr(r, MG_ERR_PARSE, ln.lineno, ln.offset,
			    "raw-bytes event: bad base64");
		ev->data = r->data.p;
		ev->len = r->data.len;
		break;
	case 'r': {
		char *end;
		long c, rows;

		errno = 0;
		c = strtol(s, &end, 10);
		if (end == s || *end != 'x')
			return rerr(r, MG_ERR_PARSE, ln.lineno, ln.offset, "bad resize event");
		rows = strtol(end + 1, &end, 10);
		if (*end != '\0' || c < 1 || c > 10000 || rows < 1 || rows > 10000 || errno)
			return rerr(r, MG_ERR_PARSE, ln.lineno, ln.offset, "bad resize event");
		ev->cols = (int)c;
		ev->rows = (int)rows;
		break;
	}
	default:
		break;
	}
	return 1;
}

void
rec_path_session(const char *path, char *buf, size_t len)
{
	const char *b = strrchr(path, '/');
	size_t n;

	b = b ? b + 1 : path;
	n = strlen(b);
	if (n > 5 && strcmp(b + n - 5, ".cast") == 0)
		n -= 5;
	snprintf(buf, len, "%.*s", (int)n, b);
}
