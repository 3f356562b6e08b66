/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Benchmark driver (not a test): authenticates each USER in turn through
 * the real libpam in ONE process, answering every prompt with CODE, and
 * prints one line per login: "LATENCY_US RESULT". A fresh PAM handle per
 * login (libpam loads and unloads the module each time), as a long-running
 * PAM application does; libraries that stay loaded (libcrypto, as in sshd,
 * which links it) are paid for once.
 *
 * pamloop -C CONFDIR -s SERVICE [-c CODE] [-S] USER[:CODE]...
 * A USER:CODE argument answers that login with its own CODE (users with
 * secrets of their own, as mspgate-enroll makes them); others get -c's.
 * -S: each login also opens its session, as sshd does before the user's
 * first command (for pam_mspgate: the login attestation and one more audit
 * event), and the line gets a third field, the logout (close the session,
 * end the handle) in microseconds: "LOGIN_US RESULT LOGOUT_US".
 * -A DIR (with -S): the login counts as "ok" only when the open session
 * left its attestation, DIR/<this pid> (checked outside the timing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r;
	int i;

	if (n <= 0 || (r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_CONV_ERR;
	for (i = 0; i < n; i++) {
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
		    msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
			if ((r[i].resp = strdup(data)) == NULL) {
				while (i-- > 0)
					free(r[i].resp);
				free(r);
				return PAM_CONV_ERR;
			}
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

static double
now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

int
main(int argc, char **argv)
{
	const char *dir = NULL, *service = NULL, *code = NULL, *attest = NULL;
	int ch, i, bad = 0, session = 0;

	while ((ch = getopt(argc, argv, "C:s:c:SA:")) != -1) {
		switch (ch) {
		case 'S': session = 1; break;
		case 'A': attest = optarg; break;
		case 'C': dir = optarg; break;
		case 's': service = optarg; break;
		case 'c': code = optarg; break;
		default: goto usage;
		}
	}
	if (dir == NULL || service == NULL || optind >= argc)
		goto usage;
	for (i = optind; i < argc; i++) {
		struct pam_conv c = { conv, (void *)code };
		pam_handle_t *h = NULL;
		char *user = argv[i], *colon = strchr(user, ':');
		double t0, t1;
		int r;

		/* Split outside the timing; a user name never holds ':'. */
		if (colon != NULL) {
			*colon = '\0';
			c.appdata_ptr = colon + 1;
		}
		if (c.appdata_ptr == NULL) {
			fprintf(stderr, "pamloop: no code for %s (-c CODE or USER:CODE)\n", user);
			return 2;
		}
		t0 = now_us();
		if ((r = pam_start_confdir(service, user, &c, dir, &h)) == PAM_SUCCESS) {
			r = pam_authenticate(h, 0);
			if (r == PAM_SUCCESS && session)
				r = pam_open_session(h, 0);
			t1 = now_us();
			if (r == PAM_SUCCESS && session && attest != NULL) {
				char path[4096];

				snprintf(path, sizeof(path), "%s/%ld", attest, (long)getpid());
				if (access(path, F_OK) != 0)
					r = PAM_SESSION_ERR;
			}
			if (r == PAM_SUCCESS && session)
				r = pam_close_session(h, 0);
			pam_end(h, r);
		} else
			t1 = now_us();
		if (session)
			printf("%.0f %s %.0f\n", t1 - t0, r == PAM_SUCCESS ? "ok" : "fail",
			    now_us() - t1);
		else
			printf("%.0f %s\n", now_us() - t0, r == PAM_SUCCESS ? "ok" : "fail");
		if (r != PAM_SUCCESS)
			bad++;
	}
	return bad ? 1 : 0;
usage:
	fprintf(stderr, "usage: pamloop -C CONFDIR -s SERVICE [-c CODE] [-S [-A DIR]] "
	    "USER[:CODE]...\n");
	return 2;
}
