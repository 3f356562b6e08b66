/* SPDX-License-Identifier: BSD-2-Clause */
/* A detector hit for the outside: rule and action names, audit event, syslog line, notify JSON. */
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "gw_detect_priv.h"
#include "mg_log.h"

const char *
gw_detect_rule_name(enum gw_detect_rule r)
{
	return (unsigned)r < GW_DETECT_NRULES ? gd_rules[r].name : "?";
}

const char *
gw_detect_rule_words(enum gw_detect_rule r)
{
	return (unsigned)r < GW_DETECT_NRULES ? gd_rules[r].words : "detector";
}

const char *
gw_detect_action_name(enum gw_detect_action a)
{
	switch (a) {
	case GW_DETECT_NONE:	return "none";
	case GW_DETECT_ALERT:	return "alert";
	case GW_DETECT_REAUTH:	return "reauth";
	case GW_DETECT_DENY:	return "deny";
	}
	return "?";
}

void
gw_detect_audit_event(const struct gw_detect_event *ev, const struct gw_detect_hit *hit_,
    char *reason_buf, size_t reason_len, struct rec_audit_event *out)
{
	memset(out, 0, sizeof(*out));
	out->type = REC_AUDIT_ALERT;
	if (ev != NULL) {
		out->engineer = ev->engineer;
		out->tenant = ev->tenant;
		out->target = ev->target;
		out->source = ev->source;
		out->session = ev->session;
	}
	out->result = gw_detect_action_name(hit_->action);
	out->rule = (unsigned)hit_->rule < GW_DETECT_NRULES ? gd_rules[hit_->rule].audit : "alerts";
	snprintf(reason_buf, reason_len, "%s: %s",
	    hit_->severity == LOG_ALERT ? "alert" : "warning", hit_->evidence);
	out->reason = reason_buf;
}

void
gw_detect_syslog_line(const struct gw_detect_event *ev, const struct gw_detect_hit *hit_,
    char *buf, size_t len)
{
	char f[5][140], evd[GW_DETECT_EVIDENCE_MAX * 4];
	const char *v[5] = { NULL, NULL, NULL, NULL, NULL };
	int i;

	if (ev != NULL) {
		v[0] = ev->engineer;
		v[1] = ev->tenant;
		v[2] = ev->target;
		v[3] = ev->source;
		v[4] = ev->session;
	}
	for (i = 0; i < 5; i++)
		mg_str_escape(v[i] ? v[i] : "-", 100, f[i], sizeof(f[i]));
	mg_str_escape(hit_->evidence, sizeof(hit_->evidence), evd, sizeof(evd));
	snprintf(buf, len, "alert: rule=%s action=%s severity=%s engineer=%s tenant=%s "
	    "target=%s source=%s session=%s evidence=\"%s\"", gw_detect_rule_name(hit_->rule),
	    gw_detect_action_name(hit_->action),
	    hit_->severity == LOG_ALERT ? "alert" : "warning", f[0], f[1], f[2], f[3], f[4], evd);
}

/* One ,"key":value pair; names and evidence are printable ASCII already. */
static void
json_str(FILE *f, const char *k, const char *v)
{
	const unsigned char *p;

	fprintf(f, ",\"%s\":", k);
	if (v == NULL) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

size_t
gw_detect_notify_json(const struct gw_detect_event *ev, const struct gw_detect_hit *hit_,
    time_t now, char *buf, size_t len)
{
	struct tm tm;
	char ts[32];
	FILE *f;
	long n;

	if (len < 2)
		return 0;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* One byte kept for the NUL: fmemopen's buffer is not terminated when full. */
	if ((f = fmemopen(buf, len - 1, "w")) == NULL)
		return 0;
	fprintf(f, "{\"time\":\"%s\"", ts);
	json_str(f, "rule", gw_detect_rule_name(hit_->rule));
	json_str(f, "action", gw_detect_action_name(hit_->action));
	json_str(f, "severity", hit_->severity == LOG_ALERT ? "alert" : "warning");
	json_str(f, "engineer", ev ? ev->engineer : NULL);
	json_str(f, "tenant", ev ? ev->tenant : NULL);
	json_str(f, "target", ev ? ev->target : NULL);
	json_str(f, "source", ev ? ev->source : NULL);
	json_str(f, "session", ev ? ev->session : NULL);
	json_str(f, "evidence", hit_->evidence);
	fputs("}\n", f);
	if (fflush(f) != 0 || ferror(f) || (n = ftell(f)) < 0 || (size_t)n >= len - 1) {
		fclose(f);
		buf[0] = '\0';
		return 0;
	}
	fclose(f);
	buf[n] = '\0';
	return (size_t)n;
}

