#!/usr/bin/env python3
"""Strict verdict over an Autobahn report directory (for the Docker path; the shared
harness has its own summarizer). Every case must be OK or INFORMATIONAL, and its close
behaviour OK or INFORMATIONAL: NON-STRICT, FAILED, UNIMPLEMENTED and UNCLEAN all fail."""
import json
import sys

GOOD = {"OK", "INFORMATIONAL"}


def main(path):
    with open(f"{path}/index.json") as f:
        index = json.load(f)
    counts, bad = {}, []
    for agent, cases in index.items():
        for case, result in cases.items():
            verdict = result["behavior"]
            if result.get("behaviorClose") not in GOOD and verdict in GOOD:
                verdict = "FAILED (close: %s)" % result.get("behaviorClose")
            counts[verdict] = counts.get(verdict, 0) + 1
            if verdict not in GOOD:
                bad.append((agent, case, verdict))
    for verdict, n in sorted(counts.items()):
        print(f"{verdict}: {n}")
    for agent, case, verdict in sorted(bad):
        print(f"  {agent} {case}: {verdict}")
    passed = sum(n for v, n in counts.items() if v in GOOD)
    print(f"{passed} passed, {len(bad)} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
