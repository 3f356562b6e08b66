/* SPDX-License-Identifier: BSD-2-Clause */
/* Keys from the auditor's terminal while a recording plays: the terminal's answers are not keys. */
#ifndef REC_TTY_H
#define REC_TTY_H

struct rec_tty_keys;

/* Reads keys from fd (a terminal in non-canonical mode). Returns 0 or MG_ERR_NOMEM. */
int rec_tty_keys_new(int fd, struct rec_tty_keys **out);
void rec_tty_keys_free(struct rec_tty_keys *k);
/*
 * Waits up to ms milliseconds (-1: without end) for a key. Escape
 * sequences and strings (what a terminal answers to a query: DA, DSR,
 * title and version reports, DECRQSS) are read and dropped, so a space or
 * a 'q' inside an answer is never taken as a key. Returns the key, 0 when
 * none came in time, -1 at the end of input or on an error.
 */
int rec_tty_key(struct rec_tty_keys *k, int ms);
/* Tells what was written to the terminal, so that its status requests (DSR 5) are counted. */
void rec_tty_note_output(struct rec_tty_keys *k, const void *p, size_t n);
/*
 * Before the terminal is handed back: asks it for its status (DSR, CSI 5 n)
 * on outfd and drops what it sends until that answer (and the answers to
 * the requests noted before it), for at most ms.
 * Terminals answer in order, so every answer to what was played before has
 * then arrived and been dropped, and none is left for the next program that
 * reads the terminal. Returns 0 when the answer came, -1 otherwise.
 */
int rec_tty_drain(struct rec_tty_keys *k, int outfd, int ms);

#endif
