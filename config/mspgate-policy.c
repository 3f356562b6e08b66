/* SPDX-License-Identifier: BSD-2-Clause */
/* mspgate-policy: check a policy, explain a decision, report who can reach what. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mg_diag.h"
#include "mg_err.h"
#include "mg_time.h"
#include "mg_tz.h"
#include "pol.h"
#include "pol_accounts.h"
#include "pol_decide.h"
#include "pol_sshconfig.h"
#include "pol_target_setup.h"
#include "st_pg.h"
#include "st_ready.h"
#include "st_schema.h"

#define DEFAULT_POLICY	"/etc/mspgate/mspgate.conf"
#ifndef DEFAULT_SHELL
#define DEFAULT_SHELL	"/usr/sbin/mspgate-shell"
#endif

/* Exit codes scripts can rely on. */
#define EX_ALLOW	0
#define EX_ERROR	1
#define EX_DENY		3

int main(int argc, char **argv);

static void
usage(FILE *f)
{
	char sets[128];

	/* The MFA sets from the policy's one table of factor names. */
	pol_mfa_sets("|", "|", sets, sizeof(sets));
	fprintf(f,
	    "usage: mspgate-policy check [--offline] [-f FILE]\n"
	    "       mspgate-policy explain [-f FILE] ENGINEER TENANT/TARGET [--login L]\n"
	    "                      [--mfa %s|none] [--source ADDR]\n"
	    "                      [--at \"YYYY-MM-DD HH:MM[:SS] [ZONE]\"] [--login-age AGE]\n"
	    "       mspgate-policy report [-f FILE] [--tenant T] [--format text|csv|json]\n"
	    "       mspgate-policy accounts sync [-f FILE] [--dry-run] [--shell PATH]\n"
	    "                      [--home-base DIR] [--state FILE]\n"
	    "       mspgate-policy state init|migrate|status [-f FILE]\n"
	    "       mspgate-policy ssh-config [-f FILE] ENGINEER [--gateway HOST[:PORT]]\n"
	    "       mspgate-policy target-setup [-f FILE] [--dir DIR] TENANT/TARGET\n"
	    "FILE defaults to " DEFAULT_POLICY ".\n", sets);
}

static struct pol *
load(const char *file)
{
	struct mg_diag *d = mg_diag_new();
	struct pol *p = NULL;
	size_t i;

	if (d == NULL) {
		fprintf(stderr, "mspgate-policy: out of memory\n");
		return NULL;
	}
	if (pol_load(file, &p, d) != 0) {
		for (i = 0; i < mg_diag_count(d); i++)
			fprintf(stderr, "%s\n", mg_diag_get(d, i));
		if (mg_diag_count(d) == 0)
			fprintf(stderr, "%s: invalid policy\n", file);
		p = NULL;
	}
	mg_diag_free(d);
	return p;
}

/* "2026-12-01 18:00 GMT" in tz (with the zone's abbreviation). */
static void
fmt_tz(const struct mg_tz *tz, time_t t, char *buf, size_t len)
{
	struct mg_datetime dt;
	const char *abbr = NULL;
	int off = 0, dst = 0;

	if (t == 0) {
		snprintf(buf, len, "never");
		return;
	}
	if (tz == NULL || mg_tz_to_local(tz, t, &dt) != 0 ||
	    mg_tz_offset(tz, t, &off, &dst, &abbr) != 0) {
		mg_datetime_from_seconds((int64_t)t, &dt);
		abbr = "UTC";
	}
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d %s", dt.year, dt.mon, dt.day,
	    dt.hour, dt.min, abbr != NULL ? abbr : "");
}

static void
fmt_both(const struct mg_tz *tz, time_t t, char *buf, size_t len)
{
	char a[64], b[64];

	fmt_tz(tz, t, a, sizeof(a));
	fmt_tz(NULL, t, b, sizeof(b));
	if (t == 0 || strcmp(a, b) == 0)
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s (%s)", a, b);
}

/*
 * --at: "now", "@EPOCH", "YYYY-MM-DD HH:MM[:SS]" then optionally "Z",
 * "+HH:MM"/"-HH:MM" or " ZONE" (an IANA name); no zone means UTC.
 */
