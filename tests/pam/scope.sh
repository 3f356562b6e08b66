#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# pam_mspgate scope: who is an MSP account (policy engineers, members of
# group=NAME or pam.group), everyone else PAM_IGNORE; a malformed or
# missing policy denies MSP accounts and says FILE:LINE in syslog. Makes
# a uniquely named Unix group and two users, removed at exit.
. tests/lib/tap.sh
. tests/pam/pamlib.inc

if [ "$(id -u)" -ne 0 ]; then
	echo "ok 1 # SKIP needs root to create a user and a group"
	tap_done
	exit 0
fi
SUF=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
G=mgg$SUF
UIN=mgi$SUF
UOUT=mgo$SUF
cleanup() {
	userdel "$UIN" 2>/dev/null
	userdel "$UOUT" 2>/dev/null
	groupdel "$G" 2>/dev/null
	tap_cleanup
}
trap cleanup EXIT
groupadd "$G"
useradd -M -N -s /usr/sbin/nologin -G "$G" "$UIN"
useradd -M -N -s /usr/sbin/nologin "$UOUT"

policy <<P
$(mfa_section)
engineers = ( { name = "alice"; groups = ["l1"]; } );
tenants = ( { name = "acme"; targets = ( $(target web01) ); } );
grants = ( { to = "group:l1"; tenants = ["acme"]; targets = ["*"]; logins = ["deploy"]; mfa = "totp"; } );
P
svc grp config=$POL group=$G
svc nogrp config=$POL

run "$T/o" -s grp -u "$UIN" -c 123456 auth acct
has "group member not in the policy: asked for a code" "prompt: Verification code: " "$T/o"
has "... auth denied" "auth PAM_AUTH_ERR" "$T/o"
has "... account denied" "acct PAM_PERM_DENIED" "$T/o"
run "$T/o" -s grp -u "$UOUT" -c 123456 auth acct open
has "not in the group, not in the policy: auth PAM_IGNORE" "auth PAM_IGNORE" "$T/o"
has "... account PAM_IGNORE" "acct PAM_IGNORE" "$T/o"
has "... session PAM_IGNORE" "open PAM_IGNORE" "$T/o"
run "$T/o" -s nogrp -u "$UIN" -c 123456 auth
has "without group=, the member is not an MSP account" "auth PAM_IGNORE" "$T/o"
run "$T/o" -s nogrp -u root acct
has "root, not in the policy: PAM_IGNORE" "acct PAM_IGNORE" "$T/o"

# The group from the policy (pam.group) works the same.
policy <<P
$(mfa_section)
pam: { group = "$G"; };
engineers = ( { name = "alice"; groups = ["l1"]; } );
tenants = ( { name = "acme"; targets = ( $(target web01) ); } );
grants = ( { to = "group:l1"; tenants = ["acme"]; targets = ["*"]; logins = ["deploy"]; mfa = "totp"; } );
P
run "$T/o" -s nogrp -u "$UIN" -c 123456 acct
has "pam.group member: account denied" "acct PAM_PERM_DENIED" "$T/o"
run "$T/o" -s nogrp -u "$UOUT" acct
has "pam.group non-member: PAM_IGNORE" "acct PAM_IGNORE" "$T/o"

# A malformed policy: the first error, with FILE:LINE, goes to syslog.
policy <<P
engineers = ( { name = "alice"; groups = ["l1"]; } );
tenants = ( { name = "acme" ; colour = "blue"; } );
P
: >"$MGPAM_SYSLOG"
run "$T/o" -s grp -u "$UIN" -c 123456 auth acct open
has "malformed policy, group member: auth denied" "auth PAM_AUTH_ERR" "$T/o"
has "... account denied" "acct PAM_PERM_DENIED" "$T/o"
has "... session denied" "open PAM_SESSION_ERR" "$T/o"
has "... the engineer is told to contact the admin" \
	"error: Access denied: the access policy cannot be read. Contact your administrator." "$T/o"
check_grep "syslog names FILE:LINE of the error" \
	"policy $POL cannot be loaded: $POL:3: unknown key 'colour' in tenant; denying '$UIN'" "$MGPAM_SYSLOG"
run "$T/o" -s grp -u "$UOUT" acct
has "malformed policy, not in the group: PAM_IGNORE" "acct PAM_IGNORE" "$T/o"
run "$T/o" -s grp -u alice -c 123456 auth
has "malformed policy, an engineer outside the group: left to the stack" "auth PAM_IGNORE" "$T/o"
run "$T/o" -s nogrp -u alice -c 123456 auth acct
has "malformed policy and no group: everyone is denied (auth)" "auth PAM_AUTH_ERR" "$T/o"
has "... (account)" "acct PAM_PERM_DENIED" "$T/o"
run "$T/o" -s nogrp -u "$UOUT" acct
has "... also users the policy never named" "acct PAM_PERM_DENIED" "$T/o"
run "$T/o" -s nogrp -u root auth acct open
has "... except root, left to the stack (auth)" "auth PAM_IGNORE" "$T/o"
has "... (account)" "acct PAM_IGNORE" "$T/o"
has "... (session)" "open PAM_IGNORE" "$T/o"

# A missing policy file fails closed the same way.
rm -f "$POL"
run "$T/o" -s nogrp -u alice -c 123456 auth
has "missing policy: denied" "auth PAM_AUTH_ERR" "$T/o"
check_grep "syslog says the file is missing" "policy $POL cannot be loaded: .*$POL" "$MGPAM_SYSLOG"
# A world-writable policy is refused, not trusted.
policy <<P
engineers = ( { name = "alice"; groups = ["l1"]; } );
P
chmod 0666 "$POL"
run "$T/o" -s nogrp -u alice -c 123456 auth
has "world-writable policy: denied" "auth PAM_AUTH_ERR" "$T/o"
tap_done
