/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for the policy loader: every class of error, with its line, and includes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "mg_diag.h"
#include "mg_err.h"
#include "pol.h"
#include "pol_decide.h"
#include "../lib/testkeys.h"

#define NAME "/etc/mspgate/test.conf"

/* Replaces %HK% (host key), %K1% %K2% (ed25519), %SK% (security key). */
static char *
expand(const char *tmpl)
{
	static const char *const seeds[][2] = {
		{ "%HK%", "host" }, { "%K1%", "k1" }, { "%K2%", "k2" }, { "%SK%", "sk" },
	};
	char *out = malloc(strlen(tmpl) * 4 + 1024), key[512];
	const char *p = tmpl;
	size_t o = 0, i;

	assert_non_null(out);
	while (*p) {
		for (i = 0; i < 4; i++)
			if (strncmp(p, seeds[i][0], 4) == 0)
				break;
		if (i < 4) {
			tk_key(seeds[i][1], i == 3, key, sizeof(key));
			o += (size_t)sprintf(out + o, "%s", key);
			p += 4;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	return out;
}

/* A valid policy; cases replace one line of it (1-based) or append. */
static const char *const base[] = {
	/* 1 */ "windows: { w1 = { tz = \"Europe/London\"; days = \"Mon-Fri\"; hours = \"08:00-18:00\"; }; };",
	/* 2 */ "engineers = ( { name = \"alice\"; groups = [\"l2\"]; keys = [\"%SK% a@k\"]; },",
	/* 3 */ "  { name = \"bob\"; keys = [\"%K1%\"]; } );",
	/* 4 */ "tenants = ( { name = \"acme\"; tz = \"Europe/London\"; windows = [\"w1\"];",
	/* 5 */ "  targets = ( { name = \"web01\"; host = \"192.0.2.10\"; host_key = \"%HK%\";",
	/* 6 */ "     logins = [\"deploy\"]; credential = \"c1\"; } ); } );",
	/* 7 */ "grants = ( { to = \"group:l2\"; tenants = [\"acme\"]; targets = [\"*\"];",
	/* 8 */ "   logins = [\"deploy\"]; mfa = \"totp\"; } );",
	NULL
};

static char *
make(int line, const char *replace, const char *append)
{
	char buf[8192];
	size_t o = 0;
	int i;

	for (i = 0; base[i] != NULL; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s\n",
		    i + 1 == line ? replace : base[i]);
	if (append != NULL)
		snprintf(buf + o, sizeof(buf) - o, "%s\n", append);
	return expand(buf);
}

static void
test_base_is_valid(void **state)
{
	struct mg_diag *d = mg_diag_new();
	struct pol *p = NULL;
	char *text = make(0, NULL, NULL);

	(void)state;
	assert_int_equal(pol_load_buffer(text, strlen(text), NAME, &p, d), 0);
	assert_int_equal(mg_diag_count(d), 0);
	assert_non_null(p);
	assert_int_equal(p->nengineers, 2);
	assert_int_equal(p->ntenants, 1);
	assert_int_equal(p->tenants[0].ntargets, 1);
	assert_int_equal(p->tenants[0].targets[0].port, 22);
	assert_int_equal(p->ngrants, 1);
	assert_int_equal(p->grants[0].mfa, POL_MFA_TOTP);
	/* Defaults filled in. */
	assert_int_equal(p->grants[0].max_session, 4 * 3600);
	assert_int_equal(p->mfa.skew_steps, 1);
	assert_string_equal(p->gateway.audit, "/var/log/mspgate/audit.jsonl");
	assert_int_equal(p->gateway.reload_grace, 5 * 60);
	assert_int_equal(p->gateway.max_sessions, POL_MAX_SESSIONS_DEFAULT);
	assert_string_equal(p->grants[0].loc.file, NAME);
	assert_int_equal(p->grants[0].loc.line, 7);
	pol_free(p);
	mg_diag_free(d);
	free(text);
}

static const struct errcase {
	const char *what;
	int line;		/* line of base replaced, 0 none */
	const char *replace;
	const char *append;	/* appended after line 8 */
	int want_line;		/* line the error must name */
	const char *want;	/* substring of the message */
} errcases[] = {
	{ "syntax error", 3, "  { name = = \"bob\"; } );", NULL, 3, "syntax error" },
	{ "unknown top-level key", 0, NULL, "colour = \"blue\";", 9, "unknown key 'colour'" },
	{ "unknown key in engineer", 3, "  { name = \"bob\"; shell = \"/bin/sh\"; } );", NULL, 3,
	  "unknown key 'shell' in engineer" },
	{ "unknown key in target", 6, "     logins = [\"deploy\"]; credential = \"c1\"; user = \"x\"; } ); } );",
	  NULL, 6, "unknown key 'user' in a target" },
	{ "wrong type", 5, "  targets = ( { name = \"web01\"; host = \"192.0.2.10\"; port = \"22\"; host_key = \"%HK%\";",
	  NULL, 5, "'port' in a target must be an integer, not a string" },
	{ "port out of range", 5, "  targets = ( { name = \"web01\"; host = \"192.0.2.10\"; port = 70000; host_key = \"%HK%\";",
	  NULL, 5, "'port' must be between 1 and 65535" },
	{ "max_sessions out of range", 0, NULL, "gateway: { max_sessions = 0; };", 9,
	  "'max_sessions' must be between 1 and 65536, not 0" },
	{ "undefined tenant", 7, "grants = ( { to = \"group:l2\"; tenants = [\"initech\"]; targets = [\"*\"];",
	  NULL, 7, "tenant 'initech' is not defined" },
	{ "wildcard tenant", 7, "grants = ( { to = \"group:l2\"; tenants = [\"*\"]; targets = [\"*\"];",
	  NULL, 7, "wildcards are not allowed" },
	{ "undefined engineer", 7, "grants = ( { to = \"mallory\"; tenants = [\"acme\"]; targets = [\"*\"];",
	  NULL, 7, "engineer 'mallory' is not defined" },
	{ "undefined group", 7, "grants = ( { to = \"group:l9\"; tenants = [\"acme\"]; targets = [\"*\"];",
	  NULL, 7, "no engineer is in group 'l9'" },
	{ "undefined window", 4, "tenants = ( { name = \"acme\"; tz = \"Europe/London\"; windows = [\"w2\"];",
	  NULL, 4, "names window 'w2', which is not defined" },
	{ "duplicate engineer", 3, "  { name = \"alice\"; } );", NULL, 3,
	  "engineer 'alice' is already defined at " NAME ":2" },
	{ "duplicate target", 6, "     logins = [\"deploy\"]; credential = \"c1\"; },\n"
	  "   { name = \"web01\"; host = \"h\"; host_key = \"%HK%\"; logins = [\"x\"]; credential = \"c\"; } ); } );",
	  NULL, 7, "target 'acme/web01' is already defined at " NAME ":5" },
	{ "bad ssh key", 3, "  { name = \"bob\"; keys = [\"ssh-ed25519 AAAAC3Nza!!\"]; } );", NULL, 3,
	  "key in engineer 'bob'" },
	{ "dss key", 3, "  { name = \"bob\"; keys = [\"ssh-dss AAAAB3NzaC1kc3M=\"]; } );", NULL, 3,
	  "key in engineer 'bob'" },
	{ "bad host key", 5, "  targets = ( { name = \"web01\"; host = \"192.0.2.10\"; host_key = \"ssh-ed25519 xx\";",
	  NULL, 5, "host key of target 'acme/web01'" },
	{ "no host key", 5, "  targets = ( { name = \"web01\"; host = \"192.0.2.10\";",
	  NULL, 5, "has no pinned host key" },
	{ "unknown time zone", 1, "windows: { w1 = { tz = \"Europe/Lundon\"; days = \"Mon-Fri\"; hours = \"08:00-18:00\"; }; };",
	  NULL, 1, "unknown time zone \"Europe/Lundon\"" },
	{ "tz path traversal", 4, "tenants = ( { name = \"acme\"; tz = \"../../etc/passwd\"; windows = [\"w1\"];",
	  NULL, 4, "unknown time zone" },
	{ "hour 25", 1, "windows: { w1 = { tz = \"Europe/London\"; days = \"Mon-Fri\"; hours = \"08:00-25:00\"; }; };",
	  NULL, 1, "25:00" },
	{ "minute 60", 1, "windows: { w1 = { days = \"Mon-Fri\"; hours = \"08:60-18:00\"; }; };",
	  NULL, 1, "08:60" },
	{ "bad day", 1, "windows: { w1 = { days = \"Mon-Fry\"; hours = \"08:00-18:00\"; }; };",
	  NULL, 1, "window 'w1'" },
	{ "impossible date", 1, "windows: { w1 = { days = \"Mon-Fri\"; hours = \"08:00-18:00\"; except = [\"2027-02-29\"]; }; };",
	  NULL, 1, "2027-02-29" },
	{ "dated window backwards", 1, "windows: { w1 = { dates = [\"2026-12-27 08:00 .. 2026-12-24 18:00\"]; }; };",
	  NULL, 1, "window 'w1'" },
	{ "empty window", 1, "windows: { w1 = { tz = \"Europe/London\"; }; };", NULL, 1,
	  "window 'w1' is empty" },
	{ "empty hour range", 1, "windows: { w1 = { days = \"Mon\"; hours = \"09:00-09:00\"; }; };",
	  NULL, 1, "window 'w1'" },
	{ "days without hours", 1, "windows: { w1 = { days = \"Mon\"; }; };", NULL, 1,
	  "'days' and 'hours' go together" },
	{ "bad mfa", 8, "   logins = [\"deploy\"]; mfa = \"sms\"; } );", NULL, 8,
	  "mfa must be fido, totp or fido+totp, not \"sms\"" },
	{ "missing mfa", 8, "   logins = [\"deploy\"]; } );", NULL, 7, "grant has no 'mfa'" },
	{ "glob matches nothing", 7, "grants = ( { to = \"group:l2\"; tenants = [\"acme\"]; targets = [\"db*\"];",
	  NULL, 7, "target 'db*' matches no target" },
	{ "login on no target", 8, "   logins = [\"root\"]; mfa = \"totp\"; } );", NULL, 8,
	  "login 'root' is not allowed on any target" },
	{ "bad duration", 8, "   logins = [\"deploy\"]; mfa = \"totp\"; max_session = \"2x\"; } );",
	  NULL, 8, "'max_session'" },
	{ "cidr host bits", 3, "  { name = \"bob\"; sources = [\"10.0.0.1/8\"]; } );", NULL, 3,
	  "sources in engineer 'bob'" },
	{ "key shared by two engineers", 3, "  { name = \"bob\"; keys = [\"%SK%\"]; } );", NULL, 3,
	  "this key already belongs to engineer 'alice'" },
	{ "verify_required on plain key", 3,
	  "  { name = \"bob\"; keys = ( { key = \"%K1%\"; verify_required = true; } ); } );", NULL, 3,
	  "verify_required is only for security keys" },
	{ "validity backwards", 3,
	  "  { name = \"bob\"; valid_from = \"2027-01-01\"; valid_until = \"2026-01-01\"; } );", NULL, 3,
	  "valid_until is before valid_from" },
	{ "bad engineer name", 3, "  { name = \"Bob Smith\"; } );", NULL, 3, "invalid engineer name" },
	{ "gateway path relative", 0, NULL, "gateway: { audit = \"audit.jsonl\"; };", 9,
	  "'audit' must be an absolute path" },
	{ "totp digits", 0, NULL, "mfa: { totp: { digits = 7; }; };", 9, "'digits' must be 6 or 8" },
	{ "deny_ends_sessions type", 0, NULL, "alerts: { deny_ends_sessions = \"yes\"; };", 9,
	  "'deny_ends_sessions' in alerts must be true or false, not a string" },
	{ "alert action", 0, NULL, "alerts: { fanout = { tenants = 3; action = \"panic\"; }; };", 9,
	  "action must be" },
	{ "alert bad regex", 0, NULL, "alerts: { sensitive_commands = { patterns = [\"(\"]; }; };", 9,
	  "bad pattern" },
	{ "alert notify relative", 0, NULL, "alerts: { notify = \"notify.sh\"; };", 9,
	  "alerts.notify must be an absolute path" },
	{ "include inside a group", 0, NULL, "gateway: {\n@include \"x.conf\"\n};", 10,
	  "@include is allowed only at the top level" },
	{ "include missing", 0, NULL, "@include \"/nonexistent/mspgate-x.conf\"", 9,
	  "/nonexistent/mspgate-x.conf" },
	{ "engineer mfa weaker than a grant", 2,
	  "engineers = ( { name = \"alice\"; groups = [\"l2\"]; mfa = \"fido\"; keys = [\"%SK% a@k\"]; },",
	  NULL, 2, "engineer 'alice': mfa \"fido\" is weaker than its grants require (\"totp\")" },
	{ "engineer mfa unknown", 3, "  { name = \"bob\"; mfa = \"sms\"; } );", NULL, 3,
	  "engineer 'bob': mfa must be" },
	{ "pam unknown key", 0, NULL, "pam: { groups = \"msp\"; };", 9, "unknown key 'groups' in pam" },
	{ "pam bad group", 0, NULL, "pam: { group = \"msp staff\"; };", 9, "pam: invalid group name" },
	{ "pam bad source", 0, NULL, "pam: { sources = [\"192.0.2.1/8\"]; };", 9, "sources in pam" },
	{ "pam empty sources", 0, NULL, "pam: { sources = [ ]; };", 9, "pam: 'sources' is empty" },
	{ "pam unknown tenant", 0, NULL, "pam: {\n tenant = \"initech\"; };", 10,
	  "pam: tenant 'initech' is not defined" },
	{ "bad reload_grace", 0, NULL, "gateway: { reload_grace = \"soon\"; };", 9,
	  "reload_grace" },
	/* The state section (issue 17). */
	{ "state not a group", 0, NULL, "state = \"postgresql\";", 9,
	  "state must be a group { }, not a string" },
	{ "state unknown key", 0, NULL, "state: { backend = \"files\"; password = \"x\"; };", 9,
	  "unknown key 'password' in state" },
	{ "state unknown backend", 0, NULL, "state: { backend = \"mysql\"; };", 9,
	  "state: backend must be \"files\" or \"postgresql\", not \"mysql\"" },
	{ "state files with conninfo", 0, NULL,
	  "state: { backend = \"files\";\n conninfo = \"host=db1\"; };", 10,
	  "state: 'conninfo' only applies to backend \"postgresql\" (the backend here is \"files\")" },
	{ "state files with passfile", 0, NULL,
	  "state: { backend = \"files\"; passfile = \"/etc/mspgate/pgpass\"; };", 9,
	  "state: 'passfile' only applies to backend \"postgresql\"" },
	{ "state files with key_file", 0, NULL,
	  "state: { backend = \"files\"; key_file = \"/etc/mspgate/state.key\"; };", 9,
	  "state: 'key_file' only applies to backend \"postgresql\"" },
	{ "state default backend with conninfo", 0, NULL,
	  "state: { conninfo = \"host=db1\"; key_file = \"/etc/mspgate/state.key\"; };", 9,
	  "(the backend here is \"files\", the default)" },
	{ "state postgresql without conninfo", 0, NULL,
	  "state: { backend = \"postgresql\"; key_file = \"/etc/mspgate/state.key\"; };", 9,
	  "state has no 'conninfo' (backend \"postgresql\" needs one)" },
	{ "state postgresql without key_file", 0, NULL,
	  "state: { backend = \"postgresql\"; conninfo = \"host=db1\"; };", 9,
	  "state has no 'key_file'" },
	{ "state passfile relative", 0, NULL,
	  "state: { backend = \"postgresql\"; conninfo = \"host=db1\"; key_file = \"/k\";\n"
	  "  passfile = \"pgpass\"; };", 10, "'passfile' must be an absolute path, not \"pgpass\"" },
	{ "state key_file relative", 0, NULL,
	  "state: { backend = \"postgresql\"; conninfo = \"host=db1\";\n key_file = \"state.key\"; };",
	  10, "'key_file' must be an absolute path, not \"state.key\"" },
	{ "state timeout too long", 0, NULL, "state: { timeout = \"61s\"; };", 9,
	  "state: 'timeout' must be between 1s and 60s, not \"61s\"" },
	{ "state timeout in minutes", 0, NULL, "state: { timeout = \"2m\"; };", 9,
	  "state: 'timeout' must be between 1s and 60s, not \"2m\"" },
	{ "state timeout zero", 0, NULL, "state: { timeout = \"0s\"; };", 9, "'timeout'" },
	{ "state timeout no unit", 0, NULL, "state: { timeout = \"5\"; };", 9,
	  "'timeout': invalid duration" },
	{ "state timeout integer", 0, NULL, "state: { timeout = 5; };", 9,
	  "'timeout' in state must be a string, not an integer" },
	{ "state name with a space", 0, NULL, "state: { name = \"gw 1\"; };", 9,
	  "state: 'name' must be 1 to 63 of A-Z a-z 0-9 . _ - starting with a letter or digit, not \"gw 1\"" },
	{ "state name starts with a dash", 0, NULL, "state: { name = \"-gw1\"; };", 9,
	  "state: 'name' must be" },
	{ "state name empty", 0, NULL, "state: { name = \"\"; };", 9, "state: 'name' must be" },
	{ "state name 64 bytes", 0, NULL,
	  "state: { name = \"g123456789012345678901234567890123456789012345678901234567890123\"; };",
	  9, "state: 'name' must be" },
	{ "state name checked with files", 0, NULL,
	  "state: { backend = \"files\"; name = \"gw/1\"; };", 9, "state: 'name' must be" },
	{ "credential kind unknown", 0, NULL,
	  "credentials = ( { name = \"c1\"; kind = \"cert\"; } );", 9,
	  "credential 'c1': kind must be \"key\" or \"certificate\", not \"cert\"" },
	{ "credential kind missing", 0, NULL, "credentials = ( { name = \"c1\"; } );", 9,
	  "'kind'" },
	{ "certificate credential without ca", 0, NULL,
	  "credentials = ( { name = \"c1\"; kind = \"certificate\"; } );", 9,
	  "credential 'c1': a certificate credential needs 'ca'" },
	{ "certificate credential with a security-key ca", 0, NULL,
	  "credentials = ( { name = \"c1\"; kind = \"certificate\"; ca = \"%SK%\"; } );", 9,
	  "only ssh-ed25519 CAs are supported" },
	{ "certificate credential with a bad ca", 0, NULL,
	  "credentials = ( { name = \"c1\"; kind = \"certificate\"; ca = \"ssh-ed25519 AAAA\"; } );", 9,
	  "ca of credential 'c1'" },
	{ "certificate credential with a bad source_address", 0, NULL,
	  "credentials = ( { name = \"c1\"; kind = \"certificate\"; ca = \"%K1%\";\n"
	  "  source_address = [ \"192.0.2.1/33\" ]; } );", 10,
	  "source_address in credential 'c1'" },
	{ "key credential with a ca", 0, NULL,
	  "credentials = ( { name = \"c1\"; kind = \"key\"; ca = \"%K1%\"; } );", 9,
	  "'ca' and 'source_address' are for kind \"certificate\" only" },
	{ "credential declared twice", 0, NULL,
	  "credentials = ( { name = \"c1\"; kind = \"key\"; },\n { name = \"c1\"; kind = \"key\"; } );",
	  10, "credential 'c1'" },
	{ "unknown key in credential", 0, NULL,
	  "credentials = ( { name = \"c1\"; kind = \"key\"; path = \"/x\"; } );", 9,
	  "unknown key 'path' in a credential" },
	{ "one CA for two tenants", 6,
	  "     logins = [\"deploy\"]; credential = \"c1\"; } ); },\n"
	  " { name = \"beta\"; targets = ( { name = \"w\"; host = \"192.0.2.11\"; host_key = \"%HK%\";\n"
	  "     logins = [\"deploy\"]; credential = \"c1\"; } ); } );",
	  "credentials = ( { name = \"c1\"; kind = \"certificate\"; ca = \"%K1%\"; } );", 7,
	  "target 'beta/w': certificate credential 'c1' is tenant 'acme''s (" NAME ":11): one CA per tenant" },
	{ "host_ca of a security key", 4,
	  "tenants = ( { name = \"acme\"; tz = \"Europe/London\"; windows = [\"w1\"]; host_ca = \"%SK%\";",
	  NULL, 4, "host_ca of tenant 'acme': only ssh-ed25519 CAs are supported" },
	{ "host_ca not a key", 4,
	  "tenants = ( { name = \"acme\"; tz = \"Europe/London\"; windows = [\"w1\"]; host_ca = \"x\";",
	  NULL, 4, "host_ca of tenant 'acme'" },
	{ "no host key and no host_ca", 5,
	  "  targets = ( { name = \"web01\"; host = \"192.0.2.10\";",
	  NULL, 5, "or give tenant 'acme' a host_ca" },
	{ "signer per_minute out of range", 0, NULL, "signer: { per_minute = 0; };", 9,
	  "'per_minute' must be between 1 and 100000, not 0" },
	{ "signer socket relative", 0, NULL, "signer: { socket = \"sign.sock\"; };", 9,
	  "'socket' must be an absolute path" },
	{ "unknown key in signer", 0, NULL, "signer: { ca = \"/x\"; };", 9,
	  "unknown key 'ca' in signer" },
};

/*
 * The one table of MFA factor names: every set has a name that parses back
 * to it; a set parses in any order; unknown, repeated or empty factors do not.
 */
static void
test_mfa_names(void **state)
{
	static const struct {
		const char *in;
		int ok;
		unsigned want;
	} cases[] = {
		{ "fido", 1, POL_MFA_FIDO }, { "totp", 1, POL_MFA_TOTP },
		{ "fido+totp", 1, POL_MFA_FIDO | POL_MFA_TOTP },
		{ "totp+fido", 1, POL_MFA_FIDO | POL_MFA_TOTP },
		{ "none", 0, 0 }, { "", 0, 0 }, { "sms", 0, 0 }, { "fido+", 0, 0 },
		{ "+fido", 0, 0 }, { "fido+fido", 0, 0 }, { "fido+sms", 0, 0 },
		{ "FIDO", 0, 0 }, { "fid", 0, 0 }, { "fido+totp+fido", 0, 0 },
	};
	char buf[128];
	unsigned m, got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = 0;
		if (pol_mfa_parse(cases[i].in, &got) != (cases[i].ok ? 0 : MG_ERR_PARSE) ||
		    (cases[i].ok && got != cases[i].want))
			fail_msg("\"%s\": got %u", cases[i].in, got);
	}
	assert_string_equal(pol_mfa_name(0), "none");
	for (m = 1; m <= POL_MFA_ALL; m++) {
		assert_non_null(pol_mfa_name(m));
		assert_int_equal(pol_mfa_parse(pol_mfa_name(m), &got), 0);
		assert_int_equal(got, m);
	}
	assert_string_equal(pol_mfa_name(POL_MFA_TOTP | POL_MFA_FIDO), "fido+totp");
	assert_string_equal(pol_mfa_sets(", ", " or ", buf, sizeof(buf)),
	    "fido, totp or fido+totp");
	assert_string_equal(pol_mfa_sets("|", "|", buf, 10), "fido|totp");
}

/*
 * A tenant's approvers as explain, report and the waiting engineer see
 * them: in the policy's order, cut to fit; none for a tenant without.
 */
static void
test_approvers_text(void **state)
{
	struct mg_diag *d = mg_diag_new();
	struct pol *p = NULL;
	char *text = make(4, "tenants = ( { name = \"acme\"; tz = \"Europe/London\"; "
	    "windows = [\"w1\"]; approvers = [ \"group:leads\", \"erin\" ];", NULL);
	char buf[64];

	(void)state;
	assert_int_equal(pol_load_buffer(text, strlen(text), NAME, &p, d), 0);
	assert_string_equal(pol_approvers_text(&p->tenants[0], ", ", buf, sizeof(buf)),
	    "group:leads, erin");
	assert_string_equal(pol_approvers_text(&p->tenants[0], " ", buf, sizeof(buf)),
	    "group:leads erin");
	assert_string_equal(pol_approvers_text(&p->tenants[0], ", ", buf, 8), "group:l");
	assert_string_equal(pol_approvers_text(&p->tenants[0], ", ", buf, 14),
	    "group:leads, ");
	assert_string_equal(pol_approvers_text(NULL, ", ", buf, sizeof(buf)), "");
	pol_free(p);
	free(text);
	text = make(0, NULL, NULL);
	assert_int_equal(pol_load_buffer(text, strlen(text), NAME, &p, d), 0);
	assert_string_equal(pol_approvers_text(&p->tenants[0], ", ", buf, sizeof(buf)), "");
	pol_free(p);
	free(text);
	mg_diag_free(d);
}

/* The pam section and an engineer's own mfa, both optional. */
static void
test_pam_and_engineer_mfa(void **state)
{
	struct mg_diag *d = mg_diag_new();
	struct pol *p = NULL;
	char *text;

	(void)state;
	text = make(2, "engineers = ( { name = \"alice\"; groups = [\"l2\"]; mfa = \"fido+totp\"; keys = [\"%SK% a@k\"]; },",
	    "pam: { group = \"msp-staff\"; sources = [ \"192.0.2.1\", \"2001:db8::/32\" ]; tenant = \"acme\"; };");
	assert_int_equal(pol_load_buffer(text, strlen(text), NAME, &p, d), 0);
	assert_int_equal(mg_diag_count(d), 0);
	assert_int_equal(p->engineers[0].mfa, POL_MFA_FIDO | POL_MFA_TOTP);
	assert_int_equal(p->engineers[0].mfa_loc.line, 2);
	assert_int_equal(p->engineers[1].mfa, 0);
	assert_string_equal(p->pam.group, "msp-staff");
	assert_int_equal(p->pam.nsources, 2);
	assert_true(mg_cidr_match(&p->pam.sources[0], "192.0.2.1"));
	assert_false(mg_cidr_match(&p->pam.sources[0], "192.0.2.2"));
	assert_ptr_equal(p->pam.tenant, &p->tenants[0]);
	assert_int_equal(p->pam.loc.line, 9);
	pol_free(p);
	free(text);
	/* reload_grace: a duration, or "finish". */
	text = make(0, NULL, "gateway: { reload_grace = \"finish\"; };");
	assert_int_equal(pol_load_buffer(text, strlen(text), NAME, &p, d), 0);
	assert_int_equal(p->gateway.reload_grace, POL_GRACE_FINISH);
	pol_free(p);
	free(text);
	text = make(0, NULL, "gateway: { reload_grace = \"2s\"; };");
	assert_int_equal(pol_load_buffer(text, strlen(text), NAME, &p, d), 0);
	assert_int_equal(p->gateway.reload_grace, 2);
	pol_free(p);
	free(text);
	/* Without the section: no group, no sources, every tenant. */
	text = make(0, NULL, NULL);
	assert_int_equal(pol_load_buffer(text, strlen(text), NAME, &p, d), 0);
	assert_string_equal(p->pam.group, "");
	assert_int_equal(p->pam.nsources, 0);
	assert_null(p->pam.tenant);
	pol_free(p);
	free(text);
	mg_diag_free(d);
}

static void
test_errors(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(errcases) / sizeof(errcases[0]); i++) {
		const struct errcase *c = &errcases[i];
		struct mg_diag *d = mg_diag_new();
		struct pol *p = (struct pol *)1;
		char want[128], *text;
		int found = 0;

		text = make(c->line, c->replace, c->append);
		if (pol_load_buffer(text, strlen(text), NAME, &p, d) != MG_ERR_POLICY)
			fail_msg("case '%s' was accepted", c->what);
		/* Never half-loaded. */
		assert_null(p);
		assert_true(mg_diag_count(d) > 0);
		if (c->want_line > 0)
			snprintf(want, sizeof(want), NAME ":%d: ", c->want_line);
		else
			snprintf(want, sizeof(want), NAME ":");
		for (k = 0; k < mg_diag_count(d); k++) {
			const char *m = mg_diag_get(d, k);

			if (strncmp(m, want, strlen(want)) == 0 && strstr(m, c->want))
				found = 1;
		}
		if (!found) {
			print_error("case '%s': want %s...%s, got:\n", c->what, want, c->want);
			for (k = 0; k < mg_diag_count(d); k++)
				print_error("  %s\n", mg_diag_get(d, k));
		}
		assert_true(found);
		mg_diag_free(d);
		free(text);
	}
}

