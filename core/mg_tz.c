/* SPDX-License-Identifier: BSD-2-Clause */
/* A TZif reader and POSIX TZ rule evaluator that never touches TZ or tzset(). */
/* secure_getenv() is a GNU extension. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mg_err.h"
#include "mg_time.h"
#include "mg_tz.h"
#include "mg_util.h"

/*
 * Bounds for hostile input. Real zone files are under 4 KiB with a few
 * hundred transitions; a file beyond these is refused, not trusted.
 */
#define TZ_MAX_FILE	(256 * 1024)
#define TZ_MAX_TIMES	50000
#define TZ_MAX_TYPES	256
#define TZ_MAX_CHARS	256
#define TZ_MAX_FOOTER	128
#define TZ_MAX_ABBR	15
#define TZ_MAX_NAME	255
/* RFC 9636: a UT offset is in -89999..93599 (under 25h and 26h). */
#define TZ_OFF_MIN	(-89999)
#define TZ_OFF_MAX	93599
/* Offsets never exceed 26 hours, so a wall time maps within this of UTC. */
#define TZ_OFF_SPAN	93600
/* Transitions looked at when inverting a wall time; real zones need <= 2. */
#define TZ_MAX_NEAR	64

#define TZ_DEFAULT_DIR	"/usr/share/zoneinfo"

struct tz_type {
	int32_t off;
	uint8_t isdst;
	uint8_t abbr;		/* index into chars */
};

/* One date of a POSIX TZ rule: Jn, n or Mm.w.d, and the local time. */
struct tz_rdate {
	char kind;		/* 'J', 'n' or 'M' */
	int n, m, w, d;
	int32_t time;		/* seconds after local midnight; may be negative */
};

struct tz_rule {
	int32_t std_off;	/* seconds east of UTC */
	int32_t dst_off;
	int has_dst;
	char std_abbr[TZ_MAX_ABBR + 1];
	char dst_abbr[TZ_MAX_ABBR + 1];
	struct tz_rdate start, end;
};

struct mg_tz {
	char *name;
	size_t ntrans;
	int64_t *trans;
	uint8_t *idx;
	size_t ntypes;
	struct tz_type *types;
	char *chars;		/* NUL-terminated abbreviations */
	size_t nchars;
	int has_rule;		/* footer rule for times after the last transition */
	struct tz_rule rule;
};

struct tz_hdr {
	int version;		/* 1..4 */
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

/* Writes pre "name" post detail; post and detail may be NULL. */
static void
tz_err(char *err, size_t errlen, const char *pre, const char *name,
    const char *post, const char *detail)
{
	char q[80];

	/* Names reach logs: mg_quote bounds them and hides control characters. */
	mg_seterr(err, errlen, "%s\"%s\"%s%s", pre, mg_quote(name, q, sizeof(q)),
	    post != NULL ? post : "", detail != NULL ? detail : "");
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int64_t
get_be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)get_be32(p) << 32 | get_be32(p + 4));
}

