"""kill -9 while clients stream log-batch: every acknowledged batch is present after restart, and every
batch is all-or-nothing (no half-written batch is visible)."""
import os
import sys
import threading
import time

import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from tamga_harness import TamgaServer  # noqa: E402

API = "/api/2.0/mlflow"
KEYS = ("a", "b", "c")
POINTS_PER_KEY = 50


def batch_body(rid, writer, seq):
    step_base = (writer * 1_000_000 + seq) * POINTS_PER_KEY
    metrics = [{"key": k, "value": float(seq), "timestamp": seq, "step": step_base + i}
               for k in KEYS for i in range(POINTS_PER_KEY)]
    return {"run_id": rid, "metrics": metrics, "params": [{"key": "w%d_s%d" % (writer, seq), "value": "1"}]}


def test_acknowledged_batches_survive_kill9(tamga_bin):
    server = TamgaServer(tamga_bin).start()
    try:
        rid = requests.post(server.url + API + "/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]
        acked = {w: [] for w in range(4)}
        stop = threading.Event()

        def writer(w):
            s = requests.Session()
            seq = 0
            while not stop.is_set():
                try:
                    r = s.post(server.url + API + "/runs/log-batch", json=batch_body(rid, w, seq), timeout=10)
                except requests.RequestException:
                    return  # server died mid-request: this batch is unacknowledged
                if r.status_code == 200:
                    acked[w].append(seq)
                seq += 1

        threads = [threading.Thread(target=writer, args=(w,)) for w in acked]
        for t in threads:
            t.start()
        time.sleep(2.0)
        server.kill9()
        stop.set()
        for t in threads:
            t.join()
        total = sum(len(v) for v in acked.values())
        assert total > 20, "too few batches acknowledged before the kill: %d" % total

        server.start()
        history = {}
        for k in KEYS:
            r = requests.get(server.url + API + "/metrics/get-history", params={"run_id": rid, "metric_key": k})
            assert r.status_code == 200
            history[k] = {m["step"] for m in r.json().get("metrics", [])}
        params = {p["key"] for p in requests.get(server.url + API + "/runs/get",
                                                 params={"run_id": rid}).json()["run"]["data"].get("params", [])}
        for w, seqs in acked.items():
            for seq in seqs:
                base = (w * 1_000_000 + seq) * POINTS_PER_KEY
                for k in KEYS:
                    missing = [base + i for i in range(POINTS_PER_KEY) if base + i not in history[k]]
                    assert not missing, "acknowledged batch w%d s%d lost points of %s" % (w, seq, k)
                assert "w%d_s%d" % (w, seq) in params
        # All-or-nothing: any batch that is visible at all is complete, params included.
        batches = {}
        for k in KEYS:
            for step in history[k]:
                batches.setdefault(step // POINTS_PER_KEY, set()).add((k, step % POINTS_PER_KEY))
        for b, pts in batches.items():
            assert len(pts) == len(KEYS) * POINTS_PER_KEY, "half-written batch %d visible" % b
            w, seq = divmod(b, 1_000_000)
            assert "w%d_s%d" % (w, seq) in params
    finally:
        server.cleanup()
