"""Local deployments: `tamga server` serves deployments whose target is "local" in-process.

A real server with its SQLite store; the model files are uploaded through the artifact proxy and registered,
then a deployment with target "local" is created. Checks V2 REST, MLflow scoring at
/endpoints/{name}/invocations, OIP gRPC on the server's --grpc-port, hot reload when the alias moves, a
pyfunc deployment through the Python worker, and unloading when the deployment is deleted.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import requests

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
from serve_harness import Client  # noqa: E402
from tamga_harness import TamgaServer, upload_model, wait_for  # noqa: E402

DEPLOY = "/api/2.0/tamga/deployments"




def v2(url, name, x, dtype="FP32"):
    return requests.post(f"{url}/v2/models/{name}/infer", json={"inputs": [
        {"name": "input-0", "datatype": dtype, "shape": list(x.shape), "data": x.flatten().tolist()}]})


def test_local_deployment_lifecycle(request, models, expected, pb):
    binary = request.config.getoption("--tamga")
    grpc_port_file = os.path.join(tempfile.mkdtemp(prefix="tamga-grpc-"), "port")
    srv = TamgaServer(binary, extra_args=["--grpc-port", "0", "--grpc-port-file", grpc_port_file,
                                          "--python", "/usr/bin/python3"]).start()
    api = srv.url + "/api/2.0/mlflow"
    try:
        # Ready with no local deployments: nothing to wait for.
        assert requests.get(srv.url + "/v2/health/ready").status_code == 200
        run = requests.post(api + "/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]
        upload_model(srv.url, run, os.path.join(models, "mlp"), "v1")
        upload_model(srv.url, run, os.path.join(models, "mlp2"), "v2")
        upload_model(srv.url, run, os.path.join(models, "pyfunc"), "py")
        for name in ("clf", "lin"):
            assert requests.post(api + "/registered-models/create", json={"name": name}).status_code == 200
        for name, path in (("clf", "v1"), ("clf", "v2"), ("lin", "py")):
            r = requests.post(api + "/model-versions/create", json={"name": name, "source": f"runs:/{run}/{path}"})
            assert r.status_code == 200, r.text
        requests.post(api + "/registered-models/alias", json={"name": "clf", "alias": "production", "version": "1"})
        requests.post(api + "/registered-models/alias", json={"name": "lin", "alias": "production", "version": "1"})

        # Bad target: a clear 400 naming the field.
        r = requests.post(srv.url + DEPLOY, json={"name": "x", "model_name": "clf", "target": "moon"})
        assert r.status_code == 400 and "target" in r.json()["message"]
        for dep, model in (("clf-local", "clf"), ("lin-local", "lin")):
            r = requests.post(srv.url + DEPLOY, json={"name": dep, "model_name": model, "target": "local"})
            assert r.status_code == 200, r.text

        wait_for(lambda: requests.get(srv.url + "/v2/models/clf-local/ready").status_code == 200, what="clf ready")
        ls = subprocess.run([binary, "deploy", "ls", "--tracking-uri", srv.url], capture_output=True, text=True,
                            timeout=60)
        assert "clf-local  clf@production  local: serving version 1" in ls.stdout, ls.stdout + ls.stderr
        x = expected["x"][:3]
        r = v2(srv.url, "clf-local", x)
        assert r.status_code == 200 and r.json()["model_version"] == "1", r.text
        np.testing.assert_allclose(np.array(r.json()["outputs"][0]["data"]).reshape(3, 4), expected["y1"][:3],
                                   rtol=1e-5, atol=1e-6)
        r = requests.post(srv.url + "/endpoints/clf-local/invocations", json={"inputs": x.tolist()})
        assert r.status_code == 200, r.text
        np.testing.assert_allclose(np.array(r.json()["predictions"]), expected["y1"][:3], rtol=1e-5, atol=1e-6)
        assert requests.post(srv.url + "/endpoints/nope/invocations", json={"inputs": []}).status_code == 404
        assert requests.post(srv.url + "/endpoints/clf-local/other", json={}).status_code == 404

        # gRPC on the server's second port.
        c = Client(pb, "127.0.0.1:%d" % int(open(grpc_port_file).read()))
        req = pb.ModelInferRequest(model_name="clf-local")
        req.inputs.add(name="input-0", datatype="FP32", shape=[3, 16]).contents.fp32_contents.extend(x.flatten().tolist())
        g = c.infer(req)
        np.testing.assert_allclose(np.array(g.outputs[0].contents.fp32_contents).reshape(3, 4), expected["y1"][:3],
                                   rtol=1e-5, atol=1e-6)

        # The pyfunc deployment runs in the Python worker.
        wait_for(lambda: requests.get(srv.url + "/v2/models/lin-local/ready").status_code == 200, what="lin ready")
        r = v2(srv.url, "lin-local", expected["pq"][:4], dtype="FP64")
        assert r.status_code == 200, r.text
        np.testing.assert_allclose(np.array(r.json()["outputs"][0]["data"]).reshape(4, 2), expected["py"][:4], rtol=1e-12)

        # Moving the alias hot reloads the deployment.
        requests.post(api + "/registered-models/alias", json={"name": "clf", "alias": "production", "version": "2"})
        r = wait_for(lambda: (lambda r: r if r.json().get("model_version") == "2" else None)(v2(srv.url, "clf-local", x)),
                     what="version 2")
        np.testing.assert_allclose(np.array(r.json()["outputs"][0]["data"]).reshape(3, 4), expected["y2"][:3],
                                   rtol=1e-5, atol=1e-6)
        assert "tamga_serving_requests_total" in requests.get(srv.url + "/metrics").text

        # Deleting the deployment unloads it.
        assert requests.delete(srv.url + DEPLOY + "/clf-local").status_code == 200
        wait_for(lambda: requests.get(srv.url + "/v2/models/clf-local").status_code == 404, what="unload")
        assert requests.get(srv.url + "/v2/models/lin-local/ready").status_code == 200
    finally:
        srv.cleanup()


def test_local_deployment_under_auth_and_tls_rest_and_grpc(request, models, expected, pb):
    """With --auth on, in-process serving needs a principal that may READ the deployment, over V2 REST, MLflow
    scoring and OIP gRPC alike (Bearer token in the `authorization` metadata); the probes stay open. The server
    runs with TLS on both ports: the model loads through its own HTTPS API (pinned to its certificate) and
    clients verify the certificate against the test CA."""
    import grpc
    import tls_certs
    binary = request.config.getoption("--tamga")
    tmp = tempfile.mkdtemp(prefix="tamga-grpc-")
    grpc_port_file = os.path.join(tmp, "port")
    certs = tls_certs.make(tmp)
    admin = ("admin", "admin-pass-1234")
    srv = TamgaServer(binary, extra_args=["--auth", "on", "--grpc-port", "0", "--grpc-port-file", grpc_port_file,
                                          "--tls-cert", certs["server"], "--tls-key", certs["server-key"]],
                      env={"TAMGA_ADMIN_PASSWORD": admin[1]}, ca_file=certs["ca"]).start()
    api = srv.url + "/api/2.0/mlflow"
    s = requests.Session()
    s.auth = admin
    s.verify = certs["ca"]
    s.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would override the session's CA
    requests_post = requests.post

    def post(url, **kw):
        return requests_post(url, verify=certs["ca"], **kw)
    try:
        run = s.post(api + "/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]
        for root, _, names in os.walk(os.path.join(models, "mlp")):
            for f in names:
                rel = os.path.relpath(os.path.join(root, f), os.path.join(models, "mlp"))
                with open(os.path.join(root, f), "rb") as fh:
                    r = s.put(f"{srv.url}/api/2.0/mlflow-artifacts/artifacts/0/{run}/artifacts/m/{rel}", data=fh.read())
                assert r.status_code == 200, r.text
        assert s.post(api + "/registered-models/create", json={"name": "clf"}).status_code == 200
        assert s.post(api + "/model-versions/create", json={"name": "clf", "source": f"runs:/{run}/m"}).status_code == 200
        s.post(api + "/registered-models/alias", json={"name": "clf", "alias": "production", "version": "1"})
        assert s.post(srv.url + DEPLOY, json={"name": "clf-local", "model_name": "clf", "target": "local"}).status_code == 200
        tokens = {}
        for user in ("reader", "nobody"):
            assert s.post(api + "/users/create", json={"username": user, "password": user + "-pass-123"}).status_code == 200
            tokens[user] = s.post(srv.url + "/api/2.0/tamga/tokens", json={"name": "t", "username": user}).json()["token"]
        r = s.put(srv.url + "/api/2.0/tamga/permissions", json={"object_kind": "deployment", "object_id": "clf-local",
                                                                "user": "nobody", "permission": "NO_PERMISSIONS"})
        assert r.status_code == 200, r.text
        wait_for(lambda: s.get(srv.url + "/v2/models/clf-local/ready").status_code == 200, what="clf ready")

        x = expected["x"][:3]
        body = {"inputs": [{"name": "input-0", "datatype": "FP32", "shape": [3, 16], "data": x.flatten().tolist()}]}
        infer = srv.url + "/v2/models/clf-local/infer"
        assert post(infer, json=body).status_code == 401
        bearer = {u: {"Authorization": "Bearer " + t} for u, t in tokens.items()}
        assert post(infer, json=body, headers=bearer["nobody"]).status_code == 403
        r = post(infer, json=body, headers=bearer["reader"])
        assert r.status_code == 200, r.text
        r = post(srv.url + "/endpoints/clf-local/invocations", json={"inputs": x.tolist()}, headers=bearer["reader"])
        assert r.status_code == 200, r.text

        c = Client(pb, "127.0.0.1:%d" % int(open(grpc_port_file).read()))
        c.channel = grpc.secure_channel("127.0.0.1:%d" % int(open(grpc_port_file).read()),
                                        grpc.ssl_channel_credentials(root_certificates=open(certs["ca"], "rb").read()))
        assert c.call("ServerLive", pb.ServerLiveRequest(), pb.ServerLiveResponse).live  # a probe: open
        req = pb.ModelInferRequest(model_name="clf-local")
        req.inputs.add(name="input-0", datatype="FP32", shape=[3, 16]).contents.fp32_contents.extend(x.flatten().tolist())

        def infer_grpc(metadata):
            fn = c.channel.unary_unary("/inference.GRPCInferenceService/ModelInfer",
                                       request_serializer=lambda m: m.SerializeToString(),
                                       response_deserializer=pb.ModelInferResponse.FromString)
            return fn(req, timeout=10, metadata=metadata)

        for metadata, code in ((None, grpc.StatusCode.UNAUTHENTICATED),
                               ((("authorization", "Bearer tmg_wrong"),), grpc.StatusCode.UNAUTHENTICATED),
                               ((("authorization", "Bearer " + tokens["nobody"]),), grpc.StatusCode.PERMISSION_DENIED)):
            try:
                infer_grpc(metadata)
                raise AssertionError("admitted without a principal that may read")
            except grpc.RpcError as e:
                assert e.code() == code, (metadata, e)
        g = infer_grpc((("authorization", "Bearer " + tokens["reader"]),))
        np.testing.assert_allclose(np.array(g.outputs[0].contents.fp32_contents).reshape(3, 4), expected["y1"][:3],
                                   rtol=1e-5, atol=1e-6)
        basic = "Basic " + __import__("base64").b64encode(b"reader:reader-pass-123").decode()
        assert infer_grpc((("authorization", basic),)).model_name == "clf-local"
        # Denials are audited like HTTP ones.
        rows = s.get(srv.url + "/api/2.0/tamga/audit").json()["entries"]
        assert any(a["route"].startswith("grpc:") and a["outcome"] == "denied" for a in rows), rows
    finally:
        srv.cleanup()
