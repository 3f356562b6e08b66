#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# make demo: until the gateway exists, check the example policy and print
# its access review and a few decisions.
set -eu
B=${1:-build}
P=$B/bin/mspgate-policy
mkdir -p "$B/demo"
# The policy must not be group or world writable: copy it with a safe mode,
# whatever the umask of this checkout was.
cp config/examples/mspgate.conf "$B/demo/mspgate.conf"
chmod 0644 "$B/demo/mspgate.conf"
EX=$B/demo/mspgate.conf
say() { printf '\n$ %s\n' "$*"; }
say mspgate-policy check -f $EX
$P check -f $EX
say mspgate-policy report -f $EX --tenant acme
$P report -f $EX --tenant acme
say mspgate-policy explain -f $EX alice acme/web01 --mfa fido+totp --at "2026-12-01 09:30 Europe/London"
$P explain -f $EX alice acme/web01 --mfa fido+totp --at "2026-12-01 09:30 Europe/London"
say mspgate-policy explain -f $EX alice acme/web01 --mfa totp --at "2026-12-01 09:30 Europe/London"
$P explain -f $EX alice acme/web01 --mfa totp --at "2026-12-01 09:30 Europe/London" || true
say mspgate-policy explain -f $EX bob acme/web01 --mfa totp --source 198.51.100.20 --at "2026-12-01 19:00 Europe/London"
$P explain -f $EX bob acme/web01 --mfa totp --source 198.51.100.20 --at "2026-12-01 19:00 Europe/London" || true
