/* SPDX-License-Identifier: BSD-2-Clause */
/* Access decisions: deny by default, allow only through a grant that fits. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mg_err.h"
#include "mg_log.h"
#include "mg_time.h"
#include "pol_decide.h"

/* How far a grant got before it failed; the furthest one explains a deny. */
enum stage {
	ST_NONE = 0,
	ST_VALIDITY,
	ST_LOGIN,
	ST_SOURCE,
	ST_WINDOW,
	ST_MFA,
	ST_LOGIN_AGE,
	ST_ALLOW
};

static void reason(struct pol_decision *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
reason(struct pol_decision *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
}

/* Names from the request come from the engineer: bound and escape them. */
static const char *
esc(const char *s, char *buf, size_t len)
{
	if (s == NULL)
		return "(none)";
	return mg_str_escape(s, 64, buf, len);
}

static void
fmt_utc(time_t t, char *buf, size_t len)
{
	struct mg_datetime dt;

	mg_datetime_from_seconds((int64_t)t, &dt);
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d UTC", dt.year, dt.mon, dt.day,
	    dt.hour, dt.min);
}

static int
source_ok(const struct mg_cidr *c, size_t n, const char *src)
{
	size_t i;

	if (n == 0)
		return 1;
	/* A restriction with no known source fails closed. */
	if (src == NULL || *src == '\0')
		return 0;
	for (i = 0; i < n; i++)
		if (mg_cidr_match(&c[i], src))
			return 1;
	return 0;
}

/* Both sets must hold: the tenant's windows and the grant's. */
static int
windows_contain(const struct pol_grant *g, const struct pol_tenant *tn, time_t at)
{
	const struct mg_tz *tz = tn->tz;

	if (tn->nwindows > 0 && !pol_window_set_contains(tn->windows,
	    tn->nwindows, tz, at))
		return 0;
	if (g->nwindows > 0 && !pol_window_set_contains(g->windows, g->nwindows,
	    tz, at))
		return 0;
	return 1;
}

static time_t
windows_close(const struct pol_grant *g, const struct pol_target *t, time_t at)
{
	const struct mg_tz *tz = t->tenant->tz;
	time_t a = 0, b = 0;

	if (t->tenant->nwindows > 0 && pol_window_set_close(t->tenant->windows,
	    t->tenant->nwindows, tz, at, &a) != 0)
		return at;	/* cannot tell: treat as closing now */
	if (g->nwindows > 0 && pol_window_set_close(g->windows, g->nwindows, tz,
	    at, &b) != 0)
		return at;
	return mg_earliest(a, b);
}

/* When both sets next hold at once; 0 when not within the horizon. */
static time_t
windows_next_open(const struct pol_grant *g, const struct pol_tenant *tn, time_t at)
{
	const struct mg_tz *tz = tn->tz;
	time_t cur = at, o;
	int i;

	for (i = 0; i < 64; i++) {
		if (windows_contain(g, tn, cur))
			return cur;
		if (tn->nwindows > 0 && !pol_window_set_contains(
		    tn->windows, tn->nwindows, tz, cur)) {
			if (pol_window_set_next_open(tn->windows,
			    tn->nwindows, tz, cur, &o) != 0 || o == 0)
				return 0;
		} else {
			if (pol_window_set_next_open(g->windows, g->nwindows, tz,
			    cur, &o) != 0 || o == 0)
				return 0;
		}
		if (o <= cur)
			return 0;
		cur = o;
	}
	return 0;
}

static void
window_names(const struct pol_grant *g, const struct pol_target *t, char *buf,
    size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < t->tenant->nwindows && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
		    pol_window_name(t->tenant->windows[i]));
	for (i = 0; i < g->nwindows && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
		    pol_window_name(g->windows[i]));
}

static const char *
first_login(const struct pol_grant *g, const struct pol_target *t)
{
	size_t i;

	for (i = 0; i < g->nlogins; i++)
		if (pol_grant_login_ok(g, t, g->logins[i]))
			return g->logins[i];
	return NULL;
}

