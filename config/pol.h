/* SPDX-License-Identifier: BSD-2-Clause */
/* The policy model: who may reach which client host, as whom, when, how. */
#ifndef POL_H
#define POL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mg_addr.h"
#include "mg_diag.h"
#include "mg_sshkey.h"
#include "mg_tz.h"
#include "pol_window.h"

/* MFA methods, as a bit set; their names are in pol.c (pol_mfa_name). */
#define POL_MFA_FIDO	0x1u
#define POL_MFA_TOTP	0x2u
#define POL_MFA_ALL	(POL_MFA_FIDO | POL_MFA_TOTP)

/* Where something was defined, for messages and "the rule that decided". */
struct pol_loc {
	const char *file;	/* owned by the policy */
	int line;
};

struct pol_key {
	struct mg_sshkey *key;
	int verify_required;	/* security keys: FIDO PIN required */
	time_t valid_from;	/* 0: no bound */
	time_t valid_until;	/* 0: no bound; exclusive (end of that day) */
	struct pol_loc loc;
};

struct pol_engineer {
	char *name;
	char **groups;
	size_t ngroups;
	struct pol_key *keys;
	size_t nkeys;
	time_t valid_from;	/* 0: no bound */
	time_t valid_until;	/* 0: no bound; exclusive (end of that day) */
	struct mg_cidr *sources;	/* empty: any source */
	size_t nsources;
	unsigned mfa;		/* POL_MFA_* for the gateway login; 0: the union
				   of the mfa of every grant that applies */
	struct pol_loc mfa_loc;
	struct pol_loc loc;
};

struct pol_tenant;

/*
 * A credential the policy declares (the "credentials" list). A target's
 * credential that is not declared is a vault key, as before the list.
 */
enum pol_cred_kind {
	POL_CRED_KEY = 0,	/* NAME.key in gateway.vault */
	POL_CRED_CERT = 1,	/* a certificate per session from mspgate-signer */
};
struct pol_credential {
	char *name;
	enum pol_cred_kind kind;
	struct mg_sshkey *ca;	/* certificate: the CA's public key (ssh-ed25519) */
	char *source_address;	/* certificate: "CIDR,CIDR"; NULL: the connection's address */
	const struct pol_tenant *tenant;	/* certificate: the one tenant using it */
	struct pol_loc loc;
};

struct pol_target {
	char *name;
	char *host;
	int port;
	struct mg_sshkey **host_keys;	/* pinned; none only with the tenant's host_ca */
	size_t nhost_keys;
	char **logins;
	size_t nlogins;
	char *credential;	/* name in the vault, or of a declared credential */
	const struct pol_credential *cred;	/* declared; NULL: a vault key */
	struct pol_tenant *tenant;
	struct pol_loc loc;
};

struct pol_tenant {
	char *name;
	char *description;
	struct mg_tz *tz;	/* owned; UTC when not given */
	const struct pol_window **windows;	/* empty: any time */
	size_t nwindows;
	struct pol_target *targets;
	size_t ntargets;
	/*
	 * Who may approve sessions of grants with approval = "required":
	 * local accounts on the gateway ("carol") or their groups
	 * ("group:leads"), as mspgatectl's caller is seen (SO_PEERCRED).
	 */
	char **approvers;
	size_t napprovers;
	/*
	 * Targets without a pinned host key must present an ed25519 host
	 * certificate signed by this CA for their host name; NULL: none.
	 */
	struct mg_sshkey *host_ca;
	struct pol_loc loc;
};

/* How long a session waits for approval by default, and the bounds. */
#define POL_APPROVAL_TIMEOUT_DEFAULT	300
#define POL_APPROVAL_TIMEOUT_MIN	10
#define POL_APPROVAL_TIMEOUT_MAX	3600

struct pol_grant {
	char **to;		/* "alice" or "group:l2" */
	size_t nto;
	struct pol_tenant **tenants;
	size_t ntenants;
	char **targets;		/* names or fnmatch(3) globs */
	size_t ntargets;
	char **logins;
	size_t nlogins;
	unsigned mfa;		/* POL_MFA_* required, never 0 */
	int64_t max_session;	/* seconds */
	int64_t max_login_age;	/* seconds; new sessions on an older login are
				   refused (gateway.max_login_age by default) */
	int ticket;		/* a change/incident ticket is required */
	int approval;		/* a session waits for one of its tenant's approvers */
	int64_t approval_timeout;	/* seconds it waits; then it is refused */
	const struct pol_window **windows;	/* empty: only the tenant's */
	size_t nwindows;
	struct mg_cidr *sources;	/* empty: any source */
	size_t nsources;
	time_t valid_from, valid_until;	/* 0: no bound */
	char *comment;
	struct pol_loc loc;
};

