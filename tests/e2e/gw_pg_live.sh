#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Live sessions across gateways (issue 17): two mspgated, gwa and gwb, with
# their state in one throwaway PostgreSQL cluster. mspgatectl list on one
# shows both gateways' sessions; with the database stopped the sessions go
# on and are recorded, list says so and shows this gateway's own; started
# again, it all works without restarting anything. mspgatectl kill ID on
# one ends a session on the other within 2 s, audited there with who asked
# and from where; with the database down it says it cannot. A detector's
# deny with alerts.deny_ends_sessions on A ends the engineer's session on B.
. tests/lib/tap.sh
. tests/lib/gw.sh
gw_need_root
. tests/lib/pg.sh
pg_need

gw_setup || { fail "gateway test setup"; tap_done; exit 1; }
# t1, t3, t4: three tenants the engineer may reach; the third in 30
# minutes is refused, and ends what the engineer has open everywhere.
GW_GRANTS_EXTRA=", { to = \"$GW_ENG\"; tenants = [ \"t3\" ]; targets = [ \"*\" ];
    logins = [ \"$GW_TUSER\" ]; mfa = \"totp\"; }"
pg_two_gateways "alerts: { deny_ends_sessions = true;
  fanout = { tenants = 3; within = \"30m\"; action = \"deny\"; }; };" || { tap_done; exit 1; }
CTLA=$GW_CTL

ctla() { "$BIN/mspgatectl" -f "$POLA" -s "$CTLA" "$@"; }
ctlb() { "$BIN/mspgatectl" -s "$CTLB" "$@"; }
# rows_in_db N: the database lists N live sessions.
rows_in_db() { [ "$(pg_psql "SELECT count(*) FROM mspgate_sessions" 2>/dev/null)" = "$1" ]; }
# b_sessions N: gateway B's own table has N sessions.
b_sessions() { [ "$(ctlb list 2>/dev/null | tail -n +2 | wc -l)" -eq "$1" ]; }
# listed_by_a ID GW: mspgatectl list on A shows session ID on gateway GW.
listed_by_a() { ctla list 2>/dev/null | grep -q "^$2  *$1 "; }

# ---- a session on each gateway: both listed on A ---------------------------
# A's prints a tick twice a second: it goes on, recorded, while the database is gone.
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='while :; do echo tick-$(date +%s%N); sleep 0.5; done' \
	</dev/null >"$T/a1.out" 2>"$T/a1" &
a1=$!
shell_b MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='sleep 101' </dev/null >/dev/null 2>"$T/b1" &
b1=$!
gw_wait_sessions 1
tap_wait 60 b_sessions 1
check "a session on each gateway" test $? -eq 0
ida=$(gw_ctl list | tail -n +2 | awk '{print $1}')
idb=$(ctlb list | tail -n +2 | awk '{print $1}')
tap_wait 30 rows_in_db 2
check "both are in the state database" test $? -eq 0
check "B's row names gateway gwb" \
	test "$(pg_psql "SELECT gateway FROM mspgate_sessions WHERE id = '$idb'")" = gwb
ctla list >"$T/list" 2>"$T/list.err"
check "list across: exit 0" test $? -eq 0
check_grep "list across: a GATEWAY column" '^GATEWAY  *ID  *ENGINEER  *TENANT/TARGET' "$T/list"
check_grep "list across: A's session, on gwa" "^gwa  *$ida  *$GW_ENG  *t1/box  *$GW_TUSER " "$T/list"
check_grep "list across: B's session, on gwb" "^gwb  *$idb  *$GW_ENG  *t1/box  *$GW_TUSER " "$T/list"
check "list across: nothing on stderr" test ! -s "$T/list.err"
# Who may not ask this gateway's mspgated is not shown the others' sessions,
# even holding the database's password (a copy of its own here).
cp "$PG_PASSFILE" "$T/home/$GW_ENG/pgpass"
chown "$GW_ENG" "$T/home/$GW_ENG/pgpass"
chmod 0600 "$T/home/$GW_ENG/pgpass"
sed "s|passfile = \"$PG_PASSFILE\"|passfile = \"$T/home/$GW_ENG/pgpass\"|" "$POLA" >"$T/policy-eng.conf"
chmod 0644 "$T/policy-eng.conf"
runuser -u "$GW_ENG" -- "$BIN/mspgatectl" -f "$T/policy-eng.conf" -s "$CTLA" list >"$T/list-eng" 2>"$T/list-eng.err"
check "list across by an engineer (not an admin): exit 3" test $? -eq 3
check "and nothing listed" test ! -s "$T/list-eng"
runuser -u "$GW_ENG" -- "$BIN/mspgatectl" -f "$T/policy-eng.conf" -s "$CTLA" kill "$idb" >/dev/null 2>"$T/kill-eng.err"
check "kill across by an engineer: exit 3" test $? -eq 3
check_grep "says permission denied" 'permission denied' "$T/kill-eng.err"
gw_ctl list >"$T/list-local" 2>&1
check "without the policy: this gateway's alone, as before" \
	sh -c "grep -q '^ID ' '$T/list-local' && ! grep -q '$idb' '$T/list-local'"

# ---- kill across: A ends a session on B -------------------------------------
shell_b MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='sleep 103' </dev/null >/dev/null 2>"$T/bk" &
bk=$!
tap_wait 60 b_sessions 2
idbk=$(ctlb list | tail -n +2 | awk '{print $1}' | grep -vx "$idb")
tap_wait 30 rows_in_db 3
check "B's second session is in the database" test $? -eq 0
t0=$(date +%s%N)
ctla kill "$idbk" >"$T/kk" 2>"$T/kk.err"
rc=$?
wait "$bk"
bkrc=$?
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
check "kill across: exit 0" test $rc -eq 0
check_grep "kill across: says it ended on gwb" "^$idbk ended on gateway gwb\$" "$T/kk"
check "kill across: B's session ended (255)" test $bkrc -eq 255
check "kill across: within 2 s of asking ($ms ms)" test $ms -le 2000
check_grep "kill across: the engineer is told" '^mspgate: session ended by an operator$' "$T/bk"
check_grep_soon "kill across: audited on B with who asked, from which gateway" \
	"\"operator_kill\".*\"session\":\"$idbk\".*ended by operator root (uid 0) on gateway gwa" "$AUDB"
check "kill across: nothing of it in A's audit log" sh -c "! grep -q '\"operator_kill\".*$idbk' '$GW_AUDIT'"
check "kill across: the request was taken" test "$(pg_psql "SELECT count(*) FROM mspgate_kill")" = 0
ctla kill nosuch-session >/dev/null 2>"$T/kn.err"
check "kill of an id no gateway has: exit 1" test $? -eq 1
check_grep "and says so" 'no such session on any gateway' "$T/kn.err"
check "B's other session goes on" sh -c "kill -0 $b1"
# A gateway that does not take requests (a row of a gateway "gwz" that
# runs nowhere): the kill says so after 5 s and withdraws its request.
pg_psql "INSERT INTO mspgate_sessions (gateway, id, engineer, tenant, target, login, started)
	VALUES ('gwz', 'ghost-1', 'eve', 't9', 'box', 'root', 1)" >/dev/null
ctla list >"$T/list-z" 2>&1
check_grep "list shows another gateway's row as the database has it" '^gwz  *ghost-1  *eve  *t9/box  *root ' "$T/list-z"
ctla kill ghost-1 >/dev/null 2>"$T/kz.err"
check "kill across, the gateway does not take it: exit 4" test $? -eq 4
check_grep "and says it was withdrawn, nothing done" \
	'gateway gwz did not take the request to end ghost-1 within 5 s .*withdrawn, nothing was done' "$T/kz.err"
check "the request is gone" test "$(pg_psql "SELECT count(*) FROM mspgate_kill")" = 0
pg_psql "DELETE FROM mspgate_sessions WHERE gateway = 'gwz'" >/dev/null

# ---- A's state worker killed: mspgated starts another, which writes A's table again
wpid=$(pgrep -P "$GW_DPID" -x mspgate-sync)
check "A has a state worker" test -n "$wpid"
# Its rows removed behind its back: only a new worker's first write brings them back.
pg_psql "DELETE FROM mspgate_sessions WHERE gateway = 'gwa'" >/dev/null
kill -9 "$wpid"
check_grep_soon "its death is logged" "state worker $wpid died of signal 9; started again" \
	"$T/mspgated.log"
a_in_db() { [ "$(pg_psql "SELECT count(*) FROM mspgate_sessions WHERE id = '$ida'")" = 1 ]; }
tap_wait 30 a_in_db
check "a new worker writes A's sessions again" test $? -eq 0
check "a new worker runs" sh -c "pgrep -P $GW_DPID -x mspgate-sync | grep -vqx $wpid"
check "A's session went on" sh -c "kill -0 $a1"

# ---- the database stopped ---------------------------------------------------
pg_stop
check "database stopped" sh -c "! pg_psql 'SELECT 1' >/dev/null 2>&1"
n0=$(wc -l <"$T/a1.out")
# ticks_past N: A's running session printed more than N ticks.
ticks_past() { [ "$(wc -l <"$T/a1.out")" -gt "$1" ]; }
tap_wait 30 ticks_past $((n0 + 4))
check "database down: A's running session goes on" test $? -eq 0
check "database down: both running sessions are live" sh -c "kill -0 $a1 && kill -0 $b1"
lasttick=$(tail -1 "$T/a1.out")
# New logins need the lockout record, which is in the database: refused, saying so.
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo during-outage' </dev/null >"$T/o2" 2>"$T/e2"
check "database down: a new session is refused (255)" test $? -eq 255
check_grep "and told why" 'not permitted' "$T/e2"
ctla list >"$T/list2" 2>"$T/list2.err"
check "list, database down: exit 0" test $? -eq 0
check_grep "list, database down: says the database cannot be reached" \
	'^mspgatectl: the state database cannot be reached: ' "$T/list2.err"
check_grep "list, database down: says it lists this gateway's alone" \
	"^mspgatectl: only this gateway's (gwa) sessions are listed" "$T/list2.err"
check_grep "list, database down: A's session" "^gwa  *$ida " "$T/list2"
check "list, database down: none of B's" sh -c "! grep -q '^gwb ' '$T/list2'"
ctla kill "$idb" >/dev/null 2>"$T/kd.err"
check "kill across, database down: exit 3" test $? -eq 3
check_grep "and says the database cannot be reached" \
	"$idb is not a session of this gateway (gwa), and the state database cannot be reached" "$T/kd.err"
check "and B's session goes on" sh -c "kill -0 $b1"
# B's session ended while the database is down (a local kill works as ever).
ctlb kill "$idb" >/dev/null 2>&1
check "database down: a local kill on B" test $? -eq 0
wait "$b1"
tap_wait 60 b_sessions 0

# ---- the database back: nothing restarted ------------------------------------
pg_start_again
check "database started again" test "$(pg_psql "SELECT 1")" = 1
shell_b MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='sleep 102' </dev/null >/dev/null 2>"$T/b2" &
b2=$!
tap_wait 60 b_sessions 1
idb2=$(ctlb list | tail -n +2 | awk '{print $1}')
tap_wait 30 listed_by_a "$idb2" gwb
check "list across works again: B's new session on gwb" test $? -eq 0
check "the session B ended while it was down is gone from the database" \
	test "$(pg_psql "SELECT count(*) FROM mspgate_sessions WHERE id = '$idb'")" = 0
ctla list >"$T/list3" 2>&1
check "and from A's list" sh -c "! grep -q '$idb' '$T/list3'"
check "both mspgated are the ones started first" sh -c "kill -0 $GW_DPID && kill -0 $DPIDB"

ctla kill "$idb2" >"$T/kk2" 2>&1
check "kill across works again" test $? -eq 0
wait "$b2"
gw_ctl kill "$ida" >/dev/null 2>&1
wait "$a1"

# ---- deny_ends_sessions across: a fan-out refused on A ends B's session -----
shell_b MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo running; sleep 60' </dev/null \
	>"$T/bd" 2>&1 &
bd=$!
tap_wait 60 rows_in_db 1
check "B's session of the engineer is in the database" test $? -eq 0
idbd=$(pg_psql "SELECT id FROM mspgate_sessions WHERE gateway = 'gwb'")
gw_shell MSPGATE_TARGET=t3/box SSH_ORIGINAL_COMMAND='echo two' </dev/null >/dev/null 2>&1
check "fan-out on A: the second tenant is allowed" test $? -eq 0
gw_shell MSPGATE_TARGET=t4/box SSH_ORIGINAL_COMMAND='echo three' </dev/null >/dev/null 2>"$T/f3"
check "fan-out on A: the third tenant is refused" test $? -eq 255
t0=$(date +%s%N)
wait "$bd"
bdrc=$?
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
check "deny_ends_sessions across: B's session ended with an error" test $bdrc -ne 0
check "deny_ends_sessions across: within 2 s of the refusal ($ms ms)" test $ms -le 2000
check_grep "deny_ends_sessions across: the engineer is told why, and where" \
	"unusual activity.*(on gateway gwa)" "$T/bd"
check_grep_soon "deny_ends_sessions across: B's log says who denied" \
	"detector on gateway gwa denied $GW_ENG: session $idbd" "$T/mspgated-b.log"

# Everything recorded, on both gateways, while the database came and went.
gw_wait_sessions 0
tap_wait 60 b_sessions 0
tap_wait 30 rows_in_db 0
check "every session ended leaves the database" test $? -eq 0
gw_verify_recordings
check "A's recordings verify" test $? -eq 0
"$BIN/mspgate-replay" verify --pubkey "$GW_SIGNPUB" "$RECB"/*.cast >"$T/verify-b.out" 2>&1
check "B's recordings verify" test $? -eq 0
check "B recorded its four sessions" test "$(ls "$RECB"/*.cast | wc -l)" -eq 4
rec=$(grep -l "$ida" "$GW_REC"/*.cast | head -1)
check "A's recording has what its session printed while the database was down" \
	grep -q "$lasttick" "$rec"
# mspgated B stopped with a session running: its rows leave the database.
shell_b MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='sleep 104' </dev/null >/dev/null 2>"$T/bs" &
bs=$!
tap_wait 60 rows_in_db 1
check "a last session on B is in the database" test $? -eq 0
kill -TERM "$DPIDB"
wait "$bs"
tap_wait 30 sh -c "! kill -0 $DPIDB 2>/dev/null"
tap_wait 30 rows_in_db 0
check "mspgated B stopped: its rows are gone" test $? -eq 0
# B's worker was its child: once B is gone, A's is the only one left.
workers() { [ "$(pgrep -x mspgate-sync -u "$GW_DAEMON" | wc -l)" -eq 1 ]; }
tap_wait 30 workers
check "and its state worker with it" test $? -eq 0
check "no sanitizer report" gw_no_reports
check "none from gateway B, its sessions or mspgatectl either" sh -c "! grep -l -e Sanitizer \
	-e 'runtime error:' '$T/mspgated-b.log' '$T'/a* '$T'/b* '$T'/k* '$T'/list* 2>/dev/null"
tap_done
