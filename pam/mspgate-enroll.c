/* SPDX-License-Identifier: BSD-2-Clause */
/* mspgate-enroll: TOTP secrets for MSP engineers (make, show as QR, activate, remove) and lockouts. */
#include <errno.h>
#include <getopt.h>
#include <qrencode.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "mg_diag.h"
#include "mg_err.h"
#include "mg_time.h"
#include "pol.h"
#include "mfa_state.h"
#include "mfa_store.h"
#include "mfa_totp.h"

#define DEFAULT_CONFIG	"/etc/mspgate/mspgate.conf"

static const char *prog = "mspgate-enroll";

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: %s [-c CONFIG] [--issuer NAME] [--reset] USER\n"
	    "       %s [-c CONFIG] --batch [--reset] USER\n"
	    "       %s [-c CONFIG] --activate CODE USER\n"
	    "       %s [-c CONFIG] --remove USER\n"
	    "       %s [-c CONFIG] --list\n"
	    "       %s [-c CONFIG] --lockouts\n"
	    "       %s [-c CONFIG] --unlock USER\n", prog, prog, prog, prog, prog,
	    prog, prog);
}

static void err_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
err_msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
fmt_time(int64_t t, char *buf, size_t len)
{
	struct mg_datetime dt;

	mg_datetime_from_seconds(t, &dt);
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d UTC", dt.year, dt.mon, dt.day,
	    dt.hour, dt.min);
}

/* Percent-encodes what an otpauth label or parameter may not hold as is. */
static void
uri_put(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL)
			fputc(c, f);
		else
			fprintf(f, "%%%02X", c);
	}
}

/* The otpauth:// URI, written straight to f so no copy of the secret lingers. */
static int
uri_print(FILE *f, const char *issuer, const char *user, const struct mfa_secret *s)
{
	char b32[(MFA_KEY_MAX * 8 + 4) / 5 + 1];
	const char *alg = s->alg == MFA_SHA256 ? "SHA256" :
	    s->alg == MFA_SHA512 ? "SHA512" : "SHA1";

	if (mfa_base32_encode(s->key, s->keylen, b32, sizeof(b32)) != 0)
		return MG_ERR_INTERNAL;
	fputs("otpauth://totp/", f);
	uri_put(f, issuer);
	fputc(':', f);
	uri_put(f, user);
	fprintf(f, "?secret=%s&issuer=", b32);
	uri_put(f, issuer);
	fprintf(f, "&algorithm=%s&digits=%d&period=%d", alg, s->digits, s->period);
	explicit_bzero(b32, sizeof(b32));
	return 0;
}

/*
 * Draws the QR code with Unicode half blocks, two modules per character
 * row, light modules as blocks (as `qrencode -t UTF8` does), so it reads
 * on a terminal with a dark background, with a quiet zone of 2.
 */
static int
qr_print(const char *issuer, const char *user, const struct mfa_secret *s)
{
	char *uri = NULL;
	size_t urilen = 0;
	FILE *mf;
	QRcode *q;
	int x, y, w, m = 2, r = 0;

	if ((mf = open_memstream(&uri, &urilen)) == NULL)
		return MG_ERR_NOMEM;
	uri_print(mf, issuer, user, s);
	if (fclose(mf) != 0 || uri == NULL)
		return MG_ERR_NOMEM;
	q = QRcode_encodeString(uri, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	explicit_bzero(uri, urilen);
	free(uri);
	if (q == NULL) {
		err_msg("cannot make the QR code: %s", strerror(errno));
		return MG_ERR_SYSTEM;
	}
	w = q->width;
#define DARK(xx, yy) ((xx) >= 0 && (yy) >= 0 && (xx) < w && (yy) < w && \
	(q->data[(yy) * w + (xx)] & 1))
	for (y = -m; y < w + m; y += 2) {
		for (x = -m; x < w + m; x++) {
			int top = !DARK(x, y), bot = y + 1 < w + m && !DARK(x, y + 1);

			fputs(top && bot ? "\xe2\x96\x88" : top ? "\xe2\x96\x80" :
			    bot ? "\xe2\x96\x84" : " ", stdout);
		}
		fputc('\n', stdout);
	}
#undef DARK
	explicit_bzero(q->data, (size_t)w * (size_t)w);
	QRcode_free(q);
	return r;
}

