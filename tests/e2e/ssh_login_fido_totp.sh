#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The whole door as an engineer meets it: the stock ssh client with a FIDO
# key (software, tests/lib/sk-soft) and a TOTP code, through the gateway
# sshd with pam_mspgate, mspgate-shell and mspgated, to a target sshd.
. tests/lib/tap.sh
. tests/lib/gw.sh
gw_need_root
. tests/lib/chain.sh

gw_setup || { fail "gateway setup"; tap_done; exit 1; }
chain_setup || { fail "chain setup (PAM module, sk-soft)"; tap_done; exit 1; }
E2="${GW_TAG}p"
E3="${GW_TAG}s"
make_user "$E2"
make_user "$E3"

# Keys: a security key for the engineer, a plain key for the second one.
ssh-keygen -q -t ed25519-sk -w "$SK_LIB" -N '' -C eng -f "$T/eng_sk" 2>>"$T/keygen.log"
check "security key enrolled (software FIDO)" test -f "$T/eng_sk.pub"
ssh-keygen -q -t ed25519 -N '' -f "$T/e2_key"
ssh-keygen -q -t ecdsa-sk -w "$SK_LIB" -N '' -C e3 -f "$T/e3_sk" 2>>"$T/keygen.log"
e3pub=$(cut -d' ' -f1-2 "$T/e3_sk.pub")
skpub=$(cut -d' ' -f1-2 "$T/eng_sk.pub")
plainpub=$(cut -d' ' -f1-2 "$T/e2_key.pub")

gw_write_policy "mfa: { totp: { store = \"$T/totp\"; skew_steps = 1; }; };"
# The engineers' own keys; E2 has the same grants but a plain key.
python3 - "$GW_POLICY" "$GW_ENG" "$skpub" "$E2" "$plainpub" "$E3" "$e3pub" <<'EOF'
import re, sys
p, eng, sk, e2, plain, e3, e3k = sys.argv[1:]
s = open(p).read()
s = re.sub(r'\{ name = "%s"; keys = \[ "[^"]*" \]; \}' % eng,
           '{ name = "%s"; keys = [ "%s" ]; },\n  { name = "%s"; keys = [ "%s" ]; },\n'
           '  { name = "%s"; keys = [ "%s" ]; }' % (eng, sk, e2, plain, e3, e3k), s)
s = s.replace('to = "%s";' % eng, 'to = [ "%s", "%s", "%s" ];' % (eng, e2, e3))
open(p, "w").write(s)
EOF
"$BIN/mspgate-policy" check -f "$GW_POLICY" >"$T/check.out" 2>&1
check "policy is valid" test $? -eq 0
# The broker's service account may own the key, the audit log and state.
sed -i "s|^gateway: {|gateway: {\n  user = \"$GW_DAEMON\";|" "$GW_POLICY"
# The audit log is the broker's; pam_mspgate (root) appends to it too.
touch "$GW_AUDIT" && chown "$GW_DAEMON" "$GW_AUDIT" && chmod 0640 "$GW_AUDIT"
start_mspgated || fail "mspgated started"
chain_enroll "$GW_ENG"
check "TOTP enrolled for the engineer" test -s "$T/totp-$GW_ENG.secret"
chain_enroll "$E2"
chain_enroll "$E3"
chain_start_gateway
check "gateway sshd listens" test -n "$GW_PORT"
chain_client "$GW_ENG" "$T/eng_sk"
chain_client "$E2" "$T/e2_key"
chain_client "$E3" "$T/e3_sk"
S="$T/ssh-$GW_ENG"
CM="-o ControlPath=$T/cm.ctl"

# The first login (FIDO + TOTP) becomes a shared connection for the rest:
# each login uses up a TOTP step, as it should. Sessions over a shared
# connection name the target on the command line: the shared connection's
# own SetEnv would apply to each of them.
next_code "$GW_ENG"
cp "$T/next-code" "$T/used-code"
"$S" $CM -o ControlMaster=yes -o ControlPersist=300 \
	-- t1/box 'echo out-$((6*7)); echo err-line >&2; exit 3' </dev/null >"$T/o1" 2>"$T/e1"
