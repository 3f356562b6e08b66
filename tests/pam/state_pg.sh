#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The shared state in PostgreSQL (issue 17) through the real libpam and a
# throwaway cluster: two "gateways" (two policies that differ only in their
# own paths and name, one database) accept a TOTP code once between them,
# also when ten logins race for it; a lockout on one holds on the other; the
# secret is sealed at rest; the schema is made on request only and checked
# before use; a stopped, slow or unreadable database refuses with a clear
# message and comes back without a restart.
. tests/lib/tap.sh
. tests/lib/pg.sh
pg_need
. tests/pam/pamlib.inc
POLICY=$B/bin/mspgate-policy

pg_start || { fail "throwaway PostgreSQL cluster"; tap_done; exit 1; }
openssl rand -hex 32 >"$T/etc/state.key" && chmod 600 "$T/etc/state.key"
LOCK_FAILURES=3
policy <<P
$(mfa_section)
state: { backend = "postgresql"; conninfo = "$PG_CONNINFO"; passfile = "$PG_PASSFILE";
         key_file = "$T/etc/state.key"; timeout = "5s"; name = "gwa"; };
engineers = ( { name = "alice"; groups = ["l1"]; }, { name = "bob"; groups = ["l1"]; },
              { name = "carol"; groups = ["l1"]; }, { name = "dave"; groups = ["l1"]; } );
tenants = ( { name = "acme"; targets = ( $(target web01) ); } );
grants = ( { to = "group:l1"; tenants = ["acme"]; targets = ["*"]; logins = ["deploy"]; mfa = "totp"; } );
P
POLA=$POL
# Gateway B: the same policy but for what is its own (state, store, audit, name).
POLB=$T/etc/mspgate-b.conf
mkdir -p "$T/var/totp-b" "$T/var/state-b" && chmod 700 "$T/var/totp-b" "$T/var/state-b"
sed -e "s|$T/var/totp|$T/var/totp-b|; s|$T/var/state|$T/var/state-b|" \
	-e "s|$AUDIT|$T/log/audit-b.jsonl|; s|name = \"gwa\"|name = \"gwb\"|" "$POLA" >"$POLB"
chmod 0644 "$POLB"
svc gwa config=$POLA
svc gwb config=$POLB
line=$(grep -n '^state:' "$POLA" | cut -d: -f1)

# The schema: never made implicitly, checked before use.
"$POLICY" check -f "$POLA" 2>"$T/err"
check "check before state init fails" test $? -eq 1
check_grep "and says to run state init, at FILE:LINE" \
	"^$POLA:$line: state: .*no mspgate schema: run mspgate-policy state init" "$T/err"
"$B/bin/mspgated" -t -f "$POLA" >"$T/o" 2>&1
check "mspgated will not start without the schema" test $? -ne 0
check_grep "and says why, at FILE:LINE" "$POLA:$line: state: .*no mspgate schema" "$T/o"
"$ENROLL" -c "$POLA" --batch alice >"$T/o" 2>&1
check "enrolment before state init fails" test $? -ne 0
check_grep "saying the schema is missing" "state init" "$T/o"
"$POLICY" state init -f "$POLA" >"$T/o" 2>&1
check "state init" test $? -eq 0
check_grep "says what it made" "^state database: schema version [0-9]* created$" "$T/o"
# The version this mspgate makes (each issue's tables add a step).
V=$(sed -n 's/^state database: schema version \([0-9]*\) created$/\1/p' "$T/o")
"$POLICY" state init -f "$POLA" 2>"$T/err"
check "a second state init is refused" test $? -eq 1
check_grep "naming migrate" "has a schema already (mspgate-policy state migrate" "$T/err"
"$POLICY" state migrate -f "$POLB" >"$T/o"
check "state migrate on a current schema" test $? -eq 0
check_grep "says up to date" "schema version $V, up to date" "$T/o"
"$POLICY" check -f "$POLA" >/dev/null
check "check passes once the schema is there" test $? -eq 0
"$POLICY" state status -f "$POLB" >"$T/o"
check "state status" test $? -eq 0
pg_psql "UPDATE mspgate_schema SET version = 7" >/dev/null
"$POLICY" check -f "$POLA" 2>"$T/err"
check "a schema newer than this mspgate: check fails" test $? -eq 1
check_grep "and says to upgrade mspgate" "version 7, newer than this mspgate's ($V): upgrade" "$T/err"
"$POLICY" state migrate -f "$POLA" 2>"$T/err"
check "and migrate refuses to go back" test $? -eq 1
pg_psql "UPDATE mspgate_schema SET version = $V" >/dev/null

