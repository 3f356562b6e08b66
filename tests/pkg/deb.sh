#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The Debian packages, end to end: `make deb` in a scratch copy of the tree,
# lintian (no E: or W:), install, the services started as their unit files
# say (no systemd needed), reinstall and upgrade, remove, purge, and nothing
# left behind. Root only; the machine's own sshd and /etc/ssh are not
# touched. While both daemons run, an engineer logs in through them with a
# (software) FIDO key and a TOTP code, as a sysadmin would set it up
# (tests/pkg/login.sh). Run from the top of the tree: sh tests/pkg/deb.sh
. tests/lib/tap.sh
# login_run, login_cleanup (sources tests/lib/gw.sh; its trap is replaced
# by pkg_cleanup below).
. tests/pkg/login.sh
# nspawn_run, nspawn_cleanup: the packages under a real systemd.
. tests/pkg/nspawn.sh

if [ "$(id -u)" -ne 0 ]; then
	echo "ok 1 # SKIP the package test needs root (apt-get, dpkg)"
	echo "1..1"
	exit 0
fi

PKGS="libpam-mspgate mspgate-gateway mspgate-tools"
UNITDIR=/lib/systemd/system
PIDS=""
MADE_RUNSSHD=""
INSTALLED=""
export DEBIAN_FRONTEND=noninteractive

# Everything this test may have made, also after a failure half-way.
pkg_cleanup() {
	# The login's accounts, target sshd and ssh clients first.
	login_cleanup
	nspawn_cleanup
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.5
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	if [ -n "$INSTALLED" ]; then
		# All at once: one by one, a package others depend on would stay.
		left=""
		for p in $PKGS; do
			dpkg-query -W -f '${db:Status-Abbrev}\n' "$p" 2>/dev/null | grep -qv '^[up]n' &&
				left="$left $p"
		done
		[ -n "$left" ] && dpkg --purge $left >>"$T/cleanup.log" 2>&1
		# Only what the packages make: after a failed purge.
		if getent passwd mspgate >/dev/null; then
			for p in $(pgrep -u mspgate 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
			deluser --quiet --system mspgate >/dev/null 2>&1
		fi
		getent group mspgate >/dev/null && delgroup --quiet --system mspgate >/dev/null 2>&1
		dpkg-statoverride --remove /etc/mspgate/mspgate.conf >/dev/null 2>&1
		rm -rf /etc/mspgate /var/lib/mspgate /var/log/mspgate /run/mspgate /run/mspgate-sshd.pid \
			/run/mspgate-attest
	fi
	# Left while any sshd runs: the system's (or a test's) needs it.
	[ -n "$MADE_RUNSSHD" ] && ! pgrep -x sshd >/dev/null && rmdir /run/sshd 2>/dev/null
	tap_cleanup
}
trap pkg_cleanup EXIT

# unit_get UNIT KEY: the first KEY= value in the installed unit file.
unit_get() { sed -n "s/^$2=//p" "$UNITDIR/$1" | head -n 1; }
# mode_is PATH OWNER:GROUP MODE
mode_is() { [ "$(stat -c '%U:%G %a' "$1" 2>/dev/null)" = "$2 $3" ]; }
sum_of() { sha256sum "$@" 2>/dev/null | cut -d' ' -f1 | tr '\n' ' '; }
installed_version() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null; }
all_installed() {
	for p in $PKGS; do
		dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || return 1
	done
}
wait_for() { n=0; while [ $n -lt 100 ]; do "$@" && return 0; sleep 0.1; n=$((n + 1)); done; return 1; }
port_open() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
# pkg_procs: processes run from the packages' paths (not other tests' build/).
pkg_procs() {
	for d in /proc/[0-9]*; do
		c=$( { tr '\0' ' ' <"$d/cmdline"; } 2>/dev/null)
		case $c in
		/usr/sbin/mspgate*|*/usr/libexec/mspgate/mspgate*) echo "${d#/proc/}: $c" ;;
		esac
	done
}

# A machine that already has mspgate would lose it to the purge below.
if getent passwd mspgate >/dev/null || [ -e /etc/mspgate ] || [ -e /var/lib/mspgate ] ||
    dpkg-query -W -f '${db:Status-Abbrev}\n' $PKGS 2>/dev/null | grep -qv '^[up]n'; then
	fail "this machine already has mspgate (packages, user or files): not touching it"
	tap_done; exit 1
fi
if port_open 2222; then
	fail "port 2222 is in use: the packaged gateway sshd listens there"
	tap_done; exit 1
