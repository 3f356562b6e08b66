#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The one test runner: every unit test, fuzz seed corpus, CLI, PAM and
# end-to-end script, each printing TAP; ends with one line,
# "N passed, N failed, N skipped".
#
# Each test's output goes to its own log ($MG_BUILD/tests/log/NAME.log);
# the results are printed in a fixed order, whatever order they end in.
#   MG_JOBS=N      N tests at once (default: make's -jN, else 1). The tests
#                  use their own ports, accounts and files, so they may.
#   MG_NO_SKIP=1   a skipped test counts as failed (CI, whose set-up
#                  installs everything the tests need: a skip there means
#                  something went untested).
#   MG_TEST_TIMEOUT=S   a test still running after S seconds fails (900).
#   tests/run.sh NAME...   only those tests (e.g. unit/test_core_time,
#                  tests/e2e/gw_session), with the same accounting.
set -u
B=${MG_BUILD:-build}
export MG_BUILD="$B"
LOG="$B/tests/log"
WRAP=""
# libconfig 1.5 itself leaks on some syntax errors: see the file.
case ${LSAN_OPTIONS:-} in *lsan.supp*) ;; *)
export LSAN_OPTIONS="suppressions=$(pwd)/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" ;;
esac
if [ -n "${MG_VALGRIND:-}" ]; then
	WRAP="valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99"
fi

# one NAME: runs one TAP producer into $LOG/NAME.log; its exit status goes
# to $LOG/NAME.rc, written last (the reporter waits for that file).
one() {
	name=$1
	out="$LOG/$name.log"
	mkdir -p "$(dirname "$out")"
	case $name in
	unit/*) set -- $WRAP "$B/tests/$name" ;;
	fuzz/*) n=${name#fuzz/}; set -- $WRAP "$B/tests/$name" "tests/fuzz/corpus/${n#fuzz_}" ;;
	*) set -- sh "$name.sh" ;;
	esac
	t0=$(date +%s)
	# A hang fails its test instead of holding up the whole run.
	CMOCKA_MESSAGE_OUTPUT=TAP timeout --kill-after=10 "${MG_TEST_TIMEOUT:-900}" \
	    "$@" >"$out" 2>&1 </dev/null
	rc=$?
	[ "$rc" -eq 124 ] && echo "$name: timed out after ${MG_TEST_TIMEOUT:-900} s" >>"$out"
	echo "$rc $(($(date +%s) - t0))" >"$out.rc.tmp" && mv "$out.rc.tmp" "$LOG/$name.rc"
}

if [ "${1:-}" = --one ]; then
	one "$2"
	exit 0
fi

# Every test, slowest first: with MG_JOBS > 1 the long end-to-end scripts
# start at once and the short ones fill the gaps.
all_tests() {
	for dir in tests/e2e tests/pam tests/cli tests/verify; do
		for t in "$dir"/*.sh; do
			[ -f "$t" ] && echo "${t%.sh}"
		done
	done
	for t in "$B"/tests/unit/test_*; do
		[ -x "$t" ] && echo "unit/${t##*/}"
	done
	for t in "$B"/tests/fuzz/fuzz_*; do
		[ -x "$t" ] && echo "fuzz/${t##*/}"
	done
}

jobs=${MG_JOBS:-}
if [ -z "$jobs" ]; then
	# make check -jN: N tests at once; a bare -j: one per CPU.
	jobs=$(printf '%s\n' " ${MAKEFLAGS:-}" | tr ' ' '\n' | sed -n 's/^-j\([0-9]*\)$/\1/p' | tail -1)
	[ "$jobs" = "" ] && printf '%s\n' " ${MAKEFLAGS:-}" | tr ' ' '\n' | grep -qx -- -j &&
	    jobs=$(nproc)
	jobs=${jobs:-1}
fi

