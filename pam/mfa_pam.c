/* SPDX-License-Identifier: BSD-2-Clause */
/* The PAM stages of pam_mspgate: scope, MFA, account rules, session audit. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "mg_diag.h"
#include "mg_err.h"
#include "mg_log.h"
#include "mg_time.h"
#include "pol.h"
#include "rec_audit.h"
#include "mfa_attest.h"
#include "mfa_factor.h"
#include "mfa_keycache.h"
#include "mfa_pam.h"
#include "mfa_polcache.h"
#include "mfa_rules.h"

#define MFA_DEFAULT_CONFIG	"/etc/mspgate/mspgate.conf"
#define MFA_DATA_POLICY		"mspgate.policy"
#define MFA_DATA_MFA		"mspgate.mfa"
#define MFA_DATA_AUTH		"mspgate.auth"
#define MFA_PROMPT		"Verification code: "
/* What every failed verification says, whatever the cause (no enumeration). */
#define MFA_MSG_FAILED		"Verification failed."

struct mfa_args {
	const char *config;
	const char *group;	/* NULL: the policy's pam.group */
	const char *audit;	/* NULL: the policy's gateway.audit */
	const char *key;	/* NULL: the policy's gateway.signing_key */
	int debug;
};

/* Who the user is to this module. */
enum mfa_scope {
	SCOPE_OTHER,		/* not an MSP account: PAM_IGNORE */
	SCOPE_MSP,		/* an MSP account and the policy is loaded */
	SCOPE_BROKEN,		/* an MSP account (or cannot tell) and no policy */
};

/* The outcome of a stage; mfa_result() turns it into a PAM code. */
enum mfa_out {
	OUT_ALLOW, OUT_IGNORE, OUT_DENY, OUT_EXPIRED, OUT_CONFIG, OUT_NOMEM,
	OUT_CONV,
};

enum mfa_stage { ST_AUTH, ST_ACCOUNT, ST_SESSION };

struct mfa_ctx {
	pam_handle_t *pamh;
	struct mfa_args a;
	const char *user;
	char user_esc[80];	/* bounded, escaped: for syslog */
	const char *service, *rhost, *tty;
	char rhost_esc[80];
	const struct pol *p;	/* referenced by the pam handle's data */
	char polerr[512];	/* why it could not be loaded */
	const struct pol_engineer *e;	/* NULL: a group member not in the policy */
	enum mfa_scope scope;
	/*
	 * The audit log, opened once per stage call and used for all its
	 * events: opening it loads the signing key, which costs more than
	 * the rest of a login. Closed by ctx_done().
	 */
	struct rec_audit *aud;
	struct mfa_keyref *keyref;	/* the signing key (mfa_keycache.c) */
	int aud_err;		/* 0, or why it could not be opened */
};

/* The policy, kept in the handle so later stages need not read it again. */
struct mfa_polcache {
	char path[PATH_MAX];
	struct mfa_polref *ref;	/* mfa_polcache.c: parsed once per file change */
	const struct pol *p;
};

/* -------------------------------------------------------------------- */

/*
 * The one place where outcomes become PAM codes. Anything that is not an
 * explicit allow or ignore denies.
 */
static int
mfa_result(enum mfa_stage st, enum mfa_out o)
{
	switch (o) {
	case OUT_ALLOW:	return PAM_SUCCESS;
	case OUT_IGNORE:	return PAM_IGNORE;
	case OUT_CONFIG:	return PAM_SERVICE_ERR;
	case OUT_NOMEM:	return PAM_BUF_ERR;
	case OUT_CONV:	return st == ST_AUTH ? PAM_CONV_ERR : PAM_PERM_DENIED;
	case OUT_EXPIRED:
		if (st == ST_ACCOUNT)
			return PAM_ACCT_EXPIRED;
		break;
	case OUT_DENY:
		break;
	}
	switch (st) {
	case ST_AUTH:	return PAM_AUTH_ERR;
	case ST_ACCOUNT:	return PAM_PERM_DENIED;
	case ST_SESSION:	return PAM_SESSION_ERR;
	}
	return PAM_PERM_DENIED;
}

static int
path_arg_ok(const char *s)
{
	return s[0] == '/' && strlen(s) < PATH_MAX;
}

