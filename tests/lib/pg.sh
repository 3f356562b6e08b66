# SPDX-License-Identifier: BSD-2-Clause
# PostgreSQL test helpers: source after tests/lib/tap.sh (before or after
# tests/lib/gw.sh and chain.sh), as root. A throwaway cluster of the test's
# own, made with initdb under $T and run as the "postgres" system user,
# on 127.0.0.1 and a free high port, with its unix socket in a directory of
# its own; stopped and removed at exit, also when the test fails. The
# system's cluster (/var/lib/postgresql, /etc/postgresql, port 5432) is
# never touched, nor are pg_ctlcluster and pg_createcluster used.
#
#   pg_missing               true when no cluster can be made here, why in
#                            $PG_WHY (the benchmarks leave their rows out)
#   pg_need                  skip the whole test (exit 0) unless root and the
#                            server binaries are installed (MG_NO_SKIP: run.sh
#                            counts the skip as failed)
#   pg_start                 initdb, start, role and database "mspgate"
#   pg_stop                  fast shutdown, waits until it is down
#   pg_start_again           the same cluster (data, port) started again
#   pg_psql SQL...           each SQL as the superuser over the socket, in the
#                            database mspgate; prints tuples only, unaligned;
#                            stops at the first error (exit 1, 2 when the
#                            server cannot be reached)
#   pg_psql_db DB SQL...     the same in database DB
#   pg_psql_user PASSFILE SQL...   the same as "mspgate" over TCP, the
#                            password from PASSFILE (as the gateway logs in)
#   pg_hold_lock TABLE SECONDS     a background session holding an ACCESS
#                            EXCLUSIVE lock on TABLE for SECONDS; returns once
#                            the lock is granted; its psql's pid in PG_LOCK_PID
#                            (killing that pid ends the session within ~1 s)
#   pg_release_lock          ends the session pg_hold_lock started, and waits
#                            until its lock is gone
#   pg_cleanup               stops the cluster and removes it (at exit anyway)
#   pg_running               0 while the cluster's server runs
#   pg_lock_held TABLE APP, pg_session_gone APP   for tap_wait: session APP
#                            (an application_name; pg_hold_lock's is in
#                            PG_LOCK_APP) holds TABLE's lock / is gone
#
# pg_start exports PG_HOST (127.0.0.1), PG_PORT, PG_CONNINFO ("host=...
# port=... dbname=mspgate user=mspgate", no password), PG_PASSFILE (a libpq
# password file, 0600, root's: chown it for the account that is to read
# it) and PG_PASSFILE_BAD (the same with a wrong password); and sets PG_DIR
# (the cluster's directory, $T/pg), PG_LOG (the server's log there), PG_BIN
# (the server's programs).

PG_DIR=""
PG_HOLD_N=0
PG_LOCK_PID=""
PG_LOCK_APP=""
PG_HOLD_PIDS=""

# pg_find_bin: the newest installed server version's bin/ with what we run.
pg_find_bin() {
	# MG_PG_BIN=DIR: another installed version's bin/.
	for d in ${MG_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r)}; do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] &&
			[ -x "$d/psql" ] && { echo "$d"; return 0; }
	done
	return 1
}

# pg_missing: 0 (true) when a throwaway cluster cannot be made here, and
# why in $PG_WHY; else 1, with $PG_BIN set. For the tests (pg_need) and
# the benchmarks, which leave their PostgreSQL rows out and say why.
pg_missing() {
	PG_WHY=""
	if [ "$(id -u)" -ne 0 ]; then
		PG_WHY="PostgreSQL tests need root (the cluster runs as the postgres user)"
	elif ! PG_BIN=$(pg_find_bin); then
		PG_WHY="PostgreSQL server binaries not installed (apt-get install postgresql)"
	elif ! id postgres >/dev/null 2>&1; then
		PG_WHY="no postgres system user (the postgresql package makes it)"
	elif ! command -v runuser >/dev/null 2>&1; then
		PG_WHY="runuser not found (util-linux)"
	fi
	[ -n "$PG_WHY" ]
}

