/* SPDX-License-Identifier: BSD-2-Clause */
/* Reads the policy file (libconfig) and its includes, and checks it strictly. */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <libconfig.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mg_err.h"
#include "mg_file.h"
#include "mg_time.h"
#include "pol.h"
#include "pol_internal.h"

/* A policy file larger than this is refused: it is hand-written text. */
#define POL_MAX_FILE	(4 * 1024 * 1024)
/* How deep @include may nest, and how many files one policy may have. */
#define POL_MAX_DEPTH	8
#define POL_MAX_FILES	512
/* Longest list of strings we accept anywhere (logins, groups...). */
#define POL_MAX_LIST	4096

/* One parsed file, kept until the whole policy is built. */
struct src {
	config_t cfg;
	const char *file;	/* owned by pol->files */
};

struct ctx {
	struct pol *p;
	struct mg_diag *diag;
	int errors;
	struct src *srcs;
	size_t nsrcs;
	/* where gateway, mfa, pam and alerts were first seen (each at most once) */
	struct pol_loc seen_gateway, seen_mfa, seen_pam, seen_alerts;
	const config_setting_t *pam_tenant;	/* resolved once tenants are loaded */
};

/* -------------------------------------------------------------------- */
/* Messages */

static void err_at(struct ctx *c, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
err_at(struct ctx *c, const char *file, int line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->errors++;
	mg_diag_add(c->diag, file, line, "%s", msg);
}

static const char *
set_file(const struct ctx *c, const config_setting_t *s)
{
	const char *f = config_setting_source_file(s);
	size_t i;

	/* libconfig names no file for text read from memory: find ours. */
	for (i = 0; f == NULL && i < c->nsrcs; i++) {
		const config_setting_t *r = config_root_setting(&c->srcs[i].cfg);
		const config_setting_t *up = s;

		while (config_setting_parent(up) != NULL)
			up = config_setting_parent(up);
		if (up == r)
			return c->srcs[i].file;
	}
	return f != NULL ? f : "?";
}

static int
set_line(const config_setting_t *s)
{
	return (int)config_setting_source_line(s);
}

static void err_set(struct ctx *c, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
err_set(struct ctx *c, const config_setting_t *s, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_at(c, set_file(c, s), set_line(s), "%s", msg);
}

static struct pol_loc
loc_of(const struct ctx *c, const config_setting_t *s)
{
	struct pol_loc l;

	l.file = set_file(c, s);
	l.line = set_line(s);
	return l;
}

static const char *
type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:	return "a group { }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:	return "an integer";
	case CONFIG_TYPE_FLOAT:	return "a number with a fraction";
	case CONFIG_TYPE_STRING:	return "a string";
	case CONFIG_TYPE_BOOL:	return "true or false";
	case CONFIG_TYPE_ARRAY:	return "an array [ ]";
	case CONFIG_TYPE_LIST:	return "a list ( )";
	}
	return "nothing";
}

/* -------------------------------------------------------------------- */
/* Allocation helpers: on failure they count an error so nothing half-built
 * is ever returned. */

static char *
xstrdup(struct ctx *c, const char *s)
{
	char *r = strdup(s != NULL ? s : "");

	if (r == NULL)
		err_at(c, NULL, 0, "out of memory");
	return r;
}

static void *
xgrow(struct ctx *c, void *ptr, size_t *cap, size_t n, size_t size)
{
	void *np;
	size_t ncap;

	if (n < *cap)
		return ptr;
	ncap = *cap ? *cap * 2 : 8;
	if ((np = reallocarray(ptr, ncap, size)) == NULL) {
		err_at(c, NULL, 0, "out of memory");
		return NULL;
	}
	memset((char *)np + *cap * size, 0, (ncap - *cap) * size);
	*cap = ncap;
	return np;
}

static void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* -------------------------------------------------------------------- */
/* Typed access with strict checking */

enum ktype { K_STR, K_INT, K_BOOL, K_STRLIST, K_GROUP, K_LIST, K_ANY };

struct keyspec {
	const char *name;
	enum ktype type;
	int required;
};

static int
type_ok(const config_setting_t *s, enum ktype k)
{
	int t = config_setting_type(s);

	switch (k) {
	case K_STR:	return t == CONFIG_TYPE_STRING;
	case K_INT:	return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
	case K_BOOL:	return t == CONFIG_TYPE_BOOL;
	case K_STRLIST:	return t == CONFIG_TYPE_STRING || t == CONFIG_TYPE_ARRAY ||
			    t == CONFIG_TYPE_LIST;
	case K_GROUP:	return t == CONFIG_TYPE_GROUP;
	case K_LIST:	return t == CONFIG_TYPE_LIST;
	case K_ANY:	return 1;
	}
	return 0;
}

static const char *
ktype_name(enum ktype k)
{
	switch (k) {
	case K_STR:	return "a string";
	case K_INT:	return "an integer";
	case K_BOOL:	return "true or false";
	case K_STRLIST:	return "a string or a list of strings";
	case K_GROUP:	return "a group { }";
	case K_LIST:	return "a list ( )";
	case K_ANY:	return "a value";
	}
	return "?";
}

/*
 * Checks a group's members against spec: unknown keys, wrong types and
 * missing required keys are errors. what names the group in messages.
 * Returns the number of errors found.
 */
static int
check_keys(struct ctx *c, const config_setting_t *g, const struct keyspec *spec,
    const char *what)
{
	int i, n, errs = 0;
	const struct keyspec *k;

	if (!config_setting_is_group(g)) {
		err_set(c, g, "%s must be a group { }, not %s", what,
		    type_name(config_setting_type(g)));
		return 1;
	}
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(g, i);
		const char *name = config_setting_name(m);

		for (k = spec; k->name != NULL; k++)
			if (strcmp(k->name, name) == 0)
				break;
		if (k->name == NULL) {
			err_set(c, m, "unknown key '%s' in %s", name, what);
			errs++;
		} else if (!type_ok(m, k->type)) {
			err_set(c, m, "'%s' in %s must be %s, not %s", name, what,
			    ktype_name(k->type), type_name(config_setting_type(m)));
			errs++;
		}
	}
	for (k = spec; k->name != NULL; k++) {
		if (k->required && config_setting_get_member(g, k->name) == NULL) {
			err_set(c, g, "%s has no '%s'", what, k->name);
			errs++;
		}
	}
	return errs;
}

/* The member if present and of the right type (check_keys reported the rest). */
static const config_setting_t *
member(const config_setting_t *g, const char *name, enum ktype k)
{
	const config_setting_t *m = config_setting_get_member(g, name);

	if (m == NULL || !type_ok(m, k))
		return NULL;
	return m;
}

static const char *
get_str(const config_setting_t *g, const char *name)
{
	const config_setting_t *m = member(g, name, K_STR);

	return m != NULL ? config_setting_get_string(m) : NULL;
}

