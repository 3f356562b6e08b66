#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark (not a test): authentications per second and median latency of
# a valid TOTP through pamtester, pam_mspgate against pam_oath and
# pam_google_authenticator (Debian packages), in the same run; and
# pam_mspgate with its state in PostgreSQL (issue 17) against the files
# backend, interleaved in the same rounds.
# Usage: sh tests/bench/pam.sh [BUILD] [N] [ROUNDS]
#   (default build, 100 logins per module per round, 5 rounds)
# pamtester runs under pam_wrapper (PAM_WRAPPER_SERVICE_DIR), so /etc/pam.d
# is never touched. Each login uses its own user (every module refuses a
# code twice), all with the current code of one secret. Every round runs
# the three modules one after the other with fresh users and state, so a
# slow moment of the machine hits all of them; the figures printed are
# medians over the rounds. Only the pamtester process is timed (start-up,
# libpam, the module, exit), not oathtool making the code.
#
# Where pam_mspgate's time goes (measured 2026-11-26, perf and an
# LD_PRELOAD that turns fsync into a no-op): under pamtester, loading and
# starting OpenSSL 3 (libcrypto's relocations, page faults, provider name
# maps) is about half of each login; Debian's liboath, all pam_oath needs,
# does not use libcrypto. Inside sshd (the "one process" rows) libcrypto is
# already there. Since issue 14 (measured 2026-12-03) a login there syncs
# twice: the used step (one fixed-size record in the user's lock file,
# rewritten in place, one fdatasync: a used code stays used after a crash)
# and the audit event (fdatasync); the policy and the signing key are read
# once per change of their files. The first login of a user that
# mspgate-enroll did not activate makes that record (fsync of the file and
# its directory): the "one process" rows log every user in once, untimed,
# with the previous step's code first, as enrolled users are.
# pam_oath syncs nothing and keeps no audit log; each audit event here is
# also Ed25519-signed.
# The postgresql rows (issue 17; target: a TOTP verification costs at most
# 2 ms more than with files, the database on the same host): a throwaway
# cluster of this run (tests/lib/pg.sh: initdb under $T, 127.0.0.1, a free
# port, SCRAM-SHA-256 password over TCP, as a gateway logs in), made
# durable as a real server is (fsync, full_page_writes, synchronous_commit
# on: the test helper turns them off), stopped and removed at exit. Its
# users are enrolled with mspgate-enroll --batch against the postgresql
# policy, each with a secret of its own (sealed in the database), and
# activated with the previous step's code, untimed. The files users log
# in once, untimed, with the previous step's code before every timed phase,
# so both backends start from enrolled, activated users. Skipped, saying
# why, without root, the postgres user or the server binaries
# (MG_BENCH_PG=0: skipped on request).
# The last row is pam_mspgate's whole login as sshd makes it (issue 14:
# <= 1.0 ms): auth, then the session opened, which writes the attestation
# (on a tmpfs, as /run is) and a "pam session opened" audit event without
# a sync of its own (rec_audit_event.lazy: nothing waits on it, and the
# next synced event carries it to the disk). Measured 2026-12-03: 0.92 ms.
set -u
B=$(cd "${1:-${MG_BUILD:-build}}" && pwd)
N=${2:-100}
R=${3:-${MG_BENCH_ROUNDS:-5}}
MOD=$B/lib/security/pam_mspgate.so
SEC=/lib/$(cc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/security
WRAP=/usr/lib/$(cc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/libpam_wrapper.so
for f in "$MOD" "$SEC/pam_oath.so" "$SEC/pam_google_authenticator.so" "$WRAP"; do
	[ -e "$f" ] || { echo "bench/pam: missing $f (make; apt install pamtester libpam-oath libpam-google-authenticator libpam-wrapper)"; exit 1; }
done
command -v pamtester >/dev/null || { echo "bench/pam: pamtester is not installed"; exit 1; }
T=$(mktemp -d /tmp/mgbench.XXXXXX)
ENROLL=$B/bin/mspgate-enroll
POLICY=$B/bin/mspgate-policy
# tests/lib/pg.sh registers its cleanup here (tap.sh's tap_at_exit, which
# the bench does not source: it is not a TAP test).
AT_EXIT=""
tap_at_exit() { AT_EXIT="$1 $AT_EXIT"; }
. "$(dirname "$0")/../lib/pg.sh"
# The attestations live on a tmpfs, as in the packaged gateway (/run, the
# sshd unit's RuntimeDirectory): never on the disk. /dev/shm is a tmpfs on
# every Debian machine; /run need not be one in a container.
TA=$(mktemp -d /dev/shm/mgbench-attest.XXXXXX)
chmod 0755 "$TA"
# The logins are of real accounts (as in sshd: pam_mspgate attests a login
# with the account's uid, looked up in /etc/passwd), made for this run with
# names of their own and removed at the end.
PFX=mgb$(($$ % 100000))
trap 'for c in $AT_EXIT; do "$c"; done; for u in $(users); do userdel "$u" 2>/dev/null; done; rm -rf "$TA"; [ -n "${MG_BENCH_KEEP:-}" ] || rm -rf "$T"' EXIT
# Interrupted: the EXIT trap still stops the cluster and removes the users.
trap 'exit 130' INT TERM
umask 077
HEX=3132333435363738393031323334353637383930
B32=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
openssl genpkey -algorithm ed25519 -out "$T/key.pem" 2>/dev/null
HK=$(ssh-keygen -q -t ed25519 -N '' -C '' -f "$T/hk" >/dev/null && cut -d' ' -f1,2 "$T/hk.pub")

users() { i=1; while [ $i -le "$N" ]; do printf '%su%04d\n' "$PFX" $i; i=$((i + 1)); done; }
for u in $(users); do
	useradd -r -M -N -s /usr/sbin/nologin "$u" 2>"$T/useradd.err" ||
		{ echo "bench/pam: useradd $u: $(cat "$T/useradd.err") (run as root)"; exit 1; }
done
PG=""
PGSTATE=""
# policy FILE STATE STORE AUDIT [SECTION]: a policy with its own state
# directory, TOTP store and audit log, and SECTION (the state section).
policy() {
	{
		echo "gateway: { state = \"$2\"; audit = \"$4\"; signing_key = \"$T/key.pem\"; attestations = \"$TA\"; };"
		echo "mfa: { totp: { store = \"$3\"; }; lockout: { failures = 1000; }; };"
		[ -z "${5:-}" ] || echo "$5"
		printf 'engineers = ( '
		users | sed 's/.*/{ name = "&"; groups = ["l1"]; }/' | paste -sd, -
		echo ');'
		echo "tenants = ( { name = \"acme\"; targets = ( { name = \"w\"; host = \"192.0.2.1\"; host_key = \"$HK\"; logins = [\"d\"]; credential = \"c\"; } ); } );"
		echo 'grants = ( { to = "group:l1"; tenants = ["acme"]; targets = ["*"]; logins = ["d"]; mfa = "totp"; } );'
	} >"$1"
	chmod 0644 "$1"
}
# setup: fresh store, state, audit log and secrets for one round (with
# the database: every user enrolled again, pg_enrol).
setup() {
	rm -rf "$T/pam.d" "$T/totp" "$T/state" "$T/ga" "$T/oath.users" "$T/audit.jsonl" \
		"$T/pgtotp" "$T/pgstate" "$T/pgaudit.jsonl"
	mkdir -p "$T/pam.d" "$T/totp" "$T/state" "$T/ga" "$T/pgtotp" "$T/pgstate"
	policy "$T/mspgate.conf" "$T/state" "$T/totp" "$T/audit.jsonl"
	for u in $(users); do
		printf 'version = 1\nstatus = active\nalgorithm = sha1\ndigits = 6\nperiod = 30\nsecret = %s\ncreated = 0\n' "$B32" >"$T/totp/$u"
		echo "HOTP/T30 $u - $HEX" >>"$T/oath.users"
		printf '%s\n" TOTP_AUTH\n" DISALLOW_REUSE\n" WINDOW_SIZE 3\n' "$B32" >"$T/ga/$u"
		chmod 0400 "$T/ga/$u"
	done
	echo "auth required $MOD config=$T/mspgate.conf" >"$T/pam.d/mspgate"
	# The login as sshd makes it: the session opened (its attestation) too.
	printf 'auth required %s config=%s\nsession required %s config=%s\n' \
		"$MOD" "$T/mspgate.conf" "$MOD" "$T/mspgate.conf" >"$T/pam.d/mspgates"
	echo "auth required pam_oath.so usersfile=$T/oath.users window=1" >"$T/pam.d/oath"
	echo "auth required pam_google_authenticator.so secret=$T/ga/\${USER} user=root no_strict_owner allowed_perm=0400" >"$T/pam.d/gauth"
	[ -n "$PG" ] || return 0
	# The same module and policy, the state in the database: its own
	# (empty) state directory, store and audit log.
	policy "$T/mspgate-pg.conf" "$T/pgstate" "$T/pgtotp" "$T/pgaudit.jsonl" "$PGSTATE"
	echo "auth required $MOD config=$T/mspgate-pg.conf" >"$T/pam.d/mspgatepg"
	printf 'auth required %s config=%s\nsession required %s config=%s\n' \
		"$MOD" "$T/mspgate-pg.conf" "$MOD" "$T/mspgate-pg.conf" >"$T/pam.d/mspgatepgs"
	pg_enrol
}
# pg_enrol: the database emptied, every user enrolled (mspgate-enroll
# --batch: a secret of its own, sealed; kept in $T/sec/USER for the codes)
# and activated with the previous step's code, as an engineer's app
# shows it (a step that turns meanwhile: tried again).
pg_enrol() {
	pg_psql "TRUNCATE mspgate_totp, mspgate_lockout" >/dev/null ||
		{ echo "bench/pam: cannot empty the state database"; exit 1; }
	rm -rf "$T/sec"
	mkdir "$T/sec"
	for u in $(users); do
		uri=$("$ENROLL" -c "$T/mspgate-pg.conf" --batch "$u" 2>"$T/enrol.err") ||
			{ echo "bench/pam: mspgate-enroll --batch $u: $(cat "$T/enrol.err")"; exit 1; }
		sec=${uri#*secret=}
		sec=${sec%%&*}
		echo "$sec" >"$T/sec/$u"
		for try in 1 2 3; do
			prev=$(oathtool --totp -b -N "@$(($(date +%s) - 30))" "$sec")
			"$ENROLL" -c "$T/mspgate-pg.conf" --activate "$prev" "$u" \
				>/dev/null 2>"$T/enrol.err" && break
			[ $try -lt 3 ] || { echo "bench/pam: mspgate-enroll --activate $u: $(cat "$T/enrol.err")"; exit 1; }
		done
	done
}
# pg_codes: "USER:CODE" for every user, the current code of its secret
# (pamloop's arguments).
pg_codes() {
	for u in $(users); do
		printf '%s:%s\n' "$u" "$(oathtool --totp -b "$(cat "$T/sec/$u")")"
	done
}
# warm: the files users log in once, untimed, with the previous step's
# code: their used-step record made, as enrolled (activated) users have it.
warm() {
	[ -x "$LOOP" ] || return 0
	prev=$(oathtool --totp -b "$B32" -N "$(date -u -d '-30 seconds' '+%Y-%m-%d %H:%M:%S UTC')")
	"$LOOP" -C "$T/pam.d" -s mspgate -c "$prev" $(users) >/dev/null 2>&1
}

# login SERVICE USER: one timed pamtester run; appends its latency (us) to
# $T/lat.SERVICE and a line to $T/ok.SERVICE when it succeeded.
login() {
	case $1 in
	mspgatepg) code=$(oathtool --totp -b "$(cat "$T/sec/$2")");;
	*) code=$(oathtool --totp -b "$B32");;
	esac
	t0=$(date +%s%N)
	if echo "$code" | LD_PRELOAD=$WRAP PAM_WRAPPER=1 \
	    PAM_WRAPPER_SERVICE_DIR="$T/pam.d" pamtester "$1" "$2" authenticate \
	    >/dev/null 2>&1; then echo ok >>"$T/ok.$1"; fi
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000 )) >>"$T/lat.$1"
}
# stats SERVICE: "median_ms auths_per_s" of this round's latencies (auth/s:
# logins over their summed pamtester time), which move to $T/all.SERVICE.
stats() {
	sort -n "$T/lat.$1" | awk '{a[NR]=$1; s+=$1}
	    END {printf "%.3f %.1f\n", a[int((NR+1)/2)]/1000, NR*1e6/s}'
	cat "$T/lat.$1" >>"$T/all.$1"
	rm -f "$T/lat.$1"
}
# inproc: every module in turn, all users, one process each (pamloop);
# their latencies go to $T/ilat.SERVICE.
LOOP=$B/tests/bench/pamloop
inproc() {
	warm
	for s in $1; do
		# Each module's codes made just before its run (a step may turn
		# during another's); the for list was read already.
		case $s in
		mspgatepg) set -- $(pg_codes);;
		*) set -- -c "$(oathtool --totp -b "$B32")" $(users);;
		esac
		"$LOOP" -C "$T/pam.d" -s "$s" "$@" >"$T/il.$s" 2>/dev/null
		awk '$2 == "ok"' "$T/il.$s" | wc -l >>"$T/iok.$s"
		awk '{ print $1 }' "$T/il.$s" >>"$T/ilat.$s"
		sort -n "$T/il.$s" | awk '{a[NR]=$1; s+=$1} END {printf "%.3f %.1f\n", a[int((NR+1)/2)]/1000, NR*1e6/s}' >>"$T/istat.$s"
	done
}
# inproc_broker: the postgresql logins again in one process, this time
# through the state broker mspgated runs on a gateway (tests/lib/broker-run:
# pam/mfa_broker.c alone), which keeps its connection between logins; the
# users enrolled afresh first (their codes were used by inproc). Latencies
# to $T/istat.mspgatepgb.
BROKER=$B/tests/lib/broker-run
inproc_broker() {
	[ -n "$PG" ] && [ -x "$BROKER" ] || return 0
	setup
	"$BROKER" "$T/mspgate-pg.conf" >"$T/broker.out" 2>&1 &
	bp=$!
	n=0
	while ! grep -qx ready "$T/broker.out" 2>/dev/null && [ $n -lt 200 ]; do
		sleep 0.05; n=$((n + 1))
	done
	set -- $(pg_codes)
	"$LOOP" -C "$T/pam.d" -s mspgatepg "$@" >"$T/il.b" 2>/dev/null
	kill "$bp"; wait "$bp" 2>/dev/null
	awk '$2 == "ok"' "$T/il.b" | wc -l >>"$T/iok.mspgatepgb"
	sort -n "$T/il.b" | awk '{a[NR]=$1; s+=$1} END {printf "%.3f %.1f\n", a[int((NR+1)/2)]/1000, NR*1e6/s}' >>"$T/istat.mspgatepgb"
}
# inproc_session [pg ...]: pam_mspgate's whole login as sshd makes it
# (auth, then the session opened: the attestation and one more audit
# event), all users in one process, with the files backend or (pg) the
# database, in the order given; login latencies to $T/slat[.pg], logouts
# to $T/sout[.pg].
inproc_session() {
	warm
	for b in ${1:-files}; do
		if [ "$b" = pg ]; then
			x=.pg
			set -- -s mspgatepgs -S -A "$TA" $(pg_codes)
		else
			x=""
			set -- -s mspgates -S -A "$TA" -c "$(oathtool --totp -b "$B32")" $(users)
		fi
		"$LOOP" -C "$T/pam.d" "$@" >"$T/il.sess" 2>/dev/null
		awk '$2 == "ok"' "$T/il.sess" | wc -l >>"$T/sok$x"
		awk '{ print $1 }' "$T/il.sess" | median >>"$T/slat$x"
		awk '{ print $3 }' "$T/il.sess" | median >>"$T/sout$x"
	done
}
# median of the numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

