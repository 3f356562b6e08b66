/* SPDX-License-Identifier: BSD-2-Clause */
/* Logging to syslog and stderr, and escaping of untrusted strings. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "mg_log.h"

/* One line per message, as OpenSSH does; longer ones are cut and marked. */
#define MG_LOG_MSGMAX	1024
#define MG_LOG_IDENTMAX	64

/* openlog() keeps the pointer, so the name lives here, not with the caller. */
static char log_ident[MG_LOG_IDENTMAX] = "mspgate";
static int log_stderr;
static int log_verbose;

void
mg_log_init(const char *ident, int facility, int to_stderr)
{
	if (ident != NULL && *ident != '\0')
		snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_stderr = to_stderr != 0;
	closelog();
	openlog(log_ident, LOG_PID, facility);
}

void
mg_log_set_verbose(int verbose)
{
	log_verbose = verbose != 0;
}

void
mg_log(int prio, const char *fmt, ...)
{
	char msg[MG_LOG_MSGMAX];
	va_list ap;
	size_t i;
	int saved = errno, n;

	if (LOG_PRI(prio) == LOG_DEBUG && !log_verbose)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(msg, sizeof(msg), "(message could not be formatted)");
	else if ((size_t)n >= sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4);
	/*
	 * A newline or other control byte that slipped through unescaped
	 * must not let one message pose as several log lines.
	 */
	for (i = 0; msg[i] != '\0'; i++) {
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			msg[i] = '?';
	}
	/* Always through "%s": a message is never taken as a format. */
	syslog(prio, "%s", msg);
	if (log_stderr)
		fprintf(stderr, "%s: %s\n", log_ident, msg);
	errno = saved;
}

/* Bytes that leave as \xNN: anything a terminal or a log parser may act on. */
static int
needs_escape(unsigned char c)
{
	return c < 0x20 || c >= 0x7f || c == '\\' || c == '"';
}

char *
mg_str_escape(const char *in, size_t maxin, char *out, size_t outsize)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)in;
	size_t i, need = 0, o = 0, room, dots;

	if (out == NULL || outsize == 0)
		return out;
	if (in == NULL)
		maxin = 0;
	room = outsize - 1;
	/* First pass: does all of it fit? Stop counting as soon as not. */
	for (i = 0; i < maxin && s[i] != '\0' && need <= room; i++)
		need += needs_escape(s[i]) ? 4 : 1;
	if (need <= room) {
		dots = 0;
	} else {
		/* Truncated: keep whole escapes only, then as much "..." as fits. */
		dots = room < 3 ? room : 3;
		room -= dots;
	}
	for (i = 0; i < maxin && s[i] != '\0'; i++) {
		if (needs_escape(s[i])) {
			if (room - o < 4)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[s[i] >> 4];
			out[o++] = hex[s[i] & 0xf];
		} else {
			if (room - o < 1)
				break;
			out[o++] = (char)s[i];
		}
	}
	while (dots-- > 0)
		out[o++] = '.';
	out[o] = '\0';
	return out;
}
