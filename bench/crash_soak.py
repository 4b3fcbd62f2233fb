#!/usr/bin/env python3
"""Crash-consistency soak: mixed load against `tamga server`, `kill -9` every few seconds, restart, verify.

Each cycle starts the server on the same data directory, runs writers for a random 1.5-4 s (log-batch,
search, artifact uploads, registry changes, job submissions), kills the server with SIGKILL while requests are
in flight, restarts it and checks that every write the server *acknowledged* (answered 200) is still there:
metric points, artifact bytes, registered model versions, jobs. It also records the time to reopen the store
and the server's resident memory just before each kill.

Not part of `make test` (it runs for minutes). Usage:
    bench/crash_soak.py [--tamga build/tamga] [--cycles 100] [--seed 1]
Prints one summary; exits 1 if any acknowledged write was lost or the store failed to open.
"""
import argparse
import hashlib
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time

import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "harness"))
from tamga_harness import TamgaServer  # noqa: E402

API = "/api/2.0/mlflow"


class Ledger:
    """What the server acknowledged. Appended by writer threads, checked after each restart."""

    def __init__(self):
        self.lock = threading.Lock()
        self.metrics = []    # (run_id, key, step, value)
        self.artifacts = []  # (path, sha256)
        self.versions = []   # (model, version)
        self.jobs = []       # job id
        self.errors = {}     # status or exception class -> count (expected: connection resets at the kill)

    def add(self, kind, item):
        with self.lock:
            getattr(self, kind).append(item)

    def error(self, what):
        with self.lock:
            self.errors[what] = self.errors.get(what, 0) + 1