struct pol_gateway {
	char *vault;
	char *recordings;
	char *audit;
	char *state;
	char *control_socket;
	char *session_socket;	/* mspgate-shell hands sessions to mspgated here */
	char *user;		/* the service account: mspgated runs as it, owns its files */
	char *signing_key;
	char *attestations;	/* pam_mspgate's login attestations (root's) */
	int64_t max_login_age;	/* default for grants; seconds */
	int64_t default_max_session;
	int64_t idle_timeout;	/* 0: none */
	/*
	 * A reload withdrew a live session's grant: it ends this long after
	 * the reload, with the usual warnings. POL_GRACE_FINISH: it runs on
	 * to the end it had.
	 */
	int64_t reload_grace;
	int max_sessions;	/* live sessions mspgated runs at once */
	int max_sessions_per_engineer;	/* connections one engineer may hold */
	struct pol_loc loc;
};
#define POL_GRACE_FINISH (-1)
#define POL_MAX_SESSIONS_DEFAULT 2048
#define POL_MAX_SESSIONS_LIMIT 65536
#define POL_MAX_PER_ENGINEER_DEFAULT 64

/*
 * mspgate-signer(8): the daemon that holds the tenants' CA keys. mspgated
 * reads only socket; the rest is the signer's own.
 */
struct pol_signer {
	char *socket;		/* mspgated's session processes ask here */
	char *ca_keys;		/* CREDENTIAL.pem: each CA's private key */
	char *audit;		/* the signer's own audit log */
	char *signing_key;	/* the key signing that log */
	char *user;		/* the signer's system account */
	int per_minute;		/* certificates issued in any minute, at most */
	struct pol_loc loc;
};
#define POL_SIGNER_PER_MINUTE_DEFAULT 120

struct pol_mfa {
	char *totp_store;
	int skew_steps;
	int digits;		/* 6 or 8 */
	int period;		/* seconds, 30 by default */
	char *algorithm;	/* "sha1", "sha256", "sha512" */
	int lockout_failures;
	int64_t lockout_within;
	int64_t lockout_for;
	struct pol_loc loc;
};

/*
 * pam_mspgate(8): who counts as an MSP account, and from where. Fixed
 * sizes: the section is small, and the policy owns nothing more.
 */
#define POL_PAM_MAX_SOURCES	64
struct pol_pam {
	char group[33];		/* Unix group of MSP accounts; "": none */
	struct mg_cidr sources[POL_PAM_MAX_SOURCES];	/* PAM_RHOST must match */
	size_t nsources;	/* 0: no host-wide restriction */
	const struct pol_tenant *tenant;	/* this host's tenant; NULL: all */
	struct pol_loc loc;
};

/*
 * Where the gateway's shared state lives (the "state" section): this
 * gateway's own files (gateway.state), or PostgreSQL, shared by gateways.
 */
enum pol_state_backend { POL_STATE_FILES = 0, POL_STATE_POSTGRESQL = 1 };
struct pol_state {
	enum pol_state_backend backend;
	char *conninfo;		/* libpq connection string (postgresql), no password */
	char *passfile;		/* a libpq password file, or NULL */
	char *key_file;		/* the AES-256 key sealing TOTP secrets (postgresql) */
	int64_t timeout;	/* seconds a login waits for the database; 5 */
	char *name;		/* this gateway's name; NULL: the host name */
	struct pol_loc loc;
};
#define POL_STATE_TIMEOUT_DEFAULT	5
#define POL_STATE_TIMEOUT_MAX		60
#define POL_STATE_NAME_MAX		63
#define POL_STATE_CONNINFO_MAX		4096

enum pol_action { POL_ACT_ALERT, POL_ACT_REAUTH, POL_ACT_DENY };

struct pol_alert_rule {
	int enabled;
	enum pol_action action;
	int64_t count;		/* tenants, failures, attempts, days...: per rule */
	int64_t within;		/* seconds */
	int64_t bytes;		/* egress per session */
	int64_t bytes_day;	/* egress per day */
	struct pol_loc loc;
};

