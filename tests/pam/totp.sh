#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# pam_mspgate TOTP through the real libpam: enrol, activate, right, wrong,
# replayed, expired and next-step codes, 8 digits with SHA-256, arguments,
# scope, exports, and what reaches syslog and the audit log.
. tests/lib/tap.sh
. tests/pam/pamlib.inc

policy <<P
$(mfa_section)
engineers = ( { name = "alice"; groups = ["l1"]; },
              { name = "erin"; groups = ["l1"]; } );
tenants = ( { name = "acme"; targets = ( $(target web01) ); } );
grants = ( { to = "group:l1"; tenants = ["acme"]; targets = ["*"]; logins = ["deploy"]; mfa = "totp"; } );
P
svc mspgate config=$POL
svc typo config=$POL debgu
svc relconf config=etc/mspgate.conf

# nm -D: the module exports the PAM entry points and nothing else.
nm -D --defined-only "$MOD" | awk '{print $3}' | sort >"$T/syms"
printf '%s\n' pam_sm_acct_mgmt pam_sm_authenticate pam_sm_close_session \
	pam_sm_open_session pam_sm_setcred >"$T/want"
check "nm -D shows only pam_sm_* exported" cmp -s "$T/syms" "$T/want"

S=$(enroll_batch alice)
check "mspgate-enroll --batch prints an otpauth URI with a base32 secret" \
	test "${#S}" -eq 32
run "$T/o" -s mspgate -u alice -c "$(code "$S" 0)" auth
has "a pending secret does not log in" "auth PAM_AUTH_ERR" "$T/o"
"$ENROLL" -c "$POL" --activate 000000 alice >"$T/act" 2>&1
check "--activate with a wrong code fails" test $? -ne 0
"$ENROLL" -c "$POL" --activate "$(code "$S" -1)" alice >"$T/act" 2>&1
check "--activate with a valid code activates" grep -q "secret activated" "$T/act"

C=$(code "$S" 0)
run "$T/o" -s mspgate -u alice -c "$C" -r 192.0.2.1 -t ssh auth setcred
has "prompts 'Verification code: '" "prompt: Verification code: " "$T/o"
has "right code: PAM_SUCCESS" "auth PAM_SUCCESS" "$T/o"
has "setcred: PAM_SUCCESS" "setcred PAM_SUCCESS" "$T/o"
has "MSPGATE_MFA is put in the PAM environment" "env MSPGATE_MFA=totp" "$T/o"
run "$T/o" -s mspgate -u alice -c "$C" auth
has "replayed code: PAM_AUTH_ERR" "auth PAM_AUTH_ERR" "$T/o"
has "the failure message is the generic one" "error: Verification failed." "$T/o"
check_grep "syslog says replay" "user=alice .*already used (replay)" "$MGPAM_SYSLOG"
run "$T/o" -s mspgate -u alice -c "$(code "$S" -1)" auth
has "a code older than the last accepted one: denied" "auth PAM_AUTH_ERR" "$T/o"
run "$T/o" -s mspgate -u alice -c "$(code "$S" 1)" auth
has "code of the next step (within the skew): PAM_SUCCESS" "auth PAM_SUCCESS" "$T/o"

# erin: expired (2 steps back) and too early (2 ahead) codes never pass.
E=$(enroll_batch erin)
"$ENROLL" -c "$POL" --activate "$(code "$E" -1)" erin >/dev/null 2>&1
run "$T/o" -s mspgate -u erin -c "$(code "$E" -3)" auth
has "expired code (3 steps old, skew 1): denied" "auth PAM_AUTH_ERR" "$T/o"
run "$T/o" -s mspgate -u erin -c "$(code "$E" 3)" auth
has "code 3 steps ahead: denied" "auth PAM_AUTH_ERR" "$T/o"
W=$(code "$E" 0 | tr 0123456789 1234567890)
run "$T/o" -s mspgate -u erin -c "$W" auth
has "wrong code: PAM_AUTH_ERR" "auth PAM_AUTH_ERR" "$T/o"
run "$T/o" -s mspgate -u erin -c "12345" auth
has "a 5-digit answer: denied" "auth PAM_AUTH_ERR" "$T/o"
run "$T/o" -s mspgate -u erin -c "$(code "$E" 0 | sed 's/^\(...\)/\1 /')" auth
has "a code typed with a space ('123 456'): accepted" "auth PAM_SUCCESS" "$T/o"