pg_need() {
	if pg_missing; then
		# tests/run.sh counts a script with no test at all as failed.
		echo "ok 1 # SKIP $PG_WHY"
		echo "1..1"
		exit 0
	fi
}

command -v free_port >/dev/null 2>&1 || free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# pg_as_postgres CMD...: CMD as the postgres user, from a directory it may
# enter (initdb and pg_ctl look up their own path from the working one).
pg_as_postgres() { (cd "$PG_DIR" && runuser -u postgres -- "$@"); }

pg_start() {
	[ -n "${PG_BIN:-}" ] || PG_BIN=$(pg_find_bin) || return 1
	# $T is root's 0700: the postgres user must reach its own directory
	# inside (0711: it can enter, not list).
	chmod 0711 "$T"
	PG_DIR="$T/pg"
	tap_at_exit pg_cleanup
	mkdir -m 0700 "$PG_DIR" || return 1
	mkdir -m 0700 "$PG_DIR/sock"
	chown -R postgres:postgres "$PG_DIR"
	PG_SOCK="$PG_DIR/sock"
	PG_LOG="$PG_DIR/postgres.log"
	PG_HOST=127.0.0.1
	PG_PORT=$(free_port)
	pg_as_postgres "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -E UTF8 \
		--locale=C --auth-local=trust --auth-host=reject --no-sync \
		>"$T/pg-initdb.log" 2>&1 || { cat "$T/pg-initdb.log" >&2; return 1; }
	# The superuser only through the socket, whose directory only root and
	# postgres can enter; "mspgate" only over TCP, by password (SCRAM).
	# Anything else matches no line and is refused.
	cat >"$PG_DIR/data/pg_hba.conf" <<EOF
# mspgate test cluster: removed when the test ends
local   all      postgres                 trust
host    mspgate  mspgate   127.0.0.1/32   scram-sha-256
EOF
	# Throwaway: no fsync. Dynamic shared memory in the data directory, so
	# nothing is left in /dev/shm even if the server has to be killed.
	# client_connection_check_interval: a session whose psql is killed
	# (pg_hold_lock) ends, and drops its locks, within a second.
	cat >>"$PG_DIR/data/postgresql.conf" <<EOF

# mspgate test cluster
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
password_encryption = 'scram-sha-256'
max_connections = 40
shared_buffers = 16MB
dynamic_shared_memory_type = mmap
fsync = off
full_page_writes = off
synchronous_commit = off
client_connection_check_interval = 1000
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_connections = on
EOF
	chown postgres:postgres "$PG_DIR/data/pg_hba.conf"
	pg_start_again || return 1
	pg_pw=$(openssl rand -hex 24) || return 1
	pg_psql_db postgres "CREATE ROLE mspgate LOGIN PASSWORD '$pg_pw'" >/dev/null || return 1
	pg_psql_db postgres "CREATE DATABASE mspgate OWNER mspgate" >/dev/null || return 1
	PG_PASSFILE="$T/pgpass"
	PG_PASSFILE_BAD="$T/pgpass.bad"
	(umask 077
	 echo "$PG_HOST:$PG_PORT:mspgate:mspgate:$pg_pw" >"$PG_PASSFILE"
	 echo "$PG_HOST:$PG_PORT:mspgate:mspgate:$(openssl rand -hex 24)" >"$PG_PASSFILE_BAD")
	pg_pw=""
	chmod 0600 "$PG_PASSFILE" "$PG_PASSFILE_BAD"
	PG_CONNINFO="host=$PG_HOST port=$PG_PORT dbname=mspgate user=mspgate"
	export PG_HOST PG_PORT PG_CONNINFO PG_PASSFILE PG_PASSFILE_BAD
}

# pg_start_again: starts the cluster pg_start made (pg_ctl waits until it
# takes connections).
pg_start_again() {
	pg_as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_LOG" -w -t 120 \
		start >>"$T/pg-ctl.log" 2>&1 || { tail -20 "$PG_LOG" >&2; return 1; }
}