# A version-1 database (as the first release made it, by hand here, with
# a secret in it) is brought to version $V by migrate, on request only.
# Made as the gateways' role, which owns what state init makes.
pg_psql_user "$PG_PASSFILE" "DO \$\$ DECLARE t text; BEGIN FOR t IN SELECT tablename FROM pg_tables
	    WHERE schemaname = 'public' AND tablename LIKE 'mspgate_%' LOOP
	    EXECUTE 'DROP TABLE ' || quote_ident(t) || ' CASCADE'; END LOOP; END \$\$" \
	"CREATE TABLE mspgate_schema (version integer NOT NULL, migrated timestamptz NOT NULL DEFAULT now())" \
	"INSERT INTO mspgate_schema (version) VALUES (1)" \
	"CREATE TABLE mspgate_totp (engineer text PRIMARY KEY, sealed text NOT NULL, used_step bigint NOT NULL DEFAULT -1, updated timestamptz NOT NULL DEFAULT now())" \
	"CREATE TABLE mspgate_lockout (engineer text PRIMARY KEY, record text NOT NULL, updated timestamptz NOT NULL DEFAULT now())" \
	"INSERT INTO mspgate_totp (engineer, sealed) VALUES ('old', 'kept')" >/dev/null
"$POLICY" check -f "$POLA" 2>"$T/err"
check "a version-1 schema: check fails" test $? -eq 1
check_grep "and says to migrate" "schema is version 1, this mspgate needs $V: run mspgate-policy state migrate" "$T/err"
"$POLICY" state migrate -f "$POLB" >"$T/o" 2>&1
check "state migrate from version 1" test $? -eq 0
check_grep "says from 1 to $V" "^state database: schema migrated from version 1 to $V$" "$T/o"
check "the schema says version $V" test "$(pg_psql "SELECT version FROM mspgate_schema")" = "$V"
check "the live-session tables are there" test "$(pg_psql "SELECT count(*) FROM pg_tables WHERE tablename IN ('mspgate_sessions', 'mspgate_kill')")" = 2
check "the detector's event and the audit tables are there" test "$(pg_psql "SELECT count(*) FROM pg_tables WHERE tablename IN ('mspgate_events', 'mspgate_audit')")" = 2
check "what version 1 held is kept" test "$(pg_psql "SELECT sealed FROM mspgate_totp WHERE engineer = 'old'")" = kept
"$POLICY" check -f "$POLA" >/dev/null
check "check passes after migrate" test $? -eq 0
"$POLICY" state migrate -f "$POLA" >"$T/o"
check_grep "a second migrate: up to date" "schema version $V, up to date" "$T/o"
pg_psql "DELETE FROM mspgate_totp" >/dev/null

# Connection errors at check, not at the first login.
sed "s|passfile = \"$PG_PASSFILE\"|passfile = \"$PG_PASSFILE_BAD\"|" "$POLA" >"$T/etc/badpw.conf"
chmod 0644 "$T/etc/badpw.conf"
"$POLICY" check -f "$T/etc/badpw.conf" 2>"$T/err"
check "a wrong password: check fails" test $? -eq 1
check_grep "saying authentication failed" "state: cannot connect to the state database: .*password authentication failed" "$T/err"
hasnt "the password is not printed" "$(cut -d: -f5 "$PG_PASSFILE_BAD")" "$T/err"
sed "s|port=$PG_PORT|port=1|" "$POLA" >"$T/etc/noserver.conf"
chmod 0644 "$T/etc/noserver.conf"
"$POLICY" check -f "$T/etc/noserver.conf" 2>"$T/err"
check "no server at conninfo: check fails" test $? -eq 1
check_grep "saying it cannot connect" "state: cannot connect to the state database: .*refused" "$T/err"
chmod 644 "$T/etc/state.key"
"$POLICY" check -f "$POLA" 2>"$T/err"
check "a world-readable key file: check fails" test $? -eq 1
check_grep "naming state.key_file" "state.key_file" "$T/err"
chmod 600 "$T/etc/state.key"

