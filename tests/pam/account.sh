#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# pam_mspgate account and session: validity dates, windows (with the next
# opening in the message), source restrictions, tenant scope, no grant,
# session audit events, and an unwritable audit log (fail closed).
. tests/lib/tap.sh
. tests/pam/pamlib.inc

# A weekly window that opens tomorrow (London time) and is closed today.
TOMORROW=$(TZ=Europe/London date -d tomorrow +%a)
policy <<P
$(mfa_section)
windows: {
  always = { days = "*"; hours = "00:00-24:00"; };
  tomorrow = { tz = "Europe/London"; days = "$TOMORROW"; hours = "00:00-24:00"; };
};
engineers = (
  { name = "alice"; groups = ["l1"]; },
  { name = "old"; groups = ["l1"]; valid_until = "2020-01-31"; },
  { name = "new"; groups = ["l1"]; valid_from = "2099-01-01"; },
  { name = "bob"; groups = ["l1"]; sources = [ "198.51.100.0/24" ]; },
  { name = "nina"; groups = ["night"]; },
  { name = "carl"; groups = ["l1", "night"]; },
  { name = "zed"; }
);
tenants = (
  { name = "acme"; windows = ["always"]; targets = ( $(target web01) ); },
  { name = "globex"; windows = ["tomorrow"]; targets = ( $(target app1) ); }
);
grants = (
  { to = "group:l1"; tenants = ["acme"]; targets = ["*"]; logins = ["deploy"]; mfa = "totp"; },
  { to = "group:night"; tenants = ["globex"]; targets = ["*"]; logins = ["deploy"]; mfa = "totp"; }
);
P
svc mspgate config=$POL
svc noaudit config=$POL audit=/nonexistent/mspgate/audit.jsonl

run "$T/o" -s mspgate -u alice -r 192.0.2.1 acct
has "inside the window: account PAM_SUCCESS" "acct PAM_SUCCESS" "$T/o"
run "$T/o" -s mspgate -u old acct
has "expired engineer: PAM_ACCT_EXPIRED" "acct PAM_ACCT_EXPIRED" "$T/o"
has "... told when it ended" "error: Your MSP account expired after 2020-01-31." "$T/o"
run "$T/o" -s mspgate -u new acct
has "not yet valid: PAM_ACCT_EXPIRED" "acct PAM_ACCT_EXPIRED" "$T/o"
has "... told from when" "error: Your MSP account is valid from 2099-01-01." "$T/o"
run "$T/o" -s mspgate -u nina acct
has "outside the window: PAM_PERM_DENIED" "acct PAM_PERM_DENIED" "$T/o"
has "... told when the next window opens" \
	"error: Outside your access window; the next one opens $TOMORROW 00:00 Europe/London." "$T/o"
check_grep "the denial is in the audit log" '"event":"denied","engineer":"nina".*outside the access windows' "$AUDIT"
run "$T/o" -s mspgate -u carl acct
has "one open grant among several is enough" "acct PAM_SUCCESS" "$T/o"
run "$T/o" -s mspgate -u zed -c 123456 auth acct
has "an engineer with no grant: auth denied" "auth PAM_AUTH_ERR" "$T/o"
has "... after being asked for a code like anyone" "prompt: Verification code: " "$T/o"
has "... and account denied" "acct PAM_PERM_DENIED" "$T/o"

# Engineer sources (the gateway: PAM_RHOST is the engineer's address).
run "$T/o" -s mspgate -u bob -r 198.51.100.7 acct
has "bob from his office network: PAM_SUCCESS" "acct PAM_SUCCESS" "$T/o"
run "$T/o" -s mspgate -u bob -r 203.0.113.5 acct
has "bob from elsewhere: PAM_PERM_DENIED" "acct PAM_PERM_DENIED" "$T/o"
has "... told so" "error: Access from this address is not allowed." "$T/o"
run "$T/o" -s mspgate -u bob acct
has "bob with no remote host (local login): denied" "acct PAM_PERM_DENIED" "$T/o"

# Sessions: audit events with service, tty and remote host.
run "$T/o" -s mspgate -u alice -r 192.0.2.1 -t pts/7 open close
has "session open: PAM_SUCCESS" "open PAM_SUCCESS" "$T/o"
has "session close: PAM_SUCCESS" "close PAM_SUCCESS" "$T/o"
check_grep "session_start audited with service, tty and host" \
	'"event":"session_start","engineer":"alice","login":"alice","source":"192.0.2.1".*service=mspgate tty=pts/7' "$AUDIT"
check_grep "session_end audited" '"event":"session_end","engineer":"alice"' "$AUDIT"

# Fail closed: without an audit log no MSP login or session happens.
S=$(enroll_batch alice)
"$ENROLL" -c "$POL" --activate "$(code "$S" -1)" alice >/dev/null 2>&1
run "$T/o" -s noaudit -u alice -c "$(code "$S" 0)" auth open
has "audit log unwritable: the right code is denied" "auth PAM_AUTH_ERR" "$T/o"
has "... saying the login cannot be recorded" "error: Access denied: the login cannot be recorded." "$T/o"
has "audit log unwritable: session denied" "open PAM_SESSION_ERR" "$T/o"
check_grep "syslog names the audit log" "audit log /nonexistent/mspgate/audit.jsonl" "$MGPAM_SYSLOG"
run "$T/o" -s noaudit -u nobody-here acct
has "... a non-MSP user is not affected" "acct PAM_IGNORE" "$T/o"

# A client host: reached only from the gateway, only for its tenant.
policy <<P
$(mfa_section)
pam: { sources = [ "192.0.2.1" ]; tenant = "globex"; };
windows: {
  always = { days = "*"; hours = "00:00-24:00"; };
  tomorrow = { tz = "Europe/London"; days = "$TOMORROW"; hours = "00:00-24:00"; };
};
engineers = ( { name = "alice"; groups = ["l1"]; sources = [ "198.51.100.0/24" ]; },
              { name = "carl"; groups = ["l1", "night"]; } );
tenants = (
  { name = "acme"; windows = ["always"]; targets = ( $(target web01) ); },
  { name = "globex"; windows = ["always"]; targets = ( $(target app1) ); }
);
grants = (
  { to = "group:l1"; tenants = ["acme"]; targets = ["*"]; logins = ["deploy"]; mfa = "totp"; },
  { to = "group:night"; tenants = ["globex"]; targets = ["*"]; logins = ["deploy"]; mfa = "totp"; windows = ["tomorrow"]; }
);
P
run "$T/o" -s mspgate -u carl -r 192.0.2.1 acct
has "client host, from the gateway, grant window closed: denied" "acct PAM_PERM_DENIED" "$T/o"
has "... with the next opening" \
	"error: Outside your access window; the next one opens $TOMORROW 00:00 Europe/London." "$T/o"
run "$T/o" -s mspgate -u alice -r 192.0.2.1 acct
has "client host: an engineer without a grant for this tenant is denied" "acct PAM_PERM_DENIED" "$T/o"
has "... told no access is granted here" "error: No access is granted to this account on this host." "$T/o"
run "$T/o" -s mspgate -u carl -r 203.0.113.9 acct
has "client host, not from the gateway: denied" "acct PAM_PERM_DENIED" "$T/o"
check_grep "syslog names pam.sources" "source '203.0.113.9' not allowed by pam.sources" "$MGPAM_SYSLOG"
tap_done
