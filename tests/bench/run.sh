#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Runs every benchmark in tests/bench/ (not part of make check): sh tests/bench/run.sh [BUILD]
B=${1:-build}
rc=0
for b in tests/bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	echo "== $b"
	MG_BUILD="$B" sh "$b" || rc=1
done
exit $rc
