/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target for the file-transfer parsers: SFTP packets and legacy scp headers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Compiled in, as in fuzz_gwmsg: the same libraries as every other target. */
#include "../../gateway/gw_xfer.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_event(const struct gw_xfer_event *ev, void *ctx)
{
	size_t *n = ctx;

	/* Whatever the peers send, a report is a bounded, terminated string. */
	if (ev->op == NULL || ev->path == NULL || strlen(ev->path) > 4 * PATH_MAX_KEEP)
		abort();
	(*n)++;
}

/*
 * Byte 0 picks the parser (sftp, "scp -t", "scp -r -f"); then chunks, each
 * a byte (bit 7: from the target; bits 0-6: length) and that many bytes,
 * so one input is a whole conversation in both directions.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const cmds[] = { NULL, "scp -t -- /tmp/x", "scp -r -f 'a b'" };
	struct gw_xfer *x;
	size_t n = 0, off = 1;

	if (size < 1)
		return 0;
	x = gw_xfer_new(data[0] % 3 == 0 ? GW_XFER_SFTP : GW_XFER_SCP, cmds[data[0] % 3],
	    check_event, &n);
	if (x == NULL)
		abort();
	while (off < size) {
		size_t len = data[off] & 0x7f;
		int from_target = (data[off] & 0x80) != 0;

		off++;
		if (len > size - off)
			len = size - off;
		gw_xfer_feed(x, from_target, data + off, len);
		off += len;
	}
	gw_xfer_free(x);
	return 0;
}
