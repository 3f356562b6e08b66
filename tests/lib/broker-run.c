/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test helper (never installed): runs pam/mfa_broker.c's broker as
 * mspgated would, without the rest of mspgated, for tests/pam/state_pg.sh
 * and the PAM benchmark: broker-run POLICY binds <gateway.state>/state.sock,
 * prints "ready" and answers until SIGTERM.
 *
 * broker-run -s POLICY USER EV...: asks a new session's question as
 * mspgated's session processes do (mfa_broker_standing_check), with an
 * attestation holding each factor's evidence EV ("-": none; in
 * mfa_factors' order), and prints "standing R STILL WHY".
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mfa_attest.h"
#include "mfa_broker.h"
#include "mfa_factor.h"
#include "mg_diag.h"
#include "pol.h"

static volatile int stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int
standing(int argc, char **argv)
{
	struct mg_diag *d = mg_diag_new();
	const struct pol_engineer *e;
	struct mfa_attest a;
	struct pol *p = NULL;
	char why[512] = "-";
	unsigned still = 0;
	size_t i;
	int r;

	r = 2;
	if ((size_t)argc != 4 + mfa_nfactors || d == NULL || pol_load(argv[2], &p, d) != 0 ||
	    (e = pol_engineer_find(p, argv[3])) == NULL) {
		fprintf(stderr, "usage: broker-run -s POLICY ENGINEER EV... (one a factor)\n");
		goto out;
	}
	mfa_attest_init(&a);
	for (i = 0; i < mfa_nfactors; i++)
		if (strcmp(argv[4 + i], "-") != 0 &&
		    mfa_attest_set(&a, mfa_factors[i].bit, argv[4 + i]) != 0)
			goto out;
	r = mfa_broker_standing_check(p, e, &a, time(NULL), &still, why, sizeof(why));
	printf("standing %d %u %s\n", r, still, why);
	r = 0;
out:
	pol_free(p);
	mg_diag_free(d);
	return r;
}

int
main(int argc, char **argv)
{
	struct mg_diag *d;
	struct sigaction sa;
	struct pol *p = NULL;
	char err[256];
	int fd;

	if (argc > 1 && strcmp(argv[1], "-s") == 0)
		return standing(argc, argv);
	d = mg_diag_new();
	if (argc != 2 || d == NULL || pol_load(argv[1], &p, d) != 0) {
		fprintf(stderr, "usage: broker-run POLICY (a policy that loads)\n");
		return 2;
	}
	if ((fd = mfa_broker_listen(p, err, sizeof(err))) < 0) {
		fprintf(stderr, "broker-run: %s\n", err);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("ready\n");
	fflush(stdout);
	mfa_broker_serve(argv[1], fd, &stop);
	close(fd);
	pol_free(p);
	mg_diag_free(d);
	return 0;
}