/* Judges one grant that applies to the engineer and covers the target. */
static enum stage
judge(const struct pol_grant *g, const struct pol_target *t,
    const struct pol_request *req, time_t at, struct pol_decision *d)
{
	char b1[160], b2[160], wn[256];
	const char *login;
	size_t i;

	if ((g->valid_from && at < g->valid_from) ||
	    (g->valid_until && at >= g->valid_until)) {
		fmt_utc(g->valid_from && at < g->valid_from ? g->valid_from :
		    g->valid_until, b1, sizeof(b1));
		reason(d, "the grant is %s %s", g->valid_from && at < g->valid_from ?
		    "not valid before" : "no longer valid since", b1);
		return ST_VALIDITY;
	}
	if (req->login != NULL) {
		login = NULL;
		for (i = 0; i < g->nlogins; i++)
			if (strcmp(g->logins[i], req->login) == 0 &&
			    pol_grant_login_ok(g, t, req->login))
				login = g->logins[i];
		if (login == NULL) {
			reason(d, "login '%s' is not granted on %s/%s",
			    esc(req->login, b1, sizeof(b1)), t->tenant->name, t->name);
			return ST_LOGIN;
		}
	} else if ((login = first_login(g, t)) == NULL) {
		reason(d, "the grant allows no login that %s/%s accepts",
		    t->tenant->name, t->name);
		return ST_LOGIN;
	}
	d->login = login;
	if (!source_ok(g->sources, g->nsources, req->source)) {
		reason(d, "source address %s is not allowed by the grant",
		    esc(req->source, b1, sizeof(b1)));
		return ST_SOURCE;
	}
	if (!windows_contain(g, t->tenant, at)) {
		time_t o = windows_next_open(g, t->tenant, at);

		window_names(g, t, wn, sizeof(wn));
		d->next_open = o;
		if (o != 0) {
			fmt_utc(o, b2, sizeof(b2));
			reason(d, "outside the access window (%s); it opens next at %s",
			    wn, b2);
		} else {
			reason(d, "outside the access window (%s); it does not open "
			    "again within a year", wn);
		}
		return ST_WINDOW;
	}
	if (!req->mfa_unknown && (g->mfa & ~req->mfa_used) != 0) {
		reason(d, "the grant requires MFA %s, but the login used %s",
		    pol_mfa_name(g->mfa), pol_mfa_name(req->mfa_used));
		return ST_MFA;
	}
	/* A shared connection does not outlive the grant's trust in its login. */
	if (req->login_time != 0 && g->max_login_age > 0 &&
	    at - req->login_time > (time_t)g->max_login_age) {
		char age[32], max[32];

		mg_duration_format(at - req->login_time, age, sizeof(age));
		mg_duration_format(g->max_login_age, max, sizeof(max));
		reason(d, "the login is %s old and the grant allows %s "
		    "(max_login_age): log in again", age, max);
		return ST_LOGIN_AGE;
	}
	return ST_ALLOW;
}

int
pol_decide(const struct pol *p, const struct pol_request *req,
    struct pol_decision *d)
{
	const struct pol_engineer *e;
	const struct pol_tenant *tn;
	const struct pol_target *t;
	struct pol_decision best, cur;
	enum stage best_st = ST_NONE, st;
	char b1[160], b2[160], b3[160];
	time_t at;
	size_t i;

	memset(d, 0, sizeof(*d));
	/* Anything unexpected denies: the struct starts as a deny. */
	reason(d, "denied by default");
	if (p == NULL || req == NULL)
		return MG_ERR_INVAL;
	at = req->at != 0 ? req->at : mg_clock_now();

	if ((e = pol_engineer_find(p, req->engineer)) == NULL) {
		reason(d, "unknown engineer '%s'", esc(req->engineer, b1, sizeof(b1)));
		return 0;
	}
	d->engineer = e;
	if (e->valid_from && at < e->valid_from) {
		fmt_utc(e->valid_from, b1, sizeof(b1));
		reason(d, "the account of %s is not valid before %s", e->name, b1);
		d->rule = e->loc;
		return 0;
	}
	if (e->valid_until && at >= e->valid_until) {
		fmt_utc(e->valid_until, b1, sizeof(b1));
		reason(d, "the account of %s expired at %s", e->name, b1);
		d->rule = e->loc;
		return 0;
	}
	if (!source_ok(e->sources, e->nsources, req->source)) {
		reason(d, "%s may not connect from %s", e->name,
		    esc(req->source, b1, sizeof(b1)));
		d->rule = e->loc;
		return 0;
	}
	if ((tn = pol_tenant_find(p, req->tenant)) == NULL) {
		reason(d, "unknown tenant '%s'", esc(req->tenant, b1, sizeof(b1)));
		return 0;
	}
	if ((t = pol_target_find(tn, req->target)) == NULL) {
		reason(d, "tenant %s has no target '%s'", tn->name,
		    esc(req->target, b1, sizeof(b1)));
		return 0;
	}
	d->target = t;

	memset(&best, 0, sizeof(best));
	for (i = 0; i < p->ngrants; i++) {
		const struct pol_grant *g = &p->grants[i];

		if (!pol_grant_applies(g, e) || !pol_grant_covers(g, t))
			continue;
		memset(&cur, 0, sizeof(cur));
		st = judge(g, t, req, at, &cur);
		cur.rule = g->loc;
		cur.grant = g;
		cur.mfa_required = g->mfa;
		cur.ticket_required = g->ticket;
		cur.approval_required = g->approval;
		cur.approval_timeout = g->approval ? g->approval_timeout : 0;
		cur.max_session = g->max_session;
		if (st == ST_ALLOW) {
			best = cur;
			best_st = st;
			break;
		}
		if (st > best_st) {
			best = cur;
			best_st = st;
		}
	}
	if (best_st == ST_NONE) {
		reason(d, "no grant gives %s access to %s/%s", e->name, tn->name,
		    t->name);
		return 0;
	}
	best.engineer = e;
	best.target = t;
	if (best_st != ST_ALLOW) {
		best.allow = 0;
		best.login_too_old = best_st == ST_LOGIN_AGE;
		best.grant = NULL;
		best.login = NULL;
		*d = best;
		return 0;
	}

