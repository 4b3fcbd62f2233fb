"""deploy/: Tamga's own images and Kubernetes manifests, checked without a container runtime.

Dockerfiles: every COPY source exists in the build context, the runtime stage installs the Debian package of
every shared library the built binary links, the final user is not root, and the ENTRYPOINT/CMD flags are
flags of the binary's subcommand. Kubernetes manifests: every object is valid against the Kubernetes OpenAPI
schema (strict), the kustomization lists files that exist, every `tamga` container's flags exist, and the
server Deployment's container runs as written (container_sandbox) and answers.
"""
import json
import os
import re
import shlex
import socket
import subprocess
import time

import pytest
import requests
import yaml

import container_sandbox
from tamga_harness import port_free

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOCKER = os.path.join(ROOT, "deploy", "docker")
K8S = os.path.join(ROOT, "deploy", "kubernetes")
BASE_IMAGE_LIBS = {"libc6", "libc6-i386", "libstdc++6", "libgcc-s1"}  # in debian:12-slim already


def instructions(path):
    """(INSTRUCTION, rest) pairs of a Dockerfile, continuation lines joined, comments dropped."""
    out, cur = [], ""
    for line in open(path):
        line = line.rstrip("\n")
        if not cur and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            cur += line[:-1] + " "
            continue
        cur += line
        word, _, rest = cur.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        cur = ""
    return out


def dockerfiles():
    return sorted(os.path.join(DOCKER, f) for f in os.listdir(DOCKER)
                  if f.startswith("Dockerfile") and not f.endswith(".dockerignore"))


def help_flags(tamga_bin, sub):
    out = subprocess.run([tamga_bin, sub, "--help"], capture_output=True, text=True, timeout=30).stdout
    return set(re.findall(r"(--[a-z0-9][a-z0-9-]*)", out))


def check_flags(tamga_bin, argv):
    """argv after `tamga`: its subcommand's flags must all exist."""
    sub, flags = argv[0], [a.split("=")[0] for a in argv[1:] if a.startswith("--")]
    known = help_flags(tamga_bin, sub)
    assert known, f"tamga {sub} has no --help"
    missing = [f for f in flags if f not in known]
    assert not missing, f"tamga {sub} has no flags {missing}"


