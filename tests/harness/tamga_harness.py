"""Starts a real `tamga server` on port 0 in a temp data dir, for Python-driven tests.

Used by the API transcript runner, the integration test and the kill -9 durability test.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time

import requests


def pg_backend_args():
    """Under tests/harness/postgres.py (TAMGA_TEST_PG_URI): an emptied PostgreSQL schema and the flag naming it,
    so a suite written for the embedded default runs on PostgreSQL as it is."""
    uri = os.environ.get("TAMGA_TEST_PG_URI")
    if not uri:
        return []
    subprocess.run(["psql", uri, "-v", "ON_ERROR_STOP=1", "-qc", "DROP SCHEMA public CASCADE; CREATE SCHEMA public"],
                   check=True, capture_output=True)
    return ["--backend-store-uri", uri]


class TamgaServer:
    def __init__(self, binary, data_dir=None, extra_args=None, env=None, ca_file=None):
        self.binary = binary
        # HTTPS: the CA (or self-signed certificate) to trust; the server runs with --tls-cert/--tls-key.
        self.ca_file = ca_file
        self.env = env  # extra environment variables (TAMGA_ADMIN_PASSWORD ...)
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="tamga-test-")
        self.extra_args = extra_args or []
        self.proc = None
        self.port = None

    def start(self, timeout=20):
        # Under tests/harness/postgres.py every server runs on PostgreSQL: a new data dir gets an emptied schema,
        # a restarted one (same data dir) finds its data again.
        if os.environ.get("TAMGA_TEST_PG_URI") and "--backend-store-uri" not in self.extra_args:
            marker = os.path.join(self.data_dir, ".pg-schema")
            args = ["--backend-store-uri", os.environ["TAMGA_TEST_PG_URI"]]
            if not os.path.exists(marker):
                args = pg_backend_args()
                open(marker, "w").close()
            self.extra_args = self.extra_args + args
        os.makedirs(self.data_dir, exist_ok=True)
        port_file = os.path.join(self.data_dir, "port")
        if os.path.exists(port_file):
            os.remove(port_file)
        self.log = open(os.path.join(self.data_dir, "server.log"), "ab")
        self.proc = subprocess.Popen(
            [self.binary, "server", "--port", "0", "--data-dir", self.data_dir, "--port-file", port_file]
            + self.extra_args,
            stdout=self.log, stderr=self.log, env=dict(os.environ, **(self.env or {})))
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("tamga server exited early: " + self.read_log())
            if os.path.exists(port_file):
                with open(port_file) as f:
                    text = f.read().strip()
                if text:
                    self.port = int(text)
                    break
            time.sleep(0.02)
        else:
            raise RuntimeError("tamga server did not start: " + self.read_log())
        # Wait until it answers.
        while time.time() < deadline:
            try:
                if requests.get(self.url + "/health", timeout=2, verify=self.ca_file or True).status_code == 200:
                    return self
            except requests.ConnectionError:
                time.sleep(0.02)
        raise RuntimeError("tamga server did not answer /health")

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.ca_file else "http", self.port)

    def read_log(self):
        try:
            with open(os.path.join(self.data_dir, "server.log"), "rb") as f:
                return f.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        return rc

    def kill9(self):
        return self.stop(sig=signal.SIGKILL)

    def cleanup(self):
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


def wait_for(fn, timeout=60, what="condition"):
    """Polls fn every 0.1 s until it returns something true (returned) or `timeout` seconds pass."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def upload_model(url, run_id, local_dir, artifact_path, experiment_id="0"):
    """Uploads a model folder as a run's artifacts through the artifact proxy (as mlflow.log_model would)."""
    for root, _, files in os.walk(local_dir):
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), local_dir)
            with open(os.path.join(root, f), "rb") as fh:
                r = requests.put("%s/api/2.0/mlflow-artifacts/artifacts/%s/%s/artifacts/%s/%s" % (
                    url, experiment_id, run_id, artifact_path, rel), data=fh.read())
                assert r.status_code == 200, r.text


def port_free(port):
    """Whether a TCP port can be bound on all addresses (containers run as written bind fixed ports)."""
    import socket
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
            return True
        except OSError:
            return False
