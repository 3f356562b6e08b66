#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Fail closed when the recording cannot be written mid-session: the
# recordings directory is a 1 MB tmpfs (this test's own mount), a command
# prints 8 MB of random bytes, the disk fills. The session ends, says why,
# and the engineer got no more than the recording could hold: output is
# recorded (by the relay's writer thread) before it is shown.
. tests/lib/tap.sh
. tests/lib/gw.sh
gw_need_root

gw_setup || { fail "gateway test setup"; tap_done; exit 1; }
gw_write_policy
mount -t tmpfs -o "size=1m,mode=0700,uid=$(id -u "$GW_DAEMON")" mgrecfull "$GW_REC" ||
	{ fail "a 1 MB tmpfs for the recordings"; tap_done; exit 1; }
trap 'umount "$GW_REC" 2>/dev/null; gw_cleanup' EXIT
start_mspgated
check "mspgated listens on its socket" test -S "$GW_SOCK"

# A small session still fits: recorded, sealed, verified.
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo fits' </dev/null >"$T/o1" 2>"$T/e1"
check_exit 0 "a small session runs" test $? -eq 0
check_grep "...and its output came back" '^fits$' "$T/o1"

gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='head -c 8000000 /dev/urandom' \
	</dev/null >"$T/big" 2>"$T/ebig"
check_exit 0 "a full disk ends the session (exit 255)" test $? -eq 255
check_grep "...and says why" '^mspgate: session ended: the recording failed' "$T/ebig"
got=$(stat -c %s "$T/big")
# Random bytes are recorded as base64 (1.34x): 1 MB of disk holds at most
# 782 KB of them. What was queued for the recorder when the disk filled may
# have been shown too (the documented window, at most about 260 KiB; seen
# here up to 913408 in all, on a busy machine). A relay that went on
# showing after the failure showed 1093632: more than 1000000 is that.
check "the engineer got no more than the recording could hold ($got bytes)" \
	test "$got" -le 1000000
check_grep_soon "the audit log has the session's end and why" \
	'"session_end".*the recording failed' "$GW_AUDIT"

# The gateway itself goes on: room again, a session runs.
umount "$GW_REC"
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo again' </dev/null >"$T/o3" 2>"$T/e3"
check_exit 0 "with room again, the next session runs" test $? -eq 0
check_grep "...and its output came back" '^again$' "$T/o3"
tap_done
