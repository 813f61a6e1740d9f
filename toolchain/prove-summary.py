#!/usr/bin/env python3
"""The closing line of `make prove` from halmos's --json-output: how many checks proved, failed (a counterexample) and
timed out or errored, and an exit status that is non-zero unless every check proved and at least one ran."""
import json
import sys

NAMES = {0: "proved", 1: "failed", 2: "timed out", 3: "stuck", 4: "reverted on every path", 5: "errored"}


def main(path: str, seconds: str) -> int:
    try:
        with open(path) as f:
            result = json.load(f)
    except (OSError, ValueError) as error:
        print(f"prove: no result from halmos ({error})")
        return 1
    counts = {}
    bad = []
    for contract, tests in (result.get("test_results") or {}).items():
        for test in tests:
            code = test["exitcode"]
            counts[code] = counts.get(code, 0) + 1
            if code != 0:
                bad.append(f"{contract.split(':')[-1]}.{test['name'].split('(')[0]} {NAMES.get(code, code)}")
    total = sum(counts.values())
    passed = counts.get(0, 0)
    for line in bad:
        print(f"prove: {line}")
    print(f"prove: {total} checks in {seconds} s")
    print(f"prove: {passed} passed, {total - passed} failed")
    return 0 if total and passed == total and result.get("exitcode", 1) == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "?"))
