#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Gateway operations: sftp, scp (both modes), rsync, audited per file; mspgatectl list/kill;
# window close and max_session warnings; reload (withdrawn grant, broken policy).
. tests/lib/tap.sh
. tests/lib/gw.sh
gw_need_root

gw_setup || { fail "gateway test setup"; tap_done; exit 1; }
# t3: granted only inside a window that closes 15 s from now (UTC, to the second).
close_at=$(date -u -d '+15 seconds' '+%Y-%m-%d %H:%M:%S')
open_at=$(date -u -d '-1 hour' '+%Y-%m-%d %H:%M:%S')
GW_WINDOWS_EXTRA="  soon: { tz = \"UTC\"; dates = [ \"$open_at .. $close_at\" ]; };"
GW_GRANTS_EXTRA=", { to = \"$GW_ENG\"; tenants = [ \"t3\" ]; targets = [ \"*\" ];
    logins = [ \"$GW_TUSER\" ]; mfa = \"totp\"; windows = [ \"soon\" ]; }"
GW_GATEWAY_EXTRA='  reload_grace = "2s"; max_sessions = 3;'
gw_write_policy
# The control socket's group: an admin group of this test's own.
GW_ADMIN="${GW_TAG}a"
groupadd "$GW_ADMIN" || { fail "admin group"; tap_done; exit 1; }
gw_cleanup_group() { groupdel "$GW_ADMIN" 2>/dev/null; }
trap 'gw_cleanup; gw_cleanup_group' EXIT
GW_DAEMON_OPTS="-g $GW_ADMIN"
start_mspgated || { fail "mspgated starts"; tap_done; exit 1; }

# The window session starts now and runs until its window closes, while
# the transfers below go on.
gw_pty 'expect:\$ ' 'send:sleep 60\n' 'expect:closes in' 'expect:access window closed' -- \
	"$T/as-engineer" MSPGATE_TARGET=t3/box >"$T/owin" 2>&1 &
win=$!
gw_wait_sessions 1
check_exit 0 "list: a live session" test $? -eq 0
gw_ctl list >"$T/list0" 2>&1
check_grep "list: the window session shows its window close" \
	"t3/box.* $(date -u -d "$close_at" '+%Y-%m-%d %H:%M')Z" "$T/list0"

# ---- file transfer -------------------------------------------------------
home="$T/home/$GW_TUSER"
head -c 300000 /dev/urandom >"$T/big.bin"
printf 'small\n' >"$T/small.txt"
chmod 0644 "$T/big.bin" "$T/small.txt"
printf 'put %s big.bin\nget big.bin %s\nput %s s.txt\nrm s.txt\n' "$T/big.bin" \
	"$T/big.back" "$T/small.txt" >"$T/batch"
sftp -q -S "$T/ssh-via-gw" -b "$T/batch" gw >"$T/o1" 2>&1
check_exit 0 "sftp: put, get, rm through the gateway" test $? -eq 0
check "sftp: uploaded byte for byte" cmp -s "$T/big.bin" "$home/big.bin"
check "sftp: downloaded byte for byte" cmp -s "$T/big.bin" "$T/big.back"
check_grep_soon "sftp: the upload is audited with its path and size" \
	'"file_transfer".*"result":"success","reason":"put [^"]*big.bin","bytes_in":300000' "$GW_AUDIT"
check_grep_soon "sftp: the download is audited with its path and size" \
	'"file_transfer".*"reason":"get [^"]*big.bin","bytes_in":0,"bytes_out":300000' "$GW_AUDIT"
check_grep_soon "sftp: the remove is audited" '"file_transfer".*"reason":"remove [^"]*s.txt"' "$GW_AUDIT"
# (the window session's recording, still written to, may be the newest)
check "sftp: the transfer is marked in the recording" \
	grep -q 'file put .*big.bin (300000 bytes)' "$GW_REC"/*.cast

rm -f "$home/big.bin"
scp -q -S "$T/ssh-via-gw" "$T/big.bin" gw:up-sftp.bin >"$T/o2" 2>&1
check_exit 0 "scp (SFTP mode): upload" test $? -eq 0
check "scp (SFTP mode): byte for byte" cmp -s "$T/big.bin" "$home/up-sftp.bin"
check_grep_soon "scp (SFTP mode): audited" '"reason":"put [^"]*up-sftp.bin","bytes_in":300000' "$GW_AUDIT"

scp -q -O -S "$T/ssh-via-gw" "$T/big.bin" gw:up-legacy.bin >"$T/o3" 2>&1
check_exit 0 "scp -O (legacy): upload" test $? -eq 0
check "scp -O: byte for byte" cmp -s "$T/big.bin" "$home/up-legacy.bin"
check_grep_soon "scp -O: upload audited with path and size" \
	'"file_transfer".*"result":"success","reason":"put up-legacy.bin (big.bin)","bytes_in":300000' "$GW_AUDIT"
scp -q -O -S "$T/ssh-via-gw" gw:up-legacy.bin "$T/down-legacy.bin" >"$T/o4" 2>&1
check_exit 0 "scp -O (legacy): download" test $? -eq 0
check "scp -O: download byte for byte" cmp -s "$T/big.bin" "$T/down-legacy.bin"
check_grep_soon "scp -O: download audited" \
	'"reason":"get up-legacy.bin","bytes_in":0,"bytes_out":300000' "$GW_AUDIT"
mkdir -p "$T/tree/sub"
cp "$T/small.txt" "$T/tree/sub/leaf.txt"
chmod -R a+rX "$T/tree"
scp -q -O -r -S "$T/ssh-via-gw" "$T/tree" gw:tree-copy >"$T/o5" 2>&1
check_exit 0 "scp -O -r: a directory tree" test $? -eq 0
check "scp -O -r: the file arrived" cmp -s "$T/small.txt" "$home/tree-copy/sub/leaf.txt"
check_grep_soon "scp -O -r: the file in the tree is audited" '"reason":"put tree-copy/tree/sub/leaf.txt"' \
	"$GW_AUDIT"

if command -v rsync >/dev/null; then
	rsync -a -e "$T/ssh-via-gw" "$T/big.bin" gw:rsynced.bin >"$T/o6" 2>&1
	check_exit 0 "rsync -e ssh: upload" test $? -eq 0
	check "rsync: byte for byte" cmp -s "$T/big.bin" "$home/rsynced.bin"
	check "rsync: recorded as an exec" grep -q '"command": "rsync --server' "$GW_REC"/*.cast
else
	ok "rsync # SKIP rsync is not installed"
fi

# ---- window close: the session started first ------------------------------
wait "$win"
check_exit 0 "window close: the session ends (255)" test $? -eq 255
check_grep "window close: warned on the terminal" 'mspgate: the access window closes in [0-9]* second' "$T/owin"
check_grep "window close: says why it ended" 'session ended: the access window closed' "$T/owin"
check_grep_soon "window close: the warning is audited" '"window_warning".*"tenant":"t3"' "$GW_AUDIT"
check_grep_soon "window close: the end is audited" '"session_end".*"tenant":"t3".*access window closed' "$GW_AUDIT"
wrec=$(grep -l '"tenant": "t3"' "$GW_REC"/*.cast | head -1)
check_grep "window close: the warning is a marker in the recording" '"m", "the access window closes in' "$wrec"

# ---- live sessions: list and kill -----------------------------------------
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='sleep 100' </dev/null >/dev/null 2>"$T/k1" &
k1=$!
gw_shell MSPGATE_TARGET=t5/box MSPGATE_TICKET=CHG-1 SSH_ORIGINAL_COMMAND='sleep 101' \
	</dev/null >/dev/null 2>"$T/k2" &
k2=$!
gw_wait_sessions 2
check_exit 0 "list: two live sessions" test $? -eq 0
# max_sessions = 3: with a third running, a fourth is refused and says why.
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='sleep 6' </dev/null >/dev/null 2>&1 &
k3rd=$!
gw_wait_sessions 3
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo fourth' </dev/null >"$T/fullo" 2>"$T/full"
check_exit 0 "max_sessions: a fourth session is refused (255)" test $? -eq 255
check_grep "max_sessions: the engineer is told the gateway is full" \
	'^mspgate: the gateway is at its limit of 3 sessions; try again later$' "$T/full"
check_exit 0 "max_sessions: the refused session ran nothing" test ! -s "$T/fullo"
check_grep_soon "max_sessions: the refusal is audited" \
	"\"denied\".*\"engineer\":\"$GW_ENG\".*gateway full.*\"rule\":\"gateway.max_sessions\"" "$GW_AUDIT"
wait "$k3rd"
gw_wait_sessions 2
gw_ctl list >"$T/list" 2>&1
check_grep "list: a header" '^ID  *ENGINEER  *TENANT/TARGET  *LOGIN  *STARTED  *IDLE  *BYTES' "$T/list"
check_grep "list: the t1 session with engineer and login" "$GW_ENG  *t1/box  *$GW_TUSER" "$T/list"
runuser -u "$GW_ENG" -- "$BIN/mspgatectl" -s "$GW_CTL" list >/dev/null 2>"$T/lerr"
check_exit 0 "list: an engineer (not in the admin group) is refused: exit 3" test $? -eq 3
check_grep "list: says permission denied" 'permission denied' "$T/lerr"
usermod -a -G "$GW_ADMIN" "$GW_TUSER"
runuser -u "$GW_TUSER" -- "$BIN/mspgatectl" -s "$GW_CTL" list >"$T/l2" 2>&1
check_exit 0 "list: a member of the admin group may" test $? -eq 0
gpasswd -d "$GW_TUSER" "$GW_ADMIN" >/dev/null

id1=$(grep 't1/box' "$T/list" | awk '{print $1}')
gw_ctl kill "$id1" >"$T/kout" 2>&1
check_exit 0 "kill ID: exit 0" test $? -eq 0
wait "$k1"
check_exit 0 "kill ID: the engineer's session ends (255)" test $? -eq 255
check_grep "kill ID: the engineer is told" '^mspgate: session ended by an operator$' "$T/k1"
check_grep_soon "kill ID: audited with who asked" "\"operator_kill\".*\"session\":\"$id1\".*ended by operator root (uid 0)" "$GW_AUDIT"
check_grep_soon "kill ID: the session end is audited" "\"session_end\".*\"session\":\"$id1\".*session ended by an operator" "$GW_AUDIT"
# Gone from the table once its process has sealed and exited.
n=0
while gw_ctl list | grep -q "^$id1 " && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
gw_ctl kill "$id1" >/dev/null 2>"$T/kerr"
check_exit 0 "kill of a session that is gone: exit 1" test $? -eq 1
check_grep "kill of a session that is gone: says so" 'no such session' "$T/kerr"
gw_ctl kill --tenant t5 >/dev/null 2>&1
check_exit 0 "kill --tenant: exit 0" test $? -eq 0
wait "$k2"
check_exit 0 "kill --tenant: that tenant's session ends" test $? -eq 255
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='sleep 102' </dev/null >/dev/null 2>"$T/k3" &
k3=$!
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='sleep 105' </dev/null >/dev/null 2>"$T/k4" &
k4=$!
gw_wait_sessions 2
gw_ctl kill --engineer "$GW_ENG" >"$T/kout3" 2>&1
check_exit 0 "kill --engineer: exit 0" test $? -eq 0
check "kill --engineer: both of the engineer's sessions named" test "$(wc -l <"$T/kout3")" -eq 2
wait "$k3"
check_exit 0 "kill --engineer: a session ends" test $? -eq 255
wait "$k4"
check_exit 0 "kill --engineer: and the other" test $? -eq 255
n=0
while pgrep -u "$GW_TUSER" -x sleep >/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
check "kill: no remote command is left" sh -c "! pgrep -u '$GW_TUSER' -x sleep >/dev/null"
gw_ctl kill >/dev/null 2>&1
check_exit 0 "kill with no argument: usage, exit 2" test $? -eq 2

# ---- max_session on a pty: warned, then ended ----------------------------
gw_pty 'expect:\$ ' 'send:sleep 60\n' -- "$T/as-engineer" MSPGATE_TARGET=t4/box >"$T/omax" 2>&1
check_exit 0 "max_session: the session ends (255)" test $? -eq 255
check_grep "max_session: warned on the terminal" 'mspgate: the maximum session time runs out in [0-9] second' "$T/omax"
check_grep "max_session: says why it ended" 'the maximum session time was reached' "$T/omax"

# ---- reload ------------------------------------------------------------
gw_shell MSPGATE_TARGET=t5/box MSPGATE_TICKET=CHG-2 SSH_ORIGINAL_COMMAND='sleep 103' \
	</dev/null >/dev/null 2>"$T/r1" &
r1=$!
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='sleep 3; echo still-here' \
	</dev/null >"$T/r2o" 2>"$T/r2" &
r2=$!
gw_wait_sessions 2
cp "$GW_POLICY" "$T/policy.good"
printf 'grants = ( { oops' >>"$GW_POLICY"
check "broken policy: the reload's result is audited" gw_reload
check_grep_soon "broken policy: refused, with the reason, in the audit log" \
	'"policy_reload".*"result":"failure","reason":"refused, the old policy is kept: .*policy.conf:' "$GW_AUDIT"
check "broken policy: the sessions go on" gw_wait_sessions 2
# The t5 grant goes; t1 stays. New sessions get an idle timeout.
cp "$T/policy.good" "$GW_POLICY"
sed -i -e 's/tenants = \[ "t5" \]/tenants = [ "t6" ]/' \
	-e 's/idle_timeout = "none"/idle_timeout = "2s"/' "$GW_POLICY"
check "grant withdrawn: the reload's result is audited" gw_reload
wait "$r1"
check_exit 0 "grant withdrawn: its session ends (255)" test $? -eq 255
check_grep "grant withdrawn: says why" 'access withdrawn by a policy reload' "$T/r1"
check_grep_soon "grant withdrawn: reload audited" '"policy_reload".*"result":"success".*1 live session' "$GW_AUDIT"
wait "$r2"
check_exit 0 "a session still granted runs on" test $? -eq 0
check_grep "a session still granted: its output" 'still-here' "$T/r2o"

# ---- idle timeout (2 s since the reload) ------------------------------------
start=$(date +%s)
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='sleep 30' </dev/null >/dev/null 2>"$T/i1"
check_exit 0 "idle timeout: the session ends (255)" test $? -eq 255
check_grep "idle timeout: says why" 'session ended: idle for too long' "$T/i1"
check "idle timeout: in time" test $(($(date +%s) - start)) -le 10

# ---- SIGTERM ----------------------------------------------------------------
gw_shell MSPGATE_TARGET=t1/box \
	SSH_ORIGINAL_COMMAND='while :; do echo busy; sleep 0.3; done' </dev/null >"$T/t1o" 2>"$T/t1" &
t1=$!
n=0
while ! grep -q busy "$T/t1o" && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
kill -TERM "$GW_DPID"
wait "$t1"
check_exit 0 "SIGTERM: the session ends (255)" test $? -eq 255
check_grep_soon "SIGTERM: audited" '"session_end".*shutting down' "$GW_AUDIT"
n=0
while kill -0 "$GW_DPID" 2>/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
check "SIGTERM: the control socket is removed" test ! -e "$GW_CTL"

gw_verify_recordings
check_exit 0 "every recording verifies" test $? -eq 0
"$BIN/mspgate-replay" verify --pubkey "$GW_SIGNPUB" "$GW_AUDIT" >"$T/averify" 2>&1 ||
	"$BIN/mspgate-replay" audit-verify --pubkey "$GW_SIGNPUB" "$GW_AUDIT" >"$T/averify" 2>&1
check_exit 0 "the audit log verifies" test $? -eq 0
check "no sanitizer or valgrind report" gw_no_reports
tap_done
