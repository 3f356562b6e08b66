#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark (not a test, never run by make check): the mspgate gateway
# against plain OpenSSH, measured in the same run on 127.0.0.1, as root.
#
# Started here and removed at exit (tests/lib/gw.sh, tests/lib/chain.sh):
#   target   an sshd (the client host)
#   bastion  a plain OpenSSH sshd: the baselines are the double hop
#            `ssh bastion ssh target CMD` and ProxyJump `ssh -J bastion target`
#   gateway  the gateway sshd with pam_mspgate + mspgate-shell + mspgated,
#            recording every session; engineers log in with a FIDO key
#            (software, sk-soft) + TOTP through SSH_ASKPASS (grant fido+totp)
#   gateway b  for the session setup row only (issue 17): a second gateway
#            sshd + mspgated, the same policy but its TOTP and lockout state
#            in PostgreSQL (state.backend "postgresql"), in a throwaway
#            cluster of this run (tests/lib/pg.sh: initdb under $T,
#            127.0.0.1, a free port, SCRAM over TCP) made durable as a real
#            server is (fsync, full_page_writes, synchronous_commit on),
#            stopped and removed at exit. A login there goes through its
#            mspgated's state broker (one kept connection); each session's
#            standing check connects on its own. Its engineers are its own
#            (enrolled in the database), one per fresh login. Left out,
#            saying why, when the PostgreSQL server or the postgres user is
#            missing (MG_BENCH_PG=0: on request).
#   target c   for the session setup row only (issue 18): a second target
#            sshd that trusts only a tenant CA (TrustedUserCAKeys, no
#            authorized_keys, as mspgate-policy target-setup prints it),
#            reached through the first gateway as tenant tc with a
#            credential of kind "certificate": each session makes a key and
#            asks mspgate-signer (started here as its own throwaway account,
#            its audit log beside the gateway's, per_minute raised to
#            100000 so that the timing loop is not refused) to certify it.
#            Its engineers are its own, one per fresh login. Left out,
#            saying why, when the signer cannot be set up (MG_BENCH_CERT=0:
#            on request). The signer's own cost is timed apart: N signing
#            requests from the gateway's account, one connection each (the
#            round trip, its fdatasync'ed audit event included), and the
#            signer process's CPU time over them.
#
# Fairness. Each fresh gateway login uses up a TOTP step (30 s), so the
# throughput, echo and concurrency rows share one authenticated
# connection (ControlMaster) to the gateway -- and the OpenSSH baselines
# share one ControlMaster connection to the bastion in exactly the same
# way. The second leg is fresh per session on both sides (mspgated's
# libssh connection to the target; the bastion's ssh client, or
# ProxyJump's end-to-end connection). Session setup and memory use fresh
# connections on both sides, one throwaway engineer per gateway login;
# the files gateway, the postgresql one, the certificate target and the
# double hop take turns in one loop (rotating which goes first), so a slow
# moment of the machine hits all of them, and the postgresql backend's and
# the certificate's extra costs are the medians of the per-login
# differences against the files gateway (a vault key to the first target).
# The concurrency row multiplexes all sessions over the one connection,
# so MaxSessions is raised (here only) in the generated gateway and
# bastion sshd_config, and MaxStartups in the target's.
#
# Environment (defaults):
#   MG_BENCH_MB=512         payload of the bulk output / input / sftp / scp / tar rows, MB
#   MG_BENCH_RUNS=5         runs per bulk row (median, min-max; the ratio is
#                           the median of the rounds' own ratios)
#   MG_BENCH_ECHO_N=300     keystrokes per echo run
#   MG_BENCH_SETUP_RUNS=5   fresh logins per side (one engineer each)
#   MG_BENCH_PG=1           0: no postgresql gateway in the setup row
#   MG_BENCH_CERT=1         0: no certificate target in the setup row
#   MG_BENCH_SIGN_N=200     signing requests timed for the signer's own cost
#   MG_BENCH_MEM_N=4        idle fresh sessions per side for memory
#   MG_BENCH_IDLE=500       idle sessions in the concurrency row
#   MG_BENCH_STREAM=50      streaming sessions in the concurrency row
#   MG_BENCH_STREAM_MB=16   MB each streaming session prints (text lines)
#   MG_BENCH_KINDS="random zeros text"  payloads of the output and input rows
#                           (random first; sftp, scp and tar use random)
#   MG_BENCH_ONLY="..."     only these rows (words: setup memory out in pty sftp
#                           scp tar echo conc); default all
#   MG_BENCH_HOLD=FIFO      no rows: runs "WHO HOW KIND" lines from FIFO (see below)
#   MG_BENCH_ROWS=FILE      append rows here (tests/bench/run.sh); the rows
#                           are also printed
set -u
: "${MG_BUILD:=build}"
if [ "$(id -u)" -ne 0 ]; then
	echo "bench/gateway: needs root (throwaway users, sshd instances): skipped"
	exit 0
fi
MB=${MG_BENCH_MB:-512}
RUNS=${MG_BENCH_RUNS:-5}
ECHO_N=${MG_BENCH_ECHO_N:-300}
SETUP_RUNS=${MG_BENCH_SETUP_RUNS:-5}
MEM_N=${MG_BENCH_MEM_N:-4}
IDLE=${MG_BENCH_IDLE:-500}
STREAM=${MG_BENCH_STREAM:-50}
STREAM_MB=${MG_BENCH_STREAM_MB:-16}
MAXS=$((IDLE + STREAM + 20))
KINDS=${MG_BENCH_KINDS:-random zeros text}
want() { case " ${MG_BENCH_ONLY:-setup memory out in pty sftp scp tar echo conc} " in *" $1 "*) return 0;; esac; return 1; }

# The e2e helpers the chain needs (built by make check, not by make all).
for l in lib/sk-soft.so lib/logshim.so tests/lib/attest-run; do
	[ -f "$MG_BUILD/$l" ] || make -s BUILD="$MG_BUILD" "$MG_BUILD/$l" >/dev/null ||
		{ echo "bench/gateway: cannot build $MG_BUILD/$l"; exit 1; }
done
for p in mspgated mspgate-shell mspgatectl mspgate-enroll mspgate-keys; do
	[ -x "$MG_BUILD/bin/$p" ] || { echo "bench/gateway: $MG_BUILD/bin/$p missing (make)"; exit 1; }
done

. tests/lib/tap.sh
. tests/lib/gw.sh
. tests/lib/chain.sh
. tests/lib/pg.sh
CLIENT_PIDS=""
SHM=""
bench_cleanup() {
	for c in "$T"/cm-*; do
		[ -S "$c" ] && ssh -S "$c" -O exit x >/dev/null 2>&1
	done
	for p in $CLIENT_PIDS; do kill "$p" 2>/dev/null; done
	[ -n "$SHM" ] && rm -rf "$SHM"
	chain_cleanup
}
trap bench_cleanup EXIT
say() { echo "bench/gateway: $*" >&2; }
die() { say "$*"; exit 1; }

