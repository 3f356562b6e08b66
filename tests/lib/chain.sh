# SPDX-License-Identifier: BSD-2-Clause
# The whole chain: the OpenSSH client -> the gateway sshd with pam_mspgate
# -> mspgate-shell -> mspgated -> the target sshd. Source after
# tests/lib/tap.sh and tests/lib/gw.sh, as root, after gw_setup.
#
#   chain_setup                 the gateway sshd's files, PAM service, keys
#   chain_enroll USER           a TOTP secret for USER ($T/totp-USER.secret)
#   chain_start_gateway         the gateway sshd on $GW_PORT
#   gw_ssh USER KEY [ssh args]  the stock ssh client through the gateway;
#                               TOTP codes come from SSH_ASKPASS ($T/askpass)
#
# Made and removed: /etc/pam.d/$CHAIN_SVC (a unique name; sshd names its
# PAM service after the name it is started as, hence the link), and
# $CHAIN_RUN (a root-owned directory in /run: sshd refuses an
# AuthorizedKeysCommand under a world-writable directory such as /tmp).

CHAIN_SVC="mspgate-$GW_TAG"
CHAIN_RUN="/run/$GW_TAG"
SK_LIB=""

chain_cleanup() {
	[ -f "$T/cm.ctl" ] && ssh -S "$T/cm.ctl" -O exit x >/dev/null 2>&1
	rm -f "/etc/pam.d/$CHAIN_SVC"
	rm -rf "$CHAIN_RUN"
	gw_cleanup
}
trap chain_cleanup EXIT

abs() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }

