/* SPDX-License-Identifier: BSD-2-Clause */
/* mspgate-keys: sshd's AuthorizedKeysCommand, an engineer's keys from the policy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mg_diag.h"
#include "mg_err.h"
#include "mg_log.h"
#include "mg_time.h"
#include "pol.h"

#define DEFAULT_POLICY	"/etc/mspgate/mspgate.conf"

int main(int argc, char **argv);

static void
usage(FILE *f)
{
	fprintf(f, "usage: mspgate-keys [-f POLICY] USER\n");
}

/* OpenSSH's expiry-time wants "YYYYMMDDHHMMSSZ" (UTC). */
static void
fmt_expiry(time_t t, char *buf, size_t len)
{
	struct mg_datetime dt;

	mg_datetime_from_seconds((int64_t)t, &dt);
	snprintf(buf, len, "%04d%02d%02d%02d%02d%02dZ", dt.year, dt.mon, dt.day,
	    dt.hour, dt.min, dt.sec);
}

/*
 * Prints one authorized_keys line. "restrict" turns off every forwarding,
 * the user's rc file and the pty; "pty" gives the pty back, since engineers
 * need interactive shells on targets. Source limits and expiry are repeated
 * here so sshd refuses early, before PAM is even asked.
 */
static int
print_key(const struct pol_engineer *e, const struct pol_key *k, time_t now)
{
	char *line = NULL, exp[32], cidr[64];
	time_t until;
	size_t i;

	if ((k->valid_from && now < k->valid_from) ||
	    (k->valid_until && now >= k->valid_until))
		return 0;
	if (mg_sshkey_format(k->key, &line) != 0)
		return -1;
	printf("restrict,pty");
	if (k->verify_required)
		printf(",verify-required");
	until = mg_earliest(e->valid_until, k->valid_until);
	if (until != 0) {
		fmt_expiry(until, exp, sizeof(exp));
		printf(",expiry-time=\"%s\"", exp);
	}
	if (e->nsources > 0) {
		printf(",from=\"");
		for (i = 0; i < e->nsources; i++) {
			mg_cidr_format(&e->sources[i], cidr, sizeof(cidr));
			printf("%s%s", i ? "," : "", cidr);
		}
		printf("\"");
	}
	printf(" %s mspgate:%s\n", line, e->name);
	free(line);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *file = DEFAULT_POLICY, *user;
	const struct pol_engineer *e;
	struct mg_diag *d = NULL;
	struct pol *p = NULL;
	time_t now;
	size_t i;
	int ch, rc = 1;

	mg_log_init("mspgate-keys", LOG_AUTHPRIV, isatty(STDERR_FILENO));
	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	while ((ch = getopt(argc, argv, "f:h")) != -1) {
		switch (ch) {
		case 'f':
			file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (argc - optind != 1) {
		usage(stderr);
		return 1;
	}
	user = argv[optind];
	if ((d = mg_diag_new()) == NULL)
		goto out;
	/* A broken policy gives no keys at all: nobody gets in through it. */
	if (pol_load(file, &p, d) != 0) {
		mg_log(LOG_ERR, "policy not loaded, no keys given: %s",
		    mg_diag_count(d) ? mg_diag_get(d, 0) : file);
		goto out;
	}
	rc = 0;
	/* Unknown users and expired engineers: no keys, and that is not an error. */
	if ((e = pol_engineer_find(p, user)) == NULL)
		goto out;
	now = mg_clock_now();
	if ((e->valid_from && now < e->valid_from) ||
	    (e->valid_until && now >= e->valid_until))
		goto out;
	for (i = 0; i < e->nkeys; i++) {
		if (print_key(e, &e->keys[i], now) != 0) {
			mg_log(LOG_ERR, "cannot format a key of %s", e->name);
			rc = 1;
		}
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		rc = 1;
 out:
	pol_free(p);
	mg_diag_free(d);
	return rc;
}
