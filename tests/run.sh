#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The one test runner: every unit test, fuzz seed corpus, PAM and end-to-end
# script, each printing TAP; ends with "N passed, N failed".
set -u
B=${MG_BUILD:-build}
export MG_BUILD="$B"
LOG="$B/tests/log"
mkdir -p "$LOG"
PASS=0
FAIL=0
FAILED_NAMES=""
WRAP=""
# libconfig 1.5 itself leaks on some syntax errors: see the file.
export LSAN_OPTIONS="suppressions=$(pwd)/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
if [ -n "${MG_VALGRIND:-}" ]; then
	WRAP="valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99"
fi

# run NAME COMMAND...: runs one TAP producer and adds up its results.
run() {
	name=$1
	shift
	out="$LOG/$name.log"
	mkdir -p "$(dirname "$out")"
	# A hang fails its test instead of holding up the whole run.
	CMOCKA_MESSAGE_OUTPUT=TAP timeout --kill-after=10 "${MG_TEST_TIMEOUT:-900}" \
	    "$@" >"$out" 2>&1
	rc=$?
	[ "$rc" -eq 124 ] && echo "$name: timed out after ${MG_TEST_TIMEOUT:-900} s" >>"$out"
	# A skipped test ("not ok N # SKIP" from cmocka) is neither.
	ok=$(grep -c '^ok ' "$out")
	nok=$(grep '^not ok ' "$out" | grep -vc '# SKIP')
	# A crash, a sanitizer report or a leak with no "not ok" still fails.
	if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
		nok=1
	fi
	if [ "$ok" -eq 0 ] && [ "$nok" -eq 0 ]; then
		echo "$name: ran no test" >>"$out"
		nok=1
	fi
	PASS=$((PASS + ok))
	FAIL=$((FAIL + nok))
	if [ "$nok" -ne 0 ]; then
		FAILED_NAMES="$FAILED_NAMES $name"
		printf 'FAIL %-40s %d passed, %d failed (exit %d)\n' "$name" "$ok" "$nok" "$rc"
		sed 's/^/    /' "$out" | grep -v '^    ok ' | tail -40
	else
		printf 'ok   %-40s %d passed\n' "$name" "$ok"
	fi
}

for t in "$B"/tests/unit/test_*; do
	[ -x "$t" ] || continue
	run "unit/$(basename "$t")" $WRAP "$t"
done
for t in "$B"/tests/fuzz/fuzz_*; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	run "fuzz/$n" $WRAP "$t" "tests/fuzz/corpus/${n#fuzz_}"
done
for dir in tests/cli tests/pam tests/e2e; do
	for t in "$dir"/*.sh; do
		[ -f "$t" ] || continue
		run "$dir/$(basename "$t" .sh)" sh "$t"
	done
done

[ -z "$FAILED_NAMES" ] || echo "failed:$FAILED_NAMES (logs in $LOG)"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ] && [ "$PASS" -gt 0 ]
