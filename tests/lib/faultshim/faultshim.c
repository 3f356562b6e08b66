/* SPDX-License-Identifier: BSD-2-Clause */
/* Test-only LD_PRELOAD library: spoils one message between mspgated and a session process. */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * tests/e2e/gw_child_faults.sh preloads this into mspgated; its session
 * processes are forks, so they have it too. Armed by a file,
 * $MG_FAULT_FILE, holding one line "TYPE MUTATION [ARG...]": the next
 * gw_child packet (gateway/gw_child.h: 'M' 'G' 1 TYPE, then TAG LEN16
 * VALUE fields) of TYPE sent on a SOCK_SEQPACKET socket, by whichever
 * process sends it, goes out changed:
 *   magic          the magic spoilt          version   an unknown version
 *   tag            the first field's tag an unknown one
 *   trunc          one byte short (the last field cut)
 *   poke TAG BYTE  the first byte of field TAG's value set to BYTE
 *   forge HEX      these bytes sent instead   dup       sent twice
 * Once: the process that fires renames the file to $MG_FAULT_FILE.fired
 * (atomic: one winner) and appends "pid PID" to it. Not armed, it only
 * passes packets on; it never exists outside the tests.
 */
#define EXPORT __attribute__((visibility("default")))

typedef ssize_t (*send_fn)(int, const void *, size_t, int);

EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags);

static int
is_child_msg(int fd, const unsigned char *b, size_t len)
{
	int type = 0;
	socklen_t tl = sizeof(type);

	if (len < 4 || b[0] != 'M' || b[1] != 'G' || b[2] != 1 || b[3] < 16 || b[3] > 47)
		return 0;
	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_SEQPACKET;
}

/* The armed fault for this type, claimed; 0 when none. */
static int
claim(int type, char *spec, size_t cap)
{
	const char *path = getenv("MG_FAULT_FILE");
	char fired[4200], line[64];
	ssize_t n;
	int fd;

	if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, spec, cap - 1);
	close(fd);
	if (n <= 0 || atoi(spec) != type)
		return 0;
	spec[n] = '\0';
	snprintf(fired, sizeof(fired), "%s.fired", path);
	if (rename(path, fired) != 0)
		return 0;	/* another process fired it */
	if ((fd = open(fired, O_WRONLY | O_APPEND | O_CLOEXEC)) >= 0) {
		n = snprintf(line, sizeof(line), "pid %d\n", (int)getpid());
		if (write(fd, line, (size_t)n) < 0) {
			/* the test then says the fault did not fire */
		}
		close(fd);
	}
	return 1;
}

/* The value of field tag in the packet, or NULL. */
static unsigned char *
field(unsigned char *b, size_t len, int tag)
{
	size_t i = 4, n;

	while (i + 3 <= len) {
		n = (size_t)b[i + 1] << 8 | b[i + 2];
		if (b[i] == tag && n > 0 && i + 3 + n <= len)
			return b + i + 3;
		i += 3 + n;
	}
	return NULL;
}

EXPORT ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
	static send_fn real;
	unsigned char b[65536 + 16], *v;
	char spec[4096], mut[16];
	size_t i, blen = len;
	int off = 0, tag, byte;
	ssize_t r;

	if (real == NULL)
		real = (send_fn)dlsym(RTLD_NEXT, "send");
	if (len > sizeof(b) || !is_child_msg(fd, buf, len) ||
	    !claim(((const unsigned char *)buf)[3], spec, sizeof(spec)))
		return real(fd, buf, len, flags);
	memcpy(b, buf, len);
	if (sscanf(spec, "%*d %15s %n", mut, &off) != 1)
		return real(fd, buf, len, flags);
	if (strcmp(mut, "magic") == 0)
		b[0] = 'X';
	else if (strcmp(mut, "version") == 0)
		b[2] = 0x7f;
	else if (strcmp(mut, "tag") == 0)
		b[4] = 0x7e;
	else if (strcmp(mut, "trunc") == 0)
		blen--;
	else if (strcmp(mut, "poke") == 0 && sscanf(spec + off, "%d %d", &tag, &byte) == 2 &&
	    (v = field(b, blen, tag)) != NULL)
		*v = (unsigned char)byte;
	else if (strcmp(mut, "forge") == 0) {
		for (i = 0; i < sizeof(b) && sscanf(spec + off + 2 * i, "%2hhx", &b[i]) == 1; i++)
			;
		blen = i;
	} else if (strcmp(mut, "dup") == 0) {
		if ((r = real(fd, buf, len, flags)) < 0)
			return r;
	}
	r = real(fd, b, blen, flags);
	/* The sender sees its own packet sent: the spoiling is the peer's problem. */
	return r == (ssize_t)blen ? (ssize_t)len : r;
}
