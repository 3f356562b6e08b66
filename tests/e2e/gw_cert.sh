#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Certificate credentials (issue 18): mspgate-signer, as its own account, signs a
# certificate for a key each session makes in memory; targets trust only their
# tenant's CA (TrustedUserCAKeys, no authorized_keys). The target's sshd log shows
# the principal and key id; a replay after the validity ends, a certificate of
# another tenant's CA, a request from another uid and a signer that cannot write
# its audit log are all refused. Vault keys keep working beside them.
. tests/lib/tap.sh
. tests/lib/gw.sh
gw_need_root
. tests/lib/chain.sh

gw_setup || { fail "gateway test setup"; tap_done; exit 1; }
SIGNER_USER="${GW_TAG}s"
make_user "$SIGNER_USER" system || { fail "signer account"; tap_done; exit 1; }
S="$T/signer"
mkdir -p "$S/ca" "$S/audit" "$S/run"
openssl genpkey -algorithm ed25519 -out "$S/ca/ca-a.pem" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$S/ca/ca-b.pem" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$S/audit.pem" 2>/dev/null
chmod 0600 "$S/ca/"*.pem "$S/audit.pem"
"$BIN/mspgate-signer" pubkey "$S/ca/ca-a.pem" >"$T/ca-a.pub"
check_exit 0 "mspgate-signer pubkey prints the CA's public key" test $? -eq 0
"$BIN/mspgate-signer" pubkey "$S/ca/ca-b.pem" >"$T/ca-b.pub"
check_grep "the public key is an ssh-ed25519 line" '^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI' "$T/ca-a.pub"
# As packaged: the folder root's, what is in it the signer's own.
chown -R "$SIGNER_USER" "$S/ca" "$S/audit" "$S/run" "$S/audit.pem"
chmod 0700 "$S/ca" "$S/audit"
chmod 0755 "$S" "$S/run"
SIGNER_SOCK="$S/run/sign.sock"
SIGNER_AUDIT="$S/audit/audit.jsonl"

# A client host that trusts one CA and nothing else, set up from what
# mspgate-policy target-setup prints; its log says what it accepted.
PORT_A=$(free_port)
PORT_B=$(free_port)
start_ca_sshd() {
	d="$T/ca-$1"
	mkdir -p "$d"
	"$BIN/mspgate-policy" -f "$GW_POLICY" target-setup --dir "$d" "t$1/box" >"$d/setup" \
		2>"$d/setup.err" || return 1
	grep '^ssh-ed25519 ' "$d/setup" >"$d/mspgate-ca-$1.pub"
	cat >"$d/sshd_config" <<EOF
Port $2
ListenAddress 127.0.0.1
HostKey $TARGET_HOSTKEY
PidFile $d/sshd.pid
UsePAM no
StrictModes no
AuthorizedKeysFile none
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AllowUsers $GW_TUSER
LogLevel VERBOSE
EOF
	grep -v '^#' "$d/setup" | grep -v '^ssh-ed25519 ' >>"$d/sshd_config"
	"$SSHD" -D -f "$d/sshd_config" -E "$d/log" &
	gw_track $!
	wait_port "$2"
}
hk=$(cut -d' ' -f1-2 "$TARGET_HOSTKEY.pub")

cat >"$T/certs.conf" <<EOF
credentials = (
  { name = "ca-a"; kind = "certificate"; ca = "$(cat "$T/ca-a.pub")"; },
  { name = "ca-b"; kind = "certificate"; ca = "$(cat "$T/ca-b.pub")"; }
);
signer: { socket = "$SIGNER_SOCK"; ca_keys = "$S/ca"; audit = "$SIGNER_AUDIT";
  signing_key = "$S/audit.pem"; user = "$SIGNER_USER"; per_minute = 4; };