/* Copies a string or list of strings; each element must be a string. */
static int
get_strlist(struct ctx *c, const config_setting_t *g, const char *name,
    const char *what, char ***out, size_t *nout)
{
	const config_setting_t *m = member(g, name, K_STRLIST);
	char **v = NULL;
	int i, n;

	*out = NULL;
	*nout = 0;
	if (m == NULL)
		return 0;
	if (config_setting_type(m) == CONFIG_TYPE_STRING) {
		if ((v = calloc(1, sizeof(*v))) == NULL ||
		    (v[0] = xstrdup(c, config_setting_get_string(m))) == NULL) {
			free(v);
			return -1;
		}
		*out = v;
		*nout = 1;
		return 0;
	}
	n = config_setting_length(m);
	if (n > POL_MAX_LIST) {
		err_set(c, m, "'%s' in %s has too many entries (%d, at most %d)",
		    name, what, n, POL_MAX_LIST);
		return -1;
	}
	if (n > 0 && (v = calloc((size_t)n, sizeof(*v))) == NULL) {
		err_at(c, NULL, 0, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(m, i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			err_set(c, e, "'%s' in %s must hold strings, not %s", name,
			    what, type_name(config_setting_type(e)));
			strv_free(v, (size_t)i);
			return -1;
		}
		if ((v[i] = xstrdup(c, config_setting_get_string(e))) == NULL) {
			strv_free(v, (size_t)i);
			return -1;
		}
	}
	*out = v;
	*nout = (size_t)n;
	return 0;
}

/* The setting of the i-th element of a string list, for messages. */
static const config_setting_t *
strlist_elem(const config_setting_t *g, const char *name, size_t i)
{
	const config_setting_t *m = config_setting_get_member(g, name);

	if (m == NULL || config_setting_type(m) == CONFIG_TYPE_STRING)
		return m;
	return config_setting_get_elem(m, (unsigned)i);
}

static int
get_int(struct ctx *c, const config_setting_t *g, const char *name,
    long long lo, long long hi, long long *out)
{
	const config_setting_t *m = member(g, name, K_INT);
	long long v;

	if (m == NULL)
		return 0;
	v = config_setting_get_int64(m);
	if (v < lo || v > hi) {
		err_set(c, m, "'%s' must be between %lld and %lld, not %lld",
		    name, lo, hi, v);
		return -1;
	}
	*out = v;
	return 1;
}

static int
get_duration(struct ctx *c, const config_setting_t *g, const char *name,
    int64_t *out)
{
	const config_setting_t *m = member(g, name, K_STR);
	char e[256];

	if (m == NULL)
		return 0;
	if (mg_duration_parse(config_setting_get_string(m), out, e, sizeof(e)) != 0) {
		err_set(c, m, "'%s': %s", name, e);
		return -1;
	}
	return 1;
}

/* "1G", "500M", "64K", "1000" -> bytes. */
static int
get_size(struct ctx *c, const config_setting_t *g, const char *name,
    int64_t *out)
{
	const config_setting_t *m = config_setting_get_member(g, name);
	const char *s, *p;
	unsigned long long v;
	int64_t mult = 1;
	char *end;

	if (m == NULL)
		return 0;
	if (type_ok(m, K_INT)) {
		if (config_setting_get_int64(m) <= 0) {
			err_set(c, m, "'%s' must be a positive size", name);
			return -1;
		}
		*out = config_setting_get_int64(m);
		return 1;
	}
	if (!type_ok(m, K_STR)) {
		err_set(c, m, "'%s' must be a size such as \"500M\" or \"2G\"", name);
		return -1;
	}
	s = config_setting_get_string(m);
	for (p = s; isdigit((unsigned char)*p); p++)
		;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (p == s || end != p || errno != 0)
		goto bad;
	switch (*p) {
	case '\0':	break;
	case 'K':	mult = 1024; p++; break;
	case 'M':	mult = 1024 * 1024; p++; break;
	case 'G':	mult = 1024LL * 1024 * 1024; p++; break;
	case 'T':	mult = 1024LL * 1024 * 1024 * 1024; p++; break;
	default:	goto bad;
	}
	if (*p != '\0' || v == 0 || v > (unsigned long long)(INT64_MAX / mult))
		goto bad;
	*out = (int64_t)v * mult;
	return 1;
 bad:
	err_set(c, m, "'%s': invalid size \"%s\" (use a number with K, M, G or T)",
	    name, s);
	return -1;
}

/* A date "YYYY-MM-DD" (all of that day, UTC) or "YYYY-MM-DD HH:MM" (UTC). */
static int
get_date(struct ctx *c, const config_setting_t *g, const char *name, int is_end,
    time_t *out)
{
	const config_setting_t *m = member(g, name, K_STR);
	struct mg_datetime dt;
	char e[256];
	const char *s;

	if (m == NULL)
		return 0;
	s = config_setting_get_string(m);
	if (strlen(s) == 10) {
		if (mg_date_parse(s, &dt, e, sizeof(e)) != 0)
			goto bad;
		*out = (time_t)mg_datetime_to_seconds(&dt);
		/* valid_until names the last day on which access is allowed. */
		if (is_end)
			*out += 86400;
		return 1;
	}
	if (mg_datetime_parse(s, &dt, e, sizeof(e)) != 0)
		goto bad;
	*out = (time_t)mg_datetime_to_seconds(&dt);
	return 1;
 bad:
	err_set(c, m, "'%s': %s", name, e);
	return -1;
}

/* Every byte of s is a letter or digit (lower case only if lower) or in extra. */
static int
charset_ok(const char *s, size_t max, const char *extra, int lower)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!(lower ? islower(ch) || isdigit(ch) : isalnum(ch)) &&
		    strchr(extra, ch) == NULL)
			return 0;
	}
	return 1;
}

/* Names of things the policy defines: tenants, targets, windows, groups. */
static int
name_ok(const char *s, size_t max)
{
	return charset_ok(s, max, "_.-", 0) && isalnum((unsigned char)s[0]);
}

/* Engineer names become Unix accounts: the portable user-name subset. */
static int
user_ok(const char *s)
{
	return charset_ok(s, 32, "_-", 1) && !isdigit((unsigned char)s[0]) &&
	    s[0] != '-';
}

/* Logins on client hosts: what useradd accepts, a little wider. */
static int
login_ok(const char *s)
{
	return charset_ok(s, 32, "_.-", 0) && s[0] != '-';
}

static int
host_ok(const char *s)
{
	return charset_ok(s, 253, ".-:_", 0) && s[0] != '-';
}

static int
path_ok(const char *s)
{
	return s[0] == '/' && strlen(s) < PATH_MAX && strstr(s, "/../") == NULL;
}

static int
str_in(char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

static int
get_cidrs(struct ctx *c, const config_setting_t *g, const char *what,
    struct mg_cidr **out, size_t *nout)
{
	char **v = NULL, e[256];
	size_t n = 0, i;
	int bad = 0;

	*out = NULL;
	*nout = 0;
	if (get_strlist(c, g, "sources", what, &v, &n) != 0)
		return -1;
	if (n == 0)
		return 0;
	if ((*out = calloc(n, sizeof(**out))) == NULL) {
		err_at(c, NULL, 0, "out of memory");
		strv_free(v, n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (mg_cidr_parse(v[i], &(*out)[i], e, sizeof(e)) != 0) {
			err_set(c, strlist_elem(g, "sources", i), "sources in %s: %s",
			    what, e);
			bad = 1;
		}
	}
	strv_free(v, n);
	*nout = n;
	return bad ? -1 : 0;
}

/* -------------------------------------------------------------------- */
/* Files and @include */

static int
add_file(struct ctx *c, const char *path, const char **stored)
{
	size_t i;
	char **nf;

	for (i = 0; i < c->p->nfiles; i++) {
		if (strcmp(c->p->files[i], path) == 0) {
			*stored = c->p->files[i];
			return 1;	/* already read */
		}
	}
	if (c->p->nfiles >= POL_MAX_FILES) {
		err_at(c, path, 0, "too many policy files (at most %d)", POL_MAX_FILES);
		return -1;
	}
	nf = reallocarray(c->p->files, c->p->nfiles + 1, sizeof(*nf));
	if (nf == NULL) {
		err_at(c, NULL, 0, "out of memory");
		return -1;
	}
	c->p->files = nf;
	if ((nf[c->p->nfiles] = xstrdup(c, path)) == NULL)
		return -1;
	*stored = nf[c->p->nfiles++];
	return 0;
}

static int read_text(struct ctx *c, char *buf, const char *file, int depth);

static int
include_one(struct ctx *c, const char *path, const char *from, int line, int depth)
{
	struct mg_file_rules rules;
	const char *stored;
	char *buf = NULL, e[512];
	size_t len;
	int r;

	if ((r = add_file(c, path, &stored)) != 0) {
		if (r > 0)
			err_at(c, from, line, "\"%s\" is included more than once "
			    "(or includes itself)", path);
		return -1;
	}
	memset(&rules, 0, sizeof(rules));
	rules.max_size = POL_MAX_FILE;
	/* Policy decides who reaches client hosts: others must not edit it. */
	rules.forbid_mode = 022;
	if (mg_file_read_safe(path, &rules, &buf, &len, e, sizeof(e)) != 0) {
		err_at(c, from, line, "%s", e);
		return -1;
	}
	if (strlen(buf) != len) {
		err_at(c, stored, 0, "file contains a NUL byte");
		free(buf);
		return -1;
	}
	r = read_text(c, buf, stored, depth + 1);
	free(buf);
	return r;
}

static int
do_include(struct ctx *c, const char *spec, const char *from, int line, int depth)
{
	char path[PATH_MAX];
	const char *slash;
	glob_t gl;
	size_t i;
	int r = 0, gr;

	if (depth >= POL_MAX_DEPTH) {
		err_at(c, from, line, "@include nested more than %d deep", POL_MAX_DEPTH);
		return -1;
	}
	if (spec[0] == '\0') {
		err_at(c, from, line, "@include of an empty path");
		return -1;
	}
	/* Relative paths resolve against the including file's directory. */
	if (spec[0] == '/')
		r = snprintf(path, sizeof(path), "%s", spec);
	else if ((slash = strrchr(from, '/')) != NULL)
		r = snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - from),
		    from, spec);
	else
		r = snprintf(path, sizeof(path), "%s", spec);
	if (r < 0 || (size_t)r >= sizeof(path)) {
		err_at(c, from, line, "@include path too long");
		return -1;
	}
	if (strpbrk(spec, "*?[") == NULL)
		return include_one(c, path, from, line, depth);
	/* A pattern (tenants.d/ *.conf) may match nothing: that is allowed. */
	memset(&gl, 0, sizeof(gl));
	gr = glob(path, GLOB_ERR, NULL, &gl);
	if (gr == GLOB_NOMATCH) {
		globfree(&gl);
		return 0;
	}
	if (gr != 0) {
		err_at(c, from, line, "@include \"%s\": cannot list files", spec);
		globfree(&gl);
		return -1;
	}
	r = 0;
	for (i = 0; i < gl.gl_pathc; i++)
		if (include_one(c, gl.gl_pathv[i], from, line, depth) != 0)
			r = -1;
	globfree(&gl);
	return r;
}