/* Declared credentials: a certificate one reaches its target, undeclared ones stay vault keys. */
static void
test_credentials(void **state)
{
	struct mg_diag *d = mg_diag_new();
	struct pol *p = NULL;
	const struct pol_credential *cr;
	char *text = make(0, NULL,
	    "credentials = ( { name = \"c1\"; kind = \"certificate\"; ca = \"%K1%\";\n"
	    "  source_address = [ \"192.0.2.1/32\", \"2001:db8::1/128\" ]; },\n"
	    "  { name = \"spare\"; kind = \"key\"; } );\n"
	    "signer: { socket = \"/run/s.sock\"; per_minute = 10; };");

	(void)state;
	assert_int_equal(pol_load_buffer(text, strlen(text), NAME, &p, d), 0);
	assert_int_equal(p->ncredentials, 2);
	cr = p->tenants[0].targets[0].cred;
	assert_non_null(cr);
	assert_int_equal(cr->kind, POL_CRED_CERT);
	assert_ptr_equal(cr->tenant, &p->tenants[0]);
	assert_string_equal(cr->source_address, "192.0.2.1/32,2001:db8::1/128");
	assert_int_equal(cr->loc.line, 9);
	assert_int_equal(pol_credential_find(p, "spare")->kind, POL_CRED_KEY);
	assert_null(pol_credential_find(p, "nosuch"));
	assert_string_equal(p->signer.socket, "/run/s.sock");
	assert_int_equal(p->signer.per_minute, 10);
	assert_string_equal(p->signer.user, "mspgate-signer");
	pol_free(p);
	free(text);
	/* A tenant's host_ca: its targets may go without a pinned key. */
	text = make(5, "  targets = ( { name = \"web01\"; host = \"192.0.2.10\";",
	    NULL);
	{
		char *t2 = text, *hc = strstr(t2, "windows = [\"w1\"];");

		assert_non_null(hc);
		text = malloc(strlen(t2) + 200);
		assert_non_null(text);
		sprintf(text, "%.*s windows = [\"w1\"]; host_ca = \"%s\";%s", (int)(hc - t2), t2,
		    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHPvPkKCSNVABuqAYwrhvtJEkhFWQr7KaAB1rmSg/OTW",
		    hc + strlen("windows = [\"w1\"];"));
		free(t2);
	}
	assert_int_equal(pol_load_buffer(text, strlen(text), NAME, &p, d), 0);
	assert_non_null(p->tenants[0].host_ca);
	assert_int_equal(p->tenants[0].targets[0].nhost_keys, 0);
	pol_free(p);
	free(text);
	/* Without the list, the target's credential is a vault key as before. */
	text = make(0, NULL, NULL);
	assert_int_equal(pol_load_buffer(text, strlen(text), NAME, &p, d), 0);
	assert_null(p->tenants[0].targets[0].cred);
	assert_int_equal(p->signer.per_minute, POL_SIGNER_PER_MINUTE_DEFAULT);
	pol_free(p);
	free(text);
	mg_diag_free(d);
}

