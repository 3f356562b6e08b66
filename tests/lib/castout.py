# SPDX-License-Identifier: BSD-2-Clause
# castout.py FILE: the output byte stream a recording holds (o events, x
# "o:BASE64" and "o*N"), on standard output. A last line cut short (a
# recording whose disk filled) is left out: what is on file, whole.
import base64, json, sys

out = sys.stdout.buffer
with open(sys.argv[1], "rb") as f:
    lines = f.read().split(b"\n")
for n, line in enumerate(lines[1:], 2):
    try:
        ev = json.loads(line)
    except ValueError:
        if n == len(lines):
            break  # after the last newline: nothing, or a line cut short
        sys.exit("castout: %s line %d: not JSON" % (sys.argv[1], n))
    if not isinstance(ev, list) or len(ev) != 3:
        continue
    code, data = ev[1], ev[2]
    if code == "o":
        out.write(data.encode("utf-8"))
    elif code == "x" and data.startswith("o:"):
        out.write(base64.b64decode(data[2:], validate=True))
    elif code == "x" and data.startswith("o*"):
        out.write(b"\0" * int(data[2:]))
