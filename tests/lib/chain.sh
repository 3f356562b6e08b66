# SPDX-License-Identifier: BSD-2-Clause
# The whole chain: the OpenSSH client -> the gateway sshd with pam_mspgate
# -> mspgate-shell -> mspgated -> the target sshd. Source after
# tests/lib/tap.sh and tests/lib/gw.sh, as root, after gw_setup.
#
#   chain_setup                 the gateway sshd's files, PAM service, keys
#   chain_enroll USER           a TOTP secret for USER ($T/totp-USER.secret)
#   chain_sk_engineer           a security key (sk-soft) for $GW_ENG, $T/eng_sk,
#                               made once; its public key replaces the
#                               engineer's key in $GW_POLICY (after gw_write_policy)
#   chain_start_gateway         the gateway sshd on $GW_PORT
#   sleep_to_next_step          until a new 30 s step (a login spends one)
#   chain_client USER KEY       $GW_LOCAL/ssh-USER, the stock ssh client
#                               through the gateway; TOTP codes come from
#                               SSH_ASKPASS ($T/askpass, the code in $T/next-code)
#
# A second gateway (issue 17: two gateways, one truth). The first is what
# gw_setup, chain_setup and the rest make; the second, "b", is another sshd
# (another free port, the same host keys, its own PAM service) and another
# mspgated (the same service account, vault and signing key), with its own
# local paths under $T/gwb. Their policies are one shared file ($GW_COMMON),
# @included by each gateway's own, which differ only in local paths.
#   gw_split_policy             $GW_POLICY (as gw_write_policy made it) becomes
#                               the first gateway's own file: its local
#                               sections (gateway, mfa, state) and an @include
#                               of $GW_COMMON, which has the rest
#   gwb_setup                   the second gateway's directories, its policy
#                               (the first's, local paths moved under $T/gwb)
#                               and PAM service
#   gwb_share_totp USER         USER's TOTP secret copied from the first
#                               gateway's store into the second's: the files
#                               backend's way to be enrolled at both. (Which
#                               steps were used is in each gateway's own
#                               gateway.state, lockout/USER.lock: not shared.)
#   gw_policies_differ_in_paths_only   both files check, and are the same
#                               but for the second's local paths
#   gw_two_start USER KEY       both gateways started, USER's client for each
#   chain_login GW USER OUT CMD one fresh ssh login through gateway GW
#   gw_use a|b                  the helpers act on that gateway from then on:
#                               start_mspgated, chain_start_gateway,
#                               chain_client, chain_enroll, gw_ctl,
#                               gw_wait_sessions, gw_verify_recordings,
#                               gw_reload; $GW_POLICY, $GW_AUDIT, $GW_REC,
#                               $GW_SOCK, $GW_CTL, $GW_PORT, $GW_LOCAL ...
#
# Made and removed: /etc/pam.d/$CHAIN_SVC (a unique name; sshd names its
# PAM service after the name it is started as, hence the link), and
# $CHAIN_RUN (a root-owned directory in /run: sshd refuses an
# AuthorizedKeysCommand under a world-writable directory such as /tmp).

CHAIN_SVC="mspgate-$GW_TAG"
# The current gateway's sshd (named so) and PAM service: the first's.
GW_SVC=$CHAIN_SVC
CHAIN_RUN="/run/$GW_TAG"
SK_LIB=""