static int
load_policy(const char *config, struct pol **p)
{
	struct mg_diag *d = mg_diag_new();
	size_t i;
	int r;

	if (d == NULL)
		return MG_ERR_NOMEM;
	if ((r = pol_load(config, p, d)) != 0) {
		err_msg("the policy %s cannot be loaded:", config);
		for (i = 0; i < mg_diag_count(d); i++)
			fprintf(stderr, "  %s\n", mg_diag_get(d, i));
	}
	mg_diag_free(d);
	return r;
}

/* Reads one line from stdin with echo off when it is a terminal. */
static int
read_code(const char *prompt, char *buf, size_t len)
{
	struct termios old, noecho;
	int tty = isatty(STDIN_FILENO), ok;
	size_t n;

	fputs(prompt, stdout);
	fflush(stdout);
	if (tty && tcgetattr(STDIN_FILENO, &old) == 0) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
	} else {
		tty = 0;
	}
	ok = fgets(buf, (int)len, stdin) != NULL;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stdout);
	}
	if (!ok)
		return -1;
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return 0;
}

/*
 * Ends the user's lock; with the state database that commits what was
 * written, and a commit that fails is the command's error (r when r is one
 * already). fd -1 ends nothing.
 */
static int
unlock(struct mfa_state *st, int fd, int r)
{
	char err[512];
	int u;

	if ((u = mfa_unlock(st, fd, err, sizeof(err))) != 0 && r == 0) {
		err_msg("%s", err);
		return u;
	}
	return r;
}

/* Activates a pending secret with code, under the user's lock. */
static int
activate(struct mfa_state *st, const struct pol *p, const char *user,
    const char *code, int quiet)
{
	struct mfa_secret s;
	char err[512], clean[32];
	int64_t step;
	size_t i, o = 0;
	int fd = -1, r;

	for (i = 0; code[i] != '\0' && o + 1 < sizeof(clean); i++)
		if (code[i] != ' ')
			clean[o++] = code[i];
	clean[o] = '\0';
	if ((r = mfa_lock(st, user, &fd, err, sizeof(err))) != 0) {
		err_msg("%s", err);
		return r;
	}
	if ((r = mfa_secret_load(st, user, &s, err, sizeof(err))) != 0) {
		if (r == MG_ERR_NOENT)
			err_msg("%s has no secret: run %s %s first", user, prog, user);
		else
			err_msg("%s", err);
		goto out;
	}
	if (s.status == MFA_ACTIVE) {
		err_msg("the secret of %s is already active", user);
		r = MG_ERR_EXISTS;
		goto out;
	}
	if ((r = mfa_totp_check(&s, clean, mg_clock_now(), p->mfa.skew_steps,
	    &step)) != 0) {
		if (!quiet)
			err_msg("that code is not valid now (check the phone's clock)");
		r = MG_ERR_DENIED;
		goto out;
	}
	/* The code used to activate counts as used. */
	s.status = MFA_ACTIVE;
	s.last_step = step;
	if ((r = mfa_secret_save(st, user, &s, err, sizeof(err))) != 0)
		err_msg("%s", err);
	/* The replay record too: each login then rewrites it in place. */
	else if ((r = mfa_used_save(st, user, fd, step, err, sizeof(err))) != 0)
		err_msg("%s", err);
 out:
	explicit_bzero(clean, sizeof(clean));
	mfa_secret_wipe(&s);
	return unlock(st, fd, r);
}

