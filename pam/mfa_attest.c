/* SPDX-License-Identifier: BSD-2-Clause */
/* Login attestations: the format, its one reader, the writer (root) and /proc lookups. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mg_err.h"
#include "mg_file.h"
#include "mg_util.h"
#include "pol.h"
#include "mfa_attest.h"
#include "mfa_factor.h"

#define MAGIC "mspgate-attestation"
#define VERSION "2"

void
mfa_attest_init(struct mfa_attest *a)
{
	memset(a, 0, sizeof(*a));
}

int
mfa_attest_set(struct mfa_attest *a, unsigned bit, const char *ev)
{
	size_t i;

	if (mfa_factor_find(bit, &i) == NULL)
		return MG_ERR_INVAL;
	if (strlen(ev) >= sizeof(a->evidence[i]))
		return MG_ERR_TOOBIG;
	snprintf(a->evidence[i], sizeof(a->evidence[i]), "%s", ev);
	a->mfa |= bit;
	return 0;
}

const char *
mfa_attest_evidence(const struct mfa_attest *a, unsigned bit)
{
	size_t i;

	if (!(a->mfa & bit) || mfa_factor_find(bit, &i) == NULL)
		return NULL;
	return a->evidence[i];
}

static int
name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > MFA_ATTEST_NAME_MAX || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' ||
		    s[i] == '-'))
			return 0;
	return 1;
}

/* A numeric IPv4 or IPv6 address as sshd prints it: hex digits, '.', ':'. */
static int
addr_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= sizeof(((struct mfa_attest *)0)->source))
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		    (s[i] >= 'A' && s[i] <= 'F') || s[i] == '.' || s[i] == ':'))
			return 0;
	return 1;
}

/*
 * Evidence the format can carry whatever the factor: printable, no ';'
 * (the PAM environment's line separator), no leading or trailing space.
 */
static int
evidence_text_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= MFA_EVIDENCE_MAX || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < ' ' || s[i] > '~' || s[i] == ';')
			return 0;
	return 1;
}

/*
 * The checks the reader makes on a whole record (also before writing one);
 * the name of the field at fault, else NULL. buf holds a name made up.
 */
static const char *
record_problem(const struct mfa_attest *a, char *buf, size_t len)
{
	const struct mfa_factor *f;
	const char *bad;
	size_t i;

	if (!name_ok(a->engineer))
		return "engineer";
	if (a->pid < 0)
		return "pid";
	if (a->source[0] != '\0' && !addr_ok(a->source))
		return "source";
	if (a->port < 0 || a->port > 65535)
		return "port";
	if (a->login < 0)
		return "login";
	if (a->mfa & ~POL_MFA_ALL)
		return "mfa";
	for (i = 0; i < MFA_ATTEST_FACTORS; i++) {
		if (i >= mfa_nfactors) {
			if (a->evidence[i][0] != '\0')
				return "evidence";
			continue;
		}
		f = &mfa_factors[i];
		/* The factors named must be the ones with evidence, both ways. */
		if (!!(a->mfa & f->bit) != (a->evidence[i][0] != '\0')) {
			snprintf(buf, len, "mfa (%s)", pol_mfa_name(f->bit));
			return buf;
		}
		if (a->evidence[i][0] == '\0')
			continue;
		if (!evidence_text_ok(a->evidence[i]))
			bad = "evidence";
		else if ((bad = f->evidence_check(a->evidence[i])) == NULL)
			continue;
		snprintf(buf, len, "%s %s", pol_mfa_name(f->bit), bad);
		return buf;
	}
	/* A bit of POL_MFA_ALL without a factor in the table: nothing verifies it. */
	for (i = 1; i <= POL_MFA_ALL; i <<= 1)
		if ((a->mfa & i) && mfa_factor_find((unsigned)i, NULL) == NULL)
			return "mfa";
	return NULL;
}

int
mfa_attest_format(const struct mfa_attest *a, char sep, char *buf, size_t len)
{
	char tmp[64];
	size_t i, o;
	int n;

	if (record_problem(a, tmp, sizeof(tmp)) != NULL)
		return MG_ERR_INVAL;
	n = snprintf(buf, len, MAGIC " " VERSION "%c" "engineer %s%c" "uid %lu%c"
	    "pid %ld%c" "start %llu%c" "login %lld%c" "source %s%c" "port %d%c"
	    "mfa %s%c",
	    sep, a->engineer, sep, (unsigned long)a->uid, sep, (long)a->pid, sep,
	    a->start, sep, (long long)a->login, sep,
	    a->source[0] ? a->source : "-", sep, a->port, sep,
	    a->mfa ? pol_mfa_name(a->mfa) : "none", sep);
	if (n < 0 || (size_t)n >= len)
		return MG_ERR_TOOBIG;
	o = (size_t)n;
	for (i = 0; i < mfa_nfactors; i++) {
		if (!(a->mfa & mfa_factors[i].bit))
			continue;
		n = snprintf(buf + o, len - o, "factor %s %s%c",
		    pol_mfa_name(mfa_factors[i].bit), a->evidence[i], sep);
		if (n < 0 || (size_t)n >= len - o)
			return MG_ERR_TOOBIG;
		o += (size_t)n;
	}
	return 0;
}