# Enrolment on A, sealed at rest, usable on B.
SA=$(POL=$POLA enroll_batch alice)
check "alice enrolled through gateway A" test "${#SA}" -eq 32
"$ENROLL" -c "$POLA" --activate "$(code "$SA" -1)" alice >"$T/o" 2>&1
check_grep "and activated" "secret activated" "$T/o"
check "no secret file on either gateway" test -z "$(find "$T/var/totp" "$T/var/totp-b" -type f)"
pg_psql "SELECT sealed FROM mspgate_totp WHERE engineer = 'alice'" >"$T/sealed"
check "the database holds a sealed value" test "$(wc -c <"$T/sealed")" -gt 100
hasnt "not the secret itself" "$SA" "$T/sealed"
hasnt "not the secret in hex" "$(printf %s "$SA" | base32 -d 2>/dev/null | od -An -tx1 | tr -d ' \n')" "$T/sealed"
"$ENROLL" -c "$POLB" --list >"$T/o" 2>&1
check_grep "gateway B lists alice's secret" "^alice  *active" "$T/o"

# One code, accepted once across both gateways.
C=$(code "$SA" 0)
run "$T/o" -s gwa -u alice -c "$C" auth
has "A: the code logs in" "auth PAM_SUCCESS" "$T/o"
run "$T/o" -s gwb -u alice -c "$C" auth
has "B: the same code is refused (used on A)" "auth PAM_AUTH_ERR" "$T/o"
check_grep "syslog says replay" "user=alice .*already used (replay)" "$MGPAM_SYSLOG"
run "$T/o" -s gwa -u alice -c "$C" auth
has "A: and again on A" "auth PAM_AUTH_ERR" "$T/o"

# Ten logins race with one fresh code, five on each gateway: exactly one.
# They are held at the starting line (a lock on the secrets' table) until
# all ten wait in the database, then let go at once.
waiting() {
	[ "$(pg_psql "SELECT count(*) FROM pg_stat_activity WHERE application_name
	    LIKE 'mspgate/%' AND wait_event_type = 'Lock'")" -ge "$1" ]
}
C=$(code "$SA" 1)
pg_hold_lock mspgate_totp 60
i=0
while [ $i -lt 10 ]; do
	g=gwa; [ $((i % 2)) -eq 1 ] && g=gwb
	"$DRV" -C "$T/pam.d" -s $g -u alice -c "$C" auth >"$T/race.$i" 2>&1 &
	i=$((i + 1))
done
tap_wait 20 waiting 10
check "all ten wait at the starting line" test $? -eq 0
pg_release_lock
wait
n=$(cat "$T"/race.* | grep -cx "auth PAM_SUCCESS")
check "10 racing logins over both gateways: exactly one accepted ($n)" test "$n" -eq 1
n=$(cat "$T"/race.* | grep -cx "auth PAM_AUTH_ERR")
check "and nine refused ($n)" test "$n" -eq 9
"$ENROLL" -c "$POLA" --unlock alice >/dev/null 2>&1

# A lockout on one gateway holds on the other.
SB=$(POL=$POLA enroll_batch bob)
"$ENROLL" -c "$POLB" --activate "$(code "$SB" -1)" bob >/dev/null 2>&1
run "$T/o" -s gwa -u bob -c 000000 auth
run "$T/o" -s gwb -u bob -c 000001 auth
run "$T/o" -s gwa -u bob -c 000002 auth
check_grep "the third failure (two on A, one on B) locks bob" "user 'bob' locked out" "$MGPAM_SYSLOG"
run "$T/o" -s gwb -u bob -c "$(code "$SB" 0)" auth
has "B: bob's right code is refused while locked" "auth PAM_AUTH_ERR" "$T/o"
check_grep "syslog says locked" "user=bob .*account locked" "$MGPAM_SYSLOG"
"$ENROLL" -c "$POLB" --lockouts >"$T/o" 2>&1
check_grep "--lockouts on B lists bob" "^bob  *locked until" "$T/o"
"$ENROLL" -c "$POLB" --unlock bob >"$T/o" 2>&1
check_grep "--unlock on B" "bob: unlocked" "$T/o"
run "$T/o" -s gwa -u bob -c "$(code "$SB" 1)" auth
has "A: bob logs in once B unlocked him" "auth PAM_SUCCESS" "$T/o"

