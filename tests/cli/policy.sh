#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# mspgate-policy as a sysadmin uses it: check, explain, report, exit codes.
. tests/lib/tap.sh
P=$BIN/mspgate-policy
# A copy with a safe mode, whatever the umask of the checkout was.
EX=$T/mspgate.conf
cp config/examples/mspgate.conf "$EX" && chmod 0644 "$EX"

"$P" check -f "$EX" >"$T/out" 2>&1
check "example policy is valid" test $? -eq 0
check_grep "check prints a summary" "OK (1 file, 4 engineers" "$T/out"
check_exit 0 "check FILE form" "$P" check "$EX" >/dev/null 2>&1

# Each broken copy exits 1 and names FILE:LINE.
cp "$EX" "$T/unknown.conf"
sed -i 's/^  idle_timeout = "30m";.*/&\n  colour = "blue";/' "$T/unknown.conf"
line=$(grep -n 'colour' "$T/unknown.conf" | cut -d: -f1)
check_exit 1 "unknown key exits 1" "$P" check -f "$T/unknown.conf" 2>"$T/err"
check_grep "unknown key names FILE:LINE" "^$T/unknown.conf:$line: unknown key 'colour' in gateway" "$T/err"

sed 's/tenants = \[ "acme", "globex" \];/tenants = [ "acme", "initech" ];/' "$EX" >"$T/tenant.conf"
line=$(grep -n '"initech"' "$T/tenant.conf" | cut -d: -f1)
check_exit 1 "undefined tenant exits 1" "$P" check -f "$T/tenant.conf" 2>"$T/err"
check_grep "undefined tenant names FILE:LINE" "^$T/tenant.conf:$line: .*tenant 'initech' is not defined" "$T/err"

sed 's/hours = "08:00-18:00";/hours = "08:00-25:00";/' "$EX" >"$T/hour.conf"
line=$(grep -n '25:00' "$T/hour.conf" | cut -d: -f1)
check_exit 1 "hour 25:00 exits 1" "$P" check -f "$T/hour.conf" 2>"$T/err"
check_grep "hour 25:00 names FILE:LINE" "^$T/hour.conf:$line: .*25:00" "$T/err"

check_exit 1 "missing file exits 1" "$P" check -f "$T/nonexistent.conf" 2>"$T/err"
check_grep "missing file is named" "nonexistent.conf" "$T/err"
cp "$EX" "$T/ww.conf"; chmod 666 "$T/ww.conf"
check_exit 1 "world-writable policy refused" "$P" check -f "$T/ww.conf" 2>"$T/err"
check_grep "unsafe mode is named" "0666" "$T/err"

# The state section (issue 17): shared state in PostgreSQL, never its password.
cp "$EX" "$T/pg.conf"
cat >>"$T/pg.conf" <<'EOF'
state: {
  backend = "postgresql";
  conninfo = "host=db1 dbname='password=x' user=mspgate";
  passfile = "/etc/mspgate/pgpass";
  key_file = "/etc/mspgate/state.key";
  timeout = "10s";
  name = "gw1";
};
EOF
"$P" check --offline -f "$T/pg.conf" >"$T/out" 2>&1
check "a postgresql state section is valid (--offline: the database is not reached)" test $? -eq 0
check_grep "check says where the state lives" \
	"^state: postgresql \"host=db1 dbname='password=x' user=mspgate\", name gw1, timeout 10s$" "$T/out"
sed 's/^  conninfo = .*/  conninfo = "host=db1 password = s3cret user=mspgate";/' "$T/pg.conf" >"$T/pw.conf"
line=$(grep -n 's3cret' "$T/pw.conf" | cut -d: -f1)
check_exit 1 "a password in conninfo exits 1" "$P" check -f "$T/pw.conf" 2>"$T/err"
check_grep "and says where the password goes, at FILE:LINE" \
	"^$T/pw.conf:$line: state: conninfo must not hold a password (password): the password goes in the passfile or PGPASSFILE, never in the policy" "$T/err"
check "the message does not repeat the password" sh -c "! grep -q s3cret '$T/err'"
sed 's|^  conninfo = .*|  conninfo = "postgresql://mspgate:s3cret@db1/mspgate";|' "$T/pg.conf" >"$T/pwuri.conf"
check_exit 1 "a password in a conninfo URI exits 1" "$P" check -f "$T/pwuri.conf" 2>"$T/err"
check_grep "the URI's user:password@ is named" "state: conninfo must not hold a password (user:password@)" "$T/err"
sed 's/^  backend = .*/  backend = "files";/' "$T/pg.conf" >"$T/files.conf"
check_exit 1 "postgresql settings with backend files exit 1" "$P" check -f "$T/files.conf" 2>"$T/err"
check_grep "each is named" "state: 'key_file' only applies to backend \"postgresql\"" "$T/err"
printf 'state: { backend = "files"; };\n' | cat "$EX" - >"$T/files_ok.conf"
"$P" check -f "$T/files_ok.conf" >"$T/out" 2>&1
check "backend files alone is valid" test $? -eq 0
check_grep "check says the state is the gateway's own files" "^state: files" "$T/out"
"$P" check -f "$EX" >"$T/out" 2>"$T/warn"
check "without a state section check prints one line" test "$(wc -l <"$T/out")" -eq 1
check_grep "check warns (on stderr) about targets with a standing vault key" \
	": warning: target .* logs in with the standing vault key" "$T/warn"

