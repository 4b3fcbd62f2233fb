"""`tamga data` end to end (docs/data.md): the real CLI against a real server, on the local artifact folder and on
a real Ceph RGW (S3). Round trips are checked byte for byte; an interrupted push resumes with only what is
missing; lying pointers, tampered caches, corrupted or truncated stored objects and paths escaping the workspace
give clear errors and never corrupt the store or the workspace."""
import hashlib
import json
import os
import shutil
import socket
import subprocess
import threading

import pytest
import requests

from ceph_rgw import CephRgw
from tamga_harness import TamgaServer

BUCKET = "tamga-data"
API = "/api/2.0/tamga/datasets"


@pytest.fixture(scope="module")
def rgw():
    r = CephRgw().start()
    r.make_bucket(BUCKET)
    yield r
    r.stop()


@pytest.fixture(params=["local", "s3"])
def store(request, tamga_bin):
    if request.param == "local":
        srv = TamgaServer(tamga_bin).start()
    else:
        r = request.getfixturevalue("rgw")
        srv = TamgaServer(tamga_bin, extra_args=["--artifacts-destination", "s3://%s/t%d" % (BUCKET, os.getpid())],
                          env=r.env_for_clients()).start()
    yield srv
    srv.cleanup()


class Cli:
    def __init__(self, tamga_bin, url, tmp_path):
        self.bin = tamga_bin
        self.url = url
        self.cwd = tmp_path / "ws"
        self.cwd.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ, TAMGA_TRACKING_URI=url, TAMGA_CACHE_DIR=str(tmp_path / "cache"))
        self.env.pop("TAMGA_TOKEN", None)

    def run(self, *args, ok=True, cwd=None):
        p = subprocess.run([self.bin, "data", *args], cwd=cwd or self.cwd, env=self.env, capture_output=True,
                           text=True, timeout=300)
        if ok:
            assert p.returncode == 0, f"tamga data {' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}"
        return p

    def json(self, *args):
        return json.loads(self.run(*args, "--json").stdout)


