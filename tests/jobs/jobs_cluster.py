"""The job-queue test cluster: a real `tamga server` and real agents on this machine (shared by the
end-to-end and CLI suites through the `cluster` fixture in conftest.py)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import requests

GIB = 1 << 30
TERMINAL = {"succeeded", "failed", "aborted", "lost"}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def parse_metrics(text):
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


class Cluster:
    def __init__(self, binary, fake_nvml):
        self.binary = binary
        self.fake_nvml = fake_nvml
        self.dir = tempfile.mkdtemp(prefix="tamga-jobs-")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.api = self.url + "/api/2.0/tamga"
        self.server = None
        self.agents = {}
        self.nvml_config = os.path.join(self.dir, "nvml.json")
        with open(self.nvml_config, "w") as f:
            json.dump({"driver": "550.54.15", "cuda": 12040, "gpus": [
                {"uuid": "GPU-11111111-aaaa", "name": "Fake A100", "total": 40 * GIB, "used": 0, "util": 0,
                 "temp": 40, "power_mw": 60000, "ecc_uncorrected": 0},
                {"uuid": "GPU-22222222-bbbb", "name": "Fake A100", "total": 40 * GIB, "used": 0, "util": 0,
                 "temp": 41, "power_mw": 61000, "ecc_uncorrected": 0}]}, f)

    def start_server(self, extra=()):
        log = open(os.path.join(self.dir, "server.log"), "ab")
        self.server = subprocess.Popen([self.binary, "server", "--port", str(self.port), "--data-dir",
                                        os.path.join(self.dir, "data"), "--agent-timeout-ms", "3000",
                                        "--job-log-limit", "1MiB", *extra],
                                       stdout=log, stderr=log)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if requests.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise AssertionError("server did not start: " + self.log("server"))

    def start_agent(self, name, gpus):
        env = dict(os.environ, TAMGA_NVML_LIBRARY=self.fake_nvml, FAKE_NVML_CONFIG=self.nvml_config)
        log = open(os.path.join(self.dir, name + ".log"), "ab")
        self.agents[name] = subprocess.Popen(
            [self.binary, "agent", "--server", self.url, "--queue", "gpu", "--queue", "cpu", "--queue", "shared",
             "--gpus", gpus, "--name", name, "--cpus", "3", "--work-dir", os.path.join(self.dir, name),
             "--heartbeat-ms", "300", "--grace-ms", "2000", "--metrics-port", "0",
             "--metrics-port-file", os.path.join(self.dir, name + ".metrics-port")], stdout=log, stderr=log, env=env)

    def metrics(self, name):
        """The agent's /metrics as {"name{labels}": value}."""
        path = os.path.join(self.dir, name + ".metrics-port")
        deadline = time.time() + 20
        while not os.path.exists(path) and time.time() < deadline:
            time.sleep(0.05)
        with open(path) as f:
            port = int(f.read())
        r = requests.get("http://127.0.0.1:%d/metrics" % port, timeout=5)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain"), r.text
        return parse_metrics(r.text)

    def log(self, name):
        with open(os.path.join(self.dir, name + ".log"), "rb") as f:
            return f.read().decode(errors="replace")[-4000:]

    def submit(self, spec):
        r = requests.post(self.api + "/jobs", json=spec)
        assert r.status_code == 200, r.text
        return r.json()["job"]["id"]

    def job(self, job_id):
        r = requests.get(self.api + "/jobs/" + job_id)
        assert r.status_code == 200, r.text
        return r.json()["job"]

    def logs(self, job_id):
        out, after = "", 0
        while True:
            r = requests.get(self.api + "/jobs/%s/logs?after=%d" % (job_id, after)).json()
            if not r["chunks"]:
                return out
            out += "".join(c["data"] for c in r["chunks"])
            after = r["next_after"]

    def wait(self, ids, timeout=120):
        deadline = time.time() + timeout
        pending = set(ids)
        jobs = {}
        while pending and time.time() < deadline:
            for i in list(pending):
                j = self.job(i)
                if j["state"] in TERMINAL:
                    jobs[i] = j
                    pending.discard(i)
            time.sleep(0.2)
        assert not pending, ("jobs did not finish", [self.job(i) for i in list(pending)[:3]],
                             self.log("cpu-box"), self.log("gpu-box"))
        return jobs

    def wait_state(self, job_id, states, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            j = self.job(job_id)
            if j["state"] in states:
                return j
            time.sleep(0.1)
        raise AssertionError("job %s never reached %s: %s\nagents: %s\ngpu-box: %s\nserver: %s" % (
            job_id, states, self.job(job_id), requests.get(self.api + "/agents").text[:3000], self.log("gpu-box")[-1500:],
            self.log("server")[-1500:]))

    def stop(self):
        for p in list(self.agents.values()) + [self.server]:
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in list(self.agents.values()) + [self.server]:
            if p:
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