static enum mfa_out
args_parse(pam_handle_t *pamh, int argc, const char **argv, struct mfa_args *a)
{
	char esc[128];
	int i;

	memset(a, 0, sizeof(*a));
	a->config = MFA_DEFAULT_CONFIG;
	for (i = 0; i < argc; i++) {
		const char *s = argv[i];

		if (strcmp(s, "debug") == 0)
			a->debug = 1;
		else if (strncmp(s, "config=", 7) == 0 && path_arg_ok(s + 7))
			a->config = s + 7;
		else if (strncmp(s, "audit=", 6) == 0 && path_arg_ok(s + 6))
			a->audit = s + 6;
		else if (strncmp(s, "key=", 4) == 0 && path_arg_ok(s + 4))
			a->key = s + 4;
		else if (strncmp(s, "group=", 6) == 0 && s[6] != '\0' &&
		    strlen(s + 6) <= 32)
			a->group = s + 6;
		else {
			/* A typo must not silently weaken the module. */
			pam_syslog(pamh, LOG_ERR, "unknown or invalid argument '%s'",
			    mg_str_escape(s, 64, esc, sizeof(esc)));
			return OUT_CONFIG;
		}
	}
	return OUT_ALLOW;
}

static void
polcache_free(pam_handle_t *pamh, void *data, int err)
{
	struct mfa_polcache *c = data;

	(void)pamh;
	(void)err;
	if (c != NULL) {
		mfa_polcache_put(c->ref);
		free(c);
	}
}

/* Loads the policy or takes it from the handle. 0 or an MG_ERR_*. */
static int
policy_get(struct mfa_ctx *c)
{
	const void *data = NULL;
	const struct mfa_polcache *old;
	struct mfa_polcache *nc;
	struct mfa_polref *ref = NULL;
	struct mg_diag *d;
	int r;

	if (pam_get_data(c->pamh, MFA_DATA_POLICY, &data) == PAM_SUCCESS &&
	    data != NULL) {
		old = data;
		if (strcmp(old->path, c->a.config) == 0) {
			c->p = old->p;
			return 0;
		}
	}
	if ((d = mg_diag_new()) == NULL)
		return MG_ERR_NOMEM;
	if ((r = mfa_polcache_get(c->a.config, &ref, &c->p, d)) != 0) {
		/* The first error names FILE:LINE; the rest are in mspgate-policy check. */
		snprintf(c->polerr, sizeof(c->polerr), "%s%s",
		    mg_diag_count(d) > 0 ? mg_diag_get(d, 0) : mg_strerror(r),
		    mg_diag_count(d) > 1 ? " (and more: mspgate-policy check)" : "");
		mg_diag_free(d);
		return r;
	}
	mg_diag_free(d);
	if ((nc = calloc(1, sizeof(*nc))) == NULL) {
		mfa_polcache_put(ref);
		c->p = NULL;
		return MG_ERR_NOMEM;
	}
	snprintf(nc->path, sizeof(nc->path), "%s", c->a.config);
	nc->ref = ref;
	nc->p = c->p;
	if (pam_set_data(c->pamh, MFA_DATA_POLICY, nc, polcache_free) != PAM_SUCCESS) {
		/* Not cached: freed now, loaded again by the next stage. */
		polcache_free(c->pamh, nc, 0);
		c->p = NULL;
		return MG_ERR_NOMEM;
	}
	return 0;
}

/* 1 when user is in group (primary or supplementary), 0 if not, -1 if unknown group. */
static int
in_group(const char *user, const char *group)
{
	struct passwd pw, *pwr = NULL;
	struct group gr, *grr = NULL;
	char pwbuf[4096], *grbuf = NULL;
	gid_t *gids = NULL;
	int ngids = 64, i, r = 0;
	size_t grlen = 16384;

	if ((grbuf = malloc(grlen)) == NULL)
		return -1;
	if (getgrnam_r(group, &gr, grbuf, grlen, &grr) != 0 || grr == NULL) {
		free(grbuf);
		return -1;
	}
	if (getpwnam_r(user, &pw, pwbuf, sizeof(pwbuf), &pwr) != 0 || pwr == NULL)
		goto out;
	if (pw.pw_gid == gr.gr_gid) {
		r = 1;
		goto out;
	}
	for (i = 0; i < 4; i++) {
		gid_t *ng = reallocarray(gids, (size_t)ngids, sizeof(*gids));
		int n = ngids;

		if (ng == NULL)
			goto out;
		gids = ng;
		if (getgrouplist(user, pw.pw_gid, gids, &n) >= 0) {
			int k;

			for (k = 0; k < n; k++)
				if (gids[k] == gr.gr_gid)
					r = 1;
			goto out;
		}
		ngids = n > ngids ? n : ngids * 2;
	}
 out:
	free(gids);
	free(grbuf);
	return r;
}

