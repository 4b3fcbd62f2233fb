"""Deployments and webhooks under `tamga server --auth on` (docs/security.md): who may deploy, the admin-granted
capability to run code on the server, webhooks owned by a model's MANAGE holders, and listings that show only
what the caller may see."""
import time

import pytest
import requests

from tamga_harness import TamgaServer

ADMIN = ("admin", "admin-pass-1234")
API = "/api/2.0/mlflow"
TG = "/api/2.0/tamga"


@pytest.fixture
def srv(tamga_bin):
    s = TamgaServer(tamga_bin, extra_args=["--auth", "on", "--default-permission", "MANAGE"],
                    env={"TAMGA_ADMIN_PASSWORD": ADMIN[1]}).start()
    yield s
    s.cleanup()


def call(srv, method, path, auth, **kw):
    return requests.request(method, srv.url + path, auth=auth, timeout=30, **kw)


def user(srv, name):
    who = (name, name + "-pass-123")
    r = call(srv, "POST", API + "/users/create", ADMIN, json={"username": who[0], "password": who[1]})
    assert r.status_code == 200, r.text
    return who


def test_local_deployments_need_the_capability_an_admin_grants(srv):
    alice, bob = user(srv, "alice"), user(srv, "bob")
    assert call(srv, "POST", API + "/registered-models/create", alice, json={"name": "m"}).status_code == 200
    # Even with MANAGE as the default permission, running code in the server needs the capability.
    local = {"name": "web", "model_name": "m", "target": "local"}
    r = call(srv, "POST", TG + "/deployments", alice, json=local)
    assert r.status_code == 403 and "run_code_on_server" in r.json()["message"], r.text
    grant = {"object_kind": "capability", "object_id": "run_code_on_server", "user": "alice", "permission": "READ"}
    r = call(srv, "PUT", TG + "/permissions", alice, json=grant)
    assert r.status_code == 403 and "admins" in r.json()["message"], r.text
    r = call(srv, "PUT", TG + "/permissions", ADMIN, json={**grant, "object_id": "run_anything"})
    assert r.status_code == 400, r.text
    assert call(srv, "PUT", TG + "/permissions", ADMIN, json=grant).status_code == 200
    r = call(srv, "POST", TG + "/deployments", alice, json=local)
    assert r.status_code == 200, r.text
    # The creator holds MANAGE on the deployment: bob (default MANAGE) is narrowed by a grant and cannot change it.
    r = call(srv, "PUT", TG + "/permissions", alice,
             json={"object_kind": "deployment", "object_id": "web", "user": "bob", "permission": "READ"})
    assert r.status_code == 200, r.text
    assert call(srv, "POST", TG + "/deployments", bob, json={"name": "web", "model_name": "m"}).status_code == 403
    assert call(srv, "DELETE", TG + "/deployments/web", bob).status_code == 403
    assert call(srv, "GET", TG + "/deployments/web", bob).status_code == 200
    # Revoking the capability stops new local deployments at once.
    assert call(srv, "DELETE", TG + "/permissions", ADMIN,
                json={k: v for k, v in grant.items() if k != "permission"}).status_code == 200
    r = call(srv, "POST", TG + "/deployments", alice, json={**local, "name": "web2"})
    assert r.status_code == 403, r.text
    # Deleting a deployment drops its grants: a new one of that name starts clean.
    assert call(srv, "DELETE", TG + "/deployments/web", alice).status_code == 200
    r = call(srv, "GET", TG + "/permissions", ADMIN, params={"object_kind": "deployment", "object_id": "web"})
    assert r.status_code == 200 and r.json()["permissions"] == [], r.text


