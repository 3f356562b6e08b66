# SPDX-License-Identifier: BSD-2-Clause
# Gateway test helpers: source after tests/lib/tap.sh, as root.
# A target sshd on 127.0.0.1, mspgated as a throwaway system user, and
# throwaway engineer and target accounts; everything made is removed at
# exit (users, files, processes). Nothing under /etc/ssh or /etc/pam.d
# and no system sshd is touched.
#
#   gw_need_root                      skip the whole test (exit 0) unless root
#   free_port                         prints a free TCP port on 127.0.0.1
#   make_user NAME [system]           useradd; removed at exit
#   start_target_sshd USER            sshd on $TARGET_PORT, key $TARGET_HOSTKEY.pub,
#                                     accepting $GW_VAULT/box.key for USER
#   gw_setup                          users, keys, vault, target: the lot
#   gw_write_policy [EXTRA]           policy at $GW_POLICY (tenants t1, t2, t3)
#   start_mspgated                    broker on $GW_SOCK as $GW_DAEMON
#   gw_shell [VAR=VALUE...]           runs mspgate-shell as $GW_ENG ($T/as-engineer)
#   gw_pty STEP... -- CMD...          CMD on a pty, scripted
#   gw_verify_recordings              every recording verifies
#   gw_ctl ARGS...                    mspgatectl on $GW_CTL (the control socket)
#   gw_wait_sessions N                until mspgatectl list shows N sessions (60 s)
#   gw_reload                         SIGHUP to mspgated, then until its audit log has
#                                     the reload's result (60 s)
#   $T/ssh-via-gw                     an "ssh" for scp -S / rsync -e: runs the remote
#                                     command through mspgate-shell ($GW_XFER_TARGET)
# Policy additions (set before gw_write_policy): GW_GATEWAY_EXTRA (inside
# gateway), GW_WINDOWS_EXTRA (inside windows), GW_GRANTS_EXTRA (more grants,
# each starting with a comma), GW_TENANTS_EXTRA (names of more tenants, each
# with one target "box" like t1's). GW_DAEMON_OPTS: more mspgated options.
# GW_KEEP=DIR keeps a copy of the test's files (logs, audit, recordings).

GW_TAG="mgt$$"
# The gateway's own directory: its mspgated's log ($GW_LOCAL/mspgated.log),
# its sshd's files, its ssh clients. $T for the one gateway most tests run;
# a second one has its own (gw_use in tests/lib/chain.sh switches).
GW_LOCAL=$T
GW_USERS=""
GW_PIDS=""
GW_MADE_RUNSSHD=""
SSHD=/usr/sbin/sshd

gw_need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		# tests/run.sh counts a script with no test at all as failed.
		echo "ok 1 # SKIP gateway tests need root (users, runuser)"
		echo "1..1"
		exit 0
	fi
}