ROWS_OWN="$T/rows"
: >"$ROWS_OWN"
# row NAME MSPGATE BASELINE RATIO TARGET MET
row() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$ROWS_OWN"
	printf '%s | %s | %s | %s | %s | %s\n' "$@" >&2
}
now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
# stats FILE: "median min max" of the numbers in FILE
stats() { sort -g "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[1], v[NR] }'; }
# pct FILE P: the P-th percentile
pct() { sort -g "$1" | awk -v p="$2" '{ v[NR] = $1 } END { i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; print v[i] }'; }
f1() { awk -v a="$1" 'BEGIN { printf "%.1f", a }'; }
f2() { awk -v a="$1" 'BEGIN { printf "%.2f", a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
yn() { if "$@"; then echo yes; else echo no; fi; }

# --- setup ------------------------------------------------------------
say "setup (users, target, bastion, gateway)"
gw_setup || die "gateway setup failed"
chain_setup || die "chain setup failed (pam_mspgate, sk-soft)"
SHM=$(mktemp -d /dev/shm/mgbench.XXXXXX)
chmod 0755 "$SHM"

# The target, again, taking hundreds of connections at once.
stop_target_sshd
printf 'MaxStartups 2000:30:4000\nMaxSessions %s\n' "$MAXS" >>"$T/target/sshd_config"
"$SSHD" -D -e -f "$T/target/sshd_config" 2>>"$T/target/log" &
TARGET_PID=$!
gw_track "$TARGET_PID"
wait_port "$TARGET_PORT" || die "target sshd did not restart"

# The postgresql gateway (session setup only): why it is left out, if it is.
PG=""
pg_why=""
if ! want setup; then
	pg_why="no setup row"
elif [ "${MG_BENCH_PG:-1}" = 0 ]; then
	pg_why="skipped on request (MG_BENCH_PG=0)"
elif pg_missing; then
	pg_why=$PG_WHY
else
	PG=1
fi
# The certificate target and its signer (session setup only): likewise.
CERT=""
cert_why=""
SIGNER_USER="${GW_TAG}g"
S="$T/signer"
CT_PORT=$(free_port)
if ! want setup; then
	cert_why="no setup row"
elif [ "${MG_BENCH_CERT:-1}" = 0 ]; then
	cert_why="skipped on request (MG_BENCH_CERT=0)"
elif [ ! -x "$BIN/mspgate-signer" ]; then
	cert_why="$BIN/mspgate-signer missing (make)"
elif ! make_user "$SIGNER_USER" system; then
	cert_why="cannot make the signer's account $SIGNER_USER (useradd)"
else
	# As gw_cert.sh and the package have it: the CA key, the audit key and
	# the audit folder the signer's own; the socket's folder open.
	mkdir -p "$S/ca" "$S/audit" "$S/run"
	if openssl genpkey -algorithm ed25519 -out "$S/ca/bench-ca.pem" 2>>"$T/signer.log" &&
		openssl genpkey -algorithm ed25519 -out "$S/audit.pem" 2>>"$T/signer.log" &&
		"$BIN/mspgate-signer" pubkey "$S/ca/bench-ca.pem" >"$T/bench-ca.pub" 2>>"$T/signer.log"; then
		chmod 0600 "$S/ca/bench-ca.pem" "$S/audit.pem"
		chown -R "$SIGNER_USER" "$S/ca" "$S/audit" "$S/run" "$S/audit.pem"
		chmod 0700 "$S/ca" "$S/audit"
		chmod 0755 "$S" "$S/run"
		CERT=1
	else
		cert_why="cannot make the CA key: $(tail -1 "$T/signer.log")"
	fi
fi

# Engineers: the main one (shared connections) and one per fresh login.
NX=$((SETUP_RUNS + MEM_N))
# GW_ENG: the shared connection for exec/pty; ${GW_TAG}s: the one for sftp
# (its target comes from the connection's SetEnv: a multiplexed session
# cannot set its own).
ENGS="$GW_ENG ${GW_TAG}s"
make_user "${GW_TAG}s" || die "useradd"
i=1
while [ $i -le $NX ]; do
	make_user "${GW_TAG}x$i" || die "useradd"
	ENGS="$ENGS ${GW_TAG}x$i"
	i=$((i + 1))
done
# side_engineers LETTER: the engineers of one more side of the setup row,
# one per fresh login there (only a policy entry and a FIDO key: they never
# reach the bastion); their names in $SE (not printed: make_user must run
# in this shell, which removes the accounts at exit).
side_engineers() {
	SE=""
	j=1
	while [ $j -le "$SETUP_RUNS" ]; do
		make_user "${GW_TAG}$1$j" || die "useradd"
		SE="$SE ${GW_TAG}$1$j"
		ssh-keygen -q -t ed25519-sk -w "$SK_LIB" -N '' -C "${GW_TAG}$1$j" -f "$T/k-${GW_TAG}$1$j" \
			2>>"$T/keygen.log" || die "sk keygen"
		j=$((j + 1))
	done
}
# The postgresql gateway's and the certificate target's.
PENGS=""
[ -n "$PG" ] && side_engineers p && PENGS=$SE
CENGS=""
[ -n "$CERT" ] && side_engineers c && CENGS=$SE
ssh-keygen -q -t ed25519 -N '' -C hop -f "$T/hop" || die keygen
cat "$T/hop.pub" >>"$T/target/authorized_keys"
mkdir -p "$T/bastion/keys"
TKH="[127.0.0.1]:$TARGET_PORT $(cut -d' ' -f1-2 "$TARGET_HOSTKEY.pub")"
for u in $ENGS; do
	ssh-keygen -q -t ed25519-sk -w "$SK_LIB" -N '' -C "$u" -f "$T/k-$u" 2>>"$T/keygen.log" ||
		die "sk keygen"
	cp "$T/k-$u.pub" "$T/bastion/keys/$u"
	# The bastion's second hop: the engineer's own key and ~/.ssh/config.
	h="$T/home/$u/.ssh"
	mkdir -p "$h"
	cp "$T/hop" "$h/hop"
	echo "$TKH" >"$h/known_hosts"
	cat >"$h/config" <<EOF
Host target
  HostName 127.0.0.1
  Port $TARGET_PORT
  User $GW_TUSER
  IdentityFile ~/.ssh/hop
  IdentitiesOnly yes
  StrictHostKeyChecking yes
  LogLevel ERROR
EOF
	chown -R "$u" "$h"
	chmod 0700 "$h"
	chmod 0600 "$h/hop"
done
chmod -R a+rX "$T/bastion"

# The concurrency row is one engineer's $MAXS sessions over one connection.
GW_GATEWAY_EXTRA="  max_sessions_per_engineer = $MAXS;"
CERT_POLICY=""
[ -n "$CERT" ] && CERT_POLICY="credentials = ( { name = \"bench-ca\"; kind = \"certificate\";
  ca = \"$(cat "$T/bench-ca.pub")\"; } );
signer: { socket = \"$S/run/sign.sock\"; ca_keys = \"$S/ca\"; audit = \"$S/audit/audit.jsonl\";
  signing_key = \"$S/audit.pem\"; user = \"$SIGNER_USER\"; per_minute = 100000; };"
gw_write_policy "mfa: { totp: { store = \"$T/totp\"; skew_steps = 1; }; };
$CERT_POLICY"
CERT_TENANT=""
[ -n "$CERT" ] && CERT_TENANT="{ name = \"tc\"; targets = ( { name = \"box\"; host = \"127.0.0.1\";
      port = $CT_PORT; host_key = \"$(cut -d' ' -f1-2 "$TARGET_HOSTKEY.pub")\";
      logins = [ \"$GW_TUSER\" ]; credential = \"bench-ca\"; } ); },"
python3 - "$GW_POLICY" "$GW_ENG" "$T" "$CERT_TENANT" $ENGS $PENGS $CENGS <<'EOF' || die "policy edit"
import re, sys
p, eng, t, tc, engs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
s = open(p).read()
# tc: the certificate target, in t1's grant (the same MFA, the same life).
if tc:
    s = s.replace("tenants = (\n", "tenants = (\n  %s\n" % tc, 1)
    s = s.replace('tenants = [ "t1", "t2" ];', 'tenants = [ "t1", "t2", "tc" ];', 1)
ents = ",\n  ".join('{ name = "%s"; keys = [ "%s" ]; }'
                    % (u, " ".join(open("%s/k-%s.pub" % (t, u)).read().split()[:2])) for u in engs)
s = re.sub(r'\{ name = "%s"; keys = \[ "[^"]*" \]; \}' % eng, ents, s)
s = s.replace('to = "%s";' % eng, 'to = [ %s ];' % ", ".join('"%s"' % u for u in engs))
# t1: FIDO (the security key, touch) and TOTP, both.
s = s.replace('mfa = "totp"; max_session = "1h";', 'mfa = "fido+totp"; max_session = "1h";', 1)
open(p, "w").write(s)
EOF
"$BIN/mspgate-policy" check -f "$GW_POLICY" >"$T/check.out" 2>&1 || die "policy: $(cat "$T/check.out")"
sed -i "s|^gateway: {|gateway: {\n  user = \"$GW_DAEMON\";|" "$GW_POLICY"
touch "$GW_AUDIT" && chown "$GW_DAEMON" "$GW_AUDIT" && chmod 0640 "$GW_AUDIT"

# The signer, as its own account, and the target trusting the tenant's CA
# (what mspgate-policy target-setup prints, as an operator installs it).
as_user() { u=$1; shift; setpriv --reuid="$(id -u "$u")" --regid="$(id -g "$u")" --clear-groups "$@"; }
signer_up() { grep -q 'listening on' "$T/signer.log" 2>/dev/null && [ -S "$S/run/sign.sock" ]; }
# What the signer said last, but its summary ("not started: ..."): why.
signer_why() { grep -v ': not started: ' "$T/signer.log" | tail -1; }
cert_setup() {
	as_user "$SIGNER_USER" "$BIN/mspgate-signer" -t -f "$GW_POLICY" >>"$T/signer.log" 2>&1 ||
		{ cert_why="mspgate-signer -t: $(signer_why)"; return 1; }
	# setpriv itself in the background (not a function): $! is the signer.
	setpriv --reuid="$(id -u "$SIGNER_USER")" --regid="$(id -g "$SIGNER_USER")" --clear-groups \
		"$BIN/mspgate-signer" -D -f "$GW_POLICY" 2>>"$T/signer.log" &
	SIGNER_PID=$!
	gw_track "$SIGNER_PID"
	tap_wait 60 signer_up || { cert_why="mspgate-signer did not start: $(signer_why)"; return 1; }
	d="$T/target-c"
	mkdir -p "$d"
	"$BIN/mspgate-policy" -f "$GW_POLICY" target-setup --dir "$d" tc/box >"$d/setup" 2>"$d/setup.err" ||
		{ cert_why="mspgate-policy target-setup: $(tail -1 "$d/setup.err")"; return 1; }
	# The CA's public key, where its TrustedUserCAKeys line says.
	ca_file=$(sed -n 's/^TrustedUserCAKeys //p' "$d/setup")
	[ -n "$ca_file" ] || { cert_why="target-setup printed no TrustedUserCAKeys line"; return 1; }
	grep '^ssh-ed25519 ' "$d/setup" >"$ca_file"
	# The first target's settings, but for the port and the keys it accepts.
	sed -e "s/^Port .*/Port $CT_PORT/" -e "s|^PidFile .*|PidFile $d/sshd.pid|" \
		-e "s|^AuthorizedKeysFile .*|AuthorizedKeysFile none|" "$T/target/sshd_config" >"$d/sshd_config"
	grep -v '^#' "$d/setup" | grep -v '^ssh-ed25519 ' >>"$d/sshd_config"
	"$SSHD" -D -e -f "$d/sshd_config" 2>>"$d/log" &
	gw_track $!
	wait_port "$CT_PORT" || { cert_why="the certificate target's sshd did not start: $(tail -1 "$d/log")"; return 1; }
}
if [ -n "$CERT" ]; then
	say "certificate target (mspgate-signer as $SIGNER_USER, a target trusting the tenant CA)"
	cert_setup || CERT=""
fi
start_mspgated || die "mspgated did not start"
for u in $ENGS $CENGS; do chain_enroll "$u" || die "enroll $u"; done

# bench_gateway_sshd: the current gateway's sshd (chain_start_gateway)
# started again with the bench's settings. Raised in the bench only:
# hundreds of sessions over one connection.
bench_gateway_sshd() {
	chain_start_gateway || return 1
	kill "$GW_SSHD_PID"; wait "$GW_SSHD_PID" 2>/dev/null
	sed -i -e "s/^MaxSessions .*/MaxSessions $MAXS/" -e "s/^MaxStartups .*/MaxStartups 200:30:400/" \
		-e "s/^LogLevel DEBUG1/LogLevel VERBOSE/" "$GW_LOCAL/gw_sshd_config"
	LD_PRELOAD="$(abs "$MG_BUILD/lib/logshim.so")" MG_SYSLOG_FILE="$GW_LOCAL/syslog" \
		"$CHAIN_RUN/$GW_SVC" -D -e -f "$GW_LOCAL/gw_sshd_config" 2>>"$GW_LOCAL/gw_sshd.log" &
	GW_SSHD_PID=$!
	gw_track "$GW_SSHD_PID"
	wait_port "$GW_PORT"
}
bench_gateway_sshd || die "gateway sshd"

# The second gateway (tests/lib/chain.sh gwb_setup): the first's policy,
# its local paths under $T/gwb, and its state in the throwaway cluster.
if [ -n "$PG" ]; then
	say "postgresql gateway (cluster, schema, enrolments, mspgated, sshd)"
	pg_start || die "cannot start a throwaway PostgreSQL cluster"
	# Durable, as a production server is (the test helper turns it off);
	# connections unlogged, as by default.
	pg_stop
	printf 'log_connections = off\nfsync = on\nfull_page_writes = on\nsynchronous_commit = on\n' \
		>>"$PG_DIR/data/postgresql.conf"
	pg_start_again || die "cannot restart the PostgreSQL cluster"
	# The password file and the sealing key: the service account's, 0600.
	openssl rand -hex 32 >"$T/state.key"
	chown "$GW_DAEMON" "$PG_PASSFILE" "$T/state.key" && chmod 0600 "$PG_PASSFILE" "$T/state.key"
	gwb_setup || die "second gateway setup"
	cat >>"$T/gwb/policy.conf" <<EOF
state: { backend = "postgresql"; conninfo = "$PG_CONNINFO"; passfile = "$PG_PASSFILE";
  key_file = "$T/state.key"; timeout = "5s"; name = "gwb"; };
EOF
	"$BIN/mspgate-policy" state init -f "$T/gwb/policy.conf" >"$T/init.out" 2>&1 ||
		die "mspgate-policy state init: $(cat "$T/init.out")"
	gw_use b
	start_mspgated || die "the postgresql gateway's mspgated did not start"
	for u in $PENGS; do chain_enroll "$u" || die "enroll $u (database)"; done
	bench_gateway_sshd || die "the postgresql gateway's sshd"
	PB_PORT=$GW_PORT
	gw_use a
	say "postgresql gateway: PostgreSQL $("$PG_BIN/postgres" -V | awk '{ print $3 }') on 127.0.0.1:$PG_PORT, fsync $(pg_psql 'SHOW fsync'), synchronous_commit $(pg_psql 'SHOW synchronous_commit'); its sshd on $PB_PORT"
fi

# The plain OpenSSH bastion.
B_PORT=$(free_port)
ssh-keygen -q -t ed25519 -N '' -f "$T/bastion/hostkey"
cat >"$T/bastion/sshd_config" <<EOF
Port $B_PORT
ListenAddress 127.0.0.1
HostKey $T/bastion/hostkey
PidFile $T/bastion/sshd.pid
UsePAM no
StrictModes no
AuthorizedKeysFile $T/bastion/keys/%u
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AllowUsers $ENGS
MaxSessions $MAXS
MaxStartups 200:30:400
Subsystem sftp internal-sftp
LogLevel ERROR
EOF
"$SSHD" -D -e -f "$T/bastion/sshd_config" 2>>"$T/bastion/log" &
B_PID=$!
gw_track "$B_PID"
wait_port "$B_PORT" || die "bastion sshd"

# The client side: one config, host keys pinned.
{
	echo "$TKH"
	echo "[127.0.0.1]:$B_PORT $(cut -d' ' -f1-2 "$T/bastion/hostkey.pub")"
	echo "[127.0.0.1]:$GW_PORT $(cut -d' ' -f1-2 "$T/gw_hostkey.pub")"
	echo "[127.0.0.1]:$GW_PORT $(cut -d' ' -f1-2 "$T/gw_hostkey_ecdsa.pub")"
	if [ -n "$PG" ]; then
		echo "[127.0.0.1]:$PB_PORT $(cut -d' ' -f1-2 "$T/gw_hostkey.pub")"
		echo "[127.0.0.1]:$PB_PORT $(cut -d' ' -f1-2 "$T/gw_hostkey_ecdsa.pub")"
	fi
} >"$T/client_known"
C="$T/client.conf"
cat >"$C" <<EOF
Host gw
  Port $GW_PORT
  User $GW_ENG
  IdentityFile $T/k-$GW_ENG
  ControlPath $T/cm-gw
Host gws
  Port $GW_PORT
  User ${GW_TAG}s
  IdentityFile $T/k-${GW_TAG}s
  ControlPath $T/cm-gws
  SetEnv MSPGATE_TARGET=t1/box
Host gwfresh
  Port $GW_PORT
  SetEnv MSPGATE_TARGET=t1/box
Host gwpfresh
  Port ${PB_PORT:-22}
  SetEnv MSPGATE_TARGET=t1/box
Host gwcfresh
  Port $GW_PORT
  SetEnv MSPGATE_TARGET=tc/box
Host bastion
  Port $B_PORT
  User $GW_ENG
  IdentityFile $T/k-$GW_ENG
  ControlPath $T/cm-b
Host bfresh
  Port $B_PORT
Host pj
  Port $TARGET_PORT
  User $GW_TUSER
  IdentityFile $T/hop
  ProxyJump bastion
Host *
  HostName 127.0.0.1
  IdentitiesOnly yes
  SecurityKeyProvider $SK_LIB
  UserKnownHostsFile $T/client_known
  StrictHostKeyChecking yes
  PreferredAuthentications publickey,keyboard-interactive
  ConnectTimeout 30
  ServerAliveInterval 0
  LogLevel ERROR
  ControlMaster no
  ControlPath none
EOF
export SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0
X() { ssh -F "$C" "$@"; }
# A never-written FIFO held open: stdin of the idle sessions.
mkfifo "$T/hold"
exec 9<>"$T/hold"

# --- session setup (fresh connections, one engineer per gateway login) --
if want setup; then
say "session setup: $SETUP_RUNS fresh logins each side"
[ -n "$PG" ] || say "session setup, postgresql state: $pg_why; its rows are left out"
[ -n "$CERT" ] || say "session setup, certificate login: $cert_why; its rows are left out"
: >"$T/setup.mg"; : >"$T/setup.pg"; : >"$T/setup.cc"; : >"$T/setup.dh"; fails=0; pfails=0; cfails=0
# The server counts the connections made to it: per session, those of its
# standing check, beside a few made once (the broker's and the state
# worker's kept ones, at the first login; psql's own here).
pgconns() { pg_psql "SELECT sessions FROM pg_stat_database WHERE datname = 'mspgate'"; }
[ -n "$PG" ] && pgc0=$(pgconns)
i=1
while [ $i -le "$SETUP_RUNS" ]; do
	u="${GW_TAG}x$i"
	pu="${GW_TAG}p$i"
	cu="${GW_TAG}c$i"
	# Who goes first turns with each login.
	set -- mg $([ -n "$PG" ] && echo pg) $([ -n "$CERT" ] && echo cc) dh
	k=$((i % $#))
	while [ $k -gt 0 ]; do w=$1; shift; set -- "$@" "$w"; k=$((k - 1)); done
	for w in "$@"; do
		case $w in
		mg) next_code "$u" ;;
		pg) next_code "$pu" ;;
		cc) next_code "$cu" ;;
		esac
		t0=$(now)
		case $w in
		mg) X -l "$u" -i "$T/k-$u" gwfresh true </dev/null >/dev/null 2>>"$T/setup.err" || fails=$((fails + 1)) ;;
		pg) X -l "$pu" -i "$T/k-$pu" gwpfresh true </dev/null >/dev/null 2>>"$T/setup.err" || pfails=$((pfails + 1)) ;;
		cc) X -l "$cu" -i "$T/k-$cu" gwcfresh true </dev/null >/dev/null 2>>"$T/setup.err" || cfails=$((cfails + 1)) ;;
		dh) X -l "$u" -i "$T/k-$u" bfresh ssh target true </dev/null >/dev/null 2>>"$T/setup.err" || fails=$((fails + 1)) ;;
		esac
		t1=$(now)
		secs "$t0" "$t1" >>"$T/setup.$w"; echo >>"$T/setup.$w"
	done
	i=$((i + 1))
