#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The socket pair between mspgated and a session process fails closed
# (gateway/gw_child.h), live: through the whole door (the stock ssh
# client, the gateway sshd with pam_mspgate, mspgate-shell, mspgated, the
# target sshd), one message at a time is spoilt or forged on its way by
# tests/lib/faultshim (preloaded into mspgated, whose session processes
# are forks). Checked each time: the engineer's ssh fails and nothing ran
# on the target (or a running session ends), the receiver says so in the
# log, the audit log has the refusal or the end, and mspgated goes on:
# the next session works.
. tests/lib/tap.sh
. tests/lib/gw.sh
gw_need_root
. tests/lib/chain.sh

gw_setup || { fail "gateway setup"; tap_done; exit 1; }
chain_setup || { fail "chain setup (PAM module, sk-soft)"; tap_done; exit 1; }
SHIM=$(abs "$MG_BUILD/lib/faultshim.so")
[ -f "$SHIM" ] || { fail "tests/lib/faultshim built"; tap_done; exit 1; }

# A security key alone (no TOTP code to spend): every case is a login of its own.
ssh-keygen -q -t ed25519-sk -w "$SK_LIB" -N '' -C eng -f "$T/eng_sk" 2>>"$T/keygen.log"
skpub=$(cut -d' ' -f1-2 "$T/eng_sk.pub")
GW_GATEWAY_EXTRA="  user = \"$GW_DAEMON\";"
gw_write_policy_fido "$skpub"
touch "$GW_AUDIT" && chown "$GW_DAEMON" "$GW_AUDIT" && chmod 0640 "$GW_AUDIT"
# The shim's trigger: a file in a directory of mspgated's user (it renames it).
mkdir -m 0700 "$T/fault" && chown "$GW_DAEMON" "$T/fault"
F="$T/fault/spec"
# A sanitizer build: its runtime must come first in mspgated (see chain.sh).
pre=$SHIM
asan=$(ldd "$BIN/mspgated" 2>/dev/null | sed -n 's/.*\(libasan[^ ]*\) => \([^ ]*\).*/\2/p')
[ -n "$asan" ] && pre="$asan:$pre"	# ":": MG_GW_WRAP is split on spaces
MG_GW_WRAP="env LD_PRELOAD=$pre MG_FAULT_FILE=$F" start_mspgated ||
	{ fail "mspgated starts"; tap_done; exit 1; }
chain_start_gateway || { fail "gateway sshd starts"; tap_done; exit 1; }
chain_client "$GW_ENG" "$T/eng_sk"
S="$T/ssh-$GW_ENG"
LOG="$T/mspgated.log"
HOME_T="$T/home/$GW_TUSER"
UID_E=$(id -u "$GW_ENG")

# Types and tags (gateway/gw_child.h).
ATTEMPT=16 START=17 USAGE=18 REFUSED=21 VERDICT=32 DENY=33 KILL=35
T_TENANT=34 T_ACTION=49 T_WORDS=50
# pkt TYPE TAG TEXT: a well-formed gw_child packet in hex, for "forge" (one string field).
pkt() {
	printf '4d4701%02x%02x%04x' "$1" "$2" "${#3}"
	printf '%s' "$3" | od -An -tx1 | tr -d ' \n'
}

# arm TYPE MUTATION [ARG...]: the next message of TYPE goes out spoilt.
arm() {
	rm -f "$F.fired"
	echo "$*" >"$F.tmp" && chown "$GW_DAEMON" "$F.tmp" && mv "$F.tmp" "$F"
}
# fired: the shim did it; prints the pid of the process that sent it.
fired() { sed -n 's/^pid //p' "$F.fired" 2>/dev/null; }
# run CASE COMMAND: a session on t1/box; its output in $T/o-CASE, $T/e-CASE.
run() {
	"$S" -o ControlMaster=no -o ControlPath=none -- t1/box "$2" </dev/null \
		>"$T/o-$1" 2>"$T/e-$1"
}
# works CASE: mspgated still serves: a normal session runs.
works() {
	run "ok-$1" "echo fine-$1"
	check "...and the next session works (exit $?)" grep -qx "fine-$1" "$T/o-ok-$1"
}
# audit_has REGEX: a line of the audit log (its writer may lag: awaited).
audit_has() { tap_wait 30 grep -q -e "$1" "$GW_AUDIT"; }
# sid_of TAG: the session whose command was TAG (its session_start).
sid_of() {
	sed -n "s/.*\"event\":\"session_start\",\"session\":\"\([^\"]*\)\".*\"reason\":\"$1\".*/\1/p" \
		"$GW_AUDIT" | tail -1
}

