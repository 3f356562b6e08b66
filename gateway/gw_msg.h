/* SPDX-License-Identifier: BSD-2-Clause */
/* The messages mspgate-shell and mspgated exchange over the session socket. */
#ifndef GW_MSG_H
#define GW_MSG_H

#include <stddef.h>
#include <stdint.h>

/*
 * Wire format, version 1. The socket is AF_UNIX SOCK_SEQPACKET, so one
 * message is one packet and the kernel keeps the boundaries:
 *
 *   'M' 'G' VERSION TYPE  FIELD*
 *   FIELD = TAG (1 byte)  LENGTH (2 bytes, big-endian)  VALUE (LENGTH bytes)
 *
 * A packet is at most GW_MSG_MAX bytes. Every field has a maximum length
 * (below) and may appear at most once, except GW_TAG_ITEM; each message
 * type allows only its own tags and requires some (see gw_msg.c). String
 * values hold no NUL byte and are not terminated on the wire. Integers are
 * big-endian. Anything else (wrong magic or version, an unknown type or
 * tag, a short field, a repeated field, a missing required field) is
 * refused as a whole: MG_ERR_PARSE.
 *
 * The first message on a connection carries the engineer's fds 0, 1 and 2
 * (SCM_RIGHTS) when it is GW_MSG_OPEN; GW_MSG_LIST and GW_MSG_CONFIG carry none.
 */
#define GW_MSG_VERSION	1
#define GW_MSG_MAX	65536

enum gw_msg_type {
	GW_MSG_OPEN = 1,	/* shell -> daemon: start a session (+ fds 0,1,2) */
	GW_MSG_LIST = 2,	/* shell -> daemon: which targets may I reach now? */
	GW_MSG_RESIZE = 3,	/* shell -> daemon: the terminal's new size */
	GW_MSG_TARGETS = 4,	/* daemon -> shell: answer to LIST (ITEM*) */
	GW_MSG_END = 5,		/* daemon -> shell: the session is over (STATUS [TEXT]) */
	/*
	 * shell -> daemon: my ssh_config blocks ([COMMAND]: the words after
	 * "ssh-config"); answered by TARGETS packets whose ITEMs are pieces
	 * of the text, in order, then END.
	 */
	GW_MSG_CONFIG = 6,
};

enum gw_msg_tag {
	GW_TAG_TARGET = 1,	/* "[login@]tenant/target", <= 256 */
	GW_TAG_COMMAND = 2,	/* the remote command, <= 32768 */
	GW_TAG_SUBSYSTEM = 3,	/* "sftp", <= 64 */
	GW_TAG_FLAGS = 4,	/* u32, GW_F_* */
	GW_TAG_TERM = 5,	/* TERM, <= 64 */
	GW_TAG_WINSIZE = 6,	/* u16 cols, u16 rows */
	GW_TAG_TICKET = 7,	/* MSPGATE_TICKET, <= 128 */
	GW_TAG_CONNECTION = 8,	/* SSH_CONNECTION, <= 256 */
	GW_TAG_AUTHINFO = 9,	/* contents of the SSH_USER_AUTH file, <= 16384 */
	GW_TAG_STATUS = 10,	/* u8 GW_END_*, i32 code */
	GW_TAG_TEXT = 11,	/* one line for the engineer, <= 1024 */
	GW_TAG_ITEM = 12,	/* one reachable target, <= 512; repeated */
};

#define GW_F_TTY	0x1u	/* the session's stdin is a terminal */
#define GW_F_MASK	0x1u

enum gw_end_kind {
	GW_END_EXIT = 0,	/* code: the remote exit status */
	GW_END_SIGNAL = 1,	/* code: the signal that ended the remote command */
	GW_END_ERROR = 2,	/* code unused; TEXT says why (exit 255) */
};

#define GW_MSG_MAX_ITEMS 1024

/* A decoded (or to be encoded) message. Absent strings are NULL. */
struct gw_msg {
	int type;
	char *target, *command, *subsystem, *term, *ticket, *connection, *authinfo;
	char *text;
	uint32_t flags;
	int has_flags;
	int has_winsize;
	unsigned cols, rows;
	int has_status;
	unsigned end_kind;
	int32_t code;
	char **items;
	size_t nitems;
};

/*
 * Encodes m into buf (cap bytes): only the fields set are written.
 * Returns 0 and *len, MG_ERR_TOOBIG (a field or the packet too long) or
 * MG_ERR_INVAL (bad type, a string with a NUL cannot occur).
 */
int gw_msg_encode(const struct gw_msg *m, uint8_t *buf, size_t cap, size_t *len);
/*
 * Decodes one packet into *m (zeroed first; on error left empty). Strings
 * are allocated: free with gw_msg_clear(). Returns 0, MG_ERR_PARSE or
 * MG_ERR_NOMEM.
 */
int gw_msg_decode(const uint8_t *buf, size_t len, struct gw_msg *m);
/* Frees what decode allocated and zeroes m (strings are wiped: a ticket). */
void gw_msg_clear(struct gw_msg *m);
/* Appends an item (copied) to m; MG_ERR_NOMEM or MG_ERR_TOOBIG. */
int gw_msg_add_item(struct gw_msg *m, const char *item);

/*
 * The framing alone, for another family of messages on the same wire
 * format (gw_child.h: mspgated and its session processes). The writer
 * puts the header and then fields; the reader checks the header and walks
 * the fields. Neither knows which tags a type allows: the family does.
 */
struct gw_msg_writer {
	uint8_t *p;
	size_t cap, len;
};
/* Starts a packet of type (1..255) in buf; cap is cut to GW_MSG_MAX. MG_ERR_TOOBIG, MG_ERR_INVAL. */
int gw_msg_begin(struct gw_msg_writer *w, uint8_t *buf, size_t cap, int type);
/* Appends one field; MG_ERR_TOOBIG when it does not fit (or n > 65535). */
int gw_msg_put(struct gw_msg_writer *w, int tag, const void *v, size_t n);

struct gw_msg_reader {
	const uint8_t *p;
	size_t len, off;
};
/* Checks magic and version (not the type): 0 and *type, or MG_ERR_PARSE. */
int gw_msg_open(struct gw_msg_reader *r, const uint8_t *buf, size_t len, int *type);
/*
 * The next field: 1 with *tag, *v (inside the packet) and *n; 0 at the end
 * of the packet; MG_ERR_PARSE when a field is cut short.
 */
int gw_msg_next(struct gw_msg_reader *r, int *tag, const uint8_t **v, size_t *n);

/*
 * Sends m as one packet, with nfds descriptors attached (0..3).
 * Returns 0, MG_ERR_SYSTEM (errno kept) or an encode error.
 */
int gw_msg_send(int sock, const struct gw_msg *m, const int *fds, size_t nfds);
/*
 * Receives one packet and decodes it. Descriptors that came with it are
 * stored in fds (up to maxfds, *nfds set; opened close-on-exec); a packet
 * with more descriptors than maxfds, or cut short, is refused and every
 * descriptor it carried is closed. Returns 0, MG_ERR_NOENT (the peer
 * closed the connection), MG_ERR_SYSTEM, MG_ERR_PARSE, MG_ERR_NOMEM.
 */
int gw_msg_recv(int sock, struct gw_msg *m, int *fds, size_t maxfds, size_t *nfds);

#endif
