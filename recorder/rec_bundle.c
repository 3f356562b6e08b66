/* SPDX-License-Identifier: BSD-2-Clause */
/* Signed evidence bundles: one tenant's recordings, audit events and grants, for the client. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "mg_err.h"
#include "rec_audit.h"
#include "rec_bundle.h"
#include "rec_evidence.h"
#include "rec_reader.h"
#include "rec_tar.h"

#define MANIFEST "MANIFEST"
#define MANIFEST_SIG "MANIFEST.sig"
#define MANIFEST_TAG "mspgate-bundle-v1"	/* signed with its NUL */
#define KEY_FILE "signing_key.pub"
#define GRANTS_FILE "grants.txt"

static int
sha256_hex(const void *p, size_t n, char hex[65])
{
	uint8_t d[32];
	unsigned dl = 0;
	size_t i;

	if (EVP_Digest(p, n, d, &dl, EVP_sha256(), NULL) != 1 || dl != 32)
		return MG_ERR_CRYPTO;
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return 0;
}

static int
manifest_message(struct rec_buf *m, const void *manifest, size_t len)
{
	int r;

	rec_buf_reset(m);
	if ((r = rec_buf_add(m, MANIFEST_TAG, sizeof(MANIFEST_TAG))) != 0)
		return r;
	return rec_buf_add(m, manifest, len);
}

static void
utc(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* One file into the tar and its line into the manifest. */
static int
put(struct rec_buf *tar, struct rec_buf *man, const char *name, const void *p, size_t n,
    int64_t mtime)
{
	char hex[65];
	int r;

	if ((r = sha256_hex(p, n, hex)) != 0 ||
	    (r = rec_buf_addf(man, "file %s %zu %s\n", hex, n, name)) != 0)
		return r;
	return rec_tar_add(tar, name, p, n, mtime);
}

/* ---- making ---- */

static int
named(char **v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(v[i], s) == 0)
			return 1;
	}
	return 0;
}

