/* SPDX-License-Identifier: BSD-2-Clause */
/* May this session start? The one decision, from a typed request to a typed verdict. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gw_decide.h"
#include "mfa_broker.h"
#include "mg_time.h"
#include "mg_log.h"

/* Untrusted text in a reason: escaped and bounded, as in the logs. */
static const char *
esc(const char *s, char *buf, size_t len)
{
	return mg_str_escape(s, 256, buf, len);
}

int
gw_ticket_ok(const char *t)
{
	size_t i, n = t != NULL ? strlen(t) : 0;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++) {
		char c = t[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("._:/#-", c) != NULL))
			return 0;
	}
	return 1;
}

static enum gw_verdict_kind
refuse(struct gw_verdict *v, const char *rule, const char *tell, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* DENY with the reason (fmt), the rule (NULL: none) and the engineer's words (NULL: the reason). */
static enum gw_verdict_kind
refuse(struct gw_verdict *v, const char *rule, const char *tell, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
	snprintf(v->rule, sizeof(v->rule), "%s", rule != NULL ? rule : "");
	snprintf(v->tell, sizeof(v->tell), "%s", tell != NULL ? tell : v->reason);
	return v->kind = GW_VERDICT_DENY;
}

static enum gw_verdict_kind
ask_code(struct gw_verdict *v, enum gw_code_for what, const char *words, const char *prompt)
{
	v->code_for = what;
	v->ask_words = words;
	snprintf(v->tell, sizeof(v->tell), "%s", prompt);
	return v->kind = GW_VERDICT_ASK_CODE;
}

/* The detector's ATTEMPT, once per request; no detector: nothing to say. */
static enum gw_detect_action
detector(struct gw_decide_req *rq, const struct gw_verdict *v, int allowed, int window)
{
	if (!rq->detector_asked) {
		rq->detector_asked = 1;
		snprintf(rq->detector_words, sizeof(rq->detector_words), "%s",
		    GW_DETECT_NO_VERDICT);
		rq->detector = rq->ask_detector == NULL ? GW_DETECT_NONE :
		    rq->ask_detector(rq->ask_ctx, &v->spec, allowed, window,
		    rq->detector_words, sizeof(rq->detector_words));
	}
	return rq->detector;
}

/* Who asks for what, and does the login behind it still stand? */
static int
check_request(const struct pol *p, struct gw_decide_req *rq, struct gw_verdict *v)
{
	const struct pol_tenant *tn;
	char err[512], e1[300];

	if (rq->target == NULL || rq->target[0] == '\0')
		return refuse(v, NULL, "no target given: set MSPGATE_TARGET=tenant/target "
		    "(ssh -o SetEnv=MSPGATE_TARGET=...) or run 'ssh -t GATEWAY tenant/target'",
		    "no target given"), -1;
	if (gw_target_spec_parse(rq->target, &v->spec) != 0) {
		/* Whatever was sent, escaped and cut: probing is what audit is for. */
		memset(&v->spec, 0, sizeof(v->spec));
		return refuse(v, NULL, "malformed target: use tenant/target or "
		    "login@tenant/target", "malformed target '%s' (want tenant/target)",
		    esc(rq->target, e1, sizeof(e1))), -1;
	}
	if (!rq->ticket_asked && rq->ticket != NULL && rq->ticket[0] != '\0' &&
	    !gw_ticket_ok(rq->ticket))
		return refuse(v, NULL, "malformed ticket (letters, digits and ._:/#- only, "
		    "at most 64)", "malformed ticket"), -1;
	/* Invariant 9: no attested login, no session, whatever the shell says. */
	if (!rq->attested)
		return refuse(v, NULL, "not permitted: login not attested (connect through "
		    "the gateway's ssh service)", "login not attested: %s",
		    rq->att_why != NULL ? rq->att_why : "-"), -1;
	if ((v->engineer = pol_engineer_find(p, rq->engineer)) == NULL)
		return refuse(v, NULL, "not permitted: you are not an engineer in the "
		    "gateway policy", "not an engineer in the policy"), -1;
	if ((tn = pol_tenant_find(p, v->spec.tenant)) == NULL ||
	    pol_target_find(tn, v->spec.target) == NULL)
		return refuse(v, NULL, NULL, "unknown target %s/%s", v->spec.tenant,
		    v->spec.target), -1;
	/* Per channel: a lockout or un-enrolment since the login stops it. */
	if (mfa_broker_standing_check(p, v->engineer, rq->att, mg_clock_now(),
	    &v->mfa_used, err, sizeof(err)) != 0)
		return refuse(v, NULL, "not permitted: your login no longer stands (locked "
		    "out or no longer enrolled); log in again", "the login no longer "
		    "stands: %s", err), -1;
	return 0;
}

/* The policy's decision, with a fresh code standing in for an old login. */
static int
check_policy(const struct pol *p, struct gw_decide_req *rq, struct gw_verdict *v)
{
	struct pol_request req = { 0 };
	struct pol_decision *d = &v->d;

	req.engineer = rq->engineer;
	req.tenant = v->spec.tenant;
	req.target = v->spec.target;
	req.login = v->spec.login[0] ? v->spec.login : NULL;
	req.mfa_used = v->mfa_used;
	req.source = rq->source;
	req.login_time = rq->login_age_code == GW_FRESH_OK ? rq->login_age_at : rq->att->login;
	if (pol_decide(p, &req, d) != 0)
		return refuse(v, NULL, NULL, "bad request"), -1;
	snprintf(v->rule, sizeof(v->rule), "%s:%d", d->rule.file ? d->rule.file : "-",
	    d->rule.line);
	if (d->allow)
		return 0;
	/*
	 * A login too old for the grant (max_login_age): on a terminal, and
	 * when the grant asks for TOTP alone (a code can be checked here, a
	 * security key cannot), a fresh code renews it for this session.
	 */
	if (d->login_too_old && rq->tty && d->mfa_required == POL_MFA_TOTP) {
		if (rq->login_age_code == GW_FRESH_NONE)
			return ask_code(v, GW_CODE_LOGIN_AGE, "login age", "mspgate: "
			    "your login is older than this grant allows (max_login_age): "
			    "a fresh TOTP code is required\r\nTOTP code: "), -1;
		if (rq->login_age_code == GW_FRESH_FAILED)
			snprintf(d->reason, sizeof(d->reason), "the login is older than the "
			    "grant's max_login_age and the fresh TOTP code was not "
			    "accepted: log in again");
	}
	/* Refused attempts count too (off-hours pressure); refused anyway. */
	(void)detector(rq, v, 0, d->next_open != 0 || strstr(d->reason, "window") != NULL);
	{
		char rule[sizeof(v->rule)], tell[sizeof(v->tell)];

		snprintf(rule, sizeof(rule), "%s", v->rule);
		snprintf(tell, sizeof(tell), "not permitted: %s", d->reason);
		refuse(v, rule, tell, "%s", d->reason);
	}
	return -1;
}

/* The detector on an allowed attempt: go on, refuse, or a fresh code first. */
static int
check_detector(struct gw_decide_req *rq, struct gw_verdict *v)
{
	enum gw_detect_action act = detector(rq, v, 1, 0);
	const char *w = rq->detector_words;
	char tell[sizeof(v->tell)];

	switch (act) {
	case GW_DETECT_DENY:
		if (strcmp(w, GW_DETECT_NO_VERDICT) == 0 || strcmp(w, GW_DETECT_INTERNAL) == 0) {
			snprintf(tell, sizeof(tell), "refused: this session could not be "
			    "checked (%s); try again, and tell your MSP if it goes on", w);
			return refuse(v, "alerts", tell, "no verdict from the detector (%s): "
			    "refused", w), -1;
		}
		snprintf(tell, sizeof(tell), GW_DETECT_REFUSED_FMT, w);
		break;
	case GW_DETECT_REAUTH:
		if (!rq->tty) {
			snprintf(tell, sizeof(tell), "refused: unusual activity (%s): a fresh "
			    "MFA code is required and this session has no terminal (ssh -t)", w);
			break;
		}
		if (rq->detector_code == GW_FRESH_NONE) {
			snprintf(tell, sizeof(tell), "mspgate: unusual activity (%s): a fresh "
			    "TOTP code is required\r\nTOTP code: ", w);
			return ask_code(v, GW_CODE_DETECTOR, w, tell), -1;
		}
		if (rq->detector_code == GW_FRESH_OK)
			return 0;
		snprintf(tell, sizeof(tell), "refused: unusual activity (%s): the fresh MFA "
		    "code was not accepted; your MSP's security team has been alerted", w);
		return refuse(v, "alerts", tell, "unusual activity (%s): the fresh MFA code "
		    "was not accepted", w), -1;
	default:
		return 0;
	}
	return refuse(v, "alerts", tell, "unusual activity (%s): refused by the detector",
	    w), -1;
}

/* The ticket the grant asks for: given, asked for on a terminal, or refused. */
static int
check_ticket(struct gw_decide_req *rq, struct gw_verdict *v)
{
	const char *rule = v->rule;
	char r[sizeof(v->rule)];

	if (!v->d.ticket_required || (rq->ticket != NULL && rq->ticket[0] != '\0' &&
	    !rq->ticket_asked))
		return 0;
	snprintf(r, sizeof(r), "%s", rule);
	if (rq->ticket_asked) {
		if (gw_ticket_ok(rq->ticket))
			return 0;
		return refuse(v, r, "not permitted: a valid ticket is required",
		    "no valid ticket given"), -1;
	}
	if (!rq->tty)
		return refuse(v, r, "not permitted: a ticket is required: set MSPGATE_TICKET "
		    "(ssh -o SetEnv=MSPGATE_TICKET=...)", "a ticket is required"), -1;
	v->kind = GW_VERDICT_ASK_TICKET;
	return -1;
}

enum gw_verdict_kind
gw_decide(const struct pol *p, struct gw_decide_req *rq, struct gw_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->kind = GW_VERDICT_DENY;
	snprintf(v->reason, sizeof(v->reason), "not decided");
	snprintf(v->tell, sizeof(v->tell), "not permitted");
	if (check_request(p, rq, v) != 0 || check_policy(p, rq, v) != 0 ||
	    check_detector(rq, v) != 0)
		return v->kind;
	/* The login the policy chose for the grant. */
	snprintf(v->spec.login, sizeof(v->spec.login), "%s", v->d.login);
	if (check_ticket(rq, v) != 0)
		return v->kind;
	return v->kind = GW_VERDICT_ALLOW;
}
