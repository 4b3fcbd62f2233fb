"""Registry end to end over real HTTP: log a model, register it, move an alias, and check that a signed
webhook arrives at a real local receiver and a git commit with correct manifests lands in the GitOps
folder. Also: webhook retries (503 + Retry-After), delivery resumed after kill -9, and the outbox
invariant (a change and its event commit together) under kill -9."""
import base64
import hashlib
import hmac
import http.server
import json
import os
import subprocess
import threading
import time

import pytest
import requests
import yaml

from tamga_harness import TamgaServer

API = "/api/2.0/mlflow"


class Receiver:
    """A real HTTP server on loopback that records webhook deliveries; `fail_first` answers 503 first."""

    def __init__(self, fail_first=0, retry_after="0"):
        self.received = []
        self.attempts = 0
        self.fail_first = fail_first
        self.retry_after = retry_after
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.attempts += 1
                if outer.attempts <= outer.fail_first:
                    self.send_response(503)
                    self.send_header("Retry-After", outer.retry_after)
                    self.end_headers()
                    return
                outer.received.append((dict(self.headers), body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/hook" % self.port

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def wait_for(pred, timeout=15.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met within %.1fs" % timeout)


# The receivers here listen on loopback, which webhook deliveries refuse unless an operator allows it.
LOOPBACK_HOOKS = ["--outbound-allow", "127.0.0.1"]


@pytest.fixture
def server(tamga_bin):
    s = TamgaServer(tamga_bin, extra_args=LOOPBACK_HOOKS).start()
    yield s
    s.cleanup()


def post(server, path, body):
    r = requests.post(server.url + path, json=body, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def log_model(server, files):
    run = post(server, API + "/runs/create", {"experiment_id": "0"})["run"]["info"]["run_id"]
    for name, content in files.items():
        r = requests.put("%s/api/2.0/mlflow-artifacts/artifacts/0/%s/artifacts/model/%s" % (server.url, run, name),
                         data=content, timeout=30)
        assert r.status_code == 200, r.text
    return run


def verify_signature(secret, headers, body):
    delivery_id = headers["X-MLflow-Delivery-Id"]
    ts = headers["X-MLflow-Timestamp"]
    expected = base64.b64encode(hmac.new(secret.encode(), ("%s.%s." % (delivery_id, ts)).encode() + body,
                                         hashlib.sha256).digest()).decode()
    assert headers["X-MLflow-Signature"] == "v1," + expected


def test_log_register_promote_webhook_and_git_commit(server):
    receiver = Receiver()
    try:
        secret = "s3cr3t"
        hook = post(server, API + "/webhooks", {
            "name": "ci", "url": receiver.url, "secret": secret,
            "events": [{"entity": "MODEL_VERSION_ALIAS", "action": "CREATED"}, "model_version.created"]})["webhook"]
        assert "secret" not in hook
        run = log_model(server, {"MLmodel": "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n",
                                 "model.pkl": b"\x00weights"})
        # mlflow.register_model("runs:/<run>/model", "fraud") as the 2.12 client sends it.
        post(server, API + "/registered-models/create", {"name": "fraud"})
        v1 = post(server, API + "/model-versions/create",
                  {"name": "fraud", "source": "mlflow-artifacts:/0/%s/artifacts/model" % run, "run_id": run})
        assert v1["model_version"]["version"] == "1"
        spec = {"name": "fraud-api", "model_name": "fraud", "alias": "production", "min_replicas": 2,
                "max_replicas": 5, "gpu_count": 1, "gpu_product": "NVIDIA-A100-SXM4-40GB", "memory": "8Gi",
                "ingress_host": "fraud.example.com"}
        post(server, "/api/2.0/tamga/deployments", spec)
        post(server, API + "/registered-models/alias", {"name": "fraud", "alias": "production", "version": "1"})

        # A signed MLflow-shaped webhook for the alias.
        def alias_delivery():
            for headers, body in receiver.received:
                if json.loads(body)["entity"] == "model_version_alias":
                    return headers, body
            return None
        headers, body = wait_for(alias_delivery)
        verify_signature(secret, headers, body)
        payload = json.loads(body)
        assert payload["action"] == "created"
        assert payload["data"] == {"name": "fraud", "alias": "production", "version": "1"}
        assert payload["timestamp"].endswith("+00:00")

        # A git commit of correct manifests.
        gitops = os.path.join(server.data_dir, "gitops")
        folder = os.path.join(gitops, "default", "fraud-api")
        def git_log():
            r = subprocess.run(["git", "-C", gitops, "log", "--format=%s%n%b"], capture_output=True, text=True)
            return r.stdout if r.returncode == 0 and "fraud-api" in r.stdout else None
        log = wait_for(git_log)
        assert "deploy fraud-api: fraud version 1 (@production)" in log
        with open(os.path.join(folder, "deployment.yaml")) as f:
            dep = yaml.safe_load(f)
        assert dep["apiVersion"] == "apps/v1" and dep["kind"] == "Deployment"
        assert dep["metadata"]["labels"]["app.kubernetes.io/version"] == "1"
        assert dep["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "tamga"
        assert "replicas" not in dep["spec"]  # the HPA owns the replica count
        pod = dep["spec"]["template"]["spec"]
        c = pod["containers"][0]
        assert c["command"] == ["tamga", "serve"]
        assert "models:/fraud/1" in c["args"]
        assert c["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
        assert c["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
        assert c["startupProbe"]["httpGet"]["path"] == "/v2/health/ready"
        assert c["resources"]["limits"]["nvidia.com/gpu"] == 1
        assert pod["nodeSelector"]["nvidia.com/gpu.product"] == "NVIDIA-A100-SXM4-40GB"
        assert dep["spec"]["selector"]["matchLabels"].items() <= dep["spec"]["template"]["metadata"]["labels"].items()
        with open(os.path.join(folder, "hpa.yaml")) as f:
            hpa = yaml.safe_load(f)
        assert hpa["spec"]["minReplicas"] == 2 and hpa["spec"]["maxReplicas"] == 5
        with open(os.path.join(folder, "Dockerfile")) as f:
            docker = f.read()
            # An sklearn (python_function only) model on a GPU tier: the CUDA + Python runtime image.
            assert "\nARG TAMGA_IMAGE=ghcr.io/tamga-mlops/tamga:" in docker and "-cuda-python\n" in docker
        assert c["image"] == "tamga-model-fraud-api:v1"

        # Promote version 2: a second commit pins the new version; the old one is unchanged in history.
        run2 = log_model(server, {"MLmodel": "flavors: {}\n"})
        post(server, API + "/model-versions/create", {"name": "fraud", "source": "runs:/%s/model" % run2})
        post(server, API + "/registered-models/alias", {"name": "fraud", "alias": "production", "version": "2"})

        def v2_committed():
            with open(os.path.join(folder, "deployment.yaml")) as f:
                return "models:/fraud/2" in f.read()
        wait_for(v2_committed)
        wait_for(lambda: subprocess.run(["git", "-C", gitops, "rev-list", "--count", "HEAD"], capture_output=True,
                                        text=True).stdout.strip() == "2")
        count = subprocess.run(["git", "-C", gitops, "rev-list", "--count", "HEAD"], capture_output=True, text=True,
                               check=True).stdout.strip()
        assert count == "2"
        last = subprocess.run(["git", "-C", gitops, "log", "-1", "--format=%s%n%b"], capture_output=True, text=True,
                              check=True).stdout
        assert "deploy fraud-api: fraud version 2 (@production)" in last
        assert "model_version_alias.created" in last
        # Delivery log: every delivery succeeded once.
        deliveries = requests.get(server.url + "/api/2.0/tamga/webhooks/%s/deliveries" % hook["webhook_id"],
                                  timeout=10).json()["deliveries"]
        wait_for(lambda: len(requests.get(server.url + "/api/2.0/tamga/webhooks/%s/deliveries" % hook["webhook_id"],
                                          timeout=10).json()["deliveries"]) == 4)
        assert all(d["state"] in ("succeeded", "pending") for d in deliveries)
    finally:
        receiver.close()


def test_webhook_retries_on_503_honouring_retry_after(server):
    receiver = Receiver(fail_first=2, retry_after="0")
    try:
        hook = post(server, API + "/webhooks", {"name": "r", "url": receiver.url,
                                                "events": ["registered_model.created"]})["webhook"]
        post(server, API + "/registered-models/create", {"name": "m"})
        wait_for(lambda: receiver.received)

        def recorded():
            d = requests.get(server.url + "/api/2.0/tamga/webhooks/%s/deliveries" % hook["webhook_id"],
                             timeout=10).json()["deliveries"]
            return d if d and d[0]["state"] == "succeeded" else None
        # The receiver answers before the server records the outcome: wait for the record, not just the post.
        d = wait_for(recorded)
        # Two 503s, then the success (at least once: a reply lost on a loaded machine is retried too).
        assert len(d) == 1 and d[0]["last_status"] == 200 and d[0]["attempts"] >= 3
        assert d[0]["attempts"] == receiver.attempts
        # Without a secret there is no signature header.
        assert "X-MLflow-Signature" not in receiver.received[0][0]
    finally:
        receiver.close()


def test_final_status_is_not_retried_and_slow_receivers_do_not_stall_the_api(tamga_bin):
    class Slow(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            time.sleep(3)
            self.send_response(400)
            self.end_headers()

        def log_message(self, *args):
            pass
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    server = TamgaServer(tamga_bin, extra_args=LOOPBACK_HOOKS + ["--webhook-timeout-ms", "1000"]).start()
    try:
        hook = post(server, API + "/webhooks", {"name": "s", "url": "http://127.0.0.1:%d/" % httpd.server_address[1],
                                                "events": ["registered_model.created"]})["webhook"]
        t0 = time.time()
        for i in range(20):
            post(server, API + "/registered-models/create", {"name": "m%d" % i})
        assert time.time() - t0 < 5  # the API never waits for the receiver
        url = server.url + "/api/2.0/tamga/webhooks/%s/deliveries?max_results=100" % hook["webhook_id"]
        # Each attempt times out after 1 s and is retried with backoff: still pending, with attempts and errors.
        d = wait_for(lambda: [x for x in requests.get(url, timeout=10).json()["deliveries"] if x["attempts"] >= 1])
        assert d[0].get("last_status", 0) == 0 and "timed out" in d[0]["last_error"]
    finally:
        server.cleanup()
        httpd.shutdown()


def test_deliveries_resume_after_kill9(tamga_bin):
    receiver = Receiver()
    port = receiver.port
    receiver.close()  # nothing listens yet: the first attempts fail and stay pending
    server = TamgaServer(tamga_bin, extra_args=LOOPBACK_HOOKS).start()
    try:
        post(server, API + "/webhooks", {"name": "r", "url": "http://127.0.0.1:%d/hook" % port,
                                         "events": ["registered_model.created"]})
        post(server, API + "/registered-models/create", {"name": "durable"})
        time.sleep(0.5)
        server.kill9()
        received = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                received.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass
        # The receiver comes back on the same port; the restarted server resumes the pending delivery.
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        server.start()
        wait_for(lambda: received, timeout=20)
        assert json.loads(received[0])["data"]["name"] == "durable"
        httpd.shutdown()
    finally:
        server.cleanup()


def test_outbox_invariant_under_kill9(tamga_bin):
    """Writers create versions and move aliases while the server is killed; afterwards every live version
    has exactly one model_version.created event and every such event's version exists."""
    server = TamgaServer(tamga_bin, extra_args=LOOPBACK_HOOKS).start()
    try:
        for m in range(4):
            post(server, API + "/registered-models/create", {"name": "m%d" % m})
        acked = []
        stop = threading.Event()

        def writer(m):
            s = requests.Session()
            while not stop.is_set():
                try:
                    r = s.post(server.url + API + "/model-versions/create",
                               json={"name": "m%d" % m, "source": "s3://b/m%d" % m}, timeout=5)
                    if r.status_code == 200:
                        v = r.json()["model_version"]["version"]
                        acked.append(("m%d" % m, v))
                        s.post(server.url + API + "/registered-models/alias",
                               json={"name": "m%d" % m, "alias": "prod", "version": v}, timeout=5)
                except requests.RequestException:
                    return
        threads = [threading.Thread(target=writer, args=(m,)) for m in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        server.kill9()
        stop.set()
        for t in threads:
            t.join()
        server.start()
        versions = set()
        for m in range(4):
            page = requests.get(server.url + API + "/model-versions/search",
                                params={"filter": "name='m%d'" % m, "max_results": 200000}, timeout=30).json()
            versions |= {(v["name"], v["version"]) for v in page.get("model_versions", [])}
        events, after = [], 0
        while True:
            page = requests.get(server.url + "/api/2.0/tamga/events",
                                params={"after": after, "max_results": 1000}, timeout=30).json()
            if not page["events"]:
                break
            events += page["events"]
            after = page["next_after"]
        created = [(e["model_name"], e["version"]) for e in events if e["type"] == "model_version.created"]
        assert len(created) == len(set(created))
        assert set(created) == versions
        assert set(acked) <= versions
        seqs = [e["seq"] for e in events]
        assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
        assert len(acked) > 10
    finally:
        server.cleanup()
