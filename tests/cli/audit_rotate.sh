#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The audit log across rotations, with the real logrotate and the shipped
# configuration (debian/mspgate-gateway.logrotate, pointed at $T): events
# come from pam_mspgate through the real libpam; each new log links to
# the one rotated away; verify follows the chain across plain and gzip
# files in any order and names a missing, truncated or edited log; four
# writers racing the rotations lose and duplicate nothing.
. tests/lib/tap.sh
. tests/pam/pamlib.inc

LOCK_FAILURES=1000
policy <<P
$(mfa_section)
engineers = ( { name = "w0"; groups = ["l1"]; }, { name = "w1"; groups = ["l1"]; },
              { name = "w2"; groups = ["l1"]; }, { name = "w3"; groups = ["l1"]; } );
tenants = ( { name = "acme"; targets = ( $(target web01) ); } );
grants = ( { to = "group:l1"; tenants = ["acme"]; targets = ["*"]; logins = ["deploy"]; mfa = "totp"; } );
P
svc mspgate config=$POL
openssl pkey -in "$KEY" -pubout -out "$T/audit.pub" 2>/dev/null
VERIFY="$BIN/mspgate-replay verify --pubkey $T/audit.pub"

if ! command -v logrotate >/dev/null 2>&1; then
	fail "logrotate is installed (apt-get install logrotate)"
	tap_done
	exit 1
fi
# The shipped configuration, for $AUDIT and as whoever runs the test.
sed -e "s|/var/log/mspgate/audit.jsonl|$AUDIT|" \
	-e "s|^\([[:space:]]*\)su .*|\1su $(id -un) $(id -gn)|" \
	debian/mspgate-gateway.logrotate >"$T/logrotate.conf"
rot() { logrotate -f -s "$T/logrotate.state" "$T/logrotate.conf"; }

# ev ENGINEER TAG: one auth_failure event (no TOTP secret enrolled), TAG
# in its reason (tty=TAG).
ev() { "$DRV" -C "$T/pam.d" -s mspgate -u "$1" -c 000000 -t "$2" auth >/dev/null 2>&1; }
evs() { i=0; while [ "$i" -lt "$2" ]; do ev "$1" "$1-$i"; i=$((i + 1)); done; }
# field FILE LINE KEY: a string or number member of one line.
field() {
	sed -n "$2p" "$1" | grep -o "\"$3\":\(\"[^\"]*\"\|[0-9]*\)" | head -1 |
		sed -e "s/^\"$3\"://" -e 's/"//g'
}

evs w0 3
rot
check "logrotate renamed the log" test -f "$AUDIT.1"
check "and made no new one (nocreate)" test ! -e "$AUDIT"
evs w1 2
check "the next event starts a new log" test -f "$AUDIT"
check "the new log names the log before it" test "$(field "$AUDIT" 1 prev_log)" = \
	"$(field "$AUDIT.1" 1 log)"
check "its last seq" test "$(field "$AUDIT" 1 prev_seq)" = 4
check "and its last hash" test "$(field "$AUDIT" 1 prev_hash)" = \
	"$(field "$AUDIT.1" 4 hash)"
check "hash and sig stay the last two members of log_start" \
	grep -q '"prev":"0\{64\}","hash":"[0-9a-f]\{64\}","sig":"[^"]*"}$' "$AUDIT"
rot
evs w2 2
rot
evs w3 1
check "delaycompress: two older logs compressed" test -f "$AUDIT.3.gz" -a -f "$AUDIT.2.gz"
check "the one before the current log is not" test -f "$AUDIT.1"
L=$T/log/audit.jsonl
$VERIFY "$L.3.gz" "$L.2.gz" "$L.1" "$L" >"$T/v" 2>&1
check "verify: four logs, oldest first, pass" test $? -eq 0
check_grep "verify shows the chain in order" \
	"^chain: $L.3.gz -> $L.2.gz -> $L.1 -> $L: OK (4 logs, 12 events)" "$T/v"
$VERIFY "$L.1" "$L" "$L.3.gz" "$L.2.gz" >"$T/v" 2>&1
check "verify: shuffled, they pass" test $? -eq 0
check_grep "in chain order" "^chain: $L.3.gz -> $L.2.gz -> $L.1 -> $L: OK" "$T/v"
$VERIFY "$L" >"$T/v" 2>&1
check "verify: the newest alone passes" test $? -eq 0
check_grep "and says its predecessor was not given" \
	"^$L: links to log $(field "$AUDIT.1" 1 log | cut -c1-16)\.\.\. line 3 (not given)" "$T/v"

# Damage, on copies.
mkdir "$T/c"
cp "$L.3.gz" "$L.2.gz" "$L.1" "$L" "$T/c/"
C=$T/c/audit.jsonl
$VERIFY "$C.3.gz" "$C.1" "$C" >"$T/v" 2>&1
check "a deleted middle log fails verify" test $? -eq 1
check_grep "and is named as a gap" \
	"^$C.1: FAILED: line 1: links to log .* which is not among the files given: a log is missing between $C.3.gz and $C.1" "$T/v"