fi
START=$(date +%s)
SSH_BEFORE=$(cd /etc/ssh && find . -type f -print0 | sort -z | xargs -0 sha256sum)

# -- build ----------------------------------------------------------------
# A scratch copy of the working tree (uncommitted edits included), so that
# neither build/ nor the tree itself is touched.
chmod 0711 "$T"
S="$T/src"
mkdir -p "$S"
check "scratch copy of the tree" rsync -a --exclude=/.git --exclude=/build \
	--exclude=/debian/build --exclude=/debian/tmp --exclude=/debian/.debhelper "./" "$S/"
(cd "$S" && DEB_BUILD_OPTIONS="parallel=2 ${DEB_BUILD_OPTIONS:-}" make deb) >"$T/build.log" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
	fail "make deb (exit $rc)"
	tail -30 "$T/build.log" | sed 's/^/#   /'
	tap_done; exit 1
fi
ok "make deb"
D="$S/build/deb"
chmod 0755 "$S" "$S/build" "$D"
V=$(cd "$S" && dpkg-parsechangelog -SVersion)
DEBS=""
for p in $PKGS; do DEBS="$DEBS $D/${p}_${V}_$(dpkg --print-architecture).deb"; done
all_files() { for f in "$@"; do [ -f "$f" ] || return 1; done; }
# shellcheck disable=SC2086
check "three binary packages built" all_files $DEBS
check_grep "dpkg-buildflags applied (hardening=+all)" "-Werror=format-security.*-D_FORTIFY_SOURCE=3" "$T/build.log"
check "no -Werror in the package build" sh -c "! grep -q -e ' -Werror ' '$T/build.log'"
# libpq is loaded only for state.backend "postgresql" (state/st_pq.c): no
# shlibs dependency finds it, so the gateway package names it itself.
# deb_dep PKG DEP: the package PKG's Depends name DEP.
deb_dep() {
	dpkg-deb -f "$D/${1}_${V}_$(dpkg --print-architecture).deb" Depends | tr ',' '\n' |
		sed 's/^ *//; s/ .*//' | grep -qx "$2"
}
check "mspgate-gateway depends on libpq5 (loaded, not linked)" deb_dep mspgate-gateway libpq5
no_deb_dep() { ! deb_dep "$@"; }
check "libpam-mspgate does not (client hosts keep their state in files)" \
	no_deb_dep libpam-mspgate libpq5

# -- lintian --------------------------------------------------------------
lintian --display-info --fail-on none "$D"/mspgate_"$V"_*.changes >"$T/lintian.log" 2>&1
if grep -q -e '^[EW]: ' "$T/lintian.log"; then
	fail "lintian: no errors, no warnings"
	grep -e '^[EW]: ' "$T/lintian.log" | sed 's/^/#   /'
else
	ok "lintian: no errors, no warnings"
fi
sed -n 's/^\([IP]: \)/#   lintian \1/p' "$T/lintian.log"

# -- install --------------------------------------------------------------
INSTALLED=1
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $DEBS >"$T/install.log" 2>&1
rc=$?
if [ $rc -eq 0 ] && all_installed; then ok "apt-get install"; else
	fail "apt-get install (exit $rc)"; tail -20 "$T/install.log" | sed 's/^/#   /'
	tap_done; exit 1
fi

check "user mspgate: system account, home /var/lib/mspgate, no shell" sh -c '
	e=$(getent passwd mspgate) || exit 1
	uid=$(echo "$e" | cut -d: -f3); home=$(echo "$e" | cut -d: -f6); sh=$(echo "$e" | cut -d: -f7)
	[ "$uid" -lt 1000 ] && [ "$home" = /var/lib/mspgate ] &&
	case $sh in */nologin|/bin/false) true ;; *) false ;; esac &&
	getent group mspgate >/dev/null'
check "policy root:mspgate 0640" mode_is /etc/mspgate/mspgate.conf root:mspgate 640
check "vault mspgate 0700" mode_is /etc/mspgate/vault mspgate:mspgate 700
check "recordings mspgate 0700" mode_is /var/lib/mspgate/recordings mspgate:mspgate 700
check "state mspgate 0700" mode_is /var/lib/mspgate/state mspgate:mspgate 700
check "lockout state mspgate 0700" mode_is /var/lib/mspgate/state/lockout mspgate:mspgate 700
check "TOTP store mspgate 0700" mode_is /var/lib/mspgate/totp mspgate:mspgate 700
check "audit log dir mspgate 0750" mode_is /var/log/mspgate mspgate:mspgate 750
check "audit log mspgate 0640" mode_is /var/log/mspgate/audit.jsonl mspgate:mspgate 640
check "signing key mspgate 0600, Ed25519" sh -c '
	[ "$(stat -c "%U %a" /etc/mspgate/signing_key.pem)" = "mspgate 600" ] &&
	openssl pkey -in /etc/mspgate/signing_key.pem -noout -text 2>/dev/null | grep -q ED25519'
