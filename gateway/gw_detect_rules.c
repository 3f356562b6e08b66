/* SPDX-License-Identifier: BSD-2-Clause */
/* The detector's rules: one table of them, their checkers, and what each event asks of them. */
#include <inttypes.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "gw_detect_priv.h"
#include "mg_err.h"
#include "mg_log.h"
#include "mg_name.h"
#include "mg_time.h"

/* Longest command or typed line judged whole (see gd_event_text). */
#define TEXT_MAX	(64 * 1024)

/*
 * Every rule in one place (struct gd_rule says what each field is for).
 * A new rule is one entry here, its GW_DETECT_* value in gw_detect.h, and
 * its checker below, called from the event it watches.
 */
const struct gd_rule gd_rules[GW_DETECT_NRULES] = {
	[GW_DETECT_FANOUT] = { "fanout", "alerts.fanout", "tenant fan-out", LOG_ALERT,
	    GD_POL(fanout) },
	[GW_DETECT_FIRST_ACCESS] = { "first_access", "alerts.first_access", "first access",
	    LOG_WARNING, GD_POL(first_access) },
	[GW_DETECT_OFF_HOURS] = { "off_hours", "alerts.off_hours", "off-hours attempts",
	    LOG_WARNING, GD_POL(off_hours) },
	[GW_DETECT_MFA_FAILURES] = { "mfa_failures", "alerts.mfa_failures", "MFA failures",
	    LOG_WARNING, GD_POL(mfa_failures) },
	[GW_DETECT_UNUSUAL] = { "unusual", "alerts.unusual", "unusual time or source",
	    LOG_WARNING, GD_POL(unusual) },
	[GW_DETECT_PARALLEL] = { "parallel", "alerts.parallel", "parallel use", LOG_ALERT,
	    GD_POL(parallel) },
	[GW_DETECT_EGRESS] = { "egress", "alerts.egress", "data egress", LOG_ALERT,
	    GD_POL(egress) },
	[GW_DETECT_SENSITIVE] = { "sensitive_commands", "alerts.sensitive_commands",
	    "sensitive command", LOG_ALERT, GD_POL(sensitive) },
	/* The detector's own state: always on, alert only (gw_detect_set_policy). */
	[GW_DETECT_STATE] = { "state", "alerts.state", "detector", LOG_ALERT, GD_NO_POL },
};

/* sensitive_commands without patterns in the policy. */
const char *const gw_detect_default_patterns[] = {
	/* credential dumping */
	"mimikatz|sekurlsa::",
	"procdump(64)?(\\.exe)?[^|;&]*lsass",
	"secretsdump",
	"ntdsutil",
	"comsvcs(\\.dll)?[^|;&]*minidump",
	"reg(\\.exe)?[[:space:]]+save[[:space:]]+hklm\\\\(sam|system|security)",
	/* shadow copies */
	"vssadmin(\\.exe)?[^|;&]*(create|delete)[[:space:]]+shadow",
	"wmic(\\.exe)?[^|;&]*shadowcopy",
	/* archive piped to the network */
	"(^|[^[:alnum:]_])(tar|zip|7z|7za|7zr|rar|gzip|xz|zstd)([^[:alnum:]_][^|]*)?\\|"
	    "(.*[^[:alnum:]_])?(curl|wget|nc|ncat|netcat|socat|scp|sftp|ssh)([^[:alnum:]_]|$)",
	/* cloud sync tools */
	"(^|[^[:alnum:]_])(rclone|megacmd|mega-(put|sync|cmd)|azcopy)([^[:alnum:]_]|$)",
	NULL
};

const char *const gw_detect_default_pattern_names[] = {
	"credential dumping", "credential dumping", "credential dumping",
	"credential dumping", "credential dumping", "credential dumping",
	"shadow copy", "shadow copy", "archive and exfiltrate", "cloud sync", NULL
};

/* ------------------------------------------------------------------ */
/* evidence text */

/* Appends to an evidence buffer; cut with "..." when full. */
static void
ev_add(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void
ev_add(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;
	int n;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n >= len - used && len >= 4)
		memcpy(buf + len - 4, "...", 4);
}

