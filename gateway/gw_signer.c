/* SPDX-License-Identifier: BSD-2-Clause */
/* mspgate-signer's checks, its audit and the certificate it signs. */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_signer.h"
#include "mfa_attest.h"
#include "mg_addr.h"
#include "mg_err.h"
#include "mg_file.h"
#include "mg_log.h"
#include "mg_sshcert.h"
#include "mg_time.h"
#include "mg_util.h"
#include "rec_audit.h"

#define CA_MAX_FILE	(16 * 1024)

static const struct gw_signer_ca *
ca_find(const struct gw_signer *s, const struct pol_credential *cr)
{
	size_t i;

	for (i = 0; i < s->ncas; i++)
		if (s->cas[i].cred == cr)
			return &s->cas[i];
	return NULL;
}

void
gw_signer_free_cas(struct gw_signer *s)
{
	if (s->cas != NULL)
		explicit_bzero(s->cas, s->ncas * sizeof(*s->cas));
	free(s->cas);
	s->cas = NULL;
	s->ncas = 0;
}

int
gw_signer_load_cas(struct gw_signer *s, char *err, size_t errlen)
{
	const struct pol *p = s->pol;
	struct mg_file_rules rules = { 0 };
	unsigned char pub[32];
	char path[4096], e[256], *buf = NULL;
	size_t i, len;
	int r;

	gw_signer_free_cas(s);
	if (p->ncredentials > 0 && (s->cas = calloc(p->ncredentials, sizeof(*s->cas))) == NULL)
		return MG_ERR_NOMEM;
	/* A CA key others can read is every session of that tenant: refuse it. */
	rules.max_size = CA_MAX_FILE;
	rules.forbid_mode = 077;
	rules.check_dirs = 1;
	for (i = 0; i < p->ncredentials; i++) {
		const struct pol_credential *cr = &p->credentials[i];
		struct gw_signer_ca *ca = &s->cas[s->ncas];

		if (cr->kind != POL_CRED_CERT)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s.pem", p->signer.ca_keys,
		    cr->name) >= sizeof(path)) {
			mg_seterr(err, errlen, "ca_keys path too long");
			return MG_ERR_INVAL;
		}
		if ((r = mg_file_read_safe(path, &rules, &buf, &len, e, sizeof(e))) != 0) {
			mg_seterr(err, errlen, "credential %s: %s", cr->name, e);
			return r;
		}
		r = mg_sshcert_load_ed25519(buf, len, ca->seed, e, sizeof(e));
		mg_freezero(buf, len);
		buf = NULL;
		if (r != 0) {
			mg_seterr(err, errlen, "%s: %s", path, e);
			return r;
		}
		/* The policy's public key is what targets trust: the two must agree. */
		if (mg_sshcert_ed25519_pub(ca->seed, pub) != 0 || cr->ca->bloblen < 32 ||
		    memcmp(pub, cr->ca->blob + cr->ca->bloblen - 32, 32) != 0) {
			explicit_bzero(ca->seed, sizeof(ca->seed));
			mg_seterr(err, errlen, "%s is not the private key of credential %s's "
			    "ca in the policy (%s:%d)", path, cr->name, cr->loc.file,
			    cr->loc.line);
			return MG_ERR_VERIFY;
		}
		ca->cred = cr;
		s->ncas++;
	}
	return 0;
}

