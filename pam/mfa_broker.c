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
#include "mfa_factor.h"
#include "mfa_polcache.h"
#include "mfa_state.h"
#include "mfa_store.h"
#include "mfa_txn.h"

#define REQ_MAX		(64 + MFA_ATTEST_FACTORS * MFA_EVIDENCE_MAX)
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

/* Connects to the broker: a socket, or -1 when there is none here. */
static int
broker_connect(const struct pol *p)
{
	struct sockaddr_un sun;
	struct stat sb;
	uid_t svc = (uid_t)-1;
	int fd;

	if (sock_path(p, &sun) != 0 || lstat(sun.sun_path, &sb) != 0 ||
	    !S_ISSOCK(sb.st_mode))
		return -1;
	/* Only a socket of root or the service account is the broker. */
	if (sb.st_uid != 0 && (service_uid(p, &svc) != 0 || sb.st_uid != svc))
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return -1;	/* mspgated not running: on our own */
	}
	return fd;
}

/*
 * Sends req (n bytes, wiped) on fd (closed) and splits the answer line
 * into nf tab-ended fields and the reason (which holds no tab) as f[nf].
 * 0, or MG_ERR_UNAVAIL with why set.
 */
static int
broker_ask(const struct pol *p, int fd, char *req, int n, char *reply, size_t replylen,
    char **f, int nf, char *why, size_t whylen)
{
	long long deadline;
	char *tok;
	int i, r;

	/* From here the broker may have used the code: no second try elsewhere. */
	deadline = now_ms() + (p->state.timeout > 0 ? p->state.timeout : 5) * 2000 + 2000;
	r = n > 0 && (size_t)n < REQ_MAX && write(fd, req, (size_t)n) == n ? 0 : -1;
	explicit_bzero(req, REQ_MAX);
	if (r == 0)
		r = read_line(fd, reply, replylen, deadline);
	close(fd);
	if (r != 0) {
		snprintf(why, whylen, "the gateway's state broker did not answer");
		return MG_ERR_UNAVAIL;
	}
	reply[strcspn(reply, "\n")] = '\0';
	for (i = 0, tok = reply; i < nf; i++) {
		f[i] = tok;
		if ((tok = strchr(tok, '\t')) == NULL)
			break;
		*tok++ = '\0';
	}
	if (i != nf || tok == NULL) {
		snprintf(why, whylen, "the gateway's state broker answered nonsense");
		return MG_ERR_UNAVAIL;
	}
	f[nf] = tok;
	return 0;
}