/* Sets a hit's evidence; cut with "..." when it does not fit. */
static void
ev_set(struct gw_detect_hit *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
ev_set(struct gw_detect_hit *h, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(h->evidence, sizeof(h->evidence), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n >= sizeof(h->evidence))
		memcpy(h->evidence + sizeof(h->evidence) - 4, "...", 4);
}

static void
dur_text(int64_t secs, char *buf, size_t len)
{
	mg_duration_format(secs, buf, len);
}

static void
size_text(uint64_t b, char *buf, size_t len)
{
	static const char u[] = "KMGT";
	int i = -1;
	double v = (double)b;

	while (v >= 1024 && i < 3) {
		v /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%" PRIu64 " bytes", b);
	else
		snprintf(buf, len, "%.1f%c (%" PRIu64 " bytes)", v, u[i], b);
}

/* ------------------------------------------------------------------ */
/* verdicts */

static enum gw_detect_action
act_of(enum pol_action a)
{
	switch (a) {
	case POL_ACT_DENY:	return GW_DETECT_DENY;
	case POL_ACT_REAUTH:	return GW_DETECT_REAUTH;
	default:		return GW_DETECT_ALERT;
	}
}

/*
 * Adds a hit. An alert-only hit with the same key as one given for this
 * rule less than "within" (one hour for rules without it) ago is left out:
 * one alert per burst, not one per event. Deny and reauth are never left
 * out: the gateway must act on each.
 */
static struct gw_detect_hit *
hit(struct gw_detect *d, struct gw_detect_result *res, struct fired *f,
    enum gw_detect_rule rule, uint64_t key, time_t now, int severity)
{
	const struct pol_alert_rule *pr = &d->rule[rule];
	enum gw_detect_action a = act_of(pr->action);
	int64_t quiet = rule == GW_DETECT_OFF_HOURS || rule == GW_DETECT_MFA_FAILURES ||
	    rule == GW_DETECT_FANOUT ? pr->within : 3600;
	struct gw_detect_hit *h;

	if (a == GW_DETECT_ALERT && f != NULL && f->last != 0 && f->key == key &&
	    (int64_t)now - (int64_t)f->last < quiet && now >= f->last) {
		res->suppressed++;
		return NULL;
	}
	if (f != NULL) {
		f->last = now;
		f->key = key;
		d->dirty = 1;
	}
	if (res->nhits >= GW_DETECT_MAX_HITS) {
		/* Out of slots: the action still counts. */
		if (a > res->action)
			res->action = a;
		return NULL;
	}
	h = &res->hits[res->nhits++];
	memset(h, 0, sizeof(*h));
	h->rule = rule;
	h->action = a;
	h->severity = severity ? severity : gd_rules[rule].severity;
	if (a == GW_DETECT_DENY)
		h->severity = LOG_ALERT;
	if (a > res->action)
		res->action = a;
	return h;
}

static int
on(const struct gw_detect *d, enum gw_detect_rule r)
{
	return d->rule[r].enabled;
}

static void
check_fanout(struct gw_detect *d, struct eng *e, const char *tenant, time_t now,
    struct gw_detect_result *res)
{
	const struct pol_alert_rule *pr = &d->rule[GW_DETECT_FANOUT];
	const char *names[GW_DETECT_ACCESS_PER_ENG + 1];
	size_t n = 0, i, j;
	struct gw_detect_hit *h;
	char w[32];

	names[n++] = tenant;
	for (i = 0; i < e->nacc; i++) {
		/* A time ahead of the clock (stepped back) still counts. */
		if ((int64_t)now - (int64_t)e->acc[i].last >= pr->within)
			continue;
		for (j = 0; j < n; j++)
			if (strcmp(names[j], e->acc[i].tenant) == 0)
				break;
		if (j == n)
			names[n++] = e->acc[i].tenant;
	}
	if ((int64_t)n < pr->count)
		return;
	if ((h = hit(d, res, &e->fired[GW_DETECT_FANOUT], GW_DETECT_FANOUT,
	    gd_hash_str(tenant), now, 0)) == NULL)
		return;
	dur_text(pr->within, w, sizeof(w));
	ev_set(h, "%zu distinct tenants within %s "
	    "(threshold %" PRId64 "): %s", n, w, pr->count, tenant);
	for (i = 1; i < n; i++)
		ev_add(h->evidence, sizeof(h->evidence), ", %s", names[i]);
}

static void
check_first(struct gw_detect *d, struct eng *e, const char *tenant, const char *target,
    time_t now, struct gw_detect_result *res)
{
	int64_t days = d->rule[GW_DETECT_FIRST_ACCESS].count;
	int tenant_seen = 0, target_seen = 0;
	struct gw_detect_hit *h;
	size_t i;

	for (i = 0; i < e->nacc; i++) {
		if ((int64_t)now - (int64_t)e->acc[i].last >= days * 86400)
			continue;
		if (strcmp(e->acc[i].tenant, tenant) == 0) {
			tenant_seen = 1;
			if (strcmp(e->acc[i].target, target) == 0)
				target_seen = 1;
		}
	}
	if (target_seen)
		return;
	if ((h = hit(d, res, &e->fired[GW_DETECT_FIRST_ACCESS], GW_DETECT_FIRST_ACCESS,
	    gd_hash2(tenant, target), now, 0)) == NULL)
		return;
	if (!tenant_seen)
		ev_set(h, "tenant %s not reached by this "
		    "engineer in the last %" PRId64 " days (target %s)", tenant, days, target);
	else
		ev_set(h, "target %s/%s not reached by this "
		    "engineer in the last %" PRId64 " days", tenant, target, days);
}

static void
check_unusual(struct gw_detect *d, struct eng *e, const char *net, time_t now,
    struct gw_detect_result *res)
{
	int64_t hist = d->rule[GW_DETECT_UNUSUAL].count * 86400;
	int how = gd_hour_of_week(now), k, time_known = 0, src_known = 0;
	struct gw_detect_hit *h;
	static const char *const wd[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	size_t i;

	/* Too little history to know what is usual: say nothing yet. */
	if (e->nsessions < GW_DETECT_UNUSUAL_MIN_SESSIONS || e->first_seen == 0 ||
	    (int64_t)now - (int64_t)e->first_seen < GW_DETECT_UNUSUAL_MIN_DAYS * 86400 ||
	    (int64_t)now - (int64_t)e->last_seen >= hist)
		return;
	/* The hour before and after count as usual too (DST, a late start). */
	for (k = -1; k <= 1; k++) {
		time_t t = e->hours[(how + k + HOURS_PER_WEEK) % HOURS_PER_WEEK];

		if (t != 0 && (int64_t)now - (int64_t)t < hist)
			time_known = 1;
	}
	for (i = 0; i < e->nnets; i++)
		if (strcmp(e->nets[i].net, net) == 0 &&
		    (int64_t)now - (int64_t)e->nets[i].last < hist)
			src_known = 1;
	if (time_known && src_known)
		return;
	if ((h = hit(d, res, &e->fired[GW_DETECT_UNUSUAL], GW_DETECT_UNUSUAL,
	    gd_hash2(time_known ? "" : wd[how / 24], src_known ? "" : net) + (uint64_t)how,
	    now, 0)) == NULL)
		return;
	ev_set(h, "outside this engineer's last %" PRId64
	    " days:", d->rule[GW_DETECT_UNUSUAL].count);
	if (!time_known)
		ev_add(h->evidence, sizeof(h->evidence), " time %s %02d:00 UTC",
		    wd[how / 24], how % 24);
	if (!src_known)
		ev_add(h->evidence, sizeof(h->evidence), "%s source network %s",
		    time_known ? "" : ",", net);
}

static void
check_parallel(struct gw_detect *d, struct eng *e, const char *addr, time_t now,
    struct gw_detect_result *res)
{
	struct gw_detect_hit *h;
	size_t i;

	gd_live_expire(e, now);
	for (i = 0; i < e->nlive; i++)
		if (strcmp(e->live[i].source, addr) != 0)
			break;
	if (i < e->nlive) {
		if ((h = hit(d, res, &e->fired[GW_DETECT_PARALLEL], GW_DETECT_PARALLEL,
		    gd_hash2(addr, e->live[i].source), now, 0)) == NULL)
			return;
		ev_set(h, "new session from %s while session %s "
		    "from %s is live", addr, e->live[i].id, e->live[i].source);
		return;
	}
	/* The other gateways' sessions count the same (their source known). */
	for (i = 0; i < d->npeers; i++) {
		const struct gd_peer *q = &d->peers[i];

		if (q->source[0] == '\0' || strcmp(q->engineer, e->node.key) != 0 ||
		    strcmp(q->source, addr) == 0)
			continue;
		if ((h = hit(d, res, &e->fired[GW_DETECT_PARALLEL], GW_DETECT_PARALLEL,
		    gd_hash2(addr, q->source), now, 0)) == NULL)
			return;
		ev_set(h, "new session from %s while session %s from %s is live on "
		    "gateway %s", addr, q->id, q->source, q->gateway);
		return;
	}
}

/* An attempt the policy refused for its time window. */
static void
check_off_hours(struct gw_detect *d, struct eng *e, const struct gw_detect_event *ev,
    const char *addr, time_t now, struct gw_detect_result *res)
{
	const struct pol_alert_rule *pr = &d->rule[GW_DETECT_OFF_HOURS];
	struct gw_detect_hit *h;
	uint64_t n;
	char w[32];

	gd_ring_add(&e->off, now, pr->within);
	d->dirty = 1;
	n = gd_ring_count(&e->off, now, pr->within);
	if (n < (uint64_t)pr->count || (h = hit(d, res, &e->fired[GW_DETECT_OFF_HOURS],
	    GW_DETECT_OFF_HOURS, 0, now, 0)) == NULL)
		return;
	dur_text(pr->within, w, sizeof(w));
	ev_set(h, "%" PRIu64 " attempts outside the "
	    "engineer's windows within %s (threshold %" PRId64 "), last %s/%s from %s",
	    n, w, pr->count, ev->tenant, ev->target, addr);
}

/* Pressure rules gate attempts while over threshold (deny/reauth only). */
static void
gate_pressure(struct gw_detect *d, struct eng *e, time_t now, struct gw_detect_result *res)
{
	struct gw_detect_hit *h;
	uint64_t n;
	char w[32], b[48];

	if (on(d, GW_DETECT_OFF_HOURS) && d->rule[GW_DETECT_OFF_HOURS].action != POL_ACT_ALERT &&
	    (n = gd_ring_count(&e->off, now, d->rule[GW_DETECT_OFF_HOURS].within)) >=
	    (uint64_t)d->rule[GW_DETECT_OFF_HOURS].count &&
	    (h = hit(d, res, NULL, GW_DETECT_OFF_HOURS, 0, now, 0)) != NULL) {
		dur_text(d->rule[GW_DETECT_OFF_HOURS].within, w, sizeof(w));
		ev_set(h, "%" PRIu64 " attempts outside "
		    "the engineer's windows within %s (threshold %" PRId64 ")", n, w,
		    d->rule[GW_DETECT_OFF_HOURS].count);
	}
	if (on(d, GW_DETECT_MFA_FAILURES) &&
	    d->rule[GW_DETECT_MFA_FAILURES].action != POL_ACT_ALERT &&
	    (n = gd_ring_count(&e->mfa, now, d->rule[GW_DETECT_MFA_FAILURES].within)) >=
	    (uint64_t)d->rule[GW_DETECT_MFA_FAILURES].count &&
	    (h = hit(d, res, NULL, GW_DETECT_MFA_FAILURES, 0, now, 0)) != NULL) {
		dur_text(d->rule[GW_DETECT_MFA_FAILURES].within, w, sizeof(w));
		ev_set(h, "%" PRIu64 " MFA failures within "
		    "%s (threshold %" PRId64 ")", n, w, d->rule[GW_DETECT_MFA_FAILURES].count);
	}
	if (on(d, GW_DETECT_EGRESS) && d->rule[GW_DETECT_EGRESS].action != POL_ACT_ALERT &&
	    d->rule[GW_DETECT_EGRESS].bytes_day > 0 &&
	    gd_egress_day(e, now) >= (uint64_t)d->rule[GW_DETECT_EGRESS].bytes_day &&
	    (h = hit(d, res, NULL, GW_DETECT_EGRESS, 0, now, 0)) != NULL) {
		size_text(gd_egress_day(e, now), b, sizeof(b));
		ev_set(h, "%s to this engineer in the last "
		    "24h is over the daily limit", b);
	}
}

/* ------------------------------------------------------------------ */
/* the events */

int
gd_event_attempt(struct gw_detect *d, const struct gw_detect_event *ev, time_t now,
    struct gw_detect_result *res)
{
	char addr[ADDR_MAX], net[MG_CIDR_STRLEN];
	struct eng *e;
	int r;

	if (!mg_name_ok(MG_NAME_ENGINEER, ev->engineer) ||
	    !mg_name_ok(MG_NAME_POLICY, ev->tenant) ||
	    !mg_name_ok(MG_NAME_POLICY, ev->target) ||
	    gd_addr_norm(ev->source, addr, net) != 0)
		return MG_ERR_INVAL;
	if ((r = gd_eng_get(d, ev->engineer, &e)) != 0)
		return r;
	if (!ev->allowed) {
		if (ev->refusal == GW_DETECT_REFUSED_WINDOW && on(d, GW_DETECT_OFF_HOURS))
			check_off_hours(d, e, ev, addr, now, res);
		return 0;
	}
	if (on(d, GW_DETECT_FANOUT))
		check_fanout(d, e, ev->tenant, now, res);
	if (on(d, GW_DETECT_FIRST_ACCESS))
		check_first(d, e, ev->tenant, ev->target, now, res);
	if (on(d, GW_DETECT_UNUSUAL))
		check_unusual(d, e, net, now, res);
	if (on(d, GW_DETECT_PARALLEL))
		check_parallel(d, e, addr, now, res);
	gate_pressure(d, e, now, res);
	return 0;
}

int
gd_event_start(struct gw_detect *d, const struct gw_detect_event *ev, time_t now)
{
	char addr[ADDR_MAX], net[MG_CIDR_STRLEN];
	struct live *l;
	struct eng *e;
	int r;

	if (!mg_name_ok(MG_NAME_ENGINEER, ev->engineer) ||
	    !mg_name_ok(MG_NAME_POLICY, ev->tenant) ||
	    !mg_name_ok(MG_NAME_POLICY, ev->target) || !gd_id_ok(ev->session) ||
	    gd_addr_norm(ev->source, addr, net) != 0)
		return MG_ERR_INVAL;
	if ((r = gd_eng_get(d, ev->engineer, &e)) != 0)
		return r;
	if ((r = gd_access_add(d, e, ev->tenant, ev->target, now)) != 0)
		return r;
	gd_net_add(e, net, now);
	e->hours[gd_hour_of_week(now)] = now;
	if (e->first_seen == 0 || e->first_seen > now)
		e->first_seen = now;
	e->last_seen = now;
	if (e->nsessions < UINT32_MAX)
		e->nsessions++;
	gd_live_expire(e, now);
	if ((l = gd_live_find(e, ev->session)) == NULL) {
		if (e->nlive == GW_DETECT_LIVE_PER_ENG) {
			/* The oldest is most likely a lost END. */
			size_t i, o = 0;

			for (i = 1; i < e->nlive; i++)
				if (e->live[i].start < e->live[o].start)
					o = i;
			e->live[o] = e->live[--e->nlive];
		}
		l = &e->live[e->nlive++];
		memset(l, 0, sizeof(*l));
		snprintf(l->id, sizeof(l->id), "%s", ev->session);
	}
	snprintf(l->source, sizeof(l->source), "%s", addr);
	l->start = now;
	d->dirty = 1;
	return 0;
}

int
gd_event_bytes(struct gw_detect *d, const struct gw_detect_event *ev, time_t now,
    struct gw_detect_result *res)
{
	const struct pol_alert_rule *pr = &d->rule[GW_DETECT_EGRESS];
	struct gw_detect_hit *h;
	struct live *l;
	struct eng *e;
	uint64_t delta, total, day;
	char b[48], b2[48];
	int r;

	if (!mg_name_ok(MG_NAME_ENGINEER, ev->engineer) || !gd_id_ok(ev->session))
		return MG_ERR_INVAL;
	if ((r = gd_eng_get(d, ev->engineer, &e)) != 0)
		return r;
	l = gd_live_find(e, ev->session);
	/* A session we never saw start (lost state): count all it reports. */
	delta = l == NULL ? ev->bytes_out : ev->bytes_out >= l->bytes ?
	    ev->bytes_out - l->bytes : 0;
	total = l == NULL ? ev->bytes_out : (ev->bytes_out > l->bytes ? ev->bytes_out : l->bytes);
	if (l != NULL)
		l->bytes = total;
	if (delta > 0) {
		gd_egress_add(e, now, delta);
		d->dirty = 1;
	}
	if (pr->enabled) {
		if (pr->bytes > 0 && total >= (uint64_t)pr->bytes &&
		    (l == NULL || !(l->flags & LIVE_EGRESS_FIRED) ||
		    pr->action != POL_ACT_ALERT)) {
			if (l != NULL)
				l->flags |= LIVE_EGRESS_FIRED;
			if ((h = hit(d, res, l != NULL ? NULL : &e->fired[GW_DETECT_EGRESS],
			    GW_DETECT_EGRESS, gd_hash_str(ev->session), now, 0)) != NULL) {
				size_text(total, b, sizeof(b));
				size_text((uint64_t)pr->bytes, b2, sizeof(b2));
				ev_set(h, "session %s sent %s "
				    "to the engineer (per_session %s)", ev->session, b, b2);
			}
		}
		day = gd_egress_day(e, now);
		if (pr->bytes_day > 0 && day >= (uint64_t)pr->bytes_day && delta > 0 &&
		    (h = hit(d, res, &e->fired[GW_DETECT_EGRESS], GW_DETECT_EGRESS, 1, now,
		    0)) != NULL) {
			size_text(day, b, sizeof(b));
			size_text((uint64_t)pr->bytes_day, b2, sizeof(b2));
			ev_set(h, "%s to this engineer in the "
			    "last 24h (per_day %s), now in session %s", b, b2, ev->session);
		}
	}
	if (ev->kind == GW_DETECT_END && l != NULL) {
		*l = e->live[--e->nlive];
		d->dirty = 1;
	}
	return 0;
}

int
gd_event_mfa(struct gw_detect *d, const struct gw_detect_event *ev, time_t now,
    struct gw_detect_result *res)
{
	const struct pol_alert_rule *pr = &d->rule[GW_DETECT_MFA_FAILURES];
	char addr[ADDR_MAX], net[MG_CIDR_STRLEN], w[32], who[120];
	struct gw_detect_hit *h;
	struct eng *e = NULL;
	struct src *s;
	uint64_t n;
	size_t distinct;
	int r;

	if (gd_addr_norm(ev->source, addr, net) != 0)
		return MG_ERR_INVAL;
	if (!pr->enabled)
		return 0;
	dur_text(pr->within, w, sizeof(w));
	/* A made-up name still counts against its source, just not as an engineer. */
	mg_str_escape(ev->engineer, 32, who, sizeof(who));
	if (mg_name_ok(MG_NAME_ENGINEER, ev->engineer)) {
		if ((r = gd_eng_get(d, ev->engineer, &e)) != 0)
			return r;
		gd_ring_add(&e->mfa, now, pr->within);
		n = gd_ring_count(&e->mfa, now, pr->within);
		if (n >= (uint64_t)pr->count && (h = hit(d, res, &e->fired[GW_DETECT_MFA_FAILURES],
		    GW_DETECT_MFA_FAILURES, 0, now, 0)) != NULL)
			ev_set(h, "%" PRIu64 " MFA failures for "
			    "this engineer within %s (threshold %" PRId64 "), last from %s",
			    n, w, pr->count, addr);
	}
	if ((r = gd_src_get(d, addr, &s)) != 0)
		return r;
	gd_ring_add(&s->mfa, now, pr->within);
	distinct = gd_src_engineer(s, gd_hash_str(ev->engineer ? who : ""), now, pr->within);
	d->dirty = 1;
	n = gd_ring_count(&s->mfa, now, pr->within);
	/* One name failing is the per-engineer rule; this is spraying. */
	if (n < (uint64_t)pr->count || distinct < 2)
		return 0;
	if ((h = hit(d, res, &s->fired, GW_DETECT_MFA_FAILURES, 2, now, LOG_ALERT)) == NULL)
		return 0;
	ev_set(h, "%" PRIu64 " MFA failures from source %s "
	    "for %zu%s engineers within %s (threshold %" PRId64 "), last %s", n, addr,
	    distinct, distinct >= SRC_ENGS ? "+" : "", w, pr->count, who);
	return 0;
}

int
gd_event_text(struct gw_detect *d, const struct gw_detect_event *ev, time_t now,
    struct gw_detect_result *res)
{
	char *buf;
	size_t len, i, p;
	char shown[96];
	struct eng *e;
	int r;

	if (!mg_name_ok(MG_NAME_ENGINEER, ev->engineer) || !gd_id_ok(ev->session) ||
	    (ev->text == NULL && ev->text_len > 0))
		return MG_ERR_INVAL;
	if (!d->rule[GW_DETECT_SENSITIVE].enabled || ev->text_len == 0)
		return 0;
	if ((r = gd_eng_get(d, ev->engineer, &e)) != 0)
		return r;
	/*
	 * Bounded work per line: a longer one is judged on its first and last
	 * 32 KiB, so padding in front cannot hide a command at the end.
	 */
	len = ev->text_len > TEXT_MAX ? TEXT_MAX : ev->text_len;
	if ((buf = malloc(len + 1)) == NULL)
		return MG_ERR_NOMEM;
	if (ev->text_len > TEXT_MAX) {
		memcpy(buf, ev->text, TEXT_MAX / 2);
		memcpy(buf + TEXT_MAX / 2, ev->text + ev->text_len - TEXT_MAX / 2, TEXT_MAX / 2);
	} else
		memcpy(buf, ev->text, len);
	/* A NUL would end the match early: a hidden NUL must not hide the rest. */
	for (i = 0; i < len; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[len] = '\0';
	for (p = 0; p < d->npat; p++) {
		struct gw_detect_hit *h;
		const char *what = "";

		if (regexec(&d->re[p], buf, 0, NULL, 0) != 0)
			continue;
		if ((h = hit(d, res, &e->fired[GW_DETECT_SENSITIVE], GW_DETECT_SENSITIVE,
		    gd_hash2(ev->session, d->pat[p]), now, 0)) == NULL)
			break;
		for (i = 0; gw_detect_default_patterns[i] != NULL; i++)
			if (strcmp(gw_detect_default_patterns[i], d->pat[p]) == 0)
				what = gw_detect_default_pattern_names[i];
		mg_str_escape(buf, 80, shown, sizeof(shown));
		if (what[0] != '\0')
			ev_set(h, "%s (pattern %zu) in %s of session %s: \"%s\"", what, p + 1,
			    ev->kind == GW_DETECT_COMMAND ? "command" : "typed input",
			    ev->session, shown);
		else
			ev_set(h, "policy pattern %zu in %s of session %s: \"%s\"", p + 1,
			    ev->kind == GW_DETECT_COMMAND ? "command" : "typed input",
			    ev->session, shown);
		break;	/* one hit per line is enough evidence */
	}
	free(buf);
	return 0;
}

/*
 * Another gateway's event (gw_detect_remote): the history a local START
 * or MFA_FAILURE leaves, at its own time, and nothing judged: the local
 * gateway did not let anyone in or out for it, so it has nothing to act
 * on. Times only move forward, so an old event never makes a recent entry
 * look older.
 */
int
gd_event_remote(struct gw_detect *d, const struct gw_detect_event *ev, time_t when,
    time_t now)
{
	const struct pol_alert_rule *mp = &d->rule[GW_DETECT_MFA_FAILURES];
	char addr[ADDR_MAX], net[MG_CIDR_STRLEN], who[120];
	struct eng *e;
	struct src *s;
	int how, r;
	size_t i;

	if (ev->engineer == NULL || when <= 0)
		return MG_ERR_INVAL;
	if (ev->kind == GW_DETECT_START) {
		if (!mg_name_ok(MG_NAME_ENGINEER, ev->engineer) ||
		    !mg_name_ok(MG_NAME_POLICY, ev->tenant) ||
		    !mg_name_ok(MG_NAME_POLICY, ev->target) ||
		    (ev->source != NULL && gd_addr_norm(ev->source, addr, net) != 0))
			return MG_ERR_INVAL;
		if ((int64_t)now - (int64_t)when >= gd_access_horizon(d) &&
		    (int64_t)now - (int64_t)when >= d->rule[GW_DETECT_UNUSUAL].count * 86400)
			return 0;
		if ((r = gd_eng_get(d, ev->engineer, &e)) != 0)
			return r;
		for (i = 0; i < e->nacc; i++)
			if (strcmp(e->acc[i].tenant, ev->tenant) == 0 &&
			    strcmp(e->acc[i].target, ev->target) == 0)
				break;
		if (i == e->nacc || e->acc[i].last < when)
			if ((r = gd_access_add(d, e, ev->tenant, ev->target, when)) != 0)
				return r;
		if (ev->source != NULL)
			gd_net_add(e, net, when > e->last_seen ? when : e->last_seen);
		how = gd_hour_of_week(when);
		if (e->hours[how] < when)
			e->hours[how] = when;
		if (e->first_seen == 0 || e->first_seen > when)
			e->first_seen = when;
		if (e->last_seen < when)
			e->last_seen = when;
		if (e->nsessions < UINT32_MAX)
			e->nsessions++;
		d->dirty = 1;
		return 0;
	}
	if (ev->kind != GW_DETECT_MFA_FAILURE)
		return MG_ERR_INVAL;
	if (gd_addr_norm(ev->source, addr, net) != 0)
		return MG_ERR_INVAL;
	if (!mp->enabled || (int64_t)now - (int64_t)when >= mp->within)
		return 0;
	/* A made-up name still counts against its source, just not as an engineer. */
	if (mg_name_ok(MG_NAME_ENGINEER, ev->engineer)) {
		if ((r = gd_eng_get(d, ev->engineer, &e)) != 0)
			return r;
		gd_ring_add(&e->mfa, when, mp->within);
	}
	if ((r = gd_src_get(d, addr, &s)) != 0)
		return r;
	gd_ring_add(&s->mfa, when, mp->within);
	/* The name as gd_event_mfa keeps it, so one engineer is one name. */
	mg_str_escape(ev->engineer, 32, who, sizeof(who));
	(void)gd_src_engineer(s, gd_hash_str(who), when, mp->within);
	d->dirty = 1;
	return 0;
}

/* The state rule's one hit: the detector's own history was lost. */
void
gd_state_hit(struct gw_detect_result *res, const char *why)
{
	struct gw_detect_hit *h;

	if (res == NULL)
		return;
	memset(res, 0, sizeof(*res));
	h = &res->hits[res->nhits++];
	h->rule = GW_DETECT_STATE;
	h->action = GW_DETECT_ALERT;
	h->severity = LOG_ALERT;
	res->action = GW_DETECT_ALERT;
	/* Fail closed on knowledge: say loudly that the history is gone. */
	ev_set(h, "detector state lost, history starts "
	    "empty (first_access and fanout restart, unusual needs %d days): %.100s",
	    GW_DETECT_UNUSUAL_MIN_DAYS, why);
}