static const char *
item_str(pam_handle_t *pamh, int item)
{
	const void *v = NULL;

	if (pam_get_item(pamh, item, &v) != PAM_SUCCESS)
		return NULL;
	return v;
}

/*
 * Sets up c: arguments, user, policy, scope. Returns OUT_ALLOW to go on,
 * or the outcome to return now.
 */
static enum mfa_out
ctx_init(struct mfa_ctx *c, pam_handle_t *pamh, int argc, const char **argv)
{
	const char *group;
	enum mfa_out o;
	int r, g;

	memset(c, 0, sizeof(*c));
	c->pamh = pamh;
	if ((o = args_parse(pamh, argc, argv, &c->a)) != OUT_ALLOW)
		return o;
	if (pam_get_user(pamh, &c->user, NULL) != PAM_SUCCESS || c->user == NULL ||
	    c->user[0] == '\0') {
		pam_syslog(pamh, LOG_ERR, "cannot get the user name");
		return OUT_DENY;
	}
	mg_str_escape(c->user, 64, c->user_esc, sizeof(c->user_esc));
	c->service = item_str(pamh, PAM_SERVICE);
	c->rhost = item_str(pamh, PAM_RHOST);
	c->tty = item_str(pamh, PAM_TTY);
	mg_str_escape(c->rhost, 64, c->rhost_esc, sizeof(c->rhost_esc));

	r = policy_get(c);
	if (r == MG_ERR_NOMEM)
		return OUT_NOMEM;
	if (r == 0) {
		if ((c->e = pol_engineer_find(c->p, c->user)) != NULL) {
			c->scope = SCOPE_MSP;
			return OUT_ALLOW;
		}
		group = c->a.group != NULL ? c->a.group :
		    (c->p->pam.group[0] != '\0' ? c->p->pam.group : NULL);
		if (group != NULL && (g = in_group(c->user, group)) != 0) {
			if (g < 0)
				pam_syslog(pamh, LOG_ERR, "group '%s' does not exist; "
				    "user '%s' is treated as an MSP account", group,
				    c->user_esc);
			/* In the group but not in the policy: an MSP account
			   with no grants, denied below. */
			c->scope = SCOPE_MSP;
			return OUT_ALLOW;
		}
		c->scope = SCOPE_OTHER;
		return OUT_IGNORE;
	}
	/*
	 * No policy: fail closed for whoever may be an MSP account. With a
	 * group= argument that is its members; without one we cannot tell, so
	 * everyone but root is denied (root stays usable on the console).
	 */
	g = c->a.group != NULL ? in_group(c->user, c->a.group) : -1;
	if (g == 0 || (g < 0 && strcmp(c->user, "root") == 0)) {
		c->scope = SCOPE_OTHER;
		pam_syslog(pamh, LOG_WARNING, "policy %s cannot be loaded: %s; "
		    "user '%s' is left to the rest of the stack", c->a.config,
		    c->polerr, c->user_esc);
		return OUT_IGNORE;
	}
	c->scope = SCOPE_BROKEN;
	pam_syslog(pamh, LOG_ERR, "policy %s cannot be loaded: %s; denying '%s'",
	    c->a.config, c->polerr, c->user_esc);
	return OUT_DENY;
}

/* -------------------------------------------------------------------- */
/* Audit */

struct mfa_ev {
	enum rec_audit_type type;
	const char *result, *reason;
	const char *mfa;
	int lazy;		/* rec_audit_event.lazy */
};

static const char *
audit_path(const struct mfa_ctx *c)
{
	return c->a.audit != NULL ? c->a.audit : c->p != NULL ? c->p->gateway.audit : NULL;
}

/*
 * Opens the audit log (and loads its signing key) unless this stage call
 * already did; a failure is remembered and logged once. 0 or an MG_ERR_*.
 */
/*
 * The audit library's own notes (a torn line cut off, no rotated log to
 * link to) reach syslog through pam_syslog; its per-event lines do not:
 * the module logs each event itself.
 */