static int
parse_at(const char *s, time_t *out, char *err, size_t errlen)
{
	struct mg_datetime dt;
	struct mg_tz *tz = NULL;
	char *zone = NULL, *sp, buf[160];
	time_t cand[2];
	int n, sign, hh, mm;
	long long v;
	char *end;

	if (strcmp(s, "now") == 0) {
		*out = mg_clock_now();
		return 0;
	}
	if (s[0] == '@') {
		errno = 0;
		v = strtoll(s + 1, &end, 10);
		if (errno != 0 || *end != '\0' || end == s + 1 || v <= 0) {
			snprintf(err, errlen, "invalid time \"%s\"", s);
			return -1;
		}
		*out = (time_t)v;
		return 0;
	}
	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, errlen, "time too long");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	/* The zone, if any, follows the time after a space. */
	if ((sp = strchr(buf, ' ')) != NULL && (sp = strchr(sp + 1, ' ')) != NULL) {
		*sp = '\0';
		zone = sp + 1;
	} else if ((sp = strchr(buf, 'T')) != NULL && (sp = strchr(sp + 1, ' ')) != NULL) {
		*sp = '\0';
		zone = sp + 1;
	}
	n = (int)strlen(buf);
	sign = 0;
	if (zone == NULL && n > 0 && (buf[n - 1] == 'Z' || buf[n - 1] == 'z')) {
		buf[n - 1] = '\0';
		zone = "UTC";
	} else if (zone == NULL && n > 6 && (buf[n - 6] == '+' || buf[n - 6] == '-') &&
	    buf[n - 3] == ':') {
		sign = buf[n - 6] == '+' ? 1 : -1;
		if (sscanf(buf + n - 5, "%2d:%2d", &hh, &mm) != 2 || hh > 14 || mm > 59) {
			snprintf(err, errlen, "invalid UTC offset in \"%s\"", s);
			return -1;
		}
		buf[n - 6] = '\0';
	}
	if (mg_datetime_parse(buf, &dt, err, errlen) != 0)
		return -1;
	if (sign != 0) {
		*out = (time_t)(mg_datetime_to_seconds(&dt) - sign * (hh * 3600 + mm * 60));
		return 0;
	}
	if (zone == NULL || strcmp(zone, "UTC") == 0) {
		*out = (time_t)mg_datetime_to_seconds(&dt);
		return 0;
	}
	if (mg_tz_load(zone, &tz, err, errlen) != 0)
		return -1;
	if (mg_tz_from_local(tz, &dt, cand, &n) != 0 || n == 0) {
		snprintf(err, errlen, "%s does not exist in %s (the clocks skip it)",
		    buf, zone);
		mg_tz_free(tz);
		return -1;
	}
	/* In a repeated hour, the first occurrence. */
	*out = cand[0];
	mg_tz_free(tz);
	return 0;
}

static int state_ready(const char *file, const struct pol *p);
/*
 * Where the shared state lives, when the policy says. The loader refused
 * any conninfo with a password or a control character, so it is printed
 * as it is: it holds no secret.
 */
static void
state_line(const struct pol_state *st)
{
	char host[256], t[32];

	mg_duration_format(st->timeout, t, sizeof(t));
	if (st->name == NULL && gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "?");
	host[sizeof(host) - 1] = '\0';
	if (st->backend == POL_STATE_POSTGRESQL)
		printf("state: postgresql \"%s\", name %s%s, timeout %s\n", st->conninfo,
		    st->name != NULL ? st->name : host,
		    st->name != NULL ? "" : " (the host name)", t);
	else
		printf("state: files (this gateway's own)\n");
}

static int
cmd_check(const char *file, int offline)
{
	struct pol *p = load(file);
	size_t i, ntargets = 0;

	if (p == NULL)
		return EX_ERROR;
	for (i = 0; i < p->ntenants; i++)
		ntargets += p->tenants[i].ntargets;
	/* A state database it cannot use is an error now, not at a login. */
	if (!offline && state_ready(file, p) != 0) {
		pol_free(p);
		return EX_ERROR;
	}
	printf("%s: OK (%zu file%s, %zu engineers, %zu tenants, %zu targets, "
	    "%zu grants, %zu windows)\n", file, p->nfiles, p->nfiles == 1 ? "" : "s",
	    p->nengineers, p->ntenants, ntargets, p->ngrants, p->nwindows);
	if (p->state.loc.file != NULL)
		state_line(&p->state);
	pol_cert_warnings(p, stderr);
	pol_free(p);
	return EX_ALLOW;
}

