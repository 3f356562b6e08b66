#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The packaged mspgated.service filters system calls (SystemCallFilter=).
# mspgated runs here under strace through exec, pty, sftp, a refusal, a
# reload and mspgatectl; every call it and its session processes make
# after dropping to the service account must be one the unit allows, or
# the packaged gateway would fail (EPERM) where these tests pass.
. tests/lib/tap.sh
. tests/lib/gw.sh
gw_need_root

UNIT=debian/mspgate-gateway.mspgated.service
for c in strace systemd-analyze python3; do
	command -v "$c" >/dev/null || { fail "$c is installed (debian/control Build-Depends)"; tap_done; exit 1; }
done
gw_setup || { fail "gateway test setup"; tap_done; exit 1; }
gw_write_policy
MG_GW_WRAP="strace -f -qq -o $T/trace"
start_mspgated || { fail "mspgated starts under strace"; tap_done; exit 1; }

# exec, with stdin and an exit status
printf 'in\n' | gw_shell MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND='cat; exit 3' >"$T/o1" 2>&1
check_exit 0 "exec through the gateway" test $? -eq 3
# a pty shell
printf 'echo typed-$((6*7))\nexit\n' | script -qec \
	"$T/as-engineer MSPGATE_TARGET=t1/box" \
	/dev/null >"$T/o2" 2>&1
check_grep "a pty session through the gateway" 'typed-42' "$T/o2"
# sftp
printf '#!/bin/sh\nexec %s MSPGATE_TARGET=t1/box SSH_ORIGINAL_COMMAND=internal-sftp\n' \
	"$T/as-engineer" >"$T/sftp-via-gw"
chmod 0755 "$T/sftp-via-gw"
printf 'payload\n' >"$T/up.txt"
chmod 0644 "$T/up.txt"
printf 'put %s up.txt\nget up.txt %s\n' "$T/up.txt" "$T/down.txt" >"$T/batch"
sftp -q -D "$T/sftp-via-gw" -b "$T/batch" >"$T/o3" 2>&1
check_exit 0 "sftp through the gateway" test $? -eq 0
# a refusal, the control socket, a reload
gw_shell MSPGATE_TARGET=nosuch/box SSH_ORIGINAL_COMMAND=true </dev/null >/dev/null 2>&1
check_exit 0 "a refused target" test $? -ne 0
gw_ctl list >/dev/null 2>&1
check_exit 0 "mspgatectl list" test $? -eq 0
check "a reload (SIGHUP), its result audited" gw_reload
gw_ctl list >/dev/null 2>&1
check_exit 0 "mspgatectl list after a reload" test $? -eq 0

kill -TERM "$GW_DPID"
n=0
while kill -0 "$GW_DPID" 2>/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done

# The unit's filter, expanded with systemd-analyze; the calls strace saw,
# leaving out the main process's own start as root (it binds its sockets,
# then drops to the service account; the unit starts it as that account).
python3 - "$UNIT" "$T/trace" >"$T/verdict" 2>&1 <<'EOF'
import re, subprocess, sys
unit, trace = sys.argv[1], sys.argv[2]

def group(name, seen):
    out = set()
    txt = subprocess.run(["systemd-analyze", "syscall-filter", name],
                         capture_output=True, text=True, check=True).stdout
    head = None
    for l in txt.splitlines():
        l = l.strip()
        if not l or l.startswith("#"):
            continue
        if head is None and l.startswith("@"):
            head = l
            continue
        if l.startswith("@"):
            if l not in seen:
                seen.add(l)
                out |= group(l, seen)
        else:
            out.add(l)
    return out

def names(words):
    s = set()
    for w in words:
        s |= group(w, set()) if w.startswith("@") else {w}
    return s

allow, deny = None, set()
for l in open(unit):
    m = re.match(r"SystemCallFilter=(.*)", l.strip())
    if not m:
        continue
    v = m.group(1).split()
    if v and v[0].startswith("~"):
        deny |= names([v[0][1:]] + v[1:])
    else:
        allow = (allow or set()) | names(v)
if allow is None:
    print("no SystemCallFilter= allow list in", unit)
    sys.exit(1)
ok = allow - deny
used, main, dropped = {}, None, 0
for l in open(trace):
    m = re.match(r"(\d+)\s+([a-z_0-9]+)\(", l)
    if not m:
        continue
    pid, sc = m.groups()
    if main is None:
        main = pid
    if pid == main and dropped < 2:
        # setuid(uid), then setuid(0) that must fail: the drop is done.
        if sc == "setuid":
            dropped += 1
        continue
    used[sc] = used.get(sc, 0) + 1
bad = sorted(s for s in used if s not in ok)
print("calls seen: %d distinct; outside the filter: %s" % (len(used), " ".join(bad) or "none"))
sys.exit(1 if bad or len(used) < 20 else 0)
EOF
check_exit 0 "every call mspgated made is allowed by $UNIT" test $? -eq 0
sed 's/^/# /' "$T/verdict"
tap_done
