/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test helper (never installed): plays sshd's monitor for the gateway tests
 * that run mspgate-shell without sshd. As root, writes a login attestation
 * for itself with pam_mspgate's writer (pam/mfa_attest.c), runs COMMAND as
 * USER (its child, as sshd's session runs under its monitor), and removes
 * the attestation when COMMAND ends; exits with COMMAND's status.
 *
 * attest-run -d DIR -u USER [-r RUNAS] [-m MFA] [-s ADDR] [-p PORT] [-a AGE] -- COMMAND...
 * -r runs COMMAND as another user than the one attested (a uid mismatch);
 * -a makes the login AGE seconds old; -F FP adds a FIDO factor, the key
 * with that fingerprint (SHA256:...), as pam_mspgate records one.
 */
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mfa_attest.h"
#include "mfa_totp.h"
#include "pol.h"

int
main(int argc, char **argv)
{
	struct mfa_attest a;
	struct passwd *pw;
	const char *dir = NULL, *user = NULL, *runas = NULL, *mfa = "totp", *fido = NULL;
	char err[512], ev[MFA_EVIDENCE_MAX];
	unsigned bits = 0;
	long age = 0;
	pid_t kid;
	int ch, st;

	mfa_attest_init(&a);
	snprintf(a.source, sizeof(a.source), "127.0.0.1");
	a.port = 40000;
	while ((ch = getopt(argc, argv, "d:u:r:m:s:p:a:F:")) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 'u': user = optarg; break;
		case 'r': runas = optarg; break;
		case 'm': mfa = optarg; break;
		case 's': snprintf(a.source, sizeof(a.source), "%s", optarg); break;
		case 'p': a.port = atoi(optarg); break;
		case 'a': age = atol(optarg); break;
		case 'F': fido = optarg; break;
		default: goto usage;
		}
	}
	if (dir == NULL || user == NULL || optind >= argc)
		goto usage;
	if ((pw = getpwnam(user)) == NULL) {
		fprintf(stderr, "attest-run: no user %s\n", user);
		return 2;
	}
	snprintf(a.engineer, sizeof(a.engineer), "%s", user);
	a.uid = pw->pw_uid;
	a.pid = getpid();
	a.login = time(NULL) - age;
	if (strcmp(mfa, "none") != 0 && pol_mfa_parse(mfa, &bits) != 0)
		goto usage;
	/* FIDO only with the key named (-F): its fingerprint is the evidence. */
	if (bits & POL_MFA_FIDO) {
		if (fido == NULL || (size_t)snprintf(ev, sizeof(ev), "%s 0", fido) >= sizeof(ev) ||
		    mfa_attest_set(&a, POL_MFA_FIDO, ev) != 0)
			goto usage;
	}
	if ((bits & POL_MFA_TOTP) &&
	    (mfa_totp_evidence((int64_t)(a.login / 30), ev, sizeof(ev)) != 0 ||
	    mfa_attest_set(&a, POL_MFA_TOTP, ev) != 0))
		goto usage;
	if (mfa_proc_stat(getpid(), &a.start, NULL) != 0 ||
	    mfa_attest_write(dir, &a, err, sizeof(err)) != 0) {
		fprintf(stderr, "attest-run: %s\n", err);
		return 2;
	}
	if (runas != NULL && (pw = getpwnam(runas)) == NULL) {
		fprintf(stderr, "attest-run: no user %s\n", runas);
		(void)mfa_attest_remove(dir, a.pid, a.start);
		return 2;
	}
	signal(SIGINT, SIG_IGN);
	if ((kid = fork()) == 0) {
		if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
		    setuid(pw->pw_uid) != 0)
			_exit(126);
		signal(SIGINT, SIG_DFL);
		execvp(argv[optind], argv + optind);
		_exit(127);
	}
	st = 0;
	while (kid > 0 && waitpid(kid, &st, 0) < 0)
		;
	(void)mfa_attest_remove(dir, a.pid, a.start);
	if (kid < 0)
		return 2;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
usage:
	fprintf(stderr, "usage: attest-run -d DIR -u USER [-r RUNAS] [-m totp|none|fido+totp -F FP] "
	    "[-s ADDR] [-p PORT] [-a AGE] -- COMMAND...\n");
	return 2;
}
