/* SPDX-License-Identifier: BSD-2-Clause */
/* Accounting for a set of recordings against the session seals in the audit log. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_err.h"
#include "rec_evidence.h"

enum ref_kind { REF_SEAL, REF_START, REF_TRACE };

/* What one audit line says about one recording file. */
struct ref {
	char *file, *session, *seal;
	enum ref_kind kind;
	const char *log;
	uint64_t line;
	size_t idx;		/* order added: the first of a kind is reported */
};

struct rec {
	char *name, *file;
	char session[136];
	char seal[72];
	enum rec_verify_status status;
};

struct rec_evidence {
	struct ref *refs;
	size_t nrefs, caprefs;
	struct rec *recs;
	size_t nrecs, caprecs;
	char **sessions;	/* session ids any line names */
	size_t nsess, capsess;
	struct rec_ev_item *items;
	size_t nitems;
	char **names;		/* names made for missing recordings */
	size_t nnames;
};

static int
grow(void **v, size_t *cap, size_t n, size_t sz)
{
	void *nv;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 64;
	if ((nv = realloc(*v, c * sz)) == NULL)
		return MG_ERR_NOMEM;
	*v = nv;
	*cap = c;
	return 0;
}

int
rec_evidence_new(struct rec_evidence **out)
{
	*out = calloc(1, sizeof(**out));
	return *out == NULL ? MG_ERR_NOMEM : 0;
}

void
rec_evidence_free(struct rec_evidence *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->nrefs; i++) {
		free(e->refs[i].file);
		free(e->refs[i].session);
		free(e->refs[i].seal);
	}
	for (i = 0; i < e->nrecs; i++) {
		free(e->recs[i].name);
		free(e->recs[i].file);
	}
	for (i = 0; i < e->nsess; i++)
		free(e->sessions[i]);
	for (i = 0; i < e->nnames; i++)
		free(e->names[i]);
	free(e->refs);
	free(e->recs);
	free(e->sessions);
	free(e->items);
	free(e->names);
	free(e);
}

