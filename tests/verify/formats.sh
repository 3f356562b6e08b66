#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# doc/FORMATS.md against the code: the doc's worked example recomputes with
# openssl and sha256sum and verifies with mspgate-replay; a second verifier
# written from the doc alone (mgverify.py, Python) agrees with mspgate-replay
# on fresh recordings and audit logs made by the real tools, rotated logs
# included, and both reject tampered copies.
. tests/lib/tap.sh

PY="python3 tests/verify/mgverify.py"
P="$BIN/mspgate-replay"
R="$BIN/mspgate-record"
if ! python3 -c 'import cryptography' 2>/dev/null; then
	fail "python3-cryptography is installed (apt-get install python3-cryptography)"
	tap_done
	exit 1
fi

# The doc's example files: each follows a "<!-- file: NAME -->" line.
mkdir "$T/doc"
awk -v d="$T/doc" '
	/^<!-- file: .* -->$/ { name = $3; want = 1; next }
	want && /^```/ { if (out) { close(out); out = ""; want = 0 } else out = d "/" name; next }
	out { print > out }' doc/FORMATS.md
check "the doc holds its example files" test -s "$T/doc/S-1.cast" -a -s "$T/doc/audit.jsonl.1" \
	-a -s "$T/doc/audit.jsonl" -a -s "$T/doc/example.pub" -a -s "$T/doc/check-example.sh"
check "and no private key" sh -c "! grep -q PRIVATE doc/FORMATS.md"
(cd "$T/doc" && sh check-example.sh) >"$T/recipe" 2>&1
check "the doc's recipe recomputes every hash and signature (openssl, sha256sum)" test $? -eq 0
check "it checked both checkpoints, four audit lines and the rotation link" \
	test "$(grep -c '^ok: signature of' "$T/recipe")" -eq 6
(cd "$T/doc" && "$OLDPWD/$P" verify --pubkey example.pub S-1.cast audit.jsonl.1 audit.jsonl) \
	>"$T/v" 2>&1
check "mspgate-replay verifies the doc's example" test $? -eq 0
(cd "$T/doc" && python3 "$OLDPWD/tests/verify/mgverify.py" --pubkey example.pub S-1.cast \
	audit.jsonl.1 audit.jsonl) >"$T/v" 2>&1
check "so does the second verifier" test $? -eq 0
# An edit to the example breaks the recipe too (it cannot pass whatever the files say).
sed -i '3s/exit status 0/exit status 1/' "$T/doc/S-1.cast"
(cd "$T/doc" && sh check-example.sh) >"$T/recipe" 2>&1
check "an edited example fails the recipe" test $? -ne 0
check_grep "at the checkpoint after the edit" "^MISMATCH: line 4: checkpoint hash" "$T/recipe"

# Fresh files from the real tools: two sessions, a rotation, a third session.
openssl genpkey -algorithm ed25519 -out "$T/k.pem" 2>/dev/null
openssl pkey -in "$T/k.pem" -pubout -out "$T/k.pub"
openssl genpkey -algorithm ed25519 -out "$T/o.pem" 2>/dev/null
openssl pkey -in "$T/o.pem" -pubout -out "$T/o.pub"
D="$T/rec"
mkdir "$D"
rec() {
	timeout 30 "$R" -q --key "$T/k.pem" --audit "$T/audit.jsonl" --checkpoint-events 3 \
		-o "$D/$1.cast" --meta engineer=alice --meta tenant=acme -- sh -c "$2" \
		</dev/null >/dev/null 2>&1
}
rec s1 'for i in 1 2 3 4 5 6 7; do echo line $i; done'
# Bytes that are not UTF-8, a NUL run, a C1 control, a quote and a backslash.
rec s2 'printf "\377\376 caf\303\251 \302\233 \"q\" \\\\ x\n"; head -c 40 /dev/zero'
mv "$T/audit.jsonl" "$T/audit.jsonl.1"
rec s3 'echo after the rotation'
gzip -k "$T/audit.jsonl.1"
set -- "$D/s1.cast" "$D/s2.cast" "$D/s3.cast" "$T/audit.jsonl.1" "$T/audit.jsonl"
check_grep "s2 has a raw-bytes event" '"x", "o:' "$D/s2.cast"
check_grep "the new log links to the rotated one" '"prev_log":"' "$T/audit.jsonl"
$P verify --pubkey "$T/k.pub" "$@" >"$T/v" 2>&1
check "mspgate-replay: fresh files verify" test $? -eq 0
$PY --pubkey "$T/k.pub" "$@" >"$T/v" 2>&1
check "mgverify.py: fresh files verify" test $? -eq 0
check_grep "and every recording matches its seal" "^seal: $D/s3.cast: OK" "$T/v"
$PY --pubkey "$T/k.pub" "$D/s1.cast" "$D/s2.cast" "$T/audit.jsonl.1.gz" >"$T/v" 2>&1
check "mgverify.py reads a compressed rotated log" test $? -eq 0
$PY --pubkey "$T/o.pub" "$D/s1.cast" >"$T/v" 2>&1
check "mgverify.py: another key fails" test $? -eq 1

# both WHAT FILE...: each verifier fails the set (exit 1).
both() {
	what=$1; shift
	$P verify --pubkey "$T/k.pub" "$@" >"$T/vc" 2>&1
	c=$?
	$PY --pubkey "$T/k.pub" "$@" >"$T/vp" 2>&1
	p=$?
	if [ "$c" -eq 1 ] && [ "$p" -eq 1 ]; then ok "$what fails both verifiers"
	else fail "$what fails both verifiers (mspgate-replay $c, mgverify.py $p)"
		sed 's/^/#   /' "$T/vc" "$T/vp"; fi
}
mkdir "$T/x"
cp "$D"/*.cast "$T"/audit.jsonl* "$T/x/"
X=$T/x
sed -i '2s/line 1/line 9/' "$X/s1.cast"
both "an edited output line" "$X/s1.cast"
cp "$D/s1.cast" "$X/"
sed -i '3d' "$X/s1.cast"
both "a deleted recording line" "$X/s1.cast"
cp "$D/s1.cast" "$X/"
sed -i '2s/"engineer":"alice"/"engineer":"mallory"/' "$X/audit.jsonl.1"
both "an edited audit line" "$X/audit.jsonl.1" "$X/audit.jsonl"
cp "$T/audit.jsonl.1" "$X/"
sed -i '$d' "$X/audit.jsonl.1"
both "a rotated log that lost its last line" "$X/audit.jsonl.1" "$X/audit.jsonl"
cp "$T/audit.jsonl.1" "$X/"
sed -i '1s/"seq":1,/"seq":1 ,/' "$X/audit.jsonl"
both "a re-spaced log_start (same JSON, other bytes)" "$X/audit.jsonl.1" "$X/audit.jsonl"
cp "$T/audit.jsonl" "$X/"
cp "$D/s1.cast" "$X/s2.cast"
both "a recording renamed" "$X/s2.cast"
rm "$X/s2.cast"
both "a sealed recording deleted" "$X/s1.cast" "$X/audit.jsonl.1" "$X/audit.jsonl"
tap_done
