/* SPDX-License-Identifier: BSD-2-Clause */
/* Diagnostics list used by parsers to report every error with its place. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_diag.h"

/* Bounds the list so a hostile file cannot make us allocate without end. */
#define MG_DIAG_MAX 200

struct mg_diag {
	char **msg;
	size_t n;
	size_t cap;
	int dropped;	/* an allocation failed or the list was full */
};

static const char *dropped_msg = "further errors were not shown";

struct mg_diag *
mg_diag_new(void)
{
	return calloc(1, sizeof(struct mg_diag));
}

void
mg_diag_clear(struct mg_diag *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++)
		free(d->msg[i]);
	d->n = 0;
	d->dropped = 0;
}

void
mg_diag_free(struct mg_diag *d)
{
	if (d == NULL)
		return;
	mg_diag_clear(d);
	free(d->msg);
	free(d);
}

void
mg_diag_add(struct mg_diag *d, const char *file, int line, const char *fmt, ...)
{
	char text[1024], *m = NULL;
	va_list ap;
	int r;

	if (d == NULL)
		return;
	if (d->n >= MG_DIAG_MAX) {
		d->dropped = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (file != NULL && line > 0)
		r = asprintf(&m, "%s:%d: %s", file, line, text);
	else if (file != NULL)
		r = asprintf(&m, "%s: %s", file, text);
	else
		r = asprintf(&m, "%s", text);
	if (r < 0) {
		d->dropped = 1;
		return;
	}
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 8;
		char **nm = realloc(d->msg, ncap * sizeof(*nm));

		if (nm == NULL) {
			free(m);
			d->dropped = 1;
			return;
		}
		d->msg = nm;
		d->cap = ncap;
	}
	d->msg[d->n++] = m;
}

size_t
mg_diag_count(const struct mg_diag *d)
{
	if (d == NULL)
		return 0;
	return d->n + (d->dropped ? 1 : 0);
}

const char *
mg_diag_get(const struct mg_diag *d, size_t i)
{
	if (d == NULL)
		return NULL;
	if (i < d->n)
		return d->msg[i];
	if (i == d->n && d->dropped)
		return dropped_msg;
	return NULL;
}
