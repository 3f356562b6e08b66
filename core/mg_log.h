/* SPDX-License-Identifier: BSD-2-Clause */
/* Logging to syslog or stderr, and escaping of untrusted strings. */
#ifndef MG_LOG_H
#define MG_LOG_H

#include <stddef.h>
#include <syslog.h>

/*
 * Sets the program name and where messages go: syslog with facility, and
 * also stderr when to_stderr is set (programs run in the foreground).
 * Before it is called: ident "mspgate", syslog's default facility, no
 * stderr. ident is copied (at most 63 bytes).
 */
void mg_log_init(const char *ident, int facility, int to_stderr);
/*
 * One message at a syslog priority (LOG_ERR...). LOG_DEBUG only when verbose.
 * On stderr the line is "ident: message". A message is cut at 1023 bytes
 * (ending "..."), and any control byte left in it becomes '?', so a message
 * is always one line; strings from the network or an engineer still go
 * through mg_str_escape first. errno is preserved.
 */
void mg_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mg_log_set_verbose(int verbose);

/*
 * Copies at most maxin bytes of in (a string from the network or an
 * engineer) into out, escaping control bytes, DEL, backslash, '"' and bytes
 * >= 0x80 as \xNN, and truncating with "..." so the result fits outsize.
 * Returns out.
 *
 * Reading stops at a NUL or after maxin bytes (in need not be terminated);
 * a cut at maxin is not marked, since the byte after it is never read. The
 * output is always NUL-terminated when outsize > 0; an escape is never
 * split; when cut, "..." ends it ("." or ".." when outsize is 2 or 3).
 * in == NULL gives "".
 */
char *mg_str_escape(const char *in, size_t maxin, char *out, size_t outsize);

#endif
