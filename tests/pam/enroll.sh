#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# mspgate-enroll as a sysadmin uses it: interactive enrolment with a QR
# code and activation by one valid code, --batch, --activate, --list,
# --reset, --remove; then a login through PAM with the enrolled secret.
. tests/lib/tap.sh
. tests/pam/pamlib.inc

policy <<P
$(mfa_section)
engineers = ( { name = "ivy"; groups = ["l1"]; }, { name = "jon"; groups = ["l1"]; } );
tenants = ( { name = "acme"; targets = ( $(target web01) ); } );
grants = ( { to = "group:l1"; tenants = ["acme"]; targets = ["*"]; logins = ["deploy"]; mfa = "totp"; } );
P
svc mspgate config=$POL

# Interactive: the URI and QR are printed, then one code activates.
mkfifo "$T/in"
"$ENROLL" -c "$POL" --issuer "Example MSP" ivy <"$T/in" >"$T/enr" 2>&1 &
pid=$!
exec 3>"$T/in"
i=0
while ! grep -q '^  otpauth://' "$T/enr" && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
S=$(sed -n 's/^  otpauth:.*secret=\([A-Z2-7]*\).*/\1/p' "$T/enr")
echo 000000 >&3
echo "$(code "$S" 0)" >&3
exec 3>&-
wait $pid
rc=$?
check "interactive enrolment exits 0" test $rc -eq 0
check_grep "it prints a QR code (half blocks)" "▀" "$T/enr"
check_grep "the URI has the issuer and the user" "otpauth://totp/Example%20MSP:ivy?secret=" "$T/enr"
check_grep "a wrong code is refused, then the right one activates" \
	"That code is not valid now; try again" "$T/enr"
check_grep "activation is confirmed" "Activated: ivy now logs in" "$T/enr"
w=$(grep -c '█' "$T/enr")
check "the QR code has at least 15 rows ($w)" test "$w" -ge 15
"$ENROLL" -c "$POL" --list >"$T/list"
check_grep "--list shows ivy active" "^ivy  *active  *sha1 6 digits, 30s" "$T/list"
run "$T/o" -s mspgate -u ivy -c "$(code "$S" 1)" auth
has "ivy logs in with the next code from her app" "auth PAM_SUCCESS" "$T/o"
"$ENROLL" -c "$POL" ivy </dev/null >"$T/again" 2>&1
check "enrolling an active user again is refused" test $? -ne 0
check_grep "... with a hint about --reset" "already has an active secret; --reset replaces it" "$T/again"

# Batch: prints only the URI, reads nothing; --activate CODE.
"$ENROLL" -c "$POL" --batch jon </dev/null >"$T/b" 2>"$T/berr"
check "--batch exits 0" test $? -eq 0
check "--batch prints one line, the URI" test "$(wc -l <"$T/b")" -eq 1
check_grep "... an otpauth:// URI" "^otpauth://totp/mspgate:jon?secret=[A-Z2-7]*&issuer=mspgate&algorithm=SHA1&digits=6&period=30$" "$T/b"
J=$(sed 's/.*secret=\([A-Z2-7]*\).*/\1/' "$T/b")
"$ENROLL" -c "$POL" --list >"$T/list"
check_grep "--list shows jon pending" "^jon  *pending" "$T/list"
"$ENROLL" -c "$POL" --activate "$(code "$J" 0)" jon >/dev/null 2>&1
check "--activate CODE activates" test $? -eq 0
"$ENROLL" -c "$POL" --activate "$(code "$J" 1)" jon >"$T/a2" 2>&1
check_grep "--activate on an active secret is refused" "already active" "$T/a2"
"$ENROLL" -c "$POL" --batch --reset jon >"$T/b2" 2>/dev/null
J2=$(sed 's/.*secret=\([A-Z2-7]*\).*/\1/' "$T/b2")
check "--reset makes a new secret" test "$J" != "$J2"
run "$T/o" -s mspgate -u jon -c "$(code "$J" 1)" auth
has "after --reset the old secret no longer works" "auth PAM_AUTH_ERR" "$T/o"
"$ENROLL" -c "$POL" --remove jon >"$T/rm" 2>&1
check_grep "--remove removes it" "jon: secret removed" "$T/rm"
check "the file is gone" test ! -e "$T/var/totp/jon"
"$ENROLL" -c "$POL" --remove jon >"$T/rm" 2>&1
check "--remove of a user without a secret fails" test $? -ne 0
"$ENROLL" -c "$POL" --batch 'Bad/Name' >"$T/bad" 2>&1
check "a user name that is not a Unix name is refused" test $? -eq 2
"$ENROLL" -c "$POL" --list --lockouts >"$T/bad" 2>&1
check "two modes at once is a usage error" test $? -eq 2
chmod 0666 "$POL"
"$ENROLL" -c "$POL" --list >"$T/bad" 2>&1
check "an unsafe policy file is refused" test $? -ne 0
chmod 0644 "$POL"
check "the store directory is 0700" test "$(stat -c %a "$T/var/totp")" = 700
tap_done