/* target-setup [-f FILE] [--dir DIR] TENANT/TARGET: what the target's sshd needs. */
static int
cmd_target_setup(const char *file, int argc, char **argv)
{
	const char *dir = "/etc/ssh", *spec = NULL;
	struct pol *p;
	char err[600];
	int i, r;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0 && i + 1 < argc)
			file = argv[++i];
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc && argv[i + 1][0] == '/')
			dir = argv[++i];
		else if (argv[i][0] != '-' && spec == NULL)
			spec = argv[i];
		else {
			usage(stderr);
			return EX_ERROR;
		}
	}
	if (spec == NULL) {
		usage(stderr);
		return EX_ERROR;
	}
	if ((p = load(file)) == NULL)
		return EX_ERROR;
	if ((r = pol_target_setup(p, spec, dir, stdout, err, sizeof(err))) != 0)
		fprintf(stderr, "mspgate-policy: %s\n", err);
	pol_free(p);
	return r == 0 ? EX_ALLOW : EX_ERROR;
}

/* The state section's database, reachable and usable; says why not. */
static int
state_ready(const char *file, const struct pol *p)
{
	char err[512];
	int r;

	if ((r = st_ready(p, err, sizeof(err))) != 0)
		fprintf(stderr, "%s:%d: state: %s\n",
		    p->state.loc.file != NULL ? p->state.loc.file : file,
		    p->state.loc.line, err);
	return r;
}

/* state init|migrate|status: the state database's schema, on request only. */
static int
cmd_state(const char *file, int argc, char **argv)
{
	struct st_pg *pg = NULL;
	struct pol *p;
	char err[512];
	int r = 0, from = 0, v = 0;

	/* What to do first: a typo is named before any file is read. */
	if (argc < 2 || (strcmp(argv[1], "init") != 0 && strcmp(argv[1], "migrate") != 0 &&
	    strcmp(argv[1], "status") != 0)) {
		fprintf(stderr, "mspgate-policy: state %s: say init, migrate or status\n",
		    argc < 2 ? "needs what to do" : argv[1]);
		return EX_ERROR;
	}
	if (argc == 4 && strcmp(argv[2], "-f") == 0)
		file = argv[3];
	else if (argc != 2) {
		usage(stderr);
		return EX_ERROR;
	}
	if ((p = load(file)) == NULL)
		return EX_ERROR;
	if (p->state.backend != POL_STATE_POSTGRESQL) {
		fprintf(stderr, "mspgate-policy: %s keeps its state in files "
		    "(state.backend): there is no database to %s\n", file, argv[1]);
		pol_free(p);
		return EX_ERROR;
	}
	if (strcmp(argv[1], "status") == 0) {
		r = state_ready(file, p);
		if (r == 0)
			printf("state database: schema version %d, usable by this "
			    "gateway\n", ST_SCHEMA_VERSION);
		pol_free(p);
		return r == 0 ? EX_ALLOW : EX_ERROR;
	}
	if ((r = st_pg_open(&p->state, &pg, err, sizeof(err))) == 0) {
		if (strcmp(argv[1], "init") == 0)
			r = st_schema_init(pg, err, sizeof(err));
		else if ((r = st_schema_migrate(pg, &from, err, sizeof(err))) == 0)
			v = from;
	}
	st_pg_close(pg);
	if (r != 0)
		fprintf(stderr, "mspgate-policy: state %s: %s\n", argv[1], err);
	else if (strcmp(argv[1], "init") == 0)
		printf("state database: schema version %d created\n", ST_SCHEMA_VERSION);
	else if (v == ST_SCHEMA_VERSION)
		printf("state database: schema version %d, up to date\n", v);
	else
		printf("state database: schema migrated from version %d to %d\n", v,
		    ST_SCHEMA_VERSION);
	pol_free(p);
	return r == 0 ? EX_ALLOW : EX_ERROR;
}