chain_cleanup() {
	[ -f "$T/cm.ctl" ] && ssh -S "$T/cm.ctl" -O exit x >/dev/null 2>&1
	rm -f "/etc/pam.d/$CHAIN_SVC" "/etc/pam.d/$CHAIN_SVC-b"
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

# chain_sk_engineer: see the top.
chain_sk_engineer() {
	[ -f "$T/eng_sk" ] ||
		ssh-keygen -q -t ed25519-sk -w "$SK_LIB" -N '' -C eng -f "$T/eng_sk" 2>>"$T/keygen.log"
	sed -i "s|keys = \\[ \"[^\"]*\" \\]|keys = [ \"$(cut -d' ' -f1-2 "$T/eng_sk.pub")\" ]|" "$GW_POLICY"
}

# sleep_to_next_step: until the 30 s step after this one has begun, so that
# next_code's step is one no login has used yet (each login spends one).
sleep_to_next_step() {
	ns_step=$(( $(date +%s) / 30 )); tap_wait 40 sh -c "[ \$(( \$(date +%s) / 30 )) -gt $ns_step ]"
}

# next_code USER: the code for the next 30 s step (the step of the
# activation is used up); one step ahead is within the policy's skew.
next_code() {
	oathtool --totp -b "$(cat "$T/totp-$1.secret")" -N "$(date -u -d '+30 seconds' '+%Y-%m-%d %H:%M:%S UTC')" >"$T/next-code"
}

# chain_start_gateway: the gateway sshd on a free port ($GW_PORT), its
# files in $GW_LOCAL (gw_sshd_config, gw_sshd.log, syslog), PAM service
# $GW_SVC; the host keys are $T's, whichever gateway it is.
chain_start_gateway() {
	GW_PORT=$(free_port)
	cs_cfg="$GW_LOCAL/gw_sshd_config"
	sed -e "s|@PORT@|$GW_PORT|" -e "s|@LISTEN@|127.0.0.1|" \
	    -e "s|@HOSTKEY_ED25519@|$T/gw_hostkey|" \
	    -e "s|@HOSTKEY_ECDSA@|$T/gw_hostkey_ecdsa|" \
	    -e "s|@PIDFILE@|$GW_LOCAL/gw_sshd.pid|" -e "s|@SBINDIR@|$CHAIN_RUN|g" \
	    -e "s|@KEYS_USER@|$GW_DAEMON|" -e "s|@LIBEXECDIR@|$CHAIN_RUN|" \
	    gateway/sshd_config.in >"$cs_cfg"
	# mspgate-keys reads the test's policy, mspgate-shell its socket.
	sed -i -e "s|^AuthorizedKeysCommand .*|AuthorizedKeysCommand $CHAIN_RUN/mspgate-keys -f $GW_POLICY %u|" \
	    -e "s|^ForceCommand .*|ForceCommand env MSPGATE_SOCKET=$GW_SOCK $CHAIN_RUN/mspgate-shell|" \
	    "$cs_cfg"
	# Tests open many connections at once (gw_stall starts 14): the
	# packaged MaxStartups 10:30:60 would drop some of them at random
	# before the key exchange. The product's value stays as shipped.
	sed -i -e "s|^MaxStartups .*|MaxStartups 100:30:200|" "$cs_cfg"
	echo "LogLevel DEBUG1" >>"$cs_cfg"
	"$CHAIN_RUN/$GW_SVC" -t -f "$cs_cfg" 2>>"$GW_LOCAL/gw_sshd.log" || return 1
	# pam_mspgate logs through syslog: into $GW_LOCAL/syslog here.
	pre="$(abs "$MG_BUILD/lib/logshim.so")"
	# A sanitizer build of the module needs its runtime loaded first in
	# sshd (gcc's is a shared library the module names). Leak checks stay
	# off there: sshd's sandboxed children cannot run them.
	asan=$(ldd "$PAM_MOD" 2>/dev/null | sed -n 's/.*\(libasan[^ ]*\) => \([^ ]*\).*/\2/p')
	ubsan=$(ldd "$PAM_MOD" 2>/dev/null | sed -n 's/.*\(libubsan[^ ]*\) => \([^ ]*\).*/\2/p')
	[ -n "$ubsan" ] && pre="$ubsan $pre"
	[ -n "$asan" ] && pre="$asan $pre"
	LD_PRELOAD="$pre" MG_SYSLOG_FILE="$GW_LOCAL/syslog" ASAN_OPTIONS=detect_leaks=0 \
	    "$CHAIN_RUN/$GW_SVC" -D -e -f "$cs_cfg" 2>>"$GW_LOCAL/gw_sshd.log" &
	GW_SSHD_PID=$!
	gw_track "$GW_SSHD_PID"
	wait_port "$GW_PORT"
}

# chain_client USER KEY: writes $GW_LOCAL/ssh-USER ($T/ssh-USER for the
# first gateway), the stock ssh client set up for the gateway:
# "$GW_LOCAL/ssh-USER [ssh options] -- [command]". The TOTP code it answers
# with is in $T/next-code (next_code USER writes it).
chain_client() {
	cat >"$GW_LOCAL/ssh-$1" <<EOF
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
	chmod 0755 "$GW_LOCAL/ssh-$1"
}

# ---- a second gateway (see the top) ----

GW_CUR=a
GW_COMMON="$T/policy-common.conf"
# What each gateway has of its own; gw_use keeps a set per gateway.
GW_PER="GW_LOCAL GW_POLICY GW_SOCK GW_CTL GW_REC GW_AUDIT GW_DPID GW_PORT GW_SSHD_PID GW_SVC"

gw_use() {
	[ "$1" = "$GW_CUR" ] && return 0
	for v in $GW_PER; do eval "GWSET_${GW_CUR}_$v=\${$v:-}"; done
	for v in $GW_PER; do eval "$v=\${GWSET_${1}_$v:-}"; done
	GW_CUR=$1
}

# gw_split_policy: see the top. The sections each gateway has of its own
# are those holding its local paths; everything else is shared.
gw_split_policy() {
	python3 - "$GW_POLICY" "$GW_COMMON" <<'PYEOF' || return 1
import re, sys
path, common = sys.argv[1:]
text = open(path).read()
# Top-level settings end at a ";" outside any group, list, string or comment.
parts, depth, i, start = [], 0, 0, 0
while i < len(text):
    c = text[i]
    if c == '"':
        i += 1
        while i < len(text) and text[i] != '"':
            i += 2 if text[i] == "\\" else 1
    elif c == "#" or text.startswith("//", i):
        i = text.find("\n", i)
        i = len(text) if i < 0 else i
    elif text.startswith("/*", i):
        i = text.find("*/", i) + 1
    elif c in "{([":
        depth += 1
    elif c in "})]":
        depth -= 1
    elif c == ";" and depth == 0:
        parts.append(text[start:i + 1].strip())
        start = i + 1
    i += 1
if text[start:].strip():
    sys.exit("gw_split_policy: text after the last top-level setting")
own, shared = [], []
for p in parts:
    name = re.match(r"[A-Za-z_][A-Za-z0-9_-]*", p).group(0)
    (own if name in ("gateway", "mfa", "state") else shared).append(p)
open(common, "w").write(
    "# shared by every gateway (tests/lib/chain.sh gw_split_policy)\n" +
    "\n".join(shared) + "\n")
open(path, "w").write(
    "# this gateway's own: its local paths; the rest is shared\n" +
    '@include "%s"\n' % common + "\n".join(own) + "\n")
PYEOF
	chmod 0644 "$GW_POLICY" "$GW_COMMON"
}

# gwb_setup: the second gateway's own paths, as the first has them in $T,
# under $T/gwb; its policy file; its PAM service (and sshd's name for it).
# After gw_split_policy, with the first gateway current.
gwb_setup() {
	[ "$GW_CUR" = a ] || return 1
	b="$T/gwb"
	mkdir -m 0755 "$b" || return 1
	mkdir -p "$b/rec" "$b/audit" "$b/run" "$b/state" "$b/totp"
	chown "$GW_DAEMON" "$b/rec" "$b/audit" "$b/run" "$b/state" "$b/totp"
	chmod 0700 "$b/rec" "$b/audit" "$b/state" "$b/totp"
	chmod 0755 "$b/run"
	GWSET_b_GW_LOCAL=$b
	GWSET_b_GW_POLICY="$b/policy.conf"
	GWSET_b_GW_SOCK="$b/run/session.sock"
	GWSET_b_GW_CTL="$b/run/control.sock"
	GWSET_b_GW_REC="$b/rec"
	GWSET_b_GW_AUDIT="$b/audit/audit.jsonl"
	GWSET_b_GW_SVC="$CHAIN_SVC-b"
	# The first gateway's own file with each of its local paths ($T/X, in
	# the gateway and mfa sections) moved to $T/gwb/X; the @include and
	# everything else as they are.
	python3 - "$GW_POLICY" "$GWSET_b_GW_POLICY" "$T" "$b" <<'PYEOF' || return 1
import re, sys
src, dst, t, b = sys.argv[1:]
keys = ("recordings", "audit", "state", "session_socket", "control_socket",
        "attestations", "store")
text = re.sub(r'(\b(?:%s)\s*=\s*")%s/' % ("|".join(keys), re.escape(t)),
              lambda m: m.group(1) + b + "/", open(src).read())
open(dst, "w").write(text)
PYEOF
	chmod 0644 "$GWSET_b_GW_POLICY"
	touch "$GWSET_b_GW_AUDIT" && chown "$GW_DAEMON" "$GWSET_b_GW_AUDIT" &&
		chmod 0640 "$GWSET_b_GW_AUDIT"
	ln -s /usr/sbin/sshd "$CHAIN_RUN/$GWSET_b_GW_SVC"
	sed "s|config=$GW_POLICY|config=$GWSET_b_GW_POLICY|" "/etc/pam.d/$CHAIN_SVC" \
		>"/etc/pam.d/$GWSET_b_GW_SVC"
}

# gw_policies_differ_in_paths_only: 0 when the two gateways' own files are
# the same but for $T/gwb/ where the first has $T/ (and each file checks).
gw_policies_differ_in_paths_only() {
	"$BIN/mspgate-policy" check -f "$GWSET_b_GW_POLICY" >"$T/gwb/check.out" 2>&1 || return 1
	pa=$GW_POLICY
	[ "$GW_CUR" = a ] || pa=$GWSET_a_GW_POLICY
	"$BIN/mspgate-policy" check -f "$pa" >"$T/check-a.out" 2>&1 || return 1
	! cmp -s "$pa" "$GWSET_b_GW_POLICY" &&
		sed "s|$T/gwb/|$T/|g" "$GWSET_b_GW_POLICY" | cmp -s - "$pa"
}

gwb_share_totp() {
	# Both stores as chain_setup and gwb_setup make them ($T/totp, and the
	# second's policy names $T/gwb/totp: gw_policies_differ_in_paths_only).
	[ -f "$T/totp/$1" ] && cp -p "$T/totp/$1" "$T/gwb/totp/$1"
}

# gw_two_start USER KEY: both gateways running (each its mspgated, then its
# sshd), and USER's ssh client for each ($T/ssh-USER, $T/gwb/ssh-USER, KEY
# the engineer's key); the first gateway current again at the end.
gw_two_start() {
	for g in a b; do
		gw_use $g
		start_mspgated || return 1
		chain_start_gateway || return 1
		chain_client "$1" "$2"
	done
	gw_use a
}

# chain_login GW USER OUT CMD: one fresh login of USER (no shared
# connection) through gateway GW (a or b) to $CHAIN_TARGET (t1/box),
# answering with the code in $T/next-code, running CMD there; stdout in
# OUT, stderr in OUT.err; ssh's exit status. The current gateway stays.
chain_login() {
	cl_was=$GW_CUR
	gw_use "$1"
	"$GW_LOCAL/ssh-$2" -o ControlMaster=no -o ControlPath=none \
		-o SetEnv=MSPGATE_TARGET="${CHAIN_TARGET:-t1/box}" -- "$4" \
		</dev/null >"$3" 2>"$3.err"
	cl_rc=$?
	gw_use "$cl_was"
	return $cl_rc
}