static void
audit_note(int prio, const char *line, void *ctx)
{
	struct mfa_ctx *c = ctx;

	if (strncmp(line, "audit: event=", 13) != 0)
		pam_syslog(c->pamh, prio, "%s", line);
}

static int
audit_open(struct mfa_ctx *c)
{
	struct rec_audit_opts opts;
	const char *path, *key;
	char err[256];
	int r;

	if (c->aud != NULL || c->aud_err != 0)
		return c->aud_err;
	path = audit_path(c);
	key = c->a.key != NULL ? c->a.key : c->p != NULL ? c->p->gateway.signing_key : NULL;
	if (path == NULL || key == NULL) {
		pam_syslog(c->pamh, LOG_ERR, "no audit log configured (policy not "
		    "loaded and no audit=/key= argument)");
		return c->aud_err = MG_ERR_INVAL;
	}
	memset(&opts, 0, sizeof(opts));
	/* The module logs through pam_syslog itself. */
	opts.no_syslog = 1;
	opts.log_fn = audit_note;
	opts.log_ctx = c;
	opts.lock_timeout_ms = 5000;
	/* The gateway's service account may own the key (mspgated signs too). */
	opts.key_owner = c->p != NULL ? c->p->gateway.user : NULL;
	err[0] = '\0';
	/* Loaded and checked once per change of the key file, not per login. */
	if ((r = mfa_keycache_get(key, opts.key_owner, &c->keyref, &opts.key, err,
	    sizeof(err))) != 0) {
		pam_syslog(c->pamh, LOG_ERR, "audit log %s: %s", path,
		    err[0] ? err : mg_strerror(r));
		return c->aud_err = r;
	}
	if ((r = rec_audit_open(path, key, &opts, &c->aud, err, sizeof(err))) != 0) {
		c->aud = NULL;
		pam_syslog(c->pamh, LOG_ERR, "audit log %s: %s", path,
		    err[0] ? err : mg_strerror(r));
		return c->aud_err = r;
	}
	return 0;
}

/*
 * Writes one audit event (each is locked, chained, signed and synced on
 * its own by rec_audit_event). Without a writable audit log MSP logins
 * are denied, so a 0 return is required on every allow path.
 */
static int
audit(struct mfa_ctx *c, const struct mfa_ev *ev)
{
	struct rec_audit_event e;
	char why[512], rule[PATH_MAX + 16];
	int r;

	if ((r = audit_open(c)) != 0)
		return r;
	/* The gateway reads the MFA used from here, never from the session's env. */
	snprintf(why, sizeof(why), "%s%sservice=%.32s tty=%.32s mfa=%s",
	    ev->reason != NULL ? ev->reason : "", ev->reason != NULL ? "; " : "",
	    c->service != NULL ? c->service : "?", c->tty != NULL ? c->tty : "-",
	    ev->mfa != NULL ? ev->mfa : "none");
	memset(&e, 0, sizeof(e));
	e.type = ev->type;
	e.engineer = c->user;
	e.login = c->user;
	e.source = c->rhost;
	e.result = ev->result;
	e.reason = why;
	e.lazy = ev->lazy;
	if (c->e != NULL) {
		snprintf(rule, sizeof(rule), "%s:%d", c->e->loc.file, c->e->loc.line);
		e.rule = rule;
	}
	if ((r = rec_audit_event(c->aud, &e)) != 0)
		pam_syslog(c->pamh, LOG_ERR, "audit log %s: %s", audit_path(c),
		    rec_audit_errmsg(c->aud));
	return r;
}

/* Ends a stage call: closes what ctx_init and audit opened. */
static void
ctx_done(struct mfa_ctx *c)
{
	rec_audit_close(c->aud);
	c->aud = NULL;
	mfa_keycache_put(c->keyref);
	c->keyref = NULL;
}

static void
say(struct mfa_ctx *c, int style, const char *msg)
{
	if (msg != NULL && msg[0] != '\0')
		pam_prompt(c->pamh, style, NULL, "%s", msg);
}

/* -------------------------------------------------------------------- */
/* auth */

static void
mfa_data_free(pam_handle_t *pamh, void *data, int err)
{
	(void)pamh;
	(void)err;
	free(data);
}

