/* SPDX-License-Identifier: BSD-2-Clause */
/* What the policy asks of an MSP account at login: MFA methods, validity, windows, source. */
#include <stdio.h>
#include <string.h>

#include "mg_err.h"
#include "mg_log.h"
#include "mg_time.h"
#include "mg_tz.h"
#include "mfa_rules.h"

unsigned
mfa_required(const struct pol *p, const struct pol_engineer *e)
{
	unsigned u = 0;
	size_t i;

	for (i = 0; i < p->ngrants; i++)
		if (pol_grant_applies(&p->grants[i], e))
			u |= p->grants[i].mfa;
	/* No grant, no login: an override alone grants nothing. */
	if (u == 0)
		return 0;
	return e->mfa != 0 ? (e->mfa | u) : u;
}

static int
source_in(const struct mg_cidr *c, size_t n, const char *src)
{
	size_t i;

	/* An unknown source never matches a restriction: fail closed. */
	if (src == NULL || *src == '\0')
		return 0;
	for (i = 0; i < n; i++)
		if (mg_cidr_match(&c[i], src))
			return 1;
	return 0;
}

static void
fmt_date(time_t t, char *buf, size_t len)
{
	struct mg_datetime dt;

	mg_datetime_from_seconds((int64_t)t, &dt);
	snprintf(buf, len, "%04d-%02d-%02d", dt.year, dt.mon, dt.day);
}

static int
grant_valid(const struct pol_grant *g, time_t at)
{
	return !(g->valid_from && at < g->valid_from) &&
	    !(g->valid_until && at >= g->valid_until);
}

/* Both sets must hold, in the tenant's zone, and the grant be valid. */
static int
open_at(const struct pol_grant *g, const struct pol_tenant *t, time_t at)
{
	if (!grant_valid(g, at))
		return 0;
	if (t->nwindows > 0 && !pol_window_set_contains(t->windows, t->nwindows,
	    t->tz, at))
		return 0;
	if (g->nwindows > 0 && !pol_window_set_contains(g->windows, g->nwindows,
	    t->tz, at))
		return 0;
	return 1;
}

/* The next instant at or after at when open_at holds; 0 if not within reach. */
static time_t
next_open(const struct pol_grant *g, const struct pol_tenant *t, time_t at)
{
	time_t cur = at, o;
	int i;

	if (g->valid_from && cur < g->valid_from)
		cur = g->valid_from;
	/* Each round jumps to where one of the two sets opens next. */
	for (i = 0; i < 64; i++) {
		if (g->valid_until && cur >= g->valid_until)
			return 0;
		if (open_at(g, t, cur))
			return cur;
		if (t->nwindows > 0 && !pol_window_set_contains(t->windows,
		    t->nwindows, t->tz, cur)) {
			if (pol_window_set_next_open(t->windows, t->nwindows, t->tz,
			    cur, &o) != 0 || o == 0)
				return 0;
		} else if (g->nwindows > 0) {
			if (pol_window_set_next_open(g->windows, g->nwindows, t->tz,
			    cur, &o) != 0 || o == 0)
				return 0;
		} else {
			return 0;
		}
		if (o <= cur)
			return 0;
		cur = o;
	}
	return 0;
}

/* The zone to tell the engineer about: the first window's own, else the tenant's. */
static const struct mg_tz *
show_tz(const struct pol_grant *g, const struct pol_tenant *t)
{
	size_t i;

	for (i = 0; i < t->nwindows; i++)
		if (pol_window_tz(t->windows[i]) != NULL)
			return pol_window_tz(t->windows[i]);
	for (i = 0; i < g->nwindows; i++)
		if (pol_window_tz(g->windows[i]) != NULL)
			return pol_window_tz(g->windows[i]);
	return t->tz;
}

