#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# Runs the example commands of README.md, doc/*.md and man/* (issue 21).
"""Every example command a reader copies, run in a throwaway gateway tree.

  docs_run.py --docs DIR --root ROOT --bin BINDIR [--list]

ROOT is a prepared tree (see tests/cli/docs_run.sh): ROOT/etc/mspgate holds
the example policy (its paths moved under ROOT), the signing key and the
TOTP store's policy; ROOT/var/lib/mspgate/recordings a recording S-42;
ROOT/var/log/mspgate/audit.jsonl its audit log; ROOT/work the files an
example names in the current folder (rec.pub, mspgate.pub, *.cast ...).

An example is a line of a code block (or a roff .nf/.EX block) or an
inline code span that starts with one of our tools. Paths under /etc/mspgate,
/var/lib/mspgate and /var/log/mspgate are read as ROOT's; the tools' default
policy is ROOT's. Each document's examples run in order, in one folder
(ROOT/work/DOC), so a bundle written by one example is verified by the next.

  run        mspgate-policy, mspgate-replay, mspgate-record, mspgate-enroll
             (and openssl, which makes their keys): must exit as documented
             (0 unless EXIT below says otherwise); output shown under a
             "# command" prompt line must be printed ("..." stands for the
             rest of the line, digits for any digits).
  elsewhere  mspgatectl, mspgated, mspgate-shell, mspgate-keys need a running
             gateway and the engineer's ssh: the e2e test named in ELSEWHERE
             runs that command line's form, and must hold it.
  template   an example with a placeholder (KEY, FILE.tar, T) or a mention
             without arguments is not run.
One TAP line per document, details as "#" lines.
"""
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import docs_check  # noqa: E402  (the same quote extraction as the static checks)

RUN = ("mspgate-policy", "mspgate-replay", "mspgate-record", "mspgate-enroll")
HELPERS = ("openssl",)
LIVE = ("mspgatectl", "mspgated", "mspgate-shell", "mspgate-keys", "mspgate-signer")
# The tools a reader runs only on a live gateway: the e2e test that runs
# each documented form (a string that test holds).
ELSEWHERE = {
    "mspgatectl list": ("tests/e2e/gw_transfer_kill_reload.sh", "gw_ctl list"),
    "mspgatectl kill": ("tests/e2e/gw_slots.sh", "gw_ctl kill --engineer"),
    "mspgatectl alerts": ("tests/e2e/gw_alerts.sh", "gw_ctl alerts --since 1h"),
    "mspgated": ("tests/e2e/gw_session.sh", "mspgated"),
    "mspgate-shell": ("tests/e2e/gw_session.sh", "mspgate-shell"),
    "mspgate-keys": ("tests/e2e/gw_owner.sh", "mspgate-keys"),
    # The signer's keys belong to its own account, made by the test.
    "mspgate-signer pubkey": ("tests/e2e/gw_cert.sh", "mspgate-signer\" pubkey"),
    # The state database's schema: a PostgreSQL cluster of the test's own.
    "mspgate-policy state init": ("tests/pam/state_pg.sh", "state init -f"),
    "mspgate-policy state migrate": ("tests/pam/state_pg.sh", "state migrate -f"),
}
# Examples that document a non-zero exit status, and what they print then.
EXIT = {
    # Enrolment with a phone waits for the code the phone shows; without a
    # terminal to type it into, the secret stays pending, as it says.
    "mspgate-enroll alice": (1, "the secret stays pending"),
}
# Mentions in running text that name a command's form, not a command.
FRAGMENTS = {
    "mspgate-replay export --html",
    "mspgate-replay play",
    "mspgate-record --audit",
}
PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9_]*(\.[a-z]+)?\*?$")
SYSTEM_DIRS = ("/etc/mspgate", "/var/lib/mspgate", "/var/log/mspgate")


class Step:
    def __init__(self, where, cmd, block=None):
        self.where, self.cmd, self.out, self.block = where, cmd, [], block


def lines_of(q):
    """A quote's lines, continuation lines joined, with their line numbers."""
    out, cur, start = [], None, 0
    for i, line in enumerate(q.text.split("\n")):
        if cur is None:
            cur, start = line, q.line + i
        else:
            cur += " " + line.strip()
        if cur.endswith("\\"):
            cur = cur[:-1].rstrip()
            continue
        if cur.rstrip().endswith("|"):
            continue	# a pipe goes on on the next line
        out.append((start, cur))
        cur = None
    if cur is not None:
        out.append((start, cur))
    return out


def first_tool(cmd):
    """The program a command line runs first (after NAME=$( ... )."""
    m = re.match(r"^\s*\w+=\$\((.*)", cmd)
    if m:
        cmd = m.group(1)
    w = cmd.split()
    return w[0] if w else ""


