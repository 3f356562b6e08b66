/* SPDX-License-Identifier: BSD-2-Clause */
/* The hash chain and checkpoint lines shared by the recording writer and verifier. */
#ifndef REC_CHAIN_H
#define REC_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "rec_buf.h"
#include "rec_key.h"

#define REC_HASH_LEN 32

/*
 * h0 = SHA-256("mspgate-rec-v1\n" || header line)
 * hN = SHA-256(hN-1 || line N)   (line bytes without the newline)
 * Checkpoint lines are chained like every other line.
 */
struct rec_chain {
	uint8_t h0[REC_HASH_LEN];
	uint8_t h[REC_HASH_LEN];
	void *ctx;		/* EVP_MD_CTX */
	void *md;		/* EVP_MD */
};

int rec_chain_start(struct rec_chain *c, const void *header, size_t len);
int rec_chain_add(struct rec_chain *c, const void *line, size_t len);
void rec_chain_free(struct rec_chain *c);

/* A checkpoint: "mgcp1 seq=S lines=L final=F hash=HEX sig=BASE64". */
struct rec_cp {
	uint64_t seq;		/* 1, 2, ... */
	uint64_t lines;		/* lines before this one (header included) */
	int final;		/* 1 on the closing checkpoint */
	uint8_t hash[REC_HASH_LEN];	/* chain state over those lines */
	uint8_t sig[REC_SIG_LEN];
};

/*
 * The signed message binds the checkpoint to its session (id and h0, the
 * hash of the header, which holds the file name and a random nonce) so it
 * cannot be moved to another recording:
 * "mspgate-checkpoint-v1\0" session "\0" h0 be64(seq) be64(lines) final hash
 */
int rec_cp_message(struct rec_buf *msg, const char *session,
    const uint8_t h0[REC_HASH_LEN], const struct rec_cp *cp);
int rec_cp_format(struct rec_buf *payload, const struct rec_cp *cp);
int rec_cp_parse(const char *payload, size_t len, struct rec_cp *cp);

#endif