done
[ -n "$PG" ] && pgc1=$(pgconns)
sed -i '/^$/d' "$T/setup.mg" "$T/setup.pg" "$T/setup.cc" "$T/setup.dh"
set -- $(stats "$T/setup.mg"); smg=$1 smg_lo=$2 smg_hi=$3
set -- $(stats "$T/setup.dh"); sdh=$1 sdh_lo=$2 sdh_hi=$3
r=$(ratio "$smg" "$sdh")
row "session setup (fresh login, \`true\`, exit; median of $SETUP_RUNS)" \
	"$(f2 "$smg") s ($(f2 "$smg_lo")-$(f2 "$smg_hi"))" \
	"$(f2 "$sdh") s ($(f2 "$sdh_lo")-$(f2 "$sdh_hi")) double hop" "$r" "<= 1.2x" \
	"$(yn awk -v a="$smg" -v b="$sdh" 'BEGIN { exit !(a <= 1.2 * b) }')$([ $fails -gt 0 ] && echo " ($fails failed)")"
# side_stats W: side W's logins (sw, sw_lo, sw_hi, s) and its own cost
# (dw, dw_lo, dw_hi, ms): each login against the files gateway's login of
# the same round (taken within a second or two of each other).
side_stats() {
	w0=$1
	set -- $(stats "$T/setup.$w0"); sw=$1 sw_lo=$2 sw_hi=$3
	paste "$T/setup.$w0" "$T/setup.mg" | awk '{ printf "%.1f\n", ($1 - $2) * 1000 }' >"$T/setup.$w0.x"
	set -- $(stats "$T/setup.$w0.x"); dw=$1 dw_lo=$2 dw_hi=$3
}
# side_rows LABEL FAILS EXTRA BASE: its two rows, against the double hop
# (at most 1.0x) and against the files gateway (BASE names that).
side_rows() {
	row "session setup, $1 (fresh login, \`true\`, exit; median of $SETUP_RUNS)" \
		"$(f2 "$sw") s ($(f2 "$sw_lo")-$(f2 "$sw_hi"))" \
		"$(f2 "$sdh") s ($(f2 "$sdh_lo")-$(f2 "$sdh_hi")) double hop" "$(ratio "$sw" "$sdh")" "<= 1.0x" \
		"$(yn awk -v a="$sw" -v b="$sdh" 'BEGIN { exit !(a <= b) }')$([ "$2" -gt 0 ] && echo " ($2 failed)")"
	row "session setup, $3 (median of per-login differences)" \
		"$(awk -v a="$dw" 'BEGIN { printf "%+.1f", a }') ms ($dw_lo to $dw_hi)" \
		"$(f2 "$smg") s $4" "$(ratio "$sw" "$smg")" "-" "-"
}
if [ -n "$PG" ]; then
	side_stats pg
	say "session setup: the postgresql backend's extra cost a session, against files: $dw ms (median of $SETUP_RUNS paired logins; $dw_lo to $dw_hi); $((pgc1 - pgc0)) connections to the database for $SETUP_RUNS sessions"
	side_rows "state in PostgreSQL" "$pfails" "PostgreSQL state's extra cost a session" files