/* Asks for the code; spaces typed between groups of digits are dropped. */
static enum mfa_out
ask_code(struct mfa_ctx *c, char *code, size_t len)
{
	char *resp = NULL;
	size_t i, o = 0;
	int r;

	code[0] = '\0';
	r = pam_prompt(c->pamh, PAM_PROMPT_ECHO_OFF, &resp, "%s", MFA_PROMPT);
	if (r != PAM_SUCCESS || resp == NULL) {
		if (resp != NULL) {
			explicit_bzero(resp, strlen(resp));
			free(resp);
		}
		pam_syslog(c->pamh, LOG_NOTICE, "user '%s': no verification code "
		    "(conversation failed)", c->user_esc);
		return OUT_CONV;
	}
	for (i = 0; resp[i] != '\0' && o + 1 < len; i++)
		if (resp[i] != ' ')
			code[o++] = resp[i];
	code[o] = '\0';
	/* An overlong answer is never a code; it is cut, so it fails. */
	if (resp[i] != '\0')
		code[0] = 'x';
	explicit_bzero(resp, strlen(resp));
	free(resp);
	return OUT_ALLOW;
}

/*
 * What this auth stage verified, for the session stage's attestation: kept
 * in the handle, and in the PAM environment as MSPGATE_AUTH (the record
 * with ';' for newlines), because sshd authenticates keyboard-interactive
 * in a child process and brings back only the PAM environment. Only PAM
 * modules and sshd itself (as root) write that environment.
 */
static enum mfa_out
auth_record(struct mfa_ctx *c, unsigned mfa, char ev[][MFA_EVIDENCE_MAX])
{
	struct mfa_attest a, *copy;
	char rec[MFA_ATTEST_MAX + 16];
	size_t i, n;

	/* uid, pid and source are the session stage's to fill in. */
	mfa_attest_init(&a);
	snprintf(a.engineer, sizeof(a.engineer), "%s", c->user);
	a.login = mg_clock_now();
	for (i = 0; i < mfa_nfactors; i++)
		if ((mfa & mfa_factors[i].bit) &&
		    mfa_attest_set(&a, mfa_factors[i].bit, ev[i]) != 0)
			return OUT_DENY;
	n = strlen("MSPGATE_AUTH=");
	memcpy(rec, "MSPGATE_AUTH=", n);
	if (mfa_attest_format(&a, ';', rec + n, sizeof(rec) - n) != 0)
		return OUT_DENY;
	if ((copy = malloc(sizeof(*copy))) == NULL)
		return OUT_NOMEM;
	*copy = a;
	if (pam_set_data(c->pamh, MFA_DATA_AUTH, copy, mfa_data_free) != PAM_SUCCESS) {
		free(copy);
		return OUT_NOMEM;
	}
	if (pam_putenv(c->pamh, rec) != PAM_SUCCESS)
		return OUT_NOMEM;
	return OUT_ALLOW;
}

/* The PAM stage's side of a factor's login step (struct mfa_login). */
static int
login_ask(struct mfa_login *l, char *code, size_t len)
{
	if (ask_code(l->ctx, code, len) == OUT_ALLOW)
		return 0;
	l->conv_failed = 1;
	return MG_ERR_IO;
}

static void
login_say(struct mfa_login *l, const char *msg)
{
	say(l->ctx, PAM_ERROR_MSG, msg);
	l->shown = 1;
}

static int
login_audit_ready(struct mfa_login *l)
{
	if (audit_open(l->ctx) == 0)
		return 0;
	snprintf(l->why, l->whylen, "the audit log cannot be written");
	login_say(l, "Access denied: the login cannot be recorded.");
	return MG_ERR_DENIED;
}

