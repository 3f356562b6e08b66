#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# The signer's round trip per certificate (tests/bench/gateway.sh): N signing
# requests, one after another, each a connection of its own as mspgated's
# sessions make them, through tests/lib/signreq.py (the one test
# implementation of the format, compiled once and run N times in this
# process, so no interpreter start is timed). Prints each request's time in
# ms, one a line; exits 1 at the first refusal (its reason on stderr).
#   signtime.py N SIGNREQ_PY SOCKET PUBKEY_FILE ENGINEER TENANT TARGET LOGIN LIFETIME SOURCE ATT
# ATT as signreq.py takes it: "parent" under tests/lib/attest-run (the
# signer wants a live attested login behind every request).
import contextlib
import io
import sys
import time

n, signreq = int(sys.argv[1]), sys.argv[2]
sock, pubfile, eng, tenant, target, login, life, source, att = sys.argv[3:12]
code = compile(open(signreq).read(), signreq, "exec")
for i in range(n):
    sys.argv = [signreq, sock, pubfile, "bench-%d" % i, eng, tenant, target, login, life, source, att]
    out = io.StringIO()
    t0 = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out):
            exec(code, {"__name__": "signreq"})
        status = 0
    except SystemExit as e:
        status = e.code
    ms = (time.perf_counter() - t0) * 1000
    if status != 0 or "-cert-v01@openssh.com " not in out.getvalue():
        sys.stderr.write("signtime: request %d: %s\n" % (i, out.getvalue().strip()))
        sys.exit(1)
    print("%.3f" % ms)
