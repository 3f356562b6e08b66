#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Session control that a stalled engineer cannot evade. Through the whole
# door (the stock ssh client, the gateway sshd with pam_mspgate,
# mspgate-shell, mspgated, the target sshd), the engineer stops reading in
# three ways: a reader that never reads (ssh ... | sleep), a suspended ssh
# client (SIGSTOP), and a client whose TCP window is full (a proxy that stops
# reading the gateway). Each meets mspgatectl kill, max_session, the window
# close and a reload that withdraws the grant; the gateway's clock must win:
# the session ends within 2 s of its deadline, the target's command is gone,
# mspgate-shell is gone, and the recording verifies with the reason it ended.
# Also: a pty session with a suspended client, and an engineer flooding input
# to a target command that never reads it.
. tests/lib/tap.sh
. tests/lib/gw.sh
gw_need_root
. tests/lib/chain.sh

gw_setup || { fail "gateway setup"; tap_done; exit 1; }
chain_setup || { fail "chain setup (PAM module, sk-soft)"; tap_done; exit 1; }

# The engineer logs in with a security key alone (no TOTP code to spend per
# login): every case below is a connection of its own.
ssh-keygen -q -t ed25519-sk -w "$SK_LIB" -N '' -C eng -f "$T/eng_sk" 2>>"$T/keygen.log"
skpub=$(cut -d' ' -f1-2 "$T/eng_sk.pub")
# tw: granted inside a window that closes 90 s from now; tr: granted until a
# reload withdraws it; tm: max_session 40s; t1: kill. The deadlines leave
# room for a slow disk: every chain must be jammed before they come.
open_at=$(date -u -d '-1 hour' '+%Y-%m-%d %H:%M:%S')
close_at=$(date -u -d '+90 seconds' '+%Y-%m-%d %H:%M:%S')
close_ts=$(date -u -d "$close_at" +%s)
GW_TENANTS_EXTRA="tw tr tm"
GW_WINDOWS_EXTRA="  soon: { tz = \"UTC\"; dates = [ \"$open_at .. $close_at\" ]; };"
GW_GATEWAY_EXTRA="  reload_grace = \"2s\"; user = \"$GW_DAEMON\";"
tr_grant=", { to = \"$GW_ENG\"; tenants = [ \"tr\" ]; targets = [ \"*\" ];
    logins = [ \"$GW_TUSER\" ]; mfa = \"fido\"; }"
tm_grant=", { to = \"$GW_ENG\"; tenants = [ \"tm\" ]; targets = [ \"*\" ];
    logins = [ \"$GW_TUSER\" ]; mfa = \"fido\"; max_session = \"40s\"; }"
GW_GRANTS_EXTRA=", { to = \"$GW_ENG\"; tenants = [ \"tw\" ]; targets = [ \"*\" ];
    logins = [ \"$GW_TUSER\" ]; mfa = \"fido\"; windows = [ \"soon\" ]; }$tm_grant$tr_grant"
write_policy() { gw_write_policy_fido "$skpub"; }
write_policy
"$BIN/mspgate-policy" check -f "$GW_POLICY" >"$T/check.out" 2>&1
check "policy is valid" test $? -eq 0
# The audit log is the broker's; pam_mspgate (root) appends to it too.
touch "$GW_AUDIT" && chown "$GW_DAEMON" "$GW_AUDIT" && chmod 0640 "$GW_AUDIT"
start_mspgated || { fail "mspgated starts"; tap_done; exit 1; }
chain_start_gateway || { fail "gateway sshd starts"; tap_done; exit 1; }
chain_client "$GW_ENG" "$T/eng_sk"
S="$T/ssh-$GW_ENG"

# A ProxyCommand that passes everything on until the gateway has sent
# LIMIT bytes, then stops reading from it: the client's TCP window fills.
cat >"$T/stallproxy.py" <<'EOF'
import os, select, socket, sys
host, port, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port))
got = 0
while True:
    want = [0] + ([s] if got < limit else [])
    r, _, _ = select.select(want, [], [], 1.0)
    if 0 in r:
        d = os.read(0, 65536)
        if not d:
            break
        s.sendall(d)
    if s in r:
        d = s.recv(min(65536, limit - got))
        if not d:
            break
        got += len(d)
        os.write(1, d)
EOF
printf '#!/bin/sh\nexec python3 %s 127.0.0.1 %s 1048576\n' "$T/stallproxy.py" "$GW_PORT" \
	>"$T/stallproxy"
chmod 0755 "$T/stallproxy"

# The audit log as the auditor reads it: one session by the command it ran.
cat >"$T/aq.py" <<'EOF'
import json, sys
audit, tag = sys.argv[1], sys.argv[2]
sid = start = end = None
reason = ""
for line in open(audit):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("event") == "session_start" and tag in (e.get("reason") or ""):
        sid, start = e.get("session"), e.get("ts")
    elif sid is not None and e.get("session") == sid and e.get("event") == "session_end":
        end, reason = e.get("ts"), e.get("reason") or ""
print(sid or "-", start or 0, end or 0, reason.replace(" ", "_") or "-")
EOF
aq() { python3 "$T/aq.py" "$GW_AUDIT" "$1"; }

# start CASE MODE [pty]: one session running "yes mgstall-CASE" (a pty
# session runs it on a terminal), its engineer stalled in MODE: pipe, stop
# or tcp. The client's pid goes to $T/pid-CASE.
start() {
	c=$1 mode=$2 tt=""
	case $c in k*) tgt=t1 ;; m*) tgt=tm ;; w*) tgt=tw ;; r*) tgt=tr ;; esac
	[ "${3:-}" = pty ] && tt="-tt"
	case $mode in
	pipe)
		# The reader that never reads: a sleep on a FIFO, killed at
		# the end with the test's other processes (GW_PIDS).
		mkfifo "$T/fifo-$c"
		sleep 600 <"$T/fifo-$c" &
		GW_PIDS="$GW_PIDS $!"
		"$S" -o ControlMaster=no -o ControlPath=none $tt -- "$tgt/box" \
			"yes mgstall-$c" </dev/null 2>"$T/err-$c" >"$T/fifo-$c" &
		;;
	stop)
		"$S" -o ControlMaster=no -o ControlPath=none $tt -- "$tgt/box" \
			"yes mgstall-$c" </dev/null >/dev/null 2>"$T/err-$c" &
		;;
	tcp)
		"$S" -o ControlMaster=no -o ControlPath=none $tt \
			-o "ProxyCommand=$T/stallproxy" \
			-- "$tgt/box" "yes mgstall-$c" </dev/null >/dev/null 2>"$T/err-$c" &
		;;
	esac
	echo $! >"$T/pid-$c"
	tap_track_pid $!
}

