/* SPDX-License-Identifier: BSD-2-Clause */
/* What the policy asks of an MSP account at login: MFA methods; the account check in words. */
#include <stdio.h>
#include <string.h>

#include "mg_err.h"
#include "mg_log.h"
#include "mg_time.h"
#include "mg_tz.h"
#include "mfa_rules.h"
#include "pol_decide.h"

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

static void
fmt_date(time_t t, char *buf, size_t len)
{
	struct mg_datetime dt;

	mg_datetime_from_seconds((int64_t)t, &dt);
	snprintf(buf, len, "%04d-%02d-%02d", dt.year, dt.mon, dt.day);
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

/*
 * The decision is pol_decide_login's (config/pol_decide.c), the engine the
 * gateway uses too; here it is only put into words.
 */
int
mfa_account_check(const struct pol *p, const struct pol_engineer *e,
    const char *rhost, time_t now, char *umsg, size_t umsglen, char *lmsg,
    size_t lmsglen)
{
	struct pol_login_request req;
	struct pol_login_decision d;
	char day[32], esc[128], when[96];

	snprintf(umsg, umsglen, "Access denied.");
	snprintf(lmsg, lmsglen, "denied by default");
	memset(&req, 0, sizeof(req));
	req.engineer = e->name;
	req.source = rhost;
	req.at = now;
	req.tenant = p->pam.tenant;
	if (pol_decide_login(p, &req, &d) != 0)
		return MG_ERR_DENIED;
	switch (d.why) {
	case POL_LOGIN_OK:
		snprintf(umsg, umsglen, "%s", "");
		snprintf(lmsg, lmsglen, "inside the windows of the grant at %s:%d for "
		    "tenant %s", d.rule.file, d.rule.line, d.tenant->name);
		return d.allow ? 0 : MG_ERR_DENIED;
	case POL_LOGIN_UNKNOWN:
		snprintf(lmsg, lmsglen, "not an engineer in the policy");
		return MG_ERR_DENIED;
	case POL_LOGIN_NOT_YET:
		fmt_date(d.when, day, sizeof(day));
		snprintf(umsg, umsglen, "Your MSP account is valid from %s.", day);
		snprintf(lmsg, lmsglen, "account not valid before %s (%s:%d)", day,
		    d.rule.file, d.rule.line);
		return MG_ERR_RANGE;
	case POL_LOGIN_EXPIRED:
		/* valid_until is the end of the last allowed day. */
		fmt_date(d.when - 1, day, sizeof(day));
		snprintf(umsg, umsglen, "Your MSP account expired after %s.", day);
		snprintf(lmsg, lmsglen, "account expired after %s (%s:%d)", day,
		    d.rule.file, d.rule.line);
		return MG_ERR_RANGE;
	case POL_LOGIN_SOURCE:
		mg_str_escape(rhost, 64, esc, sizeof(esc));
		snprintf(umsg, umsglen, "Access from this address is not allowed.");
		snprintf(lmsg, lmsglen, "source '%s' not allowed by %s", esc,
		    d.source_rule);
		return MG_ERR_DENIED;
	case POL_LOGIN_NO_GRANT:
		snprintf(umsg, umsglen, "No access is granted to this account%s.",
		    p->pam.tenant != NULL ? " on this host" : "");
		snprintf(lmsg, lmsglen, "no grant applies to %s%s%s", e->name,
		    p->pam.tenant != NULL ? " for tenant " : "",
		    p->pam.tenant != NULL ? p->pam.tenant->name : "");
		return MG_ERR_DENIED;
	case POL_LOGIN_WINDOW:
		if (d.when == 0 || d.grant == NULL) {
			snprintf(umsg, umsglen, "Outside your access windows; none opens "
			    "again within a year.");
			snprintf(lmsg, lmsglen, "outside every access window of %s; none "
			    "opens within a year", e->name);
			return MG_ERR_DENIED;
		}
		fmt_open(d.when, now, d.tz, when, sizeof(when));
		snprintf(umsg, umsglen, "Outside your access window; the next one "
		    "opens %s.", when);
		snprintf(lmsg, lmsglen, "outside the access windows (grant at %s:%d, "
		    "tenant %s); next opens %s", d.rule.file, d.rule.line,
		    d.tenant->name, when);
		return MG_ERR_DENIED;
	}
	return MG_ERR_DENIED;
}
