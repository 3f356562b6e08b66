#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# A host whose policy keeps the state in PostgreSQL but that has no libpq5
# (libpam-mspgate only suggests it; libpq is loaded when the state is first
# used, state/st_pq.c): the module refuses one-time codes, fails closed and
# says which library and which package; the same code then logs in with
# the library there (the refusal recorded nothing); behind the broker, as on
# a gateway, the module needs no libpq of its own. The module without the
# library is tests/lib/pam_mspgate-nopq.so, whose loader looks for a
# library that is not there.
. tests/lib/tap.sh
. tests/lib/pg.sh
pg_need
. tests/pam/pamlib.inc
POLICY=$B/bin/mspgate-policy
NOPQ=$B/tests/lib/pam_mspgate-nopq.so
[ -f "$NOPQ" ] || { fail "$NOPQ is built (make check builds it)"; tap_done; exit 1; }

pg_start || { fail "throwaway PostgreSQL cluster"; tap_done; exit 1; }
openssl rand -hex 32 >"$T/etc/state.key" && chmod 600 "$T/etc/state.key"
policy <<P
$(mfa_section)
state: { backend = "postgresql"; conninfo = "$PG_CONNINFO"; passfile = "$PG_PASSFILE";
         key_file = "$T/etc/state.key"; timeout = "5s"; name = "gwa"; };
engineers = ( { name = "erin"; groups = ["l1"]; } );
tenants = ( { name = "acme"; targets = ( $(target web01) ); } );
grants = ( { to = "group:l1"; tenants = ["acme"]; targets = ["*"]; logins = ["deploy"]; mfa = "totp"; } );
P
"$POLICY" state init -f "$POL" >"$T/o" 2>&1
check "state init" test $? -eq 0
SE=$(enroll_batch erin)
check "erin enrolled" test "${#SE}" -eq 32
"$ENROLL" -c "$POL" --activate "$(code "$SE" -1)" erin >"$T/o" 2>&1
check_grep "and activated" "secret activated" "$T/o"
svc real config=$POL
m=$MOD
MOD=$NOPQ
svc nopq config=$POL
MOD=$m

C=$(code "$SE" 0)
run "$T/o" -s nopq -u erin -c "$C" auth
has "without libpq: the right code is refused" "auth PAM_AUTH_ERR" "$T/o"
check_grep "the engineer is told codes cannot be checked now" \
	"the gateway cannot check one-time codes right now" "$T/o"
check_grep "syslog names the library and the package" \
	"user=erin .*needs libpq-mspgate-absent\.so\.5: .*(install libpq5)" "$MGPAM_SYSLOG"
run "$T/o" -s real -u erin -c "$C" auth
has "with libpq: the same code logs in (the refusal recorded nothing)" "auth PAM_SUCCESS" "$T/o"

# Behind the broker (mspgated's, run alone here): the module asks it.
"$B/tests/lib/broker-run" "$POL" >"$T/broker.out" 2>&1 &
BROKER=$!
tap_track_pid $BROKER
check "the broker is up" tap_wait 20 grep -qx ready "$T/broker.out"
run "$T/o" -s nopq -u erin -c "$(code "$SE" 1)" auth
has "through the broker the module needs no libpq: the next code logs in" "auth PAM_SUCCESS" "$T/o"
kill "$BROKER"
wait "$BROKER" 2>/dev/null
tap_done
