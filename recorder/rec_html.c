/* SPDX-License-Identifier: BSD-2-Clause */
/* A self-contained HTML page that plays a recording offline (bundled asciinema-player). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mg_err.h"
#include "rec_html.h"

#define ASSET_MAX (8 * 1024 * 1024)

/*
 * Starts the player: it plays at once, from the start or from the time in
 * the address (page.html#t=90 or #t=1:30, as `search` prints offsets).
 * The player's terminal emulator is WebAssembly, which the page's
 * Content-Security-Policy allows with 'wasm-unsafe-eval' (and no more:
 * no eval, nothing loaded from anywhere).
 */
#define PLAYER_START \
	";\nvar opts = { fit: 'width', controls: true, autoPlay: true, preload: true };\n" \
	"var m = /^#t=([0-9]{1,9}(:[0-9]{1,2}){0,2}(\\.[0-9]+)?)$/.exec(location.hash);\n" \
	"if (m) opts.startAt = m[1].indexOf(':') < 0 ? parseFloat(m[1]) : m[1];\n" \
	"AsciinemaPlayer.create({ data: cast }, document.getElementById('player'), opts);\n" \
	"</script>\n</body>\n</html>\n"

static int
read_file(const char *dir, const char *name, struct rec_buf *b)
{
	char path[PATH_MAX];
	struct stat st;
	char tmp[65536];
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return MG_ERR_TOOBIG;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return MG_ERR_NOENT;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > ASSET_MAX) {
		close(fd);
		return MG_ERR_INVAL;
	}
	while ((n = read(fd, tmp, sizeof(tmp))) > 0) {
		if (rec_buf_add(b, tmp, (size_t)n) != 0) {
			close(fd);
			return MG_ERR_NOMEM;
		}
	}
	close(fd);
	return n < 0 ? MG_ERR_IO : 0;
}

static int
has_player(const char *dir)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%.4000s/asciinema-player.min.js", dir);
	return access(p, R_OK) == 0;
}

/* Where the bundle may be; the first that has it wins. */
static int
find_player(const char *given, char *out, size_t outlen, char *err, size_t errlen)
{
	char exe[PATH_MAX], cand[6][PATH_MAX];
	const char *env = getenv("MSPGATE_PLAYER_DIR");
	ssize_t n;
	int i, nc = 0;

	if (given != NULL) {
		if (has_player(given)) {
			snprintf(out, outlen, "%.4000s", given);
			return 0;
		}
		snprintf(err, errlen, "%s: no asciinema-player.min.js there", given);
		return MG_ERR_NOENT;
	}
	if (env != NULL && env[0] != '\0')
		snprintf(cand[nc++], PATH_MAX, "%.4000s", env);
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
		exe[n] = '\0';
		snprintf(cand[nc++], PATH_MAX, "%.4000s/../player", dirname(exe));
		snprintf(cand[nc++], PATH_MAX, "%.4000s/../share/mspgate/player", exe);
	}
	snprintf(cand[nc++], PATH_MAX, "/usr/share/mspgate/player");
	snprintf(cand[nc++], PATH_MAX, "/usr/local/share/mspgate/player");
	for (i = 0; i < nc; i++) {
		if (has_player(cand[i])) {
			snprintf(out, outlen, "%.4000s", cand[i]);
			return 0;
		}
	}
	snprintf(err, errlen, "the asciinema-player %s bundle is not installed (looked in "
	    "$MSPGATE_PLAYER_DIR, %.200s, /usr/share/mspgate/player); build it with `make "
	    "player` (fetches it from the npm registry) or pass --player DIR; "
	    "`export --asciicast` works without it", REC_PLAYER_VERSION,
	    env != NULL && env[0] != '\0' && nc > 1 ? cand[1] : cand[0]);
	return MG_ERR_NOENT;
}

