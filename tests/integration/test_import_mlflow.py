"""`tamga admin import-mlflow` (docs/operations.md): an MLflow 2.x tracking database, built here with the tables
and columns of MLflow's SQLAlchemy schema, and its artifact root (direct mode: absolute paths), imported into a
Tamga store; a real `tamga server` on the result answers with the same ids, so runs:/ and models:/ URIs keep
working. Resuming, refusals and verification too. Under tests/harness/postgres.py (TAMGA_TEST_PG_URI) both the
MLflow database and the Tamga store are on PostgreSQL as well.

(The same import was run against databases written by the real MLflow 2.12 server, on SQLite and PostgreSQL:
tests/manual/mlflow_import_check.py.)"""
import os
import sqlite3
import subprocess
import sys

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from tamga_harness import TamgaServer, pg_backend_args  # noqa: E402

API = "/api/2.0/mlflow"
PG = os.environ.get("TAMGA_TEST_PG_URI")

# MLflow 2.12's tables (the columns the import reads), as its migrations leave them.
SCHEMA = """
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);
CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY, name VARCHAR(256) NOT NULL UNIQUE,
  artifact_location VARCHAR(256), lifecycle_stage VARCHAR(32), creation_time BIGINT, last_update_time BIGINT);
CREATE TABLE experiment_tags (key VARCHAR(250) NOT NULL, value VARCHAR(5000), experiment_id INTEGER NOT NULL,
  PRIMARY KEY (key, experiment_id));
CREATE TABLE runs (run_uuid VARCHAR(32) PRIMARY KEY, name VARCHAR(250), source_type VARCHAR(20),
  source_name VARCHAR(500), entry_point_name VARCHAR(50), user_id VARCHAR(256), status VARCHAR(9),
  start_time BIGINT, end_time BIGINT, deleted_time BIGINT, source_version VARCHAR(50), lifecycle_stage VARCHAR(20),
  artifact_uri VARCHAR(200), experiment_id INTEGER);
CREATE TABLE tags (key VARCHAR(250) NOT NULL, value VARCHAR(5000), run_uuid VARCHAR(32) NOT NULL,
  PRIMARY KEY (key, run_uuid));
CREATE TABLE params (key VARCHAR(250) NOT NULL, value VARCHAR(8000) NOT NULL, run_uuid VARCHAR(32) NOT NULL,
  PRIMARY KEY (key, run_uuid));
CREATE TABLE metrics (key VARCHAR(250) NOT NULL, value FLOAT NOT NULL, timestamp BIGINT NOT NULL,
  run_uuid VARCHAR(32) NOT NULL, step BIGINT NOT NULL DEFAULT 0, is_nan BOOLEAN NOT NULL DEFAULT false,
  PRIMARY KEY (key, timestamp, step, run_uuid, value, is_nan));
CREATE TABLE latest_metrics (key VARCHAR(250) NOT NULL, value FLOAT NOT NULL, timestamp BIGINT, step BIGINT NOT NULL,
  is_nan BOOLEAN NOT NULL, run_uuid VARCHAR(32) NOT NULL, PRIMARY KEY (key, run_uuid));
CREATE TABLE datasets (dataset_uuid VARCHAR(36) NOT NULL, experiment_id INTEGER NOT NULL, name VARCHAR(500) NOT NULL,
  digest VARCHAR(36) NOT NULL, dataset_source_type VARCHAR(36) NOT NULL, dataset_source TEXT NOT NULL,
  dataset_schema TEXT, dataset_profile TEXT, PRIMARY KEY (experiment_id, name, digest));
CREATE TABLE inputs (input_uuid VARCHAR(36) NOT NULL, source_type VARCHAR(36) NOT NULL, source_id VARCHAR(36) NOT NULL,
  destination_type VARCHAR(36) NOT NULL, destination_id VARCHAR(36) NOT NULL,
  PRIMARY KEY (source_type, source_id, destination_type, destination_id));
CREATE TABLE input_tags (input_uuid VARCHAR(36) NOT NULL, name VARCHAR(255) NOT NULL, value VARCHAR(500) NOT NULL,
  PRIMARY KEY (input_uuid, name));
CREATE TABLE registered_models (name VARCHAR(256) PRIMARY KEY, creation_time BIGINT, last_updated_time BIGINT,
  description VARCHAR(5000));
CREATE TABLE registered_model_tags (key VARCHAR(250) NOT NULL, value VARCHAR(5000), name VARCHAR(256) NOT NULL,
  PRIMARY KEY (key, name));
CREATE TABLE model_versions (name VARCHAR(256) NOT NULL, version INTEGER NOT NULL, creation_time BIGINT,
  last_updated_time BIGINT, description VARCHAR(5000), user_id VARCHAR(256), current_stage VARCHAR(20),
  source VARCHAR(500), run_id VARCHAR(32), status VARCHAR(20), status_message VARCHAR(500), run_link VARCHAR(500),
  storage_location VARCHAR(500), PRIMARY KEY (name, version));
CREATE TABLE model_version_tags (key VARCHAR(250) NOT NULL, value VARCHAR(5000), name VARCHAR(256) NOT NULL,
  version INTEGER NOT NULL, PRIMARY KEY (key, name, version));
CREATE TABLE registered_model_aliases (alias VARCHAR(256) NOT NULL, version INTEGER NOT NULL,
  name VARCHAR(256) NOT NULL, PRIMARY KEY (name, alias));
"""