run base 'echo fine-base'
check "a session runs with the shim loaded and not armed" grep -qx fine-base "$T/o-base"

# --- 1. session process -> mspgated: a report that does not read ------
# refused_before CASE TYPE MUTATION [ARG]: an ATTEMPT (the first report)
# spoilt: no session, nothing runs, mspgated names the session process.
refused_before() {
	c=$1; shift
	n=$(grep -c 'an internal error in the gateway): refused' "$GW_AUDIT")
	arm "$@"
	run "$c" "touch mg-$c; echo ran-$c"
	rc=$?
	pid=$(fired)
	check "$c: the fault fired (in session process ${pid:-none})" test -n "$pid"
	check "...the engineer's ssh fails (exit $rc)" test "$rc" -eq 255
	check_grep "...and is told it was refused" \
		'^mspgate: refused: .*an internal error in the gateway' "$T/e-$c"
	check "...and not that anyone was alerted (nobody was)" \
		sh -c "grep -q '^mspgate: refused' '$T/e-$c' && ! grep -q alerted '$T/e-$c'"
	check "...no shell: nothing ran on the target" \
		sh -c "! test -e '$HOME_T/mg-$c' && ! grep -q ran '$T/o-$c'"
	check_grep_soon "...mspgated logs the malformed report, naming the session process" \
		"session process $pid (no session id yet, uid $UID_E): a malformed report: refused" "$LOG"
	audit_has .
	check "...the audit log has the refusal" test "$(grep -c \
		'an internal error in the gateway): refused' "$GW_AUDIT")" -gt "$n"
	works "$c"
}
refused_before a-magic $ATTEMPT magic
refused_before a-version $ATTEMPT version
refused_before a-tag $ATTEMPT tag
refused_before a-trunc $ATTEMPT trunc
refused_before a-ctrl $ATTEMPT poke $T_TENANT 1
# A type of the other direction, well formed: a DENY from a session process.
refused_before a-dir $ATTEMPT forge "$(pkt $DENY $T_WORDS forged)"

# ended_running CASE TYPE MUTATION [ARG]: a report of a running session
# spoilt: the session ends, named by its id (its START, which brings the
# id, spoilt: by its pid and account), and the end is audited.
ended_running() {
	c=$1; shift
	arm "$@"
	[ "$1" = $START ] && named="no session id yet" || named=""
	run "$c" "echo up-$c; exec sleep 60"
	rc=$?
	pid=$(fired)
	sid=$(sid_of "echo up-$c; exec sleep 60")
	check "$c: the fault fired (in session process ${pid:-none}, session ${sid:-none})" \
		test -n "$pid" -a -n "$sid"
	check "...the session ends at once, the engineer's ssh fails (exit $rc)" test "$rc" -eq 255
	check_grep "...and is told why" \
		'^mspgate: session ended: .*an internal error in the gateway' "$T/e-$c"
	check "...and not that anyone was alerted (nobody was)" \
		sh -c "grep -q '^mspgate: session ended' '$T/e-$c' && ! grep -q alerted '$T/e-$c'"
	check_grep_soon "...mspgated logs the malformed report, naming the session" \
		"session process $pid (${named:-$sid}, uid $UID_E): a malformed report: refused; the session is ended" "$LOG"
	check "...the audit log has the session's end" audit_has \
		"\"event\":\"session_end\",\"session\":\"$sid\".*an internal error in the gateway"
	works "$c"
}
ended_running u-tag $USAGE tag
ended_running s-trunc $START trunc

