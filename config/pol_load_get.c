/* SPDX-License-Identifier: BSD-2-Clause */
/* Typed, strict access to libconfig settings: keys, strings, numbers, sizes, dates, addresses. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mg_addr.h"
#include "mg_name.h"
#include "mg_time.h"
#include "pol_load_priv.h"

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
int
pl_check_keys(struct ctx *c, const config_setting_t *g, const struct keyspec *spec,
    const char *what)
{
	int i, n, errs = 0;
	const struct keyspec *k;

	if (!config_setting_is_group(g)) {
		pl_err_set(c, g, "%s must be a group { }, not %s", what,
		    pl_type_name(config_setting_type(g)));
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
			pl_err_set(c, m, "unknown key '%s' in %s", name, what);
			errs++;
		} else if (!type_ok(m, k->type)) {
			pl_err_set(c, m, "'%s' in %s must be %s, not %s", name, what,
			    ktype_name(k->type), pl_type_name(config_setting_type(m)));
			errs++;
		}
	}
	for (k = spec; k->name != NULL; k++) {
		if (k->required && config_setting_get_member(g, k->name) == NULL) {
			pl_err_set(c, g, "%s has no '%s'", what, k->name);
			errs++;
		}
	}
	return errs;
}

/* The member if present and of the right type (pl_check_keys reported the rest). */
const config_setting_t *
pl_member(const config_setting_t *g, const char *name, enum ktype k)
{
	const config_setting_t *m = config_setting_get_member(g, name);

	if (m == NULL || !type_ok(m, k))
		return NULL;
	return m;
}

const char *
pl_get_str(const config_setting_t *g, const char *name)
{
	const config_setting_t *m = pl_member(g, name, K_STR);

	return m != NULL ? config_setting_get_string(m) : NULL;
}

/*
 * An engineer's or a grant's "mfa" into *out; 1 when it is there (a bad
 * one is an error naming the sets there are), 0 when not.
 */
int
pl_get_mfa(struct ctx *c, const config_setting_t *g, const char *what, unsigned *out)
{
	const char *s = pl_get_str(g, "mfa");
	char sets[128];

	if (s == NULL)
		return 0;
	if (pol_mfa_parse(s, out) != 0)
		pl_err_set(c, config_setting_get_member(g, "mfa"), "%s: mfa must be %s, "
		    "not \"%s\"", what, pol_mfa_sets(", ", " or ", sets, sizeof(sets)), s);
	return 1;
}

/* Copies a string or list of strings; each element must be a string. */
int
pl_get_strlist(struct ctx *c, const config_setting_t *g, const char *name,
    const char *what, char ***out, size_t *nout)
{
	const config_setting_t *m = pl_member(g, name, K_STRLIST);
	char **v = NULL;
	int i, n;

	*out = NULL;
	*nout = 0;
	if (m == NULL)
		return 0;
	if (config_setting_type(m) == CONFIG_TYPE_STRING) {
		if ((v = calloc(1, sizeof(*v))) == NULL ||
		    (v[0] = pl_xstrdup(c, config_setting_get_string(m))) == NULL) {
			free(v);
			return -1;
		}
		*out = v;
		*nout = 1;
		return 0;
	}
	n = config_setting_length(m);
	if (n > POL_MAX_LIST) {
		pl_err_set(c, m, "'%s' in %s has too many entries (%d, at most %d)",
		    name, what, n, POL_MAX_LIST);
		return -1;
	}
	if (n > 0 && (v = calloc((size_t)n, sizeof(*v))) == NULL) {
		pl_err_at(c, NULL, 0, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(m, i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			pl_err_set(c, e, "'%s' in %s must hold strings, not %s", name,
			    what, pl_type_name(config_setting_type(e)));
			pl_strv_free(v, (size_t)i);
			return -1;
		}
		if ((v[i] = pl_xstrdup(c, config_setting_get_string(e))) == NULL) {
			pl_strv_free(v, (size_t)i);
			return -1;
		}
	}
	*out = v;
	*nout = (size_t)n;
	return 0;
}

/* The setting of the i-th element of a string list, for messages. */
const config_setting_t *
pl_strlist_elem(const config_setting_t *g, const char *name, size_t i)
{
	const config_setting_t *m = config_setting_get_member(g, name);

	if (m == NULL || config_setting_type(m) == CONFIG_TYPE_STRING)
		return m;
	return config_setting_get_elem(m, (unsigned)i);
}

int
pl_get_int(struct ctx *c, const config_setting_t *g, const char *name,
    long long lo, long long hi, long long *out)
{
	const config_setting_t *m = pl_member(g, name, K_INT);
	long long v;

	if (m == NULL)
		return 0;
	v = config_setting_get_int64(m);
	if (v < lo || v > hi) {
		pl_err_set(c, m, "'%s' must be between %lld and %lld, not %lld",
		    name, lo, hi, v);
		return -1;
	}
	*out = v;
	return 1;
}

int
pl_get_duration(struct ctx *c, const config_setting_t *g, const char *name,
    int64_t *out)
{
	const config_setting_t *m = pl_member(g, name, K_STR);
	char e[256];

	if (m == NULL)
		return 0;
	if (mg_duration_parse(config_setting_get_string(m), out, e, sizeof(e)) != 0) {
		pl_err_set(c, m, "'%s': %s", name, e);
		return -1;
	}
	return 1;
}

/* "1G", "500M", "64K", "1000" -> bytes. */
int
pl_get_size(struct ctx *c, const config_setting_t *g, const char *name,
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
			pl_err_set(c, m, "'%s' must be a positive size", name);
			return -1;
		}
		*out = config_setting_get_int64(m);
		return 1;
	}
	if (!type_ok(m, K_STR)) {
		pl_err_set(c, m, "'%s' must be a size such as \"500M\" or \"2G\"", name);
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
	pl_err_set(c, m, "'%s': invalid size \"%s\" (use a number with K, M, G or T)",
	    name, s);
	return -1;
}

