/* SPDX-License-Identifier: BSD-2-Clause */
/* The Cloud Hopper detector: the object, its policy and the entry point for every event. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_detect_priv.h"
#include "mg_err.h"
#include "mg_name.h"
#include "mg_time.h"

/*
 * Where the rest is: gw_detect_rules.c holds the rule table, the checkers
 * and what each event does; gw_detect_hist.c the bounded history (and why
 * its bounds); gw_detect_state.c the state file; gw_detect_out.c the
 * audit, syslog and notify forms of a hit.
 */

/* ------------------------------------------------------------------ */
/* the object and its policy */

static void
free_patterns(regex_t *re, char **pat, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (re != NULL)
			regfree(&re[i]);
		free(pat[i]);
	}
	free(re);
	free(pat);
}

/*
 * The sensitive_commands patterns (the built-in ones when the policy has
 * none), compiled. 0, MG_ERR_NOMEM, or MG_ERR_POLICY with err naming the
 * pattern; nothing is returned on error.
 */
static int
patterns_compile(const struct pol_alerts *a, regex_t **rep, char ***patp, size_t *np,
    char *err, size_t errlen)
{
	const char *const *src;
	size_t n, i, done = 0;
	regex_t *re = NULL;
	char **pat = NULL;
	int r = MG_ERR_NOMEM;

	if (a->npatterns > 0) {
		src = (const char *const *)a->patterns;
		n = a->npatterns;
	} else {
		src = gw_detect_default_patterns;
		for (n = 0; src[n] != NULL; n++)
			;
	}
	if ((re = calloc(n, sizeof(*re))) == NULL || (pat = calloc(n, sizeof(*pat))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		int rc;

		if ((pat[i] = strdup(src[i])) == NULL)
			goto out;
		if ((rc = regcomp(&re[i], src[i], REG_EXTENDED | REG_NOSUB | REG_ICASE)) != 0) {
			char e[128];

			regerror(rc, &re[i], e, sizeof(e));
			if (err != NULL)
				snprintf(err, errlen, "alerts.sensitive_commands: bad pattern "
				    "\"%.100s\": %s", src[i], e);
			r = MG_ERR_POLICY;
			goto out;
		}
		done = i + 1;
	}
	*rep = re;
	*patp = pat;
	*np = n;
	return 0;
out:
	if (re != NULL) {
		for (i = 0; i < done; i++)
			regfree(&re[i]);
		free(re);
	}
	if (pat != NULL) {
		for (i = 0; i < n; i++)
			free(pat[i]);
		free(pat);
	}
	return r;
}

int
gw_detect_set_policy(struct gw_detect *d, const struct pol_alerts *a,
    char *err, size_t errlen)
{
	regex_t *re;
	char **pat;
	size_t n, i;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((r = patterns_compile(a, &re, &pat, &n, err, errlen)) != 0) {
		if (r == MG_ERR_NOMEM && err != NULL)
			snprintf(err, errlen, "out of memory");
		return r;
	}
	for (i = 0; i < GW_DETECT_NRULES; i++) {
		if (gd_rules[i].pol != GD_NO_POL)
			d->rule[i] = *(const struct pol_alert_rule *)((const char *)a +
			    gd_rules[i].pol);
		else
			/* The detector's own state: always on, alert only. */
			d->rule[i] = (struct pol_alert_rule){ 1, POL_ACT_ALERT, 0, 0, 0, 0,
			    { NULL, 0 } };
		/* Thresholds the loader guarantees, enforced again: a zero would
		 * fire on everything or divide nothing; both are clamped to "at
		 * least one". */
		if (d->rule[i].count < 1)
			d->rule[i].count = 1;
		if (d->rule[i].within < 1)
			d->rule[i].within = 1;
	}
	free_patterns(d->re, d->pat, d->npat);
	d->re = re;
	d->pat = pat;
	d->npat = n;
	return 0;
}

int
gw_detect_new(const struct pol_alerts *a, struct gw_detect **out, char *err, size_t errlen)
{
	struct gw_detect *d;
	int r;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return MG_ERR_NOMEM;
	if ((r = gd_tab_init(&d->engs, 4096)) != 0 || (r = gd_tab_init(&d->srcs, 8192)) != 0 ||
	    (r = gw_detect_set_policy(d, a, err, errlen)) != 0) {
		gw_detect_free(d);
		return r;
	}
	*out = d;
	return 0;
}

void
gw_detect_free(struct gw_detect *d)
{
	if (d == NULL)
		return;
	if (d->engs.b != NULL && d->srcs.b != NULL)
		gd_tabs_clear(d);
	free(d->engs.b);
	free(d->srcs.b);
	free(d->peers);
	free_patterns(d->re, d->pat, d->npat);
	free(d);
}

/* ------------------------------------------------------------------ */
/* events */

int
gw_detect_event(struct gw_detect *d, const struct gw_detect_event *ev,
    struct gw_detect_result *res)
{
	time_t now = mg_clock_now();
	int r;

	memset(res, 0, sizeof(*res));
	if (d == NULL || ev == NULL)
		r = MG_ERR_INVAL;
	else {
		switch (ev->kind) {
		case GW_DETECT_ATTEMPT:
			r = gd_event_attempt(d, ev, now, res);
			break;
		case GW_DETECT_START:
			r = gd_event_start(d, ev, now);
			break;
		case GW_DETECT_END:
		case GW_DETECT_BYTES:
			r = gd_event_bytes(d, ev, now, res);
			break;
		case GW_DETECT_MFA_FAILURE:
			r = gd_event_mfa(d, ev, now, res);
			break;
		case GW_DETECT_COMMAND:
		case GW_DETECT_INPUT:
			r = gd_event_text(d, ev, now, res);
			break;
		default:
			r = MG_ERR_INVAL;
		}
	}
	if (r != 0) {
		/* Could not judge: whoever only reads the action still fails closed. */
		memset(res, 0, sizeof(*res));
		res->action = GW_DETECT_DENY;
	}
	return r;
}

int
gw_detect_remote(struct gw_detect *d, const struct gw_detect_event *ev, time_t when)
{
	time_t now = mg_clock_now();

	if (d == NULL || ev == NULL)
		return MG_ERR_INVAL;
	return gd_event_remote(d, ev, when > now ? now : when, now);
}

/* A gateway's name: as long as a policy may make it, no control byte, no space. */
static int
peer_name(char *dst, size_t cap, const char *s)
{
	size_t i, n;

	if (s == NULL || (n = strlen(s)) == 0 || n >= cap)
		return -1;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return -1;
	memcpy(dst, s, n + 1);
	return 0;
}

int
gw_detect_peers_set(struct gw_detect *d, const struct gw_detect_peer *p, size_t n)
{
	struct gd_peer *np = NULL;
	char net[MG_CIDR_STRLEN];
	size_t i, k = 0, left = 0;

	if (n > GW_DETECT_PEERS_MAX) {
		left = n - GW_DETECT_PEERS_MAX;
		n = GW_DETECT_PEERS_MAX;
	}
	if (n > 0 && (np = calloc(n, sizeof(*np))) == NULL)
		return MG_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		struct gd_peer *q = &np[k];

		if (peer_name(q->gateway, sizeof(q->gateway), p[i].gateway) != 0 ||
		    !gd_id_ok(p[i].id) || !mg_name_ok(MG_NAME_ENGINEER, p[i].engineer) ||
		    strlen(p[i].engineer) >= sizeof(q->engineer) ||
		    (p[i].source != NULL && p[i].source[0] != '\0' &&
		    gd_addr_norm(p[i].source, q->source, net) != 0)) {
			memset(q, 0, sizeof(*q));
			left++;
			continue;
		}
		snprintf(q->id, sizeof(q->id), "%s", p[i].id);
		snprintf(q->engineer, sizeof(q->engineer), "%s", p[i].engineer);
		k++;
	}
	free(d->peers);
	d->peers = np;
	d->npeers = k;
	return (int)left;
}

void
gw_detect_sessions_clear(struct gw_detect *d)
{
	struct node *n;

	for (n = d->engs.head.next; n != &d->engs.head; n = n->next) {
		if (((struct eng *)n)->nlive > 0)
			d->dirty = 1;
		((struct eng *)n)->nlive = 0;
	}
}

int
gw_detect_dirty(const struct gw_detect *d)
{
	return d->dirty;
}

void
gw_detect_set_dirty(struct gw_detect *d, int dirty)
{
	d->dirty = dirty != 0;
}

void
gw_detect_stats(const struct gw_detect *d, struct gw_detect_stats *st)
{
	struct node *n;

	memset(st, 0, sizeof(*st));
	st->engineers = d->engs.n;
	st->sources = d->srcs.n;
	st->access = d->nacc_total;
	for (n = d->engs.head.next; n != &d->engs.head; n = n->next)
		st->live += ((struct eng *)n)->nlive;
}