# pg_stop: fast shutdown (sessions are ended), waits until it is down.
pg_stop() {
	pg_as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 120 \
		stop >>"$T/pg-ctl.log" 2>&1
}

# pg_running: 0 while the cluster's postmaster runs.
pg_running() {
	[ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ] &&
		kill -0 "$(head -1 "$PG_DIR/data/postmaster.pid")" 2>/dev/null
}

pg_psql() { pg_psql_db mspgate "$@"; }
# pg_psql_db DB SQL...: pg_psql in database DB.
pg_psql_db() {
	pp_db=$1; shift
	# Each argument becomes "-c SQL", in order.
	pp_n=$#
	while [ $pp_n -gt 0 ]; do set -- "$@" -c "$1"; shift; pp_n=$((pp_n - 1)); done
	"$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" \
		-U postgres -d "$pp_db" "$@"
}

# pg_psql_user PASSFILE SQL...: as mspgate over TCP; -w: never prompt, a
# missing or wrong password fails.
pg_psql_user() {
	pu_pass=$1; shift
	pp_n=$#
	while [ $pp_n -gt 0 ]; do set -- "$@" -c "$1"; shift; pp_n=$((pp_n - 1)); done
	PGPASSFILE=$pu_pass PGCONNECT_TIMEOUT=10 "$PG_BIN/psql" -X -q -At -w \
		-v ON_ERROR_STOP=1 -d "$PG_CONNINFO" "$@"
}

# pg_hold_lock TABLE SECONDS: see above. 0 once the lock is held (60 s).
pg_hold_lock() {
	PG_HOLD_N=$((PG_HOLD_N + 1))
	PG_LOCK_APP="mg_hold_$$_$PG_HOLD_N"
	# psql itself in the background (no subshell): PG_LOCK_PID is its pid.
	"$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres \
		-d "dbname=mspgate application_name=$PG_LOCK_APP" \
		-c "BEGIN; LOCK TABLE $1 IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep($2); COMMIT;" \
		</dev/null >"$T/pg-hold.$PG_HOLD_N.out" 2>&1 &
	PG_LOCK_PID=$!
	PG_HOLD_PIDS="$PG_HOLD_PIDS $PG_LOCK_PID"
	# Until it holds the lock, or its psql has ended (no such table...).
	tap_wait 60 pg_hold_settled "$1"
	pg_lock_held "$1" "$PG_LOCK_APP" || { sed 's/^/# /' "$T/pg-hold.$PG_HOLD_N.out" >&2; return 1; }
}
pg_hold_settled() { pg_lock_held "$1" "$PG_LOCK_APP" || ! kill -0 "$PG_LOCK_PID" 2>/dev/null; }

# pg_lock_held TABLE APP: 0 when session APP holds ACCESS EXCLUSIVE on TABLE.
pg_lock_held() {
	[ "$(pg_psql "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		WHERE a.application_name = '$2' AND l.relation = '$1'::regclass
		AND l.mode = 'AccessExclusiveLock' AND l.granted" 2>/dev/null)" = 1 ]
}

# pg_session_gone APP: 0 when no session named APP is left.
pg_session_gone() {
	[ "$(pg_psql "SELECT count(*) FROM pg_stat_activity
		WHERE application_name = '$1'" 2>/dev/null)" = 0 ]
}

pg_release_lock() {
	[ -n "$PG_LOCK_APP" ] || return 0
	pg_psql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = '$PG_LOCK_APP'" >/dev/null
	kill "$PG_LOCK_PID" 2>/dev/null
	wait "$PG_LOCK_PID" 2>/dev/null
	tap_wait 60 pg_session_gone "$PG_LOCK_APP"
}

