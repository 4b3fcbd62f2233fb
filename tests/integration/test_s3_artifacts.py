"""Artifacts in S3 (docs/scale-out.md) on a real Ceph RADOS Gateway started by the test (tests/harness/ceph_rgw.py):
proxy mode (`--artifacts-destination s3://...`) with boto3 reading what Tamga wrote, MLflow's proxy multipart
upload (parts PUT straight to presigned URLs), registry copies, MLflow's direct mode (`--no-serve-artifacts
--default-artifact-root s3://...`: the client writes with boto3, the server reads the bucket), and clear
refusals for bad settings and hostile requests."""
import hashlib
import os
import subprocess
import tempfile

import pytest
import requests

from ceph_rgw import CephRgw
from tamga_harness import TamgaServer

BUCKET = "tamga-artifacts"


@pytest.fixture(scope="module")
def rgw():
    r = CephRgw().start()
    r.make_bucket(BUCKET)
    yield r
    r.stop()


def start(tamga_bin, rgw, args):
    env = rgw.env_for_clients()
    return TamgaServer(tamga_bin, extra_args=args, env=env).start()


def new_run(url, experiment_id="0"):
    r = requests.post(url + "/api/2.0/mlflow/runs/create", json={"experiment_id": experiment_id})
    assert r.status_code == 200, r.text
    return r.json()["run"]["info"]


def payload(n, seed):
    block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB
    return (block * (n // len(block) + 1))[:n]


def test_proxy_mode_streams_to_s3_and_boto3_reads_it(tamga_bin, rgw):
    srv = start(tamga_bin, rgw, ["--artifacts-destination", "s3://%s/proxy" % BUCKET])
    s3 = rgw.client()
    try:
        run = new_run(srv.url)
        path = run["artifact_uri"].replace("mlflow-artifacts:/", "")
        base = srv.url + "/api/2.0/mlflow-artifacts/artifacts/" + path
        big = payload(19 * 1024 * 1024 + 5, 1)  # several multipart parts, uploaded as a stream

        def chunks():
            for i in range(0, len(big), 1 << 20):
                yield big[i:i + (1 << 20)]
        assert requests.put(base + "/model/weights.bin", data=chunks()).status_code == 200
        assert requests.put(base + "/model/MLmodel", data=b"flavors: {}\n").status_code == 200
        assert requests.put(base + "/notes/a b+c.txt", data=b"escaped name").status_code == 200

        # boto3, an independent client, sees the same bytes under the prefix.
        obj = s3.get_object(Bucket=BUCKET, Key="proxy/%s/model/weights.bin" % path)
        assert hashlib.sha256(obj["Body"].read()).hexdigest() == hashlib.sha256(big).hexdigest()
        assert s3.get_object(Bucket=BUCKET, Key="proxy/%s/notes/a b+c.txt" % path)["Body"].read() == b"escaped name"

        # Downloads: whole and ranged; listings through both APIs.
        got = requests.get(base + "/model/weights.bin")
        assert got.status_code == 200 and got.content == big
        part = requests.get(base + "/model/weights.bin", headers={"Range": "bytes=9000000-9000009"})
        assert part.status_code == 206 and part.content == big[9000000:9000010]
        listing = requests.get(srv.url + "/api/2.0/mlflow/artifacts/list",
                               params={"run_id": run["run_id"], "path": "model"}).json()
        assert {f["path"]: f.get("file_size") for f in listing["files"]} == {
            "model/MLmodel": 12, "model/weights.bin": len(big)}
        top = requests.get(srv.url + "/api/2.0/mlflow-artifacts/artifacts", params={"path": path}).json()
        assert sorted(f["path"] for f in top["files"]) == ["model", "notes"]

        # Registering copies the files server-side into the registry's own folder.
        requests.post(srv.url + "/api/2.0/mlflow/registered-models/create", json={"name": "s3m"})
        mv = requests.post(srv.url + "/api/2.0/mlflow/model-versions/create",
                           json={"name": "s3m", "source": run["artifact_uri"] + "/model", "run_id": run["run_id"]})
        assert mv.status_code == 200, mv.text
        source = mv.json()["model_version"]["storage_location"]
        assert source.startswith("mlflow-artifacts:/_registry/"), source
        copied = source.replace("mlflow-artifacts:/", "")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="proxy/" + copied + "/")["Contents"]]
        assert sorted(k.rsplit("/", 1)[1] for k in keys) == ["MLmodel", "weights.bin"]
        # The original can go; the version's copy stays.
        assert requests.delete(base + "/model").status_code == 200
        assert requests.get(base + "/model/MLmodel").status_code == 404
        again = requests.get(srv.url + "/api/2.0/mlflow-artifacts/artifacts/" + copied + "/weights.bin")
        assert again.status_code == 200 and len(again.content) == len(big)
    finally:
        srv.cleanup()