def writer(kind, base, run_ids, ledger, stop, rng):
    s = requests.Session()
    n = 0
    while not stop.is_set():
        n += 1
        try:
            if kind == "metrics":
                run = rng.choice(run_ids)
                key = "m%d" % rng.randrange(4)
                step0 = rng.randrange(1 << 30)
                points = [{"key": key, "value": float(i), "timestamp": 1, "step": step0 + i} for i in range(20)]
                r = s.post(base + API + "/runs/log-batch", json={"run_id": run, "metrics": points}, timeout=5)
                if r.status_code == 200:
                    for p in points:
                        ledger.add("metrics", (run, key, p["step"], p["value"]))
                else:
                    ledger.error(r.status_code)
            elif kind == "search":
                r = s.post(base + API + "/runs/search", timeout=5,
                           json={"experiment_ids": ["0"], "filter": "metrics.m0 >= 0", "max_results": 20})
                if r.status_code != 200:
                    ledger.error(r.status_code)
            elif kind == "artifacts":
                run = rng.choice(run_ids)
                data = os.urandom(rng.randrange(1, 200_000))
                path = "0/%s/artifacts/soak/%d-%d.bin" % (run, os.getpid(), rng.randrange(1 << 40))
                r = s.put(base + "/api/2.0/mlflow-artifacts/artifacts/" + path, data=data, timeout=10)
                if r.status_code == 200:
                    ledger.add("artifacts", (path, hashlib.sha256(data).hexdigest()))
                else:
                    ledger.error(r.status_code)
            elif kind == "registry":
                name = "soak-%d" % rng.randrange(1 << 40)
                r = s.post(base + API + "/registered-models/create", json={"name": name}, timeout=5)
                if r.status_code != 200:
                    ledger.error(r.status_code)
                    continue
                r = s.post(base + API + "/model-versions/create", json={"name": name, "source": "s3://b/m"}, timeout=5)
                if r.status_code == 200:
                    ledger.add("versions", (name, r.json()["model_version"]["version"]))
                else:
                    ledger.error(r.status_code)
            elif kind == "jobs":
                r = s.post(base + "/api/2.0/tamga/jobs", json={"queue": "soak", "command": ["true"]}, timeout=5)
                if r.status_code == 200:
                    ledger.add("jobs", r.json()["job"]["id"])
                else:
                    ledger.error(r.status_code)
        except requests.RequestException as e:
            ledger.error(type(e).__name__)
            time.sleep(0.05)


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def verify(base, ledger, checked, rng):
    """Checks every acknowledged write added since the last cycle, plus a sample of older ones."""
    s = requests.Session()
    lost = []
    with ledger.lock:
        metrics = list(ledger.metrics)
        artifacts = list(ledger.artifacts)
        versions = list(ledger.versions)
        jobs = list(ledger.jobs)
    def pick(items, start):
        new = items[start:]
        old = rng.sample(items[:start], min(len(items[:start]), 20)) if start else []
        return new + old
    # Metrics: group by (run, key) and read each history once.
    want = {}
    for run, key, step, value in pick(metrics, checked["metrics"]):
        want.setdefault((run, key), set()).add((step, value))
    for (run, key), points in want.items():
        got = set()
        token = None
        while True:
            params = {"run_id": run, "metric_key": key, "max_results": 25000}
            if token:
                params["page_token"] = token
            r = s.get(base + API + "/metrics/get-history", params=params, timeout=30)
            r.raise_for_status()
            body = r.json()
            got |= {(m["step"], m["value"]) for m in body.get("metrics", [])}
            token = body.get("next_page_token")
            if not token:
                break
        missing = points - got
        if missing:
            lost.append("metric %s/%s: %d points" % (run, key, len(missing)))
    for path, sha in pick(artifacts, checked["artifacts"]):
        r = s.get(base + "/api/2.0/mlflow-artifacts/artifacts/" + path, timeout=30)
        if r.status_code != 200 or hashlib.sha256(r.content).hexdigest() != sha:
            lost.append("artifact %s: %d" % (path, r.status_code))
    for name, version in pick(versions, checked["versions"]):
        r = s.get(base + API + "/model-versions/get", params={"name": name, "version": version}, timeout=10)
        if r.status_code != 200:
            lost.append("model version %s/%s: %d" % (name, version, r.status_code))
    for job in pick(jobs, checked["jobs"]):
        r = s.get(base + "/api/2.0/tamga/jobs/" + job, timeout=10)
        if r.status_code != 200:
            lost.append("job %s: %d" % (job, r.status_code))
    checked.update(metrics=len(metrics), artifacts=len(artifacts), versions=len(versions), jobs=len(jobs))
    return lost


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tamga", default=os.path.join(os.path.dirname(__file__), "..", "build", "tamga"))
    ap.add_argument("--cycles", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    data_dir = tempfile.mkdtemp(prefix="tamga-soak-")
    ledger = Ledger()
    checked = {"metrics": 0, "artifacts": 0, "versions": 0, "jobs": 0}
    opens, rss, lost_all, open_failures = [], [], [], 0
    run_ids = []
    started = time.time()
    try:
        server = TamgaServer(args.tamga, data_dir=data_dir)
        for cycle in range(args.cycles):
            t0 = time.time()
            try:
                server.start(timeout=60)
            except RuntimeError as e:
                open_failures += 1
                print("cycle %d: store did not open: %s" % (cycle, str(e)[-400:]))
                break
            opens.append(time.time() - t0)
            base = server.url
            lost = verify(base, ledger, checked, rng)
            if lost:
                lost_all += lost
                print("cycle %d: LOST %s" % (cycle, lost[:5]))
            if not run_ids:
                requests.post(base + "/api/2.0/tamga/queues", json={"name": "soak"}, timeout=5)
                for _ in range(4):
                    r = requests.post(base + API + "/runs/create", json={"experiment_id": "0"}, timeout=5)
                    run_ids.append(r.json()["run"]["info"]["run_id"])
            stop = threading.Event()
            threads = [threading.Thread(target=writer, args=(k, base, run_ids, ledger, stop, random.Random(rng.random())))
                       for k in ("metrics", "metrics", "search", "artifacts", "registry", "jobs")]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(1.5, 4.0))
            rss.append(rss_kib(server.proc.pid))
            server.proc.send_signal(signal.SIGKILL)
            server.proc.wait()
            stop.set()
            for t in threads:
                t.join()
            if (cycle + 1) % 10 == 0:
                print("cycle %d: acked metrics=%d artifacts=%d versions=%d jobs=%d  rss=%d MiB  open=%.2fs" % (
                    cycle + 1, len(ledger.metrics), len(ledger.artifacts), len(ledger.versions), len(ledger.jobs),
                    rss[-1] // 1024, opens[-1]), flush=True)
        if open_failures == 0:
            server.start(timeout=60)
            lost_all += verify(server.url, ledger, {"metrics": 0, "artifacts": 0, "versions": 0, "jobs": 0}, rng)
            server.stop()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    opens.sort()
    print("== crash soak: %d cycles in %.0f s (%d cores)" % (len(opens), time.time() - started, os.cpu_count()))
    print("acknowledged writes: %d metric points, %d artifacts, %d model versions, %d jobs" % (
        len(ledger.metrics), len(ledger.artifacts), len(ledger.versions), len(ledger.jobs)))
    print("lost acknowledged writes: %d   store failed to open: %d" % (len(lost_all), open_failures))
    if opens:
        print("reopen time: p50 %.2f s  max %.2f s" % (opens[len(opens) // 2], opens[-1]))
    if rss:
        print("server RSS before kill: first %d MiB  max %d MiB  last %d MiB" % (rss[0] // 1024, max(rss) // 1024,
                                                                               rss[-1] // 1024))
    print("client-side errors (expected around each kill): %s" % dict(sorted(ledger.errors.items(), key=str)))
    return 1 if lost_all or open_failures else 0


if __name__ == "__main__":
    sys.exit(main())
