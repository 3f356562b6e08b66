#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# libpq only where PostgreSQL is used: no program or the PAM module names it
# (it is loaded when a postgresql state backend connects, state/st_pq.c), and
# a live session through the gateway with the files backend maps none of it
# in the gateway sshd's processes or mspgated's.
. tests/lib/tap.sh
. tests/lib/gw.sh
gw_need_root
. tests/lib/chain.sh

# What libpq brings that sshd does not have itself.
PQ_RE='/lib(pq|ldap|lber|sasl2)[-.][^/]*$'
needed() { readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
no_pq_needed() { [ -f "$1" ] && ! needed "$1" | grep -q '^libpq'; }
for f in lib/security/pam_mspgate.so bin/mspgated bin/mspgatectl bin/mspgate-policy \
    bin/mspgate-signer; do
	check "$f does not name libpq (readelf -d NEEDED)" no_pq_needed "$MG_BUILD/$f"
done

gw_setup || { fail "gateway setup"; tap_done; exit 1; }
chain_setup || { fail "chain setup (PAM module, sk-soft)"; tap_done; exit 1; }
GW_GATEWAY_EXTRA="  user = \"$GW_DAEMON\";"
gw_write_policy "mfa: { totp: { store = \"$T/totp\"; skew_steps = 1; }; };"
chain_sk_engineer
touch "$GW_AUDIT" && chown "$GW_DAEMON" "$GW_AUDIT" && chmod 0640 "$GW_AUDIT"
start_mspgated || { fail "mspgated started"; tap_done; exit 1; }
chain_enroll "$GW_ENG"
chain_start_gateway || { fail "gateway sshd started"; tap_done; exit 1; }
chain_client "$GW_ENG" "$T/eng_sk"

# A session held open (the remote command waits) while its processes are read.
next_code "$GW_ENG"
"$T/ssh-$GW_ENG" -o ControlMaster=no -o ControlPath=none \
	-o SetEnv=MSPGATE_TARGET=t1/box -- 'echo held; sleep 120' \
	</dev/null >"$T/held" 2>"$T/held.err" &
CLIENT=$!
gw_track "$CLIENT"
check "a session through the gateway is up" tap_wait 60 grep -qx held "$T/held"

# descendants PID: PID and every process below it.
descendants() {
	echo "$1"
	for c in $(pgrep -P "$1"); do descendants "$c"; done
}
SSHD_PIDS=$(descendants "$GW_SSHD_PID" | tr '\n' ' ')
GWD_PIDS=$(descendants "$GW_DPID" | tr '\n' ' ')
# maps_clean WHO PID...: none of PIDS maps libpq or its own dependencies.
maps_clean() {
	mc_bad=$(for p in "$@"; do awk '{print $6}' "/proc/$p/maps" 2>/dev/null; done |
		grep -E "$PQ_RE" | sort -u)
	[ -z "$mc_bad" ] || { echo "# mapped: $mc_bad" >&2; return 1; }
}
check "the gateway sshd has its session processes" test "$(echo $SSHD_PIDS | wc -w)" -ge 3
check "no gateway sshd process maps libpq (files backend)" maps_clean $SSHD_PIDS
check "mspgated's processes are there" test -n "$(echo $GWD_PIDS)"
check "no mspgated process maps libpq (files backend)" maps_clean $GWD_PIDS
# Pss of the gateway sshd's processes, for the README's memory row.
pss=0
for p in $SSHD_PIDS; do
	k=$(sed -n 's/^Pss: *\([0-9]*\) kB/\1/p' "/proc/$p/smaps_rollup" 2>/dev/null)
	pss=$((pss + ${k:-0}))
done
echo "# gateway sshd Pss, one held session: $pss kB over $(echo $SSHD_PIDS | wc -w) processes"

kill "$CLIENT" 2>/dev/null
check "the session ends" gw_wait_sessions 0

# The postgresql backend without the library fails closed: mspgated does not
# start (tests/lib/mspgated-nopq: its loader looks for a library that is not
# there), where a database that is only down is logged and the start goes on.
cp "$GW_POLICY" "$T/pg.conf"
cat >>"$T/pg.conf" <<EOF
state: { backend = "postgresql"; conninfo = "host=127.0.0.1 port=$(free_port) dbname=mspgate";
  key_file = "$T/state.key"; timeout = "2s"; };
EOF
"$BIN/mspgated" -t -f "$T/pg.conf" >"$T/t-pg.out" 2>&1
check_exit 0 "with libpq, a database that does not answer: mspgated -t goes on" test $? -eq 0
check_grep "and says so" "state database: cannot connect" "$T/t-pg.out"
"$MG_BUILD/tests/lib/mspgated-nopq" -t -f "$T/pg.conf" >"$T/t-nopq.out" 2>&1
check_exit 0 "without libpq: mspgated -t refuses (exit 1)" test $? -eq 1
check_grep "naming the policy's line, the library and the package" \
	"^mspgated: $T/pg.conf:[0-9]*: state: state.backend \"postgresql\" needs libpq-mspgate-absent.so.5: .* (install libpq5)\$" \
	"$T/t-nopq.out"
check "no sanitizer or valgrind reports" gw_no_reports
tap_done