static int
enroll(struct mfa_state *st, const struct pol *p, const char *user,
    const char *issuer, int batch, int reset)
{
	struct mfa_secret s, old;
	char err[512], code[64];
	int fd = -1, r, tries;

	memset(&s, 0, sizeof(s));
	if ((r = mfa_lock(st, user, &fd, err, sizeof(err))) != 0) {
		err_msg("%s", err);
		return r;
	}
	r = mfa_secret_load(st, user, &old, err, sizeof(err));
	if (r == 0 && old.status == MFA_ACTIVE && !reset) {
		mfa_secret_wipe(&old);
		err_msg("%s already has an active secret; --reset replaces it", user);
		r = MG_ERR_EXISTS;
		goto out;
	}
	mfa_secret_wipe(&old);
	if (r != 0 && r != MG_ERR_NOENT && !reset) {
		err_msg("%s (--reset replaces it)", err);
		goto out;
	}
	s.status = MFA_PENDING;
	if (mfa_alg_parse(p->mfa.algorithm, &s.alg) != 0)
		s.alg = MFA_SHA1;
	s.digits = p->mfa.digits;
	s.period = p->mfa.period;
	s.keylen = MFA_KEY_LEN;
	s.last_step = -1;
	s.created = (int64_t)mg_clock_now();
	if (getrandom(s.key, s.keylen, 0) != (ssize_t)s.keylen) {
		err_msg("getrandom: %s", strerror(errno));
		r = MG_ERR_SYSTEM;
		goto out;
	}
	if ((r = mfa_secret_save(st, user, &s, err, sizeof(err))) != 0) {
		err_msg("%s", err);
		goto out;
	}
	r = unlock(st, fd, 0);
	fd = -1;
	if (r != 0)
		goto out;
	if (batch) {
		uri_print(stdout, issuer, user, &s);
		fputc('\n', stdout);
		goto out;
	}
	printf("Scan this with the authenticator app (Google Authenticator, Aegis, "
	    "1Password...):\n\n");
	if ((r = qr_print(issuer, user, &s)) != 0)
		goto out;
	printf("\nOr enter it by hand:\n  ");
	uri_print(stdout, issuer, user, &s);
	printf("\n\n");
	for (tries = 0; tries < 3; tries++) {
		if (read_code("Code shown by the app: ", code, sizeof(code)) != 0)
			break;
		if ((r = activate(st, p, user, code, 1)) == 0) {
			printf("Activated: %s now logs in with codes from this app.\n", user);
			goto out;
		}
		if (r != MG_ERR_DENIED)
			goto out;
		printf("That code is not valid now; try again (check the phone's clock).\n");
	}
	explicit_bzero(code, sizeof(code));
	err_msg("not activated; the secret stays pending (%s --activate CODE %s)",
	    prog, user);
	r = MG_ERR_DENIED;
 out:
	explicit_bzero(code, sizeof(code));
	mfa_secret_wipe(&s);
	return unlock(st, fd, r);
}

static int
list(struct mfa_state *st)
{
	char **names = NULL, err[512], when[40];
	size_t n = 0, i;
	int r, bad = 0;

	if ((r = mfa_state_list_secrets(st, &names, &n, err, sizeof(err))) != 0) {
		err_msg("%s", err);
		return r;
	}
	for (i = 0; i < n; i++) {
		struct mfa_secret s;

		if (mfa_secret_load(st, names[i], &s, err, sizeof(err)) != 0) {
			printf("%-20s unusable: %s\n", names[i], err);
			bad = 1;
		} else {
			fmt_time(s.created, when, sizeof(when));
			printf("%-20s %-8s %s %d digits, %ds, made %s\n", names[i],
			    s.status == MFA_ACTIVE ? "active" : "pending",
			    mfa_alg_name(s.alg), s.digits, s.period, when);
		}
		mfa_secret_wipe(&s);
		free(names[i]);
	}
	free(names);
	return bad ? MG_ERR_PARSE : 0;
}

static int
lockouts(struct mfa_state *st)
{
	struct mfa_lockrec *lr;
	char **names = NULL, err[512], when[40];
	size_t n = 0, i;
	time_t now = mg_clock_now();
	int r;

	if ((r = mfa_state_list_lockouts(st, &names, &n, err, sizeof(err))) != 0) {
		err_msg("%s", err);
		return r;
	}
	if ((lr = calloc(1, sizeof(*lr))) == NULL)
		r = MG_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		if (lr == NULL) {
		} else if (mfa_lockrec_load(st, names[i], lr, err, sizeof(err)) != 0) {
			printf("%-20s damaged record (logins denied): %s\n", names[i], err);
		} else {
			mfa_lockrec_expire(st, lr, now);
			if (mfa_lockrec_locked(st, lr, now)) {
				fmt_time(lr->locked_until, when, sizeof(when));
				printf("%-20s locked until %s\n", names[i], when);
			} else if (lr->nfail > 0) {
				printf("%-20s not locked, %zu recent failure%s\n", names[i],
				    lr->nfail, lr->nfail == 1 ? "" : "s");
			}
		}
		free(names[i]);
	}
	free(names);
	free(lr);
	return r;
}