fi
if [ -n "$CERT" ]; then
	# The files gateway's logins use a vault key, which needs no signer.
	side_stats cc
	ncert=$(grep -c '"cert_issued"' "$S/audit/audit.jsonl")
	say "session setup: a certificate's extra cost a session, against a vault key: $dw ms (median of $SETUP_RUNS paired logins; $dw_lo to $dw_hi); $ncert certificates in the signer's audit log"
	side_rows "certificate login, signing included" "$cfails" \
		"a certificate's extra cost a session against a vault key" "vault key"
	# The signer's own cost, apart: SIGN_N requests as mspgated's account
	# (tests/bench/signtime.py), each its own connection, for the same
	# engineer, target and login as the sessions; the round trip (its audit
	# event written and fdatasync'ed, then the certificate signed), and the
	# signer process's time on a CPU over the loop (/proc/PID/schedstat, ns).
	SIGN_N=${MG_BENCH_SIGN_N:-200}
	ssh-keygen -q -t ed25519 -N '' -f "$T/eph"
	chmod 0644 "$T/eph.pub"
	cpu() { awk '{ print $1 }' "/proc/$SIGNER_PID/schedstat" 2>/dev/null || echo 0; }
	c0=$(cpu)
	# Under a live login of that engineer, attested as pam_mspgate does
	# (tests/lib/attest-run plays sshd's monitor): the signer wants one.
	if "$GW_ATTEST_RUN" -d "$T/attest" -u "${GW_TAG}c1" -r "$GW_DAEMON" -m fido+totp \
		-F "$(ssh-keygen -lf "$T/k-${GW_TAG}c1.pub" | cut -d' ' -f2)" -- \
		/usr/bin/python3 tests/bench/signtime.py "$SIGN_N" tests/lib/signreq.py \
		"$S/run/sign.sock" "$T/eph.pub" "${GW_TAG}c1" tc box "$GW_TUSER" 3600 127.0.0.1/32 \
		parent >"$T/sign.ms" 2>"$T/sign.err"; then
		c1=$(cpu)
		set -- $(stats "$T/sign.ms"); sg=$1 sg_lo=$2 sg_hi=$3
		sg99=$(pct "$T/sign.ms" 99)
		scpu=$(awk -v a="$c0" -v b="$c1" -v n="$SIGN_N" 'BEGIN { printf "%.3f", (b - a) / 1e6 / n }')
		say "signer: $SIGN_N certificates, round trip median $sg ms (p99 $sg99, $sg_lo to $sg_hi); its CPU time $scpu ms a certificate"
		row "signing cost a certificate: mspgate-signer round trip as mspgated's account (median of $SIGN_N; its CPU time a certificate)" \
			"$sg ms (p99 $sg99 ms); CPU $scpu ms" "-" "-" "-" "-"
	else
		say "signer: the timing loop failed: $(tail -1 "$T/sign.err")"
		row "signing cost a certificate (mspgate-signer round trip)" "failed: $(tail -1 "$T/sign.err")" "-" "-" "-" "no"
	fi