def make_tree(root, n=120, seed=0):
    """Files of many sizes (empty, small, 3 MiB), nested folders, names with spaces and non-ASCII."""
    files = {}
    for i in range(n):
        sub = ["", "a/", "a/b c/", "ünï/"][i % 4]
        size = [0, 1, 1000, 70000][i % 4] if i != 7 else 3 * 1024 * 1024 + 1
        data = hashlib.sha256(f"{seed}-{i}".encode()).digest() * (size // 32 + 1)
        files[f"{sub}f{i}.bin"] = data[:size]
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return files


def read_tree(root):
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            out[os.path.relpath(p, root)] = open(p, "rb").read()
    return out


def test_add_push_pull_checkout_round_trip_byte_for_byte(store, tamga_bin, tmp_path):
    cli = Cli(tamga_bin, store.url, tmp_path)
    files = make_tree(cli.cwd / "data")
    (cli.cwd / "model.bin").write_bytes(b"\x00\x01" * 5000)
    added = cli.json("add", "data", "--name", "train") + cli.json("add", "model.bin")
    assert [a["files"] for a in added] == [len(files), 1]
    pushed = cli.json("push", "--tag", "2026-11", "-m", "first")
    v = {p["pointer"]: p for p in pushed}
    assert v["data.tamga"]["dataset"] == "train" and v["model.bin.tamga"]["dataset"] == "model.bin"
    assert v["data.tamga"]["version"] == 1 and v["data.tamga"]["uploaded_objects"] == len(set(files.values())) + 1
    pointer = json.loads((cli.cwd / "data.tamga").read_text())
    assert pointer["version"] == 1 and pointer["files"] == len(files)

    # A second workspace with an empty cache gets the same bytes back.
    other = Cli(tamga_bin, store.url, tmp_path / "other")
    shutil.copy(cli.cwd / "data.tamga", other.cwd / "data.tamga")
    shutil.copy(cli.cwd / "model.bin.tamga", other.cwd / "model.bin.tamga")
    out = other.json("pull")
    assert out[0]["written"] == len(files) and out[0]["downloaded_objects"] == len(set(files.values()))
    assert read_tree(other.cwd / "data") == files
    assert (other.cwd / "model.bin").read_bytes() == b"\x00\x01" * 5000
    assert all(x["clean"] for x in other.json("status"))

    # Pull by name and tag into a folder, no pointer file.
    other.run("pull", "train@2026-11", "--out", str(tmp_path / "plain"))
    assert read_tree(tmp_path / "plain") == files

    # Change, add, push: a new version with only the changed object uploaded; diff and log see it.
    (cli.cwd / "data" / "f4.bin").write_bytes(b"changed")
    os.remove(cli.cwd / "data" / "a" / "f5.bin")
    st = cli.json("status", "data")[0]
    assert st["modified"] == ["f4.bin"] and st["deleted"] == ["a/f5.bin"]
    cli.run("add", "data")
    p2 = cli.json("push", "data")[0]
    assert p2["version"] >= 2 and p2["uploaded_objects"] == 2  # the changed file and the manifest
    diff = cli.json("diff", "train@1", str(p2["version"]))
    assert diff["modified_count"] == 1 and diff["removed_count"] == 1
    log = cli.json("log", "train")
    assert [x["version"] for x in log["versions"]][0] == p2["version"]

    # Checkout of the old pointer from the cache restores the old bytes without the network.
    (cli.cwd / "data.tamga").write_text(json.dumps(pointer))
    co = cli.run("checkout", "data")
    assert "2 written" in co.stdout, co.stdout
    assert read_tree(cli.cwd / "data") == files


def test_unchanged_push_is_one_missing_check_and_reuses_the_version(server, tamga_bin, tmp_path):
    cli = Cli(tamga_bin, server.url, tmp_path)
    make_tree(cli.cwd / "d", n=20)
    cli.run("add", "d")
    first = cli.json("push")[0]
    again = cli.json("push")[0]
    assert again["version"] == first["version"] and not again["created"] and again["uploaded_objects"] == 0


class CuttingProxy:
    """Forwards TCP to the server until `budget` request bytes went through, then cuts every connection."""

    def __init__(self, target_port, budget):
        self.target = target_port
        self.budget = budget
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.cut = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            if self.cut:
                c.close()
                continue
            s = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(c, s, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(s, c, False), daemon=True).start()

    def _pipe(self, src, dst, upstream):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if upstream:
                    with self.lock:
                        self.budget -= len(data)
                        if self.budget < 0:
                            self.cut = True
                    if self.cut:
                        break
                dst.sendall(data)
        except OSError:
            pass
        for x in (src, dst):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            x.close()

    def close(self):
        self.sock.close()


def test_interrupted_push_resumes_with_only_what_is_missing(server, tamga_bin, tmp_path):
    cli = Cli(tamga_bin, server.url, tmp_path)
    root = cli.cwd / "big"
    root.mkdir()
    for i in range(40):  # 40 x 1 MiB: three 16 MiB packs
        (root / f"part{i:02d}").write_bytes(hashlib.sha256(str(i).encode()).digest() * 32768)
    cli.run("add", "big")
    proxy = CuttingProxy(int(server.url.rsplit(":", 1)[1]), budget=20 * 1024 * 1024)
    try:
        cut = cli.run("push", "--jobs", "1", "--retries", "0", "--tracking-uri", f"http://127.0.0.1:{proxy.port}",
                      ok=False)
    finally:
        proxy.close()
    assert cut.returncode != 0
    assert "version" not in json.loads((cli.cwd / "big.tamga").read_text())
    resumed = cli.json("push")[0]
    assert 0 < resumed["uploaded_objects"] < 41, resumed  # the first pack got through and was kept
    other = Cli(tamga_bin, server.url, tmp_path / "o")
    shutil.copy(cli.cwd / "big.tamga", other.cwd / "big.tamga")
    other.run("pull")
    assert read_tree(other.cwd / "big") == read_tree(root)


def test_bad_inputs_give_clear_errors_and_corrupt_nothing(server, tamga_bin, tmp_path):
    cli = Cli(tamga_bin, server.url, tmp_path)
    (cli.cwd / "d").mkdir()
    (cli.cwd / "d" / "x.txt").write_bytes(b"precious")
    cli.run("add", "d")
    cli.run("push")
    ptr = json.loads((cli.cwd / "d.tamga").read_text())

    # A pointer whose path leaves its folder.
    bad = dict(ptr, path="../escape")
    (cli.cwd / "bad.tamga").write_text(json.dumps(bad))
    r = cli.run("pull", "bad.tamga", ok=False)
    assert r.returncode == 1 and "path" in r.stderr
    os.remove(cli.cwd / "bad.tamga")

    # A pointer that lies: a manifest nobody has.
    lie = dict(ptr, manifest=hashlib.sha256(b"nothing").hexdigest())
    (cli.cwd / "lie.tamga").write_text(json.dumps(lie))
    r = cli.run("pull", "lie.tamga", ok=False)
    assert r.returncode == 1 and "has no object" in r.stderr, r.stderr
    os.remove(cli.cwd / "lie.tamga")

    # A tampered cache object: the server refuses the bytes, stores nothing, the version is not created.
    (cli.cwd / "d" / "y.txt").write_bytes(b"new file")
    cli.run("add", "d")
    obj = tmp_path / "cache" / "objects" / hashlib.sha256(b"new file").hexdigest()[:2] / hashlib.sha256(b"new file").hexdigest()[2:]
    os.chmod(obj, 0o644)
    obj.write_bytes(b"NEW FILE")
    r = cli.run("push", ok=False)
    assert r.returncode == 1 and "hash to" in r.stderr, r.stderr
    versions = requests.get(server.url + API + "/versions/search", params={"name": "d"}).json()["versions"]
    assert len(versions) == 1

    # Stored objects altered on the server: a pull with an empty cache refuses them; the workspace keeps its files.
    stored = os.path.join(server.data_dir, "artifacts", "datasets", "objects", hashlib.sha256(b"precious").hexdigest()[:2],
                          hashlib.sha256(b"precious").hexdigest()[2:])
    os.chmod(stored, 0o644)
    with open(stored, "wb") as f:
        f.write(b"PRECIOUS")
    fresh = Cli(tamga_bin, server.url, tmp_path / "fresh")
    (fresh.cwd / "d.tamga").write_text(json.dumps(ptr))
    r = fresh.run("pull", ok=False)
    assert r.returncode == 1 and "other bytes" in r.stderr, r.stderr
    assert not (fresh.cwd / "d" / "x.txt").exists()
    with open(stored, "wb") as f:
        f.write(b"prec")  # truncated
    r = fresh.run("pull", ok=False)
    assert r.returncode != 0
    assert not (fresh.cwd / "d" / "x.txt").exists()
    # The server keeps answering.
    assert requests.get(server.url + API + "/get", params={"name": "d"}).status_code == 200


def test_raw_api_refuses_hostile_requests(server):
    u = server.url + API
    assert requests.post(u + "/create", json={"name": "../x"}).status_code == 400
    assert requests.post(u + "/create", json={"name": "ok"}).status_code == 200
    h = hashlib.sha256(b"abc").hexdigest()
    r = requests.put(u + "/objects/upload", params={"name": "ok"}, data=(h + " 3\nabd").encode())
    assert r.status_code == 400 and "hash to" in r.json()["message"]
    r = requests.put(u + "/objects/upload", params={"name": "ok"}, data=(h + " 300\nabc").encode())
    assert r.status_code == 400 and "truncated" in r.json()["message"]
    r = requests.put(u + "/objects/upload", params={"name": "nope"}, data=b"")
    assert r.status_code == 404
    r = requests.post(u + "/objects/missing", json={"name": "ok", "digests": ["x" * 64]})
    assert r.status_code == 400
    r = requests.post(u + "/versions/create", json={"name": "ok", "manifest": h})
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_STATE"
    # 'latest' moves by itself: it cannot be set or deleted by hand.
    for call, body in (("/tags/set", {"name": "ok", "tag": "latest", "version": "1"}),
                       ("/tags/delete", {"name": "ok", "tag": "latest"})):
        r = requests.post(u + call, json=body)
        assert r.status_code == 400 and "latest" in r.json()["message"], r.text
    # The artifact API can neither write nor read nor list the object store (the datasets API checks per dataset).
    art = server.url + "/api/2.0/mlflow-artifacts/artifacts"
    assert requests.put(art + "/datasets/objects/ba/" + h[2:], data=b"x").status_code == 403
    requests.put(u + "/objects/upload", params={"name": "ok"}, data=(h + " 3\nabc").encode())
    assert requests.get(art + "/datasets/objects/" + h[:2] + "/" + h[2:]).status_code == 403
    assert requests.get(art, params={"path": "datasets/objects"}).status_code == 403
    # Tags that read as numbers of any size; a fetch naming an object twice; unknown runs in lineage.
    assert requests.post(u + "/tags/set", json={"name": "ok", "tag": "9" * 25, "version": "1"}).status_code == 400
    assert requests.post(u + "/objects/fetch", json={"name": "ok", "digests": [h, h]}).status_code == 400
    assert requests.get(server.url + "/api/2.0/tamga/lineage", params={"uri": "runs:/" + "0" * 32}).status_code == 404


def test_a_stalled_upload_is_closed_after_the_idle_timeout(tamga_bin):
    import socket
    import time
    srv = TamgaServer(tamga_bin, extra_args=["--idle-timeout-ms", "2000"]).start()
    try:
        requests.post(srv.url + API + "/create", json={"name": "s"})
        body = b"".join((hashlib.sha256(b).hexdigest() + " %d\n" % len(b)).encode() + b for b in [b"x" * 100, b"y" * (1 << 20)])
        port = int(srv.url.rsplit(":", 1)[1])
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"PUT " + (API + "/objects/upload?name=s").encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                  % len(body) + body[:len(body) // 2])
        s.settimeout(30)
        t0 = time.time()
        got = s.recv(100)  # the server closes (EOF) well before the 30 s, though half a MiB bought minutes of "rate"
        assert got == b"" and time.time() - t0 < 15, (got, time.time() - t0)
        assert requests.get(srv.url + "/health").status_code == 200
    finally:
        srv.cleanup()


def dvc_add(project, remote, rel, files):
    """Lays out what `dvc add` + `dvc push` leave, from DVC's documented formats: the objects under the
    remote's files/md5/, the .dir listing, and the .dvc file."""
    entries = []
    for path, data in sorted(files.items()):
        m = hashlib.md5(data).hexdigest()
        p = remote / "files" / "md5" / m[:2] / m[2:]
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        entries.append({"md5": m, "relpath": path})
    listing = json.dumps(entries).encode()
    lm = hashlib.md5(listing).hexdigest()
    p = remote / "files" / "md5" / lm[:2] / (lm[2:] + ".dir")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(listing)
    (project / (rel + ".dvc")).write_text(
        f"outs:\n- md5: {lm}.dir\n  size: {sum(len(d) for d in files.values())}\n  nfiles: {len(files)}\n"
        f"  hash: md5\n  path: {rel}\n")


def test_dvc_project_imports_and_exports_as_a_dvc_remote(server, tamga_bin, tmp_path):
    project = tmp_path / "proj"
    (project / ".dvc").mkdir(parents=True)
    (project / ".dvc" / "config").write_text("[core]\n    remote = storage\n['remote \"storage\"']\n    url = ../../remote\n")
    files = {"train/x.csv": b"a,b\n1,2\n", "train/y.csv": b"c\n3\n", "readme.txt": b"\xff binary \x00"}
    dvc_add(project, tmp_path / "remote", "data", files)
    cli = Cli(tamga_bin, server.url, tmp_path)
    out = cli.json("import-dvc", str(project), "--push", "--tag", "from-dvc")
    assert out[0]["dataset"] == "data" and out[0]["files"] == 3 and out[0]["version"] == 1
    assert json.loads((project / "data.tamga").read_text())["version"] == 1
    other = Cli(tamga_bin, server.url, tmp_path / "o")
    other.run("pull", "data@from-dvc", "--out", str(tmp_path / "got"))
    assert read_tree(tmp_path / "got") == {k: v for k, v in files.items()}

    # Exported back: DVC's layout, checked with Python's own md5 and json.
    exp = tmp_path / "exported"
    other.run("export-dvc", "data@1", "--to", str(exp), "--dvc-file", str(tmp_path / "data.dvc"))
    dvc = (tmp_path / "data.dvc").read_text()
    lm = dvc.split("md5: ")[1].split(".dir")[0]
    listing = (exp / "files" / "md5" / lm[:2] / (lm[2:] + ".dir")).read_bytes()
    assert hashlib.md5(listing).hexdigest() == lm
    for e in json.loads(listing):
        obj = (exp / "files" / "md5" / e["md5"][:2] / e["md5"][2:]).read_bytes()
        assert hashlib.md5(obj).hexdigest() == e["md5"] and obj == files[e["relpath"]]
    assert "nfiles: 3" in dvc and "path: \"data\"" in dvc

    # A project whose remote lost an object: a clear error naming it, no pointer written.
    bad = tmp_path / "bad"
    (bad / ".dvc").mkdir(parents=True)
    (bad / "x.dvc").write_text("outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: x\n")
    r = cli.run("import-dvc", str(bad), ok=False)
    assert r.returncode == 1 and "0123456789abcdef0123456789abcdef" in r.stderr
    assert not (bad / "x.tamga").exists()
