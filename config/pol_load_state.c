/* SPDX-License-Identifier: BSD-2-Clause */
/* The state section of the policy: where shared state lives, and the check of its libpq connection string. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_name.h"
#include "pol_load_priv.h"

static const struct keyspec state_keys[] = {
	{ "backend", K_STR, 0 }, { "conninfo", K_STR, 0 }, { "passfile", K_STR, 0 },
	{ "key_file", K_STR, 0 }, { "timeout", K_STR, 0 }, { "name", K_STR, 0 },
	{ NULL, 0, 0 }
};

/* Settings that only mean something to the postgresql backend. */
static const char *const pg_only[] = { "conninfo", "passfile", "key_file", NULL };

/* What a conninfo check found: 0 fine, or why not (msg). */
enum ci_verdict { CI_OK = 0, CI_SYNTAX, CI_PASSWORD, CI_SECRET, CI_KEYWORD };

struct ci {
	enum ci_verdict v;
	char msg[256];
};

static int
ci_fail(struct ci *ci, enum ci_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
ci_fail(struct ci *ci, enum ci_verdict v, const char *fmt, ...)
{
	va_list ap;

	ci->v = v;
	va_start(ap, fmt);
	vsnprintf(ci->msg, sizeof(ci->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * One keyword, as libpq will see it (after unquoting or percent-decoding).
 * libpq's keywords are lower case and case-sensitive: anything else would
 * only fail later, at the first login, so it fails here. A keyword that
 * carries a secret is refused: the policy is read by auditors and copied
 * into reviews, and a secret in it is a secret in every copy.
 */
static int
ci_keyword(struct ci *ci, const char *k, size_t len)
{
	static const char *const secrets[] = { "sslpassword", "oauth_client_secret", NULL };
	size_t i;

	if (len == 0)
		return ci_fail(ci, CI_KEYWORD, "a setting has no keyword");
	for (i = 0; i < len; i++)
		if (!(k[i] >= 'a' && k[i] <= 'z') && k[i] != '_')
			return ci_fail(ci, CI_KEYWORD, "\"%.*s\" is not a libpq keyword "
			    "(they are lower case letters and '_')", (int)(len > 64 ? 64 : len), k);
	if (len == strlen("password") && memcmp(k, "password", len) == 0)
		return ci_fail(ci, CI_PASSWORD, "password");
	for (i = 0; secrets[i] != NULL; i++)
		if (len == strlen(secrets[i]) && memcmp(k, secrets[i], len) == 0)
			return ci_fail(ci, CI_SECRET, "%s", secrets[i]);
	return 0;
}

/* libpq's blanks (isspace in the C locale); control characters are refused before. */
static int
ci_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' ||
	    ch == '\r';
}

/*
 * The key=value form, read the way libpq reads it: blanks, a keyword up to
 * '=' or a blank, blanks, '=', blanks, then a value that is either bare (up
 * to the next blank) or single-quoted (up to the next unescaped quote); a
 * backslash takes the next character literally in both. A quoted value
 * needs no blank after it: "dbname='x'password=y" is two settings.
 */
static int
ci_keyvalue(struct ci *ci, const char *s)
{
	const char *p = s, *k;
	size_t klen;

	for (;;) {
		while (ci_space(*p))
			p++;
		if (*p == '\0')
			return 0;
		k = p;
		while (*p != '\0' && *p != '=' && !ci_space(*p))
			p++;
		klen = (size_t)(p - k);
		while (ci_space(*p))
			p++;
		if (*p != '=')
			return ci_fail(ci, CI_SYNTAX, "missing \"=\" after \"%.*s\"",
			    (int)(klen > 64 ? 64 : klen), k);
		p++;
		while (ci_space(*p))
			p++;
		if (*p == '\'') {
			for (p++;; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				else if (*p == '\0' || *p == '\\')
					return ci_fail(ci, CI_SYNTAX, "the quoted value of "
					    "\"%.*s\" has no closing quote",
					    (int)(klen > 64 ? 64 : klen), k);
				else if (*p == '\'')
					break;
			}
			p++;
		} else {
			while (*p != '\0' && !ci_space(*p)) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				p++;
			}
		}
		if (ci_keyword(ci, k, klen) != 0)
			return -1;
	}
}

static int
ci_hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Percent-decodes [s, s + len) into out (len + 1 bytes), as libpq does to URI parts. */
static int
ci_decode(struct ci *ci, const char *s, size_t len, char *out, size_t *outlen)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		hi = i + 1 < len ? ci_hex(s[i + 1]) : -1;
		lo = i + 2 < len ? ci_hex(s[i + 2]) : -1;
		if (hi < 0 || lo < 0)
			return ci_fail(ci, CI_SYNTAX, "invalid percent-encoding in \"%.*s\"",
			    (int)(len > 64 ? 64 : len), s);
		if (hi == 0 && lo == 0)
			return ci_fail(ci, CI_SYNTAX, "%%00 in \"%.*s\"",
			    (int)(len > 64 ? 64 : len), s);
		out[o++] = (char)(hi * 16 + lo);
		i += 2;
	}
	out[o] = '\0';
	*outlen = o;
	return 0;
}

