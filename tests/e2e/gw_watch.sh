#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# mspgatectl watch: a live session seen read-only from a second terminal,
# joined mid-session, within a second, hostile bytes neutralised, and a
# stalled watcher that never slows the session.
. tests/lib/tap.sh
. tests/lib/gw.sh
gw_need_root

gw_setup || { fail "gateway test setup"; tap_done; exit 1; }
gw_write_policy
start_mspgated
now_ms() { date +%s%3N; }
has() { grep -q -a -e "$1" "$2" 2>/dev/null; }

# The session: output before anyone watches, then, when the test says so
# ($T/go), output with hostile sequences (OSC 52 sets the clipboard, CSI 6n
# makes the terminal answer as if typed), then (at $T/go2) 4 MB of text,
# then it waits for $T/stop. The target is this machine: it sees $T.
cmd="echo early-output-1; \
while [ ! -e $T/go ]; do sleep 0.05; done; \
printf 'late-output\\033]52;c;aGVsbG8=\\007\\033[6n\\033]0;title\\007-END\\n'; \
while [ ! -e $T/go2 ]; do sleep 0.05; done; \
head -c 3000000 /dev/zero | base64; echo bulk-done; \
while [ ! -e $T/stop ]; do sleep 0.1; done; echo bye"
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND="$cmd" </dev/null >"$T/eng.out" 2>"$T/eng.err" &
sess=$!
tap_wait 30 has early-output-1 "$T/eng.out"
check "the engineer's session runs" has early-output-1 "$T/eng.out"
gw_wait_sessions 1
id=$(gw_ctl list | awk 'NR == 2 { print $1 }')
check "the session is listed" test -n "$id"

# Who may not use the control socket may not watch either.
runuser -u "$GW_ENG" -- "$BIN/mspgatectl" -s "$GW_CTL" watch "$id" >/dev/null 2>"$T/eng-watch.err"
check_exit 0 "the engineer cannot watch (exit 3)" test $? -eq 3
gw_ctl watch nosuch-id >/dev/null 2>"$T/nosuch.err"
check_exit 0 "no such session: exit 1" test $? -eq 1

# Watcher A, on a terminal of its own (a pty): joins mid-session.
python3 - "$BIN/mspgatectl" "$GW_CTL" "$id" "$T/wa.out" <<'EOF' &
import os, pty, sys, select
prog, ctl, sid, out = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execv("/bin/sh", ["sh", "-c", '"$0" -s "$1" watch "$2"; echo; stty -a', prog, ctl, sid])
with open(out, "wb", buffering=0) as f:
    while True:
        # q once the hostile line has come and the test asks ($out.q).
        if os.path.exists(out + ".q"):
            os.write(fd, b"q")
            os.unlink(out + ".q")
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                d = os.read(fd, 65536)
            except OSError:
                break
            if not d:
                break
            f.write(d)
os.waitpid(pid, 0)
EOF
wa=$!
tap_wait 30 has early-output-1 "$T/wa.out"
check "watcher A (a terminal) joins mid-session: earlier output redrawn" has early-output-1 "$T/wa.out"
check "watcher A is told it watches read-only" has "watching $id (read-only" "$T/wa.out"

# Watcher B, piped, then stalled.
# (mspgatectl itself, not a shell function around it: the signals are for it.)
"$BIN/mspgatectl" -s "$GW_CTL" watch "$id" >"$T/wb.out" 2>"$T/wb.err" &
wb=$!
tap_wait 30 has early-output-1 "$T/wb.out"