static char *
dup_or_null(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

int
rec_evidence_add_event(struct rec_evidence *e, const char *log, const struct rec_audit_line *ln)
{
	struct ref *f;
	char file[160];
	enum ref_kind kind;

	if (ln->session != NULL) {
		if (grow((void **)&e->sessions, &e->capsess, e->nsess, sizeof(char *)) != 0 ||
		    (e->sessions[e->nsess] = strdup(ln->session)) == NULL)
			return MG_ERR_NOMEM;
		e->nsess++;
	}
	if (ln->type == REC_AUDIT_SESSION_END && ln->seal != NULL)
		kind = REF_SEAL;
	else if (ln->type == REC_AUDIT_SESSION_START && ln->recording != NULL)
		kind = REF_START;
	else if (ln->recording != NULL)
		kind = REF_TRACE;
	else
		return 0;
	/* A seal names its recording; one without a name means SESSION.cast. */
	if (ln->recording != NULL)
		snprintf(file, sizeof(file), "%s", ln->recording);
	else if (ln->session != NULL)
		snprintf(file, sizeof(file), "%s.cast", ln->session);
	else
		return 0;
	if (grow((void **)&e->refs, &e->caprefs, e->nrefs, sizeof(*e->refs)) != 0)
		return MG_ERR_NOMEM;
	f = &e->refs[e->nrefs];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->log = log;
	f->line = ln->lineno;
	f->idx = e->nrefs;
	if ((f->file = strdup(file)) == NULL ||
	    (ln->session != NULL && (f->session = strdup(ln->session)) == NULL) ||
	    (kind == REF_SEAL && (f->seal = dup_or_null(ln->seal)) == NULL)) {
		free(f->file);
		free(f->session);
		return MG_ERR_NOMEM;
	}
	e->nrefs++;
	return 0;
}

int
rec_evidence_add_recording(struct rec_evidence *e, const char *name,
    const struct rec_verify_result *res)
{
	struct rec *r;
	const char *b = strrchr(name, '/');
	size_t n;

	if (grow((void **)&e->recs, &e->caprecs, e->nrecs, sizeof(*e->recs)) != 0)
		return MG_ERR_NOMEM;
	r = &e->recs[e->nrecs];
	memset(r, 0, sizeof(*r));
	b = b ? b + 1 : name;
	n = strlen(b);
	/* A compressed copy is the recording of its name without .gz. */
	if (n > 3 && strcmp(b + n - 3, ".gz") == 0)
		n -= 3;
	if ((r->name = strdup(name)) == NULL || (r->file = strndup(b, n)) == NULL) {
		free(r->name);
		return MG_ERR_NOMEM;
	}
	snprintf(r->session, sizeof(r->session), "%s", res->session);
	snprintf(r->seal, sizeof(r->seal), "%s", res->seal);
	r->status = res->status;
	e->nrecs++;
	return 0;
}

static int
cmp_ref(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static int
cmp_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	return c ? c : strcmp(x->name, y->name);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct rec_ev_item *
item(struct rec_evidence *e, const char *name, const char *file, enum rec_ev_verdict v,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static struct rec_ev_item *
item(struct rec_evidence *e, const char *name, const char *file, enum rec_ev_verdict v,
    const char *fmt, ...)
{
	struct rec_ev_item *it = &e->items[e->nitems++];
	va_list ap;

	it->name = name;
	it->file = file;
	it->verdict = v;
	va_start(ap, fmt);
	vsnprintf(it->msg, sizeof(it->msg), fmt, ap);
	va_end(ap);
	return it;
}

/* The verdict on one recording, given the lines about its file name. */
static void
judge(struct rec_evidence *e, const struct rec *r, const struct ref *f, size_t nf)
{
	const struct ref *seal = NULL, *start = NULL, *trace = NULL, *other = NULL;
	const char *sid = r->session;
	size_t i;

	for (i = 0; i < nf; i++) {
		if (f[i].kind == REF_SEAL) {
			if (seal == NULL)
				seal = &f[i];
			/* The seal names the session: a recording of another
			 * session under this name is a substitute. */
			if (other == NULL && f[i].session != NULL &&
			    strcmp(f[i].session, r->session) != 0)
				other = &f[i];
		} else if (f[i].kind == REF_START && start == NULL)
			start = &f[i];
		else if (trace == NULL)
			trace = &f[i];
	}
	if (r->status == REC_VERIFY_FAILED) {
		item(e, r->name, r->file, REC_EV_FAILED, "the recording does not verify%s%s%s",
		    seal ? " (sealed in " : "", seal ? seal->log : "", seal ? ")" : "");
		return;
	}
	if (other != NULL) {
		item(e, r->name, r->file, REC_EV_FAILED, "%s line %" PRIu64 " sealed session "
		    "%s under this name, but this recording is session %s: substituted",
		    other->log, other->line, other->session, r->session);
		return;
	}
	if (seal != NULL) {
		if (r->status == REC_VERIFY_INCOMPLETE) {
			item(e, r->name, r->file, REC_EV_FAILED, "cut after its seal: %s line %"
			    PRIu64 " sealed the complete recording (%.23s...), this copy has "
			    "no final checkpoint", seal->log, seal->line, seal->seal);
			return;
		}
		for (i = 0; i < nf; i++) {
			if (f[i].kind == REF_SEAL && strcmp(f[i].seal, r->seal) != 0) {
				item(e, r->name, r->file, REC_EV_FAILED, "does not match its seal "
				    "in %s line %" PRIu64 " (sealed %.23s..., this recording is "
				    "%.23s...): substituted, or not the recording that was sealed",
				    f[i].log, f[i].line, f[i].seal, r->seal);
				return;
			}
		}
		item(e, r->name, r->file, REC_EV_OK, "matches its seal in %s line %" PRIu64,
		    seal->log, seal->line);
		return;
	}
	if (start != NULL)
		item(e, r->name, r->file, REC_EV_UNSEALED, "started in %s line %" PRIu64
		    ", no seal in the audit logs given: still running, ended without a seal, "
		    "or its end is in a log not given", start->log, start->line);
	else if (trace != NULL)
		item(e, r->name, r->file, REC_EV_UNSEALED, "named in %s line %" PRIu64 ", no "
		    "seal in the audit logs given", trace->log, trace->line);
	else if (e->nsess > 0 && bsearch(&sid, e->sessions, e->nsess, sizeof(char *), cmp_str) != NULL)
		item(e, r->name, r->file, REC_EV_UNSEALED, "session %s is in the audit logs "
		    "given, but no seal or start names this recording", r->session);
	else
		item(e, r->name, r->file, REC_EV_UNSEALED, "no trace in the audit logs given "
		    "(session %s): not a session of these logs, or its logs were not given",
		    r->session);
}

int
rec_evidence_match(struct rec_evidence *e, const char *dir, struct rec_ev_summary *sum)
{
	size_t fi = 0, ri = 0, i;

	memset(sum, 0, sizeof(*sum));
	free(e->items);
	e->nitems = 0;
	/* At most one item per recording and one per missing file name. */
	if ((e->items = calloc(e->nrecs + e->nrefs + 1, sizeof(*e->items))) == NULL)
		return MG_ERR_NOMEM;
	if (e->nrefs > 1)
		qsort(e->refs, e->nrefs, sizeof(*e->refs), cmp_ref);
	if (e->nrecs > 1)
		qsort(e->recs, e->nrecs, sizeof(*e->recs), cmp_rec);
	if (e->nsess > 1)
		qsort(e->sessions, e->nsess, sizeof(char *), cmp_str);
	while (fi < e->nrefs || ri < e->nrecs) {
		const char *file;
		size_t fj = fi, rj = ri;

		if (ri >= e->nrecs || (fi < e->nrefs &&
		    strcmp(e->refs[fi].file, e->recs[ri].file) < 0))
			file = e->refs[fi].file;
		else
			file = e->recs[ri].file;
		while (fj < e->nrefs && strcmp(e->refs[fj].file, file) == 0)
			fj++;
		while (rj < e->nrecs && strcmp(e->recs[rj].file, file) == 0)
			rj++;
		if (rj == ri) {
			const struct ref *seal = NULL, *start = NULL;
			char *name;

			for (i = fi; i < fj; i++) {
				if (e->refs[i].kind == REF_SEAL && seal == NULL)
					seal = &e->refs[i];
				if (e->refs[i].kind == REF_START && start == NULL)
					start = &e->refs[i];
			}
			if (seal != NULL || start != NULL) {
				const struct ref *w = seal ? seal : start;
				size_t l = (dir ? strlen(dir) + 1 : 0) + strlen(file) + 1;
				char **nn;

				if ((name = malloc(l)) == NULL || (nn = realloc(e->names,
				    (e->nnames + 1) * sizeof(*nn))) == NULL) {
					free(name);
					return MG_ERR_NOMEM;
				}
				snprintf(name, l, "%s%s%s", dir ? dir : "", dir ? "/" : "", file);
				e->names = nn;
				e->names[e->nnames++] = name;
				item(e, name, w->file, REC_EV_MISSING, "%s in %s line %" PRIu64
				    " (session %s), but there is no recording", seal ? "sealed" :
				    "started", w->log, w->line, w->session ? w->session : "?");
			}
		}
		for (i = ri; i < rj; i++)
			judge(e, &e->recs[i], fj > fi ? e->refs + fi : NULL, fj - fi);
		fi = fj;
		ri = rj;
	}
	for (i = 0; i < e->nitems; i++) {
		sum->sessions++;
		switch (e->items[i].verdict) {
		case REC_EV_OK: sum->verified++; break;
		case REC_EV_FAILED: sum->failed++; break;
		case REC_EV_MISSING: sum->missing++; break;
		case REC_EV_UNSEALED: sum->unsealed++; break;
		}
	}
	return 0;
}

size_t
rec_evidence_count(const struct rec_evidence *e)
{
	return e->nitems;
}

const struct rec_ev_item *
rec_evidence_item(const struct rec_evidence *e, size_t i)
{
	return i < e->nitems ? &e->items[i] : NULL;
}

const char *
rec_ev_verdict_name(enum rec_ev_verdict v)
{
	switch (v) {
	case REC_EV_OK: return "OK";
	case REC_EV_FAILED: return "FAILED";
	case REC_EV_MISSING: return "MISSING";
	default: return "UNSEALED";
	}
}