/* The grant's login age: how long one login serves new sessions. */
static void
login_age_line(const struct pol_grant *g, int64_t age)
{
	char max[32], have[32];

	if (g == NULL)
		return;
	if (g->max_login_age <= 0) {
		printf("login:    no age limit (max_login_age)\n");
		return;
	}
	mg_duration_format(g->max_login_age, max, sizeof(max));
	if (age < 0)
		printf("login:    at most %s old for a new session (max_login_age; "
		    "give --login-age to check one)\n", max);
	else {
		mg_duration_format(age, have, sizeof(have));
		printf("login:    %s old, at most %s (max_login_age)\n", have, max);
	}
}

/* Four eyes: who must approve a session under the grant, and how long it waits. */
static void
approval_line(const struct pol_decision *d)
{
	char to[32], who[600];

	if (!d->approval_required || d->target == NULL) {
		printf("approval: not required\n");
		return;
	}
	mg_duration_format(d->approval_timeout, to, sizeof(to));
	printf("approval: required: the session waits up to %s for one of %s's "
	    "approvers: %s\n", to, d->target->tenant->name,
	    pol_approvers_text(d->target->tenant, ", ", who, sizeof(who)));
}

static int
cmd_explain(const char *file, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "login", required_argument, NULL, 'l' },
		{ "mfa", required_argument, NULL, 'm' },
		{ "at", required_argument, NULL, 'a' },
		{ "source", required_argument, NULL, 's' },
		{ "login-age", required_argument, NULL, 'g' },
		{ "file", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	struct pol_request req;
	int64_t login_age = -1;
	struct pol_decision d;
	struct pol *p = NULL;
	char target[256], *slash, err[256], b[1200];
	const char *at_s = NULL, *mfa_s = NULL;
	const struct mg_tz *tz = NULL;
	int c, rc = EX_ERROR;
	size_t i;

	memset(&req, 0, sizeof(req));
	req.mfa_unknown = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':	file = optarg; break;
		case 'l':	req.login = optarg; break;
		case 'm':	mfa_s = optarg; break;
		case 'a':	at_s = optarg; break;
		case 's':	req.source = optarg; break;
		case 'g':
			if (mg_duration_parse(optarg, &login_age, err, sizeof(err)) != 0) {
				fprintf(stderr, "mspgate-policy: --login-age: %s\n", err);
				return EX_ERROR;
			}
			break;
		default:	usage(stderr); return EX_ERROR;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return EX_ERROR;
	}
	req.engineer = argv[optind];
	if (strlen(argv[optind + 1]) >= sizeof(target) ||
	    (slash = strchr(strcpy(target, argv[optind + 1]), '/')) == NULL) {
		fprintf(stderr, "mspgate-policy: target must be TENANT/TARGET\n");
		return EX_ERROR;
	}
	*slash = '\0';
	req.tenant = target;
	req.target = slash + 1;
	if (mfa_s != NULL) {
		req.mfa_unknown = 0;
		if (strcmp(mfa_s, "none") == 0)
			req.mfa_used = 0;
		else if (pol_mfa_parse(mfa_s, &req.mfa_used) != 0) {
			char sets[128];

			fprintf(stderr, "mspgate-policy: --mfa must be %s or none\n",
			    pol_mfa_sets(", ", ", ", sets, sizeof(sets)));
			return EX_ERROR;
		}
	}
	req.at = mg_clock_now();
	if (at_s != NULL && parse_at(at_s, &req.at, err, sizeof(err)) != 0) {
		fprintf(stderr, "mspgate-policy: --at: %s\n", err);
		return EX_ERROR;
	}
	/* A session on a connection that logged in this long ago. */
	if (login_age >= 0)
		req.login_time = req.at - (time_t)login_age;
	if ((p = load(file)) == NULL)
		return EX_ERROR;
	if (pol_decide(p, &req, &d) != 0) {
		fprintf(stderr, "mspgate-policy: cannot decide\n");
		goto out;
	}
	if (d.target != NULL)
		tz = d.target->tenant->tz;
	printf("%s\n", d.allow ? "allow" : "deny");
	printf("reason:   %s\n", d.reason);
	if (d.rule.file != NULL)
		printf("rule:     %s:%d\n", d.rule.file, d.rule.line);
	else
		printf("rule:     default deny (nothing in the policy allows it)\n");
	fmt_both(tz, req.at, b, sizeof(b));
	printf("at:       %s\n", b);
	if (d.engineer != NULL) {
		printf("engineer: %s", d.engineer->name);
		for (i = 0; i < d.engineer->ngroups; i++)
			printf("%s%s", i ? ", " : " (groups: ", d.engineer->groups[i]);
		printf("%s\n", d.engineer->ngroups ? ")" : "");
	}
	if (d.target != NULL)
		printf("target:   %s/%s (%s port %d)%s%s\n", d.target->tenant->name,
		    d.target->name, d.target->host, d.target->port,
		    d.login ? " as " : "", d.login ? d.login : "");
	if (d.grant != NULL || d.mfa_required != 0) {
		printf("mfa:      %s required%s\n", pol_mfa_name(d.mfa_required),
		    req.mfa_unknown ? " (not checked: give --mfa)" : "");
		printf("ticket:   %s\n", d.ticket_required ? "required" : "not required");
		approval_line(&d);
	}
	if (d.allow) {
		pol_grant_when(d.grant, d.target, b, sizeof(b));
		printf("window:   %s\n", b);
		fmt_both(tz, d.window_close, b, sizeof(b));
		printf("closes:   %s\n", b);
		fmt_both(tz, d.end_by, b, sizeof(b));
		printf("until:    %s (a session started now must end by then)\n", b);
		if (d.valid_until) {
			fmt_both(tz, d.valid_until, b, sizeof(b));
			printf("expires:  %s (account or grant)\n", b);
		}
		login_age_line(d.grant, login_age);
		rc = EX_ALLOW;
	} else {
		if (d.next_open) {
			fmt_both(tz, d.next_open, b, sizeof(b));
			printf("opens:    %s\n", b);
		}
		if (d.login_too_old)
			printf("login:    too old: log in again (or a fresh TOTP code, where "
			    "the gateway asks for one)\n");
		rc = EX_DENY;
	}
 out:
	pol_free(p);
	return rc;
}

