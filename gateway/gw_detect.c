/* SPDX-License-Identifier: BSD-2-Clause */
/* The Cloud Hopper detector: rules over session, MFA and command events, with bounded, persisted history. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>

#include "gw_detect.h"
#include "mg_addr.h"
#include "mg_err.h"
#include "mg_file.h"
#include "mg_log.h"
#include "mg_name.h"
#include "mg_time.h"

/*
 * Memory. Every table is bounded and the bounds are the GW_DETECT_*
 * constants: at most 2048 engineers (7.7 KiB each), 32768 tenant/target
 * entries in all (144 bytes each) and 4096 MFA failure sources (1 KiB
 * each): about 25 MiB in the worst case, a few hundred KiB in practice.
 * Engineers and sources are in a hash table and an LRU list; when a table
 * is full the least recently seen entry without live sessions goes. An
 * engineer losing its history makes the detector alert more (first
 * access), never less, except for fan-out, which only needs the last
 * "within" and whose entries are the most recently touched.
 *
 * Counters ("n events within T") are rings of time buckets: an event joins
 * the newest bucket when that bucket started less than T/32 ago, else it
 * opens a new one; a full ring merges its two oldest buckets. Counts are
 * exact; a bucket expires when its newest event leaves the window, so an
 * event is counted for at most T + T/32 and never less than T: the error
 * is always towards alerting.
 */

#define KEY_MAX		(GW_DETECT_NAME_MAX + 1)
#define ADDR_MAX	INET6_ADDRSTRLEN
#define HOURS_PER_WEEK	168
#define EGRESS_HOURS	24
#define SRC_ENGS	8
#define TEXT_MAX	(64 * 1024)
#define LINE_MAX_LEN	4096
#define STATE_MAGIC	"mspgate-detect 1"

struct bucket {
	time_t first, last;
	uint32_t n;
};

struct ring {
	struct bucket b[GW_DETECT_RING];	/* oldest first */
	unsigned nb;
};

/* An entry of a hash table with an LRU list; embedded first in its owner. */
struct node {
	struct node *hnext, *prev, *next;
	uint64_t h;
	char key[KEY_MAX];
};

struct tab {
	struct node **b;
	size_t nb, n;
	struct node head;	/* LRU sentinel: head.next is the most recent */
};

struct access {
	char tenant[KEY_MAX];
	char target[KEY_MAX];
	time_t last;
};

struct net {
	char net[MG_CIDR_STRLEN];
	time_t last;
};

struct live {
	char id[GW_DETECT_ID_MAX + 1];
	char source[ADDR_MAX];
	time_t start;
	uint64_t bytes;
	unsigned flags;		/* LIVE_EGRESS_FIRED */
};
#define LIVE_EGRESS_FIRED 0x1u

struct fired {
	time_t last;
	uint64_t key;
};

struct eng {
	struct node node;
	time_t first_seen, last_seen;	/* sessions started */
	uint32_t nsessions;
	time_t hours[HOURS_PER_WEEK];	/* last session start at each hour of the week (UTC) */
	struct access *acc;
	size_t nacc, acc_cap;
	struct net nets[GW_DETECT_NETS_PER_ENG];
	size_t nnets;
	struct live live[GW_DETECT_LIVE_PER_ENG];
	size_t nlive;
	struct ring off, mfa;
	struct {
		int64_t hour;	/* hours since the epoch */
		uint64_t bytes;
	} egress[EGRESS_HOURS];
	size_t negress;
	struct fired fired[GW_DETECT_NRULES];
};

struct src {
	struct node node;
	struct ring mfa;
	struct {
		uint64_t h;
		time_t last;
	} engs[SRC_ENGS];
	size_t nengs;
	struct fired fired;
};

struct gw_detect {
	struct pol_alert_rule rule[GW_DETECT_NRULES];
	regex_t *re;
	char **pat;		/* the pattern texts, for evidence */
	size_t npat;
	struct tab engs, srcs;
	size_t nacc_total;
	int dirty;
};

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

/*
 * Every rule in one place: its key in the policy's alerts section, the
 * "rule" of its audit events, what the engineer is told in "refused:
 * unusual activity (WORDS); ..." (the docs' examples are generated from
 * these words), and how sure a hit is that something is wrong (its syslog
 * priority). A new rule is one entry here and its checker below.
 */
static const struct rule_def {
	const char *name;
	const char *audit;
	const char *words;
	int severity;
} rule_defs[GW_DETECT_NRULES] = {
	[GW_DETECT_FANOUT] = { "fanout", "alerts.fanout", "tenant fan-out", LOG_ALERT },
	[GW_DETECT_FIRST_ACCESS] = { "first_access", "alerts.first_access", "first access",
	    LOG_WARNING },
	[GW_DETECT_OFF_HOURS] = { "off_hours", "alerts.off_hours", "off-hours attempts",
	    LOG_WARNING },
	[GW_DETECT_MFA_FAILURES] = { "mfa_failures", "alerts.mfa_failures", "MFA failures",
	    LOG_WARNING },
	[GW_DETECT_UNUSUAL] = { "unusual", "alerts.unusual", "unusual time or source",
	    LOG_WARNING },
	[GW_DETECT_PARALLEL] = { "parallel", "alerts.parallel", "parallel use", LOG_ALERT },
	[GW_DETECT_EGRESS] = { "egress", "alerts.egress", "data egress", LOG_ALERT },
	[GW_DETECT_SENSITIVE] = { "sensitive_commands", "alerts.sensitive_commands",
	    "sensitive command", LOG_ALERT },
	[GW_DETECT_STATE] = { "state", "alerts.state", "detector", LOG_ALERT },
};

