#!/usr/bin/python3
"""Runs toml2json over tests/data/toml: every valid/*.toml must convert to
the tagged JSON in valid/*.json (floats compared as numbers, nan equal to
nan), every invalid/*.toml must be rejected with exit 1 and a message of the
form 'toml2json: LINE:COL: text'.  Prints 'N passed, N failed'."""
import json
import math
import os
import re
import subprocess
import sys

ERROR = re.compile(r"^toml2json: [0-9]+:[0-9]+: \S.*$")


def same(expected, actual, path):
    if isinstance(expected, dict) and set(expected) == {"type", "value"} \
            and isinstance(expected["value"], str):
        if not isinstance(actual, dict) or actual.get("type") != expected["type"]:
            return "%s: expected %r, got %r" % (path, expected, actual)
        if expected["type"] == "float":
            a, b = float(expected["value"]), float(actual["value"])
            if math.isnan(a) and math.isnan(b):
                return None
            if a != b or math.copysign(1, a) != math.copysign(1, b):
                return "%s: expected float %s, got %s" % (path, expected["value"],
                                                          actual["value"])
            return None
        if expected["value"] != actual.get("value"):
            return "%s: expected %r, got %r" % (path, expected["value"],
                                               actual.get("value"))
        return None
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or set(expected) != set(actual):
            return "%s: expected keys %s, got %s" % (
                path, sorted(expected), sorted(actual) if isinstance(actual, dict)
                else type(actual).__name__)
        for k in expected:
            why = same(expected[k], actual[k], path + "." + k)
            if why:
                return why
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(expected) != len(actual):
            return "%s: expected an array of %d, got %r" % (path, len(expected), actual)
        for n, (e, a) in enumerate(zip(expected, actual)):
            why = same(e, a, "%s[%d]" % (path, n))
            if why:
                return why
        return None
    return "%s: unexpected expected-value %r" % (path, expected)


def main():
    tool, data = sys.argv[1], sys.argv[2]
    passed = failed = 0
    for kind in ("valid", "invalid"):
        folder = os.path.join(data, kind)
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".toml"):
                continue
            with open(os.path.join(folder, name), "rb") as fh:
                doc = fh.read()
            proc = subprocess.run([tool], input=doc, capture_output=True, timeout=10)
            err = proc.stderr.decode("utf-8", "replace").strip()
            why = None
            if kind == "valid":
                if proc.returncode != 0:
                    why = "rejected: " + err
                else:
                    with open(os.path.join(folder, name[:-5] + ".json")) as fh:
                        expected = json.load(fh)
                    why = same(expected, json.loads(proc.stdout), "$")
            else:
                if proc.returncode != 1:
                    why = "accepted (exit %d): %s" % (
                        proc.returncode, proc.stdout.decode()[:200])
                elif not ERROR.match(err):
                    why = "bad error message: %r" % err
            if why:
                failed += 1
                print("FAIL %s/%s: %s" % (kind, name, why))
            else:
                passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
