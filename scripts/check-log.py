#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR MIT
"""Judge a test VM's serial log.

The guest prints each suite between markers (see scripts/guest/run-tests.sh):

    DGMM-BEGIN <kind> <name>
    ...KTAP or TAP...
    DGMM-END <kind> <name> rc=<exit code>

and DGMM-DONE when it has finished. This script counts every leaf test result
of every section and fails the run on:

  - a result "not ok", a TAP plan that does not match the results, a test
    program that exited non-zero;
  - a suite that was expected (--expect kind:name) but did not report, or
    reported no test at all;
  - a guest that did not finish (no DGMM-DONE: hang, timeout or panic);
  - a kernel log line with a warning, BUG, Oops, lockdep report, hung task,
    soft lockup, or a non-empty kmemleak report.

Every section's results (KUnit's KTAP, the kselftests' and the guest's
TAP) are read by the kernel's own parser, kunit.py parse (--kunit-parser,
from the kernel tree): its results are the ones counted, and a run fails
where kunit.py says a section failed or where it and this script's reader
of the same lines disagree on the number of results. Its report of every
section is saved with --kunit-report.

The last line printed is the summary: "N passed, N failed, N skipped".
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

RESULT = re.compile(r"^(\s*)(not ok|ok) (\d+)\b(.*)$")
PLAN = re.compile(r"^(\s*)1\.\.(\d+)")
BEGIN = re.compile(r"^DGMM-BEGIN (\S+) (\S+)\s*$")
END = re.compile(r"^DGMM-END (\S+) (\S+) rc=(-?\d+)\s*$")
SKIP = re.compile(r"#\s*SKIP\b", re.IGNORECASE)

# Kernel log lines that fail a run wherever they appear.
KERNEL_FAILURES = [
    (re.compile(r"WARNING:"), "kernel warning"),
    (re.compile(r"\bBUG:"), "kernel BUG"),
    (re.compile(r"\bOops\b|general protection fault"), "kernel oops"),
    (re.compile(r"Kernel panic"), "kernel panic"),
    (re.compile(r"possible circular locking|possible recursive locking|"
                r"inconsistent lock state|lock held when returning|"
                r"suspicious RCU usage|possible irq lock inversion"),
     "lockdep report"),
    (re.compile(r"blocked for more than \d+ seconds"), "hung task"),
    (re.compile(r"soft lockup|hard LOCKUP|rcu_sched self-detected stall|"
                r"rcu: INFO: .* stall"), "lockup or stall"),
    (re.compile(r"Call Trace:"), "call trace"),
    (re.compile(r"kmemleak: \d+ new suspected memory leaks"), "kmemleak report"),
]

# Kernel console lines start with a timestamp; strip it to read the text.
TIMESTAMP = re.compile(r"^\[\s*\d+\.\d+\]\s?")


class Section:
    def __init__(self, kind, name):
        self.kind, self.name = kind, name
        self.lines = []
        self.rc = None

    def results(self):
        """Leaf results as (status, text) with status in passed/failed/skipped.

        A result line is a leaf unless results at deeper indentation came
        before it (its subtests, as in KTAP's nested suites and parameters).
        """
        leaves, deeper = [], {}
        for line in self.lines:
            m = RESULT.match(line)
            if not m:
                continue
            indent = len(m.group(1).expandtabs())
            if not any(seen for ind, seen in deeper.items() if ind > indent):
                if m.group(2) == "not ok":
                    status = "failed"
                elif SKIP.search(m.group(4)):
                    status = "skipped"
                else:
                    status = "passed"
                leaves.append((status, line.strip()))
            for ind in list(deeper):
                if ind > indent:
                    deeper[ind] = False
            deeper[indent] = True
        return leaves

    def plan_problems(self):
        """A top-level plan "1..N" must be followed by N top-level results."""
        plan, top, indent0 = None, 0, None
        for line in self.lines:
            m = PLAN.match(line)
            if m and plan is None:
                plan, indent0 = int(m.group(2)), len(m.group(1))
                continue
            m = RESULT.match(line)
            if m and indent0 is not None and len(m.group(1)) == indent0:
                top += 1
        if plan is not None and plan != top:
            return [f"plan says {plan} tests, {top} reported"]
        return []


def kunit_leaves(group, path=()):
    """(status, name) of every test case in kunit.py's JSON, depth first."""
    leaves = []
    for case in group.get("test_cases", []):
        status = {"PASS": "passed", "SKIP": "skipped"}.get(case["status"], "failed")
        leaves.append((status, "/".join(path + (case["name"],))))
    for sub in group.get("sub_groups", []):
        leaves += kunit_leaves(sub, path + (sub["name"],))
    return leaves


def kunit_parse(parser, section):
    """Run kunit.py parse on a KTAP section.

    Returns (leaves, report, problems): the results as kunit.py read them,
    its human-readable report, and what makes the section fail beyond a
    failed test.
    """
    with tempfile.TemporaryDirectory() as tmp:
        ktap = os.path.join(tmp, "results.ktap")
        out = os.path.join(tmp, "results.json")
        with open(ktap, "w") as f:
            f.write("\n".join(section.lines) + "\n")
        run = subprocess.run([sys.executable, parser, "parse", f"--json={out}", ktap],
                             capture_output=True, text=True)
        report = run.stdout + run.stderr
        try:
            with open(out) as f:
                group = json.load(f)
        except (OSError, ValueError):
            last = [l for l in report.splitlines() if l.strip()][-1:] or ["no output"]
            return [], report, [f"kunit.py parse gave no results (exit {run.returncode}): "
                                f"{last[0].strip()}"]
    leaves = kunit_leaves(group)
    problems = []
    # kunit.py also exits 1 for a section whose every test was skipped.
    if (run.returncode and not any(st == "failed" for st, _ in leaves)
            and not (leaves and all(st == "skipped" for st, _ in leaves))):
        problems.append(f"kunit.py parse failed (exit {run.returncode}) without a failed test")
    ours = len(section.results())
    if ours != len(leaves):
        problems.append(f"kunit.py parse read {len(leaves)} results, dgmm's reader {ours}")
    return leaves, report, problems


# A kernel record can land in the middle of a line the guest's userspace is
# writing: "DGMM-BEGIN guest[    2.29] tsc: ...", then " load" on the next
# line. Put the two halves of the guest's line back together.
MID_RECORD = re.compile(r"^(.+?)(\[\s*\d+\.\d+\] .*)$")


def mend(lines):
    out, i = [], 0
    while i < len(lines):
        line = lines[i].rstrip("\r\n")
        m = MID_RECORD.match(line)
        nxt = lines[i + 1].rstrip("\r\n") if i + 1 < len(lines) else None
        if m and not TIMESTAMP.match(line) and nxt is not None and not TIMESTAMP.match(nxt):
            out += [m.group(2), m.group(1) + nxt]
            i += 2
            continue
        out.append(line)
        i += 1
    return out


def parse(lines):
    sections, current, done = [], None, False
    for raw in lines:
        line = raw.rstrip("\r\n")
        if line.startswith("DGMM-DONE"):
            done = True
        m = BEGIN.match(line)
        if m:
            # The serial console has been seen to repeat a few lines, a
            # section's start among them: the same section starting again
            # before any result is the same section.
            if (current and (current.kind, current.name) == m.groups()
                    and not any(RESULT.match(l) for l in current.lines)):
                current.lines = []
                continue
            current = Section(m.group(1), m.group(2))
            sections.append(current)
            continue
        m = END.match(line)
        if m and current and (m.group(1), m.group(2)) == (current.kind, current.name):
            current.rc = int(m.group(3))
            current = None
            continue
        if current:
            current.lines.append(line)
    return sections, done


# An allocation that fails without __GFP_NOWARN prints its stack. Inside a
# fault-injection section ("...-faults") failing allocations is the point:
# those reports, up to the end of their stack, are not failures.
ALLOC_FAILURE = re.compile(r"page allocation failure:|vmalloc error:")
STACK_END = re.compile(r"</TASK>")


def kernel_problems(lines, sections):
    """Failure lines of the kernel log, outside the kmemleak report section."""
    problems = []
    in_faults = in_alloc_report = False
    for raw in lines:
        text = TIMESTAMP.sub("", raw.rstrip("\r\n"))
        m = BEGIN.match(text) or END.match(text)
        if m:
            in_faults = text.startswith("DGMM-BEGIN") and m.group(2).endswith("-faults")
            in_alloc_report = False
        if in_faults and ALLOC_FAILURE.search(text):
            in_alloc_report = True
        if in_alloc_report:
            if STACK_END.search(text):
                in_alloc_report = False
            continue
        for pattern, what in KERNEL_FAILURES:
            if pattern.search(text):
                problems.append(f"{what}: {text.strip()}")
                break
    for s in sections:
        if s.kind.endswith("kmemleak"):
            leaks = [l for l in s.lines if l.startswith("unreferenced object")]
            if leaks:
                problems.append(f"kmemleak: {len(leaks)} unreferenced objects, "
                                f"first: {leaks[0]}")
    return problems


def judge_log(path, label, vm_exit, require_kmemleak):
    """Sections of one VM log, and the problems of the log as a whole."""
    with open(path, errors="replace") as f:
        lines = f.readlines()
    lines = mend(lines)
    sections, done = parse(lines)
    problems = []
    where = f"{label} guest" if label else "guest"
    if vm_exit == 124:
        problems.append(f"{where} timed out and was killed")
    if not done:
        problems.append(f"{where} did not finish (no DGMM-DONE): hang, panic or crash")
    if require_kmemleak and not any(s.kind == "kmemleak" for s in sections):
        problems.append(f"{where}: no kmemleak scan was reported")
    for problem in kernel_problems(lines, sections):
        problems.append(f"{label}: {problem}" if label else problem)
    if label:
        for s in sections:
            s.kind = f"{label}/{s.kind}"
    return sections, problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("logs", nargs="+", metavar="[LABEL=]LOG",
                    help="serial log of a test VM; the sections of a labelled "
                         "log are named LABEL/KIND:NAME")
    ap.add_argument("--expect", action="append", default=[],
                    metavar="KIND:NAME", help="a section that must report tests")
    ap.add_argument("--tap", action="append", default=[],
                    metavar="KIND:NAME=FILE",
                    help="also count the TAP results in FILE, as section KIND:NAME")
    ap.add_argument("--vm-exit", action="append", default=[], metavar="[LABEL=]CODE",
                    help="exit code of the VM runner of a log (124: killed on timeout)")
    ap.add_argument("--require-kmemleak", action="append", default=[],
                    metavar="LABEL", const="", nargs="?",
                    help="fail if the log (unlabelled without LABEL) has no kmemleak scan")
    ap.add_argument("--kunit-parser", metavar="KUNIT_PY", required=True,
                    help="the kernel tree's tools/testing/kunit/kunit.py, which reads "
                         "every section's results")
    ap.add_argument("--kunit-report", metavar="FILE",
                    help="save kunit.py's report of every section here")
    args = ap.parse_args()

    exits = {}
    for spec in args.vm_exit:
        label, _, code = spec.rpartition("=")
        exits[label] = int(code)
    sections, log_problems = [], []
    for spec in args.logs:
        label, _, path = spec.rpartition("=")
        s, p = judge_log(path, label, exits.get(label, 0), label in args.require_kmemleak)
        sections += s
        log_problems += p
    for spec in args.tap:
        label, _, path = spec.partition("=")
        kind, _, name = label.partition(":")
        extra = Section(kind, name)
        with open(path, errors="replace") as f:
            extra.lines = [l.rstrip("\n") for l in f]
        extra.rc = 0
        sections.insert(0, extra)

    passed = failed = skipped = 0
    failures = []
    reports = []

    for s in sections:
        if s.kind.endswith("kmemleak"):
            continue
        label = f"{s.kind}:{s.name}"
        leaves, report, problems = kunit_parse(args.kunit_parser, s)
        reports.append(f"== {label}\n{report}")
        failed += len(problems)
        failures += [f"{label}: {p}" for p in problems]
        for status, text in leaves:
            if status == "passed":
                passed += 1
            elif status == "skipped":
                skipped += 1
            else:
                failed += 1
                failures.append(f"{label}: {text}")
        n_failed = sum(1 for st, _ in leaves if st == "failed")
        print(f"{label}: {len(leaves) - n_failed} ok, {n_failed} not ok"
              f" (exit {s.rc})")
        for problem in s.plan_problems():
            failed += 1
            failures.append(f"{label}: {problem}")
        if s.rc is None:
            failed += 1
            failures.append(f"{label}: section never ended")
        elif s.rc != 0 and n_failed == 0:
            failed += 1
            failures.append(f"{label}: exited {s.rc} without a failed test")

    reported = {f"{s.kind}:{s.name}" for s in sections
                if any(st != "skipped" for st, _ in s.results())}
    for want in args.expect:
        if want not in reported:
            failed += 1
            failures.append(f"{want}: expected, but it ran no test")

    failed += len(log_problems)
    failures += log_problems
    if args.kunit_report:
        with open(args.kunit_report, "w") as f:
            f.write("\n".join(reports))

    for f in failures:
        print(f"FAIL {f}")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