# --- 2. mspgated -> session process: a verdict that does not read -----
# verdict_refused CASE MUTATION [ARG]: nothing relayed, no target connection.
MV="a malformed verdict from the detector: refused"
# more_lines N TEXT: mspgated's log has more than N lines with TEXT.
more_lines() { [ "$(grep -c "$2" "$LOG")" -gt "$1" ]; }
verdict_refused() {
	c=$1; shift
	n=$(grep -c "$MV" "$LOG")
	arm $VERDICT "$@"
	run "$c" "touch mg-$c; echo ran-$c"
	rc=$?
	pid=$(fired)
	check "$c: the fault fired (in mspgated ${pid:-none})" test -n "$pid"
	check "...the engineer's ssh fails (exit $rc)" test "$rc" -eq 255
	check_grep "...and is told it was refused" '^mspgate: refused' "$T/e-$c"
	check "...that it could not be checked, not that anyone was alerted (nobody was)" \
		sh -c "grep -q '^mspgate: refused: this session could not be checked' '$T/e-$c' &&
		    ! grep -q alerted '$T/e-$c'"
	check "...no shell: nothing ran on the target" \
		sh -c "! test -e '$HOME_T/mg-$c' && ! grep -q ran '$T/o-$c'"
	check "...the session process logs the malformed verdict" \
		tap_wait 30 more_lines "$n" "$MV"
	sid=$(sed -n "s/.*session \([^ ]*\): $MV.*/\1/p" "$LOG" | tail -1)
	check "...the audit log has the refusal of that session ($sid)" \
		audit_has "\"event\":\"denied\",\"session\":\"$sid\""
	check "...and no session started" sh -c "! grep -q '\"event\":\"session_start\",\"session\":\"$sid\"' '$GW_AUDIT'"
	works "$c"
}
verdict_refused v-magic magic
verdict_refused v-trunc trunc
verdict_refused v-ctrl poke $T_WORDS 7
verdict_refused v-action poke $T_ACTION 9
# A type of the other direction, well formed: a REFUSED report from mspgated.
verdict_refused v-dir forge "$(printf '4d4701%02x%02x0001%02x' $REFUSED 48 1)"

# A running session's KILL spoilt (mspgatectl kill): it ends all the same,
# because the message did not read, and says so.
"$S" -o ControlMaster=no -o ControlPath=none -- t1/box 'echo up-k; exec sleep 60' </dev/null \
	>"$T/o-k" 2>"$T/e-k" &
kpid=$!
gw_track "$kpid"
tap_wait 60 grep -q up-k "$T/o-k"
sid=$(sid_of "echo up-k; exec sleep 60")
arm $KILL trunc
gw_ctl kill "$sid" >"$T/kill.out" 2>&1
check "k-trunc: the KILL of a running session, spoilt, was sent (${sid:-no session})" \
	tap_wait 30 test -n "$(fired)"
tap_wait 30 sh -c "! kill -0 $kpid 2>/dev/null"
wait "$kpid"
rc=$?
check "...the session ends, the engineer's ssh fails (exit $rc)" test "$rc" -eq 255
check_grep "...and is told it was an internal error, not an operator" \
	'^mspgate: session ended: an internal error in the gateway' "$T/e-k"
check_grep_soon "...the session process logs the malformed message" \
	"session $sid: a malformed message from mspgated: the session ends" "$LOG"
check "...the audit log has the session's end" audit_has \
	"\"event\":\"session_end\",\"session\":\"$sid\".*an internal error in the gateway"
works k-trunc