struct incl {
	char *path;
	int line;
};

/*
 * Finds the @include directives in buf and blanks them out (so libconfig
 * never opens a file itself: we open every file safely, and resolve paths
 * against the including file). Directives are allowed at the top level
 * only, where an included file adds its own top-level settings. Line
 * numbers are kept since only the directive's characters are replaced.
 */
static int
scan_includes(struct ctx *c, char *buf, const char *file, struct incl **out,
    size_t *nout)
{
	char *p = buf;
	int line = 1, depth = 0, bol = 1, bad = 0;
	size_t cap = 0;

	*out = NULL;
	*nout = 0;
	while (*p != '\0') {
		if (*p == '\n') {
			line++;
			bol = 1;
			p++;
			continue;
		}
		if (bol && (*p == ' ' || *p == '\t' || *p == '\r')) {
			p++;
			continue;
		}
		if (bol && strncmp(p, "@include", 8) == 0) {
			char *start = p, *q, *end;

			q = p + 8;
			while (*q == ' ' || *q == '\t')
				q++;
			if (*q != '"' || (end = strpbrk(q + 1, "\"\n")) == NULL ||
			    *end != '"') {
				err_at(c, file, line, "@include needs a quoted path");
				bad = 1;
				p = q;
				bol = 0;
				continue;
			}
			if (depth > 0) {
				err_at(c, file, line, "@include is allowed only at "
				    "the top level, outside any group or list");
				bad = 1;
			} else {
				struct incl *ni = xgrow(c, *out, &cap, *nout, sizeof(**out));

				if (ni == NULL)
					return -1;
				*out = ni;
				if ((ni[*nout].path = strndup(q + 1, (size_t)(end - q - 1))) == NULL) {
					err_at(c, NULL, 0, "out of memory");
					return -1;
				}
				ni[(*nout)++].line = line;
			}
			memset(start, ' ', (size_t)(end - start + 1));
			p = end + 1;
			bol = 0;
			continue;
		}
		bol = 0;
		if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				else if (*p == '\n')
					line++;
			}
			if (*p == '"')
				p++;
			continue;
		}
		if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			while (*p != '\0' && *p != '\n')
				p++;
			continue;
		}
		if (p[0] == '/' && p[1] == '*') {
			for (p += 2; *p != '\0' && !(p[0] == '*' && p[1] == '/'); p++)
				if (*p == '\n')
					line++;
			if (*p != '\0')
				p += 2;
			continue;
		}
		if (*p == '{' || *p == '(' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ')' || *p == ']') && depth > 0)
			depth--;
		p++;
	}
	return bad ? -1 : 0;
}

/* Parses one file's text (buf is modified) and then the files it includes. */
static int
read_text(struct ctx *c, char *buf, const char *file, int depth)
{
	struct incl *inc = NULL;
	struct src *ns;
	size_t ninc = 0, i;
	int r = 0;

	if (scan_includes(c, buf, file, &inc, &ninc) != 0)
		r = -1;
	ns = reallocarray(c->srcs, c->nsrcs + 1, sizeof(*ns));
	if (ns == NULL) {
		err_at(c, NULL, 0, "out of memory");
		r = -1;
		goto out;
	}
	c->srcs = ns;
	config_init(&ns[c->nsrcs].cfg);
	ns[c->nsrcs].file = file;
	c->nsrcs++;
	if (config_read_string(&ns[c->nsrcs - 1].cfg, buf) != CONFIG_TRUE) {
		const config_t *cfg = &ns[c->nsrcs - 1].cfg;

		const char *t = config_error_text(cfg);

		if (t == NULL || strcmp(t, "syntax error") == 0)
			err_at(c, file, config_error_line(cfg), "syntax error");
		else
			err_at(c, file, config_error_line(cfg), "syntax error: %s", t);
		r = -1;
	}
	for (i = 0; i < ninc; i++)
		if (do_include(c, inc[i].path, file, inc[i].line, depth) != 0)
			r = -1;
 out:
	for (i = 0; i < ninc; i++)
		free(inc[i].path);
	free(inc);
	return r;
}

/* -------------------------------------------------------------------- */
/* Sections */

static const struct keyspec gateway_keys[] = {
	{ "vault", K_STR, 0 }, { "recordings", K_STR, 0 }, { "audit", K_STR, 0 },
	{ "state", K_STR, 0 }, { "control_socket", K_STR, 0 },
	{ "session_socket", K_STR, 0 }, { "user", K_STR, 0 },
	{ "signing_key", K_STR, 0 }, { "default_max_session", K_STR, 0 },
	{ "idle_timeout", K_STR, 0 }, { "reload_grace", K_STR, 0 },
	{ "max_sessions", K_INT, 0 }, { NULL, 0, 0 }
};

static int
set_path(struct ctx *c, const config_setting_t *g, const char *name, char **dst)
{
	const char *s = get_str(g, name);

	if (s == NULL)
		return 0;
	if (!path_ok(s)) {
		err_set(c, config_setting_get_member(g, name),
		    "'%s' must be an absolute path, not \"%s\"", name, s);
		return -1;
	}
	free(*dst);
	*dst = xstrdup(c, s);
	return 0;
}

static void
load_gateway(struct ctx *c, const config_setting_t *g)
{
	struct pol_gateway *gw = &c->p->gateway;
	long long v;

	if (check_keys(c, g, gateway_keys, "gateway") != 0)
		return;
	gw->loc = loc_of(c, g);
	set_path(c, g, "vault", &gw->vault);
	set_path(c, g, "recordings", &gw->recordings);
	set_path(c, g, "audit", &gw->audit);
	set_path(c, g, "state", &gw->state);
	set_path(c, g, "control_socket", &gw->control_socket);
	set_path(c, g, "session_socket", &gw->session_socket);
	if (get_str(g, "user") != NULL) {
		if (!user_ok(get_str(g, "user")))
			err_set(c, config_setting_get_member(g, "user"),
			    "'user' must be a user name, not \"%s\"", get_str(g, "user"));
		else {
			free(gw->user);
			gw->user = xstrdup(c, get_str(g, "user"));
		}
	}
	set_path(c, g, "signing_key", &gw->signing_key);
	get_duration(c, g, "default_max_session", &gw->default_max_session);
	if (member(g, "idle_timeout", K_STR) != NULL &&
	    strcmp(get_str(g, "idle_timeout"), "none") == 0)
		gw->idle_timeout = 0;
	else
		get_duration(c, g, "idle_timeout", &gw->idle_timeout);
	if (member(g, "reload_grace", K_STR) != NULL &&
	    strcmp(get_str(g, "reload_grace"), "finish") == 0)
		gw->reload_grace = POL_GRACE_FINISH;
	else
		get_duration(c, g, "reload_grace", &gw->reload_grace);
	if (get_int(c, g, "max_sessions", 1, POL_MAX_SESSIONS_LIMIT, &v) > 0)
		gw->max_sessions = (int)v;
}

static const struct keyspec mfa_keys[] = {
	{ "totp", K_GROUP, 0 }, { "lockout", K_GROUP, 0 }, { NULL, 0, 0 }
};
static const struct keyspec totp_keys[] = {
	{ "store", K_STR, 0 }, { "skew_steps", K_INT, 0 }, { "digits", K_INT, 0 },
	{ "period", K_INT, 0 }, { "algorithm", K_STR, 0 }, { NULL, 0, 0 }
};
static const struct keyspec lockout_keys[] = {
	{ "failures", K_INT, 0 }, { "within", K_STR, 0 }, { "lock_for", K_STR, 0 },
	{ NULL, 0, 0 }
};