# target_pid CASE: the target's "yes" of that case, if it runs.
target_pid() { pgrep -u "$GW_TUSER" -f "^yes mgstall-$1\$" | head -1; }

# targets: "PID CASE" for every target "yes" that runs (one pgrep for all).
targets() { pgrep -a -u "$GW_TUSER" -f '^yes mgstall-' | sed -n 's/^\([0-9]*\) yes mgstall-\([a-z]*\)$/\1 \2/p'; }

# wait_end CASE UNTIL: until the audit log has the session's end, or the
# clock passes UNTIL (seconds since the epoch).
wait_end() {
	while [ "$(aq "$1" | cut -d' ' -f3)" = 0 ]; do
		[ "$(date +%s)" -ge "$2" ] && return 1
		sleep 0.1
	done
	return 0
}

CASES="kpipe kstop ktcp mpipe mstop mtcp wpipe wstop wtcp rpipe rstop rtcp kpty"
for c in $CASES; do
	case $c in *pipe) m=pipe ;; *stop|kpty) m=stop ;; *tcp) m=tcp ;; esac
	if [ $c = kpty ]; then start $c $m pty; else start $c $m; fi
done
# The engineer pastes into a command that never reads its input.
( cat /dev/zero | "$S" -o ControlMaster=no -o ControlPath=none -- t1/box \
	'exec sleep 601' 2>"$T/err-kin" ) &
