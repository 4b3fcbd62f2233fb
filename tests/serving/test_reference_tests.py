"""Reference-score tests ("model unit tests", docs/rollouts.md §4) through a real `tamga server` and the CLI.

Real models made at test time: a TorchScript MLP in two versions and an XGBoost classifier with a column
signature. `tamga models validate` scores a reference table with the serving runtime and compares it with
expected scores: it passes and fails as it should (exit 0 / 1, the mismatches named), the result is stored on
the version as reserved tags no client may set, and a registered model that requires a passing test refuses to
move the named alias to a version without one.
"""
import csv
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import requests

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
from tamga_harness import TamgaServer, upload_model  # noqa: E402

ML = "/api/2.0/mlflow"
TEST = "/api/2.0/tamga/model-versions/reference-test"


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in rows:
            w.writerow([repr(float(v)) if isinstance(v, (float, np.floating)) else v for v in r])
    return path


@pytest.fixture(scope="module")
def srv(request, models):
    binary = request.config.getoption("--tamga")
    s = TamgaServer(binary).start()
    s.binary = binary
    run = requests.post(s.url + ML + "/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]
    upload_model(s.url, run, os.path.join(models, "mlp"), "v1")
    upload_model(s.url, run, os.path.join(models, "mlp2"), "v2")
    upload_model(s.url, run, os.path.join(models, "xgb"), "xgb")
    for name, paths in (("clf", ("v1", "v2")), ("churn", ("xgb",))):
        assert requests.post(s.url + ML + "/registered-models/create", json={"name": name}).status_code == 200
        for p in paths:
            r = requests.post(s.url + ML + "/model-versions/create", json={"name": name, "source": f"runs:/{run}/{p}"})
            assert r.status_code == 200, r.text
    yield s
    s.cleanup()


def validate(srv, uri, inputs, expected, *extra):
    return subprocess.run([srv.binary, "models", "validate", uri, "--inputs", inputs, "--expected", expected,
                           "--tracking-uri", srv.url, *extra], capture_output=True, text=True, timeout=120)


def tags(srv, name, version):
    v = requests.get(srv.url + ML + "/model-versions/get", params={"name": name, "version": version}).json()
    return {t["key"]: t["value"] for t in v["model_version"].get("tags", [])}


def test_reference_test_passes_fails_and_is_stored(srv, expected):
    d = tempfile.mkdtemp(prefix="tamga-reftest-")
    x = expected["x"][:32]
    inputs = write_csv(os.path.join(d, "in.csv"), ["f%d" % i for i in range(16)], x.tolist())
    y1 = write_csv(os.path.join(d, "y1.csv"), ["y0", "y1", "y2", "y3"], expected["y1"][:32].tolist())

    p = validate(srv, "models:/clf/1", inputs, y1, "--atol", "1e-5", "--rtol", "1e-4")
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.startswith("passed: models:/clf/1  32 rows"), p.stdout
    t = tags(srv, "clf", "1")
    assert t["tamga.reference_test.status"] == "passed" and t["tamga.reference_test.rows"] == "32", t

    # Version 2 has other weights: every row differs, the first mismatches are named, exit 1.
    p = validate(srv, "models:/clf/2", inputs, y1, "--atol", "1e-5", "--rtol", "1e-4")
    assert p.returncode == 1, p.stdout + p.stderr
    differ = int(np.sum(np.any(np.abs(expected["y2"][:32] - expected["y1"][:32]) >
                               1e-5 + 1e-4 * np.abs(expected["y1"][:32]), axis=1)))
    assert ("FAILED: models:/clf/2  %d of 32 rows differ" % differ) in p.stdout, p.stdout
    assert "  row 1  " in p.stdout
    assert tags(srv, "clf", "2")["tamga.reference_test.status"] == "failed"
    r = requests.get(srv.url + TEST, params={"name": "clf", "version": "2"})
    assert r.status_code == 200 and r.json()["status"] == "failed" and r.json()["mismatched_rows"] == differ
    assert 1 <= len(r.json()["mismatches"]) <= 10 and len(r.json()["columns"]) == 4, r.json()
    assert requests.get(srv.url + TEST, params={"name": "clf", "version": "9"}).status_code == 404

    # An alias URI is resolved to its version first.
    requests.post(srv.url + ML + "/registered-models/alias", json={"name": "clf", "alias": "cand", "version": "1"})
    p = validate(srv, "models:/clf@cand", inputs, y1, "--atol", "1e-5", "--rtol", "1e-4", "--json")
    assert p.returncode == 0 and '"status": "passed"' in p.stdout, p.stdout + p.stderr


def test_xgboost_columns_by_name_and_mlflow_predictions(srv, expected):
    d = tempfile.mkdtemp(prefix="tamga-reftest-")
    xq = expected["xq"]
    order = [3, 0, 7, 1, 6, 2, 5, 4]  # columns in another order, plus an id column the model does not take
    rows = [[i] + [row[j] for j in order] for i, row in enumerate(xq.tolist())]
    inputs = write_csv(os.path.join(d, "in.csv"), ["id"] + ["f%d" % j for j in order], rows)
    scores = write_csv(os.path.join(d, "p.csv"), ["id", "score"], [[i, p] for i, p in enumerate(expected["p"].tolist())])
    p = validate(srv, "models:/churn/1", inputs, scores, "--atol", "1e-6", "--rtol", "1e-5")
    assert p.returncode == 0, p.stdout + p.stderr
    labels = write_csv(os.path.join(d, "labels.csv"), ["label"], [[int(v > 0.5)] for v in expected["p"].tolist()])
    p = validate(srv, "models:/churn/1", inputs, labels, "--mlflow-predictions")
    assert p.returncode == 0, p.stdout + p.stderr
    p = validate(srv, "models:/churn/1", inputs, scores, "--mlflow-predictions")  # labels are not scores
    assert p.returncode == 1, p.stdout + p.stderr


def test_bad_tables_are_clear_errors(srv, expected):
    d = tempfile.mkdtemp(prefix="tamga-reftest-")
    good = write_csv(os.path.join(d, "in.csv"), ["f%d" % i for i in range(16)], expected["x"][:4].tolist())
    y = write_csv(os.path.join(d, "y.csv"), ["y0", "y1", "y2", "y3"], expected["y1"][:4].tolist())
    short = write_csv(os.path.join(d, "short.csv"), ["y0", "y1", "y2", "y3"], expected["y1"][:3].tolist())
    narrow = write_csv(os.path.join(d, "narrow.csv"), ["a", "b"], [[1, 2]])
    bad = os.path.join(d, "bad.csv")
    with open(bad, "w") as f:
        f.write(",".join("f%d" % i for i in range(16)) + "\n" + ",".join(["1"] * 15) + ",x\n")
    for inputs, exp, why in ((good, short, "has 3 rows"), (narrow, y, "takes 16 features"),
                             (bad, y, "row 1, column 'f15': 'x' is not a number")):
        p = validate(srv, "models:/clf/1", inputs, exp)
        assert p.returncode == 1 and why in p.stderr, p.stdout + p.stderr
    p = validate(srv, "models:/clf/7", good, y)
    assert p.returncode == 1 and "not found" in p.stderr.lower(), p.stderr
    p = validate(srv, "runs:/abc/model", good, y)
    assert p.returncode == 2
    r = requests.post(srv.url + TEST, json={"name": "clf", "version": "1", "inputs": "a\n1\n", "expected": "y\n1\n",
                                            "atol": -1})
    assert r.status_code == 400 and "atol" in r.json()["message"]


def test_results_are_reserved_and_an_alias_can_require_a_passing_test(srv, expected):
    d = tempfile.mkdtemp(prefix="tamga-reftest-")
    inputs = write_csv(os.path.join(d, "in.csv"), ["f%d" % i for i in range(16)], expected["x"][:8].tolist())
    y1 = write_csv(os.path.join(d, "y1.csv"), ["y0", "y1", "y2", "y3"], expected["y1"][:8].tolist())
    assert validate(srv, "models:/clf/1", inputs, y1, "--atol", "1e-5").returncode == 0
    assert validate(srv, "models:/clf/2", inputs, y1, "--atol", "1e-5").returncode == 1
    # No client may forge or remove a result.
    r = requests.post(srv.url + ML + "/model-versions/set-tag",
                      json={"name": "clf", "version": "2", "key": "tamga.reference_test.status", "value": "passed"})
    assert r.status_code == 400 and "reserved" in r.json()["message"], r.text
    r = requests.delete(srv.url + ML + "/model-versions/delete-tag",
                        json={"name": "clf", "version": "1", "key": "tamga.reference_test.status"})
    assert r.status_code == 400 and "reserved" in r.json()["message"], r.text
    # The policy names the aliases it guards.
    r = requests.post(srv.url + ML + "/registered-models/set-tag",
                      json={"name": "clf", "key": "tamga.require_reference_test", "value": "production, champion"})
    assert r.status_code == 200, r.text
    r = requests.post(srv.url + ML + "/registered-models/alias", json={"name": "clf", "alias": "production", "version": "2"})
    assert r.status_code == 400 and "requires a passing reference-score test" in r.json()["message"], r.text
    assert "failed" in r.json()["message"]
    assert requests.post(srv.url + ML + "/registered-models/alias",
                         json={"name": "clf", "alias": "staging", "version": "2"}).status_code == 200
    assert requests.post(srv.url + ML + "/registered-models/alias",
                         json={"name": "clf", "alias": "production", "version": "1"}).status_code == 200
    p = subprocess.run([srv.binary, "models", "alias", "set", "clf", "champion", "2", "--tracking-uri", srv.url],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "reference-score test" in p.stderr, p.stdout + p.stderr
    # "true" (any case, as Python's str(True) writes it), "1", "yes" or "*" guard every alias; names any case.
    for value, guarded in (("true", "anything"), ("True", "other"), ("*", "x1"), ("1", "x2"), ("PRODUCTION", "production")):
        requests.post(srv.url + ML + "/registered-models/set-tag",
                      json={"name": "clf", "key": "tamga.require_reference_test", "value": value})
        r = requests.post(srv.url + ML + "/registered-models/alias", json={"name": "clf", "alias": guarded, "version": "2"})
        assert r.status_code == 400, (value, r.text)
    requests.post(srv.url + ML + "/registered-models/set-tag",
                  json={"name": "clf", "key": "tamga.require_reference_test", "value": "False"})
    assert requests.post(srv.url + ML + "/registered-models/alias",
                         json={"name": "clf", "alias": "free", "version": "2"}).status_code == 200


def test_stored_tables_and_payload_logs_are_not_reachable_through_the_artifact_api(srv):
    art = srv.url + "/api/2.0/mlflow-artifacts/artifacts"
    for prefix in ("model-tests", "payload-logs"):
        assert requests.put(art + "/" + prefix + "/x/1/result.json", data=b'{"status": "passed"}').status_code == 403
        assert requests.get(art + "/" + prefix + "/x/1/result.json").status_code == 403
        assert requests.get(art, params={"path": prefix}).status_code == 403
        assert requests.delete(art + "/" + prefix + "/x").status_code == 403
    # A name that only starts the same way is an ordinary path.
    assert requests.put(art + "/model-tests-notes/a.txt", data=b"x").status_code == 200
