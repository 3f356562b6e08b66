#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Docs that cannot drift (issue 21): every example command of README.md,
# doc/ and man/ runs in a throwaway gateway tree, as a reader would copy it,
# and must exit and print as shown (tests/docs/docs_run.py). Commands that
# need a live gateway (mspgatectl, mspgated) are run by the e2e tests.
. tests/lib/tap.sh
RUNNER="python3 tests/docs/docs_run.py"
R="$T/root"
mkdir -p "$R/etc/mspgate/vault" "$R/var/lib/mspgate/recordings" "$R/var/lib/mspgate/totp" \
	"$R/var/lib/mspgate/state/lockout" "$R/var/log/mspgate" "$R/run/mspgate" "$R/work/seed" "$R/home" \
	"$R/etc/mspgate-signer/ca"
chmod 0700 "$R/var/lib/mspgate/totp" "$R/var/lib/mspgate/state" "$R/var/lib/mspgate/state/lockout"

# The example policy, its files under $R.
sed -e "s#\"/etc/mspgate#\"$R/etc/mspgate#g" -e "s#\"/var/lib/mspgate#\"$R/var/lib/mspgate#g" \
    -e "s#\"/var/log/mspgate#\"$R/var/log/mspgate#g" -e "s#\"/run/mspgate#\"$R/run/mspgate#g" \
    config/examples/mspgate.conf >"$R/etc/mspgate/mspgate.conf"
check "the example policy's paths are moved into the tree" \
	sh -c "! grep -q '\"/etc/mspgate\\|\"/var/\\|\"/run/' '$R/etc/mspgate/mspgate.conf'"
openssl genpkey -algorithm ed25519 -out "$R/etc/mspgate/signing_key.pem" 2>/dev/null &&
	openssl pkey -in "$R/etc/mspgate/signing_key.pem" -pubout -out "$R/etc/mspgate/signing_key.pub"
check "a signing key" test -s "$R/etc/mspgate/signing_key.pub"

# One recorded session of alice's on acme/web01 (an rclone an auditor looks
# for), in the recordings and the audit log, as the gateway would leave it.
printf 'echo rclone copy /srv/data remote:backup\nexit\n' |
	"$BIN/mspgate-record" -q --key "$R/etc/mspgate/signing_key.pem" \
	-o "$R/var/lib/mspgate/recordings/S-42.cast" --audit "$R/var/log/mspgate/audit.jsonl" \
	--meta engineer=alice --meta tenant=acme --meta target=web01 --meta login=deploy \
	-- sh >/dev/null 2>"$T/rec.err"
check "a recorded session S-42 and its audit log" test -s "$R/var/lib/mspgate/recordings/S-42.cast" \
	-a -s "$R/var/log/mspgate/audit.jsonl"
sed 's/^/# /' "$T/rec.err"
# alice locked out for the next hour (mspgate-enroll --lockouts shows it).
printf 'locked_until = %s\n' $(($(date +%s) + 3600)) >"$R/var/lib/mspgate/state/lockout/alice"
chmod 0600 "$R/var/lib/mspgate/state/lockout/alice"

# What the examples name in the current folder: the public key under the
# names the docs give it, the recordings.
for n in rec.pub mspgate.pub mspgate-pinned.pub; do
	cp "$R/etc/mspgate/signing_key.pub" "$R/work/seed/$n"
done
cp "$R/var/lib/mspgate/recordings/S-42.cast" "$R/work/seed/"

# The HTML export embeds the asciinema-player bundle (`make player`, part of
# `make deps`): the build's own, or the plain build's under a sanitizer build.
for d in "$MG_BUILD/player" build/player; do
	if [ -f "$d/asciinema-player.min.js" ]; then
		MSPGATE_PLAYER_DIR=$(cd "$d" && pwd)
		export MSPGATE_PLAYER_DIR
		break
	fi
done
if [ -z "${MSPGATE_PLAYER_DIR:-}" ]; then
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N # SKIP the HTML export example: no player bundle (make player)"
	MG_DOCS_NO_PLAYER=1
	export MG_DOCS_NO_PLAYER
fi

# The docs as they are.
$RUNNER --docs . --root "$R" --bin "$BIN" >"$T/real.out" 2>&1
echo $? >"$T/real.rc"
sed -n 's/^\(# .*\)/\1/p' "$T/real.out"
grep '^ok \|^not ok ' "$T/real.out" | sed 's/^\(not \)*ok [0-9]* - //' >"$T/real.names"
while IFS= read -r name; do
	if grep -q "^ok [0-9]* - $name\$" "$T/real.out"; then ok "docs: $name"
	else fail "docs: $name"; fi
done <"$T/real.names"
check "the runner found documents with examples" test -s "$T/real.names"
check_grep "it ran examples (not all templates or elsewhere)" '^# [1-9][0-9]* run,' "$T/real.out"

# A test that cannot fail is a defect: a copy of the docs with one example
# changed so it no longer works, and one with a shown output changed.
mkdir -p "$T/docs"
cp -r README.md doc man "$T/docs/"
sed -i 's/^mspgate-policy report --tenant acme --format csv/mspgate-policy report --tenant acme --format xml/' \
	"$T/docs/man/mspgate-policy.1"
sed -i 's/^alice                locked until/alice                unlocked since/' \
	"$T/docs/man/mspgate-enroll.8"
rm -rf "$R/work/man_"*
$RUNNER --docs "$T/docs" --root "$R" --bin "$BIN" >"$T/mut.out" 2>&1
check "the runner fails on the changed copy" test $? -ne 0
check_grep "a command that no longer runs is named with its file and line" \
	'^# man/mspgate-policy.1:[0-9]*: mspgate-policy report --tenant acme --format xml > acme-access.csv: exit 1' "$T/mut.out"
check_grep "an output line that is not printed is named" \
	"^# man/mspgate-enroll.8:[0-9]*: mspgate-enroll --lockouts does not print 'alice *unlocked since" "$T/mut.out"
tap_done