const char *
gw_detect_rule_name(enum gw_detect_rule r)
{
	return (unsigned)r < GW_DETECT_NRULES ? rule_defs[r].name : "?";
}

const char *
gw_detect_rule_words(enum gw_detect_rule r)
{
	return (unsigned)r < GW_DETECT_NRULES ? rule_defs[r].words : "detector";
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

/* ------------------------------------------------------------------ */
/* small helpers */

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static uint64_t
hash2(const char *a, const char *b)
{
	uint64_t h = hash_str(a);

	h = (h ^ '/') * 1099511628211ULL;
	for (; b && *b; b++)
		h = (h ^ (unsigned char)*b) * 1099511628211ULL;
	return h;
}

/* Session ids: letters, digits and "_.-:", up to GW_DETECT_ID_MAX. */
static int
id_ok(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return 0;
	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (i >= GW_DETECT_ID_MAX)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' || c == ':'))
			return 0;
	}
	return 1;
}

/*
 * A numeric address in its canonical text (IPv4-mapped IPv6 as IPv4) and
 * its network: /24 for IPv4, /48 for IPv6. 0, or MG_ERR_INVAL.
 */
static int
addr_norm(const char *in, char addr[ADDR_MAX], char net[MG_CIDR_STRLEN])
{
	unsigned char b[16];
	struct mg_cidr c;

	if (in == NULL || strlen(in) >= ADDR_MAX)
		return MG_ERR_INVAL;
	memset(&c, 0, sizeof(c));
	if (inet_pton(AF_INET, in, b) == 1) {
		c.family = AF_INET;
		memcpy(c.addr, b, 4);
	} else if (inet_pton(AF_INET6, in, b) == 1) {
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		    0xff, 0xff };

		if (memcmp(b, mapped, 12) == 0) {
			c.family = AF_INET;
			memcpy(c.addr, b + 12, 4);
		} else {
			c.family = AF_INET6;
			memcpy(c.addr, b, 16);
		}
	} else
		return MG_ERR_INVAL;
	if (inet_ntop(c.family, c.addr, addr, ADDR_MAX) == NULL)
		return MG_ERR_INVAL;
	if (c.family == AF_INET) {
		c.prefix = 24;
		c.addr[3] = 0;
	} else {
		c.prefix = 48;
		memset(c.addr + 6, 0, 10);
	}
	mg_cidr_format(&c, net, MG_CIDR_STRLEN);
	return 0;
}

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
/* counters */

static void
ring_prune(struct ring *r, time_t now, int64_t within)
{
	unsigned i = 0;

	while (i < r->nb && (int64_t)now - (int64_t)r->b[i].last >= within)
		i++;
	if (i > 0) {
		memmove(r->b, r->b + i, (r->nb - i) * sizeof(r->b[0]));
		r->nb -= i;
	}
}

static void
ring_add(struct ring *r, time_t now, int64_t within)
{
	int64_t span = within / GW_DETECT_RING;
	struct bucket *nb;

	ring_prune(r, now, within);
	if (r->nb > 0) {
		nb = &r->b[r->nb - 1];
		if ((int64_t)now >= (int64_t)nb->first &&
		    (int64_t)now - (int64_t)nb->first < (span > 0 ? span : 1)) {
			if (now > nb->last)
				nb->last = now;
			if (nb->n < UINT32_MAX)
				nb->n++;
			return;
		}
	}
	if (r->nb == GW_DETECT_RING) {
		/* Merged into the newer one: they expire later, never sooner. */
		r->b[1].first = r->b[0].first;
		r->b[1].n = r->b[0].n > UINT32_MAX - r->b[1].n ? UINT32_MAX :
		    r->b[0].n + r->b[1].n;
		memmove(r->b, r->b + 1, (r->nb - 1) * sizeof(r->b[0]));
		r->nb--;
	}
	r->b[r->nb++] = (struct bucket){ now, now, 1 };
}

static uint64_t
ring_count(const struct ring *r, time_t now, int64_t within)
{
	uint64_t n = 0;
	unsigned i;

	for (i = 0; i < r->nb; i++)
		if ((int64_t)now - (int64_t)r->b[i].last < within)
			n += r->b[i].n;
	return n;
}

/* ------------------------------------------------------------------ */
/* hash tables with an LRU list */

static int
tab_init(struct tab *t, size_t nb)
{
	if ((t->b = calloc(nb, sizeof(*t->b))) == NULL)
		return MG_ERR_NOMEM;
	t->nb = nb;
	t->n = 0;
	t->head.next = t->head.prev = &t->head;
	return 0;
}

static struct node *
tab_find(const struct tab *t, const char *key)
{
	uint64_t h = hash_str(key);
	struct node *n;

	for (n = t->b[h % t->nb]; n != NULL; n = n->hnext)
		if (n->h == h && strcmp(n->key, key) == 0)
			return n;
	return NULL;
}

static void
lru_unlink(struct node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
}

static void
lru_front(struct tab *t, struct node *n)
{
	n->next = t->head.next;
	n->prev = &t->head;
	t->head.next->prev = n;
	t->head.next = n;
}

static void
tab_touch(struct tab *t, struct node *n)
{
	lru_unlink(n);
	lru_front(t, n);
}

static void
tab_insert(struct tab *t, struct node *n, const char *key)
{
	snprintf(n->key, sizeof(n->key), "%s", key);
	n->h = hash_str(n->key);
	n->hnext = t->b[n->h % t->nb];
	t->b[n->h % t->nb] = n;
	lru_front(t, n);
	t->n++;
}

