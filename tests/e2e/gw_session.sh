#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# mspgate-shell -> mspgated -> a real target sshd: exec, pty, refusals, recordings.
. tests/lib/tap.sh
. tests/lib/gw.sh
gw_need_root

gw_setup || { fail "gateway test setup"; tap_done; exit 1; }
gw_write_policy
"$BIN/mspgated" -t -f "$GW_POLICY" 2>"$T/t.err"
check_exit 0 "mspgated -t accepts the policy" test $? -eq 0
start_mspgated
check "mspgated listens on its socket" test -S "$GW_SOCK"
check "the socket is open to every local user" \
	sh -c "stat -c %a '$GW_SOCK' | grep -qx 666"

# exec: stdin, stdout, stderr apart, exit status.
printf 'hello-stdin\n' | gw_shell MSPGATE_TARGET=t1/box \
	SSH_ORIGINAL_COMMAND='cat; echo to-stderr >&2; exit 3' >"$T/o1" 2>"$T/e1"
check_exit 0 "exec: remote exit status 3 comes back" test $? -eq 3
check_grep "exec: stdin reached the command and stdout came back" '^hello-stdin$' "$T/o1"
check_grep "exec: stderr came back on stderr" '^to-stderr$' "$T/e1"
check "exec: stderr is not mixed into stdout" sh -c "! grep -q to-stderr '$T/o1'"

# The target word on the command line instead of MSPGATE_TARGET.
gw_shell SSH_ORIGINAL_COMMAND='t1/box echo from-cmdline' </dev/null >"$T/o2" 2>"$T/e2"
check_exit 0 "command-line target: exit 0" test $? -eq 0
check_grep "command-line target: output" '^from-cmdline$' "$T/o2"

# Exit signal: 128+N like a local shell.
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='kill -TERM $$' </dev/null \
	>"$T/o3" 2>"$T/e3"
check_exit 0 "exec: a command killed by SIGTERM gives 143" test $? -eq 143

# A pty shell: typing, the remote shell's exit code.
printf 'echo typed-$((6*7))\nexit 7\n' | script -qec \
	"$T/as-engineer MSPGATE_TARGET=t1/box" \
	/dev/null >"$T/o4" 2>&1
check_exit 0 "pty: the shell's exit code 7 comes back" test $? -eq 7
check_grep "pty: the typed command ran remotely" 'typed-42' "$T/o4"

# Refusals: one line each, exit 255.
gw_shell MSPGATE_TARGET=t3/box SSH_ORIGINAL_COMMAND=true </dev/null >/dev/null 2>"$T/e5"
check_exit 0 "not permitted: exit 255" test $? -eq 255
check_grep "not permitted: says why" '^mspgate: not permitted: no grant' "$T/e5"
check "not permitted: one line" test "$(wc -l <"$T/e5")" -eq 1

gw_shell MSPGATE_TARGET=t2/box SSH_ORIGINAL_COMMAND=true </dev/null >/dev/null 2>"$T/e6"
check_exit 0 "outside the window: exit 255" test $? -eq 255
check_grep "outside the window: says so" '^mspgate: not permitted: outside the access window' "$T/e6"

gw_shell MSPGATE_TARGET=t1/nosuch SSH_ORIGINAL_COMMAND=true </dev/null >/dev/null 2>"$T/e7"
check_exit 0 "unknown target: exit 255" test $? -eq 255
check_grep "unknown target: says so" '^mspgate: unknown target t1/nosuch' "$T/e7"

gw_shell MSPGATE_TARGET=t1/badkey SSH_ORIGINAL_COMMAND=true </dev/null >/dev/null 2>"$T/e8"
check_exit 0 "host key mismatch: exit 255" test $? -eq 255
check_grep "host key mismatch: says so" '^mspgate: target host key mismatch' "$T/e8"
check_grep_soon "host key mismatch: audited as an alert" '"alert"' "$GW_AUDIT"

gw_shell MSPGATE_TARGET=t1/down SSH_ORIGINAL_COMMAND=true </dev/null >/dev/null 2>"$T/e9"
check_exit 0 "target down: exit 255" test $? -eq 255
check_grep "target down: says unreachable" '^mspgate: target unreachable: t1/down' "$T/e9"

gw_shell SSH_ORIGINAL_COMMAND=true </dev/null >/dev/null 2>"$T/e10"
check_exit 0 "no target and no tty: exit 255" test $? -eq 255
check_grep "no target: says how to give one" '^mspgate: no target given' "$T/e10"

# The engineer's side goes away mid-command: the target process goes too.
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='sleep 300; echo never' \
	</dev/null >"$T/o11" 2>"$T/e11" &
bg=$!
n=0
while ! pgrep -u "$GW_TUSER" -x sleep >/dev/null && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
check "disconnect: the remote command runs" sh -c "pgrep -u $GW_TUSER -x sleep >/dev/null"
shpid=$(pgrep -u "$GW_ENG" -f mspgate-shell | head -1)
[ -n "$shpid" ] && kill -9 "$shpid"
wait "$bg" 2>/dev/null
n=0
while pgrep -u "$GW_TUSER" -x sleep >/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
check "disconnect: the remote command is gone within 30 s" sh -c "! pgrep -u '$GW_TUSER' -x sleep"

# Audit and recordings, once every session has ended (and so has written
# its recording and audit events).
check "every session ended" gw_wait_sessions 0
check_grep_soon "audit: denied events" '"denied"' "$GW_AUDIT"
check_grep_soon "audit: session_start" '"session_start"' "$GW_AUDIT"
check_grep_soon "audit: session_end with a seal" '"session_end".*sha256:' "$GW_AUDIT"
gw_verify_recordings
check_exit 0 "every recording verifies" test $? -eq 0
[ $? -eq 0 ] || sed 's/^/# /' "$T/verify.out"
for f in "$GW_REC"/*.cast; do "$BIN/mspgate-replay" text "$f"; done >"$T/alltext" 2>&1
check_grep "replay text shows exec output" 'hello-stdin' "$T/alltext"
check_grep "replay text shows the pty session" 'typed-42' "$T/alltext"
check "the engineer cannot read the recordings" \
	sh -c "! runuser -u '$GW_ENG' -- ls '$GW_REC' >/dev/null 2>&1"

kill "$GW_DPID"
n=0
while kill -0 "$GW_DPID" 2>/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
check "SIGTERM stops mspgated" sh -c "! kill -0 $GW_DPID 2>/dev/null"
check "no sanitizer or valgrind report" gw_no_reports
tap_done
