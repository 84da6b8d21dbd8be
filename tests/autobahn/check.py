#!/usr/bin/env python3
"""Strict verdict over an Autobahn report directory.

usage: check.py --agent NAME --min-cases N [--expected FILE] REPORT_DIR

Every case of agent NAME in REPORT_DIR/index.json must be OK or INFORMATIONAL, and its
close behaviour OK or INFORMATIONAL: NON-STRICT, FAILED, UNIMPLEMENTED and UNCLEAN all
fail. The run also fails, rather than passing on what was not checked, when:
  * index.json is missing or unreadable, or has no results for NAME (other agents in the
    file, e.g. left over from another run, are neither counted nor accepted);
  * NAME has fewer than N cases (N is the caller's: 301 per role without
    permessage-deflate, 517 with it);
  * FILE (one case id per line, as the shared harness writes expected.txt) lists a case
    that has no result;
  * a case has no "behavior" field, or a case id is not of the form 1.2.3.
The last line is "N passed, M failed"; the exit status is 1 on any failure, 2 on bad usage.
"""
import json
import re
import sys

GOOD = {"OK", "INFORMATIONAL"}
CASE_ID = re.compile(r"^[0-9]+(\.[0-9]+)*$")


def usage(msg):
    print(f"check.py: {msg}", file=sys.stderr)
    print(__doc__.strip().splitlines()[2], file=sys.stderr)
    return 2


def parse_args(argv):
    opts = {"agent": None, "min": None, "expected": None, "dir": None}
    args = list(argv)
    while args:
        a = args.pop(0)
        if a in ("--agent", "--min-cases", "--expected"):
            if not args:
                raise ValueError(f"{a} needs a value")
            value = args.pop(0)
            if a == "--agent":
                opts["agent"] = value
            elif a == "--expected":
                opts["expected"] = value
            else:
                if not value.isdigit() or int(value) < 1:
                    raise ValueError(f"--min-cases must be a positive integer, not {value!r}")
                opts["min"] = int(value)
        elif a.startswith("-"):
            raise ValueError(f"unknown option {a}")
        elif opts["dir"] is None:
            opts["dir"] = a
        else:
            raise ValueError("only one report directory")
    if opts["dir"] is None or opts["agent"] is None or opts["min"] is None:
        raise ValueError("REPORT_DIR, --agent and --min-cases are required")
    return opts


def main(argv):
    try:
        opts = parse_args(argv)
    except ValueError as e:
        return usage(str(e))
    path, agent, minimum = opts["dir"], opts["agent"], opts["min"]
    try:
        with open(f"{path}/index.json", encoding="utf-8") as f:
            index = json.load(f)
    except (OSError, ValueError) as e:
        print(f"cannot read {path}/index.json: {e}")
        print("0 passed, 1 failed")
        return 1
    if not isinstance(index, dict) or not isinstance(index.get(agent), dict):
        others = sorted(index) if isinstance(index, dict) else []
        print(f"no results for agent {agent!r} in {path}/index.json (agents: {others})")
        print("0 passed, 1 failed")
        return 1
    cases = index[agent]
    counts, bad = {}, []
    for case, result in cases.items():
        if not CASE_ID.match(case):
            verdict = "FAILED (not a case id)"
        elif not isinstance(result, dict) or "behavior" not in result:
            verdict = "FAILED (no behavior)"
        else:
            verdict = result["behavior"]
            if result.get("behaviorClose") not in GOOD and verdict in GOOD:
                verdict = "FAILED (close: %s)" % result.get("behaviorClose")
        counts[verdict] = counts.get(verdict, 0) + 1
        if verdict not in GOOD:
            bad.append((case, verdict))
    missing = []
    if opts["expected"] is not None:
        try:
            with open(opts["expected"], encoding="utf-8") as f:
                expected = [line.strip() for line in f if line.strip()]
        except OSError as e:
            print(f"cannot read the expected case list: {e}")
            print("0 passed, 1 failed")
            return 1
        missing = [c for c in expected if c not in cases]
    print(f"agent {agent}: {len(cases)} cases (at least {minimum} expected)")
    for verdict, n in sorted(counts.items()):
        print(f"{verdict}: {n}")
    for case, verdict in sorted(bad):
        print(f"  {case}: {verdict}")
    for case in missing:
        print(f"  {case}: MISSING (listed as expected, no result)")
    failed = len(bad) + len(missing)
    if len(cases) < minimum:
        print(f"only {len(cases)} cases, fewer than the {minimum} expected")
        # Cases missing from the expected list are part of the shortfall: count them once.
        failed = len(bad) + max(len(missing), minimum - len(cases))
    passed = sum(n for v, n in counts.items() if v in GOOD)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