static void
test_duplicate_tenant_line(void **state)
{
	struct mg_diag *d = mg_diag_new();
	struct pol *p = NULL;
	char *text = make(0, NULL, "tenants = ( { name = \"acme\"; } );");

	(void)state;
	/* libconfig refuses the second top-level "tenants" in one file. */
	assert_int_equal(pol_load_buffer(text, strlen(text), NAME, &p, d), MG_ERR_POLICY);
	assert_null(p);
	assert_true(mg_diag_count(d) >= 1);
	assert_non_null(strstr(mg_diag_get(d, 0), NAME ":9: "));
	mg_diag_free(d);
	free(text);
}

/*
 * Many tenants: the tenant table grows while targets point back at their
 * tenant. Every grant, on the first tenant as on the last, must still
 * cover its targets (a dangling back-pointer made all of them "allow no
 * login").
 */
static void
test_many_tenants(void **state)
{
	struct mg_diag *d = mg_diag_new();
	struct pol *p = NULL;
	struct pol_request req = { 0 };
	struct pol_decision dec;
	char buf[16384], name[16];
	size_t o = 0;
	char *text;
	int i;

	(void)state;
	o += (size_t)snprintf(buf + o, sizeof(buf) - o, "engineers = ( { name = \"bob\"; "
	    "keys = [\"%%K1%%\"]; } );\ntenants = (\n");
	for (i = 0; i < 40; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s{ name = \"t%d\"; targets = "
		    "( { name = \"box\"; host = \"192.0.2.1\"; host_key = \"%%HK%%\"; "
		    "logins = [\"deploy\"]; credential = \"c\"; } ); }\n", i ? "," : "", i);
	o += (size_t)snprintf(buf + o, sizeof(buf) - o, ");\ngrants = (\n");
	for (i = 0; i < 40; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s{ to = \"bob\"; tenants = "
		    "[\"t%d\"]; targets = [\"*\"]; logins = [\"deploy\"]; mfa = \"totp\"; }\n",
		    i ? "," : "", i);
	snprintf(buf + o, sizeof(buf) - o, ");\n");
	text = expand(buf);
	assert_int_equal(pol_load_buffer(text, strlen(text), NAME, &p, d), 0);
	assert_non_null(p);
	for (i = 0; i < 40; i += 13) {
		snprintf(name, sizeof(name), "t%d", i);
		req.engineer = "bob";
		req.tenant = name;
		req.target = "box";
		req.login = "deploy";
		req.mfa_used = POL_MFA_TOTP;
		assert_int_equal(pol_decide(p, &req, &dec), 0);
		assert_true(dec.allow);
	}
	pol_free(p);
	mg_diag_free(d);
	free(text);
}

static void
test_nul_byte(void **state)
{
	struct mg_diag *d = mg_diag_new();
	struct pol *p = NULL;
	const char text[] = "gateway: { };\0 colour = 1;";

	(void)state;
	assert_int_equal(pol_load_buffer(text, sizeof(text) - 1, NAME, &p, d),
	    MG_ERR_POLICY);
	assert_null(p);
	assert_non_null(strstr(mg_diag_get(d, 0), "NUL byte"));
	mg_diag_free(d);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0644), 0);
}