tenants = (
  { name = "ta"; targets = ( { name = "box"; host = "127.0.0.1"; port = $PORT_A;
      host_key = "$hk"; logins = [ "$GW_TUSER" ]; credential = "ca-a"; } ); },
  { name = "tb"; targets = ( { name = "box"; host = "127.0.0.1"; port = $PORT_B;
      host_key = "$hk"; logins = [ "$GW_TUSER" ]; credential = "ca-b"; } ); }
);
grants = ( { to = "$GW_ENG"; tenants = [ "ta", "tb" ]; targets = [ "*" ];
    logins = [ "$GW_TUSER" ]; mfa = "totp"; max_session = "10m"; } );
EOF
chmod 0644 "$T/certs.conf"
gw_write_policy "@include \"$T/certs.conf\""
# The engineer's key a security key (sk-soft): the policy's FIDO grant makes
# the gateway login FIDO and TOTP (the sshd session below).
chain_setup || fail "chain setup (PAM module, sk-soft)"
chain_sk_engineer
start_ca_sshd a "$PORT_A" || fail "target-setup ta/box"
start_ca_sshd b "$PORT_B" || fail "target-setup tb/box"
check_grep "target-setup: the sshd_config line" "^TrustedUserCAKeys $T/ca-a/mspgate-ca-a.pub\$" \
	"$T/ca-a/sshd_config"
check "target-setup: the CA's public key, as mspgate-signer printed it" \
	sh -c "grep '^ssh-ed25519 ' '$T/ca-a/setup' | cut -d' ' -f1-2 | cmp -s - '$T/ca-a.pub'"
check_grep "target-setup: the logins it is for" "for the login $GW_TUSER\." "$T/ca-a/setup"
"$BIN/mspgate-policy" -f "$GW_POLICY" target-setup t1/box >"$T/ts1" 2>"$T/ts1.err"
check_exit 0 "target-setup of a vault-key target exits 1" test $? -eq 1
check_grep "and says a certificate credential comes first" \
	"target t1/box logs in with the vault key 'box': declare a credential of kind \"certificate\"" \
	"$T/ts1.err"
"$BIN/mspgate-policy" check -f "$GW_POLICY" >"$T/chk" 2>"$T/chk.err"
check_exit 0 "check: a policy with vault keys is valid" test $? -eq 0
check_grep "check warns about each vault-key target, at its line" \
	"^$GW_POLICY:[0-9]*: warning: target t1/box logs in with the standing vault key 'box'" "$T/chk.err"
check "check does not warn about certificate targets" sh -c "! grep -q 'target t[ab]/box' '$T/chk.err'"

as_signer() { setpriv --reuid="$(id -u "$SIGNER_USER")" --regid="$(id -g "$SIGNER_USER")" \
	--clear-groups "$@"; }
as_signer "$BIN/mspgate-signer" -t -f "$GW_POLICY" >"$T/signer-t.out" 2>&1
check_exit 0 "mspgate-signer -t: the policy and both CA keys load" test $? -eq 0
check_grep "mspgate-signer -t counts two CA keys, serves the gateway's uid" \
	"2 CA keys, serving uid $(id -u "$GW_DAEMON")" "$T/signer-t.out"
"$BIN/mspgate-signer" -t -f "$GW_POLICY" >"$T/signer-t2.out" 2>&1
check_exit 0 "mspgate-signer -t as root: CA keys of another account are refused" test $? -eq 1
check_grep "the refusal names the file's owner" 'owned by uid' "$T/signer-t2.out"
setpriv --reuid="$(id -u "$SIGNER_USER")" --regid="$(id -g "$SIGNER_USER")" --clear-groups \
	"$BIN/mspgate-signer" -D -f "$GW_POLICY" 2>>"$T/signer.log" &
SIGNER_PID=$!
gw_track "$SIGNER_PID"
signer_up() { grep -q 'listening on' "$T/signer.log" 2>/dev/null && [ -S "$SIGNER_SOCK" ]; }
tap_wait 60 signer_up
check "mspgate-signer listens as its own account" \
	sh -c "ps -o user= -p $SIGNER_PID | grep -qx '$SIGNER_USER'"
