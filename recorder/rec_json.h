/* SPDX-License-Identifier: BSD-2-Clause */
/* A small strict JSON parser for recording and audit-log lines. */
#ifndef REC_JSON_H
#define REC_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "rec_buf.h"

enum rec_json_type {
	REC_JSON_NULL, REC_JSON_FALSE, REC_JSON_TRUE, REC_JSON_NUM,
	REC_JSON_STR, REC_JSON_ARR, REC_JSON_OBJ,
};

/* One value. Children of arrays and objects are linked by index. */
struct rec_jnode {
	uint8_t type;
	uint32_t child;		/* first child, 0 when none (0 is the root) */
	uint32_t next;		/* next sibling, 0 when none */
	uint32_t count;		/* children */
	uint32_t key_off, key_len;	/* object members: key in the string pool */
	uint32_t str_off, str_len;	/* strings: decoded bytes in the pool */
	double num;
};

/*
 * A parsed document. Zero it before first use; rec_json_parse() may be
 * called again on the same struct (memory is reused); rec_json_free() at the end.
 */
struct rec_json {
	struct rec_jnode *n;
	size_t nn, ncap;
	struct rec_buf pool;	/* decoded strings, each NUL-terminated */
	size_t err_off;		/* byte offset of the first error */
	const char *err;	/* static message */
};

/*
 * Parses exactly one JSON value (RFC 8259) filling all of text[0..len):
 * strict UTF-8, no duplicate object keys, depth at most 32. Returns 0 or
 * MG_ERR_PARSE (err and err_off say what and where) or MG_ERR_NOMEM.
 */
int rec_json_parse(struct rec_json *j, const char *text, size_t len);
void rec_json_free(struct rec_json *j);

/* Member of object node obj named key, or -1. */
long rec_json_get(const struct rec_json *j, size_t obj, const char *key);
/* The i-th child of an array, or -1. */
long rec_json_at(const struct rec_json *j, size_t arr, size_t i);
/* String value of node (NUL-terminated, may contain NULs: see len), or NULL if not a string. */
const char *rec_json_str(const struct rec_json *j, long node, size_t *len);
/* A member that must be a string: NULL when missing or not a string. */
const char *rec_json_get_str(const struct rec_json *j, size_t obj, const char *key);
/* A member that must be a number: 0 and *v, or -1. */
int rec_json_get_num(const struct rec_json *j, size_t obj, const char *key, double *v);
/* Key of an object member node. */
const char *rec_json_key(const struct rec_json *j, size_t node);

#endif