def steps_of(q):
    """The example commands of a quote, with the output shown under each."""
    if q.kind == "inline":
        t = q.text.strip()
        w = t.split()
        # A tool and its subcommand alone ("mspgate-replay text") is a mention.
        if len(w) >= 3 or (len(w) == 2 and w[1].startswith("-")):
            if w[0] in RUN + LIVE:
                return [Step(q.where(), t)]
        return []
    if q.kind != "block" or q.lang not in ("", "sh", "shell", "console"):
        return []
    ls = lines_of(q)
    prompt = re.compile(r"^\s*[#$]\s+(.*)$")
    prompted = any(prompt.match(t) and first_tool(prompt.match(t).group(1)) in RUN + HELPERS + LIVE
                   for _, t in ls)
    steps = []
    for n, t in ls:
        if prompted:
            m = prompt.match(t)
            if m:
                steps.append(Step("%s:%d" % (q.path, n), m.group(1).strip(), q.where()))
            elif steps and t.strip():
                steps[-1].out.append(t.strip())
            continue
        t = t.strip()
        if not t or t.startswith("#"):
            continue
        # "mspgate-policy check && systemctl reload mspgated": ours only.
        for part in t.split("&&") if "$(" not in t else [t]:
            tool = first_tool(part)
            if tool in RUN + HELPERS + LIVE:
                steps.append(Step("%s:%d" % (q.path, n), part.strip(), q.where()))
    return steps


def classify(step):
    cmd = step.cmd
    tool = first_tool(cmd)
    if cmd in FRAGMENTS:
        return "template", "a mention of the command's form"
    try:
        words = shlex.split(cmd, comments=False)
    except ValueError:
        words = cmd.split()
    if " ".join(words[:3]) in ELSEWHERE:
        return "elsewhere", " ".join(words[:3])
    if tool not in RUN + HELPERS:
        key = " ".join(words[:2]) if " ".join(words[:2]) in ELSEWHERE else tool
        if key in ELSEWHERE:
            return "elsewhere", key
        return "other", tool
    if len(words) < 2 and tool in RUN:
        return "template", "a mention without arguments"
    if any(PLACEHOLDER.match(w) for w in words[1:] if not w.startswith("-")):
        return "template", "a placeholder"
    if os.environ.get("MG_DOCS_NO_PLAYER") and "export --html" in cmd:
        return "template", "no player bundle (the test says SKIP)"
    return "run", None


def pattern(shown):
    """A shown output line as a regular expression over the printed one."""
    out = []
    for piece in re.split(r"(\.\.\.|…|\d+|\s+)", shown):
        if piece in ("...", "…"):
            out.append(".*")
        elif piece.isdigit():
            out.append(r"\d+")
        elif piece.isspace():
            out.append(r"\s+")
        else:
            out.append(re.escape(piece))
    return re.compile("^" + "".join(out).strip() + r"\s*$")