tap_track_pid $!

# Every session runs: each suspended client is stopped as soon as its
# command runs (60 s for all of them).
left=$CASES until=$(($(date +%s) + 60))
while [ -n "$left" ] && [ "$(date +%s)" -lt $until ]; do
	targets >"$T/targets"
	next=""
	for c in $left; do
		if grep -q " $c\$" "$T/targets"; then
			case $c in *stop|kpty) kill -STOP "$(cat "$T/pid-$c")" ;; esac
		else
			next="$next $c"
		fi
	done
	left=$next
	[ -n "$left" ] && sleep 0.1
done
for c in $CASES; do
	case " $left " in
	*" $c "*)
		fail "$c: the session runs its command"
		sed 's/^/# client: /' "$T/err-$c"
		grep -i 'drop connection\|error\|fatal' "$T/gw_sshd.log" | tail -5 | sed 's/^/# gateway sshd: /' ;;
	*) ok "$c: the session runs its command" ;;
	esac
done

# Every chain is jammed before the clock is tried: each target blocks,
# writing into a chain that no longer moves (its write count stands still
# for 1 s). All are watched at once, 60 s in all.
left=$CASES until=$(($(date +%s) + 60))
for c in $CASES; do eval "last_$c=-1 since_$c=0"; done
while [ -n "$left" ] && [ "$(date +%s)" -lt $until ]; do
	targets >"$T/targets"
	now=$(date +%s%N)
	next=""
	for c in $left; do
		p=$(sed -n "s/^\([0-9]*\) $c\$/\1/p" "$T/targets" | head -1)
		w=""
		[ -n "$p" ] && w=$(sed -n 's/^wchar: //p' "/proc/$p/io" 2>/dev/null)
		eval "l=\$last_$c since=\$since_$c"
		if [ -z "$w" ] || [ "$w" != "$l" ]; then
			eval "last_$c=\$w since_$c=$now"
			next="$next $c"
		elif [ $((now - since)) -lt 1000000000 ]; then
			next="$next $c"
		fi
	done
	left=$next
	[ -n "$left" ] && sleep 0.1
done
for c in $CASES; do
	case " $left " in
	*" $c "*) fail "$c: the engineer's side is jammed (the target blocks)" ;;
	*) ok "$c: the engineer's side is jammed (the target blocks)" ;;
	esac
done
n=0
while ! pgrep -u "$GW_TUSER" -f '^sleep 601$' >/dev/null && [ $n -lt 600 ]; do
	sleep 0.1; n=$((n + 1))
done
# The flood fills the target's input window (and the relay's buffers).
kin_id=$(aq 'sleep 601' | cut -d' ' -f1)
n=0 last=-1 same=0
while [ $n -lt 200 ] && [ $same -lt 10 ]; do
	b=$(gw_ctl list 2>/dev/null | grep -c "$kin_id")
	w=$(grep -c . "$GW_REC/$kin_id.cast" 2>/dev/null)
	if [ "$w" = "$last" ]; then same=$((same + 1)); else same=0; fi
	last=$w
	sleep 0.1; n=$((n + 1))
done
check "kin: the engineer's input is jammed (the target never reads)" test "$same" -ge 10

# ---- the clock ------------------------------------------------------------
for c in kpipe kstop ktcp kpty kin; do
	if [ $c = kin ]; then id=$kin_id; else id=$(aq "mgstall-$c" | cut -d' ' -f1); fi
	# Each session's deadline is the moment its own kill is sent (on a
	# busy machine the five kills take seconds between them).
	eval "t_kill_$c=\$(date +%s)"
	if gw_ctl kill "$id" >"$T/kill-$c" 2>&1; then
		ok "$c: mspgatectl kill $id answers at once"
	else
		fail "$c: mspgatectl kill $id answers at once"
		sed 's/^/# mspgatectl: /' "$T/kill-$c"
	fi
