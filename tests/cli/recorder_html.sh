#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# `mspgate-replay export --html` as an auditor opens it: headless Chromium, offline, plays
# the session. Skipped when Chromium or the player bundle (`make player`) is missing.
. tests/lib/tap.sh

PLAYER="$MG_BUILD/player"
# A sanitizer build (build/san) has no bundle of its own: the plain build's.
[ -f "$PLAYER/asciinema-player.min.js" ] || PLAYER=build/player
CHROME=$(command -v chromium || command -v chromium-browser || true)
skip() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N # SKIP $*"; tap_done; exit 0; }
[ -n "$CHROME" ] || skip "no chromium installed"
[ -f "$PLAYER/asciinema-player.min.js" ] || skip "no player bundle in $PLAYER (make player)"

openssl genpkey -algorithm ed25519 -out "$T/k.pem" 2>/dev/null
R="$BIN/mspgate-record"
P="$BIN/mspgate-replay"

# What the session shows that was never typed: only a player that ran it draws "sum=42".
printf 'echo "sum=$((20+22))"\nprintf "caf\\303\\251\\n"\nexit\n' |
	"$R" -q --key "$T/k.pem" -o "$T/h1.cast" --meta engineer=alice -- sh >/dev/null 2>&1
check "a session was recorded" test -s "$T/h1.cast"
"$P" export --html --player "$PLAYER" -o "$T/h1.html" "$T/h1.cast" 2>"$T/err"
check_exit 0 "export --html writes the page" test $? -eq 0
check "the page loads nothing from elsewhere" sh -c \
	"! grep -Eiq '<(script|link|img|iframe)[^>]* (src|href)=' '$T/h1.html'"
check_grep "the page forbids every fetch (CSP)" "default-src 'none'" "$T/h1.html"

# chromium FILE.html[#FRAGMENT] OUT: the DOM after 15 s of virtual time, no
# network. The player's WebAssembly is compiled on real time, which a busy
# machine can stretch past the budget: up to five tries before a verdict.
render() {
	for try in 1 2 3 4 5; do
		timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu \
		    --disable-background-networking --disable-component-update --disable-sync \
		    --no-first-run --enable-logging=stderr --v=0 --user-data-dir="$T/chrome" \
		    --window-size=1000,700 \
		    --virtual-time-budget=15000 --dump-dom "file://$1" >"$2" 2>"$T/chrome.log"
		term "$2" "$2.term" 2>/dev/null && grep -q "sum=42" "$2.term" && return 0
	done
	return 0
}
# term DOM OUT: the text of the player's terminal, one line per row.
term() {
	awk '{ s = s $0 "\n" } END {
		i = index(s, "<pre class=\"ap-term-text"); if (i == 0) exit 1
		s = substr(s, i); j = index(s, "</pre>"); if (j > 0) s = substr(s, 1, j)
		gsub(/<span class="ap-line"/, "\n&", s); gsub(/<[^>]*>/, "", s)
		gsub(/&amp;/, "\\&", s); gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s)
		gsub(/&quot;/, "\"", s); print s }' "$1" >"$2"
}

render "$T/h1.html" "$T/dom"
check_exit 0 "chromium renders the page" test $? -eq 0
term "$T/dom" "$T/term"
check_exit 0 "the page has a player terminal" test $? -eq 0
check_grep "the terminal shows what was typed" 'echo "sum=\$((20+22))"' "$T/term"
check_grep "the terminal shows the session's output (it played)" "sum=42" "$T/term"
check_grep "the terminal shows UTF-8 intact" "café" "$T/term"
check "the browser reported no script error" sh -c \
	"! grep -Eq 'CONSOLE.*(Uncaught|Error)' '$T/chrome.log'"

# A start offset in the address (#t=SECONDS) still plays.
render "$T/h1.html#t=0" "$T/dom2"
term "$T/dom2" "$T/term2"
check_grep "a page opened at #t=0 plays too" "sum=42" "$T/term2"

# A recording that carries what attacks a terminal (issue 15): the page keeps its
# escaping and CSP, and the player draws the text around the sequences, not them.
printf '%b' 'SEEN-1\n' '\033]52;c;WFgtQ0xJUEJPQVJE\007' \
 '\033]8;;https://XX-LINK.example/\033\\link-text\033]8;;\033\\\n' \
 '\033]0;XX-TITLE0\007\033]2;XX-TITLE2\033\\SEEN-2\n' \
 '\302\2350;XX-C1-TITLE\302\234SEEN-3\n' \
 '\033[21t\033[c\033[5n\033[6n\033[>q\005SEEN-4\n' \
 '\033P$qm\033\\\033PXX-DCS\033\\\033_XX-APC\033\\\033^XX-PM\033\\\033XXX-SOS\033\\SEEN-5\n' \
 '</script><img src=x onerror="document.title=1">SEEN-6\n' \
 'echo "sum=$((20+22))"\n' >"$T/evil.bin"
"$R" -q --key "$T/k.pem" -o "$T/h2.cast" --meta "title=</title><script>document.title=2</script>" \
	-- sh -c "cat '$T/evil.bin'; echo sum=42" >/dev/null 2>&1 </dev/null
"$P" export --html --player "$PLAYER" -o "$T/h2.html" "$T/h2.cast" 2>"$T/err2"
check_exit 0 "export --html of a hostile recording" test $? -eq 0
check_grep "its page keeps the CSP" "default-src 'none'" "$T/h2.html"
check "the recording cannot end the page's script element" sh -c \
	"! grep -aq '<img src=x' '$T/h2.html' && ! grep -aq '</title><script>' '$T/h2.html'"
render "$T/h2.html" "$T/dom3"
term "$T/dom3" "$T/term3"
check_grep "the player plays it" "sum=42" "$T/term3"
for n in 1 2 3 4 5 6; do
	check_grep "the player shows the text around the sequences ($n)" "SEEN-$n" "$T/term3"
done
check "the player shows none of what the sequences carry" sh -c "! grep -q 'XX-\|WFgt' '$T/term3'"
check "the DOM has no element made from the recording" sh -c \
	"! grep -Eiq '<(img|a)[^>]*(src=\"?x|XX-LINK)' '$T/dom3'"
check "the page title is not the recording's doing" sh -c \
	"grep -q '<title>&lt;/title&gt;&lt;script&gt;document.title=2' '$T/dom3' &&
	! grep -Eq '<title>[12]</title>' '$T/dom3'"
check "the browser reported no script error for it" sh -c \
	"! grep -Eq 'CONSOLE.*(Uncaught|Error)' '$T/chrome.log'"
tap_done