start_mspgated

# Through the gateway's real sshd: pam_mspgate attests the TOTP login, the
# session process names that attestation, the signer finds it live.
cp "$T/secret" "$T/totp-$GW_ENG.secret"
chain_start_gateway || fail "gateway sshd listens"
chain_client "$GW_ENG" "$T/eng_sk"
next_code "$GW_ENG"
"$T/ssh-$GW_ENG" -o SetEnv=MSPGATE_TARGET=tb/box -- 'echo via-sshd-cert' </dev/null \
	>"$T/o0" 2>"$T/e0"
check_grep "through sshd: a certificate session on an attested login" '^via-sshd-cert$' "$T/o0" ||
	sed 's/^/# /' "$T/e0" "$T/signer.log"
check_grep "through sshd: the target took the certificate" \
	"Accepted publickey for $GW_TUSER from 127.0.0.1 .* ED25519-CERT .* ID mspgate engineer=$GW_ENG " \
	"$T/ca-b/log"

# A session through a certificate.
gw_shell MSPGATE_TARGET=ta/box SSH_ORIGINAL_COMMAND='echo via-cert-$((6*7))' \
	</dev/null >"$T/o1" 2>"$T/e1"
check_exit 0 "certificate session: exit 0" test $? -eq 0 || sed 's/^/# /' "$T/e1" "$T/signer.log"
check_grep "certificate session: the command ran on the target" '^via-cert-42$' "$T/o1"
check_grep "target log: the certificate's principal, key id and serial" \
	"Accepted publickey for $GW_TUSER from 127.0.0.1 .* ED25519-CERT SHA256:.* ID mspgate engineer=$GW_ENG session=.* ticket=- (serial [0-9]*) CA ED25519" \
	"$T/ca-a/log"
check_grep "signer audit: cert_issued with serial, key id, principal, validity, target" \
	"\"event\":\"cert_issued\".*\"tenant\":\"ta\",\"target\":\"box\",\"login\":\"$GW_TUSER\".*serial [0-9]* key_id .*mspgate engineer=$GW_ENG .* valid 20[0-9-]*T[0-9:]*Z\.\.20" \
	"$SIGNER_AUDIT"
check "the vault holds no key for the certificate credentials" \
	sh -c "! ls '$GW_VAULT' | grep -q '^ca-'"
# The serial the target saw is the one audited.
serial=$(sed -n 's/.*(serial \([0-9]*\)).*/\1/p' "$T/ca-a/log" | tail -1)
check_grep "the target's serial is in the signer's audit" "serial $serial key_id" "$SIGNER_AUDIT"
openssl pkey -in "$S/audit.pem" -pubout -out "$T/sa.pub"
check "the signer's audit log verifies" \
	sh -c "'$BIN/mspgate-replay' verify --pubkey '$T/sa.pub' '$SIGNER_AUDIT' >'$T/sa.verify' 2>&1"

# Vault keys keep working beside certificates.
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo via-key' </dev/null >"$T/o2" 2>"$T/e2"
check_exit 0 "vault key session beside certificates: exit 0" test $? -eq 0
check_grep "vault key session: output" '^via-key$' "$T/o2"

# A certificate asked for directly, as the gateway's account, with a short life.
ssh-keygen -q -t ed25519 -N '' -f "$T/eph"
# ask USER TENANT LIFETIME [ATT]: as USER, under a live login of
# ${ATT_USER:-$GW_ENG} attested by tests/lib/attest-run; ATT as signreq.py
# takes it (default: that login).
ask() { "$GW_ATTEST_RUN" -d "$T/attest" -u "${ATT_USER:-$GW_ENG}" -r "$1" -- \
	/usr/bin/python3 tests/lib/signreq.py "$SIGNER_SOCK" "$T/eph.pub" s-test "$GW_ENG" "$2" box \
	"$GW_TUSER" "$3" 127.0.0.1/32 "${4:-parent}"; }
