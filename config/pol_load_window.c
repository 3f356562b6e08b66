/* SPDX-License-Identifier: BSD-2-Clause */
/* The windows section, time zones, and resolving window names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_name.h"
#include "mg_tz.h"
#include "pol_window.h"
#include "pol_load_priv.h"

static const struct keyspec window_keys[] = {
	{ "tz", K_STR, 0 }, { "days", K_STR, 0 }, { "hours", K_STRLIST, 0 },
	{ "dates", K_STRLIST, 0 }, { "except", K_STRLIST, 0 },
	{ "description", K_STR, 0 }, { NULL, 0, 0 }
};

/* Zones are shared by name: windows and tenants keep borrowed pointers. */
struct mg_tz *
pl_tz_get(struct ctx *c, const config_setting_t *where, const char *name)
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
		pl_err_set(c, where, "unknown time zone \"%s\"", name);
		return NULL;
	}
	if ((nz = reallocarray(in->tz, in->ntz + 1, sizeof(*nz))) == NULL) {
		mg_tz_free(tz);
		pl_err_at(c, NULL, 0, "out of memory");
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

void
pl_load_windows(struct ctx *c, const config_setting_t *g)
{
	struct pol_internal *in = pol_internal(c->p);
	int i, n;

	if (!config_setting_is_group(g)) {
		pl_err_set(c, g, "'windows' must be a group of named windows { name = { ... }; }");
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
		if (!mg_name_ok(MG_NAME_POLICY, name)) {
			pl_err_set(c, w, "invalid window name '%s'", name);
			continue;
		}
		if (window_find(c->p, name) != NULL) {
			const struct pol_loc *l = NULL;

			for (j = 0; j < in->nwinloc; j++)
				if (strcmp(in->winloc[j].name, name) == 0)
					l = &in->winloc[j].loc;
			pl_err_set(c, w, "window '%s' is already defined at %s:%d", name,
			    l ? l->file : "?", l ? l->line : 0);
			continue;
		}
		if (pl_check_keys(c, w, window_keys, what) != 0)
			continue;
		if ((zname = pl_get_str(w, "tz")) != NULL &&
		    (tz = pl_tz_get(c, config_setting_get_member(w, "tz"), zname)) == NULL)
			continue;
		if ((pw = pol_window_new(name, tz)) == NULL) {
			pl_err_at(c, NULL, 0, "out of memory");
			continue;
		}
		days = pl_get_str(w, "days");
		if ((days != NULL) != (config_setting_get_member(w, "hours") != NULL)) {
			pl_err_set(c, w, "%s: 'days' and 'hours' go together", what);
			bad = 1;
		} else if (days != NULL) {
			if (pl_get_strlist(c, w, "hours", what, &v, &nv) != 0)
				bad = 1;
			for (k = 0; k < nv; k++) {
				if (pol_window_add_weekly(pw, days, v[k], e, sizeof(e)) != 0) {
					pl_err_set(c, pl_strlist_elem(w, "hours", k),
					    "%s: %s", what, e);
					bad = 1;
				}
			}
			pl_strv_free(v, nv);
			if (nv == 0 && !bad) {
				pl_err_set(c, w, "%s: 'hours' is empty", what);
				bad = 1;
			}
		}
		if (pl_get_strlist(c, w, "dates", what, &v, &nv) != 0)
			bad = 1;
		for (k = 0; k < nv; k++) {
			if (pol_window_add_dated(pw, v[k], e, sizeof(e)) != 0) {
				pl_err_set(c, pl_strlist_elem(w, "dates", k), "%s: %s", what, e);
				bad = 1;
			}
		}
		pl_strv_free(v, nv);
		if (pl_get_strlist(c, w, "except", what, &v, &nv) != 0)
			bad = 1;
		for (k = 0; k < nv; k++) {
			if (pol_window_add_except(pw, v[k], e, sizeof(e)) != 0) {
				pl_err_set(c, pl_strlist_elem(w, "except", k), "%s: %s", what, e);
				bad = 1;
			}
		}
		pl_strv_free(v, nv);
		if (!bad && pol_window_is_empty(pw)) {
			pl_err_set(c, w, "%s is empty: give 'days' and 'hours', or 'dates'",
			    what);
			bad = 1;
		}
		nw = reallocarray(c->p->windows, c->p->nwindows + 1, sizeof(*nw));
		if (nw == NULL || pol_internal_add_winloc(in, name, pl_loc_of(c, w)) != 0) {
			if (nw != NULL)
				c->p->windows = nw;
			pol_window_free(pw);
			pl_err_at(c, NULL, 0, "out of memory");
			continue;
		}
		c->p->windows = nw;
		/* Kept even when bad, so later references do not cascade. */
		nw[c->p->nwindows++] = pw;
	}
}

int
pl_resolve_windows(struct ctx *c, const config_setting_t *g, const char *what,
    const struct pol_window ***out, size_t *nout)
{
	char **v = NULL;
	size_t n = 0, i;
	int bad = 0;

	*out = NULL;
	*nout = 0;
	if (pl_get_strlist(c, g, "windows", what, &v, &n) != 0)
		return -1;
	if (n == 0) {
		if (config_setting_get_member(g, "windows") != NULL) {
			pl_err_set(c, config_setting_get_member(g, "windows"),
			    "'windows' in %s is empty (leave it out for no time limit)",
			    what);
			return -1;
		}
		return 0;
	}
	if ((*out = calloc(n, sizeof(**out))) == NULL) {
		pl_err_at(c, NULL, 0, "out of memory");
		pl_strv_free(v, n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (((*out)[i] = window_find(c->p, v[i])) == NULL) {
			pl_err_set(c, pl_strlist_elem(g, "windows", i),
			    "%s names window '%s', which is not defined", what, v[i]);
			bad = 1;
		}
	}
	*nout = n;
	pl_strv_free(v, n);
	return bad ? -1 : 0;
}
