/* SPDX-License-Identifier: BSD-2-Clause */
/* Access decisions: allow or deny, why, by which rule, and until when. */
#ifndef POL_DECIDE_H
#define POL_DECIDE_H

#include <time.h>

#include "pol.h"

struct pol_request {
	const char *engineer;
	const char *tenant;
	const char *target;
	const char *login;	/* NULL: the first login the grant allows */
	time_t at;		/* when; 0 means mg_clock_now() */
	unsigned mfa_used;	/* POL_MFA_* the engineer passed */
	int mfa_unknown;	/* set only by explain/report: MFA not judged */
	const char *source;	/* numeric address; NULL or "" = unknown */
	time_t login_time;	/* when the engineer's login was verified (the
				   attestation); 0: not judged (PAM, explain) */
};

struct pol_decision {
	int allow;
	char reason[512];	/* in words, for the engineer's log and explain */
	struct pol_loc rule;	/* the grant (or other entry) that decided */
	const struct pol_grant *grant;	/* on allow */
	const struct pol_engineer *engineer;
	const struct pol_target *target;
	const char *login;	/* on allow: the login (from the policy) */
	unsigned mfa_required;
	int ticket_required;
	int approval_required;	/* the session waits for one of the tenant's
				   approvers (grant's approval = "required") */
	int64_t approval_timeout;	/* then: seconds it waits at most */
	int64_t max_session;
	time_t window_close;	/* when the time window closes; 0: never */
	time_t end_by;		/* the session must end by this; 0: never */
	time_t valid_until;	/* access ends here (engineer/key/grant), 0: never */
	time_t next_open;	/* on a window deny: when it opens next; 0: unknown */
	int login_too_old;	/* on a deny: only the login's age (max_login_age)
				   stood in the way of the grant that came closest */
};

/*
 * Decides req against p. Deny by default: an unknown engineer, tenant,
 * target or login, an expired account, a closed window, a missing MFA
 * method, or a source outside the allowed networks each deny, with the
 * reason. Among grants that apply, the first that allows wins (allow);
 * otherwise the reason comes from the grant that came closest.
 * Returns 0 (the decision is in *d) or MG_ERR_INVAL for a bad request.
 */
int pol_decide(const struct pol *p, const struct pol_request *req,
    struct pol_decision *d);

/* May an engineer log in now (pam_mspgate's account stage)? */
struct pol_login_request {
	const char *engineer;
	const char *source;	/* numeric address (PAM_RHOST); NULL or "": local */
	time_t at;		/* 0: mg_clock_now() */
	const struct pol_tenant *tenant;	/* this host's tenant; NULL: any */
};

enum pol_login_why {
	POL_LOGIN_OK,
	POL_LOGIN_UNKNOWN,	/* not an engineer in the policy */
	POL_LOGIN_NOT_YET,	/* when: the account's valid_from */
	POL_LOGIN_EXPIRED,	/* when: the account's valid_until (exclusive) */
	POL_LOGIN_SOURCE,	/* source_rule: which list refused it */
	POL_LOGIN_NO_GRANT,	/* no grant applies (for this tenant) */
	POL_LOGIN_WINDOW,	/* when: the next opening (0: none within a year) */
};

struct pol_login_decision {
	int allow;
	enum pol_login_why why;
	struct pol_loc rule;	/* the engineer, or the grant that decided */
	const struct pol_engineer *engineer;
	const struct pol_grant *grant;	/* allow: the open one; WINDOW: the next */
	const struct pol_tenant *tenant;
	time_t when;
	const struct mg_tz *tz;	/* WINDOW: the zone to name the opening in */
	const char *source_rule;	/* SOURCE: "pam.sources" or "the engineer's sources" */
};

/*
 * The login check, with pol_decide's own validity, source and window
 * rules: the account's dates; the source (pam.sources when the policy sets
 * them, a client host reached from the gateway, else the engineer's
 * sources); then a grant of the engineer (for req->tenant only, when set)
 * that is valid and inside its tenant's and its own windows now.
 * Returns 0 (the decision in *d; deny by default) or MG_ERR_INVAL.
 */
int pol_decide_login(const struct pol *p, const struct pol_login_request *req,
    struct pol_login_decision *d);

#endif