/* The query of a URI: key=value pairs joined by '&', each part percent-encoded. */
static int
ci_params(struct ci *ci, const char *p)
{
	char key[65];
	const char *k, *eq;
	size_t klen, dlen = 0;
	int n;

	while (*p != '\0') {
		k = p;
		p += strcspn(p, "&");
		n = (int)(p - k > 64 ? 64 : p - k);
		if ((eq = memchr(k, '=', (size_t)(p - k))) == NULL)
			return ci_fail(ci, CI_SYNTAX, "the URI parameter \"%.*s\" has no "
			    "\"=\"", n, k);
		if (memchr(eq + 1, '=', (size_t)(p - eq - 1)) != NULL)
			return ci_fail(ci, CI_SYNTAX, "a second \"=\" in the URI "
			    "parameter \"%.*s\"", n, k);
		/* No keyword of libpq's is near 64 bytes, encoded or not. */
		if ((klen = (size_t)(eq - k)) >= sizeof(key))
			return ci_fail(ci, CI_KEYWORD, "\"%.*s\" is not a libpq keyword", n, k);
		if (ci_decode(ci, k, klen, key, &dlen) != 0 ||
		    ci_keyword(ci, key, dlen) != 0)
			return -1;
		if (*p == '&')
			p++;
	}
	return 0;
}

/*
 * The URI form, postgresql://[user[:password]@][host[:port][,...]][/dbname][?k=v&...],
 * split where libpq splits it. The user part is what comes before the first
 * '@' that precedes any '/' (libpq does not stop at '?'), and a ':' in it
 * starts a password.
 */
static int
ci_uri(struct ci *ci, const char *s)
{
	const char *p = s, *close;

	while (*p != '\0' && *p != '@' && *p != '/')
		p++;
	if (*p == '@') {
		if (memchr(s, ':', (size_t)(p - s)) != NULL)
			return ci_fail(ci, CI_PASSWORD, "user:password@");
		p++;
	} else
		p = s;
	for (;;) {
		if (*p == '[') {
			if ((close = strchr(p, ']')) == NULL)
				return ci_fail(ci, CI_SYNTAX, "an IPv6 address in the URI "
				    "has no closing \"]\"");
			if (close == p + 1)
				return ci_fail(ci, CI_SYNTAX, "an empty IPv6 address \"[]\" "
				    "in the URI");
			p = close + 1;
		} else {
			while (*p != '\0' && *p != ':' && *p != '/' && *p != '?' && *p != ',')
				p++;
		}
		if (*p == ':')
			while (*p != '\0' && *p != '/' && *p != '?' && *p != ',')
				p++;
		if (*p != ',')
			break;
		p++;
	}
	if (*p == '/')
		while (*p != '\0' && *p != '?')
			p++;
	if (*p == '?')
		return ci_params(ci, p + 1);
	if (*p != '\0')
		return ci_fail(ci, CI_SYNTAX, "unexpected \"%c\" in the URI", *p);
	return 0;
}

/*
 * A libpq connection string as a policy may hold one: not empty, no
 * control characters, bounded, parsed in whichever of libpq's two forms it
 * is in, with no password or other secret. 0, or -1 with ci filled in.
 */
static int
ci_check(struct ci *ci, const char *s)
{
	const char *p;

	ci->v = CI_OK;
	ci->msg[0] = '\0';
	for (p = s; ci_space(*p); p++)
		;
	if (*p == '\0')
		return ci_fail(ci, CI_SYNTAX, "it is empty");
	if (strlen(s) > POL_STATE_CONNINFO_MAX)
		return ci_fail(ci, CI_SYNTAX, "it is longer than %d bytes",
		    POL_STATE_CONNINFO_MAX);
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return ci_fail(ci, CI_SYNTAX, "it holds a control character "
			    "(byte 0x%02x)", (unsigned char)*p);
	/* libpq looks for the prefix at the very start, case and all. */
	if (strncmp(s, "postgresql://", 13) == 0)
		return ci_uri(ci, s + 13);
	if (strncmp(s, "postgres://", 11) == 0)
		return ci_uri(ci, s + 11);
	return ci_keyvalue(ci, s);
}

