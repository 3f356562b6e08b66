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
	int64_t max_session;
	time_t window_close;	/* when the time window closes; 0: never */
	time_t end_by;		/* the session must end by this; 0: never */
	time_t valid_until;	/* access ends here (engineer/key/grant), 0: never */
	time_t next_open;	/* on a window deny: when it opens next; 0: unknown */
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

#endif