/* One row of the access review. */
struct row {
	const struct pol_engineer *e;
	const struct pol_target *t;
	const struct pol_grant *g;
	const char *login;
};

static int
row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int r;

	if ((r = strcmp(x->t->tenant->name, y->t->tenant->name)) != 0)
		return r;
	if ((r = strcmp(x->t->name, y->t->name)) != 0)
		return r;
	if ((r = strcmp(x->e->name, y->e->name)) != 0)
		return r;
	if ((r = strcmp(x->login, y->login)) != 0)
		return r;
	return x->g->loc.line - y->g->loc.line;
}

static void
csv_field(const char *s, int last)
{
	const char *p;

	/* Quote every field; a leading = + - @ could be a spreadsheet formula. */
	putchar('"');
	if (*s == '=' || *s == '+' || *s == '-' || *s == '@')
		putchar('\'');
	for (p = s; *p; p++) {
		if (*p == '"')
			putchar('"');
		putchar(*p);
	}
	putchar('"');
	putchar(last ? '\n' : ',');
}

static void
json_str(const char *s)
{
	const unsigned char *p;

	putchar('"');
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void
expiry_text(const struct row *r, char *buf, size_t len)
{
	time_t v = r->e->valid_until;

	if (r->g->valid_until && (v == 0 || r->g->valid_until < v))
		v = r->g->valid_until;
	if (v == 0) {
		snprintf(buf, len, "-");
		return;
	}
	/* valid_until is exclusive: show the last day of access. */
	fmt_tz(NULL, v - 1, buf, len);
	buf[10] = '\0';
}

static void
sources_text(const struct row *r, char *buf, size_t len)
{
	size_t i, off = 0;
	char c[64];

	buf[0] = '\0';
	for (i = 0; i < r->e->nsources && off < len; i++) {
		mg_cidr_format(&r->e->sources[i], c, sizeof(c));
		off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? " " : "", c);
	}
	for (i = 0; i < r->g->nsources && off < len; i++) {
		mg_cidr_format(&r->g->sources[i], c, sizeof(c));
		off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? " " : "", c);
	}
	if (off == 0)
		snprintf(buf, len, "any");
}