static void
tab_remove(struct tab *t, struct node *n)
{
	struct node **pp;

	for (pp = &t->b[n->h % t->nb]; *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == n) {
			*pp = n->hnext;
			break;
		}
	lru_unlink(n);
	t->n--;
}

/* ------------------------------------------------------------------ */
/* engineers and sources */

static void
eng_free(struct gw_detect *d, struct eng *e)
{
	if (e == NULL)
		return;
	d->nacc_total -= e->nacc;
	free(e->acc);
	free(e);
}

static void
eng_remove(struct gw_detect *d, struct eng *e)
{
	tab_remove(&d->engs, &e->node);
	eng_free(d, e);
}

/*
 * Makes room by dropping the least recently seen engineer that has no
 * live session, looking at most 64 entries from the old end; keep may not
 * go. Entries with no access history (MFA failures of made-up names) go
 * first, so a flood of those cannot push out real history.
 */
static int
eng_evict(struct gw_detect *d, const struct eng *keep)
{
	struct node *n;
	struct eng *light = NULL, *any = NULL;
	int i;

	for (n = d->engs.head.prev, i = 0; n != &d->engs.head && i < 64;
	    n = n->prev, i++) {
		struct eng *e = (struct eng *)n;

		if (e == keep || e->nlive > 0)
			continue;
		if (e->nacc == 0) {
			light = e;
			break;
		}
		if (any == NULL)
			any = e;
	}
	if (light == NULL)
		light = any;
	if (light == NULL) {
		/* Every old entry has live sessions: the oldest goes anyway. */
		for (n = d->engs.head.prev; n != &d->engs.head; n = n->prev)
			if ((struct eng *)n != keep) {
				light = (struct eng *)n;
				break;
			}
	}
	if (light == NULL)
		return MG_ERR_NOMEM;
	eng_remove(d, light);
	return 0;
}

static int
eng_get(struct gw_detect *d, const char *name, struct eng **out)
{
	struct node *n = tab_find(&d->engs, name);
	struct eng *e;
	int r;

	*out = NULL;
	if (n != NULL) {
		tab_touch(&d->engs, n);
		*out = (struct eng *)n;
		return 0;
	}
	while (d->engs.n >= GW_DETECT_MAX_ENGINEERS)
		if ((r = eng_evict(d, NULL)) != 0)
			return r;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return MG_ERR_NOMEM;
	tab_insert(&d->engs, &e->node, name);
	*out = e;
	return 0;
}

static int
src_get(struct gw_detect *d, const char *addr, struct src **out)
{
	struct node *n = tab_find(&d->srcs, addr);
	struct src *s;

	*out = NULL;
	if (n != NULL) {
		tab_touch(&d->srcs, n);
		*out = (struct src *)n;
		return 0;
	}
	if (d->srcs.n >= GW_DETECT_MAX_SOURCES) {
		struct node *old = d->srcs.head.prev;

		tab_remove(&d->srcs, old);
		free(old);
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return MG_ERR_NOMEM;
	tab_insert(&d->srcs, &s->node, addr);
	*out = s;
	return 0;
}

static void
tabs_clear(struct gw_detect *d)
{
	struct node *n, *next;

	for (n = d->engs.head.next; n != &d->engs.head; n = next) {
		next = n->next;
		eng_free(d, (struct eng *)n);
	}
	for (n = d->srcs.head.next; n != &d->srcs.head; n = next) {
		next = n->next;
		free(n);
	}
	memset(d->engs.b, 0, d->engs.nb * sizeof(*d->engs.b));
	memset(d->srcs.b, 0, d->srcs.nb * sizeof(*d->srcs.b));
	d->engs.n = d->srcs.n = 0;
	d->engs.head.next = d->engs.head.prev = &d->engs.head;
	d->srcs.head.next = d->srcs.head.prev = &d->srcs.head;
	d->nacc_total = 0;
}

/* How long access entries matter: the longer of first_access and fanout. */
static int64_t
access_horizon(const struct gw_detect *d)
{
	int64_t a = d->rule[GW_DETECT_FIRST_ACCESS].count * 86400;
	int64_t b = d->rule[GW_DETECT_FANOUT].within;

	return a > b ? a : b;
}

static int
access_add(struct gw_detect *d, struct eng *e, const char *tenant, const char *target,
    time_t now)
{
	int64_t horizon = access_horizon(d);
	size_t i, oldest = 0;
	int r;

	for (i = 0; i < e->nacc; i++)
		if (strcmp(e->acc[i].tenant, tenant) == 0 &&
		    strcmp(e->acc[i].target, target) == 0) {
			e->acc[i].last = now;
			return 0;
		}
	/* Expired entries go first. */
	for (i = 0; i < e->nacc; ) {
		if ((int64_t)now - (int64_t)e->acc[i].last >= horizon) {
			e->acc[i] = e->acc[--e->nacc];
			d->nacc_total--;
		} else
			i++;
	}
	if (e->nacc >= GW_DETECT_ACCESS_PER_ENG) {
		for (i = 1; i < e->nacc; i++)
			if (e->acc[i].last < e->acc[oldest].last)
				oldest = i;
		e->acc[oldest] = e->acc[--e->nacc];
		d->nacc_total--;
	}
	while (d->nacc_total >= GW_DETECT_ACCESS_TOTAL)
		if ((r = eng_evict(d, e)) != 0)
			return r;
	if (e->nacc == e->acc_cap) {
		size_t cap = e->acc_cap ? e->acc_cap * 2 : 8;
		struct access *na;

		if (cap > GW_DETECT_ACCESS_PER_ENG)
			cap = GW_DETECT_ACCESS_PER_ENG;
		if ((na = reallocarray(e->acc, cap, sizeof(*na))) == NULL)
			return MG_ERR_NOMEM;
		e->acc = na;
		e->acc_cap = cap;
	}
	snprintf(e->acc[e->nacc].tenant, KEY_MAX, "%s", tenant);
	snprintf(e->acc[e->nacc].target, KEY_MAX, "%s", target);
	e->acc[e->nacc].last = now;
	e->nacc++;
	d->nacc_total++;
	return 0;
}

static void
net_add(struct eng *e, const char *net, time_t now)
{
	size_t i, oldest = 0;

	for (i = 0; i < e->nnets; i++)
		if (strcmp(e->nets[i].net, net) == 0) {
			e->nets[i].last = now;
			return;
		}
	if (e->nnets < GW_DETECT_NETS_PER_ENG)
		i = e->nnets++;
	else {
		for (i = 1; i < e->nnets; i++)
			if (e->nets[i].last < e->nets[oldest].last)
				oldest = i;
		i = oldest;
	}
	snprintf(e->nets[i].net, sizeof(e->nets[i].net), "%s", net);
	e->nets[i].last = now;
}

static struct live *
live_find(struct eng *e, const char *id)
{
	size_t i;

	for (i = 0; i < e->nlive; i++)
		if (strcmp(e->live[i].id, id) == 0)
			return &e->live[i];
	return NULL;
}

static void
live_expire(struct eng *e, time_t now)
{
	size_t i;

	for (i = 0; i < e->nlive; ) {
		if ((int64_t)now - (int64_t)e->live[i].start >= GW_DETECT_LIVE_MAX_AGE)
			e->live[i] = e->live[--e->nlive];
		else
			i++;
	}
}

static int
hour_of_week(time_t t)
{
	int64_t days = (int64_t)t >= 0 ? (int64_t)t / 86400 : ((int64_t)t - 86399) / 86400;
	int64_t secs = (int64_t)t - days * 86400;

	return mg_weekday(days) * 24 + (int)(secs / 3600);
}

static uint64_t
egress_day(struct eng *e, time_t now)
{
	int64_t hour = (int64_t)now / 3600;
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < e->negress; i++)
		/* An hour ahead of the clock (stepped back) still counts. */
		if (hour - e->egress[i].hour < EGRESS_HOURS)
			sum += e->egress[i].bytes;
	return sum;
}

