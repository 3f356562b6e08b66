/* SPDX-License-Identifier: BSD-2-Clause */
/* Login attestations: what pam_mspgate verified at login, written by root for mspgated. */
#ifndef MFA_ATTEST_H
#define MFA_ATTEST_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/*
 * One successful login as the module saw it. The attestation file
 * <dir>/<pid> is written by pam_mspgate's session stage inside the sshd
 * session process (the root-owned "[priv]" process of the connection) and
 * removed when that session closes; mspgated trusts nothing else about a
 * login (DESIGN invariant 9).
 *
 * Text, one "key value" line each, in this order, each exactly once:
 *   mspgate-attestation 2
 *   engineer NAME        the PAM user (1-64 bytes of [A-Za-z0-9._-])
 *   uid N                its uid at login
 *   pid N                the session process the file belongs to (0: not yet)
 *   start N              that process's start time (/proc/PID/stat field
 *                        22, clock ticks since boot): a reused pid differs
 *   login N              when the factors were verified (Unix time)
 *   source ADDR          the numeric peer address sshd saw ("-": local)
 *   port N               the peer port (0: unknown)
 *   mfa M                the factors verified as the policy spells them
 *                        (pol_mfa_name: "fido", "fido+totp"...), or "none"
 * then one line for each factor named in "mfa", in the order of
 * mfa_factors (pam/mfa_factor.c), each once:
 *   factor NAME EVIDENCE what the factor verified, in the factor's own
 *                        format (pam/mfa_NAME.h), e.g. "factor fido FP
 *                        UNTIL", "factor totp STEP"
 * A factor line for a factor not in "mfa", or a factor in "mfa" without
 * its line, is refused; so is version 1 (fixed fido, fido_until and
 * totp_step lines). The same text with ';' for newlines carries the auth
 * stage's findings to the session stage (the PAM environment: sshd
 * authenticates in a child process).
 */
#define MFA_ATTEST_MAX		2048	/* bytes: a larger file is refused */
#define MFA_ATTEST_NAME_MAX	64
#define MFA_ATTEST_FACTORS	8	/* room for this many entries of mfa_factors */
#define MFA_EVIDENCE_MAX	96	/* bytes of a factor's evidence, with the NUL */

struct mfa_attest {
	char engineer[MFA_ATTEST_NAME_MAX + 1];
	uid_t uid;
	pid_t pid;
	unsigned long long start;
	time_t login;
	char source[64];	/* "": none */
	int port;
	unsigned mfa;		/* POL_MFA_* that the module verified */
	/* Each verified factor's evidence, by its index in mfa_factors; "": none. */
	char evidence[MFA_ATTEST_FACTORS][MFA_EVIDENCE_MAX];
};

/* An empty record: no factors. */
void mfa_attest_init(struct mfa_attest *a);
/*
 * Records factor bit (one POL_MFA_*) as verified with evidence ev (checked
 * by the writer and the reader, not here). 0, or MG_ERR_INVAL (no such
 * factor), MG_ERR_TOOBIG.
 */
int mfa_attest_set(struct mfa_attest *a, unsigned bit, const char *ev);
/* The evidence of factor bit, or NULL when a does not name it. */
const char *mfa_attest_evidence(const struct mfa_attest *a, unsigned bit);
/*
 * A decimal in [min, max] in its one spelling (no '+', no leading zeros,
 * no "-0"), for the factors' evidence parsers. 0, or -1.
 */
int mfa_attest_num(const char *s, long long min, long long max, long long *out);
/*
 * Writes a as text into buf, lines ended by sep ('\n' for the file, ';'
 * for the PAM environment). Returns 0, MG_ERR_INVAL (a field the reader
 * would refuse), MG_ERR_TOOBIG.
 */
int mfa_attest_format(const struct mfa_attest *a, char sep, char *buf, size_t len);
/*
 * The reader: parses len bytes (no NUL needed) strictly (every key once,
 * in order, bounded values, consistent mfa, each factor's evidence as its
 * evidence_check wants). Returns 0, or MG_ERR_PARSE
 * with err naming the line and field. *out is cleared on error.
 */
int mfa_attest_parse(const char *buf, size_t len, char sep, struct mfa_attest *out,
    char *err, size_t errlen);

/*
 * Writes a as <dir>/<a->pid> (mode 0644, root's), replacing any stale one:
 * a temporary made O_EXCL, then renamed. dir is made (0755) if missing; it
 * and its parents must be root's and not writable by others. No sync: the
 * file lives as long as the session, and a reboot ends both. Returns 0 or
 * an MG_ERR_*, err says what.
 */
int mfa_attest_write(const char *dir, const struct mfa_attest *a, char *err,
    size_t errlen);
/* Removes <dir>/<pid> when it is that process's (start); 0 or MG_ERR_NOENT. */
int mfa_attest_remove(const char *dir, pid_t pid, unsigned long long start);
/*
 * Loads <dir>/<pid>: root's, not writable by others, in root's
 * directories, at most MFA_ATTEST_MAX. MG_ERR_NOENT when there is none.
 */
int mfa_attest_load(const char *dir, pid_t pid, struct mfa_attest *out,
    char *err, size_t errlen);

/*
 * The start time of process pid (/proc/PID/stat field 22) and its parent
 * (field 4; either may be NULL). 0, MG_ERR_NOENT (gone), MG_ERR_PARSE.
 */
int mfa_proc_stat(pid_t pid, unsigned long long *start, pid_t *ppid);

#endif