static int
cmd_report(const char *file, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tenant", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'F' },
		{ "file", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	const char *tenant = NULL, *format = "text";
	struct row *rows = NULL;
	size_t nrows = 0, cap = 0, gi, ei, ti, xi, li, i, k;
	struct pol *p;
	int c, rc = EX_ERROR;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':	file = optarg; break;
		case 't':	tenant = optarg; break;
		case 'F':	format = optarg; break;
		default:	usage(stderr); return EX_ERROR;
		}
	}
	if (optind != argc || (strcmp(format, "text") != 0 &&
	    strcmp(format, "csv") != 0 && strcmp(format, "json") != 0)) {
		usage(stderr);
		return EX_ERROR;
	}
	if ((p = load(file)) == NULL)
		return EX_ERROR;
	if (tenant != NULL && pol_tenant_find(p, tenant) == NULL) {
		fprintf(stderr, "mspgate-policy: unknown tenant '%s'\n", tenant);
		goto out;
	}
	for (gi = 0; gi < p->ngrants; gi++) {
		const struct pol_grant *g = &p->grants[gi];

		for (ei = 0; ei < p->nengineers; ei++) {
			const struct pol_engineer *e = &p->engineers[ei];

			if (!pol_grant_applies(g, e))
				continue;
			for (ti = 0; ti < g->ntenants; ti++) {
				const struct pol_tenant *tn = g->tenants[ti];

				if (tenant != NULL && strcmp(tn->name, tenant) != 0)
					continue;
				for (xi = 0; xi < tn->ntargets; xi++) {
					const struct pol_target *t = &tn->targets[xi];

					if (!pol_grant_covers(g, t))
						continue;
					for (li = 0; li < g->nlogins; li++) {
						if (!pol_grant_login_ok(g, t, g->logins[li]))
							continue;
						if (nrows == cap) {
							struct row *nr;

							cap = cap ? cap * 2 : 64;
							nr = reallocarray(rows, cap, sizeof(*nr));
							if (nr == NULL) {
								fprintf(stderr, "mspgate-policy: out of memory\n");
								goto out;
							}
							rows = nr;
						}
						rows[nrows++] = (struct row){ e, t, g, g->logins[li] };
					}
				}
			}
		}
	}
	if (nrows > 0)
		qsort(rows, nrows, sizeof(*rows), row_cmp);

	if (strcmp(format, "csv") == 0)
		printf("engineer,tenant,target,host,port,login,mfa,when,max_session,"
		    "max_login_age,ticket,expires,sources,rule,approval,approval_timeout,"
		    "approvers\n");
	else if (strcmp(format, "json") == 0)
		printf("[");
	else
		printf("Access review%s%s: %zu entr%s from %s\n\n",
		    tenant ? " for tenant " : "", tenant ? tenant : "", nrows,
		    nrows == 1 ? "y" : "ies", p->files[0]);
	for (i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];
		char when[2048], ms[32], la[32], exp[64], src[512], rule[600], port[16];
		char ato[32] = "", who[600] = "";
		int appr = r->g->approval;

		pol_grant_when(r->g, r->t, when, sizeof(when));
		mg_duration_format(r->g->max_session, ms, sizeof(ms));
		mg_duration_format(r->g->max_login_age, la, sizeof(la));
		expiry_text(r, exp, sizeof(exp));
		sources_text(r, src, sizeof(src));
		snprintf(rule, sizeof(rule), "%s:%d", r->g->loc.file, r->g->loc.line);
		snprintf(port, sizeof(port), "%d", r->t->port);
		if (appr) {
			mg_duration_format(r->g->approval_timeout, ato, sizeof(ato));
			pol_approvers_text(r->t->tenant, " ", who, sizeof(who));
		}
		if (strcmp(format, "csv") == 0) {
			csv_field(r->e->name, 0);
			csv_field(r->t->tenant->name, 0);
			csv_field(r->t->name, 0);
			csv_field(r->t->host, 0);
			csv_field(port, 0);
			csv_field(r->login, 0);
			csv_field(pol_mfa_name(r->g->mfa), 0);
			csv_field(when, 0);
			csv_field(ms, 0);
			csv_field(la, 0);
			csv_field(r->g->ticket ? "yes" : "no", 0);
			csv_field(exp, 0);
			csv_field(src, 0);
			csv_field(rule, 0);
			csv_field(appr ? "required" : "none", 0);
			csv_field(ato, 0);
			csv_field(who, 1);
		} else if (strcmp(format, "json") == 0) {
			printf("%s\n  {\"engineer\": ", i ? "," : "");
			json_str(r->e->name);
			printf(", \"tenant\": ");
			json_str(r->t->tenant->name);
			printf(", \"target\": ");
			json_str(r->t->name);
			printf(", \"host\": ");
			json_str(r->t->host);
			printf(", \"port\": %d, \"login\": ", r->t->port);
			json_str(r->login);
			printf(", \"mfa\": ");
			json_str(pol_mfa_name(r->g->mfa));
			printf(", \"when\": ");
			json_str(when);
			printf(", \"max_session\": %lld, \"max_login_age\": %lld, \"ticket\": %s, "
			    "\"expires\": ", (long long)r->g->max_session,
			    (long long)r->g->max_login_age, r->g->ticket ? "true" : "false");
			if (strcmp(exp, "-") == 0)
				printf("null");
			else
				json_str(exp);
			printf(", \"sources\": ");
			json_str(src);
			printf(", \"rule\": ");
			json_str(rule);
			printf(", \"approval\": \"%s\", \"approval_timeout\": ",
			    appr ? "required" : "none");
			if (appr)
				printf("%lld", (long long)r->g->approval_timeout);
			else
				printf("null");
			printf(", \"approvers\": [");
			for (k = 0; appr && k < r->t->tenant->napprovers; k++) {
				printf("%s", k ? ", " : "");
				json_str(r->t->tenant->approvers[k]);
			}
			printf("]}");
		} else {
			printf("%s -> %s/%s (%s:%d) as %s\n", r->e->name, r->t->tenant->name,
			    r->t->name, r->t->host, r->t->port, r->login);
			printf("    mfa %s, max session %s, max login age %s, ticket %s, "
			    "expires %s, from %s\n", pol_mfa_name(r->g->mfa), ms, la,
			    r->g->ticket ? "required" : "no", exp, src);
			printf("    when: %s\n", when);
			printf("    rule: %s\n", rule);
			if (appr)
				printf("    approval: required, by one of %s, waiting up to "
				    "%s\n", pol_approvers_text(r->t->tenant, ", ", who,
				    sizeof(who)), ato);
		}
	}
	if (strcmp(format, "json") == 0)
		printf("%s]\n", nrows ? "\n" : "");
	rc = fflush(stdout) == 0 && !ferror(stdout) ? EX_ALLOW : EX_ERROR;
 out:
	free(rows);
	pol_free(p);
	return rc;
}

