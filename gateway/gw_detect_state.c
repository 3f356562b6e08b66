/* SPDX-License-Identifier: BSD-2-Clause */
/* The detector's state file: its history written as versioned text, and read back strictly. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "gw_detect_priv.h"
#include "mg_addr.h"
#include "mg_err.h"
#include "mg_file.h"
#include "mg_name.h"
#include "mg_time.h"

#define LINE_MAX_LEN	4096
#define STATE_MAGIC	"mspgate-detect 1"

/*
 * Format (text, one record per line, fields separated by one space, no
 * field empty; names follow the policy's name rule so they hold no space):
 *
 *   mspgate-detect 1                          first line: magic and version
 *   e NAME FIRST_SEEN LAST_SEEN NSESSIONS     an engineer; before its records
 *   h NAME T0 ... T167                        last session start per hour of week
 *   a NAME TENANT TARGET LAST                 tenant/target reached
 *   n NAME NET LAST                           source network seen
 *   l NAME SESSION SOURCE START BYTES FLAGS   live session
 *   o NAME FIRST LAST N                       off-hours attempt bucket (oldest first)
 *   m NAME FIRST LAST N                       MFA failure bucket
 *   g NAME HOUR BYTES                         egress in that hour (since the epoch)
 *   f NAME RULE LAST KEY                      last alert given (RULE index, KEY hex)
 *   s ADDR                                    an MFA failure source
 *   M ADDR FIRST LAST N                       its failure bucket
 *   E ADDR HASH LAST                          an engineer name that failed from it
 *   F ADDR LAST KEY                           last alert given for it
 *   end N                                     last line: N records before it
 *
 * Times are seconds since the epoch, 0..MG_TIME_MAX, decimal, no sign or
 * leading zero. Engineers and sources appear oldest first. The parser
 * refuses anything else: unknown record, wrong field count, a bound of
 * memory exceeded, a record for an undeclared name, a missing "end".
 */

struct sbuf {
	char *p;
	size_t len, cap;
	int err;
};

static void
sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = 1;
			return;
		}
		if (b->p != NULL && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t cap = b->cap ? b->cap * 2 : 65536;
			char *np;

			while (cap < b->len + (size_t)n + 1)
				cap *= 2;
			if ((np = realloc(b->p, cap)) == NULL) {
				b->err = 1;
				return;
			}
			b->p = np;
			b->cap = cap;
		}
	}
}

/* One engineer's records; returns how many. */
static unsigned long long
state_eng(struct sbuf *b, const struct eng *e)
{
	unsigned long long nrec = 0;
	const char *nm = e->node.key;
	size_t i;
	int any = 0;

	sb_add(b, "e %s %lld %lld %u\n", nm, (long long)e->first_seen,
	    (long long)e->last_seen, (unsigned)e->nsessions);
	nrec++;
	for (i = 0; i < HOURS_PER_WEEK; i++)
		any |= e->hours[i] != 0;
	if (any) {
		sb_add(b, "h %s", nm);
		for (i = 0; i < HOURS_PER_WEEK; i++)
			sb_add(b, " %lld", (long long)e->hours[i]);
		sb_add(b, "\n");
		nrec++;
	}
	for (i = 0; i < e->nacc; i++, nrec++)
		sb_add(b, "a %s %s %s %lld\n", nm, e->acc[i].tenant, e->acc[i].target,
		    (long long)e->acc[i].last);
	for (i = 0; i < e->nnets; i++, nrec++)
		sb_add(b, "n %s %s %lld\n", nm, e->nets[i].net, (long long)e->nets[i].last);
	for (i = 0; i < e->nlive; i++, nrec++)
		sb_add(b, "l %s %s %s %lld %" PRIu64 " %u\n", nm, e->live[i].id,
		    e->live[i].source, (long long)e->live[i].start, e->live[i].bytes,
		    e->live[i].flags);
	for (i = 0; i < e->off.nb; i++, nrec++)
		sb_add(b, "o %s %lld %lld %u\n", nm, (long long)e->off.b[i].first,
		    (long long)e->off.b[i].last, (unsigned)e->off.b[i].n);
	for (i = 0; i < e->mfa.nb; i++, nrec++)
		sb_add(b, "m %s %lld %lld %u\n", nm, (long long)e->mfa.b[i].first,
		    (long long)e->mfa.b[i].last, (unsigned)e->mfa.b[i].n);
	for (i = 0; i < e->negress; i++, nrec++)
		sb_add(b, "g %s %lld %" PRIu64 "\n", nm, (long long)e->egress[i].hour,
		    e->egress[i].bytes);
	for (i = 0; i < GW_DETECT_NRULES; i++)
		if (e->fired[i].last != 0) {
			sb_add(b, "f %s %zu %lld %016" PRIx64 "\n", nm, i,
			    (long long)e->fired[i].last, e->fired[i].key);
			nrec++;
		}
	return nrec;
}

