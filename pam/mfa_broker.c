/* SPDX-License-Identifier: BSD-2-Clause */
/* The TOTP transaction run by mspgated's broker over a database connection it keeps, for logins on the gateway. */
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "mg_diag.h"
#include "mg_err.h"
#include "mg_util.h"
#include "mfa_broker.h"
#include "mfa_polcache.h"
#include "mfa_state.h"
#include "mfa_store.h"
#include "mfa_txn.h"

#define REQ_MAX		256
#define REPLY_MAX	1024

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
sock_path(const struct pol *p, struct sockaddr_un *sun)
{
	int n;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (p->gateway.state == NULL)
		return -1;
	n = snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/%s", p->gateway.state,
	    MFA_BROKER_SOCK);
	return n < 0 || (size_t)n >= sizeof(sun->sun_path) ? -1 : 0;
}

/* The service account's uid, when the host has it. */
static int
service_uid(const struct pol *p, uid_t *uid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwnam_r(p->gateway.user != NULL ? p->gateway.user : "mspgate", &pw, buf,
	    sizeof(buf), &res) != 0 || res == NULL)
		return -1;
	*uid = pw.pw_uid;
	return 0;
}

/* Waits for fd until deadline: 1 ready, 0 timed out, -1 error. */
static int
wait_fd(int fd, short ev, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = ev };
	long long left;
	int r;

	for (;;) {
		if ((left = deadline - now_ms()) <= 0)
			return 0;
		r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/* Reads one line (up to max - 1 bytes and '\n') before deadline; 0 or -1. */
static int
read_line(int fd, char *buf, size_t max, long long deadline)
{
	size_t n = 0;
	ssize_t k;

	while (n + 1 < max) {
		if (wait_fd(fd, POLLIN, deadline) != 1)
			return -1;
		if ((k = read(fd, buf + n, max - 1 - n)) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		if (k == 0)
			return -1;
		n += (size_t)k;
		buf[n] = '\0';
		if (memchr(buf, '\n', n) != NULL)
			return buf[n - 1] == '\n' ? 0 : -1;
	}
	return -1;
}

int
mfa_broker_totp(const struct pol *p, const char *user, const char *code,
    time_t now, struct mfa_txn_result *res, char *why, size_t whylen)
{
	struct sockaddr_un sun;
	struct stat sb;
	char req[REQ_MAX], reply[REPLY_MAX], *f[5], *tok;
	long long deadline;
	uid_t svc = (uid_t)-1;
	int fd, n, i, r;

	memset(res, 0, sizeof(*res));
	res->step = -1;
	if (sock_path(p, &sun) != 0 || lstat(sun.sun_path, &sb) != 0 ||
	    !S_ISSOCK(sb.st_mode))
		return MG_ERR_NOENT;
	/* Only a socket of root or the service account is the broker. */
	if (sb.st_uid != 0 && (service_uid(p, &svc) != 0 || sb.st_uid != svc))
		return MG_ERR_NOENT;
	if (!mfa_user_ok(user) || strlen(code) > 16 || strpbrk(code, " \t\n\r") != NULL)
		return MG_ERR_NOENT;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return MG_ERR_NOENT;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return MG_ERR_NOENT;	/* mspgated not running: on our own */
	}
	n = snprintf(req, sizeof(req), "totp %s %s %lld\n", user, code[0] ? code : "-",
	    (long long)now);
	/* From here the broker may have used the code: no second try elsewhere. */
	deadline = now_ms() + (p->state.timeout > 0 ? p->state.timeout : 5) * 2000 + 2000;
	r = n > 0 && (size_t)n < sizeof(req) && write(fd, req, (size_t)n) == n ? 0 : -1;
	explicit_bzero(req, sizeof(req));
	if (r == 0)
		r = read_line(fd, reply, sizeof(reply), deadline);
	close(fd);
	if (r != 0) {
		snprintf(why, whylen, "the gateway's state broker did not answer");
		return MG_ERR_UNAVAIL;
	}
	reply[strcspn(reply, "\n")] = '\0';
	/* Four tab-ended fields, then the reason (which holds no tab). */
	for (i = 0, tok = reply; i < 4; i++) {
		f[i] = tok;
		if ((tok = strchr(tok, '\t')) == NULL)
			break;
		*tok++ = '\0';
	}
	if (i != 4 || tok == NULL) {
		snprintf(why, whylen, "the gateway's state broker answered nonsense");
		return MG_ERR_UNAVAIL;
	}
	f[4] = tok;
	r = atoi(f[0]);
	res->step = strtoll(f[1], NULL, 10);
	res->locked_now = atoi(f[2]) != 0;
	res->counted = atoi(f[3]) != 0;
	snprintf(why, whylen, "%s", f[4]);
	/* A success always names its step; anything else refuses. */
	if (r > 0 || r < MG_ERR_UNAVAIL || (r == 0 && res->step < 0)) {
		res->step = -1;
		return MG_ERR_INTERNAL;
	}
	return r;
}

int
mfa_broker_check(const struct pol *p, const char *user, const char *code,
    time_t now, struct mfa_txn_result *res, char *why, size_t whylen)
{
	int r;

	/* On a gateway, its broker keeps the database connection open. */
	if (p->state.backend == POL_STATE_POSTGRESQL &&
	    (r = mfa_broker_totp(p, user, code, now, res, why, whylen)) != MG_ERR_NOENT)
		return r;
	return mfa_txn_totp(p, user, code, now, res, why, whylen);
}

int
mfa_broker_listen(const struct pol *p, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd;

	if (sock_path(p, &sun) != 0) {
		mg_seterr(err, errlen, "gateway.state too long for a socket path");
		return -1;
	}
	(void)unlink(sun.sun_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    chmod(sun.sun_path, 0600) != 0 || listen(fd, 64) != 0) {
		mg_seterr(err, errlen, "%s: %s", sun.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* One request on fd, answered with the policy p and the kept state st. */
static void
answer(int fd, const struct pol *p, struct mfa_state *st, uid_t svc)
{
	struct mfa_txn_result res;
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	char req[REQ_MAX], why[512], reply[REPLY_MAX], *save = NULL, *cmd, *user,
	    *code, *when, *end;
	long long t;
	int r, n;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) != 0 ||
	    (cr.uid != 0 && cr.uid != svc))
		return;		/* nobody else may ask */
	if (read_line(fd, req, sizeof(req), now_ms() + 2000) != 0)
		goto out;
	req[strcspn(req, "\n")] = '\0';
	cmd = strtok_r(req, " ", &save);
	user = strtok_r(NULL, " ", &save);
	code = strtok_r(NULL, " ", &save);
	when = strtok_r(NULL, " ", &save);
	if (cmd == NULL || strcmp(cmd, "totp") != 0 || user == NULL || code == NULL ||
	    when == NULL || strtok_r(NULL, " ", &save) != NULL || !mfa_user_ok(user))
		goto out;
	t = strtoll(when, &end, 10);
	if (*end != '\0' || t <= 0)
		goto out;
	why[0] = '\0';
	r = mfa_txn_totp_st(st, p, user, strcmp(code, "-") == 0 ? "" : code, (time_t)t,
	    &res, why, sizeof(why));
	why[strcspn(why, "\t\n")] = '\0';
	n = snprintf(reply, sizeof(reply), "%d\t%lld\t%d\t%d\t%s\n", r,
	    (long long)res.step, res.locked_now, res.counted, why[0] ? why : "-");
	if (n > 0)
		(void)!write(fd, reply, (size_t)n < sizeof(reply) ? (size_t)n : sizeof(reply) - 1);
 out:
	explicit_bzero(req, sizeof(req));
}

int
mfa_broker_serve(const char *path, int lfd, volatile int *stop)
{
	struct mfa_polref *ref = NULL, *nref;
	const struct pol *p = NULL, *np;
	struct mfa_state st;
	struct mg_diag *d;
	uid_t svc = (uid_t)-1;
	int have = 0, fd, r;

	while (!*stop) {
		if (wait_fd(lfd, POLLIN, now_ms() + 1000) != 1)
			continue;
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		/* The policy as it is now (parsed again only when its files changed). */
		if ((d = mg_diag_new()) == NULL) {
			close(fd);
			continue;
		}
		r = mfa_polcache_get(path, &nref, &np, d);
		mg_diag_free(d);
		if (r != 0) {
			syslog(LOG_ERR, "state broker: the policy cannot be loaded; "
			    "logins check codes on their own");
			close(fd);	/* no answer: the client refuses, never guesses */
			continue;
		}
		if (np != p) {
			if (have)
				mfa_state_fini(&st);
			have = mfa_state_init(&st, np) == 0;
			mfa_polcache_put(ref);
			ref = nref;
			p = np;
			if (service_uid(p, &svc) != 0)
				svc = (uid_t)-1;
		} else {
			mfa_polcache_put(nref);
		}
		if (have)
			answer(fd, p, &st, svc);
		close(fd);
	}
	if (have)
		mfa_state_fini(&st);
	mfa_polcache_put(ref);
	return 0;
}