static int
cmd_accounts(const char *file, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "shell", required_argument, NULL, 's' },
		{ "home-base", required_argument, NULL, 'H' },
		{ "state", required_argument, NULL, 'S' },
		{ "file", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	struct pol_accounts_opts o = { DEFAULT_SHELL, NULL, NULL, 0 };
	struct pol_accounts_result res;
	struct pol *p;
	int c, r;

	if (argc < 2 || strcmp(argv[1], "sync") != 0) {
		usage(stderr);
		return EX_ERROR;
	}
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':	file = optarg; break;
		case 'n':	o.dry_run = 1; break;
		case 's':	o.shell = optarg; break;
		case 'H':	o.home_base = optarg; break;
		case 'S':	o.state_file = optarg; break;
		default:	usage(stderr); return EX_ERROR;
		}
	}
	if (optind != argc || o.shell[0] != '/') {
		usage(stderr);
		return EX_ERROR;
	}
	if (!o.dry_run && geteuid() != 0) {
		fprintf(stderr, "mspgate-policy: accounts sync changes accounts: run it "
		    "as root (or use --dry-run)\n");
		return EX_ERROR;
	}
	if ((p = load(file)) == NULL)
		return EX_ERROR;
	r = pol_accounts_sync(p, &o, &res);
	printf("accounts: %d created, %d unlocked, %d locked, %d removed, "
	    "%d unchanged, %d left alone, %d failed%s\n", res.created, res.unlocked,
	    res.locked, res.removed, res.unchanged, res.conflicts, res.failed,
	    o.dry_run ? " (dry run: nothing changed)" : "");
	pol_free(p);
	return r == 0 ? EX_ALLOW : EX_ERROR;
}