check "exec through the gateway: exit status" test $? -eq 3
check_grep "exec: stdout" "^out-42$" "$T/o1"
check_grep "exec: stderr apart" "^err-line$" "$T/e1"
check "exec: stderr not in stdout" sh -c "! grep -q err-line '$T/o1'"
check_grep "sshd accepted the security key first" "Partial publickey for $GW_ENG .*ED25519-SK" "$T/gw_sshd.log"
check_grep "then keyboard-interactive/pam (TOTP)" "Accepted keyboard-interactive/pam for $GW_ENG" "$T/gw_sshd.log"

printf 'abc\ndef\n' | "$S" $CM -- t1/box 'tr a-z A-Z' >"$T/o2" 2>"$T/e2"
check "exec: stdin reaches the target" test "$(cat "$T/o2")" = "ABC
DEF"
"$S" $CM -- t1/box 'kill -TERM $$' </dev/null >/dev/null 2>&1
check "exec: exit signal as 128+N" test $? -eq 143
# SetEnv MSPGATE_TARGET, as an engineer's ~/.ssh/config has it (a third
# engineer: a fresh login needs a fresh TOTP step).
next_code "$E3"
"$T/ssh-$E3" -o SetEnv=MSPGATE_TARGET=t1/box -- 'echo via-setenv' </dev/null >"$T/o3" 2>&1
check_grep "target from SetEnv MSPGATE_TARGET" "^via-setenv$" "$T/o3"

# An interactive shell on a pty: type, resize, exit code.
gw_pty "expect:\\$ " "send:echo pty-\$((40+2))\\n" "expect:pty-42" \
	"resize:100x30" "retry:30 100:stty size\\n" "send:exit 7\\n" \
	-- "$S" $CM -tt -- t1/box >"$T/o4" 2>&1
rc=$?
check "pty shell: exit code" test $rc -eq 7
[ $rc -eq 7 ] || { echo "# exit $rc; the terminal showed:"; sed 's/^/#   /' "$T/o4"; }
check_grep "pty shell: typed command ran" "pty-42" "$T/o4"
check_grep "pty shell: resize reached the target" "30 100" "$T/o4"

# What the engineer sees on errors: one clear line, non-zero exit.
"$S" $CM -- t3/box true </dev/null >/dev/null 2>"$T/e5"
check "not permitted: non-zero exit" test $? -ne 0
check_grep "not permitted: says so" "not permitted\|no grant" "$T/e5"
"$S" $CM -- t2/box true </dev/null >/dev/null 2>"$T/e6"
check "outside the window: non-zero exit" test $? -ne 0
check_grep "outside the window: says so" "window" "$T/e6"
"$S" $CM -- t1/badkey true </dev/null >/dev/null 2>"$T/e7"
check "host key mismatch: non-zero exit" test $? -ne 0
check_grep "host key mismatch: says so" "host key" "$T/e7"
"$S" $CM -- t1/down true </dev/null >/dev/null 2>"$T/e8"
check "target down: non-zero exit" test $? -ne 0
check_grep "target down: says so" "unreachable\|cannot connect\|refused" "$T/e8"
"$S" $CM -- t9/nothing true </dev/null >/dev/null 2>"$T/e9"
check "unknown target: non-zero exit" test $? -ne 0

# No way around the broker.
"$S" $CM -W "127.0.0.1:$TARGET_PORT" -- </dev/null >/dev/null 2>"$T/e10"
check "stdio forwarding to the target refused" test $? -ne 0
lport=$(free_port)
"$S" $CM -O forward -L "127.0.0.1:$lport:127.0.0.1:$TARGET_PORT" -- >/dev/null 2>"$T/e11"
# The client listens; the gateway must refuse the channel: no SSH banner
# from the target comes back through it.
python3 - "$lport" >"$T/fwd" 2>&1 <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.settimeout(5)
try:
    print(repr(s.recv(100)))
except Exception as e:
    print("no data:", e)
EOF
check "port forwarding refused (no banner through it)" sh -c "! grep -q SSH- '$T/fwd'"
"$S" $CM -O cancel -L "127.0.0.1:$lport:127.0.0.1:$TARGET_PORT" -- >/dev/null 2>&1