chain_setup() {
	SK_LIB=$(abs "$MG_BUILD/lib/sk-soft.so")
	PAM_MOD=$(abs "$MG_BUILD/lib/security/pam_mspgate.so")
	[ -f "$SK_LIB" ] && [ -f "$PAM_MOD" ] || return 1
	mkdir -m 0755 "$CHAIN_RUN" || return 1
	cp "$BIN/mspgate-keys" "$BIN/mspgate-shell" "$CHAIN_RUN/"
	chmod 0755 "$CHAIN_RUN"/*
	ln -s /usr/sbin/sshd "$CHAIN_RUN/$CHAIN_SVC"
	ssh-keygen -q -t ed25519 -N '' -f "$T/gw_hostkey" || return 1
	ssh-keygen -q -t ecdsa -N '' -f "$T/gw_hostkey_ecdsa" || return 1
	mkdir -p "$T/totp"
	chmod 0700 "$T/totp"
	# As packaged: the store is the broker's, which checks that a login's
	# TOTP enrolment still stands for each new session (and re-asks codes).
	chown "$GW_DAEMON" "$T/totp"
	# The test's own PAM service: auth, account and session by pam_mspgate.
	cat >"/etc/pam.d/$CHAIN_SVC" <<EOF
# mspgate end-to-end test $GW_TAG: removed when the test ends
auth     required $PAM_MOD config=$GW_POLICY
account  required $PAM_MOD config=$GW_POLICY
session  required $PAM_MOD config=$GW_POLICY
EOF
	cat >"$T/askpass" <<EOF
#!/bin/sh
# ssh asks for the TOTP code (keyboard-interactive) through here.
case "\$1" in
*erification*) cat "$T/next-code" ;;
*) exit 0 ;;
esac
EOF
	chmod 0755 "$T/askpass"
}

# chain_enroll USER: a TOTP secret through mspgate-enroll, activated.
chain_enroll() {
	"$BIN/mspgate-enroll" -c "$GW_POLICY" --batch "$1" >"$T/uri-$1" 2>>"$T/enroll.log" || return 1
	sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' "$T/uri-$1" >"$T/totp-$1.secret"
	[ -s "$T/totp-$1.secret" ] || return 1
	"$BIN/mspgate-enroll" -c "$GW_POLICY" --activate \
		"$(oathtool --totp -b "$(cat "$T/totp-$1.secret")")" "$1" >>"$T/enroll.log" 2>&1
}

# next_code USER: the code for the next 30 s step (the step of the
# activation is used up); one step ahead is within the policy's skew.
next_code() {
	oathtool --totp -b "$(cat "$T/totp-$1.secret")" -N "$(date -u -d '+30 seconds' '+%Y-%m-%d %H:%M:%S UTC')" >"$T/next-code"
}

chain_start_gateway() {
	GW_PORT=$(free_port)
	sed -e "s|@PORT@|$GW_PORT|" -e "s|@LISTEN@|127.0.0.1|" \
	    -e "s|@HOSTKEY_ED25519@|$T/gw_hostkey|" \
	    -e "s|@HOSTKEY_ECDSA@|$T/gw_hostkey_ecdsa|" \
	    -e "s|@PIDFILE@|$T/gw_sshd.pid|" -e "s|@SBINDIR@|$CHAIN_RUN|g" \
	    -e "s|@KEYS_USER@|$GW_DAEMON|" -e "s|@LIBEXECDIR@|$CHAIN_RUN|" \
	    gateway/sshd_config.in >"$T/gw_sshd_config"
	# mspgate-keys reads the test's policy, mspgate-shell its socket.
	sed -i -e "s|^AuthorizedKeysCommand .*|AuthorizedKeysCommand $CHAIN_RUN/mspgate-keys -f $GW_POLICY %u|" \
	    -e "s|^ForceCommand .*|ForceCommand env MSPGATE_SOCKET=$GW_SOCK $CHAIN_RUN/mspgate-shell|" \
	    "$T/gw_sshd_config"
	# Tests open many connections at once (gw_stall starts 14): the
	# packaged MaxStartups 10:30:60 would drop some of them at random
	# before the key exchange. The product's value stays as shipped.
	sed -i -e "s|^MaxStartups .*|MaxStartups 100:30:200|" "$T/gw_sshd_config"
	echo "LogLevel DEBUG1" >>"$T/gw_sshd_config"
	"$CHAIN_RUN/$CHAIN_SVC" -t -f "$T/gw_sshd_config" 2>>"$T/gw_sshd.log" || return 1
	# pam_mspgate logs through syslog: into $T/syslog here.
	pre="$(abs "$MG_BUILD/lib/logshim.so")"
	# A sanitizer build of the module needs its runtime loaded first in
	# sshd (gcc's is a shared library the module names). Leak checks stay
	# off there: sshd's sandboxed children cannot run them.
	asan=$(ldd "$PAM_MOD" 2>/dev/null | sed -n 's/.*\(libasan[^ ]*\) => \([^ ]*\).*/\2/p')
	ubsan=$(ldd "$PAM_MOD" 2>/dev/null | sed -n 's/.*\(libubsan[^ ]*\) => \([^ ]*\).*/\2/p')
	[ -n "$ubsan" ] && pre="$ubsan $pre"
	[ -n "$asan" ] && pre="$asan $pre"
	LD_PRELOAD="$pre" MG_SYSLOG_FILE="$T/syslog" ASAN_OPTIONS=detect_leaks=0 \
	    "$CHAIN_RUN/$CHAIN_SVC" -D -e -f "$T/gw_sshd_config" 2>>"$T/gw_sshd.log" &
	GW_SSHD_PID=$!
	gw_track "$GW_SSHD_PID"
	wait_port "$GW_PORT"
}

# chain_client USER KEY: writes $T/ssh-USER, the stock ssh client set up
# for the gateway: "$T/ssh-USER [ssh options] -- [command]". The TOTP code
# it answers with is in $T/next-code (next_code USER writes it).
chain_client() {
	cat >"$T/ssh-$1" <<EOF
#!/bin/sh
o=""
while [ \$# -gt 0 ] && [ "\$1" != -- ]; do o="\$o \$1"; shift; done
[ "\${1:-}" = -- ] && shift
SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0 \\
exec ssh -F /dev/null -p $GW_PORT -i $2 -o IdentitiesOnly=yes \\
    -o SecurityKeyProvider=$SK_LIB -o StrictHostKeyChecking=no \\
    -o UserKnownHostsFile=$T/gw_known -o LogLevel=ERROR \\
    -o PreferredAuthentications=publickey,keyboard-interactive \\
    -o ConnectTimeout=10 \$o $1@127.0.0.1 "\$@"
EOF
	chmod 0755 "$T/ssh-$1"
}