# The database stopped: refused, plainly; started again: works, nothing restarted.
SC=$(POL=$POLA enroll_batch carol)
"$ENROLL" -c "$POLA" --activate "$(code "$SC" -1)" carol >/dev/null 2>&1
pg_stop
run "$T/o" -s gwa -u carol -c "$(code "$SC" 0)" auth
has "database down: refused" "auth PAM_AUTH_ERR" "$T/o"
check_grep "told the gateway cannot check codes now" \
	"error: Access denied: the gateway cannot check one-time codes right now" "$T/o"
check_grep "syslog says why" "auth failure: user=carol .*state database" "$MGPAM_SYSLOG"
"$B/bin/mspgated" -t -f "$POLA" >"$T/o" 2>&1
check "database down: mspgated still starts (logins refuse codes until it answers)" test $? -eq 0
check_grep "and warns" "state database: .*one-time codes are refused until it answers" "$T/o"
pg_start_again
run "$T/o" -s gwa -u carol -c "$(code "$SC" 0)" auth
has "database back: the same code logs in (it was never recorded)" "auth PAM_SUCCESS" "$T/o"

# A slow database: a lock held for 20 s; the login gives up after state.timeout.
pg_hold_lock mspgate_totp 20
t0=$(date +%s)
run "$T/o" -s gwb -u carol -c "$(code "$SC" 1)" auth
t1=$(date +%s)
has "a lock held for 20 s: refused" "auth PAM_AUTH_ERR" "$T/o"
check "after the 5 s timeout, not the 20 s lock ($((t1 - t0)) s)" test $((t1 - t0)) -ge 4 -a $((t1 - t0)) -le 12
check_grep "and told so" "cannot check one-time codes right now" "$T/o"
pg_release_lock
run "$T/o" -s gwb -u carol -c "$(code "$SC" 1)" auth
has "lock gone: the code logs in" "auth PAM_SUCCESS" "$T/o"

# Another gateway's key does not open the secrets (nor a secret moved to another row).
openssl rand -hex 32 >"$T/etc/other.key" && chmod 600 "$T/etc/other.key"
sed "s|$T/etc/state.key|$T/etc/other.key|" "$POLB" >"$T/etc/otherkey.conf"
chmod 0644 "$T/etc/otherkey.conf"
svc otherkey config=$T/etc/otherkey.conf
run "$T/o" -s otherkey -u carol -c "$(code "$SC" 0)" auth
has "a gateway with another key: refused" "auth PAM_AUTH_ERR" "$T/o"
check_grep "syslog says the secret does not open" "does not open with this gateway's state.key_file" "$MGPAM_SYSLOG"
pg_psql "UPDATE mspgate_totp SET sealed = (SELECT sealed FROM mspgate_totp WHERE engineer = 'alice') WHERE engineer = 'carol'" >/dev/null
run "$T/o" -s gwa -u carol -c "$(code "$SA" 0)" auth
has "alice's sealed secret copied into carol's row: refused" "auth PAM_AUTH_ERR" "$T/o"

# The broker (what mspgated runs on a gateway): one connection kept for
# every login of gateway A; B's logins still connect on their own.
SD=$(POL=$POLA enroll_batch dave)
"$ENROLL" -c "$POLA" --activate "$(code "$SD" -1)" dave >/dev/null 2>&1
"$B/tests/lib/broker-run" "$POLA" >"$T/broker.out" 2>&1 &
BROKER=$!
tap_track_pid $BROKER
tap_wait 20 grep -qx ready "$T/broker.out"
check "the broker listens at gateway.state/state.sock, mode 0600" \
	test "$(stat -c %a "$T/var/state/state.sock" 2>/dev/null)" = 600