static void
load_mfa(struct ctx *c, const config_setting_t *g)
{
	struct pol_mfa *m = &c->p->mfa;
	const config_setting_t *s;
	long long v;

	if (check_keys(c, g, mfa_keys, "mfa") != 0)
		return;
	m->loc = loc_of(c, g);
	if ((s = member(g, "totp", K_GROUP)) != NULL &&
	    check_keys(c, s, totp_keys, "mfa.totp") == 0) {
		const char *alg = get_str(s, "algorithm");

		set_path(c, s, "store", &m->totp_store);
		if (get_int(c, s, "skew_steps", 0, 10, &v) > 0)
			m->skew_steps = (int)v;
		if (get_int(c, s, "digits", 6, 8, &v) > 0) {
			if (v == 7)
				err_set(c, config_setting_get_member(s, "digits"),
				    "'digits' must be 6 or 8");
			m->digits = (int)v;
		}
		if (get_int(c, s, "period", 15, 300, &v) > 0)
			m->period = (int)v;
		if (alg != NULL) {
			if (strcmp(alg, "sha1") != 0 && strcmp(alg, "sha256") != 0 &&
			    strcmp(alg, "sha512") != 0)
				err_set(c, config_setting_get_member(s, "algorithm"),
				    "'algorithm' must be \"sha1\", \"sha256\" or "
				    "\"sha512\", not \"%s\"", alg);
			else {
				free(m->algorithm);
				m->algorithm = xstrdup(c, alg);
			}
		}
	}
	if ((s = member(g, "lockout", K_GROUP)) != NULL &&
	    check_keys(c, s, lockout_keys, "mfa.lockout") == 0) {
		if (get_int(c, s, "failures", 1, 1000, &v) > 0)
			m->lockout_failures = (int)v;
		get_duration(c, s, "within", &m->lockout_within);
		get_duration(c, s, "lock_for", &m->lockout_for);
	}
}

static const struct keyspec window_keys[] = {
	{ "tz", K_STR, 0 }, { "days", K_STR, 0 }, { "hours", K_STRLIST, 0 },
	{ "dates", K_STRLIST, 0 }, { "except", K_STRLIST, 0 },
	{ "description", K_STR, 0 }, { NULL, 0, 0 }
};

/* Zones are shared by name: windows and tenants keep borrowed pointers. */
static struct mg_tz *
tz_get(struct ctx *c, const config_setting_t *where, const char *name)
{
	struct pol_internal *in = pol_internal(c->p);
	struct mg_tz *tz = NULL, **nz;
	char e[256];
	size_t i;

	for (i = 0; i < in->ntz; i++)
		if (strcmp(mg_tz_name(in->tz[i]), name) == 0)
			return in->tz[i];
	if (strcmp(name, "UTC") == 0 ? mg_tz_utc(&tz) != 0 :
	    mg_tz_load(name, &tz, e, sizeof(e)) != 0) {
		err_set(c, where, "unknown time zone \"%s\"", name);
		return NULL;
	}
	if ((nz = reallocarray(in->tz, in->ntz + 1, sizeof(*nz))) == NULL) {
		mg_tz_free(tz);
		err_at(c, NULL, 0, "out of memory");
		return NULL;
	}
	in->tz = nz;
	nz[in->ntz++] = tz;
	return tz;
}

static const struct pol_window *
window_find(const struct pol *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nwindows; i++)
		if (strcmp(pol_window_name(p->windows[i]), name) == 0)
			return p->windows[i];
	return NULL;
}

static void
load_windows(struct ctx *c, const config_setting_t *g)
{
	struct pol_internal *in = pol_internal(c->p);
	int i, n;

	if (!config_setting_is_group(g)) {
		err_set(c, g, "'windows' must be a group of named windows { name = { ... }; }");
		return;
	}
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		const config_setting_t *w = config_setting_get_elem(g, i);
		const char *name = config_setting_name(w);
		const char *zname, *days;
		const struct mg_tz *tz = NULL;
		struct pol_window *pw, **nw;
		char what[160], e[256], **v = NULL;
		size_t k, nv = 0, j;
		int bad = 0;

		snprintf(what, sizeof(what), "window '%s'", name);
		if (!name_ok(name, 64)) {
			err_set(c, w, "invalid window name '%s'", name);
			continue;
		}
		if (window_find(c->p, name) != NULL) {
			const struct pol_loc *l = NULL;

			for (j = 0; j < in->nwinloc; j++)
				if (strcmp(in->winloc[j].name, name) == 0)
					l = &in->winloc[j].loc;
			err_set(c, w, "window '%s' is already defined at %s:%d", name,
			    l ? l->file : "?", l ? l->line : 0);
			continue;
		}
		if (check_keys(c, w, window_keys, what) != 0)
			continue;
		if ((zname = get_str(w, "tz")) != NULL &&
		    (tz = tz_get(c, config_setting_get_member(w, "tz"), zname)) == NULL)
			continue;
		if ((pw = pol_window_new(name, tz)) == NULL) {
			err_at(c, NULL, 0, "out of memory");
			continue;
		}
		days = get_str(w, "days");
		if ((days != NULL) != (config_setting_get_member(w, "hours") != NULL)) {
			err_set(c, w, "%s: 'days' and 'hours' go together", what);
			bad = 1;
		} else if (days != NULL) {
			if (get_strlist(c, w, "hours", what, &v, &nv) != 0)
				bad = 1;
			for (k = 0; k < nv; k++) {
				if (pol_window_add_weekly(pw, days, v[k], e, sizeof(e)) != 0) {
					err_set(c, strlist_elem(w, "hours", k), "%s: %s", what, e);
					bad = 1;
				}
			}
			strv_free(v, nv);
			if (nv == 0 && !bad) {
				err_set(c, w, "%s: 'hours' is empty", what);
				bad = 1;
			}
		}
		if (get_strlist(c, w, "dates", what, &v, &nv) != 0)
			bad = 1;
		for (k = 0; k < nv; k++) {
			if (pol_window_add_dated(pw, v[k], e, sizeof(e)) != 0) {
				err_set(c, strlist_elem(w, "dates", k), "%s: %s", what, e);
				bad = 1;
			}
		}
		strv_free(v, nv);
		if (get_strlist(c, w, "except", what, &v, &nv) != 0)
			bad = 1;
		for (k = 0; k < nv; k++) {
			if (pol_window_add_except(pw, v[k], e, sizeof(e)) != 0) {
				err_set(c, strlist_elem(w, "except", k), "%s: %s", what, e);
				bad = 1;
			}
		}
		strv_free(v, nv);
		if (!bad && pol_window_is_empty(pw)) {
			err_set(c, w, "%s is empty: give 'days' and 'hours', or 'dates'",
			    what);
			bad = 1;
		}
		nw = reallocarray(c->p->windows, c->p->nwindows + 1, sizeof(*nw));
		if (nw == NULL || pol_internal_add_winloc(in, name, loc_of(c, w)) != 0) {
			if (nw != NULL)
				c->p->windows = nw;
			pol_window_free(pw);
			err_at(c, NULL, 0, "out of memory");
			continue;
		}
		c->p->windows = nw;
		/* Kept even when bad, so later references do not cascade. */
		nw[c->p->nwindows++] = pw;
	}
}

