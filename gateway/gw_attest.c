/* SPDX-License-Identifier: BSD-2-Clause */
/* The attested login behind a peer: from its pid up to the sshd session that owns it. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gw_attest.h"
#include "mg_err.h"

/* How many processes may sit between mspgate-shell and sshd's monitor. */
#define WALK_MAX 16

unsigned long long
gw_attest_ticks_now(void)
{
	struct timespec ts;
	long hz = sysconf(_SC_CLK_TCK);

	if (hz <= 0)
		hz = 100;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (unsigned long long)ts.tv_sec * (unsigned long long)hz +
	    (unsigned long long)ts.tv_nsec / (1000000000ULL / (unsigned long long)hz);
}

/* The real, effective, saved and filesystem uids of pid. 0 or -1. */
static int
proc_uids(pid_t pid, unsigned long u[4])
{
	char path[64], buf[4096], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strstr(buf, "\nUid:")) == NULL ||
	    sscanf(p + 5, "%lu %lu %lu %lu", &u[0], &u[1], &u[2], &u[3]) != 4)
		return -1;
	return 0;
}

int
gw_attest_find(const char *dir, pid_t peer, uid_t uid, const char *engineer,
    unsigned long long accepted_ticks, struct mfa_attest *out, char *why,
    size_t whylen)
{
	unsigned long long start;
	unsigned long u[4];
	char err[512];
	pid_t pid = peer, ppid;
	int depth, r;

	mfa_attest_init(out);
	if (dir == NULL || peer <= 1) {
		snprintf(why, whylen, "no peer process");
		return MG_ERR_DENIED;
	}
	if (mfa_proc_stat(peer, &start, NULL) != 0 || start > accepted_ticks) {
		snprintf(why, whylen, "the connecting process %ld is gone", (long)peer);
		return MG_ERR_DENIED;
	}
	for (depth = 0; depth < WALK_MAX; depth++) {
		if (mfa_proc_stat(pid, &start, &ppid) != 0 || proc_uids(pid, u) != 0) {
			snprintf(why, whylen, "process %ld (an ancestor of %ld) is gone",
			    (long)pid, (long)peer);
			return MG_ERR_DENIED;
		}
		if (u[0] == uid && u[1] == uid && u[2] == uid && u[3] == uid) {
			/* The engineer's own process: its session is further up. */
			if (ppid <= 1)
				break;
			pid = ppid;
			continue;
		}
		if (u[0] != 0 || u[1] != 0) {
			snprintf(why, whylen, "process %ld between the peer and its session "
			    "runs as uid %lu", (long)pid, u[1]);
			return MG_ERR_DENIED;
		}
		/* The first root process up the tree: the session, or nothing. */
		r = mfa_attest_load(dir, pid, out, err, sizeof(err));
		if (r == MG_ERR_NOENT) {
			snprintf(why, whylen, "no attestation for session process %ld "
			    "(not an sshd login through pam_mspgate)", (long)pid);
			return MG_ERR_DENIED;
		}
		if (r != 0) {
			snprintf(why, whylen, "attestation unusable: %s", err);
			mfa_attest_init(out);
			return MG_ERR_DENIED;
		}
		if (out->start != start) {
			snprintf(why, whylen, "the attestation for pid %ld is stale (another "
			    "process had that pid)", (long)pid);
			mfa_attest_init(out);
			return MG_ERR_DENIED;
		}
		if (out->uid != uid || strcmp(out->engineer, engineer) != 0) {
			snprintf(why, whylen, "the session process %ld attests %s (uid %lu), "
			    "not the peer's uid %lu", (long)pid, out->engineer,
			    (unsigned long)out->uid, (unsigned long)uid);
			mfa_attest_init(out);
			return MG_ERR_DENIED;
		}
		return 0;
	}
	snprintf(why, whylen, "process %ld runs in no login session", (long)peer);
	return MG_ERR_DENIED;
}
