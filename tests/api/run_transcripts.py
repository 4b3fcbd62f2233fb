#!/usr/bin/env python3
"""Runs API transcript files (tests/api/*.txt) against a fresh `tamga server`.

Format (see tests/api/README.md):
    === case title
    METHOD /path?query
    Header-Name: value          (optional; default Content-Type: application/json when there is a body)
    <body: JSON or raw text, may span lines, may be empty>
    --- STATUS
    <expected JSON, matched as a subset; may be empty to check the status only>

Expected-JSON conventions: "$ANY" matches any value, "$SAVE:name" matches anything and stores it,
"$ABSENT" requires the key to be missing, "${name}" is replaced by a stored value (in requests too),
"$RE:<regex>" matches strings by regex. Arrays must have the same length unless the expected array
ends with "$MORE". A body starting with `~` is matched as a plain-text substring.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import requests  # noqa: E402
from tamga_harness import TamgaServer  # noqa: E402


def parse(path):
    cases, cur, section = [], None, None
    with open(path) as f:
        lines = f.read().split("\n")
    for line in lines:
        if line.startswith("=== "):
            cur = {"title": line[4:].strip(), "req": [], "exp": [], "status": None}
            cases.append(cur)
            section = "req"
        elif cur is None or (line.startswith("#") and section != "exp" and not cur["req"]):
            continue
        elif line.startswith("--- ") and section == "req":
            cur["status"] = int(line[4:].strip())
            section = "exp"
        else:
            cur[section].append(line)
    return cases


def subst(text, vars_):
    return re.sub(r"\$\{(\w+)\}", lambda m: str(vars_[m.group(1)]), text)


def match(exp, got, vars_, where):
    if isinstance(exp, str):
        if exp == "$ANY":
            return
        if exp.startswith("$SAVE:"):
            vars_[exp[6:]] = got
            return
        if exp.startswith("$RE:"):
            if not isinstance(got, str) or not re.search(exp[4:], got):
                raise AssertionError("%s: %r does not match /%s/" % (where, got, exp[4:]))
            return
        exp = subst(exp, vars_)
    if isinstance(exp, dict):
        if not isinstance(got, dict):
            raise AssertionError("%s: expected object, got %r" % (where, got))
        for k, v in exp.items():
            if v == "$ABSENT":
                if k in got:
                    raise AssertionError("%s.%s: expected absent, got %r" % (where, k, got[k]))
                continue
            if k not in got:
                raise AssertionError("%s: missing key %r in %s" % (where, k, json.dumps(got)[:300]))
            match(v, got[k], vars_, where + "." + k)
    elif isinstance(exp, list):
        if not isinstance(got, list):
            raise AssertionError("%s: expected list, got %r" % (where, got))
        more = bool(exp) and exp[-1] == "$MORE"
        items = exp[:-1] if more else exp
        if (len(got) < len(items)) if more else (len(got) != len(items)):
            raise AssertionError("%s: expected %d items, got %d: %s" % (where, len(items), len(got),
                                                                         json.dumps(got)[:400]))
        for i, v in enumerate(items):
            match(v, got[i], vars_, "%s[%d]" % (where, i))
    elif exp != got:
        raise AssertionError("%s: expected %r, got %r" % (where, exp, got))


def run_case(base, case, vars_):
    req = [l for l in case["req"]]
    while req and not req[0].strip():
        req.pop(0)
    method, target = req[0].split(" ", 1)
    headers, i = {}, 1
    while i < len(req) and re.match(r"^[A-Za-z][A-Za-z0-9-]*: ", req[i]):
        k, v = req[i].split(": ", 1)
        headers[k] = v
        i += 1
    body = "\n".join(req[i:]).strip("\n")
    body = subst(body, vars_)
    if body and "Content-Type" not in headers:
        headers["Content-Type"] = "application/json"
    resp = requests.request(method, base + subst(target.strip(), vars_), data=body.encode() if body else None,
                            headers=headers, timeout=60)
    if resp.status_code != case["status"]:
        raise AssertionError("status %d, expected %d; body: %s" % (resp.status_code, case["status"],
                                                                     resp.text[:500]))
    exp_text = "\n".join(case["exp"]).strip()
    if not exp_text:
        return
    if exp_text.startswith("~"):
        if exp_text[1:].strip() not in resp.text:
            raise AssertionError("body %r does not contain %r" % (resp.text[:300], exp_text[1:].strip()))
        return
    try:
        got = resp.json()
    except ValueError:
        raise AssertionError("response is not JSON: %r" % resp.text[:300])
    match(json.loads(exp_text), got, vars_, "$")


def main():
    binary, files = sys.argv[1], sys.argv[2:]
    failures = 0
    for path in files:
        with TamgaServer(binary) as server:
            vars_ = {}
            for case in parse(path):
                try:
                    run_case(server.url, case, vars_)
                except Exception as e:  # noqa: BLE001 - report every failing case
                    failures += 1
                    print("FAIL %s :: %s\n    %s" % (os.path.basename(path), case["title"], e))
            print("%s: %d cases" % (os.path.basename(path), len(parse(path))))
            if server.proc.poll() is not None:
                failures += 1
                print("FAIL server crashed:\n" + server.read_log())
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