static void
egress_add(struct eng *e, time_t now, uint64_t bytes)
{
	int64_t hour = (int64_t)now / 3600;
	size_t i;

	for (i = 0; i < e->negress; ) {
		if (hour - e->egress[i].hour >= EGRESS_HOURS)
			e->egress[i] = e->egress[--e->negress];
		else
			i++;
	}
	for (i = 0; i < e->negress; i++)
		if (e->egress[i].hour == hour) {
			e->egress[i].bytes = bytes > UINT64_MAX - e->egress[i].bytes ?
			    UINT64_MAX : e->egress[i].bytes + bytes;
			return;
		}
	if (e->negress == EGRESS_HOURS) {
		/* Only an hour in the future (clock stepped back) can be here. */
		size_t j, far = 0;

		for (j = 1; j < e->negress; j++)
			if (e->egress[j].hour > e->egress[far].hour)
				far = j;
		e->egress[far] = e->egress[--e->negress];
	}
	e->egress[e->negress].hour = hour;
	e->egress[e->negress].bytes = bytes;
	e->negress++;
}

/* ------------------------------------------------------------------ */
/* the policy */

static void
free_patterns(regex_t *re, char **pat, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (re != NULL)
			regfree(&re[i]);
		free(pat[i]);
	}
	free(re);
	free(pat);
}

