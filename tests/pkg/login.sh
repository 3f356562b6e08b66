# SPDX-License-Identifier: BSD-2-Clause
# An engineer's login through the PACKAGED gateway, for tests/pkg/deb.sh:
# source after tests/lib/tap.sh (as deb.sh does, before it sets its trap).
# While the packages are installed and mspgated and the gateway sshd run
# from their unit files, login_run does what a sysadmin does on such a
# gateway and then logs an engineer in with the stock ssh client:
#   - a throwaway client host: a target sshd on 127.0.0.1 (tests/lib/gw.sh)
#     with a throwaway login whose authorized key is the vault credential;
#   - /etc/mspgate/mspgate.conf: the engineer (a software FIDO key,
#     tests/lib/sk-soft), a tenant with the target (host key pinned), a
#     grant with mfa = "fido+totp"; mspgate-policy check; the vault key;
#     mspgate-policy accounts sync (the engineer's gateway account);
#     mspgate-enroll (TOTP); SIGHUP to mspgated;
#   - the engineer: ssh -p 2222 with the key and a TOTP code (SSH_ASKPASS),
#     exec and pty sessions; a wrong code and a stranger are refused;
#   - the auditor: recordings and audit log verify with the installed
#     signing key, the text shows what ran, the events are there;
#   - the engineer removed from the policy: accounts sync removes the
#     account.
# login_cleanup (called first by deb.sh's cleanup) removes what it made:
# accounts, the target sshd, the ssh control master; files are under $T.
#
#   login_run SRC DPID    SRC: the scratch tree (for sk-soft.so); DPID:
#                         the mspgated started from the unit file

# gw.sh: make_user, start_target_sshd, free_port, gw_pty. Sourcing it only
# defines variables and functions, and sets a trap that deb.sh replaces.
. tests/lib/gw.sh

LOGIN_ENG="${GW_TAG}e"     # the engineer, made by mspgate-policy accounts sync
LOGIN_TUSER="${GW_TAG}t"   # the login on the client host
LOGIN_STRANGER="${GW_TAG}x" # a local account the policy does not know
LOGIN_TENANT="acme"
LOGIN_TARGET="web01"
LOGIN_CRED="acme-web01"
LOGIN_POL=/etc/mspgate/mspgate.conf
LOGIN_AUDIT=/var/log/mspgate/audit.jsonl
LOGIN_REC=/var/lib/mspgate/recordings
LOGIN_PUB=/etc/mspgate/signing_key.pub

