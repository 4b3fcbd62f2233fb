"""The web UI's endpoints under `tamga server --auth on --default-permission NO_PERMISSIONS` (docs/ui.md): a name
reused after a model is deleted or renamed, or after a deployment is deleted, does not hand the earlier owner's
history to the new owner; live-chart numbers say nothing about other users' runs."""
import time

import pytest
import requests

from tamga_harness import TamgaServer

ADMIN = ("admin", "admin-pass-1234")
API = "/api/2.0/mlflow"
TG = "/api/2.0/tamga"


@pytest.fixture
def srv(tamga_bin):
    s = TamgaServer(tamga_bin, extra_args=["--auth", "on", "--default-permission", "NO_PERMISSIONS"],
                    env={"TAMGA_ADMIN_PASSWORD": ADMIN[1]}).start()
    yield s
    s.cleanup()


def call(srv, method, path, auth, **kw):
    r = requests.request(method, srv.url + path, auth=auth, timeout=30, **kw)
    return r


def ok(r):
    assert r.status_code == 200, r.text
    return r.json()


def user(srv, name):
    who = (name, name + "-pass-123")
    ok(call(srv, "POST", API + "/users/create", ADMIN, json={"username": who[0], "password": who[1]}))
    return who


def event_texts(body):
    return " ".join(str(e) for e in body["events"])


def test_reused_model_names_do_not_inherit_history(srv):
    alice, bob = user(srv, "alice"), user(srv, "bob")
    ok(call(srv, "POST", API + "/registered-models/create", alice, json={"name": "reuse-m", "description": "alice-secret-1"}))
    ok(call(srv, "DELETE", API + "/registered-models/delete", alice, json={"name": "reuse-m"}))
    ok(call(srv, "POST", API + "/registered-models/create", alice, json={"name": "ren-old", "description": "alice-secret-2"}))
    ok(call(srv, "POST", API + "/registered-models/rename", alice, json={"name": "ren-old", "new_name": "ren-new"}))
    ok(call(srv, "POST", API + "/registered-models/create", bob, json={"name": "reuse-m"}))
    ok(call(srv, "POST", API + "/registered-models/create", bob, json={"name": "ren-old"}))
    for name in ("reuse-m", "ren-old"):
        mine = ok(call(srv, "GET", TG + "/events", bob, params={"model_name": name}))
        assert mine["events"] and "alice-secret" not in event_texts(mine), mine
        assert [e["type"] for e in mine["events"]][-1] == "registered_model.created"
    listed = ok(call(srv, "GET", TG + "/events", bob, params={"max_results": 1000}))
    assert "alice-secret" not in event_texts(listed)
    assert {e["model_name"] for e in listed["events"]} == {"reuse-m", "ren-old"}
    # alice's renamed model keeps its own history from the rename on; admins see the whole outbox
    assert ok(call(srv, "GET", TG + "/events", alice, params={"model_name": "ren-new"}))["events"]
    assert "alice-secret-1" in event_texts(ok(call(srv, "GET", TG + "/events", ADMIN, params={"max_results": 1000})))


def test_reused_deployment_names_do_not_inherit_commits(srv):
    alice, bob = user(srv, "alice"), user(srv, "bob")
    for who, model in ((alice, "alice-model"), (bob, "bob-model")):
        ok(call(srv, "POST", API + "/registered-models/create", who, json={"name": model}))
    ok(call(srv, "POST", TG + "/deployments", alice, json={"name": "svc", "model_name": "alice-model"}))
    ok(call(srv, "DELETE", TG + "/deployments/svc", alice))
    time.sleep(1.1)  # commit times have one-second resolution
    ok(call(srv, "POST", TG + "/deployments", bob, json={"name": "svc", "model_name": "bob-model"}))
    files = ok(call(srv, "GET", TG + "/deployments/svc/files", bob))
    assert "alice-model" not in str(files["commits"]), files["commits"]
    assert call(srv, "GET", TG + "/deployments/svc/files", alice).status_code == 403


def test_live_chart_numbers_are_per_run(srv):
    alice, bob = user(srv, "alice"), user(srv, "bob")
    runs = {}
    for who in (alice, bob):
        exp = ok(call(srv, "POST", API + "/experiments/create", who, json={"name": "e-" + who[0]}))["experiment_id"]
        runs[who[0]] = ok(call(srv, "POST", API + "/runs/create", who, json={"experiment_id": exp}))["run"]["info"]["run_id"]
        ok(call(srv, "POST", API + "/runs/log-metric", who, json={"run_id": runs[who[0]], "key": "m", "value": 1,
                                                                 "timestamp": 1, "step": 0}))

    def seq(who):
        return ok(call(srv, "GET", TG + "/metrics/sampled", who, params={"run_id": runs[who[0]], "key": "m"}))["change_seq"]

    before = seq(bob)
    for i in range(5):
        ok(call(srv, "POST", API + "/runs/log-metric", alice, json={"run_id": runs["alice"], "key": "m", "value": i,
                                                                   "timestamp": 2 + i, "step": 1 + i}))
    assert seq(bob) == before
    assert call(srv, "GET", TG + "/metrics/sampled", bob, params={"run_id": runs["alice"], "key": "m"}).status_code == 403
    # A wait on bob's run ends when bob's run logs (not alice's), well before its timeout.
    t = time.time()
    import threading
    threading.Timer(0.5, lambda: call(srv, "POST", API + "/runs/log-metric", bob, json={
        "run_id": runs["bob"], "key": "m", "value": 9, "timestamp": 9, "step": 9})).start()
    r = ok(call(srv, "GET", TG + "/metrics/sampled", bob, params={"run_id": runs["bob"], "key": "m", "after": before,
                                                                 "wait_ms": 20000}))
    assert r["change_seq"] > before and max(r["series"][0]["y"]) == 9
    assert time.time() - t < 15
