"""Identity and access against a real `tamga server --auth on` (docs/identity.md, docs/security.md): modes and
bootstrap, HTTP Basic and access tokens the way the mlflow client sends them, MLflow's users and permissions
API, search filtering, agent tokens, the audit log, and that everything survives a restart."""
import base64
import json
import os
import stat
import subprocess

import pytest
import requests

from tamga_harness import TamgaServer

ADMIN = ("admin", "admin-pass-1234")
API = "/api/2.0/mlflow"


@pytest.fixture
def srv(tamga_bin):
    s = TamgaServer(tamga_bin, extra_args=["--auth", "on"], env={"TAMGA_ADMIN_PASSWORD": ADMIN[1]}).start()
    yield s
    s.cleanup()


def call(srv, method, path, auth=None, token=None, **kw):
    headers = kw.pop("headers", {})
    if token:
        headers["Authorization"] = "Bearer " + token
    return requests.request(method, srv.url + path, auth=auth, headers=headers, timeout=30, **kw)


def make_user(srv, name, password=None):
    password = password or name + "-pass-123"
    r = call(srv, "POST", API + "/users/create", ADMIN, json={"username": name, "password": password})
    assert r.status_code == 200, r.text
    return (name, password)


def make_token(srv, who, **body):
    r = call(srv, "POST", "/api/2.0/tamga/tokens", who, json={"name": "t", **body})
    assert r.status_code == 200, r.text
    return r.json()["token"], r.json()["token_info"]


def test_generated_admin_password_is_written_once_and_never_logged(tamga_bin):
    s = TamgaServer(tamga_bin, extra_args=["--auth", "on"]).start()
    try:
        path = os.path.join(s.data_dir, "initial-admin-password")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        password = open(path).read().strip()
        assert len(password) >= 20
        assert password not in s.read_log() and path in s.read_log()
        assert call(s, "GET", API + "/experiments/search", ("admin", password)).status_code == 200
        assert call(s, "GET", API + "/experiments/search", ("admin", "admin")).status_code == 401
        if not os.environ.get("TAMGA_TEST_PG_URI"):  # SQLite files: the server's user only
            assert stat.S_IMODE(os.stat(os.path.join(s.data_dir, "tamga.db")).st_mode) == 0o600
        # Once the admin changes it, the stale first password leaves the data dir.
        r = call(s, "PATCH", API + "/users/update-password", ("admin", password),
                 json={"username": "admin", "password": "a-new-admin-pass"})
        assert r.status_code == 200 and not os.path.exists(path)
    finally:
        s.cleanup()


