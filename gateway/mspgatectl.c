/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mspgatectl: list, end, watch and approve live gateway sessions over
 * mspgated's control socket; with a policy whose state is in PostgreSQL,
 * list and end every gateway's.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mg_diag.h"
#include "mspgatectl-watch.h"
#include "pol.h"
#include "st_pg.h"

/* Exit codes, as mspgatectl(8) documents them. */
#define EX_OK		0
#define EX_NOMATCH	1	/* kill: no such session */
#define EX_USAGE	2
#define EX_NOCONN	3	/* mspgated not running, or not allowed to ask it */
#define EX_REFUSED	4	/* mspgated answered with an error */

#define DEFAULT_SOCKET "/run/mspgate/control.sock"
/* kill across: how long the other gateway has to end the session, and how often we look. */
#define KILL_WAIT_MS	5000
#define KILL_LOOK_MS	100
#define MAX_ANSWER (4 * 1024 * 1024)

static void
usage(FILE *f)
{
	fprintf(f, "usage: mspgatectl [-s SOCKET] [-f POLICY] list\n"
	    "       mspgatectl [-s SOCKET] [-f POLICY] kill ID\n"
	    "       mspgatectl [-s SOCKET] [-f POLICY] kill --engineer NAME\n"
	    "       mspgatectl [-s SOCKET] [-f POLICY] kill --tenant NAME\n"
	    "       mspgatectl [-s SOCKET] [-f POLICY] watch ID\n"
	    "       mspgatectl [-s SOCKET] [-f POLICY] approve ID [--comment TEXT]\n"
	    "       mspgatectl [-s SOCKET] [-f POLICY] deny ID [--comment TEXT]\n"
	    "       mspgatectl [-s SOCKET] [-f POLICY] alerts [--since DATE]\n"
	    "       mspgatectl [-s SOCKET] [-f POLICY] audit [--since DATE]\n"
	    "POLICY defaults to $MSPGATE_CONF; with state.backend = \"postgresql\" there,\n"
	    "list and alerts show every gateway's, kill ID reaches them, and audit shows\n"
	    "every gateway's audit events.\n");
}

/*
 * Set when the control socket refused us: who may not ask this gateway's
 * mspgated is not shown or given the other gateways' sessions either.
 */
static int ctl_denied;

