#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Attested logins (issue 14): mspgated believes only what pam_mspgate saw
# inside sshd (factors, key, source, login time), per sshd session; what
# mspgate-shell says decides nothing. Also the login age and per-channel
# lockout, un-enrolment and reload checks on shared connections.
. tests/lib/tap.sh
. tests/lib/gw.sh
gw_need_root
. tests/lib/chain.sh

GW_KEEP=${GW_KEEP:-}
gw_setup || { fail "gateway setup"; tap_done; exit 1; }
chain_setup || { fail "chain setup (PAM module, sk-soft)"; tap_done; exit 1; }
ssh-keygen -q -t ed25519-sk -w "$SK_LIB" -N '' -C eng -f "$T/eng_sk" 2>>"$T/keygen.log"
skpub=$(cut -d' ' -f1-2 "$T/eng_sk.pub")
# t4: a grant with its own max_login_age (30 minutes).
GW_GRANTS_EXTRA=", { to = \"$GW_ENG\"; tenants = [ \"t3\" ]; targets = [ \"*\" ];
    logins = [ \"$GW_TUSER\" ]; mfa = \"totp\"; max_login_age = \"30m\"; }"
GW_GATEWAY_EXTRA="  user = \"$GW_DAEMON\";"
gw_write_policy "mfa: { totp: { store = \"$T/totp\"; skew_steps = 1; }; };"
sed -i "s|keys = \[ \"[^\"]*\" \]|keys = [ \"$skpub\" ]|" "$GW_POLICY"
"$BIN/mspgate-policy" check -f "$GW_POLICY" >"$T/check.out" 2>&1
check "policy is valid (gateway.attestations, grant max_login_age)" test $? -eq 0
touch "$GW_AUDIT" && chown "$GW_DAEMON" "$GW_AUDIT" && chmod 0640 "$GW_AUDIT"
start_mspgated || fail "mspgated started"
chain_enroll "$GW_ENG"
chown -R "$GW_DAEMON" "$T/totp" "$T/state"
chain_start_gateway
check "gateway sshd listens" test -n "$GW_PORT"
chain_client "$GW_ENG" "$T/eng_sk"
S="$T/ssh-$GW_ENG"
CM="-o ControlPath=$T/cm.ctl"

# audit_mark, then audit_since MARK: the audit lines since ($T/new-audit).
audit_mark() { wc -l <"$GW_AUDIT"; }
audit_since() { tail -n "+$(($1 + 1))" "$GW_AUDIT" >"$T/new-audit"; }
# reload: SIGHUP, then until the reload is in the audit log (10 s).
reload() {
	n0=$(grep -c '"policy_reload"' "$GW_AUDIT")
	kill -HUP "$GW_DPID"
	n=0
	while [ "$(grep -c '"policy_reload"' "$GW_AUDIT")" -le "$n0" ] && [ $n -lt 100 ]; do
		sleep 0.1; n=$((n + 1))
	done
}

# ---- a real login: FIDO + TOTP through sshd, kept as a shared connection ----
next_code "$GW_ENG"
"$S" $CM -o ControlMaster=yes -o ControlPersist=300 -o SetEnv=MSPGATE_TARGET=t6/box \
	-- 'echo fido-ok' \
	</dev/null >"$T/o1" 2>"$T/e1"
check "FIDO login reaches the FIDO grant" grep -q '^fido-ok$' "$T/o1"
[ -s "$T/e1" ] && sed 's/^/# /' "$T/e1"
ls "$T/attest" >"$T/attest.ls" 2>&1
check "one attestation for the connection" test "$(wc -l <"$T/attest.ls")" -eq 1
A="$T/attest/$(head -1 "$T/attest.ls")"
check_grep "attestation: the engineer" "^engineer $GW_ENG\$" "$A"
check_grep "attestation: both factors verified" "^mfa fido+totp\$" "$A"
check_grep "attestation: the key's fingerprint, no validity end" "^factor fido $(ssh-keygen -lf "$T/eng_sk.pub" | cut -d' ' -f2) 0\$" "$A"
check_grep "attestation: the TOTP step accepted" "^factor totp [1-9][0-9]*\$" "$A"
check_grep "attestation: the source as sshd saw it" "^source 127.0.0.1\$" "$A"
check "attestation: root's, not writable by others" \
	test "$(stat -c '%U %a' "$A")" = "root 644"
check "attestation: names the sshd session process (root)" \
	test "$(ps -o user= -p "$(sed -n 's/^pid //p' "$A")")" = root
# The same connection: exec, sftp, scp and rsync as before.
"$S" $CM -- 'echo shared-ok' </dev/null >"$T/o2" 2>&1
check "a second session on the shared connection" grep -q '^shared-ok$' "$T/o2"
echo payload-14 >"$T/up.txt"
# sftp, scp and rsync as mux clients of the shared connection (whose
# SetEnv names the target for all of its sessions).
cat >"$T/mux" <<EOF
#!/bin/sh
exec ssh -F /dev/null -o ControlPath=$T/cm.ctl -o ControlMaster=no \\
	-o LogLevel=ERROR "\$@"
EOF
chmod 0755 "$T/mux"
printf 'put %s up.txt\nget up.txt %s\n' "$T/up.txt" "$T/down.txt" |
	sftp -q -S "$T/mux" -b - "$GW_ENG@127.0.0.1" >/dev/null 2>"$T/sftp.err"
check "sftp over the shared connection" cmp -s "$T/up.txt" "$T/down.txt"
scp -q -S "$T/mux" "$T/up.txt" "$GW_ENG@127.0.0.1:up-scp.txt" 2>"$T/scp.err"
check "scp over the shared connection" test $? -eq 0
rsync -e "$T/mux" "$T/up.txt" "$GW_ENG@127.0.0.1:up-rsync.txt" 2>"$T/rsync.err"
check "rsync over the shared connection" test $? -eq 0

# ---- the forged-authinfo reproduction (issue 14) ------------------------------
# A process of the engineer outside any sshd session, claiming FIDO + TOTP
# from 203.0.113.9 with a forged ExposeAuthInfo file and SSH_CONNECTION.
printf 'publickey %s\nkeyboard-interactive\n' "$skpub" >"$T/forged"
chown "$GW_ENG" "$T/forged"
m=$(audit_mark)
runuser -u "$GW_ENG" -- env -i PATH=/usr/bin:/bin MSPGATE_SOCKET="$GW_SOCK" \
	SSH_USER_AUTH="$T/forged" SSH_CONNECTION="203.0.113.9 5555 127.0.0.1 2222" \
	MSPGATE_TARGET=t6/box SSH_ORIGINAL_COMMAND='echo forged-in' \
	"$GW_SHELLBIN" </dev/null >"$T/f1" 2>"$T/fe1"
check "forged authinfo outside sshd: refused" test $? -eq 255
check "forged authinfo: nothing ran" sh -c "! grep -q forged-in '$T/f1'"
check_grep "forged authinfo: the engineer is told why" "login not attested" "$T/fe1"
audit_since "$m"
check_grep "forged authinfo: audited as denied, login not attested" \
	'"event":"denied".*login not attested' "$T/new-audit"
check "forged authinfo: the false source is not in the audit log" \
	sh -c "! grep -q 203.0.113.9 '$T/new-audit'"

# setpriv as the engineer (no PAM at all): refused too.
setpriv --reuid="$GW_ENG" --regid="$(id -g "$GW_ENG")" --init-groups -- \
	env -i PATH=/usr/bin:/bin MSPGATE_SOCKET="$GW_SOCK" MSPGATE_TARGET=t1/box \
	SSH_ORIGINAL_COMMAND='echo setpriv-in' "$GW_SHELLBIN" </dev/null >"$T/f2" 2>"$T/fe2"
check "setpriv as the engineer: refused" test $? -eq 255
check_grep "setpriv: login not attested" "login not attested" "$T/fe2"
# su as the engineer: su's own root process is no sshd session.
su -s /bin/sh -c "env -i PATH=/usr/bin:/bin MSPGATE_SOCKET=$GW_SOCK MSPGATE_TARGET=t1/box \
	SSH_ORIGINAL_COMMAND='echo su-in' $GW_SHELLBIN" "$GW_ENG" </dev/null >"$T/f3" 2>"$T/fe3"
check "su to the engineer: refused" test $? -eq 255
check "su: nothing ran" sh -c "! grep -q su-in '$T/f3'"

# ---- another engineer's attestation does not vouch for this uid ---------------
# (E2 is an engineer too: anyone else is turned away before attestations.)
E2="${GW_TAG}x"
make_user "$E2"
ssh-keygen -q -t ed25519 -N '' -f "$T/e2key"
python3 - "$GW_POLICY" "$E2" "$(cut -d' ' -f1-2 "$T/e2key.pub")" <<'EOF'
import sys
p, e2, key = sys.argv[1:]
s = open(p).read()
s = s.replace("engineers = (\n", 'engineers = (\n  { name = "%s"; keys = [ "%s" ]; },\n' % (e2, key), 1)
open(p, "w").write(s)
EOF
reload
"$GW_ATTEST_RUN" -d "$T/attest" -u "$GW_ENG" -r "$E2" -- env -i PATH=/usr/bin:/bin \
	MSPGATE_SOCKET="$GW_SOCK" MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND=true \
	"$GW_SHELLBIN" </dev/null >/dev/null 2>"$T/fe4"
check "a process of another uid under the engineer's session: refused" test $? -eq 255
check_grep "...as not attested" "login not attested" "$T/fe4"

# ---- login age (attest-run plays sshd's monitor with an older login) ----------
GW_ATTEST_OPTS="-a 3600" gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo hour-old' \
	</dev/null >"$T/a1" 2>&1
check "a login an hour old: a new session (default max_login_age 8h)" grep -q '^hour-old$' "$T/a1"
GW_ATTEST_OPTS="-a 3600" gw_shell MSPGATE_TARGET=t3/box SSH_ORIGINAL_COMMAND='echo no' \
	</dev/null >"$T/a2" 2>&1
check "...but not where the grant's max_login_age is 30m" test $? -eq 255
check_grep "...with a clear message" "login is 1h\(1s\|2s\)\? old.*max_login_age.*log in again" "$T/a2"
GW_ATTEST_OPTS="-a 30000" gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo no' \
	</dev/null >"$T/a3" 2>&1
check "a login older than 8h: no new session" test $? -eq 255
check_grep "...says so" "max_login_age" "$T/a3"

# ---- a reload that tightens a grant is judged against the attested factors ----
m=$(audit_mark)
python3 - "$GW_POLICY" <<'EOF'
import sys
p = sys.argv[1]
s = open(p).read()
i = s.index('tenants = [ "t1", "t2" ]')
j = s.index('mfa = "totp"', i)
s = s[:j] + 'mfa = "fido+totp"' + s[j + len('mfa = "totp"'):]
open(p, "w").write(s)
EOF
reload
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo no' </dev/null >"$T/r1" 2>&1
check "grant tightened to fido+totp: a TOTP-only login gets no new session" test $? -eq 255
check_grep "...and is told which factor is missing" "requires MFA fido+totp" "$T/r1"
"$S" $CM -- 'echo still-fido' </dev/null >"$T/r2" 2>&1
check "...while the FIDO + TOTP connection still gets one" grep -q '^still-fido$' "$T/r2"

# ---- lockout and un-enrolment after login stop new channels at once -----------
m=$(audit_mark)
for i in 1 2 3 4 5; do
	echo 000000 >"$T/next-code"
	"$S" -o ControlMaster=no -o ControlPath=none -o SetEnv=MSPGATE_TARGET=t1/box -- true \
		</dev/null >/dev/null 2>>"$T/fresh.log"
done
check_grep_soon "five wrong codes lock the account" '"event":"lockout"' "$GW_AUDIT"
"$S" $CM -- 'echo locked-in' </dev/null >"$T/l1" 2>&1
check "locked out: no new session on the existing connection" test $? -eq 255
check_grep "...says why" "no longer stands" "$T/l1"
"$BIN/mspgate-enroll" -c "$GW_POLICY" --unlock "$GW_ENG" >>"$T/enroll.log" 2>&1
"$S" $CM -- 'echo unlocked' </dev/null >"$T/l2" 2>&1
check "unlocked: the connection works again" grep -q '^unlocked$' "$T/l2"
"$BIN/mspgate-enroll" -c "$GW_POLICY" --remove "$GW_ENG" >>"$T/enroll.log" 2>&1
"$S" $CM -- 'echo removed-in' </dev/null >"$T/l3" 2>&1
check "TOTP un-enrolled: no new session on the existing connection" test $? -eq 255
# Removed from the policy: the engineer's entry goes.
cp "$GW_POLICY" "$T/policy.keep"
sed -i "s|\"$GW_ENG\"|\"${GW_TAG}z\"|g" "$GW_POLICY"
reload
"$S" $CM -- 'echo gone-in' </dev/null >"$T/l4" 2>&1
check "removed from the policy: no new session on the existing connection" test $? -eq 255
check_grep "...says so" "not an engineer" "$T/l4"

# ---- the attestation goes with the session ------------------------------------
ssh -S "$T/cm.ctl" -O exit x >/dev/null 2>&1
n=0
while [ -e "$A" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
check "session closed: the attestation is removed" test ! -e "$A"
"$BIN/mspgate-replay" verify --pubkey "$GW_SIGNPUB" "$GW_AUDIT" >"$T/av" 2>&1
check "audit log verifies" test $? -eq 0
check "no sanitizer or valgrind reports" gw_no_reports
tap_done
