/* SPDX-License-Identifier: BSD-2-Clause */
/* Small shared helpers: error messages into caller buffers, strict base64. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "mg_err.h"
#include "mg_util.h"

void
mg_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
mg_b64_decode(const char *s, size_t n, unsigned char *out, size_t *outlen)
{
	size_t i, o = 0, pad = 0;
	uint32_t acc;
	int j, v;

	*outlen = 0;
	if (n % 4 != 0)
		return MG_ERR_PARSE;
	if (n > 0 && s[n - 1] == '=')
		pad = s[n - 2] == '=' ? 2 : 1;
	for (i = 0; i < n; i += 4) {
		int last = i + 4 == n;

		acc = 0;
		for (j = 0; j < 4; j++) {
			if (last && j >= 4 - (int)pad)
				v = 0;
			else if ((v = b64_value((unsigned char)s[i + j])) < 0)
				return MG_ERR_PARSE;
			acc = acc << 6 | (uint32_t)v;
		}
		out[o++] = (unsigned char)(acc >> 16);
		/* Bits the padding leaves unused must be zero: one spelling. */
		if (last && pad == 2) {
			if ((acc & 0xffff) != 0)
				return MG_ERR_PARSE;
			break;
		}
		out[o++] = (unsigned char)(acc >> 8);
		if (last && pad == 1) {
			if ((acc & 0xff) != 0)
				return MG_ERR_PARSE;
			break;
		}
		out[o++] = (unsigned char)acc;
	}
	*outlen = o;
	return 0;
}

void
mg_b64_encode(const void *inp, size_t len, int pad, char *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *in = inp;
	size_t i, n = 0;
	uint32_t acc;

	for (i = 0; i + 3 <= len; i += 3) {
		acc = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[n++] = tab[(acc >> 18) & 0x3f];
		out[n++] = tab[(acc >> 12) & 0x3f];
		out[n++] = tab[(acc >> 6) & 0x3f];
		out[n++] = tab[acc & 0x3f];
	}
	if (len - i == 1) {
		acc = (uint32_t)in[i] << 16;
		out[n++] = tab[(acc >> 18) & 0x3f];
		out[n++] = tab[(acc >> 12) & 0x3f];
		if (pad) {
			out[n++] = '=';
			out[n++] = '=';
		}
	} else if (len - i == 2) {
		acc = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[n++] = tab[(acc >> 18) & 0x3f];
		out[n++] = tab[(acc >> 12) & 0x3f];
		out[n++] = tab[(acc >> 6) & 0x3f];
		if (pad)
			out[n++] = '=';
	}
	out[n] = '\0';
}

int
mg_write_full(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = { fd, POLLOUT, 0 };

			if (poll(&pf, 1, 1000) < 0 && errno != EINTR)
				return -1;
			if (pf.revents & (POLLERR | POLLHUP | POLLNVAL))
				return -1;
			continue;
		}
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}
