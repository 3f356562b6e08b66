# SPDX-License-Identifier: BSD-2-Clause
# The packages under a real systemd, for tests/pkg/deb.sh (source it after
# tests/lib/tap.sh). The machine that runs the tests has no systemd as
# PID 1, so nspawn_run boots one in a container of its own: a minimal
# Debian 12 (debootstrap, from the machine's own Debian mirror, with what
# the packages depend on), booted with systemd-nspawn, no network of its
# own (--private-network: only its loopback), ssh.service masked. Inside:
#   - dpkg -i of the three packages: mspgated.service and
#     mspgate-sshd.service start from the postinst, with every line of
#     their sandbox in force (SystemCallFilter, ProtectSystem, ...);
#   - a session through the sandboxed mspgated to a target sshd on the
#     container's loopback: output, exit status, a recording that verifies;
#   - the state moved to the container's own PostgreSQL: mspgated loads
#     libpq in its sandbox, and a login's code is checked in the database;
#   - systemctl reload; the exposure score; purge: the units stop, the
#     account and the directories go.
# If systemd-nspawn cannot boot a container on this machine at all, the
# checks are skipped with the reason (the machine, not the packages); any
# failure once it runs is a failure.
# nspawn_cleanup (called by deb.sh's cleanup) stops the container and
# removes its tree.

NS_PID=""
NS_DIR=""

nspawn_cleanup() {
	if [ -n "$NS_PID" ] && kill -0 "$NS_PID" 2>/dev/null; then
		kill -TERM "$NS_PID" 2>/dev/null	# nspawn asks systemd to power off
		n=0
		while kill -0 "$NS_PID" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
		kill -KILL "$NS_PID" 2>/dev/null
	fi
	NS_PID=""
	[ -n "$NS_DIR" ] && rm -rf "$NS_DIR"
	NS_DIR=""
}

# ns CMD...: runs CMD inside the container (all its namespaces, as root).
ns() { nsenter -t "$NS_INIT" -a "$@"; }

# ns_enrolled URIFILE LOG: activates the TOTP secret in the container's
# URIFILE (mspgate-enroll --batch's output) with this step's code computed
# here (the container has no oathtool), and leaves the next step's code in
# its /root/code for the login (ssh asks for it through /root/askpass).
ns_enrolled() {
	secret=$(sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' "$1")
	ns mspgate-enroll --activate "$(oathtool --totp -b "$secret")" mgteng >"$2" 2>&1 || return 1
	oathtool --totp -b "$secret" -N "$(date -u -d '+30 seconds' '+%Y-%m-%d %H:%M:%S UTC')" \
		>"$R/root/code"
}

# ns_login COMMAND OUT: the engineer's login through the gateway sshd on
# 2222 (key, then the code), COMMAND run on acme/box; output in OUT, ssh's
# exit status returned.
ns_login() {
	ns env SSH_ASKPASS=/root/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=:0 \
		ssh -F /dev/null -p 2222 -i /root/eng_key -o IdentitiesOnly=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-o PreferredAuthentications=publickey,keyboard-interactive \
		-o SetEnv=MSPGATE_TARGET=acme/box mgteng@127.0.0.1 "$1" </dev/null >"$2" 2>&1
}

# The first Debian mirror apt uses here (one-line or deb822 sources).
ns_mirror() {
	m=$(sed -n 's|^deb \(\[[^]]*\] \)\{0,1\}\(https\{0,1\}://[^ ]*\) bookworm .*|\2|p' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -1)
	[ -z "$m" ] && m=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null)
	echo "${m:-http://deb.debian.org/debian}"
}

