/* SPDX-License-Identifier: BSD-2-Clause */
/* Test-only LD_PRELOAD library: syslog lines go to a file, for hosts without a syslog daemon. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

/*
 * The end-to-end tests run sshd with this preloaded so that pam_mspgate's
 * pam_syslog lines and mspgate's own can be read and asserted on. The file
 * is $MG_SYSLOG_FILE (appended, one line per message, with the pid).
 */
#define EXPORT __attribute__((visibility("default")))

/* Callers pass their own formats through: that is the point of a shim. */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

static void emit(int prio, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
emit(int prio, const char *fmt, va_list ap)
{
	const char *path = getenv("MG_SYSLOG_FILE");
	char line[4096];
	int fd, n, m;

	if (path == NULL)
		return;
	n = snprintf(line, sizeof(line), "[%d] <%d> ", (int)getpid(), prio & LOG_PRIMASK);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return;
	/* One write per line: lines from several processes do not mix. */
	if (write(fd, line, (size_t)n) < 0) {
		/* nowhere to report it */
	}
	close(fd);
}

EXPORT void openlog(const char *ident, int option, int facility);
EXPORT void closelog(void);
EXPORT void __vsyslog_chk(int prio, int flag, const char *fmt, va_list ap);
EXPORT void __syslog_chk(int prio, int flag, const char *fmt, ...);

EXPORT void
openlog(const char *ident, int option, int facility)
{
	(void)ident;
	(void)option;
	(void)facility;
}

EXPORT void
closelog(void)
{
}

EXPORT void
(vsyslog)(int prio, const char *fmt, va_list ap)
{
	emit(prio, fmt, ap);
}

EXPORT void
__vsyslog_chk(int prio, int flag, const char *fmt, va_list ap)
{
	(void)flag;
	emit(prio, fmt, ap);
}

EXPORT void
(syslog)(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(prio, fmt, ap);
	va_end(ap);
}

EXPORT void
__syslog_chk(int prio, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)flag;
	va_start(ap, fmt);
	emit(prio, fmt, ap);
	va_end(ap);
}
