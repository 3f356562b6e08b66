#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The engineer's day (issue 19), with the stock tools on an engineer's own
# account ("the laptop"): the ssh_config mspgate-policy ssh-config writes,
# one FIDO+TOTP login as the ControlMaster, then ssh, scp, rsync, sftp -b
# and Ansible (ping, command, copy, fetch: byte-exact) over it.
. tests/lib/tap.sh
. tests/lib/gw.sh
gw_need_root
. tests/lib/chain.sh

gw_setup || { fail "gateway setup"; tap_done; exit 1; }
chain_setup || { fail "chain setup (PAM module, sk-soft)"; tap_done; exit 1; }
LAP="${GW_TAG}l"
# A short home: a ControlPath (~/.ssh/mg-%C-TAG, 58 bytes past the home,
# and ssh's 17 while it makes the socket) must fit a Unix socket's 108.
LH="$T/l"
gw_useradd -m -d "$LH" -s /bin/sh "$LAP" || { fail "the laptop account"; tap_done; exit 1; }
usermod -p '*' "$LAP"
GW_USERS="$GW_USERS $LAP"
ssh-keygen -q -t ed25519-sk -w "$SK_LIB" -N '' -C eng -f "$T/eng_sk" 2>>"$T/keygen.log"
skpub=$(cut -d' ' -f1-2 "$T/eng_sk.pub")
# Forty more tenants: the gateway's answer to ssh-config takes several packets.
GW_TENANTS_EXTRA=$(seq -f 'x%02g' 1 40 | tr '\n' ' ')
GW_GRANTS_EXTRA=", { to = \"$GW_ENG\"; tenants = [ $(seq -f '"x%02g"' 1 40 | paste -sd,) ];
    targets = [ \"*\" ]; logins = [ \"$GW_TUSER\" ]; mfa = \"totp\"; }"
gw_write_policy "mfa: { totp: { store = \"$T/totp\"; skew_steps = 1; }; };"
sed -i "s|{ name = \"$GW_ENG\"; keys = \[ \"[^\"]*\" \]; }|{ name = \"$GW_ENG\"; keys = [ \"$skpub\" ]; }|" "$GW_POLICY"
sed -i "s|^gateway: {|gateway: {\n  user = \"$GW_DAEMON\";|" "$GW_POLICY"
touch "$GW_AUDIT" && chown "$GW_DAEMON" "$GW_AUDIT" && chmod 0640 "$GW_AUDIT"
"$BIN/mspgate-policy" check -f "$GW_POLICY" >/dev/null
check "policy is valid" test $? -eq 0
start_mspgated || fail "mspgated started"
chain_enroll "$GW_ENG" || fail "TOTP enrolled"
chain_start_gateway || fail "gateway sshd listens"

# The gateway gives an engineer their own blocks: "ssh gw ssh-config" (here
# mspgate-shell as sshd runs it, on an attested login from 127.0.0.1:2222).
"$BIN/mspgate-policy" -f "$GW_POLICY" ssh-config "$GW_ENG" --gateway 127.0.0.1:2222 >"$T/pol.conf"
gw_shell SSH_ORIGINAL_COMMAND=ssh-config </dev/null >"$T/gw.conf" 2>"$T/gw.err"
check "ssh gw ssh-config: exit 0" test $? -eq 0
check "...what mspgate-policy ssh-config prints, the gateway from what was connected to" \
	cmp -s "$T/pol.conf" "$T/gw.conf"
check "...all of it (over 12 kB: a packet carries 8000 bytes)" test "$(wc -c <"$T/gw.conf")" -gt 12000 -a "$(grep -c '^Host ' "$T/gw.conf")" -eq 47
check_grep_soon "...audited" "\"event\":\"ssh_config\",\"engineer\":\"$GW_ENG\".*\"result\":\"success\",\"reason\":\"ssh_config for gateway 127.0.0.1 port 2222\"" "$GW_AUDIT"
gw_shell MSPGATE_TARGET=ssh-config SSH_ORIGINAL_COMMAND='--gateway gw.example:2200' </dev/null >"$T/gw2.conf" 2>&1
check "MSPGATE_TARGET=ssh-config with --gateway HOST:PORT" test $? -eq 0
check "...that gateway in every block" test "$(ssh -G -F "$T/gw2.conf" t1-box | grep -E '^(hostname|port) ' | tr '\n' ' ')" = "hostname gw.example port 2200 "
gw_shell SSH_ORIGINAL_COMMAND="ssh-config --gateway 'gw%h'" </dev/null >"$T/gw3.conf" 2>"$T/gw3.err"
check "a gateway unsafe in ssh_config: refused (exit 255)" test $? -eq 255 -a ! -s "$T/gw3.conf"
check_grep "...saying what a gateway may be" "gateway must be HOST\[:PORT\]" "$T/gw3.err"
# Only to a login pam_mspgate attested: mspgate-shell run by hand gets nothing.
runuser -u "$GW_ENG" -- env -i PATH=/usr/bin:/bin MSPGATE_SOCKET="$GW_SOCK" MSPGATE_TARGET=ssh-config \
	"$GW_SHELLBIN" </dev/null >"$T/gw5.conf" 2>"$T/gw5.err"
check "no attested login: refused (exit 255), nothing printed" test $? -eq 255 -a ! -s "$T/gw5.conf"
check_grep "...saying so" "mspgate: not permitted: no verified login" "$T/gw5.err"
check_grep_soon "...audited as denied" "\"event\":\"denied\",\"engineer\":\"$GW_ENG\".*ssh-config: no attested login" "$GW_AUDIT"
gw_shell SSH_ORIGINAL_COMMAND='ssh-config --all' </dev/null >/dev/null 2>"$T/gw4.err"
check "other arguments: refused" test $? -eq 255
check_grep "...with the usage" "usage: ssh-config \[--gateway HOST\[:PORT\]\]" "$T/gw4.err"
check_grep_soon "...audited as denied" "\"event\":\"denied\",\"engineer\":\"$GW_ENG\".*ssh-config: bad arguments" "$GW_AUDIT"

# The laptop: the key, and a config with only the gateway in it.
mkdir -p "$LH/.ssh"
cp "$T/eng_sk" "$T/eng_sk.pub" "$LH/.ssh/"
cat >"$LH/.ssh/config" <<EOF
Include ~/.ssh/mspgate.conf

Host gw
    HostName 127.0.0.1
    Port $GW_PORT
    User $GW_ENG

Host *
    IdentityFile ~/.ssh/eng_sk
    IdentitiesOnly yes
    SecurityKeyProvider $SK_LIB
    StrictHostKeyChecking no
    LogLevel ERROR
EOF
chown -R "$LAP" "$LH/.ssh"
chmod 0700 "$LH/.ssh"
chmod 0600 "$LH/.ssh/eng_sk" "$LH/.ssh/config"
# As the laptop's user, with the TOTP code from $T/next-code (askpass).
lap() {
	(cd "$LH" && runuser -u "$LAP" -- env HOME="$LH" PATH=/usr/bin:/bin SSH_ASKPASS="$T/askpass" \
		SSH_ASKPASS_REQUIRE=force DISPLAY=:0 "$@")
}
# The first login: the engineer's blocks from the gateway itself.
next_code "$GW_ENG"
lap sh -c 'ssh gw ssh-config >"$HOME/.ssh/mspgate.conf"' 2>"$T/sc.err"
check "ssh gw ssh-config through the gateway sshd (FIDO+TOTP)" test $? -eq 0
"$BIN/mspgate-policy" -f "$GW_POLICY" ssh-config "$GW_ENG" --gateway "127.0.0.1:$GW_PORT" >"$T/pol2.conf"
check "...the blocks mspgate-policy ssh-config gives, for the address and port used" \
	cmp -s "$T/pol2.conf" "$LH/.ssh/mspgate.conf"
# Each login needs a TOTP step of its own.
sleep_to_next_step
lap_cleanup() { lap ssh -O exit t1-box >/dev/null 2>&1; lap ssh -O exit t4-box >/dev/null 2>&1; rm -rf "/tmp/.ansible-$GW_TAG"; chain_cleanup; }
trap lap_cleanup EXIT

# sftp -b implies BatchMode: no keyboard-interactive, so no code prompt.
printf 'put %s/up.bin\nls -l\n' "$LH" >"$LH/batch"
head -c 100000 /dev/urandom >"$LH/up.bin"
chown "$LAP" "$LH/batch" "$LH/up.bin"
lap sftp -o ControlPath=none -b "$LH/batch" t1-box >"$T/sftp0.out" 2>&1
check "plain sftp -b: refused (BatchMode turns off the code prompt)" test $? -ne 0
check_grep "...at authentication" "Permission denied" "$T/sftp0.out"
# With BatchMode=no it asks (askpass here) and becomes the ControlMaster.
next_code "$GW_ENG"
lap sftp -o BatchMode=no -b "$LH/batch" t1-box >"$T/sftp1.out" 2>&1
check "sftp -o BatchMode=no -b: the batch runs through the gateway" test $? -eq 0
check "...the file arrived whole" test "$(sha256sum <"$T/home/$GW_TUSER/up.bin")" = "$(sha256sum <"$LH/up.bin")"
check_grep "...one login: FIDO then TOTP" "Accepted keyboard-interactive/pam for $GW_ENG" "$T/gw_sshd.log"
check "the block's ControlMaster is up" lap ssh -O check t1-box
check "...at the block's ControlPath under ~/.ssh" sh -c "ls '$LH/.ssh/' | grep -q '^mg-[0-9a-f]\{40\}-[0-9a-f]\{8\}$'"

# Everything else over that one login: no prompt (the askpass answers nothing now).
echo 000000 >"$T/next-code"
n0=$(grep -c "Accepted keyboard-interactive/pam for $GW_ENG" "$T/gw_sshd.log")
out=$(lap ssh t1-box 'echo day-$((6*7)); id -un' 2>"$T/e1")
check "ssh t1-box: a session on the target" test "$out" = "day-42
$GW_TUSER"
lap scp -q "$LH/up.bin" t1-box:scp.bin 2>"$T/scp.err"
check "scp f t1-box: works" test "$(sha256sum <"$T/home/$GW_TUSER/scp.bin")" = "$(sha256sum <"$LH/up.bin")"
mkdir -p "$LH/tree/sub" && head -c 5000 /dev/urandom >"$LH/tree/sub/r.bin" && echo hi >"$LH/tree/a.txt"
chown -R "$LAP" "$LH/tree"
lap rsync -a -e ssh "$LH/tree/" t1-box:tree/ 2>"$T/rsync.err"
check "rsync -e ssh DIR t1-box:: works" cmp -s "$LH/tree/sub/r.bin" "$T/home/$GW_TUSER/tree/sub/r.bin"
check "...no new login for any of them" \
	test "$(grep -c "Accepted keyboard-interactive/pam for $GW_ENG" "$T/gw_sshd.log")" -eq "$n0"
check_grep_soon "...each one a session of its own in the audit log" \
	'"event":"session_start".*"tenant":"t1","target":"box"' "$GW_AUDIT"

# Ansible over the same connection (the README's recipe).
cat >"$LH/inventory.yml" <<EOF
all:
  hosts:
    t1-box:
  vars:
    ansible_ssh_args: "-o KbdInteractiveAuthentication=yes -o PreferredAuthentications=publickey,keyboard-interactive"
    ansible_remote_tmp: /tmp/.ansible-$GW_TAG
    ansible_python_interpreter: /usr/bin/python3
EOF
head -c 300000 /dev/urandom >"$LH/payload.bin"
chown "$LAP" "$LH/inventory.yml" "$LH/payload.bin"
A() { lap env ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_NOCOLOR=1 ANSIBLE_LOCAL_TEMP="$LH/.ansible/tmp" \
	ansible -i "$LH/inventory.yml" t1-box "$@"; }
A -m ping >"$T/a1" 2>&1
check "ansible -m ping through the gateway" test $? -eq 0
check_grep "...pong" '"ping": "pong"' "$T/a1"
A -m command -a 'uname -n' >"$T/a2" 2>&1
check "ansible -m command" test $? -eq 0
check_grep "...its output" "$(uname -n)" "$T/a2"
A -m copy -a "src=$LH/payload.bin dest=/tmp/$GW_TAG.payload mode=0600" >"$T/a3" 2>&1
check "ansible -m copy" test $? -eq 0
check "...byte-exact on the target" test "$(sha256sum <"/tmp/$GW_TAG.payload")" = "$(sha256sum <"$LH/payload.bin")"
A -m fetch -a "src=/tmp/$GW_TAG.payload dest=$LH/fetched/ flat=yes" >"$T/a4" 2>&1
check "ansible -m fetch" test $? -eq 0
check "...byte-exact back on the laptop" test "$(sha256sum <"$LH/fetched/$GW_TAG.payload")" = "$(sha256sum <"$LH/payload.bin")"
rm -f "/tmp/$GW_TAG.payload"
check "...and no login of its own: one MFA served the run" \
	test "$(grep -c "Accepted keyboard-interactive/pam for $GW_ENG" "$T/gw_sshd.log")" -eq "$n0"
# Another block, with t1-box's connection up: a login and connection of its
# own, and its own target (a shared one would carry t1-box's SetEnv).
sleep_to_next_step
next_code "$GW_ENG"
out=$(lap ssh t4-box 'echo on-t4' 2>"$T/e4")
check "ssh t4-box while t1-box's ControlMaster is up: its session" test "$out" = on-t4
check "...after a login of its own" \
	test "$(grep -c "Accepted keyboard-interactive/pam for $GW_ENG" "$T/gw_sshd.log")" -eq $((n0 + 1))
check_grep_soon "...on t4/box" '"event":"session_start".*"tenant":"t4","target":"box"' "$GW_AUDIT"
check "...and t1-box's connection still there" lap ssh -O check t1-box
lap ssh -O exit t4-box >/dev/null 2>&1
# Without the master, Ansible cannot answer the MFA prompt: it fails, and says so.
lap ssh -O exit t1-box >/dev/null 2>&1
tap_wait 10 sh -c "! ls '$LH/.ssh/' | grep -q '^mg-'"
A -m ping >"$T/a5" 2>&1
check "ansible with no ControlMaster up: fails (no MFA prompt answered)" test $? -ne 0
check_grep "...unreachable" "UNREACHABLE" "$T/a5"
check "every recording verifies" gw_verify_recordings
check "no sanitizer or valgrind reports" gw_no_reports
tap_done