# --- 3. forged: the right shape, not what the receiver expects then ----
# In place of the verdict, mspgated "kills" the session it was asked about.
INPLACE="a kill message in place of the detector's verdict: refused"
n=$(grep -c "$INPLACE" "$LOG")
arm $VERDICT forge "$(pkt $KILL 51 forger)"
run f-kill 'touch mg-f-kill; echo ran-f-kill'
rc=$?
check "f-kill: a KILL in place of the verdict was sent" test -n "$(fired)"
check "...the engineer's ssh fails (exit $rc)" test "$rc" -eq 255
check "...no shell: nothing ran on the target" \
	sh -c "! test -e '$HOME_T/mg-f-kill' && ! grep -q ran '$T/o-f-kill'"
check "...the session process logs a kill in place of the verdict" \
	tap_wait 30 more_lines "$n" "$INPLACE"
works f-kill

# An approval (mspgatectl approve) nobody waits for: in place of the
# verdict it starts nothing.
n=$(grep -c "a approval message in place of the detector's verdict: refused" "$LOG")
appr="$(printf '4d4701%02x%02x000101%02x0008%016x' 37 53 39 1735732900)$(pkt 0 51 forger | cut -c9-)"
arm $VERDICT forge "$appr"
run f-appr 'touch mg-f-appr; echo ran-f-appr'
rc=$?
check "f-appr: an APPROVAL in place of the verdict was sent" test -n "$(fired)"
check "...the engineer's ssh fails (exit $rc)" test "$rc" -eq 255
check "...nothing ran on the target" \
	sh -c "! test -e '$HOME_T/mg-f-appr' && ! grep -q ran '$T/o-f-appr'"
check "...the session process logs it" \
	tap_wait 30 more_lines "$n" "a approval message in place of the detector's verdict: refused"
works f-appr

# A second verdict, nobody waiting for it: the running session ends.
arm $VERDICT dup
run f-dup 'echo up-f-dup; exec sleep 60'
rc=$?
sid=$(sid_of "echo up-f-dup; exec sleep 60")
check "f-dup: the verdict was sent twice (session ${sid:-none})" test -n "$(fired)" -a -n "$sid"
check "...the session ends at once, the engineer's ssh fails (exit $rc)" test "$rc" -eq 255
check_grep "...and is told why" '^mspgate: session ended: an internal error in the gateway' \
	"$T/e-f-dup"
check_grep_soon "...the session process logs the unexpected message" \
	"session $sid: an unexpected message from mspgated: the session ends" "$LOG"
check "...the audit log has the session's end" audit_has \
	"\"event\":\"session_end\",\"session\":\"$sid\".*an internal error in the gateway"
works f-dup

# Reports out of their order (gw_child.h: one ATTEMPT, then one START):
# a second question would be judged again (another detector event), a
# second START would rewrite the session's row (who it is, for mspgatectl
# list and kill). mspgated refuses them as it refuses a report that does
# not read: the session ends.
out_of_order() {
	c=$1 type=$2 name=$3
	arm $type dup
	run "$c" "echo up-$c; exec sleep 60"
	rc=$?
	pid=$(fired)
	sid=$(sid_of "echo up-$c; exec sleep 60")
	check "$c: the $name was sent twice (session process ${pid:-none}, session ${sid:-none})" \
		test -n "$pid" -a -n "$sid"
	check "...the session does not go on: the engineer's ssh fails (exit $rc)" test "$rc" -eq 255
	check "...and is told, without word of an alert nobody raised" \
		sh -c "grep -q '^mspgate: session ended: an internal error in the gateway' '$T/e-$c' &&
		    ! grep -q alerted '$T/e-$c'"
	# The second ATTEMPT comes before the START that brings the id.
	[ "$name" = START ] && named=$sid art=a || named="no session id yet" art=an
	check_grep_soon "...mspgated logs the $name out of order, naming the session process" \
		"session process $pid ($named, uid $UID_E): $art $name out of order: refused; the session is ended" "$LOG"
	check "...the audit log has the session's end" audit_has \
		"\"event\":\"session_end\",\"session\":\"$sid\".*an internal error in the gateway"
	works "$c"
}
out_of_order f-att $ATTEMPT ATTEMPT
out_of_order f-start $START START

check "every recording verifies" gw_verify_recordings
check "no sanitizer or valgrind reports" gw_no_reports
tap_done