def test_proxy_multipart_upload_as_the_mlflow_client_does_it(tamga_bin, rgw):
    srv = start(tamga_bin, rgw, ["--artifacts-destination", "s3://%s/mpu" % BUCKET])
    try:
        run = new_run(srv.url)
        path = run["artifact_uri"].replace("mlflow-artifacts:/", "")
        mpu = srv.url + "/api/2.0/mlflow-artifacts/mpu/"
        data = payload(11 * 1024 * 1024, 2)
        created = requests.post(mpu + "create/" + path + "/big", json={"path": "/home/me/big.bin", "num_parts": 3})
        assert created.status_code == 200, created.text
        body = created.json()
        assert [c["part_number"] for c in body["credentials"]] == [1, 2, 3]
        size = 5 * 1024 * 1024
        parts = []
        for c in body["credentials"]:
            chunk = data[(c["part_number"] - 1) * size:c["part_number"] * size]
            put = requests.put(c["url"], data=chunk, headers=c["headers"])  # straight to the S3 server
            assert put.status_code == 200, put.text
            parts.append({"part_number": c["part_number"], "etag": put.headers["ETag"], "url": c["url"]})
        done = requests.post(mpu + "complete/" + path + "/big",
                             json={"path": "/home/me/big.bin", "upload_id": body["upload_id"], "parts": parts})
        assert done.status_code == 200, done.text
        got = requests.get(srv.url + "/api/2.0/mlflow-artifacts/artifacts/" + path + "/big/big.bin")
        assert got.status_code == 200 and got.content == data

        # Parts that lie (a wrong ETag, a too-small first part) are the caller's mistake: 400, upload intact.
        lying = requests.post(mpu + "create/" + path, json={"path": "l.bin", "num_parts": 2}).json()
        etags = []
        for c, n in zip(lying["credentials"], (1024, 1024)):
            etags.append(requests.put(c["url"], data=b"x" * n).headers["ETag"])
        for parts in ([{"part_number": 1, "etag": "\"0123\""}, {"part_number": 2, "etag": etags[1]}],
                      [{"part_number": 1, "etag": etags[0]}, {"part_number": 2, "etag": etags[1]}]):
            r = requests.post(mpu + "complete/" + path, json={"path": "l.bin", "upload_id": lying["upload_id"],
                                                             "parts": parts})
            assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE", r.text

        # Abort: the upload is gone and nothing was stored.
        other = requests.post(mpu + "create/" + path, json={"path": "x.bin", "num_parts": 1}).json()
        assert requests.post(mpu + "abort/" + path, json={"path": "x.bin", "upload_id": other["upload_id"]}).status_code == 200
        assert requests.get(srv.url + "/api/2.0/mlflow-artifacts/artifacts/" + path + "/x.bin").status_code == 404

        # Hostile requests: 4xx in MLflow's error shape, never a 500.
        for op, rel, js in (("create", path, {"path": "a", "num_parts": 0}),
                            ("create", path, {"path": "a", "num_parts": 10 ** 9}),
                            ("create", path, {"num_parts": 1}),
                            ("create", "../../etc", {"path": "a", "num_parts": 1}),
                            ("create", "_registry/x", {"path": "a", "num_parts": 1}),
                            ("complete", path, {"path": "a", "upload_id": "nope",
                                                "parts": [{"part_number": 1, "etag": "\"x\""}]}),
                            ("complete", path, {"path": "a", "upload_id": body["upload_id"], "parts": []}),
                            ("complete", path, {"path": "a", "upload_id": "u",
                                                "parts": [{"part_number": 2, "etag": "e"}]}),
                            ("abort", path, {"path": "a"})):
            r = requests.post(mpu + op + "/" + rel, json=js)
            assert 400 <= r.status_code < 500, (op, rel, js, r.status_code, r.text)
            assert "error_code" in r.json(), r.text
    finally:
        srv.cleanup()


