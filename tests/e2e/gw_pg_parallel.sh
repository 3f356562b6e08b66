#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Parallel use across gateways (issue 17): two mspgated, gwa and gwb, their
# state in one throwaway PostgreSQL cluster, alerts.parallel on. While the
# engineer has a session on B from one address, a new session on A from
# another address is refused for parallel use, its evidence naming B's
# session; from the same address (a second terminal) it is fine. Once B's
# session ends, A lets the other address in again. When A's state worker
# dies, A forgets what it had heard (it cannot know any more), and learns
# it again from the next worker. A detector event that cannot be written
# (here: its table refuses A) is kept and written once it can be.
. tests/lib/tap.sh
. tests/lib/gw.sh
gw_need_root
. tests/lib/pg.sh
pg_need

gw_setup || { fail "gateway test setup"; tap_done; exit 1; }
pg_two_gateways "alerts: { parallel = { action = \"deny\"; };
  first_access = { action = \"off\"; }; };" || { tap_done; exit 1; }
# peers_seen LOG N: the gateway's log says the others hold N live sessions
# (its last such line; "not known" is none).
peers_seen() {
	[ "$(grep -e 'detector: the other gateways hold' -e "live sessions are not known" "$1" |
		tail -1 | sed -e 's/.*hold \([0-9]*\) live.*/\1/' -e 's/.*not known.*/0/')" = "$2" ]
}
# from ADDR ...: gw_shell, the login attested from ADDR.
from() { a=$1; shift; GW_ATTEST_OPTS="-s $a" gw_shell "$@"; }

# ---- a session on B from 192.0.2.10 -----------------------------------------
GW_ATTEST_OPTS="-s 192.0.2.10" shell_b MSPGATE_TARGET=t1/box \
	SSH_ORIGINAL_COMMAND='echo b-live; exec sleep 120' </dev/null >"$T/b.out" 2>"$T/b.err" &
bpid=$!
gw_track "$bpid"
tap_wait 30 grep -q b-live "$T/b.out"
check "B: the engineer's session from 192.0.2.10 runs" test $? -eq 0
tap_wait 30 peers_seen "$T/mspgated.log" 1
check "A's detector learns that B holds one live session" test $? -eq 0
check "B does not count its own" sh -c "! grep -q 'other gateways hold [1-9]' '$T/mspgated-b.log'"

from 192.0.2.10 MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo same' </dev/null >"$T/a1" 2>&1
check "A, from the same address (a second terminal): allowed" test $? -eq 0
from 198.51.100.7 MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo other' </dev/null >"$T/a2" 2>&1
check "A, from another address while B's session is live: refused" test $? -eq 255
check_grep "A tells the engineer why" \
	"^mspgate: refused: unusual activity (parallel use); your MSP's security team has been alerted$" "$T/a2"
check "and nothing ran" sh -c "! grep -q '^other' '$T/a2'"
check_grep_soon "A's audit log: the alert names B's session and gateway" \
	'"event":"alert".*"result":"deny","reason":"alert: new session from 198.51.100.7 while session [^ ]* from 192.0.2.10 is live on gateway gwb' \
	"$GW_AUDIT"

# ---- B's session ends: A lets the other address in --------------------------
"$BIN/mspgatectl" -s "$CTLB" kill --engineer "$GW_ENG" >/dev/null 2>&1
wait "$bpid" 2>/dev/null
tap_wait 30 peers_seen "$T/mspgated.log" 0
check "A learns that B holds none any more" test $? -eq 0
from 198.51.100.7 MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo other' </dev/null >"$T/a3" 2>&1
check "A, from the other address now: allowed" test $? -eq 0
check_grep "and it ran" "^other$" "$T/a3"

# ---- A's state worker stopped: A cannot know --------------------------------
GW_ATTEST_OPTS="-s 192.0.2.10" shell_b MSPGATE_TARGET=t1/box \
	SSH_ORIGINAL_COMMAND='echo b-live2; exec sleep 120' </dev/null >"$T/b2.out" 2>"$T/b2.err" &
bpid=$!
gw_track "$bpid"
tap_wait 30 grep -q b-live2 "$T/b2.out"
tap_wait 30 peers_seen "$T/mspgated.log" 1
check "B's second session is known to A" test $? -eq 0
wpid=$(pgrep -P "$GW_DPID" -x mspgate-sync)
kill -KILL "$wpid"
tap_wait 30 grep -q "the other gateways' live sessions are not known" "$T/mspgated.log"
check "A's worker gone: A forgets the others' sessions" test $? -eq 0
tap_wait 30 peers_seen "$T/mspgated.log" 1
check "A's next worker tells it again" test $? -eq 0
from 203.0.113.5 MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo third' </dev/null >"$T/a4" 2>&1
check "with a new worker, A refuses a third address again" test $? -eq 255
"$BIN/mspgatectl" -s "$CTLB" kill --engineer "$GW_ENG" >/dev/null 2>&1
wait "$bpid" 2>/dev/null
tap_wait 30 peers_seen "$T/mspgated.log" 0
check "B's session ended: A learns it" test $? -eq 0

# ---- an event that cannot be written waits, and is written later -----------
# events_of ADDR N: the database holds N events of gateway A from ADDR.
events_of() {
	[ "$(pg_psql "SELECT count(*) FROM mspgate_events WHERE gateway = 'gwa' AND source = '$1'" \
		2>/dev/null)" = "$2" ]
}
pg_psql "REVOKE INSERT ON mspgate_events FROM mspgate" >/dev/null
from 192.0.2.44 MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo while-refused' </dev/null >"$T/a5" 2>&1
check "a session while A cannot write its events: allowed" test $? -eq 0
check_grep_soon "A's worker says it cannot share the event" \
	"state worker: cannot share the detector's events: .*permission denied" "$T/mspgated.log"
check "the event is not in the database" events_of 192.0.2.44 0
pg_psql "GRANT INSERT ON mspgate_events TO mspgate" >/dev/null
tap_wait 30 events_of 192.0.2.44 1
check "allowed again: the kept event is written, once" test $? -eq 0
check_grep_soon "and A's log says so" \
	"state worker: 1 kept detector event written to the state database (none lost)" \
	"$T/mspgated.log"

kill -TERM "$DPIDB"
tap_wait 30 sh -c "! kill -0 $DPIDB 2>/dev/null"
check "no sanitizer report" gw_no_reports
check "none from gateway B either" sh -c "! grep -l -e Sanitizer -e 'runtime error:' \
	'$T/mspgated-b.log' 2>/dev/null"
tap_done
