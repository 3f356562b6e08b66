#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Replaying must not attack the auditor: a recording that carries clipboard writes, links,
# titles, reports, queries and DCS/APC/PM/SOS strings (7-bit, UTF-8 C1 and 8-bit forms)
# through play (file and terminal), text, search, list and export.
. tests/lib/tap.sh

openssl genpkey -algorithm ed25519 -out "$T/k.pem" 2>/dev/null
R="$BIN/mspgate-record"
P="$BIN/mspgate-replay"
D="$T/rec"
mkdir -p "$D"
export LC_ALL=C

# What the target prints: each dangerous sequence carries a word (XX-...) that must
# never reach the auditor's terminal; the text between them (SEEN-n) must. 8-bit C1
# bytes are not UTF-8: a UTF-8 terminal shows them as U+FFFD and what follows them as
# text (8BIT-...), and so does play, which never writes such a byte.
printf '%b' 'SEEN-1\n' \
 '\033]52;c;WFgtQ0xJUEJPQVJE\007' \
 '\033]8;;https://XX-LINK.example/\033\\link-text\033]8;;\033\\\n' \
 '\033]0;XX-TITLE0\007\033]2;XX-TITLE2\033\\SEEN-2\n' \
 '\302\2350;XX-C1-TITLE\302\234SEEN-3\n' \
 '\2350;8BIT-TITLE\234SEEN-4\n' \
 '\033[21t\033[14t\033[c\033[>c\033[5n\033[6n\033[>q\033Z\005SEEN-5\n' \
 '\033P$qm\033\\\033P$q"p\033\\\033PXX-DCS\033\\\033_XX-APC\033\\\033^XX-PM\033\\\033XXX-SOS\033\\SEEN-6\n' \
 '\302\23321t\302\220$qXX-C1-DCS\302\234\302\237XX-C1-APC\302\234SEEN-7\n' \
 '\23321t\220$q8BIT-DCS\234\237SEEN-8\n' \
 '\340\202\2336n\355\240\200\364\220\200\200\300\233SEEN-9\n' \
 '\033[?1000h\033 G\033%%@SEEN-10\n' \
 '\033]0;XX-UNTERMINATED' >"$T/evil.bin"
# ... and what an ordinary full-screen program draws, which play keeps.
printf '%b' '\033[?1049h\033[2J\033[1;20r\033[5;10HKEPT-AT\033[31mKEPT-RED\033[0m' \
 '\033(0lqk\033(B\033[K\033[?1049lcaf\303\251 THE-END\n' >"$T/good.bin"

"$R" -q --key "$T/k.pem" -o "$D/evil.cast" --meta engineer=mallory --meta tenant=acme \
	--meta "target=web01/$(printf "\033]0;XX-TARGET\007\302\235")" --meta "ticket=$(printf 'T\033]52;c;WFgtVElDS0VU\007-\302\233?1049h-1')" \
	-- sh -c "cat '$T/evil.bin'; sleep 0.2; cat '$T/good.bin'" >"$T/rec.out" 2>/dev/null </dev/null
check_exit 0 "the recording is made by mspgate-record" test $? -eq 0
cat "$T/evil.bin" "$T/good.bin" >"$T/all.bin"
# (it ran on a terminal, which turned each \n into \r\n)
check "the program wrote them all" sh -c "tr -d '\r' <'$T/rec.out' | cmp -s - '$T/all.bin'"
# The recording is strict UTF-8 JSON (the overlong, surrogate and 8-bit bytes went
# into x events, base64), and lossless (play --raw below gives every byte back).
check "the recording is strict UTF-8, invalid bytes in x events" python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8", errors="strict")][1:]
sys.exit(0 if any(e[1] == "x" for e in ev) else 1)' "$D/evil.cast"

# no_bad FILE: none of the words, no OSC/DCS/APC/PM/SOS, no reports or queries, no C1
# (play's own request for the recorded size, CSI 8;24;80t on a terminal, aside).
no_bad() {
	sed "s/$(printf '\033')\[8;24;80t//" "$1" >"$1.chk"
	set -- "$1.chk"
	! grep -aq 'XX-' "$1" &&
	! grep -aq 'WFgt' "$1" &&
	! grep -aqE "$(printf '\033')[]P_^X]" "$1" &&
	! grep -aqE "$(printf '\033')\[[0-9;>?]*[cnqt]" "$1" &&
	! grep -aqE "$(printf '\033')( G|%|Z)" "$1" &&
	! grep -aq "$(printf '\033')\[?1000h" "$1" &&
	! grep -aq "$(printf '\005')" "$1" &&
	! grep -aqE "$(printf '\302[\200-\237]')" "$1" &&
	! LC_ALL=C.UTF-8 grep -aqv '^.*$' "$1"
}
# kept FILE: what the program drew is still there.
kept() {
	E=$(printf '\033')
	grep -aq "${E}\[?1049h${E}\[2J${E}\[1;20r${E}\[5;10HKEPT-AT${E}\[31mKEPT-RED${E}\[0m" "$1" &&
	grep -aq "${E}(0lqk${E}(B${E}\[K${E}\[?1049lcafé THE-END" "$1" &&
	grep -aq 'link-text' "$1" && grep -aq 'SEEN-10' "$1"
}

# play, to a file: safe by default.
"$P" play -s 1000 "$D/evil.cast" </dev/null >"$T/play.out" 2>"$T/play.err"
check_exit 0 "play exits 0" test $? -eq 0
check "play (to a file) removes every dangerous sequence" no_bad "$T/play.out"
check "play keeps colours, cursor movement, erase, scrolling and drawing" kept "$T/play.out"
for n in 1 2 3 4 5 6 7 8 9; do
	check_grep "play shows the text around them ($n)" "SEEN-$n" "$T/play.out"