int
rec_bundle_make(const struct rec_bundle_in *in, struct rec_buf *tar, char *err, size_t errlen)
{
	struct rec_buf man = { 0 }, lines = { 0 }, chain = { 0 }, msg = { 0 }, pem = { 0 };
	struct rec_verify_result res;
	struct rec_audit_reader *rd = NULL;
	struct rec_audit_line ln;
	uint8_t sig[REC_SIG_LEN];
	char **files = NULL, when[32], name[REC_TAR_NAME_MAX + 1];
	size_t nfiles = 0, i, nev = 0, nrec = 0;
	int r = 0, e;

	snprintf(err, errlen, "out of memory");
	utc(in->now, when, sizeof(when));
	if ((r = rec_buf_addf(&man, "mspgate-bundle 1\ntenant %s\n", in->tenant)) != 0 ||
	    (utc(in->since, name, sizeof(name)), r = rec_buf_addf(&man, "since %s\n", name)) != 0 ||
	    (utc(in->until, name, sizeof(name)), r = rec_buf_addf(&man, "until %s\n", name)) != 0 ||
	    (r = rec_buf_addf(&man, "created %s\nkey %s\n", when, rec_key_id(in->key))) != 0)
		goto out;
	for (i = 0; i < in->nlogs; i++) {
		const struct rec_bundle_file *lg = &in->logs[i];
		char logid[33] = "";
		size_t mine = 0;

		/* Only a log that verifies is excerpted: the bundle vouches for it. */
		if ((r = rec_audit_verify_mem(lg->data, lg->len, in->key, &res)) != 0 ||
		    res.status != REC_VERIFY_OK) {
			snprintf(err, errlen, "%s: the audit log does not verify (%s): no "
			    "bundle made", lg->name, res.msg);
			r = r ? r : MG_ERR_VERIFY;
			goto out;
		}
		rec_buf_reset(&lines);
		rec_buf_reset(&chain);
		if ((r = rec_audit_reader_open_mem(lg->data, lg->len, &rd)) != 0)
			goto out;
		while ((e = rec_audit_reader_next(rd, &ln)) > 0) {
			int take = ln.type == REC_AUDIT_LOG_START;

			if (ln.lineno == 1 && ln.log != NULL)
				snprintf(logid, sizeof(logid), "%s", ln.log);
			/* Another tenant's line is never copied: only its hash
			 * and signature, which place ours in the chain. */
			if (ln.tenant != NULL && strcmp(ln.tenant, in->tenant) == 0 &&
			    ln.ts >= in->since && ln.ts < in->until) {
				take = 1;
				mine++;
				if (ln.recording != NULL && !named(files, nfiles, ln.recording)) {
					char **nf = realloc(files, (nfiles + 1) * sizeof(*nf));

					if (nf == NULL || (nf[nfiles] = strdup(ln.recording)) == NULL) {
						if (nf != NULL)
							files = nf;
						r = MG_ERR_NOMEM;
						goto out;
					}
					files = nf;
					nfiles++;
				}
			}
			if ((r = rec_buf_addf(&chain, "%" PRIu64 " %s %s\n", ln.seq, ln.hash,
			    ln.sig)) != 0)
				goto out;
			if (take && ((r = rec_buf_add(&lines, ln.raw, ln.rawlen)) != 0 ||
			    (r = rec_buf_addc(&lines, '\n')) != 0))
				goto out;
		}
		rec_audit_reader_free(rd);
		rd = NULL;
		if (e < 0) {
			snprintf(err, errlen, "%s: %s", lg->name, mg_strerror(e));
			r = e;
			goto out;
		}
		if (mine == 0)
			continue;
		nev += mine;
		snprintf(name, sizeof(name), "audit/%s.jsonl", logid);
		if ((r = put(tar, &man, name, lines.p, lines.len, in->now)) != 0)
			goto out;
		snprintf(name, sizeof(name), "audit/%s.chain", logid);
		if ((r = put(tar, &man, name, chain.p, chain.len, in->now)) != 0)
			goto out;
	}
	for (i = 0; i < in->nrecs; i++) {
		const struct rec_bundle_file *rf = &in->recs[i];

		if (!(rf->start >= in->since && rf->start < in->until) &&
		    !named(files, nfiles, rf->name))
			continue;
		if ((size_t)snprintf(name, sizeof(name), "recordings/%s", rf->name) >=
		    sizeof(name)) {
			snprintf(err, errlen, "%s: name too long for the bundle", rf->name);
			r = MG_ERR_TOOBIG;
			goto out;
		}
		if ((r = put(tar, &man, name, rf->data, rf->len, in->now)) != 0)
			goto out;
		nrec++;
	}
	if ((r = put(tar, &man, GRANTS_FILE, in->grants, in->grantslen, in->now)) != 0 ||
	    (r = rec_key_public_pem(in->key, &pem)) != 0 ||
	    (r = put(tar, &man, KEY_FILE, pem.p, pem.len, in->now)) != 0)
		goto out;
	/* The manifest names every file with its hash; its signature covers all. */
	if ((r = rec_tar_add(tar, MANIFEST, man.p, man.len, in->now)) != 0 ||
	    (r = manifest_message(&msg, man.p, man.len)) != 0 ||
	    (r = rec_key_sign(in->key, msg.p, msg.len, sig)) != 0)
		goto out;
	rec_buf_reset(&pem);
	if ((r = rec_buf_base64(&pem, sig, sizeof(sig))) != 0 ||
	    (r = rec_buf_addc(&pem, '\n')) != 0 ||
	    (r = rec_tar_add(tar, MANIFEST_SIG, pem.p, pem.len, in->now)) != 0 ||
	    (r = rec_tar_end(tar)) != 0)
		goto out;
	snprintf(err, errlen, "%zu recordings, %zu audit events", nrec, nev);
out:
	if (r != 0 && r != MG_ERR_VERIFY && strcmp(err, "out of memory") == 0)
		snprintf(err, errlen, "%s", mg_strerror(r));
	rec_audit_reader_free(rd);
	for (i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	rec_buf_free(&man);
	rec_buf_free(&lines);
	rec_buf_free(&chain);
	rec_buf_free(&msg);
	rec_buf_free(&pem);
	return r;
}

/* ---- verifying ---- */

struct vstate {
	FILE *out;
	int bad;
};

static void
vsay(struct vstate *v, int bad, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
vsay(struct vstate *v, int bad, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(v->out, fmt, ap);
	va_end(ap);
	fputc('\n', v->out);
	v->bad += bad;
}

static const struct rec_tar_entry *
entry(const struct rec_tar_entry *e, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(e[i].name, name) == 0)
			return &e[i];
	}
	return NULL;
}