R1 = "a" * 32
R2 = "b" * 32
R3 = "c" * 32


def rows(root):
    """MLflow's rows for a small history in direct mode (artifact URIs are absolute paths below `root`)."""
    t = 1700000000000
    out = [
        ("INSERT INTO alembic_version VALUES (?)", [("acf3f17fdcc7",)]),
        ("INSERT INTO experiments VALUES (?, ?, ?, ?, ?, ?)", [
            (0, "Default", root + "/0", "active", t, t),
            (1, "fraud", root + "/1", "active", t, t + 5),
            (7, "old", root + "/7", "deleted", t, t + 9)]),
        ("INSERT INTO experiment_tags VALUES (?, ?, ?)", [("team", "risk", 1)]),
        ("INSERT INTO runs VALUES (?, ?, 'LOCAL', '', '', ?, ?, ?, ?, NULL, '', ?, ?, ?)", [
            (R1, "baseline", "ana", "FINISHED", t + 10, t + 20, "active", root + "/1/%s/artifacts" % R1, 1),
            (R2, "crashed", "bob", "FAILED", t + 30, t + 31, "deleted", root + "/1/%s/artifacts" % R2, 1),
            (R3, "elsewhere", "ana", "RUNNING", t + 40, None, "active", "s3://other-bucket/x/%s" % R3, 7)]),
        ("INSERT INTO tags VALUES (?, ?, ?)", [
            ("mlflow.runName", "baseline", R1), ("mlflow.user", "ana", R1), ("stage", "dev", R1),
            ("mlflow.runName", "crashed", R2)]),
        ("INSERT INTO params VALUES (?, ?, ?)", [("lr", "0.01", R1), ("depth", "6", R1), ("lr", "0.1", R2)]),
        ("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?)",
         [("loss", 1.0 / (s + 1), t + s, R1, s, False) for s in range(2500)] +
         [("weird", 0.0, t, R1, 0, True), ("weird", 1.7976931348623157e308, t + 1, R1, 1, False),
          ("loss", 0.5, t, R2, 0, False)]),
        ("INSERT INTO datasets VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
            ("d1", 1, "fraud-train", "abc123", "s3", '{"uri": "s3://data/fraud.parquet"}', '{"mlflow_colspec": []}',
             '{"num_rows": 2}')]),
        ("INSERT INTO inputs VALUES (?, ?, ?, ?, ?)", [("i1", "DATASET", "d1", "RUN", R1)]),
        ("INSERT INTO input_tags VALUES (?, ?, ?)", [("i1", "mlflow.data.context", "training")]),
        ("INSERT INTO registered_models VALUES (?, ?, ?, ?)", [("fraud-model", t, t + 50, "the model"),
                                                                ("empty", t, t, "")]),
        ("INSERT INTO registered_model_tags VALUES (?, ?, ?)", [("domain", "payments", "fraud-model")]),
        ("INSERT INTO model_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            ("fraud-model", 1, t + 60, t + 60, "", "ana", "None", "runs:/%s/model" % R1, R1, "READY", "", "",
             "runs:/%s/model" % R1),
            ("fraud-model", 2, t + 61, t + 70, "", "ana", "Production", root + "/1/%s/artifacts/model" % R1, R1,
             "READY", "", "", root + "/1/%s/artifacts/model" % R1),
            ("fraud-model", 3, t + 62, t + 80, None, None, "Deleted_Internal", "REDACTED-SOURCE-PATH",
             "REDACTED-RUN-ID", "READY", None, None, "REDACTED-SOURCE-PATH")]),
        ("INSERT INTO model_version_tags VALUES (?, ?, ?, ?)", [("validated", "yes", "fraud-model", 1)]),
        ("INSERT INTO registered_model_aliases VALUES (?, ?, ?)", [("prod", 2, "fraud-model")]),
    ]
    return out