# nspawn_run DEB...
nspawn_run() {
	for c in systemd-nspawn debootstrap nsenter; do
		command -v "$c" >/dev/null || { fail "$c is installed (debian/control Build-Depends)"; return; }
	done
	NS_DIR="$T/nspawn"
	R="$NS_DIR/root"
	mkdir -p "$NS_DIR"
	# What the packages need at run time, from their own Depends.
	deps=$(for d in "$@"; do dpkg-deb -f "$d" Depends; done | tr ',' '\n' |
		sed 's/[(|].*//; s/[[:space:]]//g; s/:any$//' |
		grep -v -e '^$' -e '^libpam-mspgate$' -e '^mspgate-tools$' | sort -u | paste -sd, -)
	debootstrap --variant=minbase --include="systemd,systemd-sysv,dbus,procps,postgresql,$deps" \
		bookworm "$R" "$(ns_mirror)" >"$NS_DIR/debootstrap.log" 2>&1
	rc=$?
	check_exit 0 "systemd: a Debian 12 tree with systemd and the packages' dependencies" test $rc -eq 0
	if [ $rc -ne 0 ]; then
		tail -5 "$NS_DIR/debootstrap.log" | sed 's/^/#   /'
		return
	fi
	ln -sf /dev/null "$R/etc/systemd/system/ssh.service"
	ln -sf /dev/null "$R/etc/systemd/system/ssh.socket"
	mkdir -p "$R/debs"
	cp "$@" "$R/debs/"
	systemd-nspawn -q -D "$R" -b --register=no --keep-unit --private-network \
		--machine="mgt$$" --console=pipe >"$NS_DIR/console.log" 2>&1 </dev/null &
	NS_PID=$!
	NS_INIT=""
	n=0
	state=""
	while [ $n -lt 120 ]; do
		[ -z "$NS_INIT" ] && NS_INIT=$(pgrep -P "$NS_PID" | head -1)
		if [ -n "$NS_INIT" ]; then
			state=$(ns systemctl is-system-running 2>/dev/null)
			case $state in running|degraded) break ;; esac
		fi
		kill -0 "$NS_PID" 2>/dev/null || break
		sleep 0.5
		n=$((n + 1))
	done
	case $state in
	running|degraded) ok "systemd: the container boots ($state)" ;;
	*)
		ok "# SKIP systemd-nspawn cannot boot a container on this machine ($state)"
		sed 's/^/#   /' "$NS_DIR/console.log" | tail -5
		nspawn_cleanup
		return
		;;
	esac

	# -- install: the units start from the postinst -------------------
	ns sh -c 'DEBIAN_FRONTEND=noninteractive dpkg -i /debs/*.deb' >"$NS_DIR/install.log" 2>&1
	check_exit 0 "systemd: dpkg -i of the three packages" test $? -eq 0
	n=0
	while [ "$(ns systemctl is-active mspgated mspgate-sshd 2>/dev/null | sort -u)" != active ] &&
	    [ $n -lt 40 ]; do sleep 0.25; n=$((n + 1)); done
	check "systemd: mspgated.service is active" test "$(ns systemctl is-active mspgated)" = active
	check "systemd: mspgate-sshd.service is active" test "$(ns systemctl is-active mspgate-sshd)" = active
	check "systemd: mspgate-signer.service is active, in its sandbox" \
		test "$(ns systemctl is-active mspgate-signer)" = active
	check "systemd: mspgate-signer runs as mspgate-signer" \
		test "$(ns ps -o user= -p "$(ns systemctl show -P MainPID mspgate-signer)")" = mspgate-signer
	# It checks that an attested login's sshd session process still runs:
	# in its sandbox, as its user, root's processes and the attestations.
	sp=$(ns systemctl show -P MainPID mspgate-signer)
	check "systemd: the signer's sandbox shows root's /proc/1/stat and /run/mspgate-attest" \
		ns nsenter -t "$sp" -m -- setpriv --reuid=mspgate-signer --regid=mspgate-signer \
		--clear-groups sh -c 'grep -q . /proc/1/stat && test -d /run/mspgate-attest'
	check "systemd: mspgated runs as mspgate" \
		test "$(ns ps -o user= -p "$(ns systemctl show -P MainPID mspgated)")" = mspgate
	ns ssh-keyscan -p 2222 127.0.0.1 >"$NS_DIR/keyscan" 2>/dev/null
	check_grep "systemd: the gateway sshd answers on 2222 with its own key" \
		"$(cut -d' ' -f2 "$R/etc/mspgate/ssh_host_ed25519_key.pub")" "$NS_DIR/keyscan"
	score=$(ns systemd-analyze security mspgated 2>/dev/null | sed -n 's/.*exposure level for mspgated.service: \([0-9.]*\).*/\1/p')
	check "systemd: mspgated's exposure score ($score) is at most 1.5" \
		awk -v s="${score:-99}" 'BEGIN { exit !(s <= 1.5) }'

	# -- a session through the sandboxed mspgated -----------------------
	cat >"$R/root/session-setup.sh" <<'EOF'