int
mfa_pam_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct mfa_ctx c;
	struct mfa_ev ev;
	struct mfa_login l;
	char code[32], why[640], *mfa_copy;
	char fev[MFA_ATTEST_FACTORS][MFA_EVIDENCE_MAX];
	const char *mfa_name = "none";
	unsigned need = 0, done_mfa = 0;
	int ar, shown = 0;
	size_t i;
	enum mfa_out o;

	(void)flags;
	code[0] = '\0';
	why[0] = '\0';
	memset(&l, 0, sizeof(l));
	memset(fev, 0, sizeof(fev));
	o = ctx_init(&c, pamh, argc, argv);
	if (c.scope == SCOPE_BROKEN) {
		memset(&ev, 0, sizeof(ev));
		ev.type = REC_AUDIT_AUTH_FAILURE;
		ev.reason = "policy cannot be loaded";
		(void)audit(&c, &ev);
		say(&c, PAM_ERROR_MSG, MFA_MSG_FAILED);
	}
	if (o != OUT_ALLOW)
		goto out;

	if (c.e != NULL)
		need = mfa_required(c.p, c.e);
	mfa_name = pol_mfa_name(need);
	o = OUT_DENY;
	if (need == 0) {
		/* Not in the policy, or no grant: asked like anyone, then denied. */
		if ((o = ask_code(&c, code, sizeof(code))) == OUT_ALLOW)
			o = OUT_DENY;
		snprintf(why, sizeof(why), c.e == NULL ? "not an engineer in the "
		    "policy" : "no grant applies to this engineer");
		goto done;
	}
	l.p = c.p;
	l.e = c.e;
	l.user = c.user;
	l.authinfo = pam_getenv(pamh, "SSH_AUTH_INFO_0");
	l.ask = login_ask;
	l.say = login_say;
	l.audit_ready = login_audit_ready;
	l.ctx = &c;
	l.why = why;
	l.whylen = sizeof(why);
	/* Each factor in turn, required or not; the first refusal ends the login. */
	for (i = 0; i < mfa_nfactors; i++) {
		const struct mfa_factor *f = &mfa_factors[i];
		int r = f->login(&l, (need & f->bit) != 0, fev[i], sizeof(fev[i]));

		if (r == 0) {
			done_mfa |= f->bit;
			continue;
		}
		/* A factor that is needed and did not pass refuses, whatever it said. */
		if (r == MG_ERR_NOENT && !(need & f->bit))
			continue;
		o = l.conv_failed ? OUT_CONV : r == MG_ERR_NOMEM ? OUT_NOMEM : OUT_DENY;
		goto done;
	}
	o = OUT_ALLOW;
 done:
	explicit_bzero(code, sizeof(code));
	shown |= l.shown;
	memset(&ev, 0, sizeof(ev));
	ev.mfa = mfa_name;
	ev.reason = why;
	if (l.locked_now) {
		char lwhy[128];
		struct mfa_ev lev = ev;

		snprintf(lwhy, sizeof(lwhy), "%d failures within %llds; locked for %llds",
		    c.p->mfa.lockout_failures, (long long)c.p->mfa.lockout_within,
		    (long long)c.p->mfa.lockout_for);
		lev.type = REC_AUDIT_LOCKOUT;
		lev.reason = lwhy;
		(void)audit(&c, &lev);
		pam_syslog(pamh, LOG_WARNING, "user '%s' locked out: %s", c.user_esc,
		    lwhy);
	}
	ev.type = o == OUT_ALLOW ? REC_AUDIT_AUTH_SUCCESS : REC_AUDIT_AUTH_FAILURE;
	ar = audit(&c, &ev);
	if (o == OUT_ALLOW && ar != 0) {
		/* Fail closed: a login that cannot be recorded does not happen. */
		o = OUT_DENY;
		snprintf(why, sizeof(why), "the audit log cannot be written");
		say(&c, PAM_ERROR_MSG, "Access denied: the login cannot be recorded.");
		shown = 1;
	}
	pam_syslog(pamh, o == OUT_ALLOW ? LOG_INFO : LOG_NOTICE,
	    "auth %s: user=%s rhost=%s service=%.32s mfa=%s: %s",
	    o == OUT_ALLOW ? "success" : "failure", c.user_esc,
	    c.rhost_esc[0] ? c.rhost_esc : "-", c.service ? c.service : "?",
	    mfa_name, why);
	if (o == OUT_ALLOW &&
	    (o = auth_record(&c, done_mfa, fev)) != OUT_ALLOW) {
		pam_syslog(pamh, LOG_ERR, "user '%s': cannot keep what was verified "
		    "for the session's attestation", c.user_esc);
		say(&c, PAM_ERROR_MSG, MFA_MSG_FAILED);
		goto out;
	}
	if (o == OUT_ALLOW) {
		char env[64];

		/* For later stages of this handle, and for the session's env. */
		if ((mfa_copy = strdup(mfa_name)) == NULL ||
		    pam_set_data(pamh, MFA_DATA_MFA, mfa_copy, mfa_data_free) !=
		    PAM_SUCCESS) {
			free(mfa_copy);
			o = OUT_NOMEM;
			goto out;
		}
		snprintf(env, sizeof(env), "MSPGATE_MFA=%s", mfa_name);
		if (pam_putenv(pamh, env) != PAM_SUCCESS)
			o = OUT_NOMEM;
	} else if (!shown) {
		say(&c, PAM_ERROR_MSG, MFA_MSG_FAILED);
	}
 out:
	ctx_done(&c);
	return mfa_result(ST_AUTH, o);
}