def make_mlflow_root(tmp_path):
    root = str(tmp_path / "mlruns")
    model = os.path.join(root, "1", R1, "artifacts", "model")
    os.makedirs(model)
    with open(os.path.join(model, "MLmodel"), "w") as f:
        f.write("flavors: {}\n")
    with open(os.path.join(model, "weights.bin"), "wb") as f:
        f.write(b"\x01" * 70000)
    return root


def make_sqlite(tmp_path, root):
    path = str(tmp_path / "mlflow.db")
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    for sql, values in rows(root):
        db.executemany(sql, values)
    db.commit()
    db.close()
    return "sqlite:///" + path


def make_postgres(root):
    """MLflow's database in its own PostgreSQL database beside Tamga's."""
    import re
    admin = PG
    subprocess.run(["psql", admin, "-qc", "DROP DATABASE IF EXISTS mlflow_src"], check=True, capture_output=True)
    subprocess.run(["psql", admin, "-qc", "CREATE DATABASE mlflow_src"], check=True, capture_output=True)
    uri = re.sub(r"/[^/?]+\?", "/mlflow_src?", PG, count=1)
    script = SCHEMA.replace("FLOAT", "DOUBLE PRECISION")
    for sql, values in rows(root):
        for v in values:
            lits = []
            for x in v:
                if x is None:
                    lits.append("NULL")
                elif isinstance(x, bool):
                    lits.append("true" if x else "false")
                elif isinstance(x, (int, float)):
                    lits.append(repr(x))
                else:
                    lits.append("'" + x.replace("'", "''") + "'")
            stmt = sql
            for lit in lits:
                stmt = stmt.replace("?", lit, 1)
            script += stmt + ";\n"
    subprocess.run(["psql", uri, "-v", "ON_ERROR_STOP=1", "-q"], input=script, text=True, check=True,
                   capture_output=True)
    return uri


