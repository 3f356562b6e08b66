/* SPDX-License-Identifier: BSD-2-Clause */
/* The one rule for names, shared by the policy, the gateway and its detector. */
#include <string.h>

#include "mg_name.h"

static int
is_lower(unsigned char c)
{
	return c >= 'a' && c <= 'z';
}

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Locale-free on purpose: a name must mean the same under any LC_CTYPE. */
static int
is_alnum(unsigned char c)
{
	return is_lower(c) || (c >= 'A' && c <= 'Z') || is_digit(c);
}

/* 1..max bytes, each a letter or digit (lower case only if lower) or in extra. */
static int
charset_ok(const char *s, size_t max, const char *extra, int lower)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= max)
			return 0;
		if (!(lower ? is_lower(c) || is_digit(c) : is_alnum(c)) &&
		    strchr(extra, c) == NULL)
			return 0;
	}
	return i > 0;
}

int
mg_name_ok(enum mg_name_kind kind, const char *s)
{
	unsigned char first;

	if (s == NULL || s[0] == '\0')
		return 0;
	first = (unsigned char)s[0];
	switch (kind) {
	case MG_NAME_POLICY:
		return charset_ok(s, MG_NAME_POLICY_MAX, "_.-", 0) && is_alnum(first);
	case MG_NAME_CREDENTIAL:
		return charset_ok(s, MG_NAME_CREDENTIAL_MAX, "_.-", 0) &&
		    is_alnum(first);
	case MG_NAME_ENGINEER:
		return charset_ok(s, MG_NAME_ENGINEER_MAX, "_-", 1) &&
		    !is_digit(first) && first != '-';
	case MG_NAME_LOGIN:
		return charset_ok(s, MG_NAME_LOGIN_MAX, "_.-", 0) && first != '-';
	case MG_NAME_HOST:
		return charset_ok(s, MG_NAME_HOST_MAX, ".-:_", 0) && first != '-';
	}
	/* An unknown kind accepts nothing. */
	return 0;
}