def run_step(step, root, env, cwd, before=()):
    cmd = step.cmd
    tool = first_tool(step.cmd)
    if tool == "mspgate-record":
        # The recorded shell is told to end at once.
        cmd = "printf 'exit\\n' | " + cmd
    # A variable set by an earlier line of the same block ("uri=$(...)").
    cmd = "\n".join(list(before) + [cmd])
    for d in SYSTEM_DIRS:
        cmd = cmd.replace(d, root + d)
    p = subprocess.run(["sh", "-c", cmd], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def worked_files(path):
    """The files of doc/FORMATS.md's worked example: NAME and its lines."""
    out, name, body = [], None, None
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^<!-- file: (\S+) -->$", line.strip())
        if m:
            name, body = m.group(1), None
            continue
        if name is not None and line.startswith("```"):
            if body is None:
                body = []
            else:
                out.append((name, "".join(body)))
                name, body = None, None
            continue
        if body is not None:
            body.append(line)
    return out


def wrappers(root, bindir, wrap):
    """Our tools on PATH, reading ROOT's policy when none is named."""
    os.makedirs(wrap, exist_ok=True)
    conf = os.path.join(root, "etc/mspgate/mspgate.conf")
    for t in RUN:
        real = os.path.join(bindir, t)
        with open(os.path.join(wrap, t), "w") as f:
            if t == "mspgate-replay":
                # bundle reads the policy (-f), by default /etc/mspgate's.
                f.write('#!/bin/sh\nif [ "$1" = bundle ]; then case " $* " in *" -f "*) ;; '
                        '*) shift; set -- bundle -f %s "$@" ;; esac; fi\nexec %s "$@"\n'
                        % (shlex.quote(conf), shlex.quote(real)))
            elif t == "mspgate-enroll":
                f.write('#!/bin/sh\ncase " $* " in *" -c "*) ;; *) set -- -c %s "$@" ;; esac\n'
                        'exec %s "$@"\n' % (shlex.quote(conf), shlex.quote(real)))
            else:
                f.write("#!/bin/sh\nexec %s \"$@\"\n" % shlex.quote(real))
        os.chmod(os.path.join(wrap, t), 0o755)
    return conf


def main():
    args = sys.argv[1:]
    opt = {"--docs": ".", "--root": None, "--bin": None}
    listing = "--list" in args
    args = [a for a in args if a != "--list"]
    while args:
        k = args.pop(0)
        if k not in opt or not args:
            print(__doc__, file=sys.stderr)
            return 2
        opt[k] = args.pop(0)
    docs = opt["--docs"]
    by_doc = {}
    for q in docs_check.all_quotes(docs):
        for s in steps_of(q):
            by_doc.setdefault(q.path, []).append(s)
    if listing:
        for d, steps in by_doc.items():
            for s in steps:
                c, why = classify(s)
                print("%s\t%s\t%s%s" % (s.where, c, s.cmd, "" if why is None else "\t" + why))
        return 0
    root, bindir = os.path.abspath(opt["--root"]), os.path.abspath(opt["--bin"])
    wrap = os.path.join(root, "wrap")
    conf = wrappers(root, bindir, wrap)
    env = dict(os.environ)
    env["PATH"] = wrap + ":" + env.get("PATH", "/usr/bin:/bin")
    env["MSPGATE_CONF"] = conf
    env["MSPGATE_RECORDINGS"] = os.path.join(root, "var/lib/mspgate/recordings")
    env["HOME"] = os.path.join(root, "home")
    env["TZ"] = "UTC"
    rc, i, total = 0, 0, {"run": 0, "elsewhere": 0, "template": 0, "other": 0}
    src = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    for doc in sorted(by_doc):
        i += 1
        cwd = os.path.join(root, "work", doc.replace("/", "_"))
        os.makedirs(cwd, exist_ok=True)
        for f in glob.glob(os.path.join(root, "work", "seed", "*")):
            dst = os.path.join(cwd, os.path.basename(f))
            if not os.path.exists(dst):
                shutil.copy(f, dst)
        if doc == "doc/FORMATS.md":
            # Its worked example: each "<!-- file: NAME -->" block, as a reader copies it.
            for name, body in worked_files(os.path.join(docs, doc)):
                with open(os.path.join(cwd, name), "w", encoding="utf-8") as f:
                    f.write(body)
        bad, notes, assigned = [], [], {}
        for s in by_doc[doc]:
            c, why = classify(s)
            total[c] += 1
            if c == "elsewhere":
                test, needle = ELSEWHERE[why]
                p = os.path.join(src, test)
                if not os.path.exists(p) or needle not in open(p, encoding="utf-8").read():
                    bad.append("%s: %s is run by no test (%s does not hold %r)" % (
                        s.where, s.cmd, test, needle))
                else:
                    notes.append("%s: %s: run by %s" % (s.where, s.cmd, test))
                continue
            if c != "run":
                continue
            try:
                code, out, err = run_step(s, root, env, cwd, assigned.get(s.block, []))
                if re.match(r"^\s*\w+=\$\(", s.cmd):
                    assigned.setdefault(s.block, []).append(s.cmd)
            except subprocess.TimeoutExpired:
                bad.append("%s: %s: did not finish within 60 s" % (s.where, s.cmd))
                continue
            want, says = EXIT.get(s.cmd, (0, None))
            if says is not None and says not in out + err:
                bad.append("%s: %s: does not say %r" % (s.where, s.cmd, says))
            if code != want:
                bad.append("%s: %s: exit %d, not %d: %s" % (
                    s.where, s.cmd, code, want, (err.strip() or out.strip())[:300]))
                continue
            printed = out.splitlines() + err.splitlines()
            for shown in s.out:
                r = pattern(shown)
                if not any(r.match(p.strip()) for p in printed):
                    bad.append("%s: %s does not print %r" % (s.where, s.cmd, shown))
            notes.append("%s: %s: ran, exit %d" % (s.where, s.cmd, code))
        for b in bad:
            print("# " + b)
        for n in notes:
            print("#   " + n)
        print("%s %d - %s: its example commands run as shown" % ("not ok" if bad else "ok", i, doc))
        rc |= bool(bad)
    print("# %d run, %d on a live gateway by the e2e tests, %d templates or mentions" % (
        total["run"], total["elsewhere"], total["template"] + total["other"]))
    if total["run"] == 0:
        print("not ok %d - some example command runs" % (i + 1))
        i += 1
        rc = 1
    print("1..%d" % i)
    return rc


if __name__ == "__main__":
    sys.exit(main())
