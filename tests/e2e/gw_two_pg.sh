#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Two gateways, one truth (issue 17): two gateway sshd + mspgated pairs
# (same host key, one shared policy) with their state in one throwaway
# PostgreSQL cluster, driven with the stock ssh client (FIDO + TOTP): a
# code used on A is refused on B, ten logins racing over both with one code
# give exactly one session, a lockout on A holds on B, and the database
# stopped mid-test refuses codes plainly while a running session goes on
# recording, and works again when it is back, nothing restarted.
. tests/lib/tap.sh
. tests/lib/gw.sh
gw_need_root
. tests/lib/pg.sh
pg_need
. tests/lib/chain.sh

gw_setup || { fail "gateway setup"; tap_done; exit 1; }
chain_setup || { fail "chain setup (PAM module, sk-soft)"; tap_done; exit 1; }
pg_start || { fail "throwaway PostgreSQL cluster"; tap_done; exit 1; }
# The password file and the sealing key: the service account's, 0600
# (root, the PAM module in sshd, reads them too).
cp "$PG_PASSFILE" "$T/pgpass"
openssl rand -hex 32 >"$T/state.key"
chown "$GW_DAEMON" "$T/pgpass" "$T/state.key" && chmod 0600 "$T/pgpass" "$T/state.key"
GW_GATEWAY_EXTRA="  user = \"$GW_DAEMON\";"
gw_write_policy "mfa: { totp: { store = \"$T/totp\"; skew_steps = 1; };
  lockout: { failures = 30; within = \"15m\"; lock_for = \"15m\"; }; };
state: { backend = \"postgresql\"; conninfo = \"$PG_CONNINFO\"; passfile = \"$T/pgpass\";
  key_file = \"$T/state.key\"; timeout = \"10s\"; name = \"gwa\"; };"
chain_sk_engineer
gw_split_policy
touch "$GW_AUDIT" && chown "$GW_DAEMON" "$GW_AUDIT" && chmod 0640 "$GW_AUDIT"
gwb_setup || { fail "second gateway setup"; tap_done; exit 1; }
sed -i 's|name = "gwa"|name = "gwb"|' "$T/gwb/policy.conf"
"$BIN/mspgate-policy" state init -f "$GW_POLICY" >"$T/init.out" 2>&1
check "state init makes the schema" test $? -eq 0
"$BIN/mspgate-policy" check -f "$T/gwb/policy.conf" >"$T/check-b.out" 2>&1
check "B's policy checks against the database" test $? -eq 0
chain_enroll "$GW_ENG"
check "enrolled once, through A: no secret file on either gateway" \
	test -z "$(find "$T/totp" "$T/gwb/totp" -type f 2>/dev/null)"
gw_two_start "$GW_ENG" "$T/eng_sk" || { fail "both gateways started"; tap_done; exit 1; }

# Each mspgated keeps a connection for logins (its state broker), and
# answers nobody but root and its own account.
bsock=$T/state/state.sock
check "A's state broker listens at gateway.state/state.sock" test -S "$bsock"
check "the socket is the service account's, mode 0600" \
	test "$(stat -c '%U %a' "$bsock")" = "$GW_DAEMON 600"
forge() {
	runuser -u "$GW_ENG" -- python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"totp %s 123456 %d\n" % (sys.argv[2].encode(), int(__import__("time").time())))
print(s.recv(100))' "$bsock" "$GW_ENG" >"$T/forge.out" 2>&1
}
forge
check "an engineer's process cannot ask the broker" test $? -ne 0
check_grep "(refused at connect)" "Permission denied" "$T/forge.out"

# One code: A takes it, B refuses it.
next_code "$GW_ENG"
chain_login a "$GW_ENG" "$T/out-a" 'echo via-$((40+1))'
check "A: FIDO + TOTP login reaches the target" grep -qx via-41 "$T/out-a"
n=$(pg_psql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mspgate/gwa'")
check "the login went through A's broker: its connection stays open ($n)" test "$n" -ge 1
chain_login b "$GW_ENG" "$T/out-b" 'echo via-$((40+2))'
check "B: the code used on A is refused" test $? -ne 0 -a ! -s "$T/out-b"
check_grep "B's audit log says replay" "TOTP code already used (replay)" "$T/gwb/audit/audit.jsonl"

# Ten logins with one fresh code, five through each gateway: one session.
# (ssh asks three times on a refusal: the nine that lose count 27 failures,
# under the policy's 30, or the winner's session would find its engineer
# locked out, as it should.)
sleep_to_next_step
next_code "$GW_ENG"
i=0
racers=""
while [ $i -lt 10 ]; do
	g=a; [ $((i % 2)) -eq 1 ] && g=b
	chain_login $g "$GW_ENG" "$T/race.$i" "echo race-$i" &
	racers="$racers $!"
	i=$((i + 1))
done
# Only the racers: the gateways' daemons are this shell's children too.
for p in $racers; do wait "$p"; done
n=$(cat "$T"/race.? | grep -c '^race-')
check "10 racing logins over both gateways: exactly one got through ($n)" test "$n" -eq 1
n=$(cat "$GW_AUDIT" "$T/gwb/audit/audit.jsonl" | grep -c '"reason":"TOTP code accepted')
check "the audit logs of both have one more accepted code, not more ($n)" test "$n" -eq 2
"$BIN/mspgate-enroll" -c "$GW_POLICY" --unlock "$GW_ENG" >/dev/null 2>&1
gw_use a; gw_wait_sessions 0; gw_use b; gw_wait_sessions 0; gw_use a

# A lockout on A holds on B: ten refused logins (three tries each) on A.
echo 000000 >"$T/next-code"
i=0
while [ $i -lt 10 ]; do
	chain_login a "$GW_ENG" "$T/bad" 'echo bad' && break
	i=$((i + 1))
done
check "A: wrong codes refused" test $i -eq 10 -a ! -s "$T/bad"
"$BIN/mspgate-enroll" -c "$T/gwb/policy.conf" --lockouts >"$T/lockouts" 2>&1
check_grep "B lists the engineer as locked" "^$GW_ENG  *locked until" "$T/lockouts"
sleep_to_next_step
next_code "$GW_ENG"
chain_login b "$GW_ENG" "$T/locked" 'echo locked'
check "B: the right code is refused while the engineer is locked" test $? -ne 0 -a ! -s "$T/locked"
"$BIN/mspgate-enroll" -c "$T/gwb/policy.conf" --unlock "$GW_ENG" >/dev/null 2>&1
chain_login a "$GW_ENG" "$T/unlocked" 'echo unlocked'
check "unlocked on B: A lets the same code in" grep -qx unlocked "$T/unlocked"

# The database stopped mid-test.
sleep_to_next_step
next_code "$GW_ENG"
chain_login b "$GW_ENG" "$T/long" 'echo started; sleep 4; echo still-here' &
long=$!
tap_wait 30 grep -qx started "$T/long"
check "B: a session is running" test $? -eq 0
pg_stop
sleep_to_next_step
next_code "$GW_ENG"
# The stock client at its default LogLevel (the tests' is ERROR), as an engineer runs it.
gw_use a
sed 's/-o LogLevel=ERROR/-o LogLevel=INFO/' "$GW_LOCAL/ssh-$GW_ENG" >"$T/ssh-info"
chmod 0755 "$T/ssh-info"
"$T/ssh-info" -o ControlMaster=no -o ControlPath=none -o SetEnv=MSPGATE_TARGET=t1/box \
	-- 'echo down' </dev/null >"$T/down" 2>"$T/down.err"
check "database down: A refuses the code" test $? -ne 0 -a ! -s "$T/down"
check_grep "and the engineer's ssh shows why" \
	"the gateway cannot check one-time codes right now" "$T/down.err"
check_grep "A's audit log says the database could not be reached" \
	'"reason":"cannot lock: cannot connect to the state database' "$GW_AUDIT"
wait $long
check "the running session went on to its end" grep -qx still-here "$T/long"
pg_start_again
chain_login a "$GW_ENG" "$T/back" 'echo back'
check "database back: the same code logs in on A, nothing restarted" grep -qx back "$T/back"

# The central audit view: every line of each gateway's own log, copied into
# the database after it was written there (also those written while the
# database was down), and shown across gateways to whom may ask mspgated.
shipped() {
	[ "$(pg_psql "SELECT count(*) FROM mspgate_audit WHERE gateway = '$1'")" -eq \
	    "$(grep -c '"hash":' "$2")" ]
}
for g in a b; do
	gw_use $g
	gw_wait_sessions 0
	tap_wait 30 shipped gw$g "$GW_AUDIT"
	check "$g: every line of its audit log is in the central table, none twice" test $? -eq 0
done
gw_use a
n=$(pg_psql "SELECT count(*) FROM mspgate_audit WHERE gateway = 'gwa' AND line->>'reason' LIKE 'cannot lock: cannot connect%'")
check "lines written while the database was down followed ($n)" test "$n" -ge 1
pg_psql "INSERT INTO mspgate_audit VALUES ('gwb', 'forged', 1, now(), 'auth_failure', 'x',
    json_build_object('reason', 'hostile ' || chr(27) || '[2J' || chr(7) || 'bytes')::jsonb)" >/dev/null
"$BIN/mspgatectl" -s "$GW_CTL" -f "$GW_POLICY" audit --since 1h >"$T/audit.out" 2>"$T/audit.err"
check "mspgatectl audit across gateways" test $? -eq 0
check_grep "shows A's logins" " gwa  *auth_success  *$GW_ENG " "$T/audit.out"
check_grep "and B's refusals" " gwb  *auth_failure  *$GW_ENG " "$T/audit.out"
check "a hostile reason is shown without its control bytes" \
	sh -c "grep -q 'hostile ?\[2J?bytes' '$T/audit.out' && ! grep -q \"\$(printf '\\033')\" '$T/audit.out'"
gw_use b
"$BIN/mspgatectl" -s "$GW_CTL" -f "$GW_POLICY" alerts --since 1h >"$T/alerts.b" 2>&1
check "mspgatectl alerts on B" test $? -eq 0
check_grep "shows A's first-access alert, with its gateway" "^[-0-9T:Z]*  *gwa  *first_access  *alert  *$GW_ENG  *t1/box " "$T/alerts.b"
gw_use a
runuser -u "$GW_ENG" -- "$BIN/mspgatectl" -s "$GW_CTL" -f "$GW_POLICY" audit >"$T/audit.eng" 2>&1
check "an engineer gets no audit across gateways" test $? -ne 0 -a -z "$(grep " gwa " "$T/audit.eng")"
check_grep "(refused by the control socket)" "permission denied\|Permission denied" "$T/audit.eng"

for g in a b; do
	gw_use $g
	check "$g: every session ended" gw_wait_sessions 0
	check "$g: its recordings verify" gw_verify_recordings
	"$BIN/mspgate-replay" verify --pubkey "$GW_SIGNPUB" "$GW_AUDIT" >"$GW_LOCAL/av" 2>&1
	check "$g: its audit log verifies" test $? -eq 0
done
gw_use a
check "no sanitizer or valgrind reports" gw_no_reports
tap_done