/* One MFA failure source's records; returns how many. */
static unsigned long long
state_src(struct sbuf *b, const struct src *s)
{
	unsigned long long nrec = 0;
	const char *nm = s->node.key;
	size_t i;

	sb_add(b, "s %s\n", nm);
	nrec++;
	for (i = 0; i < s->mfa.nb; i++, nrec++)
		sb_add(b, "M %s %lld %lld %u\n", nm, (long long)s->mfa.b[i].first,
		    (long long)s->mfa.b[i].last, (unsigned)s->mfa.b[i].n);
	for (i = 0; i < s->nengs; i++, nrec++)
		sb_add(b, "E %s %016" PRIx64 " %lld\n", nm, s->engs[i].h,
		    (long long)s->engs[i].last);
	if (s->fired.last != 0) {
		sb_add(b, "F %s %lld %016" PRIx64 "\n", nm, (long long)s->fired.last,
		    s->fired.key);
		nrec++;
	}
	return nrec;
}

/* The whole state file text into b (b->err on allocation failure). */
static void
state_build(const struct gw_detect *d, struct sbuf *b)
{
	unsigned long long nrec = 0;
	const struct node *n;

	sb_add(b, "%s\n", STATE_MAGIC);
	for (n = d->engs.head.prev; n != &d->engs.head; n = n->prev)
		nrec += state_eng(b, (const struct eng *)n);
	for (n = d->srcs.head.prev; n != &d->srcs.head; n = n->prev)
		nrec += state_src(b, (const struct src *)n);
	sb_add(b, "end %llu\n", nrec);
}

int
gw_detect_save(struct gw_detect *d, const char *path, char *err, size_t errlen)
{
	struct sbuf b = { NULL, 0, 0, 0 };
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	state_build(d, &b);
	if (b.err) {
		free(b.p);
		if (err != NULL)
			snprintf(err, errlen, "%s: out of memory", path);
		return MG_ERR_NOMEM;
	}
	r = mg_file_replace(path, b.p, b.len, 0600, err, errlen);
	free(b.p);
	if (r == 0)
		d->dirty = 0;
	return r;
}

/* ---- parsing ---- */

#define MAX_FIELDS (HOURS_PER_WEEK + 2)

/* Splits line in place at single spaces; an empty field is an error. */
static int
split(char *line, char **f, size_t max, size_t *nf)
{
	size_t n = 0;
	char *p = line;

	for (;;) {
		char *sp = strchr(p, ' ');

		if (n == max)
			return -1;
		if (sp == p || *p == '\0')
			return -1;
		f[n++] = p;
		if (sp == NULL)
			break;
		*sp = '\0';
		p = sp + 1;
	}
	*nf = n;
	return 0;
}

static int
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 20)
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_time(const char *s, time_t *out)
{
	uint64_t v;

	if (parse_u64(s, (uint64_t)MG_TIME_MAX, &v) != 0)
		return -1;
	*out = (time_t)v;
	return 0;
}

static int
parse_hex64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		int c = s[i];

		if (i >= 16)
			return -1;
		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return -1;
	}
	if (i != 16)
		return -1;
	*out = v;
	return 0;
}

static int
parse_bucket(char **f, struct ring *r)
{
	uint64_t n;
	struct bucket *b;

	if (r->nb >= GW_DETECT_RING)
		return -1;
	b = &r->b[r->nb];
	if (parse_time(f[0], &b->first) != 0 || parse_time(f[1], &b->last) != 0 ||
	    parse_u64(f[2], UINT32_MAX, &n) != 0 || n == 0 || b->first > b->last)
		return -1;
	b->n = (uint32_t)n;
	r->nb++;
	return 0;
}