int
mfa_pam_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct mfa_args a;
	enum mfa_out o;

	(void)flags;
	/* No credentials to set; arguments are still checked. */
	if ((o = args_parse(pamh, argc, argv, &a)) != OUT_ALLOW)
		return mfa_result(ST_AUTH, o);
	return PAM_SUCCESS;
}

/* -------------------------------------------------------------------- */
/* account */

int
mfa_pam_account(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct mfa_ctx c;
	struct mfa_ev ev;
	char umsg[256], lmsg[512];
	enum mfa_out o;
	int r;

	(void)flags;
	o = ctx_init(&c, pamh, argc, argv);
	memset(&ev, 0, sizeof(ev));
	ev.type = REC_AUDIT_DENIED;
	if (c.scope == SCOPE_BROKEN) {
		ev.reason = "policy cannot be loaded";
		(void)audit(&c, &ev);
		say(&c, PAM_ERROR_MSG, "Access denied: the access policy cannot be "
		    "read. Contact your administrator.");
	}
	if (o != OUT_ALLOW)
		goto out;
	if (c.e == NULL) {
		snprintf(umsg, sizeof(umsg), "No access is granted to this account.");
		snprintf(lmsg, sizeof(lmsg), "in the MSP group but not an engineer "
		    "in the policy");
		r = MG_ERR_DENIED;
	} else {
		r = mfa_account_check(c.p, c.e, c.rhost, mg_clock_now(), umsg,
		    sizeof(umsg), lmsg, sizeof(lmsg));
	}
	if (r == 0) {
		if (c.a.debug)
			pam_syslog(pamh, LOG_DEBUG, "account ok: user=%s: %s",
			    c.user_esc, lmsg);
		o = OUT_ALLOW;
		goto out;
	}
	ev.reason = lmsg;
	(void)audit(&c, &ev);
	pam_syslog(pamh, LOG_NOTICE, "account denied: user=%s rhost=%s "
	    "service=%.32s: %s", c.user_esc, c.rhost_esc[0] ? c.rhost_esc : "-",
	    c.service ? c.service : "?", lmsg);
	say(&c, PAM_ERROR_MSG, umsg);
	o = r == MG_ERR_RANGE ? OUT_EXPIRED : OUT_DENY;
 out:
	ctx_done(&c);
	return mfa_result(ST_ACCOUNT, o);
}

/* -------------------------------------------------------------------- */
/* session */

/*
 * What the auth stage found, for the session events. sshd authenticates
 * in a child process (keyboard-interactive) and brings back only the PAM
 * environment, not pam_set_data: so MSPGATE_MFA, a known value only. It
 * annotates the audit event; no decision rests on it.
 */
static const char *
session_mfa(pam_handle_t *pamh)
{
	const char *v = pam_getenv(pamh, "MSPGATE_MFA");
	unsigned m = 0;

	/* Only a name as the auth stage spells it (or "none"); the table's own copy. */
	if (v != NULL && (strcmp(v, "none") == 0 || pol_mfa_parse(v, &m) == 0) &&
	    strcmp(v, pol_mfa_name(m)) == 0)
		return pol_mfa_name(m);
	return "unknown";
}

/* "ADDR PORT LADDR LPORT" (sshd's SSH_CONNECTION in the PAM environment). */
static void
conn_source(const char *conn, struct mfa_attest *a)
{
	char addr[64];
	int port;

	if (conn != NULL && sscanf(conn, "%63s %d", addr, &port) == 2 &&
	    port > 0 && port <= 65535) {
		snprintf(a->source, sizeof(a->source), "%s", addr);
		a->port = port;
	}
}

/*
 * Session open: the attestation of this login for mspgated, as
 * <gateway.attestations>/<this process>; sshd opens the PAM session in
 * the connection's root-owned monitor process, the parent of everything
 * the engineer's session runs. Without one mspgated refuses every
 * session of the connection; a login with nothing verified here (another
 * module authenticated) gets none. Session close removes it.
 */
