#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# tests/lib/pg.sh itself: the throwaway PostgreSQL cluster that issue 17's
# tests share state through. It must be what they take it for: the gateway's
# role logs in by password over TCP and nothing else does, a stop is a stop,
# a restart keeps the data and the port, a held lock blocks, and nothing is
# left when the test ends.
. tests/lib/tap.sh
. tests/lib/pg.sh
pg_need

pg_start || { fail "throwaway cluster started"; tap_done; exit 1; }
ok "throwaway cluster started ($PG_BIN, 127.0.0.1:$PG_PORT)"
check "not the system cluster's port" test "$PG_PORT" -ne 5432
check "its data directory is under the test's" test -f "$T/pg/data/PG_VERSION"
listen_addrs() { ss -Hltn "sport = :$PG_PORT" | awk '{ print $4 }' | sort -u; }
check "listens on 127.0.0.1 only" test "$(listen_addrs)" = "127.0.0.1:$PG_PORT"
check "password file mode 0600" test "$(stat -c %a "$PG_PASSFILE")" = 600
check "conninfo has no password in it" sh -c "! printf '%s' '$PG_CONNINFO' | grep -qi pass"
check "conninfo names host, port, database and user" test "$PG_CONNINFO" = \
	"host=127.0.0.1 port=$PG_PORT dbname=mspgate user=mspgate"

# The gateway's role, as the gateway will log in.
pg_psql_user "$PG_PASSFILE" "SELECT current_user, current_database()" >"$T/who" 2>&1
check "mspgate logs in over TCP with the password file" test "$(cat "$T/who")" = "mspgate|mspgate"
pg_psql "SELECT auth_method FROM pg_hba_file_rules WHERE 'mspgate' = ANY(user_name)" >"$T/hba"
check "its pg_hba line is scram-sha-256" test "$(cat "$T/hba")" = scram-sha-256
pg_psql "SELECT rolpassword LIKE 'SCRAM-SHA-256\$%', rolsuper FROM pg_authid
	WHERE rolname = 'mspgate'" >"$T/role"
check "its password is stored as SCRAM; not a superuser" test "$(cat "$T/role")" = "t|f"
pg_psql "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'mspgate'" >"$T/owner"
check "database mspgate owned by mspgate" test "$(cat "$T/owner")" = mspgate
pg_psql_user "$PG_PASSFILE" "CREATE TABLE kept (v text)" \
	"INSERT INTO kept VALUES ('made-before-the-stop')"
check "mspgate can create tables in its database" test $? -eq 0

# Refusals.
pg_psql_user "$PG_PASSFILE_BAD" "SELECT 1" >/dev/null 2>"$T/bad.err"
check "wrong password refused" test $? -ne 0
check_grep "wrong password: says so" "password authentication failed" "$T/bad.err"
pg_psql_user /dev/null "SELECT 1" >/dev/null 2>"$T/nopass.err"
check "no password refused" test $? -ne 0
PGPASSFILE=$PG_PASSFILE PGCONNECT_TIMEOUT=10 "$PG_BIN/psql" -X -w -At \
	-d "host=127.0.0.1 port=$PG_PORT dbname=postgres user=postgres" -c "SELECT 1" \
	>/dev/null 2>"$T/su.err"
check "the superuser over TCP refused" test $? -ne 0
check_grep "superuser over TCP: no pg_hba.conf entry" "no pg_hba.conf entry" "$T/su.err"

# Stop, start again.
pg_down() { ! pg_running; }
pg_stop
check "pg_stop: the server is down" pg_down
pg_psql_user "$PG_PASSFILE" "SELECT 1" >/dev/null 2>"$T/down.err"
check "pg_stop: a connection fails" test $? -ne 0
check_grep "pg_stop: refused, not timed out" "Connection refused" "$T/down.err"
check "pg_stop: the port is closed" test -z "$(listen_addrs)"
port0=$PG_PORT
pg_start_again
check "pg_start_again: running again" pg_running
check "pg_start_again: the same port" test "$PG_PORT" = "$port0"
pg_psql_user "$PG_PASSFILE" "SELECT v FROM kept" >"$T/kept" 2>&1
check "pg_start_again: the data kept" test "$(cat "$T/kept")" = made-before-the-stop

# A held lock blocks, with an error once lock_timeout passes.
pg_psql_user "$PG_PASSFILE" "CREATE TABLE codes (u text PRIMARY KEY, step bigint)" \
	"INSERT INTO codes VALUES ('alice', 1)"
pg_psql "GRANT ALL ON codes TO mspgate" >/dev/null
pg_hold_lock codes 300
check "pg_hold_lock: the lock is held" test $? -eq 0
check "pg_hold_lock: PG_LOCK_PID is its psql" \
	test "$(cat /proc/"$PG_LOCK_PID"/comm 2>/dev/null)" = psql
pg_psql_user "$PG_PASSFILE" "SET lock_timeout = '1s'" \
	"UPDATE codes SET step = 2 WHERE u = 'alice'" >/dev/null 2>"$T/upd.err"
check "locked: UPDATE fails" test $? -ne 0
check_grep "locked: UPDATE fails by lock timeout" "canceling statement due to lock timeout" "$T/upd.err"
pg_psql_user "$PG_PASSFILE" "SET lock_timeout = '1s'" \
	"SELECT step FROM codes WHERE u = 'alice' FOR UPDATE" >/dev/null 2>"$T/sfu.err"
check "locked: SELECT ... FOR UPDATE fails" test $? -ne 0
check_grep "locked: SELECT ... FOR UPDATE fails by lock timeout" \
	"canceling statement due to lock timeout" "$T/sfu.err"
pg_release_lock
check "pg_release_lock: the session is gone" pg_session_gone "$PG_LOCK_APP"
pg_psql_user "$PG_PASSFILE" "SET lock_timeout = '1s'" \
	"UPDATE codes SET step = 2 WHERE u = 'alice' RETURNING step" >"$T/upd2" 2>&1
check "released: UPDATE goes through" test "$(cat "$T/upd2")" = 2
# Killing the holder's psql alone also frees the table (the server sees
# its client gone within client_connection_check_interval).
pg_hold_lock codes 300
kill "$PG_LOCK_PID"
upd3() {
	pg_psql_user "$PG_PASSFILE" "SET lock_timeout = '1s'" \
		"UPDATE codes SET step = 3 WHERE u = 'alice'" >/dev/null 2>&1
}
check "kill PG_LOCK_PID: the table is free again (30 s)" tap_wait 30 upd3

# Nothing left: no process of the cluster (each one's working directory
# is its data directory), no directory.
# (The postmaster was started by pg_ctl, so init reaps it: until then it
# may show as a zombie, which has ended all the same.)
pmpid=$(head -1 "$T/pg/data/postmaster.pid")
pg_cleanup
check "pg_cleanup: the postmaster has ended" sh -c \
	"case \$(ps -o stat= -p '$pmpid') in ''|Z*) exit 0 ;; *) exit 1 ;; esac"
left=""
for p in $(pgrep -u postgres); do
	case $(readlink "/proc/$p/cwd" 2>/dev/null) in "$T"/*) left="$left $p" ;; esac
done
check "pg_cleanup: no postgres process under the test's directory" test -z "$left"
check "pg_cleanup: its directory removed" test ! -e "$T/pg"
pg_cleanup
check "pg_cleanup a second time does nothing" test $? -eq 0
tap_done
