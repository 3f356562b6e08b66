/* SPDX-License-Identifier: BSD-2-Clause */
/* Logging to syslog or stderr, and escaping of untrusted strings. */
#ifndef MG_LOG_H
#define MG_LOG_H

#include <stddef.h>
#include <syslog.h>

/*
 * Sets the program name and where messages go: syslog with facility, and
 * also stderr when to_stderr is set (programs run in the foreground).
 */
void mg_log_init(const char *ident, int facility, int to_stderr);
/* One message at a syslog priority (LOG_ERR...). LOG_DEBUG only when verbose. */
void mg_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mg_log_set_verbose(int verbose);

/*
 * Copies at most maxin bytes of in (a string from the network or an
 * engineer) into out, escaping control bytes, DEL, backslash, '"' and bytes
 * >= 0x80 as \xNN, and truncating with "..." so the result fits outsize.
 * Returns out.
 */
char *mg_str_escape(const char *in, size_t maxin, char *out, size_t outsize);

#endif
