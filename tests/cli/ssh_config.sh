#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# mspgate-policy ssh-config (issue 19): an engineer's Host blocks, as the
# stock ssh reads them (ssh -G); globs expanded, several logins, the
# login age bounding ControlPersist, and names unsafe in ssh_config refused.
. tests/lib/tap.sh
P=$BIN/mspgate-policy
EX=$T/mspgate.conf
cp config/examples/mspgate.conf "$EX" && chmod 0644 "$EX"
# alice also gets deploy and root on acme's web0? for 20 minutes' logins.
python3 - "$EX" <<'EOF'
import sys
p = sys.argv[1]
s = open(p).read()
i = s.index("grants = (") + len("grants = (")
s = s[:i] + '''
  { to = "alice"; tenants = [ "acme" ]; targets = [ "web0?" ];
    logins = [ "deploy", "root" ]; mfa = "fido+totp"; max_login_age = "20m"; },''' + s[i:]
open(p, "w").write(s)
EOF
"$P" check -f "$EX" >/dev/null
check "the policy with a second grant checks" test $? -eq 0

"$P" -f "$EX" ssh-config alice --gateway gw.example:2222 >"$T/alice.conf" 2>"$T/err"
check "ssh-config alice exits 0" test $? -eq 0
G() { ssh -G -F "$T/alice.conf" "$1" 2>/dev/null | grep -i "^$2 " | cut -d' ' -f2-; }
check "acme-web01: HostName is the gateway" test "$(G acme-web01 hostname)" = gw.example
check "...Port the gateway's" test "$(G acme-web01 port)" = 2222
check "...User the engineer" test "$(G acme-web01 user)" = alice
check "...SetEnv names the first login (several granted)" \
	test "$(G acme-web01 setenv)" = "MSPGATE_TARGET=deploy@acme/web01"
check "...ControlMaster auto" test "$(G acme-web01 controlmaster)" = auto
check "...ControlPersist bounded by the grant's max_login_age (20m)" \
	test "$(G acme-web01 controlpersist)" = 1200
check "...ControlPath under ~/.ssh, with %C" sh -c \
	"ssh -G -F '$T/alice.conf' acme-web01 | grep -q '^controlpath $HOME/.ssh/mg-[0-9a-f]\{40\}-[0-9a-f]\{8\}$'"
check "...the ticket goes along (SendEnv MSPGATE_TICKET)" test "$(G acme-web01 sendenv)" = MSPGATE_TICKET
check "acme-web01-root: one block per login" \
	test "$(G acme-web01-root setenv)" = "MSPGATE_TARGET=root@acme/web01"
check "acme-web01-deploy too" test "$(G acme-web01-deploy setenv)" = "MSPGATE_TARGET=deploy@acme/web01"
check "each block has its own ControlPath (a master carries its SetEnv)" \
	test "$(G acme-web01-root controlpath)" != "$(G acme-web01 controlpath)"
check "acme-jump (glob 'jump' of group l2): one login, no login named" \
	test "$(G acme-jump setenv)" = "MSPGATE_TARGET=acme/jump"
check "acme-jump: ControlPersist at most an hour (gateway.max_login_age is 8h)" \
	test "$(G acme-jump controlpersist)" = 3600
check "acme-db01 (max_login_age 1h): 1h" test "$(G acme-db01 controlpersist)" = 3600
check "no block for a target alice has no grant on (globex-db)" \
	sh -c "! grep -q '^Host globex-db$' '$T/alice.conf'"
check_grep "the windows, in the tenant's zone, as a comment" \
	"^#   when: uk-business: Mon-Fri 08:00-18:00 (Europe/London)" "$T/alice.conf"
check_grep "the grant's MFA, ticket and end" "^#   as postgres: mfa fido+totp, sessions up to 1h, ticket required (MSPGATE_TICKET), until 2027-01-31" "$T/alice.conf"
# bob (group l1): the globs web01 and app* over acme and globex.
"$P" -f "$EX" ssh-config bob --gateway gw.example >"$T/bob.conf"
check "bob: globex-app1 and globex-app2 from the glob app*" sh -c \
	"grep -q '^Host globex-app1$' '$T/bob.conf' && grep -q '^Host globex-app2$' '$T/bob.conf'"
check "bob: the port defaults to 2222" test "$(ssh -G -F "$T/bob.conf" globex-app1 | grep '^port ' | cut -d' ' -f2)" = 2222
check_grep "bob's UK-hours grant window on a New York tenant, both zones named" \
	"^#   when: us-business: .*America/New_York.*; and uk-business: .*Europe/London" "$T/bob.conf"
"$P" -f "$EX" ssh-config bob --gateway '[2001:db8::1]:22' >"$T/bob6.conf"
check "an IPv6 gateway with a port" test "$(ssh -G -F "$T/bob6.conf" globex-app1 | grep '^hostname ' | cut -d' ' -f2)" = 2001:db8::1

# Refusals: exit 1, one clear line, nothing on stdout.
"$P" -f "$EX" ssh-config mallory --gateway gw >"$T/out" 2>"$T/err"
check "unknown engineer exits 1" test $? -eq 1
check_grep "...saying so" "ssh-config: no engineer 'mallory' in the policy" "$T/err"
check "...and prints nothing" test ! -s "$T/out"
for bad in 'gw example' 'gw"x' "gw'x" 'gw%h' '-oProxyCommand=sh' 'gw:0' 'gw:99999' 'gw:22x' \
	"$(printf 'gw\nHost *')" '[::1' ''; do
	"$P" -f "$EX" ssh-config alice --gateway "$bad" >"$T/out" 2>"$T/err"
	rc=$?
	check "--gateway '$bad' refused" test $rc -eq 1 -a ! -s "$T/out"
done
check_grep "...saying what a gateway may be" "gateway must be HOST\[:PORT\]" "$T/err"
# Hostile names cannot reach ssh_config: the policy refuses them first.
for bad in 'web 01' 'web"01' 'web%h01' 'web*'; do
	sed "s/{ name = \"jump\";/{ name = \"$bad\";/" "$EX" >"$T/bad.conf"
	check_exit 1 "a target named '$bad' is refused by the policy" "$P" check -f "$T/bad.conf" 2>/dev/null
done
# Two targets whose Host names would be one: refused, naming both.
sed -e 's/{ name = "jump";/{ name = "web01-root";/' -e 's/"web\*", "jump"/"web*"/' "$EX" >"$T/dup.conf"
"$P" check -f "$T/dup.conf" >/dev/null
check "a policy with acme/web01-root checks" test $? -eq 0
"$P" -f "$T/dup.conf" ssh-config alice --gateway gw >"$T/out" 2>"$T/err"
check "...but acme-web01-root would name two blocks: refused" test $? -eq 1
check_grep "...naming both" "Host acme-web01-root would stand for both acme/web01 as root and acme/web01-root" "$T/err"
check "...and prints nothing" test ! -s "$T/out"
tap_done
