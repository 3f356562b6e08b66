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
# What the recording holds of the output (its last line may be cut short):
# the engineer got that, and past it no more than what may wait for the
# recorder's thread when the disk fills, the window mspgated(8) documents
# (456 KiB of recording, REC_WRITER_BACKLOG; random bytes are recorded as
# base64, so fewer of them: this bound is loose for them, never too tight).
WINDOW=466944
cast=$(ls -S "$GW_REC"/*.cast | head -1)
python3 tests/lib/castout.py "$cast" >"$T/recorded"
rec=$(stat -c %s "$T/recorded")
check "the recording holds part of the output ($rec bytes of $got shown)" \
	test "$rec" -gt 100000
check "...the start of what the engineer got, byte for byte" \
	cmp -s -n "$((rec < got ? rec : got))" "$T/recorded" "$T/big"
check "the engineer got no more than the recording holds and the window ($got - $rec <= $WINDOW)" \
	test $((got - rec)) -le "$WINDOW"
check_grep_soon "the audit log has the session's end and why" \
	'"session_end".*the recording failed' "$GW_AUDIT"

# The gateway itself goes on: room again, a session runs.
umount "$GW_REC"
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo again' </dev/null >"$T/o3" 2>"$T/e3"
check_exit 0 "with room again, the next session runs" test $? -eq 0
check_grep "...and its output came back" '^again$' "$T/o3"
tap_done
