"""Jobs ship their code (`tamga jobs submit` through the real CLI, a real server and agent).

From a git checkout with a remote (a bare repository on disk), the agent reproduces the tree: the pushed commit,
an unpushed commit, staged and unstaged changes and an untracked file, in the subdirectory the command was
started from; the run records the commit and the diff, and the packages of the venv interpreter that ran it.
Outside git the directory is uploaded (with .tamgaignore); a checkout without a remote ships HEAD's tree plus
the changes; `--env requirements` re-creates the submitter's packages in a cached venv on the agent.
"""
import base64
import hashlib
import io
import os
import subprocess
import sys
import time
import zipfile

import pytest
import requests

from jobs_cluster import Cluster

PROBE_VERSION = "1.2.3"


def git(cwd, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@x", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@x")
    r = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def make_wheel(folder):
    """A real wheel of a tiny package, so pip can install it with no index."""
    files = {"tamgaprobe/__init__.py": b"VERSION = '%s'\n" % PROBE_VERSION.encode(),
             "tamgaprobe-%s.dist-info/METADATA" % PROBE_VERSION:
                 b"Metadata-Version: 2.1\nName: tamgaprobe\nVersion: %s\n" % PROBE_VERSION.encode(),
             "tamgaprobe-%s.dist-info/WHEEL" % PROBE_VERSION:
                 b"Wheel-Version: 1.0\nGenerator: tamga-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = ""
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record += "%s,sha256=%s,%d\n" % (name, digest, len(data))
    record += "tamgaprobe-%s.dist-info/RECORD,,\n" % PROBE_VERSION
    path = os.path.join(folder, "tamgaprobe-%s-py3-none-any.whl" % PROBE_VERSION)
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
        z.writestr("tamgaprobe-%s.dist-info/RECORD" % PROBE_VERSION, record)
    return path


def make_venv(path, with_probe):
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", path], check=True)
    if with_probe:
        site = subprocess.run([path + "/bin/python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, check=True).stdout.strip()
        with zipfile.ZipFile(make_wheel(os.path.dirname(path))) as z:
            z.extractall(site)


@pytest.fixture(scope="module")
def code_cluster(request, tmp_path_factory):
    wheels = str(tmp_path_factory.mktemp("wheels"))
    make_wheel(wheels)
    # The agent's pip reads these (an air-gapped agent with a local wheel folder).
    os.environ.update(PIP_FIND_LINKS=wheels, PIP_NO_INDEX="1")
    c = Cluster(request.config.getoption("--tamga"), request.config.getoption("--fake-nvml"))
    c.start_server()
    assert requests.post(c.api + "/queues", json={"name": "cpu"}).status_code == 200
    c.start_agent("elsewhere", "none")
    deadline = time.time() + 20
    while not any(a["live"] for a in requests.get(c.api + "/agents").json()["agents"]):
        assert time.time() < deadline, c.log("elsewhere")
        time.sleep(0.1)
    yield c
    c.stop()
    for k in ("PIP_FIND_LINKS", "PIP_NO_INDEX"):
        os.environ.pop(k, None)


def submit(c, cwd, *args, env=None):
    r = subprocess.run([c.binary, "jobs", "submit", "--tracking-uri", c.url, "--queue", "cpu", *args], cwd=cwd,
                       capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout.strip().splitlines()[-1], r.stderr


def finished(c, job_id):
    j = c.wait([job_id])[job_id]
    logs = c.logs(job_id)
    assert j["state"] == "succeeded", (j, logs, c.log("elsewhere")[-2000:])
    run = requests.get(c.url + "/api/2.0/mlflow/runs/get", params={"run_id": j["run_id"]}).json()["run"]
    return j, logs, {t["key"]: t["value"] for t in run["data"]["tags"]}


def artifact(c, run_id, path):
    r = requests.get(c.url + "/get-artifact", params={"run_id": run_id, "path": path})
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return r.text


def test_git_checkout_runs_with_its_changes_and_records_its_interpreter(code_cluster, tmp_path):
    c = code_cluster
    remote = str(tmp_path / "remote.git")
    git(str(tmp_path), "init", "--bare", "-q", remote)
    work = str(tmp_path / "work")
    git(str(tmp_path), "clone", "-q", remote, work)
    os.makedirs(work + "/exp")
    with open(work + "/exp/train.py", "w") as f:
        f.write("import helper, tamgaprobe\nprint('pushed line')\n")
    with open(work + "/.gitignore", "w") as f:
        f.write("*.ckpt\n")
    git(work, "add", ".")
    git(work, "commit", "-qm", "first")
    git(work, "push", "-q", "origin", "HEAD")
    pushed = git(work, "rev-parse", "HEAD")
    with open(work + "/exp/config.txt", "w") as f:
        f.write("lr=0.1\n")
    git(work, "add", "exp/config.txt")
    git(work, "commit", "-qm", "unpushed")  # not on the remote: rides in the patch
    with open(work + "/exp/train.py", "a") as f:  # unstaged edit
        f.write("print('uncommitted line', open('config.txt').read().strip())\n"
                "print('helper says', helper.X, 'probe', tamgaprobe.VERSION)\n")
    with open(work + "/exp/helper.py", "w") as f:  # untracked
        f.write("X = 42\n")
    with open(work + "/exp/weights.ckpt", "wb") as f:  # ignored: never shipped
        f.write(os.urandom(1 << 16))
    venv = str(tmp_path / "venv")
    make_venv(venv, with_probe=True)

    job_id, err = submit(c, work + "/exp", "--", venv + "/bin/python", "train.py")
    assert "code: %s @ %s" % (remote, pushed[:12]) in err and "1 untracked file" in err and "runs in exp" in err, err
    j, logs, tags = finished(c, job_id)
    assert "pushed line" in logs and "uncommitted line lr=0.1" in logs and "helper says 42 probe 1.2.3" in logs, logs
    assert j["spec"]["git_commit"] == pushed and j["spec"]["code"]["subdir"] == "exp"
    assert tags["mlflow.source.git.commit"] == pushed and tags["tamga.git.dirty"] == "true"
    # The submitter's branch and remote, not the agent's detached checkout of its cache.
    assert tags["mlflow.source.git.branch"] == git(work, "symbolic-ref", "--short", "HEAD"), tags
    assert tags["mlflow.source.git.repoURL"] == remote, tags
    diff = artifact(c, j["run_id"], "tamga/git.diff")
    assert "helper.py" in diff and "config.txt" in diff and "weights.ckpt" not in diff
    # The packages of the interpreter that ran it (a venv with tamgaprobe), not the agent's python3.
    assert tags["tamga.env.python_env"] == "venv" and tags["tamga.env.python_resolved_by"] == "argv", tags
    assert tags["tamga.env.python_executable"] == venv + "/bin/python"
    assert artifact(c, j["run_id"], "tamga/requirements-frozen.txt") == "tamgaprobe==%s\n" % PROBE_VERSION

    # The same code again: the blobs are content-addressed (no second upload) and the repository cached.
    job2, err2 = submit(c, work + "/exp", "--", venv + "/bin/python", "train.py")
    assert finished(c, job2)[1] == logs
    caches = os.listdir(os.path.join(c.dir, "elsewhere", "git-cache"))
    assert len(caches) == 1, caches


def test_directory_without_git_is_uploaded(code_cluster, tmp_path):
    c = code_cluster
    d = tmp_path / "plain"
    (d / "data").mkdir(parents=True)
    (d / "run.sh").write_text("echo from-dir; cat data/x.txt; ls\n")
    (d / "data" / "x.txt").write_text("payload\n")
    (d / "big.bin").write_bytes(b"\0" * 1000)
    (d / "cachedir").mkdir()
    (d / "cachedir" / "blob").write_text("x")
    (d / "mydata").mkdir()  # a Tamga data folder under another name: never shipped
    (d / "mydata" / "tamga.lock").write_text("")
    (d / ".tamgaignore").write_text("/big.bin\ncachedir/\n")
    job_id, err = submit(c, str(d), "--", "sh", "run.sh")
    assert "code: %s (" % d in err, err
    _, logs, _ = finished(c, job_id)
    assert "from-dir" in logs and "payload" in logs, logs
    for left_out in ("big.bin", "cachedir", "mydata"):
        assert left_out not in logs, (left_out, logs)
    # An unknown queue is refused before anything is packed or uploaded.
    r = subprocess.run([c.binary, "jobs", "submit", "--tracking-uri", c.url, "--queue", "nosuch", "--", "true"],
                       cwd=str(d), capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "queue 'nosuch' does not exist" in r.stderr and "code:" not in r.stderr, r.stderr
    # Over the size limit: refused before anything is queued, with the reason.
    (d / "huge.bin").write_bytes(os.urandom(2 << 20))
    r = subprocess.run([c.binary, "jobs", "submit", "--tracking-uri", c.url, "--queue", "cpu", "--max-code-mb", "1",
                        "--", "true"], cwd=str(d), capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "over --max-code-mb" in r.stderr and ".tamgaignore" in r.stderr, r.stderr


def test_checkout_without_remote_ships_head_and_changes(code_cluster, tmp_path):
    c = code_cluster
    work = str(tmp_path / "solo")
    git(str(tmp_path), "init", "-q", work)
    with open(work + "/main.sh", "w") as f:
        f.write("echo committed\n")
    git(work, "add", ".")
    git(work, "commit", "-qm", "only")
    with open(work + "/main.sh", "a") as f:
        f.write("echo edited\n")
    job_id, err = submit(c, work, "--", "sh", "main.sh")
    assert "no remote: HEAD's tree" in err, err
    _, logs, tags = finished(c, job_id)
    assert "committed" in logs and "edited" in logs, logs
    assert tags["mlflow.source.git.commit"] == git(work, "rev-parse", "HEAD")
    # The run shows exactly the changes on top of the shipped HEAD.
    assert tags["tamga.git.dirty"] == "true", tags
    diff = artifact(c, c.job(job_id)["run_id"], "tamga/git.diff")
    assert "+echo edited" in diff and "echo committed" in diff.split("@@")[-1], diff


def test_env_requirements_recreates_the_packages_on_the_agent(code_cluster, tmp_path):
    c = code_cluster
    venv = str(tmp_path / "local")
    make_venv(venv, with_probe=True)
    d = tmp_path / "proj"
    d.mkdir()
    (d / "use.py").write_text("import sys, tamgaprobe\nprint('probe', tamgaprobe.VERSION, 'in', sys.prefix)\n")
    env = dict(os.environ, PATH=venv + "/bin:" + os.environ["PATH"])
    job_id, err = submit(c, str(d), "--env", "requirements", "--", "python3", "use.py", env=env)
    assert "env: 1 packages of %s/bin/python3" % venv in err, err
    j, logs, tags = finished(c, job_id)
    sha = j["spec"]["code"]["requirements_sha256"]
    assert "probe 1.2.3 in %s" % os.path.join(c.dir, "elsewhere", "venvs", sha) in logs, logs
    assert tags["tamga.env.python_env"] == "venv"
    # A second job with the same packages reuses the venv.
    job2, _ = submit(c, str(d), "--env", "requirements", "--", "python3", "use.py", env=env)
    assert finished(c, job2)[1] == logs
    assert os.listdir(os.path.join(c.dir, "elsewhere", "venvs")) == [sha]


def test_tampered_blob_fails_the_job_with_the_reason(code_cluster, tmp_path):
    c = code_cluster
    d = tmp_path / "t"
    d.mkdir()
    (d / "a.sh").write_text("echo hi\n")
    job_id, _ = submit(c, str(d), "--code", "dir", "--", "sh", "a.sh")
    finished(c, job_id)
    sha = c.job(job_id)["spec"]["code"]["archive_sha256"]
    # Someone overwrites the content-addressed blob: the agent refuses it.
    requests.put(c.url + "/api/2.0/mlflow-artifacts/artifacts/tamga-code/" + sha, data=b"evil")
    spec = dict(c.job(job_id)["spec"])
    bad = c.submit({"queue": "cpu", "command": ["sh", "a.sh"], "code": spec["code"]})
    j = c.wait([bad])[bad]
    assert j["state"] == "failed" and "does not match its hash" in j["reason"], j


def put_blob(c, data):
    sha = hashlib.sha256(data).hexdigest()
    assert requests.put(c.url + "/api/2.0/mlflow-artifacts/artifacts/tamga-code/" + sha, data=data).status_code == 200
    return sha


def tarball(members):
    """A tar.gz of (TarInfo, bytes or None) members, made here so it can hold what a client should not ship."""
    import tarfile
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w:gz") as tf:
        for info, data in members:
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return b.getvalue()


def test_hostile_trees_fail_the_job_not_the_agent(code_cluster, tmp_path):
    import tarfile
    c = code_cluster
    # A lockfile that is a symlink to /dev/zero, with no python3 on the job's PATH (so the capture falls back
    # to lockfiles): not read, the job runs, the agent lives.
    link = tarfile.TarInfo("requirements.txt")
    link.type, link.linkname = tarfile.SYMTYPE, "/dev/zero"
    script = tarfile.TarInfo("a.sh")
    body = b"echo tree-ok\n"
    script.size = len(body)
    sha = put_blob(c, tarball([(link, None), (script, body)]))
    j = c.submit({"queue": "cpu", "command": ["/bin/sh", "a.sh"], "env": {"PATH": "/nonexistent"},
                  "code": {"archive_sha256": sha}})
    done = c.wait([j])[j]
    assert done["state"] == "succeeded", done
    assert "tree-ok" in c.logs(j)
    # A FIFO (or device) member: refused before extraction.
    fifo = tarfile.TarInfo("uv.lock")
    fifo.type = tarfile.FIFOTYPE
    j = c.submit({"queue": "cpu", "command": ["true"], "code": {"archive_sha256": put_blob(c, tarball([(fifo, None)]))}})
    done = c.wait([j])[j]
    assert done["state"] == "failed" and "not a file, folder or symlink" in done["reason"], done
    # A member that unpacks past the limit (a sparse 9 GiB file packs to almost nothing).
    big = tarfile.TarInfo("huge.bin")
    big.size = 9 << 30
    import gzip
    raw = big.tobuf(format=tarfile.GNU_FORMAT) + b"\0" * 1024  # by hand: tarfile would read 9 GiB of data
    j = c.submit({"queue": "cpu", "command": ["true"], "code": {"archive_sha256": put_blob(c, gzip.compress(raw))}})
    done = c.wait([j])[j]
    assert done["state"] == "failed" and ("unpacks to more than" in done["reason"] or "tar" in done["reason"]), done
    # The same with an owner name full of spaces and numbers (it once shifted the listing's size column).
    big.uname, big.gname = "a 1 b", "1 1970-01-01 00:00 x"
    raw = big.tobuf(format=tarfile.GNU_FORMAT) + b"\0" * 1024
    j = c.submit({"queue": "cpu", "command": ["true"], "code": {"archive_sha256": put_blob(c, gzip.compress(raw))}})
    done = c.wait([j])[j]
    assert done["state"] == "failed" and ("unpacks to more than" in done["reason"] or "tar" in done["reason"]), done
    # Requirements with a Unicode space before an option (pip strips it, then honours the option).
    req = "\u3000-r /etc/passwd\n".encode()
    j = c.submit({"queue": "cpu", "command": ["true"], "code": {"requirements_sha256": put_blob(c, req)}})
    done = c.wait([j])[j]
    assert done["state"] == "failed" and "non-ASCII" in done["reason"] and "root:" not in done["reason"], done
    # The agent still runs jobs.
    ok = c.submit({"queue": "cpu", "command": ["echo", "still-alive"]})
    assert c.wait([ok])[ok]["state"] == "succeeded"


def test_hanging_clone_stops_on_abort_and_on_timeout(code_cluster):
    import socket
    import threading
    c = code_cluster
    tarpit = socket.socket()
    tarpit.bind(("127.0.0.1", 0))
    tarpit.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        tarpit.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(tarpit.accept()[0])  # accepted, never answered
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    url = "http://127.0.0.1:%d/repo.git" % tarpit.getsockname()[1]
    try:
        j = c.submit({"queue": "cpu", "command": ["true"], "git_repo": url, "git_commit": "main"})
        c.wait_state(j, {"leased"})
        time.sleep(1.0)
        assert requests.post(c.api + "/jobs/%s/abort" % j).status_code == 200
        done = c.wait([j], timeout=30)[j]
        assert done["state"] == "aborted" and "preparing" in done["reason"], done
        j = c.submit({"queue": "cpu", "command": ["true"], "git_repo": url, "git_commit": "main", "timeout_s": 2})
        done = c.wait([j], timeout=30)[j]
        assert done["state"] == "failed" and "timeout after 2 s while preparing" in done["reason"], done
    finally:
        stop.set()
        t.join()
        for s in held:
            s.close()
        tarpit.close()


def test_remote_credentials_are_not_shipped_or_shown(code_cluster, tmp_path):
    c = code_cluster
    remote = str(tmp_path / "r.git")
    git(str(tmp_path), "init", "--bare", "-q", remote)
    work = str(tmp_path / "w")
    git(str(tmp_path), "clone", "-q", remote, work)
    with open(work + "/x.sh", "w") as f:
        f.write("echo x\n")
    git(work, "add", ".")
    git(work, "commit", "-qm", "x")
    git(work, "push", "-q", "origin", "HEAD")
    git(work, "remote", "set-url", "origin", "https://bot:ghp_SECRET123@git.example.com/acme/x.git")
    git(work, "fetch", "-q", remote, "+refs/heads/*:refs/remotes/origin/*")
    # A queue no agent serves: these jobs are only looked at, never run.
    assert requests.post(c.api + "/queues", json={"name": "parked"}).status_code == 200
    r = subprocess.run([c.binary, "jobs", "submit", "--tracking-uri", c.url, "--queue", "parked", "--", "true"], cwd=work,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "ghp_SECRET123" not in r.stdout + r.stderr, r.stdout + r.stderr
    job = c.job(r.stdout.strip().splitlines()[-1])
    assert job["spec"]["git_repo"] == "https://git.example.com/acme/x.git", job["spec"]
    # One given through the API is masked in every answer.
    r = requests.post(c.api + "/jobs", json={"queue": "parked", "command": ["true"], "git_commit": "main",
                                             "git_repo": "https://u:tok123@127.0.0.1:9/r.git"})
    assert r.status_code == 200 and "tok123" not in r.text, r.text
    r = requests.post(c.api + "/jobs", json={"queue": "parked", "command": ["true"], "git_commit": "main",
                                             "git_repo": "https://ghp_TOKENONLY99@127.0.0.1:9/r.git"})
    assert r.status_code == 200 and "ghp_TOKENONLY99" not in r.text, r.text
    listing = requests.get(c.api + "/jobs").text
    assert "tok123" not in listing and "ghp_TOKENONLY99" not in listing
    # working_dir with a shipped tree or a repository: refused (the tree goes into a fresh scratch folder).
    r = requests.post(c.api + "/jobs", json={"queue": "cpu", "command": ["true"], "working_dir": "/tmp",
                                             "git_repo": remote})
    assert r.status_code == 400 and "working_dir" in r.json()["message"], r.text
