#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# Checks what a reader copies from README.md, doc/*.md and man/* against the programs (issue 21).
"""Every quoted message, JSON example and example command in the docs, checked.

  docs_check.py [--docs DIR] [--src DIR] [--alerts FILE]

DIR holds README.md, doc/ and man/ (default: .); --src the source tree whose
C strings are what the programs print (default: .); --alerts the output of
`alert-examples syslog` and `alert-examples md` (real detector runs).

What is checked (one TAP line each, details as "#" lines):
  messages  a line in a code block (or a roff .nf/.EX block, or an inline
            code span) that starts with "mspgate: ", or a syslog line
            ("... mspgated[PID]: ..."), must be what some printf format in
            the sources prints ("..." in the docs stands for a value); the
            evidence of an "alert: rule=" line must be one the detector
            writes.
  json      every JSON example parses ("...": fields left out); an audit
            event ("event") has only the audit writer's keys, in its order,
            "ts" agrees with "time", and an alert's rule, result and reason
            are ones the gateway writes; an alerts.notify line ("rule"
            without "event") is one the detector really printed.
  commands  an example command of an mspgate tool uses only subcommands
            and options that tool's source knows.
"""
import glob
import json
import os
import re
import sys
import time

TOOLS = {
    "mspgate-policy": "config/mspgate-policy.c",
    "mspgate-replay": "recorder/mspgate-replay.c",
    "mspgate-record": "recorder/mspgate-record.c",
    "mspgate-enroll": "pam/mspgate-enroll.c",
    "mspgatectl": "gateway/mspgatectl.c",
    "mspgated": "gateway/mspgated.c",
    "mspgate-keys": "gateway/mspgate-keys.c",
    "mspgate-shell": "gateway/mspgate-shell.c",
    "mspgate-signer": "gateway/mspgate-signer.c",
}

# ---------------------------------------------------------------- sources


def c_strings(path):
    """The string literals of a C file, adjacent ones joined (PRIu64 and
    friends count as a conversion)."""
    src = open(path, encoding="utf-8", errors="replace").read()
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    src = re.sub(r"//[^\n]*", " ", src)
    tok = re.compile(r'"((?:[^"\\\n]|\\.)*)"|(PRI[diouxX]\d*|SCN\w+)|(\s+)|(.)', re.S)
    out, cur, pending_ws = [], None, False
    for m in tok.finditer(src):
        lit, pri, ws, other = m.groups()
        if lit is not None:
            cur = (cur or "") + c_unescape(lit)
        elif pri is not None and cur is not None:
            cur += "d"  # "%" PRId64 -> "%d"
        elif ws is not None:
            continue
        else:
            if cur is not None:
                out.append(cur)
            cur = None
    if cur is not None:
        out.append(cur)
    return out


def c_unescape(s):
    return re.sub(r'\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)', lambda m: {
        "n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "'": "'"}.get(
        m.group(1), "\x01"), s)


CONV = re.compile(r"%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?(hh|h|ll|l|z|j|t|L)?([diouxXsScfeEgGp%])")


def fmt_regex(fmt):
    """A printf format as a regular expression over what it prints."""
    out, i = [], 0
    for m in CONV.finditer(fmt):
        out.append(re.escape(fmt[i:m.start()]))
        c = m.group(5)
        if c == "%":
            out.append("%")
        elif c in "s":
            out.append(".+?")
        elif c in "diu":
            out.append(r"-?\d+")
        elif c in "xX":
            out.append(r"[0-9a-fA-F]+")
        else:
            out.append(r"\S+")
        i = m.end()
    out.append(re.escape(fmt[i:]))
    return "".join(out)


def literal_len(fmt):
    return len(re.sub(r"\s", "", CONV.sub("", fmt)))


def formats(src):
    """Every printf-like string of the programs, as (format, compiled regex)."""
    fs = []
    for d in ("gateway", "pam", "state", "config", "recorder", "core"):
        for p in sorted(glob.glob(os.path.join(src, d, "*.[ch]"))):
            for s in c_strings(p):
                for piece in re.split(r"[\r\n]+", s):
                    piece = piece.strip()
                    if literal_len(piece) >= 2 and re.search(r"[a-z]", piece):
                        f = (piece, re.compile(fmt_regex(piece)), tokens(piece))
                        NESTED.append(f)
                        if literal_len(piece) >= 6:
                            fs.append(f)
    return fs


