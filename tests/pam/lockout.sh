#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# pam_mspgate: one code, ten parallel logins, one success; lockout after N
# failures, cleared by the admin or by time; a crashed lock holder.
. tests/lib/tap.sh
. tests/pam/pamlib.inc

LOCK_FAILURES=3 LOCK_FOR=3s
policy <<P
$(mfa_section)
engineers = ( { name = "alice"; groups = ["l1"]; }, { name = "rita"; groups = ["l1"]; },
              { name = "stan"; groups = ["l1"]; } );
tenants = ( { name = "acme"; targets = ( $(target web01) ); } );
grants = ( { to = "group:l1"; tenants = ["acme"]; targets = ["*"]; logins = ["deploy"]; mfa = "totp"; } );
P
svc mspgate config=$POL
for u in alice rita stan; do
	eval "S_$u=\$(enroll_batch $u)"
	eval "\"\$ENROLL\" -c \"\$POL\" --activate \"\$(code \"\$S_$u\" -1)\" $u" >/dev/null 2>&1
done

# Race: 10 logins at once with the same valid code.
C=$(code "$S_rita" 0)
i=0
while [ $i -lt 10 ]; do
	i=$((i + 1))
	run "$T/race$i" -s mspgate -u rita -c "$C" auth &
done
wait
n=$(cat "$T"/race* | grep -c '^auth PAM_SUCCESS$')
f=$(cat "$T"/race* | grep -c '^auth PAM_AUTH_ERR$')
check "10 parallel logins with one code: exactly one succeeds ($n)" test "$n" -eq 1
check "... and the 9 others are denied ($f)" test "$f" -eq 9

# Lockout: 3 wrong codes lock the account, across processes.
W=$(code "$S_alice" 0 | tr 0123456789 1234567890)
run "$T/o1" -s mspgate -u alice -c "$W" auth
run "$T/o2" -s mspgate -u alice -c "$W" auth
"$ENROLL" -c "$POL" --lockouts >"$T/lk"
check_grep "--lockouts shows failures before the lock" "^alice .*not locked, 2 recent failures" "$T/lk"
run "$T/o3" -s mspgate -u alice -c "$W" auth
check_grep "syslog says the account is locked out" "user 'alice' locked out: 3 failures" "$MGPAM_SYSLOG"
check_grep "the audit log has a lockout event" '"event":"lockout","engineer":"alice"' "$AUDIT"
run "$T/o" -s mspgate -u alice -c "$(code "$S_alice" 0)" auth
has "locked: even the right code is denied" "auth PAM_AUTH_ERR" "$T/o"
has "locked: the engineer sees the generic message" "error: Verification failed." "$T/o"
check_grep "locked: syslog says why" "user=alice .*account locked for" "$MGPAM_SYSLOG"
"$ENROLL" -c "$POL" --lockouts >"$T/lk"
check_grep "--lockouts lists the lock" "^alice .*locked until" "$T/lk"
"$ENROLL" -c "$POL" --unlock alice >"$T/ul"
check_grep "--unlock clears it" "alice: unlocked" "$T/ul"
run "$T/o" -s mspgate -u alice -c "$(code "$S_alice" 0)" auth
has "after --unlock the right code passes" "auth PAM_SUCCESS" "$T/o"
"$ENROLL" -c "$POL" --lockouts >"$T/lk"
hasnt "--lockouts no longer lists alice" "^alice " "$T/lk"

# Locked again, then the lock ends by itself after lock_for (3s).
for i in 1 2 3; do run "$T/o" -s mspgate -u alice -c "$W" auth; done
run "$T/o" -s mspgate -u alice -c "$(code "$S_alice" 1)" auth
has "locked again" "auth PAM_AUTH_ERR" "$T/o"
# The lock's end, as the admin sees it (--lockouts, the module's own rule):
# waited for, not slept through.
unlocked() {
	"$ENROLL" -c "$POL" --lockouts >"$T/lk" 2>&1 && ! grep -q '^alice .*locked until' "$T/lk"
}
check "the lock ends by itself (--lockouts)" tap_wait 60 unlocked
run "$T/o" -s mspgate -u alice -c "$(code "$S_alice" 1)" auth
has "after lock_for the right code passes" "auth PAM_SUCCESS" "$T/o"

# A lock held by a live process: the login waits (5 s), then is denied,
# never let through. flock(2) locks die with their process, so once the
# holder is killed (a crashed login), the next login works at once.
python3 -c 'import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(60)' "$T/var/state/lockout/stan.lock" "$T/held" &
holder=$!
tap_track_pid $holder
i=0
while [ ! -e "$T/held" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
run "$T/o" -s mspgate -u stan -c "$(code "$S_stan" 0)" auth
has "lock held by another live login: denied" "auth PAM_AUTH_ERR" "$T/o"
check_grep "syslog says the lock is held" "user=stan .*held by another login" "$MGPAM_SYSLOG"
kill -9 $holder
wait $holder 2>/dev/null
run "$T/o" -s mspgate -u stan -c "$(code "$S_stan" 0)" auth
has "after the holder dies (kill -9) the login works: no stale lock" "auth PAM_SUCCESS" "$T/o"
"$ENROLL" -c "$POL" --unlock nobody >"$T/ul" 2>&1
check_grep "--unlock of a user without a lock says so" "was not locked" "$T/ul"
tap_done