@pytest.mark.parametrize("path", dockerfiles(), ids=os.path.basename)
def test_dockerfile_lint(path, tamga_bin):
    ins = instructions(path)
    assert ins[0][0] in ("FROM", "ARG"), "a Dockerfile starts with FROM (or ARG for it)"
    for word, rest in ins:
        if word in ("COPY", "ADD") and "--from=" not in rest:
            parts = [p for p in shlex.split(rest) if not p.startswith("--")]
            for src in parts[:-1]:
                assert os.path.exists(os.path.join(ROOT, src)), f"{os.path.basename(path)}: COPY source {src} missing"
    users = [rest for word, rest in ins if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root"), "the image must end as a non-root user"
    froms = [rest for word, rest in ins if word == "FROM"]
    entry = [json.loads(rest) for word, rest in ins if word == "ENTRYPOINT"]
    cmd = [json.loads(rest) for word, rest in ins if word == "CMD"]
    if entry:
        assert entry[-1][0] == "tamga"
        check_flags(tamga_bin, entry[-1][1:] + cmd[-1] if len(entry[-1]) > 1 else cmd[-1])
    if os.path.basename(path) == "Dockerfile":
        assert froms[-1].startswith("debian:12"), "Tamga's image is Debian 12"
        # Every shared library the binary links comes from a package the runtime stage installs.
        runtime = " ".join(rest for word, rest in ins[[w for w, _ in ins].index("FROM", 1):] if word == "RUN")
        needed = re.findall(r"\[(.*?)\]", subprocess.run(["readelf", "-d", tamga_bin], capture_output=True,
                                                          text=True).stdout)
        for lib in needed:
            if not lib.endswith(tuple(str(i) for i in range(10))) and ".so" not in lib:
                continue
            owner = subprocess.run(["dpkg", "-S", "*/" + lib], capture_output=True, text=True).stdout
            pkgs = {line.split(":")[0] for line in owner.splitlines() if line}
            assert pkgs, f"no Debian package ships {lib}"
            if pkgs & BASE_IMAGE_LIBS:
                continue
            assert any(re.search(r"(^|\s)" + re.escape(p) + r"(\s|$)", runtime) for p in pkgs), \
                f"the runtime stage does not install {pkgs} for {lib}"


def k8s_files():
    return sorted(os.path.join(K8S, f) for f in os.listdir(K8S) if f.endswith(".yaml") and f != "kustomization.yaml")


def containers(doc):
    spec = doc.get("spec", {})
    pod = spec.get("template", {}).get("spec") if "template" in spec else None
    return (pod or {}).get("containers", [])


def test_kubernetes_manifests_are_valid(k8s_validate, tamga_bin):
    kust = yaml.safe_load(open(os.path.join(K8S, "kustomization.yaml")))
    assert sorted(os.path.join(K8S, r) for r in kust["resources"]) == k8s_files()
    ok, report = k8s_validate(*k8s_files())
    assert ok, report
    seen = 0
    for f in k8s_files():
        for doc in yaml.safe_load_all(open(f)):
            for c in containers(doc or {}):
                assert c["command"][0] == "tamga"
                check_flags(tamga_bin, c["command"][1:] + [a for a in c.get("args", []) if not a.startswith("$(")])
                assert c["securityContext"]["readOnlyRootFilesystem"] is True
                seen += 1
    assert seen >= 2  # the server and the agents
    # Agents run Python jobs: the -python image, which no kustomize image override may rewrite.
    assert "images" not in kust
    agent = next(d for d in yaml.safe_load_all(open(os.path.join(K8S, "agent-gpu.yaml"))) if d["kind"] == "DaemonSet")
    assert agent["spec"]["template"]["spec"]["containers"][0]["image"].endswith("-python")


def test_server_manifest_runs_as_written(tamga_bin, tmp_path):
    reason = container_sandbox.available()
    if reason:
        pytest.fail("cannot run the container sandbox: " + reason)
    docs = list(yaml.safe_load_all(open(os.path.join(K8S, "server.yaml"))))
    dep = next(d for d in docs if d["kind"] == "Deployment")
    _, c = container_sandbox.pod_container(dep)
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    for p in ports.values():
        assert port_free(p), f"port {p} is taken on this machine; the server container needs it"
    log = tmp_path / "server.log"
    proc = container_sandbox.start(dep, tamga_bin, str(log), secrets={"tamga-admin": {"password": "pod-admin-pass"}})
    base = f"http://127.0.0.1:{ports['http']}"
    try:
        deadline = time.time() + 60
        while True:
            assert proc.poll() is None, "the server container exited:\n" + log.read_text()
            try:
                if requests.get(base + c["startupProbe"]["httpGet"]["path"], timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.time() < deadline, "the server never answered its startup probe:\n" + log.read_text()
            time.sleep(0.2)
        # Auth is on in the manifest: anonymous writes are refused, the admin from the secret may write.
        r = requests.post(base + "/api/2.0/mlflow/experiments/create", json={"name": "in-a-pod"})
        assert r.status_code == 401, r.text
        r = requests.post(base + "/api/2.0/mlflow/experiments/create", json={"name": "in-a-pod"},
                          auth=("admin", "pod-admin-pass"))
        assert r.status_code == 200, r.text
        assert "tamga_build_info" in requests.get(base + "/metrics").text  # --metrics-auth open
        with socket.create_connection(("127.0.0.1", ports["grpc"]), timeout=5):
            pass
    finally:
        proc.kill()
        proc.wait(timeout=30)