static void
refuse(struct gw_signmsg *reply, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
refuse(struct gw_signmsg *reply, const char *fmt, ...)
{
	va_list ap;

	memset(reply, 0, sizeof(*reply));
	reply->type = GW_SIGN_REFUSED;
	va_start(ap, fmt);
	vsnprintf(reply->text, sizeof(reply->text), fmt, ap);
	va_end(ap);
}

/* One event in the signer's log, opened for this event alone. */
static int
audit(const struct gw_signer *s, struct rec_audit_event *ev, char *err, size_t errlen)
{
	struct rec_audit_opts o = { 0 };
	struct rec_audit *a = NULL;
	int r;

	o.key = s->audit_key;
	o.lock_timeout_ms = 2000;
	if ((r = rec_audit_open(s->pol->signer.audit, NULL, &o, &a, err, errlen)) != 0)
		return r;
	if ((r = rec_audit_event(a, ev)) != 0)
		mg_seterr(err, errlen, "%s", rec_audit_errmsg(a));
	rec_audit_close(a);
	return r;
}

/* A window of refusals to one uid ended with some not audited: one event says how many. */
static void
refusals_summary(void *ctx, uid_t uid, const char *name, unsigned n, time_t window)
{
	struct rec_audit_event ev = { 0 };
	char reason[200], err[300];

	(void)name;
	snprintf(reason, sizeof(reason), "%u more certificate refusals to uid %u in %llds, "
	    "not audited one by one", n, (unsigned)uid, (long long)window);
	ev.type = REC_AUDIT_DENIED;
	ev.reason = reason;
	ev.rule = "mspgate-signer";
	if (audit(ctx, &ev, err, sizeof(err)) != 0)
		mg_log(LOG_ERR, "audit: %s", err);
	mg_log(LOG_WARNING, "%s", reason);
}

static void
audit_refusal(struct gw_signer *s, uid_t peer, const struct gw_signmsg *req,
    const struct gw_signmsg *reply)
{
	struct rec_audit_event ev = { 0 };
	char reason[700], err[300];
	time_t now = mg_clock_now();

	gw_ratelim_flush(&s->refused, now, refusals_summary, s);
	if (!gw_ratelim_charge(&s->refused, peer, NULL, now, refusals_summary, s))
		return;
	snprintf(reason, sizeof(reason), "certificate refused to uid %u: %s", (unsigned)peer,
	    reply->text);
	ev.type = REC_AUDIT_DENIED;
	ev.session = req->session[0] ? req->session : NULL;
	ev.engineer = req->engineer[0] ? req->engineer : NULL;
	ev.tenant = req->tenant[0] ? req->tenant : NULL;
	ev.target = req->target[0] ? req->target : NULL;
	ev.login = req->login[0] ? req->login : NULL;
	ev.reason = reason;
	ev.rule = "mspgate-signer";
	if (audit(s, &ev, err, sizeof(err)) != 0)
		mg_log(LOG_ERR, "audit: %s", err);
	mg_log(LOG_WARNING, "%s", reason);
}

/* Each part of "CIDR,CIDR" parses, and there is at least one. */
static int
sources_ok(const char *list)
{
	char buf[600], *save = NULL, *t, e[128];
	struct mg_cidr c;

	if (list[0] == '\0' || strlen(list) >= sizeof(buf))
		return 0;
	strcpy(buf, list);
	for (t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save))
		if (mg_cidr_parse(t, &c, e, sizeof(e)) != 0)
			return 0;
	return 1;
}

/*
 * The longest max_session of the grants that let this engineer reach
 * this target as this login, with the factors of att when not NULL; 0
 * when none does. Windows, tickets and the login's age are mspgated's to
 * judge (a fresh code may renew an old login for one session); the
 * signer bounds what any session could get.
 */
static int64_t
longest_grant(const struct pol *p, const struct pol_engineer *e,
    const struct pol_target *t, const char *login, const struct mfa_attest *att)
{
	int64_t m = 0;
	size_t i;

	for (i = 0; i < p->ngrants; i++) {
		const struct pol_grant *g = &p->grants[i];

		if (pol_grant_applies(g, e) && pol_grant_covers(g, t) &&
		    pol_grant_login_ok(g, t, login) && g->max_session > m &&
		    (att == NULL || (g->mfa & ~att->mfa) == 0))
			m = g->max_session;
	}
	return m;
}