int
mfa_attest_num(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	/* One spelling per value: no sign but a minus, no leading zeros, no "-0". */
	if (s[0] == '\0' || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) ||
	    (s[0] == '0' && s[1] != '\0') || (s[0] == '-' && (s[1] < '1' || s[1] > '9')))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
unum(const char *s, unsigned long long *out)
{
	char *end;

	if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

static const char *const keys[] = {
	MAGIC, "engineer", "uid", "pid", "start", "login", "source", "port", "mfa",
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* One value into a; the name of the field when it is bad, else NULL. */
static const char *
set_field(struct mfa_attest *a, size_t k, const char *v)
{
	long long n;
	unsigned long long u;

	switch (k) {
	case 0:
		/* Version 1's fixed fido/totp_step fields are not read any more. */
		return strcmp(v, VERSION) == 0 ? NULL : "version (want " VERSION ")";
	case 1:
		if (!name_ok(v))
			return "engineer";
		snprintf(a->engineer, sizeof(a->engineer), "%s", v);
		return NULL;
	case 2:
		if (mfa_attest_num(v, 0, (long long)UINT32_MAX - 1, &n) != 0)
			return "uid";
		a->uid = (uid_t)n;
		return NULL;
	case 3:
		if (mfa_attest_num(v, 0, INT32_MAX, &n) != 0)
			return "pid";
		a->pid = (pid_t)n;
		return NULL;
	case 4:
		if (unum(v, &u) != 0)
			return "start";
		a->start = u;
		return NULL;
	case 5:
		if (mfa_attest_num(v, 0, INT64_MAX / 2, &n) != 0)
			return "login";
		a->login = (time_t)n;
		return NULL;
	case 6:
		if (strcmp(v, "-") == 0)
			return NULL;
		if (!addr_ok(v))
			return "source";
		snprintf(a->source, sizeof(a->source), "%s", v);
		return NULL;
	case 7:
		if (mfa_attest_num(v, 0, 65535, &n) != 0)
			return "port";
		a->port = (int)n;
		return NULL;
	case 8:
		if (strcmp(v, "none") == 0)
			a->mfa = 0;
		else if (pol_mfa_parse(v, &a->mfa) != 0 || a->mfa == 0 ||
		    strcmp(v, pol_mfa_name(a->mfa)) != 0)
			return "mfa";	/* one spelling per value */
		return NULL;
	}
	return "key";
}

/*
 * One "factor NAME EVIDENCE" line (v is what follows "factor ") into a;
 * *next is the index in mfa_factors the next line must come after. 0, or
 * -1 with err saying what is wrong on line ln.
 */
static int
set_factor(struct mfa_attest *a, size_t ln, char *v, size_t *next, char *err,
    size_t errlen)
{
	const struct mfa_factor *f;
	const char *bad;
	char *ev = strchr(v, ' ');
	unsigned bit = 0;
	size_t i;

	if (ev == NULL || ev == v || ev[1] == '\0') {
		mg_seterr(err, errlen, "line %zu: want 'factor NAME EVIDENCE'", ln);
		return -1;
	}
	*ev++ = '\0';
	/* One factor by its one spelling, with a line of its own. */
	if (pol_mfa_parse(v, &bit) != 0 || (bit & (bit - 1)) != 0 ||
	    strcmp(v, pol_mfa_name(bit)) != 0 || (f = mfa_factor_find(bit, &i)) == NULL) {
		mg_seterr(err, errlen, "line %zu: unknown factor", ln);
		return -1;
	}
	if (a->evidence[i][0] != '\0') {
		mg_seterr(err, errlen, "line %zu: factor %s twice", ln, pol_mfa_name(bit));
		return -1;
	}
	if (i < *next) {
		mg_seterr(err, errlen, "line %zu: factor %s out of order", ln,
		    pol_mfa_name(bit));
		return -1;
	}
	if (!(a->mfa & bit)) {
		mg_seterr(err, errlen, "line %zu: factor %s is not in mfa", ln,
		    pol_mfa_name(bit));
		return -1;
	}
	if (!evidence_text_ok(ev))
		bad = "evidence";
	else
		bad = f->evidence_check(ev);
	if (bad != NULL) {
		mg_seterr(err, errlen, "line %zu: bad %s %s", ln, pol_mfa_name(bit), bad);
		return -1;
	}
	snprintf(a->evidence[i], sizeof(a->evidence[i]), "%s", ev);
	*next = i + 1;
	return 0;
}

int
mfa_attest_parse(const char *buf, size_t len, char sep, struct mfa_attest *out,
    char *err, size_t errlen)
{
	struct mfa_attest a;
	const char *p = buf, *end = buf + len, *bad;
	char line[160], tmp[64];
	size_t k, next = 0, i;

	mfa_attest_init(out);
	mfa_attest_init(&a);
	if (len > MFA_ATTEST_MAX) {
		mg_seterr(err, errlen, "attestation longer than %d bytes", MFA_ATTEST_MAX);
		return MG_ERR_PARSE;
	}
	for (k = 0; p < end || k < NKEYS; k++) {
		const char *e = memchr(p, sep, (size_t)(end - p));
		size_t n, kl = strlen(k < NKEYS ? keys[k] : "factor");

		if (e == NULL && k < NKEYS) {
			mg_seterr(err, errlen, "line %zu: missing (want '%s')", k + 1, keys[k]);
			return MG_ERR_PARSE;
		}
		if (e == NULL) {
			mg_seterr(err, errlen, "line %zu: trailing data (no end of line)",
			    k + 1);
			return MG_ERR_PARSE;
		}
		n = (size_t)(e - p);
		if (n >= sizeof(line) || memchr(p, '\0', n) != NULL) {
			mg_seterr(err, errlen, "line %zu: too long or not text", k + 1);
			return MG_ERR_PARSE;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = e + 1;
		if (k >= NKEYS) {
			if (strncmp(line, "factor ", 7) != 0) {
				mg_seterr(err, errlen, "line %zu: trailing data (want "
				    "'factor NAME EVIDENCE')", k + 1);
				return MG_ERR_PARSE;
			}
			if (set_factor(&a, k + 1, line + 7, &next, err, errlen) != 0)
				return MG_ERR_PARSE;
			continue;
		}
		if (n <= kl + 1 || strncmp(line, keys[k], kl) != 0 || line[kl] != ' ') {
			mg_seterr(err, errlen, "line %zu: want '%s VALUE'", k + 1, keys[k]);
			return MG_ERR_PARSE;
		}
		if ((bad = set_field(&a, k, line + kl + 1)) != NULL) {
			mg_seterr(err, errlen, "line %zu: bad %s", k + 1, bad);
			return MG_ERR_PARSE;
		}
	}
	/* Every factor named in mfa has its line. */
	for (i = 0; i < mfa_nfactors; i++)
		if ((a.mfa & mfa_factors[i].bit) && a.evidence[i][0] == '\0') {
			mg_seterr(err, errlen, "line %zu: missing factor %s (mfa names it)",
			    k + 1, pol_mfa_name(mfa_factors[i].bit));
			return MG_ERR_PARSE;
		}
	if ((bad = record_problem(&a, tmp, sizeof(tmp))) != NULL) {
		mg_seterr(err, errlen, "inconsistent %s", bad);
		return MG_ERR_PARSE;
	}
	*out = a;
	return 0;
}

/* -------------------------------------------------------------------- */
/* The writer: root, inside sshd */

/* Opens dir (made if missing), which must be root's (or ours) and 0755 at most. */
static int
dir_open(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (dir[0] != '/') {
		mg_seterr(err, errlen, "attestation directory %s is not absolute", dir);
		return MG_ERR_INVAL;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 &&
	    errno == ENOENT) {
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			mg_seterr(err, errlen, "cannot make %s: %s", dir, strerror(errno));
			return MG_ERR_SYSTEM;
		}
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		mg_seterr(err, errlen, "%s: %s", dir, strerror(errno));
		return MG_ERR_SYSTEM;
	}
	/* Anyone else able to write here could forge a login. */
	if (fstat(fd, &st) != 0 || (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & 022) != 0) {
		close(fd);
		mg_seterr(err, errlen, "%s: must be root's and writable by root only", dir);
		return MG_ERR_PERM;
	}
	return fd;
}

int
mfa_attest_write(const char *dir, const struct mfa_attest *a, char *err, size_t errlen)
{
	char buf[MFA_ATTEST_MAX], name[32], tmp[48];
	int dfd, fd = -1, r, tries;
	size_t n;

	if ((r = mfa_attest_format(a, '\n', buf, sizeof(buf))) != 0) {
		mg_seterr(err, errlen, "attestation for %s: %s", a->engineer,
		    mg_strerror(r));
		return r;
	}
	n = strlen(buf);
	if ((dfd = dir_open(dir, err, errlen)) < 0)
		return dfd;
	snprintf(name, sizeof(name), "%ld", (long)a->pid);
	snprintf(tmp, sizeof(tmp), ".%ld.new", (long)a->pid);
	/* A temporary left by a crashed sshd of the same pid is ours to drop. */
	for (tries = 0; tries < 2 && fd < 0; tries++) {
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0644);
		if (fd < 0 && errno == EEXIST)
			(void)unlinkat(dfd, tmp, 0);
	}
	if (fd < 0) {
		mg_seterr(err, errlen, "%s/%s: %s", dir, tmp, strerror(errno));
		r = MG_ERR_SYSTEM;
		goto out;
	}
	if (fchmod(fd, 0644) != 0 || mg_write_full(fd, buf, n) != 0) {
		mg_seterr(err, errlen, "%s/%s: %s", dir, tmp, strerror(errno));
		r = errno == ENOSPC ? MG_ERR_IO : MG_ERR_SYSTEM;
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		mg_seterr(err, errlen, "%s/%s: %s", dir, tmp, strerror(errno));
		r = MG_ERR_IO;
		goto out;
	}
	fd = -1;
	/* Whole or not at all: the reader never sees half a record. */
	if (renameat(dfd, tmp, dfd, name) != 0) {
		mg_seterr(err, errlen, "%s/%s: %s", dir, name, strerror(errno));
		r = MG_ERR_SYSTEM;
		goto out;
	}
	r = 0;
 out:
	if (fd >= 0)
		close(fd);
	if (r != 0)
		(void)unlinkat(dfd, tmp, 0);
	close(dfd);
	return r;
}

static int
path_of(const char *dir, pid_t pid, char *path, size_t len)
{
	int n = snprintf(path, len, "%s/%ld", dir, (long)pid);

	return n < 0 || (size_t)n >= len ? MG_ERR_TOOBIG : 0;
}

int
mfa_attest_load(const char *dir, pid_t pid, struct mfa_attest *out, char *err,
    size_t errlen)
{
	struct mg_file_rules rules;
	char path[PATH_MAX], perr[256], *buf = NULL;
	size_t len = 0;
	int r;

	mfa_attest_init(out);
	if (pid <= 0 || path_of(dir, pid, path, sizeof(path)) != 0) {
		mg_seterr(err, errlen, "bad attestation path");
		return MG_ERR_INVAL;
	}
	memset(&rules, 0, sizeof(rules));
	rules.max_size = MFA_ATTEST_MAX;
	rules.forbid_mode = 022;
	/* Root's only, in root's directories: the whole point of the file. */
	rules.owner = 0;
	rules.owner_set = 1;
	rules.check_dirs = 1;
	if ((r = mg_file_read_safe(path, &rules, &buf, &len, err, errlen)) != 0)
		return r;
	r = mfa_attest_parse(buf, len, '\n', out, perr, sizeof(perr));
	if (r != 0)
		mg_seterr(err, errlen, "%s: %s", path, perr);
	else if (out->pid != pid) {
		mg_seterr(err, errlen, "%s: names pid %ld", path, (long)out->pid);
		mfa_attest_init(out);
		r = MG_ERR_PARSE;
	}
	free(buf);
	return r;
}

int
mfa_attest_remove(const char *dir, pid_t pid, unsigned long long start)
{
	struct mfa_attest a;
	char path[PATH_MAX], err[256];
	int r;

	if ((r = mfa_attest_load(dir, pid, &a, err, sizeof(err))) != 0)
		return r;
	/* Another session's (the pid was reused after a crash): not ours. */
	if (a.start != start)
		return MG_ERR_NOENT;
	if (path_of(dir, pid, path, sizeof(path)) != 0 || unlink(path) != 0)
		return MG_ERR_NOENT;
	return 0;
}

/* -------------------------------------------------------------------- */

int
mfa_proc_stat(pid_t pid, unsigned long long *start, pid_t *ppid)
{
	char path[64], buf[1024], *p, *f[20];
	unsigned long long st;
	long pp;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return MG_ERR_NOENT;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return MG_ERR_NOENT;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip to the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return MG_ERR_PARSE;
	p += 2;
	/* Fields 3 (state) to 22 (starttime). */
	for (i = 0; i < 20; i++) {
		f[i] = p;
		if ((p = strchr(p, ' ')) == NULL)
			return MG_ERR_PARSE;
		*p++ = '\0';
	}
	if (sscanf(f[1], "%ld", &pp) != 1 || sscanf(f[19], "%llu", &st) != 1)
		return MG_ERR_PARSE;
	if (start != NULL)
		*start = st;
	if (ppid != NULL)
		*ppid = (pid_t)pp;
	return 0;
}
