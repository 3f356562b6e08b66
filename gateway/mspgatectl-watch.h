/* SPDX-License-Identifier: BSD-2-Clause */
/* mspgatectl watch: a live session, read-only, in the operator's terminal. */
#ifndef MSPGATECTL_WATCH_H
#define MSPGATECTL_WATCH_H

/*
 * Asks mspgated on the control socket sock for session id's recording (an
 * open file it hands over), shows everything recorded so far (the screen
 * redrawn), then follows the file as the session writes it, through the
 * same filter as mspgate-replay play: nothing the target printed can act
 * on this terminal. Ends on q, Ctrl-C or the session's end; the terminal
 * is restored. Returns mspgatectl's exit code.
 */
int ctl_watch(const char *sock, const char *id);
/*
 * Connects to the control socket at path: EX_OK (0) and *fd, or an exit
 * code (2 usage, 3 not running or not allowed: *denied set when given),
 * with the reason on stderr.
 */
int ctl_connect(const char *path, int *fd, int *denied);

#endif
