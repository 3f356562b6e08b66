/* SPDX-License-Identifier: BSD-2-Clause */
/* Diagnostics: a list of human-readable "FILE:LINE: message" errors. */
#ifndef MG_DIAG_H
#define MG_DIAG_H

#include <stddef.h>

struct mg_diag;

/* Allocates an empty list; NULL on allocation failure. */
struct mg_diag *mg_diag_new(void);
/* Frees the list and its messages; NULL is allowed. */
void mg_diag_free(struct mg_diag *d);

/*
 * Appends one message. d may be NULL (the message is dropped). file may be
 * NULL and line 0 when there is no position. The message is formatted as
 * "FILE:LINE: text", "FILE: text" or "text". Allocation failure is recorded
 * and reported by mg_diag_count() as one extra message.
 */
void mg_diag_add(struct mg_diag *d, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

size_t mg_diag_count(const struct mg_diag *d);
/* The i-th message (owned by d), or NULL when i is out of range. */
const char *mg_diag_get(const struct mg_diag *d, size_t i);
/* Removes every message. */
void mg_diag_clear(struct mg_diag *d);

#endif
