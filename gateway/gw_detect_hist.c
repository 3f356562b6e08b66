/* SPDX-License-Identifier: BSD-2-Clause */
/* The detector's history: bounded engineer and source tables, time-bucket counters. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "gw_detect_priv.h"
#include "mg_addr.h"
#include "mg_err.h"
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

/* ------------------------------------------------------------------ */
/* hashes, session ids, addresses */

uint64_t
gd_hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

uint64_t
gd_hash2(const char *a, const char *b)
{
	uint64_t h = gd_hash_str(a);

	h = (h ^ '/') * 1099511628211ULL;
	for (; b && *b; b++)
		h = (h ^ (unsigned char)*b) * 1099511628211ULL;
	return h;
}

/* Session ids: letters, digits and "_.-:", up to GW_DETECT_ID_MAX. */
int
gd_id_ok(const char *s)
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
int
gd_addr_norm(const char *in, char addr[ADDR_MAX], char net[MG_CIDR_STRLEN])
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

void
gd_ring_add(struct ring *r, time_t now, int64_t within)
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

uint64_t
gd_ring_count(const struct ring *r, time_t now, int64_t within)
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

int
gd_tab_init(struct tab *t, size_t nb)
{
	if ((t->b = calloc(nb, sizeof(*t->b))) == NULL)
		return MG_ERR_NOMEM;
	t->nb = nb;
	t->n = 0;
	t->head.next = t->head.prev = &t->head;
	return 0;
}

struct node *
gd_tab_find(const struct tab *t, const char *key)
{
	uint64_t h = gd_hash_str(key);
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
	n->h = gd_hash_str(n->key);
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

int
gd_eng_get(struct gw_detect *d, const char *name, struct eng **out)
{
	struct node *n = gd_tab_find(&d->engs, name);
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

int
gd_src_get(struct gw_detect *d, const char *addr, struct src **out)
{
	struct node *n = gd_tab_find(&d->srcs, addr);
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

/*
 * Remembers that the engineer name hashed h failed MFA from s at now (the
 * oldest name goes when SRC_ENGS are known). Returns how many names failed
 * from s within the last "within" seconds.
 */
size_t
gd_src_engineer(struct src *s, uint64_t h, time_t now, int64_t within)
{
	size_t i, distinct = 0;

	for (i = 0; i < s->nengs; i++)
		if (s->engs[i].h == h)
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
		s->engs[i].h = h;
	}
	s->engs[i].last = now;
	for (i = 0; i < s->nengs; i++)
		if ((int64_t)now - (int64_t)s->engs[i].last < within)
			distinct++;
	return distinct;
}

void
gd_tabs_clear(struct gw_detect *d)
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

/*
 * Room for one more access entry (the caller keeps the per-engineer
 * bound): the array grows by doubling, so most engineers, who reach a few
 * targets, hold a few entries. 0 or MG_ERR_NOMEM.
 */
int
gd_access_room(struct eng *e)
{
	size_t cap = e->acc_cap ? e->acc_cap * 2 : 8;
	struct access *na;

	if (e->nacc < e->acc_cap)
		return 0;
	if (cap > GW_DETECT_ACCESS_PER_ENG)
		cap = GW_DETECT_ACCESS_PER_ENG;
	if ((na = reallocarray(e->acc, cap, sizeof(*na))) == NULL)
		return MG_ERR_NOMEM;
	e->acc = na;
	e->acc_cap = cap;
	return 0;
}

/* How long access entries matter: the longer of first_access and fanout. */
int64_t
gd_access_horizon(const struct gw_detect *d)
{
	int64_t a = d->rule[GW_DETECT_FIRST_ACCESS].count * 86400;
	int64_t b = d->rule[GW_DETECT_FANOUT].within;

	return a > b ? a : b;
}

int
gd_access_add(struct gw_detect *d, struct eng *e, const char *tenant, const char *target,
    time_t now)
{
	int64_t horizon = gd_access_horizon(d);
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
	if ((r = gd_access_room(e)) != 0)
		return r;
	snprintf(e->acc[e->nacc].tenant, KEY_MAX, "%s", tenant);
	snprintf(e->acc[e->nacc].target, KEY_MAX, "%s", target);
	e->acc[e->nacc].last = now;
	e->nacc++;
	d->nacc_total++;
	return 0;
}

void
gd_net_add(struct eng *e, const char *net, time_t now)
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

struct live *
gd_live_find(struct eng *e, const char *id)
{
	size_t i;

	for (i = 0; i < e->nlive; i++)
		if (strcmp(e->live[i].id, id) == 0)
			return &e->live[i];
	return NULL;
}

void
gd_live_expire(struct eng *e, time_t now)
{
	size_t i;

	for (i = 0; i < e->nlive; ) {
		if ((int64_t)now - (int64_t)e->live[i].start >= GW_DETECT_LIVE_MAX_AGE)
			e->live[i] = e->live[--e->nlive];
		else
			i++;
	}
}

int
gd_hour_of_week(time_t t)
{
	int64_t days = (int64_t)t >= 0 ? (int64_t)t / 86400 : ((int64_t)t - 86399) / 86400;
	int64_t secs = (int64_t)t - days * 86400;

	return mg_weekday(days) * 24 + (int)(secs / 3600);
}

uint64_t
gd_egress_day(struct eng *e, time_t now)
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

void
gd_egress_add(struct eng *e, time_t now, uint64_t bytes)
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