/* Reads a TZif header at p (44 bytes available), checking its counts. */
static int
parse_hdr(const uint8_t *p, struct tz_hdr *h, const char **why)
{
	if (memcmp(p, "TZif", 4) != 0) {
		*why = "not a TZif file";
		return MG_ERR_PARSE;
	}
	switch (p[4]) {
	case '\0':	h->version = 1; break;
	case '2':	h->version = 2; break;
	case '3':	h->version = 3; break;
	case '4':	h->version = 4; break;
	default:
		*why = "unknown TZif version";
		return MG_ERR_PARSE;
	}
	h->isutcnt = get_be32(p + 20);
	h->isstdcnt = get_be32(p + 24);
	h->leapcnt = get_be32(p + 28);
	h->timecnt = get_be32(p + 32);
	h->typecnt = get_be32(p + 36);
	h->charcnt = get_be32(p + 40);
	if (h->typecnt == 0 || h->typecnt > TZ_MAX_TYPES ||
	    h->charcnt == 0 || h->charcnt > TZ_MAX_CHARS ||
	    h->timecnt > TZ_MAX_TIMES ||
	    (h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
	    (h->isstdcnt != 0 && h->isstdcnt != h->typecnt)) {
		*why = "bad counts in header";
		return MG_ERR_PARSE;
	}
	/*
	 * Leap-second ("right/") zones count seconds differently from the
	 * system clock; refusing them beats being off by half a minute.
	 */
	if (h->leapcnt != 0) {
		*why = "leap-second zones are not supported";
		return MG_ERR_PARSE;
	}
	return 0;
}

/* Size of the data block after a header; counts are bounded, so no overflow. */
static size_t
block_size(const struct tz_hdr *h, size_t timesize)
{
	return (size_t)h->timecnt * timesize + h->timecnt + (size_t)h->typecnt * 6 +
	    h->charcnt + (size_t)h->leapcnt * (timesize + 4) + h->isstdcnt +
	    h->isutcnt;
}

/* An abbreviation: 1 to 15 of [A-Za-z0-9+-], as RFC 9636 recommends. */
static int
abbr_ok(const char *s, size_t room)
{
	size_t i;

	for (i = 0; i < room && s[i] != '\0'; i++) {
		if (i >= TZ_MAX_ABBR || !((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '+' || s[i] == '-'))
			return 0;
	}
	return i > 0 && i < room;
}

static int
load_block(struct mg_tz *tz, const struct tz_hdr *h, const uint8_t *p,
    size_t timesize, const char **why)
{
	size_t i;

	tz->ntrans = h->timecnt;
	tz->ntypes = h->typecnt;
	tz->nchars = h->charcnt;
	if ((tz->trans = calloc(h->timecnt + 1, sizeof(*tz->trans))) == NULL ||
	    (tz->idx = calloc(h->timecnt + 1, 1)) == NULL ||
	    (tz->types = calloc(h->typecnt, sizeof(*tz->types))) == NULL ||
	    (tz->chars = calloc(h->charcnt + 1, 1)) == NULL)
		return MG_ERR_NOMEM;
	for (i = 0; i < h->timecnt; i++, p += timesize) {
		tz->trans[i] = timesize == 8 ? get_be64(p) : (int32_t)get_be32(p);
		/* Lookups binary-search these: disorder would give wrong offsets. */
		if (i > 0 && tz->trans[i] <= tz->trans[i - 1]) {
			*why = "transition times not in order";
			return MG_ERR_PARSE;
		}
	}
	for (i = 0; i < h->timecnt; i++, p++) {
		if (*p >= h->typecnt) {
			*why = "transition refers to a missing type";
			return MG_ERR_PARSE;
		}
		tz->idx[i] = *p;
	}
	for (i = 0; i < h->typecnt; i++, p += 6) {
		int32_t off = (int32_t)get_be32(p);

		if (off < TZ_OFF_MIN || off > TZ_OFF_MAX || p[4] > 1 ||
		    p[5] >= h->charcnt) {
			*why = "bad local time type";
			return MG_ERR_PARSE;
		}
		tz->types[i].off = off;
		tz->types[i].isdst = p[4];
		tz->types[i].abbr = p[5];
	}
	memcpy(tz->chars, p, h->charcnt);
	for (i = 0; i < h->typecnt; i++) {
		if (!abbr_ok(tz->chars + tz->types[i].abbr,
		    h->charcnt - tz->types[i].abbr)) {
			*why = "bad time zone abbreviation";
			return MG_ERR_PARSE;
		}
	}
	p += h->charcnt;
	/* Standard/wall and UT/local indicators only matter without a footer. */
	for (i = 0; i < (size_t)h->isstdcnt + h->isutcnt; i++) {
		if (p[i] > 1) {
			*why = "bad indicator";
			return MG_ERR_PARSE;
		}
	}
	return 0;
}

/* POSIX TZ string parsing (the footer), e.g. "EST5EDT,M3.2.0,M11.1.0". */

static int
parse_abbr(const char **pp, char *buf)
{
	const char *p = *pp;
	size_t n = 0;

	if (*p == '<') {
		for (p++; (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '+' || *p == '-'; p++) {
			if (n >= TZ_MAX_ABBR)
				return -1;
			buf[n++] = *p;
		}
		if (*p != '>')
			return -1;
		p++;
	} else {
		for (; (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'); p++) {
			if (n >= TZ_MAX_ABBR)
				return -1;
			buf[n++] = *p;
		}
	}
	if (n < 3)
		return -1;
	buf[n] = '\0';
	*pp = p;
	return 0;
}

/* Up to maxdig decimal digits, at least one; value in *v. */
static int
parse_num(const char **pp, int maxdig, int *v)
{
	const char *p = *pp;
	int n = 0, x = 0;

	while (*p >= '0' && *p <= '9') {
		if (++n > maxdig)
			return -1;
		x = x * 10 + (*p++ - '0');
	}
	if (n == 0)
		return -1;
	*v = x;
	*pp = p;
	return 0;
}

/* [+-]hh[:mm[:ss]] with hh <= maxh; the sign kept as given. */
static int
parse_hms(const char **pp, int maxh, int32_t *secs)
{
	const char *p = *pp;
	int sign = 1, h, m = 0, s = 0;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	if (parse_num(&p, 3, &h) != 0 || h > maxh)
		return -1;
	if (*p == ':') {
		p++;
		if (parse_num(&p, 2, &m) != 0 || m > 59)
			return -1;
		if (*p == ':') {
			p++;
			if (parse_num(&p, 2, &s) != 0 || s > 59)
				return -1;
		}
	}
	*secs = sign * (h * 3600 + m * 60 + s);
	*pp = p;
	return 0;
}

static int
parse_rdate(const char **pp, struct tz_rdate *d)
{
	const char *p = *pp;

	memset(d, 0, sizeof(*d));
	if (*p == 'J') {
		p++;
		d->kind = 'J';
		if (parse_num(&p, 3, &d->n) != 0 || d->n < 1 || d->n > 365)
			return -1;
	} else if (*p == 'M') {
		p++;
		d->kind = 'M';
		if (parse_num(&p, 2, &d->m) != 0 || d->m < 1 || d->m > 12 ||
		    *p++ != '.' || parse_num(&p, 1, &d->w) != 0 ||
		    d->w < 1 || d->w > 5 || *p++ != '.' ||
		    parse_num(&p, 1, &d->d) != 0 || d->d > 6)
			return -1;
	} else {
		d->kind = 'n';
		if (parse_num(&p, 3, &d->n) != 0 || d->n > 365)
			return -1;
	}
	d->time = 2 * 3600;
	/* RFC 9636 extends the hour to -167..167, e.g. "M9.1.6/24". */
	if (*p == '/') {
		p++;
		if (parse_hms(&p, 167, &d->time) != 0)
			return -1;
	}
	*pp = p;
	return 0;
}

static int
parse_posix(const char *s, struct tz_rule *r)
{
	const char *p = s;
	int32_t v;

	memset(r, 0, sizeof(*r));
	if (parse_abbr(&p, r->std_abbr) != 0 || parse_hms(&p, 24, &v) != 0)
		return -1;
	/* POSIX offsets count west of UTC; ours count east. */
	r->std_off = -v;
	if (*p == '\0')
		return 0;
	if (parse_abbr(&p, r->dst_abbr) != 0)
		return -1;
	r->has_dst = 1;
	r->dst_off = r->std_off + 3600;
	if (*p != ',' && *p != '\0') {
		if (parse_hms(&p, 24, &v) != 0)
			return -1;
		r->dst_off = -v;
	}
	if (r->std_off < TZ_OFF_MIN || r->std_off > TZ_OFF_MAX ||
	    r->dst_off < TZ_OFF_MIN || r->dst_off > TZ_OFF_MAX)
		return -1;
	/* DST without a rule would need "posixrules": guessing could fail open. */
	if (*p++ != ',' || parse_rdate(&p, &r->start) != 0 || *p++ != ',' ||
	    parse_rdate(&p, &r->end) != 0 || *p != '\0')
		return -1;
	return 0;
}

/* The day (since the epoch) a rule date falls on in year y. */
static int64_t
rdate_days(const struct tz_rdate *d, int y)
{
	int64_t jan1 = mg_days_from_civil(y, 1, 1), first, day;
	int wd;

	switch (d->kind) {
	case 'J':
		/* Jn never counts 29 February: J60 is always 1 March. */
		return jan1 + d->n - 1 + (mg_year_is_leap(y) && d->n >= 60);
	case 'n':
		return jan1 + d->n;
	default:
		first = mg_days_from_civil(y, d->m, 1);
		wd = (d->d + 6) % 7;	/* POSIX 0 = Sunday; ours 0 = Monday */
		day = first + (wd - mg_weekday(first) + 7) % 7 + 7 * (d->w - 1);
		/* Week 5 means the last such day of the month. */
		while (day >= first + mg_month_days(y, d->m))
			day -= 7;
		return day;
	}
}

struct tz_event {
	int64_t t;
	int to_dst;
};

/* The rule's DST start and end instants for years y0..y0+nyears-1, sorted. */
static size_t
rule_events(const struct tz_rule *r, int y0, int nyears, struct tz_event *ev)
{
	size_t n = 0, i, j;
	int y;

	for (y = y0; y < y0 + nyears; y++) {
		/* The start is given in standard time, the end in DST. */
		ev[n].t = rdate_days(&r->start, y) * 86400 + r->start.time - r->std_off;
		ev[n++].to_dst = 1;
		ev[n].t = rdate_days(&r->end, y) * 86400 + r->end.time - r->dst_off;
		ev[n++].to_dst = 0;
	}
	/*
	 * Insertion sort; at equal times the end sorts first, so a rule such
	 * as "0/0,J365/25" (DST all year) stays in DST across New Year.
	 */
	for (i = 1; i < n; i++) {
		struct tz_event e = ev[i];

		for (j = i; j > 0 && (ev[j - 1].t > e.t ||
		    (ev[j - 1].t == e.t && ev[j - 1].to_dst > e.to_dst)); j--)
			ev[j] = ev[j - 1];
		ev[j] = e;
	}
	return n;
}

static int
year_of(int64_t t)
{
	struct mg_datetime dt;

	mg_datetime_from_seconds(t, &dt);
	return dt.year;
}

static int
rule_isdst(const struct tz_rule *r, int64_t t)
{
	struct tz_event ev[6];
	size_t n, i;
	int dst;

	if (!r->has_dst)
		return 0;
	n = rule_events(r, year_of(t + r->std_off) - 1, 3, ev);
	/* Before the earliest event, the state is the one it leaves. */
	dst = !ev[0].to_dst;
	for (i = 0; i < n && ev[i].t <= t; i++)
		dst = ev[i].to_dst;
	return dst;
}

/* The type in force at t; t is within MG_TIME_MIN..MG_TIME_MAX +- 2 days. */
static void
lookup(const struct mg_tz *tz, int64_t t, int32_t *off, int *isdst,
    const char **abbr)
{
	const struct tz_type *ty;
	size_t lo, hi;

	if (tz->has_rule && (tz->ntrans == 0 || t >= tz->trans[tz->ntrans - 1])) {
		int dst = rule_isdst(&tz->rule, t);

		*off = dst ? tz->rule.dst_off : tz->rule.std_off;
		*isdst = dst;
		*abbr = dst ? tz->rule.dst_abbr : tz->rule.std_abbr;
		return;
	}
	/* Before the first transition type 0 applies (RFC 9636). */
	if (tz->ntrans == 0 || t < tz->trans[0])
		ty = &tz->types[0];
	else {
		/* Last transition at or before t: trans[lo] <= t < trans[hi]. */
		lo = 0;
		hi = tz->ntrans;
		while (hi - lo > 1) {
			size_t mid = lo + (hi - lo) / 2;

			if (tz->trans[mid] <= t)
				lo = mid;
			else
				hi = mid;
		}
		ty = &tz->types[tz->idx[lo]];
	}
	*off = ty->off;
	*isdst = ty->isdst;
	*abbr = tz->chars + ty->abbr;
}

static int32_t
offset_at(const struct mg_tz *tz, int64_t t)
{
	const char *abbr;
	int32_t off;
	int isdst;

	lookup(tz, t, &off, &isdst, &abbr);
	return off;
}

/* First change of UTC offset strictly after t, or -1 with none. */
static int
next_change(const struct mg_tz *tz, int64_t t, int64_t *next)
{
	struct tz_event ev[10];
	int32_t cur = offset_at(tz, t);
	int64_t base = t;
	size_t i, n;

	if (tz->ntrans > 0 && t < tz->trans[tz->ntrans - 1]) {
		size_t lo = 0, hi = tz->ntrans - 1;

		/* First transition after t: trans[hi] > t. */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (tz->trans[mid] > t)
				hi = mid;
			else
				lo = mid + 1;
		}
		for (i = hi; i < tz->ntrans; i++) {
			/* A file may list absurd times; past year 9999 we stop. */
			if (tz->trans[i] > MG_TIME_MAX)
				return -1;
			if (offset_at(tz, tz->trans[i]) != cur) {
				*next = tz->trans[i];
				return 0;
			}
		}
		base = tz->trans[tz->ntrans - 1];
	}
	if (!tz->has_rule || !tz->rule.has_dst || base > MG_TIME_MAX)
		return -1;
	/* A rule changes at least every year unless it never changes at all. */
	n = rule_events(&tz->rule, year_of(base + tz->rule.std_off) - 1, 5, ev);
	for (i = 0; i < n; i++) {
		if (ev[i].t <= base || ev[i].t > MG_TIME_MAX)
			continue;
		if (offset_at(tz, ev[i].t) != cur) {
			*next = ev[i].t;
			return 0;
		}
	}
	return -1;
}

static int
name_ok(const char *name)
{
	size_t i, n = strlen(name);

	/*
	 * Only [A-Za-z0-9_+-/] and no empty component: with '.' excluded
	 * there can be no ".." and no hidden file, and no leading '/' keeps
	 * the name inside the zoneinfo directory.
	 */
	if (n == 0 || n > TZ_MAX_NAME || name[0] == '/' || name[n - 1] == '/')
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-' ||
		    c == '/'))
			return 0;
		if (c == '/' && name[i + 1] == '/')
			return 0;
	}
	return 1;
}

