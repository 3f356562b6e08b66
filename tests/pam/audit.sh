#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# pam_mspgate through the real libpam: a login that cannot be audited is
# denied without using up its code; one audit event per decision, each
# chained and signed (lockout and failure from one auth); store files
# owned by another uid are refused, root's pass.
. tests/lib/tap.sh
. tests/pam/pamlib.inc

LOCK_FAILURES=2
policy <<P
$(mfa_section)
engineers = ( { name = "alice"; groups = ["l1"]; },
              { name = "bob"; groups = ["l1"]; },
              { name = "carol"; groups = ["l1"]; } );
tenants = ( { name = "acme"; targets = ( $(target web01) ); } );
grants = ( { to = "group:l1"; tenants = ["acme"]; targets = ["*"]; logins = ["deploy"]; mfa = "totp"; } );
P
svc mspgate config=$POL
# The audit log's directory does not exist: no event can be written.
svc noaudit config=$POL audit=$T/missing/audit.jsonl

activate() {
	s=$(enroll_batch "$1")
	"$ENROLL" -c "$POL" --activate "$(code "$s" -1)" "$1" >/dev/null 2>&1
	echo "$s"
}
A=$(activate alice)
C=$(code "$A" 0)
run "$T/o" -s noaudit -u alice -c "$C" auth
has "audit log not writable: the right code is denied" "auth PAM_AUTH_ERR" "$T/o"
has "the engineer is told the login cannot be recorded" \
	"error: Access denied: the login cannot be recorded." "$T/o"
check_grep "syslog names the audit log" "audit log $T/missing/audit.jsonl" "$MGPAM_SYSLOG"
run "$T/o" -s mspgate -u alice -c "$C" auth
has "that code was not used up: it logs in once the log is writable" \
	"auth PAM_SUCCESS" "$T/o"
run "$T/o" -s mspgate -u alice -c "$C" auth
has "and only once" "auth PAM_AUTH_ERR" "$T/o"

# bob: two wrong codes lock him (failures = 2); the second auth writes a
# lockout and an auth_failure event, both in the chain.
B=$(activate bob)
W=$(code "$B" 0 | tr 0123456789 1234567890)
run "$T/o" -s mspgate -u bob -c "$W" auth
run "$T/o" -s mspgate -u bob -c "$W" auth
has "second wrong code: denied" "auth PAM_AUTH_ERR" "$T/o"
check_grep "lockout event" '"event":"lockout","engineer":"bob"' "$AUDIT"
n=$(grep -c '"event":"auth_failure","engineer":"bob"' "$AUDIT")
check "one auth_failure event per failed auth ($n)" test "$n" -eq 2
grep -o '"event":"[a-z_]*","engineer":"[a-z]*"' "$AUDIT" | tail -2 >"$T/last2"
printf '%s\n' '"event":"lockout","engineer":"bob"' \
	'"event":"auth_failure","engineer":"bob"' >"$T/want2"
check "the lockout event comes before the auth_failure" cmp -s "$T/last2" "$T/want2"
openssl pkey -in "$KEY" -pubout -out "$T/audit.pub" 2>/dev/null
"$BIN/mspgate-replay" verify --pubkey "$T/audit.pub" "$AUDIT" >"$T/verify" 2>&1
check "the audit log verifies (chain and signatures)" test $? -eq 0

# carol: the secret belongs to another uid (not root, not the mspgate
# user): refused, also after the module looked the owner up.
K=$(activate carol)
chown 4242 "$T/var/totp/carol"
run "$T/o" -s mspgate -u carol -c "$(code "$K" 0)" auth
has "a secret owned by another uid: denied" "auth PAM_AUTH_ERR" "$T/o"
check_grep "syslog says why" "carol.*TOTP secret unusable:.*owned by uid 4242" "$MGPAM_SYSLOG"
chown 0 "$T/var/totp/carol"
run "$T/o" -s mspgate -u carol -c "$(code "$K" 0)" auth
has "owned by root again: accepted" "auth PAM_SUCCESS" "$T/o"

tap_done
