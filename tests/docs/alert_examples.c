/* SPDX-License-Identifier: BSD-2-Clause */
/* Prints each alert rule's example (what the engineer sees, the notify JSON) from real detector runs, for the docs. */
/*
 * The examples in doc/ALERTS.md and mspgate.conf(5) are this program's
 * output: each rule is driven over its threshold in a real detector (the
 * policy's defaults, that rule alone on, action deny), and the refusal line
 * and the alerts.notify JSON are made by the gateway's own functions.
 * tests/cli/docs.sh compares them with the docs.
 *
 *   alert-examples md     the Markdown section of doc/ALERTS.md
 *   alert-examples roff   the list in mspgate.conf(5)
 *   alert-examples syslog each rule's syslog line (after "mspgated[PID]: ")
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "gw_detect.h"
#include "mg_diag.h"
#include "mg_time.h"
#include "pol.h"

/* Thursday 2026-11-26 02:14:07 UTC: the README's story. */
#define T_NOW	((time_t)1795659247)
#define MIN	60
#define DAY	86400

struct example {
	enum gw_detect_rule rule;
	int live;		/* ends a running session instead of refusing a new one */
	struct gw_detect_hit hit;
	struct gw_detect_event ev;
	char seen[300];
};

static struct gw_detect *
detector(const char *rule)
{
	static const char *const all[] = { "fanout", "first_access", "off_hours",
	    "mfa_failures", "unusual", "parallel", "egress", "sensitive_commands", NULL };
	char buf[1024];
	size_t n = 0, i;
	struct mg_diag *dg = mg_diag_new();
	struct pol *p = NULL;
	struct gw_detect *d = NULL;
	char err[256];

	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "alerts: {");
	for (i = 0; all[i] != NULL; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %s = { action = \"%s\"; };",
		    all[i], strcmp(all[i], rule) == 0 ? "deny" : "off");
	snprintf(buf + n, sizeof(buf) - n, " };\n");
	if (dg == NULL || pol_load_buffer(buf, strlen(buf), "examples.conf", &p, dg) != 0 ||
	    gw_detect_new(&p->alerts, &d, err, sizeof(err)) != 0) {
		fprintf(stderr, "alert-examples: cannot make a detector for %s\n", rule);
		exit(1);
	}
	pol_free(p);
	mg_diag_free(dg);
	return d;
}

static void
feed(struct gw_detect *d, time_t t, const struct gw_detect_event *ev,
    struct gw_detect_result *res)
{
	mg_clock_set(t);
	if (gw_detect_event(d, ev, res) != 0) {
		fprintf(stderr, "alert-examples: the detector refused an event\n");
		exit(1);
	}
}

static void
start(struct gw_detect *d, time_t t, const char *tenant, const char *target,
    const char *src, const char *sid)
{
	struct gw_detect_event ev = { .kind = GW_DETECT_ATTEMPT, .engineer = "alice",
	    .tenant = tenant, .target = target, .source = src, .allowed = 1 };
	struct gw_detect_result res;

	feed(d, t, &ev, &res);
	ev.kind = GW_DETECT_START;
	ev.session = sid;
	feed(d, t, &ev, &res);
}

/* Keeps the hit of the example's rule; the line the engineer sees for res. */
static void
keep(struct example *x, const struct gw_detect_result *res, const struct gw_detect_event *ev)
{
	size_t i;

	for (i = 0; i < res->nhits; i++)
		if (res->hits[i].rule == x->rule)
			break;
	if (i == res->nhits || res->action != GW_DETECT_DENY) {
		fprintf(stderr, "alert-examples: %s did not fire\n", gw_detect_rule_name(x->rule));
		exit(1);
	}
	x->hit = res->hits[i];
	x->ev = *ev;
	snprintf(x->seen, sizeof(x->seen), x->live ? GW_DETECT_ENDED_FMT : GW_DETECT_REFUSED_FMT,
	    gw_detect_rule_words(x->rule));
}