/* Includes resolve against the including file, nest, glob, and keep lines. */
static void
test_includes(void **state)
{
	char dir[] = "/tmp/mgpol.XXXXXX", path[512], *text;
	struct mg_diag *d = mg_diag_new();
	struct pol *p = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/sub/tenants.d", dir);
	assert_int_equal(mkdir(path, 0755), 0);

	/* main.conf: windows and engineers; includes sub/more.conf. */
	text = expand(
	    "windows: { w1 = { days = \"*\"; hours = \"00:00-24:00\"; }; };\n"
	    "@include \"sub/more.conf\"\n"
	    "engineers = ( { name = \"alice\"; groups = [\"l2\"]; } );\n");
	snprintf(path, sizeof(path), "%s/main.conf", dir);
	write_file(path, text);
	free(text);
	/* sub/more.conf: relative to sub/, pulls tenants.d/ *.conf and grants. */
	text = expand(
	    "# grants live here\n"
	    "@include \"tenants.d/*.conf\"\n"
	    "grants = ( { to = \"alice\"; tenants = [\"acme\", \"globex\"]; targets = [\"*\"];\n"
	    "  logins = [\"deploy\"]; mfa = \"totp\"; } );\n");
	snprintf(path, sizeof(path), "%s/sub/more.conf", dir);
	write_file(path, text);
	free(text);
	text = expand("tenants = ( { name = \"acme\"; targets = ( { name = \"w\"; host = \"h\";\n"
	    " host_key = \"%HK%\"; logins = [\"deploy\"]; credential = \"c\"; } ); } );\n");
	snprintf(path, sizeof(path), "%s/sub/tenants.d/acme.conf", dir);
	write_file(path, text);
	free(text);
	text = expand("tenants = ( { name = \"globex\"; windows = [\"w1\"];\n"
	    " targets = ( { name = \"w\"; host = \"h\";\n"
	    " host_key = \"%HK%\"; logins = [\"deploy\"]; credential = \"c\"; } ); } );\n");
	snprintf(path, sizeof(path), "%s/sub/tenants.d/globex.conf", dir);
	write_file(path, text);
	free(text);

	snprintf(path, sizeof(path), "%s/main.conf", dir);
	assert_int_equal(pol_load(path, &p, d), 0);
	assert_int_equal(mg_diag_count(d), 0);
	assert_int_equal(p->nfiles, 4);
	assert_int_equal(p->ntenants, 2);
	assert_int_equal(p->ngrants, 1);
	/* The grant's place is in the included file, at its own line. */
	assert_non_null(strstr(p->grants[0].loc.file, "/sub/more.conf"));
	assert_int_equal(p->grants[0].loc.line, 3);
	assert_int_equal(p->tenants[1].loc.line, 1);
	assert_non_null(strstr(p->tenants[1].loc.file, "tenants.d/globex.conf"));
	pol_free(p);
	p = NULL;

	/* An error in an included file names that file and line. */
	write_file(path, "");
	text = expand("tenants = ( { name = \"acme\"; targets = ( { name = \"w\"; host = \"h\";\n"
	    " host_key = \"%HK%\"; logins = [\"deploy\"]; credential = \"c\"; color = 1; } ); } );\n");
	snprintf(path, sizeof(path), "%s/sub/tenants.d/acme.conf", dir);
	write_file(path, text);
	free(text);
	snprintf(path, sizeof(path), "%s/main.conf", dir);
	write_file(path, "@include \"sub/more.conf\"\n"
	    "engineers = ( { name = \"alice\"; } );\n"
	    "windows: { w1 = { days = \"*\"; hours = \"00:00-24:00\"; }; };\n");
	mg_diag_clear(d);
	assert_int_equal(pol_load(path, &p, d), MG_ERR_POLICY);
	assert_null(p);
	{
		size_t k;
		int found = 0;

		for (k = 0; k < mg_diag_count(d); k++)
			if (strstr(mg_diag_get(d, k), "/sub/tenants.d/acme.conf:2: unknown key 'color'"))
				found = 1;
		assert_true(found);
	}

	/* A file that includes itself is refused, not looped on. */
	write_file(path, "@include \"main.conf\"\n");
	mg_diag_clear(d);
	assert_int_equal(pol_load(path, &p, d), MG_ERR_POLICY);
	assert_non_null(strstr(mg_diag_get(d, 0), "main.conf:1: "));
	assert_non_null(strstr(mg_diag_get(d, 0), "more than once"));

	/* A world-writable policy is refused. */
	write_file(path, "engineers = ( );\n");
	assert_int_equal(chmod(path, 0666), 0);
	mg_diag_clear(d);
	assert_int_equal(pol_load(path, &p, d), MG_ERR_POLICY);
	assert_non_null(strstr(mg_diag_get(d, 0), "0666"));

	mg_diag_free(d);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		assert_int_equal(system(cmd), 0);
	}
}

