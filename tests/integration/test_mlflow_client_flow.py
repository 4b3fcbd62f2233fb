"""Drives the real `tamga server` binary with the exact HTTP sequences the MLflow 2.12 Python client sends
(captured in shared/specs/mlflow-rest.md §9), and checks what the client would read back."""
import json
import time

import requests

API = "/api/2.0/mlflow"
ART = "/api/2.0/mlflow-artifacts/artifacts"
UA = {"User-Agent": "mlflow-python-client/2.12.2"}


class Client:
    def __init__(self, base):
        self.base = base
        self.s = requests.Session()
        self.s.headers.update(UA)

    def get(self, path, **params):
        return self.s.get(self.base + API + path, params=params, timeout=30)

    def post(self, path, body):
        return self.s.post(self.base + API + path, json=body, timeout=30)

    def ok(self, resp):
        assert resp.status_code == 200, resp.text
        return resp.json()


def test_daily_tracking_flow(server, tmp_path):
    c = Client(server.url)

    # mlflow.set_experiment("flow")
    r = c.get("/experiments/get-by-name", experiment_name="flow")
    assert r.status_code == 404 and r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    exp_id = c.ok(c.post("/experiments/create", {"name": "flow"}))["experiment_id"]
    exp = c.ok(c.get("/experiments/get", experiment_id=exp_id))["experiment"]
    assert exp["artifact_location"] == "mlflow-artifacts:/" + exp_id

    # mlflow.start_run(run_name="r1")
    now = int(time.time() * 1000)
    run = c.ok(c.post("/runs/create", {
        "experiment_id": exp_id, "user_id": "root", "run_name": "r1", "start_time": now,
        "tags": [{"key": "mlflow.user", "value": "root"}, {"key": "mlflow.source.name", "value": "flow.py"},
                 {"key": "mlflow.source.type", "value": "LOCAL"}, {"key": "mlflow.runName", "value": "r1"}]}))["run"]
    rid = run["info"]["run_id"]
    assert run["info"]["run_uuid"] == rid and len(rid) == 32

    # log_param / log_params / log_metric(s) with steps / set_tag
    c.ok(c.post("/runs/log-parameter", {"run_uuid": rid, "key": "lr", "value": "0.01", "run_id": rid}))
    c.ok(c.post("/runs/log-batch", {"run_id": rid, "params": [{"key": "epochs", "value": "3"},
                                                              {"key": "opt", "value": "adam"}]}))
    for step in range(3):
        c.ok(c.post("/runs/log-metric", {"run_uuid": rid, "key": "loss", "value": 1.0 / (step + 1),
                                         "timestamp": now + step, "step": step, "run_id": rid}))
    c.ok(c.post("/runs/log-batch", {"run_id": rid, "metrics": [
        {"key": "acc", "value": 0.5 + 0.1 * s, "timestamp": now + s, "step": s} for s in range(3)]}))
    c.ok(c.post("/runs/set-tag", {"run_uuid": rid, "key": "stage", "value": "dev", "run_id": rid}))
    c.ok(c.post("/runs/log-batch", {"run_id": rid, "tags": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]}))

    # log_input (dataset)
    c.ok(c.post("/runs/log-inputs", {"run_id": rid, "datasets": [{
        "tags": [{"key": "mlflow.data.context", "value": "training"}],
        "dataset": {"name": "iris", "digest": "1a2b3c", "source_type": "local",
                    "source": json.dumps({"uri": "/data/iris.csv"}), "schema": "{}", "profile": "{}"}}]}))

    # log_artifact("a.txt", "d") / log_text / log_dict: runs/get for artifact_uri, then PUT per file
    info = c.ok(c.get("/runs/get", run_uuid=rid, run_id=rid))["run"]["info"]
    root = info["artifact_uri"]
    assert root == "mlflow-artifacts:/%s/%s/artifacts" % (exp_id, rid)
    rel = root[len("mlflow-artifacts:/"):]
    files = {"d/a.txt": b"hello", "notes.txt": "héllo\n".encode(), "cfg/params.json": b'{"lr": 0.01}',
             "model/model.bin": bytes(range(256)) * 4096}
    for path, data in files.items():
        r = c.s.put(server.url + ART + "/" + rel + "/" + path, data=data, timeout=60,
                    headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 200 and r.json() == {}, r.text

    # end_run
    end = c.ok(c.post("/runs/update", {"run_uuid": rid, "status": "FINISHED", "end_time": now + 10, "run_id": rid}))
    assert end["run_info"]["status"] == "FINISHED"

    # list_artifacts(rid, "d") through the proxy: basenames, client prefixes the directory
    listing = c.s.get(server.url + ART, params={"path": rel + "/d"}, timeout=30).json()
    assert listing["files"] == [{"path": "a.txt", "is_dir": False, "file_size": 5}]
    top = c.s.get(server.url + ART, params={"path": rel}, timeout=30).json()
    assert [f["path"] for f in top["files"]] == ["cfg", "d", "model", "notes.txt"]

    # download_artifacts: recursive list + GET each file
    def download(prefix):
        out = {}
        for f in c.s.get(server.url + ART, params={"path": rel + ("/" + prefix if prefix else "")}).json().get("files", []):
            p = (prefix + "/" if prefix else "") + f["path"]
            if f["is_dir"]:
                out.update(download(p))
            else:
                r = c.s.get(server.url + ART + "/" + rel + "/" + p, timeout=60)
                assert r.status_code == 200
                assert "attachment" in r.headers["Content-Disposition"]
                out[p] = r.content
        return out
    assert download("") == files

    # get_metric_history: the client sends max_results=25000 and loops on next_page_token
    hist, token = [], None
    while True:
        params = {"run_uuid": rid, "metric_key": "loss", "run_id": rid, "max_results": 25000}
        if token:
            params["page_token"] = token
        page = c.ok(c.get("/metrics/get-history", **params))
        hist += page.get("metrics", [])
        token = page.get("next_page_token")
        if not token:
            break
    assert [(m["step"], round(m["value"], 4)) for m in hist] == [(0, 1.0), (1, 0.5), (2, 0.3333)]

    # a second run for search
    run2 = c.ok(c.post("/runs/create", {"experiment_id": exp_id, "run_name": "r2", "start_time": now + 1}))["run"]
    rid2 = run2["info"]["run_id"]
    c.ok(c.post("/runs/log-batch", {"run_id": rid2, "metrics": [{"key": "acc", "value": 0.95, "timestamp": now, "step": 0}],
                                    "params": [{"key": "opt", "value": "sgd"}]}))

    # mlflow.search_runs(experiment_names=["flow"], filter_string=..., order_by=[...])
    res = c.ok(c.post("/runs/search", {"experiment_ids": [exp_id], "run_view_type": "ACTIVE_ONLY",
                                       "filter": "metrics.acc > 0.6", "max_results": 10000,
                                       "order_by": ["metrics.acc DESC"]}))
    assert [r["info"]["run_id"] for r in res["runs"]] == [rid2, rid]
    full = res["runs"][1]
    assert {p["key"]: p["value"] for p in full["data"]["params"]} == {"lr": "0.01", "epochs": "3", "opt": "adam"}
    assert {m["key"]: m["step"] for m in full["data"]["metrics"]} == {"loss": 2, "acc": 2}
    assert full["inputs"]["dataset_inputs"][0]["dataset"]["name"] == "iris"
    res = c.ok(c.post("/runs/search", {"experiment_ids": [exp_id], "filter": "params.opt = 'adam' and tags.stage = 'dev'"}))
    assert [r["info"]["run_id"] for r in res["runs"]] == [rid]

    # delete_run / restore_run
    c.ok(c.post("/runs/delete", {"run_id": rid2}))
    res = c.ok(c.post("/runs/search", {"experiment_ids": [exp_id]}))
    assert [r["info"]["run_id"] for r in res["runs"]] == [rid]
    c.ok(c.post("/runs/restore", {"run_id": rid2}))
    res = c.ok(c.post("/runs/search", {"experiment_ids": [exp_id]}))
    assert len(res["runs"]) == 2

    # search_experiments(filter_string=...)
    exps = c.ok(c.post("/experiments/search", {"max_results": 1000, "filter": "name LIKE 'fl%'",
                                               "view_type": "ACTIVE_ONLY"}))
    assert [e["name"] for e in exps["experiments"]] == ["flow"]


def test_data_survives_restart(tamga_bin):
    import sys, os
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
    from tamga_harness import TamgaServer
    s = TamgaServer(tamga_bin).start()
    try:
        c = Client(s.url)
        exp_id = c.ok(c.post("/experiments/create", {"name": "persist"}))["experiment_id"]
        rid = c.ok(c.post("/runs/create", {"experiment_id": exp_id}))["run"]["info"]["run_id"]
        c.ok(c.post("/runs/log-metric", {"run_id": rid, "key": "m", "value": 2.5, "timestamp": 1, "step": 1}))
        assert s.stop() == 0  # graceful SIGTERM exits cleanly
        s.start()
        c = Client(s.url)
        run = c.ok(c.get("/runs/get", run_id=rid))["run"]
        assert run["data"]["metrics"] == [{"key": "m", "value": 2.5, "timestamp": 1, "step": 1}]
        # New ids continue after the old ones.
        assert int(c.ok(c.post("/experiments/create", {"name": "next"}))["experiment_id"]) > int(exp_id)
    finally:
        s.cleanup()
