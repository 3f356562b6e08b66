/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target for the mspgate-shell <-> mspgated messages and the request parsers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * The gateway sources are compiled in here, so this target links with the
 * same libraries as every other fuzz target (`make fuzz` and `make check`).
 */
#include "../../gateway/gw_msg.c"
#include "../../gateway/gw_request.c"
#include "../../gateway/gw_authinfo.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_msg(const uint8_t *data, size_t size)
{
	struct gw_msg m, m2;
	uint8_t *buf;
	size_t len, i;

	if (gw_msg_decode(data, size, &m) != 0) {
		/* A refused packet leaves nothing behind. */
		if (m.target != NULL || m.items != NULL || m.type != 0)
			abort();
		return;
	}
	/* What decodes encodes back, and decodes to the same fields. */
	if ((buf = malloc(GW_MSG_MAX)) == NULL)
		abort();
	if (gw_msg_encode(&m, buf, GW_MSG_MAX, &len) != 0 || len > size ||
	    gw_msg_decode(buf, len, &m2) != 0)
		abort();
#define SAME(f) if ((m.f == NULL) != (m2.f == NULL) || \
	    (m.f != NULL && strcmp(m.f, m2.f) != 0)) abort()
	SAME(target); SAME(command); SAME(subsystem); SAME(term); SAME(ticket);
	SAME(connection); SAME(authinfo); SAME(text);
#undef SAME
	if (m.type != m2.type || m.flags != m2.flags || m.cols != m2.cols ||
	    m.rows != m2.rows || m.code != m2.code || m.end_kind != m2.end_kind ||
	    m.nitems != m2.nitems)
		abort();
	for (i = 0; i < m.nitems; i++)
		if (strcmp(m.items[i], m2.items[i]) != 0)
			abort();
	gw_msg_clear(&m);
	gw_msg_clear(&m2);
	free(buf);
}

/* The strings mspgate-shell and mspgated parse from the environment. */
static void
check_request(const uint8_t *data, size_t size)
{
	struct gw_shell_request r;
	struct gw_target_spec spec;
	struct pol_engineer e;
	char *s, *second, src[64];
	size_t n;

	if ((s = malloc(size + 2)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	s[size + 1] = '\0';
	n = strlen(s);
	second = s + n + 1 <= s + size ? s + n + 1 : s + size + 1;
	if (gw_shell_request_parse(s, second, &r) == 0) {
		if (r.target == NULL || gw_target_spec_parse(r.target, &spec) != 0)
			abort();
		if (r.subsystem != NULL && r.command != NULL)
			abort();
	}
	gw_shell_request_clear(&r);
	if (gw_shell_request_parse(NULL, s, &r) == 0 && r.target == NULL)
		abort();
	gw_shell_request_clear(&r);
	memset(&e, 0, sizeof(e));
	if (gw_authinfo_mfa(s, &e) & POL_MFA_FIDO)
		abort();	/* no keys: never FIDO */
	gw_source_from_connection(s, src, sizeof(src));
	if (strlen(src) >= sizeof(src))
		abort();
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_msg(data, size);
	check_request(data, size);
	return 0;
}