static int
resolve_windows(struct ctx *c, const config_setting_t *g, const char *what,
    const struct pol_window ***out, size_t *nout)
{
	char **v = NULL;
	size_t n = 0, i;
	int bad = 0;

	*out = NULL;
	*nout = 0;
	if (get_strlist(c, g, "windows", what, &v, &n) != 0)
		return -1;
	if (n == 0) {
		if (config_setting_get_member(g, "windows") != NULL) {
			err_set(c, config_setting_get_member(g, "windows"),
			    "'windows' in %s is empty (leave it out for no time limit)",
			    what);
			return -1;
		}
		return 0;
	}
	if ((*out = calloc(n, sizeof(**out))) == NULL) {
		err_at(c, NULL, 0, "out of memory");
		strv_free(v, n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (((*out)[i] = window_find(c->p, v[i])) == NULL) {
			err_set(c, strlist_elem(g, "windows", i),
			    "%s names window '%s', which is not defined", what, v[i]);
			bad = 1;
		}
	}
	*nout = n;
	strv_free(v, n);
	return bad ? -1 : 0;
}

/* "WHAT is already defined at FILE:LINE", at the second definition. */
static void
already(struct ctx *c, const config_setting_t *g, const char *what,
    struct pol_loc first)
{
	err_set(c, g, "%s is already defined at %s:%d", what, first.file, first.line);
}

static const struct keyspec engineer_keys[] = {
	{ "name", K_STR, 1 }, { "groups", K_STRLIST, 0 }, { "keys", K_ANY, 0 },
	{ "valid_from", K_STR, 0 }, { "valid_until", K_STR, 0 },
	{ "sources", K_STRLIST, 0 }, { "description", K_STR, 0 },
	{ "email", K_STR, 0 }, { "mfa", K_STR, 0 }, { NULL, 0, 0 }
};
static const struct keyspec key_keys[] = {
	{ "key", K_STR, 1 }, { "verify_required", K_BOOL, 0 },
	{ "valid_from", K_STR, 0 }, { "valid_until", K_STR, 0 },
	{ "description", K_STR, 0 }, { NULL, 0, 0 }
};

static void
load_keys(struct ctx *c, const config_setting_t *ks, struct pol_engineer *e,
    const char *what)
{
	int i, n, t = config_setting_type(ks);

	if (t == CONFIG_TYPE_STRING) {
		err_set(c, ks, "'keys' in %s must be a list: keys = [ \"...\" ];", what);
		return;
	}
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		err_set(c, ks, "'keys' in %s must be a list, not %s", what, type_name(t));
		return;
	}
	n = config_setting_length(ks);
	if (n > 64) {
		err_set(c, ks, "%s has too many keys (%d, at most 64)", what, n);
		return;
	}
	if (n == 0)
		return;
	if ((e->keys = calloc((size_t)n, sizeof(*e->keys))) == NULL) {
		err_at(c, NULL, 0, "out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		const config_setting_t *k = config_setting_get_elem(ks, i), *ks_set = k;
		struct pol_key *pk = &e->keys[e->nkeys];
		const char *line;
		char err[256];

		if (config_setting_type(k) == CONFIG_TYPE_GROUP) {
			if (check_keys(c, k, key_keys, "a key entry") != 0)
				continue;
			line = get_str(k, "key");
			ks_set = config_setting_get_member(k, "key");
		} else if (config_setting_type(k) == CONFIG_TYPE_STRING) {
			line = config_setting_get_string(k);
		} else {
			err_set(c, k, "a key in %s must be a string or a group "
			    "{ key = \"...\"; }, not %s", what,
			    type_name(config_setting_type(k)));
			continue;
		}
		pk->loc = loc_of(c, ks_set);
		if (mg_sshkey_parse(line, &pk->key, err, sizeof(err)) != 0) {
			err_set(c, ks_set, "key in %s: %s", what, err);
			continue;
		}
		if (config_setting_type(k) == CONFIG_TYPE_GROUP) {
			const config_setting_t *vr = member(k, "verify_required", K_BOOL);

			if (vr != NULL && config_setting_get_bool(vr)) {
				if (!mg_sshkey_is_sk(pk->key)) {
					err_set(c, vr, "verify_required is only for "
					    "security keys (sk-...), not %s",
					    pk->key->type_name);
					mg_sshkey_free(pk->key);
					continue;
				}
				pk->verify_required = 1;
			}
			get_date(c, k, "valid_from", 0, &pk->valid_from);
			get_date(c, k, "valid_until", 1, &pk->valid_until);
		}
		e->nkeys++;
	}
}

static void
load_engineer(struct ctx *c, const config_setting_t *g)
{
	const struct pol_engineer *dup;
	struct pol_internal *in = pol_internal(c->p);
	struct pol_engineer *e;
	const char *name;
	char what[128];
	size_t i, j, k, l;

	if (check_keys(c, g, engineer_keys, "engineer") != 0)
		return;
	name = get_str(g, "name");
	snprintf(what, sizeof(what), "engineer '%.64s'", name);
	if (!user_ok(name)) {
		err_set(c, config_setting_get_member(g, "name"),
		    "invalid engineer name '%s' (it becomes a Unix account: lower "
		    "case letters, digits, '_' and '-', at most 32)", name);
		return;
	}
	if ((dup = pol_engineer_find(c->p, name)) != NULL) {
		already(c, g, what, dup->loc);
		return;
	}
	if ((e = xgrow(c, c->p->engineers, &in->cap_eng, c->p->nengineers,
	    sizeof(*e))) == NULL)
		return;
	c->p->engineers = e;
	e = &c->p->engineers[c->p->nengineers++];
	e->loc = loc_of(c, g);
	e->name = xstrdup(c, name);
	get_strlist(c, g, "groups", what, &e->groups, &e->ngroups);
	for (i = 0; i < e->ngroups; i++)
		if (!name_ok(e->groups[i], 64))
			err_set(c, strlist_elem(g, "groups", i),
			    "invalid group name '%s' in %s", e->groups[i], what);
	if (config_setting_get_member(g, "keys") != NULL)
		load_keys(c, config_setting_get_member(g, "keys"), e, what);
	get_date(c, g, "valid_from", 0, &e->valid_from);
	get_date(c, g, "valid_until", 1, &e->valid_until);
	if (e->valid_from && e->valid_until && e->valid_until <= e->valid_from)
		err_set(c, config_setting_get_member(g, "valid_until"),
		    "%s: valid_until is before valid_from", what);
	get_cidrs(c, g, what, &e->sources, &e->nsources);
	if (get_str(g, "mfa") != NULL) {
		e->mfa_loc = loc_of(c, config_setting_get_member(g, "mfa"));
		if (pol_mfa_parse(get_str(g, "mfa"), &e->mfa) != 0)
			err_set(c, config_setting_get_member(g, "mfa"),
			    "%s: mfa must be \"totp\", \"fido\" or \"fido+totp\", "
			    "not \"%s\"", what, get_str(g, "mfa"));
	}
	/* One key, one engineer: a shared key would blur who did what. */
	for (k = 0; k < e->nkeys; k++) {
		for (i = 0; i + 1 < c->p->nengineers; i++) {
			const struct pol_engineer *o = &c->p->engineers[i];

			for (j = 0; j < o->nkeys; j++)
				if (mg_sshkey_equal(o->keys[j].key, e->keys[k].key))
					err_at(c, e->keys[k].loc.file, e->keys[k].loc.line,
					    "%s: this key already belongs to engineer "
					    "'%s' (%s:%d)", what, o->name,
					    o->keys[j].loc.file, o->keys[j].loc.line);
		}
		for (l = 0; l < k; l++)
			if (mg_sshkey_equal(e->keys[l].key, e->keys[k].key))
				err_at(c, e->keys[k].loc.file, e->keys[k].loc.line,
				    "%s: the same key is listed twice", what);
	}
}

static const struct keyspec tenant_keys[] = {
	{ "name", K_STR, 1 }, { "tz", K_STR, 0 }, { "windows", K_STRLIST, 0 },
	{ "targets", K_LIST, 0 }, { "description", K_STR, 0 }, { NULL, 0, 0 }
};
static const struct keyspec target_keys[] = {
	{ "name", K_STR, 1 }, { "host", K_STR, 1 }, { "port", K_INT, 0 },
	{ "host_key", K_STR, 0 }, { "host_keys", K_STRLIST, 0 },
	{ "logins", K_STRLIST, 1 }, { "credential", K_STR, 1 },
	{ "description", K_STR, 0 }, { NULL, 0, 0 }
};

static void
load_target(struct ctx *c, const config_setting_t *g, struct pol_tenant *t)
{
	const struct pol_target *dup;
	struct pol_target *tg = &t->targets[t->ntargets];
	const char *name;
	char what[160], e[256], **hk = NULL;
	size_t i, nhk = 0;
	long long port = 22;
	const config_setting_t *hks;

	if (check_keys(c, g, target_keys, "a target") != 0)
		return;
	name = get_str(g, "name");
	snprintf(what, sizeof(what), "target '%.64s/%.64s'", t->name, name);
	if (!name_ok(name, 64)) {
		err_set(c, config_setting_get_member(g, "name"),
		    "invalid target name '%s'", name);
		return;
	}
	if ((dup = pol_target_find(t, name)) != NULL) {
		already(c, g, what, dup->loc);
		return;
	}
	t->ntargets++;
	tg->tenant = t;
	tg->loc = loc_of(c, g);
	tg->name = xstrdup(c, name);
	tg->host = xstrdup(c, get_str(g, "host"));
	if (tg->host != NULL && !host_ok(tg->host))
		err_set(c, config_setting_get_member(g, "host"),
		    "%s: invalid host \"%s\"", what, tg->host);
	get_int(c, g, "port", 1, 65535, &port);
	tg->port = (int)port;
	tg->credential = xstrdup(c, get_str(g, "credential"));
	if (tg->credential != NULL && !name_ok(tg->credential, 128))
		err_set(c, config_setting_get_member(g, "credential"),
		    "%s: invalid credential name \"%s\"", what, tg->credential);
	if (get_strlist(c, g, "logins", what, &tg->logins, &tg->nlogins) == 0) {
		if (tg->nlogins == 0)
			err_set(c, config_setting_get_member(g, "logins"),
			    "%s: 'logins' is empty", what);
		for (i = 0; i < tg->nlogins; i++)
			if (!login_ok(tg->logins[i]))
				err_set(c, strlist_elem(g, "logins", i),
				    "%s: invalid login '%s'", what, tg->logins[i]);
	}
	/* Host keys are pinned: the gateway never trusts on first use. */
	if (get_str(g, "host_key") != NULL && member(g, "host_keys", K_STRLIST)) {
		err_set(c, g, "%s: use either 'host_key' or 'host_keys'", what);
		return;
	}
	if (get_str(g, "host_key") != NULL) {
		hks = config_setting_get_member(g, "host_key");
		get_strlist(c, g, "host_key", what, &hk, &nhk);
	} else {
		hks = config_setting_get_member(g, "host_keys");
		get_strlist(c, g, "host_keys", what, &hk, &nhk);
	}
	if (nhk == 0) {
		err_set(c, hks ? hks : g, "%s has no pinned host key: add host_key = "
		    "\"ssh-ed25519 AAAA...\" (ssh-keyscan shows it)", what);
		strv_free(hk, nhk);
		return;
	}
	if ((tg->host_keys = calloc(nhk, sizeof(*tg->host_keys))) == NULL) {
		err_at(c, NULL, 0, "out of memory");
		strv_free(hk, nhk);
		return;
	}
	for (i = 0; i < nhk; i++) {
		const config_setting_t *es = config_setting_type(hks) == CONFIG_TYPE_STRING ?
		    hks : config_setting_get_elem(hks, (unsigned)i);

		if (mg_sshkey_parse(hk[i], &tg->host_keys[tg->nhost_keys], e,
		    sizeof(e)) != 0)
			err_set(c, es, "host key of %s: %s", what, e);
		else
			tg->nhost_keys++;
	}
	strv_free(hk, nhk);
}

static void
load_tenant(struct ctx *c, const config_setting_t *g)
{
	const struct pol_tenant *dup;
	struct pol_internal *in = pol_internal(c->p);
	struct pol_tenant *t;
	const config_setting_t *ts;
	const char *name, *zname;
	char what[128];
	int i, n;

	if (check_keys(c, g, tenant_keys, "tenant") != 0)
		return;
	name = get_str(g, "name");
	snprintf(what, sizeof(what), "tenant '%.64s'", name);
	if (!name_ok(name, 64)) {
		err_set(c, config_setting_get_member(g, "name"),
		    "invalid tenant name '%s'", name);
		return;
	}
	if ((dup = pol_tenant_find(c->p, name)) != NULL) {
		already(c, g, what, dup->loc);
		return;
	}
	if ((t = xgrow(c, c->p->tenants, &in->cap_ten, c->p->ntenants,
	    sizeof(*t))) == NULL)
		return;
	c->p->tenants = t;
	t = &c->p->tenants[c->p->ntenants++];
	t->loc = loc_of(c, g);
	t->name = xstrdup(c, name);
	if (get_str(g, "description") != NULL)
		t->description = xstrdup(c, get_str(g, "description"));
	zname = get_str(g, "tz");
	if (zname == NULL)
		zname = "UTC";
	t->tz = tz_get(c, zname == NULL || get_str(g, "tz") == NULL ? g :
	    config_setting_get_member(g, "tz"), zname);
	resolve_windows(c, g, what, &t->windows, &t->nwindows);
	if ((ts = member(g, "targets", K_LIST)) == NULL)
		return;
	n = config_setting_length(ts);
	if (n > 10000) {
		err_set(c, ts, "%s has too many targets", what);
		return;
	}
	if (n == 0)
		return;
	if ((t->targets = calloc((size_t)n, sizeof(*t->targets))) == NULL) {
		err_at(c, NULL, 0, "out of memory");
		return;
	}
	for (i = 0; i < n; i++)
		load_target(c, config_setting_get_elem(ts, i), t);
}

static const struct keyspec grant_keys[] = {
	{ "to", K_STRLIST, 1 }, { "tenants", K_STRLIST, 1 },
	{ "targets", K_STRLIST, 1 }, { "logins", K_STRLIST, 1 },
	{ "mfa", K_STR, 1 }, { "max_session", K_STR, 0 }, { "ticket", K_BOOL, 0 },
	{ "windows", K_STRLIST, 0 }, { "sources", K_STRLIST, 0 },
	{ "valid_from", K_STR, 0 }, { "valid_until", K_STR, 0 },
	{ "comment", K_STR, 0 }, { NULL, 0, 0 }
};

static int
group_exists(const struct pol *p, const char *g)
{
	size_t i;

	for (i = 0; i < p->nengineers; i++)
		if (str_in(p->engineers[i].groups, p->engineers[i].ngroups, g))
			return 1;
	return 0;
}

static void
load_grant(struct ctx *c, const config_setting_t *g)
{
	struct pol_internal *in = pol_internal(c->p);
	struct pol_grant *gr;
	char what[128], **tn = NULL;
	size_t i, j, k, ntn = 0;
	const char *mfa;
	const config_setting_t *ms;

	if (check_keys(c, g, grant_keys, "grant") != 0)
		return;
	if ((gr = xgrow(c, c->p->grants, &in->cap_gra, c->p->ngrants,
	    sizeof(*gr))) == NULL)
		return;
	c->p->grants = gr;
	gr = &c->p->grants[c->p->ngrants++];
	gr->loc = loc_of(c, g);
	snprintf(what, sizeof(what), "grant at line %d", gr->loc.line);
	gr->max_session = c->p->gateway.default_max_session;

	if (get_strlist(c, g, "to", what, &gr->to, &gr->nto) == 0) {
		if (gr->nto == 0)
			err_set(c, config_setting_get_member(g, "to"),
			    "%s: 'to' is empty", what);
		for (i = 0; i < gr->nto; i++) {
			const char *to = gr->to[i];

			if (strncmp(to, "group:", 6) == 0) {
				if (!group_exists(c->p, to + 6))
					err_set(c, strlist_elem(g, "to", i),
					    "%s: no engineer is in group '%s'", what,
					    to + 6);
			} else if (pol_engineer_find(c->p, to) == NULL) {
				err_set(c, strlist_elem(g, "to", i),
				    "%s: engineer '%s' is not defined%s", what, to,
				    strchr(to, ':') ? " (groups are written group:NAME)" : "");
			}
		}
	}
	/* Tenants are named one by one: no wildcard may span clients. */
	if (get_strlist(c, g, "tenants", what, &tn, &ntn) != 0) {
		ntn = 0;
	} else {
		if (ntn == 0)
			err_set(c, config_setting_get_member(g, "tenants"),
			    "%s: 'tenants' is empty", what);
		if (ntn > 0 && (gr->tenants = calloc(ntn, sizeof(*gr->tenants))) == NULL)
			err_at(c, NULL, 0, "out of memory");
		for (i = 0; gr->tenants != NULL && i < ntn; i++) {
			struct pol_tenant *t = (struct pol_tenant *)pol_tenant_find(c->p, tn[i]);

			if (t == NULL)
				err_set(c, strlist_elem(g, "tenants", i),
				    "%s: tenant '%s' is not defined%s", what, tn[i],
				    strpbrk(tn[i], "*?[") ? " (tenants are named one "
				    "by one; wildcards are not allowed)" : "");
			else
				gr->tenants[gr->ntenants++] = t;
		}
		strv_free(tn, ntn);
	}
	/* With a tenant missing, checks against its targets would only echo that. */
	if (gr->ntenants != ntn)
		gr->ntenants = 0;
	if (get_strlist(c, g, "targets", what, &gr->targets, &gr->ntargets) == 0) {
		if (gr->ntargets == 0)
			err_set(c, config_setting_get_member(g, "targets"),
			    "%s: 'targets' is empty", what);
		/* A pattern that matches nothing is almost always a typo. */
		for (i = 0; i < gr->ntargets && gr->ntenants > 0; i++) {
			int hit = 0;

			for (j = 0; j < gr->ntenants && !hit; j++)
				for (k = 0; k < gr->tenants[j]->ntargets && !hit; k++)
					if (fnmatch(gr->targets[i],
					    gr->tenants[j]->targets[k].name, 0) == 0)
						hit = 1;
			if (!hit)
				err_set(c, strlist_elem(g, "targets", i),
				    "%s: target '%s' matches no target of its tenants",
				    what, gr->targets[i]);
		}
	}
	if (get_strlist(c, g, "logins", what, &gr->logins, &gr->nlogins) == 0) {
		if (gr->nlogins == 0)
			err_set(c, config_setting_get_member(g, "logins"),
			    "%s: 'logins' is empty", what);
		for (i = 0; i < gr->nlogins; i++) {
			int hit = 0;

			for (j = 0; j < gr->ntenants && !hit; j++)
				for (k = 0; k < gr->tenants[j]->ntargets && !hit; k++)
					if (pol_grant_covers(gr, &gr->tenants[j]->targets[k]) &&
					    str_in(gr->tenants[j]->targets[k].logins,
					    gr->tenants[j]->targets[k].nlogins, gr->logins[i]))
						hit = 1;
			if (!hit && gr->ntenants > 0)
				err_set(c, strlist_elem(g, "logins", i),
				    "%s: login '%s' is not allowed on any target the "
				    "grant covers", what, gr->logins[i]);
		}
	}
	mfa = get_str(g, "mfa");
	ms = config_setting_get_member(g, "mfa");
	if (mfa != NULL && pol_mfa_parse(mfa, &gr->mfa) != 0)
		err_set(c, ms, "%s: mfa must be \"totp\", \"fido\" or \"fido+totp\", "
		    "not \"%s\"", what, mfa);
	get_duration(c, g, "max_session", &gr->max_session);
	if (member(g, "ticket", K_BOOL) != NULL)
		gr->ticket = config_setting_get_bool(config_setting_get_member(g, "ticket"));
	resolve_windows(c, g, what, &gr->windows, &gr->nwindows);
	get_cidrs(c, g, what, &gr->sources, &gr->nsources);
	get_date(c, g, "valid_from", 0, &gr->valid_from);
	get_date(c, g, "valid_until", 1, &gr->valid_until);
	if (gr->valid_from && gr->valid_until && gr->valid_until <= gr->valid_from)
		err_set(c, config_setting_get_member(g, "valid_until"),
		    "%s: valid_until is before valid_from", what);
	if (get_str(g, "comment") != NULL)
		gr->comment = xstrdup(c, get_str(g, "comment"));
}

static const struct keyspec alerts_keys[] = {
	{ "fanout", K_GROUP, 0 }, { "first_access", K_GROUP, 0 },
	{ "off_hours", K_GROUP, 0 }, { "mfa_failures", K_GROUP, 0 },
	{ "unusual", K_GROUP, 0 }, { "parallel", K_GROUP, 0 },
	{ "egress", K_GROUP, 0 }, { "sensitive_commands", K_GROUP, 0 },
	{ "notify", K_STR, 0 }, { "deny_ends_sessions", K_BOOL, 0 }, { NULL, 0, 0 }
};

/* Each alert rule: its own count key and which extra keys it takes. */
static const struct alert_def {
	const char *name;
	const char *count;	/* NULL: no count */
	long long count_max;
	int has_within, has_bytes, has_patterns;
	size_t off;
} alert_defs[] = {
	{ "fanout", "tenants", 1000, 1, 0, 0, offsetof(struct pol_alerts, fanout) },
	{ "first_access", "days", 3650, 0, 0, 0, offsetof(struct pol_alerts, first_access) },
	{ "off_hours", "attempts", 100000, 1, 0, 0, offsetof(struct pol_alerts, off_hours) },
	{ "mfa_failures", "failures", 100000, 1, 0, 0, offsetof(struct pol_alerts, mfa_failures) },
	{ "unusual", "history_days", 3650, 0, 0, 0, offsetof(struct pol_alerts, unusual) },
	{ "parallel", NULL, 0, 0, 0, 0, offsetof(struct pol_alerts, parallel) },
	{ "egress", NULL, 0, 0, 1, 0, offsetof(struct pol_alerts, egress) },
	{ "sensitive_commands", NULL, 0, 0, 0, 1, offsetof(struct pol_alerts, sensitive) },
};

static void
load_alerts(struct ctx *c, const config_setting_t *g)
{
	const char *notify;
	size_t d;

	if (check_keys(c, g, alerts_keys, "alerts") != 0)
		return;
	if (member(g, "deny_ends_sessions", K_BOOL) != NULL)
		c->p->alerts.deny_ends_sessions = config_setting_get_bool(
		    config_setting_get_member(g, "deny_ends_sessions"));
	if ((notify = get_str(g, "notify")) != NULL) {
		/* Run without a shell: an absolute path, nothing to search or expand. */
		if (!path_ok(notify))
			err_set(c, config_setting_get_member(g, "notify"),
			    "alerts.notify must be an absolute path, not \"%s\"", notify);
		else if (strlen(notify) >= sizeof(c->p->alerts.notify))
			err_set(c, config_setting_get_member(g, "notify"),
			    "alerts.notify: path too long");
		else
			snprintf(c->p->alerts.notify, sizeof(c->p->alerts.notify), "%s",
			    notify);
	}
	for (d = 0; d < sizeof(alert_defs) / sizeof(alert_defs[0]); d++) {
		const struct alert_def *ad = &alert_defs[d];
		struct pol_alert_rule *r = (struct pol_alert_rule *)
		    ((char *)&c->p->alerts + ad->off);
		const config_setting_t *s = member(g, ad->name, K_GROUP);
		struct keyspec ks[6];
		char what[64];
		const char *act;
		long long v;
		size_t n = 0, i;

		if (s == NULL)
			continue;
		snprintf(what, sizeof(what), "alerts.%s", ad->name);
		ks[n++] = (struct keyspec){ "action", K_STR, 0 };
		if (ad->count)
			ks[n++] = (struct keyspec){ ad->count, K_INT, 0 };
		if (ad->has_within)
			ks[n++] = (struct keyspec){ "within", K_STR, 0 };
		if (ad->has_bytes) {
			ks[n++] = (struct keyspec){ "per_session", K_ANY, 0 };
			ks[n++] = (struct keyspec){ "per_day", K_ANY, 0 };
		}
		if (ad->has_patterns)
			ks[n++] = (struct keyspec){ "patterns", K_STRLIST, 0 };
		ks[n] = (struct keyspec){ NULL, 0, 0 };
		if (check_keys(c, s, ks, what) != 0)
			continue;
		r->loc = loc_of(c, s);
		if ((act = get_str(s, "action")) != NULL) {
			if (strcmp(act, "alert") == 0)
				r->action = POL_ACT_ALERT, r->enabled = 1;
			else if (strcmp(act, "reauth") == 0)
				r->action = POL_ACT_REAUTH, r->enabled = 1;
			else if (strcmp(act, "deny") == 0)
				r->action = POL_ACT_DENY, r->enabled = 1;
			else if (strcmp(act, "off") == 0)
				r->enabled = 0;
			else
				err_set(c, config_setting_get_member(s, "action"),
				    "%s: action must be \"alert\", \"reauth\", \"deny\" "
				    "or \"off\", not \"%s\"", what, act);
		}
		if (ad->count && get_int(c, s, ad->count, 1, ad->count_max, &v) > 0)
			r->count = v;
		if (ad->has_within)
			get_duration(c, s, "within", &r->within);
		if (ad->has_bytes) {
			get_size(c, s, "per_session", &r->bytes);
			get_size(c, s, "per_day", &r->bytes_day);
		}
		if (ad->has_patterns && member(s, "patterns", K_STRLIST) != NULL) {
			struct pol_alerts *al = &c->p->alerts;

			strv_free(al->patterns, al->npatterns);
			al->patterns = NULL;
			al->npatterns = 0;
			if (get_strlist(c, s, "patterns", what, &al->patterns,
			    &al->npatterns) != 0)
				continue;
			for (i = 0; i < al->npatterns; i++) {
				regex_t re;
				char e[128];
				int rc = regcomp(&re, al->patterns[i],
				    REG_EXTENDED | REG_NOSUB);

				if (rc != 0) {
					regerror(rc, &re, e, sizeof(e));
					err_set(c, strlist_elem(s, "patterns", i),
					    "%s: bad pattern \"%s\": %s", what,
					    al->patterns[i], e);
				}
				regfree(&re);
			}
		}
	}
}

/* -------------------------------------------------------------------- */

static const char *const top_keys[] = {
	"gateway", "mfa", "pam", "windows", "engineers", "tenants", "grants",
	"alerts", NULL
};

static const struct keyspec pam_keys[] = {
	{ "group", K_STR, 0 }, { "sources", K_STRLIST, 0 }, { "tenant", K_STR, 0 },
	{ NULL, 0, 0 }
};

static void
load_pam(struct ctx *c, const config_setting_t *g)
{
	struct pol_pam *pp = &c->p->pam;
	struct mg_cidr *v = NULL;
	const char *grp;
	size_t n = 0;

	if (check_keys(c, g, pam_keys, "pam") != 0)
		return;
	pp->loc = loc_of(c, g);
	if ((grp = get_str(g, "group")) != NULL) {
		/* What groupadd accepts: a Unix group name, not a pattern. */
		if (!login_ok(grp) || strlen(grp) >= sizeof(pp->group))
			err_set(c, config_setting_get_member(g, "group"),
			    "pam: invalid group name \"%s\"", grp);
		else
			snprintf(pp->group, sizeof(pp->group), "%s", grp);
	}
	if (get_cidrs(c, g, "pam", &v, &n) == 0) {
		if (n > POL_PAM_MAX_SOURCES)
			err_set(c, config_setting_get_member(g, "sources"),
			    "pam: too many sources (%zu, at most %d)", n,
			    POL_PAM_MAX_SOURCES);
		else if (n > 0 && v != NULL) {
			memcpy(pp->sources, v, n * sizeof(*v));
			pp->nsources = n;
		}
		if (n == 0 && config_setting_get_member(g, "sources") != NULL)
			err_set(c, config_setting_get_member(g, "sources"),
			    "pam: 'sources' is empty (leave it out for no restriction)");
	}
	free(v);
	c->pam_tenant = member(g, "tenant", K_STR);
}

/*
 * After grants: the pam tenant must exist, and an engineer's own mfa may
 * only add to what the grants demand, never weaken a grant.
 */
static void
check_after_grants(struct ctx *c)
{
	struct pol *p = c->p;
	size_t i, j;

	if (c->pam_tenant != NULL) {
		const char *tn = config_setting_get_string(c->pam_tenant);

		if ((p->pam.tenant = pol_tenant_find(p, tn)) == NULL)
			err_set(c, c->pam_tenant, "pam: tenant '%s' is not defined", tn);
	}
	for (i = 0; i < p->nengineers; i++) {
		const struct pol_engineer *e = &p->engineers[i];
		unsigned u = 0;

		if (e->mfa == 0)
			continue;
		for (j = 0; j < p->ngrants; j++)
			if (pol_grant_applies(&p->grants[j], e))
				u |= p->grants[j].mfa;
		if ((e->mfa & u) != u)
			err_at(c, e->mfa_loc.file, e->mfa_loc.line,
			    "engineer '%s': mfa \"%s\" is weaker than its grants "
			    "require (\"%s\")", e->name, pol_mfa_name(e->mfa),
			    pol_mfa_name(u));
	}
}

/* Settings that may appear in one file only. */
static int
once(struct ctx *c, const config_setting_t *s, struct pol_loc *seen)
{
	if (seen->file != NULL) {
		err_set(c, s, "'%s' is already set at %s:%d", config_setting_name(s),
		    seen->file, seen->line);
		return 0;
	}
	*seen = loc_of(c, s);
	return 1;
}

static void
each_in_list(struct ctx *c, const char *key, void (*fn)(struct ctx *,
    const config_setting_t *))
{
	size_t f;
	int i, n;

	for (f = 0; f < c->nsrcs; f++) {
		const config_setting_t *l =
		    config_setting_get_member(config_root_setting(&c->srcs[f].cfg), key);

		if (l == NULL)
			continue;
		if (!config_setting_is_list(l)) {
			err_set(c, l, "'%s' must be a list ( { ... }, { ... } ), not %s",
			    key, type_name(config_setting_type(l)));
			continue;
		}
		n = config_setting_length(l);
		for (i = 0; i < n; i++) {
			const config_setting_t *e = config_setting_get_elem(l, i);

			if (!config_setting_is_group(e)) {
				err_set(c, e, "each entry of '%s' must be a group { ... }, "
				    "not %s", key, type_name(config_setting_type(e)));
				continue;
			}
			fn(c, e);
		}
	}
}

static int
defaults(struct ctx *c)
{
	struct pol *p = c->p;
	struct pol_alerts *a = &p->alerts;

	p->gateway.vault = xstrdup(c, "/etc/mspgate/vault");
	p->gateway.recordings = xstrdup(c, "/var/lib/mspgate/recordings");
	p->gateway.audit = xstrdup(c, "/var/log/mspgate/audit.jsonl");
	p->gateway.state = xstrdup(c, "/var/lib/mspgate/state");
	p->gateway.control_socket = xstrdup(c, "/run/mspgate/control.sock");
	p->gateway.session_socket = xstrdup(c, "/run/mspgate/session.sock");
	p->gateway.user = xstrdup(c, "mspgate");
	p->gateway.signing_key = xstrdup(c, "/etc/mspgate/signing_key.pem");
	p->gateway.default_max_session = 4 * 3600;
	p->gateway.idle_timeout = 30 * 60;
	p->gateway.reload_grace = 5 * 60;
	p->gateway.max_sessions = POL_MAX_SESSIONS_DEFAULT;
	p->mfa.totp_store = xstrdup(c, "/var/lib/mspgate/totp");
	p->mfa.skew_steps = 1;
	p->mfa.digits = 6;
	p->mfa.period = 30;
	p->mfa.algorithm = xstrdup(c, "sha1");
	p->mfa.lockout_failures = 5;
	p->mfa.lockout_within = 15 * 60;
	p->mfa.lockout_for = 15 * 60;
	a->fanout = (struct pol_alert_rule){ 1, POL_ACT_ALERT, 3, 30 * 60, 0, 0, { 0, 0 } };
	a->first_access = (struct pol_alert_rule){ 1, POL_ACT_ALERT, 90, 0, 0, 0, { 0, 0 } };
	a->off_hours = (struct pol_alert_rule){ 1, POL_ACT_ALERT, 3, 3600, 0, 0, { 0, 0 } };
	a->mfa_failures = (struct pol_alert_rule){ 1, POL_ACT_ALERT, 5, 600, 0, 0, { 0, 0 } };
	a->unusual = (struct pol_alert_rule){ 1, POL_ACT_ALERT, 30, 0, 0, 0, { 0, 0 } };
	a->parallel = (struct pol_alert_rule){ 1, POL_ACT_ALERT, 0, 0, 0, 0, { 0, 0 } };
	a->egress = (struct pol_alert_rule){ 1, POL_ACT_ALERT, 0, 0,
	    1024LL * 1024 * 1024, 10LL * 1024 * 1024 * 1024, { 0, 0 } };
	a->sensitive = (struct pol_alert_rule){ 1, POL_ACT_ALERT, 0, 0, 0, 0, { 0, 0 } };
	return c->errors ? -1 : 0;
}

static void
build(struct ctx *c)
{
	size_t f;

	for (f = 0; f < c->nsrcs; f++) {
		const config_setting_t *root = config_root_setting(&c->srcs[f].cfg);
		int i, n = config_setting_length(root);

		for (i = 0; i < n; i++) {
			const config_setting_t *s = config_setting_get_elem(root, i);
			const char *name = config_setting_name(s);
			size_t k;

			for (k = 0; top_keys[k] != NULL; k++)
				if (strcmp(top_keys[k], name) == 0)
					break;
			if (top_keys[k] == NULL)
				err_set(c, s, "unknown key '%s' at the top level "
				    "(expected gateway, mfa, pam, windows, engineers, "
				    "tenants, grants or alerts)", name);
			else if (strcmp(name, "gateway") == 0 &&
			    once(c, s, &c->seen_gateway))
				load_gateway(c, s);
			else if (strcmp(name, "mfa") == 0 && once(c, s, &c->seen_mfa))
				load_mfa(c, s);
			else if (strcmp(name, "pam") == 0 && once(c, s, &c->seen_pam))
				load_pam(c, s);
			else if (strcmp(name, "alerts") == 0 &&
			    once(c, s, &c->seen_alerts))
				load_alerts(c, s);
		}
	}
	/* Windows first: tenants and grants name them. */
	for (f = 0; f < c->nsrcs; f++) {
		const config_setting_t *w = config_setting_get_member(
		    config_root_setting(&c->srcs[f].cfg), "windows");

		if (w != NULL)
			load_windows(c, w);
	}
	each_in_list(c, "engineers", load_engineer);
	each_in_list(c, "tenants", load_tenant);
	each_in_list(c, "grants", load_grant);
	check_after_grants(c);
}

static int
load_common(struct ctx *c, char *buf, const char *name)
{
	const char *stored;

	if (defaults(c) != 0)
		return -1;
	if (add_file(c, name, &stored) != 0)
		return -1;
	if (read_text(c, buf, stored, 0) != 0)
		return -1;
	build(c);
	return c->errors ? -1 : 0;
}

static void
ctx_done(struct ctx *c)
{
	size_t i;

	for (i = 0; i < c->nsrcs; i++)
		config_destroy(&c->srcs[i].cfg);
	free(c->srcs);
	c->srcs = NULL;
	c->nsrcs = 0;
}

int
pol_load_buffer(const char *buf, size_t len, const char *name, struct pol **out,
    struct mg_diag *diag)
{
	struct ctx c;
	char *copy = NULL;
	int r = MG_ERR_POLICY;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	c.diag = diag;
	if ((c.p = pol_internal_new()) == NULL)
		return MG_ERR_NOMEM;
	if (memchr(buf, '\0', len) != NULL) {
		mg_diag_add(diag, name, 0, "file contains a NUL byte");
		goto out;
	}
	if ((copy = strndup(buf, len)) == NULL) {
		r = MG_ERR_NOMEM;
		goto out;
	}
	if (load_common(&c, copy, name) == 0) {
		*out = c.p;
		c.p = NULL;
		r = 0;
	}
 out:
	ctx_done(&c);
	free(copy);
	pol_free(c.p);
	return r;
}

int
pol_load(const char *path, struct pol **out, struct mg_diag *diag)
{
	struct mg_file_rules rules;
	char abs[PATH_MAX], cwd[PATH_MAX], e[512], *buf = NULL;
	size_t len;
	int r;

	*out = NULL;
	if (path[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    (size_t)snprintf(abs, sizeof(abs), "%s/%s", cwd, path) >= sizeof(abs)) {
			mg_diag_add(diag, path, 0, "cannot make the path absolute");
			return MG_ERR_POLICY;
		}
		path = abs;
	}
	memset(&rules, 0, sizeof(rules));
	rules.max_size = POL_MAX_FILE;
	rules.forbid_mode = 022;
	if ((r = mg_file_read_safe(path, &rules, &buf, &len, e, sizeof(e))) != 0) {
		mg_diag_add(diag, NULL, 0, "%s", e);
		return MG_ERR_POLICY;
	}
	r = pol_load_buffer(buf, len, path, out, diag);
	free(buf);
	return r;
}