set -e
useradd -m -s /bin/sh mgttgt
useradd -m -s /bin/sh mgteng
ssh-keygen -q -t ed25519 -N '' -C mspgate -f /etc/mspgate/vault/t-box.key
chown mspgate /etc/mspgate/vault/t-box.key
install -d -o mgttgt -m 0700 ~mgttgt/.ssh
install -o mgttgt -m 0600 /etc/mspgate/vault/t-box.key.pub ~mgttgt/.ssh/authorized_keys
ssh-keygen -q -t ed25519 -N '' -f /root/target_key
mkdir -p /run/sshd
/usr/sbin/sshd -p 2299 -o ListenAddress=127.0.0.1 -h /root/target_key -o PidFile=/run/target-sshd.pid
hk=$(cut -d' ' -f1-2 /root/target_key.pub)
ssh-keygen -q -t ed25519 -N '' -f /root/eng_key
ek=$(cut -d' ' -f1-2 /root/eng_key.pub)
cat >/etc/mspgate/mspgate.conf <<P
engineers = ( { name = "mgteng"; groups = [ "l2" ]; keys = [ "$ek mgteng" ]; } );
tenants = ( { name = "acme"; targets = ( { name = "box"; host = "127.0.0.1"; port = 2299;
  host_key = "$hk"; logins = [ "mgttgt" ]; credential = "t-box"; } ); } );
grants = ( { to = "group:l2"; tenants = [ "acme" ]; targets = [ "*" ]; logins = [ "mgttgt" ]; mfa = "totp"; } );
P
mspgate-policy check -f /etc/mspgate/mspgate.conf
systemctl reload mspgated
mspgate-enroll --batch mgteng >/root/uri
# ssh asks for the code through here; the host computes it.
printf '#!/bin/sh\ncat /root/code\n' >/root/askpass
chmod 0755 /root/askpass
EOF
	ns sh /root/session-setup.sh >"$NS_DIR/setup.log" 2>&1
	check_exit 0 "systemd: a target, a vault key and a policy; systemctl reload mspgated" test $? -eq 0
	sleep 1
	check "systemd: mspgated is still active after the reload" \
		test "$(ns systemctl is-active mspgated)" = active
	ns_enrolled "$R/root/uri" "$NS_DIR/enroll.log"
	check_exit 0 "systemd: the engineer's TOTP secret enrolled and activated" test $? -eq 0
	# A real login through the sandboxed gateway sshd on 2222: pam_mspgate
	# attests it, and the sandboxed mspgated believes only that.
	ns_login 'id -un; echo through-the-sandbox; exit 6' "$NS_DIR/session.out"
	rc=$?
	check_exit 0 "systemd: an ssh session through the sandboxed gateway (exit status 6)" test $rc -eq 6
	[ $rc -eq 6 ] || sed 's/^/#   /' "$NS_DIR/session.out" | tail -5
	check_grep "systemd: it ran on the target as the target login" '^mgttgt$' "$NS_DIR/session.out"
	ns sh -c 'mspgate-replay verify --pubkey /etc/mspgate/signing_key.pub /var/lib/mspgate/recordings/*.cast /var/log/mspgate/audit.jsonl' \
		>"$NS_DIR/verify.out" 2>&1
	check_exit 0 "systemd: the recording and the audit log it wrote verify" test $? -eq 0
	ns sh -c 'mspgate-replay text /var/lib/mspgate/recordings/*.cast' >"$NS_DIR/text.out" 2>&1
	check_grep "systemd: the recording holds the session's output" 'through-the-sandbox' "$NS_DIR/text.out"
	ns journalctl -q -u mspgated --no-pager >"$NS_DIR/journal" 2>&1
	check "systemd: the journal has each message once (no stderr copy)" \
		test "$(grep -c 'session .*: ended: ' "$NS_DIR/journal")" -eq 1

	# -- the state in PostgreSQL, under the same sandbox -----------------
	# The container's own PostgreSQL (postgresql.service, its cluster on
	# its loopback): mspgated loads libpq when it first connects
	# (state/st_pq.c), with MemoryDenyWriteExecute= and the system call
	# filter in force; the engineer's code goes from pam_mspgate in the
	# gateway sshd to mspgated's broker, and from there to the database.
	cat >"$R/root/pg-setup.sh" <<'EOF'
set -e
n=0
until runuser -u postgres -- psql -qAtc 'SELECT 1' >/dev/null 2>&1; do
	n=$((n + 1)); [ $n -lt 120 ] || { echo "postgresql.service did not answer" >&2; exit 1; }
	sleep 0.5
