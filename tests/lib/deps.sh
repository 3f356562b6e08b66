#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Installs the Build-Depends of debian/control that are missing, with apt-get.
set -eu
control=${1:-debian/control}
# Build-Depends may span lines; drop version constraints and alternatives.
pkgs=$(awk '
	/^Build-Depends(-Indep|-Arch)?:/ { on = 1; sub(/^[^:]*:/, ""); print; next }
	on && /^[ \t]/ { print; next }
	{ on = 0 }' "$control" |
	tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/\[.*\]//; s/<.*>//; s/[[:space:]]//g' |
	grep -v '^$' | sed 's/^debhelper-compat$/debhelper/' | sort -u)
missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	echo "deps: all build dependencies are installed"
	exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "+ $SUDO apt-get update"
$SUDO apt-get update
echo "+ $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends$missing"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