/* Text for HTML element content. */
static int
add_escaped_html(struct rec_buf *b, const char *s, size_t n)
{
	size_t i;
	int r = 0;

	for (i = 0; i < n && r == 0; i++) {
		switch (s[i]) {
		case '<': r = rec_buf_adds(b, "&lt;"); break;
		case '>': r = rec_buf_adds(b, "&gt;"); break;
		case '&': r = rec_buf_adds(b, "&amp;"); break;
		case '"': r = rec_buf_adds(b, "&quot;"); break;
		default: r = rec_buf_addc(b, s[i]); break;
		}
	}
	return r;
}

/* A JSON string literal that cannot end the <script> element early. */
static int
add_script_string(struct rec_buf *b, const char *s, size_t n)
{
	struct rec_buf j = { 0 };
	size_t i;
	int r;

	if ((r = rec_buf_json_cstr(&j, "")) != 0)
		return r;
	rec_buf_reset(&j);
	if ((r = rec_buf_json_str(&j, s, n)) != 0)
		goto out;
	for (i = 0; i < j.len && r == 0; i++) {
		if (j.p[i] == '<')
			r = rec_buf_adds(b, "\\u003c");
		else
			r = rec_buf_addc(b, j.p[i]);
	}
out:
	rec_buf_free(&j);
	return r;
}

int
rec_html_page(struct rec_buf *page, const char *cast, size_t len, const char *title,
    const char *player_dir, char *err, size_t errlen)
{
	struct rec_buf js = { 0 }, css = { 0 }, lic = { 0 };
	char dir[PATH_MAX];
	int r;

	if ((r = find_player(player_dir, dir, sizeof(dir), err, errlen)) != 0)
		return r;
	if ((r = read_file(dir, "asciinema-player.min.js", &js)) != 0 ||
	    (r = read_file(dir, "asciinema-player.css", &css)) != 0 ||
	    (r = read_file(dir, "LICENSE", &lic)) != 0) {
		snprintf(err, errlen, "%s: incomplete asciinema-player bundle (need "
		    "asciinema-player.min.js, asciinema-player.css, LICENSE)", dir);
		goto out;
	}
	/* The assets are inlined as they are: refuse any that would end their element. */
	if (strstr((char *)js.p, "</script") != NULL || strstr((char *)css.p, "</style") != NULL) {
		snprintf(err, errlen, "%s: the player bundle cannot be inlined safely", dir);
		r = MG_ERR_INVAL;
		goto out;
	}
	if (title == NULL)
		title = "mspgate recording";
	if ((r = rec_buf_adds(page, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" "
	    "content=\"default-src 'none'; script-src 'unsafe-inline' 'wasm-unsafe-eval'; "
	    "style-src 'unsafe-inline'; img-src data:; font-src data:\">\n<title>")) != 0 ||
	    (r = add_escaped_html(page, title, strlen(title))) != 0 ||
	    (r = rec_buf_adds(page, "</title>\n<style>\n")) != 0 ||
	    (r = rec_buf_add(page, css.p, css.len)) != 0 ||
	    (r = rec_buf_adds(page, "\nbody { font-family: sans-serif; margin: 1em; }\n"
	    "</style>\n</head>\n<body>\n<h1>")) != 0 ||
	    (r = add_escaped_html(page, title, strlen(title))) != 0 ||
	    (r = rec_buf_adds(page, "</h1>\n<div id=\"player\"></div>\n<p>Exported by "
	    "mspgate-replay. Verify the original recording with <code>mspgate-replay "
	    "verify</code>; this page is a copy for viewing.</p>\n<details><summary>"
	    "asciinema-player " REC_PLAYER_VERSION " licence</summary><pre>")) != 0 ||
	    (r = add_escaped_html(page, (char *)lic.p, lic.len)) != 0 ||
	    (r = rec_buf_adds(page, "</pre></details>\n<script>\n")) != 0 ||
	    (r = rec_buf_add(page, js.p, js.len)) != 0 ||
	    (r = rec_buf_adds(page, "\n</script>\n<script>\nvar cast = ")) != 0 ||
	    (r = add_script_string(page, cast, len)) != 0 ||
	    (r = rec_buf_adds(page, PLAYER_START)) != 0)
		snprintf(err, errlen, "out of memory");
out:
	rec_buf_free(&js);
	rec_buf_free(&css);
	rec_buf_free(&lic);
	return r;
}