pg_why=""
if [ "${MG_BENCH_PG:-1}" = 0 ]; then
	pg_why="skipped on request (MG_BENCH_PG=0)"
elif pg_missing; then
	pg_why=$PG_WHY
fi
if [ -z "$pg_why" ]; then
	pg_start || { echo "bench/pam: cannot start a throwaway PostgreSQL cluster"; exit 1; }
	# Durable, as a production server is (MG_BENCH_PG_DURABLE=0 keeps the
	# test helper's fsync = off and synchronous_commit = off); connections
	# unlogged, as by default.
	pg_stop
	echo "log_connections = off" >>"$PG_DIR/data/postgresql.conf"
	[ "${MG_BENCH_PG_DURABLE:-1}" = 0 ] ||
		printf 'fsync = on\nfull_page_writes = on\nsynchronous_commit = on\n' \
			>>"$PG_DIR/data/postgresql.conf"
	pg_start_again || { echo "bench/pam: cannot restart the PostgreSQL cluster"; exit 1; }
	openssl rand -hex 32 >"$T/state.key"
	chmod 0600 "$T/state.key"
	PGSTATE="state: { backend = \"postgresql\"; conninfo = \"$PG_CONNINFO\"; passfile = \"$PG_PASSFILE\"; key_file = \"$T/state.key\"; timeout = \"5s\"; name = \"bench\"; };"
	mkdir -p "$T/pgtotp" "$T/pgstate"
	policy "$T/mspgate-pg.conf" "$T/pgstate" "$T/pgtotp" "$T/pgaudit.jsonl" "$PGSTATE"
	"$POLICY" state init -f "$T/mspgate-pg.conf" >"$T/init.out" 2>&1 ||
		{ echo "bench/pam: mspgate-policy state init: $(cat "$T/init.out")"; exit 1; }
	PG=1
	echo "bench/pam: postgresql backend: PostgreSQL $("$PG_BIN/postgres" -V | awk '{ print $3 }') on 127.0.0.1:$PG_PORT, synchronous_commit $(pg_psql 'SHOW synchronous_commit'), fsync $(pg_psql 'SHOW fsync')"
