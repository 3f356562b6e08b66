#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The software FIDO key (tests/lib/sk-soft) driven by the real ssh-keygen, ssh and a throwaway sshd.
. tests/lib/tap.sh

case $MG_BUILD in
/*) SK=$MG_BUILD/lib/sk-soft.so ;;
*) SK=$(pwd)/$MG_BUILD/lib/sk-soft.so ;;
esac
SSHD=/usr/sbin/sshd
ME=$(id -un)
SLOG=$T/sshd.log
# A PIN prompt (verify-required keys) must never wait on a terminal.
printf '#!/bin/sh\necho 0000\n' >"$T/askpass" && chmod 0755 "$T/askpass"
export SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force
unset SK_SOFT_NO_UP SK_SOFT_UV SK_SOFT_FAIL SK_SOFT_DEBUG SSH_AUTH_SOCK

# sshd as root chroots each connection's unprivileged half in /run/sshd,
# which the system service makes at boot; a container may not have it.
MADE_PRIVSEP=""
sk_cleanup() {
	tap_cleanup
	[ -z "$MADE_PRIVSEP" ] || rmdir /run/sshd 2>/dev/null
}
trap sk_cleanup EXIT
if [ "$(id -u)" -eq 0 ] && [ ! -d /run/sshd ]; then
	mkdir -m 0755 /run/sshd && MADE_PRIVSEP=1
fi

if [ ! -f "$SK" ] || [ ! -x "$SSHD" ]; then
	fail "needs $SK (make check builds it) and $SSHD"
	tap_done
	exit 1
fi

nm -D --defined-only "$SK" | awk '{ print $3 }' | sort >"$T/syms"
printf 'sk_api_version\nsk_enroll\nsk_load_resident_keys\nsk_sign\n' >"$T/want"
check "sk-soft.so exports the four sk_* entry points and nothing else" \
	cmp -s "$T/syms" "$T/want"

# Enrolment: one ssh-keygen process makes the key, later ones sign with it.
for t in ed25519-sk ecdsa-sk; do
	ssh-keygen -q -t "$t" -w "$SK" -f "$T/id_$t" -N '' -C "sk-soft $t" \
	    </dev/null >"$T/keygen.log" 2>&1
	check "ssh-keygen -t $t -w sk-soft.so makes a key" test $? -eq 0
done
check_grep "ed25519-sk public key" "^sk-ssh-ed25519@openssh.com AAAA" "$T/id_ed25519-sk.pub"
check_grep "ecdsa-sk public key" "^sk-ecdsa-sha2-nistp256@openssh.com AAAA" "$T/id_ecdsa-sk.pub"
ssh-keygen -q -t ed25519-sk -w "$SK" -O resident -f "$T/id_rk" -N '' \
    </dev/null >"$T/keygen.log" 2>&1
check "a resident key is refused (the key keeps no state)" test $? -ne 0

# ssh-keygen -Y: a signature verifies, changed data does not, and the
# flags byte says what the environment asked for (ssh-keygen 9.2 reports
# it but does not insist on the touch; sshd does, below).
echo "payload for sk-soft" >"$T/msg"
{ cat "$T/msg"; echo "changed"; } >"$T/msg.changed"
# ysign KEY [VAR=VALUE...] then yverify FILE: the log is in $T/verify.log.
ysign() {
	key=$1
	shift
	rm -f "$T/msg.sig"
	env "$@" ssh-keygen -Y sign -f "$key" -w "$SK" -n file "$T/msg" \
	    </dev/null >"$T/sig.log" 2>&1 && test -s "$T/msg.sig"
}
fails() { if "$@"; then return 1; fi; return 0; }
yverify() {
	ssh-keygen -vv -Y verify -f "$T/signers" -I tester@sk-soft -n file \
	    -s "$T/msg.sig" <"$1" >"$T/verify.log" 2>&1
}
for t in ed25519-sk ecdsa-sk; do
	printf 'tester@sk-soft %s\n' "$(cut -d' ' -f1,2 "$T/id_$t.pub")" >"$T/signers"
	check "$t: ssh-keygen -Y sign" ysign "$T/id_$t"
	check "$t: ssh-keygen -Y verify accepts it" yverify "$T/msg"
	check_grep "$t: the signature claims a touch (flags 0x01)" "flags = 0x01" "$T/verify.log"
	check "$t: ssh-keygen -Y verify refuses changed data" fails yverify "$T/msg.changed"
	ysign "$T/id_$t" SK_SOFT_NO_UP=1
	check "$t: SK_SOFT_NO_UP=1 still makes a valid signature" yverify "$T/msg"
	check_grep "$t: ...that claims no touch (flags 0x00)" "flags = 0x00" "$T/verify.log"
	ysign "$T/id_$t" SK_SOFT_UV=1
	check "$t: SK_SOFT_UV=1 makes a valid signature" yverify "$T/msg"
	check_grep "$t: ...that claims touch and verification (flags 0x05)" \
	    "flags = 0x05" "$T/verify.log"
	check "$t: SK_SOFT_FAIL=1 makes no signature" fails ysign "$T/id_$t" SK_SOFT_FAIL=1
done

# A throwaway sshd on loopback, for this user, reading keys from $T.
ssh-keygen -q -t ed25519 -f "$T/host_key" -N '' </dev/null
cat >"$T/sshd_config" <<EOF
ListenAddress 127.0.0.1
HostKey $T/host_key
PidFile $T/sshd.pid
UsePAM no
StrictModes no
AuthorizedKeysFile $T/authorized_keys
PermitRootLogin prohibit-password
AuthenticationMethods publickey
PubkeyAcceptedAlgorithms sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com
PasswordAuthentication no
KbdInteractiveAuthentication no
LogLevel VERBOSE
EOF
: >"$T/authorized_keys"

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Another program may take the port between free_port and the bind: retry.
start_sshd() {
	tries=0
	while [ "$tries" -lt 5 ]; do
		tries=$((tries + 1))
		PORT=$(free_port) || continue
		"$SSHD" -D -e -f "$T/sshd_config" -p "$PORT" </dev/null >>"$SLOG" 2>&1 &
		SSHD_PID=$!
		tap_track_pid "$SSHD_PID"
		i=0
		while [ "$i" -lt 600 ]; do
			grep -q "Server listening on 127.0.0.1 port $PORT\." "$SLOG" && return 0
			kill -0 "$SSHD_PID" 2>/dev/null || break
			sleep 0.1
			i=$((i + 1))
		done
		kill "$SSHD_PID" 2>/dev/null
	done
	return 1
}
start_sshd
check "throwaway sshd listens on 127.0.0.1" test $? -eq 0

# sk_ssh KEY [VAR=VALUE...]: ssh in with KEY through sk-soft and run true.
sk_ssh() {
	key=$1
	shift
	env "$@" ssh -F /dev/null -n -p "$PORT" -i "$key" \
	    -o SecurityKeyProvider="$SK" -o IdentitiesOnly=yes -o IdentityAgent=none \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile="$T/known_hosts" \
	    -o BatchMode=yes -o ConnectTimeout=10 -o LogLevel=ERROR \
	    "$ME@127.0.0.1" true >>"$T/ssh.log" 2>&1
}
# authorize [OPTIONS] KEY: the one key sshd accepts from now on.
authorize() {
	if [ $# -eq 2 ]; then o="$1 "; shift; else o=""; fi
	printf '%s%s\n' "$o" "$(cut -d' ' -f1,2 "$1.pub")" >"$T/authorized_keys"
}
# Only the sshd log lines written since the last call, for check_grep.
LOGMARK=0
log_new() {
	tail -n "+$((LOGMARK + 1))" "$SLOG" >"$T/new.log"
	LOGMARK=$(wc -l <"$SLOG")
}

for t in ed25519-sk ecdsa-sk; do
	K=$T/id_$t
	T_UP=$(echo "$t" | cut -d- -f1 | tr '[:lower:]' '[:upper:]')-SK

	authorize "$K"
	log_new
	check_exit 0 "$t: ssh logs in with a touch" sk_ssh "$K"
	log_new
	check_grep "$t: sshd accepted the $T_UP key" "Accepted publickey for $ME .* $T_UP " "$T/new.log"

	check_exit 255 "$t: ssh is refused without a touch" sk_ssh "$K" SK_SOFT_NO_UP=1
	log_new
	check_grep "$t: sshd names the missing touch" \
	    "user presence (authenticator touch) requirement not met" "$T/new.log"

	check_exit 255 "$t: ssh is refused when the key fails" sk_ssh "$K" SK_SOFT_FAIL=1
	log_new
	check "$t: no login when the key fails" \
	    test -z "$(grep "Accepted publickey" "$T/new.log")"

	authorize no-touch-required "$K"
	check_exit 0 "$t: no-touch-required logs in without a touch" sk_ssh "$K" SK_SOFT_NO_UP=1
	log_new

	authorize verify-required "$K"
	check_exit 255 "$t: verify-required refuses a touch alone" sk_ssh "$K"
	log_new
	check_grep "$t: sshd names the missing verification" \
	    "user verification requirement not met" "$T/new.log"
	check_exit 0 "$t: verify-required logs in with user verification" \
	    sk_ssh "$K" SK_SOFT_UV=1
	log_new
	check_exit 255 "$t: verify-required still needs the touch" \
	    sk_ssh "$K" SK_SOFT_UV=1 SK_SOFT_NO_UP=1
	log_new
done

# The other type's key is not authorized: a login needs the right key.
authorize "$T/id_ed25519-sk"
check_exit 255 "an unauthorized sk key is refused" sk_ssh "$T/id_ecdsa-sk"

tap_done