check "signing public key matches" sh -c '
	[ "$(openssl pkey -in /etc/mspgate/signing_key.pem -pubout)" = "$(cat /etc/mspgate/signing_key.pub)" ]'
check "gateway host keys root 0600" sh -c '
	for t in ed25519 ecdsa; do
		[ "$(stat -c "%U %a" /etc/mspgate/ssh_host_${t}_key)" = "root 600" ] || exit 1
		ssh-keygen -l -f /etc/mspgate/ssh_host_${t}_key.pub >/dev/null || exit 1
	done'
check "PAM module in the multiarch security dir" \
	test -f "/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/security/pam_mspgate.so"
check "PAM service mspgate uses pam_mspgate" grep -q '^auth.*pam_mspgate.so' /etc/pam.d/mspgate
check "the installed PAM module and mspgated name no libpq" sh -c '
	for f in /usr/lib/*/security/pam_mspgate.so /usr/sbin/mspgated; do
		[ -f "$f" ] || exit 1
		readelf -d "$f" | grep NEEDED | grep -q libpq && exit 1
	done; exit 0'
check_grep "pam-auth-update profile off by default" '^Default: no' /usr/share/pam-configs/mspgate
check "common-auth untouched by the profile" sh -c '! grep -q pam_mspgate /etc/pam.d/common-*'
check "man pages installed" sh -c 'for m in mspgated.8 mspgate-shell.8 mspgate-keys.8 \
	mspgatectl.8 pam_mspgate.8 mspgate-enroll.8 mspgate.conf.5 mspgate-policy.1 \
	mspgate-replay.1 mspgate-record.1; do
		s=${m##*.}; [ -f /usr/share/man/man$s/$m.gz ] || { echo "# no $m"; exit 1; }
	done'

# The fresh policy grants nothing, and loads.
check "mspgated -t (as mspgate) accepts the installed policy" \
	runuser -u mspgate -- /usr/sbin/mspgated -t -f /etc/mspgate/mspgate.conf
mspgate-policy check >"$T/policy.out" 2>&1
check_grep "mspgate-policy check: nobody granted" "0 engineers.*0 grants" "$T/policy.out"
runuser -u mspgate -- /usr/sbin/mspgate-keys root >"$T/keys.out" 2>&1
check_exit 0 "mspgate-keys (as mspgate) runs" test $? -eq 0
check "mspgate-keys gives no keys" test ! -s "$T/keys.out"
mspgate-enroll --list >"$T/enroll.out" 2>&1
check_exit 0 "mspgate-enroll --list reads the TOTP store" test $? -eq 0
if [ ! -d /run/sshd ]; then mkdir -m 0755 /run/sshd && MADE_RUNSSHD=1; fi
check "sshd -t -f /etc/mspgate/sshd_config" /usr/sbin/sshd -t -f /etc/mspgate/sshd_config
check "the gateway sshd_config: port 2222, mspgate-keys, ForceCommand" sh -c '
	c=$(/usr/sbin/sshd -T -f /etc/mspgate/sshd_config -C user=x,host=x,addr=127.0.0.1) &&
	echo "$c" | grep -qx "port 2222" &&
	echo "$c" | grep -qx "authorizedkeyscommand /usr/sbin/mspgate-keys %u" &&
	echo "$c" | grep -qx "authorizedkeyscommanduser mspgate" &&
	echo "$c" | grep -qx "forcecommand /usr/sbin/mspgate-shell" &&
	echo "$c" | grep -qx "usepam yes"'

# -- unit files -----------------------------------------------------------
check "mspgated.service: User=mspgate, no PrivateUsers" sh -c "
	[ \"\$(sed -n 's/^User=//p' $UNITDIR/mspgated.service)\" = mspgate ] &&
	! grep -q '^PrivateUsers' $UNITDIR/mspgated.service"
check "mspgate-sshd.service wants mspgated.service, not ssh.service" sh -c "
	grep -q '^Wants=.*mspgated.service' $UNITDIR/mspgate-sshd.service &&
	grep -q '^After=.*mspgated.service' $UNITDIR/mspgate-sshd.service &&
	! grep -v '^#' $UNITDIR/mspgate-sshd.service | grep -q 'ssh.service\|/etc/ssh'"
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify "$UNITDIR/mspgated.service" "$UNITDIR/mspgate-sshd.service" \
		>"$T/verify.log" 2>&1
	rc=$?
	check_exit 0 "systemd-analyze verify" test $rc -eq 0
	[ $rc -eq 0 ] || sed 's/^/#   /' "$T/verify.log"
	systemd-analyze security --offline=true "$UNITDIR/mspgated.service" >"$T/security.log" 2>&1
	score=$(sed -n 's/.*Overall exposure level for mspgated.service: \([0-9.]*\).*/\1/p' "$T/security.log")
	echo "# systemd-analyze security: mspgated.service exposure ${score:-?}"
	check "mspgated.service exposure at most 1.5 (got ${score:-none})" \
		awk -v s="${score:-99}" 'BEGIN { exit !(s <= 1.5) }'
	systemd-analyze security --offline=true "$UNITDIR/mspgate-signer.service" >"$T/security-s.log" 2>&1
	score=$(sed -n 's/.*Overall exposure level for mspgate-signer.service: \([0-9.]*\).*/\1/p' "$T/security-s.log")
	echo "# systemd-analyze security: mspgate-signer.service exposure ${score:-?}"
	# 0.6: ProtectProc=default costs 0.2; the signer checks that an attested
	# login's sshd session process (root's) still runs, in /proc.
	check "mspgate-signer.service exposure at most 0.6 (got ${score:-none})" \
		awk -v s="${score:-99}" 'BEGIN { exit !(s <= 0.6) }'
	check "mspgate-signer.service sees root's processes (ProtectProc=default)" \
		grep -qx 'ProtectProc=default' "$UNITDIR/mspgate-signer.service"
