#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Gateway slots and refusals, tried as a local attacker would: only
# engineers can take a slot (any other account is closed at once, logged
# without an audit event per attempt); idle connections hold nothing for
# more than 2 s; one engineer cannot take the gateway
# (gateway.max_sessions_per_engineer); refusal audit events are
# rate-limited per account with a summary; and every malformed request is
# refused by mspgated and audited, whatever it looked like.
. tests/lib/tap.sh
. tests/lib/gw.sh
gw_need_root

gw_setup || { fail "gateway test setup"; tap_done; exit 1; }
E2="${GW_TAG}b"
make_user "$E2" || { fail "second engineer"; tap_done; exit 1; }
GW_GATEWAY_EXTRA='  max_sessions = 4; max_sessions_per_engineer = 3;'
gw_write_policy
# A second engineer with the same grants, a key and a login of its own.
ssh-keygen -q -t ed25519 -N '' -f "$T/e2key"
e2pub=$(cut -d' ' -f1-2 "$T/e2key.pub")
printf 'publickey %s\nkeyboard-interactive\n' "$e2pub" >"$T/authinfo-e2"
chown "$E2" "$T/authinfo-e2"
chmod 0600 "$T/authinfo-e2"
python3 - "$GW_POLICY" "$GW_ENG" "$E2" "$e2pub" <<'EOF'
import re, sys
p, eng, e2, key = sys.argv[1:]
s = open(p).read()
s = re.sub(r'(\{ name = "%s"; keys = \[ "[^"]*" \]; \})' % eng,
           lambda m: m.group(1) + ',\n  { name = "%s"; keys = [ "%s" ]; }' % (e2, key), s)
