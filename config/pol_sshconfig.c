/* SPDX-License-Identifier: BSD-2-Clause */
/* An engineer's ssh_config blocks from the policy (pol_sshconfig.h). */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_err.h"
#include "mg_name.h"
#include "mg_time.h"
#include "pol_sshconfig.h"

/* TENANT-TARGET-LOGIN at most, lower case. */
#define ALIAS_MAX (MG_NAME_POLICY_MAX * 2 + MG_NAME_LOGIN_MAX + 3)

struct block {
	char alias[ALIAS_MAX];
	const struct pol_target *t;
	const char *login;	/* in MSPGATE_TARGET; NULL: the target's only one */
};

struct blocks {
	struct block *v;
	size_t n, cap;
};

int
pol_sshconfig_gw_parse(const char *s, struct pol_sshconfig_gw *out, char *err,
    size_t errlen)
{
	char host[300];
	const char *colon = NULL, *end;
	size_t n;
	long port = POL_SSHCONFIG_PORT;
	char *pe;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL || (end[1] != '\0' && end[1] != ':'))
			goto bad;
		n = (size_t)(end - s - 1);
		s++;
		if (end[1] == ':')
			colon = end + 1;
	} else {
		colon = strchr(s, ':');
		/* More than one ':' is an IPv6 address without a port. */
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = NULL;
		n = colon != NULL ? (size_t)(colon - s) : strlen(s);
	}
	if (n == 0 || n >= sizeof(out->host))
		goto bad;
	memcpy(host, s, n);
	host[n] = '\0';
	/* The host-name rule keeps blanks, quotes, '%' and controls out of ssh_config. */
	if (!mg_name_ok(MG_NAME_HOST, host))
		goto bad;
	if (colon != NULL) {
		errno = 0;
		port = strtol(colon + 1, &pe, 10);
		if (errno != 0 || pe == colon + 1 || *pe != '\0' || port < 1 || port > 65535)
			goto bad;
	}
	memcpy(out->host, host, n + 1);
	out->port = (int)port;
	return 0;
bad:
	snprintf(err, errlen, "gateway must be HOST[:PORT], a host name or address "
	    "(letters, digits, '.', '-', ':', '_') and a port 1-65535");
	return MG_ERR_PARSE;
}

