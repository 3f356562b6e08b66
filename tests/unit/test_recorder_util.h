/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared set-up for the recorder unit tests: a temporary folder and an Ed25519 key pair. */
#ifndef TEST_RECORDER_UTIL_H
#define TEST_RECORDER_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "rec_key.h"

static char dir[32];
static struct rec_key *priv, *pub;

/* Keys are made at test time with openssl(1), never committed. */
static int
rt_setup(void **state)
{
	char cmd[512], err[256];

	(void)state;
	/* tmpfs when there is one: the many fsyncs cost nothing there. */
	snprintf(dir, sizeof(dir), "%s/mgrec.XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "openssl genpkey -algorithm ed25519 -out %s/k.pem && "
	    "openssl pkey -in %s/k.pem -pubout -out %s/k.pub && "
	    "openssl genpkey -algorithm ed25519 -out %s/other.pem", dir, dir, dir, dir);
	if (system(cmd) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/k.pem", dir);
	if (rec_key_load_private(cmd, &priv, err, sizeof(err)) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/k.pub", dir);
	return rec_key_load_public(cmd, &pub, err, sizeof(err)) == 0 ? 0 : -1;
}

static int
rt_teardown(void **state)
{
	char cmd[128];

	(void)state;
	rec_key_free(priv);
	rec_key_free(pub);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

#endif
