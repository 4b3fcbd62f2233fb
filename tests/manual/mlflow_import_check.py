"""Manual check of `tamga admin import-mlflow` on a database written by the real MLflow 2.12 server.

1. Starts MLflow's own server from its source (proxy mode: SQLite or PostgreSQL database, a local artifact
   destination) and drives it with the real `mlflow` client: experiments (one deleted, with tags), runs with
   params, tags, metrics over steps (a NaN and an infinity among them), a dataset input, artifacts and a
   model folder, registered models with versions, tags, stages, an alias, a deleted version and a deleted run.
2. Reads everything back through MLflow's REST API, stops it, runs `tamga admin import-mlflow`, starts
   `tamga server` on the result and reads the same things back through Tamga; prints every difference.
3. Uses the real client against Tamga on the imported data: runs:/ and models:/ URIs download the same files.

Not part of `make test` (it needs MLflow's source). Set-up as in tests/manual/mlflow_suite/README.md, then:
    MLFLOW_SRC=/tmp/mlflow-src /usr/bin/python3 tests/manual/mlflow_import_check.py build/tamga [postgresql://...]
With a PostgreSQL URI (an empty database for MLflow; python3-psycopg2) MLflow writes there; Tamga imports
into a SQLite data dir either way.
"""
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("MLFLOW_SRC", "/tmp/mlflow-src")
sys.path.insert(0, SRC)
sys.path.insert(0, os.path.join(HERE, "mlflow_suite"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_health(base, proc, what):
    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError(what + " exited")
        try:
            if requests.get(base + "/health", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise RuntimeError(what + " did not start")


def drive_mlflow(uri, workdir):
    import mlflow
    import pandas as pd
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    exp = mlflow.create_experiment("fraud", tags={"team": "risk"})
    gone = mlflow.create_experiment("scratch")
    ids = {}
    with mlflow.start_run(experiment_id=exp, run_name="baseline") as run:
        ids["baseline"] = run.info.run_id
        mlflow.log_params({"lr": "0.01", "depth": "6"})
        mlflow.set_tags({"stage": "dev", "owner": "ana"})
        for step in range(200):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metric("weird", float("nan"), step=0)
        mlflow.log_metric("weird", float("inf"), step=1)
        mlflow.log_metric("weird", -float("inf"), step=2)
        df = pd.DataFrame({"amount": [1.0, 2.5], "label": [0, 1]})
        mlflow.log_input(mlflow.data.from_pandas(df, source="s3://data/fraud.parquet", name="fraud-train"),
                         context="training")
        model_dir = os.path.join(workdir, "model")
        os.makedirs(model_dir, exist_ok=True)
        with open(os.path.join(model_dir, "MLmodel"), "w") as f:
            f.write("flavors:\n  python_function:\n    loader_module: fake\n")
        with open(os.path.join(model_dir, "weights.bin"), "wb") as f:
            f.write(os.urandom(200000))
        mlflow.log_artifacts(model_dir, "model")
        mlflow.log_text("hello", "notes/readme.txt")
    with mlflow.start_run(experiment_id=exp, run_name="second") as run:
        ids["second"] = run.info.run_id
        mlflow.log_metric("loss", 0.5)
        mlflow.log_param("lr", "0.1")
    with mlflow.start_run(experiment_id=exp, run_name="failed") as run:
        ids["failed"] = run.info.run_id
    client.set_terminated(ids["failed"], status="FAILED")
    client.delete_run(ids["second"])
    with mlflow.start_run(experiment_id=gone) as run:
        ids["scratch"] = run.info.run_id
    client.delete_experiment(gone)

    client.create_registered_model("fraud-model", tags={"domain": "payments"}, description="the model")
    for _ in range(3):
        client.create_model_version("fraud-model", "runs:/%s/model" % ids["baseline"], run_id=ids["baseline"])
    client.set_model_version_tag("fraud-model", "1", "validated", "yes")
    client.transition_model_version_stage("fraud-model", "2", "Staging")
    client.set_registered_model_alias("fraud-model", "prod", "2")
    client.delete_model_version("fraud-model", "3")
    client.create_registered_model("empty-model")
    return ids


def snapshot(base, ids):
    """What a client reads: runs, histories, searches, the registry, artifacts."""
    api = base + "/api/2.0/mlflow"
    out = {}

    def get(route, **params):
        r = requests.get(api + route, params=params, timeout=30)
        return r.status_code, r.json()

    def post(route, body):
        r = requests.post(api + route, json=body, timeout=30)
        return r.status_code, r.json()
    out["experiments"] = post("/experiments/search", {"max_results": 100, "view_type": "ALL"})
    for name, rid in ids.items():
        out["run " + name] = get("/runs/get", run_id=rid)
        for key in ("loss", "weird"):
            out["history %s %s" % (name, key)] = get("/metrics/get-history", run_id=rid, metric_key=key)
        out["artifacts " + name] = get("/artifacts/list", run_id=rid)
        out["artifacts model " + name] = get("/artifacts/list", run_id=rid, path="model")
    out["search"] = post("/runs/search", {"experiment_ids": ["1"], "filter": "params.lr = '0.01'",
                                          "run_view_type": "ALL"})
    out["models"] = get("/registered-models/search", max_results=100)
    for v in ("1", "2", "3"):
        out["version " + v] = get("/model-versions/get", name="fraud-model", version=v)
    out["alias"] = get("/registered-models/alias", name="fraud-model", alias="prod")
    out["weights"] = len(requests.get(base + "/api/2.0/mlflow-artifacts/artifacts/1/%s/artifacts/model/weights.bin"
                                      % ids["baseline"], timeout=30).content)
    return out


# Not compared: update times, and fields MLflow 2.12's server leaves out of its answers (Tamga adds
# storage_location, as MLflow 3 does, and aliases on latest_versions).
VOLATILE = {"last_update_time", "last_updated_timestamp", "storage_location"}


def sort_key(v):
    if isinstance(v, dict) and "step" in v:  # metric points: MLflow's history has no set order
        return (0, "%s %020d %020d" % (v.get("key"), v["step"] + 2**62, v.get("timestamp", 0)))
    if isinstance(v, dict):
        for k in ("version", "run_uuid", "key", "name", "path", "experiment_id"):
            if k in v:
                return (0, str(v[k]))
    return (1, json.dumps(v, sort_keys=True))


def normalise(x):
    if isinstance(x, dict):
        return {k: normalise(v) for k, v in sorted(x.items()) if k not in VOLATILE}
    if isinstance(x, tuple):
        return [normalise(v) for v in x]
    if isinstance(x, list):
        items = [normalise(v) for v in x]
        return sorted(items, key=sort_key)
    if isinstance(x, float) and math.isnan(x):
        return "NaN"
    return x


def diff(a, b, path=""):
    out = []
    if path.endswith(".aliases") and ".latest_versions[" in path:
        return out  # Tamga lists aliases on latest_versions too (MLflow 2.12 does not): not the import's doing
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k == "aliases" and ".latest_versions[" in path:
                continue  # Tamga lists aliases on latest_versions too (MLflow 2.12 does not): not the import's
            if k not in a:
                out.append("%s.%s: only in Tamga: %s" % (path, k, json.dumps(b[k])[:200]))
            elif k not in b:
                out.append("%s.%s: only in MLflow: %s" % (path, k, json.dumps(a[k])[:200]))
            else:
                out += diff(a[k], b[k], path + "." + k)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff(x, y, "%s[%d]" % (path, i))
    elif a != b:
        out.append("%s: MLflow %s / Tamga %s" % (path, json.dumps(a)[:200], json.dumps(b)[:200]))
    return out


def main():
    tamga = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/tamga")
    pg = sys.argv[2] if len(sys.argv) > 2 else ""
    tmp = tempfile.mkdtemp(prefix="mlflow-import-")
    db = pg or "sqlite:///" + os.path.join(tmp, "mlflow.db")
    dest = os.path.join(tmp, "mlartifacts")
    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.path.join(HERE, "mlflow_suite") + ":" + SRC,
               _MLFLOW_SERVER_FILE_STORE=db, _MLFLOW_SERVER_ARTIFACT_ROOT="mlflow-artifacts:/",
               _MLFLOW_SERVER_ARTIFACT_DESTINATION=dest, _MLFLOW_SERVER_SERVE_ARTIFACTS="true")
    log = open(os.path.join(tmp, "mlflow.log"), "wb")
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "mlflow.server:app", "run", "--host",
                             "127.0.0.1", "--port", str(port)], env=env, cwd=tmp, stdout=log, stderr=log)
    base = "http://127.0.0.1:%d" % port
    try:
        wait_health(base, proc, "MLflow")
        ids = drive_mlflow(base, tmp)
        before = snapshot(base, ids)
    finally:
        proc.terminate()
        proc.wait()
    print("MLflow 2.12 wrote", db, "and", dest)

    data = os.path.join(tmp, "tamga")
    r = subprocess.run([tamga, "admin", "import-mlflow", "--backend-store-uri", db, "--artifacts", dest,
                        "--data-dir", data], capture_output=True, text=True)
    print(r.stdout + r.stderr)
    if r.returncode != 0:
        sys.exit("import failed")
    port = free_port()
    log = open(os.path.join(tmp, "tamga.log"), "wb")
    proc = subprocess.Popen([tamga, "server", "--port", str(port), "--data-dir", data], stdout=log, stderr=log)
    base = "http://127.0.0.1:%d" % port
    try:
        wait_health(base, proc, "tamga")
        after = snapshot(base, ids)
        problems = diff(normalise(before), normalise(after))
        # The real client on the imported data: runs:/ and models:/ URIs.
        import mlflow
        mlflow.set_tracking_uri(base)
        got = mlflow.artifacts.download_artifacts("models:/fraud-model@prod", dst_path=os.path.join(tmp, "dl1"))
        assert os.path.getsize(os.path.join(got, "weights.bin")) == 200000, got
        got = mlflow.artifacts.download_artifacts("runs:/%s/model" % ids["baseline"],
                                                  dst_path=os.path.join(tmp, "dl2"))
        assert os.path.exists(os.path.join(got, "MLmodel")), got
        got = mlflow.artifacts.download_artifacts("models:/fraud-model/1", dst_path=os.path.join(tmp, "dl3"))
        assert os.path.exists(os.path.join(got, "MLmodel")), got
        run = mlflow.get_run(ids["baseline"])
        assert run.data.params == {"lr": "0.01", "depth": "6"}, run.data.params
        print("real client on the imported data: models:/ (alias and version) and runs:/ downloads, get_run: ok")
    finally:
        proc.terminate()
        proc.wait()
    if problems:
        print("%d differences between MLflow and Tamga on the same data:" % len(problems))
        for p in problems:
            print("  " + p)
        sys.exit(1)
    print("no differences in %d compared answers" % len(before))


if __name__ == "__main__":
    main()