/* "Mon 08:00 Europe/London", with the date when it is a week or more away. */
static void
fmt_open(time_t o, time_t now, const struct mg_tz *tz, char *buf, size_t len)
{
	static const char *const wd[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	struct mg_datetime lt;

	if (tz == NULL || mg_tz_to_local(tz, o, &lt) != 0) {
		fmt_date(o, buf, len);
		return;
	}
	if (o - now < 6 * 86400)
		snprintf(buf, len, "%s %02d:%02d %s",
		    wd[mg_weekday(mg_days_from_civil(lt.year, lt.mon, lt.day))],
		    lt.hour, lt.min, mg_tz_name(tz));
	else
		snprintf(buf, len, "%s %04d-%02d-%02d %02d:%02d %s",
		    wd[mg_weekday(mg_days_from_civil(lt.year, lt.mon, lt.day))],
		    lt.year, lt.mon, lt.day, lt.hour, lt.min, mg_tz_name(tz));
}

int
mfa_account_check(const struct pol *p, const struct pol_engineer *e,
    const char *rhost, time_t now, char *umsg, size_t umsglen, char *lmsg,
    size_t lmsglen)
{
	const struct pol_tenant *best_t = NULL;
	const struct pol_grant *best_g = NULL;
	char d[32], esc[128], when[96];
	time_t best = 0, o;
	size_t i, j;
	int any = 0;

	snprintf(umsg, umsglen, "Access denied.");
	snprintf(lmsg, lmsglen, "denied by default");
	if (e->valid_from && now < e->valid_from) {
		fmt_date(e->valid_from, d, sizeof(d));
		snprintf(umsg, umsglen, "Your MSP account is valid from %s.", d);
		snprintf(lmsg, lmsglen, "account not valid before %s (%s:%d)", d,
		    e->loc.file, e->loc.line);
		return MG_ERR_RANGE;
	}
	if (e->valid_until && now >= e->valid_until) {
		/* valid_until is the end of the last allowed day. */
		fmt_date(e->valid_until - 1, d, sizeof(d));
		snprintf(umsg, umsglen, "Your MSP account expired after %s.", d);
		snprintf(lmsg, lmsglen, "account expired after %s (%s:%d)", d,
		    e->loc.file, e->loc.line);
		return MG_ERR_RANGE;
	}
	mg_str_escape(rhost, 64, esc, sizeof(esc));
	if (p->pam.nsources > 0 ? !source_in(p->pam.sources, p->pam.nsources, rhost) :
	    e->nsources > 0 && !source_in(e->sources, e->nsources, rhost)) {
		snprintf(umsg, umsglen, "Access from this address is not allowed.");
		snprintf(lmsg, lmsglen, "source '%s' not allowed by %s", esc,
		    p->pam.nsources > 0 ? "pam.sources" : "the engineer's sources");
		return MG_ERR_DENIED;
	}
	for (i = 0; i < p->ngrants; i++) {
		const struct pol_grant *g = &p->grants[i];

		if (!pol_grant_applies(g, e))
			continue;
		for (j = 0; j < g->ntenants; j++) {
			const struct pol_tenant *t = g->tenants[j];

			if (p->pam.tenant != NULL && t != p->pam.tenant)
				continue;
			any = 1;
			if (open_at(g, t, now)) {
				snprintf(umsg, umsglen, "%s", "");
				snprintf(lmsg, lmsglen, "inside the windows of the grant "
				    "at %s:%d for tenant %s", g->loc.file, g->loc.line,
				    t->name);
				return 0;
			}
			o = next_open(g, t, now);
			if (o != 0 && (best == 0 || o < best)) {
				best = o;
				best_g = g;
				best_t = t;
			}
		}
	}
	if (!any) {
		snprintf(umsg, umsglen, "No access is granted to this account%s.",
		    p->pam.tenant != NULL ? " on this host" : "");
		snprintf(lmsg, lmsglen, "no grant applies to %s%s%s", e->name,
		    p->pam.tenant != NULL ? " for tenant " : "",
		    p->pam.tenant != NULL ? p->pam.tenant->name : "");
		return MG_ERR_DENIED;
	}
	if (best_g == NULL) {
		snprintf(umsg, umsglen, "Outside your access windows; none opens "
		    "again within a year.");
		snprintf(lmsg, lmsglen, "outside every access window of %s; none "
		    "opens within a year", e->name);
		return MG_ERR_DENIED;
	}
	fmt_open(best, now, show_tz(best_g, best_t), when, sizeof(when));
	snprintf(umsg, umsglen, "Outside your access window; the next one opens %s.",
	    when);
	snprintf(lmsg, lmsglen, "outside the access windows (grant at %s:%d, "
	    "tenant %s); next opens %s", best_g->loc.file, best_g->loc.line,
	    best_t->name, when);
	return MG_ERR_DENIED;
}