void
mg_tz_free(struct mg_tz *tz)
{
	if (tz == NULL)
		return;
	free(tz->name);
	free(tz->trans);
	free(tz->idx);
	free(tz->types);
	free(tz->chars);
	free(tz);
}

int
mg_tz_parse(const void *buf, size_t len, const char *name, struct mg_tz **out,
    char *err, size_t errlen)
{
	const uint8_t *p = buf;
	struct mg_tz *tz = NULL;
	struct tz_hdr h1, h2;
	const char *why = NULL;
	char footer[TZ_MAX_FOOTER + 1];
	size_t off, sz, flen;
	int r = MG_ERR_PARSE;

	if (out != NULL)
		*out = NULL;
	if (err != NULL && errlen > 0)
		*err = '\0';
	if ((buf == NULL && len != 0) || out == NULL)
		return MG_ERR_INVAL;
	if (name == NULL)
		name = "(unnamed)";
	if (len > TZ_MAX_FILE) {
		tz_err(err, errlen, "time zone ", name, ": file too large", NULL);
		return MG_ERR_TOOBIG;
	}
	if ((tz = calloc(1, sizeof(*tz))) == NULL ||
	    (tz->name = strdup(name)) == NULL) {
		r = MG_ERR_NOMEM;
		goto out;
	}
	if (len < 44) {
		why = "truncated header";
		goto out;
	}
	if ((r = parse_hdr(p, &h1, &why)) != 0)
		goto out;
	r = MG_ERR_PARSE;
	sz = block_size(&h1, 4);
	if (sz > len - 44) {
		why = "truncated data";
		goto out;
	}
	if (h1.version == 1) {
		/* No 64-bit data and no footer: the v1 block is all there is. */
		if (44 + sz != len) {
			why = "trailing data";
			goto out;
		}
		if ((r = load_block(tz, &h1, p + 44, 4, &why)) != 0)
			goto out;
		*out = tz;
		tz = NULL;
		r = 0;
		goto out;
	}
	off = 44 + sz;
	if (len - off < 44) {
		why = "truncated second header";
		goto out;
	}
	if ((r = parse_hdr(p + off, &h2, &why)) != 0)
		goto out;
	r = MG_ERR_PARSE;
	if (h2.version != h1.version) {
		why = "headers disagree";
		goto out;
	}
	off += 44;
	sz = block_size(&h2, 8);
	if (sz > len - off) {
		why = "truncated 64-bit data";
		goto out;
	}
	if ((r = load_block(tz, &h2, p + off, 8, &why)) != 0)
		goto out;
	r = MG_ERR_PARSE;
	off += sz;
	/* The footer: "\n" TZ-string "\n", and nothing after it. */
	if (off >= len || p[off] != '\n') {
		why = "missing footer";
		goto out;
	}
	off++;
	for (flen = 0; off + flen < len && p[off + flen] != '\n'; flen++) {
		if (flen >= TZ_MAX_FOOTER || p[off + flen] == '\0') {
			why = "bad footer";
			goto out;
		}
		footer[flen] = (char)p[off + flen];
	}
	if (off + flen + 1 != len) {
		why = off + flen == len ? "unterminated footer" : "trailing data";
		goto out;
	}
	footer[flen] = '\0';
	/* An empty footer leaves times after the last transition to it. */
	if (flen > 0) {
		if (parse_posix(footer, &tz->rule) != 0) {
			why = "bad TZ string in footer";
			goto out;
		}
		tz->has_rule = 1;
	}
	*out = tz;
	tz = NULL;
	r = 0;
 out:
	if (r == MG_ERR_PARSE && why != NULL)
		tz_err(err, errlen, "time zone ", name, ": damaged file: ", why);
	else if (r == MG_ERR_NOMEM)
		tz_err(err, errlen, "time zone ", name, ": ", "out of memory");
	mg_tz_free(tz);
	return r;
}