/* Clears a lock or removes a secret, under the user's lock. */
static int
clear(struct mfa_state *st, const char *user, int secret)
{
	char err[512];
	int fd = -1, r, was;

	if ((r = mfa_lock(st, user, &fd, err, sizeof(err))) != 0) {
		err_msg("%s", err);
		return r;
	}
	r = mfa_lockrec_remove(st, user, err, sizeof(err));
	if (r != 0 && r != MG_ERR_NOENT) {
		err_msg("%s", err);
		goto out;
	}
	if (!secret) {
		was = r == 0;
		if ((r = unlock(st, fd, 0)) == 0)
			printf("%s: %s\n", user, was ? "unlocked" : "was not locked");
		return r;
	}
	r = mfa_secret_remove(st, user, err, sizeof(err));
	if (r == MG_ERR_NOENT)
		err_msg("%s has no secret", user);
	else if (r != 0)
		err_msg("%s", err);
	else if ((r = unlock(st, fd, 0)) == 0)
		printf("%s: secret removed\n", user);
	return r;
 out:
	return unlock(st, fd, r);
}

int
main(int argc, char **argv)
{
	enum { O_ISSUER = 256, O_BATCH, O_RESET, O_ACTIVATE, O_REMOVE, O_LIST,
		O_LOCKOUTS, O_UNLOCK };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "issuer", required_argument, NULL, O_ISSUER },
		{ "batch", no_argument, NULL, O_BATCH },
		{ "reset", no_argument, NULL, O_RESET },
		{ "activate", required_argument, NULL, O_ACTIVATE },
		{ "remove", no_argument, NULL, O_REMOVE },
		{ "list", no_argument, NULL, O_LIST },
		{ "lockouts", no_argument, NULL, O_LOCKOUTS },
		{ "unlock", no_argument, NULL, O_UNLOCK },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *config = DEFAULT_CONFIG, *issuer = "mspgate", *code = NULL, *user;
	struct mfa_state st;
	struct pol *p = NULL;
	int ch, mode = 0, batch = 0, reset = 0, r, nmodes = 0;
	size_t i;

	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case O_ISSUER: issuer = optarg; break;
		case O_BATCH: batch = 1; break;
		case O_RESET: reset = 1; break;
		case O_ACTIVATE: code = optarg; mode = ch; nmodes++; break;
		case O_REMOVE: case O_LIST: case O_LOCKOUTS: case O_UNLOCK:
			mode = ch;
			nmodes++;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (nmodes > 1 || ((mode == O_LIST || mode == O_LOCKOUTS) ? optind != argc :
	    optind + 1 != argc) || (mode != 0 && (batch || reset))) {
		usage(stderr);
		return 2;
	}
	user = optind < argc ? argv[optind] : NULL;
	if (user != NULL && !mfa_user_ok(user)) {
		err_msg("invalid user name (lower-case letters, digits, '_' and '-')");
		return 2;
	}
	for (i = 0; issuer[i] != '\0'; i++) {
		if (issuer[i] == ':' || (unsigned char)issuer[i] < 0x20 || i > 64) {
			err_msg("--issuer: at most 64 characters, no ':' or control "
			    "characters");
			return 2;
		}
	}
	if (load_policy(config, &p) != 0)
		return 1;
	if ((r = mfa_state_init(&st, p)) != 0) {
		err_msg("store path too long");
		pol_free(p);
		return 1;
	}
	if (user != NULL && pol_engineer_find(p, user) == NULL && mode != O_REMOVE &&
	    mode != O_UNLOCK)
		fprintf(stderr, "%s: warning: %s is not an engineer in %s\n", prog,
		    user, config);
	switch (mode) {
	case O_ACTIVATE:
		if ((r = activate(&st, p, user, code, 0)) == 0)
			printf("%s: secret activated\n", user);
		break;
	case O_REMOVE: r = clear(&st, user, 1); break;
	case O_UNLOCK: r = clear(&st, user, 0); break;
	case O_LIST: r = list(&st); break;
	case O_LOCKOUTS: r = lockouts(&st); break;
	default: r = enroll(&st, p, user, issuer, batch, reset); break;
	}
	mfa_state_fini(&st);
	pol_free(p);
	return r == 0 ? 0 : 1;
}
