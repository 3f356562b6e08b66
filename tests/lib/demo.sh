#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# make demo: a self-contained gateway on 127.0.0.1. A target sshd (the
# "client host"), the gateway sshd with pam_mspgate, mspgated, a policy, a
# demo engineer with a (software) FIDO key and a TOTP secret. It prints the
# ssh command to try and how to replay the recording; Ctrl-C stops it and
# removes every account, file and process it made.
# MSPGATE_DEMO_SELFTEST=1: run one session through it and stop (tests).
set -u
B=${1:-build}
if [ "$(id -u)" -ne 0 ]; then
	cat >&2 <<EOF
make demo needs root: it creates three throwaway accounts (an engineer, a
login on the demo target, the broker's service account), a PAM service file
and two sshd instances on 127.0.0.1, and removes them all when it stops.
Run: sudo make demo
EOF
	exit 1
fi
MG_BUILD=$B
export MG_BUILD
. tests/lib/tap.sh
. tests/lib/gw.sh
. tests/lib/chain.sh

say() { printf '%s\n' "$*"; }
die() { say "demo: $*" >&2; exit 1; }

say "Setting up the mspgate demo (everything goes away on Ctrl-C)..."
gw_setup >/dev/null 2>&1 || die "could not set up the accounts, target and vault (see $T)"
chain_setup || die "missing $MG_BUILD/lib/sk-soft.so or the PAM module: run make first"
ENG=$GW_ENG
ssh-keygen -q -t ed25519-sk -w "$SK_LIB" -N '' -C "$ENG@demo" -f "$T/engineer_sk" \
	>/dev/null 2>&1 || die "could not make the demo security key"
skpub=$(cut -d' ' -f1-2 "$T/engineer_sk.pub")
hk=$(cut -d' ' -f1-2 "$TARGET_HOSTKEY.pub")
cat >"$GW_POLICY" <<EOF
# The demo's policy: one engineer, one tenant, one target. See
# config/examples/mspgate.conf for a complete one and mspgate.conf(5).
gateway: {
  user = "$GW_DAEMON";
  vault = "$GW_VAULT";
  recordings = "$GW_REC";
  audit = "$GW_AUDIT";
  state = "$T/state";
  session_socket = "$GW_SOCK";
  signing_key = "$GW_SIGNKEY";
  attestations = "$T/attest";
};
mfa: { totp: { store = "$T/totp"; }; };
engineers = (
  { name = "$ENG"; groups = [ "l2" ]; description = "demo engineer";
    keys = [ "$skpub $ENG@demo" ]; }
);
tenants = (
  { name = "acme"; tz = "Europe/London";
    targets = (
      { name = "web01"; host = "127.0.0.1"; port = $TARGET_PORT; host_key = "$hk";
        logins = [ "$GW_TUSER" ]; credential = "box"; }
    );
  }
);
grants = (
  { to = "group:l2"; tenants = [ "acme" ]; targets = [ "web01" ];
    logins = [ "$GW_TUSER" ]; mfa = "fido+totp"; max_session = "1h"; }
);
EOF
chmod 0644 "$GW_POLICY"
"$BIN/mspgate-policy" check -f "$GW_POLICY" >/dev/null || die "demo policy invalid"
touch "$GW_AUDIT" && chown "$GW_DAEMON" "$GW_AUDIT" && chmod 0640 "$GW_AUDIT"
start_mspgated || die "mspgated did not start (see $T/mspgated.log)"
chain_start_gateway || die "the gateway sshd did not start (see $T/gw_sshd.log)"

# TOTP: on a terminal, enrol like a sysadmin would (QR code, then one code
# from the app to activate); otherwise activate with oathtool.
if [ -z "${MSPGATE_DEMO_SELFTEST:-}" ] && [ -t 0 ] && [ -t 1 ]; then
	say ""
	say "Enrol the demo engineer's authenticator: scan the QR code with Google"
	say "Authenticator, Aegis or 1Password, then type the code it shows (no"
	say "phone? oathtool --totp -b SECRET, with the secret from the URI below)."
	"$BIN/mspgate-enroll" -c "$GW_POLICY" --issuer mspgate-demo "$ENG" ||
		die "enrolment not completed"
	secret=$(sed -n 's/^secret = *//p' "$T/totp/$ENG" 2>/dev/null | head -1)
else
	chain_enroll "$ENG" || die "enrolment failed"
	secret=$(cat "$T/totp-$ENG.secret")
fi

# The engineer's side belongs to whoever ran sudo: key and known_hosts.
C="$T/client"
mkdir -p "$C"
cp "$T/engineer_sk" "$T/engineer_sk.pub" "$C/"
ssh-keyscan -p "$GW_PORT" -t ed25519 127.0.0.1 2>/dev/null | sed "s/^127.0.0.1/[127.0.0.1]:$GW_PORT/" >"$C/known_hosts"
chown -R "${SUDO_USER:-root}" "$C"
chmod 0700 "$C"
chmod 0711 "$T"
SSHCMD="ssh -F /dev/null -p $GW_PORT -i $C/engineer_sk -o SecurityKeyProvider=$SK_LIB -o UserKnownHostsFile=$C/known_hosts -o SetEnv=MSPGATE_TARGET=acme/web01 $ENG@127.0.0.1"
if [ -n "${MSPGATE_DEMO_SELFTEST:-}" ]; then
	chain_client "$ENG" "$T/engineer_sk"
	next_code "$ENG"
	"$T/ssh-$ENG" -o SetEnv=MSPGATE_TARGET=acme/web01 -- 'echo demo-session-ok; id -un' \
		</dev/null >"$T/selftest.out" 2>&1
	rc=$?
	cat "$T/selftest.out"
	"$BIN/mspgate-replay" verify --pubkey "$GW_SIGNPUB" "$GW_REC"/*.cast "$GW_AUDIT"
	vrc=$?
	[ $rc -eq 0 ] && [ $vrc -eq 0 ] && grep -q demo-session-ok "$T/selftest.out"
	exit $?
fi

cat <<EOF

==========================================================================
 The mspgate demo gateway is running on 127.0.0.1 (Ctrl-C stops it).

 As the MSP engineer "$ENG", in another terminal, as ${SUDO_USER:-root}
 (a software FIDO key stands in for a YubiKey; the verification code comes
 from your app, or from: oathtool --totp -b ${secret:-SECRET}; each code
 works once, so the first login needs the code after the one you enrolled with):

   $SSHCMD

 Try a shell, or a command at the end (e.g. "uname -a"). You land on the
 demo target as "$GW_TUSER"; the gateway decided, injected the vaulted key,
 and recorded every keystroke.

 Afterwards, as an auditor:

   $BIN/mspgate-replay list $GW_REC
   $BIN/mspgate-replay play $GW_REC/<file>.cast
   $BIN/mspgate-replay verify --pubkey $GW_SIGNPUB $GW_REC/*.cast $GW_AUDIT

 Policy: $GW_POLICY   Audit log: $GW_AUDIT
==========================================================================
EOF
# Until Ctrl-C (or SIGTERM): then the EXIT trap removes everything.
while :; do sleep 1; done