# The gateway sshd as it runs: no agent forwarding, no forwarding at all.
"$CHAIN_RUN/$CHAIN_SVC" -T -f "$T/gw_sshd_config" -C user="$GW_ENG",host=localhost,addr=127.0.0.1 \
	>"$T/sshd-T" 2>&1
check_grep "agent forwarding off in the running config" "^allowagentforwarding no$" "$T/sshd-T"
check_grep "all forwarding off in the running config" "^disableforwarding yes$" "$T/sshd-T"
check_grep "forced command for every session" "^forcecommand .*mspgate-shell" "$T/sshd-T"

# Fresh connections: wrong code, replayed code, plain key, no touch.
echo 000000 >"$T/wrong"
run_fresh() { # USER CODEFILE [env]: one login with that code, no sharing
	u=$1 f=$2
	shift 2
	cp "$f" "$T/next-code"
	env "$@" "$T/ssh-$u" -o ControlMaster=no -o ControlPath=none \
		-o SetEnv=MSPGATE_TARGET=t1/box -- true </dev/null >/dev/null 2>>"$T/fresh.log"
}
run_fresh "$GW_ENG" "$T/wrong"
check "wrong TOTP code refused" test $? -ne 0
run_fresh "$GW_ENG" "$T/used-code"
check "replayed TOTP code refused" test $? -ne 0
oathtool --totp -b "$(cat "$T/totp-$E2.secret")" \
	-N "$(date -u -d '+30 seconds' '+%Y-%m-%d %H:%M:%S UTC')" >"$T/e2-code"
run_fresh "$E2" "$T/e2-code"
check "FIDO-required grant with a plain key refused" test $? -ne 0
run_fresh "$GW_ENG" "$T/used-code" SK_SOFT_NO_UP=1
check "security key signature without touch refused" test $? -ne 0
check_grep "sshd refused the missing touch" "user presence" "$T/gw_sshd.log"

# The wrong and replayed codes above locked the engineer out, which stops
# new sessions on the shared connection too (issue 14): unlocked by the admin.
"$BIN/mspgate-enroll" -c "$GW_POLICY" --unlock "$GW_ENG" >>"$T/enroll.log" 2>&1
# The engineer's connection drops mid-command: the target session ends.
"$S" $CM -- t1/box 'sleep 300' </dev/null >/dev/null 2>&1 &
n=0
while ! pgrep -u "$GW_TUSER" -x sleep >/dev/null && [ $n -lt 600 ]; do sleep 0.1; n=$((n+1)); done
check "long command runs on the target" sh -c "pgrep -u '$GW_TUSER' -x sleep >/dev/null"
master=$(ssh -S "$T/cm.ctl" -O check x 2>&1 | sed -n 's/.*pid=\([0-9]*\).*/\1/p')
[ -n "$master" ] && kill -9 "$master"
n=0
while pgrep -u "$GW_TUSER" -x sleep >/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n+1)); done
check "connection dropped: target session gone within 30 s" sh -c "! pgrep -u '$GW_TUSER' -x sleep"

# The auditor's side, once every session has ended (and so has written
# its recording and audit events).
check "every session ended" gw_wait_sessions 0
check "every recording verifies" gw_verify_recordings
check "replay text shows what the client saw" sh -c "
	for f in '$GW_REC'/*.cast; do '$BIN/mspgate-replay' text \"\$f\"; done | grep -q '^out-42'"
"$BIN/mspgate-replay" verify --pubkey "$GW_SIGNPUB" "$GW_AUDIT" >"$T/av" 2>&1
check "audit log verifies" test $? -eq 0
check_grep_soon "audit: PAM auth success" '"auth_success"' "$GW_AUDIT"
check_grep_soon "audit: auth failure" '"auth_failure"' "$GW_AUDIT"
check_grep_soon "audit: session end with seal" '"session_end"' "$GW_AUDIT"
check_grep_soon "audit: host key mismatch alert" '"alert"' "$GW_AUDIT"
check "no sanitizer or valgrind reports" gw_no_reports
tap_done