int
mg_tz_load(const char *name, struct mg_tz **out, char *err, size_t errlen)
{
	const char *dir;
	char path[4096];
	uint8_t *buf = NULL;
	struct stat st;
	size_t len = 0;
	ssize_t got;
	int fd = -1, r = MG_ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	if (err != NULL && errlen > 0)
		*err = '\0';
	if (name == NULL || out == NULL)
		return MG_ERR_INVAL;
	if (!name_ok(name)) {
		tz_err(err, errlen, "invalid time zone name ", name, NULL, NULL);
		return MG_ERR_INVAL;
	}
	/*
	 * secure_getenv: in a set-uid program (su, sudo) the caller must not
	 * pick the zone data, or it could move a time window at will.
	 */
	if ((dir = secure_getenv("TZDIR")) == NULL || *dir == '\0')
		dir = TZ_DEFAULT_DIR;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
		tz_err(err, errlen, "time zone ", name, ": path too long", NULL);
		return MG_ERR_INVAL;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR) {
			tz_err(err, errlen, "unknown time zone ", name, NULL, NULL);
			r = MG_ERR_NOENT;
		} else {
			tz_err(err, errlen, "time zone ", name, ": ", strerror(errno));
			r = MG_ERR_SYSTEM;
		}
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		tz_err(err, errlen, "time zone ", name, ": ", strerror(errno));
		r = MG_ERR_SYSTEM;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		tz_err(err, errlen, "unknown time zone ", name,
		    " (not a zone file)", NULL);
		r = MG_ERR_NOENT;
		goto out;
	}
	if (st.st_size > TZ_MAX_FILE) {
		tz_err(err, errlen, "time zone ", name, ": file too large", NULL);
		r = MG_ERR_TOOBIG;
		goto out;
	}
	/* One spare byte shows a file that grew after fstat. */
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		r = MG_ERR_NOMEM;
		goto out;
	}
	while (len < (size_t)st.st_size + 1) {
		got = read(fd, buf + len, (size_t)st.st_size + 1 - len);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1) {
			tz_err(err, errlen, "time zone ", name, ": ", strerror(errno));
			r = MG_ERR_IO;
			goto out;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	if (len != (size_t)st.st_size) {
		tz_err(err, errlen, "time zone ", name,
		    ": file changed while read", NULL);
		r = MG_ERR_IO;
		goto out;
	}
	r = mg_tz_parse(buf, len, name, out, err, errlen);
 out:
	if (fd != -1)
		close(fd);
	free(buf);
	return r;
}

