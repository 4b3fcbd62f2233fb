"""`tamga server --backend-store-uri sqlite:///... --artifacts-destination file:///...` (MLflow's flag names,
docs/scale-out.md): the metadata and artifacts land where the URIs say, a second server on the same database is
refused, and the forms still being built (postgresql://) or lacking settings are refused with the password
redacted. S3 itself: test_s3_artifacts.py."""
import os
import subprocess
import tempfile

import requests

from tamga_harness import TamgaServer


def test_sqlite_and_file_uris_place_the_data(tamga_bin):
    base = tempfile.mkdtemp(prefix="tamga-uris-")
    db = os.path.join(base, "meta", "tamga-meta.db")
    arts = os.path.join(base, "blobs")
    srv = TamgaServer(tamga_bin, extra_args=["--backend-store-uri", "sqlite:///" + db,
                                             "--artifacts-destination", "file://" + arts]).start()
    try:
        api = srv.url + "/api/2.0/mlflow"
        exp = requests.post(api + "/experiments/create", json={"name": "placed"}).json()["experiment_id"]
        run = requests.post(api + "/runs/create", json={"experiment_id": exp}).json()["run"]["info"]
        path = run["artifact_uri"].replace("mlflow-artifacts:/", "")
        assert requests.put(srv.url + "/api/2.0/mlflow-artifacts/artifacts/" + path + "/hello.txt",
                            data=b"hi").status_code == 200
        assert os.path.exists(db) and oct(os.stat(db).st_mode & 0o777) == "0o600"
        assert open(os.path.join(arts, path, "hello.txt"), "rb").read() == b"hi"
        assert not os.path.exists(os.path.join(srv.data_dir, "tamga.db"))
        # Another server (its own data dir) on the same database file is refused: one writer per database.
        other = subprocess.run([tamga_bin, "server", "--port", "0", "--data-dir", os.path.join(base, "d2"),
                                "--backend-store-uri", "sqlite:///" + db], capture_output=True, text=True, timeout=30)
        assert other.returncode != 0 and "in use" in other.stderr, other.stderr
    finally:
        srv.cleanup()


def test_unsupported_and_bad_uris_are_refused_without_secrets(tamga_bin):
    d = tempfile.mkdtemp(prefix="tamga-uris-")
    for args, words in ((["--backend-store-uri", "postgresql://u:topsecret@db.invalid/mlflow"], "cannot connect"),
                        (["--backend-store-uri", "mysql://u:topsecret@db/mlflow"], "unsupported scheme"),
                        (["--artifacts-destination", "s3://Bad_Bucket/x"], "not a valid S3 bucket"),
                        # No credentials in the environment: named, not guessed.
                        (["--artifacts-destination", "s3://good-bucket/x"], "AWS_ACCESS_KEY_ID"),
                        (["--no-serve-artifacts"], "--default-artifact-root"),
                        (["--default-artifact-root", "file:///tmp/x"], "s3://")):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and "S3" not in k}
        r = subprocess.run([tamga_bin, "server", "--port", "0", "--data-dir", os.path.join(d, "data")] + args,
                           capture_output=True, text=True, timeout=30, env=env)
        assert r.returncode != 0 and words in r.stderr, (args, r.stderr)
        assert "topsecret" not in r.stderr + r.stdout
