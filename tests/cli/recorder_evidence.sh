#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# verify with the audit log: every sealed session's recording is there and is
# the one that was sealed (mspgate-record --audit writes the seals, as the
# gateway does); a deleted, cut, substituted or untraced recording shows.
. tests/lib/tap.sh

openssl genpkey -algorithm ed25519 -out "$T/k.pem" 2>/dev/null
openssl pkey -in "$T/k.pem" -pubout -out "$T/k.pub"
R="$BIN/mspgate-record"
V="$BIN/mspgate-replay verify --pubkey $T/k.pub"
D="$T/rec"
A="$T/audit.jsonl"
mkdir -p "$D" "$T/old"

# rec DIR SESSION AUDIT TEXT: one recorded session of alice, sealed in AUDIT.
rec() {
	echo "echo $4" | timeout 30 "$R" -q --key "$T/k.pem" --audit "$3" -o "$1/$2.cast" \
		--meta engineer=alice --meta tenant=acme --meta target=web01 -- sh >/dev/null 2>&1
}
rec "$T/old" C "$T/old.jsonl" "last-week"
rec "$D" A "$A" "first"
rec "$D" B "$A" "second"
rec "$D" C "$A" "third"
check_grep "the audit log seals each session" '"event":"session_end","session":"C".*"recording":"C.cast","seal":"sha256:' "$A"

$V --dir "$D" "$A" >"$T/v" 2>&1
check "a complete store verifies" test $? -eq 0
check_grep "each recording matches its seal" "^$D/B.cast: sealed: matches its seal in $A line 5" "$T/v"
check_grep "one summary line, last" "^summary: 3 sessions, 3 verified, 0 missing, 0 failed, 0 unsealed$" "$T/v"
check "the summary is the last line" test "$(tail -1 "$T/v" | cut -c1-8)" = "summary:"
$V "$D/A.cast" "$D/B.cast" "$D/C.cast" "$A" >"$T/v" 2>&1
check "files given one by one verify too" test $? -eq 0
$V "$A" >"$T/v" 2>&1
check "the audit log alone still verifies (no recording to match)" test $? -eq 0
check "and says nothing of recordings" sh -c "! grep -q summary '$T/v'"
check_exit 2 "--dir without the audit logs is a usage error" \
	$BIN/mspgate-replay verify --pubkey "$T/k.pub" --dir "$D" 2>/dev/null

# A deleted recording (the issue's first reproduction).
mkdir "$T/c1"; cp "$D"/*.cast "$T/c1/"; rm "$T/c1/B.cast"
$V "$T/c1/A.cast" "$A" >"$T/v" 2>&1
check "a recording deleted: verify A.cast audit.jsonl fails" test $? -eq 1
check_grep "and names the missing one" "^B.cast: MISSING: sealed in $A line 5 (session B), but there is no recording" "$T/v"
$V --dir "$T/c1" "$A" >"$T/v" 2>&1
check "a recording deleted from the store fails --dir" test $? -eq 1
check_grep "named in the store" "^$T/c1/B.cast: MISSING" "$T/v"
check_grep "and counted" "^summary: 3 sessions, 2 verified, 1 missing, 0 failed, 0 unsealed$" "$T/v"

# A sealed recording cut short (the issue's second reproduction).
mkdir "$T/c2"; cp "$D"/*.cast "$T/c2/"; head -n 3 "$D/B.cast" >"$T/c2/B.cast"
$V "$T/c2/B.cast" >"$T/v" 2>&1
check "cut short, alone: INCOMPLETE (exit 3), as for a crash" test $? -eq 3
$V "$T/c2/B.cast" "$A" >"$T/v" 2>&1
check "cut short, with the audit log that sealed it: FAILED" test $? -eq 1
check_grep "cut after its seal" "^$T/c2/B.cast: FAILED: cut after its seal: $A line 5" "$T/v"
$V --dir "$T/c2" "$A" >"$T/v" 2>&1
check_grep "counted as failed" "^summary: 3 sessions, 2 verified, 0 missing, 1 failed, 0 unsealed$" "$T/v"

# An older recording of the same engineer and session id in place of the
# sealed one: it verifies on its own (same name, same key), not against its seal.
mkdir "$T/c3"; cp "$D"/*.cast "$T/c3/"; cp "$T/old/C.cast" "$T/c3/C.cast"
$V "$T/c3/C.cast" >"$T/v" 2>&1
check "the substitute verifies on its own" test $? -eq 0
$V --dir "$T/c3" "$A" >"$T/v" 2>&1
check "a substituted older recording fails against its seal" test $? -eq 1
check_grep "does not match its seal" "^$T/c3/C.cast: FAILED: does not match its seal in $A line 7" "$T/v"
# Another session's recording renamed into place.
cp "$D/A.cast" "$T/c3/C.cast"
$V --dir "$T/c3" "$A" >"$T/v" 2>&1
check "another session's recording renamed into place fails" test $? -eq 1
check_grep "as renamed" "^$T/c3/C.cast: FAILED: file is named C.cast but was written as A.cast" "$T/v"

# A recording the audit log does not know about.
mkdir "$T/c4"; cp "$D"/*.cast "$T/c4/"
rec "$T/c4" Z "$T/other.jsonl" "elsewhere"
$V --dir "$T/c4" "$A" >"$T/v" 2>&1
check "a recording with no audit trace is not a pass (exit 3)" test $? -eq 3
check_grep "it is reported" "^$T/c4/Z.cast: UNSEALED: no trace in the audit logs given (session Z)" "$T/v"
check_grep "and counted" "^summary: 4 sessions, 3 verified, 0 missing, 0 failed, 1 unsealed$" "$T/v"

# Rotated and compressed audit logs hold the seals just as well.
cp "$A" "$T/audit.jsonl.1"; gzip "$T/audit.jsonl.1"
$V --dir "$D" "$T/audit.jsonl.1.gz" >"$T/v" 2>&1
check "seals are read from a compressed log" test $? -eq 0

# An audit log in the store under a recording's name is checked as a log.
mkdir "$T/c5"; cp "$D"/*.cast "$T/c5/"; cp "$A" "$T/c5/Y.cast"
$V --dir "$T/c5" "$A" >"$T/v" 2>&1
check "a copy of the audit log in the store fails" test $? -eq 1
check_grep "as a copy" "^$T/c5/Y.cast: FAILED: line 1: the same log" "$T/v"

# A session that started and has no recording at all.
"$R" -q --key "$T/k.pem" --audit "$A" -o "$T/c1/K.cast" -- sh -c 'kill -9 $PPID' \
	</dev/null >/dev/null 2>&1
rm -f "$T/c1/K.cast"
cp "$D/B.cast" "$T/c1/"
$V --dir "$T/c1" "$A" >"$T/v" 2>&1
check "a started session without a recording fails" test $? -eq 1
check_grep "as missing" "^$T/c1/K.cast: MISSING: started in $A line 8" "$T/v"

tap_done
