/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The detector's private contract, shared by gw_detect.c (the object and
 * the event entry point), gw_detect_rules.c (the rule table and its
 * checkers), gw_detect_hist.c (the bounded history tables),
 * gw_detect_state.c (the state file) and gw_detect_out.c (names, audit,
 * syslog and notify lines). Nothing outside gateway/gw_detect*.c includes
 * it; the public API is gw_detect.h. gd_ names are the detector's own.
 */
#ifndef GW_DETECT_PRIV_H
#define GW_DETECT_PRIV_H

#include <arpa/inet.h>
#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "gw_detect.h"
#include "mg_addr.h"
#include "pol.h"

#define KEY_MAX		(GW_DETECT_NAME_MAX + 1)	/* a name and its NUL */
#define ADDR_MAX	INET6_ADDRSTRLEN
#define HOURS_PER_WEEK	168
#define EGRESS_HOURS	24
#define SRC_ENGS	8	/* engineer names remembered per MFA failure source */

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

/* A live session on another gateway (gw_detect_peers_set). */
struct gd_peer {
	char gateway[GW_DETECT_GATEWAY_MAX + 1];
	char id[GW_DETECT_ID_MAX + 1];
	char engineer[KEY_MAX];
	char source[ADDR_MAX];	/* "": not known */
};

/* The detector: thresholds, compiled patterns and the history tables. */
struct gw_detect {
	struct pol_alert_rule rule[GW_DETECT_NRULES];
	regex_t *re;
	char **pat;		/* the pattern texts, for evidence */
	size_t npat;
	struct tab engs, srcs;
	size_t nacc_total;
	int dirty;
	struct gd_peer *peers;	/* the other gateways' live sessions */
	size_t npeers;
};

/*
 * One rule: its key in the policy's alerts section, the "rule" of its
 * audit events, what the engineer is told in "refused: unusual activity
 * (WORDS); ..." (the docs' examples are generated from these words), how
 * sure a hit is that something is wrong (its syslog priority), and where
 * its settings are in struct pol_alerts (GD_NO_POL: not in the policy).
 */
struct gd_rule {
	const char *name;
	const char *audit;
	const char *words;
	int severity;
	ptrdiff_t pol;
};
#define GD_POL(field)	((ptrdiff_t)offsetof(struct pol_alerts, field))
#define GD_NO_POL	((ptrdiff_t)-1)

/* gw_detect_rules.c: the table, indexed by enum gw_detect_rule */
extern const struct gd_rule gd_rules[GW_DETECT_NRULES];
/* What each event does to the history and which rules it asks: 0 or MG_ERR_*. */
int gd_event_attempt(struct gw_detect *d, const struct gw_detect_event *ev, time_t now,
    struct gw_detect_result *res);
int gd_event_start(struct gw_detect *d, const struct gw_detect_event *ev, time_t now);
int gd_event_bytes(struct gw_detect *d, const struct gw_detect_event *ev, time_t now,
    struct gw_detect_result *res);
int gd_event_mfa(struct gw_detect *d, const struct gw_detect_event *ev, time_t now,
    struct gw_detect_result *res);
int gd_event_text(struct gw_detect *d, const struct gw_detect_event *ev, time_t now,
    struct gw_detect_result *res);
int gd_event_remote(struct gw_detect *d, const struct gw_detect_event *ev, time_t when,
    time_t now);
/* res (may be NULL) becomes the one GW_DETECT_STATE hit: the history was lost, why. */
void gd_state_hit(struct gw_detect_result *res, const char *why);

/* gw_detect_hist.c: hashes, names, counters, the engineer and source tables */
uint64_t gd_hash_str(const char *s);
uint64_t gd_hash2(const char *a, const char *b);
int gd_id_ok(const char *s);
int gd_addr_norm(const char *in, char addr[ADDR_MAX], char net[MG_CIDR_STRLEN]);
void gd_ring_add(struct ring *r, time_t now, int64_t within);
uint64_t gd_ring_count(const struct ring *r, time_t now, int64_t within);
int gd_tab_init(struct tab *t, size_t nb);
struct node *gd_tab_find(const struct tab *t, const char *key);
int gd_eng_get(struct gw_detect *d, const char *name, struct eng **out);
int gd_src_get(struct gw_detect *d, const char *addr, struct src **out);
size_t gd_src_engineer(struct src *s, uint64_t h, time_t now, int64_t within);
void gd_tabs_clear(struct gw_detect *d);
int gd_access_room(struct eng *e);
/* How long access entries matter: the longer of first_access and fanout. */
int64_t gd_access_horizon(const struct gw_detect *d);
int gd_access_add(struct gw_detect *d, struct eng *e, const char *tenant,
    const char *target, time_t now);
void gd_net_add(struct eng *e, const char *net, time_t now);
struct live *gd_live_find(struct eng *e, const char *id);
void gd_live_expire(struct eng *e, time_t now);
int gd_hour_of_week(time_t t);
uint64_t gd_egress_day(struct eng *e, time_t now);
void gd_egress_add(struct eng *e, time_t now, uint64_t bytes);

#endif