/*
 * A live login of the engineer stands behind the request: its
 * attestation, read here from pam_mspgate's folder (root's), is for the
 * session process and start time the request names, that process still
 * runs with that start time, and the login is the engineer's. 1, or 0
 * with the refusal in reply.
 */
static int
login_stands(const struct pol *p, const struct gw_signmsg *req, struct mfa_attest *att,
    struct gw_signmsg *reply)
{
	unsigned long long start;
	char e[300];
	int r;

	if (req->att_pid == 0 || req->att_pid > INT_MAX) {
		refuse(reply, "no attested login: the request names pid %u", (unsigned)req->att_pid);
		return 0;
	}
	r = mfa_attest_load(p->gateway.attestations, (pid_t)req->att_pid, att, e, sizeof(e));
	if (r == MG_ERR_NOENT) {
		refuse(reply, "no attested login: no attestation for session process %u in %.200s",
		    (unsigned)req->att_pid, p->gateway.attestations);
		return 0;
	}
	if (r != 0) {
		refuse(reply, "no attested login: %s", e);
		return 0;
	}
	if (att->start != req->att_start) {
		refuse(reply, "no attested login: the attestation of session process %u is of "
		    "another session (start %llu, the request says %" PRIu64 ")",
		    (unsigned)req->att_pid, att->start, req->att_start);
		return 0;
	}
	if (mfa_proc_stat(att->pid, &start, NULL) != 0 || start != att->start) {
		refuse(reply, "no attested login: session process %u has ended",
		    (unsigned)req->att_pid);
		return 0;
	}
	if (strcmp(att->engineer, req->engineer) != 0) {
		refuse(reply, "no attested login: the login of session process %u is %s's, "
		    "not %s's", (unsigned)req->att_pid, att->engineer, req->engineer);
		return 0;
	}
	return 1;
}

