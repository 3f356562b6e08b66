#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# mspgate-policy accounts sync: creates, locks, unlocks and removes only its
# own accounts; mspgate-keys prints an engineer's keys with the right options.
. tests/lib/tap.sh
P=$BIN/mspgate-policy
K=$BIN/mspgate-keys
if [ "$(id -u)" -ne 0 ]; then
	echo "ok 1 # SKIP accounts sync needs root"; echo "1..1"; exit 0
fi
sfx=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
A=mga$sfx; B=mgb$sfx; C=mgc$sfx
cleanup_users() { for u in $A $B $C; do userdel -r "$u" >/dev/null 2>&1; groupdel "$u" >/dev/null 2>&1; done; }
trap 'cleanup_users; tap_cleanup' EXIT
mkdir -p "$T/home" "$T/state"
ska=$(python3 -c "
import base64,hashlib,struct
s=lambda b: struct.pack('>I',len(b))+b
t=b'sk-ssh-ed25519@openssh.com'
print(t.decode(), base64.b64encode(s(t)+s(hashlib.sha256(b'$A').digest())+s(b'ssh:')).decode())")
edb=$(python3 -c "
import base64,hashlib,struct
s=lambda b: struct.pack('>I',len(b))+b
t=b'ssh-ed25519'
print(t.decode(), base64.b64encode(s(t)+s(hashlib.sha256(b'$B').digest())).decode())")
policy() { # $1: B's valid_until ("" leaves B out); $2: extra engineer line
	bline=""
	[ -n "$1" ] && bline=", { name = \"$B\"; keys = [ \"$edb\" ]; valid_until = \"$1\"; }"
	cat >"$T/p.conf" <<EOP
gateway: { state = "$T/state"; };
engineers = (
  { name = "$A"; keys = ( { key = "$ska"; verify_required = true; } ); sources = [ "192.0.2.0/24" ]; }
  $bline
  $2
);
EOP
	chmod 644 "$T/p.conf"
}
SH=/usr/sbin/nologin
policy 2099-12-31 ""
"$P" accounts sync -f "$T/p.conf" --shell $SH --home-base "$T/home" >"$T/out" 2>&1
check "first sync exits 0" test $? -eq 0
check_grep "first sync creates A" "^create $A$" "$T/out"
check "A exists with the shell" test "$(getent passwd $A | cut -d: -f7)" = $SH
check "A's comment marks it ours" test "$(getent passwd $A | cut -d: -f5)" = "mspgate engineer"
check "A has no password" sh -c "getent shadow $A | cut -d: -f2 | grep -q '^[!*]'"
check_grep "state lists A" "^$A$" "$T/state/accounts"

"$P" accounts sync -f "$T/p.conf" --shell $SH --home-base "$T/home" >"$T/out" 2>&1
check "second sync exits 0" test $? -eq 0
check_grep "second sync changes nothing" "0 created, 0 unlocked, 0 locked, 0 removed, 2 unchanged" "$T/out"

# mspgate-keys
"$K" -f "$T/p.conf" $A >"$T/keys" 2>&1
check "mspgate-keys exits 0" test $? -eq 0
check_grep "A's key is restricted, needs the PIN and the source" \
	"^restrict,pty,verify-required,from=\"192.0.2.0/24\" sk-ssh-ed25519@openssh.com AAAA[^ ]* mspgate:$A$" "$T/keys"
check "ssh-keygen reads the output" sh -c "ssh-keygen -lf '$T/keys' | grep -q ED25519-SK"
"$K" -f "$T/p.conf" $B >"$T/keys" 2>&1
check_grep "B's key expires with B" "^restrict,pty,expiry-time=\"21000101000000Z\" ssh-ed25519 " "$T/keys"
"$K" -f "$T/p.conf" root >"$T/keys" 2>&1
check "unknown user: exit 0" test $? -eq 0
check "unknown user: no keys" test ! -s "$T/keys"
echo 'engineers = ( { name = "x" } );;;' >"$T/bad.conf"; chmod 644 "$T/bad.conf"
"$K" -f "$T/bad.conf" $A >"$T/keys" 2>/dev/null
check "broken policy: exit 1" test $? -eq 1
check "broken policy: no keys" test ! -s "$T/keys"

# B expires: locked; valid again: unlocked.
policy 2020-01-01 ""
"$K" -f "$T/p.conf" $B >"$T/keys" 2>&1
check "expired engineer gets no keys" test ! -s "$T/keys"
"$P" accounts sync -f "$T/p.conf" --shell $SH --home-base "$T/home" >"$T/out" 2>&1
check_grep "expired engineer is locked" "^lock $B" "$T/out"
check "locked account has an expiry date in the past" test "$(getent shadow $B | cut -d: -f8)" = 1
policy 2099-12-31 ""
"$P" accounts sync -f "$T/p.conf" --shell $SH --home-base "$T/home" >"$T/out" 2>&1
check_grep "valid again: unlocked" "^unlock $B" "$T/out"
check "unlocked account has no expiry" test -z "$(getent shadow $B | cut -d: -f8)"

# A foreign account with an engineer's name is left alone.
useradd -M -s /bin/sh -c "someone else" $C
policy 2099-12-31 ", { name = \"$C\"; }"
"$P" accounts sync -f "$T/p.conf" --shell $SH --home-base "$T/home" >"$T/out" 2>&1
check "conflict exits 1" test $? -eq 1
check_grep "conflict is reported" "account $C exists and was not created by mspgate: left alone" "$T/out"
check "foreign account untouched" test "$(getent passwd $C | cut -d: -f5,7)" = "someone else:/bin/sh"

# Dropped from the policy: removed (only ours).
policy "" ""
"$P" accounts sync -f "$T/p.conf" --shell $SH --home-base "$T/home" --dry-run >"$T/out" 2>&1
check_grep "dry run says it would remove B" "would run: /usr/sbin/userdel --remove $B" "$T/out"
check "dry run keeps B" sh -c "getent passwd $B >/dev/null"
"$P" accounts sync -f "$T/p.conf" --shell $SH --home-base "$T/home" >"$T/out" 2>&1
check_grep "removed from the policy: removed" "^remove $B$" "$T/out"
check "B is gone" sh -c "! getent passwd $B"
check "C (not ours) still there" sh -c "getent passwd $C >/dev/null"
check "state no longer lists B" sh -c "! grep -q '^$B$' '$T/state/accounts'"
tap_done