static void
run(struct example *x)
{
	static const char src[] = "198.51.100.7";
	struct gw_detect_event ev = { .kind = GW_DETECT_ATTEMPT, .engineer = "alice",
	    .tenant = "initech", .target = "db01", .source = src, .allowed = 1 };
	struct gw_detect_result res;
	struct gw_detect *d = detector(gw_detect_rule_name(x->rule));
	time_t t;
	int i;

	switch (x->rule) {
	case GW_DETECT_FANOUT:
		start(d, T_NOW - 21 * MIN, "acme", "web01", src, "s1");
		start(d, T_NOW - 9 * MIN, "globex", "dc01", src, "s2");
		feed(d, T_NOW, &ev, &res);
		break;
	case GW_DETECT_FIRST_ACCESS:
		start(d, T_NOW - 30 * MIN, "acme", "web01", src, "s1");
		feed(d, T_NOW, &ev, &res);
		break;
	case GW_DETECT_PARALLEL:
		start(d, T_NOW - 30 * MIN, "initech", "app01", "203.0.113.5", "s1");
		feed(d, T_NOW, &ev, &res);
		break;
	case GW_DETECT_OFF_HOURS:
		/* Three refused by the windows; the hit is the third's. */
		ev.allowed = 0;
		ev.refusal = GW_DETECT_REFUSED_WINDOW;
		for (i = 2; i >= 0; i--)
			feed(d, T_NOW - i * 5 * MIN, &ev, &res);
		break;
	case GW_DETECT_MFA_FAILURES: {
		struct gw_detect_event f = { .kind = GW_DETECT_MFA_FAILURE,
		    .engineer = "alice", .source = src };

		for (i = 4; i >= 0; i--)
			feed(d, T_NOW - i * MIN, &f, &res);
		ev = f;
		break;
	}
	case GW_DETECT_UNUSUAL:
		/* Three weeks of office hours from one network, then 02:14 from another. */
		for (i = 1; i <= 21; i++) {
			char sid[16];

			snprintf(sid, sizeof(sid), "h%d", i);
			t = T_NOW - (time_t)i * DAY + 7 * 3600;
			start(d, t, "initech", "db01", "203.0.113.5", sid);
			ev.kind = GW_DETECT_END;
			ev.session = sid;
			feed(d, t + 3600, &ev, &res);
		}
		ev.kind = GW_DETECT_ATTEMPT;
		ev.session = NULL;
		feed(d, T_NOW, &ev, &res);
		break;
	case GW_DETECT_EGRESS:
		x->live = 1;
		start(d, T_NOW - 40 * MIN, "initech", "db01", src, "s1");
		ev.kind = GW_DETECT_BYTES;
		ev.session = "s1";
		ev.bytes_out = (uint64_t)1 << 30;
		feed(d, T_NOW, &ev, &res);
		break;
	case GW_DETECT_SENSITIVE:
		x->live = 1;
		start(d, T_NOW - 5 * MIN, "initech", "db01", src, "s1");
		ev.kind = GW_DETECT_COMMAND;
		ev.session = "s1";
		ev.text = "procdump64.exe -accepteula -ma lsass.exe out.dmp";
		ev.text_len = strlen(ev.text);
		feed(d, T_NOW, &ev, &res);
		break;
	default:
		abort();
	}
	keep(x, &res, &ev);
	gw_detect_free(d);
}

/* roff: a leading dot or quote is protected, "-" and "\" escaped. */
static void
roff(const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", stdout);
	for (; *s; s++) {
		if (*s == '-')
			fputs("\\-", stdout);
		else if (*s == '\\')
			fputs("\\e", stdout);
		else
			putchar(*s);
	}
	putchar('\n');
}

int
main(int argc, char **argv)
{
	static const enum gw_detect_rule rules[] = { GW_DETECT_FANOUT,
	    GW_DETECT_FIRST_ACCESS, GW_DETECT_OFF_HOURS, GW_DETECT_MFA_FAILURES,
	    GW_DETECT_UNUSUAL, GW_DETECT_PARALLEL, GW_DETECT_EGRESS, GW_DETECT_SENSITIVE };
	int md;
	size_t i;

	if (argc != 2 || (strcmp(argv[1], "md") != 0 && strcmp(argv[1], "roff") != 0 &&
	    strcmp(argv[1], "syslog") != 0)) {
		fprintf(stderr, "usage: alert-examples md|roff|syslog\n");
		return 2;
	}
	md = strcmp(argv[1], "md") == 0;
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		struct example x;
		char json[2048], line[400];

		memset(&x, 0, sizeof(x));
		x.rule = rules[i];
		run(&x);
		if (gw_detect_notify_json(&x.ev, &x.hit, T_NOW, json, sizeof(json)) == 0)
			return 1;
		json[strcspn(json, "\n")] = '\0';
		snprintf(line, sizeof(line), "mspgate: %s", x.seen);
		if (strcmp(argv[1], "syslog") == 0) {
			gw_detect_syslog_line(&x.ev, &x.hit, json, sizeof(json));
			printf("%s\n", json);
		} else if (md) {
			printf("**%s** (%s), with `action = \"deny\"`; %s sees\n\n```\n%s\n```\n\n"
			    "and `alerts.notify` reads\n\n```json\n%s\n```\n\n",
			    gw_detect_rule_name(x.rule), gw_detect_rule_words(x.rule),
			    x.live ? "the running session ends and the engineer" :
			    "the engineer", line, json);
		} else {
			printf(".TP\n.B %s\n", gw_detect_rule_name(x.rule));
			printf(".nf\n");
			roff(line);
			roff(json);
			printf(".fi\n");
		}
	}
	return 0;
}
