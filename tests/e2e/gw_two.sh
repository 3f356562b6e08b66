#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Two gateways in front of one target, as issue 17 runs them: two gateway
# sshd (the same host key) each with its own mspgated, one shared policy
# @included by each gateway's own file. Here with today's files backend,
# each gateway keeping its own TOTP store and state: what issue 17's shared
# state fixes shows as a check of what happens today.
. tests/lib/tap.sh
. tests/lib/gw.sh
gw_need_root
. tests/lib/chain.sh

gw_setup || { fail "gateway setup"; tap_done; exit 1; }
chain_setup || { fail "chain setup (PAM module, sk-soft)"; tap_done; exit 1; }
GW_GATEWAY_EXTRA="  user = \"$GW_DAEMON\";"
gw_write_policy "mfa: { totp: { store = \"$T/totp\"; skew_steps = 1; }; };"
chain_sk_engineer
gw_split_policy
check "each gateway's own file @includes the shared policy" \
	grep -q "^@include \"$GW_COMMON\"" "$GW_POLICY"
touch "$GW_AUDIT" && chown "$GW_DAEMON" "$GW_AUDIT" && chmod 0640 "$GW_AUDIT"
gwb_setup || { fail "second gateway setup"; tap_done; exit 1; }
check "both policies check and differ only in local paths" gw_policies_differ_in_paths_only
chain_enroll "$GW_ENG"
gwb_share_totp "$GW_ENG"
check "the engineer is enrolled at both with the same secret" \
	cmp -s "$T/totp/$GW_ENG" "$T/gwb/totp/$GW_ENG"
gw_two_start "$GW_ENG" "$T/eng_sk" || { fail "both gateways started"; tap_done; exit 1; }
gw_use b
PORT_B=$GW_PORT
gw_use a
check "two gateway sshd on two ports" test "$GW_PORT" != "$PORT_B"
hostkey() { ssh-keyscan -t ed25519 -p "$1" 127.0.0.1 2>/dev/null | cut -d' ' -f2-3; }
check "both present the same host key" test -n "$(hostkey "$GW_PORT")" -a \
	"$(hostkey "$GW_PORT")" = "$(hostkey "$PORT_B")"

# One code, gateway A first, then B.
next_code "$GW_ENG"
chain_login a "$GW_ENG" "$T/out-a" 'echo via-$((40+1))'
check "A: FIDO + TOTP login reaches the target" grep -qx via-41 "$T/out-a"
check_grep "A: its sshd took the TOTP step" "Accepted keyboard-interactive/pam for $GW_ENG" \
	"$T/gw_sshd.log"
chain_login a "$GW_ENG" "$T/again-a" 'echo again-a'
check "A: the same code again refused (its own used-code record)" \
	test $? -ne 0 -a ! -s "$T/again-a"
chain_login b "$GW_ENG" "$T/out-b" 'echo via-$((40+2))'
check "files backend, separate state: B accepts a code already used on A (what #17's shared state refuses)" \
	grep -qx via-42 "$T/out-b"
check_grep "B: its own sshd took it" "Accepted keyboard-interactive/pam for $GW_ENG" \
	"$T/gwb/gw_sshd.log"

# Each gateway's evidence is its own, and whole.
for g in a b; do
	gw_use $g
	check "$g: every session ended" gw_wait_sessions 0
	check "$g: its recording verifies" gw_verify_recordings
	check "$g: one recording" test "$(ls "$GW_REC" | grep -c '\.cast$')" -eq 1
	check_grep_soon "$g: audit has the session's seal" '"session_end"' "$GW_AUDIT"
	"$BIN/mspgate-replay" verify --pubkey "$GW_SIGNPUB" "$GW_AUDIT" >"$GW_LOCAL/av" 2>&1
	check "$g: its audit log verifies" test $? -eq 0
done
gw_use a
check "no sanitizer or valgrind reports" gw_no_reports
tap_done
