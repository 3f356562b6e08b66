/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target for the messages between mspgated and its state worker (gw_sync.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Compiled in, as fuzz_child_msg does: the same libraries as every other target. */
#include "../../gateway/gw_msg.c"
#include "../../gateway/gw_sync_msg.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
all_zero(const struct gw_sync_msg *m)
{
	const unsigned char *p = (const unsigned char *)m;
	size_t i;

	for (i = 0; i < sizeof(*m); i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* Every string terminated within its bound, with no control byte. */
static void
check_strings(const struct gw_sync_msg *m)
{
	size_t i;

	for (i = 0; i < NFIELDS; i++) {
		const unsigned char *p = (const unsigned char *)m + fields[i].off;

		if (fields[i].max == 0)
			continue;
		if (strnlen((const char *)p, fields[i].max + 1) > fields[i].max)
			abort();
		for (; *p != '\0'; p++)
			if (*p < 0x20 || *p == 0x7f)
				abort();
	}
	if (m->start < 0 || (m->type == GW_SYNC_SESSION && m->start == 0))
		abort();
	if (m->type == GW_SYNC_KILL && (m->id[0] == '\0') == (m->engineer[0] == '\0'))
		abort();
	/* A detector event always says what, whose and when; another gateway's, from where. */
	if ((m->type == GW_SYNC_EVENT || m->type == GW_SYNC_REMOTE) && (m->kind[0] == '\0' ||
	    m->engineer[0] == '\0' || m->start == 0 ||
	    (m->type == GW_SYNC_REMOTE && m->from[0] == '\0')))
		abort();
	/* Another gateway's live session: which, whose, where. */
	if (m->type == GW_SYNC_PEER && (m->id[0] == '\0' || m->engineer[0] == '\0' ||
	    m->from[0] == '\0'))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gw_sync_msg m, m2;
	static uint8_t buf[GW_SYNC_MAX], buf2[GW_SYNC_MAX];
	size_t len, len2;

	if (gw_sync_decode(data, size, &m) != 0) {
		if (!all_zero(&m))
			abort();
		return 0;
	}
	if (gw_sync_from(m.type) == 0)
		abort();
	check_strings(&m);
	/* What decodes encodes back, decodes the same, and encodes to the same bytes. */
	if (gw_sync_encode(&m, buf, sizeof(buf), &len) != 0 || len > size)
		abort();
	if (gw_sync_decode(buf, len, &m2) != 0 || memcmp(&m, &m2, sizeof(m)) != 0)
		abort();
	if (gw_sync_encode(&m2, buf2, sizeof(buf2), &len2) != 0 || len2 != len ||
	    memcmp(buf, buf2, len) != 0)
		abort();
	return 0;
}
