/* SPDX-License-Identifier: BSD-2-Clause */
/* Policy files: reading them safely and following @include. */
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_file.h"
#include "pol_load_priv.h"

int
pl_add_file(struct ctx *c, const char *path, const char **stored)
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
		pl_err_at(c, path, 0, "too many policy files (at most %d)", POL_MAX_FILES);
		return -1;
	}
	nf = reallocarray(c->p->files, c->p->nfiles + 1, sizeof(*nf));
	if (nf == NULL) {
		pl_err_at(c, NULL, 0, "out of memory");
		return -1;
	}
	c->p->files = nf;
	if ((nf[c->p->nfiles] = pl_xstrdup(c, path)) == NULL)
		return -1;
	*stored = nf[c->p->nfiles++];
	return 0;
}

static int
include_one(struct ctx *c, const char *path, const char *from, int line, int depth)
{
	struct mg_file_rules rules;
	const char *stored;
	char *buf = NULL, e[512];
	size_t len;
	int r;

	if ((r = pl_add_file(c, path, &stored)) != 0) {
		if (r > 0)
			pl_err_at(c, from, line, "\"%s\" is included more than once "
			    "(or includes itself)", path);
		return -1;
	}
	memset(&rules, 0, sizeof(rules));
	rules.max_size = POL_MAX_FILE;
	/* Policy decides who reaches client hosts: others must not edit it. */
	rules.forbid_mode = 022;
	if (mg_file_read_safe(path, &rules, &buf, &len, e, sizeof(e)) != 0) {
		pl_err_at(c, from, line, "%s", e);
		return -1;
	}
	if (strlen(buf) != len) {
		pl_err_at(c, stored, 0, "file contains a NUL byte");
		free(buf);
		return -1;
	}
	r = pl_read_text(c, buf, stored, depth + 1);
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
		pl_err_at(c, from, line, "@include nested more than %d deep", POL_MAX_DEPTH);
		return -1;
	}
	if (spec[0] == '\0') {
		pl_err_at(c, from, line, "@include of an empty path");
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
		pl_err_at(c, from, line, "@include path too long");
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
		pl_err_at(c, from, line, "@include \"%s\": cannot list files", spec);
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
				pl_err_at(c, file, line, "@include needs a quoted path");
				bad = 1;
				p = q;
				bol = 0;
				continue;
			}
			if (depth > 0) {
				pl_err_at(c, file, line, "@include is allowed only at "
				    "the top level, outside any group or list");
				bad = 1;
			} else {
				struct incl *ni = pl_xgrow(c, *out, &cap, *nout, sizeof(**out));

				if (ni == NULL)
					return -1;
				*out = ni;
				if ((ni[*nout].path = strndup(q + 1, (size_t)(end - q - 1))) == NULL) {
					pl_err_at(c, NULL, 0, "out of memory");
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
int
pl_read_text(struct ctx *c, char *buf, const char *file, int depth)
{
	struct incl *inc = NULL;
	struct src *ns;
	size_t ninc = 0, i;
	int r = 0;

	if (scan_includes(c, buf, file, &inc, &ninc) != 0)
		r = -1;
	ns = reallocarray(c->srcs, c->nsrcs + 1, sizeof(*ns));
	if (ns == NULL) {
		pl_err_at(c, NULL, 0, "out of memory");
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
			pl_err_at(c, file, config_error_line(cfg), "syntax error");
		else
			pl_err_at(c, file, config_error_line(cfg), "syntax error: %s", t);
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