/* An address exactly as gd_addr_norm writes it. */
static int
addr_canonical(const char *s)
{
	char a[ADDR_MAX], net[MG_CIDR_STRLEN];

	return gd_addr_norm(s, a, net) == 0 && strcmp(a, s) == 0;
}

static int
net_canonical(const char *s)
{
	struct mg_cidr c;
	char back[MG_CIDR_STRLEN];

	if (strlen(s) >= MG_CIDR_STRLEN || mg_cidr_parse(s, &c, NULL, 0) != 0 ||
	    c.prefix != (c.family == AF_INET ? 24 : 48))
		return 0;
	mg_cidr_format(&c, back, sizeof(back));
	return strcmp(back, s) == 0;
}

/* "e NAME FIRST_SEEN LAST_SEEN NSESSIONS": an engineer, before its records. */
static int
parse_eng_decl(struct gw_detect *d, char **f, size_t nf, const char **msg)
{
	struct eng *e;
	uint64_t v;

	if (nf != 5 || !mg_name_ok(MG_NAME_ENGINEER, f[1]))
		return -1;
	if (gd_tab_find(&d->engs, f[1]) != NULL) {
		*msg = "engineer declared twice";
		return -1;
	}
	if (d->engs.n >= GW_DETECT_MAX_ENGINEERS) {
		*msg = "too many engineers";
		return -1;
	}
	if (gd_eng_get(d, f[1], &e) != 0) {
		*msg = "out of memory";
		return -1;
	}
	if (parse_time(f[2], &e->first_seen) != 0 || parse_time(f[3], &e->last_seen) != 0 ||
	    parse_u64(f[4], UINT32_MAX, &v) != 0)
		return -1;
	e->nsessions = (uint32_t)v;
	return 0;
}

/* "s ADDR": an MFA failure source, before its records. */
static int
parse_src_decl(struct gw_detect *d, char **f, size_t nf, const char **msg)
{
	struct src *s;

	if (nf != 2 || !addr_canonical(f[1]))
		return -1;
	if (gd_tab_find(&d->srcs, f[1]) != NULL) {
		*msg = "source declared twice";
		return -1;
	}
	if (d->srcs.n >= GW_DETECT_MAX_SOURCES) {
		*msg = "too many sources";
		return -1;
	}
	if (gd_src_get(d, f[1], &s) != 0) {
		*msg = "out of memory";
		return -1;
	}
	return 0;
}

/* "a NAME TENANT TARGET LAST" */
static int
parse_access(struct gw_detect *d, struct eng *e, char **f, size_t nf, const char **msg)
{
	struct access *a;
	size_t i;

	if (nf != 5 || !mg_name_ok(MG_NAME_POLICY, f[2]) || !mg_name_ok(MG_NAME_POLICY, f[3]))
		return -1;
	if (e->nacc >= GW_DETECT_ACCESS_PER_ENG || d->nacc_total >= GW_DETECT_ACCESS_TOTAL) {
		*msg = "too many access records";
		return -1;
	}
	for (i = 0; i < e->nacc; i++)
		if (strcmp(e->acc[i].tenant, f[2]) == 0 && strcmp(e->acc[i].target, f[3]) == 0) {
			*msg = "access record repeated";
			return -1;
		}
	if (gd_access_room(e) != 0) {
		*msg = "out of memory";
		return -1;
	}
	a = &e->acc[e->nacc];
	if (parse_time(f[4], &a->last) != 0)
		return -1;
	snprintf(a->tenant, KEY_MAX, "%s", f[2]);
	snprintf(a->target, KEY_MAX, "%s", f[3]);
	e->nacc++;
	d->nacc_total++;
	return 0;
}

