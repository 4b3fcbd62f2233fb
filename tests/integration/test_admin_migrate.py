"""`tamga admin migrate` (docs/operations.md) on a real PostgreSQL (run under tests/harness/postgres.py): an
installation written through the API on SQLite moves to PostgreSQL (interrupted and resumed), a server on
PostgreSQL answers exactly as the SQLite one did, new ids continue after the copied ones, the artifacts move
and read back byte for byte, and the way back to SQLite works too."""
import os
import subprocess
import tempfile

import requests

from tamga_harness import TamgaServer, pg_backend_args

API = "/api/2.0/mlflow"


def seed(url):
    exp = requests.post(url + API + "/experiments/create", json={"name": "moving"}).json()["experiment_id"]
    runs = []
    for i in range(6):
        run = requests.post(url + API + "/runs/create", json={"experiment_id": exp, "run_name": "r%d" % i,
                                                               "tags": [{"key": "team", "value": "a"}]}).json()
        rid = run["run"]["info"]["run_id"]
        metrics = [{"key": "loss", "value": 1.0 / (s + 1 + i), "timestamp": 1700000000000 + s, "step": s}
                   for s in range(50)]
        r = requests.post(url + API + "/runs/log-batch", json={
            "run_id": rid, "metrics": metrics, "params": [{"key": "lr", "value": str(0.1 * (i + 1))}]})
        assert r.status_code == 200, r.text
        runs.append(rid)
    path = "%s/%s/artifacts/model" % (exp, runs[0])
    for name, body in (("MLmodel", b"flavors: {}\n"), ("weights.bin", os.urandom(300000))):
        assert requests.put(url + "/api/2.0/mlflow-artifacts/artifacts/%s/%s" % (path, name), data=body).status_code == 200
    requests.post(url + API + "/registered-models/create", json={"name": "mover"})
    mv = requests.post(url + API + "/model-versions/create", json={
        "name": "mover", "source": "mlflow-artifacts:/" + path, "run_id": runs[0]})
    assert mv.status_code == 200, mv.text
    requests.post(url + API + "/registered-models/alias", json={"name": "mover", "alias": "prod", "version": "1"})
    return exp, runs


def snapshot(url, exp, runs):
    """What a client sees: every run (info, data), every history, the model by alias, the artifact bytes."""
    out = {}
    for rid in runs:
        run = requests.get(url + API + "/runs/get", params={"run_id": rid}).json()["run"]
        run["data"]["metrics"].sort(key=lambda m: m["key"])
        out[rid] = run
        out[rid + "/history"] = requests.get(url + API + "/metrics/get-history",
                                             params={"run_id": rid, "metric_key": "loss"}).json()
    search = requests.post(url + API + "/runs/search", json={"experiment_ids": [exp], "filter": "metrics.loss < 0.05",
                                                             "order_by": ["metrics.loss ASC"]}).json()
    out["search"] = [r["info"]["run_id"] for r in search.get("runs", [])]
    alias = requests.get(url + API + "/registered-models/alias", params={"name": "mover", "alias": "prod"}).json()
    out["alias"] = {k: alias["model_version"][k] for k in ("name", "version", "source", "run_id")}
    files = requests.get(url + API + "/artifacts/list", params={"run_id": runs[0], "path": "model"}).json()
    out["files"] = files
    out["weights"] = requests.get(url + "/api/2.0/mlflow-artifacts/artifacts/%s/%s/artifacts/model/weights.bin"
                                  % (exp, runs[0])).content
    return out


def migrate(tamga_bin, args, env=None):
    return subprocess.run([tamga_bin, "admin", "migrate"] + args, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, **(env or {})))


