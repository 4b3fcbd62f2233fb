"""The authorization matrix (matrix.txt): every route x role against a real `tamga server --auth on`. Fails when
the server serves a route that has no row, so a new route cannot ship without a decided rule."""
import itertools
import json
import os

import pytest
import requests

from tamga_harness import TamgaServer

ROLES = ["anon", "agent", "none", "read", "edit", "manage", "admin"]
ADMIN = ("admin", "admin-pass-1234")
API = "/api/2.0/mlflow"
HERE = os.path.dirname(__file__)


def rows():
    out = []
    for n, line in enumerate(open(os.path.join(HERE, "matrix.txt")), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        head, target, body, outcomes = [p.strip() for p in line.split(" | ")]
        method, route = head.split(" ", 1)
        outcomes = outcomes.split()
        assert len(outcomes) == len(ROLES), f"matrix.txt:{n}: {len(outcomes)} outcomes"
        assert all(o in ("ok", "401", "403") for o in outcomes), f"matrix.txt:{n}"
        out.append((n, method, route, route if target == "-" else target, body, dict(zip(ROLES, outcomes))))
    return out


@pytest.fixture(scope="module")
def world(request):
    tamga_bin = request.config.getoption("--tamga")
    s = TamgaServer(tamga_bin, extra_args=["--auth", "on"], env={"TAMGA_ADMIN_PASSWORD": ADMIN[1]}).start()
    sess = requests.Session()

    def admin(method, path, **kw):
        r = sess.request(method, s.url + path, auth=ADMIN, timeout=30, **kw)
        assert r.status_code == 200, (path, r.text)
        return r.json()

    tokens = {}
    for role in ("none", "read", "edit", "manage"):
        admin("POST", API + "/users/create", json={"username": role, "password": role + "-pass-1234"})
        tokens[role] = admin("POST", "/api/2.0/tamga/tokens", json={"name": "m", "username": role})["token"]
    tokens["admin"] = admin("POST", "/api/2.0/tamga/tokens", json={"name": "m"})["token"]
    tokens["agent"] = admin("POST", "/api/2.0/tamga/tokens",
                            json={"name": "a", "role": "agent", "queues": ["q1"]})["token"]
    admin("POST", "/api/2.0/tamga/queues", json={"name": "q1"})
    yield s, sess, admin, tokens
    s.cleanup()


def test_every_route_has_a_row(world):
    s, sess, admin, tokens = world
    served = {(r["method"], r["route"]) for r in admin("GET", "/api/2.0/tamga/routes")["routes"]}
    assert all("rule" in r for r in admin("GET", "/api/2.0/tamga/routes")["routes"])
    listed = {(m, route) for _, m, route, _, _, _ in rows()}
    missing = sorted(served - listed)
    assert not missing, "routes without a row in tests/auth/matrix.txt: " + ", ".join(f"{m} {r}" for m, r in missing)
    stale = sorted(listed - served)
    assert not stale, "rows for routes the server does not serve: " + ", ".join(f"{m} {r}" for m, r in stale)


_counter = itertools.count()


@pytest.mark.parametrize("row", rows(), ids=lambda r: f"{r[1]} {r[2]}")
def test_matrix(world, row):
    s, sess, admin, tokens = world
    n, method, route, target, body, expected = row
    # Fresh objects, made by the manage user (their creator) and granted to the others.
    manage_auth = {"Authorization": "Bearer " + tokens["manage"]}
    tag = f"{n}-{next(_counter)}"
    expname = "x-" + tag
    r = sess.post(s.url + API + "/experiments/create", json={"name": expname}, headers=manage_auth)
    exp = r.json()["experiment_id"]
    run = sess.post(s.url + API + "/runs/create", json={"experiment_id": exp},
                    headers=manage_auth).json()["run"]["info"]["run_id"]
    sess.put(s.url + f"/api/2.0/mlflow-artifacts/artifacts/{exp}/{run}/artifacts/seed.txt", data=b"seed",
             headers=manage_auth)
    model = "model-" + tag
    sess.post(s.url + API + "/registered-models/create", json={"name": model}, headers=manage_auth)
    sess.post(s.url + API + "/model-versions/create", json={"name": model, "source": f"mlflow-artifacts:/{exp}/{run}/artifacts",
                                                            "run_id": run}, headers=manage_auth)
    lm = sess.post(s.url + API + "/logged-models", json={"experiment_id": exp, "name": "lm"}, headers=manage_auth)
    logged = lm.json()["model"]["info"]["model_id"]
    for role, perm in (("none", "NO_PERMISSIONS"), ("read", "READ"), ("edit", "EDIT")):
        admin("POST", API + "/experiments/permissions/create", json={"experiment_id": exp, "username": role, "permission": perm})
        admin("POST", API + "/registered-models/permissions/create", json={"name": model, "username": role, "permission": perm})
    deploy = "d-" + tag
    r = sess.post(s.url + "/api/2.0/tamga/deployments", json={"name": deploy, "model_name": model}, headers=manage_auth)
    assert r.status_code == 200, r.text
    hook = sess.post(s.url + API + "/webhooks", headers=manage_auth,
                     json={"name": "h", "url": "https://example.invalid/h", "events": ["model_version.created"],
                           "model_name": model}).json()["webhook"]["webhook_id"]
    global_hook = admin("POST", API + "/webhooks", json={"name": "g", "url": "https://example.invalid/g",
                                                         "events": ["model_version.created"]})["webhook"]["webhook_id"]
    for role, perm in (("none", "NO_PERMISSIONS"), ("read", "READ"), ("edit", "EDIT")):
        admin("PUT", "/api/2.0/tamga/permissions", json={"object_kind": "deployment", "object_id": deploy,
                                                         "user": role, "permission": perm})
    dataset = "ds-" + tag
    r = sess.post(s.url + "/api/2.0/tamga/datasets/create", json={"name": dataset}, headers=manage_auth)
    assert r.status_code == 200, r.text
    for role, perm in (("none", "NO_PERMISSIONS"), ("read", "READ"), ("edit", "EDIT")):
        admin("PUT", "/api/2.0/tamga/permissions", json={"object_kind": "dataset", "object_id": dataset,
                                                         "user": role, "permission": perm})
    victim = "victim-" + tag
    admin("POST", API + "/users/create", json={"username": victim, "password": "victim-pass-1234"})

    failures = []
    for role in ROLES:
        uniq = f"{tag}-{role}"

        def fill(text):
            return (text.replace("{exp}", exp).replace("{run}", run).replace("{model}", model)
                    .replace("{victim}", victim).replace("{uniq}", uniq).replace("{expname}", expname)
                    .replace("{logged}", logged).replace("{deploy}", deploy).replace("{hook}", hook)
                    .replace("{globalhook}", global_hook).replace("{dataset}", dataset))

        headers = {} if role == "anon" else {"Authorization": "Bearer " + tokens[role]}
        kw = {}
        if body == "raw":
            kw["data"] = b"bytes"
        elif body != "-":
            kw["data"] = fill(body).encode()
            headers["Content-Type"] = "application/json"
        r = sess.request(method, s.url + fill(target), headers=headers, timeout=30, **kw)
        got = str(r.status_code) if r.status_code in (401, 403) else "ok"
        if got != expected[role]:
            failures.append(f"{role}: expected {expected[role]}, got {r.status_code} {r.text[:200]}")
    assert not failures, f"matrix.txt:{n} {method} {route}\n" + "\n".join(failures)