/* "l NAME SESSION SOURCE START BYTES FLAGS" */
static int
parse_live(struct eng *e, char **f, size_t nf, const char **msg)
{
	struct live *l;
	uint64_t v;

	if (nf != 7 || !gd_id_ok(f[2]) || !addr_canonical(f[3]))
		return -1;
	if (e->nlive >= GW_DETECT_LIVE_PER_ENG || gd_live_find(e, f[2]) != NULL) {
		*msg = "too many or repeated live sessions";
		return -1;
	}
	l = &e->live[e->nlive];
	memset(l, 0, sizeof(*l));
	if (parse_time(f[4], &l->start) != 0 || parse_u64(f[5], UINT64_MAX, &l->bytes) != 0 ||
	    parse_u64(f[6], LIVE_EGRESS_FIRED, &v) != 0)
		return -1;
	l->flags = (unsigned)v;
	snprintf(l->id, sizeof(l->id), "%s", f[2]);
	snprintf(l->source, sizeof(l->source), "%s", f[3]);
	e->nlive++;
	return 0;
}

/* A record of the declared engineer e: h a n l o m g f. */
static int
parse_eng_record(struct gw_detect *d, struct eng *e, char **f, size_t nf, const char **msg)
{
	uint64_t v;
	size_t i;

	switch (f[0][0]) {
	case 'h':
		if (nf != HOURS_PER_WEEK + 2)
			return -1;
		for (i = 0; i < HOURS_PER_WEEK; i++)
			if (parse_time(f[i + 2], &e->hours[i]) != 0)
				return -1;
		return 0;
	case 'a':
		return parse_access(d, e, f, nf, msg);
	case 'n':
		if (nf != 4 || !net_canonical(f[2]))
			return -1;
		if (e->nnets >= GW_DETECT_NETS_PER_ENG) {
			*msg = "too many source networks";
			return -1;
		}
		if (parse_time(f[3], &e->nets[e->nnets].last) != 0)
			return -1;
		snprintf(e->nets[e->nnets].net, MG_CIDR_STRLEN, "%s", f[2]);
		e->nnets++;
		return 0;
	case 'l':
		return parse_live(e, f, nf, msg);
	case 'o':
	case 'm':
		if (nf != 5 || parse_bucket(f + 2, f[0][0] == 'o' ? &e->off : &e->mfa) != 0)
			return -1;
		return 0;
	case 'g':
		if (nf != 4 || e->negress >= EGRESS_HOURS ||
		    parse_u64(f[2], (uint64_t)MG_TIME_MAX / 3600, &v) != 0)
			return -1;
		e->egress[e->negress].hour = (int64_t)v;
		if (parse_u64(f[3], UINT64_MAX, &e->egress[e->negress].bytes) != 0)
			return -1;
		e->negress++;
		return 0;
	case 'f':
		if (nf != 5 || parse_u64(f[2], GW_DETECT_NRULES - 1, &v) != 0 ||
		    e->fired[v].last != 0 || parse_time(f[3], &e->fired[v].last) != 0 ||
		    parse_hex64(f[4], &e->fired[v].key) != 0)
			return -1;
		return 0;
	}
	return -1;
}

/* A record of the declared source s: M E F. */
static int
parse_src_record(struct src *s, char **f, size_t nf)
{
	switch (f[0][0]) {
	case 'M':
		if (nf != 5 || parse_bucket(f + 2, &s->mfa) != 0)
			return -1;
		return 0;
	case 'E':
		if (nf != 4 || s->nengs >= SRC_ENGS ||
		    parse_hex64(f[2], &s->engs[s->nengs].h) != 0 ||
		    parse_time(f[3], &s->engs[s->nengs].last) != 0)
			return -1;
		s->nengs++;
		return 0;
	case 'F':
		if (nf != 4 || s->fired.last != 0 || parse_time(f[2], &s->fired.last) != 0 ||
		    parse_hex64(f[3], &s->fired.key) != 0)
			return -1;
		return 0;
	}
	return -1;
}