struct pol_alerts {
	struct pol_alert_rule fanout;	/* count tenants within */
	struct pol_alert_rule first_access;	/* count days */
	struct pol_alert_rule off_hours;	/* count attempts within */
	struct pol_alert_rule mfa_failures;	/* count failures within */
	struct pol_alert_rule unusual;	/* count days of history */
	struct pol_alert_rule parallel;
	struct pol_alert_rule egress;	/* bytes, bytes_day */
	struct pol_alert_rule sensitive;	/* patterns */
	char **patterns;
	size_t npatterns;
	/* alerts.notify: a command run for every alert (absolute path); "": none */
	char notify[1024];
	/* alerts.deny_ends_sessions: a deny also ends the engineer's live sessions */
	int deny_ends_sessions;
};

struct pol {
	char **files;		/* every file read, the main one first */
	size_t nfiles;
	struct pol_gateway gateway;
	struct pol_mfa mfa;
	struct pol_state state;
	struct pol_pam pam;
	struct pol_alerts alerts;
	struct pol_window **windows;
	size_t nwindows;
	struct pol_engineer *engineers;
	size_t nengineers;
	struct pol_tenant *tenants;
	size_t ntenants;
	struct pol_grant *grants;
	size_t ngrants;
	struct pol_credential *credentials;
	size_t ncredentials;
	struct pol_signer signer;
};

/*
 * Loads and validates the policy at path (absolute or relative; it is made
 * absolute), with its @include files. Every problem found is added to diag
 * as "FILE:LINE: message". On any error nothing is returned (*out = NULL):
 * a policy is never half-loaded. Returns 0, MG_ERR_POLICY, MG_ERR_NOMEM.
 */
int pol_load(const char *path, struct pol **out, struct mg_diag *diag);
/* The same from memory (fuzzing, tests); name is used in messages and
 * @include paths resolve against its directory. */
int pol_load_buffer(const char *buf, size_t len, const char *name,
    struct pol **out, struct mg_diag *diag);
void pol_free(struct pol *p);

const struct pol_engineer *pol_engineer_find(const struct pol *p, const char *name);
const struct pol_tenant *pol_tenant_find(const struct pol *p, const char *name);
const struct pol_target *pol_target_find(const struct pol_tenant *t, const char *name);
/* A declared credential by name; NULL when not declared (a vault key). */
const struct pol_credential *pol_credential_find(const struct pol *p, const char *name);
/* 1 when the grant names the engineer directly or through a group. */
int pol_grant_applies(const struct pol_grant *g, const struct pol_engineer *e);
/* 1 when the grant covers that target of one of its tenants. */
int pol_grant_covers(const struct pol_grant *g, const struct pol_target *t);
/* 1 when login is in the grant's and the target's logins. */
int pol_grant_login_ok(const struct pol_grant *g, const struct pol_target *t,
    const char *login);

/*
 * When the grant lets the engineer reach t: the tenant's windows and the
 * grant's, each described in its zone (the tenant's when it names none),
 * or "any time". Cut to fit buf (len > 0).
 */
void pol_grant_when(const struct pol_grant *g, const struct pol_target *t,
    char *buf, size_t len);

/*
 * A set of MFA methods: the factors' names joined by '+' ("fido",
 * "fido+totp", "totp+fido") <-> POL_MFA_* bits, never 0 ("none" is the
 * caller's to allow). parse returns 0 or MG_ERR_PARSE; name gives the one
 * spelling of every set (factors in bit order; "none" for 0).
 */
int pol_mfa_parse(const char *s, unsigned *out);
const char *pol_mfa_name(unsigned mfa);
/*
 * Every set's name, for messages: sep between them, last before the final
 * one ("fido, totp or fido+totp"), cut to fit buf (len > 0). Returns buf.
 */
const char *pol_mfa_sets(const char *sep, const char *last, char *buf, size_t len);

/*
 * A tenant's approvers as the policy names them, sep between them
 * ("group:leads, erin"); "" for none or t NULL. Cut to fit buf (len > 0).
 * Returns buf.
 */
const char *pol_approvers_text(const struct pol_tenant *t, const char *sep,
    char *buf, size_t len);

#endif
