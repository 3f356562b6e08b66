/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target for the mspgated <-> session process messages (gw_child.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * The gateway sources are compiled in here, so this target links with the
 * same libraries as every other fuzz target (`make fuzz` and `make check`).
 */
#include "../../gateway/gw_msg.c"
#include "../../gateway/gw_child.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every byte of m zero: what a refused packet must leave behind. */
static int
all_zero(const struct gw_child_msg *m)
{
	const unsigned char *p = (const unsigned char *)m;
	size_t i;

	for (i = 0; i < sizeof(*m); i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* Nothing a receiver reads holds a control byte or runs past its bound. */
static void
check_strings(const struct gw_child_msg *m)
{
	const char *s[6] = { NULL };
	size_t i, n = 0;

	switch (m->type) {
	case GW_CHILD_ATTEMPT:
		s[n++] = m->u.attempt.engineer;
		s[n++] = m->u.attempt.tenant;
		s[n++] = m->u.attempt.target;
		s[n++] = m->u.attempt.source;
		break;
	case GW_CHILD_START:
		s[n++] = m->u.start.id;
		s[n++] = m->u.start.engineer;
		s[n++] = m->u.start.tenant;
		s[n++] = m->u.start.target;
		s[n++] = m->u.start.login;
		s[n++] = m->u.start.source;
		break;
	case GW_CHILD_COMMAND:
	case GW_CHILD_INPUT:
		if (strlen(m->u.text.text) != m->u.text.len ||
		    m->u.text.len > (m->type == GW_CHILD_INPUT ? GW_CHILD_INPUT_MAX :
		    GW_CHILD_COMMAND_MAX))
			abort();
		s[n++] = m->u.text.text;
		break;
	case GW_CHILD_VERDICT:
	case GW_CHILD_DENY:
	case GW_CHILD_REAUTH:
		if (m->u.verdict.words[0] == '\0')
			abort();
		s[n++] = m->u.verdict.words;
		break;
	case GW_CHILD_KILL:
		s[n++] = m->u.kill.who;
		break;
	case GW_CHILD_REVOKE:
		if (m->u.revoke.end_by <= 0)
			abort();
		s[n++] = m->u.revoke.why;
		break;
	}
	for (i = 0; i < n; i++) {
		const unsigned char *p = (const unsigned char *)s[i];

		for (; *p != '\0'; p++)
			if (*p < 0x20 || *p == 0x7f)
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* 33 KiB each: static, not on the fuzzer's stack. */
	static struct gw_child_msg m, m2;
	static uint8_t buf[GW_CHILD_MAX], buf2[GW_CHILD_MAX];
	size_t len, len2;

	if (gw_child_decode(data, size, &m) != 0) {
		if (!all_zero(&m))
			abort();
		return 0;
	}
	if (gw_child_from(m.type) == 0)
		abort();
	check_strings(&m);
	/* What decodes encodes back (no longer: optional empty fields drop out)... */
	if (gw_child_encode(&m, buf, sizeof(buf), &len) != 0 || len > size)
		abort();
	/* ...decodes to the same message... */
	if (gw_child_decode(buf, len, &m2) != 0 || memcmp(&m, &m2, sizeof(m)) != 0)
		abort();
	/* ...and encodes to the same bytes: one encoding per message. */
	if (gw_child_encode(&m2, buf2, sizeof(buf2), &len2) != 0 || len2 != len ||
	    memcmp(buf, buf2, len) != 0)
		abort();
	return 0;
}