	best.allow = 1;
	best.window_close = windows_close(best.grant, t, at);
	best.valid_until = mg_earliest(e->valid_until, best.grant->valid_until);
	best.end_by = mg_earliest(best.window_close, best.valid_until);
	if (best.max_session > 0)
		best.end_by = mg_earliest(best.end_by, at + (time_t)best.max_session);
	fmt_utc(best.end_by, b3, sizeof(b3));
	snprintf(b1, sizeof(b1), "%s", pol_mfa_name(best.mfa_required));
	snprintf(b2, sizeof(b2), "%s", best.ticket_required ? "; a ticket is required" : "");
	reason(&best, "grant at %s:%d allows %s to reach %s/%s as %s with MFA %s%s",
	    best.rule.file, best.rule.line, e->name, tn->name, t->name, best.login,
	    b1, b2);
	(void)b3;
	*d = best;
	return 0;
}

/* -------------------------------------------------------------------- */
/* The login (pam_mspgate's account stage) */

static int
grant_valid_at(const struct pol_grant *g, time_t at)
{
	return !(g->valid_from && at < g->valid_from) &&
	    !(g->valid_until && at >= g->valid_until);
}

/* When the grant is next valid and inside both window sets; 0: not within reach. */
static time_t
grant_next_open(const struct pol_grant *g, const struct pol_tenant *tn, time_t at)
{
	time_t cur = at, o;

	if (g->valid_from && cur < g->valid_from)
		cur = g->valid_from;
	if (g->valid_until && cur >= g->valid_until)
		return 0;
	o = windows_next_open(g, tn, cur);
	if (o == 0 || (g->valid_until && o >= g->valid_until))
		return 0;
	return o;
}

/* The zone to tell the engineer about: the first window's own, else the tenant's. */
static const struct mg_tz *
show_tz(const struct pol_grant *g, const struct pol_tenant *tn)
{
	size_t i;

	for (i = 0; i < tn->nwindows; i++)
		if (pol_window_tz(tn->windows[i]) != NULL)
			return pol_window_tz(tn->windows[i]);
	for (i = 0; i < g->nwindows; i++)
		if (pol_window_tz(g->windows[i]) != NULL)
			return pol_window_tz(g->windows[i]);
	return tn->tz;
}

int
pol_decide_login(const struct pol *p, const struct pol_login_request *req,
    struct pol_login_decision *d)
{
	const struct pol_engineer *e;
	time_t at, best = 0, o;
	size_t i, j;
	int any = 0;

	memset(d, 0, sizeof(*d));
	d->why = POL_LOGIN_UNKNOWN;
	if (p == NULL || req == NULL)
		return MG_ERR_INVAL;
	at = req->at != 0 ? req->at : mg_clock_now();
	if ((e = pol_engineer_find(p, req->engineer)) == NULL)
		return 0;
	d->engineer = e;
	d->rule = e->loc;
	if (e->valid_from && at < e->valid_from) {
		d->why = POL_LOGIN_NOT_YET;
		d->when = e->valid_from;
		return 0;
	}
	if (e->valid_until && at >= e->valid_until) {
		d->why = POL_LOGIN_EXPIRED;
		d->when = e->valid_until;
		return 0;
	}
	/* A client host's pam.sources replace the engineer's own (the gateway's). */
	if (p->pam.nsources > 0 ? !(req->source != NULL && req->source[0] != '\0' &&
	    source_ok(p->pam.sources, p->pam.nsources, req->source)) :
	    !source_ok(e->sources, e->nsources, req->source)) {
		d->why = POL_LOGIN_SOURCE;
		d->source_rule = p->pam.nsources > 0 ? "pam.sources" :
		    "the engineer's sources";
		return 0;
	}
	d->why = POL_LOGIN_NO_GRANT;
	for (i = 0; i < p->ngrants; i++) {
		const struct pol_grant *g = &p->grants[i];

		if (!pol_grant_applies(g, e))
			continue;
		for (j = 0; j < g->ntenants; j++) {
			const struct pol_tenant *tn = g->tenants[j];

			if (req->tenant != NULL && tn != req->tenant)
				continue;
			any = 1;
			if (grant_valid_at(g, at) && windows_contain(g, tn, at)) {
				d->allow = 1;
				d->why = POL_LOGIN_OK;
				d->grant = g;
				d->tenant = tn;
				d->rule = g->loc;
				return 0;
			}
			o = grant_next_open(g, tn, at);
			if (o != 0 && (best == 0 || o < best)) {
				best = o;
				d->grant = g;
				d->tenant = tn;
				d->rule = g->loc;
			}
		}
	}
	if (any) {
		d->why = POL_LOGIN_WINDOW;
		d->when = best;
		d->tz = d->grant != NULL ? show_tz(d->grant, d->tenant) : NULL;
	}
	return 0;
}
