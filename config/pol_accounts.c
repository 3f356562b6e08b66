/* SPDX-License-Identifier: BSD-2-Clause */
/* Gateway accounts for the policy's engineers, through useradd/usermod/userdel. */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <shadow.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mg_err.h"
#include "mg_file.h"
#include "mg_time.h"
#include "pol_accounts.h"

/* The mark useradd leaves in the comment field of accounts we create. */
#define GECOS	"mspgate engineer"
#define MAX_STATE	(1024 * 1024)

struct names {
	char **v;
	size_t n;
};

static void
names_free(struct names *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int
names_has(const struct names *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], name) == 0)
			return 1;
	return 0;
}

static int
names_add(struct names *s, const char *name)
{
	char **nv;

	if (names_has(s, name))
		return 0;
	if ((nv = reallocarray(s->v, s->n + 1, sizeof(*nv))) == NULL)
		return MG_ERR_NOMEM;
	s->v = nv;
	if ((nv[s->n] = strdup(name)) == NULL)
		return MG_ERR_NOMEM;
	s->n++;
	return 0;
}

static void
names_del(struct names *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (strcmp(s->v[i], name) == 0) {
			free(s->v[i]);
			s->v[i] = s->v[--s->n];
			return;
		}
	}
}

static int
state_read(const char *path, struct names *s)
{
	struct mg_file_rules r = { MAX_STATE, 022, 0, 0, 0 };
	char *buf = NULL, *line, *save = NULL, err[512];
	size_t len;
	int rc;

	rc = mg_file_read_safe(path, &r, &buf, &len, err, sizeof(err));
	if (rc == MG_ERR_NOENT)
		return 0;
	if (rc != 0) {
		fprintf(stderr, "mspgate-policy: %s\n", err);
		return rc;
	}
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if ((rc = names_add(s, line)) != 0)
			break;
	}
	free(buf);
	return rc;
}

/* Written after every change, so a crash never forgets an account we made. */
static int
state_write(const char *path, const struct names *s)
{
	char *buf = NULL, err[512], dir[PATH_MAX], *slash;
	size_t len = 0, i;
	FILE *f;
	int rc;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		(void)mkdir(dir, 0755);
	}
	if ((f = open_memstream(&buf, &len)) == NULL)
		return MG_ERR_NOMEM;
	fprintf(f, "# accounts created by mspgate-policy accounts sync\n");
	for (i = 0; i < s->n; i++)
		fprintf(f, "%s\n", s->v[i]);
	if (fclose(f) != 0) {
		free(buf);
		return MG_ERR_NOMEM;
	}
	rc = mg_file_replace(path, buf, len, 0644, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "mspgate-policy: %s\n", err);
	free(buf);
	return rc;
}

/* Runs a command from /usr/sbin with a clean environment; 0 when it exits 0. */
static int
run(char *const argv[], int dry_run)
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	int status, i;
	pid_t pid;

	if (dry_run) {
		printf("  would run:");
		for (i = 0; argv[i] != NULL; i++)
			printf(" %s", argv[i]);
		printf("\n");
		return 0;
	}
	fflush(stdout);
	if ((pid = fork()) < 0)
		return MG_ERR_SYSTEM;
	if (pid == 0) {
		execve(argv[0], argv, envp);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return MG_ERR_SYSTEM;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "mspgate-policy: %s failed (%s %d)\n", argv[0],
		    WIFEXITED(status) ? "exit" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return MG_ERR_SYSTEM;
	}
	return 0;
}

/* Locked accounts carry an expiry date in the past (day 1 of 1970). */
static int
is_locked(const char *name)
{
	struct spwd *sp = getspnam(name);

	return sp != NULL && sp->sp_expire >= 0 && sp->sp_expire <= 1;
}

static int
valid_now(const struct pol_engineer *e, time_t now)
{
	return !(e->valid_from && now < e->valid_from) &&
	    !(e->valid_until && now >= e->valid_until);
}

int
pol_accounts_sync(const struct pol *p, const struct pol_accounts_opts *o,
    struct pol_accounts_result *res)
{
	struct names state = { NULL, 0 };
	char state_path[PATH_MAX], shell[PATH_MAX + 8];
	time_t now = mg_clock_now();
	int rc = 0, r;
	size_t i;