else
	echo "bench/pam: postgresql backend: $pg_why; its rows are left out"
fi

# name SERVICE: the row's name.
name() {
	case $1 in
	oath) echo pam_oath;; gauth) echo pam_google_authenticator;;
	mspgate) echo "pam_mspgate (files)";; mspgatepg) echo "pam_mspgate (postgresql)";;
	esac
}
# rotate N WORDS...: WORDS, starting at the (N mod count)th.
rotate() {
	n=$(($1 % ($# - 1))); shift
	while [ $n -gt 0 ]; do w=$1; shift; set -- "$@" "$w"; n=$((n - 1)); done
	echo "$@"
}

# The modules take turns login by login, so a busy moment of the machine
# (other builds, writeback) hits all of them alike.
SVCS="oath gauth mspgate"
[ -z "$PG" ] || SVCS="$SVCS mspgatepg"
r=1
while [ $r -le "$R" ]; do
	setup
	warm
	for u in $(users); do
		for s in $SVCS; do login $s "$u"; done
	done
	for s in $SVCS; do
		set -- $(stats $s)
		echo "$1" >>"$T/med.$s"; echo "$2" >>"$T/rate.$s"
	done
	if [ -x "$LOOP" ]; then
		setup
		inproc "$(rotate "$r" $SVCS)"
		inproc_broker
		setup
		if [ -n "$PG" ]; then inproc_session "$(rotate "$r" files pg)"; else inproc_session; fi
	fi
	r=$((r + 1))
done
o_rate=$(median <"$T/rate.oath")
printf '%-26s %9s %10s %10s %10s %9s\n' module ok "auth/s" "median ms" "p90 ms" "vs oath"
for s in $SVCS; do
	name=$(name $s)
	ok=$(cat "$T/ok.$s" 2>/dev/null | wc -l)
	p90=$(sort -n "$T/all.$s" | awk '{a[NR]=$1} END {printf "%.2f", a[int(NR*0.9)]/1000}')
	awk -v n="$name" -v ok="$ok" -v tot=$((N * R)) -v rate="$(median <"$T/rate.$s")" \
	    -v med="$(median <"$T/med.$s")" -v p90="$p90" -v orate="$o_rate" 'BEGIN {
		printf "%-26s %5d/%-4d %10.1f %10.2f %10.2f %8.2fx\n", n, ok, tot, rate, med, p90, rate / orate }'
done
echo "(medians over $R rounds of $N logins; auth/s = logins over the summed pamtester"
echo " wall time, start-up included; 'vs oath' > 1 is faster than pam_oath)"
if [ -x "$LOOP" ]; then
	echo
	echo "In one process (pamloop: a fresh PAM handle per login, libraries that stay loaded,"
	echo "such as libcrypto inside sshd, paid for once):"
	io_rate=$(cut -d' ' -f2 "$T/istat.oath" | median)
	printf '%-26s %9s %10s %10s %10s\n' module ok "auth/s" "median ms" "vs oath"
	for s in $SVCS; do
		name=$(name $s)
		awk -v n="$name" -v ok="$(awk '{s+=$1} END {print s+0}' "$T/iok.$s")" -v tot=$((N * R)) \
		    -v rate="$(cut -d' ' -f2 "$T/istat.$s" | median)" -v med="$(cut -d' ' -f1 "$T/istat.$s" | median)" \
		    -v orate="$io_rate" 'BEGIN {
			printf "%-26s %5d/%-4d %10.1f %10.2f %9.2fx\n", n, ok, tot, rate, med, rate / orate }'
	done
	[ -s "$T/istat.mspgatepgb" ] &&
	awk -v n="  the same, via the broker" -v ok="$(awk '{s+=$1} END {print s+0}' "$T/iok.mspgatepgb")" -v tot=$((N * R)) \
	    -v rate="$(cut -d' ' -f2 "$T/istat.mspgatepgb" | median)" -v med="$(cut -d' ' -f1 "$T/istat.mspgatepgb" | median)" \
	    -v orate="$io_rate" 'BEGIN {
		printf "%-26s %5d/%-4d %10.1f %10.2f %9.2fx\n", n, ok, tot, rate, med, rate / orate }'