int
mg_tz_utc(struct mg_tz **out)
{
	struct mg_tz *tz;

	if (out == NULL)
		return MG_ERR_INVAL;
	*out = NULL;
	if ((tz = calloc(1, sizeof(*tz))) == NULL ||
	    (tz->name = strdup("UTC")) == NULL ||
	    (tz->types = calloc(1, sizeof(*tz->types))) == NULL ||
	    (tz->chars = strdup("UTC")) == NULL) {
		mg_tz_free(tz);
		return MG_ERR_NOMEM;
	}
	tz->ntypes = 1;
	tz->nchars = 4;
	*out = tz;
	return 0;
}

const char *
mg_tz_name(const struct mg_tz *tz)
{
	return tz == NULL ? NULL : tz->name;
}

static int
in_range(int64_t t)
{
	return t >= MG_TIME_MIN && t <= MG_TIME_MAX;
}

int
mg_tz_offset(const struct mg_tz *tz, time_t t, int *gmtoff, int *isdst,
    const char **abbr)
{
	const char *a = "";
	int32_t off = 0;
	int dst = 0;

	if (tz == NULL)
		return MG_ERR_INVAL;
	if (!in_range(t))
		return MG_ERR_RANGE;
	lookup(tz, t, &off, &dst, &a);
	if (gmtoff != NULL)
		*gmtoff = off;
	if (isdst != NULL)
		*isdst = dst;
	if (abbr != NULL)
		*abbr = a;
	return 0;
}