else
	row "session setup, certificate login, signing included" "left out: $cert_why" "-" "-" "<= 1.0x" "-"
fi
fi

tsess() { pgrep -u "$GW_TUSER" -f "^sshd: $GW_TUSER@" | wc -l; }
endidle() { pkill -KILL -u "$GW_TUSER" -x sh 2>/dev/null; }
# --- memory per idle session (fresh connections, pty shells) ------------
if want memory; then
# descendants ROOT...: every process under the ROOTs (not the ROOTs).
cat >"$T/mem.py" <<'EOF'
import os, sys
roots = set(int(a) for a in sys.argv[1:])
kids = {}
for p in os.listdir("/proc"):
    if not p.isdigit():
        continue
    try:
        st = open("/proc/%s/stat" % p).read()
    except OSError:
        continue
    ppid = int(st[st.rindex(")") + 2:].split()[1])
    kids.setdefault(ppid, []).append(int(p))
todo, seen = list(roots), []
while todo:
    for c in kids.get(todo.pop(), []):
        seen.append(c); todo.append(c)
pss = rss = 0
names = []
byname = {}
for p in seen:
    try:
        mine = 0
        for l in open("/proc/%d/smaps_rollup" % p):
            if l.startswith("Pss:"): mine = int(l.split()[1]); pss += mine
            elif l.startswith("Rss:"): rss += int(l.split()[1])
        n = open("/proc/%d/comm" % p).read().strip()
        names.append(n)
        byname[n] = byname.get(n, 0) + mine
    except OSError:
        pass
print(pss, rss, len(seen), ",".join(sorted(set(names))))
# Pss by program (KiB, all sessions), for the details
sys.stderr.write("bench/gateway: memory: Pss KiB by program: %s\n" %
    ", ".join("%s %d" % kv for kv in sorted(byname.items())))
EOF
say "memory: $MEM_N idle pty sessions each side"
i=$((SETUP_RUNS + 1)); k=0; mpids=""
while [ $k -lt "$MEM_N" ]; do
	u="${GW_TAG}x$i"
	next_code "$u"
	X -tt -l "$u" -i "$T/k-$u" gwfresh 0<&9 >/dev/null 2>>"$T/mem.err" &
	mpids="$mpids $!"
	# wait for this login before the next code is written
	n=0; while [ "$(gw_ctl list 2>/dev/null | tail -n +2 | wc -l)" -le $k ] && [ $n -lt 150 ]; do sleep 0.1; n=$((n + 1)); done
	i=$((i + 1)); k=$((k + 1))
done
CLIENT_PIDS="$CLIENT_PIDS $mpids"
gw_wait_sessions "$MEM_N"; sleep 2
set -- $(python3 "$T/mem.py" "$GW_SSHD_PID" "$GW_DPID"); gpss=$1 grss=$2 gn=$3 gnames=$4
gsess=$(gw_ctl list 2>/dev/null | tail -n +2 | wc -l)
endidle
gw_wait_sessions 0 || say "memory: gateway sessions did not end"
for p in $mpids; do kill "$p" 2>/dev/null; done
i=$((SETUP_RUNS + 1)); k=0; mpids=""
while [ $k -lt "$MEM_N" ]; do
	u="${GW_TAG}x$i"
	X -tt -l "$u" -i "$T/k-$u" bfresh ssh -tt target 0<&9 >/dev/null 2>>"$T/mem.err" &
	mpids="$mpids $!"
	i=$((i + 1)); k=$((k + 1))
