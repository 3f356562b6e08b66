#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# A signing request to mspgate-signer, written from gateway/gw_signmsg.h (a
# second implementation of the format, for tests): prints the certificate,
# or "REFUSED: reason" and exits 1.
#   signreq.py SOCKET PUBKEY_FILE SESSION ENGINEER TENANT TARGET LOGIN LIFETIME SOURCE ATT
# ATT names the login attestation: "parent" (this process's parent, as under
# tests/lib/attest-run), "parent+N" (its start time plus N: a stale one) or
# "self" (this process, which has none); the pid and start time are sent.
import base64
import os
import socket
import struct
import sys

sock, pubfile, session, eng, tenant, target, login, life, source, att = sys.argv[1:11]
blob = base64.b64decode(open(pubfile).read().split()[1])
pub = blob[-32:]


def start_of(pid):
    stat = open("/proc/%d/stat" % pid).read()
    return int(stat[stat.rindex(")") + 2:].split()[19])


if att == "self":
    att_pid, skew = os.getpid(), 0
else:
    who, _, n = att.partition("+")
    if who != "parent":
        sys.exit("signreq.py: ATT is parent[+N] or self")
    att_pid, skew = os.getppid(), int(n or 0)
att_start = start_of(att_pid) + skew


def field(tag, value):
    if isinstance(value, str):
        value = value.encode()
    return struct.pack(">BH", tag, len(value)) + value


msg = b"MS\x01\x01" + field(1, session) + field(2, eng) + field(3, tenant) + \
    field(4, target) + field(5, login) + field(7, pub) + \
    field(8, struct.pack(">I", int(life))) + field(9, source) + \
    field(13, struct.pack(">I", att_pid)) + field(14, struct.pack(">Q", att_start))
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(10)
s.connect(sock)
s.send(msg)
reply = s.recv(16384)
if reply[:3] != b"MS\x01":
    print("REFUSED: malformed reply")
    sys.exit(1)
fields = {}
o = 4
while o < len(reply):
    tag, n = struct.unpack(">BH", reply[o:o + 3])
    fields[tag] = reply[o + 3:o + 3 + n]
    o += 3 + n
if reply[3] == 2:
    print(fields[10].decode())
    sys.exit(0)
print("REFUSED: " + fields.get(12, b"?").decode())
sys.exit(1)
