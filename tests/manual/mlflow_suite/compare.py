"""Diffs JUnit results of the same MLflow suite run against MLflow's server and against Tamga.

  compare.py OUT_DIR   (reads OUT_DIR/{mlflow,tamga}-<suite>.xml)

Prints per suite: counts for each server, and every test that passes on MLflow but not on Tamga
(with the first line of Tamga's failure), and the reverse.
"""
import glob
import os
import sys
import xml.etree.ElementTree as ET


def outcomes(path):
    result = {}
    if not os.path.exists(path):
        return None
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("classname", "").split(".")[-1] + "::" + case.get("name")
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
                message = (child.get("message") or "").splitlines()[0:1]
                message = message[0][:200] if message else ""
            elif child.tag == "skipped":
                outcome = "skipped"
        result[name] = (outcome, message)
    return result


def main(out):
    suites = sorted({os.path.basename(p).split("-", 1)[1][:-4] for p in glob.glob(os.path.join(out, "*-*.xml"))})
    for suite in suites:
        ref = outcomes(os.path.join(out, "mlflow-%s.xml" % suite))
        got = outcomes(os.path.join(out, "tamga-%s.xml" % suite))
        for label, res in (("mlflow", ref), ("tamga", got)):
            if res is not None:
                passed = sum(1 for o, _ in res.values() if o == "passed")
                print("%s %s: %d of %d passed" % (suite, label, passed, len(res)))
        if ref is None or got is None:
            continue
        only_ref = sorted(n for n, (o, _) in ref.items() if o == "passed" and got.get(n, ("missing",))[0] != "passed")
        only_got = sorted(n for n, (o, _) in got.items() if o == "passed" and ref.get(n, ("missing",))[0] != "passed")
        print("  pass on MLflow, not on Tamga: %d" % len(only_ref))
        for n in only_ref:
            print("    %s  -- %s" % (n, got.get(n, ("missing", ""))[1]))
        print("  pass on Tamga, not on MLflow: %d" % len(only_got))
        for n in only_got:
            print("    %s" % n)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/mlflow-suite")
