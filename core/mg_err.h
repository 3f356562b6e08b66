/* SPDX-License-Identifier: BSD-2-Clause */
/* Error codes shared by every mspgate library function. */
#ifndef MG_ERR_H
#define MG_ERR_H

/* Library functions return 0 on success or one of these (negative). */
enum mg_err {
	MG_OK = 0,
	MG_ERR_INTERNAL = -1,	/* a bug: should not happen */
	MG_ERR_NOMEM = -2,	/* allocation failed */
	MG_ERR_INVAL = -3,	/* bad argument or malformed value */
	MG_ERR_SYSTEM = -4,	/* a system call failed; errno kept */
	MG_ERR_NOENT = -5,	/* file or object does not exist */
	MG_ERR_PERM = -6,	/* unsafe owner, mode or path */
	MG_ERR_TOOBIG = -7,	/* size bound exceeded */
	MG_ERR_PARSE = -8,	/* syntax error in a file or string */
	MG_ERR_POLICY = -9,	/* policy file invalid (see diagnostics) */
	MG_ERR_RANGE = -10,	/* value out of range */
	MG_ERR_DENIED = -11,	/* access denied by policy */
	MG_ERR_IO = -12,	/* read or write error (disk full, EIO) */
	MG_ERR_CRYPTO = -13,	/* cryptographic operation failed */
	MG_ERR_VERIFY = -14,	/* integrity check failed */
	MG_ERR_BUSY = -15,	/* lock held by another process */
	MG_ERR_EXISTS = -16,	/* object already exists */
	MG_ERR_UNAVAIL = -17,	/* a service (the state database) cannot be reached in time */
};

/* A short, static description of an MG_ERR_* code. Never NULL. */
const char *mg_strerror(int err);

#endif