/* gateway may be set in one file only. */
static void
test_gateway_twice(void **state)
{
	char dir[] = "/tmp/mgpol.XXXXXX", path[512];
	struct mg_diag *d = mg_diag_new();
	struct pol *p = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/b.conf", dir);
	write_file(path, "\n\ngateway: { idle_timeout = \"none\"; };\n");
	snprintf(path, sizeof(path), "%s/a.conf", dir);
	write_file(path, "gateway: { idle_timeout = \"1h\"; };\n@include \"b.conf\"\n");
	assert_int_equal(pol_load(path, &p, d), MG_ERR_POLICY);
	assert_non_null(strstr(mg_diag_get(d, 0), "/b.conf:3: 'gateway' is already set at"));
	assert_non_null(strstr(mg_diag_get(d, 0), "/a.conf:1"));
	mg_diag_free(d);
	unlink(path);
	snprintf(path, sizeof(path), "%s/b.conf", dir);
	unlink(path);
	rmdir(dir);
}

/* The state section: absent, files, postgresql with every key. */
static void
test_state(void **state)
{
	struct mg_diag *d = mg_diag_new();
	struct pol *p = NULL;
	char *text;

	(void)state;
	/* Absent: this gateway's own files, 5 s, the host name. */
	text = make(0, NULL, NULL);
	assert_int_equal(pol_load_buffer(text, strlen(text), NAME, &p, d), 0);
	assert_int_equal(p->state.backend, POL_STATE_FILES);
	assert_int_equal(p->state.timeout, 5);
	assert_null(p->state.conninfo);
	assert_null(p->state.passfile);
	assert_null(p->state.key_file);
	assert_null(p->state.name);
	assert_null(p->state.loc.file);
	pol_free(p);
	free(text);
	/* files, with the two settings both backends take. */
	text = make(0, NULL, "state: { backend = \"files\"; timeout = \"10s\"; name = \"gw1\"; };");
	assert_int_equal(pol_load_buffer(text, strlen(text), NAME, &p, d), 0);
	assert_int_equal(p->state.backend, POL_STATE_FILES);
	assert_int_equal(p->state.timeout, 10);
	assert_string_equal(p->state.name, "gw1");
	assert_int_equal(p->state.loc.line, 9);
	pol_free(p);
	free(text);
	/* An empty section is the files backend with its defaults. */
	text = make(0, NULL, "state: { };");
	assert_int_equal(pol_load_buffer(text, strlen(text), NAME, &p, d), 0);
	assert_int_equal(p->state.backend, POL_STATE_FILES);
	pol_free(p);
	free(text);
	/* postgresql, every key. */
	text = make(0, NULL, "state: {\n"
	    "  backend = \"postgresql\";\n"
	    "  conninfo = \"host=db1 dbname=mspgate user=mspgate\";\n"
	    "  passfile = \"/etc/mspgate/pgpass\";\n"
	    "  key_file = \"/etc/mspgate/state.key\";\n"
	    "  timeout = \"1m\";\n"
	    "  name = \"gw1.lon-2_a\";\n"
	    "};");
	assert_int_equal(pol_load_buffer(text, strlen(text), NAME, &p, d), 0);
	assert_int_equal(mg_diag_count(d), 0);
	assert_int_equal(p->state.backend, POL_STATE_POSTGRESQL);
	assert_string_equal(p->state.conninfo, "host=db1 dbname=mspgate user=mspgate");
	assert_string_equal(p->state.passfile, "/etc/mspgate/pgpass");
	assert_string_equal(p->state.key_file, "/etc/mspgate/state.key");
	assert_int_equal(p->state.timeout, 60);
	assert_string_equal(p->state.name, "gw1.lon-2_a");
	assert_string_equal(p->state.loc.file, NAME);
	assert_int_equal(p->state.loc.line, 9);
	pol_free(p);
	free(text);
	/* postgresql, only what it needs: no passfile (libpq's own rules), defaults. */
	text = make(0, NULL, "state: { backend = \"postgresql\"; conninfo = \"host=db1\";"
	    " key_file = \"/etc/mspgate/state.key\"; };");
	assert_int_equal(pol_load_buffer(text, strlen(text), NAME, &p, d), 0);
	assert_null(p->state.passfile);
	assert_null(p->state.name);
	assert_int_equal(p->state.timeout, 5);
	pol_free(p);
	free(text);
	mg_diag_free(d);
}

