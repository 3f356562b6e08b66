#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# mspgated features: window resize, the picker, tickets, MFA, sftp, time limit, fail closed.
. tests/lib/tap.sh
. tests/lib/gw.sh
gw_need_root

gw_setup || { fail "gateway test setup"; tap_done; exit 1; }
gw_write_policy
start_mspgated || { fail "mspgated starts"; tap_done; exit 1; }

# A pty session: the remote side sees the size, and a resize.
gw_pty 'expect:\$ ' 'send:stty size\n' 'expect:24 80' 'resize:100x30' \
	'send:stty size\n' 'expect:30 100' 'send:exit 0\n' -- \
	"$T/as-engineer" MSPGATE_TARGET=t1/box >"$T/o1" 2>&1
check_exit 0 "pty: size and resize reach the target" test $? -eq 0
[ $? -eq 0 ] || sed 's/^/# /' "$T/o1" | tail -5
rec=$(gw_last_recording)
check_grep "pty: the resize is in the recording" '"r", "100x30"' "$rec"

# The picker: no target on a terminal lists what may be reached now.
gw_pty 'expect:Number or tenant/target' 'send:t1/box\n' 'expect:\$ ' \
	'send:echo picked-$((40+2))\n' 'expect:picked-42' 'send:exit 4\n' -- \
	"$T/as-engineer" >"$T/o2" 2>&1
check_exit 0 "picker: the chosen target's session ran (exit 4)" test $? -eq 4
check_grep "picker: lists a reachable target" 't1/box' "$T/o2"
check "picker: does not list a target not granted" sh -c "! grep -q 't3/box' '$T/o2'"
check "picker: does not list a target outside its window" sh -c "! grep -q 't2/box' '$T/o2'"

# Tickets.
gw_shell MSPGATE_TARGET=t5/box SSH_ORIGINAL_COMMAND=true </dev/null >/dev/null 2>"$T/e3"
check_exit 0 "ticket required, none given, no tty: exit 255" test $? -eq 255
check_grep "ticket required: says how to give one" 'a ticket is required: set MSPGATE_TICKET' "$T/e3"
gw_shell MSPGATE_TARGET=t5/box MSPGATE_TICKET=CHG-1234 SSH_ORIGINAL_COMMAND='echo with-ticket' \
	</dev/null >"$T/o4" 2>"$T/e4"
check_exit 0 "ticket given: the session runs" test $? -eq 0
check_grep_soon "ticket given: in the audit log" '"session_start".*"ticket":"CHG-1234"' "$GW_AUDIT"
gw_shell MSPGATE_TARGET=t5/box "MSPGATE_TICKET=CHG;rm" SSH_ORIGINAL_COMMAND=true \
	</dev/null >/dev/null 2>"$T/e5"
check_exit 0 "a malformed ticket is refused" test $? -eq 255
gw_pty 'expect:Ticket: ' 'send:INC-77\n' 'expect:asked-ticket' -- \
	"$T/as-engineer" MSPGATE_TARGET=t5/box \
	SSH_ORIGINAL_COMMAND='echo asked-ticket' >"$T/o6" 2>&1
rc=$?
check_exit 0 "ticket asked on the terminal" test $rc -eq 0
# What the terminal showed, when it went wrong.
[ $rc -eq 0 ] || sed 's/^/#   /' "$T/o6"
check_grep_soon "asked ticket: in the audit log" '"ticket":"INC-77"' "$GW_AUDIT"

# MFA: the grant wants FIDO; this login used a plain key and TOTP.
gw_shell MSPGATE_TARGET=t6/box SSH_ORIGINAL_COMMAND=true </dev/null >/dev/null 2>"$T/e7"
check_exit 0 "FIDO required, not used: exit 255" test $? -eq 255
check_grep "FIDO required: says so" 'not permitted: the grant requires MFA fido' "$T/e7"