login_cleanup() {
	# GW_KEEP=DIR (as in tests/lib/gw.sh): a copy of the test's files
	# (with the audit log and recordings in after-login/), for a post-mortem.
	[ -n "${GW_KEEP:-}" ] && mkdir -p "$GW_KEEP" && cp -a "$T/." "$GW_KEEP/" 2>/dev/null
	[ -S "$T/cm.ctl" ] && ssh -S "$T/cm.ctl" -O exit x >/dev/null 2>&1
	# A control master whose socket is gone: by its own unique path.
	for p in $(pgrep -f -- "ControlPath=$T/cm.ctl" 2>/dev/null); do kill "$p" 2>/dev/null; done
	for p in $GW_PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in $GW_PIDS; do kill -9 "$p" 2>/dev/null; done
	GW_PIDS=""
	# The engineer's account is made by accounts sync; its name is this
	# test's own (mgt<pid>e), as are the others.
	getent passwd "$LOGIN_ENG" >/dev/null && GW_USERS="$GW_USERS $LOGIN_ENG"
	for u in $GW_USERS; do
		for p in $(pgrep -u "$u" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	done
	for u in $GW_USERS; do userdel -r "$u" >/dev/null 2>&1 || userdel "$u" >/dev/null 2>&1; done
	GW_USERS=""
}

# login_code [+SECONDS]: the engineer's TOTP code SECONDS from now into
# $T/next-code (each login uses up a 30 s step: the next step is within
# the default skew).
login_code() {
	oathtool --totp -b "$(cat "$T/totp.secret")" \
		-N "$(date -u -d "${1:-+30} seconds" '+%Y-%m-%d %H:%M:%S UTC')" >"$T/next-code"
}

# login_policy WITH_ENGINEER: the sysadmin's policy, written in place (the
# conffile keeps its owner and mode).
login_policy() {
	hk=$(cut -d' ' -f1-2 "$TARGET_HOSTKEY.pub")
	skpub=$(cut -d' ' -f1-2 "$T/eng_sk.pub")
	if [ "$1" = yes ]; then
		eng="engineers = (
  { name = \"$LOGIN_ENG\"; groups = [ \"l2\" ]; description = \"throwaway engineer ($GW_TAG)\";
    keys = [ \"$skpub $LOGIN_ENG@sk-soft\" ]; }
);"
		grants="grants = (
  { to = \"group:l2\"; tenants = [ \"$LOGIN_TENANT\" ]; targets = [ \"web*\" ];
    logins = [ \"$LOGIN_TUSER\" ]; mfa = \"fido+totp\"; max_session = \"1h\"; }
);"
	else
		eng="engineers = ( );"
		grants="grants = ( );"
	fi
	cat >"$LOGIN_POL" <<EOF
# mspgate policy written by tests/pkg/deb.sh ($GW_TAG). See mspgate.conf(5).
$eng
tenants = (
  { name = "$LOGIN_TENANT";
    targets = (
      { name = "$LOGIN_TARGET"; host = "127.0.0.1"; port = $TARGET_PORT;
        host_key = "$hk"; logins = [ "$LOGIN_TUSER" ]; credential = "$LOGIN_CRED"; }
    );
  }
);
$grants
EOF
}

# login_ssh_as USER KEY [ssh options] -- [command]: the stock client, as the engineer's
# laptop would run it: the gateway's host key pinned, the security key, a
# TOTP code from $T/next-code through SSH_ASKPASS.
login_ssh_as() {
	u=$1 k=$2
	shift 2
	o=""
	while [ $# -gt 0 ] && [ "$1" != -- ]; do o="$o $1"; shift; done
	[ "${1:-}" = -- ] && shift
	# shellcheck disable=SC2086
	SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0 \
	ssh -F /dev/null -p 2222 -i "$k" -o IdentitiesOnly=yes \
		-o SecurityKeyProvider="$SK_LIB" -o StrictHostKeyChecking=yes \
		-o UserKnownHostsFile="$T/gw_known" -o LogLevel=ERROR \
		-o PreferredAuthentications=publickey,keyboard-interactive \
		-o ConnectTimeout=10 $o "$u@127.0.0.1" "$@"
}

# audit_has EVENT ENGINEER [ERE]: a line of that event for that engineer
# (mspgated's events name the session first, pam_mspgate's do not).
audit_has() {
	grep -q -E "\"event\":\"$1\",(\"session\":\"[^\"]*\",)?\"engineer\":\"$2\"${3:+.*$3}" \
		"$LOGIN_AUDIT"
}

login_sessions() { mspgatectl list 2>/dev/null | tail -n +2 | grep -c -w -- "$LOGIN_ENG"; }
login_wait_sessions() {
	n=0
	while [ $n -lt 100 ]; do
		[ "$(login_sessions)" -eq "$1" ] && return 0
		sleep 0.1; n=$((n + 1))
	done
	return 1
}

login_run() {
	src=$1 dpid=$2
	mkdir -p "$T/home"
	chmod 0755 "$T/home"

	# -- the client host ----------------------------------------------
	make_user "$LOGIN_TUSER" && start_target_sshd "$LOGIN_TUSER"
	check "client host: target sshd on 127.0.0.1:${TARGET_PORT:-?} (login $LOGIN_TUSER)" \
		test -n "${TARGET_PID:-}"

	# -- the engineer's laptop: a (software) FIDO key -----------------
	(cd "$src" && make build/lib/sk-soft.so) >"$T/sk-soft.log" 2>&1
	SK_LIB="$src/build/lib/sk-soft.so"
	check "sk-soft.so built (test-only FIDO middleware, not packaged)" test -f "$SK_LIB"
	ssh-keygen -q -t ed25519-sk -w "$SK_LIB" -N '' -C "$LOGIN_ENG@sk-soft" \
		-f "$T/eng_sk" 2>>"$T/keygen.log"
	check "engineer's security key (ed25519-sk)" test -f "$T/eng_sk.pub"
	printf '[127.0.0.1]:2222 %s\n' "$(cut -d' ' -f1-2 /etc/mspgate/ssh_host_ed25519_key.pub)" \
		>"$T/gw_known"
	cat >"$T/askpass" <<EOF
#!/bin/sh
# ssh asks for the TOTP code (keyboard-interactive) through here.
case "\$1" in
*erification*|*ode*) cat "$T/next-code" ;;
*) exit 0 ;;
esac
EOF
	chmod 0755 "$T/askpass"

	# -- the sysadmin: vault, policy, accounts, TOTP, reload -----------
	vk="/etc/mspgate/vault/$LOGIN_CRED.key"
	ssh-keygen -q -t ed25519 -N '' -C mspgate -f "$vk" && chown mspgate "$vk" &&
		chmod 0600 "$vk"
	check "vault: $vk mspgate 0600" test "$(stat -c '%U %a' "$vk" 2>/dev/null)" = "mspgate 600"
	cp "$vk.pub" "$T/target/authorized_keys"
	chmod 0644 "$T/target/authorized_keys"
	login_policy yes
	check "policy written in place: still root:mspgate 0640" mode_is "$LOGIN_POL" root:mspgate 640
	mspgate-policy check >"$T/policy2.out" 2>&1
	check_exit 0 "mspgate-policy check: the sysadmin's policy" test $? -eq 0
	sed 's/^/#   /' "$T/policy2.out"
	mspgate-policy explain "$LOGIN_ENG" "$LOGIN_TENANT/$LOGIN_TARGET" --mfa fido+totp \
		>"$T/explain.out" 2>&1
	check_exit 0 "mspgate-policy explain: allow with fido+totp" test $? -eq 0
	mspgate-policy explain "$LOGIN_ENG" "$LOGIN_TENANT/$LOGIN_TARGET" --mfa totp \
		>"$T/explain2.out" 2>&1
	check "mspgate-policy explain: deny with TOTP alone (exit 3)" test $? -eq 3

	mspgate-policy accounts sync >"$T/sync.out" 2>&1
	check_exit 0 "mspgate-policy accounts sync" test $? -eq 0
	check "accounts sync: $LOGIN_ENG made, shell mspgate-shell" sh -c "
		[ \"\$(getent passwd $LOGIN_ENG | cut -d: -f7)\" = /usr/sbin/mspgate-shell ]"

	mspgate-enroll --batch "$LOGIN_ENG" >"$T/uri" 2>>"$T/enroll.log"
	sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' "$T/uri" >"$T/totp.secret"
	check "mspgate-enroll --batch: an otpauth URI" test -s "$T/totp.secret"
	mspgate-enroll --activate "$(oathtool --totp -b "$(cat "$T/totp.secret")")" "$LOGIN_ENG" \
		>>"$T/enroll.log" 2>&1
	check_exit 0 "mspgate-enroll --activate with the current code" test $? -eq 0
	check "TOTP secret in /var/lib/mspgate/totp: a file for the engineer, 0600" sh -c "
		f=\$(find /var/lib/mspgate/totp -type f -name '*$LOGIN_ENG*' | head -1)
		[ -n \"\$f\" ] && case \$(stat -c %a \"\$f\") in 600|400) true ;; *) false ;; esac"

	n0=$(grep -c '"event":"policy_reload".*"result":"success"' "$LOGIN_AUDIT")
	kill -HUP "$dpid"
	check "mspgated took the new policy (SIGHUP, policy_reload success audited)" wait_for sh -c "
		[ \$(grep -c '\"event\":\"policy_reload\".*\"result\":\"success\"' $LOGIN_AUDIT) -gt $n0 ]"
	check "mspgated still runs after the reload" kill -0 "$dpid"
	runuser -u mspgate -- /usr/sbin/mspgate-keys "$LOGIN_ENG" >"$T/keys2.out" 2>&1
	check "mspgate-keys gives the engineer's security key" \
		grep -q "$(cut -d' ' -f2 "$T/eng_sk.pub")" "$T/keys2.out"

	# -- the engineer --------------------------------------------------
	# The first login (FIDO + TOTP) is kept as a shared connection for the
	# sessions after it: each fresh login uses up a TOTP step.
	CM="-o ControlPath=$T/cm.ctl"
	login_code +30
	login_ssh_as "$LOGIN_ENG" "$T/eng_sk" $CM -o ControlMaster=yes -o ControlPersist=120 \
		-o SetEnv=MSPGATE_TARGET=$LOGIN_TENANT/$LOGIN_TARGET \
		-- 'id -un; echo marker-'"$$"'; exit 5' </dev/null >"$T/o1" 2>"$T/e1"
	rc=$?
	check "ssh -p 2222 (SetEnv MSPGATE_TARGET): exit status from the target (5)" test $rc -eq 5
	if [ $rc -ne 5 ]; then
		echo "# exit $rc; stderr:"; sed 's/^/#   /' "$T/e1"
		echo "# gateway sshd:"; tail -20 "$T/gw_sshd.log" | sed 's/^/#   /'
		echo "# mspgated:"; tail -10 "$T/mspgated.log" | sed 's/^/#   /'
	fi
	check "exec: ran as the target login" test "$(head -1 "$T/o1")" = "$LOGIN_TUSER"
	check_grep "exec: the marker came back" "^marker-$$\$" "$T/o1"
	check_grep "gateway sshd: security key first" \
		"Partial publickey for $LOGIN_ENG .*ED25519-SK" "$T/gw_sshd.log"
	check_grep "gateway sshd: then keyboard-interactive/pam (TOTP)" \
		"Accepted keyboard-interactive/pam for $LOGIN_ENG" "$T/gw_sshd.log"

	# Sessions over the shared connection: its SetEnv names the target
	# for each of them (as an engineer's ~/.ssh/config would).
	printf 'abc\n' | login_ssh_as "$LOGIN_ENG" "$T/eng_sk" $CM -- 'tr a-z A-Z' \
		>"$T/o2" 2>"$T/e2"
	check "exec: stdin reaches the target" test "$(cat "$T/o2")" = ABC

	# A live session, as the operator sees it.
	login_ssh_as "$LOGIN_ENG" "$T/eng_sk" $CM -- 'echo live; sleep 4' </dev/null >"$T/o3" 2>&1 &
	lpid=$!
	GW_PIDS="$GW_PIDS $lpid"
	check "mspgatectl list shows the live session" login_wait_sessions 1
	mspgatectl list >"$T/ctl2.out" 2>&1
	check_grep "mspgatectl list: engineer, tenant/target, login" \
		"$LOGIN_ENG.*$LOGIN_TENANT/$LOGIN_TARGET.*$LOGIN_TUSER" "$T/ctl2.out"
	wait "$lpid"
	check "the live session ended on its own (exit 0)" test $? -eq 0

	# An interactive shell on a pty: type a line, get the exit code.
	LOGIN_PTY="$T/pty-ssh"
	cat >"$LOGIN_PTY" <<EOF
#!/bin/sh
SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0 \\
exec ssh -F /dev/null -p 2222 -i $T/eng_sk -o IdentitiesOnly=yes \\
	-o SecurityKeyProvider=$SK_LIB -o StrictHostKeyChecking=yes \\
	-o UserKnownHostsFile=$T/gw_known -o LogLevel=ERROR \\
	-o ControlPath=$T/cm.ctl -tt $LOGIN_ENG@127.0.0.1
EOF
	chmod 0755 "$LOGIN_PTY"
	gw_pty "expect:\\$ " "send:echo pty-\$((40+2))-$$\\n" "expect:pty-42-$$" \
		"send:exit 7\\n" -- "$LOGIN_PTY" >"$T/o4" 2>&1
	rc=$?
	check "pty session (ssh -tt): exit code 7" test $rc -eq 7
	[ $rc -eq 7 ] || { echo "# exit $rc; the terminal showed:"; sed 's/^/#   /' "$T/o4"; }
	check_grep "pty session: the typed line ran on the target" "pty-42-$$" "$T/o4"

	ssh -S "$T/cm.ctl" -O exit x >/dev/null 2>&1
	check "all sessions over: mspgatectl list empty for the engineer" login_wait_sessions 0

	# -- refused -------------------------------------------------------
	# A wrong code on a fresh connection (one not valid now, nor a step
	# either side).
	w=000000
	for s in -30 +0 +30; do
		[ "$(oathtool --totp -b "$(cat "$T/totp.secret")" \
			-N "$(date -u -d "$s seconds" '+%Y-%m-%d %H:%M:%S UTC')")" = $w ] && w=999999
	done
	echo "$w" >"$T/next-code"
	login_ssh_as "$LOGIN_ENG" "$T/eng_sk" -o SetEnv=MSPGATE_TARGET=$LOGIN_TENANT/$LOGIN_TARGET \
		-- 'echo should-not-run' </dev/null >"$T/o5" 2>"$T/e5"
	check "a wrong TOTP code is refused (ssh exits 255)" test $? -eq 255
	check "wrong code: nothing ran" sh -c "! grep -q should-not-run '$T/o5'"
	check "wrong code: auth_failure audited" audit_has auth_failure "$LOGIN_ENG"

	# A local account the policy does not name, with its own security key.
	make_user "$LOGIN_STRANGER"
	ssh-keygen -q -t ed25519-sk -w "$SK_LIB" -N '' -C stranger -f "$T/x_sk" 2>>"$T/keygen.log"
	login_code +30
	login_ssh_as "$LOGIN_STRANGER" "$T/x_sk" -o SetEnv=MSPGATE_TARGET=$LOGIN_TENANT/$LOGIN_TARGET \
		-- 'echo should-not-run' </dev/null >"$T/o6" 2>"$T/e6"
	check "an account not in the policy cannot log in (ssh exits 255)" test $? -eq 255
	check "not in the policy: nothing ran" sh -c "! grep -q should-not-run '$T/o6'"

	# -- the auditor ---------------------------------------------------
	set -- "$LOGIN_REC"/*.cast
	check "recordings in $LOGIN_REC (got $#)" test -e "$1" -a $# -ge 3
	check "recordings owned by mspgate, not readable by others" sh -c '
		for f in "$@"; do
			[ "$(stat -c %U "$f")" = mspgate ] || exit 1
			[ $(( 0$(stat -c %a "$f") & 7 )) -eq 0 ] || exit 1
		done' sh "$@"
	mspgate-replay verify --pubkey "$LOGIN_PUB" "$@" >"$T/verify-rec.out" 2>&1
	check_exit 0 "mspgate-replay verify: every recording" test $? -eq 0
	sed 's/^/#   /' "$T/verify-rec.out" | head -10
	mspgate-replay verify --pubkey "$LOGIN_PUB" "$LOGIN_AUDIT" >"$T/verify-audit.out" 2>&1
	check_exit 0 "mspgate-replay verify: the audit log" test $? -eq 0
	sed 's/^/#   /' "$T/verify-audit.out" | head -5
	check "recording headers: the engineer, $LOGIN_TENANT/$LOGIN_TARGET, mfa fido+totp" sh -c '
		for f in "$@"; do
			head -n 1 "$f" | grep -q "\"engineer\": \"$0\", \"tenant\": \"acme\", \"target\": \"web01\".*\"mfa\": \"fido+totp\"" ||
				exit 1
		done' "$LOGIN_ENG" "$@"
	mspgate-replay list >"$T/list.out" 2>&1
	check_grep "mspgate-replay list: the engineer's sessions" "$LOGIN_ENG.*$LOGIN_TENANT" "$T/list.out"
	: >"$T/text.out"
	for f in "$@"; do mspgate-replay text "$f" >>"$T/text.out" 2>&1; done
	check_grep "mspgate-replay text: the exec marker" "marker-$$" "$T/text.out"
	check_grep "mspgate-replay text: the typed pty line" "pty-42-$$" "$T/text.out"
	check "audit: auth_success for the engineer (pam_mspgate in the gateway sshd)" \
		audit_has auth_success "$LOGIN_ENG"
	check "audit: session_start for the engineer on $LOGIN_TENANT/$LOGIN_TARGET" \
		audit_has session_start "$LOGIN_ENG" "\"tenant\":\"$LOGIN_TENANT\",\"target\":\"$LOGIN_TARGET\",\"login\":\"$LOGIN_TUSER\""
	check "audit: session_end with the exit status (5), recording and seal" \
		audit_has session_end "$LOGIN_ENG" '"exit":5,"recording":"[^"]+","seal":"[^"]+"'
	check "audit: session_start/session_end from pam_mspgate (service mspgate)" sh -c "
		grep -q '\"event\":\"session_start\",\"engineer\":\"$LOGIN_ENG\".*service=mspgate' $LOGIN_AUDIT &&
		grep -q '\"event\":\"session_end\",\"engineer\":\"$LOGIN_ENG\"' $LOGIN_AUDIT"
	check "audit: pam_mspgate's session_start (in sshd's parent) names fido+totp" sh -c "
		grep -q '\"event\":\"session_start\",\"engineer\":\"$LOGIN_ENG\".*service=mspgate.*mfa=fido+totp' $LOGIN_AUDIT"
	check "audit: nothing of the TOTP secret" sh -c "! grep -q '$(cat "$T/totp.secret")' $LOGIN_AUDIT"
	check "audit log still mspgate 0640" mode_is "$LOGIN_AUDIT" mspgate:mspgate 640

	# For GW_KEEP: the purge removes the originals.
	mkdir -p "$T/after-login" && cp -a "$LOGIN_AUDIT" "$LOGIN_REC" "$T/after-login/"

	# -- the engineer leaves: the account goes with the policy entry ----
	login_policy no
	mspgate-policy check >/dev/null 2>&1
	check_exit 0 "policy without the engineer: check" test $? -eq 0
	mspgate-policy accounts sync >"$T/sync2.out" 2>&1
	check_exit 0 "accounts sync after the engineer left" test $? -eq 0
	check "accounts sync removed $LOGIN_ENG" sh -c "! getent passwd $LOGIN_ENG >/dev/null"
	kill -HUP "$dpid"
	runuser -u mspgate -- /usr/sbin/mspgate-keys "$LOGIN_ENG" >"$T/keys3.out" 2>&1
	check "mspgate-keys: no key for the engineer now" test ! -s "$T/keys3.out"
	stop_target_sshd
}
