/* SPDX-License-Identifier: BSD-2-Clause */
/* May this session start? The one decision, from a typed request to a typed verdict. */
#ifndef GW_DECIDE_H
#define GW_DECIDE_H

#include <time.h>

#include "gw_detect.h"
#include "gw_request.h"
#include "mfa_attest.h"
#include "pol_decide.h"

/*
 * Every check a new session passes, in one place and one order: the target
 * as given, the ticket's syntax, the attested login (invariant 9), the
 * engineer and the target in the policy, whether the login still stands
 * (lockout, enrolment), the policy's decision (pol_decide), the detector,
 * and the ticket the grant asks for. The session process only carries out
 * what the verdict says: refuse, or ask the engineer something and decide
 * again with the answer, or go on.
 *
 * Asking is the caller's: a verdict GW_VERDICT_ASK_CODE or _ASK_TICKET
 * comes back, the session asks on the engineer's terminal, writes the
 * result into the request and calls gw_decide() again. Each call repeats
 * the cheap checks, so nothing decided earlier is taken on trust; the
 * detector, which counts attempts, is asked once per request (its answer
 * is kept in the request).
 */

enum gw_verdict_kind {
	GW_VERDICT_ALLOW,
	GW_VERDICT_DENY,
	GW_VERDICT_ASK_CODE,	/* a fresh TOTP code; the prompt says why */
	GW_VERDICT_ASK_TICKET,	/* a change ticket, on the terminal */
};

enum gw_fresh {
	GW_FRESH_NONE,		/* not asked */
	GW_FRESH_OK,		/* a fresh code was accepted */
	GW_FRESH_FAILED,	/* asked, and not accepted (or no answer) */
};

struct gw_decide_req {
	/* What the engineer asked for (mspgate-shell's OPEN), untrusted. */
	const char *target;	/* "[login@]tenant/target"; NULL or "": none */
	const char *ticket;	/* NULL or "": none */
	int tty;		/* the session has a terminal to ask on */
	/* What root saw at login (the attestation), and the session's peer. */
	int attested;
	const char *att_why;	/* why not attested */
	const char *engineer;
	const struct mfa_attest *att;
	const char *source;	/* numeric address, "" unknown */
	/* The detector (the session's parent); NULL: none to ask. */
	enum gw_detect_action (*ask_detector)(void *ctx, const struct gw_target_spec *spec,
	    int allowed, int window, char *words, size_t wlen);
	void *ask_ctx;
	/* Answers gathered between calls; zero at the start. */
	enum gw_fresh login_age_code;	/* asked for the login's age */
	time_t login_age_at;		/* when that code was accepted */
	enum gw_fresh detector_code;	/* asked because the detector said reauth */
	int ticket_asked;		/* ticket was typed at the prompt */
	int detector_asked;
	enum gw_detect_action detector;
	char detector_words[128];
};

struct gw_verdict {
	enum gw_verdict_kind kind;
	char reason[512];	/* DENY: for the audit log and syslog */
	char rule[300];		/* the rule that decided: "file:line", "alerts" or "" */
	char tell[700];		/* DENY: the engineer's line; ASK_CODE: the prompt */
	const char *ask_words;	/* ASK_CODE: the reason in words, for the audit */
	enum gw_code_for {
		GW_CODE_LOGIN_AGE,	/* answer in login_age_code (and _at) */
		GW_CODE_DETECTOR,	/* answer in detector_code */
	} code_for;		/* ASK_CODE: which answer it is */
	struct gw_target_spec spec;	/* as far as it was parsed */
	const struct pol_engineer *engineer;	/* once found */
	unsigned mfa_used;	/* the login's factors that still count */
	struct pol_decision d;	/* the policy's decision, once made */
};

/* The ticket syntax: letters, digits and ._:/#-, 1 to 64 characters. */
int gw_ticket_ok(const char *t);

/*
 * Decides rq against p at mg_clock_now(). Always fills *v (deny by
 * default) and returns v->kind.
 */
enum gw_verdict_kind gw_decide(const struct pol *p, struct gw_decide_req *rq,
    struct gw_verdict *v);

#endif