def test_direct_mode_clients_write_the_bucket_and_the_server_reads_it(tamga_bin, rgw):
    root = "s3://%s/direct" % BUCKET
    srv = start(tamga_bin, rgw, ["--no-serve-artifacts", "--default-artifact-root", root])
    s3 = rgw.client()
    try:
        api = srv.url + "/api/2.0/mlflow"
        exp = requests.post(api + "/experiments/create", json={"name": "direct"}).json()["experiment_id"]
        loc = requests.get(api + "/experiments/get", params={"experiment_id": exp}).json()["experiment"]
        assert loc["artifact_location"] == root + "/" + exp
        run = new_run(srv.url, exp)
        assert run["artifact_uri"] == "%s/%s/%s/artifacts" % (root, exp, run["run_id"])
        # What mlflow.log_artifact does in direct mode: boto3 straight to the bucket.
        key = "direct/%s/%s/artifacts/model/MLmodel" % (exp, run["run_id"])
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"flavors:\n  python_function: {}\n")
        listing = requests.get(api + "/artifacts/list", params={"run_id": run["run_id"], "path": "model"}).json()
        assert [f["path"] for f in listing["files"]] == ["model/MLmodel"]
        assert listing["root_uri"] == run["artifact_uri"]
        # The registry reads and copies from the bucket too.
        requests.post(api + "/registered-models/create", json={"name": "direct-model"})
        mv = requests.post(api + "/model-versions/create",
                           json={"name": "direct-model", "source": run["artifact_uri"] + "/model"})
        assert mv.status_code == 200, mv.text
        copied = mv.json()["model_version"]["storage_location"].replace("mlflow-artifacts:/", "")
        assert s3.get_object(Bucket=BUCKET, Key="direct/" + copied + "/MLmodel")["Body"].read().startswith(b"flavors")
    finally:
        srv.cleanup()


def test_bad_s3_settings_stop_the_server_with_a_clear_error(tamga_bin, rgw):
    d = tempfile.mkdtemp(prefix="tamga-s3-bad-")
    base_env = dict(os.environ, **rgw.env_for_clients())
    cases = (
        (dict(base_env, AWS_SECRET_ACCESS_KEY="wrong-secret-value"), "s3://%s/x" % BUCKET, "AccessDenied|SignatureDoesNotMatch|403"),
        (base_env, "s3://no-such-bucket/x", "does not exist"),
        (dict(base_env, MLFLOW_S3_ENDPOINT_URL="http://127.0.0.1:1"), "s3://%s/x" % BUCKET, "127.0.0.1"),
    )
    for env, dest, words in cases:
        r = subprocess.run([tamga_bin, "server", "--port", "0", "--data-dir", os.path.join(d, "data"),
                            "--artifacts-destination", dest], capture_output=True, text=True, timeout=90, env=env)
        assert r.returncode != 0, r.stderr
        assert any(w in r.stderr for w in words.split("|")), r.stderr
        assert "wrong-secret-value" not in r.stderr + r.stdout
        assert rgw.secret_key not in r.stderr + r.stdout
