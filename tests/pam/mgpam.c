/* SPDX-License-Identifier: BSD-2-Clause */
/* Test driver: runs PAM stages through the real libpam (pam_start_confdir) and prints each result. */
/*
 * mgpam -C CONFDIR -s SERVICE -u USER [-c CODE] [-r RHOST] [-t TTY]
 *       [-e NAME=VALUE]... [-U USER2 -k CODE2] OP...
 * OP: auth, setcred, acct, open, close (on the first handle), auth2 (on a
 * second handle for USER2, open at the same time: two handles in one
 * process). Prints "OP PAM_NAME" per stage, "prompt: TEXT", "error: TEXT"
 * and "info: TEXT" for the conversation, and "env MSPGATE_MFA=..." at the
 * end when the module set it. Exit 0 when every stage returned PAM_SUCCESS.
 *
 * PAM_IGNORE cannot be seen from outside libpam (a stack in which every
 * module ignores fails with PAM_PERM_DENIED), so the tests' service files
 * end each stack with "pam_debug.so TYPE=module_unknown", reached only
 * when pam_mspgate ignored; this program prints that as PAM_IGNORE.
 *
 * syslog is captured: every syslog line (pam_syslog's included) is
 * appended to $MGPAM_SYSLOG, or stderr, so tests can check what the module
 * logs without a syslog daemon. The functions below interpose libc's.
 *
 * Under SAN=address this program is instrumented and the module it loads
 * too; the sanitizer runtime comes from this program, so no LD_PRELOAD is
 * needed. Under valgrind, run it as `valgrind mgpam ...`.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_appl.h>

static void log_line(int prio, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
log_line(int prio, const char *fmt, va_list ap)
{
	const char *path = getenv("MGPAM_SYSLOG");
	FILE *f = path != NULL ? fopen(path, "a") : stderr;

	if (f == NULL)
		return;
	fprintf(f, "<%d> ", prio & LOG_PRIMASK);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	if (f != stderr)
		fclose(f);
}

/*
 * Interposed: libpam and the module call these through the PLT. The names
 * are in parentheses because _FORTIFY_SOURCE may define them as macros.
 */
void
(vsyslog)(int prio, const char *fmt, va_list ap)
{
	log_line(prio, fmt, ap);
}

void
__vsyslog_chk(int prio, int flag, const char *fmt, va_list ap);
void
__vsyslog_chk(int prio, int flag, const char *fmt, va_list ap)
{
	(void)flag;
	log_line(prio, fmt, ap);
}

void
(syslog)(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(prio, fmt, ap);
	va_end(ap);
}

void
__syslog_chk(int prio, int flag, const char *fmt, ...);
void
__syslog_chk(int prio, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)flag;
	va_start(ap, fmt);
	log_line(prio, fmt, ap);
	va_end(ap);
}