# ---------------------------------------------------------------- docs


def roff_text(s):
    s = s.replace("\\(dq", '"').replace("\\(aq", "'").replace("\\(em", "-").replace("\\(en", "-")
    s = s.replace("\\-", "-").replace("\\e", "\\").replace("\\&", "").replace("\\ ", " ")
    s = re.sub(r"\\f[BIRP]|\\f\(..", "", s)
    return s


def roff_words(line):
    """The text of a roff request line such as .B "a b" or .BR x y."""
    m = re.match(r"\.(B|I|BR|RB|BI|IB|IR|RI)\s+(.*)", line)
    if not m:
        return None
    args = re.findall(r'"((?:[^"]|"")*)"|(\S+)', m.group(2))
    return "".join(a or b for a, b in args)


class Quote:
    def __init__(self, path, line, text, kind, lang=""):
        self.path, self.line, self.text, self.kind, self.lang = path, line, text, kind, lang

    def where(self):
        return "%s:%d" % (self.path, self.line)


def md_quotes(path, rel):
    qs, block, lang, start = [], None, "", 0
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        m = re.match(r"^\s*```(\w*)", line)
        if m:
            if block is None:
                block, lang, start = [], m.group(1), n + 1
            else:
                qs.append(Quote(rel, start, "\n".join(block), "block", lang))
                block = None
            continue
        if block is not None:
            block.append(line)
            continue
        for c in re.findall(r"`([^`]+)`", line):
            qs.append(Quote(rel, n, c, "inline"))
    return qs


def roff_quotes(path, rel):
    qs, block, start = [], None, 0
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if line in (".nf", ".EX"):
            block, start = [], n + 1
            continue
        if line in (".fi", ".EE"):
            if block is not None:
                qs.append(Quote(rel, start, "\n".join(block), "block"))
            block = None
            continue
        if block is not None:
            if not line.startswith(".") or line.startswith("\\&."):
                block.append(roff_text(line))
            continue
        if line.startswith('.\\"'):
            continue
        w = roff_words(line)
        if w is not None:
            qs.append(Quote(rel, n, roff_text(w), "inline"))
        elif not line.startswith("."):
            qs.append(Quote(rel, n, roff_text(line), "text"))
    return qs


def all_quotes(docs):
    qs = []
    for p in [os.path.join(docs, "README.md")] + sorted(glob.glob(os.path.join(docs, "doc", "*.md"))):
        qs += md_quotes(p, os.path.relpath(p, docs))
    for p in sorted(glob.glob(os.path.join(docs, "man", "*.[158]"))):
        qs += roff_quotes(p, os.path.relpath(p, docs))
    return qs


# ---------------------------------------------------------------- checks


def tokens(fmt):
    """A format as literal strings and conversions ("s", "d", "x", ...)."""
    out, i = [], 0
    for m in CONV.finditer(fmt):
        if m.start() > i:
            out.append(("lit", fmt[i:m.start()]))
        c = m.group(5)
        out.append(("lit", "%") if c == "%" else ("conv", c))
        i = m.end()
    if i < len(fmt):
        out.append(("lit", fmt[i:]))
    return out


STRERROR = {os.strerror(e) for e in range(1, 134)}


NESTED = []  # every string of the sources, short ones too: what a %s may hold
_seen = {}


def value_ok(v, fs, depth):
    """What a %s may print: a single word (a name, address, number), a
    system error, or the output of another format (messages are nested)."""
    if re.fullmatch(r"\S{1,120}", v) or v in STRERROR:
        return True
    if depth >= 2:
        return False
    key = (v, depth)
    if key not in _seen:
        _seen[key] = False
        _seen[key] = any(r.fullmatch(v) and fits(v, t, fs, depth + 1) for f, r, t in NESTED)
    return _seen[key]