/* A date "YYYY-MM-DD" (all of that day, UTC) or "YYYY-MM-DD HH:MM" (UTC). */
int
pl_get_date(struct ctx *c, const config_setting_t *g, const char *name, int is_end,
    time_t *out)
{
	const config_setting_t *m = pl_member(g, name, K_STR);
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
	pl_err_set(c, m, "'%s': %s", name, e);
	return -1;
}

int
pl_path_ok(const char *s)
{
	return s[0] == '/' && strlen(s) < PATH_MAX && strstr(s, "/../") == NULL;
}

/*
 * A path setting: when given it must be absolute (pl_path_ok); it then
 * replaces *dst (a default, or NULL). Returns 0, or -1 after an error.
 */
int
pl_set_path(struct ctx *c, const config_setting_t *g, const char *name, char **dst)
{
	const char *s = pl_get_str(g, name);

	if (s == NULL)
		return 0;
	if (!pl_path_ok(s)) {
		pl_err_set(c, config_setting_get_member(g, name),
		    "'%s' must be an absolute path, not \"%s\"", name, s);
		return -1;
	}
	free(*dst);
	*dst = pl_xstrdup(c, s);
	return 0;
}

void
pl_set_user(struct ctx *c, const config_setting_t *g, const char *name, char **dst)
{
	const char *s = pl_get_str(g, name);

	if (s == NULL)
		return;
	if (!mg_name_ok(MG_NAME_ENGINEER, s)) {
		pl_err_set(c, config_setting_get_member(g, name),
		    "'%s' must be a user name, not \"%s\"", name, s);
		return;
	}
	free(*dst);
	*dst = pl_xstrdup(c, s);
}

int
pl_str_in(char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

int
pl_get_cidrs(struct ctx *c, const config_setting_t *g, const char *what,
    struct mg_cidr **out, size_t *nout)
{
	char **v = NULL, e[256];
	size_t n = 0, i;
	int bad = 0;

	*out = NULL;
	*nout = 0;
	if (pl_get_strlist(c, g, "sources", what, &v, &n) != 0)
		return -1;
	if (n == 0)
		return 0;
	if ((*out = calloc(n, sizeof(**out))) == NULL) {
		pl_err_at(c, NULL, 0, "out of memory");
		pl_strv_free(v, n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (mg_cidr_parse(v[i], &(*out)[i], e, sizeof(e)) != 0) {
			pl_err_set(c, pl_strlist_elem(g, "sources", i), "sources in %s: %s",
			    what, e);
			bad = 1;
		}
	}
	pl_strv_free(v, n);
	*nout = n;
	return bad ? -1 : 0;
}