def test_deployment_listing_hides_what_the_caller_may_not_read(srv):
    alice, bob = user(srv, "alice"), user(srv, "bob")
    assert call(srv, "POST", API + "/registered-models/create", alice, json={"name": "m"}).status_code == 200
    for name in ("public-d", "secret-d"):
        r = call(srv, "POST", TG + "/deployments", alice, json={"name": name, "model_name": "m"})
        assert r.status_code == 200, r.text
    r = call(srv, "PUT", TG + "/permissions", alice,
             json={"object_kind": "deployment", "object_id": "secret-d", "user": "bob", "permission": "NO_PERMISSIONS"})
    assert r.status_code == 200, r.text
    names = [d["name"] for d in call(srv, "GET", TG + "/deployments", bob).json()["deployments"]]
    assert names == ["public-d"], names
    assert call(srv, "GET", TG + "/deployments/secret-d", bob).status_code == 403
    names = [d["name"] for d in call(srv, "GET", TG + "/deployments", alice).json()["deployments"]]
    assert sorted(names) == ["public-d", "secret-d"], names


def test_webhooks_on_a_model_belong_to_its_managers_and_fire_only_for_it(srv):
    alice, bob = user(srv, "alice"), user(srv, "bob")
    for name in ("a", "b"):
        assert call(srv, "POST", API + "/registered-models/create", alice, json={"name": name}).status_code == 200
    r = call(srv, "POST", API + "/registered-models/permissions/create", alice,
             json={"name": "a", "username": "bob", "permission": "EDIT"})
    assert r.status_code == 200, r.text
    hook = {"name": "h", "url": "https://example.invalid/h", "events": ["model_version.created"]}
    # Global hooks: admins only; a hook on a model: its MANAGE holders (bob has EDIT on a).
    assert call(srv, "POST", API + "/webhooks", alice, json=hook).status_code == 403
    assert call(srv, "POST", API + "/webhooks", bob, json={**hook, "model_name": "a"}).status_code == 403
    r = call(srv, "POST", API + "/webhooks", alice, json={**hook, "model_name": "nope"})
    assert r.status_code == 404, r.text
    r = call(srv, "POST", API + "/webhooks", alice, json={**hook, "model_name": "a"})
    assert r.status_code == 200, r.text
    hid = r.json()["webhook"]["webhook_id"]
    assert r.json()["webhook"]["model_name"] == "a"
    r = call(srv, "PATCH", API + f"/webhooks/{hid}", alice, json={"model_name": "b"})
    assert r.status_code == 400, r.text
    glob = call(srv, "POST", API + "/webhooks", ADMIN, json=hook).json()["webhook"]["webhook_id"]
    # Listing: alice sees her model's hook, bob none, the admin both.
    assert [h["webhook_id"] for h in call(srv, "GET", API + "/webhooks", alice).json()["webhooks"]] == [hid]
    assert call(srv, "GET", API + "/webhooks", bob).json().get("webhooks", []) == []
    assert len(call(srv, "GET", API + "/webhooks", ADMIN).json()["webhooks"]) == 2
    assert call(srv, "GET", API + f"/webhooks/{glob}", alice).status_code == 403
    assert call(srv, "GET", API + f"/webhooks/{hid}", bob).status_code == 403
    # Events: a version of b does not reach the hook on a; a version of a does.
    for name in ("b", "a"):
        r = call(srv, "POST", API + "/model-versions/create", alice, json={"name": name, "source": "s3://x/y"})
        assert r.status_code == 200, r.text
    deadline = time.time() + 20
    while True:
        mine = call(srv, "GET", TG + f"/webhooks/{hid}/deliveries", alice).json().get("deliveries", [])
        every = call(srv, "GET", TG + f"/webhooks/{glob}/deliveries", ADMIN).json().get("deliveries", [])
        if (len(mine) >= 1 and len(every) >= 2) or time.time() > deadline:
            break
        time.sleep(0.2)
    assert len(every) == 2, every
    assert len(mine) == 1, mine