# pg_cleanup: the cluster stopped (fast; killed if it will not stop) and
# its directory removed. Registered by pg_start to run at exit; may be
# called before, and then does nothing at exit.
pg_cleanup() {
	[ -n "$PG_DIR" ] || return 0
	for p in $PG_HOLD_PIDS; do kill "$p" 2>/dev/null; done
	if pg_running; then
		pc_pid=$(head -1 "$PG_DIR/data/postmaster.pid")
		pg_stop || {
			# Every process of the cluster is the postmaster's child.
			for p in $(pgrep -P "$pc_pid"); do kill -9 "$p" 2>/dev/null; done
			kill -9 "$pc_pid" 2>/dev/null
		}
	fi
	rm -rf "$PG_DIR"
	PG_DIR=""
}

# pg_two_gateways ALERTS: for the e2e tests of two mspgated sharing a
# throwaway cluster in one gw.sh tree (gw.sh sourced, pg_need passed): the
# cluster started, A's policy (gwa, GW_GRANTS_EXTRA and the alerts section
# ALERTS) written with its state in the database, the schema made, the
# engineer enrolled there; B's policy POLB the same but for its own paths
# and name (gwb); both mspgated started. Sets POLA, POLB, SOCKB, CTLB,
# AUDB, RECB, DPIDB and shell_b (gw_shell through B). 0, or 1 with what
# failed said as a check.
pg_two_gateways() {
	pg_start || { fail "throwaway PostgreSQL cluster"; return 1; }
	# The gateways' own: read by mspgated's service account (root reads them too).
	openssl rand -hex 32 >"$T/state.key"
	chown "$GW_DAEMON" "$T/state.key" "$PG_PASSFILE"
	chmod 0600 "$T/state.key"
	# The schema first (the engineer's TOTP secret lives in the database).
	gw_write_policy "state: { backend = \"postgresql\"; conninfo = \"$PG_CONNINFO\";
  passfile = \"$PG_PASSFILE\"; key_file = \"$T/state.key\"; timeout = \"5s\"; name = \"gwa\"; };
$1" 2>/dev/null
	"$BIN/mspgate-policy" state init -f "$GW_POLICY" >"$T/init.out" 2>&1
	check "state init" test $? -eq 0 || return 1
	gw_enroll_default
	check "the engineer enrolled (secret in the database)" \
		test "$(pg_psql "SELECT count(*) FROM mspgate_totp")" = 1 || return 1
	POLA=$GW_POLICY
	POLB=$T/policy-b.conf
	SOCKB=$T/run/session-b.sock
	CTLB=$T/run/control-b.sock
	AUDB=$T/audit-b/audit.jsonl
	RECB=$T/rec-b
	mkdir -p "$T/audit-b" "$RECB" "$T/state-b"
	chown "$GW_DAEMON" "$T/audit-b" "$RECB" "$T/state-b"
	chmod 0700 "$T/audit-b" "$RECB" "$T/state-b"
	sed -e "s|\"$GW_REC\"|\"$RECB\"|; s|\"$GW_AUDIT\"|\"$AUDB\"|; s|\"$T/state\"|\"$T/state-b\"|" \
		-e "s|\"$GW_SOCK\"|\"$SOCKB\"|; s|name = \"gwa\"|name = \"gwb\"|" "$POLA" >"$POLB"
	chmod 0644 "$POLB"
	check "gateway B's policy differs in its own paths and name" \
		test "$(diff "$POLA" "$POLB" | grep -c '^>')" -eq 5 || return 1
	start_mspgated || { fail "mspgated A starts"; return 1; }
	"$BIN/mspgated" -D -f "$POLB" -s "$SOCKB" -c "$CTLB" -u "$GW_DAEMON" 2>>"$T/mspgated-b.log" &
	DPIDB=$!
	gw_track "$DPIDB"
	tap_wait 60 sh -c "grep -q 'listening on ' '$T/mspgated-b.log' && test -S '$SOCKB'"
	check "mspgated B starts" test $? -eq 0
}
shell_b() { gw_shell MSPGATE_SOCKET="$SOCKB" "$@"; }
