/* SPDX-License-Identifier: BSD-2-Clause */
/* mspgate-signer: holds the tenants' CA keys and signs per-session certificates for mspgated. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "gw_signer.h"
#include "mg_diag.h"
#include "mg_err.h"
#include "mg_file.h"
#include "mg_log.h"
#include "mg_sshcert.h"
#include "mg_util.h"
#include "pol.h"
#include "rec_key.h"

#define DEFAULT_POLICY	"/etc/mspgate/mspgate.conf"
/* A peer gets this long to send its one request. */
#define REQUEST_TIMEOUT_MS	2000

static volatile sig_atomic_t stop, reload;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		stop = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: mspgate-signer [-D] [-t] [-f POLICY]\n"
	    "       mspgate-signer pubkey CA.pem\n");
	exit(2);
}

/* "ssh-ed25519 BASE64" of an ed25519 PEM private key: what the policy's ca holds. */
static int
print_pubkey(const char *path)
{
	struct mg_file_rules rules = { 0 };
	unsigned char seed[32], pub[32], blob[4 + 11 + 4 + 32];
	char err[300], *buf = NULL, b64[MG_B64_ENCLEN(sizeof(blob))];
	size_t len;

	rules.max_size = 16 * 1024;
	rules.owner = geteuid();
	rules.owner_set = 1;
	rules.forbid_mode = 077;
	if (mg_file_read_safe(path, &rules, &buf, &len, err, sizeof(err)) != 0 ||
	    mg_sshcert_load_ed25519(buf, len, seed, err, sizeof(err)) != 0 ||
	    mg_sshcert_ed25519_pub(seed, pub) != 0) {
		mg_freezero(buf, len);
		explicit_bzero(seed, sizeof(seed));
		fprintf(stderr, "mspgate-signer: %s\n", err);
		return 1;
	}
	mg_freezero(buf, len);
	explicit_bzero(seed, sizeof(seed));
	memcpy(blob, "\0\0\0\x0bssh-ed25519\0\0\0\x20", 19);
	memcpy(blob + 19, pub, 32);
	mg_b64_encode(blob, sizeof(blob), 1, b64);
	printf("ssh-ed25519 %s\n", b64);
	return 0;
}

/* The policy, the gateway's uid, the CA keys and the audit key: all or nothing. */
static int
load(const char *path, struct pol **polp, struct gw_signer *s, struct rec_key **keyp)
{
	struct mg_diag *d = mg_diag_new();
	struct pol *p = NULL;
	struct rec_key *k = NULL;
	struct gw_signer n = { 0 };
	struct passwd *pw;
	char err[600];
	size_t i;
	int r;

	if (d == NULL)
		return MG_ERR_NOMEM;
	r = pol_load(path, &p, d);
	for (i = 0; i < mg_diag_count(d); i++)
		mg_log(LOG_ERR, "%s", mg_diag_get(d, i));
	mg_diag_free(d);
	if (r != 0)
		return r;
	if ((pw = getpwnam(p->gateway.user)) == NULL) {
		mg_log(LOG_ERR, "gateway.user %s: no such account", p->gateway.user);
		pol_free(p);
		return MG_ERR_NOENT;
	}
	n.pol = p;
	n.gateway_uid = pw->pw_uid;
	if ((r = gw_signer_load_cas(&n, err, sizeof(err))) != 0 ||
	    (r = rec_key_load_private(p->signer.signing_key, &k, err, sizeof(err))) != 0) {
		mg_log(LOG_ERR, "%s", err);
		gw_signer_free_cas(&n);
		pol_free(p);
		return r;
	}
	n.audit_key = k;
	/* The rate limit and the serials carry over a reload. */
	n.win_start = s->win_start;
	n.win_count = s->win_count;
	n.last_serial = s->last_serial;
	n.refused = s->refused;
	gw_signer_free_cas(s);
	rec_key_free(*keyp);
	pol_free(*polp);
	*s = n;
	*polp = p;
	*keyp = k;
	return 0;
}

static int
listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		mg_log(LOG_ERR, "%s: socket path too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 64) != 0) {
		mg_log(LOG_ERR, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/*
	 * Anyone may connect: who is served is decided by SO_PEERCRED on each
	 * connection (the gateway's service account only), and every other
	 * caller's refusal is audited.
	 */
	if (chmod(path, 0666) != 0) {
		mg_log(LOG_ERR, "%s: chmod: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void
serve_one(struct gw_signer *s, int fd)
{
	static unsigned char buf[GW_SIGN_MAX];
	struct gw_signmsg req, reply;
	struct ucred cr;
	socklen_t crl = sizeof(cr);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int len;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) != 0)
		return;
	if (poll(&pfd, 1, REQUEST_TIMEOUT_MS) != 1 ||
	    (n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) <= 0)
		return;
	if (gw_signmsg_decode(buf, (size_t)n, &req) != 0) {
		memset(&req, 0, sizeof(req));
		req.type = 0;
	}
	gw_signer_handle(s, cr.uid, &req, &reply);
	if ((len = gw_signmsg_encode(&reply, buf, sizeof(buf))) > 0)
		(void)send(fd, buf, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
	explicit_bzero(buf, sizeof(buf));
}

int
main(int argc, char **argv)
{
	const char *policy = DEFAULT_POLICY;
	struct gw_signer s = { 0 };
	struct pol *p = NULL;
	struct rec_key *k = NULL;
	struct sigaction sa = { 0 };
	int c, fg = 0, test = 0, lfd;

	if (argc == 3 && strcmp(argv[1], "pubkey") == 0)
		return print_pubkey(argv[2]);
	while ((c = getopt(argc, argv, "Dtf:")) != -1) {
		switch (c) {
		case 'D': fg = 1; break;
		case 't': test = 1; break;
		case 'f': policy = optarg; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	mg_log_init("mspgate-signer", LOG_AUTHPRIV, fg || test);
	gw_ratelim_init(&s.refused, GW_SIGNER_REFUSALS, 60);
	if (load(policy, &p, &s, &k) != 0) {
		mg_log(LOG_ERR, "not started: the policy, a CA key or the audit key is unusable");
		return 1;
	}
	if (test) {
		printf("mspgate-signer: %zu CA key%s, serving uid %u\n", s.ncas,
		    s.ncas == 1 ? "" : "s", (unsigned)s.gateway_uid);
		gw_signer_free_cas(&s);
		rec_key_free(k);
		pol_free(p);
		return 0;
	}
	if ((lfd = listen_on(p->signer.socket)) < 0)
		return 1;
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	mg_log(LOG_INFO, "listening on %s: %zu CA key%s, serving uid %u", p->signer.socket,
	    s.ncas, s.ncas == 1 ? "" : "s", (unsigned)s.gateway_uid);
	while (!stop) {
		struct pollfd pfd = { .fd = lfd, .events = POLLIN };
		int fd;

		if (reload) {
			reload = 0;
			/* A policy that does not load leaves the running one in force. */
			if (load(policy, &p, &s, &k) == 0)
				mg_log(LOG_INFO, "reloaded: %zu CA key%s", s.ncas,
				    s.ncas == 1 ? "" : "s");
			else
				mg_log(LOG_ERR, "reload failed: the old policy stays");
		}
		if (poll(&pfd, 1, -1) != 1)
			continue;
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		serve_one(&s, fd);
		close(fd);
	}
	mg_log(LOG_INFO, "stopped");
	close(lfd);
	gw_signer_free_cas(&s);
	rec_key_free(k);
	pol_free(p);
	return 0;
}