/* One line; msg says what is wrong with it. */
static int
parse_line(struct gw_detect *d, char *line, unsigned long long *nrec, int *ended,
    const char **msg)
{
	char *f[MAX_FIELDS];
	struct eng *e;
	struct src *s;
	uint64_t v;
	size_t nf;

	*msg = "malformed record";
	if (*ended) {
		*msg = "data after the end line";
		return -1;
	}
	if (split(line, f, MAX_FIELDS, &nf) != 0)
		return -1;
	if (strcmp(f[0], "end") == 0) {
		if (nf != 2 || parse_u64(f[1], UINT64_MAX, &v) != 0)
			return -1;
		if (v != *nrec) {
			*msg = "record count does not match the end line";
			return -1;
		}
		*ended = 1;
		return 0;
	}
	if (strlen(f[0]) != 1 || nf < 2)
		return -1;
	(*nrec)++;
	switch (f[0][0]) {
	case 'e':
		return parse_eng_decl(d, f, nf, msg);
	case 's':
		return parse_src_decl(d, f, nf, msg);
	case 'h': case 'a': case 'n': case 'l': case 'o': case 'm': case 'g': case 'f':
		if (!mg_name_ok(MG_NAME_ENGINEER, f[1]) ||
		    (e = (struct eng *)gd_tab_find(&d->engs, f[1])) == NULL) {
			*msg = "record for an engineer not declared before it";
			return -1;
		}
		return parse_eng_record(d, e, f, nf, msg);
	case 'M': case 'E': case 'F':
		if (strlen(f[1]) >= KEY_MAX ||
		    (s = (struct src *)gd_tab_find(&d->srcs, f[1])) == NULL) {
			*msg = "record for a source not declared before it";
			return -1;
		}
		return parse_src_record(s, f, nf);
	}
	*msg = "unknown record type";
	return -1;
}

int
gw_detect_load_buffer(struct gw_detect *d, const char *buf, size_t len,
    const char *name, struct gw_detect_result *res, char *err, size_t errlen)
{
	char line[LINE_MAX_LEN + 1], why[160];
	unsigned long long nrec = 0;
	size_t pos = 0, lineno = 0;
	int ended = 0;
	const char *msg = NULL;

	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	gd_tabs_clear(d);
	if (len > GW_DETECT_STATE_MAX) {
		msg = "file too big";
		goto bad;
	}
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t ll;

		lineno++;
		if (nl == NULL) {
			msg = "truncated (last line has no newline)";
			goto bad;
		}
		ll = (size_t)(nl - (buf + pos));
		if (ll > LINE_MAX_LEN) {
			msg = "line too long";
			goto bad;
		}
		memcpy(line, buf + pos, ll);
		line[ll] = '\0';
		if (memchr(line, '\0', ll) != NULL) {
			msg = "NUL byte";
			goto bad;
		}
		pos += ll + 1;
		if (lineno == 1) {
			if (strcmp(line, STATE_MAGIC) != 0) {
				msg = strncmp(line, "mspgate-detect ", 15) == 0 ?
				    "unknown version" : "not a detector state file";
				goto bad;
			}
			continue;
		}
		if (parse_line(d, line, &nrec, &ended, &msg) != 0)
			goto bad;
	}
	if (lineno == 0) {
		msg = "empty";
		goto bad;
	}
	if (!ended) {
		lineno++;
		msg = "truncated (no end line)";
		goto bad;
	}
	d->dirty = 0;
	return 0;
bad:
	gd_tabs_clear(d);
	d->dirty = 1;
	snprintf(why, sizeof(why), "%s:%zu: %s", name ? name : "state", lineno, msg);
	if (err != NULL)
		snprintf(err, errlen, "%s", why);
	gd_state_hit(res, why);
	return MG_ERR_PARSE;
}

int
gw_detect_load(struct gw_detect *d, const char *path, const struct mg_file_rules *rules,
    struct gw_detect_result *res, char *err, size_t errlen)
{
	struct mg_file_rules def = { GW_DETECT_STATE_MAX, 077, 0, 0, 0 };
	char e[256];
	char *buf = NULL;
	size_t len = 0;
	int r;

	if (res != NULL)
		memset(res, 0, sizeof(*res));
	r = mg_file_read_safe(path, rules ? rules : &def, &buf, &len, e, sizeof(e));
	if (r == MG_ERR_NOENT) {
		/* First start: nothing lost. */
		gd_tabs_clear(d);
		d->dirty = 0;
		if (err != NULL && errlen > 0)
			err[0] = '\0';
		return 0;
	}
	if (r != 0) {
		gd_tabs_clear(d);
		d->dirty = 1;
		if (err != NULL)
			snprintf(err, errlen, "%s", e);
		gd_state_hit(res, e);
		return r;
	}
	r = gw_detect_load_buffer(d, buf, len, path, res, err, errlen);
	free(buf);
	return r;
}