int
gw_detect_set_policy(struct gw_detect *d, const struct pol_alerts *a,
    char *err, size_t errlen)
{
	const char *const *src;
	size_t n, i, done = 0;
	regex_t *re = NULL;
	char **pat = NULL;
	int r = MG_ERR_NOMEM;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (a->npatterns > 0) {
		src = (const char *const *)a->patterns;
		n = a->npatterns;
	} else {
		src = gw_detect_default_patterns;
		for (n = 0; src[n] != NULL; n++)
			;
	}
	if ((re = calloc(n, sizeof(*re))) == NULL || (pat = calloc(n, sizeof(*pat))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		int rc;

		if ((pat[i] = strdup(src[i])) == NULL)
			goto out;
		if ((rc = regcomp(&re[i], src[i], REG_EXTENDED | REG_NOSUB | REG_ICASE)) != 0) {
			char e[128];

			regerror(rc, &re[i], e, sizeof(e));
			if (err != NULL)
				snprintf(err, errlen, "alerts.sensitive_commands: bad pattern "
				    "\"%.100s\": %s", src[i], e);
			r = MG_ERR_POLICY;
			goto out;
		}
		done = i + 1;
	}
	d->rule[GW_DETECT_FANOUT] = a->fanout;
	d->rule[GW_DETECT_FIRST_ACCESS] = a->first_access;
	d->rule[GW_DETECT_OFF_HOURS] = a->off_hours;
	d->rule[GW_DETECT_MFA_FAILURES] = a->mfa_failures;
	d->rule[GW_DETECT_UNUSUAL] = a->unusual;
	d->rule[GW_DETECT_PARALLEL] = a->parallel;
	d->rule[GW_DETECT_EGRESS] = a->egress;
	d->rule[GW_DETECT_SENSITIVE] = a->sensitive;
	/* The detector's own state: always on, alert only. */
	d->rule[GW_DETECT_STATE] = (struct pol_alert_rule){ 1, POL_ACT_ALERT, 0, 0, 0, 0,
	    { NULL, 0 } };
	/* Thresholds the loader guarantees, enforced again: a zero would fire on
	 * everything or divide nothing; both are clamped to "at least one". */
	for (i = 0; i < GW_DETECT_NRULES; i++) {
		if (d->rule[i].count < 1)
			d->rule[i].count = 1;
		if (d->rule[i].within < 1)
			d->rule[i].within = 1;
	}
	free_patterns(d->re, d->pat, d->npat);
	d->re = re;
	d->pat = pat;
	d->npat = n;
	return 0;
out:
	if (re != NULL) {
		for (i = 0; i < done; i++)
			regfree(&re[i]);
		free(re);
	}
	if (pat != NULL) {
		for (i = 0; i < n; i++)
			free(pat[i]);
		free(pat);
	}
	if (r == MG_ERR_NOMEM && err != NULL)
		snprintf(err, errlen, "out of memory");
	return r;
}

int
gw_detect_new(const struct pol_alerts *a, struct gw_detect **out, char *err, size_t errlen)
{
	struct gw_detect *d;
	int r;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return MG_ERR_NOMEM;
	if ((r = tab_init(&d->engs, 4096)) != 0 || (r = tab_init(&d->srcs, 8192)) != 0 ||
	    (r = gw_detect_set_policy(d, a, err, errlen)) != 0) {
		gw_detect_free(d);
		return r;
	}
	*out = d;
	return 0;
}

void
gw_detect_free(struct gw_detect *d)
{
	if (d == NULL)
		return;
	if (d->engs.b != NULL && d->srcs.b != NULL)
		tabs_clear(d);
	free(d->engs.b);
	free(d->srcs.b);
	free_patterns(d->re, d->pat, d->npat);
	free(d);
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
	h->severity = severity ? severity : rule_defs[rule].severity;
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
	    hash_str(tenant), now, 0)) == NULL)
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
	    hash2(tenant, target), now, 0)) == NULL)
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
	int how = hour_of_week(now), k, time_known = 0, src_known = 0;
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
	    hash2(time_known ? "" : wd[how / 24], src_known ? "" : net) + (uint64_t)how,
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

	live_expire(e, now);
	for (i = 0; i < e->nlive; i++)
		if (strcmp(e->live[i].source, addr) != 0)
			break;
	if (i == e->nlive)
		return;
	if ((h = hit(d, res, &e->fired[GW_DETECT_PARALLEL], GW_DETECT_PARALLEL,
	    hash2(addr, e->live[i].source), now, 0)) == NULL)
		return;
	ev_set(h, "new session from %s while session %s "
	    "from %s is live", addr, e->live[i].id, e->live[i].source);
}

/* Pressure rules gate attempts while over threshold (deny/reauth only). */
static void
gate_pressure(struct gw_detect *d, struct eng *e, time_t now, struct gw_detect_result *res)
{
	struct gw_detect_hit *h;
	uint64_t n;
	char w[32], b[48];

	if (on(d, GW_DETECT_OFF_HOURS) && d->rule[GW_DETECT_OFF_HOURS].action != POL_ACT_ALERT &&
	    (n = ring_count(&e->off, now, d->rule[GW_DETECT_OFF_HOURS].within)) >=
	    (uint64_t)d->rule[GW_DETECT_OFF_HOURS].count &&
	    (h = hit(d, res, NULL, GW_DETECT_OFF_HOURS, 0, now, 0)) != NULL) {
		dur_text(d->rule[GW_DETECT_OFF_HOURS].within, w, sizeof(w));
		ev_set(h, "%" PRIu64 " attempts outside "
		    "the engineer's windows within %s (threshold %" PRId64 ")", n, w,
		    d->rule[GW_DETECT_OFF_HOURS].count);
	}
	if (on(d, GW_DETECT_MFA_FAILURES) &&
	    d->rule[GW_DETECT_MFA_FAILURES].action != POL_ACT_ALERT &&
	    (n = ring_count(&e->mfa, now, d->rule[GW_DETECT_MFA_FAILURES].within)) >=
	    (uint64_t)d->rule[GW_DETECT_MFA_FAILURES].count &&
	    (h = hit(d, res, NULL, GW_DETECT_MFA_FAILURES, 0, now, 0)) != NULL) {
		dur_text(d->rule[GW_DETECT_MFA_FAILURES].within, w, sizeof(w));
		ev_set(h, "%" PRIu64 " MFA failures within "
		    "%s (threshold %" PRId64 ")", n, w, d->rule[GW_DETECT_MFA_FAILURES].count);
	}
	if (on(d, GW_DETECT_EGRESS) && d->rule[GW_DETECT_EGRESS].action != POL_ACT_ALERT &&
	    d->rule[GW_DETECT_EGRESS].bytes_day > 0 &&
	    egress_day(e, now) >= (uint64_t)d->rule[GW_DETECT_EGRESS].bytes_day &&
	    (h = hit(d, res, NULL, GW_DETECT_EGRESS, 0, now, 0)) != NULL) {
		size_text(egress_day(e, now), b, sizeof(b));
		ev_set(h, "%s to this engineer in the last "
		    "24h is over the daily limit", b);
	}
}