/* The next line of [*p, end) into line/len; 0 at the end. */
static int
next_line(const char **p, const char *end, const char **line, size_t *len)
{
	const char *nl;

	if (*p >= end)
		return 0;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	*line = *p;
	*len = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	*p = nl ? nl + 1 : end;
	return 1;
}

struct chain_ent {
	uint8_t hash[32];
};

/* What a bundled log says of itself and of the log before it. */
struct loginfo {
	char id[33];
	char prev_log[33];
	char prev_hash[65];
	uint64_t prev_seq;
	uint64_t last_seq;
	uint8_t last_hash[32];
};

/* "SEQ HASH SIG" lines, seq from 1 without gaps, each signature good. */
static int
read_chain(struct vstate *v, const struct rec_tar_entry *ce, const struct rec_key *pub,
    struct chain_ent **out, size_t *n)
{
	const char *p = (const char *)ce->data, *end = p + ce->len, *l;
	struct chain_ent *c = NULL;
	struct rec_buf sig = { 0 };
	size_t len, cap = 0, cnt = 0;
	int r = 0;

	while (next_line(&p, end, &l, &len)) {
		char buf[256], hx[65], sg[100];
		unsigned long long seq;

		if (len >= sizeof(buf)) {
			vsay(v, 1, "%s: FAILED: line %zu is too long", ce->name, cnt + 1);
			goto out;
		}
		memcpy(buf, l, len);
		buf[len] = '\0';
		if (sscanf(buf, "%llu %64[0-9a-f] %99[A-Za-z0-9+/=]", &seq, hx, sg) != 3 ||
		    seq != cnt + 1 || strlen(hx) != 64) {
			vsay(v, 1, "%s: FAILED: line %zu: not \"%zu HASH SIG\"", ce->name,
			    cnt + 1, cnt + 1);
			goto out;
		}
		if (cnt == cap) {
			struct chain_ent *nc;

			cap = cap ? cap * 2 : 256;
			if ((nc = realloc(c, cap * sizeof(*nc))) == NULL) {
				r = MG_ERR_NOMEM;
				goto out;
			}
			c = nc;
		}
		rec_buf_reset(&sig);
		if (rec_hex_decode(hx, 64, c[cnt].hash, 32) != 0 ||
		    rec_base64_decode(sg, strlen(sg), &sig) != 0 ||
		    rec_audit_sig_check(c[cnt].hash, sig.p, sig.len, pub) != 0) {
			vsay(v, 1, "%s: FAILED: line %zu: the signature of audit line %zu is "
			    "not the pinned key's", ce->name, cnt + 1, cnt + 1);
			goto out;
		}
		cnt++;
	}
	if (cnt == 0)
		vsay(v, 1, "%s: FAILED: empty", ce->name);
	*out = c;
	*n = cnt;
	c = NULL;
out:
	free(c);
	rec_buf_free(&sig);
	return r;
}

/* One log's excerpt: each line verifies and sits where the chain says. */
static int
check_log(struct vstate *v, const struct rec_tar_entry *te, size_t nte, const char *jl,
    const char *tenant, const struct rec_key *pub, struct rec_evidence *ev, size_t *nev,
    struct loginfo *li)
{
	const struct rec_tar_entry *je = entry(te, nte, jl), *ce;
	struct rec_audit_reader *rd = NULL;
	struct rec_audit_line ln;
	struct chain_ent *c = NULL;
	char cname[REC_TAR_NAME_MAX + 1], logid[33];
	size_t nc = 0, mine = 0;
	int r = 0, e, before = v->bad;