def test_hooks_and_deployments_follow_their_model_not_its_name(srv):
    alice, bob = user(srv, "alice"), user(srv, "bob")
    grant = {"object_kind": "capability", "object_id": "run_code_on_server", "user": "alice", "permission": "READ"}
    assert call(srv, "PUT", TG + "/permissions", ADMIN, json=grant).status_code == 200
    assert call(srv, "POST", API + "/registered-models/create", alice, json={"name": "am"}).status_code == 200
    assert call(srv, "POST", TG + "/deployments", alice,
                json={"name": "a-local", "model_name": "am", "target": "local"}).status_code == 200
    hook = {"name": "h", "url": "https://example.invalid/h", "events": ["model_version.created"], "model_name": "am"}
    hid = call(srv, "POST", API + "/webhooks", alice, json=hook).json()["webhook"]["webhook_id"]
    assert call(srv, "POST", API + "/registered-models/rename", alice,
                json={"name": "am", "new_name": "am2"}).status_code == 200
    d = call(srv, "GET", TG + "/deployments/a-local", alice).json()["deployment"]
    assert d["model_name"] == "am2" and d["spec"]["model_name"] == "am2", d
    assert call(srv, "GET", API + f"/webhooks/{hid}", alice).json()["webhook"]["model_name"] == "am2"
    # bob takes the old name: he gets neither the deployment nor the hook (on am2 he only reads; the fixture's
    # default is MANAGE).
    assert call(srv, "POST", API + "/registered-models/permissions/create", alice,
                json={"name": "am2", "username": "bob", "permission": "READ"}).status_code == 200
    assert call(srv, "POST", API + "/registered-models/create", bob, json={"name": "am"}).status_code == 200
    assert call(srv, "GET", API + f"/webhooks/{hid}", bob).status_code == 403
    assert call(srv, "GET", API + "/webhooks", bob).json().get("webhooks", []) == []
    # A deployed model cannot be deleted from under its deployment; a model's hooks go with it.
    r = call(srv, "DELETE", API + "/registered-models/delete", alice, json={"name": "am2"})
    assert r.status_code == 400 and "a-local" in r.json()["message"], r.text
    assert call(srv, "DELETE", TG + "/deployments/a-local", alice).status_code == 200
    assert call(srv, "DELETE", API + "/registered-models/delete", alice, json={"name": "am2"}).status_code == 200
    assert call(srv, "GET", API + f"/webhooks/{hid}", ADMIN).status_code == 404


def test_cluster_settings_of_a_deployment_need_configure_kubernetes(srv):
    alice = user(srv, "alice")
    assert call(srv, "POST", API + "/registered-models/create", alice, json={"name": "m"}).status_code == 200
    base = {"name": "web", "model_name": "m"}
    assert call(srv, "POST", TG + "/deployments", alice, json=dict(base, namespace="default")).status_code == 200
    for field, value in (("namespace", "kube-system"), ("image", "evil.example/x:1"), ("token_secret", "other"),
                         ("ingress_host", "admin.example.com"), ("tracking_uri", "https://evil.example")):
        r = call(srv, "POST", TG + "/deployments", alice, json=dict(base, **{field: value}))
        assert r.status_code == 403 and "configure_kubernetes" in r.json()["message"], (field, r.text)
    grant = {"object_kind": "capability", "object_id": "configure_kubernetes", "user": "alice", "permission": "READ"}
    assert call(srv, "PUT", TG + "/permissions", ADMIN, json=grant).status_code == 200
    r = call(srv, "POST", TG + "/deployments", alice, json=dict(base, namespace="ml", tracking_uri="http://tamga.ml:5000"))
    assert r.status_code == 200, r.text
    # What a deployment already has may be sent back unchanged by someone without the capability.
    assert call(srv, "DELETE", TG + "/permissions", ADMIN,
                json={k: v for k, v in grant.items() if k != "permission"}).status_code == 200
    r = call(srv, "POST", TG + "/deployments", alice,
             json=dict(base, namespace="ml", tracking_uri="http://tamga.ml:5000", replicas=2))
    assert r.status_code == 200, r.text