static const struct {
	int code;
	const char *name;
} names[] = {
	{ PAM_SUCCESS, "PAM_SUCCESS" }, { PAM_AUTH_ERR, "PAM_AUTH_ERR" },
	{ PAM_PERM_DENIED, "PAM_PERM_DENIED" }, { PAM_SERVICE_ERR, "PAM_SERVICE_ERR" },
	{ PAM_ACCT_EXPIRED, "PAM_ACCT_EXPIRED" }, { PAM_SESSION_ERR, "PAM_SESSION_ERR" },
	{ PAM_CONV_ERR, "PAM_CONV_ERR" }, { PAM_BUF_ERR, "PAM_BUF_ERR" },
	{ PAM_USER_UNKNOWN, "PAM_USER_UNKNOWN" }, { PAM_SYSTEM_ERR, "PAM_SYSTEM_ERR" },
	{ PAM_MODULE_UNKNOWN, "PAM_IGNORE" }, { PAM_ABORT, "PAM_ABORT" },
	{ PAM_MAXTRIES, "PAM_MAXTRIES" }, { PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL" },
};

static const char *
code_name(int r)
{
	static char buf[32];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == r)
			return names[i].name;
	snprintf(buf, sizeof(buf), "PAM_%d", r);
	return buf;
}

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	const char *code = data;
	struct pam_response *r;
	int i;

	if ((r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			printf("prompt: %s%s\n", msg[i]->msg,
			    msg[i]->msg_style == PAM_PROMPT_ECHO_ON ? " (echo)" : "");
			if (code == NULL) {
				free(r);
				return PAM_CONV_ERR;
			}
			if ((r[i].resp = strdup(code)) == NULL) {
				free(r);
				return PAM_BUF_ERR;
			}
			break;
		case PAM_ERROR_MSG:
			printf("error: %s\n", msg[i]->msg);
			break;
		case PAM_TEXT_INFO:
			printf("info: %s\n", msg[i]->msg);
			break;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

static pam_handle_t *
start(const char *service, const char *user, struct pam_conv *c, const char *dir,
    const char *rhost, const char *tty, char **env, int nenv)
{
	pam_handle_t *h = NULL;
	int r, i;

	if ((r = pam_start_confdir(service, user, c, dir, &h)) != PAM_SUCCESS) {
		printf("start %s\n", code_name(r));
		exit(2);
	}
	if (rhost != NULL)
		pam_set_item(h, PAM_RHOST, rhost);
	if (tty != NULL)
		pam_set_item(h, PAM_TTY, tty);
	for (i = 0; i < nenv; i++)
		pam_putenv(h, env[i]);
	return h;
}

int
main(int argc, char **argv)
{
	const char *dir = NULL, *service = NULL, *user = NULL, *code = NULL;
	const char *rhost = NULL, *tty = NULL, *user2 = NULL, *code2 = NULL, *v;
	char *env[16];
	int nenv = 0, ch, i, r, all = 0, last = PAM_SUCCESS;
	struct pam_conv c1, c2;
	pam_handle_t *h, *h2 = NULL;

	while ((ch = getopt(argc, argv, "C:s:u:c:r:t:e:U:k:")) != -1) {
		switch (ch) {
		case 'C': dir = optarg; break;
		case 's': service = optarg; break;
		case 'u': user = optarg; break;
		case 'c': code = optarg; break;
		case 'r': rhost = optarg; break;
		case 't': tty = optarg; break;
		case 'e':
			if (nenv < 16)
				env[nenv++] = optarg;
			break;
		case 'U': user2 = optarg; break;
		case 'k': code2 = optarg; break;
		default:
			fprintf(stderr, "usage: mgpam -C DIR -s SERVICE -u USER [-c CODE] "
			    "[-r RHOST] [-t TTY] [-e N=V] [-U USER2 -k CODE2] OP...\n");
			return 2;
		}
	}
	if (dir == NULL || service == NULL || user == NULL || optind >= argc) {
		fprintf(stderr, "mgpam: -C, -s, -u and an operation are required\n");
		return 2;
	}
	c1.conv = conv;
	c1.appdata_ptr = (void *)code;
	c2.conv = conv;
	c2.appdata_ptr = (void *)code2;
	h = start(service, user, &c1, dir, rhost, tty, env, nenv);
	if (user2 != NULL)
		h2 = start(service, user2, &c2, dir, rhost, tty, env, nenv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = optind; i < argc; i++) {
		const char *op = argv[i];

		if (strcmp(op, "auth") == 0)
			r = pam_authenticate(h, 0);
		else if (strcmp(op, "auth2") == 0 && h2 != NULL)
			r = pam_authenticate(h2, 0);
		else if (strcmp(op, "setcred") == 0)
			r = pam_setcred(h, PAM_ESTABLISH_CRED);
		else if (strcmp(op, "acct") == 0)
			r = pam_acct_mgmt(h, 0);
		else if (strcmp(op, "open") == 0)
			r = pam_open_session(h, 0);
		else if (strcmp(op, "close") == 0)
			r = pam_close_session(h, 0);
		else {
			fprintf(stderr, "mgpam: unknown operation %s\n", op);
			return 2;
		}
		printf("%s %s\n", op, code_name(r));
		if (r != PAM_SUCCESS)
			all = 1;
		last = r;
	}
	if ((v = pam_getenv(h, "MSPGATE_MFA")) != NULL)
		printf("env MSPGATE_MFA=%s\n", v);
	/* What the auth stage verified, for the session's attestation. */
	if ((v = pam_getenv(h, "MSPGATE_AUTH")) != NULL)
		printf("env MSPGATE_AUTH=%s\n", v);
	pam_end(h, last);
	if (h2 != NULL)
		pam_end(h2, PAM_SUCCESS);
	return all;
}