gw_cleanup() {
	# GW_KEEP=DIR: a copy of the test's files for a post-mortem.
	[ -n "${GW_KEEP:-}" ] && mkdir -p "$GW_KEEP" && cp -a "$T/." "$GW_KEEP/" 2>/dev/null
	for p in $GW_PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in $GW_PIDS; do kill -9 "$p" 2>/dev/null; done
	# The accounts are this test's own: whatever still runs as them is ours.
	for u in $GW_USERS; do
		for p in $(pgrep -u "$u" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	done
	for u in $GW_USERS; do userdel -r "$u" >/dev/null 2>&1 || userdel "$u" >/dev/null 2>&1; done
	# Left while any sshd runs: another test's (or the system's) needs it.
	[ -n "$GW_MADE_RUNSSHD" ] && ! pgrep -x sshd >/dev/null && rmdir /run/sshd 2>/dev/null
	tap_cleanup
}
trap gw_cleanup EXIT

gw_track() { GW_PIDS="$GW_PIDS $1"; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_port PORT: until something listens there (60 s).
wait_port() { tap_wait 60 port_listens "$1"; }
port_listens() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# make_user NAME [system]: a throwaway account; homes live under $T.
make_user() {
	if [ "${2:-}" = system ]; then
		gw_useradd -r -M -d /nonexistent -s /usr/sbin/nologin "$1" || return 1
	else
		gw_useradd -m -d "$T/home/$1" -s /bin/sh "$1" || return 1
		# "*" is no password but not locked: sshd with UsePAM no refuses
		# locked ("!") accounts even for public keys.
		usermod -p '*' "$1"
	fi
	GW_USERS="$GW_USERS $1"
}

# gw_useradd ARGS...: useradd, tried again while another test holds the
# lock on /etc/passwd (tests run in parallel: make check -j).
# (sh has no locals: its counter has a name no caller uses.)
gw_useradd() {
	gw_ua_n=0
	while ! useradd "$@" 2>"$T/useradd.err"; do
		gw_ua_n=$((gw_ua_n + 1))
		grep -q 'cannot lock' "$T/useradd.err" && [ $gw_ua_n -lt 30 ] || {
			cat "$T/useradd.err" >&2; return 1; }
		sleep 1
	done
}

# start_target_sshd USER: the client host, its own host key and config.
start_target_sshd() {
	d="$T/target"
	mkdir -p "$d"
	[ -f "$d/hostkey" ] || ssh-keygen -q -t ed25519 -N '' -f "$d/hostkey" || return 1
	TARGET_HOSTKEY="$d/hostkey"
	TARGET_PORT=${TARGET_PORT:-$(free_port)}
	cat >"$d/sshd_config" <<EOF
Port $TARGET_PORT
ListenAddress 127.0.0.1
HostKey $d/hostkey
PidFile $d/sshd.pid
UsePAM no
StrictModes no
AuthorizedKeysFile $d/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AllowUsers $1
Subsystem sftp internal-sftp
LogLevel ERROR
EOF
	if [ ! -d /run/sshd ]; then mkdir -p /run/sshd && chmod 0755 /run/sshd; GW_MADE_RUNSSHD=1; fi
	"$SSHD" -D -e -f "$d/sshd_config" 2>>"$d/log" &
	TARGET_PID=$!
	gw_track "$TARGET_PID"
	wait_port "$TARGET_PORT"
}

stop_target_sshd() { kill "$TARGET_PID" 2>/dev/null; wait "$TARGET_PID" 2>/dev/null; }

# gw_setup: accounts, the signing key, the vault and a running target.
gw_setup() {
	case $BIN in /*) GW_SHELLBIN="$BIN/mspgate-shell" ;;
	*) GW_SHELLBIN="$(pwd)/$BIN/mspgate-shell" ;; esac
	case $MG_BUILD in /*) GW_ATTEST_RUN="$MG_BUILD/tests/lib/attest-run" ;;
	*) GW_ATTEST_RUN="$(pwd)/$MG_BUILD/tests/lib/attest-run" ;; esac
	GW_ENG="${GW_TAG}e"
	GW_TUSER="${GW_TAG}t"
	GW_DAEMON="${GW_TAG}d"
	chmod 0711 "$T"
	mkdir -p "$T/home"
	chmod 0755 "$T/home"
	make_user "$GW_ENG" || return 1
	make_user "$GW_TUSER" || return 1
	make_user "$GW_DAEMON" system || return 1
	GW_VAULT="$T/vault"
	GW_REC="$T/rec"
	GW_AUDIT="$T/audit/audit.jsonl"
	GW_SOCK="$T/run/session.sock"
	GW_CTL="$T/run/control.sock"
	GW_POLICY="$T/policy.conf"
	GW_SIGNKEY="$T/keys/signing.pem"
	GW_SIGNPUB="$T/keys/signing.pub"
	mkdir -p "$GW_VAULT" "$GW_REC" "$T/audit" "$T/run" "$T/keys" "$T/state"
	ssh-keygen -q -t ed25519 -N '' -C vault -f "$GW_VAULT/box.key" || return 1
	openssl genpkey -algorithm ed25519 -out "$GW_SIGNKEY" 2>/dev/null || return 1
	openssl pkey -in "$GW_SIGNKEY" -pubout -out "$GW_SIGNPUB" || return 1
	# What mspgated owns; the engineer can read none of it.
	chown -R "$GW_DAEMON" "$GW_VAULT" "$GW_REC" "$T/audit" "$T/run" "$T/keys" "$T/state"
	chmod 0700 "$GW_VAULT" "$GW_REC" "$T/audit" "$T/keys" "$T/state"
	chmod 0600 "$GW_VAULT/box.key" "$GW_SIGNKEY"
	chmod 0755 "$T/run"
	start_target_sshd "$GW_TUSER" || return 1
	cp "$GW_VAULT/box.key.pub" "$T/target/authorized_keys"
	chmod 0644 "$T/target/authorized_keys"
	ssh-keygen -q -t ed25519 -N '' -f "$T/otherhostkey"
	# A port where nothing listens: the "target down" case.
	GW_DEADPORT=$(free_port)
	GW_AUTHINFO="$T/authinfo"
	printf 'publickey ssh-ed25519 %s\nkeyboard-interactive\n' \
		"$(cut -d' ' -f2 "$T/otherhostkey.pub")" >"$GW_AUTHINFO"
	chown "$GW_ENG" "$GW_AUTHINFO"
	chmod 0600 "$GW_AUTHINFO"
	gw_make_wrapper
}

# gw_write_policy [EXTRA]: t1 (open, granted), t2 (granted, window closed),
# t3 (not granted), t4 (max_session 3s), t5 (ticket required), t6 (FIDO
# required). t1/badkey pins another key; t1/down has no sshd.
gw_write_policy() {
	# Logins are attested (pam_mspgate, or $T/as-engineer): a TOTP login
	# needs the engineer enrolled, in a store the broker can read. A test
	# that brings its own mfa section brings its own store.
	gw_mfa=""
	gw_user=""
	case "${1:-}" in
	*"mfa:"*) ;;
	*)	gw_mfa="mfa: { totp: { store = \"$T/totp\"; }; };"
		case "${GW_GATEWAY_EXTRA:-}" in *"user ="*) ;;
		*) gw_user="  user = \"$GW_DAEMON\";" ;; esac ;;
	esac
	hk=$(cut -d' ' -f1-2 "$TARGET_HOSTKEY.pub")
	ok=$(cut -d' ' -f1-2 "$T/otherhostkey.pub")
	ek=$(cut -d' ' -f1-2 "$T/otherhostkey.pub")
	more=""
	for tn in ${GW_TENANTS_EXTRA:-}; do
		more="$more,
  { name = \"$tn\";
    targets = ( { name = \"box\"; host = \"127.0.0.1\"; port = $TARGET_PORT; host_key = \"$hk\";
        logins = [ \"$GW_TUSER\" ]; credential = \"box\"; } );
  }"
	done
	cat >"$GW_POLICY" <<EOF
gateway: {
  vault = "$GW_VAULT";
  recordings = "$GW_REC";
  audit = "$GW_AUDIT";
  state = "$T/state";
  session_socket = "$GW_SOCK";
  signing_key = "$GW_SIGNKEY";
  idle_timeout = "none";
  attestations = "$T/attest";
${gw_user}
${GW_GATEWAY_EXTRA:-}
};
windows: {
  closed: { dates = [ "2020-01-01 00:00 .. 2020-01-02 00:00" ]; };
${GW_WINDOWS_EXTRA:-}
};
engineers = (
  { name = "$GW_ENG"; keys = [ "$ek" ]; }
);
tenants = (
  { name = "t1";
    targets = (
      { name = "box"; host = "127.0.0.1"; port = $TARGET_PORT; host_key = "$hk";
        logins = [ "$GW_TUSER" ]; credential = "box"; },
      { name = "badkey"; host = "127.0.0.1"; port = $TARGET_PORT; host_key = "$ok";
        logins = [ "$GW_TUSER" ]; credential = "box"; },
      { name = "down"; host = "127.0.0.1"; port = $GW_DEADPORT; host_key = "$hk";
        logins = [ "$GW_TUSER" ]; credential = "box"; }
    );
  },
  { name = "t2"; windows = [ "closed" ];
    targets = ( { name = "box"; host = "127.0.0.1"; port = $TARGET_PORT; host_key = "$hk";
        logins = [ "$GW_TUSER" ]; credential = "box"; } );
  },
  { name = "t3";
    targets = ( { name = "box"; host = "127.0.0.1"; port = $TARGET_PORT; host_key = "$hk";
        logins = [ "$GW_TUSER" ]; credential = "box"; } );
  },
  { name = "t4";
    targets = ( { name = "box"; host = "127.0.0.1"; port = $TARGET_PORT; host_key = "$hk";
        logins = [ "$GW_TUSER" ]; credential = "box"; } );
  },
  { name = "t5";
    targets = ( { name = "box"; host = "127.0.0.1"; port = $TARGET_PORT; host_key = "$hk";
        logins = [ "$GW_TUSER" ]; credential = "box"; } );
  },
  { name = "t6";
    targets = ( { name = "box"; host = "127.0.0.1"; port = $TARGET_PORT; host_key = "$hk";
        logins = [ "$GW_TUSER" ]; credential = "box"; } );
  }$more
);
grants = (
  { to = "$GW_ENG"; tenants = [ "t1", "t2" ]; targets = [ "*" ];
    logins = [ "$GW_TUSER" ]; mfa = "totp"; max_session = "1h"; },
  { to = "$GW_ENG"; tenants = [ "t4" ]; targets = [ "*" ];
    logins = [ "$GW_TUSER" ]; mfa = "totp"; max_session = "3s"; },
  { to = "$GW_ENG"; tenants = [ "t5" ]; targets = [ "*" ];
    logins = [ "$GW_TUSER" ]; mfa = "totp"; ticket = true; },
  { to = "$GW_ENG"; tenants = [ "t6" ]; targets = [ "*" ];
    logins = [ "$GW_TUSER" ]; mfa = "fido"; }
${GW_GRANTS_EXTRA:-}
);
${gw_mfa}
${1:-}
EOF
	chmod 0644 "$GW_POLICY"
	[ -z "$gw_mfa" ] || [ -f "$T/totp/$GW_ENG" ] || gw_enroll_default
}
# gw_write_policy_fido SKPUB: the policy of gw_write_policy, with the
# engineer signing in by the security key SKPUB alone (mfa = "fido"
# everywhere): no TOTP code to spend, so every login is one of its own.
gw_write_policy_fido() {
	gw_write_policy "mfa: { totp: { store = \"$T/totp\"; }; };"
	python3 - "$GW_POLICY" "$GW_ENG" "$1" <<'EOF'
import re, sys
p, eng, sk = sys.argv[1:]
s = open(p).read()
s = re.sub(r'\{ name = "%s"; keys = \[ "[^"]*" \]; \}' % eng,
           '{ name = "%s"; keys = [ "%s" ]; mfa = "fido"; }' % (eng, sk), s)
s = s.replace('mfa = "totp"', 'mfa = "fido"')
open(p, "w").write(s)
EOF
}

# gw_enroll_default: an active TOTP secret for $GW_ENG in $T/totp ($T/secret).
gw_enroll_default() {
	mkdir -p "$T/totp" && chmod 0700 "$T/totp"
	"$BIN/mspgate-enroll" -c "$GW_POLICY" --batch "$GW_ENG" >"$T/uri" 2>>"$T/enroll.log" || return 1
	sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' "$T/uri" >"$T/secret"
	"$BIN/mspgate-enroll" -c "$GW_POLICY" --activate \
		"$(oathtool --totp -b "$(cat "$T/secret")")" "$GW_ENG" >>"$T/enroll.log" 2>&1 || return 1
	chown -R "$GW_DAEMON" "$T/totp" "$T/state"
}

# start_mspgated: as root, dropping to $GW_DAEMON after binding $GW_SOCK.
start_mspgated() {
	# MG_VALGRIND=1 (make check VALGRIND=1): mspgated and its session
	# processes under valgrind; gw_no_reports reads the logs.
	set --
	if [ -n "${MG_VALGRIND:-}" ]; then
		mkdir -p "$T/vg"
		chown "$GW_DAEMON" "$T/vg"
		set -- valgrind -q --vgdb=no --leak-check=full --show-leak-kinds=definite \
			--errors-for-leak-kinds=definite --log-file="$T/vg/e-valgrind.%p"
	fi
	# MG_GW_WRAP="strace -f -o FILE": a command mspgated runs under (audits).
	[ -n "${MG_GW_WRAP:-}" ] && set -- $MG_GW_WRAP "$@"
	sm_n=$(grep -c 'listening on ' "$GW_LOCAL/mspgated.log" 2>/dev/null)
	"$@" "$BIN/mspgated" -D -f "$GW_POLICY" -s "$GW_SOCK" -c "$GW_CTL" -u "$GW_DAEMON" \
		${GW_DAEMON_OPTS:-} 2>>"$GW_LOCAL/mspgated.log" &
	GW_DPID=$!
	gw_track "$GW_DPID"
	# Ready once it says so: its sockets exist a moment before their modes
	# are set, and before it takes connections.
	tap_wait 60 gw_listening "${sm_n:-0}"
}
gw_listening() {
	[ "$(grep -c 'listening on ' "$GW_LOCAL/mspgated.log" 2>/dev/null)" -gt "$1" ] && [ -S "$GW_SOCK" ]
}

# gw_shell [VAR=VALUE...]: mspgate-shell as the engineer, as sshd would
# run it (SSH_CONNECTION, SSH_USER_AUTH set; the rest from the arguments),
# under tests/lib/attest-run, which plays sshd's monitor: a root parent
# with a TOTP login attested from 127.0.0.1 (GW_ATTEST_OPTS: other -m,
# -s, -p, -a options).
gw_shell() { "$T/as-engineer" "$@"; }

# $T/as-engineer [VAR=VALUE...]: the same as a program (for gw_pty, sftp -D).
gw_make_wrapper() {
	cat >"$T/as-engineer" <<EOF
#!/bin/sh
exec $GW_ATTEST_RUN -d $T/attest -u $GW_ENG \${GW_ATTEST_OPTS:-} -- env -i PATH=/usr/bin:/bin TERM=\${TERM:-xterm} \\
	SSH_CONNECTION="127.0.0.1 40000 127.0.0.1 2222" SSH_USER_AUTH=$GW_AUTHINFO \\
	MSPGATE_SOCKET=$GW_SOCK "\$@" $GW_SHELLBIN
EOF
	chmod 0755 "$T/as-engineer"
	# An "ssh" for scp -S and rsync -e, as sshd would run the forced
	# command: options skipped, then the host, then the remote command;
	# "-s ... sftp" (scp's SFTP mode) is the sftp subsystem.
	cat >"$T/ssh-via-gw" <<EOF
#!/bin/sh
sub=0
while [ \$# -gt 0 ]; do
	case \$1 in
	--) shift; break ;;
	-s) sub=1; shift ;;
	-[oplicFJEbemwWBDLRQS]) shift 2 ;;
	-*) shift ;;
	*) break ;;
	esac
done
shift
if [ \$sub = 1 ]; then cmd=internal-sftp; else cmd="\$*"; fi
exec $T/as-engineer MSPGATE_TARGET=\${GW_XFER_TARGET:-t1/box} SSH_ORIGINAL_COMMAND="\$cmd"
EOF
	chmod 0755 "$T/ssh-via-gw"
}

gw_ctl() { "$BIN/mspgatectl" -s "$GW_CTL" "$@"; }

# gw_wait_sessions N: until the live table has N sessions (60 s); 0 when it does.
gw_wait_sessions() { tap_wait 60 gw_has_sessions "$1"; }
gw_has_sessions() { [ "$(gw_ctl list 2>/dev/null | tail -n +2 | wc -l)" -eq "$1" ]; }

# gw_reload: SIGHUP to mspgated (itself, not a wrapper such as strace, which
# would keep it), then until the reload's result is in the audit log, the
# last thing mspgated does for a reload, whether it took the new policy or
# kept the old one. 0 when it is there (60 s).
gw_reload() {
	gr_pid=$GW_DPID
	[ "$(cat /proc/$gr_pid/comm 2>/dev/null)" = mspgated ] ||
		gr_pid=$(pgrep -P "$GW_DPID" -x mspgated | head -1)
	gr_n=$(grep -c '"event":"policy_reload"' "$GW_AUDIT" 2>/dev/null)
	kill -HUP "${gr_pid:-$GW_DPID}" || return 1
	tap_wait 60 gw_reloads_more "${gr_n:-0}"
}
gw_reloads_more() { [ "$(grep -c '"event":"policy_reload"' "$GW_AUDIT" 2>/dev/null)" -gt "$1" ]; }

# gw_verify_recordings: 0 when there is at least one and all verify.
gw_verify_recordings() {
	set -- "$GW_REC"/*.cast
	[ -e "$1" ] || return 1
	"$BIN/mspgate-replay" verify --pubkey "$GW_SIGNPUB" "$@" >"$T/verify.out" 2>&1
}

# gw_pty STEP... -- COMMAND...: runs COMMAND on a new pty (80x24) and plays
# the steps: "expect:REGEX" (wait up to $GW_PTY_WAIT s, 60, for it in the
# output), "send:TEXT" (\n and \r understood), "resize:COLSxROWS",
# "retry:REGEX:TEXT" (send TEXT until REGEX shows, once a second: for an
# answer that depends on something else arriving first, such as a resize).
# Prints the output; exits with the command's exit status (124 when an
# expect fails, or the command does not end within $GW_PTY_WAIT s after the
# last step). What timed out, with the awaited REGEX, goes to the test's
# TAP log (fd 9, see tap.sh) as a "#" line, never into the output: a check
# on the output must not find the awaited text in the helper's own words.
gw_pty() {
	python3 - "$@" <<'PYEOF'
import os, pty, re, select, struct, sys, time, fcntl, termios
args = sys.argv[1:]
i = args.index("--")
steps, cmd = args[:i], args[i + 1:]
wait = float(os.environ.get("GW_PTY_WAIT") or 60)
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
out = b""
def pump(t):
    """1: read something, 0: nothing yet, -1: closed."""
    global out
    r, _, _ = select.select([fd], [], [], t)
    if not r:
        return 0
    try:
        d = os.read(fd, 65536)
    except OSError:
        return -1
    if not d:
        return -1
    out += d
    return 1
def give_up(n, why):
    """The output as it was, a note without the awaited text, exit 124."""
    sys.stdout.write(out.decode(errors="replace"))
    sys.stdout.write("\n[gw_pty: step %d timed out; see the test's log]\n" % n)
    sys.stdout.flush()
    try:
        os.write(9, ("# gw_pty: step %d: %s\n" % (n, why)).encode())
    except OSError:
        pass
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    sys.exit(124)
rc = 0
for n, st in enumerate(steps, 1):
    kind, _, arg = st.partition(":")
    if kind == "expect":
        end = time.time() + wait
        while not re.search(arg.encode(), out) and time.time() < end:
            if pump(0.1) < 0:
                break
        if not re.search(arg.encode(), out):
            give_up(n, "no %r in the output after %g s" % (arg, wait))
    elif kind == "send":
        os.write(fd, arg.replace("\\n", "\n").replace("\\r", "\r").encode())
    elif kind == "retry":
        want, _, text = arg.partition(":")
        end = time.time() + wait
        while not re.search(want.encode(), out) and time.time() < end:
            os.write(fd, text.replace("\\n", "\n").replace("\\r", "\r").encode())
            step_end = min(end, time.time() + 1)
            while not re.search(want.encode(), out) and time.time() < step_end:
                if pump(0.1) < 0:
                    break
        if not re.search(want.encode(), out):
            give_up(n, "no %r in the output after %g s of sending %r" % (want, wait, text))
    elif kind == "resize":
        c, r = arg.split("x")
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", int(r), int(c), 0, 0))
end = time.time() + wait
done = 0
while time.time() < end:
    pump(0.2)
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        break
while pump(0) > 0:
    pass
if not done:
    give_up(len(steps) + 1, "the command did not end within %g s" % wait)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.WEXITSTATUS(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st))
PYEOF
}

# gw_no_reports: no sanitizer report in mspgated's log (each gateway's) or
# the shells' stderr.
gw_no_reports() {
	! grep -l -e 'Sanitizer' -e 'runtime error:' -e 'definitely lost' \
		-e 'Invalid read' -e 'Invalid write' -e 'uninitialised' \
		"$T/mspgated.log" "$T"/gw?/mspgated.log "$T"/e* "$T"/vg/* 2>/dev/null
}

# The newest recording.
gw_last_recording() { ls -t "$GW_REC"/*.cast 2>/dev/null | head -1; }