# sftp: the real sftp client, through mspgate-shell as sshd would run it.
printf '#!/bin/sh\nexec %s MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND=internal-sftp\n' \
	"$T/as-engineer" >"$T/sftp-via-gw"
chmod 0755 "$T/sftp-via-gw"
printf 'sftp-payload\n' >"$T/up.txt"
chmod 0644 "$T/up.txt"
printf 'put %s up.txt\nget up.txt %s\n' "$T/up.txt" "$T/down.txt" >"$T/batch"
sftp -q -D "$T/sftp-via-gw" -b "$T/batch" >"$T/o8" 2>&1
check_exit 0 "sftp: put and get through the gateway" test $? -eq 0
check "sftp: the file arrived on the target" \
	cmp -s "$T/up.txt" "$T/home/$GW_TUSER/up.txt"
check "sftp: and came back" cmp -s "$T/up.txt" "$T/down.txt"
check_grep "sftp: recorded as the sftp subsystem" '"command": "subsystem sftp"' "$(gw_last_recording)"

# Time limit: max_session 3s ends a long command, and the target process.
start=$(date +%s)
gw_shell MSPGATE_TARGET=t4/box SSH_ORIGINAL_COMMAND='sleep 60' </dev/null >/dev/null 2>"$T/e9"
rc=$?
took=$(($(date +%s) - start))
check_exit 0 "max session: exit 255" test $rc -eq 255
check_grep "max session: says why" 'session ended: the maximum session time was reached' "$T/e9"
check "max session: ended in time ($took s)" test "$took" -le 8
n=0
while pgrep -u "$GW_TUSER" -x sleep >/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
check "max session: the remote command is gone" sh -c "! pgrep -u '$GW_TUSER' -x sleep >/dev/null"
check_grep "max session: marker in the recording" 'maximum session time' "$(gw_last_recording)"

# Fail closed: recordings cannot be written -> no session, no remote command.
chmod 0500 "$GW_REC"
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND="touch $T/home/$GW_TUSER/ran" \
	</dev/null >/dev/null 2>"$T/e10"
check_exit 0 "recording unavailable: exit 255" test $? -eq 255
check_grep "recording unavailable: says so" '^mspgate: recording unavailable' "$T/e10"
check "recording unavailable: nothing ran on the target" test ! -e "$T/home/$GW_TUSER/ran"
chmod 0700 "$GW_REC"

# The reader of the engineer's output goes away (sshd closing its pipes).
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='yes' </dev/null 2>"$T/e12" | head -c 10 >"$T/o12"
n=0
while pgrep -u "$GW_TUSER" -x yes >/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
check "output closed: the remote command is gone" sh -c "! pgrep -u '$GW_TUSER' -x yes >/dev/null"

# SIGTERM to mspgated: running sessions end cleanly, recordings sealed.
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='sleep 120' </dev/null >/dev/null 2>"$T/e13" &
bg=$!
n=0
while ! pgrep -u "$GW_TUSER" -x sleep >/dev/null && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
kill -TERM "$GW_DPID"
wait "$bg"
check_exit 0 "shutdown: the engineer's session ends with 255" test $? -eq 255
check_grep "shutdown: says why" 'the gateway is shutting down' "$T/e13"
n=0
while pgrep -u "$GW_TUSER" -x sleep >/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
check "shutdown: the remote command is gone" sh -c "! pgrep -u '$GW_TUSER' -x sleep >/dev/null"
check_grep_soon "shutdown: session_end audited" '"session_end".*shutting down' "$GW_AUDIT"

# The gateway down.
kill "$GW_DPID" 2>/dev/null
n=0
while kill -0 "$GW_DPID" 2>/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND=true </dev/null >/dev/null 2>"$T/e11"
check_exit 0 "gateway service down: exit 255" test $? -eq 255
check_grep "gateway service down: says so" '^mspgate: the gateway service is not running' "$T/e11"

gw_verify_recordings
check_exit 0 "every recording verifies" test $? -eq 0
check "no sanitizer or valgrind report" gw_no_reports
tap_done