	snprintf(logid, sizeof(logid), "%.32s", jl + strlen("audit/"));
	snprintf(cname, sizeof(cname), "audit/%s.chain", logid);
	if ((ce = entry(te, nte, cname)) == NULL) {
		vsay(v, 1, "%s: FAILED: no %s to place its lines in the chain", jl, cname);
		return 0;
	}
	if ((r = read_chain(v, ce, pub, &c, &nc)) != 0 || v->bad > before)
		goto out;
	if ((r = rec_audit_reader_open_mem(je->data, je->len, &rd)) != 0)
		goto out;
	while ((e = rec_audit_reader_next(rd, &ln)) > 0) {
		uint8_t hash[32], prev[32];
		static const uint8_t zero[32];

		if (rec_audit_line_check(ln.raw, ln.rawlen, pub, hash, prev) != 0) {
			vsay(v, 1, "%s: FAILED: line %" PRIu64 " (audit seq %" PRIu64 "): "
			    "changed, or not signed by the pinned key", jl, ln.lineno, ln.seq);
			goto out;
		}
		if (ln.seq > nc || memcmp(c[ln.seq - 1].hash, hash, 32) != 0 ||
		    memcmp(prev, ln.seq == 1 ? zero : c[ln.seq - 2].hash, 32) != 0) {
			vsay(v, 1, "%s: FAILED: line %" PRIu64 " (audit seq %" PRIu64 ") is not "
			    "where %s says: moved, or from another log", jl, ln.lineno, ln.seq,
			    cname);
			goto out;
		}
		if (ln.lineno == 1 && (ln.type != REC_AUDIT_LOG_START || ln.log == NULL ||
		    strcmp(ln.log, logid) != 0)) {
			vsay(v, 1, "%s: FAILED: line 1 is not the log_start of log %s", jl, logid);
			goto out;
		}
		if (ln.lineno == 1) {
			snprintf(li->id, sizeof(li->id), "%s", logid);
			li->last_seq = nc;
			memcpy(li->last_hash, c[nc - 1].hash, 32);
			if (ln.prev_log != NULL && ln.prev_hash != NULL && ln.prev_seq > 0) {
				snprintf(li->prev_log, sizeof(li->prev_log), "%s", ln.prev_log);
				snprintf(li->prev_hash, sizeof(li->prev_hash), "%s", ln.prev_hash);
				li->prev_seq = ln.prev_seq;
			}
		}
		if (ln.type == REC_AUDIT_LOG_START)
			continue;
		/* Nothing about another tenant belongs in this bundle. */
		if (ln.tenant == NULL || strcmp(ln.tenant, tenant) != 0) {
			vsay(v, 1, "%s: FAILED: line %" PRIu64 " is not about tenant %s", jl,
			    ln.lineno, tenant);
			goto out;
		}
		if ((r = rec_evidence_add_event(ev, jl, &ln)) != 0)
			goto out;
		mine++;
	}
	if (e < 0) {
		vsay(v, 1, "%s: FAILED: %s", jl, rec_audit_reader_errmsg(rd));
		goto out;
	}
	*nev += mine;
	vsay(v, 0, "%s: OK (%zu events of %s; their place among the %zu lines of log %s "
	    "verified)", jl, mine, tenant, nc, logid);
out:
	rec_audit_reader_free(rd);
	free(c);
	return r;
}

