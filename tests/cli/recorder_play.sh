#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# mspgate-replay play on a terminal: resizes recorded in the session are applied.
. tests/lib/tap.sh

openssl genpkey -algorithm ed25519 -out "$T/k.pem" 2>/dev/null
R="$BIN/mspgate-record"
P="$BIN/mspgate-replay"
ESC=$(printf '\033')

# A session on a real terminal (script(1) gives one) that is resized while it runs:
# stty changes the terminal's size and the kernel sends SIGWINCH to the recorder
# (a job started with & reads /dev/null unless told otherwise). The resize comes
# once the recording has begun; the session ends once the resize has reached it.
cat >"$T/inner" <<EOF
#!/bin/sh
n=0
while [ "\$(stty size)" != "43 132" ] && [ \$n -lt 600 ]; do sleep 0.1; n=\$((n + 1)); done
echo after-resize
EOF
cat >"$T/outer" <<EOF
#!/bin/sh
stty cols 100 rows 30
"$R" -q --key "$T/k.pem" -o "$T/rs.cast" -- sh "$T/inner" </dev/tty &
n=0
while [ ! -s "$T/rs.cast" ] && [ \$n -lt 600 ]; do sleep 0.1; n=\$((n + 1)); done
stty cols 132 rows 43
wait
EOF
script -q -e -c "sh $T/outer" /dev/null </dev/null >"$T/rec.out" 2>&1
check_exit 0 "a session is recorded on a terminal" test $? -eq 0
check_grep "the header has the starting size" '"width": 100, "height": 30' "$T/rs.cast"
check_grep "the resize is recorded" '"r", "132x43"' "$T/rs.cast"

# Played on an 80x24 terminal: the sizes are asked for, and it says the terminal is too small.
script -q -e -c "stty cols 80 rows 24; \"$P\" play -s 100 \"$T/rs.cast\" </dev/null" \
	/dev/null </dev/null >"$T/play.out" 2>&1
check_exit 0 "play on a terminal exits 0" test $? -eq 0
check_grep "play asks the terminal for the recorded size" "${ESC}\[8;30;100t" "$T/play.out"
check_grep "play applies the resize" "${ESC}\[8;43;132t" "$T/play.out"
check_grep "play says when the terminal stays smaller" \
	"the session is 132x43 here, this terminal is 80x24" "$T/play.out"
check_grep "play draws the output after the resize" "after-resize" "$T/play.out"

# Piped, play writes exactly the recorded output bytes (no resize requests).
"$P" play -s 100 "$T/rs.cast" </dev/null >"$T/pipe.out" 2>/dev/null
check "piped play has no resize sequence" sh -c "! grep -q '${ESC}\[8;' '$T/pipe.out'"
check_grep "piped play draws the output" "after-resize" "$T/pipe.out"
tap_done