check_grep "the chain fails" "^chain: FAILED" "$T/v"

sed '$ s/"engineer":"w2"/"engineer":"w9"/' "$L.1" >"$C.1"
$VERIFY "$C.3.gz" "$C.2.gz" "$C.1" "$C" >"$T/v" 2>&1
check "an edited last line of a rotated log fails verify" test $? -eq 1
check_grep "at its line" "^$C.1: FAILED: line 3 (byte [0-9]*): the line was changed" "$T/v"
check_grep "and its successor's link cannot be checked" \
	"^$C: FAILED: line 1: links to $C.1, which did not verify" "$T/v"

sed '$d' "$L.1" >"$C.1"
$VERIFY "$C.3.gz" "$C.2.gz" "$C.1" "$C" >"$T/v" 2>&1
check "a rotated log that lost its last line fails verify" test $? -eq 1
check_grep "the truncated log itself still verifies" "^$C.1: OK" "$T/v"
check_grep "its successor names the truncation" \
	"^$C: FAILED: line 1: links to line 3 of $C.1 (hash [0-9a-f]*\.\.\.), but $C.1 ends at line 2" "$T/v"

head -c -20 "$L.1" >"$C.1"
$VERIFY "$C.3.gz" "$C.2.gz" "$C.1" "$C" >"$T/v" 2>&1
check "a rotated log cut mid-line fails verify" test $? -eq 1
check_grep "incomplete" "^$C.1: INCOMPLETE: line 3" "$T/v"
check_grep "and the link shows it" "^$C: FAILED: line 1: links to line 3 of $C.1" "$T/v"

cp "$L.1" "$C.1"
cp "$L" "$C.1b"
$VERIFY "$C.3.gz" "$C.2.gz" "$C.1" "$C" "$C.1b" >"$T/v" 2>&1
check "the same log twice fails verify" test $? -eq 1
check_grep "named as a copy" "^$C.1b: FAILED: line 1: the same log" "$T/v"
rm -f "$C.1b"

# A predecessor whose last line is damaged: the log goes on (no login is
# refused for it), log_start records why, verify reports the break.
rot
sed -i '$ s/}$/x/' "$AUDIT.1"
ev w0 bad
check "a new log is written after a damaged predecessor" test -f "$AUDIT"
check_grep "log_start records why it has no link" \
	'"event":"log_start",.*"prev_error":"audit.jsonl.1: last line is damaged"' "$AUDIT"
check_grep "and the module says so in syslog" 'audit.jsonl.1: last line is damaged' "$MGPAM_SYSLOG"
$VERIFY "$L" >"$T/v" 2>&1
check "verify fails on that log" test $? -eq 1
check_grep "and says the chain is broken there" \
	"^$L: FAILED: line 1: this log was started without a link .*could not read (audit.jsonl.1: last line is damaged)" "$T/v"

# Four writers, 150 events each, while logrotate runs again and again.
rm -f "$T"/log/audit.jsonl*
: >"$T/logrotate.state"
ev w0 first
for w in w0 w1 w2 w3; do
	( evs "$w" 150 ) &
	eval "pid_$w=$!"
	tap_track_pid "$!"
done
n=0
# At most 40 rotations: the shipped config keeps 52 old logs, and a slow
# build (sanitizers) would otherwise rotate the first events out of reach.
while kill -0 "$pid_w0" 2>/dev/null || kill -0 "$pid_w1" 2>/dev/null ||
    kill -0 "$pid_w2" 2>/dev/null || kill -0 "$pid_w3" 2>/dev/null; do
	[ "$n" -lt 40 ] && rot && n=$((n + 1))
	sleep 0.1
done
wait
ev w0 last
check "logrotate ran during the writes ($n times)" test "$n" -ge 3
set -- "$T"/log/audit.jsonl*
check "the writes span several logs ($#)" test "$#" -ge 3
$VERIFY "$@" >"$T/v" 2>&1
check "verify: every log and the chain across them pass" test $? -eq 0
check_grep "the chain" "^chain: .* OK ($# logs, " "$T/v"
for f in "$@"; do gzip -dcf "$f"; done >"$T/all"
grep -o 'tty=w[0-3]-[0-9]*' "$T/all" | sort >"$T/tags"
check "no event lost: 600 writes, 600 events ($(wc -l <"$T/tags"))" \
	test "$(wc -l <"$T/tags")" -eq 600
check "none twice" test -z "$(uniq -d "$T/tags")"
check "one log_start per log" test "$(grep -c '"event":"log_start"' "$T/all")" -eq "$#"
hasnt "no writer failed to write the audit log" "audit log" "$MGPAM_SYSLOG"
tap_done