def fits(text, toks, fs, depth=0, i=0, k=0):
    if k == len(toks):
        return i == len(text)
    kind, v = toks[k]
    if kind == "lit":
        return text.startswith(v, i) and fits(text, toks, fs, depth, i + len(v), k + 1)
    for j in range(len(text), i, -1):
        piece = text[i:j]
        if v in "diu" and not re.fullmatch(r"-?\d+", piece):
            continue
        if v in "xX" and not re.fullmatch(r"[0-9a-fA-F]+", piece):
            continue
        if v == "s" and not value_ok(piece, fs, depth):
            continue
        if v not in "sdiuxX" and not re.fullmatch(r"\S+", piece):
            continue
        if fits(text, toks, fs, depth, j, k + 1):
            return True
    return False


def matches(text, fs):
    # "..." in the docs stands for a value the program fills in.
    probe = text.replace("...", "X").replace("…", "X")
    return any(r.fullmatch(probe) and fits(probe, t, fs) for f, r, t in fs)


def check_messages(qs, fs, evidence_fs):
    bad, n = [], 0
    for q in qs:
        lines = q.text.split("\n") if q.kind == "block" else [q.text]
        for i, line in enumerate(lines):
            where = "%s:%d" % (q.path, q.line + i)
            line = line.strip()
            m = re.match(r"^(?:\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ )?mspgated\[\d+\]: (.*)$", line)
            if m and q.kind == "block":
                msg = m.group(1)
            elif line.startswith("mspgate: ") and (q.kind != "text"):
                msg = line[len("mspgate: "):]
            else:
                continue
            n += 1
            # Free text in quotes is checked on its own below.
            probe = re.sub(r'((?:evidence|reason)=)"[^"]*"', r'\1"X"', msg)
            if not (matches(probe, fs) or matches("mspgate: " + probe, fs)):
                bad.append("%s: no program prints %r" % (where, line))
                continue
            ev = (re.search(r'^alert: rule=\S+ .* evidence="(.*)"$', msg) or
                  re.search(r'^audit: event=alert .* reason="(?:alert|warning): (.*)" seq=', msg))
            if ev and not any(r.match(ev.group(1).replace("\\x22", '"')) for f, r in evidence_fs):
                bad.append("%s: the detector writes no such evidence: %r" % (where, ev.group(1)))
    return n, bad


def audit_keys(src):
    """The audit writer's keys in the order it writes them."""
    s = open(os.path.join(src, "recorder/rec_audit.c"), encoding="utf-8").read()
    body = s[s.index("\nbuild_line("):]
    body = body[:body.index("\n}\n")]
    keys = []
    for m in re.finditer(r'\\"(\w+)\\":|add_str\(out, "(\w+)"', body):
        k = m.group(1) or m.group(2)
        if k not in keys:
            keys.append(k)
    for k in ("hash", "sig"):
        if k not in keys:
            keys.append(k)
    return keys


def parse_example(text):
    t = re.sub(r",\s*(\.\.\.|…)\s*}", "}", text)
    return json.loads(t, object_pairs_hook=lambda kv: kv)


def check_json(qs, src, notify_lines, alert_words):
    keys = audit_keys(src)
    bad, n = [], 0
    for q in qs:
        if q.kind != "block" or q.lang != "json":
            continue
        n += 1
        try:
            kv = parse_example(q.text)
        except ValueError as e:
            bad.append("%s: not JSON: %s" % (q.where(), e))
            continue
        names = [k for k, v in kv]
        d = dict(kv)
        if "event" in d:
            order = [k for k in names if k in keys]
            extra = [k for k in names if k not in keys]
            if extra:
                bad.append("%s: the audit log has no key %s" % (q.where(), ", ".join(extra)))
            if order != sorted(order, key=keys.index):
                bad.append("%s: keys not in the audit log's order (%s)" % (q.where(), ", ".join(keys)))
            if "ts" in d and "time" in d and time.strftime(
                    "%Y-%m-%dT%H:%M:%SZ", time.gmtime(d["ts"])) != d["time"]:
                bad.append("%s: ts %s is not time %s" % (q.where(), d["ts"], d["time"]))
            if d.get("event") == "alert":
                rule = d.get("rule", "")
                if rule[len("alerts."):] not in alert_words or not rule.startswith("alerts."):
                    bad.append("%s: no alert rule %r" % (q.where(), rule))
                if d.get("result") not in ("alert", "reauth", "deny"):
                    bad.append("%s: an alert's result is its action, not %r" % (q.where(), d.get("result")))
                if not re.match(r"^(alert|warning): ", d.get("reason", "")):
                    bad.append("%s: an alert's reason starts with its severity" % q.where())
        elif "rule" in d:
            line = q.text.strip()
            if line not in notify_lines:
                bad.append("%s: alerts.notify never reads this line (see alert-examples md): %s"
                           % (q.where(), line[:120]))
        else:
            tools = " ".join(open(os.path.join(src, f), encoding="utf-8").read() for f in TOOLS.values())
            for k in names:
                if '"%s"' % k not in tools and '\\"%s\\"' % k not in tools:
                    bad.append("%s: no tool writes the key %r" % (q.where(), k))
    return n, bad


