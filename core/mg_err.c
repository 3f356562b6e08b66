/* SPDX-License-Identifier: BSD-2-Clause */
/* Names for the MG_ERR_* codes. */
#include "mg_err.h"

const char *
mg_strerror(int err)
{
	switch (err) {
	case MG_OK:		return "success";
	case MG_ERR_INTERNAL:	return "internal error";
	case MG_ERR_NOMEM:	return "out of memory";
	case MG_ERR_INVAL:	return "invalid argument";
	case MG_ERR_SYSTEM:	return "system error";
	case MG_ERR_NOENT:	return "no such file or object";
	case MG_ERR_PERM:	return "unsafe owner, mode or path";
	case MG_ERR_TOOBIG:	return "size limit exceeded";
	case MG_ERR_PARSE:	return "syntax error";
	case MG_ERR_POLICY:	return "invalid policy";
	case MG_ERR_RANGE:	return "value out of range";
	case MG_ERR_DENIED:	return "access denied";
	case MG_ERR_IO:		return "input/output error";
	case MG_ERR_CRYPTO:	return "cryptographic error";
	case MG_ERR_VERIFY:	return "integrity check failed";
	case MG_ERR_BUSY:	return "resource busy";
	case MG_ERR_EXISTS:	return "already exists";
	case MG_ERR_UNAVAIL:	return "service unavailable";
	}
	return "unknown error";
}