runuser -u nobody -- python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' "$T/var/state/state.sock" >"$T/forge" 2>&1
check "another account cannot even connect" grep -q "Permission denied" "$T/forge"
C=$(code "$SD" 0)
run "$T/o" -s gwa -u dave -c "$C" auth
has "A, through the broker: the code logs in" "auth PAM_SUCCESS" "$T/o"
n=$(pg_psql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mspgate/gwa'")
check "the broker's connection stays open after the login ($n)" test "$n" -eq 1
run "$T/o" -s gwb -u dave -c "$C" auth
has "B, on its own connection: the same code refused" "auth PAM_AUTH_ERR" "$T/o"
run "$T/o" -s gwa -u dave -c "$C" auth
has "A, through the broker: refused again" "auth PAM_AUTH_ERR" "$T/o"
C=$(code "$SD" 1)
pg_hold_lock mspgate_totp 60
i=0
racers=""
while [ $i -lt 10 ]; do
	g=gwa; [ $((i % 2)) -eq 1 ] && g=gwb
	"$DRV" -C "$T/pam.d" -s $g -u dave -c "$C" auth >"$T/brace.$i" 2>&1 &
	racers="$racers $!"
	i=$((i + 1))
done
# The broker takes A's five one at a time: one waits in the database.
tap_wait 20 waiting 6
check "B's five and the broker's one wait at the starting line" test $? -eq 0
pg_release_lock
for p in $racers; do wait "$p"; done
n=$(cat "$T"/brace.* | grep -cx "auth PAM_SUCCESS")
check "10 logins racing through the broker and past it: exactly one accepted ($n)" test "$n" -eq 1

# A new session on an attested login asks the broker whether the login
# still stands. Asked with a policy whose own password is wrong: only the
# broker can read the database for it.
STAND="$B/tests/lib/broker-run -s $T/etc/badpw.conf dave - 1"
$STAND >"$T/o" 2>&1
check_grep "the race locked dave out: a new session is refused, through the broker" \
	"^standing -[0-9]* 0 the account is locked out" "$T/o"
"$ENROLL" -c "$POLA" --unlock dave >/dev/null 2>&1
$STAND >"$T/o" 2>&1
check_grep "unlocked: his TOTP login stands again" "^standing 0 2 -\$" "$T/o"
n=$(pg_psql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mspgate/gwa'")
check "the broker's one connection served both ($n)" test "$n" -eq 1
"$B/tests/lib/broker-run" -s "$T/etc/badpw.conf" dave - 999 >"$T/o" 2>&1
check_grep "any step the login had stands" "^standing 0 2 -\$" "$T/o"
pg_psql "CREATE TABLE dave_kept AS SELECT * FROM mspgate_totp WHERE engineer = 'dave';
	DELETE FROM mspgate_totp WHERE engineer = 'dave'" >/dev/null
$STAND >"$T/o" 2>&1
check_grep "no longer enrolled: refused" "^standing -[0-9]* 0 TOTP is no longer enrolled for dave" "$T/o"
python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"standing\tdave\t1700000000\tnot-a-key 1\t-\n"); print("reply:", s.recv(100))' \
	"$T/var/state/state.sock" >"$T/o" 2>&1
check_grep "evidence the attestation reader would refuse: no answer" "^reply: b''" "$T/o"
pg_psql "INSERT INTO mspgate_totp SELECT * FROM dave_kept; DROP TABLE dave_kept" >/dev/null
# The database restarted under the broker's kept connection: its next
# answer is good at once (it sees the server left and connects again).
pg_stop
pg_start_again
$STAND >"$T/o" 2>&1
check_grep "the database restarted: the broker's first answer after it is good" "^standing 0 2 -\$" "$T/o"
kill "$BROKER"; wait "$BROKER" 2>/dev/null
$STAND >"$T/o" 2>&1
check_grep "broker gone: the session asks on its own (its wrong password refuses)" \
	"^standing -[0-9]* 0 lockout record unreadable: .*password authentication failed" "$T/o"
"$B/tests/lib/broker-run" -s "$POLA" dave - 1 >"$T/o" 2>&1
check_grep "and with the right one, on its own connection, it stands" "^standing 0 2 -\$" "$T/o"
run "$T/o" -s gwa -u dave -c 000000 auth
check_grep "broker gone: A checks codes on its own again" "user=dave .*wrong TOTP code" "$MGPAM_SYSLOG"

check "nothing written under either gateway's TOTP store" test -z "$(find "$T/var/totp" "$T/var/totp-b" -type f)"
tap_done