def run_import(tamga_bin, *args):
    return subprocess.run([tamga_bin, "admin", "import-mlflow"] + list(args), capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def imported(tamga_bin, tmp_path):
    root = make_mlflow_root(tmp_path)
    source = make_postgres(root) if PG else make_sqlite(tmp_path, root)
    data = str(tmp_path / "tamga")
    args = ["--backend-store-uri", source, "--artifacts", root, "--data-dir", data]
    server_args = []
    if PG:
        to = pg_backend_args()[1]  # an emptied schema
        args += ["--to", to]
        server_args = ["--backend-store-uri", to]
    r = run_import(tamga_bin, *args)
    assert r.returncode == 0, r.stdout + r.stderr
    server = TamgaServer(tamga_bin, data_dir=data, extra_args=server_args).start()
    yield server, r.stdout, args
    server.cleanup()


def get(server, route, **params):
    r = requests.get(server.url + API + route, params=params, timeout=30)
    assert r.status_code == 200, (route, r.text)
    return r.json()


def test_history_arrives_with_its_ids_and_uris(imported, tamga_bin):
    server, out, _ = imported
    assert "imported and verified: 3 experiments, 3 runs" in out and "2503 metric points" in out, out
    assert "kept as it is: s3://other-bucket/x/" in out  # outside the artifact root: named, left alone
    exps = requests.post(server.url + API + "/experiments/search", json={"max_results": 10, "view_type": "ALL"},
                         timeout=30).json()["experiments"]
    by_id = {e["experiment_id"]: e for e in exps}
    assert by_id["1"]["name"] == "fraud" and by_id["1"]["artifact_location"] == "mlflow-artifacts:/1"
    assert {t["key"]: t["value"] for t in by_id["1"]["tags"]} == {"team": "risk"}
    assert by_id["7"]["lifecycle_stage"] == "deleted"

    run = get(server, "/runs/get", run_id=R1)["run"]
    assert run["info"]["artifact_uri"] == "mlflow-artifacts:/1/%s/artifacts" % R1
    assert run["info"]["status"] == "FINISHED" and run["info"]["user_id"] == "ana"
    assert {p["key"]: p["value"] for p in run["data"]["params"]} == {"lr": "0.01", "depth": "6"}
    assert {t["key"]: t["value"] for t in run["data"]["tags"]}["stage"] == "dev"
    ds = run["inputs"]["dataset_inputs"][0]
    assert ds["dataset"]["name"] == "fraud-train" and ds["tags"] == [{"key": "mlflow.data.context",
                                                                     "value": "training"}]
    hist = get(server, "/metrics/get-history", run_id=R1, metric_key="loss", max_results=10000)["metrics"]
    assert [m["step"] for m in hist] == list(range(2500))
    weird = get(server, "/metrics/get-history", run_id=R1, metric_key="weird")["metrics"]
    values = [m["value"] for m in sorted(weird, key=lambda m: m["step"])]
    assert values[0] == "NaN" and values[1] == 1.7976931348623157e308, values  # proto3 JSON: NaN as a string
    assert get(server, "/runs/get", run_id=R2)["run"]["info"]["lifecycle_stage"] == "deleted"
    assert get(server, "/runs/get", run_id=R3)["run"]["info"]["artifact_uri"] == "s3://other-bucket/x/" + R3

    # runs:/ and models:/ resolve to the same files through Tamga's proxy.
    files = get(server, "/artifacts/list", run_id=R1, path="model")["files"]
    assert sorted(f["path"] for f in files) == ["model/MLmodel", "model/weights.bin"]
    blob = requests.get(server.url + "/api/2.0/mlflow-artifacts/artifacts/1/%s/artifacts/model/weights.bin" % R1,
                        timeout=30).content
    assert blob == b"\x01" * 70000
    alias = get(server, "/registered-models/alias", name="fraud-model", alias="prod")["model_version"]
    assert alias["version"] == "2" and alias["current_stage"] == "Production"
    assert alias["source"] == "mlflow-artifacts:/1/%s/artifacts/model" % R1
    uri = get(server, "/model-versions/get-download-uri", name="fraud-model", version="1")["artifact_uri"]
    assert uri.endswith("1/%s/artifacts/model" % R1), uri
    v1 = get(server, "/model-versions/get", name="fraud-model", version="1")["model_version"]
    assert v1["source"] == "runs:/%s/model" % R1 and v1["tags"] == [{"key": "validated", "value": "yes"}]
    r = requests.get(server.url + API + "/model-versions/get", params={"name": "fraud-model", "version": "3"},
                     timeout=30)
    assert r.status_code == 404  # MLflow had deleted it; its number stays used
    model = get(server, "/registered-models/get", name="fraud-model")["registered_model"]
    assert model["description"] == "the model" and model["tags"] == [{"key": "domain", "value": "payments"}]
    # New work continues after MLflow's ids.
    r = requests.post(server.url + API + "/experiments/create", json={"name": "next"}, timeout=30)
    assert r.status_code == 200 and int(r.json()["experiment_id"]) > 7, r.text
    v4 = requests.post(server.url + API + "/model-versions/create",
                       json={"name": "fraud-model", "source": "runs:/%s/model" % R1}, timeout=30).json()
    assert v4["model_version"]["version"] == "4"


def test_rerun_resumes_and_refusals_are_clear(imported, tamga_bin, tmp_path):
    server, _, args = imported
    server.stop()
    again = run_import(tamga_bin, *args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "3 runs (3 were already there)" in again.stdout, again.stdout
    # Not an MLflow database: a clear refusal, nothing written.
    bogus = tmp_path / "not-mlflow.db"
    sqlite3.connect(str(bogus)).executescript("CREATE TABLE x (y INTEGER);")
    r = run_import(tamga_bin, "--backend-store-uri", "sqlite:///" + str(bogus), "--data-dir", str(tmp_path / "t2"))
    assert r.returncode == 1 and "not an MLflow 2.x tracking database" in r.stderr, r.stderr
    r = run_import(tamga_bin, "--backend-store-uri", "sqlite:///" + str(tmp_path / "missing.db"), "--data-dir",
                   str(tmp_path / "t3"))
    assert r.returncode == 1 and "no MLflow database" in r.stderr, r.stderr


def test_rows_that_break_the_api_rules_are_listed_and_nothing_is_imported(tamga_bin, tmp_path):
    root = make_mlflow_root(tmp_path)
    source = make_sqlite(tmp_path, root)
    db = sqlite3.connect(source[len("sqlite:///"):])
    db.execute("INSERT INTO runs VALUES ('../../x', 'n', 'LOCAL', '', '', 'u', 'FINISHED', 1, 2, NULL, '', "
               "'active', 'mlflow-artifacts:/../outside', 1)")
    db.execute("INSERT INTO registered_models VALUES ('../../evil', 1, 1, NULL)")
    db.execute("INSERT INTO model_versions VALUES ('fraud-model', -5, 1, 1, '', '', 'None', 's', NULL, 'READY', "
               "NULL, NULL, 's')")
    db.execute("INSERT INTO params VALUES ('big', ?, ?)", ("x" * 10000000, R1))
    db.execute("INSERT INTO experiments VALUES (9, ?, '', 'active', 1, 1)", ("nul\0name",))
    db.execute("INSERT INTO registered_model_aliases VALUES ('ghost', 99, 'fraud-model')")
    db.commit()
    db.close()
    data = str(tmp_path / "tamga")
    r = run_import(tamga_bin, "--backend-store-uri", source, "--artifacts", root, "--data-dir", data)
    assert r.returncode == 1, r.stdout
    err = r.stderr
    assert "INVALID_ARGUMENT" in err and "nothing was imported" in err, err
    for needle in ("run '../../x'", "registered model '../../evil'", "version numbers start at 1",
                   "param 'big'", "NUL", "alias 'ghost'", "outside"):
        assert needle in err, (needle, err)
    if not PG:
        assert not os.path.exists(os.path.join(data, "tamga.db")) or \
            sqlite3.connect(os.path.join(data, "tamga.db")).execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0


def test_a_store_with_other_data_is_refused_before_any_work(imported, tamga_bin, tmp_path):
    server, _, args = imported
    r = requests.post(server.url + API + "/experiments/create", json={"name": "mine"}, timeout=30)
    assert r.status_code == 200
    server.stop()
    again = run_import(tamga_bin, *args)
    assert again.returncode == 1 and "FAILED_PRECONDITION" in again.stderr, again.stderr
    assert "already holds 1 experiments" in again.stderr and "nothing was imported" in again.stderr, again.stderr