static void
load_conninfo(struct ctx *c, const config_setting_t *g, struct pol_state *st)
{
	const config_setting_t *m = pl_member(g, "conninfo", K_STR);
	const char *s;
	struct ci ci;

	if (m == NULL)
		return;
	s = config_setting_get_string(m);
	if (ci_check(&ci, s) == 0) {
		st->conninfo = pl_xstrdup(c, s);
		return;
	}
	switch (ci.v) {
	case CI_PASSWORD:
		/* Fail closed: the policy is no place for a database password. */
		pl_err_set(c, m, "state: conninfo must not hold a password (%s): the "
		    "password goes in the passfile or PGPASSFILE, never in the policy",
		    ci.msg);
		break;
	case CI_SECRET:
		pl_err_set(c, m, "state: conninfo must not hold a secret (%s): keep "
		    "secrets out of the policy", ci.msg);
		break;
	default:
		pl_err_set(c, m, "state: conninfo is not a libpq connection string "
		    "usable here: %s", ci.msg);
		break;
	}
}

/* A name other gateways see in shared tables: the policy rule, one byte shorter. */
static void
load_name(struct ctx *c, const config_setting_t *g, struct pol_state *st)
{
	const char *s = pl_get_str(g, "name");

	if (s == NULL)
		return;
	if (!mg_name_ok(MG_NAME_POLICY, s) || strlen(s) > POL_STATE_NAME_MAX) {
		pl_err_set(c, config_setting_get_member(g, "name"), "state: 'name' must be "
		    "1 to %d of A-Z a-z 0-9 . _ - starting with a letter or digit, not "
		    "\"%.80s\"", POL_STATE_NAME_MAX, s);
		return;
	}
	st->name = pl_xstrdup(c, s);
}

void
pl_load_state(struct ctx *c, const config_setting_t *g)
{
	struct pol_state *st = &c->p->state;
	const char *b;
	int64_t t;
	size_t i;

	if (pl_check_keys(c, g, state_keys, "state") != 0)
		return;
	st->loc = pl_loc_of(c, g);
	if ((b = pl_get_str(g, "backend")) != NULL) {
		if (strcmp(b, "files") == 0)
			st->backend = POL_STATE_FILES;
		else if (strcmp(b, "postgresql") == 0)
			st->backend = POL_STATE_POSTGRESQL;
		else {
			pl_err_set(c, config_setting_get_member(g, "backend"), "state: "
			    "backend must be \"files\" or \"postgresql\", not \"%.80s\"", b);
			b = NULL;
		}
	} else
		b = "files";
	/* timeout and name are checked for either backend (see mspgate.conf(5)). */
	if (pl_get_duration(c, g, "timeout", &t) > 0) {
		if (t < 1 || t > POL_STATE_TIMEOUT_MAX)
			pl_err_set(c, config_setting_get_member(g, "timeout"), "state: "
			    "'timeout' must be between 1s and %ds, not \"%s\"",
			    POL_STATE_TIMEOUT_MAX, pl_get_str(g, "timeout"));
		else
			st->timeout = t;
	}
	load_name(c, g, st);
	if (b == NULL)
		return;	/* an unknown backend: what else applies is unknown */
	if (st->backend == POL_STATE_FILES) {
		for (i = 0; pg_only[i] != NULL; i++)
			if (config_setting_get_member(g, pg_only[i]) != NULL)
				pl_err_set(c, config_setting_get_member(g, pg_only[i]),
				    "state: '%s' only applies to backend \"postgresql\" "
				    "(the backend here is \"files\"%s)", pg_only[i],
				    pl_get_str(g, "backend") == NULL ? ", the default" : "");
		return;
	}
	if (config_setting_get_member(g, "conninfo") == NULL)
		pl_err_set(c, g, "state has no 'conninfo' (backend \"postgresql\" needs one)");
	if (config_setting_get_member(g, "key_file") == NULL)
		pl_err_set(c, g, "state has no 'key_file' (backend \"postgresql\" seals "
		    "TOTP secrets with it)");
	load_conninfo(c, g, st);
	pl_set_path(c, g, "passfile", &st->passfile);
	pl_set_path(c, g, "key_file", &st->key_file);
}