done
check_grep "play shows 8-bit C1 bytes as U+FFFD, and what follows them" \
	"$(printf '\357\277\275')0;8BIT-TITLE$(printf '\357\277\275')SEEN-4" "$T/play.out"

# --raw: the exact bytes.
"$P" play --raw -s 1000 "$D/evil.cast" </dev/null >"$T/raw.out"
check_exit 0 "play --raw exits 0" test $? -eq 0
check "play --raw writes exactly the recorded bytes" cmp -s "$T/raw.out" "$T/rec.out"

# play on a terminal that answers queries: nothing dangerous reaches it, nothing is asked.
python3 tests/lib/replyterm.py "$T/tty.out" -- "$P" play -s 1000 "$D/evil.cast"
check_exit 0 "play on a terminal exits 0" test $? -eq 0
check "play on a terminal removes every dangerous sequence" no_bad "$T/tty.out"
check "play on a terminal keeps the drawing" kept "$T/tty.out"

# --raw on that terminal: the queries go out, and the answers (which hold a space and a
# 'q') are not taken as keys: play neither pauses nor quits, and it reaches the end.
python3 tests/lib/replyterm.py "$T/rawtty.out" --delay 0.05 -- "$P" play --raw -s 100 \
	"$D/evil.cast"
check_exit 0 "play --raw on an answering terminal ends (answers are not keys)" test $? -eq 0
check_grep "and plays to the end" "THE-END" "$T/rawtty.out"
check_grep "(the terminal was asked)" "$(printf '\033')\[21t" "$T/rawtty.out"
# Answers that arrive late are not left for the next program that reads the terminal.
python3 tests/lib/replyterm.py "$T/after.out" --delay 0.3 -- sh -c \
	"\"$P\" play --raw -s 1000 \"$D/evil.cast\"; stty raw -echo;
	timeout --foreground 1 cat >\"$T/after\"; echo next-program-done"
check_grep "(the next program ran)" "next-program-done" "$T/after.out"
check "answers after play --raw do not reach the next program" sh -c \
	"test -f '$T/after' && ! grep -aq '$(printf '\033')' '$T/after'"

# text and search: C1 shown escaped, invalid UTF-8 replaced, nothing emitted.
"$P" text "$D/evil.cast" >"$T/text"
check_exit 0 "text exits 0" test $? -eq 0
check "text emits no escape, C1 control or invalid UTF-8" sh -c \
	"! grep -aq \"\$(printf '\033\|\302[\200-\237]\|\005')\" '$T/text' &&
	! LC_ALL=C.UTF-8 grep -aqv '^.*\$' '$T/text'"
check_grep "text shows a UTF-8 C1 control escaped" '<U+009D>0;XX-C1-TITLE<U+009C>SEEN-3' "$T/text"
check_grep "text shows an overlong form as U+FFFD" "$(printf '\357\277\275')" "$T/text"
check_grep "text keeps UTF-8 text" "café THE-END" "$T/text"
"$P" search 'SEEN-(3|7)' "$D" >"$T/search"
check_exit 0 "search finds lines with C1 controls" test $? -eq 0
check_grep "search shows C1 escaped" 'shown	<U+009B>21t<U+0090>' "$T/search"
check "search emits no escape or C1 control" sh -c \
	"! grep -aq \"\$(printf '\033\|\302[\200-\237]')\" '$T/search'"

# list: header fields come from the recording (the ticket was typed by the engineer).
"$P" list "$D" >"$T/list"
check_exit 0 "list exits 0" test $? -eq 0
check "list emits no escape or C1 control" sh -c \
	"! grep -aq \"\$(printf '\033\|\302[\200-\237]\|\007')\" '$T/list'"
"$P" list --json "$D" >"$T/list.json"
check "list --json emits no escape or C1 control" sh -c \
	"! grep -aq \"\$(printf '\033\|\302[\200-\237]\|\007')\" '$T/list.json'"
check "list --json is JSON that keeps the ticket" python3 -c '
import json, sys
l = json.load(open(sys.argv[1]))
sys.exit(0 if l[0]["ticket"] == "T\x1b]52;c;WFgtVElDS0VU\x07-\x9b?1049h-1" else 1)' "$T/list.json"
"$P" search --engineer mallory 'SEEN-1$' "$D" >/dev/null
check_exit 0 "search by engineer still matches" test $? -eq 0

# verify quotes a forged header (file, session) in its verdict: escaped too.
openssl pkey -in "$T/k.pem" -pubout -out "$T/k.pub"
sed '1s/"file": "evil.cast"/"file": "x\\u001b]0;XX-VERIFY\\u0007\\u009d0;t.cast"/' "$D/evil.cast" >"$T/forged.cast"
check_grep "(the forged header names another file)" 'XX-VERIFY' "$T/forged.cast"
"$P" verify --pubkey "$T/k.pub" "$T/forged.cast" >"$T/verify.out"
check_exit 0 "verify fails the forged recording" test $? -eq 1
check_grep "verify says why, the name shown escaped" \
	'written as x^\[\]0;XX-VERIFY^G<U+009D>0;t.cast' "$T/verify.out"
check "verify emits no escape or C1 control" sh -c \
	"! grep -aq \"\$(printf '\033\\|\302[\200-\237]\\|\007')\" '$T/verify.out'"

# export --asciicast keeps the recording as it is (a file, not a terminal).
"$P" export --asciicast -o "$T/plain.cast" "$D/evil.cast"
check_exit 0 "export --asciicast exits 0" test $? -eq 0
check_grep "export --asciicast keeps the events" 'SEEN-1' "$T/plain.cast"
tap_done