# explain: both sides of a window close and of DST changes (Europe/London).
x() { "$P" explain -f $EX "$@" >"$T/x" 2>&1; echo $? >"$T/rc"; head -1 "$T/x"; }
check "explain allow 09:30 GMT" test "$(x alice acme/web01 --mfa fido+totp --at '2026-12-01 09:30 Europe/London')" = allow
check "explain exits 0 on allow" test "$(cat "$T/rc")" = 0
check_grep "explain gives the rule" "^rule: .*mspgate.conf:[0-9]" "$T/x"
check_grep "explain gives the window close" "^closes: *2026-12-01 18:00 GMT" "$T/x"
check_grep "explain gives the session end" "^until: *2026-12-01 11:30 GMT" "$T/x"
check "explain allow 17:59" test "$(x alice acme/web01 --mfa fido+totp --at '2026-12-01 17:59 Europe/London')" = allow
check "explain deny at 18:00 (window closed)" test "$(x alice acme/web01 --mfa fido+totp --at '2026-12-01 18:00 Europe/London')" = deny
check "explain exits 3 on deny" test "$(cat "$T/rc")" = 3
check_grep "deny says when it opens" "^opens: *2026-12-02 08:00 GMT" "$T/x"
# Same UTC time of day before and after the spring change (2027-03-28).
check "07:30 UTC Friday before spring DST is 07:30 GMT: deny" \
	test "$(x alice acme/web01 --mfa fido+totp --at '2027-03-26 07:30Z')" = deny
check "07:30 UTC Monday after spring DST is 08:30 BST: allow" \
	test "$(x alice acme/web01 --mfa fido+totp --at '2027-03-29 07:30Z')" = allow
check_grep "close after spring DST is 18:00 BST" "^closes: *2027-03-29 18:00 BST (2027-03-29 17:00 UTC)" "$T/x"
# Autumn change (2026-10-25).
check "07:30 UTC Friday before autumn DST is 08:30 BST: allow" \
	test "$(x alice acme/web01 --mfa fido+totp --at '2026-10-23 07:30Z')" = allow
check "07:30 UTC Monday after autumn DST is 07:30 GMT: deny" \
	test "$(x alice acme/web01 --mfa fido+totp --at '2026-10-26 07:30Z')" = deny
# A window in the tenant's zone across midnight (America/New_York).
check "night window Friday 23:00 EST: allow" \
	test "$(x dave globex/db --mfa totp --source 198.51.100.7 --at '2026-12-04 23:00 America/New_York')" = allow
check_grep "night window closes Saturday 06:00 EST" "^closes: *2026-12-05 06:00 EST" "$T/x"
check "night window Saturday 23:00 EST: deny" \
	test "$(x dave globex/db --mfa totp --source 198.51.100.7 --at '2026-12-05 23:00 America/New_York')" = deny
check "missing MFA denies" test "$(x alice acme/web01 --mfa totp --at '2026-12-01 09:30 Europe/London')" = deny
check_grep "missing MFA says which" "requires MFA fido+totp, but the login used totp" "$T/x"
check "holiday denies" test "$(x alice acme/web01 --mfa fido+totp --at '2026-12-28 10:00 Europe/London')" = deny
check "source outside the engineer's network denies" \
	test "$(x bob acme/web01 --mfa totp --source 203.0.113.9 --at '2026-12-01 09:30 Europe/London')" = deny
check "unknown engineer denies" test "$(x mallory acme/web01 --at '2026-12-01 09:30Z')" = deny
check_grep "default deny is named" "^rule: *default deny" "$T/x"
# The login age (max_login_age): 8h by default, 1h on the db01 grant.
x alice acme/web01 --mfa fido+totp --at '2026-12-01 09:30 Europe/London' >/dev/null
check_grep "explain gives the grant's login age" "^login: *at most 8h old" "$T/x"
check "a 59m-old login reaches db01 (max_login_age 1h)" test "$(x alice acme/db01 --login postgres \
	--mfa fido+totp --at '2026-12-01 09:30 Europe/London' --login-age 59m)" = allow
check_grep "explain gives the age against the limit" "^login: *59m old, at most 1h" "$T/x"
check "a 2h-old login does not (max_login_age 1h)" test "$(x alice acme/db01 --login postgres \
	--mfa fido+totp --at '2026-12-01 09:30 Europe/London' --login-age 2h)" = deny
check_grep "the deny names max_login_age" "login is 2h old and the grant allows 1h (max_login_age)" "$T/x"
# Four-eyes approval (issue 19): explain says who approves and how long it waits.
check "carol reaches acme/web01 as root" test "$(x carol acme/web01 --login root --mfa fido \
	--at '2026-12-01 09:30 Europe/London')" = allow