	memset(res, 0, sizeof(*res));
	if (o->state_file != NULL)
		snprintf(state_path, sizeof(state_path), "%s", o->state_file);
	else if ((size_t)snprintf(state_path, sizeof(state_path), "%s/accounts",
	    p->gateway.state) >= sizeof(state_path))
		return MG_ERR_INVAL;
	if (o->shell == NULL || o->shell[0] != '/')
		return MG_ERR_INVAL;
	if ((r = state_read(state_path, &state)) != 0)
		return r;

	for (i = 0; i < p->nengineers; i++) {
		const struct pol_engineer *e = &p->engineers[i];
		struct passwd *pw = getpwnam(e->name);
		int active = valid_now(e, now);

		if (pw == NULL) {
			char *argv[16];
			int a = 0;

			if (!active) {
				res->unchanged++;
				continue;
			}
			argv[a++] = "/usr/sbin/useradd";
			argv[a++] = "--create-home";
			if (o->home_base != NULL) {
				argv[a++] = "--base-dir";
				argv[a++] = (char *)o->home_base;
			}
			argv[a++] = "--shell";
			argv[a++] = (char *)o->shell;
			argv[a++] = "--comment";
			argv[a++] = GECOS;
			argv[a++] = "--user-group";
			argv[a++] = "--key";
			argv[a++] = "UMASK=077";
			argv[a++] = e->name;
			argv[a] = NULL;
			/* Noted before it exists: a crash leaves it ours, not foreign. */
			if (!o->dry_run && (names_add(&state, e->name) != 0 ||
			    state_write(state_path, &state) != 0)) {
				rc = MG_ERR_SYSTEM;
				break;
			}
			printf("create %s\n", e->name);
			if (run(argv, o->dry_run) != 0) {
				res->failed++;
				if (!o->dry_run && getpwnam(e->name) == NULL) {
					names_del(&state, e->name);
					(void)state_write(state_path, &state);
				}
				continue;
			}
			res->created++;
			continue;
		}
		if (!names_has(&state, e->name)) {
			/* Never take over an account someone else made. */
			fprintf(stderr, "mspgate-policy: account %s exists and was not "
			    "created by mspgate: left alone\n", e->name);
			res->conflicts++;
			continue;
		}
		snprintf(shell, sizeof(shell), "%s", pw->pw_shell);
		if (active && (is_locked(e->name) || strcmp(shell, o->shell) != 0)) {
			char *argv[] = { "/usr/sbin/usermod", "--expiredate", "",
			    "--shell", (char *)o->shell, e->name, NULL };

			printf("unlock %s\n", e->name);
			if (run(argv, o->dry_run) != 0)
				res->failed++;
			else
				res->unlocked++;
		} else if (!active && !is_locked(e->name)) {
			char *argv[] = { "/usr/sbin/usermod", "--expiredate", "1",
			    e->name, NULL };

			printf("lock %s (not valid now)\n", e->name);
			if (run(argv, o->dry_run) != 0)
				res->failed++;
			else
				res->locked++;
		} else {
			res->unchanged++;
		}
	}
	/* Ours, but gone from the policy: remove them. */
	for (i = 0; rc == 0 && i < state.n; ) {
		const char *name = state.v[i];
		char *argv[] = { "/usr/sbin/userdel", "--remove", (char *)name, NULL };

		if (pol_engineer_find(p, name) != NULL) {
			i++;
			continue;
		}
		if (getpwnam(name) != NULL) {
			printf("remove %s\n", name);
			if (run(argv, o->dry_run) != 0) {
				res->failed++;
				i++;
				continue;
			}
			res->removed++;
		}
		if (o->dry_run) {
			i++;
			continue;
		}
		names_del(&state, name);
		if (state_write(state_path, &state) != 0)
			rc = MG_ERR_SYSTEM;
	}
	names_free(&state);
	if (rc == 0 && res->failed)
		rc = MG_ERR_SYSTEM;
	if (rc == 0 && res->conflicts)
		rc = MG_ERR_EXISTS;
	return rc;
}