static void
iso(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
gw_signer_handle(struct gw_signer *s, uid_t peer, const struct gw_signmsg *req,
    struct gw_signmsg *reply)
{
	const struct pol *p = s->pol;
	const struct pol_tenant *tn;
	const struct pol_target *tg;
	const struct pol_engineer *eng;
	const struct gw_signer_ca *ca;
	const char *princ[1], *source;
	struct mg_sshcert_spec sp = { 0 };
	struct rec_audit_event ev = { 0 };
	struct mfa_attest att;
	char key_id[300], reason[1200], err[300], from[32], to[32], *cert = NULL;
	time_t now = mg_clock_now();
	int64_t maxs;
	uint64_t serial;

	memset(reply, 0, sizeof(*reply));
	/* Only mspgated's session processes ask; anyone else is refused, and audited. */
	if (peer != s->gateway_uid) {
		refuse(reply, "uid %u is not the gateway's service account", (unsigned)peer);
		goto refused;
	}
	if (req->type != GW_SIGN_REQUEST) {
		refuse(reply, "not a signing request");
		goto refused;
	}
	/* A rate no session setup needs: a stolen service account gets little. */
	if (now - s->win_start >= 60) {
		s->win_start = now;
		s->win_count = 0;
	}
	if (s->win_count >= (unsigned)p->signer.per_minute) {
		refuse(reply, "rate limit: %d certificates a minute", p->signer.per_minute);
		goto refused;
	}
	if ((tn = pol_tenant_find(p, req->tenant)) == NULL ||
	    (tg = pol_target_find(tn, req->target)) == NULL) {
		refuse(reply, "no target %s/%s in the policy", req->tenant, req->target);
		goto refused;
	}
	if (tg->cred == NULL || tg->cred->kind != POL_CRED_CERT ||
	    (ca = ca_find(s, tg->cred)) == NULL) {
		refuse(reply, "target %s/%s has no certificate credential", tn->name, tg->name);
		goto refused;
	}
	if ((eng = pol_engineer_find(p, req->engineer)) == NULL) {
		refuse(reply, "no engineer %s in the policy", req->engineer);
		goto refused;
	}
	if (longest_grant(p, eng, tg, req->login, NULL) == 0) {
		refuse(reply, "no grant lets %s reach %s/%s as %s", eng->name, tn->name,
		    tg->name, req->login);
		goto refused;
	}
	/* A stolen service account alone mints nothing: a live attested login must stand behind. */
	if (!login_stands(p, req, &att, reply))
		goto refused;
	if ((maxs = longest_grant(p, eng, tg, req->login, &att)) == 0) {
		refuse(reply, "the login's MFA (%s) is not what a grant that lets %s reach "
		    "%s/%s as %s asks for", pol_mfa_name(att.mfa), eng->name, tn->name,
		    tg->name, req->login);
		goto refused;
	}
	if (req->lifetime == 0 || (int64_t)req->lifetime > maxs + GW_SIGNER_GRACE) {
		refuse(reply, "lifetime %us is over the grants' max_session %" PRId64 "s + %ds",
		    (unsigned)req->lifetime, maxs, GW_SIGNER_GRACE);
		goto refused;
	}
	source = tg->cred->source_address != NULL ? tg->cred->source_address : req->source;
	if (!sources_ok(source)) {
		refuse(reply, "bad source address \"%.100s\"", source);
		goto refused;
	}
	/* Unique while the clock does not go back: the second, then a counter. */
	serial = (uint64_t)now << 20;
	if (serial <= s->last_serial)
		serial = s->last_serial + 1;
	snprintf(key_id, sizeof(key_id), "mspgate engineer=%s session=%s ticket=%s",
	    eng->name, req->session, req->ticket[0] ? req->ticket : "-");
	princ[0] = req->login;
	sp.pub = req->pubkey;
	sp.serial = serial;
	sp.type = MG_SSHCERT_USER;
	sp.key_id = key_id;
	sp.principals = princ;
	sp.nprincipals = 1;
	sp.valid_after = (uint64_t)(now - GW_SIGNER_SKEW);
	sp.valid_before = (uint64_t)now + req->lifetime;
	sp.source_address = source;
	sp.permit_pty = 1;
	iso((time_t)sp.valid_after, from, sizeof(from));
	iso((time_t)sp.valid_before, to, sizeof(to));
	snprintf(reason, sizeof(reason), "serial %" PRIu64 " key_id \"%s\" valid %s..%s "
	    "source_address %s credential %s", serial, key_id, from, to, source,
	    tg->cred->name);
	ev.type = REC_AUDIT_CERT_ISSUED;
	ev.session = req->session;
	ev.engineer = eng->name;
	ev.tenant = tn->name;
	ev.target = tg->name;
	ev.login = req->login;
	ev.ticket = req->ticket[0] ? req->ticket : NULL;
	ev.reason = reason;
	ev.rule = "mspgate-signer";
	/* Fail closed: a certificate that is not in the log is never issued. */
	if (audit(s, &ev, err, sizeof(err)) != 0) {
		mg_log(LOG_ERR, "audit: %s: nothing signed", err);
		refuse(reply, "the signer cannot write its audit log: nothing signed");
		return;
	}
	s->win_count++;
	s->last_serial = serial;
	if (mg_sshcert_sign(&sp, ca->seed, &cert, err, sizeof(err)) != 0 ||
	    strlen(cert) >= sizeof(reply->cert)) {
		free(cert);
		mg_log(LOG_ERR, "signing: %s", err);
		refuse(reply, "signing failed (see the signer's log)");
		return;
	}
	reply->type = GW_SIGN_CERT;
	reply->serial = serial;
	strcpy(reply->cert, cert);
	free(cert);
	mg_log(LOG_INFO, "issued serial %" PRIu64 " to %s for %s@%s/%s, %s..%s", serial,
	    eng->name, req->login, tn->name, tg->name, from, to);
	return;
refused:
	audit_refusal(s, peer, req, reply);
}