static void
session_attest(struct mfa_ctx *c, int open)
{
	const void *data = NULL;
	const char *env;
	struct mfa_attest a;
	struct passwd pw, *pwr = NULL;
	unsigned long long start = 0;
	char err[512], pwbuf[4096];
	int r;

	if (c->p == NULL || c->p->gateway.attestations == NULL ||
	    mfa_proc_stat(getpid(), &start, NULL) != 0)
		return;
	if (!open) {
		(void)mfa_attest_remove(c->p->gateway.attestations, getpid(), start);
		return;
	}
	if (pam_get_data(c->pamh, MFA_DATA_AUTH, &data) == PAM_SUCCESS && data != NULL) {
		a = *(const struct mfa_attest *)data;
	} else if ((env = pam_getenv(c->pamh, "MSPGATE_AUTH")) != NULL) {
		if (mfa_attest_parse(env, strlen(env), ';', &a, err, sizeof(err)) != 0) {
			pam_syslog(c->pamh, LOG_ERR, "user '%s': MSPGATE_AUTH: %s; "
			    "login not attested", c->user_esc, err);
			return;
		}
	} else {
		pam_syslog(c->pamh, LOG_NOTICE, "user '%s': pam_mspgate verified no "
		    "factor of this login: not attested", c->user_esc);
		return;
	}
	if (strcmp(a.engineer, c->user) != 0) {
		pam_syslog(c->pamh, LOG_ERR, "user '%s': the verified login was "
		    "another user's: not attested", c->user_esc);
		return;
	}
	if (getpwnam_r(c->user, &pw, pwbuf, sizeof(pwbuf), &pwr) != 0 || pwr == NULL) {
		pam_syslog(c->pamh, LOG_ERR, "user '%s': no such account: not attested",
		    c->user_esc);
		return;
	}
	a.uid = pw.pw_uid;
	a.pid = getpid();
	a.start = start;
	a.source[0] = '\0';
	a.port = 0;
	conn_source(pam_getenv(c->pamh, "SSH_CONNECTION"), &a);
	if (a.source[0] == '\0' && c->rhost != NULL && c->rhost[0] != '\0')
		snprintf(a.source, sizeof(a.source), "%s", c->rhost);
	if ((r = mfa_attest_write(c->p->gateway.attestations, &a, err, sizeof(err))) != 0)
		pam_syslog(c->pamh, LOG_ERR, "user '%s': cannot write the login "
		    "attestation: %s", c->user_esc, err);
}

int
mfa_pam_session(pam_handle_t *pamh, int flags, int argc, const char **argv,
    int open)
{
	struct mfa_ctx c;
	struct mfa_ev ev;
	const void *mfa = NULL;
	enum mfa_out o;

	(void)flags;
	o = ctx_init(&c, pamh, argc, argv);
	if (o != OUT_ALLOW) {
		if (c.scope == SCOPE_BROKEN)
			say(&c, PAM_ERROR_MSG, "Access denied: the access policy "
			    "cannot be read. Contact your administrator.");
		goto out;
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = open ? REC_AUDIT_SESSION_START : REC_AUDIT_SESSION_END;
	if (pam_get_data(pamh, MFA_DATA_MFA, &mfa) == PAM_SUCCESS && mfa != NULL)
		ev.mfa = mfa;
	else
		ev.mfa = session_mfa(pamh);
	ev.reason = open ? "pam session opened" : "pam session closed";
	/*
	 * Nothing waits on these two: the login itself was written with a
	 * sync (auth), and the next synced event (mspgated's session start,
	 * any login) carries them to the disk as well.
	 */
	ev.lazy = 1;
	if (audit(&c, &ev) != 0) {
		pam_syslog(pamh, LOG_ERR, "session %s for '%s': the audit log "
		    "cannot be written", open ? "denied" : "close not recorded",
		    c.user_esc);
		if (open)
			say(&c, PAM_ERROR_MSG, "Access denied: the session cannot "
			    "be recorded.");
		o = OUT_DENY;
		goto out;
	}
	session_attest(&c, open);
	pam_syslog(pamh, LOG_INFO, "session %s: user=%s rhost=%s tty=%.32s",
	    open ? "opened" : "closed", c.user_esc,
	    c.rhost_esc[0] ? c.rhost_esc : "-", c.tty ? c.tty : "-");
 out:
	ctx_done(&c);
	return mfa_result(ST_SESSION, o);
}