done
pw=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
runuser -u postgres -- psql -q -c "CREATE ROLE mspgate LOGIN PASSWORD '$pw'"
runuser -u postgres -- psql -q -c "CREATE DATABASE mspgate OWNER mspgate"
(umask 077
 echo "127.0.0.1:5432:mspgate:mspgate:$pw" >/etc/mspgate/pgpass
 head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >/etc/mspgate/state.key
 echo >>/etc/mspgate/state.key)
chown mspgate /etc/mspgate/pgpass /etc/mspgate/state.key
cat >>/etc/mspgate/mspgate.conf <<P
state: { backend = "postgresql"; conninfo = "host=127.0.0.1 port=5432 dbname=mspgate user=mspgate";
  passfile = "/etc/mspgate/pgpass"; key_file = "/etc/mspgate/state.key"; };
P
mspgate-policy state init -f /etc/mspgate/mspgate.conf
mspgate-policy check -f /etc/mspgate/mspgate.conf
systemctl restart mspgated
mspgate-enroll --batch mgteng >/root/uri-pg
EOF
	ns sh /root/pg-setup.sh >"$NS_DIR/pg-setup.log" 2>&1
	rc=$?
	check_exit 0 "systemd: the state moved to PostgreSQL (state init, restart, enrolment there)" test $rc -eq 0
	[ $rc -eq 0 ] || sed 's/^/#   /' "$NS_DIR/pg-setup.log" | tail -5
	check "systemd: mspgated is active with its state in PostgreSQL" \
		test "$(ns systemctl is-active mspgated)" = active
	ns_enrolled "$R/root/uri-pg" "$NS_DIR/enroll-pg.log"
	check_exit 0 "systemd: the TOTP secret activated in the database" test $? -eq 0
	ns runuser -u postgres -- psql -d mspgate -qAtc \
		"SELECT engineer FROM mspgate_totp" >"$NS_DIR/pg-totp" 2>&1
	check_grep "systemd: the database holds the engineer's sealed secret" '^mgteng$' "$NS_DIR/pg-totp"
	ns_login 'echo through-postgresql; exit 7' "$NS_DIR/session-pg.out"
	rc=$?
	check_exit 0 "systemd: a session whose code the database checked (exit status 7)" test $rc -eq 7
	[ $rc -eq 7 ] || sed 's/^/#   /' "$NS_DIR/session-pg.out" | tail -5
	check_grep "systemd: and its output came through" '^through-postgresql$' "$NS_DIR/session-pg.out"
	ns runuser -u postgres -- psql -d mspgate -qAtc \
		"SELECT count(*) FROM pg_stat_activity WHERE usename = 'mspgate'" >"$NS_DIR/pg-conns" 2>&1
	check "systemd: the sandboxed mspgated holds its connection to the database" \
		test "$(cat "$NS_DIR/pg-conns")" -ge 1
	ns journalctl -q -u mspgated --no-pager >"$NS_DIR/journal-pg" 2>&1
	check "systemd: mspgated's journal has no libpq or state database error" \
		sh -c '! grep -i -e libpq -e "state database" "$1"' - "$NS_DIR/journal-pg"
	ns sh -c 'mspgate-replay verify --pubkey /etc/mspgate/signing_key.pub /var/lib/mspgate/recordings/*.cast /var/log/mspgate/audit.jsonl' \
		>"$NS_DIR/verify-pg.out" 2>&1
	check_exit 0 "systemd: both sessions' recordings and the audit log verify" test $? -eq 0

	# -- purge ------------------------------------------------------------
	# The database's password file and the sealing key are the admin's,
	# not the packages': purge leaves them (and so /etc/mspgate), as dpkg
	# does with any file it did not install; removed here first.
	ns sh -c 'kill "$(cat /run/target-sshd.pid)"; userdel -r mgttgt; userdel -r mgteng
		rm -f /etc/mspgate/pgpass /etc/mspgate/state.key' >/dev/null 2>&1
	ns sh -c 'DEBIAN_FRONTEND=noninteractive dpkg --purge mspgate-gateway mspgate-tools libpam-mspgate' \
		>"$NS_DIR/purge.log" 2>&1
	check_exit 0 "systemd: dpkg --purge" test $? -eq 0
	check "systemd: both units stopped" \
		test "$(ns systemctl is-active mspgated mspgate-sshd | sort -u)" != active
	check "systemd: no mspgate process, account or directory left" ns sh -c '
		! pgrep -u mspgate >/dev/null 2>&1 && ! getent passwd mspgate >/dev/null &&
		! [ -e /etc/mspgate ] && ! [ -e /var/lib/mspgate ] && ! [ -e /var/log/mspgate ]'
	nspawn_cleanup
}