def test_auth_off_refuses_a_public_address_unless_insecure(tamga_bin, tmp_path):
    r = subprocess.run([tamga_bin, "server", "--host", "0.0.0.0", "--port", "0", "--data-dir", str(tmp_path / "d")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "--auth on" in r.stderr + r.stdout
    s = TamgaServer(tamga_bin, extra_args=["--host", "0.0.0.0", "--insecure-no-auth"]).start()
    try:
        assert call(s, "POST", API + "/experiments/create", json={"name": "open"}).status_code == 200
    finally:
        s.cleanup()


def test_unauthenticated_requests_get_401_in_mlflow_shape(srv):
    for headers in ({}, {"Authorization": "Basic !!!"}, {"Authorization": "Digest x"},
                    {"Authorization": "Bearer tmg_" + "A" * 43}, {"Authorization": "Bearer not-a-jwt"},
                    {"Authorization": "Basic " + base64.b64encode(b"admin:wrong").decode()}):
        r = call(srv, "GET", API + "/experiments/search", headers=headers)
        assert r.status_code == 401, (headers, r.text)
        assert r.json()["error_code"] == "UNAUTHENTICATED"
        assert r.headers["WWW-Authenticate"].startswith("Basic")
    # Open routes, and the refused body is never read.
    assert call(srv, "GET", "/health").status_code == 200
    assert call(srv, "GET", "/version").status_code == 200
    assert call(srv, "GET", "/metrics").status_code == 401
    r = call(srv, "POST", API + "/runs/log-batch", data=b"x" * (8 << 20),
             headers={"Content-Type": "application/json"})
    assert r.status_code == 401


def test_users_api_and_who_may_call_it(srv):
    bob = make_user(srv, "bob")
    r = call(srv, "POST", API + "/users/create", ADMIN, json={"username": "bob", "password": "another-1234"})
    assert r.status_code == 400 and r.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
    assert call(srv, "POST", API + "/users/create", bob, json={"username": "x", "password": "x-pass-1234"}).status_code == 403
    r = call(srv, "GET", API + "/users/get", bob, params={"username": "bob"})
    assert r.status_code == 200 and r.json()["user"]["username"] == "bob" and r.json()["user"]["is_admin"] is False
    assert call(srv, "GET", API + "/users/get", bob, params={"username": "admin"}).status_code == 403
    assert call(srv, "PATCH", API + "/users/update-admin", bob, json={"username": "bob", "is_admin": True}).status_code == 403
    r = call(srv, "PATCH", API + "/users/update-password", bob, json={"username": "bob", "password": "new-pass-1234"})
    assert r.status_code == 200
    assert call(srv, "GET", API + "/experiments/search", bob).status_code == 401  # the old password is gone at once
    bob = ("bob", "new-pass-1234")
    assert call(srv, "GET", API + "/experiments/search", bob).status_code == 200
    r = call(srv, "PATCH", API + "/users/update-admin", ADMIN, json={"username": "bob", "is_admin": True})
    assert r.status_code == 200
    assert call(srv, "GET", API + "/users/get", bob, params={"username": "admin"}).status_code == 200
    assert call(srv, "DELETE", API + "/users/delete", ADMIN, json={"username": "bob"}).status_code == 200
    assert call(srv, "GET", API + "/experiments/search", bob).status_code == 401
    r = call(srv, "DELETE", API + "/users/delete", ADMIN, json={"username": "admin"})
    assert r.status_code == 400, "the last admin cannot be deleted"


def test_permissions_creator_reader_and_hidden_objects(srv):
    owner, reader, hidden = make_user(srv, "owner"), make_user(srv, "reader"), make_user(srv, "hidden")
    exp = call(srv, "POST", API + "/experiments/create", owner, json={"name": "private"}).json()["experiment_id"]
    run = call(srv, "POST", API + "/runs/create", owner, json={"experiment_id": exp}).json()["run"]["info"]["run_id"]
    assert call(srv, "POST", API + "/registered-models/create", owner, json={"name": "m1"}).status_code == 200
    u = call(srv, "GET", API + "/users/get", owner, params={"username": "owner"}).json()["user"]
    assert {"experiment_id": exp, "user_id": u["id"], "permission": "MANAGE"} in u["experiment_permissions"]
    assert [p["name"] for p in u["registered_model_permissions"]] == ["m1"]
    # The default is READ: the reader reads, cannot write.
    assert call(srv, "GET", API + "/runs/get", reader, params={"run_id": run}).status_code == 200
    r = call(srv, "POST", API + "/runs/log-metric", reader, json={"run_id": run, "key": "k", "value": 1, "timestamp": 1})
    assert r.status_code == 403 and r.json()["error_code"] == "PERMISSION_DENIED"
    assert call(srv, "POST", API + "/experiments/delete", reader, json={"experiment_id": exp}).status_code == 403
    # The owner grants: EDIT lets the reader log, and NO_PERMISSIONS hides the objects from "hidden".
    for body in ({"experiment_id": exp, "username": "reader", "permission": "EDIT"},
                 {"experiment_id": exp, "username": "hidden", "permission": "NO_PERMISSIONS"}):
        assert call(srv, "POST", API + "/experiments/permissions/create", owner, json=body).status_code == 200
    r = call(srv, "POST", API + "/experiments/permissions/create", owner,
             json={"experiment_id": exp, "username": "reader", "permission": "EDIT"})
    assert r.status_code == 400 and r.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
    r = call(srv, "POST", API + "/experiments/permissions/create", owner,
             json={"experiment_id": exp, "username": "reader", "permission": "SUPER"})
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert call(srv, "POST", API + "/runs/log-metric", reader,
                json={"run_id": run, "key": "k", "value": 1, "timestamp": 1}).status_code == 200
    assert call(srv, "POST", API + "/experiments/permissions/create", reader,
                json={"experiment_id": exp, "username": "hidden", "permission": "READ"}).status_code == 403
    r = call(srv, "POST", API + "/registered-models/permissions/create", owner,
             json={"name": "m1", "username": "hidden", "permission": "NO_PERMISSIONS"})
    assert r.status_code == 200 and r.json()["registered_model_permission"]["permission"] == "NO_PERMISSIONS"
    assert call(srv, "GET", API + "/runs/get", hidden, params={"run_id": run}).status_code == 403
    assert call(srv, "GET", API + "/experiments/get-by-name", hidden, params={"experiment_name": "private"}).status_code == 403
    names = [e["name"] for e in call(srv, "GET", API + "/experiments/search", hidden).json().get("experiments", [])]
    assert names == ["Default"]
    assert call(srv, "POST", API + "/runs/search", hidden, json={"experiment_ids": [exp]}).status_code == 403
    assert "registered_models" not in call(srv, "GET", API + "/registered-models/search", hidden).json()
    assert len(call(srv, "GET", API + "/registered-models/search", reader).json()["registered_models"]) == 1
    # Artifacts follow the run's experiment.
    path = f"/api/2.0/mlflow-artifacts/artifacts/{exp}/{run}/artifacts/a.txt"
    assert call(srv, "PUT", path, owner, data=b"secret").status_code == 200
    assert call(srv, "GET", path, hidden).status_code == 403
    assert call(srv, "GET", path, reader).content == b"secret"
    assert call(srv, "PUT", path, ("hidden", "hidden-pass-123"), data=b"x").status_code == 403
    # Grants change and disappear.
    assert call(srv, "PATCH", API + "/experiments/permissions/update", owner,
                json={"experiment_id": exp, "username": "hidden", "permission": "READ"}).status_code == 200
    assert call(srv, "GET", API + "/runs/get", hidden, params={"run_id": run}).status_code == 200
    assert call(srv, "DELETE", API + "/experiments/permissions/delete", owner,
                json={"experiment_id": exp, "username": "hidden"}).status_code == 200
    r = call(srv, "GET", API + "/experiments/permissions/get", owner, params={"experiment_id": exp, "username": "hidden"})
    assert r.status_code == 404 and r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_the_check_judges_the_object_the_handler_acts_on(srv):
    # Two ways a body could name one run to the check and another to the handler: a duplicate key (parsers
    # disagree on which wins) and an empty run_id beside a run_uuid (the handlers fall back to run_uuid).
    owner, other = make_user(srv, "owner"), make_user(srv, "other")
    exp = call(srv, "POST", API + "/experiments/create", owner, json={"name": "victim"}).json()["experiment_id"]
    victim = call(srv, "POST", API + "/runs/create", owner, json={"experiment_id": exp}).json()["run"]["info"]["run_id"]
    mine = call(srv, "POST", API + "/runs/create", other, json={"experiment_id": "0"})
    assert mine.status_code == 403  # the Default experiment is READ for everyone but admins
    own_exp = call(srv, "POST", API + "/experiments/create", other, json={"name": "mine"}).json()["experiment_id"]
    mine = call(srv, "POST", API + "/runs/create", other, json={"experiment_id": own_exp}).json()["run"]["info"]["run_id"]
    metric = '"key": "k", "value": 1, "timestamp": 1'
    for body in ('{"run_id": "%s", "run_id": "%s", %s}' % (mine, victim, metric),
                 '{"run_id": "%s", "run_id": "%s", %s}' % (victim, mine, metric),
                 '{"run_id": "", "run_uuid": "%s", %s}' % (victim, metric),
                 '{"run_uuid": "%s", "run_id": "", %s}' % (victim, metric)):
        for route in ("/runs/log-metric", "/runs/log-batch", "/runs/set-tag"):
            r = call(srv, "POST", API + route, other, data=body, headers={"Content-Type": "application/json"})
            assert r.status_code in (400, 403), (route, body, r.status_code, r.text)
    hist = call(srv, "GET", API + "/metrics/get-history", owner, params={"run_id": victim, "metric_key": "k"}).json()
    assert not hist.get("metrics")


def test_teams_and_grants_on_queues(srv):
    ana, ben = make_user(srv, "ana"), make_user(srv, "ben")
    assert call(srv, "POST", "/api/2.0/tamga/queues", ADMIN, json={"name": "gpu"}).status_code == 200
    job = {"queue": "gpu", "command": ["true"]}
    assert call(srv, "POST", "/api/2.0/tamga/jobs", ana, json=job).status_code == 403  # READ by default
    # Admin makes ana maintainer of "vision" and grants the team EDIT on the queue; ana adds ben.
    r = call(srv, "PUT", "/api/2.0/tamga/teams/members", ADMIN, json={"team": "vision", "username": "ana", "role": "maintainer"})
    assert r.status_code == 200, r.text
    r = call(srv, "PUT", "/api/2.0/tamga/permissions", ADMIN,
             json={"object_kind": "queue", "object_id": "gpu", "team": "vision", "permission": "EDIT"})
    assert r.status_code == 200, r.text
    r = call(srv, "PUT", "/api/2.0/tamga/permissions", ADMIN,  # the jobs' runs go to the Default experiment
             json={"object_kind": "experiment", "object_id": "0", "team": "vision", "permission": "EDIT"})
    assert r.status_code == 200, r.text
    assert call(srv, "POST", "/api/2.0/tamga/jobs", ana, json=job).status_code == 200
    assert call(srv, "POST", "/api/2.0/tamga/jobs", ben, json=job).status_code == 403
    assert call(srv, "PUT", "/api/2.0/tamga/teams/members", ana, json={"team": "vision", "username": "ben"}).status_code == 200
    assert call(srv, "PUT", "/api/2.0/tamga/teams/members", ana,
                json={"team": "vision", "username": "ben", "role": "maintainer"}).status_code == 403
    assert call(srv, "PUT", "/api/2.0/tamga/teams/members", ben, json={"team": "other", "username": "ben"}).status_code == 403
    assert call(srv, "POST", "/api/2.0/tamga/jobs", ben, json=job).status_code == 200
    assert call(srv, "GET", "/api/2.0/tamga/whoami", ben).json()["teams"] == ["vision"]
    members = call(srv, "GET", "/api/2.0/tamga/teams", ben, params={"team": "vision"}).json()["members"]
    assert [(m["username"], m["role"]) for m in members] == [("ana", "maintainer"), ("ben", "member")]
    grants = call(srv, "GET", "/api/2.0/tamga/permissions", ADMIN, params={"object_kind": "queue", "object_id": "gpu"}).json()
    assert grants["permissions"] == [{"team": "vision", "permission": "EDIT"}] and grants["default_permission"] == "READ"
    assert call(srv, "GET", "/api/2.0/tamga/permissions", ana, params={"object_kind": "queue", "object_id": "gpu"}).status_code == 403
    # Team grants on experiments work the same; removing the member removes the access at once.
    exp = call(srv, "POST", API + "/experiments/create", ADMIN, json={"name": "team-exp"}).json()["experiment_id"]
    call(srv, "PUT", "/api/2.0/tamga/permissions", ADMIN,
         json={"object_kind": "experiment", "object_id": exp, "team": "vision", "permission": "EDIT"})
    assert call(srv, "POST", API + "/runs/create", ben, json={"experiment_id": exp}).status_code == 200
    assert call(srv, "DELETE", "/api/2.0/tamga/teams/members", ana, json={"team": "vision", "username": "ben"}).status_code == 200
    assert call(srv, "POST", API + "/runs/create", ben, json={"experiment_id": exp}).status_code == 403
    r = call(srv, "PUT", "/api/2.0/tamga/permissions", ADMIN, json={"object_kind": "planet", "object_id": "x", "user": "ana", "permission": "READ"})
    assert r.status_code == 400


def test_registering_a_version_needs_read_on_its_source(srv):
    # Found by the hostile review: a model version copies its source's files into a registry copy; registering
    # someone else's run artifacts in one's own model must not reveal them.
    owner, mallory = make_user(srv, "owner"), make_user(srv, "mallory")
    exp = call(srv, "POST", API + "/experiments/create", owner, json={"name": "private"}).json()["experiment_id"]
    run = call(srv, "POST", API + "/runs/create", owner, json={"experiment_id": exp}).json()["run"]["info"]["run_id"]
    assert call(srv, "PUT", f"/api/2.0/mlflow-artifacts/artifacts/{exp}/{run}/artifacts/m/MLmodel", owner,
                data=b"SECRET").status_code == 200
    call(srv, "POST", API + "/experiments/permissions/create", owner,
         json={"experiment_id": exp, "username": "mallory", "permission": "NO_PERMISSIONS"})
    assert call(srv, "POST", API + "/registered-models/create", owner, json={"name": "owned"}).status_code == 200
    r = call(srv, "POST", API + "/model-versions/create", owner,
             json={"name": "owned", "source": f"mlflow-artifacts:/{exp}/{run}/artifacts/m", "run_id": run})
    assert r.status_code == 200, r.text
    copy = call(srv, "GET", API + "/model-versions/get-download-uri", owner,
                params={"name": "owned", "version": "1"}).json()["artifact_uri"]
    assert call(srv, "POST", API + "/registered-models/create", mallory, json={"name": "mine"}).status_code == 200
    call(srv, "POST", API + "/registered-models/permissions/create", owner,
         json={"name": "owned", "username": "mallory", "permission": "NO_PERMISSIONS"})
    for source, run_id in ((f"mlflow-artifacts:/{exp}/{run}/artifacts/m", run), (f"mlflow-artifacts:/{exp}/{run}/artifacts/m", None),
                           (f"runs:/{run}/m", None), ("models:/owned/1", None), (copy, None), ("mlflow-artifacts:/", None)):
        body = {"name": "mine", "source": source}
        if run_id:
            body["run_id"] = run_id
        r = call(srv, "POST", API + "/model-versions/create", mallory, json=body)
        assert r.status_code == 403, (source, r.text)
    copy_path = "/api/2.0/mlflow-artifacts/artifacts/" + copy.split(":/", 1)[1]
    assert call(srv, "GET", copy_path + "/MLmodel", mallory).status_code == 403
    assert call(srv, "GET", copy_path + "/MLmodel", owner).content == b"SECRET"
    assert call(srv, "GET", "/api/2.0/mlflow-artifacts/artifacts", mallory, params={"path": "_registry"}).status_code == 403
    # Events of models one cannot read are left out.
    events = call(srv, "GET", "/api/2.0/tamga/events", mallory, params={"after": 0}).json()["events"]
    assert all(e.get("model_name") != "owned" for e in events) and any(e.get("model_name") == "mine" for e in events)


def test_tokens_and_sessions_do_not_become_passwords(srv):
    bob = make_user(srv, "bob")
    token, _ = make_token(srv, bob)
    r = call(srv, "PATCH", API + "/users/update-password", token=token, json={"username": "bob", "password": "stolen-1234"})
    assert r.status_code == 403
    r = call(srv, "POST", "/api/2.0/tamga/tokens", token=token, json={"name": "forever", "expires_in_days": 0})
    assert r.status_code == 403
    admin_token, _ = make_token(srv, ADMIN)  # an admin's token cannot make itself permanent either
    r = call(srv, "POST", "/api/2.0/tamga/tokens", token=admin_token, json={"name": "forever", "expires_in_days": 0})
    assert r.status_code == 403
    denied = call(srv, "GET", "/api/2.0/tamga/audit", ADMIN, params={"outcome": "denied", "max_results": 1000}).json()
    assert any(e["route"] == "/api/2.0/tamga/tokens" and e["status"] == 403 for e in denied["entries"])
    assert call(srv, "GET", "/api/2.0/tamga/audit", ADMIN, params={"outcome": "nope"}).status_code == 400
    r = call(srv, "PUT", "/api/2.0/tamga/permissions", ADMIN,
             json={"object_kind": "queue", "object_id": "no-such-queue", "user": "bob", "permission": "EDIT"})
    assert r.status_code == 404
    # Two Authorization headers: refused, never one of them picked.
    raw = "GET /api/2.0/tamga/whoami HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nAuthorization: Basic %s\r\n\r\n" % (
        token, base64.b64encode(b"admin:" + ADMIN[1].encode()).decode())
    import socket
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:
        sock.sendall(raw.encode())
        assert sock.recv(65536).split(b"\r\n", 1)[0].endswith(b"400 Bad Request")
    # A valid token with another username says no more than a wrong password.
    r = call(srv, "GET", "/api/2.0/tamga/whoami", ("admin", token))
    assert r.status_code == 401 and "Invalid username or password" in r.json()["message"]
    for name in ("tamga-internal", " bob2", "bob2 "):
        r = call(srv, "POST", API + "/users/create", ADMIN, json={"username": name, "password": "pass-12345"})
        assert r.status_code == 400, name


def test_only_admins_choose_artifact_locations(srv):
    bob = make_user(srv, "bob")
    r = call(srv, "POST", API + "/experiments/create", bob, json={"name": "e", "artifact_location": "mlflow-artifacts:/0"})
    assert r.status_code == 403
    r = call(srv, "POST", API + "/experiments/create", ADMIN, json={"name": "e", "artifact_location": "/tmp/x"})
    assert r.status_code == 200


def test_tokens_bearer_basic_revoke(srv):
    bob = make_user(srv, "bob")
    token, info = make_token(srv, bob, name="laptop", expires_in_days=30)
    assert token.startswith("tmg_") and info["username"] == "bob" and info["expires_ms"] > 0
    assert call(srv, "GET", "/api/2.0/tamga/whoami", token=token).json()["authenticated_by"] == "token"
    assert call(srv, "GET", API + "/experiments/search", ("bob", token)).status_code == 200  # MLflow's Basic
    assert call(srv, "GET", API + "/experiments/search", ("admin", token)).status_code == 401
    listed = call(srv, "GET", "/api/2.0/tamga/tokens", bob).json()["tokens"]
    assert [t["id"] for t in listed] == [info["id"]] and "token" not in listed[0]
    assert token not in srv.read_log()
    # Others cannot see or revoke it; bob cannot mint agent tokens or tokens for others.
    eve = make_user(srv, "eve")
    assert call(srv, "DELETE", "/api/2.0/tamga/tokens/" + info["id"], eve).status_code == 404
    assert call(srv, "POST", "/api/2.0/tamga/tokens", bob, json={"name": "a", "role": "agent", "queues": ["q"]}).status_code == 403
    assert call(srv, "POST", "/api/2.0/tamga/tokens", bob, json={"name": "a", "username": "eve"}).status_code == 403
    assert call(srv, "DELETE", "/api/2.0/tamga/tokens/" + info["id"], bob).status_code == 200
    assert call(srv, "GET", API + "/experiments/search", token=token).status_code == 401  # revoked at once


def test_agent_tokens_work_only_on_agent_routes(srv):
    token, info = make_token(srv, ADMIN, name="gpu-node", role="agent", queues=["gpu"])
    assert info["role"] == "agent" and info["queues"] == ["gpu"]
    r = call(srv, "POST", "/api/2.0/tamga/agents/register", token=token,
             json={"name": "a1", "queues": ["gpu"], "cpus": 1, "memory_bytes": 1 << 30, "gpus": []})
    assert r.status_code not in (401, 403), r.text
    assert call(srv, "GET", API + "/experiments/search", token=token).status_code == 403
    assert call(srv, "POST", "/api/2.0/tamga/agents/register", make_user(srv, "bob"), json={}).status_code == 403
    # The queues an agent reports are its token's, wherever the body names them (the agent sends a report).
    for body in ({"report": {"name": "a2", "queues": ["cpu"]}}, {"report": {"name": "a2", "queues": ["gpu", "cpu"]}},
                 {"queues": ["cpu"]}):
        r = call(srv, "POST", "/api/2.0/tamga/agents/register", token=token, json=body)
        assert r.status_code == 403, (body, r.text)
    r = call(srv, "POST", "/api/2.0/tamga/agents/register", token=token, json={"report": {"name": "a3", "queues": ["gpu"]}})
    assert r.status_code not in (401, 403), r.text


def test_audit_log_records_changes_and_denials(srv):
    bob = make_user(srv, "bob")
    call(srv, "POST", API + "/users/create", bob, json={"username": "x", "password": "x-pass-1234"})
    call(srv, "GET", API + "/experiments/search")
    assert call(srv, "GET", "/api/2.0/tamga/audit", bob).status_code == 403
    entries = call(srv, "GET", "/api/2.0/tamga/audit", ADMIN, params={"max_results": 1000}).json()["entries"]
    got = {(e["principal"], e["route"], e["outcome"], e["status"]) for e in entries}
    assert ("admin", API + "/users/create", "ok", 200) in got
    assert ("bob", API + "/users/create", "denied", 403) in got
    assert ("anonymous", API + "/experiments/search", "denied", 401) in got
    denied = call(srv, "GET", "/api/2.0/tamga/audit", ADMIN, params={"outcome": "denied"}).json()["entries"]
    assert denied and all(e["outcome"] == "denied" for e in denied)


def test_identity_survives_a_restart(tamga_bin, tmp_path):
    d = str(tmp_path)
    s = TamgaServer(tamga_bin, data_dir=d, extra_args=["--auth", "on"], env={"TAMGA_ADMIN_PASSWORD": ADMIN[1]}).start()
    bob = make_user(s, "bob")
    token, _ = make_token(s, bob)
    exp = call(s, "POST", API + "/experiments/create", bob, json={"name": "keep"}).json()["experiment_id"]
    s.kill9()
    s = TamgaServer(tamga_bin, data_dir=d, extra_args=["--auth", "on"], env={"TAMGA_ADMIN_PASSWORD": "ignored-now"}).start()
    try:
        assert call(s, "GET", API + "/experiments/search", ADMIN).status_code == 200
        assert call(s, "GET", "/api/2.0/tamga/whoami", token=token).json()["username"] == "bob"
        u = call(s, "GET", API + "/users/get", bob, params={"username": "bob"}).json()["user"]
        assert u["experiment_permissions"][0]["experiment_id"] == exp
    finally:
        s.stop()


def test_cli_carries_tokens(srv, tamga_bin):
    token, _ = make_token(srv, ADMIN)
    env = dict(os.environ, TAMGA_TRACKING_URI=srv.url)
    env.pop("TAMGA_TOKEN", None)
    r = subprocess.run([tamga_bin, "queues", "ls", "--json"], env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "UNAUTHENTICATED" in r.stderr
    r = subprocess.run([tamga_bin, "queues", "ls", "--json", "--token", token], env=env, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    env.update(MLFLOW_TRACKING_USERNAME=ADMIN[0], MLFLOW_TRACKING_PASSWORD=ADMIN[1])
    r = subprocess.run([tamga_bin, "queues", "ls", "--json"], env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    # tamga tokens create | ls | revoke
    r = subprocess.run([tamga_bin, "tokens", "create", "laptop", "--expires-in-days", "7"], env=env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.strip().startswith("tmg_") and "shown once" in r.stderr, r.stderr
    new_token = r.stdout.strip()
    r = subprocess.run([tamga_bin, "tokens", "ls", "--json"], env=env, capture_output=True, text=True, timeout=30)
    listed = [t for t in json.loads(r.stdout)["tokens"] if t["name"] == "laptop"]
    assert len(listed) == 1 and new_token not in r.stdout
    r = subprocess.run([tamga_bin, "tokens", "revoke", listed[0]["id"]], env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert call(srv, "GET", "/api/2.0/tamga/whoami", token=new_token).status_code == 401