def test_sqlite_to_postgres_and_back(tamga_bin):
    pg_uri = os.environ["TAMGA_TEST_PG_URI"]
    pg_backend_args()  # an empty schema
    base = tempfile.mkdtemp(prefix="tamga-migrate-")
    src_dir, dst_arts, back_dir = (os.path.join(base, n) for n in ("sqlite", "pg-artifacts", "back"))
    os.makedirs(src_dir)
    sqlite_uri = "sqlite:///" + os.path.join(src_dir, "tamga.db")
    src = TamgaServer(tamga_bin, data_dir=src_dir, extra_args=["--backend-store-uri", sqlite_uri]).start()
    try:
        exp, runs = seed(src.url)
        before = snapshot(src.url, exp, runs)
        # While the server runs, the SQLite side is locked.
        busy = migrate(tamga_bin, ["--from", sqlite_uri, "--to", pg_uri])
        assert busy.returncode != 0 and "in use" in busy.stderr, busy.stderr
    finally:
        src.stop()

    # Interrupted after 3 batches of 5 rows, then resumed to the end.
    args = ["--from", sqlite_uri, "--to", pg_uri, "--artifacts-from", os.path.join(src_dir, "artifacts"),
            "--artifacts-to", dst_arts, "--batch-rows", "5"]
    first = migrate(tamga_bin, args, {"TAMGA_MIGRATE_STOP_AFTER_BATCHES": "3"})
    assert first.returncode == 1 and "resume" in first.stderr, first.stdout + first.stderr
    done = migrate(tamga_bin, args)
    assert done.returncode == 0, done.stdout + done.stderr
    # The run's two files and the registry's copy of them.
    assert "metric_chunks:" in done.stdout and "on both sides" in done.stdout and "4 artifacts copied" in done.stdout
    # A finished migration reruns as a verification (and copies nothing).
    rerun = migrate(tamga_bin, args)
    assert rerun.returncode == 0 and "4 already there" in rerun.stdout, rerun.stdout + rerun.stderr

    on_pg = TamgaServer(tamga_bin, data_dir=os.path.join(base, "pgdata"),
                        extra_args=["--backend-store-uri", pg_uri, "--artifacts-destination", dst_arts]).start()
    try:
        assert snapshot(on_pg.url, exp, runs) == before
        # Ids continue after the copied ones.
        new = requests.post(on_pg.url + API + "/experiments/create", json={"name": "after"}).json()["experiment_id"]
        assert int(new) > int(exp)
        requests.post(on_pg.url + API + "/model-versions/create", json={"name": "mover", "source": "s3://x/y"})
        assert requests.get(on_pg.url + API + "/model-versions/get",
                            params={"name": "mover", "version": "2"}).status_code == 200
    finally:
        on_pg.stop()

    # A destination a server has run on is refused, not merged into.
    same_dir = migrate(tamga_bin, ["--from", sqlite_uri, "--to", "sqlite:///" + os.path.join(src_dir, "other.db")])
    assert same_dir.returncode != 0 and "folder of its own" in same_dir.stderr, same_dir.stderr
    fresh_db = "sqlite:///" + os.path.join(base, "fresh", "tamga.db")
    TamgaServer(tamga_bin, data_dir=os.path.join(base, "fresh"), extra_args=["--backend-store-uri", fresh_db]).start().stop()
    refused = migrate(tamga_bin, ["--from", sqlite_uri, "--to", fresh_db])
    assert refused.returncode != 0 and "empty database" in refused.stderr, refused.stderr

    # And back: PostgreSQL to a new SQLite data dir.
    os.makedirs(back_dir)
    back_uri = "sqlite:///" + os.path.join(back_dir, "tamga.db")
    back = migrate(tamga_bin, ["--from", pg_uri, "--to", back_uri, "--artifacts-from", dst_arts,
                               "--artifacts-to", os.path.join(back_dir, "artifacts")])
    assert back.returncode == 0, back.stdout + back.stderr
    srv = TamgaServer(tamga_bin, data_dir=back_dir, extra_args=["--backend-store-uri", back_uri]).start()
    try:
        after = snapshot(srv.url, exp, runs)
        assert after == before
    finally:
        srv.stop()