check_grep "explain says the session waits for acme's approvers, and how long" \
	"^approval: required: the session waits up to 15m for one of acme's approvers: group:msp-leads, erin$" "$T/x"
x carol acme/web01 --login root --mfa fido --at '2026-12-01 18:30 Europe/London' >/dev/null
check_grep "and so on a deny by the closest grant" "^approval: required: the session waits up to 15m" "$T/x"
x alice acme/web01 --mfa fido+totp --at '2026-12-01 09:30 Europe/London' >/dev/null
check_grep "explain says when no approval is needed" "^approval: not required$" "$T/x"
check_exit 1 "a bad --login-age is an error" "$P" explain -f $EX alice acme/web01 --login-age 5x 2>"$T/err"
check_grep "a bad --login-age says why" "login-age: invalid duration" "$T/err"
check_exit 1 "skipped local time is an error" "$P" explain -f $EX alice acme/web01 --at '2027-03-28 01:30 Europe/London' 2>"$T/err"
check_grep "skipped time is explained" "does not exist in Europe/London" "$T/err"
check_exit 1 "bad target syntax exits 1" "$P" explain -f $EX alice acme 2>/dev/null
check_exit 1 "invalid policy exits 1 in explain" "$P" explain -f "$T/hour.conf" alice acme/web01 2>/dev/null

# report: text, csv and json.
"$P" report -f $EX --tenant acme >"$T/r.txt"
check "report text exits 0" test $? -eq 0
check_grep "report lists alice on acme/web01" "^alice -> acme/web01 (192.0.2.10:22) as deploy" "$T/r.txt"
check_grep "report gives each grant's login age" "max login age 1h" "$T/r.txt"
check_grep "report text: a row needing approval says by whom and how long" \
	"^    approval: required, by one of group:msp-leads, erin, waiting up to 15m$" "$T/r.txt"
check "report text: only those rows (one per target carol reaches as root)" \
	test "$(grep -c '^    approval:' "$T/r.txt")" -eq "$(grep -c '^carol -> acme/.* as root$' "$T/r.txt")"
check "report for acme leaves globex out" sh -c "! grep -q globex '$T/r.txt'"
"$P" report -f $EX --format csv >"$T/r.csv"
check "report csv exits 0" test $? -eq 0
check_grep "csv header: approval columns appended" "^engineer,tenant,target,host,port,login,mfa,when,max_session,max_login_age,ticket,expires,sources,rule,approval,approval_timeout,approvers$" "$T/r.csv"
check_grep "csv row for carol as root" '^"carol","acme","web01","192.0.2.10","22","root","fido"' "$T/r.csv"
check_grep "csv: carol's root row needs acme's approvers" \
	'^"carol","acme","web01",.*"root",.*,"required","15m","group:msp-leads erin"$' "$T/r.csv"
check_grep "csv: alice's row needs none" '^"alice","acme","web01",.*,"none","",""$' "$T/r.csv"
check "csv: every row has 17 fields" python3 -c "
import csv
rows=list(csv.reader(open('$T/r.csv')))
assert len(rows)>5 and all(len(r)==17 for r in rows), [len(r) for r in rows]
"
"$P" report -f $EX --format json >"$T/r.json"
check "report json exits 0" test $? -eq 0
check "json parses and has every row" python3 -c "
import json,sys
rows=json.load(open('$T/r.json'))
n=sum(1 for _ in open('$T/r.csv'))-1
assert len(rows)==n and n>5, (len(rows),n)
assert any(r['engineer']=='dave' and r['tenant']=='globex' and r['login']=='dba' for r in rows)
assert any(r['target']=='db01' and r['max_login_age']==3600 for r in rows)
assert all(r['max_login_age']>0 for r in rows)
keys=['engineer','tenant','target','host','port','login','mfa','when','max_session',
      'max_login_age','ticket','expires','sources','rule','approval','approval_timeout','approvers']
assert all(list(r)==keys for r in rows), list(rows[0])
root=[r for r in rows if r['engineer']=='carol' and r['login']=='root']
assert root and all(r['approval']=='required' and r['approval_timeout']==900 and
    r['approvers']==['group:msp-leads','erin'] for r in root), root
rest=[r for r in rows if r not in root]
assert rest and all(r['approval']=='none' and r['approval_timeout'] is None and
    r['approvers']==[] for r in rest), rest
"
check_exit 1 "report unknown tenant exits 1" "$P" report -f $EX --tenant initech 2>/dev/null
# state: what to do is named first; a files policy has no database.
"$P" state >/dev/null 2>"$T/err"
check "state without what to do exits 1" test $? -eq 1
check_grep "and lists init, migrate, status" "state needs what to do: say init, migrate or status" "$T/err"
"$P" state bogus -f "$EX" >/dev/null 2>"$T/err"
check "state with a typo exits 1" test $? -eq 1
check_grep "and names the typo, not the backend" "^mspgate-policy: state bogus: say init, migrate or status$" "$T/err"
"$P" state init -f "$EX" >/dev/null 2>"$T/err"
check "state init on a files policy exits 1" test $? -eq 1
check_grep "saying there is no database" "keeps its state in files (state.backend): there is no database to init" "$T/err"
tap_done
