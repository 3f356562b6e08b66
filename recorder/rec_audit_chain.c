/* SPDX-License-Identifier: BSD-2-Clause */
/* The chain across rotated audit logs: ordering verified logs by their links. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_err.h"
#include "rec_audit.h"

static void
cmsg(struct rec_audit_info *x, int problem, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets x's chain message; a problem replaces a note, never another problem. */
static void
cmsg(struct rec_audit_info *x, int problem, const char *fmt, ...)
{
	va_list ap;

	if (x->problem || (!problem && x->chain_msg[0] != '\0'))
		return;
	x->problem = problem;
	va_start(ap, fmt);
	vsnprintf(x->chain_msg, sizeof(x->chain_msg), fmt, ap);
	va_end(ap);
}

/* The first 8 bytes of a hash in hex, as the syslog lines show them. */
static const char *
hash8(const uint8_t h[32], char out[17])
{
	int i;

	for (i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
	return out;
}

/* Is a before b? By the time of line 1, then by name. */
static int
head_before(const struct rec_audit_info *a, const struct rec_audit_info *b)
{
	if (a->start != b->start)
		return a->start < b->start;
	/* The same second: a true start (no link) first. */
	if ((a->link == REC_AUDIT_LINK_NONE) != (b->link == REC_AUDIT_LINK_NONE))
		return a->link == REC_AUDIT_LINK_NONE;
	return strcmp(a->name ? a->name : "", b->name ? b->name : "") < 0;
}

int
rec_audit_chain(struct rec_audit_info *v, size_t n, size_t *order, size_t *norder)
{
	const size_t none = (size_t)-1;
	size_t *pred = NULL, *succ = NULL, *heads = NULL;
	size_t i, j, k, nh = 0, no = 0, tail = none;
	char *use = NULL, *seen = NULL, h1[17], h2[17];
	int bad = 0;

	*norder = 0;
	if (n == 0)
		return 0;
	if ((pred = calloc(n, sizeof(*pred))) == NULL ||
	    (succ = calloc(n, sizeof(*succ))) == NULL ||
	    (heads = calloc(n, sizeof(*heads))) == NULL ||
	    (use = calloc(n, 1)) == NULL || (seen = calloc(n, 1)) == NULL) {
		bad = MG_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		pred[i] = succ[i] = none;
		v[i].problem = 0;
		v[i].chain_msg[0] = '\0';
		use[i] = v[i].has_start;
		/* One log in two files: a copy, or the same file given twice. */
		for (j = 0; use[i] && j < i; j++) {
			if (use[j] && strcmp(v[i].log, v[j].log) == 0) {
				cmsg(&v[i], 1, "line 1: the same log (%.16s...) as %s: a copy?",
				    v[i].log, v[j].name);
				use[i] = 0;
			}
		}
	}
	for (i = 0; i < n; i++) {
		if (!use[i])
			continue;
		if (v[i].link == REC_AUDIT_LINK_UNKNOWN) {
			cmsg(&v[i], 1, "line 1: this log was started without a link to the log "
			    "before it, which its writer could not read (%s): the chain is "
			    "broken here", v[i].prev_error);
			continue;
		}
		if (v[i].link != REC_AUDIT_LINK_PREV)
			continue;
		for (j = 0; j < n; j++) {
			if (j != i && use[j] && strcmp(v[j].log, v[i].prev_log) == 0)
				break;
		}
		if (j == n)
			continue;
		if (succ[j] != none) {
			cmsg(&v[i], 1, "line 1: links to %s (log %.16s...), which %s links to "
			    "as well: two logs cannot both follow one", v[j].name, v[j].log,
			    v[succ[j]].name);
			continue;
		}
		succ[j] = i;
		pred[i] = j;
		if (!v[j].ok)
			cmsg(&v[i], 1, "line 1: links to %s, which did not verify: the link "
			    "cannot be checked", v[j].name);
		else if (v[j].last_seq != v[i].prev_seq ||
		    memcmp(v[j].last_hash, v[i].prev_hash, 32) != 0)
			cmsg(&v[i], 1, "line 1: links to line %" PRIu64 " of %s (hash %s...), "
			    "but %s ends at line %" PRIu64 " (hash %s...): it was truncated, "
			    "added to or replaced after this log was started", v[i].prev_seq,
			    v[j].name, hash8(v[i].prev_hash, h1), v[j].name, v[j].last_seq,
			    hash8(v[j].last_hash, h2));
	}
	/* Chains start where no given log comes before; the earliest is the start. */
	for (i = 0; i < n; i++) {
		if (!use[i] || pred[i] != none)
			continue;
		for (k = nh; k > 0 && head_before(&v[i], &v[heads[k - 1]]); k--)
			heads[k] = heads[k - 1];
		heads[k] = i;
		nh++;
	}
	for (k = 0; k < nh; k++) {
		struct rec_audit_info *h = &v[heads[k]];

		if (k == 0 && h->link == REC_AUDIT_LINK_PREV)
			cmsg(h, 0, "links to log %.16s... line %" PRIu64 " (not given)",
			    h->prev_log, h->prev_seq);
		else if (k > 0 && h->link == REC_AUDIT_LINK_PREV)
			cmsg(h, 1, "line 1: links to log %.16s... line %" PRIu64 ", which is not "
			    "among the files given: a log is missing between %s and %s",
			    h->prev_log, h->prev_seq, v[tail].name, h->name);
		else if (k > 0 && h->link == REC_AUDIT_LINK_NONE)
			cmsg(h, 1, "line 1: starts a new chain (no link to a previous log) "
			    "after %s: the chain is broken between them", v[tail].name);
		for (i = heads[k]; i != none && !seen[i]; i = succ[i]) {
			seen[i] = 1;
			order[no++] = i;
			tail = i;
		}
	}
	for (i = 0; i < n; i++) {
		if (use[i] && !seen[i])
			cmsg(&v[i], 1, "line 1: in a loop of links that starts nowhere");
	}
	*norder = no;
	for (i = 0; i < n; i++)
		bad += v[i].problem;
out:
	free(pred);
	free(succ);
	free(heads);
	free(use);
	free(seen);
	return bad;
}