int
mg_tz_to_local(const struct mg_tz *tz, time_t t, struct mg_datetime *out)
{
	if (tz == NULL || out == NULL)
		return MG_ERR_INVAL;
	if (!in_range(t))
		return MG_ERR_RANGE;
	mg_datetime_from_seconds((int64_t)t + offset_at(tz, t), out);
	return 0;
}

int
mg_tz_local_seconds(const struct mg_tz *tz, time_t t, int64_t *local)
{
	if (tz == NULL || local == NULL)
		return MG_ERR_INVAL;
	if (!in_range(t))
		return MG_ERR_RANGE;
	*local = (int64_t)t + offset_at(tz, t);
	return 0;
}

int
mg_tz_from_local_seconds(const struct mg_tz *tz, int64_t lt, time_t out[2],
    int *n)
{
	int32_t offs[TZ_MAX_NEAR + 1];
	int64_t t, sol[TZ_MAX_NEAR + 1], hi;
	size_t noffs = 0, nsol = 0, i, j;

	if (n != NULL)
		*n = 0;
	if (tz == NULL || out == NULL || n == NULL)
		return MG_ERR_INVAL;
	if (!in_range(lt))
		return MG_ERR_RANGE;
	/*
	 * Every offset in force within 26 hours either side is a candidate:
	 * lt - off is a solution when that offset is in force then.
	 */
	t = lt - TZ_OFF_SPAN;
	hi = lt + TZ_OFF_SPAN;
	offs[noffs++] = offset_at(tz, t);
	while (noffs <= TZ_MAX_NEAR && next_change(tz, t, &t) == 0 && t <= hi)
		offs[noffs++] = offset_at(tz, t);
	for (i = 0; i < noffs; i++) {
		int dup = 0;

		for (j = 0; j < i; j++)
			dup |= offs[j] == offs[i];
		t = lt - offs[i];
		if (!dup && in_range(t) && offset_at(tz, t) == offs[i])
			sol[nsol++] = t;
	}
	for (i = 1; i < nsol; i++) {
		int64_t v = sol[i];

		for (j = i; j > 0 && sol[j - 1] > v; j--)
			sol[j] = sol[j - 1];
		sol[j] = v;
	}
	/* Real zones give at most two; a stranger file keeps the outer ones. */
	if (nsol > 0) {
		out[0] = sol[0];
		out[1] = sol[nsol - 1];
		*n = nsol > 1 ? 2 : 1;
	}
	return 0;
}

int
mg_tz_from_local(const struct mg_tz *tz, const struct mg_datetime *lt,
    time_t out[2], int *n)
{
	if (n != NULL)
		*n = 0;
	if (tz == NULL || lt == NULL || out == NULL || n == NULL)
		return MG_ERR_INVAL;
	if (!mg_datetime_valid(lt))
		return MG_ERR_INVAL;
	return mg_tz_from_local_seconds(tz, mg_datetime_to_seconds(lt), out, n);
}

int
mg_tz_next_transition(const struct mg_tz *tz, time_t t, time_t *next)
{
	int64_t nx;

	if (tz == NULL || next == NULL)
		return MG_ERR_INVAL;
	*next = 0;
	if (!in_range(t))
		return MG_ERR_RANGE;
	if (next_change(tz, t, &nx) != 0 || !in_range(nx))
		return MG_ERR_NOENT;
	*next = nx;
	return 0;
}