else
	ok "systemd-analyze verify # SKIP no systemd-analyze"
fi

# -- the services, started as the unit files say --------------------------
# No systemd here (nor on CI): each ExecStartPre/ExecStart is run as the
# unit's User=/Group= with its RuntimeDirectory= made first.
u=$(unit_get mspgated.service User)
g=$(unit_get mspgated.service Group)
rd=$(unit_get mspgated.service RuntimeDirectory)
rdm=$(unit_get mspgated.service RuntimeDirectoryMode)
install -d -o "$u" -g "${g:-$u}" -m "${rdm:-0755}" "/run/$rd"
pre=$(unit_get mspgated.service ExecStartPre)
start=$(unit_get mspgated.service ExecStart)
# shellcheck disable=SC2086
check "mspgated ExecStartPre" setpriv --reuid="$u" --regid="${g:-$u}" --init-groups -- $pre
# shellcheck disable=SC2086
setpriv --reuid="$u" --regid="${g:-$u}" --init-groups -- $start 2>"$T/mspgated.log" &
DPID=$!
PIDS="$PIDS $DPID"
check "mspgated started (session socket)" wait_for test -S /run/mspgate/session.sock
check "mspgated runs as mspgate" test "$(ps -o user= -p "$DPID")" = mspgate
check "session socket 0666, control socket 0660" sh -c '
	[ "$(stat -c %a /run/mspgate/session.sock)" = 666 ] &&
	[ "$(stat -c "%U %a" /run/mspgate/control.sock)" = "mspgate 660" ]'
mspgatectl list >"$T/ctl.out" 2>&1
check_exit 0 "mspgatectl list answers" test $? -eq 0
check_grep "mspgatectl list: the table header" "ENGINEER" "$T/ctl.out"
kill -HUP "$DPID"
sleep 0.5
check "mspgated survives a reload (SIGHUP)" kill -0 "$DPID"
mspgatectl list >/dev/null 2>&1
check_exit 0 "mspgatectl list after the reload" test $? -eq 0

# mspgate-signer, as its unit says: its own account, the policy through
# the mspgate group, its socket open to all (it serves only mspgate).
u=$(unit_get mspgate-signer.service User)
rd=$(unit_get mspgate-signer.service RuntimeDirectory)
install -d -o root -g root -m 0755 "/run/$rd"
chown "$u" "/run/$rd"
pre=$(unit_get mspgate-signer.service ExecStartPre)
start=$(unit_get mspgate-signer.service ExecStart)
check "mspgate-signer.service: its own account, not mspgate" test "$u" = mspgate-signer
check "the signer's CA folder is its own, 0700" \
	test "$(stat -c '%U %a' /etc/mspgate-signer/ca)" = "mspgate-signer 700"