/* Names as the policy defines them; checked again: they go into ssh_config. */
static int
alias_make(char *out, const char *tenant, const char *target, const char *login)
{
	char *p;

	if (!mg_name_ok(MG_NAME_POLICY, tenant) || !mg_name_ok(MG_NAME_POLICY, target) ||
	    (login != NULL && !mg_name_ok(MG_NAME_LOGIN, login)))
		return MG_ERR_PARSE;
	snprintf(out, ALIAS_MAX, "%s-%s%s%s", tenant, target, login ? "-" : "",
	    login ? login : "");
	for (p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

/* FNV-1a: a short, stable tag that keeps each block's ControlPath its own. */
static uint32_t
alias_tag(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

/* A block for t, its name with alias_login, its MSPGATE_TARGET with login. */
static int
blocks_add(struct blocks *b, const struct pol_target *t, const char *alias_login,
    const char *login, char *err, size_t errlen)
{
	struct block nb;
	size_t i;

	memset(&nb, 0, sizeof(nb));
	if (alias_make(nb.alias, t->tenant->name, t->name, alias_login) != 0) {
		snprintf(err, errlen, "%s/%s%s%s cannot be an ssh_config Host name",
		    t->tenant->name, t->name, login ? " as " : "", login ? login : "");
		return MG_ERR_PARSE;
	}
	nb.t = t;
	nb.login = login;
	/* ssh would take the first of two blocks with one name: never guess. */
	for (i = 0; i < b->n; i++) {
		if (strcmp(b->v[i].alias, nb.alias) != 0 &&
		    alias_tag(b->v[i].alias) != alias_tag(nb.alias))
			continue;
		snprintf(err, errlen, "Host %s would stand for both %s/%s%s%s and "
		    "%s/%s%s%s: rename a target (or login) in the policy",
		    nb.alias, b->v[i].t->tenant->name, b->v[i].t->name,
		    b->v[i].login ? " as " : "", b->v[i].login ? b->v[i].login : "",
		    t->tenant->name, t->name, login ? " as " : "", login ? login : "");
		return MG_ERR_PARSE;
	}
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct block *v = reallocarray(b->v, cap, sizeof(*v));

		if (v == NULL)
			return MG_ERR_NOMEM;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = nb;
	return 0;
}

/* The logins the engineer's grants allow on t, in grant order, each once. */
static size_t
target_logins(const struct pol *p, const struct pol_engineer *e,
    const struct pol_target *t, const char **out, size_t max)
{
	size_t gi, li, k, n = 0;

	for (gi = 0; gi < p->ngrants; gi++) {
		const struct pol_grant *g = &p->grants[gi];

		if (!pol_grant_applies(g, e) || !pol_grant_covers(g, t))
			continue;
		for (li = 0; li < g->nlogins && n < max; li++) {
			if (!pol_grant_login_ok(g, t, g->logins[li]))
				continue;
			for (k = 0; k < n && strcmp(out[k], g->logins[li]) != 0; k++)
				;
			if (k == n)
				out[n++] = g->logins[li];
		}
	}
	return n;
}

static void
day_text(time_t t, char *buf, size_t len)
{
	struct mg_datetime dt;

	/* valid_until is exclusive: the last day of access. */
	mg_datetime_from_seconds((int64_t)t - 1, &dt);
	snprintf(buf, len, "%04d-%02d-%02d", dt.year, dt.mon, dt.day);
}

/* One comment line per grant that lets the engineer reach t. */
static void
grant_comments(const struct pol *p, const struct pol_engineer *e,
    const struct pol_target *t, FILE *out, int64_t *persist, int *ticket)
{
	size_t gi, li;
	char when[2100], ms[32], exp[16];

	for (gi = 0; gi < p->ngrants; gi++) {
		const struct pol_grant *g = &p->grants[gi];
		time_t until = e->valid_until;

		if (!pol_grant_applies(g, e) || !pol_grant_covers(g, t))
			continue;
		pol_grant_when(g, t, when, sizeof(when));
		mg_duration_format(g->max_session, ms, sizeof(ms));
		if (g->valid_until != 0 && (until == 0 || g->valid_until < until))
			until = g->valid_until;
		fprintf(out, "#   as");
		for (li = 0; li < g->nlogins; li++)
			if (pol_grant_login_ok(g, t, g->logins[li]))
				fprintf(out, " %s", g->logins[li]);
		fprintf(out, ": mfa %s, sessions up to %s%s", pol_mfa_name(g->mfa), ms,
		    g->ticket ? ", ticket required (MSPGATE_TICKET)" : "");
		if (until != 0) {
			day_text(until, exp, sizeof(exp));
			fprintf(out, ", until %s", exp);
		}
		fprintf(out, " (%s:%d)\n#   when: %s\n", g->loc.file, g->loc.line, when);
		if (g->max_login_age > 0 && g->max_login_age < *persist)
			*persist = g->max_login_age;
		*ticket |= g->ticket;
	}
}

static void
block_write(const struct block *b, const struct pol_engineer *e,
    const struct pol_sshconfig_gw *gw, int64_t persist, int ticket, FILE *out)
{
	char cp[32];

	mg_duration_format(persist, cp, sizeof(cp));
	fprintf(out, "Host %s\n", b->alias);
	fprintf(out, "    HostName %s\n", gw->host);
	fprintf(out, "    Port %d\n", gw->port);
	fprintf(out, "    User %s\n", e->name);
	fprintf(out, "    SetEnv MSPGATE_TARGET=%s%s%s/%s\n", b->login ? b->login : "",
	    b->login ? "@" : "", b->t->tenant->name, b->t->name);
	if (ticket)
		fprintf(out, "    SendEnv MSPGATE_TICKET\n");
	fprintf(out, "    ControlMaster auto\n");
	fprintf(out, "    ControlPath ~/.ssh/mg-%%C-%08x\n", (unsigned)alias_tag(b->alias));
	fprintf(out, "    ControlPersist %s\n", cp);
}

int
pol_sshconfig_write(const struct pol *p, const char *engineer,
    const struct pol_sshconfig_gw *gw, FILE *out, char *err, size_t errlen)
{
	const struct pol_engineer *e = pol_engineer_find(p, engineer);
	struct blocks b = { NULL, 0, 0 };
	const char *logins[64];
	size_t ti, xi, i, nl, first;
	int r = 0;

	if (e == NULL) {
		snprintf(err, errlen, "no engineer '%.64s' in the policy", engineer);
		return MG_ERR_NOENT;
	}
	if (!mg_name_ok(MG_NAME_ENGINEER, e->name) || !mg_name_ok(MG_NAME_HOST, gw->host)) {
		snprintf(err, errlen, "the engineer's or the gateway's name is unsafe "
		    "in ssh_config");
		return MG_ERR_PARSE;
	}
	fprintf(out, "# mspgate: ssh_config for %s through %s port %d, from %s.\n"
	    "# Each session still asks for the FIDO touch and TOTP code of a new login,\n"
	    "# is decided again by the gateway, and is recorded.\n",
	    e->name, gw->host, gw->port, p->files[0]);
	for (ti = 0; ti < p->ntenants && r == 0; ti++) {
		for (xi = 0; xi < p->tenants[ti].ntargets && r == 0; xi++) {
			const struct pol_target *t = &p->tenants[ti].targets[xi];
			int64_t persist = POL_SSHCONFIG_PERSIST_MAX;
			int ticket = 0;

			if ((nl = target_logins(p, e, t, logins, 64)) == 0)
				continue;
			first = b.n;
			/* With several logins, the plain name takes the first, named. */
			if ((r = blocks_add(&b, t, NULL, nl > 1 ? logins[0] : NULL,
			    err, errlen)) != 0)
				break;
			for (i = 0; nl > 1 && i < nl && r == 0; i++)
				r = blocks_add(&b, t, logins[i], logins[i], err, errlen);
			if (r != 0)
				break;
			fprintf(out, "\n# %s/%s (%s as %s%s)\n", t->tenant->name, t->name,
			    b.v[first].alias, logins[0],
			    nl > 1 ? "; the other logins as Host NAME-LOGIN" : "");
			grant_comments(p, e, t, out, &persist, &ticket);
			for (i = first; i < b.n; i++)
				block_write(&b.v[i], e, gw, persist, ticket, out);
		}
	}
	if (r == MG_ERR_NOMEM)
		snprintf(err, errlen, "out of memory");
	if (r == 0 && b.n == 0)
		fprintf(out, "\n# No target is granted to %s.\n", e->name);
	if (r == 0 && (fflush(out) != 0 || ferror(out))) {
		snprintf(err, errlen, "cannot write: %s", strerror(errno));
		r = MG_ERR_IO;
	}
	free(b.v);
	return r;
}