# Secrets and codes never reach syslog.
check "the secret is not in syslog" sh -c "! grep -q '$S' '$MGPAM_SYSLOG'"
check "the code is not in syslog" sh -c "! grep -q '$C' '$MGPAM_SYSLOG'"
check "the code is not in the audit log" sh -c "! grep -q '\"$C\"' '$AUDIT'"
check_grep "the audit log has auth_success with the MFA used" \
	'"event":"auth_success","engineer":"alice".*mfa=totp' "$AUDIT"
check_grep "the audit log has auth_failure" '"event":"auth_failure","engineer":"alice"' "$AUDIT"
check "the store file is mode 0600" test "$(stat -c %a "$T/var/totp/alice")" = 600

# An unknown user and an engineer with a wrong code look the same: an
# unknown user is not ours (PAM_IGNORE), an MSP account without a secret
# is prompted and gets the same message.
run "$T/o" -s mspgate -u nobody-here -c 123456 auth acct open
has "non-MSP user: auth PAM_IGNORE" "auth PAM_IGNORE" "$T/o"
has "non-MSP user: account PAM_IGNORE" "acct PAM_IGNORE" "$T/o"
has "non-MSP user: session PAM_IGNORE" "open PAM_IGNORE" "$T/o"

# Arguments: an unknown one is an error, never ignored.
: >"$MGPAM_SYSLOG"
run "$T/o" -s typo -u alice -c 123456 auth acct open
has "unknown argument: auth PAM_SERVICE_ERR" "auth PAM_SERVICE_ERR" "$T/o"
has "unknown argument: account PAM_SERVICE_ERR" "acct PAM_SERVICE_ERR" "$T/o"
has "unknown argument: session PAM_SERVICE_ERR" "open PAM_SERVICE_ERR" "$T/o"
check_grep "unknown argument is in syslog" "unknown or invalid argument 'debgu'" "$MGPAM_SYSLOG"
run "$T/o" -s relconf -u alice -c 123456 auth
has "relative config= path: PAM_SERVICE_ERR" "auth PAM_SERVICE_ERR" "$T/o"

# 8 digits, SHA-256, from the policy at enrolment.
policy <<P
$(mfa_section 'digits = 8; algorithm = "sha256";')
engineers = ( { name = "frank"; groups = ["l1"]; } );
tenants = ( { name = "acme"; targets = ( $(target web01) ); } );
grants = ( { to = "group:l1"; tenants = ["acme"]; targets = ["*"]; logins = ["deploy"]; mfa = "totp"; } );
P
F=$(enroll_batch frank)
"$ENROLL" -c "$POL" --batch --reset frank >"$T/uri" 2>/dev/null
F=$(sed 's/.*secret=\([A-Z2-7]*\).*/\1/' "$T/uri")
check_grep "the URI says SHA256 and 8 digits" "algorithm=SHA256&digits=8&period=30" "$T/uri"
"$ENROLL" -c "$POL" --activate "$(code "$F" -1 8 sha256)" frank >/dev/null 2>&1
run "$T/o" -s mspgate -u frank -c "$(code "$F" 0 8 sha256)" auth
has "8-digit SHA-256 code: PAM_SUCCESS" "auth PAM_SUCCESS" "$T/o"
run "$T/o" -s mspgate -u frank -c "$(code "$F" 1 8 sha1)" auth
has "the same step with SHA-1: denied" "auth PAM_AUTH_ERR" "$T/o"

# Two handles in one process: no shared state between them.
policy <<P
$(mfa_section)
engineers = ( { name = "gina"; groups = ["l1"]; }, { name = "hank"; groups = ["l1"]; } );
tenants = ( { name = "acme"; targets = ( $(target web01) ); } );
grants = ( { to = "group:l1"; tenants = ["acme"]; targets = ["*"]; logins = ["deploy"]; mfa = "totp"; } );
P
G=$(enroll_batch gina)
H=$(enroll_batch hank)
"$ENROLL" -c "$POL" --activate "$(code "$G" -1)" gina >/dev/null 2>&1
"$ENROLL" -c "$POL" --activate "$(code "$H" -1)" hank >/dev/null 2>&1
run "$T/o" -s mspgate -u gina -c "$(code "$G" 0)" -U hank -k "$(code "$H" 0)" auth auth2
has "two handles: the first authenticates" "auth PAM_SUCCESS" "$T/o"
has "two handles: the second authenticates too" "auth2 PAM_SUCCESS" "$T/o"
tap_done