ask "$GW_DAEMON" ta 3 >"$T/eph-cert.pub" 2>"$T/ask.err"
check_exit 0 "the gateway's account gets a certificate" test $? -eq 0
check "ssh-keygen -L reads it" sh -c "ssh-keygen -L -f '$T/eph-cert.pub' >'$T/eph.L'"
check_grep "ssh-keygen: a user certificate" 'user certificate' "$T/eph.L"
check_grep "ssh-keygen: principal is the login" "^ *$GW_TUSER\$" "$T/eph.L"
check_grep "ssh-keygen: key id names engineer, session, ticket" \
	"Key ID: \"mspgate engineer=$GW_ENG session=s-test ticket=-\"" "$T/eph.L"
check_grep "ssh-keygen: source-address" 'source-address 127.0.0.1/32' "$T/eph.L"
check_grep "ssh-keygen: a pty, and nothing else" 'permit-pty' "$T/eph.L"
check "ssh-keygen: no forwarding permitted" \
	sh -c "! grep -Eq 'forwarding|user-rc' '$T/eph.L'"
# Valid from a minute back to 3 s ahead.
va=$(sed -n 's/.*Valid: from \([^ ]*\) to \([^ ]*\)$/\1/p' "$T/eph.L")
vb=$(sed -n 's/.*Valid: from \([^ ]*\) to \([^ ]*\)$/\2/p' "$T/eph.L")
span=$(( $(date -d "$vb" +%s) - $(date -d "$va" +%s) ))
check "ssh-keygen: valid 63 s (60 s of skew, 3 s asked)" test "$span" -eq 63
ssh_to() {
	ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -i "$T/eph" \
		-o CertificateFile="$T/eph-cert.pub" -p "$1" "$GW_TUSER@127.0.0.1" "$2" \
		</dev/null 2>>"$T/ssh.err"
}
ssh_to "$PORT_A" 'echo direct-ok' >"$T/o3"
check_grep "the certificate opens tenant A's target while valid" '^direct-ok$' "$T/o3"
ssh_to "$PORT_B" 'echo wrong-ca' >"$T/o4"
check_exit 0 "tenant A's certificate is refused by tenant B's target" test $? -eq 255
check_grep "tenant B's target: the certificate of tenant A's CA failed" \
	"Failed publickey for $GW_TUSER .* ED25519-CERT .* ID mspgate engineer=$GW_ENG session=s-test" \
	"$T/ca-b/log"
expired() { [ "$(date +%s)" -gt "$(date -d "$vb" +%s)" ]; }
tap_wait 30 expired
ssh_to "$PORT_A" 'echo replay' >"$T/o5"
check_exit 0 "a replay after the validity ends is refused" test $? -eq 255
check_grep "target log: the certificate has expired" 'ertificate invalid: expired' "$T/ca-a/log"

# Asking for more than the grant allows (10m + 60 s).
ask "$GW_DAEMON" ta 661 >"$T/o6"
check_exit 0 "a lifetime over max_session + 60 s is refused" test $? -eq 1
check_grep "the refusal says why" 'over the grants' "$T/o6"

# A forged request from another uid: refused and audited.
ask "$GW_ENG" ta 60 >"$T/o7"
check_exit 0 "a request from the engineer's uid is refused" test $? -eq 1
check_grep "the refusal names the uid" "uid $(id -u "$GW_ENG") is not the gateway's service account" "$T/o7"
check_grep "the refusal is in the signer's audit" '"event":"denied".*is not the gateway' "$SIGNER_AUDIT"

