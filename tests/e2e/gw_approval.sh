#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Four-eyes approval: a grant with approval = "required" waits for one of the
# tenant's approvers (mspgatectl approve / deny), never the engineer; timeout.
. tests/lib/tap.sh
. tests/lib/gw.sh
gw_need_root

gw_setup || { fail "gateway test setup"; tap_done; exit 1; }
# Approvers: the group $APG (the approver and, to try four eyes, the
# engineer too). An admin who is no approver. All may use the control
# socket (the daemon's group is its admin group).
APR="${GW_TAG}a"
ADM="${GW_TAG}n"
APG="${GW_TAG}g"
make_user "$APR" || { fail "approver account"; tap_done; exit 1; }
make_user "$ADM" || { fail "admin account"; tap_done; exit 1; }
groupadd "$APG" || { fail "approvers' group"; tap_done; exit 1; }
rm_group() { groupdel "$APG" 2>/dev/null; }
tap_at_exit rm_group
ADMG=$(id -gn "$GW_DAEMON")
usermod -aG "$APG,$ADMG" "$APR"
usermod -aG "$APG,$ADMG" "$GW_ENG"
usermod -aG "$ADMG" "$ADM"
as() { u=$1; shift; runuser -u "$u" -- "$BIN/mspgatectl" -s "$GW_CTL" "$@"; }

