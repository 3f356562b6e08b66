#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# max_login_age (issue 14): a login older than the grant allows gets no new
# session; on a terminal, where the grant asks for TOTP alone, a fresh code
# renews it for that session. The login's age comes from its attestation
# (tests/lib/attest-run plays sshd's monitor with an older login time).
. tests/lib/tap.sh
. tests/lib/gw.sh
gw_need_root
gw_setup || { fail "gateway setup"; tap_done; exit 1; }
# t3: TOTP alone, logins up to 30 minutes old; t6 (gw.sh): FIDO.
GW_GRANTS_EXTRA=", { to = \"$GW_ENG\"; tenants = [ \"t3\" ]; targets = [ \"*\" ];
    logins = [ \"$GW_TUSER\" ]; mfa = \"totp\"; max_login_age = \"30m\"; }"
gw_write_policy
start_mspgated || { fail "mspgated starts"; tap_done; exit 1; }
# The code of the step N steps from now (activation used this one).
code() { oathtool --totp -b -N "@$(( $(date +%s) + $1 * 30 ))" "$(cat "$T/secret")"; }

GW_ATTEST_OPTS="-a 600" gw_shell MSPGATE_TARGET=t3/box SSH_ORIGINAL_COMMAND='echo young' \
	</dev/null >"$T/o1" 2>&1
check "a login 10 minutes old: a session under the 30m grant" grep -q '^young$' "$T/o1"
GW_ATTEST_OPTS="-a 3600" gw_shell MSPGATE_TARGET=t3/box SSH_ORIGINAL_COMMAND='echo old' \
	</dev/null >"$T/o2" 2>&1
check "an hour old, no terminal: refused" test $? -eq 255
check_grep "...saying the login is too old" "login is 1h\([0-9]*s\)\{0,1\} old.*max_login_age.*log in again" "$T/o2"
check_grep_soon "...audited" '"event":"denied".*max_login_age' "$GW_AUDIT"

GW_ATTEST_OPTS="-a 3600" gw_pty 'expect:TOTP code: ' 'send:000000\r' 'expect:not permitted' -- \
	"$T/as-engineer" MSPGATE_TARGET=t3/box SSH_ORIGINAL_COMMAND='echo renewed' >"$T/o3" 2>&1
check "an hour old, on a terminal, a wrong fresh code: refused" test $? -eq 255
check_grep "...asked because of the login's age" "older than this grant allows" "$T/o3"
check "...nothing ran" sh -c "! grep -q '^renewed' '$T/o3'"
C=$(code 1)
GW_ATTEST_OPTS="-a 3600" gw_pty 'expect:TOTP code: ' "send:$C\\r" 'expect:renewed' -- \
	"$T/as-engineer" MSPGATE_TARGET=t3/box SSH_ORIGINAL_COMMAND='echo renewed' >"$T/o4" 2>&1
check "...a right fresh code renews it for the session" test $? -eq 0
check_grep_soon "...audited as a fresh code accepted" '"event":"auth_success".*fresh TOTP code accepted' \
	"$GW_AUDIT"
check_grep_soon "...named as the login's age" 'fresh TOTP code for login age (max_login_age)' "$GW_AUDIT"
# Past gateway.max_login_age (8h), without a terminal: refused on t1 too.
GW_ATTEST_OPTS="-a 30000" gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='echo x' \
	</dev/null >"$T/o5" 2>&1
check "older than gateway.max_login_age (8h) on t1: refused" test $? -eq 255
check_grep "...saying so" "login is 8h20m\([0-9]*s\)\{0,1\} old.*max_login_age" "$T/o5"
check "no sanitizer or valgrind reports" gw_no_reports
tap_done
