/* SPDX-License-Identifier: BSD-2-Clause */
/* Messages with file and line, and allocation helpers that count their failures. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_diag.h"
#include "pol_load_priv.h"

void
pl_err_at(struct ctx *c, const char *file, int line, const char *fmt, ...)
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

void
pl_err_set(struct ctx *c, const config_setting_t *s, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pl_err_at(c, set_file(c, s), set_line(s), "%s", msg);
}

struct pol_loc
pl_loc_of(const struct ctx *c, const config_setting_t *s)
{
	struct pol_loc l;

	l.file = set_file(c, s);
	l.line = set_line(s);
	return l;
}

const char *
pl_type_name(int type)
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

/*
 * Allocation helpers: on failure they count an error so nothing half-built
 * is ever returned.
 */

char *
pl_xstrdup(struct ctx *c, const char *s)
{
	char *r = strdup(s != NULL ? s : "");

	if (r == NULL)
		pl_err_at(c, NULL, 0, "out of memory");
	return r;
}

void *
pl_xgrow(struct ctx *c, void *ptr, size_t *cap, size_t n, size_t size)
{
	void *np;
	size_t ncap;

	if (n < *cap)
		return ptr;
	ncap = *cap ? *cap * 2 : 8;
	if ((np = reallocarray(ptr, ncap, size)) == NULL) {
		pl_err_at(c, NULL, 0, "out of memory");
		return NULL;
	}
	memset((char *)np + *cap * size, 0, (ncap - *cap) * size);
	*cap = ncap;
	return np;
}

void
pl_strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}


/* "WHAT is already defined at FILE:LINE", at the second definition. */
void
pl_already(struct ctx *c, const config_setting_t *g, const char *what,
    struct pol_loc first)
{
	pl_err_set(c, g, "%s is already defined at %s:%d", what, first.file, first.line);
}