def tool_knows(src_text, shortopts, word):
    if word.startswith("--"):
        name = word[2:].split("=", 1)[0]
        return ('"--%s"' % name in src_text or '{ "%s"' % name in src_text
                or '{"%s"' % name in src_text or '"%s",' % name in src_text)
    if word.startswith("-") and len(word) >= 2:
        return all(c in shortopts or '"-%s"' % c in src_text for c in word[1:2])
    return '"%s"' % word in src_text


def commands(q):
    """Example command lines in a quote: tool first, continuation lines joined."""
    text = q.text.replace("\\\n", " ")
    for line in text.split("\n"):
        line = re.sub(r"^\s*[$#]\s+", "", line.strip())
        for part in re.split(r"&&|\|\||;|\||\$\(|`", line):
            words = part.split()
            if words and words[0] in TOOLS:
                yield words


def check_commands(qs, src):
    bad, n = [], 0
    texts = {}
    for t, f in TOOLS.items():
        s = open(os.path.join(src, f), encoding="utf-8").read()
        shortopts = "".join(re.findall(r'getopt(?:_long)?\([^,]+,[^,]+,\s*"([^"]*)"', s))
        texts[t] = (s, shortopts)
    for q in qs:
        if q.kind == "text":
            continue
        for words in commands(q):
            s, shortopts = texts[words[0]]
            n += 1
            sub = True
            for w in words[1:]:
                w = w.strip("'\"`,.")
                if re.match(r"^--?[A-Za-z]", w):
                    if not tool_knows(s, shortopts, w):
                        bad.append("%s: %s has no option %s" % (q.where(), words[0], w))
                elif sub and re.match(r"^[a-z][a-z-]+$", w) and not w.startswith("-"):
                    # The first plain word is the subcommand, when the tool has them.
                    if ('"%s"' % w) not in s and re.search(r'strcmp\([^,]+,\s*"[a-z-]+"\)', s):
                        bad.append("%s: %s has no subcommand %s" % (q.where(), words[0], w))
                    sub = False
                else:
                    sub = False
    return n, bad


def main():
    args = sys.argv[1:]
    opt = {"--docs": ".", "--src": ".", "--alerts": None}
    while args:
        k = args.pop(0)
        if k not in opt or not args:
            print(__doc__, file=sys.stderr)
            return 2
        opt[k] = args.pop(0)
    qs = all_quotes(opt["--docs"])
    fs = formats(opt["--src"])
    # The evidence texts, wherever in the detector's files they are.
    det = [f for p in sorted(glob.glob(os.path.join(opt["--src"], "gateway/gw_detect*.c")))
           for f in c_strings(p)]
    evidence_fs = [(f, re.compile(fmt_regex(f))) for f in det if literal_len(f) >= 6]
    notify, words = set(), set()
    if opt["--alerts"]:
        for line in open(opt["--alerts"], encoding="utf-8"):
            if line.startswith('{"time"'):
                notify.add(line.strip())
            m = re.match(r"^\*\*(\w+)\*\*", line)
            if m:
                words.add(m.group(1))
    words.add("state")
    rc = 0
    for i, (name, (n, bad)) in enumerate([
            ("messages quoted in the docs are what the programs print", check_messages(qs, fs, evidence_fs)),
            ("JSON examples in the docs are what the programs write", check_json(qs, opt["--src"], notify, words)),
            ("example commands use only options the tools know", check_commands(qs, opt["--src"]))], 1):
        for b in bad:
            print("# " + b)
        print("%s %d - %s (%d checked)" % ("not ok" if bad or n == 0 else "ok", i, name, n))
        rc |= bool(bad) or n == 0
    print("1..3")
    return rc


if __name__ == "__main__":
    sys.exit(main())