/* ssh-config: the engineer's Host blocks (pol_sshconfig.c), whole or nothing. */
static int
cmd_ssh_config(const char *file, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "gateway", required_argument, NULL, 'g' },
		{ "file", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	struct pol_sshconfig_gw gw;
	const char *gws = NULL;
	char host[256], err[600], *text = NULL;
	size_t len = 0;
	struct pol *p;
	FILE *mem;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':	file = optarg; break;
		case 'g':	gws = optarg; break;
		default:	usage(stderr); return EX_ERROR;
		}
	}
	if (argc - optind != 1) {
		usage(stderr);
		return EX_ERROR;
	}
	/* Run on the gateway, its own name is the likeliest one engineers use. */
	if (gws == NULL) {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		gws = host;
	}
	if (pol_sshconfig_gw_parse(gws, &gw, err, sizeof(err)) != 0) {
		fprintf(stderr, "mspgate-policy: --gateway: %s\n", err);
		return EX_ERROR;
	}
	if ((p = load(file)) == NULL)
		return EX_ERROR;
	if ((mem = open_memstream(&text, &len)) == NULL) {
		pol_free(p);
		fprintf(stderr, "mspgate-policy: out of memory\n");
		return EX_ERROR;
	}
	r = pol_sshconfig_write(p, argv[optind], &gw, mem, err, sizeof(err));
	if (fclose(mem) != 0 && r == 0) {
		r = MG_ERR_NOMEM;
		snprintf(err, sizeof(err), "out of memory");
	}
	pol_free(p);
	if (r == 0)
		fwrite(text, 1, len, stdout);
	else
		fprintf(stderr, "mspgate-policy: ssh-config: %s\n", err);
	free(text);
	if (r != 0)
		return EX_ERROR;
	return fflush(stdout) == 0 && !ferror(stdout) ? EX_ALLOW : EX_ERROR;
}

/* -f FILE may come before the command too. */
int
main(int argc, char **argv)
{
	const char *file = DEFAULT_POLICY, *cmd;
	int i = 1, offline = 0;

	if (getenv("MSPGATE_CONF") != NULL && *getenv("MSPGATE_CONF") != '\0')
		file = getenv("MSPGATE_CONF");
	while (i < argc && strcmp(argv[i], "-f") == 0 && i + 1 < argc) {
		file = argv[i + 1];
		i += 2;
	}
	if (i >= argc) {
		usage(stderr);
		return EX_ERROR;
	}
	cmd = argv[i];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		usage(stdout);
		return 0;
	}
	argc -= i;
	argv += i;
	if (strcmp(cmd, "check") == 0) {
		/* check [--offline] [-f FILE] or check [--offline] FILE */
		if (argc >= 2 && strcmp(argv[1], "--offline") == 0) {
			offline = 1;
			argc--;
			argv++;
		}
		if (argc == 3 && strcmp(argv[1], "-f") == 0)
			file = argv[2];
		else if (argc == 2 && argv[1][0] != '-')
			file = argv[1];
		else if (argc != 1) {
			usage(stderr);
			return EX_ERROR;
		}
		return cmd_check(file, offline);
	}
	if (strcmp(cmd, "explain") == 0)
		return cmd_explain(file, argc, argv);
	if (strcmp(cmd, "report") == 0)
		return cmd_report(file, argc, argv);
	if (strcmp(cmd, "accounts") == 0)
		return cmd_accounts(file, argc, argv);
	if (strcmp(cmd, "state") == 0)
		return cmd_state(file, argc, argv);
	if (strcmp(cmd, "ssh-config") == 0)
		return cmd_ssh_config(file, argc, argv);
	if (strcmp(cmd, "target-setup") == 0)
		return cmd_target_setup(file, argc, argv);
	fprintf(stderr, "mspgate-policy: unknown command '%s'\n", cmd);
	usage(stderr);
	return EX_ERROR;
}
