/* SPDX-License-Identifier: BSD-2-Clause */
/* A small strict JSON parser for recording and audit-log lines. */
#include <stdlib.h>
#include <string.h>

#include "mg_err.h"
#include "rec_json.h"

#define JSON_MAX_DEPTH 32
#define JSON_MAX_NODES 100000

struct pstate {
	struct rec_json *j;
	const uint8_t *s;
	size_t len, pos;
	int depth;
};

static int
perr(struct pstate *p, const char *msg)
{
	if (p->j->err == NULL) {
		p->j->err = msg;
		p->j->err_off = p->pos;
	}
	return MG_ERR_PARSE;
}

static void
skip_ws(struct pstate *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
	    p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static int
new_node(struct pstate *p, uint8_t type, size_t *idx)
{
	struct rec_json *j = p->j;

	if (j->nn >= JSON_MAX_NODES)
		return perr(p, "too many values");
	if (j->nn == j->ncap) {
		size_t cap = j->ncap ? j->ncap * 2 : 16;
		struct rec_jnode *nn = realloc(j->n, cap * sizeof(*nn));

		if (nn == NULL)
			return MG_ERR_NOMEM;
		j->n = nn;
		j->ncap = cap;
	}
	memset(&j->n[j->nn], 0, sizeof(j->n[0]));
	j->n[j->nn].type = type;
	*idx = j->nn++;
	return 0;
}

static int
hex4(struct pstate *p, uint32_t *v)
{
	size_t i;

	*v = 0;
	if (p->len - p->pos < 4)
		return perr(p, "short \\u escape");
	for (i = 0; i < 4; i++) {
		int c = p->s[p->pos + i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return perr(p, "bad \\u escape");
		*v = *v << 4 | (uint32_t)d;
	}
	p->pos += 4;
	return 0;
}

static int
put_utf8(struct rec_buf *b, uint32_t cp)
{
	uint8_t u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (uint8_t)(0xc0 | cp >> 6);
		u[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (uint8_t)(0xe0 | cp >> 12);
		u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (uint8_t)(0xf0 | cp >> 18);
		u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return rec_buf_add(b, u, n);
}

/* Parses a string at p->pos (the opening quote) into the pool. */
static int
parse_string(struct pstate *p, uint32_t *off, uint32_t *slen)
{
	struct rec_buf *b = &p->j->pool;
	size_t start = b->len;
	int r;

	p->pos++;
	for (;;) {
		size_t run = p->pos;

		/* Copy a run of plain bytes at once. */
		while (run < p->len && p->s[run] != '"' && p->s[run] != '\\' &&
		    p->s[run] >= 0x20)
			run++;
		if (run > p->pos) {
			size_t v = rec_utf8_valid_len(p->s + p->pos, run - p->pos);

			if (v != run - p->pos) {
				p->pos += v;
				return perr(p, "invalid UTF-8 in string");
			}
			if ((r = rec_buf_add(b, p->s + p->pos, run - p->pos)) != 0)
				return r;
			p->pos = run;
		}
		if (p->pos >= p->len)
			return perr(p, "unterminated string");
		if (p->s[p->pos] == '"') {
			p->pos++;
			break;
		}
		if (p->s[p->pos] < 0x20)
			return perr(p, "control character in string");
		/* Backslash escape. */
		p->pos++;
		if (p->pos >= p->len)
			return perr(p, "unterminated string");
		switch (p->s[p->pos++]) {
		case '"': r = rec_buf_addc(b, '"'); break;
		case '\\': r = rec_buf_addc(b, '\\'); break;
		case '/': r = rec_buf_addc(b, '/'); break;
		case 'b': r = rec_buf_addc(b, '\b'); break;
		case 'f': r = rec_buf_addc(b, '\f'); break;
		case 'n': r = rec_buf_addc(b, '\n'); break;
		case 'r': r = rec_buf_addc(b, '\r'); break;
		case 't': r = rec_buf_addc(b, '\t'); break;
		case 'u': {
			uint32_t cp, lo;

			if ((r = hex4(p, &cp)) != 0)
				return r;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return perr(p, "lone low surrogate");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (p->len - p->pos < 2 || p->s[p->pos] != '\\' ||
				    p->s[p->pos + 1] != 'u')
					return perr(p, "lone high surrogate");
				p->pos += 2;
				if ((r = hex4(p, &lo)) != 0)
					return r;
				if (lo < 0xdc00 || lo > 0xdfff)
					return perr(p, "bad surrogate pair");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			r = put_utf8(b, cp);
			break;
		}
		default:
			p->pos--;
			return perr(p, "bad escape");
		}
		if (r != 0)
			return r;
	}
	if (b->len - start > UINT32_MAX || start > UINT32_MAX)
		return perr(p, "string too long");
	*off = (uint32_t)start;
	*slen = (uint32_t)(b->len - start);
	return rec_buf_addc(b, '\0');
}

static int
parse_number(struct pstate *p, double *v)
{
	size_t st = p->pos;
	char tmp[64];

	if (p->pos < p->len && p->s[p->pos] == '-')
		p->pos++;
	if (p->pos >= p->len)
		return perr(p, "bad number");
	if (p->s[p->pos] == '0')
		p->pos++;
	else if (p->s[p->pos] >= '1' && p->s[p->pos] <= '9') {
		while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
			p->pos++;
	} else
		return perr(p, "bad number");
	if (p->pos < p->len && p->s[p->pos] == '.') {
		p->pos++;
		if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
			return perr(p, "bad number");
		while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
			p->pos++;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
			return perr(p, "bad number");
		while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
			p->pos++;
	}
	if (p->pos - st >= sizeof(tmp))
		return perr(p, "number too long");
	memcpy(tmp, p->s + st, p->pos - st);
	tmp[p->pos - st] = '\0';
	*v = strtod(tmp, NULL);
	return 0;
}

static int
lit(struct pstate *p, const char *w)
{
	size_t n = strlen(w);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, w, n) != 0)
		return perr(p, "unexpected character");
	p->pos += n;
	return 0;
}

static int parse_value(struct pstate *p, size_t *idx);

static int
parse_container(struct pstate *p, size_t idx, int obj)
{
	uint32_t last = 0;
	int r;

	if (++p->depth > JSON_MAX_DEPTH)
		return perr(p, "nested too deeply");
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == (obj ? '}' : ']')) {
		p->pos++;
		p->depth--;
		return 0;
	}
	for (;;) {
		uint32_t koff = 0, klen = 0;
		size_t c;

		skip_ws(p);
		if (obj) {
			uint32_t k;

			if (p->pos >= p->len || p->s[p->pos] != '"')
				return perr(p, "expected a key");
			if ((r = parse_string(p, &koff, &klen)) != 0)
				return r;
			/* Duplicate keys would let two readers see two values. */
			for (k = p->j->n[idx].child; k != 0; k = p->j->n[k].next) {
				if (p->j->n[k].key_len == klen &&
				    memcmp(p->j->pool.p + p->j->n[k].key_off,
				    p->j->pool.p + koff, klen) == 0)
					return perr(p, "duplicate key");
			}
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':')
				return perr(p, "expected ':'");
			p->pos++;
			skip_ws(p);
		}
		if ((r = parse_value(p, &c)) != 0)
			return r;
		p->j->n[c].key_off = koff;
		p->j->n[c].key_len = klen;
		if (last == 0)
			p->j->n[idx].child = (uint32_t)c;
		else
			p->j->n[last].next = (uint32_t)c;
		last = (uint32_t)c;
		p->j->n[idx].count++;
		skip_ws(p);
		if (p->pos >= p->len)
			return perr(p, "unexpected end");
		if (p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->s[p->pos] == (obj ? '}' : ']')) {
			p->pos++;
			break;
		}
		return perr(p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
	p->depth--;
	return 0;
}

static int
parse_value(struct pstate *p, size_t *idx)
{
	int r;
	uint8_t c;

	skip_ws(p);
	if (p->pos >= p->len)
		return perr(p, "unexpected end");
	c = p->s[p->pos];
	switch (c) {
	case '{':
	case '[':
		if ((r = new_node(p, c == '{' ? REC_JSON_OBJ : REC_JSON_ARR, idx)) != 0)
			return r;
		return parse_container(p, *idx, c == '{');
	case '"':
		if ((r = new_node(p, REC_JSON_STR, idx)) != 0)
			return r;
		{
			uint32_t off, sl;

			if ((r = parse_string(p, &off, &sl)) != 0)
				return r;
			p->j->n[*idx].str_off = off;
			p->j->n[*idx].str_len = sl;
		}
		return 0;
	case 't':
		if ((r = new_node(p, REC_JSON_TRUE, idx)) != 0)
			return r;
		return lit(p, "true");
	case 'f':
		if ((r = new_node(p, REC_JSON_FALSE, idx)) != 0)
			return r;
		return lit(p, "false");
	case 'n':
		if ((r = new_node(p, REC_JSON_NULL, idx)) != 0)
			return r;
		return lit(p, "null");
	default:
		if (c == '-' || (c >= '0' && c <= '9')) {
			double v;

			if ((r = new_node(p, REC_JSON_NUM, idx)) != 0)
				return r;
			if ((r = parse_number(p, &v)) != 0)
				return r;
			p->j->n[*idx].num = v;
			return 0;
		}
		return perr(p, "unexpected character");
	}
}

int
rec_json_parse(struct rec_json *j, const char *text, size_t len)
{
	struct pstate p = { j, (const uint8_t *)text, len, 0, 0 };
	size_t root;
	int r;

	j->nn = 0;
	rec_buf_reset(&j->pool);
	j->err = NULL;
	j->err_off = 0;
	/* Offset 0 of the pool is reserved so that 0 can mean "no key". */
	if ((r = rec_buf_addc(&j->pool, '\0')) != 0)
		return r;
	if ((r = parse_value(&p, &root)) != 0)
		return r;
	skip_ws(&p);
	if (p.pos != len)
		return perr(&p, "trailing characters");
	return 0;
}

void
rec_json_free(struct rec_json *j)
{
	if (j == NULL)
		return;
	free(j->n);
	rec_buf_free(&j->pool);
	memset(j, 0, sizeof(*j));
}

long
rec_json_get(const struct rec_json *j, size_t obj, const char *key)
{
	size_t kl = strlen(key);
	uint32_t k;

	if (obj >= j->nn || j->n[obj].type != REC_JSON_OBJ)
		return -1;
	for (k = j->n[obj].child; k != 0; k = j->n[k].next) {
		if (j->n[k].key_len == kl &&
		    memcmp(j->pool.p + j->n[k].key_off, key, kl) == 0)
			return (long)k;
	}
	return -1;
}

long
rec_json_at(const struct rec_json *j, size_t arr, size_t i)
{
	uint32_t k;

	if (arr >= j->nn || j->n[arr].type != REC_JSON_ARR)
		return -1;
	for (k = j->n[arr].child; k != 0; k = j->n[k].next) {
		if (i-- == 0)
			return (long)k;
	}
	return -1;
}

const char *
rec_json_str(const struct rec_json *j, long node, size_t *len)
{
	if (node < 0 || (size_t)node >= j->nn || j->n[node].type != REC_JSON_STR)
		return NULL;
	if (len != NULL)
		*len = j->n[node].str_len;
	return (const char *)j->pool.p + j->n[node].str_off;
}

const char *
rec_json_get_str(const struct rec_json *j, size_t obj, const char *key)
{
	return rec_json_str(j, rec_json_get(j, obj, key), NULL);
}

int
rec_json_get_num(const struct rec_json *j, size_t obj, const char *key, double *v)
{
	long k = rec_json_get(j, obj, key);

	if (k < 0 || j->n[k].type != REC_JSON_NUM)
		return -1;
	*v = j->n[k].num;
	return 0;
}

const char *
rec_json_key(const struct rec_json *j, size_t node)
{
	return (const char *)j->pool.p + j->n[node].key_off;
}
