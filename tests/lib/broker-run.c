/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test helper (never installed): runs pam/mfa_broker.c's broker as
 * mspgated would, without the rest of mspgated, for tests/pam/state_pg.sh
 * and the PAM benchmark: broker-run POLICY binds <gateway.state>/state.sock,
 * prints "ready" and answers until SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mfa_broker.h"
#include "mg_diag.h"
#include "pol.h"

static volatile int stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	struct mg_diag *d = mg_diag_new();
	struct sigaction sa;
	struct pol *p = NULL;
	char err[256];
	int fd;

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
