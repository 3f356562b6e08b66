#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""A terminal that answers: runs a command on a real pty and answers its queries
the way xterm does, so tests can see what a replayed recording makes a terminal
send back. Every byte the command writes goes to OUT.

usage: replyterm.py OUT [--delay SECONDS] -- COMMAND...

Answers (with --delay, each answer is sent that much later, like a remote
terminal): DA (CSI c, CSI > c), DSR (CSI 5 n, CSI 6 n), the title report
(CSI 21 t), XTVERSION (CSI > q) and DECRQSS (DCS $ q ... ST). The title and
version answers hold a space and a 'q', the keys that pause and quit a player.
Exits with the command's status (124 after 60 s)."""
import os
import pty
import re
import select
import sys
import time

ANSWERS = [
    (re.compile(rb"\x1b\[0?c"), b"\x1b[?64;1;2;6;22c"),
    (re.compile(rb"\x1b\[>0?c"), b"\x1b[>41;379;0c"),
    (re.compile(rb"\x1b\[5n"), b"\x1b[0n"),
    (re.compile(rb"\x1b\[6n"), b"\x1b[3;7R"),
    (re.compile(rb"\x1b\[21t"), b"\x1b]lq quit title q\x1b\\"),
    (re.compile(rb"\x1b\[>0?q"), b"\x1bP>|XTerm(379) q q\x1b\\"),
    (re.compile(rb"\x1bP\$q[^\x1b]*\x1b\\\\"), b"\x1bP1$r0 q\x1b\\"),
]


def main():
    args = sys.argv[1:]
    out = args.pop(0)
    delay = 0.0
    if args and args[0] == "--delay":
        args.pop(0)
        delay = float(args.pop(0))
    if args and args[0] == "--":
        args.pop(0)
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(args[0], args)
    seen = b""
    pending = []  # (when, bytes)
    deadline = time.monotonic() + 60
    with open(out, "wb") as log:
        while True:
            now = time.monotonic()
            if now > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                return 124
            while pending and pending[0][0] <= now:
                os.write(fd, pending.pop(0)[1])
            wait = 0.05 if pending else 0.5
            r, _, _ = select.select([fd], [], [], wait)
            if not r:
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if not data:
                break
            log.write(data)
            log.flush()
            seen += data
            # Answer each complete query once, in order.
            while True:
                first = None
                for rx, ans in ANSWERS:
                    m = rx.search(seen)
                    if m and (first is None or m.start() < first[0].start()):
                        first = (m, ans)
                if first is None:
                    break
                pending.append((time.monotonic() + delay, first[1]))
                seen = seen[first[0].end():]
            seen = seen[-256:]
    _, st = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(st)


if __name__ == "__main__":
    sys.exit(main())
