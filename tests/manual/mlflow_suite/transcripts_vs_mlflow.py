"""Replays Tamga's API transcripts (tests/api/*.txt) against MLflow's own tracking server.

  MLFLOW_SRC=/tmp/mlflow-src python3 transcripts_vs_mlflow.py tests/api/mlflow_compat.txt ...

Starts MLflow's Flask app from source (SQLite backend, --serve-artifacts mode: artifact root
mlflow-artifacts:/, as Tamga serves them) on a free port in a temp dir, runs each file's cases in order
and prints the ones whose answer differs. Cases about Tamga-only features (storage_location, the
/api/2.0/tamga resolver) are expected to differ; everything else should match. A cross-check of our
expectations, not a test: it needs MLflow's source and is not part of `make test`.
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "api"))

from run_transcripts import parse, run_case  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(files):
    src = os.environ.get("MLFLOW_SRC", "/tmp/mlflow-src")
    failures = 0
    for path in files:
        with tempfile.TemporaryDirectory() as tmp:
            port = free_port()
            env = dict(os.environ,
                       PYTHONPATH=HERE + ":" + src,
                       _MLFLOW_SERVER_FILE_STORE="sqlite:///" + os.path.join(tmp, "mlflow.db"),
                       _MLFLOW_SERVER_ARTIFACT_ROOT="mlflow-artifacts:/",
                       _MLFLOW_SERVER_ARTIFACT_DESTINATION=os.path.join(tmp, "artifacts"),
                       _MLFLOW_SERVER_SERVE_ARTIFACTS="true")
            log = open(os.path.join(tmp, "server.log"), "wb")
            proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "mlflow.server:app", "run",
                                     "--host", "127.0.0.1", "--port", str(port)],
                                    env=env, cwd=tmp, stdout=log, stderr=log)
            base = "http://127.0.0.1:%d" % port
            try:
                for _ in range(600):
                    try:
                        if requests.get(base + "/health", timeout=1).status_code == 200:
                            break
                    except requests.ConnectionError:
                        time.sleep(0.1)
                vars_ = {}
                cases = parse(path)
                for case in cases:
                    try:
                        run_case(base, case, vars_)
                    except Exception as e:  # noqa: BLE001 - report every difference
                        failures += 1
                        print("DIFF %s :: %s\n    %s" % (os.path.basename(path), case["title"], str(e)[:400]))
                print("%s: %d cases against MLflow" % (os.path.basename(path), len(cases)))
            finally:
                proc.terminate()
                proc.wait()
    return failures


if __name__ == "__main__":
    sys.exit(1 if main(sys.argv[1:]) else 0)