# shellcheck disable=SC2086
check "mspgate-signer ExecStartPre" setpriv --reuid="$u" --regid="$u" \
	--groups="$(unit_get mspgate-signer.service SupplementaryGroups)" -- $pre
# shellcheck disable=SC2086
setpriv --reuid="$u" --regid="$u" --groups="$(unit_get mspgate-signer.service SupplementaryGroups)" \
	-- $start 2>"$T/signer.log" &
SPID=$!
PIDS="$PIDS $SPID"
check "mspgate-signer started (its socket)" wait_for test -S /run/mspgate-signer/sign.sock
check "mspgate-signer cannot read the vault" \
	sh -c "! setpriv --reuid=$u --regid=$u --clear-groups -- ls /etc/mspgate/vault >/dev/null 2>&1"
kill "$SPID"

pre=$(unit_get mspgate-sshd.service ExecStartPre)
start=$(unit_get mspgate-sshd.service ExecStart)
# Its RuntimeDirectory: where pam_mspgate attests each login (root's).
rd=$(unit_get mspgate-sshd.service RuntimeDirectory)
rdm=$(unit_get mspgate-sshd.service RuntimeDirectoryMode)
[ -n "$rd" ] && install -d -o root -g root -m "${rdm:-0755}" "/run/$rd"
check "gateway sshd ExecStartPre" $pre
$start -e 2>"$T/gw_sshd.log" &
SPID=$!
PIDS="$PIDS $SPID"
if check "gateway sshd listens on 2222" wait_for port_open 2222; then
	ssh-keyscan -p 2222 -t ed25519 127.0.0.1 >"$T/keyscan" 2>/dev/null
	check "ssh-keyscan on 2222: the gateway's own host key" sh -c "
		[ \"\$(cut -d' ' -f2-3 '$T/keyscan')\" = \"\$(cut -d' ' -f1-2 /etc/mspgate/ssh_host_ed25519_key.pub)\" ]"
	# sshd names its PAM service after the name it runs as: the link
	# must make it read /etc/pam.d/mspgate, and nothing else.
	if command -v strace >/dev/null; then
		strace -f -e trace=openat -o "$T/strace.log" -p "$SPID" 2>"$T/strace.err" &
		STPID=$!
		PIDS="$PIDS $STPID"
		wait_for grep -q attached "$T/strace.err"
		ssh -F /dev/null -p 2222 -o BatchMode=yes -o StrictHostKeyChecking=no \
			-o UserKnownHostsFile=/dev/null -o PreferredAuthentications=none \
			-o ConnectTimeout=10 nobody@127.0.0.1 true >/dev/null 2>&1
		sleep 0.5
		kill "$STPID" 2>/dev/null; wait "$STPID" 2>/dev/null
		check_grep "the gateway sshd's PAM service is /etc/pam.d/mspgate" \
			'"/etc/pam.d/mspgate"' "$T/strace.log"
		check "the gateway sshd never reads /etc/ssh/sshd_config" \
			sh -c "! grep -q '/etc/ssh/sshd_config' '$T/strace.log'"
	else
		ok "PAM service name # SKIP no strace"
	fi
	# -- an engineer's login through the packaged gateway ---------------
	login_run "$S" "$DPID"
fi
kill "$SPID" "$DPID" 2>/dev/null
wait "$SPID" 2>/dev/null
wait "$DPID" 2>/dev/null
check "both daemons stopped" sh -c "! kill -0 $SPID 2>/dev/null && ! kill -0 $DPID 2>/dev/null"
PIDS=""
rm -rf /run/mspgate

# -- reinstall and upgrade: nothing made at install time is replaced ------
echo "# an admin's policy edit" >>/etc/mspgate/mspgate.conf
echo marker >/var/lib/mspgate/recordings/keep.cast
KEYS="/etc/mspgate/ssh_host_ed25519_key /etc/mspgate/ssh_host_ecdsa_key /etc/mspgate/signing_key.pem"
before=$(sum_of $KEYS /etc/mspgate/mspgate.conf /var/lib/mspgate/recordings/keep.cast)
# shellcheck disable=SC2086
apt-get install -y --reinstall --no-install-recommends $DEBS >"$T/reinstall.log" 2>&1
check_exit 0 "reinstall of the same version" test $? -eq 0
check "reinstall kept keys, policy edit, recordings" \
	test "$(sum_of $KEYS /etc/mspgate/mspgate.conf /var/lib/mspgate/recordings/keep.cast)" = "$before"

# The same packages as a later version, to take the upgrade path.
V2="$V+1"
mkdir -p "$T/v2"
for deb in $DEBS; do
	p=$(dpkg-deb -f "$deb" Package)
	rm -rf "$T/v2/x"
	dpkg-deb -R "$deb" "$T/v2/x" &&
	sed -i -e "s/^Version: .*/Version: $V2/" -e "s/(= $V)/(= $V2)/g" "$T/v2/x/DEBIAN/control" &&
	dpkg-deb -b "$T/v2/x" "$T/v2/${p}_${V2}.deb" >/dev/null || fail "repack $p as $V2"
done
chmod -R a+rX "$T/v2"
apt-get install -y --no-install-recommends "$T"/v2/*.deb >"$T/upgrade.log" 2>&1
check_exit 0 "upgrade to $V2" test $? -eq 0
check "upgraded: all three at $V2" sh -c "for p in $PKGS; do
	[ \"\$(dpkg-query -W -f '\${Version}' \$p)\" = '$V2' ] || exit 1; done"
check "upgrade kept keys, policy edit, recordings" \
	test "$(sum_of $KEYS /etc/mspgate/mspgate.conf /var/lib/mspgate/recordings/keep.cast)" = "$before"
check "upgrade kept the policy's owner and mode" mode_is /etc/mspgate/mspgate.conf root:mspgate 640
check "mspgated -t after the upgrade" \
	runuser -u mspgate -- /usr/sbin/mspgated -t -f /etc/mspgate/mspgate.conf

# -- remove, then purge ---------------------------------------------------
# shellcheck disable=SC2086
apt-get remove -y $PKGS >"$T/remove.log" 2>&1
check_exit 0 "apt-get remove" test $? -eq 0
check "removed: programs gone" sh -c '! [ -e /usr/sbin/mspgated ] && ! [ -e /usr/bin/mspgate-policy ] &&
	! ls /usr/lib/*/security/pam_mspgate.so >/dev/null 2>&1'
check "removed: policy, keys, recordings and user kept" sh -c '
	[ -f /etc/mspgate/mspgate.conf ] && [ -f /etc/mspgate/signing_key.pem ] &&
	[ -f /var/lib/mspgate/recordings/keep.cast ] && getent passwd mspgate >/dev/null'
FILES=$(for deb in $DEBS; do dpkg-deb -c "$deb"; done | awk '$1 !~ /^d/ { print $6 }' | sed 's|^\.||')
# shellcheck disable=SC2086
apt-get purge -y $PKGS >"$T/purge.log" 2>&1
rc=$?
check_exit 0 "apt-get purge" test $rc -eq 0
check_grep "purge asked nothing (no debconf)" "Purging configuration files for mspgate-gateway" "$T/purge.log"
check "purged: no package left" sh -c "! dpkg-query -W $PKGS >/dev/null 2>&1 ||
	! dpkg-query -W -f '\${db:Status-Abbrev}\n' $PKGS | grep -qv '^un'"
check "purged: no /etc/mspgate, /var/lib/mspgate, /var/log/mspgate, /run/mspgate" sh -c '
	! [ -e /etc/mspgate ] && ! [ -e /var/lib/mspgate ] && ! [ -e /var/log/mspgate ] &&
	! [ -e /run/mspgate ]'
check "purged: no user or group mspgate" sh -c '! getent passwd mspgate && ! getent group mspgate'
check "purged: no statoverride left" sh -c '! dpkg-statoverride --list | grep -q mspgate'
left=""
for f in $FILES; do [ -e "$f" ] || [ -L "$f" ] && left="$left $f"; done
check "purged: no file of the packages left${left:+ (left:$left)}" test -z "$left"
check "purged: common-* PAM stacks without pam_mspgate" sh -c '! grep -q pam_mspgate /etc/pam.d/common-*'
check "no process of the packages left" test -z "$(pkg_procs)"
check "/etc/ssh untouched" test "$(cd /etc/ssh && find . -type f -print0 | sort -z | xargs -0 sha256sum)" = "$SSH_BEFORE"
INSTALLED=""

# -- the same packages under a real systemd (a container) ----------------
# shellcheck disable=SC2086
nspawn_run $DEBS
echo "# run time: $(($(date +%s) - START)) s"
tap_done