int
mfa_broker_totp(const struct pol *p, const char *user, const char *code,
    time_t now, struct mfa_txn_result *res, char *why, size_t whylen)
{
	char req[REQ_MAX], reply[REPLY_MAX], *f[5];
	int fd, n, r;

	memset(res, 0, sizeof(*res));
	res->step = -1;
	if (!mfa_user_ok(user) || strlen(code) > 16 || strpbrk(code, " \t\n\r") != NULL)
		return MG_ERR_NOENT;
	if ((fd = broker_connect(p)) < 0)
		return MG_ERR_NOENT;
	n = snprintf(req, sizeof(req), "totp %s %s %lld\n", user, code[0] ? code : "-",
	    (long long)now);
	if ((r = broker_ask(p, fd, req, n, reply, sizeof(reply), f, 4, why, whylen)) != 0)
		return r;
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
mfa_broker_standing(const struct pol *p, const struct pol_engineer *e,
    const struct mfa_attest *att, time_t now, unsigned *still, char *why, size_t whylen)
{
	char req[REQ_MAX], reply[REPLY_MAX], *f[3], *end;
	unsigned long m;
	size_t i;
	int fd, n, k, r;

	*still = 0;
	if (!mfa_user_ok(e->name))
		return MG_ERR_NOENT;
	/* "standing USER NOW" and each factor's evidence or "-", tab-separated. */
	n = snprintf(req, sizeof(req), "standing\t%s\t%lld", e->name, (long long)now);
	for (i = 0; i < mfa_nfactors && n > 0 && (size_t)n < sizeof(req); i++) {
		const char *ev = mfa_attest_evidence(att, mfa_factors[i].bit);

		if (ev != NULL && (ev[0] == '\0' || strpbrk(ev, "\t\n") != NULL))
			return MG_ERR_NOENT;	/* the reader refuses such evidence */
		k = snprintf(req + n, sizeof(req) - (size_t)n, "\t%s", ev != NULL ? ev : "-");
		n = k < 0 ? -1 : n + k;
	}
	if (n < 0 || (size_t)n + 1 >= sizeof(req))
		return MG_ERR_NOENT;
	req[n++] = '\n';
	req[n] = '\0';
	if ((fd = broker_connect(p)) < 0)
		return MG_ERR_NOENT;
	if ((r = broker_ask(p, fd, req, n, reply, sizeof(reply), f, 2, why, whylen)) != 0)
		return r;
	r = atoi(f[0]);
	m = strtoul(f[1], &end, 10);
	snprintf(why, whylen, "%s", f[2]);
	/* Only factors the login had can stand; anything else refuses. */
	if (*end != '\0' || r > 0 || r < MG_ERR_UNAVAIL || (m & ~(unsigned long)att->mfa) != 0 ||
	    (r != 0 && m != 0)) {
		snprintf(why, whylen, "the gateway's state broker answered nonsense");
		return MG_ERR_INTERNAL;
	}
	*still = (unsigned)m;
	return r;
}

int
mfa_broker_standing_check(const struct pol *p, const struct pol_engineer *e,
    const struct mfa_attest *att, time_t now, unsigned *still, char *why, size_t whylen)
{
	int r;

	if (p->state.backend == POL_STATE_POSTGRESQL &&
	    (r = mfa_broker_standing(p, e, att, now, still, why, whylen)) != MG_ERR_NOENT)
		return r;
	return mfa_txn_standing(p, e, att, now, still, why, whylen);
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

/* A time in a request: seconds since the epoch, positive. 0, or -1. */
static int
req_time(const char *s, time_t *t)
{
	char *end;
	long long v;

	if (s == NULL || *s < '1' || *s > '9')
		return -1;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || v <= 0)
		return -1;
	*t = (time_t)v;
	return 0;
}

/*
 * "standing USER NOW EV..." (tab-separated, one evidence or "-" a factor,
 * in mfa_factors' order): the login's standing on the kept state, answered
 * "R STILL WHY".
 */
static void
answer_standing(int fd, char *req, const struct pol *p, struct mfa_state *st)
{
	const struct pol_engineer *e;
	struct mfa_attest a;
	char why[512], reply[REPLY_MAX], *save = NULL, *user, *ev;
	unsigned still = 0;
	time_t t;
	size_t i;
	int r = 0, n;

	(void)strtok_r(req, "\t", &save);
	user = strtok_r(NULL, "\t", &save);
	if (user == NULL || !mfa_user_ok(user) || req_time(strtok_r(NULL, "\t", &save), &t) != 0)
		return;
	mfa_attest_init(&a);
	for (i = 0; i < mfa_nfactors; i++) {
		if ((ev = strtok_r(NULL, "\t", &save)) == NULL)
			return;
		if (strcmp(ev, "-") == 0)
			continue;
		/* Evidence as the attestation reader would take it, or nothing. */
		if (mfa_factors[i].evidence_check(ev) != NULL ||
		    mfa_attest_set(&a, mfa_factors[i].bit, ev) != 0)
			return;
	}
	if (strtok_r(NULL, "\t", &save) != NULL)
		return;
	why[0] = '\0';
	if ((e = pol_engineer_find(p, user)) == NULL) {
		r = MG_ERR_DENIED;
		snprintf(why, sizeof(why), "%s is not an engineer in the gateway policy", user);
	} else {
		r = mfa_txn_standing_st(st, p, e, &a, t, &still, why, sizeof(why));
	}
	why[strcspn(why, "\t\n")] = '\0';
	n = snprintf(reply, sizeof(reply), "%d\t%u\t%s\n", r, r == 0 ? still : 0,
	    why[0] ? why : "-");
	if (n > 0)
		(void)!write(fd, reply, (size_t)n < sizeof(reply) ? (size_t)n : sizeof(reply) - 1);
}

/* One request on fd, answered with the policy p and the kept state st. */
static void
answer(int fd, const struct pol *p, struct mfa_state *st, uid_t svc)
{
	struct mfa_txn_result res;
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	char req[REQ_MAX], why[512], reply[REPLY_MAX], *save = NULL, *cmd, *user,
	    *code, *when;
	time_t t;
	int r, n;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) != 0 ||
	    (cr.uid != 0 && cr.uid != svc))
		return;		/* nobody else may ask */
	if (read_line(fd, req, sizeof(req), now_ms() + 2000) != 0)
		goto out;
	req[strcspn(req, "\n")] = '\0';
	if (strncmp(req, "standing\t", 9) == 0) {
		answer_standing(fd, req, p, st);
		goto out;
	}
	cmd = strtok_r(req, " ", &save);
	user = strtok_r(NULL, " ", &save);
	code = strtok_r(NULL, " ", &save);
	when = strtok_r(NULL, " ", &save);
	if (cmd == NULL || strcmp(cmd, "totp") != 0 || user == NULL || code == NULL ||
	    when == NULL || strtok_r(NULL, " ", &save) != NULL || !mfa_user_ok(user) ||
	    req_time(when, &t) != 0)
		goto out;
	why[0] = '\0';
	r = mfa_txn_totp_st(st, p, user, strcmp(code, "-") == 0 ? "" : code, t,
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
