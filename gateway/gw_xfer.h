/* SPDX-License-Identifier: BSD-2-Clause */
/* File transfers seen in a relayed byte stream: SFTP packets and legacy scp headers. */
#ifndef GW_XFER_H
#define GW_XFER_H

#include <stddef.h>
#include <stdint.h>

enum gw_xfer_kind {
	GW_XFER_SFTP,		/* the sftp subsystem (sftp, scp in its default mode) */
	GW_XFER_SCP,		/* legacy scp: "scp -t PATH" or "scp -f PATH" */
};

/* One file (or file operation) the protocol showed. */
struct gw_xfer_event {
	const char *op;		/* "put", "get", "remove", "rename", "mkdir", "rmdir" */
	const char *path;	/* as the protocol named it; bounded, not escaped */
	uint64_t bytes;		/* data moved (put: written, get: read) */
	int complete;		/* 1: closed / all bytes seen; 0: cut off */
};

typedef void (*gw_xfer_fn)(const struct gw_xfer_event *ev, void *ctx);

struct gw_xfer;

/*
 * A parser for one session's streams; fn is called for each file as it
 * completes. For GW_XFER_SCP, command is the exec command line: NULL is
 * returned (no parser, nothing to do) when it is not "scp -t/-f". The
 * parser never fails the session: bytes it cannot make sense of (they
 * come from the engineer and from the target) stop the parsing, not the
 * relay, and gw_xfer_broken() says so.
 */
struct gw_xfer *gw_xfer_new(enum gw_xfer_kind kind, const char *command, gw_xfer_fn fn,
    void *ctx);
/* Bytes relayed: from_target 0 = engineer -> target, 1 = target -> engineer. */
void gw_xfer_feed(struct gw_xfer *x, int from_target, const void *buf, size_t len);
/* 1 once the stream stopped making sense (parsing has stopped). */
int gw_xfer_broken(const struct gw_xfer *x);
/* Reports files still open as incomplete, then frees. NULL is fine. */
void gw_xfer_free(struct gw_xfer *x);

/* Legacy scp command line: 't' (sink: upload), 'f' (source: download) or 0. */
int gw_scp_command(const char *command, char *path, size_t pathlen, int *recursive);

#endif