fi
if [ -x "$LOOP" ]; then
	awk -v ok="$(awk '{s+=$1} END {print s+0}' "$T/sok")" -v tot=$((N * R)) \
	    -v lat="$(median <"$T/slat")" -v out="$(median <"$T/sout")" 'BEGIN {
		printf "%-26s %5d/%-4d %21.2f ms login (auth + session open: attested), %.2f ms logout\n",
		    "pam_mspgate as in sshd", ok, tot, lat / 1000, out / 1000 }'
	[ -z "$PG" ] || awk -v ok="$(awk '{s+=$1} END {print s+0}' "$T/sok.pg")" -v tot=$((N * R)) \
	    -v lat="$(median <"$T/slat.pg")" -v out="$(median <"$T/sout.pg")" 'BEGIN {
		printf "%-26s %5d/%-4d %21.2f ms login, %.2f ms logout\n",
		    "  the same, postgresql", ok, tot, lat / 1000, out / 1000 }'
fi
# The postgresql backend's extra cost (issue 17: <= 2 ms), from the medians
# above: in one process (as in sshd) and through pamtester.
if [ -n "$PG" ]; then
	pt_p=$(median <"$T/med.mspgatepg")
	pt_f=$(median <"$T/med.mspgate")
	if [ -x "$LOOP" ]; then
		pm=$(cut -d' ' -f1 "$T/istat.mspgatepg" | median)
		fm=$(cut -d' ' -f1 "$T/istat.mspgate" | median)
		where="in one process, as in sshd"
	else
		pm=$pt_p fm=$pt_f where="through pamtester"
	fi
	echo
	awk -v p="$pm" -v f="$fm" -v pp="$pt_p" -v pf="$pt_f" -v w="$where" 'BEGIN {
		printf "TOTP verification with PostgreSQL costs %.2f ms more than with files (target <= 2 ms)\n", p - f
		printf "  (%s: median %.2f ms against %.2f ms; through pamtester: %.2f ms more)\n", w, p, f, pp - pf }'
	echo "  the database on this host, over TCP, a SCRAM-SHA-256 password; synchronous_commit" \
		"$(pg_psql 'SHOW synchronous_commit'), fsync $(pg_psql 'SHOW fsync')"
	[ -s "$T/istat.mspgatepgb" ] &&
	awk -v p="$(cut -d' ' -f1 "$T/istat.mspgatepgb" | median)" -v f="$fm" 'BEGIN {
		printf "On a gateway, through mspgated'"'"'s state broker (one connection kept): %.2f ms more (median %.2f ms)\n", p - f, p }'