done
# The reload that withdraws tr's grant: the sessions end 2 s later.
tr_grant=""
GW_GRANTS_EXTRA=", { to = \"$GW_ENG\"; tenants = [ \"tw\" ]; targets = [ \"*\" ];
    logins = [ \"$GW_TUSER\" ]; mfa = \"fido\"; windows = [ \"soon\" ]; }$tm_grant"
write_policy
t_reload=$(date +%s)
kill -HUP "$GW_DPID"

for c in $CASES kin; do
	if [ $c = kin ]; then tag='sleep 601'; else tag="mgstall-$c"; fi
	set -- $(aq "$tag")
	start_ts=$2
	case $c in
	k*) eval "deadline=\$t_kill_$c"; want='operator' ;;
	m*) deadline=$((start_ts + 40)); want='maximum_session' ;;
	w*) deadline=$close_ts; want='window' ;;
	r*) deadline=$((t_reload + 2)); want='withdrawn\|reload' ;;
	esac
	# The end comes at the deadline: waited for until 30 s after it.
	wait_end "$tag" $((deadline + 30))
	check "$c: the session ended" test $? -eq 0
	set -- $(aq "$tag")
	end_ts=$3 why=$4
	# Whole seconds on both sides: 2 s, plus one for the rounding.
	check "$c: ended within 2 s of its deadline (ended $end_ts, deadline $deadline)" \
		test "$end_ts" -gt 0 -a "$end_ts" -le $((deadline + 3))
	if echo "$why" | grep -q "$want"; then ok "$c: the end event says why ($why)"
	else fail "$c: the end event says why ($why, want $want)"; fi
	n=0
	while [ -n "$(if [ $c = kin ]; then pgrep -u "$GW_TUSER" -f '^sleep 601$'; else target_pid $c; fi)" ] && [ $n -lt 30 ]; do
		sleep 0.1; n=$((n + 1))
	done
	if [ $c = kin ]; then p=$(pgrep -u "$GW_TUSER" -f '^sleep 601$'); else p=$(target_pid $c); fi
	check "$c: the target's command is gone" test -z "$p"
	id=$1
	check "$c: the recording verifies" "$BIN/mspgate-replay" verify --pubkey "$GW_SIGNPUB" \
		"$GW_REC/$id.cast"
done
# What the engineer never read is on file: the recordings hold more of
# "yes" than the pipes and windows between could.
id=$(aq "mgstall-kpipe" | cut -d' ' -f1)
check "kpipe: the recording holds what the target sent" \
	test "$(grep -c 'mgstall-kpipe' "$GW_REC/$id.cast")" -gt 0
n=0
while pgrep -u "$GW_ENG" -x mspgate-shell >/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
check "every mspgate-shell is gone (the engineer's side is closed)" \
	sh -c "! pgrep -u '$GW_ENG' -x mspgate-shell >/dev/null"
gw_wait_sessions 0
check "no live session is left" test $? -eq 0

# The suspended clients, let go, learn that their session ended.
for c in kstop mstop wstop rstop kpty; do kill -CONT "$(cat "$T/pid-$c")" 2>/dev/null; done
for c in kstop mstop wstop rstop; do
	n=0
	while kill -0 "$(cat "$T/pid-$c")" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	check "$c: the resumed ssh client exits" sh -c "! kill -0 $(cat "$T/pid-$c") 2>/dev/null"
done

# The gateway still serves: a new session runs and returns its output.
"$S" -o ControlMaster=no -o ControlPath=none -- t1/box 'echo still-here' \
	</dev/null >"$T/after" 2>&1
check_exit 0 "a new session after all that works" test $? -eq 0
check_grep "a new session returns its output" '^still-here$' "$T/after"
check "no sanitizer report" gw_no_reports
tap_done
