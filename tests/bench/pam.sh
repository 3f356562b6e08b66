#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark (not a test): authentications per second and median latency of
# a valid TOTP through pamtester, pam_mspgate against pam_oath and
# pam_google_authenticator (Debian packages), in the same run.
# Usage: sh tests/bench/pam.sh [BUILD] [N]   (default build, 100 logins each)
# pamtester runs under pam_wrapper (PAM_WRAPPER_SERVICE_DIR), so /etc/pam.d
# is never touched. Each login uses its own user (every module refuses a
# code twice), all with the current code of one secret.
set -u
B=$(cd "${1:-${MG_BUILD:-build}}" && pwd)
N=${2:-100}
MOD=$B/lib/security/pam_mspgate.so
SEC=/lib/$(cc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/security
WRAP=/usr/lib/$(cc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/libpam_wrapper.so
for f in "$MOD" "$SEC/pam_oath.so" "$SEC/pam_google_authenticator.so" "$WRAP"; do
	[ -e "$f" ] || { echo "bench/pam: missing $f (make; apt install pamtester libpam-oath libpam-google-authenticator libpam-wrapper)"; exit 1; }
done
command -v pamtester >/dev/null || { echo "bench/pam: pamtester is not installed"; exit 1; }
T=$(mktemp -d /tmp/mgbench.XXXXXX)
trap 'rm -rf "$T"' EXIT
umask 077
mkdir -p "$T/pam.d" "$T/totp" "$T/state" "$T/ga"
HEX=3132333435363738393031323334353637383930
B32=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
openssl genpkey -algorithm ed25519 -out "$T/key.pem" 2>/dev/null
HK=$(ssh-keygen -q -t ed25519 -N '' -C '' -f "$T/hk" >/dev/null && cut -d' ' -f1,2 "$T/hk.pub")

users() { i=1; while [ $i -le "$N" ]; do printf 'u%04d\n' $i; i=$((i + 1)); done; }
{
	echo "gateway: { state = \"$T/state\"; audit = \"$T/audit.jsonl\"; signing_key = \"$T/key.pem\"; };"
	echo "mfa: { totp: { store = \"$T/totp\"; }; lockout: { failures = 1000; }; };"
	printf 'engineers = ( '
	users | sed 's/.*/{ name = "&"; groups = ["l1"]; }/' | paste -sd, -
	echo ');'
	echo "tenants = ( { name = \"acme\"; targets = ( { name = \"w\"; host = \"192.0.2.1\"; host_key = \"$HK\"; logins = [\"d\"]; credential = \"c\"; } ); } );"
	echo 'grants = ( { to = "group:l1"; tenants = ["acme"]; targets = ["*"]; logins = ["d"]; mfa = "totp"; } );'
} >"$T/mspgate.conf"
chmod 0644 "$T/mspgate.conf"
for u in $(users); do
	printf 'version = 1\nstatus = active\nalgorithm = sha1\ndigits = 6\nperiod = 30\nsecret = %s\ncreated = 0\n' "$B32" >"$T/totp/$u"
	echo "HOTP/T30 $u - $HEX" >>"$T/oath.users"
	printf '%s\n" TOTP_AUTH\n" DISALLOW_REUSE\n" WINDOW_SIZE 3\n' "$B32" >"$T/ga/$u"
	chmod 0400 "$T/ga/$u"
done
echo "auth required $MOD config=$T/mspgate.conf" >"$T/pam.d/mspgate"
echo "auth required pam_oath.so usersfile=$T/oath.users window=1" >"$T/pam.d/oath"
echo "auth required pam_google_authenticator.so secret=$T/ga/\${USER} user=root no_strict_owner allowed_perm=0400" >"$T/pam.d/gauth"

# bench SERVICE: runs N logins, one user each, prints "ok median_ms total_s".
bench() {
	: >"$T/lat.$1"
	okc=0
	start=$(date +%s%N)
	for u in $(users); do
		code=$(oathtool --totp -b "$B32")
		t0=$(date +%s%N)
		if echo "$code" | LD_PRELOAD=$WRAP PAM_WRAPPER=1 \
		    PAM_WRAPPER_SERVICE_DIR="$T/pam.d" pamtester "$1" "$u" authenticate \
		    >/dev/null 2>&1; then okc=$((okc + 1)); fi
		t1=$(date +%s%N)
		echo $(( (t1 - t0) / 1000 )) >>"$T/lat.$1"
	done
	end=$(date +%s%N)
	med=$(sort -n "$T/lat.$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]/1000}')
	echo "$okc $med $(( (end - start) / 1000000 ))"
}
printf '%-26s %8s %12s %14s %10s\n' module ok "auth/s" "median ms" "vs oath"
set -- $(bench oath); o_ok=$1 o_med=$2 o_ms=$3
for s in oath gauth mspgate; do
	if [ $s = oath ]; then r_ok=$o_ok r_med=$o_med r_ms=$o_ms; else set -- $(bench $s); r_ok=$1 r_med=$2 r_ms=$3; fi
	case $s in oath) name=pam_oath;; gauth) name=pam_google_authenticator;; *) name=pam_mspgate;; esac
	awk -v n="$name" -v ok="$r_ok" -v N="$N" -v ms="$r_ms" -v med="$r_med" -v oms="$o_ms" 'BEGIN {
		printf "%-26s %4d/%-3d %12.1f %14.2f %9.2fx\n", n, ok, N, N * 1000 / ms, med, oms / ms }'
done
echo "(auth/s over N logins including pamtester start-up; 'vs oath' > 1 is faster than pam_oath)"