/* Sends req, reads the whole answer (the daemon closes after it). */
static int
ask(const char *path, const char *req, char **answer)
{
	size_t len = 0, cap = 8192;
	char *buf;
	int fd, rc;

	*answer = NULL;
	if ((rc = ctl_connect(path, &fd, &ctl_denied)) != EX_OK)
		return rc;
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req) ||
	    (buf = malloc(cap)) == NULL) {
		fprintf(stderr, "mspgatectl: %s: %s\n", path, strerror(errno));
		close(fd);
		return EX_NOCONN;
	}
	for (;;) {
		ssize_t r;

		if (len + 1 >= cap) {
			char *nb;

			if (cap >= MAX_ANSWER || (nb = realloc(buf, cap * 2)) == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
		r = recv(fd, buf + len, cap - 1 - len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	close(fd);
	*answer = buf;
	return EX_OK;
}

static void
fmt_time(const char *epoch, char *buf, size_t len)
{
	long long v = strtoll(epoch, NULL, 10);
	time_t t = (time_t)v;
	struct tm tm;

	if (v <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%MZ", &tm);
}

static void
fmt_dur(const char *secs, char *buf, size_t len)
{
	long long v = strtoll(secs, NULL, 10);

	if (v < 0)
		v = 0;
	if (v < 60)
		snprintf(buf, len, "%llds", v);
	else if (v < 3600)
		snprintf(buf, len, "%lldm%02llds", v / 60, v % 60);
	else
		snprintf(buf, len, "%lldh%02lldm", v / 3600, (v % 3600) / 60);
}

/* The table's header; gw: with a GATEWAY column (every gateway's sessions). */
static void
print_header(int gw)
{
	if (gw)
		printf("%-12s ", "GATEWAY");
	printf("%-26s %-12s %-20s %-10s %-17s %-7s %-21s %-17s %s\n", "ID", "ENGINEER",
	    "TENANT/TARGET", "LOGIN", "STARTED", "IDLE", "BYTES IN/OUT", "WINDOW CLOSE",
	    "ENDS BY");
}

/* The table: one session a line, fields as mspgated sends them; gw: its name first. */
static int
print_list(char *ans, const char *gw)
{
	char *line, *save = NULL;
	int first = 1;

	for (line = strtok_r(ans, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *f[14], *p = line, started[32], idle[64], wclose[32], endby[32], bytes[48];
		size_t n = 0;

		if (first) {
			first = 0;	/* "ok" */
			continue;
		}
		while (n < 14 && p != NULL) {
			f[n++] = p;
			if ((p = strchr(p, '\t')) != NULL)
				*p++ = '\0';
		}
		if (n < 10)
			continue;
		fmt_time(f[4], started, sizeof(started));
		fmt_dur(f[5], idle, sizeof(idle));
		fmt_time(f[8], wclose, sizeof(wclose));
		fmt_time(f[9], endby, sizeof(endby));
		/* Not started yet: it waits for an approver (mspgatectl approve). */
		if (n == 14 && strcmp(f[13], "waiting") == 0) {
			if (gw != NULL)
				printf("%-12s ", gw);
			printf("%-26s %-12s %-20s %-10s waiting for approval until %s\n", f[0],
			    f[1], f[2], f[3], endby);
			continue;
		}
		snprintf(bytes, sizeof(bytes), "%s/%s", f[6], f[7]);
		if (gw != NULL)
			printf("%-12s ", gw);
		printf("%-26s %-12s %-20s %-10s %-17s %-7s %-21s %-17s %s\n", f[0], f[1], f[2],
		    f[3], started, idle, bytes, wclose, endby);
	}
	return EX_OK;
}

/*
 * --since: "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]" or "...THH:MM[:SS]" (UTC),
 * "@EPOCH", or a span back from now ("90m", "12h", "7d"). -1: malformed.
 */
static long long
parse_since(const char *s, time_t now)
{
	struct tm tm;
	const char *e;
	char *end;
	long long v;

	if (s[0] == '@') {
		v = strtoll(s + 1, &end, 10);
		return end != s + 1 && *end == '\0' && v >= 0 ? v : -1;
	}
	if (s[0] >= '0' && s[0] <= '9' && strchr(s, '-') == NULL) {
		v = strtoll(s, &end, 10);
		if (end == s || v < 0 || v > 36500LL * 86400 || end[0] == '\0' || end[1] != '\0')
			return -1;
		switch (*end) {
		case 's': break;
		case 'm': v *= 60; break;
		case 'h': v *= 3600; break;
		case 'd': v *= 86400; break;
		default: return -1;
		}
		return (long long)now - v;
	}
	memset(&tm, 0, sizeof(tm));
	if ((e = strptime(s, "%Y-%m-%d", &tm)) == NULL)
		return -1;
	if (*e == ' ' || *e == 'T') {
		const char *e2 = strptime(e + 1, "%H:%M:%S", &tm);

		if (e2 == NULL)
			e2 = strptime(e + 1, "%H:%M", &tm);
		if ((e = e2) == NULL)
			return -1;
	}
	if (*e == 'Z')
		e++;
	if (*e != '\0')
		return -1;
	return (long long)timegm(&tm);
}

/* The alerts: "ok" then TIME RULE ACTION ENGINEER TENANT/TARGET REASON, tab-separated. */
static int
print_alerts(char *ans)
{
	char *line, *save = NULL;
	int first = 1;

	printf("%-20s %-18s %-7s %-12s %-20s %s\n", "TIME", "RULE", "ACTION", "ENGINEER",
	    "TENANT/TARGET", "EVIDENCE");
	for (line = strtok_r(ans, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *f[6], *p = line;
		size_t n = 0;

		if (first) {
			first = 0;	/* "ok" */
			continue;
		}
		while (n < 6 && p != NULL) {
			f[n++] = p;
			if (n < 6 && (p = strchr(p, '\t')) != NULL)
				*p++ = '\0';
		}
		if (n < 6)
			continue;
		printf("%-20s %-18s %-7s %-12s %-20s %s\n", f[0], f[1], f[2], f[3], f[4], f[5]);
	}
	return EX_OK;
}

/* A value another gateway wrote, safe to print: control bytes shown as '?'. */
static const char *
shown(const char *v, char *buf, size_t len)
{
	size_t i;

	snprintf(buf, len, "%s", v != NULL && v[0] != '\0' ? v : "-");
	for (i = 0; buf[i] != '\0'; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	return buf;
}

/* The rows of the state database's mspgate_sessions, but those of gateway skip. */
static void
print_db_rows(const PGresult *res, const char *skip)
{
	char c[6][80], started[32], tt[170];
	int i;

	for (i = 0; i < PQntuples(res); i++) {
		if (skip != NULL && strcmp(PQgetvalue(res, i, 0), skip) == 0)
			continue;
		fmt_time(PQgetvalue(res, i, 6), started, sizeof(started));
		snprintf(tt, sizeof(tt), "%s/%s", shown(PQgetvalue(res, i, 3), c[3], sizeof(c[3])),
		    shown(PQgetvalue(res, i, 4), c[4], sizeof(c[4])));
		printf("%-12s %-26s %-12s %-20s %-10s %-17s %-7s %-21s %-17s %s\n",
		    shown(PQgetvalue(res, i, 0), c[0], sizeof(c[0])),
		    shown(PQgetvalue(res, i, 1), c[1], sizeof(c[1])),
		    shown(PQgetvalue(res, i, 2), c[2], sizeof(c[2])), tt,
		    shown(PQgetvalue(res, i, 5), c[5], sizeof(c[5])), started, "-", "-", "-", "-");
	}
}

/*
 * list with the state in PostgreSQL: this gateway's sessions from mspgated
 * (with their counters), the others' from the database. When the database
 * cannot be reached, this gateway's alone, and stderr says so.
 */
static int
list_all(const struct pol *p, const char *sock)
{
	char name[POL_STATE_NAME_MAX + 1], err[400], *ans = NULL;
	struct st_pg *pg = NULL;
	PGresult *res = NULL;
	int lrc, local, r;

	st_pg_gateway_name(&p->state, name, sizeof(name));
	lrc = ask(sock, "list\n", &ans);
	local = lrc == EX_OK && strncmp(ans, "ok", 2) == 0;
	if (lrc == EX_OK && !local) {
		fprintf(stderr, "mspgatectl: %.*s\n", (int)strcspn(ans, "\n"), ans);
		if (strncmp(ans, "error: permission denied", 24) == 0)
			ctl_denied = 1;
		lrc = EX_REFUSED;
	}
	if (ctl_denied) {
		free(ans);
		return EX_NOCONN;
	}
	if ((r = st_pg_open(&p->state, &pg, err, sizeof(err))) == 0)
		r = st_pg_exec(pg, "SELECT gateway, id, engineer, tenant, target, login, "
		    "started FROM mspgate_sessions ORDER BY gateway COLLATE \"C\", started, id",
		    0, NULL, &res, err, sizeof(err));
	st_pg_close(pg);
	if (r != 0) {
		fprintf(stderr, "mspgatectl: the state database cannot be reached: %s\n", err);
		if (!local) {
			free(ans);
			return lrc;
		}
		fprintf(stderr, "mspgatectl: only this gateway's (%s) sessions are listed\n",
		    name);
		print_header(1);
		print_list(ans, name);
		free(ans);
		return EX_OK;
	}
	print_header(1);
	if (local)
		print_list(ans, name);
	else
		fprintf(stderr, "mspgatectl: this gateway's (%s) sessions are as the state "
		    "database last had them\n", name);
	print_db_rows(res, local ? name : NULL);
	PQclear(res);
	free(ans);
	return local ? EX_OK : lrc;
}

/*
 * audit across gateways (the state database's copy of every gateway's audit
 * log, gw_ship.c): who may not ask this gateway's mspgated gets nothing.
 * One line an event: TIME GATEWAY EVENT ENGINEER RESULT REASON, every value
 * another gateway wrote shown without its control bytes.
 */
static int
audit_all(const struct pol *p, const char *sock, long long since)
{
	char err[400], when[32], c[5][80], reason[600], v[24], *ans = NULL;
	const char *pv[1] = { v };
	struct st_pg *pg = NULL;
	PGresult *res = NULL;
	int lrc, r, i;

	lrc = ask(sock, "list\n", &ans);
	if (lrc != EX_OK || strncmp(ans, "ok", 2) != 0) {
		if (lrc == EX_OK)
			fprintf(stderr, "mspgatectl: %.*s\n", (int)strcspn(ans, "\n"), ans);
		free(ans);
		return lrc == EX_OK ? EX_NOCONN : lrc;
	}
	free(ans);
	snprintf(v, sizeof(v), "%lld", since);
	if ((r = st_pg_open(&p->state, &pg, err, sizeof(err))) == 0)
		r = st_pg_exec(pg, "SELECT extract(epoch FROM time)::bigint, gateway, event, "
		    "engineer, line->>'result', line->>'reason' FROM mspgate_audit "
		    "WHERE time >= to_timestamp($1::bigint) ORDER BY time, gateway COLLATE \"C\", "
		    "seq", 1, pv, &res, err, sizeof(err));
	st_pg_close(pg);
	if (r != 0) {
		fprintf(stderr, "mspgatectl: the state database cannot be reached: %s "
		    "(this gateway's own log is %s)\n", err, p->gateway.audit);
		return EX_NOCONN;
	}
	printf("%-17s %-12s %-18s %-16s %-8s %s\n", "TIME", "GATEWAY", "EVENT", "ENGINEER",
	    "RESULT", "REASON");
	for (i = 0; i < PQntuples(res); i++) {
		fmt_time(PQgetvalue(res, i, 0), when, sizeof(when));
		printf("%-17s %-12s %-18s %-16s %-8s %s\n", when,
		    shown(PQgetvalue(res, i, 1), c[0], sizeof(c[0])),
		    shown(PQgetvalue(res, i, 2), c[1], sizeof(c[1])),
		    shown(PQgetvalue(res, i, 3), c[2], sizeof(c[2])),
		    shown(PQgetvalue(res, i, 4), c[3], sizeof(c[3])),
		    shown(PQgetvalue(res, i, 5), reason, sizeof(reason)));
	}
	PQclear(res);
	return EX_OK;
}

/*
 * alerts with the state in PostgreSQL: every gateway's alert events, from
 * the database's copy of their audit logs (the last 1000), with a GATEWAY
 * column; answered only when this gateway's mspgated answers alerts. When
 * the database cannot be reached, this gateway's own, and stderr says so.
 */
static int
alerts_all(const struct pol *p, const char *sock, const char *req, long long since)
{
	char err[400], c[7][80], ev[300], v[24], tt[170], *ans = NULL;
	const char *pv[1] = { v };
	struct st_pg *pg = NULL;
	PGresult *res = NULL;
	int lrc, r, i;

	if ((lrc = ask(sock, req, &ans)) != EX_OK || strncmp(ans, "ok", 2) != 0) {
		if (lrc == EX_OK)
			fprintf(stderr, "mspgatectl: %.*s\n", (int)strcspn(ans, "\n"), ans);
		free(ans);
		return lrc == EX_OK ? EX_NOCONN : lrc;
	}
	snprintf(v, sizeof(v), "%lld", since);
	if ((r = st_pg_open(&p->state, &pg, err, sizeof(err))) == 0)
		r = st_pg_exec(pg, "SELECT * FROM (SELECT line->>'time', gateway, "
		    "regexp_replace(coalesce(line->>'rule', ''), '^alerts\\.', ''), "
		    "line->>'result', engineer, line->>'tenant', line->>'target', "
		    "line->>'reason', time, seq FROM mspgate_audit WHERE event = 'alert' AND "
		    "time >= to_timestamp($1::bigint) ORDER BY time DESC, gateway, seq DESC "
		    "LIMIT 1000) AS a ORDER BY time, gateway COLLATE \"C\", seq", 1, pv, &res,
		    err, sizeof(err));
	st_pg_close(pg);
	if (r != 0) {
		fprintf(stderr, "mspgatectl: the state database cannot be reached: %s; "
		    "only this gateway's alerts are shown\n", err);
		r = print_alerts(ans);
		free(ans);
		return r;
	}
	free(ans);
	printf("%-20s %-12s %-18s %-7s %-12s %-20s %s\n", "TIME", "GATEWAY", "RULE",
	    "ACTION", "ENGINEER", "TENANT/TARGET", "EVIDENCE");
	for (i = 0; i < PQntuples(res); i++) {
		snprintf(tt, sizeof(tt), "%s/%s", shown(PQgetvalue(res, i, 5), c[5],
		    sizeof(c[5])), shown(PQgetvalue(res, i, 6), c[6], sizeof(c[6])));
		printf("%-20s %-12s %-18s %-7s %-12s %-20s %s\n",
		    shown(PQgetvalue(res, i, 0), c[0], sizeof(c[0])),
		    shown(PQgetvalue(res, i, 1), c[1], sizeof(c[1])),
		    shown(PQgetvalue(res, i, 2), c[2], sizeof(c[2])),
		    shown(PQgetvalue(res, i, 3), c[3], sizeof(c[3])),
		    shown(PQgetvalue(res, i, 4), c[4], sizeof(c[4])), tt,
		    shown(PQgetvalue(res, i, 7), ev, sizeof(ev)));
	}
	PQclear(res);
	return EX_OK;
}

/*
 * kill ID across gateways, after this gateway's mspgated said it has no
 * such session: a request in mspgate_kill for the gateway that has it,
 * then wait (KILL_WAIT_MS) until its row leaves mspgate_sessions. A
 * request not taken in time is withdrawn, so nothing happens later that
 * was reported as not done.
 */
static int
kill_across(const struct pol *p, const char *id)
{
	char name[POL_STATE_NAME_MAX + 1], err[400], who[128], gw[POL_STATE_NAME_MAX + 1],
	    reqid[32], shown_gw[80];
	const char *pv[4];
	struct st_pg *pg = NULL;
	PGresult *res = NULL;
	struct passwd *pw;
	int r, n, waited, rc = EX_REFUSED;

	st_pg_gateway_name(&p->state, name, sizeof(name));
	if ((r = st_pg_open(&p->state, &pg, err, sizeof(err))) != 0) {
		fprintf(stderr, "mspgatectl: %s is not a session of this gateway (%s), and the "
		    "state database cannot be reached to find it on another: %s\n", id, name,
		    err);
		return EX_NOCONN;
	}
	pv[0] = id;
	pv[1] = name;
	if ((r = st_pg_exec(pg, "SELECT gateway FROM mspgate_sessions WHERE id = $1 AND "
	    "gateway <> $2 ORDER BY gateway", 2, pv, &res, err, sizeof(err))) != 0)
		goto dberr;
	if ((n = PQntuples(res)) == 0) {
		fprintf(stderr, "mspgatectl: no such session on any gateway\n");
		rc = EX_NOMATCH;
		goto out;
	}
	if (n > 1) {
		fprintf(stderr, "mspgatectl: %s names a session on %d gateways: not ended\n", id,
		    n);
		goto out;
	}
	snprintf(gw, sizeof(gw), "%s", PQgetvalue(res, 0, 0));
	shown(gw, shown_gw, sizeof(shown_gw));
	PQclear(res);
	res = NULL;
	/* Who asks, as mspgated names an operator on its control socket. */
	if ((pw = getpwuid(getuid())) != NULL)
		snprintf(who, sizeof(who), "%.64s (uid %u)", pw->pw_name, (unsigned)getuid());
	else
		snprintf(who, sizeof(who), "uid %u", (unsigned)getuid());
	pv[0] = gw;
	pv[1] = id;
	pv[2] = who;
	pv[3] = name;
	if ((r = st_pg_exec(pg, "INSERT INTO mspgate_kill (gateway, session_id, requested_by, "
	    "from_gateway, reason) VALUES ($1, $2, $3, $4, 'mspgatectl kill') RETURNING id", 4,
	    pv, &res, err, sizeof(err))) != 0)
		goto dberr;
	snprintf(reqid, sizeof(reqid), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	res = NULL;
	for (waited = 0; waited <= KILL_WAIT_MS; waited += KILL_LOOK_MS) {
		if ((r = st_pg_exec(pg, "SELECT 1 FROM mspgate_sessions WHERE gateway = $1 AND "
		    "id = $2", 2, pv, &res, err, sizeof(err))) != 0)
			goto dberr;
		n = PQntuples(res);
		PQclear(res);
		res = NULL;
		if (n == 0) {
			printf("%s ended on gateway %s\n", id, shown_gw);
			rc = EX_OK;
			goto out;
		}
		usleep(KILL_LOOK_MS * 1000);
	}
	pv[0] = reqid;
	if ((r = st_pg_exec(pg, "DELETE FROM mspgate_kill WHERE id = $1::bigint", 1, pv, NULL,
	    err, sizeof(err))) != 0)
		goto dberr;
	if (st_pg_changed(pg) == 1)
		fprintf(stderr, "mspgatectl: gateway %s did not take the request to end %s "
		    "within %d s (is its mspgated running and reaching the state database?); "
		    "the request is withdrawn, nothing was done\n", shown_gw, id,
		    KILL_WAIT_MS / 1000);
	else
		fprintf(stderr, "mspgatectl: gateway %s took the request, but %s has not ended "
		    "within %d s\n", shown_gw, id, KILL_WAIT_MS / 1000);
	goto out;
dberr:
	fprintf(stderr, "mspgatectl: state database: %s\n", err);
	rc = EX_NOCONN;
out:
	PQclear(res);
	st_pg_close(pg);
	return rc;
}

static int
name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 128)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

int
main(int argc, char **argv)
{
	const char *sock = NULL, *policy = NULL, *what = "", *arg = "";
	long long audit_since = 0;
	char req[512], *ans = NULL, *path = NULL;
	struct pol *p = NULL;
	int c, rc;

	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return EX_OK;
	}
	while ((c = getopt(argc, argv, "+s:f:h")) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'f': policy = optarg; break;
		case 'h': usage(stdout); return EX_OK;
		default: usage(stderr); return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return EX_USAGE;
	}
	if (policy == NULL && sock == NULL && getenv("MSPGATE_CONF") != NULL &&
	    *getenv("MSPGATE_CONF") != '\0')
		policy = getenv("MSPGATE_CONF");
	if (strcmp(argv[0], "list") == 0 && argc == 1) {
		snprintf(req, sizeof(req), "list\n");
	} else if (strcmp(argv[0], "kill") == 0 && (argc == 2 || argc == 3)) {
		if (argc == 2 && argv[1][0] != '-') {
			what = "id";
			arg = argv[1];
		} else if (argc == 3 && strcmp(argv[1], "--engineer") == 0) {
			what = "engineer";
			arg = argv[2];
		} else if (argc == 3 && strcmp(argv[1], "--tenant") == 0) {
			what = "tenant";
			arg = argv[2];
		} else {
			usage(stderr);
			return EX_USAGE;
		}
		if (!name_ok(arg)) {
			fprintf(stderr, "mspgatectl: not a session id or name\n");
			return EX_USAGE;
		}
		snprintf(req, sizeof(req), "kill\t%s\t%s\n", what, arg);
	} else if (strcmp(argv[0], "watch") == 0 && argc == 2) {
		arg = argv[1];
		if (!name_ok(arg) || arg[0] == '-') {
			fprintf(stderr, "mspgatectl: not a session id\n");
			return EX_USAGE;
		}
		req[0] = '\0';
	} else if ((strcmp(argv[0], "approve") == 0 || strcmp(argv[0], "deny") == 0) &&
	    (argc == 2 || (argc == 4 && strcmp(argv[2], "--comment") == 0))) {
		const char *comment = argc == 4 ? argv[3] : "";

		arg = argv[1];
		if (!name_ok(arg) || arg[0] == '-') {
			fprintf(stderr, "mspgatectl: not a session id\n");
			return EX_USAGE;
		}
		/* One line to mspgated: no tab or newline (nor any control byte). */
		if (strlen(comment) > 200 || (comment[0] != '\0' && !name_ok(comment))) {
			fprintf(stderr, "mspgatectl: --comment: at most 200 characters, no "
			    "control characters\n");
			return EX_USAGE;
		}
		snprintf(req, sizeof(req), "%s\t%s\t%s\n", argv[0], arg, comment);
	} else if (strcmp(argv[0], "alerts") == 0 || strcmp(argv[0], "audit") == 0) {
		long long since = (long long)time(NULL) - (strcmp(argv[0], "audit") == 0 ?
		    86400 : 7 * 86400);

		if (argc == 3 && strcmp(argv[1], "--since") == 0) {
			if ((since = parse_since(argv[2], time(NULL))) < 0) {
				fprintf(stderr, "mspgatectl: --since: not a date (YYYY-MM-DD "
				    "[HH:MM[:SS]], @EPOCH, or 30m, 12h, 7d)\n");
				return EX_USAGE;
			}
		} else if (argc != 1) {
			usage(stderr);
			return EX_USAGE;
		}
		snprintf(req, sizeof(req), "alerts\t%lld\n", since);
		audit_since = since;
	} else {
		usage(stderr);
		return EX_USAGE;
	}
	if (policy != NULL) {
		struct mg_diag *d = mg_diag_new();
		size_t i;

		if (d == NULL || pol_load(policy, &p, d) != 0) {
			for (i = 0; d != NULL && i < mg_diag_count(d); i++)
				fprintf(stderr, "mspgatectl: %s\n", mg_diag_get(d, i));
			fprintf(stderr, "mspgatectl: %s: policy not loaded\n", policy);
			mg_diag_free(d);
			return EX_USAGE;
		}
		mg_diag_free(d);
		if (sock == NULL && (sock = path = strdup(p->gateway.control_socket)) == NULL) {
			pol_free(p);
			return EX_NOCONN;
		}
	}
	if (sock == NULL)
		sock = DEFAULT_SOCKET;
	/* This gateway's sessions only: its mspgated hands over the recording. */
	if (strcmp(argv[0], "watch") == 0) {
		rc = ctl_watch(sock, arg);
		goto out;
	}
	/* Every gateway's audit events: the state database's copy only. */
	if (strcmp(argv[0], "audit") == 0) {
		if (p == NULL || p->state.backend != POL_STATE_POSTGRESQL) {
			fprintf(stderr, "mspgatectl: audit shows every gateway's events from "
			    "the state database (state.backend = \"postgresql\", -f POLICY); "
			    "a gateway's own log is read with mspgate-replay\n");
			rc = EX_USAGE;
		} else {
			rc = audit_all(p, sock, audit_since);
		}
		goto out;
	}
	/* Shared state: every gateway's alerts, from the database's audit copy. */
	if (p != NULL && p->state.backend == POL_STATE_POSTGRESQL &&
	    strcmp(argv[0], "alerts") == 0) {
		rc = alerts_all(p, sock, req, audit_since);
		goto out;
	}
	/* Shared state: every gateway's sessions, from the database. */
	if (p != NULL && p->state.backend == POL_STATE_POSTGRESQL &&
	    strcmp(argv[0], "list") == 0) {
		rc = list_all(p, sock);
		goto out;
	}
	rc = ask(sock, req, &ans);
	/*
	 * Shared state: an id this gateway does not have (or whose mspgated
	 * does not answer) may be another gateway's.
	 */
	if (p != NULL && p->state.backend == POL_STATE_POSTGRESQL && strcmp(argv[0], "kill") == 0 &&
	    strcmp(what, "id") == 0 && !ctl_denied && (rc == EX_NOCONN || (rc == EX_OK &&
	    strncmp(ans, "error: no such session", 22) == 0))) {
		rc = kill_across(p, arg);
		goto out;
	}
	if (rc != EX_OK)
		goto out;
	if (strncmp(ans, "ok", 2) != 0) {
		const char *e = strncmp(ans, "error: ", 7) == 0 ? ans + 7 : ans;

		fprintf(stderr, "mspgatectl: %.*s\n", (int)strcspn(e, "\n"), e[0] ? e :
		    "no answer from mspgated");
		rc = strncmp(e, "no such session", 15) == 0 ? EX_NOMATCH :
		    strncmp(e, "permission denied", 17) == 0 ? EX_NOCONN : EX_REFUSED;
	} else if (strcmp(argv[0], "list") == 0) {
		print_header(0);
		rc = print_list(ans, NULL);
	} else if (strcmp(argv[0], "alerts") == 0) {
		rc = print_alerts(ans);
	} else if (strcmp(argv[0], "approve") == 0 || strcmp(argv[0], "deny") == 0) {
		printf("%s %s\n", arg, argv[0][0] == 'a' ? "approved" : "denied");
		rc = EX_OK;
	} else {
		/* "ok N" then the ids asked to end. */
		char *ids = strchr(ans, '\n');

		fputs(ids != NULL ? ids + 1 : "", stdout);
		rc = EX_OK;
	}
out:
	free(ans);
	free(path);
	pol_free(p);
	return rc;
}
