#!/usr/bin/env python3
"""Clang's -Wthread-safety over every source file of src/, using the flags of a configured build
(compile_commands.json), as -fsyntax-only: no second full build. Fails on any thread-safety warning.

    scripts/check-thread-safety.py [build_dir]      (run by .ci/run; `make thread-safety`)
"""
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys

build = sys.argv[1] if len(sys.argv) > 1 else "build"
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
clang = next((c for c in ("clang++-14", "clang++") if subprocess.call(["which", c], stdout=subprocess.DEVNULL) == 0), None)
if not clang:
    sys.exit("check-thread-safety: clang++ not found (apt-get install clang)")
with open(os.path.join(build, "compile_commands.json")) as f:
    entries = [e for e in json.load(f) if e["file"].startswith(os.path.join(root, "src") + os.sep)]
# LibTorch's headers do not compile as C++20 under clang 14; that one file holds no locks.
entries = [e for e in entries if "torchscript_runtime" not in e["file"]]


def check(e):
    args = shlex.split(e["command"])[1:]
    out = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a == "-o":
            skip = True
            continue
        if a in ("-c",) or a.startswith("-O") or a == "-w":
            continue
        out.append(a)
    cmd = [clang, "-fsyntax-only", "-Wno-everything", "-Wthread-safety", "-Werror=thread-safety"] + out
    r = subprocess.run(cmd, cwd=e["directory"], capture_output=True, text=True)
    return e["file"], r.returncode, r.stderr


failed = 0
with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
    for path, rc, err in pool.map(check, entries):
        if rc != 0:
            failed += 1
            print(err.strip())
print("check-thread-safety: %d files, %d with findings" % (len(entries), failed))
sys.exit(1 if failed else 0)
