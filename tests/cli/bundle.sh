#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Evidence bundles: mspgate-replay bundle collects one tenant's recordings,
# audit events (placed in the chain by hashes only), grants and the key,
# signed; verify-bundle checks it offline against a pinned key; nothing of
# another tenant is in it; any change, or another key, fails.
. tests/lib/tap.sh

P="$BIN/mspgate-replay"
R="$BIN/mspgate-record"
openssl genpkey -algorithm ed25519 -out "$T/k.pem" 2>/dev/null
openssl pkey -in "$T/k.pem" -pubout -out "$T/k.pub"
openssl genpkey -algorithm ed25519 -out "$T/o.pem" 2>/dev/null
openssl pkey -in "$T/o.pem" -pubout -out "$T/o.pub"
mkdir -p "$T/rec" "$T/log"
AUDIT=$T/log/audit.jsonl
# The example policy, with the gateway's files in $T.
sed -e "s|\"/var/lib/mspgate/recordings\"|\"$T/rec\"|" \
	-e "s|\"/var/log/mspgate/audit.jsonl\"|\"$AUDIT\"|" \
	-e "s|\"/etc/mspgate/signing_key.pem\"|\"$T/k.pem\"|" \
	-e "s|user = \"mspgate\";|user = \"$(id -un)\";|" \
	config/examples/mspgate.conf >"$T/pol.conf"
chmod 0644 "$T/pol.conf"
"$BIN/mspgate-policy" check -f "$T/pol.conf" >"$T/chk" 2>&1
check "the test policy is valid" test $? -eq 0

# rec SESSION ENGINEER TENANT TARGET TEXT: one session, sealed in the audit log.
rec() {
	timeout 30 "$R" -q --key "$T/k.pem" --audit "$AUDIT" -o "$T/rec/$1.cast" \
		--meta engineer="$2" --meta tenant="$3" --meta target="$4" \
		-- sh -c "echo $5" </dev/null >/dev/null 2>&1
}
rec a-1 alice acme web01 acme-output-one
rec g-1 dave globex app1 GLOBEX-SECRET-ONE
mv "$AUDIT" "$AUDIT.1"
rec a-2 alice acme db01 acme-output-two
rec g-2 dave globex db GLOBEX-SECRET-TWO
gzip "$AUDIT.1"
check "the audit log was rotated and compressed" test -f "$AUDIT.1.gz" -a -f "$AUDIT"

B=$T/acme.tar
TODAY=$(date -u +%Y-%m-%d)
"$P" bundle -f "$T/pol.conf" --tenant acme --since "$TODAY" -o "$B" >"$T/b" 2>&1
check "bundle makes the tenant's bundle" test $? -eq 0
check_grep "and says what is in it" "acme.tar: tenant acme, 2 recordings, 4 audit events" "$T/b"
"$P" bundle -f "$T/pol.conf" --tenant acme --since "$TODAY" -o "$B" >"$T/b" 2>&1
check "bundle never overwrites a file" test $? -ne 0

"$P" verify-bundle --pubkey "$T/k.pub" "$B" >"$T/v" 2>&1
check "verify-bundle: a good bundle verifies" test $? -eq 0
check_grep "every part is named" "^recordings/a-2.cast: OK" "$T/v"
check_grep "the audit excerpts of both logs" "^audit/[0-9a-f]*.jsonl: OK (2 events of acme" "$T/v"
check "two logs" test "$(grep -c '^audit/.*jsonl: OK' "$T/v")" -eq 2
check_grep "the rotated log's link to the one before holds" \
	"^audit/[0-9a-f]*.jsonl: follows log [0-9a-f]* (line 5): OK" "$T/v"
check_grep "every session matches its seal" "^sessions: 2, verified 2, missing 0, failed 0" "$T/v"
check_grep "the last line says OK" "^bundle: OK: tenant acme, 2 recordings, 4 audit events" "$T/v"

# The second verifier, written from doc/FORMATS.md, agrees.
PY="python3 tests/verify/mgverify.py"
$PY --pubkey "$T/k.pub" --bundle "$B" >"$T/vp" 2>&1
check "mgverify.py --bundle: the good bundle verifies" test $? -eq 0
$PY --pubkey "$T/o.pub" --bundle "$B" >"$T/vp" 2>&1
check "mgverify.py --bundle: a wrong pinned key fails" test $? -eq 1

# Nothing of the other tenant: names, engineers, targets, sessions, output.
mkdir "$T/u"
tar -xf "$B" -C "$T/u"
check "the bundle unpacks with tar" test -f "$T/u/MANIFEST" -a -f "$T/u/grants.txt"
check "the tenant's grants are in it" grep -q "acme" "$T/u/grants.txt"
check "the store and the log do hold the other tenant's data (this test can fail)" \
	sh -c "grep -r -a -q GLOBEX-SECRET '$T/rec' && grep -a -q globex '$AUDIT'"
for word in globex GLOBEX dave app1 g-1 g-2 203.0.113; do
	check "no '$word' anywhere in the bundle" sh -c "! grep -r -a -q '$word' '$T/u' && ! grep -a -q '$word' '$B'"
done
check "no private key in it" sh -c "! grep -r -a -q PRIVATE '$T/u'"