fi
# The common table (tests/bench/run.sh): auth/s, ratio = pam_mspgate / the other module.
if [ -n "${MG_BENCH_ROWS:-}" ]; then
	m_rate=$(median <"$T/rate.mspgate")
	for s in oath gauth; do
		case $s in oath) name=pam_oath;; *) name=pam_google_authenticator;; esac
		b_rate=$(median <"$T/rate.$s")
		awk -v n="$name" -v m="$m_rate" -v b="$b_rate" -v mm="$(median <"$T/med.mspgate")" \
		    -v bm="$(median <"$T/med.$s")" -v N="$N" -v R="$R" \
		    -v tgt="$( [ $s = oath ] && echo '>= 1.0x' || echo -)" 'BEGIN {
			met = (tgt == "-") ? "-" : (m >= b ? "yes" : "no")
			printf "PAM: TOTP logins/s through pamtester vs %s (%d x %d logins)\t%.1f/s (median %.2f ms)\t%.1f/s (median %.2f ms) %s\t%.2fx\t%s\t%s\n",
			    n, R, N, m, mm, b, bm, n, (b > 0 ? m / b : 0), tgt, met }' >>"$MG_BENCH_ROWS"
	done
	if [ -x "$LOOP" ]; then
		im=$(cut -d' ' -f2 "$T/istat.mspgate" | median)
		for s in oath gauth; do
			case $s in oath) name=pam_oath;; *) name=pam_google_authenticator;; esac
			awk -v n="$name" -v m="$im" -v b="$(cut -d' ' -f2 "$T/istat.$s" | median)" \
			    -v mm="$(cut -d' ' -f1 "$T/istat.mspgate" | median)" -v bm="$(cut -d' ' -f1 "$T/istat.$s" | median)" \
			    -v N="$N" -v R="$R" -v tgt="$( [ $s = oath ] && echo '>= 1.0x' || echo -)" 'BEGIN {
				met = (tgt == "-") ? "-" : (m >= b ? "yes" : "no")
				printf "PAM: TOTP logins/s in one process (libcrypto loaded once, as in sshd) vs %s (%d x %d)\t%.1f/s (median %.2f ms)\t%.1f/s (median %.2f ms) %s\t%.2fx\t%s\t%s\n",
				    n, R, N, m, mm, b, bm, n, (b > 0 ? m / b : 0), tgt, met }' >>"$MG_BENCH_ROWS"
		done
		# The login with its attestation (issue 14): <= 1.0 ms in one process.
		awk -v lat="$(median <"$T/slat")" -v out="$(median <"$T/sout")" -v N="$N" -v R="$R" \
		    -v om="$(cut -d' ' -f1 "$T/istat.oath" | median)" 'BEGIN {
			printf "PAM: a whole TOTP login in one process (auth + session open with the attestation; %d x %d)\t%.2f ms (logout %.2f ms)\tpam_oath auth alone %.2f ms\t-\t<= 1.0 ms\t%s\n",
			    R, N, lat / 1000, out / 1000, om, (lat / 1000 <= 1.0 ? "yes" : "no") }' >>"$MG_BENCH_ROWS"
	fi
	# The postgresql backend against files (issue 17): logins/s, ratio =
	# postgresql / files; the extra cost of a verification, <= 2 ms.
	if [ -n "$PG" ]; then
		awk -v m="$(median <"$T/rate.mspgatepg")" -v b="$(median <"$T/rate.mspgate")" \
		    -v mm="$(median <"$T/med.mspgatepg")" -v bm="$(median <"$T/med.mspgate")" \
		    -v N="$N" -v R="$R" 'BEGIN {
			printf "PAM: TOTP logins/s through pamtester, state in PostgreSQL (same host) vs files (%d x %d)\t%.1f/s (median %.2f ms)\t%.1f/s (median %.2f ms) files\t%.2fx\t-\t-\n",
			    R, N, m, mm, b, bm, (b > 0 ? m / b : 0) }' >>"$MG_BENCH_ROWS"
	fi
	if [ -n "$PG" ] && [ -x "$LOOP" ]; then
		awk -v m="$(cut -d' ' -f2 "$T/istat.mspgatepg" | median)" -v b="$(cut -d' ' -f2 "$T/istat.mspgate" | median)" \
		    -v mm="$(cut -d' ' -f1 "$T/istat.mspgatepg" | median)" -v bm="$(cut -d' ' -f1 "$T/istat.mspgate" | median)" \
		    -v N="$N" -v R="$R" 'BEGIN {
			printf "PAM: TOTP logins/s in one process, state in PostgreSQL (same host) vs files (%d x %d)\t%.1f/s (median %.2f ms)\t%.1f/s (median %.2f ms) files\t%.2fx\t-\t-\n",
			    R, N, m, mm, b, bm, (b > 0 ? m / b : 0)
			d = mm - bm
			printf "PAM: what a TOTP verification with PostgreSQL (same host) costs more than with files, in one process (%d x %d)\t+%.2f ms (median %.2f ms)\tfiles, median %.2f ms\t-\t<= 2 ms\t%s\n",
			    R, N, d, mm, bm, (d <= 2 ? "yes" : "no") }' >>"$MG_BENCH_ROWS"
		[ -s "$T/istat.mspgatepgb" ] &&
		awk -v mm="$(cut -d' ' -f1 "$T/istat.mspgatepgb" | median)" -v bm="$(cut -d' ' -f1 "$T/istat.mspgate" | median)" \
		    -v N="$N" -v R="$R" 'BEGIN {
			d = mm - bm
			printf "PAM: what a TOTP verification with PostgreSQL (same host) costs more than with files, on a gateway through mspgated'"'"'s state broker, in one process (%d x %d)\t+%.2f ms (median %.2f ms)\tfiles, median %.2f ms\t-\t<= 2 ms\t%s\n",
			    R, N, d, mm, bm, (d <= 2 ? "yes" : "no") }' >>"$MG_BENCH_ROWS"
		awk -v lat="$(median <"$T/slat.pg")" -v out="$(median <"$T/sout.pg")" \
		    -v fl="$(median <"$T/slat")" -v N="$N" -v R="$R" 'BEGIN {
			printf "PAM: a whole TOTP login in one process, state in PostgreSQL (same host; %d x %d)\t%.2f ms (logout %.2f ms)\tfiles %.2f ms\t%.2fx\t-\t-\n",
			    R, N, lat / 1000, out / 1000, fl / 1000, (fl > 0 ? lat / fl : 0) }' >>"$MG_BENCH_ROWS"
	fi
fi
