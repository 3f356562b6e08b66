#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# pam_mspgate FIDO: sshd's SSH_AUTH_INFO_0 must name one of this
# engineer's security keys, inside its dates; fido+totp needs both.
. tests/lib/tap.sh
. tests/pam/pamlib.inc

ED_CAROL=$(ed_key carol)
SK_CAROL=$(sk_key "$T/carol.pub")
ed_key carol_old >/dev/null
SK_CAROL_OLD=$(sk_key "$T/carol_old.pub")
ed_key dora >/dev/null
SK_DORA=$(sk_key "$T/dora.pub")
policy <<P
$(mfa_section)
engineers = (
  { name = "carol"; groups = ["l3"];
    keys = ( "$SK_CAROL carol@yubikey", "$ED_CAROL carol@laptop",
             { key = "$SK_CAROL_OLD"; valid_until = "2020-01-01"; } ); },
  { name = "dora"; groups = ["l1"]; mfa = "fido+totp"; keys = [ "$SK_DORA" ]; }
);
tenants = ( { name = "acme"; targets = ( $(target web01) ); } );
grants = (
  { to = "group:l3"; tenants = ["acme"]; targets = ["*"]; logins = ["deploy"]; mfa = "fido"; },
  { to = "group:l1"; tenants = ["acme"]; targets = ["*"]; logins = ["deploy"]; mfa = "totp"; }
);
P
svc mspgate config=$POL

run "$T/o" -s mspgate -u carol -e "SSH_AUTH_INFO_0=publickey $SK_CAROL" auth
has "carol's sk key: PAM_SUCCESS" "auth PAM_SUCCESS" "$T/o"
hasnt "fido only: no code is asked" "^prompt:" "$T/o"
has "MSPGATE_MFA=fido" "env MSPGATE_MFA=fido" "$T/o"
FPC=$(printf '%s\n' "$SK_CAROL" | ssh-keygen -lf - | cut -d' ' -f2)
check_grep "attested: the key as checked and its validity end, no TOTP step" \
	"env MSPGATE_AUTH=.*;mfa fido;factor fido $FPC 0;$" "$T/o"
# keyboard-interactive in sshd's list, but no code asked: not TOTP (issue 14).
run "$T/o" -s mspgate -u carol \
	-e "SSH_AUTH_INFO_0=$(printf 'publickey %s\nkeyboard-interactive' "$SK_CAROL")" auth
check_grep "keyboard-interactive with no code asked: attested as fido only" \
	"env MSPGATE_AUTH=.*;mfa fido;factor fido SHA256:[^;]*;$" "$T/o"
run "$T/o" -s mspgate -u carol -e "SSH_AUTH_INFO_0=publickey $ED_CAROL" auth
has "carol's plain ed25519 key: denied" "auth PAM_AUTH_ERR" "$T/o"
has "the engineer is told a security key is needed" \
	"error: This account must log in with its registered FIDO security key." "$T/o"
run "$T/o" -s mspgate -u carol -e "SSH_AUTH_INFO_0=publickey $SK_DORA" auth
has "another engineer's sk key: denied" "auth PAM_AUTH_ERR" "$T/o"
run "$T/o" -s mspgate -u carol auth
has "no SSH_AUTH_INFO_0 (not behind sshd): denied" "auth PAM_AUTH_ERR" "$T/o"
check_grep "syslog says why" "user=carol .*FIDO required: no SSH_AUTH_INFO_0" "$MGPAM_SYSLOG"
run "$T/o" -s mspgate -u carol -e "SSH_AUTH_INFO_0=publickey $SK_CAROL_OLD" auth
has "carol's sk key past its valid_until: denied" "auth PAM_AUTH_ERR" "$T/o"
run "$T/o" -s mspgate -u carol -e "SSH_AUTH_INFO_0=keyboard-interactive" auth
has "no publickey method at all: denied" "auth PAM_AUTH_ERR" "$T/o"
run "$T/o" -s mspgate -u carol -e "SSH_AUTH_INFO_0=publickey $SK_CAROL$(printf '\001')x" auth
has "garbage after the key blob is refused" "auth PAM_AUTH_ERR" "$T/o"
run "$T/o" -s mspgate -u carol -e "SSH_AUTH_INFO_0=$(printf 'publickey %s\npublickey %s' "$ED_CAROL" "$SK_CAROL")" auth
has "two publickey methods, one of them carol's sk key: PAM_SUCCESS" "auth PAM_SUCCESS" "$T/o"

# dora: her own mfa = "fido+totp" is stronger than her grant: both needed.
D=$(enroll_batch dora)
"$ENROLL" -c "$POL" --activate "$(code "$D" -1)" dora >/dev/null 2>&1
run "$T/o" -s mspgate -u dora -c "$(code "$D" 0)" auth
has "fido+totp without the key: denied even with the right code" "auth PAM_AUTH_ERR" "$T/o"
hasnt "... and no code is asked" "^prompt:" "$T/o"
W=$(code "$D" 0 | tr 0123456789 1234567890)
run "$T/o" -s mspgate -u dora -c "$W" -e "SSH_AUTH_INFO_0=publickey $SK_DORA" auth
has "fido+totp with the key and a wrong code: denied" "auth PAM_AUTH_ERR" "$T/o"
run "$T/o" -s mspgate -u dora -c "$(code "$D" 0)" -e "SSH_AUTH_INFO_0=publickey $SK_DORA" auth open
has "fido+totp with both: PAM_SUCCESS" "auth PAM_SUCCESS" "$T/o"
has "MSPGATE_MFA=fido+totp" "env MSPGATE_MFA=fido+totp" "$T/o"
check_grep "attested: both factors, the step of the code" \
	"env MSPGATE_AUTH=.*;mfa fido+totp;factor fido SHA256:[^;]* 0;factor totp [0-9][0-9]*;$" "$T/o"
check_grep "the audit log notes fido+totp for the gateway" \
	'"event":"auth_success","engineer":"dora".*mfa=fido+totp' "$AUDIT"
check_grep "and the session start carries it too" \
	'"event":"session_start","engineer":"dora".*mfa=fido+totp' "$AUDIT"
# sshd authenticates in a child process and hands the session stage only
# the PAM environment: the session event takes MSPGATE_MFA from there...
run "$T/o" -s mspgate -u dora -e "MSPGATE_MFA=fido+totp" open
has "session only (as in sshd's parent): PAM_SUCCESS" "open PAM_SUCCESS" "$T/o"
check "... and its audit event names fido+totp from the PAM environment" \
	sh -c "tail -1 '$AUDIT' | grep -q '\"event\":\"session_start\",\"engineer\":\"dora\".*mfa=fido+totp'"
# ... a known value only.
run "$T/o" -s mspgate -u dora -e "MSPGATE_MFA=fido+totp extra" open
check "... anything else there is 'unknown'" \
	sh -c "tail -1 '$AUDIT' | grep -q '\"event\":\"session_start\",\"engineer\":\"dora\".*mfa=unknown'"
tap_done