# retar DIR OUT: a bundle from unpacked files (regular files only, ustar).
retar() { (cd "$1" && find . -type f | sed 's|^\./||' | sort | tar --format=ustar -cf "$2" -T -); }
bad() { # WHAT PATTERN: verify-bundle (and mgverify.py) of $T/x.tar fail, saying PATTERN
	"$P" verify-bundle --pubkey "$T/k.pub" "$T/x.tar" >"$T/v" 2>&1
	rc=$?
	$PY --pubkey "$T/k.pub" --bundle "$T/x.tar" >"$T/vp" 2>&1
	prc=$?
	if [ "$rc" -eq 1 ] && [ "$prc" -eq 1 ] && grep -q -e "$2" "$T/v" &&
	    grep -q '^bundle: FAILED' "$T/v"; then
		ok "$1 fails verify-bundle"
	else fail "$1 fails verify-bundle (exit $rc, mgverify.py $prc)"; sed 's/^/#   /' "$T/v" "$T/vp"; fi
	rm -f "$T/x.tar"
}
retar "$T/u" "$T/x.tar"
"$P" verify-bundle --pubkey "$T/k.pub" "$T/x.tar" >"$T/v" 2>&1
check "a bundle re-packed unchanged by tar still verifies" test $? -eq 0
rm -f "$T/x.tar"

cp -r "$T/u" "$T/t1"; sed -i 's/acme-output-one/acme-output-0ne/' "$T/t1/recordings/a-1.cast"
retar "$T/t1" "$T/x.tar"; bad "an edited recording" "^recordings/a-1.cast: FAILED: not the file the manifest signed"
cp -r "$T/u" "$T/t2"; sed -i 's/^tenant acme$/tenant acme2/' "$T/t2/MANIFEST"
retar "$T/t2" "$T/x.tar"; bad "an edited manifest" "^MANIFEST: FAILED: not signed by the pinned key"
cp -r "$T/u" "$T/t3"; rm "$T/t3/recordings/a-2.cast"
retar "$T/t3" "$T/x.tar"; bad "a recording removed" "^recordings/a-2.cast: FAILED: listed in the manifest, not in the bundle"
cp -r "$T/u" "$T/t4"; echo extra >"$T/t4/recordings/extra.cast"
retar "$T/t4" "$T/x.tar"; bad "a file added" "^recordings/extra.cast: FAILED: in the bundle, not in the signed manifest"
cp -r "$T/u" "$T/t5"; f=$(ls "$T"/t5/audit/*.jsonl | head -1); sed -i '$d' "$f"
retar "$T/t5" "$T/x.tar"; bad "an audit event removed" "FAILED: not the file the manifest signed"
cp "$B" "$T/x.tar"; printf 'X' | dd of="$T/x.tar" bs=1 seek=700 conv=notrunc 2>/dev/null
bad "a byte changed in the tar" "FAILED"
head -c 2048 "$B" >"$T/x.tar"; bad "a cut-short tar" "not a bundle archive"

"$P" verify-bundle --pubkey "$T/o.pub" "$B" >"$T/v" 2>&1
check "a wrong pinned key fails" test $? -eq 1
check_grep "and says so" "^MANIFEST: FAILED: not signed by the pinned key" "$T/v"
check_exit 2 "verify-bundle without a key is a usage error" "$P" verify-bundle "$B" 2>/dev/null
# bundle without what it needs says what is missing, by name.
check_exit 2 "bundle without --since is a usage error" "$P" bundle -f "$T/pol.conf" --tenant acme \
	-o "$T/none.tar" 2>"$T/usage.err"
check_grep "and names the missing option" "missing: --since$" "$T/usage.err"
check_exit 2 "bundle with nothing given is a usage error" "$P" bundle 2>"$T/usage.err"
check_grep "and names all three" "missing: --tenant --since -o$" "$T/usage.err"
check "nothing was written" test ! -e "$T/none.tar"

# A recording gone from the store when the bundle is made: the client sees it.
rm "$T/rec/a-1.cast"
"$P" bundle -f "$T/pol.conf" --tenant acme --since "$TODAY" -o "$T/b2.tar" >"$T/b" 2>&1
check "a bundle is still made" test $? -eq 0
"$P" verify-bundle --pubkey "$T/k.pub" "$T/b2.tar" >"$T/v" 2>&1
check "and fails verify-bundle" test $? -eq 1
check_grep "naming the missing recording" "^recordings/a-1.cast: MISSING: sealed in audit/" "$T/v"
$PY --pubkey "$T/k.pub" --bundle "$T/b2.tar" >"$T/vp" 2>&1
check "mgverify.py --bundle agrees" test $? -eq 1

# The period: nothing before --since.
"$P" bundle -f "$T/pol.conf" --tenant acme --since 2000-01-01 --until 2000-01-02 \
	-o "$T/b3.tar" >"$T/b" 2>&1
check_grep "an empty period gives an empty bundle" "0 recordings, 0 audit events" "$T/b"
check_exit 2 "an unknown tenant is refused" "$P" bundle -f "$T/pol.conf" --tenant initech \
	--since "$TODAY" -o "$T/b4.tar" 2>/dev/null
tap_done
