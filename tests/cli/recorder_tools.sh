#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# mspgate-record and mspgate-replay as a user runs them, including a real `asciinema cat`.
. tests/lib/tap.sh
# gw_pty: a scripted terminal (nothing else of the gateway helpers is used).
. tests/lib/gw.sh

openssl genpkey -algorithm ed25519 -out "$T/k.pem" 2>/dev/null
openssl pkey -in "$T/k.pem" -pubout -out "$T/k.pub"
openssl genpkey -algorithm ed25519 -out "$T/other.pem" 2>/dev/null
openssl pkey -in "$T/other.pem" -pubout -out "$T/other.pub"
R="$BIN/mspgate-record"
P="$BIN/mspgate-replay"
D="$T/rec"
mkdir -p "$D"

# Record a short session fed from a pipe (no terminal needed).
printf 'echo hello-from-mspgate\nprintf "caf\\303\\251\\n"\nexit 3\n' |
	"$R" -q --key "$T/k.pem" -o "$D/s1.cast" --meta engineer=alice --meta tenant=acme \
	--meta target=web01 --meta ticket=INC-7 -- sh >"$T/out1" 2>"$T/err1"
check_exit 0 "record exits with the command's status" test $? -eq 3
check_grep "the command's output reaches the user" "hello-from-mspgate" "$T/out1"
check_grep "header names the engineer" '"engineer": "alice"' "$D/s1.cast"

"$P" verify --pubkey "$T/k.pub" "$D/s1.cast" >"$T/v1"
check_exit 0 "verify exits 0 for an intact recording" test $? -eq 0
check_grep "verify prints OK" "s1.cast: OK" "$T/v1"

# Debian's asciinema plays it (it needs a terminal: script(1) gives it one).
script -q -e -c "asciinema cat $D/s1.cast" /dev/null </dev/null >"$T/cat" 2>&1
check_exit 0 "asciinema cat plays the recording" test $? -eq 0
check_grep "asciinema cat shows the output" "hello-from-mspgate" "$T/cat"
check_grep "asciinema cat shows UTF-8 intact" "café" "$T/cat"

"$P" text "$D/s1.cast" >"$T/text"
check_grep "text shows the session" "hello-from-mspgate$" "$T/text"
check "text has no escape or carriage return" sh -c "! grep -q \"$(printf '\r')\" '$T/text'"

"$P" list "$D" >"$T/list"
check_grep "list shows the session" "s1 .*alice .*acme/web01" "$T/list"
"$P" list "$D" --engineer bob >"$T/list2"
check "list filters by engineer" test "$(wc -l <"$T/list2")" -eq 1
"$P" list "$D" --json --tenant acme >"$T/list3"
check_grep "list --json" '"ticket": "INC-7"' "$T/list3"
"$P" list "$D" --until 2000-01-01 >"$T/list4"
check "list filters by date" test "$(wc -l <"$T/list4")" -eq 1

"$P" search 'hello-from' "$D" >"$T/search"
check_exit 0 "search finds a match" test $? -eq 0
check_grep "search reports typed input" "^s1	+0:00:00	typed	echo hello-from-mspgate" "$T/search"
check_grep "search reports shown output" "^s1	+0:00:00	shown	.*hello-from-mspgate" "$T/search"
"$P" search 'rclone' "$D" >/dev/null
check_exit 0 "search exits 1 without a match" test $? -eq 1
"$P" search --engineer bob 'hello-from' "$D" >"$T/search2"
check_exit 0 "search --engineer skips other engineers' sessions" test $? -eq 1
"$P" search --engineer alice --tenant acme 'hello-from' "$D" >"$T/search3"
check_grep "search --engineer --tenant finds theirs" "^s1	" "$T/search3"
"$P" search --tenant other 'hello-from' "$D" >/dev/null
check_exit 0 "search --tenant filters" test $? -eq 1

MSPGATE_RECORDINGS="$D" "$P" play -s 1000 s1 >"$T/play"
check "play by id draws exactly the recorded output" sh -c \
	"grep -q hello-from-mspgate '$T/play' && grep -q 'caf' '$T/play'"

"$P" export --asciicast -o "$T/plain.cast" "$D/s1.cast"
check "export --asciicast drops checkpoints" sh -c "! grep -q '\"c\"' '$T/plain.cast'"
script -q -e -c "asciinema cat $T/plain.cast" /dev/null </dev/null >"$T/cat2" 2>&1
check_grep "asciinema plays the export" "hello-from-mspgate" "$T/cat2"

