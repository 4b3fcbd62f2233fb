"""Retro / batch scoring (`tamga score`, docs/rollouts.md §5) against a real `tamga server`.

Real models made at test time: the XGBoost classifier (column signature) and the TorchScript MLP. The scores
`tamga score` writes for a CSV must be those of direct inference with the model's own library (xgboost's
Booster.predict; the MLP's scores computed by torch when it was made), row for row; a folder of CSVs is one table; a table that does not fit is refused
with its row named and leaves no output behind.
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


@pytest.fixture(scope="module")
def srv(request, models):
    binary = request.config.getoption("--tamga")
    s = TamgaServer(binary).start()
    s.binary = binary
    run = requests.post(s.url + ML + "/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]
    for name, path in (("churn", "xgb"), ("clf", "mlp")):
        upload_model(s.url, run, os.path.join(models, path), path)
        assert requests.post(s.url + ML + "/registered-models/create", json={"name": name}).status_code == 200
        r = requests.post(s.url + ML + "/model-versions/create", json={"name": name, "source": f"runs:/{run}/{path}"})
        assert r.status_code == 200, r.text
    requests.post(s.url + ML + "/registered-models/alias", json={"name": "churn", "alias": "march", "version": "1"})
    yield s
    s.cleanup()


def score(srv, model, inp, out, *extra):
    return subprocess.run([srv.binary, "score", model, "--input", inp, "--output", out, "--tracking-uri", srv.url,
                           "--cache-dir", os.path.join(os.path.dirname(out), "cache"), *extra],
                          capture_output=True, text=True, timeout=300)


def test_scores_match_direct_inference_row_for_row(srv, models):
    import xgboost as xgb
    d = tempfile.mkdtemp(prefix="tamga-score-")
    rng = np.random.default_rng(3)
    X = rng.normal(size=(5000, 8)).astype(np.float32)
    order = [5, 2, 7, 0, 1, 6, 3, 4]  # another column order, and an id the model does not take
    with open(os.path.join(d, "in.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["customer"] + ["f%d" % j for j in order])
        for i, row in enumerate(X):
            w.writerow(["c%05d" % i] + [repr(float(row[j])) for j in order])
    p = score(srv, "models:/churn@march", os.path.join(d, "in.csv"), os.path.join(d, "out.csv"))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "scored 5000 rows with models:/churn/1" in p.stdout and "rows/s" in p.stdout, p.stdout
    with open(os.path.join(d, "out.csv")) as f:
        rows = list(csv.reader(f))
    assert rows[0][:9] == ["customer"] + ["f%d" % j for j in order] and len(rows[0]) == 10, rows[0]
    assert [r[0] for r in rows[1:]] == ["c%05d" % i for i in range(5000)]  # input rows kept, in order
    got = np.array([float(r[-1]) for r in rows[1:]])
    booster = xgb.Booster(model_file=os.path.join(models, "xgb", "model.xgb"))
    want = booster.predict(xgb.DMatrix(X))
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    # Class labels, as the flavor's predict() gives them.
    p = score(srv, "models:/churn/1", os.path.join(d, "in.csv"), os.path.join(d, "labels.csv"), "--mlflow-predictions")
    assert p.returncode == 0, p.stderr
    with open(os.path.join(d, "labels.csv")) as f:
        labels = [int(r[-1]) for r in list(csv.reader(f))[1:]]
    assert labels == [int(v > 0.5) for v in want]


def test_a_folder_is_one_table_and_bad_tables_leave_nothing(srv, expected):
    d = tempfile.mkdtemp(prefix="tamga-score-")
    parts = os.path.join(d, "parts")
    os.makedirs(parts)
    x = expected["x"]
    for k in range(3):
        with open(os.path.join(parts, "part-%d.csv" % k), "w") as f:
            f.write(",".join("f%d" % i for i in range(16)) + "\n")
            for row in x[k * 20:(k + 1) * 20]:
                f.write(",".join(repr(float(v)) for v in row) + "\n")
    p = score(srv, "models:/clf/1", parts, os.path.join(d, "out.csv"), "--batch-rows", "7")
    assert p.returncode == 0, p.stdout + p.stderr
    with open(os.path.join(d, "out.csv")) as f:
        rows = list(csv.reader(f))
    assert len(rows) == 61 and len(rows[0]) == 20 and rows[0][:16] == ["f%d" % i for i in range(16)], rows[0]
    got = np.array([[float(v) for v in r[16:]] for r in rows[1:]])
    np.testing.assert_allclose(got, expected["y1"][:60], rtol=1e-5, atol=1e-6)
    # A part with another header, a cell that is not a number: refused, the row named, no output left.
    with open(os.path.join(parts, "part-3.csv"), "w") as f:
        f.write("a,b\n1,2\n")
    p = score(srv, "models:/clf/1", parts, os.path.join(d, "bad.csv"))
    assert p.returncode == 1 and "another header" in p.stderr, p.stderr
    os.remove(os.path.join(parts, "part-3.csv"))
    with open(os.path.join(parts, "part-1.csv"), "a") as f:
        f.write(",".join(["1"] * 15) + ",oops\n")
    p = score(srv, "models:/clf/1", parts, os.path.join(d, "bad.csv"))
    assert p.returncode == 1 and "row 21, column 'f15': 'oops' is not a number" in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(d, "bad.csv")) and not os.path.exists(os.path.join(d, "bad.csv.partial"))
    p = score(srv, "models:/clf/9", parts, os.path.join(d, "bad.csv"))
    assert p.returncode == 1 and "not found" in p.stderr.lower(), p.stderr
    p = score(srv, "models:/clf/1", os.path.join(d, "nope.csv"), os.path.join(d, "bad.csv"))
    assert p.returncode == 2 and "no such file" in p.stderr
