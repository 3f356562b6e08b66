#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Host certificates (issue 18): a tenant's host_ca instead of pinned host keys.
# A target with a host certificate from that CA for its host name is reached;
# one for another name, one from another CA and a plain key are refused, never
# trusted on first use. The certificates are made by OpenSSH's ssh-keygen.
. tests/lib/tap.sh
. tests/lib/gw.sh
gw_need_root

gw_setup || { fail "gateway test setup"; tap_done; exit 1; }
H="$T/hc"
mkdir -p "$H"
ssh-keygen -q -t ed25519 -N '' -C hostca -f "$H/hostca"
ssh-keygen -q -t ed25519 -N '' -C otherca -f "$H/wrongca"

# hc_sshd NAME [CA PRINCIPALS]: a target with its own host key, certified when CA is given.
hc_sshd() {
	d="$H/$1"
	mkdir -p "$d"
	ssh-keygen -q -t ed25519 -N '' -f "$d/hostkey"
	cert=""
	if [ -n "${2:-}" ]; then
		ssh-keygen -q -s "$2" -I "$1" -h -n "$3" -V -5m:+1h "$d/hostkey.pub" || return 1
		cert="HostCertificate $d/hostkey-cert.pub"
	fi
	port=$(free_port)
	cat >"$d/sshd_config" <<EOF2
Port $port
ListenAddress 127.0.0.1
HostKey $d/hostkey
$cert
PidFile $d/sshd.pid
UsePAM no
StrictModes no
AuthorizedKeysFile $T/target/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowUsers $GW_TUSER
LogLevel ERROR
EOF2
	"$SSHD" -D -e -f "$d/sshd_config" 2>>"$d/log" &
	gw_track $!
	wait_port "$port"
	echo "$port" >"$d/port"
}
hc_sshd good "$H/hostca" 127.0.0.1,localhost
hc_sshd othername "$H/hostca" other.example
hc_sshd otherca "$H/wrongca" 127.0.0.1
hc_sshd plain
check "the good target presents a host certificate" \
	sh -c "ssh-keyscan -c -p $(cat "$H/good/port") 127.0.0.1 2>/dev/null | grep -q cert-v01"

target() {
	echo "{ name = \"$1\"; host = \"127.0.0.1\"; port = $(cat "$H/$1/port");
	    logins = [ \"$GW_TUSER\" ]; credential = \"box\"; }"
}
cat >"$T/hc.conf" <<EOF
tenants = ( { name = "hc"; host_ca = "$(cut -d' ' -f1-2 "$H/hostca.pub")";
  targets = ( $(target good), $(target othername), $(target otherca), $(target plain) ); } );
grants = ( { to = "$GW_ENG"; tenants = [ "hc" ]; targets = [ "*" ];
    logins = [ "$GW_TUSER" ]; mfa = "totp"; } );
EOF
chmod 0644 "$T/hc.conf"
gw_write_policy "@include \"$T/hc.conf\""
"$BIN/mspgate-policy" check --offline -f "$GW_POLICY" >"$T/chk" 2>&1
check_exit 0 "a tenant with host_ca: its targets need no host_key" test $? -eq 0
start_mspgated

gw_shell MSPGATE_TARGET=hc/good SSH_ORIGINAL_COMMAND='echo via-host-cert' </dev/null \
	>"$T/o1" 2>"$T/e1"
check_exit 0 "a host certificate from the tenant's CA for the host name: exit 0" test $? -eq 0
check_grep "the session ran" '^via-host-cert$' "$T/o1"

refused() {
	gw_shell MSPGATE_TARGET="hc/$1" SSH_ORIGINAL_COMMAND='echo should-not-run' </dev/null \
		>"$T/o-$1" 2>"$T/e-$1"
	check_exit 0 "$2: refused (255)" test $? -eq 255
	check_grep "$2: the engineer is told" \
		"^mspgate: target host key mismatch: hc/$1 did not present a host certificate from its tenant's host_ca (reported)" \
		"$T/e-$1"
	check "$2: nothing ran" sh -c "! grep -q should-not-run '$T/o-$1'"
	check_grep_soon "$2: audited as an alert saying why" \
		"\"event\":\"alert\".*\"target\":\"$1\".*$3" "$GW_AUDIT"
}
refused othername "a host certificate for another name" 'not for 127.0.0.1'
refused otherca "a host certificate from another CA" "signed by another CA"
refused plain "a plain host key" "no host certificate: the target presents a plain key"
check "every recording verifies" gw_verify_recordings
check "no sanitizer report from mspgated or its sessions" gw_no_reports
tap_done
