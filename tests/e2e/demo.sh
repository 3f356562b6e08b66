#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# make demo as a user runs it, minus the waiting: it starts, one session
# goes through it (FIDO + TOTP), recordings verify, and it leaves nothing.
. tests/lib/tap.sh
if [ "$(id -u)" -ne 0 ]; then
	echo "ok 1 # SKIP the demo needs root"; echo "1..1"; exit 0
fi
# gone TAG: none of the demo's accounts, PAM file or run directory is left.
gone() {
	! getent passwd "${1}e" "${1}t" "${1}d" >/dev/null && [ ! -e "/etc/pam.d/mspgate-$1" ] &&
	    [ ! -e "/run/$1" ]
}
MSPGATE_DEMO_SELFTEST=1 sh tests/lib/demo.sh "$MG_BUILD" </dev/null >"$T/demo.out" 2>&1
rc=$?
check "demo runs a session and exits 0" test $rc -eq 0
check_grep "the session reached the target" "^demo-session-ok$" "$T/demo.out"
check_grep "its recording and the audit log verify" ": OK" "$T/demo.out"
# The target login is TAGt: the session printed it (id -un).
tag=$(sed -n 's/^\(mgt[0-9]*\)t$/\1/p' "$T/demo.out" | head -1)
check "demo named its throwaway accounts" test -n "$tag"
check "demo removed its accounts, PAM service file and run directory" gone "$tag"
sh tests/lib/demo.sh "$MG_BUILD" </dev/null >"$T/demo2.out" 2>&1 &
pid=$!
n=0
while ! grep -q "demo gateway is running" "$T/demo2.out" && [ $n -lt 600 ]; do sleep 0.1; n=$((n+1)); done
check_grep "demo prints the ssh command" "^   ssh -F /dev/null -p [0-9]* -i .*engineer_sk .*SetEnv=MSPGATE_TARGET=acme/web01 " "$T/demo2.out"
check_grep "demo prints the replay command" "mspgate-replay verify --pubkey" "$T/demo2.out"
kill -INT $pid 2>/dev/null; kill -TERM $pid 2>/dev/null
wait $pid
tag=$(sed -n 's/.*As the MSP engineer "\(mgt[0-9]*\)e".*/\1/p' "$T/demo2.out" | head -1)
check "stopped demo named its engineer" test -n "$tag"
check "stopped demo removed everything it made" gone "$tag"
tap_done
