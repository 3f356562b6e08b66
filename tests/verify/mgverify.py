#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""A second verifier for mspgate recordings and audit logs, written from
doc/FORMATS.md alone (Python standard library and python3-cryptography), so
that the document and the C code cannot drift apart unnoticed.

usage: mgverify.py --pubkey PUB FILE...
       mgverify.py --pubkey PUB --bundle FILE.tar
Prints "FILE: OK", "FILE: INCOMPLETE: why" or "FILE: FAILED: why" per file,
then "chain: ..." for audit logs given together and "seal: ..." lines for
recordings matched to the session_end seals of the logs given.
Exit 0 when all is OK, 1 on any failure, 3 when only incomplete.
"""
import base64
import gzip
import hashlib
import json
import os
import re
import struct
import sys
import tarfile

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

HEX64 = re.compile(r"^[0-9a-f]{64}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
CP = re.compile(r"^mgcp1 seq=([0-9]{1,19}) lines=([0-9]{1,19}) final=([01]) "
                r"hash=([0-9a-f]{64}) sig=([A-Za-z0-9+/=]+)$")
AUDIT_SUFFIX = re.compile(rb',"hash":"([0-9a-f]{64})","sig":"([A-Za-z0-9+/]{86}==)"}$')


class Bad(Exception):
    pass


def no_dupes(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise Bad("duplicate key %r" % k)
        d[k] = v
    return d


def parse(b):
    try:
        return json.loads(b.decode("utf-8", "strict"), object_pairs_hook=no_dupes)
    except (UnicodeDecodeError, ValueError) as e:
        raise Bad("not valid JSON: %s" % e)


def sha(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


def sig_ok(pub, sig, msg):
    try:
        pub.verify(sig, msg)
        return True
    except InvalidSignature:
        return False


def b64(s):
    try:
        return base64.b64decode(s, validate=True)
    except ValueError:
        return b""


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data


def lines_of(data):
    """Lines without their newline, and whether the last one had it."""
    if not data:
        return [], True
    parts = data.split(b"\n")
    if parts[-1] == b"":
        return parts[:-1], True
    return parts, False


def verify_recording(path, data, pub):
    """('OK'|'INCOMPLETE'|'FAILED', message, session, seal)."""
    lines, complete = lines_of(data)
    if not lines:
        return "FAILED", "empty", None, None
    try:
        head = parse(lines[0])
    except Bad as e:
        return "FAILED", "line 1: %s" % e, None, None
    m = head.get("mspgate") if isinstance(head, dict) else None
    if not isinstance(m, dict) or not all(isinstance(m.get(k), str)
                                          for k in ("session", "file", "nonce")):
        return "FAILED", "line 1: not an mspgate recording", None, None
    session = m["session"]
    name = os.path.basename(path)
    if name.endswith(".gz"):
        name = name[:-3]
    if name != m["file"]:
        return "FAILED", "file is named %s but was written as %s" % (name, m["file"]), session, None
    h0 = sha(b"mspgate-rec-v1\n", lines[0])
    h = h0
    last_t = 0.0
    cps = 0
    done = False
    for i, ln in enumerate(lines[1:], start=2):
        if i == len(lines) and not complete:
            return "INCOMPLETE", "line %d cut short, %d checkpoints verified" % (i, cps), session, None
        if done:
            return "FAILED", "line %d: data after the final checkpoint" % i, session, None
        try:
            ev = parse(ln)
        except Bad as e:
            return "FAILED", "line %d: %s" % (i, e), session, None
        if (not isinstance(ev, list) or len(ev) != 3 or not isinstance(ev[1], str)
                or isinstance(ev[0], bool) or not isinstance(ev[0], (int, float))):
            return "FAILED", "line %d: not an event" % i, session, None
        if ev[0] < last_t:
            return "FAILED", "line %d: time goes backwards" % i, session, None
        last_t = ev[0]
        if ev[1] == "c":
            c = CP.match(ev[2]) if isinstance(ev[2], str) else None
            if c is None:
                return "FAILED", "line %d: malformed checkpoint" % i, session, None
            seq, nl, fin, hx, sig = int(c[1]), int(c[2]), int(c[3]), c[4], b64(c[5])
            if seq != cps + 1:
                return "FAILED", "line %d: checkpoint %d, expected %d" % (i, seq, cps + 1), session, None
            msg = (b"mspgate-checkpoint-v1\x00" + session.encode() + b"\x00" + h0 +
                   struct.pack(">QQB", seq, nl, fin) + bytes.fromhex(hx))
            if len(sig) != 64 or not sig_ok(pub, sig, msg):
                return "FAILED", "line %d: checkpoint %d has a bad signature" % (i, seq), session, None
            if nl != i - 1:
                return "FAILED", "line %d: checkpoint signed %d lines, found %d" % (i, nl, i - 1), session, None
            if bytes.fromhex(hx) != h:
                return "FAILED", "line %d: checkpoint %d does not match the lines before it" % (i, seq), session, None
            cps += 1
            done = fin == 1
        h = sha(h, ln)
    if not done:
        return "INCOMPLETE", "no final checkpoint (%d verified)" % cps, session, None
    seal = "sha256:" + h.hex()
    return "OK", "%d lines, %d checkpoints, seal %s" % (len(lines), cps, seal), session, seal


def verify_audit(data, pub):
    """(status, message, info) where info has log, link and last line, and events."""
    lines, complete = lines_of(data)
    info = {"log": None, "prev_log": None, "prev_seq": None, "prev_hash": None,
            "prev_error": None, "last_seq": 0, "last_hash": None, "events": [], "ok": False}
    if not lines:
        return "FAILED", "empty audit log", info
    prev = "0" * 64
    for i, ln in enumerate(lines, start=1):
        if i == len(lines) and not complete:
            info["ok"] = i > 1
            return "INCOMPLETE", "line %d cut short" % i, info
        try:
            ev = parse(ln)
        except Bad as e:
            return "FAILED", "line %d: %s" % (i, e), info
        if not isinstance(ev, dict) or ev.get("seq") != i or not isinstance(ev.get("event"), str):
            return "FAILED", "line %d: seq is not %d (lines deleted, inserted or moved)" % (i, i), info
        if i == 1 and ev["event"] != "log_start":
            return "FAILED", "line 1: not log_start", info
        m = AUDIT_SUFFIX.search(ln)
        if m is None:
            return "FAILED", "line %d: hash and sig are not the last members" % i, info
        if ev.get("prev") != prev:
            return "FAILED", "line %d: prev is not the hash of line %d" % (i, i - 1), info
        body = ln[:m.start()]
        h = sha(b"mspgate-audit-v1\n", body)
        if h.hex() != m.group(1).decode():
            return "FAILED", "line %d: the line was changed (hash)" % i, info
        if not sig_ok(pub, b64(m.group(2).decode()), b"mspgate-audit-v1\x00" + h):
            return "FAILED", "line %d: bad signature" % i, info
        if i == 1:
            if not HEX32.match(str(ev.get("log", ""))):
                return "FAILED", "line 1: no log id", info
            info["log"] = ev["log"]
            link = [k in ev for k in ("prev_log", "prev_seq", "prev_hash")]
            if any(link) and not all(link):
                return "FAILED", "line 1: incomplete link", info
            if all(link):
                if (not HEX32.match(str(ev["prev_log"])) or not HEX64.match(str(ev["prev_hash"]))
                        or not isinstance(ev["prev_seq"], int) or ev["prev_seq"] < 1):
                    return "FAILED", "line 1: malformed link", info
                info.update(prev_log=ev["prev_log"], prev_seq=ev["prev_seq"],
                            prev_hash=ev["prev_hash"])
            if "prev_error" in ev:
                info["prev_error"] = ev["prev_error"]
        info["events"].append(ev)
        prev = h.hex()
        info["last_seq"], info["last_hash"] = i, prev
    info["ok"] = True
    return "OK", "%d events" % len(lines), info


def check_chain(logs):
    """logs: [(name, info)] that verified. Returns (problems, order)."""
    problems = []
    by_id = {}
    for name, inf in logs:
        if inf["log"] in by_id:
            problems.append("%s: the same log as %s" % (name, by_id[inf["log"]][0]))
        else:
            by_id[inf["log"]] = (name, inf)
    succ = {}
    starts = []
    for name, inf in logs:
        if inf["prev_error"] is not None:
            problems.append("%s: started without a link: %s" % (name, inf["prev_error"]))
        if inf["prev_log"] is None:
            starts.append(name)
            continue
        if inf["prev_log"] in succ:
            problems.append("%s: two logs follow one" % name)
        succ[inf["prev_log"]] = name
        p = by_id.get(inf["prev_log"])
        if p is None:
            continue
        if p[1]["last_seq"] != inf["prev_seq"] or p[1]["last_hash"] != inf["prev_hash"]:
            problems.append("%s: links to line %d of %s, which ends at line %d or differs"
                            % (name, inf["prev_seq"], p[0], p[1]["last_seq"]))
    firsts = [n for n, inf in logs if inf["prev_log"] not in by_id]
    if len(firsts) > 1:
        problems.append("chain: %d logs have no predecessor among those given (%s): "
                        "a log is missing, or a second chain" % (len(firsts), ", ".join(firsts)))
    return problems


def audit_line(ln, pub):
    """(hash bytes, prev hex) of one line that verifies on its own, else None."""
    m = AUDIT_SUFFIX.search(ln)
    if m is None:
        return None
    h = sha(b"mspgate-audit-v1\n", ln[:m.start()])
    if h.hex() != m.group(1).decode() or not sig_ok(pub, b64(m.group(2).decode()),
                                                    b"mspgate-audit-v1\x00" + h):
        return None
    return h, parse(ln).get("prev")


def verify_bundle(path, pub, pubpem):
    """Checks an evidence bundle as doc/FORMATS.md says; prints problems; returns their count."""
    bad = []
    files = {}
    with tarfile.open(path, "r:") as tf:
        for m in tf.getmembers():
            if not m.isreg() or not re.match(r"^[A-Za-z0-9._:-]+(/[A-Za-z0-9._:-]+)*$", m.name) \
                    or any(p in (".", "..") for p in m.name.split("/")) or m.name in files:
                bad.append("%s: not a plain regular file" % m.name)
                continue
            files[m.name] = tf.extractfile(m).read()
    man, sig = files.get("MANIFEST"), files.get("MANIFEST.sig", b"")
    if man is None or not sig_ok(pub, b64(sig.strip().decode("ascii", "replace")),
                                 b"mspgate-bundle-v1\x00" + man):
        print("MANIFEST: FAILED: not signed by the pinned key")
        return 1
    tenant, listed = None, {"MANIFEST", "MANIFEST.sig"}
    for line in man.decode().split("\n"):
        w = line.split(" ")
        if w[0] == "tenant" and len(w) == 2:
            tenant = w[1]
        elif w[0] == "file" and len(w) == 4:
            listed.add(w[3])
            data = files.get(w[3])
            if data is None or hashlib.sha256(data).hexdigest() != w[1] or len(data) != int(w[2]):
                bad.append("%s: missing or changed" % w[3])
    bad += ["%s: not in the manifest" % n for n in files if n not in listed]
    if files.get("signing_key.pub") != pubpem:
        bad.append("signing_key.pub: not the pinned key")
    recs, seals = {}, {}
    for n, data in sorted(files.items()):
        if n.startswith("recordings/"):
            st, msg, session, seal = verify_recording(n, data, pub)
            head = parse(data.split(b"\n", 1)[0]) if data else {}
            if st == "FAILED" or head.get("mspgate", {}).get("tenant") != tenant:
                bad.append("%s: %s %s" % (n, st, msg))
            recs[os.path.basename(n)] = (st, session, seal)
        elif n.startswith("audit/") and n.endswith(".jsonl"):
            chain = {}
            for cl in files.get(n[:-6] + ".chain", b"").decode().splitlines():
                seq, hx, sg = cl.split(" ")
                if int(seq) != len(chain) + 1 or not sig_ok(pub, b64(sg), b"mspgate-audit-v1\x00" +
                                                          bytes.fromhex(hx)):
                    bad.append("%s.chain: line %s" % (n[:-6], seq))
                    break
                chain[int(seq)] = hx
            for i, ln in enumerate(data.split(b"\n")[:-1], start=1):
                r = audit_line(ln, pub)
                ev = parse(ln)
                seq = ev.get("seq")
                if r is None or chain.get(seq) != r[0].hex() or \
                        r[1] != (chain.get(seq - 1) if seq > 1 else "0" * 64):
                    bad.append("%s: line %d does not verify in its place" % (n, i))
                    continue
                if ev.get("event") == "log_start":
                    continue
                if ev.get("tenant") != tenant:
                    bad.append("%s: line %d is about another tenant" % (n, i))
                if ev.get("event") == "session_end" and "seal" in ev:
                    seals[ev.get("recording") or ev.get("session", "") + ".cast"] = ev
    for f, ev in seals.items():
        r = recs.get(f)
        if r is None or r[0] != "OK" or r[1] != ev.get("session") or r[2] != ev["seal"]:
            bad.append("recordings/%s: missing, or not the recording sealed" % f)
    for b_ in bad:
        print("bundle: FAILED: " + b_)
    if not bad:
        print("bundle: OK: tenant %s, %d recordings" % (tenant, len(recs)))
    return len(bad)


def main(argv):
    if len(argv) < 3 or argv[0] != "--pubkey":
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1], "rb") as f:
        pubpem = f.read()
    pub = serialization.load_pem_public_key(pubpem)
    if not isinstance(pub, Ed25519PublicKey):
        sys.stderr.write("not an Ed25519 public key\n")
        return 2
    if argv[2] == "--bundle" and len(argv) == 4:
        try:
            return 1 if verify_bundle(argv[3], pub, pubpem) else 0
        except (OSError, tarfile.TarError, Bad, ValueError, UnicodeDecodeError) as e:
            print("bundle: FAILED: %s" % e)
            return 1
    failed = incomplete = 0
    logs, recs = [], {}
    for path in argv[2:]:
        try:
            data = read(path)
        except (OSError, EOFError, gzip.BadGzipFile) as e:
            print("%s: FAILED: %s" % (path, e))
            failed += 1
            continue
        if data.startswith(b'{"version"') or data.startswith(b'{ "version"'):
            st, msg, session, seal = verify_recording(path, data, pub)
            name = os.path.basename(path)
            recs[name[:-3] if name.endswith(".gz") else name] = (path, st, session, seal)
        else:
            st, msg, info = verify_audit(data, pub)
            if info["ok"]:
                logs.append((path, info))
        print("%s: %s%s" % (path, st, "" if st == "OK" else ": " + msg))
        failed += st == "FAILED"
        incomplete += st == "INCOMPLETE"
    if logs:
        for p in check_chain(logs):
            print("chain: FAILED: " + p)
            failed += 1
    if logs and recs:
        sealed = {}
        for name, inf in logs:
            for ev in inf["events"]:
                if ev.get("event") == "session_end" and "seal" in ev:
                    f = ev.get("recording") or ev.get("session", "") + ".cast"
                    sealed.setdefault(f, []).append((name, ev))
        for f, evs in sorted(sealed.items()):
            if f not in recs:
                print("seal: %s: MISSING (sealed in %s)" % (f, evs[0][0]))
                failed += 1
                continue
            path, st, session, seal = recs[f]
            for name, ev in evs:
                if ev.get("session") != session or st != "OK" or ev["seal"] != seal:
                    print("seal: %s: FAILED: not the recording sealed in %s" % (path, name))
                    failed += 1
                    break
            else:
                print("seal: %s: OK" % path)
        for f, (path, st, session, seal) in sorted(recs.items()):
            if f not in sealed:
                print("seal: %s: UNSEALED" % path)
                incomplete += 1
    return 1 if failed else 3 if incomplete else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