# The policy: tenant ta (approvers, 60 s) and tb (10 s: the timeout case).
# Written once without the approvals, for the engineer's enrolment.
GW_TENANTS_EXTRA="ta tb"
gw_write_policy
GW_GRANTS_EXTRA=",
  { to = \"$GW_ENG\"; tenants = [ \"ta\" ]; targets = [ \"*\" ]; logins = [ \"$GW_TUSER\" ];
    mfa = \"totp\"; approval = \"required\"; approval_timeout = \"60s\"; },
  { to = \"$GW_ENG\"; tenants = [ \"tb\" ]; targets = [ \"*\" ]; logins = [ \"$GW_TUSER\" ];
    mfa = \"totp\"; approval = \"required\"; approval_timeout = \"10s\"; }"
gw_write_policy
sed -i "s/{ name = \"ta\";/{ name = \"ta\"; approvers = [ \"group:$APG\" ];/;
	s/{ name = \"tb\";/{ name = \"tb\"; approvers = [ \"$APR\" ];/" "$GW_POLICY"

# The loader: approval without approvers, a bad value, a bad timeout.
cp "$GW_POLICY" "$T/bad1.conf"
sed -i "s/ approvers = \[ \"$APR\" \];//" "$T/bad1.conf"
"$BIN/mspgate-policy" check -f "$T/bad1.conf" >"$T/bad1.out" 2>&1
check_exit 0 "policy: approval required without approvers is refused" test $? -ne 0
check_grep "policy: ... and says where and why" \
	"bad1.conf:[0-9]*: .*approval is required but tenant 'tb' names no approvers" "$T/bad1.out"
sed "s/approval = \"required\"; approval_timeout = \"10s\"/approval = \"yes\"/" \
	"$GW_POLICY" >"$T/bad2.conf"
"$BIN/mspgate-policy" check -f "$T/bad2.conf" >"$T/bad2.out" 2>&1
check_grep "policy: approval must be required or none" \
	"bad2.conf:[0-9]*: .*'approval' must be \"required\" or \"none\", not \"yes\"" "$T/bad2.out"
sed "s/approval_timeout = \"10s\"/approval_timeout = \"2s\"/" "$GW_POLICY" >"$T/bad3.conf"
"$BIN/mspgate-policy" check -f "$T/bad3.conf" >"$T/bad3.out" 2>&1
check_grep "policy: approval_timeout is bounded" \
	"bad3.conf:[0-9]*: .*'approval_timeout' must be between 10s and 60m" "$T/bad3.out"
sed "s/approvers = \[ \"$APR\" \]/approvers = [ \"bad name\" ]/" "$GW_POLICY" >"$T/bad4.conf"
"$BIN/mspgate-policy" check -f "$T/bad4.conf" >"$T/bad4.out" 2>&1
check_grep "policy: an approver that is no account name" \
	"bad4.conf:[0-9]*: .*invalid approver 'bad name'" "$T/bad4.out"

"$BIN/mspgated" -t -f "$GW_POLICY" 2>"$T/t.err"
check_exit 0 "mspgated -t accepts the policy with approvers" test $? -eq 0
start_mspgated

# waits_id FILE: the session id from the waiting message, once it is there.
waiting_in() { grep -q 'waiting for approval by' "$1" 2>/dev/null; }
waits_id() { sed -n 's/.*waiting for approval by .* (\([^)]*\)), up to .*/\1/p' "$1" | head -1; }

# 1. Approved, after the engineer, an admin and root were refused.
gw_shell MSPGATE_TARGET=ta/box SSH_ORIGINAL_COMMAND='echo ran-after-approval' \
	</dev/null >"$T/o1" 2>"$T/e1" &
bg=$!
tap_wait 30 waiting_in "$T/e1"
check_grep "the engineer is told whom it waits for and how long" \
	"^mspgate: waiting for approval by group:$APG (.*), up to 60 s" "$T/e1"
id1=$(waits_id "$T/e1")
check "the waiting message names the session" test -n "$id1"
gw_ctl list >"$T/l1"
check_grep "list shows the session as waiting" "^$id1 .*waiting for approval until" "$T/l1"
check "nothing ran on the target yet" sh -c "! grep -q ran-after-approval '$T/o1'"

as "$GW_ENG" approve "$id1" >"$T/s1" 2>&1
check_exit 0 "self-approval: refused (exit 4)" test $? -eq 4
check_grep "self-approval: says why" "$GW_ENG may not approve their own session" "$T/s1"
as "$ADM" approve "$id1" >"$T/s2" 2>&1
check_exit 0 "a non-approver: refused (exit 4)" test $? -eq 4
check_grep "a non-approver: says why" "$ADM is not an approver for tenant ta" "$T/s2"
gw_ctl approve "$id1" >"$T/s3" 2>&1
check_exit 0 "root is no approver unless named: refused" test $? -eq 4
gw_ctl list >"$T/l2"
check_grep "after the refusals the session still waits" "^$id1 .*waiting for approval" "$T/l2"

as "$APR" approve "$id1" --comment "change CHG-7 ok" >"$T/s4" 2>&1
check_exit 0 "the approver approves: exit 0" test $? -eq 0
check_grep "mspgatectl says so" "^$id1 approved$" "$T/s4"
wait "$bg"
check_exit 0 "the approved session ran: exit 0" test $? -eq 0
check_grep "its command ran on the target" '^ran-after-approval$' "$T/o1"
as "$APR" approve "$id1" >"$T/s5" 2>&1
check_exit 0 "approving a session that no longer waits: no such session (exit 1)" test $? -eq 1

rec1="$GW_REC/$id1.cast"
check_grep "the recording's header names the approver" \
	"\"approved_by\": \"$APR (uid [0-9]*)\"" "$rec1"
check_grep "... when" '"approved_at": "20[0-9-]*T[0-9:]*Z"' "$rec1"
check_grep "... and the comment" '"approval_comment": "change CHG-7 ok"' "$rec1"
check_grep_soon "audit: approval requested" \
	"\"event\":\"approval\".*\"session\":\"$id1\".*\"result\":\"requested\"" "$GW_AUDIT"
check_grep_soon "audit: the self-approval refused" \
	"\"event\":\"approval\".*\"result\":\"refused\".*may not approve their own" "$GW_AUDIT"
check_grep_soon "audit: the non-approver refused" \
	"\"event\":\"approval\".*\"result\":\"refused\".*$ADM is not an approver" "$GW_AUDIT"
check_grep_soon "audit: approved, by whom, with the comment" \
	"\"event\":\"approval\".*\"session\":\"$id1\".*\"result\":\"approved\".*approved by $APR (uid [0-9]*): change CHG-7 ok" "$GW_AUDIT"

# 2. Denied.
gw_shell MSPGATE_TARGET=ta/box SSH_ORIGINAL_COMMAND='echo ran-after-deny' \
	</dev/null >"$T/o2" 2>"$T/e2" &
bg=$!
tap_wait 30 waiting_in "$T/e2"
id2=$(waits_id "$T/e2")
as "$APR" deny "$id2" --comment "not during the freeze" >"$T/s6" 2>&1
check_exit 0 "deny: exit 0" test $? -eq 0
check_grep "deny: mspgatectl says so" "^$id2 denied$" "$T/s6"
wait "$bg"
check_exit 0 "denied: the session is refused (255)" test $? -eq 255
check_grep "denied: the engineer is told by whom and why" \
	"^mspgate: not permitted: denied by $APR (uid [0-9]*): not during the freeze" "$T/e2"
check "denied: nothing ran" sh -c "! grep -q ran-after-deny '$T/o2'"
check "denied: no recording" test ! -e "$GW_REC/$id2.cast"
check_grep_soon "audit: denied by the approver" \
	"\"event\":\"approval\".*\"session\":\"$id2\".*\"result\":\"denied\"" "$GW_AUDIT"

# 3. Nobody answers: refused when the wait runs out (10 s).
t0=$(date +%s)
gw_shell MSPGATE_TARGET=tb/box SSH_ORIGINAL_COMMAND='echo ran-after-timeout' \
	</dev/null >"$T/o3" 2>"$T/e3"
check_exit 0 "timeout: refused (255)" test $? -eq 255
t1=$(date +%s)
check_grep "timeout: the engineer is told" \
	"^mspgate: not permitted: no approval within 10 s" "$T/e3"
check "timeout: after about 10 s" test $((t1 - t0)) -ge 9 -a $((t1 - t0)) -le 30
check_grep_soon "timeout: audited" '"event":"denied".*no approval within 10 s' "$GW_AUDIT"

# 4. While one waits, other sessions run (mspgated's loop is not held).
gw_shell MSPGATE_TARGET=ta/box SSH_ORIGINAL_COMMAND='true' </dev/null >/dev/null 2>"$T/e4" &
bg=$!
tap_wait 30 waiting_in "$T/e4"
id4=$(waits_id "$T/e4")
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo beside' </dev/null >"$T/o5" 2>&1
check_grep "a session without approval runs meanwhile" '^beside$' "$T/o5"
gw_ctl kill "$id4" >/dev/null 2>&1
check_exit 0 "a waiting session can be killed" test $? -eq 0
wait "$bg"
check_exit 0 "killed while waiting: refused" test $? -eq 255
check_grep "killed while waiting: says so" "^mspgate: session ended by an operator" "$T/e4"

check "every session ended" gw_wait_sessions 0
gw_verify_recordings
check_exit 0 "every recording verifies" test $? -eq 0
check "no sanitizer or valgrind report" gw_no_reports
tap_done