done
CLIENT_PIDS="$CLIENT_PIDS $mpids"
n=0; while [ "$(pgrep -u "$GW_TUSER" -f "^sshd: $GW_TUSER@" | wc -l)" -lt "$MEM_N" ] && [ $n -lt 150 ]; do sleep 0.1; n=$((n + 1)); done
sleep 2
set -- $(python3 "$T/mem.py" "$B_PID"); bpss=$1 brss=$2 bn=$3 bnames=$4
bsess=$(pgrep -u "$GW_TUSER" -f "^sshd: $GW_TUSER@" | wc -l)
endidle
n=0; while [ "$(tsess)" -gt 0 ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
for p in $mpids; do kill "$p" 2>/dev/null; done
say "memory: gateway $gn processes ($gnames) for $gsess sessions; bastion $bn ($bnames) for $bsess"
gp=$((gpss / MEM_N)); gr=$((grss / MEM_N)); bp=$((bpss / MEM_N)); br=$((brss / MEM_N))
row "memory per idle pty session (Pss; Rss in brackets; $MEM_N fresh sessions)" \
	"$((gp / 1024)).$((gp % 1024 * 10 / 1024)) MiB ($((gr / 1024)) MiB; $gn procs)" \
	"$((bp / 1024)).$((bp % 1024 * 10 / 1024)) MiB ($((br / 1024)) MiB; $bn procs) bastion sshd+ssh" \
	"$(ratio "$gp" "$bp")" "<= 1.0x" "$(yn awk -v a="$gp" -v b="$bp" 'BEGIN { exit !(a <= b) }')"
sleep 1
fi

# --- shared connections for the rest ------------------------------------
say "ControlMaster connections to the gateway and the bastion"
next_code "$GW_ENG"
X -o ControlMaster=yes -o ControlPersist=yes -fN gw </dev/null 2>>"$T/master.err" || die "gateway master: $(cat "$T/master.err")"
next_code "${GW_TAG}s"
X -o ControlMaster=yes -o ControlPersist=yes -fN gws </dev/null 2>>"$T/master.err" || die "gateway sftp master"
X -o ControlMaster=yes -o ControlPersist=yes -fN bastion </dev/null 2>>"$T/master.err" || die "bastion master"
X gw t1/box true </dev/null || die "no session through the gateway"
X bastion ssh target true </dev/null || die "no double hop"
X pj true </dev/null || die "no ProxyJump"

# --- bulk rows ----------------------------------------------------------
# Payloads are files made before any timing: random bytes (incompressible,
# what engineers move: archives, dumps, compressed files), and as extra
# rows zeros (the recorder's best case: NUL runs are only counted) and
# base64 text. Each row is RUNS runs of mg, dh and pj, rotating; every
# gateway run's recording is verified and its size set against the
# payload before it is deleted (the recordings are gigabytes).
for k in random zeros text; do
	case " $KINDS " in *" $k "*) ;; *) continue ;; esac
	case $k in
	random) head -c "${MB}M" /dev/urandom >"$SHM/p.random" ;;
	zeros) head -c "${MB}M" /dev/zero >"$SHM/p.zeros" ;;
	text) head -c "$((MB * 3 / 4 + 1))M" /dev/urandom | base64 -w 76 | head -c "${MB}M" >"$SHM/p.text" ;;
	esac