/*
 * state.conninfo, both of libpq's forms: a password (or another secret) is
 * refused wherever libpq would find one, and only there; so are strings
 * libpq cannot parse. conf is the libconfig string's text (so a backslash
 * is written twice there, and four times here).
 */
static void
test_state_conninfo(void **state)
{
	static const struct {
		const char *conf;
		const char *want;	/* NULL: accepted; else a substring of the error */
	} cases[] = {
		/* key=value: accepted */
		{ "host=db1 dbname=mspgate user=mspgate", NULL },
		{ "  host = db1   port=5432 ", NULL },
		{ "host=/run/postgresql dbname=mspgate", NULL },
		{ "dbname='password=x'", NULL },
		{ "dbname = 'password = x' user=mspgate", NULL },
		{ "application_name=password", NULL },
		{ "options='-c search_path=mspgate'", NULL },
		{ "dbname='it\\\\'s password=x' user=u", NULL },
		{ "dbname=x\\\\ password=y", NULL },
		{ "user=password_owner passfile_x=1", NULL },
		{ "dbname=", NULL },
		{ "sslmode=verify-full sslrootcert=/etc/ssl/db-ca.pem", NULL },
		/* key=value: a password */
		{ "host=db1 password=x", "must not hold a password (password): the password goes "
		  "in the passfile or PGPASSFILE, never in the policy" },
		{ "host=db1 password = x", "must not hold a password" },
		{ "password=", "must not hold a password" },
		{ "password='a b c'", "must not hold a password" },
		{ "dbname='x'password=y", "must not hold a password" },
		{ "dbname='it\\\\'s' password=y", "must not hold a password" },
		{ "dbname=x\\\\\\\\ password=y", "must not hold a password" },
		{ "password=x host=db1", "must not hold a password" },
		{ "sslpassword=x", "must not hold a secret (sslpassword)" },
		{ "oauth_client_secret=x", "must not hold a secret (oauth_client_secret)" },
		/* key=value: not libpq's */
		{ "PASSWORD=x", "\"PASSWORD\" is not a libpq keyword" },
		{ "Host=db1", "\"Host\" is not a libpq keyword" },
		{ "host db1", "missing \"=\" after \"host\"" },
		{ "host=db1 =x", "a setting has no keyword" },
		{ "dbname='mspgate", "the quoted value of \"dbname\" has no closing quote" },
		{ "dbname='mspgate\\\\'", "has no closing quote" },
		{ "", "state: conninfo is not a libpq connection string usable here: it is empty" },
		{ "   ", "it is empty" },
		{ "host=db1\\ndbname=x", "it holds a control character (byte 0x0a)" },
		{ "host=db1\\tdbname=x", "it holds a control character (byte 0x09)" },
		{ "host=db1\\rpassword=x", "control character" },
		{ "host=db1\\x7f", "control character (byte 0x7f)" },
		/* URI: accepted */
		{ "postgresql://", NULL },
		{ "postgresql://db1/mspgate", NULL },
		{ "postgres://mspgate@db1:5432,db2:5433/mspgate?sslmode=verify-full&application_name=gw1", NULL },
		{ "postgresql://[2001:db8::1]:5432/mspgate", NULL },
		{ "postgresql://%2Frun%2Fpostgresql/mspgate", NULL },
		{ "postgresql://db1/mspgate?application_name=password", NULL },
		{ "postgresql://db1/password:x@y", NULL },
		{ "postgresql:///mspgate?host=/run/postgresql", NULL },
		/* URI: a password */
		{ "postgresql://mspgate:secret@db1/mspgate", "must not hold a password (user:password@)" },
		{ "postgres://mspgate:secret@db1/mspgate", "must not hold a password (user:password@)" },
		{ "postgresql://:secret@db1", "must not hold a password" },
		{ "postgresql://u:@db1", "must not hold a password" },
		{ "postgresql://db1?user=a:b@c", "must not hold a password" },
		{ "postgresql://db1/mspgate?sslmode=require&password=x", "must not hold a password (password)" },
		{ "postgresql://db1/mspgate?pass%77ord=x", "must not hold a password (password)" },
		{ "postgresql://db1/mspgate?sslpassword=x", "must not hold a secret (sslpassword)" },
		/* URI: not libpq's */
		{ "postgresql://db1/mspgate?sslmode", "the URI parameter \"sslmode\" has no \"=\"" },
		{ "postgresql://db1/mspgate?a=b=c", "a second \"=\"" },
		{ "postgresql://db1/mspgate?pass%7word=x", "invalid percent-encoding" },
		{ "postgresql://db1/mspgate?x%00=1", "%00" },
		{ "postgresql://[2001:db8::1/mspgate", "has no closing \"]\"" },
		{ "postgresql://[]/mspgate", "an empty IPv6 address" },
		{ "postgresql://[::1]x/mspgate", "unexpected \"x\" in the URI" },
		{ "postgresql://db1/mspgate?SSLMODE=require", "is not a libpq keyword" },
		/* Not a URI to libpq: the prefix is exact. */
		{ "PostgreSQL://db1/mspgate", "missing \"=\" after \"PostgreSQL://db1/mspgate\"" },
		{ " postgresql://u:p@db1", "missing \"=\"" },
	};
	char policy[1024], want[128];
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mg_diag *d = mg_diag_new();
		struct pol *p = NULL;
		char *text;
		int r, found = 0;

		snprintf(policy, sizeof(policy), "state: { backend = \"postgresql\"; "
		    "key_file = \"/etc/mspgate/state.key\";\n  conninfo = \"%s\"; };",
		    cases[i].conf);
		text = make(0, NULL, policy);
		r = pol_load_buffer(text, strlen(text), NAME, &p, d);
		if (cases[i].want == NULL) {
			if (r != 0) {
				print_error("conninfo \"%s\" was refused:\n", cases[i].conf);
				for (k = 0; k < mg_diag_count(d); k++)
					print_error("  %s\n", mg_diag_get(d, k));
				fail();
			}
			assert_non_null(p->state.conninfo);
		} else {
			if (r != MG_ERR_POLICY)
				fail_msg("conninfo \"%s\" was accepted", cases[i].conf);
			assert_null(p);
			/* The message names the conninfo line, never the password itself. */
			snprintf(want, sizeof(want), NAME ":10: state: conninfo ");
			for (k = 0; k < mg_diag_count(d); k++)
				if (strncmp(mg_diag_get(d, k), want, strlen(want)) == 0 &&
				    strstr(mg_diag_get(d, k), cases[i].want) != NULL &&
				    strstr(mg_diag_get(d, k), "secret@") == NULL)
					found = 1;
			if (!found) {
				print_error("conninfo \"%s\": want %s...%s, got:\n", cases[i].conf,
				    want, cases[i].want);
				for (k = 0; k < mg_diag_count(d); k++)
					print_error("  %s\n", mg_diag_get(d, k));
			}
			assert_true(found);
		}
		pol_free(p);
		mg_diag_free(d);
		free(text);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_is_valid),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_duplicate_tenant_line),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_many_tenants),
		cmocka_unit_test(test_includes),
		cmocka_unit_test(test_gateway_twice),
		cmocka_unit_test(test_pam_and_engineer_mfa),
		cmocka_unit_test(test_mfa_names),
		cmocka_unit_test(test_approvers_text),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_state_conninfo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