# Tampering with the tool.
cp "$D/s1.cast" "$T/s1.cast"
sed -i 's/hello-from-mspgate/hello-from-mallory/' "$T/s1.cast"
"$P" verify --pubkey "$T/k.pub" "$T/s1.cast" >"$T/v2"
check "verify exits 1 for an edited recording" test $? -eq 1
check_grep "verify says where" "FAILED: line .*checkpoint 1 does not match" "$T/v2"
"$P" verify --pubkey "$T/other.pub" "$D/s1.cast" >"$T/v3"
check_grep "verify rejects another key" "bad signature" "$T/v3"
cp "$D/s1.cast" "$T/s2.cast"
"$P" verify --pubkey "$T/k.pub" "$T/s2.cast" >"$T/v4"
check_grep "verify catches a renamed recording" "renamed" "$T/v4"

# Password prompts: the answer is not recorded (typed once the prompt shows).
gw_pty 'expect:Password: ' 'send:hunter2\r' 'expect:got-it' -- \
	"$R" -q --key "$T/k.pem" -o "$D/pw.cast" -- sh -c 'printf "Password: "; read -r pw; echo got-it' \
	>"$T/pw.out" 2>&1
check_exit 0 "a session with a password prompt" test $? -eq 0
# (the terminal echoes what is typed; a real password prompt turns echo off)
check "typed password is not in the recorded input" sh -c "! grep -q '\"i\".*hunter2' '$D/pw.cast'"
check_grep "a marker says input was hidden" '"m", "input hidden: 8 bytes"' "$D/pw.cast"
# Echo off on the session's pty (getpass style), no prompt text at all.
gw_pty 'expect:ready' 'send:s3cr3t\r' 'expect:done' -- \
	"$R" -q --key "$T/k.pem" -o "$D/pw2.cast" -- \
	sh -c 'stty -echo; echo ready; read -r pw; stty echo; echo done' >"$T/pw2.out" 2>&1
check_exit 0 "a session with echo off" test $? -eq 0
check "echo-off input is not in the recording" sh -c "! grep -q s3cr3t '$D/pw2.cast'"
check_grep "echo-off input is counted" '"m", "input hidden: 7 bytes"' "$D/pw2.cast"

# SIGKILL: the file verifies up to its last checkpoint.
"$R" -q --key "$T/k.pem" -o "$D/killed.cast" --checkpoint-secs 1 -- \
	sh -c 'i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.1; done' \
	</dev/null >/dev/null 2>&1 &
pid=$!
tap_track_pid $pid
# Killed after its second checkpoint, with output after the first.
tap_wait 60 grep -q '"c", "mgcp1 seq=2 ' "$D/killed.cast"
check "a second checkpoint is written" test $? -eq 0
kill -9 $pid
wait $pid 2>/dev/null
"$P" verify --pubkey "$T/k.pub" "$D/killed.cast" >"$T/v5"
rc=$?
check "verify of a killed recording is not OK" test $rc -ne 0
check_grep "verify reports the verified prefix" \
	"INCOMPLETE: .*verified up to checkpoint [1-9][0-9]* (lines 1-[0-9]*" "$T/v5"

# Audit logs are verified by the same command, and an edit is located.
"$P" verify --pubkey "$T/k.pub" "$D/s1.cast" "$D/pw.cast" >"$T/v6"
check_exit 0 "verify of several files" test $? -eq 0

# The HTML export needs the player bundle; without one it says so.
check_exit 1 "export --html without the player fails" \
	"$P" export --html --player /nonexistent -o "$T/p.html" "$D/s1.cast" 2>"$T/h1"
check_grep "export --html explains" "asciinema-player.min.js" "$T/h1"

# A write error stops the session (fail closed).
ulimit -f 4 2>/dev/null
sh -c "trap '' XFSZ; yes 0123456789012345678901234567890123456789 | head -c 200000 |
	'$R' -q --key '$T/k.pem' -o '$D/full.cast' -- cat" >/dev/null 2>"$T/e7"
rc=$?
ulimit -f unlimited 2>/dev/null
check "a failed recording write ends with an error" test $rc -ne 0
check_grep "and says why" "recording failed" "$T/e7"

tap_done