t0=$(now_ms)
touch "$T/go"
tap_wait 10 has -END "$T/wa.out"
t1=$(now_ms)
check "watcher A sees new output within 1 s ($((t1 - t0)) ms)" test $((t1 - t0)) -le 1000
check "the hostile line is shown" has 'late-output' "$T/wa.out"
printf '\033]52' >"$T/osc52"
printf '\033[6n' >"$T/dsr"
printf '\033]0;' >"$T/osc0"
check "OSC 52 (clipboard) never reaches the watcher's terminal" sh -c "! grep -q -a -F -f '$T/osc52' '$T/wa.out'"
check "CSI 6n (a query) never reaches it" sh -c "! grep -q -a -F -f '$T/dsr' '$T/wa.out'"
check "nor a title string" sh -c "! grep -q -a -F -f '$T/osc0' '$T/wa.out'"
check "the engineer got the bytes as they were" grep -q -a -F -f "$T/osc52" "$T/eng.out"
tap_wait 10 has -END "$T/wb.out"
check "watcher B (piped) sees it too, filtered" sh -c "has() { grep -q -a -e \"\$1\" \"\$2\"; }; has -END '$T/wb.out' && ! grep -q -a -F -f '$T/osc52' '$T/wb.out'"

# q ends watcher A; its terminal is as before (canonical, echo).
touch "$T/wa.out.q"
n=0
while kill -0 "$wa" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
check "q ends watching" sh -c "! kill -0 $wa 2>/dev/null"
check "it says so" has "stopped watching $id" "$T/wa.out"
check "the terminal is restored (icanon)" sh -c "grep -a -w 'icanon' '$T/wa.out' | grep -q -v -e '-icanon'"
check "the terminal is restored (echo)" sh -c "grep -a -w 'echo' '$T/wa.out' | grep -q -v -e '-echo '"

# A stalled watcher does not slow the session: B stopped, 4 MB of output.
kill -STOP "$wb"
check "watcher B is stopped" sh -c "grep -q '^State:.*T' /proc/$wb/status"
t0=$(now_ms)
touch "$T/go2"
tap_wait 60 has bulk-done "$T/eng.out"
t1=$(now_ms)
check "with watcher B stopped the session's 4 MB reach the engineer ($((t1 - t0)) ms)" \
	has bulk-done "$T/eng.out"
check "... in a time of the session's own (under 20 s)" test $((t1 - t0)) -lt 20000
kill -CONT "$wb"
tap_wait 60 has bulk-done "$T/wb.out"
check "watcher B, continued, catches up" has bulk-done "$T/wb.out"

# Ctrl-C (SIGINT) ends a watcher the same way.
"$BIN/mspgatectl" -s "$GW_CTL" watch "$id" >"$T/wc.out" 2>"$T/wc.err" &
wc=$!
tap_wait 30 has bulk-done "$T/wc.out"
kill -INT "$wc"
wait "$wc"
check_exit 0 "Ctrl-C ends watching: exit 0" test $? -eq 0
check "... and says so" has "stopped watching $id" "$T/wc.err"

# The session ends: B notices and ends by itself.
touch "$T/stop"
wait "$sess"
check_exit 0 "the session ended normally" test $? -eq 0
n=0
while kill -0 "$wb" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
check "watcher B ends with the session" sh -c "! kill -0 $wb 2>/dev/null"
check "... and says so" has "session $id ended" "$T/wb.err"

check_grep_soon "audit: watch start, naming who" \
	"\"event\":\"watch\",\"session\":\"$id\".*\"result\":\"start\",\"reason\":\"watched by root (uid 0)\"" "$GW_AUDIT"
tap_wait 30 sh -c "[ \$(grep -c '\"event\":\"watch\".*\"result\":\"stop\"' '$GW_AUDIT') -ge 3 ]"
check "audit: each of the three watchers' stop" \
	test "$(grep -c '"event":"watch".*"result":"stop"' "$GW_AUDIT")" -eq 3
check "audit: three starts" test "$(grep -c '"event":"watch".*"result":"start"' "$GW_AUDIT")" -eq 3
gw_verify_recordings
check_exit 0 "the recording verifies" test $? -eq 0
check "no sanitizer or valgrind report" gw_no_reports
tap_done