done
chmod 0644 "$SHM"/p.*
# Where uploads land on the target (its login writes there).
mkdir -p "$SHM/dst"
chown "$GW_TUSER" "$SHM/dst"
runone() { # WHO HOW PAYLOAD
	case $1.$2 in
	mg.out) X gw t1/box "cat $3" </dev/null >/dev/null ;;
	dh.out) X bastion ssh target "'cat $3'" </dev/null >/dev/null ;;
	pj.out) X pj "cat $3" </dev/null >/dev/null ;;
	mg.pty|dh.pty|pj.pty) script -qefc "$T/pty-$1 $3" /dev/null </dev/null >/dev/null ;;
	mg.in) X gw t1/box 'cat >/dev/null' <"$3" ;;
	dh.in) X bastion ssh target "'cat >/dev/null'" <"$3" ;;
	pj.in) X pj 'cat >/dev/null' <"$3" ;;
	mg.tar) tar c -C "$SHM" "$(basename "$3")" | X gw t1/box "tar x -C $SHM/dst" ;;
	dh.tar) tar c -C "$SHM" "$(basename "$3")" | X bastion ssh target "'tar x -C $SHM/dst'" ;;
	pj.tar) tar c -C "$SHM" "$(basename "$3")" | X pj "tar x -C $SHM/dst" ;;
	mg.get) printf 'get %s %s\n' "$3" "$SHM/got" | sftp -q -F "$C" -b - gws >/dev/null ;;
	dh.get) printf 'get %s %s\n' "$3" "$SHM/got" | sftp -q -S "$T/dh-sftp" -b - x >/dev/null ;;
	pj.get) printf 'get %s %s\n' "$3" "$SHM/got" | sftp -q -F "$C" -b - pj >/dev/null ;;
	mg.put) printf 'put %s %s\n' "$3" "$SHM/dst/put" | sftp -q -F "$C" -b - gws >/dev/null ;;
	dh.put) printf 'put %s %s\n' "$3" "$SHM/dst/put" | sftp -q -S "$T/dh-sftp" -b - x >/dev/null ;;
	pj.put) printf 'put %s %s\n' "$3" "$SHM/dst/put" | sftp -q -F "$C" -b - pj >/dev/null ;;
	mg.scp) scp -q -F "$C" "$3" "gws:$SHM/dst/scp" </dev/null ;;
	dh.scp) scp -q -S "$T/dh-sftp" "$3" "x:$SHM/dst/scp" </dev/null ;;
	pj.scp) scp -q -F "$C" "$3" "pj:$SHM/dst/scp" </dev/null ;;
	esac
}
# What each run must leave behind: the file, whole (0 when it arrived).
arrived() { # HOW PAYLOAD
	case $1 in
	get) f="$SHM/got" ;;
	put) f="$SHM/dst/put" ;;
	scp) f="$SHM/dst/scp" ;;
	tar) f="$SHM/dst/$(basename "$2")" ;;
	*) return 0 ;;
	esac
	cmp -s "$f" "$2"
}
# The pty rows: the engineer's ssh on a terminal of its own (script(1)), as
# an engineer's is. Its modes (cooked, onlcr) reach the target's pty on
# every path; a client without a terminal sends none, OpenSSH then passes a
# raw terminal on hop by hop while libssh leaves the target's at the
# defaults, and the paths would do different work.
cat >"$T/pty-mg" <<EOF
#!/bin/sh
exec ssh -F $C -tt gw t1/box "cat \$1"
EOF
cat >"$T/pty-dh" <<EOF
#!/bin/sh
exec ssh -F $C -tt bastion ssh -tt target "'cat \$1'"
EOF
cat >"$T/pty-pj" <<EOF
#!/bin/sh
exec ssh -F $C -tt pj "cat \$1"
EOF
chmod 0755 "$T/pty-mg" "$T/pty-dh" "$T/pty-pj"
# sftp and scp over the double hop: the bastion's ssh asks the target for sftp.
cat >"$T/dh-sftp" <<EOF
#!/bin/sh
exec ssh -F $C bastion ssh -s target sftp
EOF
chmod 0755 "$T/dh-sftp"
# MG_BENCH_HOLD=FIFO (a tool for working on the relay, no rows): runs
# "WHO HOW KIND" lines read from FIFO (WHO mg, dh or pj; HOW and KIND as in
# runone) one at a time, prints each run's MB/s and CPU, until "quit".
if [ -n "${MG_BENCH_HOLD:-}" ]; then
	[ -p "$MG_BENCH_HOLD" ] || mkfifo "$MG_BENCH_HOLD"
	say "holding: write \"WHO HOW KIND\" lines to $MG_BENCH_HOLD, then quit"
	# busy jiffies of the whole machine (/proc/stat: all but idle and iowait)
	busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
	# pstat PID...: each one's /proc stat fields after the name (utime is $12,
	# stime $13, cutime $14, cstime $15).
	pstat() { for p in "$@"; do sed 's/.*) //' "/proc/$p/stat" 2>/dev/null; done; }
	# The middle hop's two processes, in jiffies: "SSHD RELAY". sshd: the
	# per-connection sshd processes (the listener's grandchildren) on the
	# gateway or the bastion; relay: what they reaped (the bastion's ssh) or,
	# on the gateway, what mspgated reaped (its session processes).
	middle() { # WHO
		case $1 in mg) l=$GW_SSHD_PID ;; *) l=$B_PID ;; esac
		s=$(pstat $(for c in $(pgrep -P "$l"); do pgrep -P "$c"; done) |
			awk '{ o += $12 + $13; c += $14 + $15 } END { print o + 0, c + 0 }')
		case $1 in
		mg) echo "${s% *} $(pstat "$GW_DPID" | awk '{ print $14 + $15 }')" ;;
		*) echo "$s" ;;
		esac
	}
	exec 8<>"$MG_BENCH_HOLD"	# held open: lines written at once all wait here
	while read -r who how kind <&8; do
		[ "$who" = quit ] && break
		rm -rf "$SHM/got" "$SHM/dst"/*
		set -- $(middle "$who")
		c0=$(busy)
		t0=$(now)
		runone "$who" "$how" "$SHM/p.$kind" || say "$who $how $kind failed"
		t1=$(now)
		c1=$(busy)
		arrived "$how" "$SHM/p.$kind" || say "$who $how $kind: did not arrive whole"
		[ "$who" = mg ] && gw_wait_sessions 0	# its session process reaped
		set -- "$@" $(middle "$who")
		# MB/s; the machine's CPU time (all processes) a MB, in ms; of it the
		# middle hop's sshd and relay (the gateway's session process, or the
		# bastion's ssh)
		awk -v w="$who $how $kind" -v a="$t0" -v b="$t1" -v m="$(stat -c %s "$SHM/p.$kind")" \
			-v c="$((c1 - c0))" -v s="$(($3 - $1))" -v r="$(($4 - $2))" -v hz="$(getconf CLK_TCK)" \
			'BEGIN { mb = m / 1048576; k = 1000 / hz / mb
			printf "%s %.1f MB/s %.2f cpu-ms/MB (middle: sshd %.2f, relay %.2f)\n", w, mb / ((b - a) / 1e9), c * k, s * k, r * k }'
		[ "$who" = mg ] && rm -f "$GW_REC"/*.cast
	done
	exit 0
fi
bulk() { # LABEL HOW KIND [TARGET_RATIO, 0.9]
	tg=${4:-0.9}
	for w in mg dh pj; do : >"$T/b.$w"; done
	P="$SHM/p.$3"
	pbytes=$(stat -c %s "$P")
	bf=0 vf=0 recb=0
	r=0
	while [ $r -lt "$RUNS" ]; do
		case $((r % 3)) in 0) order="mg dh pj" ;; 1) order="dh pj mg" ;; *) order="pj mg dh" ;; esac
		for w in $order; do
			rm -rf "$SHM/got" "$SHM/dst"/*
			t0=$(now)
			: >"$T/bulk.err"
			runone "$w" "$2" "$P" 2>>"$T/bulk.err" || { bf=$((bf + 1)); say "$w $2 $3 failed"; sed 's/^/  /' "$T/bulk.err" | tail -5 >&2; }
			t1=$(now)
			arrived "$2" "$P" || { bf=$((bf + 1)); say "$w $2 $3: the file did not arrive whole ($(ls -l "$SHM/got" "$SHM/dst"/* 2>&1 | tr '\n' ' '); $(cmp "$SHM/got" "$P" 2>&1 | head -1))"; }
			awk -v a="$t0" -v b="$t1" -v m="$pbytes" 'BEGIN { printf "%.1f\n", m / 1048576 / ((b - a) / 1e9) }' >>"$T/b.$w"
			[ "$w" = mg ] || continue
			# The session's recording, sealed: verified, measured, deleted.
			gw_wait_sessions 0 || say "$2 $3: the session did not end"
			if gw_verify_recordings; then :; else vf=$((vf + 1)); say "$2 $3: recording does not verify"; sed 's/^/  /' "$T/verify.out" | tail -3 >&2; fi
			recb=$((recb + $(cat "$GW_REC"/*.cast 2>/dev/null | wc -c)))
			rm -f "$GW_REC"/*.cast
		done
		r=$((r + 1))
	done
	rm -rf "$SHM/got" "$SHM/dst"/*
	set -- "$1" $(stats "$T/b.mg")
	l=$1 m=$2 mlo=$3 mhi=$4
	set -- $(stats "$T/b.dh"); d=$1 dlo=$2 dhi=$3
	set -- $(stats "$T/b.pj"); p=$1 plo=$2 phi=$3
	# The ratios are the medians of each round's own ratio: a round's runs
	# follow each other, so what slows the machine for a while (another
	# process, writeback) weighs on both sides of a ratio, not on one side
	# of the medians.
	paste "$T/b.mg" "$T/b.dh" | awk '$2 > 0 { print $1 / $2 }' >"$T/b.rd"
	paste "$T/b.mg" "$T/b.pj" | awk '$2 > 0 { print $1 / $2 }' >"$T/b.rp"
	set -- $(stats "$T/b.rd"); rd=$1 rdlo=$2 rdhi=$3
	set -- $(stats "$T/b.rp"); rp=$1
	note=""; [ $bf -gt 0 ] && note=" ($bf failed)"
	rec="recording $(awk -v a="$recb" -v b="$pbytes" -v n="$RUNS" 'BEGIN { printf "%.2f", a / (b * n) }')x the payload, $((RUNS - vf))/$RUNS verify"
	row "$l vs double hop (MB/s, median of $RUNS; ratio: median of the rounds' ratios, their range)" \
		"$m ($mlo-$mhi); $rec" "$d ($dlo-$dhi)" \
		"$(ratio "$rd" 1) ($(f2 "$rdlo")-$(f2 "$rdhi"))" ">= ${tg}x, all verify" \
		"$(if ge "$rd" "$tg" && [ $vf -eq 0 ] && [ $bf -eq 0 ]; then echo yes; else echo no; fi)$note"
	row "$l vs ProxyJump (MB/s)" "$m ($mlo-$mhi)" "$p ($plo-$phi)" "$(ratio "$rp" 1)" ">= 1.0x (stretch)" \
		"$(yn ge "$rp" 1)"
}
# Random data first: it is what the rows are about; zeros and text after.
has() { case " $KINDS " in *" $1 "*) return 0;; esac; return 1; }
if want out; then
	for k in $KINDS; do
		say "bulk output, $k (${MB} MB x $RUNS)"
		bulk "bulk output, cat of ${MB} MB of $k" out "$k"
	done
fi
if want in; then
	for k in $KINDS; do
		say "bulk input, $k"
		bulk "bulk input, ${MB} MB of $k to cat >/dev/null" in "$k"
	done
fi
# Text through a pty (a terminal session printing a log): the remote
# terminal on both sides, the same line discipline on both.
if want pty && has text; then
	say "text through a pty"
	bulk "cat of ${MB} MB of text through a pty" pty text 1.0
fi
if has random; then
	want sftp && say "sftp get, random" && bulk "sftp get of ${MB} MB of random" get random
	want sftp && say "sftp put, random" && bulk "sftp put of ${MB} MB of random" put random
	want scp && say "scp, random" && bulk "scp (SFTP mode) upload of ${MB} MB of random" scp random
	want tar && say "tar c piped to ssh, random" && bulk "tar c of ${MB} MB of random piped to ssh tar x" tar random
fi
rm -rf "$SHM"/p.* "$SHM/dst"

# --- keystroke echo -----------------------------------------------------
# A pty driver: waits for the shell, turns the remote tty raw with cat
# echoing, then types one character at a time and times its echo.
cat >"$T/echo.py" <<'EOF'
import os, pty, select, sys, time, signal
n = int(sys.argv[1]); cmd = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
buf = b""
def until(pat, t):
    global buf
    end = time.time() + t
    while pat not in buf:
        r, _, _ = select.select([fd], [], [], max(0, end - time.time()))
        if not r:
            return False
        try:
            d = os.read(fd, 65536)
        except OSError:
            return False
        if not d:
            return False
        buf += d
    return True
ok = until(b"$ ", 30)
os.write(fd, b"stty raw -echo; echo RE''ADY; exec cat\r")
ok = ok and until(b"READY", 30)
time.sleep(0.5)
while select.select([fd], [], [], 0.2)[0]:
    os.read(fd, 65536)
lat = []
for i in range(n if ok else 0):
    c = bytes([97 + i % 26])
    t0 = time.perf_counter()
    os.write(fd, c)
    got = b""
    while c not in got:
        r, _, _ = select.select([fd], [], [], 5)
        if not r:
            break
        got += os.read(fd, 1024)
    if c not in got:
        break
    lat.append((time.perf_counter() - t0) * 1e6)
    time.sleep(0.01)
for v in lat:
    print("%.0f" % v)
os.kill(pid, signal.SIGTERM)
os.waitpid(pid, 0)
sys.exit(0 if len(lat) == n else 1)
EOF
if want echo; then
say "keystroke echo ($ECHO_N keys, each side)"
python3 "$T/echo.py" "$ECHO_N" ssh -F "$C" -tt gw t1/box >"$T/echo.mg" 2>>"$T/echo.err" || say "echo mg: incomplete"
python3 "$T/echo.py" "$ECHO_N" ssh -F "$C" -tt bastion ssh -tt target >"$T/echo.dh" 2>>"$T/echo.err" || say "echo dh: incomplete"
python3 "$T/echo.py" "$ECHO_N" ssh -F "$C" -tt pj >"$T/echo.pj" 2>>"$T/echo.err" || say "echo pj: incomplete"
ms() { awk -v a="$1" 'BEGIN { printf "%.3f", a / 1000 }'; }
if [ -s "$T/echo.mg" ] && [ -s "$T/echo.dh" ]; then
	emg=$(ms "$(pct "$T/echo.mg" 50)"); edh=$(ms "$(pct "$T/echo.dh" 50)"); epj=$(ms "$(pct "$T/echo.pj" 50)")
	pmg=$(ms "$(pct "$T/echo.mg" 99)"); pdh=$(ms "$(pct "$T/echo.dh" 99)"); ppj=$(ms "$(pct "$T/echo.pj" 99)")
	row "keystroke echo in a pty, median ms ($(wc -l <"$T/echo.mg") keys; ProxyJump $epj)" \
		"$emg" "$edh double hop" "$(ratio "$emg" "$edh")" "<= +1 ms" \
		"$(yn awk -v a="$emg" -v b="$edh" 'BEGIN { exit !(a <= b + 1) }') ($(awk -v a="$emg" -v b="$edh" 'BEGIN { printf "%+.3f", a - b }') ms)"
	row "keystroke echo in a pty, p99 ms (ProxyJump $ppj)" "$pmg" "$pdh double hop" "$(ratio "$pmg" "$pdh")" "-" "-"
else
	row "keystroke echo in a pty" "failed" "-" "-" "<= +1 ms" "no"
fi
fi

# --- concurrency --------------------------------------------------------
# IDLE idle pty shells, then STREAM sessions each printing STREAM_MB MB
# of text at once, all over the one shared connection per side. The
# aggregate counts the bytes that arrived (a refused stream adds none).
SCMD="yes 0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ | head -c ${STREAM_MB}M"
conc() { # WHO: mg | dh; prints "failed_idle failed_streams MB/s secs"
	ipids=""
	base=$(tsess)
	j=0
	while [ $j -lt "$IDLE" ]; do
		if [ "$1" = mg ]; then X -tt gw t1/box 0<&9 >/dev/null 2>>"$T/conc.err" &
		else X -tt bastion ssh -tt target 0<&9 >/dev/null 2>>"$T/conc.err" &
		fi
		ipids="$ipids $!"
		j=$((j + 1))
		[ $((j % 25)) -eq 0 ] && sleep 0.5
	done
	CLIENT_PIDS="$CLIENT_PIDS $ipids"
	n=0
	while [ "$(tsess)" -lt $((base + IDLE)) ] && [ $n -lt 240 ]; do sleep 0.5; n=$((n + 1)); done
	up=$(($(tsess) - base))
	mkdir -p "$T/conc.$1"
	t0=$(now)
	j=0
	spids=""
	while [ $j -lt "$STREAM" ]; do
		if [ "$1" = mg ]; then
			( X gw t1/box "$SCMD" </dev/null | wc -c >"$T/conc.$1/$j" ) 2>>"$T/conc.err" &
		else
			( X bastion ssh target "'$SCMD'" </dev/null | wc -c >"$T/conc.$1/$j" ) 2>>"$T/conc.err" &
		fi
		spids="$spids $!"
		j=$((j + 1))
	done
	for p in $spids; do wait "$p"; done
	t1=$(now)
	still=$(($(tsess) - base))
	sf=0; got=0
	for f in "$T/conc.$1"/*; do
		[ "$(cat "$f")" = $((STREAM_MB * 1048576)) ] || sf=$((sf + 1))
		got=$((got + $(cat "$f")))
	done
	endidle
	n=0
	while [ "$(tsess)" -gt "$base" ] && [ $n -lt 240 ]; do sleep 0.5; n=$((n + 1)); done
	for p in $ipids; do kill "$p" 2>/dev/null; done
	echo "$((IDLE - up)) $((IDLE - still)) $sf" \
		"$(awk -v a="$t0" -v b="$t1" -v m="$got" 'BEGIN { printf "%.1f %.1f", m / 1048576 / ((b - a) / 1e9), (b - a) / 1e9 }')"
}
if want conc; then
say "concurrency: $IDLE idle + $STREAM streaming x ${STREAM_MB} MB, gateway"
rm -f "$GW_REC"/*.cast
set -- $(conc mg); cmg_up=$1 cmg_lost=$2 cmg_sf=$3 cmg=$4 cmg_s=$5
gw_wait_sessions 0 || sleep 5
sleep 1
nrec=$(ls "$GW_REC"/*.cast 2>/dev/null | wc -l)
if gw_verify_recordings; then vr="all $nrec verify"; else vr="VERIFY FAILED ($nrec; $T/verify.out)"; sed 's/^/  /' "$T/verify.out" | tail -5 >&2; fi
say "concurrency: the same through the bastion"
set -- $(conc dh); cdh_up=$1 cdh_lost=$2 cdh_sf=$3 cdh=$4 cdh_s=$5
fails=$((cmg_up + cmg_lost + cmg_sf))
row "concurrency: $IDLE idle + $STREAM streaming ${STREAM_MB} MB each, aggregate MB/s" \
	"$cmg (${cmg_s} s; failed: $cmg_up idle not up, $cmg_lost lost, $cmg_sf streams; recordings: $vr)" \
	"$cdh (${cdh_s} s; failed: $cdh_up/$cdh_lost/$cdh_sf) double hop" "$(ratio "$cmg" "$cdh")" \
	"no failure, all verify" "$(yn test "$fails" -eq 0 -a "$vr" = "all $nrec verify")"
fi

# --- the rows -----------------------------------------------------------
if [ -n "${MG_BENCH_ROWS:-}" ]; then cat "$ROWS_OWN" >>"$MG_BENCH_ROWS"; fi
echo
awk -F'\t' '{ printf "%-70s | %s | %s | %s | %s | %s\n", $1, $2, $3, $4, $5, $6 }' "$ROWS_OWN"
