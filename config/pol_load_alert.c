/* SPDX-License-Identifier: BSD-2-Clause */
/* The alerts section: each rule and its keys. */
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "pol_load_priv.h"

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

void
pl_load_alerts(struct ctx *c, const config_setting_t *g)
{
	const char *notify;
	size_t d;

	if (pl_check_keys(c, g, alerts_keys, "alerts") != 0)
		return;
	if (pl_member(g, "deny_ends_sessions", K_BOOL) != NULL)
		c->p->alerts.deny_ends_sessions = config_setting_get_bool(
		    config_setting_get_member(g, "deny_ends_sessions"));
	if ((notify = pl_get_str(g, "notify")) != NULL) {
		/* Run without a shell: an absolute path, nothing to search or expand. */
		if (!pl_path_ok(notify))
			pl_err_set(c, config_setting_get_member(g, "notify"),
			    "alerts.notify must be an absolute path, not \"%s\"", notify);
		else if (strlen(notify) >= sizeof(c->p->alerts.notify))
			pl_err_set(c, config_setting_get_member(g, "notify"),
			    "alerts.notify: path too long");
		else
			snprintf(c->p->alerts.notify, sizeof(c->p->alerts.notify), "%s",
			    notify);
	}
	for (d = 0; d < sizeof(alert_defs) / sizeof(alert_defs[0]); d++) {
		const struct alert_def *ad = &alert_defs[d];
		struct pol_alert_rule *r = (struct pol_alert_rule *)
		    ((char *)&c->p->alerts + ad->off);
		const config_setting_t *s = pl_member(g, ad->name, K_GROUP);
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
		if (pl_check_keys(c, s, ks, what) != 0)
			continue;
		r->loc = pl_loc_of(c, s);
		if ((act = pl_get_str(s, "action")) != NULL) {
			if (strcmp(act, "alert") == 0)
				r->action = POL_ACT_ALERT, r->enabled = 1;
			else if (strcmp(act, "reauth") == 0)
				r->action = POL_ACT_REAUTH, r->enabled = 1;
			else if (strcmp(act, "deny") == 0)
				r->action = POL_ACT_DENY, r->enabled = 1;
			else if (strcmp(act, "off") == 0)
				r->enabled = 0;
			else
				pl_err_set(c, config_setting_get_member(s, "action"),
				    "%s: action must be \"alert\", \"reauth\", \"deny\" "
				    "or \"off\", not \"%s\"", what, act);
		}
		if (ad->count && pl_get_int(c, s, ad->count, 1, ad->count_max, &v) > 0)
			r->count = v;
		if (ad->has_within)
			pl_get_duration(c, s, "within", &r->within);
		if (ad->has_bytes) {
			pl_get_size(c, s, "per_session", &r->bytes);
			pl_get_size(c, s, "per_day", &r->bytes_day);
		}
		if (ad->has_patterns && pl_member(s, "patterns", K_STRLIST) != NULL) {
			struct pol_alerts *al = &c->p->alerts;

			pl_strv_free(al->patterns, al->npatterns);
			al->patterns = NULL;
			al->npatterns = 0;
			if (pl_get_strlist(c, s, "patterns", what, &al->patterns,
			    &al->npatterns) != 0)
				continue;
			for (i = 0; i < al->npatterns; i++) {
				regex_t re;
				char e[128];
				int rc = regcomp(&re, al->patterns[i],
				    REG_EXTENDED | REG_NOSUB);

				if (rc != 0) {
					regerror(rc, &re, e, sizeof(e));
					pl_err_set(c, pl_strlist_elem(s, "patterns", i),
					    "%s: bad pattern \"%s\": %s", what,
					    al->patterns[i], e);
				}
				regfree(&re);
			}
		}
	}
}