s = s.replace('to = "%s";' % eng, 'to = [ "%s", "%s" ];' % (eng, e2))
open(p, "w").write(s)
EOF
"$BIN/mspgate-policy" check -f "$GW_POLICY" >"$T/check.out" 2>&1
check "policy is valid" test $? -eq 0
# Its TOTP secret: an attested TOTP login stands only while enrolled.
"$BIN/mspgate-enroll" -c "$GW_POLICY" --batch "$E2" >"$T/uri-e2" 2>>"$T/enroll.log"
"$BIN/mspgate-enroll" -c "$GW_POLICY" --activate "$(oathtool --totp -b \
	"$(sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' "$T/uri-e2")")" "$E2" >>"$T/enroll.log" 2>&1
check "the second engineer is enrolled" test $? -eq 0
chown -R "$GW_DAEMON" "$T/totp" "$T/state"
start_mspgated || { fail "mspgated starts"; tap_done; exit 1; }
sed -e "s/ -u $GW_ENG / -u $E2 /" -e "s|SSH_USER_AUTH=[^ ]*|SSH_USER_AUTH=$T/authinfo-e2|" \
	"$T/as-engineer" >"$T/as-e2"
chmod 0755 "$T/as-e2"

# hold USER N SECONDS: USER opens N connections to the session socket and
# sends nothing; prints how many the gateway closed, and how fast (the
# slowest close, in tenths of a second), when all are closed or SECONDS pass.
cat >"$T/hold.py" <<'EOF'
import select, socket, sys, time
path, n, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
t0 = time.time()
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    socks.append(s)
open_ = set(socks)
slowest = 0.0
while open_ and time.time() - t0 < limit:
    r, _, _ = select.select(list(open_), [], [], 0.1)
    for s in r:
        try:
            d = s.recv(65536)
        except OSError:
            d = b""
        if not d or d[3:4] == b"\x05":    # closed, or told why (END)
            open_.discard(s)
            slowest = max(slowest, time.time() - t0)
print(n - len(open_), int(slowest * 10))
EOF
chmod 0644 "$T/hold.py"
hold() { runuser -u "$1" -- python3 "$T/hold.py" "$GW_SOCK" "$2" "$3"; }

# ---- only engineers take a slot ------------------------------------------
# Any local account: more connections than the gateway has slots.
set -- $(hold nobody 40 10)
check "a stranger's 40 connections are all closed (closed $1)" test "$1" -eq 40
check "... at once (slowest ${2}/10 s)" test "$2" -le 5
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo after-stranger' \
	</dev/null >"$T/o1" 2>"$T/e1"
check_exit 0 "an engineer's session still runs after a stranger's flood" test $? -eq 0
check_grep "... and returns its output" '^after-stranger$' "$T/o1"
n=$(grep -c 'not an engineer' "$T/mspgated.log")
check "the stranger is logged, rate-limited (lines: $n)" test "$n" -ge 1 -a "$n" -le 2
check "the stranger left no audit event" sh -c "! grep -q '\"engineer\":\"nobody\"' '$GW_AUDIT'"

# ---- idle connections of an engineer ---------------------------------------
# The engineer holds 10 silent connections: 3 wait for a request (2 s),
# the rest are over its own cap; another engineer is not held up.
hold "$GW_ENG" 10 10 >"$T/hold1" &
hp=$!
"$T/as-e2" MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo other-engineer' \
	</dev/null >"$T/o2" 2>"$T/e2"
check_exit 0 "another engineer's session runs during the flood" test $? -eq 0
check_grep "... and returns its output" '^other-engineer$' "$T/o2"
wait $hp
set -- $(cat "$T/hold1")
check "all 10 silent connections are closed (closed $1)" test "$1" -eq 10
check "... within 2 s and a bit (slowest ${2}/10 s)" test "$2" -le 30
check_grep_soon "over the cap: audited with its rule" \
	"\"denied\".*\"engineer\":\"$GW_ENG\".*\"rule\":\"gateway.max_sessions_per_engineer\"" "$GW_AUDIT"
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo after-idle' \
	</dev/null >"$T/o3" 2>"$T/e3"
check_exit 0 "the engineer's own session runs afterwards" test $? -eq 0
check_grep "... and returns its output" '^after-idle$' "$T/o3"

# The cap while sessions run: 3 running, the 4th is told why.
# (sleep 300: ended by the kill below, and still running when the last of
# the three starts on a slow machine or under valgrind.) The sessions before
# have ended first: a connection counts until its process is gone.
gw_wait_sessions 0
for i in 1 2 3; do
	gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='sleep 300' </dev/null \
		>/dev/null 2>&1 &
	tap_track_pid $!
done
gw_wait_sessions 3
check "three sessions run" test $? -eq 0
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo fourth' </dev/null \
	>"$T/o4" 2>"$T/e4"
check_exit 0 "a fourth session of one engineer is refused (255)" test $? -eq 255
check_grep "... and the engineer is told why" \
	'^mspgate: you have 3 sessions open, the limit for one engineer; end one first$' "$T/e4"
check "... it ran nothing" test ! -s "$T/o4"
gw_ctl kill --engineer "$GW_ENG" >/dev/null 2>&1
gw_wait_sessions 0

# ---- the control socket: a silent admin client holds nothing up --------------
cat >"$T/ctlhold.py" <<'EOF'
import socket, sys, time
socks = []
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    socks.append(s)
print("held", flush=True)
time.sleep(float(sys.argv[3]))
EOF
python3 "$T/ctlhold.py" "$GW_CTL" 10 8 >"$T/ctlhold.out" &
ch=$!
n=0
while ! grep -q held "$T/ctlhold.out" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
t0=$(date +%s%N)
gw_ctl list >"$T/ctl1" 2>&1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "mspgatectl list answers while 10 control connections sit silent" test $rc -eq 0
check "... at once (${ms} ms)" test "$ms" -lt 1500
gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo ctl-silent' </dev/null >"$T/o5" 2>&1
check_grep "... and a session runs meanwhile" '^ctl-silent$' "$T/o5"
kill "$ch" 2>/dev/null; wait "$ch" 2>/dev/null

# ---- every refusal is audited ------------------------------------------------
# (as the second engineer: the first has used up its audited refusals)
long=$(python3 -c 'print("a" * 5000)')
i=0
for v in '../../etc/passwd' 'a/b;id' "$long" 't1/box extra' ''; do
	i=$((i + 1))
	before=$(grep -c '"denied"' "$GW_AUDIT")
	lines=$(grep -c 'denied' "$T/mspgated.log")
	"$T/as-e2" "MSPGATE_TARGET=$v" SSH_ORIGINAL_COMMAND=id </dev/null >"$T/m$i" 2>"$T/me$i"
	rc=$?
	after=$(grep -c '"denied"' "$GW_AUDIT")
	lines2=$(grep -c 'denied' "$T/mspgated.log")
	label=$(printf '%.20s' "$v")
	check "target '$label': refused (255)" test $rc -eq 255
	check "target '$label': ran nothing" test ! -s "$T/m$i"
	check "target '$label': one denied event" test $((after - before)) -eq 1
	check "target '$label': one syslog line" test $((lines2 - lines)) -eq 1
done
check_grep_soon "the malformed value is in the audit event, escaped" \
	'"denied".*"reason":"malformed target .*a/b;id' "$GW_AUDIT"
longest=$(python3 -c 'import re,sys; print(max([len(m) for m in re.findall("a+", open(sys.argv[1]).read())] or [0]))' "$GW_AUDIT")
check "the 5000-character value is cut short in the audit log (longest run $longest)" \
	test "$longest" -ge 100 -a "$longest" -le 256
check_grep_soon "an empty target without a terminal: audited as such" \
	'"denied".*"reason":"no target given"' "$GW_AUDIT"
check_grep "the engineer is told how to give a target" '^mspgate: no target given' "$T/me5"
check_grep "a malformed target: the engineer is told the form" \
	'^mspgate: malformed target: use tenant/target or login@tenant/target$' "$T/me1"

# ---- refusal audit events are rate-limited per account ---------------------
# 40 refusals in a row: at most the burst (20 a minute) is audited one by
# one; the rest is counted in one summary event (written at the latest
# when mspgated stops).
before=$(grep -c "\"denied\".*\"engineer\":\"$GW_ENG\"" "$GW_AUDIT")
i=0
while [ $i -lt 40 ]; do
	gw_shell MSPGATE_TARGET=t3/box SSH_ORIGINAL_COMMAND=true </dev/null >/dev/null 2>&1
	i=$((i + 1))
done
after=$(grep -c "\"denied\".*\"engineer\":\"$GW_ENG\".*no grant" "$GW_AUDIT")
check "a refusal flood is not audited one by one ($((after)) events)" test "$after" -le 20
kill -TERM "$GW_DPID"
daemon_gone() { ! kill -0 "$GW_DPID" 2>/dev/null; }
tap_wait 60 daemon_gone
check_grep_soon "the suppressed refusals are counted in a summary event" \
	"\"denied\".*\"engineer\":\"$GW_ENG\".*\"reason\":\"[0-9]* more refusals .*rate limit" "$GW_AUDIT"
check "the audit log verifies" "$BIN/mspgate-replay" verify --pubkey "$GW_SIGNPUB" "$GW_AUDIT"
check "no sanitizer report" gw_no_reports
tap_done
