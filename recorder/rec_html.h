/* SPDX-License-Identifier: BSD-2-Clause */
/* A self-contained HTML page that plays a recording offline (bundled asciinema-player). */
#ifndef REC_HTML_H
#define REC_HTML_H

#include <stddef.h>

#include "rec_buf.h"

/* The asciinema-player release bundled at build time (see the Makefile rule). */
#define REC_PLAYER_VERSION "3.18.0"

/*
 * Builds the page into page: the player's CSS and JavaScript inline, its
 * licence, and the asciicast text cast[0..len). player_dir holds
 * asciinema-player.min.js, asciinema-player.css and LICENSE; NULL searches
 * $MSPGATE_PLAYER_DIR, then beside the program (../player,
 * ../share/mspgate/player), then /usr/share/mspgate/player and
 * /usr/local/share/mspgate/player. Returns 0, MG_ERR_NOENT (no player
 * bundle: err says where it looked), MG_ERR_NOMEM.
 */
int rec_html_page(struct rec_buf *page, const char *cast, size_t len, const char *title,
    const char *player_dir, char *err, size_t errlen);

#endif
