/* SPDX-License-Identifier: BSD-2-Clause */
/* The one rule for names: engineers, logins, tenants, targets and the rest. */
#ifndef MG_NAME_H
#define MG_NAME_H

/* Longest name of each kind, in bytes (not counting the NUL). */
#define MG_NAME_POLICY_MAX	64
#define MG_NAME_CREDENTIAL_MAX	128
#define MG_NAME_ENGINEER_MAX	32
#define MG_NAME_LOGIN_MAX	32
#define MG_NAME_HOST_MAX	253

enum mg_name_kind {
	/*
	 * Things the policy defines (tenants, targets, windows, engineer
	 * groups): 1..64 of [A-Za-z0-9_.-], the first a letter or digit.
	 */
	MG_NAME_POLICY,
	/* A target's credential name: the policy rule, up to 128 bytes. */
	MG_NAME_CREDENTIAL,
	/*
	 * Engineers become Unix accounts on the gateway: the portable user
	 * name subset, 1..32 of [a-z0-9_-], not starting with a digit or '-'.
	 */
	MG_NAME_ENGINEER,
	/*
	 * Logins and Unix groups on client hosts: what useradd accepts, a
	 * little wider: 1..32 of [A-Za-z0-9_.-], not starting with '-'.
	 */
	MG_NAME_LOGIN,
	/*
	 * A target's host as written in the policy (a DNS name or an IPv4 or
	 * IPv6 address): 1..253 of [A-Za-z0-9.:_-], not starting with '-'.
	 */
	MG_NAME_HOST,
};

/* 1 when s (may be NULL) is a good name of that kind, else 0. */
int mg_name_ok(enum mg_name_kind kind, const char *s);

#endif