static int
ev_attempt(struct gw_detect *d, const struct gw_detect_event *ev, time_t now,
    struct gw_detect_result *res)
{
	char addr[ADDR_MAX], net[MG_CIDR_STRLEN];
	struct eng *e;
	int r;

	if (!mg_name_ok(MG_NAME_ENGINEER, ev->engineer) ||
	    !mg_name_ok(MG_NAME_POLICY, ev->tenant) ||
	    !mg_name_ok(MG_NAME_POLICY, ev->target) ||
	    addr_norm(ev->source, addr, net) != 0)
		return MG_ERR_INVAL;
	if ((r = eng_get(d, ev->engineer, &e)) != 0)
		return r;
	if (!ev->allowed) {
		const struct pol_alert_rule *pr = &d->rule[GW_DETECT_OFF_HOURS];
		struct gw_detect_hit *h;
		uint64_t n;
		char w[32];

		if (ev->refusal != GW_DETECT_REFUSED_WINDOW || !pr->enabled)
			return 0;
		ring_add(&e->off, now, pr->within);
		d->dirty = 1;
		n = ring_count(&e->off, now, pr->within);
		if (n < (uint64_t)pr->count || (h = hit(d, res, &e->fired[GW_DETECT_OFF_HOURS],
		    GW_DETECT_OFF_HOURS, 0, now, 0)) == NULL)
			return 0;
		dur_text(pr->within, w, sizeof(w));
		ev_set(h, "%" PRIu64 " attempts outside the "
		    "engineer's windows within %s (threshold %" PRId64 "), last %s/%s from %s",
		    n, w, pr->count, ev->tenant, ev->target, addr);
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

static int
ev_start(struct gw_detect *d, const struct gw_detect_event *ev, time_t now)
{
	char addr[ADDR_MAX], net[MG_CIDR_STRLEN];
	struct live *l;
	struct eng *e;
	int r;

	if (!mg_name_ok(MG_NAME_ENGINEER, ev->engineer) ||
	    !mg_name_ok(MG_NAME_POLICY, ev->tenant) ||
	    !mg_name_ok(MG_NAME_POLICY, ev->target) || !id_ok(ev->session) ||
	    addr_norm(ev->source, addr, net) != 0)
		return MG_ERR_INVAL;
	if ((r = eng_get(d, ev->engineer, &e)) != 0)
		return r;
	if ((r = access_add(d, e, ev->tenant, ev->target, now)) != 0)
		return r;
	net_add(e, net, now);
	e->hours[hour_of_week(now)] = now;
	if (e->first_seen == 0 || e->first_seen > now)
		e->first_seen = now;
	e->last_seen = now;
	if (e->nsessions < UINT32_MAX)
		e->nsessions++;
	live_expire(e, now);
	if ((l = live_find(e, ev->session)) == NULL) {
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

static int
ev_bytes(struct gw_detect *d, const struct gw_detect_event *ev, time_t now,
    struct gw_detect_result *res)
{
	const struct pol_alert_rule *pr = &d->rule[GW_DETECT_EGRESS];
	struct gw_detect_hit *h;
	struct live *l;
	struct eng *e;
	uint64_t delta, total, day;
	char b[48], b2[48];
	int r;

	if (!mg_name_ok(MG_NAME_ENGINEER, ev->engineer) || !id_ok(ev->session))
		return MG_ERR_INVAL;
	if ((r = eng_get(d, ev->engineer, &e)) != 0)
		return r;
	l = live_find(e, ev->session);
	/* A session we never saw start (lost state): count all it reports. */
	delta = l == NULL ? ev->bytes_out : ev->bytes_out >= l->bytes ?
	    ev->bytes_out - l->bytes : 0;
	total = l == NULL ? ev->bytes_out : (ev->bytes_out > l->bytes ? ev->bytes_out : l->bytes);
	if (l != NULL)
		l->bytes = total;
	if (delta > 0) {
		egress_add(e, now, delta);
		d->dirty = 1;
	}
	if (pr->enabled) {
		if (pr->bytes > 0 && total >= (uint64_t)pr->bytes &&
		    (l == NULL || !(l->flags & LIVE_EGRESS_FIRED) ||
		    pr->action != POL_ACT_ALERT)) {
			if (l != NULL)
				l->flags |= LIVE_EGRESS_FIRED;
			if ((h = hit(d, res, l != NULL ? NULL : &e->fired[GW_DETECT_EGRESS],
			    GW_DETECT_EGRESS, hash_str(ev->session), now, 0)) != NULL) {
				size_text(total, b, sizeof(b));
				size_text((uint64_t)pr->bytes, b2, sizeof(b2));
				ev_set(h, "session %s sent %s "
				    "to the engineer (per_session %s)", ev->session, b, b2);
			}
		}
		day = egress_day(e, now);
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

static int
ev_mfa(struct gw_detect *d, const struct gw_detect_event *ev, time_t now,
    struct gw_detect_result *res)
{
	const struct pol_alert_rule *pr = &d->rule[GW_DETECT_MFA_FAILURES];
	char addr[ADDR_MAX], net[MG_CIDR_STRLEN], w[32], who[120];
	struct gw_detect_hit *h;
	struct eng *e = NULL;
	struct src *s;
	uint64_t n, eh;
	size_t i, distinct = 0;
	int r;

	if (addr_norm(ev->source, addr, net) != 0)
		return MG_ERR_INVAL;
	if (!pr->enabled)
		return 0;
	dur_text(pr->within, w, sizeof(w));
	/* A made-up name still counts against its source, just not as an engineer. */
	mg_str_escape(ev->engineer, 32, who, sizeof(who));
	if (mg_name_ok(MG_NAME_ENGINEER, ev->engineer)) {
		if ((r = eng_get(d, ev->engineer, &e)) != 0)
			return r;
		ring_add(&e->mfa, now, pr->within);
		n = ring_count(&e->mfa, now, pr->within);
		if (n >= (uint64_t)pr->count && (h = hit(d, res, &e->fired[GW_DETECT_MFA_FAILURES],
		    GW_DETECT_MFA_FAILURES, 0, now, 0)) != NULL)
			ev_set(h, "%" PRIu64 " MFA failures for "
			    "this engineer within %s (threshold %" PRId64 "), last from %s",
			    n, w, pr->count, addr);
	}
	if ((r = src_get(d, addr, &s)) != 0)
		return r;
	ring_add(&s->mfa, now, pr->within);
	eh = hash_str(ev->engineer ? who : "");
	for (i = 0; i < s->nengs; i++)
		if (s->engs[i].h == eh)
			break;
	if (i == s->nengs) {
		if (s->nengs < SRC_ENGS)
			s->nengs++;
		else {
			size_t o = 0, j;

			for (j = 1; j < s->nengs; j++)
				if (s->engs[j].last < s->engs[o].last)
					o = j;
			i = o;
		}
		s->engs[i].h = eh;
	}
	s->engs[i].last = now;
	for (i = 0; i < s->nengs; i++)
		if ((int64_t)now - (int64_t)s->engs[i].last < pr->within)
			distinct++;
	d->dirty = 1;
	n = ring_count(&s->mfa, now, pr->within);
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

static int
ev_text(struct gw_detect *d, const struct gw_detect_event *ev, time_t now,
    struct gw_detect_result *res)
{
	char *buf;
	size_t len, i, p;
	char shown[96];
	struct eng *e;
	int r;

	if (!mg_name_ok(MG_NAME_ENGINEER, ev->engineer) || !id_ok(ev->session) ||
	    (ev->text == NULL && ev->text_len > 0))
		return MG_ERR_INVAL;
	if (!d->rule[GW_DETECT_SENSITIVE].enabled || ev->text_len == 0)
		return 0;
	if ((r = eng_get(d, ev->engineer, &e)) != 0)
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
		    hash2(ev->session, d->pat[p]), now, 0)) == NULL)
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

int
gw_detect_event(struct gw_detect *d, const struct gw_detect_event *ev,
    struct gw_detect_result *res)
{
	time_t now = mg_clock_now();
	int r;

	memset(res, 0, sizeof(*res));
	if (d == NULL || ev == NULL)
		r = MG_ERR_INVAL;
	else {
		switch (ev->kind) {
		case GW_DETECT_ATTEMPT:
			r = ev_attempt(d, ev, now, res);
			break;
		case GW_DETECT_START:
			r = ev_start(d, ev, now);
			break;
		case GW_DETECT_END:
		case GW_DETECT_BYTES:
			r = ev_bytes(d, ev, now, res);
			break;
		case GW_DETECT_MFA_FAILURE:
			r = ev_mfa(d, ev, now, res);
			break;
		case GW_DETECT_COMMAND:
		case GW_DETECT_INPUT:
			r = ev_text(d, ev, now, res);
			break;
		default:
			r = MG_ERR_INVAL;
		}
	}
	if (r != 0) {
		/* Could not judge: whoever only reads the action still fails closed. */
		memset(res, 0, sizeof(*res));
		res->action = GW_DETECT_DENY;
	}
	return r;
}

void
gw_detect_sessions_clear(struct gw_detect *d)
{
	struct node *n;

	for (n = d->engs.head.next; n != &d->engs.head; n = n->next) {
		if (((struct eng *)n)->nlive > 0)
			d->dirty = 1;
		((struct eng *)n)->nlive = 0;
	}
}

int
gw_detect_dirty(const struct gw_detect *d)
{
	return d->dirty;
}

void
gw_detect_set_dirty(struct gw_detect *d, int dirty)
{
	d->dirty = dirty != 0;
}

void
gw_detect_stats(const struct gw_detect *d, struct gw_detect_stats *st)
{
	struct node *n;

	memset(st, 0, sizeof(*st));
	st->engineers = d->engs.n;
	st->sources = d->srcs.n;
	st->access = d->nacc_total;
	for (n = d->engs.head.next; n != &d->engs.head; n = n->next)
		st->live += ((struct eng *)n)->nlive;
}

/* ------------------------------------------------------------------ */
/* output */

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
	out->rule = (unsigned)hit_->rule < GW_DETECT_NRULES ? rule_defs[hit_->rule].audit : "alerts";
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

/* ------------------------------------------------------------------ */
/* the state file */

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

/* The whole state file text into b (b->err on allocation failure). */
static void
state_build(const struct gw_detect *d, struct sbuf *b)
{
	unsigned long long nrec = 0;
	const struct node *n;
	size_t i;

	sb_add(b, "%s\n", STATE_MAGIC);
	for (n = d->engs.head.prev; n != &d->engs.head; n = n->prev) {
		const struct eng *e = (const struct eng *)n;
		const char *nm = n->key;
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
	}
	for (n = d->srcs.head.prev; n != &d->srcs.head; n = n->prev) {
		const struct src *s = (const struct src *)n;

		sb_add(b, "s %s\n", n->key);
		nrec++;
		for (i = 0; i < s->mfa.nb; i++, nrec++)
			sb_add(b, "M %s %lld %lld %u\n", n->key, (long long)s->mfa.b[i].first,
			    (long long)s->mfa.b[i].last, (unsigned)s->mfa.b[i].n);
		for (i = 0; i < s->nengs; i++, nrec++)
			sb_add(b, "E %s %016" PRIx64 " %lld\n", n->key, s->engs[i].h,
			    (long long)s->engs[i].last);
		if (s->fired.last != 0) {
			sb_add(b, "F %s %lld %016" PRIx64 "\n", n->key,
			    (long long)s->fired.last, s->fired.key);
			nrec++;
		}
	}
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

/* An address exactly as addr_norm writes it. */
static int
addr_canonical(const char *s)
{
	char a[ADDR_MAX], net[MG_CIDR_STRLEN];

	return addr_norm(s, a, net) == 0 && strcmp(a, s) == 0;
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

/* One line; msg says what is wrong with it. */
static int
parse_line(struct gw_detect *d, char *line, unsigned long long *nrec, int *ended,
    const char **msg)
{
	char *f[MAX_FIELDS];
	size_t nf, i;
	struct eng *e = NULL;
	struct src *s = NULL;
	uint64_t v;
	int r;

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
		if (nf != 5 || !mg_name_ok(MG_NAME_ENGINEER, f[1]))
			return -1;
		if (tab_find(&d->engs, f[1]) != NULL) {
			*msg = "engineer declared twice";
			return -1;
		}
		if (d->engs.n >= GW_DETECT_MAX_ENGINEERS) {
			*msg = "too many engineers";
			return -1;
		}
		if ((r = eng_get(d, f[1], &e)) != 0) {
			*msg = "out of memory";
			return -1;
		}
		if (parse_time(f[2], &e->first_seen) != 0 || parse_time(f[3], &e->last_seen) != 0 ||
		    parse_u64(f[4], UINT32_MAX, &v) != 0)
			return -1;
		e->nsessions = (uint32_t)v;
		return 0;
	case 's':
		if (nf != 2 || !addr_canonical(f[1]))
			return -1;
		if (tab_find(&d->srcs, f[1]) != NULL) {
			*msg = "source declared twice";
			return -1;
		}
		if (d->srcs.n >= GW_DETECT_MAX_SOURCES) {
			*msg = "too many sources";
			return -1;
		}
		if (src_get(d, f[1], &s) != 0) {
			*msg = "out of memory";
			return -1;
		}
		return 0;
	case 'h': case 'a': case 'n': case 'l': case 'o': case 'm': case 'g': case 'f':
		if (!mg_name_ok(MG_NAME_ENGINEER, f[1]) ||
		    (e = (struct eng *)tab_find(&d->engs, f[1])) == NULL) {
			*msg = "record for an engineer not declared before it";
			return -1;
		}
		break;
	case 'M': case 'E': case 'F':
		if (strlen(f[1]) >= KEY_MAX ||
		    (s = (struct src *)tab_find(&d->srcs, f[1])) == NULL) {
			*msg = "record for a source not declared before it";
			return -1;
		}
		break;
	default:
		*msg = "unknown record type";
		return -1;
	}
	switch (f[0][0]) {
	case 'h':
		if (nf != HOURS_PER_WEEK + 2)
			return -1;
		for (i = 0; i < HOURS_PER_WEEK; i++)
			if (parse_time(f[i + 2], &e->hours[i]) != 0)
				return -1;
		return 0;
	case 'a': {
		struct access *a;

		if (nf != 5 || !mg_name_ok(MG_NAME_POLICY, f[2]) ||
		    !mg_name_ok(MG_NAME_POLICY, f[3]))
			return -1;
		if (e->nacc >= GW_DETECT_ACCESS_PER_ENG || d->nacc_total >= GW_DETECT_ACCESS_TOTAL) {
			*msg = "too many access records";
			return -1;
		}
		for (i = 0; i < e->nacc; i++)
			if (strcmp(e->acc[i].tenant, f[2]) == 0 &&
			    strcmp(e->acc[i].target, f[3]) == 0) {
				*msg = "access record repeated";
				return -1;
			}
		if (e->nacc == e->acc_cap) {
			size_t cap = e->acc_cap ? e->acc_cap * 2 : 8;

			if (cap > GW_DETECT_ACCESS_PER_ENG)
				cap = GW_DETECT_ACCESS_PER_ENG;
			if ((a = reallocarray(e->acc, cap, sizeof(*a))) == NULL) {
				*msg = "out of memory";
				return -1;
			}
			e->acc = a;
			e->acc_cap = cap;
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
	case 'l': {
		struct live *l;

		if (nf != 7 || !id_ok(f[2]) || !addr_canonical(f[3]))
			return -1;
		if (e->nlive >= GW_DETECT_LIVE_PER_ENG || live_find(e, f[2]) != NULL) {
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

static void
state_hit(struct gw_detect_result *res, const char *why)
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
	tabs_clear(d);
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
	tabs_clear(d);
	d->dirty = 1;
	snprintf(why, sizeof(why), "%s:%zu: %s", name ? name : "state", lineno, msg);
	if (err != NULL)
		snprintf(err, errlen, "%s", why);
	state_hit(res, why);
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
		tabs_clear(d);
		d->dirty = 0;
		if (err != NULL && errlen > 0)
			err[0] = '\0';
		return 0;
	}
	if (r != 0) {
		tabs_clear(d);
		d->dirty = 1;
		if (err != NULL)
			snprintf(err, errlen, "%s", e);
		state_hit(res, e);
		return r;
	}
	r = gw_detect_load_buffer(d, buf, len, path, res, err, errlen);
	free(buf);
	return r;
}
