#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The detector sees every gateway's sessions (issue 17): two mspgated, gwa
# and gwb, their state in one throwaway PostgreSQL cluster, alerts.fanout
# at 3 tenants in 30 minutes. The engineer reaches t1 on A, t3 on B, t4 on
# A. With A's state worker stopped, A never hears of t3 and lets t4 through
# (two tenants as A sees it): what every gateway did before. Once it runs
# again, each gateway learns the other's sessions, and the next attempt on
# either is refused for a fan-out whose evidence names a tenant only the
# other gateway saw.
. tests/lib/tap.sh
. tests/lib/gw.sh
gw_need_root
. tests/lib/pg.sh
pg_need

gw_setup || { fail "gateway test setup"; tap_done; exit 1; }
# t1, t3, t4: three tenants the engineer may reach.
GW_GRANTS_EXTRA=", { to = \"$GW_ENG\"; tenants = [ \"t3\" ]; targets = [ \"*\" ];
    logins = [ \"$GW_TUSER\" ]; mfa = \"totp\"; }"
pg_two_gateways "alerts: { fanout = { tenants = 3; within = \"30m\"; action = \"deny\"; };
  first_access = { action = \"off\"; }; };" || { tap_done; exit 1; }
# events GW N: the database holds N detector events of gateway GW.
events() { [ "$(pg_psql "SELECT count(*) FROM mspgate_events WHERE gateway = '$1'" 2>/dev/null)" = "$2" ]; }

# ---- A's state worker stopped: A does not hear of B's session ---------------
wpid=$(pgrep -P "$GW_DPID" -x mspgate-sync)
check "A has a state worker" test -n "$wpid"
kill -STOP "$wpid"
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo one' </dev/null >/dev/null 2>"$T/n1"
check "A: the first tenant (t1) is allowed" test $? -eq 0
shell_b MSPGATE_TARGET=t3/box SSH_ORIGINAL_COMMAND='echo two' </dev/null >/dev/null 2>"$T/n2"
check "B: the second tenant (t3) is allowed" test $? -eq 0
tap_wait 30 events gwb 1
check "B's session start is in the database, with its tenant" \
	test "$(pg_psql "SELECT kind || ' ' || engineer || ' ' || tenant FROM mspgate_events WHERE gateway = 'gwb'")" = "start $GW_ENG t3"
gw_shell MSPGATE_TARGET=t4/box SSH_ORIGINAL_COMMAND='echo three' </dev/null >"$T/n3" 2>&1
check "not shared: A lets the third tenant (t4) through, as if two" test $? -eq 0
check "and raises no fan-out alert" sh -c "! grep -q '\"event\":\"alert\".*alerts.fanout' '$GW_AUDIT'"
check "A's own sessions never went to t3" sh -c "! grep -q '\"tenant\":\"t3\"' '$GW_AUDIT'"

# ---- A's worker runs again: each gateway learns the other's sessions ---------
kill -CONT "$wpid"
tap_wait 30 events gwa 2
check "A's two session starts reach the database (queued, not lost)" test $? -eq 0
check_grep_soon "A's detector learns B's t3" \
	"detector: history from gateway gwb: $GW_ENG reached t3/box" "$T/mspgated.log"
check_grep_soon "B's detector learns A's t4" \
	"detector: history from gateway gwa: $GW_ENG reached t4/box" "$T/mspgated-b.log"
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo again' </dev/null >"$T/p1" 2>&1
check "shared: A refuses the engineer (t1, t3 on B, t4)" test $? -eq 255
check_grep "A tells the engineer why" \
	"^mspgate: refused: unusual activity (tenant fan-out); your MSP's security team has been alerted$" "$T/p1"
check_grep_soon "A's audit log: the fan-out alert, naming B's tenant" \
	'"event":"alert".*"tenant":"t1".*"result":"deny","reason":"alert: 3 distinct tenants within 30m (threshold 3): t1, .*t3' \
	"$GW_AUDIT"
check_grep_soon "A's syslog line" "alert: rule=fanout action=deny severity=alert engineer=$GW_ENG tenant=t1" \
	"$T/mspgated.log"
shell_b MSPGATE_TARGET=t3/box SSH_ORIGINAL_COMMAND='echo again' </dev/null >"$T/p2" 2>&1
check "shared: B refuses the engineer too (t3, and A's t1 and t4)" test $? -eq 255
check_grep_soon "B's audit log: the fan-out alert, naming A's tenants" \
	'"event":"alert".*"tenant":"t3".*"result":"deny","reason":"alert: 3 distinct tenants within 30m (threshold 3): t3, .*t[14].*t[14]' \
	"$AUDB"

# ---- B restarted: it learns the recent history from the database ------------
kill -TERM "$DPIDB"
tap_wait 30 sh -c "! kill -0 $DPIDB 2>/dev/null"
rm -f "$T/state-b"/*
"$BIN/mspgated" -D -f "$POLB" -s "$SOCKB" -c "$CTLB" -u "$GW_DAEMON" 2>"$T/mspgated-b2.log" &
DPIDB=$!
gw_track "$DPIDB"
tap_wait 60 sh -c "grep -q 'listening on ' '$T/mspgated-b2.log' && test -S '$SOCKB'"
check "mspgated B starts again, its detector state removed" test $? -eq 0
check_grep_soon "B learns A's sessions again" \
	"detector: history from gateway gwa: $GW_ENG reached t4/box" "$T/mspgated-b2.log"
shell_b MSPGATE_TARGET=t3/box SSH_ORIGINAL_COMMAND='echo again' </dev/null >"$T/p3" 2>&1
check "B, restarted with no history of its own, still refuses" test $? -eq 255

kill -TERM "$DPIDB"
tap_wait 30 sh -c "! kill -0 $DPIDB 2>/dev/null"
check "no sanitizer report" gw_no_reports
check "none from gateway B either" sh -c "! grep -l -e Sanitizer -e 'runtime error:' \
	'$T/mspgated-b.log' '$T/mspgated-b2.log' 2>/dev/null"
tap_done
