#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Runs every benchmark in tests/bench/ (not part of make check): sh tests/bench/run.sh [BUILD]
# Each script prints its own details and appends its summary rows to
# $MG_BENCH_ROWS, one per line, tab-separated:
#   row <TAB> mspgate <TAB> baseline <TAB> ratio <TAB> target <TAB> met?
# At the end the rows become one table, printed and written as Markdown
# to BUILD/bench/results.md with the machine it ran on.
B=${1:-build}
OUT="$B/bench"
mkdir -p "$OUT"
MG_BENCH_ROWS=$(mktemp "${TMPDIR:-/tmp}/mgbench-rows.XXXXXX")
export MG_BENCH_ROWS
trap 'rm -f "$MG_BENCH_ROWS"' EXIT
machine() {
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
	mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	echo "$(nproc) cores ($cpu), $mem memory, $(uname -sr), $(. /etc/os-release && echo "$PRETTY_NAME"); OpenSSH $(ssh -V 2>&1 | cut -d, -f1)"
}
MACHINE=$(machine)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date -u '+%Y-%m-%d %H:%M UTC')
t0=$(date +%s)
rc=0
for b in tests/bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	echo "== $b"
	MG_BUILD="$B" sh "$b" || rc=1
done
t1=$(date +%s)
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
{
	echo "# mspgate benchmarks"
	echo
	echo "Machine: $MACHINE."
	echo "Run: $START, $(( (t1 - t0) / 60 )) min $(( (t1 - t0) % 60 )) s; load average $LOAD0 at the start, $LOAD1 at the end"
	echo "(other work on the machine makes absolute figures noisy: compare the ratios, measured in the same run)."
	echo
	echo "| row | mspgate | baseline | ratio | target | met? |"
	echo "|---|---|---|---|---|---|"
	awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6 }' "$MG_BENCH_ROWS"
	echo
	echo "Details and definitions: the output of each script above and the comments in tests/bench/*.sh."
} >"$OUT/results.md"
echo
cat "$OUT/results.md"
echo "(written to $OUT/results.md)"
exit $rc
