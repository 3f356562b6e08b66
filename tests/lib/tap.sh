# SPDX-License-Identifier: BSD-2-Clause
# Shell test helpers: source this, call ok/fail/check, end with tap_done.
# Each check prints one TAP line; tests/run.sh adds them up.
# Programs are in $BIN (the build's bin/ folder). Temporary files go in
# $T, removed at exit with every process registered by tap_track_pid.
# Files a test makes get safe modes, whatever the caller's umask.
umask 022
TAP_N=0
TAP_FAILED=0
: "${MG_BUILD:=build}"
BIN=${BIN:-$MG_BUILD/bin}
T=$(mktemp -d "${TMPDIR:-/tmp}/mgtest.XXXXXX")
TAP_PIDS=""
# fd 9: the TAP stream itself, for helpers whose own output a test captures
# (gw_pty writes its diagnostics there, as "#" lines).
exec 9>&1
tap_track_pid() { TAP_PIDS="$TAP_PIDS $1"; }
# tap_at_exit FUNCTION: FUNCTION runs at exit, before the tracked processes
# are killed and $T is removed (the last one registered runs first). Every
# helper's EXIT trap (gw_cleanup, chain_cleanup, a test's own) ends in
# tap_cleanup, so what is registered here runs whichever trap is in force
# and whatever order the helpers were sourced in (tests/lib/pg.sh uses it).
TAP_AT_EXIT=""
tap_at_exit() { TAP_AT_EXIT="$1 $TAP_AT_EXIT"; }
tap_cleanup() {
	for c in $TAP_AT_EXIT; do "$c"; done
	TAP_AT_EXIT=""
	for p in $TAP_PIDS; do kill "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap tap_cleanup EXIT
trap 'exit 130' INT TERM
trap 'exit 129' HUP

ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
fail() { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N - $*"; }
# check DESCRIPTION COMMAND...: ok when the command exits 0.
# A redirection on a check line also catches its TAP line: to keep a
# command's output, run it first and then check $?.
check() { d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }
# check_exit WANT DESCRIPTION COMMAND...: ok when the command exits WANT.
check_exit() {
	want=$1; d=$2; shift 2
	"$@"; got=$?
	if [ "$got" -eq "$want" ]; then ok "$d"; else fail "$d (exit $got, want $want)"; fi
}
# check_grep DESCRIPTION PATTERN FILE: ok when FILE has a line matching PATTERN.
check_grep() {
	if grep -q -e "$2" "$3"; then ok "$1"; else
		fail "$1"; echo "# '$2' not found in $3:"; sed 's/^/#   /' "$3" | head -20; fi
}
# tap_wait SECONDS COMMAND...: until COMMAND succeeds (tried every 0.1 s),
# at most SECONDS; 0 when it did. For waiting on an event: the bound is
# there for a broken build, so make it generous (a busy machine is slow).
tap_wait() {
	tw_end=$(($(date +%s) + $1)); shift
	while ! "$@"; do
		[ "$(date +%s)" -lt "$tw_end" ] || return 1
		sleep 0.1
	done
	return 0
}
# check_grep_soon DESC PATTERN FILE: check_grep once PATTERN is in FILE
# (waiting up to 30 s): for what another process writes after the event the
# test caused (mspgated's syslog lines, the audit log, which its own writer
# process appends), on a machine that may be slow (valgrind, a busy CI).
check_grep_soon() { tap_wait 30 grep -q -e "$2" "$3"; check_grep "$@"; }
tap_done() { echo "1..$TAP_N"; [ "$TAP_FAILED" -eq 0 ]; }