int
rec_bundle_verify(const void *tar, size_t len, const struct rec_key *pub, FILE *out)
{
	struct vstate v = { out, 0 };
	struct rec_tar_entry *te = NULL;
	const struct rec_tar_entry *me, *se, *ke;
	struct rec_buf msg = { 0 }, sig = { 0 }, pem = { 0 };
	struct rec_evidence *ev = NULL;
	struct rec_ev_summary sum;
	char err[300], tenant[400] = "";
	const char *p, *end, *l;
	size_t nte = 0, i, ll, nrec = 0, nev = 0;
	uint8_t *listed = NULL;
	struct loginfo *li = NULL;
	size_t nli = 0;
	int r;

	if ((r = rec_tar_read(tar, len, &te, &nte, err, sizeof(err))) != 0) {
		if (r != MG_ERR_PARSE)
			return r;
		vsay(&v, 1, "bundle: FAILED: not a bundle archive: %s", err);
		return 1;
	}
	if ((r = rec_evidence_new(&ev)) != 0 || (listed = calloc(nte + 1, 1)) == NULL ||
	    (li = calloc(nte + 1, sizeof(*li))) == NULL) {
		r = MG_ERR_NOMEM;
		goto out;
	}
	me = entry(te, nte, MANIFEST);
	se = entry(te, nte, MANIFEST_SIG);
	if (me == NULL || se == NULL) {
		vsay(&v, 1, "bundle: FAILED: no %s or %s", MANIFEST, MANIFEST_SIG);
		goto out;
	}
	/* Everything hangs on the manifest's signature by the pinned key. */
	if ((r = manifest_message(&msg, me->data, me->len)) != 0)
		goto out;
	if (se->len < 88 || rec_base64_decode((const char *)se->data, 88, &sig) != 0 ||
	    sig.len != REC_SIG_LEN || rec_key_verify(pub, msg.p, msg.len, sig.p, sig.len) != 0) {
		vsay(&v, 1, "%s: FAILED: not signed by the pinned key (key %s), or changed",
		    MANIFEST, rec_key_id(pub));
		goto out;
	}
	vsay(&v, 0, "%s: OK (signed by key %s)", MANIFEST, rec_key_id(pub));
	listed[me - te] = listed[se - te] = 1;
	p = (const char *)me->data;
	end = p + me->len;
	for (i = 0; next_line(&p, end, &l, &ll); i++) {
		char buf[400], hx[65], nm[REC_TAR_NAME_MAX + 1], have[65];
		const struct rec_tar_entry *fe;
		size_t sz;

		if (ll >= sizeof(buf)) {
			vsay(&v, 1, "%s: FAILED: line %zu is too long", MANIFEST, i + 1);
			goto out;
		}
		memcpy(buf, l, ll);
		buf[ll] = '\0';
		if (i == 0 && strcmp(buf, "mspgate-bundle 1") != 0) {
			vsay(&v, 1, "%s: FAILED: not an mspgate bundle manifest (version 1)",
			    MANIFEST);
			goto out;
		}
		if (strncmp(buf, "tenant ", 7) == 0)
			snprintf(tenant, sizeof(tenant), "%s", buf + 7);
		if (strncmp(buf, "key ", 4) == 0 && strcmp(buf + 4, rec_key_id(pub)) != 0)
			vsay(&v, 1, "%s: FAILED: names key %s, the pinned key is %s", MANIFEST,
			    buf + 4, rec_key_id(pub));
		if (strncmp(buf, "file ", 5) != 0)
			continue;
		if (sscanf(buf, "file %64[0-9a-f] %zu %100s", hx, &sz, nm) != 3) {
			vsay(&v, 1, "%s: FAILED: line %zu: not \"file SHA256 SIZE NAME\"",
			    MANIFEST, i + 1);
			continue;
		}
		if ((fe = entry(te, nte, nm)) == NULL) {
			vsay(&v, 1, "%s: FAILED: listed in the manifest, not in the bundle", nm);
			continue;
		}
		listed[fe - te] = 1;
		if ((r = sha256_hex(fe->data, fe->len, have)) != 0)
			goto out;
		if (fe->len != sz || strcmp(have, hx) != 0)
			vsay(&v, 1, "%s: FAILED: not the file the manifest signed (changed)", nm);
	}
	for (i = 0; i < nte; i++) {
		if (!listed[i])
			vsay(&v, 1, "%s: FAILED: in the bundle, not in the signed manifest",
			    te[i].name);
	}
	if (tenant[0] == '\0') {
		vsay(&v, 1, "%s: FAILED: names no tenant", MANIFEST);
		goto out;
	}
	if (v.bad > 0)
		goto out;
	/* The key shipped in the bundle is the pinned one. */
	ke = entry(te, nte, KEY_FILE);
	if (ke == NULL || (r = rec_key_public_pem(pub, &pem)) != 0 || ke->len != pem.len ||
	    memcmp(ke->data, pem.p, pem.len) != 0) {
		if (r != 0)
			goto out;
		vsay(&v, 1, "%s: FAILED: missing, or not the pinned key", KEY_FILE);
	}
	if (entry(te, nte, GRANTS_FILE) == NULL)
		vsay(&v, 1, "%s: FAILED: missing", GRANTS_FILE);
	for (i = 0; i < nte; i++) {
		const char *n = te[i].name;
		size_t nl = strlen(n);

		if (strncmp(n, "audit/", 6) == 0 && nl > 12 &&
		    strcmp(n + nl - 6, ".jsonl") == 0) {
			if ((r = check_log(&v, te, nte, n, tenant, pub, ev, &nev,
			    &li[nli++])) != 0)
				goto out;
		} else if (strncmp(n, "recordings/", 11) == 0) {
			struct rec_verify_result res;
			struct rec_reader *rd = NULL;
			const struct rec_header *h;

			if ((r = rec_verify_mem(te[i].data, te[i].len, n, pub, &res)) != 0)
				goto out;
			if (rec_reader_open_mem(te[i].data, te[i].len, &rd, err, sizeof(err)) != 0 ||
			    (h = rec_reader_header(rd)) == NULL || h->tenant == NULL ||
			    strcmp(h->tenant, tenant) != 0)
				vsay(&v, 1, "%s: FAILED: not a recording of tenant %s", n, tenant);
			else if (res.status == REC_VERIFY_FAILED)
				vsay(&v, 1, "%s: FAILED: %s", n, res.msg);
			else
				vsay(&v, 0, "%s: %s (%s)", n, res.status == REC_VERIFY_OK ? "OK" :
				    "INCOMPLETE", res.msg);
			rec_reader_free(rd);
			nrec++;
			if ((r = rec_evidence_add_recording(ev, n, &res)) != 0)
				goto out;
		}
	}
	/* A log rotated away is linked from the next: both here, they must agree. */
	for (i = 0; i < nli; i++) {
		size_t j;

		for (j = 0; li[i].prev_log[0] != '\0' && j < nli; j++) {
			struct rec_buf hx = { 0 };

			if (strcmp(li[j].id, li[i].prev_log) != 0)
				continue;
			if ((r = rec_buf_hex(&hx, li[j].last_hash, 32)) != 0)
				goto out;
			if (li[i].prev_seq != li[j].last_seq ||
			    strcmp((const char *)hx.p, li[i].prev_hash) != 0)
				vsay(&v, 1, "audit/%s.jsonl: FAILED: its log_start links to line %"
				    PRIu64 " of log %s, whose chain here ends at line %" PRIu64
				    " or differs", li[i].id, li[i].prev_seq, li[j].id, li[j].last_seq);
			else
				vsay(&v, 0, "audit/%s.jsonl: follows log %s (line %" PRIu64 "): OK",
				    li[i].id, li[j].id, li[j].last_seq);
			rec_buf_free(&hx);
		}
	}
	/* Every session the events seal is here, and is what was sealed. */
	if ((r = rec_evidence_match(ev, "recordings", &sum)) != 0)
		goto out;
	for (i = 0; i < rec_evidence_count(ev); i++) {
		const struct rec_ev_item *it = rec_evidence_item(ev, i);

		if (it->verdict != REC_EV_OK)
			vsay(&v, it->verdict == REC_EV_FAILED || it->verdict == REC_EV_MISSING,
			    "%s: %s: %s", it->name, rec_ev_verdict_name(it->verdict), it->msg);
	}
	vsay(&v, 0, "sessions: %zu, verified %zu, missing %zu, failed %zu, unsealed %zu",
	    sum.sessions, sum.verified, sum.missing, sum.failed, sum.unsealed);
out:
	if (r == 0) {
		if (v.bad == 0)
			vsay(&v, 0, "bundle: OK: tenant %s, %zu recordings, %zu audit events, "
			    "grants, key %s", tenant, nrec, nev, rec_key_id(pub));
		else
			vsay(&v, 0, "bundle: FAILED: %d problem%s", v.bad, v.bad == 1 ? "" : "s");
	}
	free(listed);
	free(li);
	free(te);
	rec_evidence_free(ev);
	rec_buf_free(&msg);
	rec_buf_free(&sig);
	rec_buf_free(&pem);
	return r != 0 ? r : v.bad ? 1 : 0;
}