# A stolen service account alone mints nothing: a live attested login of
# the engineer named must stand behind each request.
n_issued=$(grep -c '"cert_issued"' "$SIGNER_AUDIT")
ask "$GW_DAEMON" ta 60 self >"$T/o9a"
check_exit 0 "no attestation for the pid named: refused" test $? -eq 1
check_grep "no attestation: the refusal says so" \
	'^REFUSED: no attested login: no attestation for session process [0-9]* in ' "$T/o9a"
check_grep "no attestation: audited" \
	'"event":"denied".*no attested login: no attestation for session process' "$SIGNER_AUDIT"
ATT_USER="$GW_TUSER" ask "$GW_DAEMON" ta 60 >"$T/o9b"
check_exit 0 "another user's attested login: refused" test $? -eq 1
check_grep "another user's login: the refusal names both" \
	"^REFUSED: no attested login: the login of session process [0-9]* is $GW_TUSER's, not $GW_ENG's" \
	"$T/o9b"
check_grep "another user's login: audited" '"event":"denied".*is '"$GW_TUSER""'s, not" \
	"$SIGNER_AUDIT"
ask "$GW_DAEMON" ta 60 parent+1 >"$T/o9c"
check_exit 0 "a stale start time: refused" test $? -eq 1
check_grep "a stale start time: the refusal says another session" \
	'^REFUSED: no attested login: the attestation of session process [0-9]* is of another session' \
	"$T/o9c"
check_grep "a stale start time: audited" '"event":"denied".*is of another session' "$SIGNER_AUDIT"
check "none of the three was signed" test "$(grep -c '"cert_issued"' "$SIGNER_AUDIT")" -eq "$n_issued"

# The audit log cannot be written: nothing is signed, the session is refused.
n_issued=$(grep -c '"cert_issued"' "$SIGNER_AUDIT")
chmod 0400 "$SIGNER_AUDIT"
gw_shell MSPGATE_TARGET=ta/box SSH_ORIGINAL_COMMAND='echo should-not-run' \
	</dev/null >"$T/o8" 2>"$T/e8"
check_exit 0 "audit unwritable: the session is refused (255)" test $? -eq 255
check_grep "audit unwritable: the engineer is told why" \
	'^mspgate: no session certificate for ta/box: the signer cannot write its audit log: nothing signed' "$T/e8"
check "audit unwritable: nothing ran" sh -c "! grep -q should-not-run '$T/o8'"
ask "$GW_DAEMON" ta 60 >"$T/o9"
check_exit 0 "audit unwritable: a direct request is refused too" test $? -eq 1
chmod 0600 "$SIGNER_AUDIT"
check "audit unwritable: no certificate was issued" \
	test "$(grep -c '"cert_issued"' "$SIGNER_AUDIT")" -eq "$n_issued"

# The rate limit: three certificates were issued so far, 4 a minute.
ask "$GW_DAEMON" ta 60 >/dev/null
check_exit 0 "the 4th certificate this minute is issued" test $? -eq 0
ask "$GW_DAEMON" ta 60 >"$T/o11"
check_exit 0 "the 5th is refused" test $? -eq 1
check_grep "the refusal names the rate" 'rate limit: 4 certificates a minute' "$T/o11"

# The signer stopped: a clear refusal, no hang.
kill "$SIGNER_PID"
gw_shell MSPGATE_TARGET=tb/box SSH_ORIGINAL_COMMAND=true </dev/null >/dev/null 2>"$T/e10"
check_exit 0 "signer down: the session is refused (255)" test $? -eq 255
check_grep "signer down: says the signer cannot be reached" \
	'^mspgate: no session certificate for tb/box: signer .*sign.sock' "$T/e10"
check "every recording verifies" gw_verify_recordings
signer_gone() { ! kill -0 "$SIGNER_PID" 2>/dev/null; }
tap_wait 30 signer_gone
check "no sanitizer report from the signer" \
	sh -c "! grep -q -e Sanitizer -e 'runtime error:' '$T/signer.log'"
check "no sanitizer report from mspgated or its sessions" gw_no_reports
tap_done