mkdir -p "$LOG"
LIST="$LOG/.list"
if [ $# -gt 0 ]; then
	printf '%s\n' "$@" | sed 's/\.sh$//'
else
	all_tests
fi >"$LIST"
# Started longest first, by the times of the last run (when there was one):
# a long test started last would keep the run going alone.
SCHED="$LOG/.sched"
while read -r name; do
	secs=0
	[ -f "$LOG/$name.rc" ] && read -r _ secs <"$LOG/$name.rc"
	echo "${secs:-0} $name"
	# Results from an earlier run must not be read as this one's.
	rm -f "$LOG/$name.rc" "$LOG/$name.log"
done <"$LIST" | sort -s -k1,1nr | cut -d' ' -f2- >"$SCHED"

# sshd needs /run/sshd; a test that makes it removes it when it ends, and
# so could pull it from under a test running beside it: made here once.
made_run_sshd=""
if [ "$(id -u)" -eq 0 ] && [ ! -d /run/sshd ]; then
	mkdir -m 0755 /run/sshd && made_run_sshd=1
fi
cleanup() {
	kill $pool 2>/dev/null
	[ -n "$made_run_sshd" ] && ! pgrep -x sshd >/dev/null && rmdir /run/sshd 2>/dev/null
}

xargs -P "$jobs" -n 1 sh tests/run.sh --one <"$SCHED" &
pool=$!
trap cleanup EXIT
trap 'exit 130' INT TERM

PASS=0
FAIL=0
SKIP=0
FAILED_NAMES=""
SKIPPED=""
# The results in list order, each as soon as it and those before it end.
while read -r name; do
	out="$LOG/$name.log"
	while [ ! -f "$LOG/$name.rc" ]; do
		kill -0 "$pool" 2>/dev/null || break
		sleep 0.2
	done
	if [ ! -f "$LOG/$name.rc" ]; then
		echo "$name: did not run" >>"$out"
		rc=127 secs=0
	else
		read -r rc secs <"$LOG/$name.rc"
	fi
	# TAP: "ok N ... # SKIP reason" is a skip (cmocka 1.1.5 writes
	# "not ok N ... # SKIP"), neither passed nor failed.
	ok=$(grep '^ok ' "$out" | grep -vic '# skip')
	nok=$(grep '^not ok ' "$out" | grep -vic '# skip')
	sk=$(grep -E '^(not )?ok ' "$out" | grep -ic '# skip')
	# A crash, a sanitizer report or a leak with no "not ok" still fails.
	if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
		nok=1
	fi
	if [ "$ok" -eq 0 ] && [ "$nok" -eq 0 ] && [ "$sk" -eq 0 ]; then
		echo "$name: ran no test" >>"$out"
		nok=1
	fi
	if [ "$sk" -ne 0 ]; then
		SKIPPED="$SKIPPED$(grep -E '^(not )?ok ' "$out" | grep -i '# skip' |
		    sed "s|^.*# [Ss][Kk][Ii][Pp]\(ped\)* *|  $name: |")
"
		if [ -n "${MG_NO_SKIP:-}" ]; then
			echo "$name: $sk skipped test(s), and MG_NO_SKIP is set" >>"$out"
			nok=$((nok + sk))
			sk=0
		fi
	fi
	PASS=$((PASS + ok))
	FAIL=$((FAIL + nok))
	SKIP=$((SKIP + sk))
	if [ "$nok" -ne 0 ]; then
		FAILED_NAMES="$FAILED_NAMES $name"
		printf 'FAIL %-40s %d passed, %d failed, %d skipped (exit %d, %d s)\n' "$name" \
		    "$ok" "$nok" "$sk" "$rc" "$secs"
		sed 's/^/    /' "$out" | grep -v '^    ok ' | tail -40
	elif [ "$sk" -ne 0 ]; then
		printf 'ok   %-40s %d passed, %d skipped (%d s)\n' "$name" "$ok" "$sk" "$secs"
	else
		printf 'ok   %-40s %d passed (%d s)\n' "$name" "$ok" "$secs"
	fi
done <"$LIST"
wait "$pool"

if [ -n "$SKIPPED" ]; then
	if [ -n "${MG_NO_SKIP:-}" ]; then
		echo "skipped, counted as failed (MG_NO_SKIP):"
	else
		echo "skipped:"
	fi
	printf '%s' "$SKIPPED"
fi
[ -z "$FAILED_NAMES" ] || echo "failed:$FAILED_NAMES (logs in $LOG)"
echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" -eq 0 ] && [ "$PASS" -gt 0 ]
