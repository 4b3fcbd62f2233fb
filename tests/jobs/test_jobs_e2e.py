"""Job queues end to end: a real server and two real agents on this machine.

Agent "cpu-box" runs CPU jobs only (--gpus none); agent "gpu-box" sees two 40 GiB GPUs through a fake
libnvidia-ml loaded by the real dlopen path (TAMGA_NVML_LIBRARY + FAKE_NVML_CONFIG). Covers: 200 jobs of
mixed priority and tiers, each ending in the right state with its logs and its MLflow run; GPU jobs pinned
by UUID and never sharing a GPU beyond its memory; abort of a running job; kill -9 of an agent mid-job (the
job is requeued and finished by the other agent); a server restart (kill -9) with jobs in flight.
"""
import json
import os
import signal
import subprocess
import tempfile
import time

import requests

from jobs_cluster import GIB, TERMINAL, free_port


def test_bad_input(cluster):
    c = cluster
    r = requests.post(c.api + "/jobs", json={"queue": "nope", "command": ["true"]})
    assert r.status_code == 404 and "nope" in r.json()["message"]
    for body, field in [({"queue": "cpu"}, "command"), ({"queue": "cpu", "command": ["x"], "priority": "hi"}, "priority"),
                        ({"queue": "cpu", "command": ["x"], "resources": {"gpus": 1, "gpu_memory": "lots"}}, "gpu_memory"),
                        ({"queue": "cpu", "command": ["x"], "shell": True}, "shell")]:
        r = requests.post(c.api + "/jobs", json=body)
        assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE", r.text
        assert field in r.json()["message"]
    assert requests.post(c.api + "/jobs", data="{not json").status_code == 400
    assert requests.get(c.api + "/jobs/job-doesnotexist").status_code == 404
    assert requests.get(c.api + "/jobs?state=bogus").status_code == 400
    # More GPUs than any agent has: the job waits and says why.
    big = c.submit({"queue": "gpu", "command": ["true"], "resources": {"gpus": 4, "gpu_memory": "1GiB"}})
    j = c.wait_state(big, {"queued"})
    deadline = time.time() + 10
    while "waiting_for" not in j and time.time() < deadline:
        time.sleep(0.2)
        j = c.job(big)
    assert "needs 4 GPU(s)" in j.get("waiting_for", ""), j
    assert requests.post(c.api + "/jobs/%s/abort" % big).json()["job"]["state"] == "aborted"


def test_two_hundred_jobs_end_in_the_right_state(cluster):
    c = cluster
    expected = {}
    for i in range(200):
        kind = i % 10
        spec = {"queue": "cpu", "priority": i % 4, "command": ["sh", "-c", "echo job-%d; exit 0" % i],
                "tags": {"case": str(i)}}
        want = ("succeeded", "")
        if kind == 1:
            spec["command"] = ["sh", "-c", "echo job-%d; echo bad >&2; exit 3" % i]
            want = ("failed", "exit code 3")
        elif kind == 2:
            spec["command"] = ["no-such-program-%d" % i]
            want = ("failed", "command not found")
        elif kind in (3, 4):
            spec["queue"] = "gpu"
            spec["resources"] = {"gpus": 1, "gpu_memory": "30GiB"}
            spec["command"] = ["sh", "-c", "echo job-%d GPU=$CUDA_VISIBLE_DEVICES; sleep 0.2" % i]
        elif kind == 5:
            spec["queue"] = "gpu"
            spec["resources"] = {"gpus": 2}
            spec["command"] = ["sh", "-c", "echo job-%d GPU=$CUDA_VISIBLE_DEVICES" % i]
        elif kind == 6:
            spec["command"] = ["sh", "-c", "echo job-%d CPU=[$CUDA_VISIBLE_DEVICES]" % i]
        expected[c.submit(spec)] = (i, kind, want)
    jobs = c.wait(list(expected), timeout=240)
    intervals = []
    for job_id, (i, kind, (state, reason)) in expected.items():
        j = jobs[job_id]
        assert j["state"] == state, (i, j)
        assert reason in j["reason"], (i, j)
        logs = c.logs(job_id)
        if kind != 2:
            assert "job-%d" % i in logs, (i, logs)
        else:
            assert "command not found" in logs
        if kind in (3, 4):
            uuid = j["gpu_uuids"][0]
            assert uuid.startswith("GPU-") and "GPU=" + uuid in logs, (j, logs)
            assert j["agent_id"] == gpu_agent(c)
            intervals.append((j["started_ms"], j["ended_ms"], uuid))
        if kind == 5:
            assert sorted(j["gpu_uuids"]) == ["GPU-11111111-aaaa", "GPU-22222222-bbbb"]
            assert ("GPU=" + ",".join(j["gpu_uuids"])) in logs
        if kind == 6:
            assert "CPU=[]" in logs  # CPU jobs see no GPU
        run = requests.get(c.url + "/api/2.0/mlflow/runs/get", params={"run_id": j["run_id"]}).json()["run"]
        want_status = {"succeeded": "FINISHED", "failed": "FAILED"}[state]
        assert run["info"]["status"] == want_status, (i, run["info"])
        tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
        assert tags["tamga.job.id"] == job_id and tags["case"] == str(i)
        if kind != 2:
            assert tags.get("tamga.job.command") and tags.get("tamga.env.os"), tags
    # 30 GiB jobs on 40 GiB GPUs: never two at once on one GPU.
    for a in intervals:
        for b in intervals:
            if a is not b and a[2] == b[2]:
                assert a[1] <= b[0] or b[1] <= a[0], ("overlap on", a, b)


def gpu_agent(c):
    for a in requests.get(c.api + "/agents").json()["agents"]:
        if a["report"]["name"] == "gpu-box":
            return a["id"]
    raise AssertionError("no gpu-box")


def test_abort_a_running_job(cluster):
    c = cluster
    job_id = c.submit({"queue": "cpu", "command": ["sh", "-c", "echo started; sleep 60"]})
    c.wait_state(job_id, {"running"})
    time.sleep(0.3)
    t0 = time.time()
    r = requests.post(c.api + "/jobs/%s/abort" % job_id)
    assert r.status_code == 200 and r.json()["job"]["abort_requested"]
    j = c.wait_state(job_id, TERMINAL, timeout=15)
    assert j["state"] == "aborted" and j["reason"] == "aborted by user", j
    assert time.time() - t0 < 10
    assert "started" in c.logs(job_id)
    run = requests.get(c.url + "/api/2.0/mlflow/runs/get", params={"run_id": j["run_id"]}).json()["run"]
    assert run["info"]["status"] == "KILLED"
    assert requests.post(c.api + "/jobs/%s/abort" % job_id).status_code == 400  # already ended


def test_agent_killed_mid_job_is_requeued_and_finished_by_the_other(cluster):
    c = cluster
    job_id = c.submit({"queue": "shared", "priority": 100, "command": ["sh", "-c", "sleep 1.5; echo finished"]})
    j = c.wait_state(job_id, {"running"})
    victim = [n for n, p in c.agents.items() if agent_id_of(c, n) == j["agent_id"]][0]
    c.agents[victim].send_signal(signal.SIGKILL)
    c.agents[victim].wait()
    j = c.wait_state(job_id, TERMINAL, timeout=40)
    assert j["state"] == "succeeded", (j, c.log("server"))
    assert j["attempts"] == 2 and j["agent_id"] != agent_id_of(c, victim)
    assert "finished" in c.logs(job_id)
    c.start_agent(victim, "none" if victim == "cpu-box" else "all")  # back for the next tests
    deadline = time.time() + 20
    while time.time() < deadline and not any(a["live"] and a["report"]["name"] == victim
                                             for a in requests.get(c.api + "/agents").json()["agents"]):
        time.sleep(0.1)


def agent_id_of(c, name):
    for a in requests.get(c.api + "/agents").json()["agents"]:
        if a["report"]["name"] == name:
            return a["id"]
    return None


def test_server_restart_with_jobs_in_flight(cluster):
    c = cluster
    ids = [c.submit({"queue": "cpu", "command": ["sh", "-c", "sleep 1; echo survived-%d" % i]}) for i in range(4)]
    c.wait_state(ids[0], {"running"})
    c.server.send_signal(signal.SIGKILL)
    c.server.wait()
    time.sleep(0.5)
    c.start_server()
    jobs = c.wait(ids, timeout=60)
    for n, job_id in enumerate(ids):
        assert jobs[job_id]["state"] == "succeeded", jobs[job_id]
        assert "survived-%d" % n in c.logs(job_id)
    # After the restart both agents keep taking new work, GPU jobs included.
    after = [c.submit({"queue": q, "command": ["true"], "resources": r})
             for q, r in (("cpu", {"cpus": 1}), ("gpu", {"gpus": 1, "gpu_memory": "1GiB"}))]
    assert all(j["state"] == "succeeded" for j in c.wait(after, timeout=30).values())


def test_batch_submit_runs_every_job_and_is_all_or_nothing(cluster):
    c = cluster
    exp = requests.post(c.url + "/api/2.0/mlflow/experiments/create", json={"name": "batch-atomic"}).json()["experiment_id"]

    def runs_in_exp():
        r = requests.post(c.url + "/api/2.0/mlflow/runs/search", json={"experiment_ids": [exp], "max_results": 1000})
        return len(r.json().get("runs", []))

    def queued():
        return len(requests.get(c.api + "/jobs", params={"queue": "cpu", "max_results": 10000}).json()["jobs"])

    before = queued()
    bad = [
        ({"jobs": [{"queue": "cpu", "command": ["true"], "experiment_id": exp},
                   {"queue": "cpu", "command": ["true"], "experiment_id": "987654321"}]}, 404, "jobs[1]"),
        ({"jobs": [{"queue": "cpu", "command": ["true"], "experiment_id": exp},
                   {"queue": "no-such-queue", "command": ["true"]}]}, 404, "jobs[1]: queue 'no-such-queue'"),
        ({"jobs": [{"queue": "cpu", "command": ["true"]}, {"queue": "cpu", "command": "true"}]}, 400,
         "jobs[1]: field 'command'"),
        ({"jobs": [{"queue": "cpu", "command": ["true"], "tags": {"": "x"}}]}, 400, "tags"),
        ({"jobs": []}, 400, "non-empty"),
        ({"jobs": [{"queue": "cpu", "command": ["true"]}] * 1001}, 400, "at most 1000"),
        ({"job": []}, 400, "unknown batch field 'job'"),
        ([1, 2], 400, "JSON object"),
    ]
    for body, status, text in bad:
        r = requests.post(c.api + "/jobs/batch", json=body)
        assert r.status_code == status and text in r.json()["message"], (body if len(str(body)) < 300 else "...", r.text)
        assert r.json()["error_code"] in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST")
    assert requests.post(c.api + "/jobs/batch", data=b"{not json").status_code == 400
    # Nothing of a refused batch was stored: no run in the experiment, no new job.
    assert runs_in_exp() == 0 and queued() == before

    specs = [{"queue": "cpu", "priority": i % 3, "command": ["sh", "-c", "echo batch-%d" % i],
              "experiment_id": exp, "tags": {"i": str(i)}} for i in range(60)]
    r = requests.post(c.api + "/jobs/batch", json={"jobs": specs})
    assert r.status_code == 200, r.text
    jobs = r.json()["jobs"]
    assert [j["spec"]["tags"]["i"] for j in jobs] == [str(i) for i in range(60)]  # answered in the order given
    assert len({j["id"] for j in jobs}) == 60 and len({j["run_id"] for j in jobs}) == 60
    done = c.wait([j["id"] for j in jobs], timeout=120)
    for i, j in enumerate(jobs):
        assert done[j["id"]]["state"] == "succeeded", done[j["id"]]
        assert "batch-%d" % i in c.logs(j["id"])
    assert runs_in_exp() == 60

    # The CLI sends a JSON-lines file through the same endpoint.
    path = os.path.join(c.dir, "sweep.jsonl")
    with open(path, "w") as f:
        for lr in ("0.1", "0.01", "0.001"):
            f.write(json.dumps({"queue": "cpu", "command": ["sh", "-c", "echo lr=" + lr]}) + "\n\n")
    out = subprocess.run([c.binary, "jobs", "submit-batch", path, "--server", c.url], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    ids = out.stdout.split()
    assert len(ids) == 3 and all(i.startswith("job-") for i in ids)
    assert all(j["state"] == "succeeded" for j in c.wait(ids, timeout=60).values())
    with open(path, "a") as f:
        f.write(json.dumps({"queue": "nope", "command": ["true"]}) + "\n")
    out = subprocess.run([c.binary, "jobs", "submit-batch", path, "--server", c.url], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode != 0 and "jobs[3]" in out.stderr and "0 jobs were queued" in out.stderr, out.stderr


def test_agent_metrics_name_the_job_on_each_gpu(cluster):
    """dcgm-exporter names on the agent's /metrics: the GPU a job runs on carries its job_id and queue."""
    c = cluster
    job_id = c.submit({"queue": "gpu", "priority": 50, "resources": {"gpus": 1, "gpu_memory": "8GiB"},
                       "command": ["sh", "-c", "echo pid=$$; exec sleep 60"]})
    j = c.wait_state(job_id, {"running"})
    uuid = j["gpu_uuids"][0]
    other = [u for u in ("GPU-11111111-aaaa", "GPU-22222222-bbbb") if u != uuid][0]
    deadline = time.time() + 10
    while "pid=" not in c.logs(job_id) and time.time() < deadline:
        time.sleep(0.1)
    pid = int(c.logs(job_id).split("pid=")[1].split()[0])
    # The driver now shows the job's process holding 6 GiB (plus 1 GiB of someone else's) on its GPU.
    with open(c.nvml_config) as f:
        original = f.read()
    script = json.loads(original)
    for g in script["gpus"]:
        if g["uuid"] == uuid:
            g["used"] = 7 * GIB
            g["util"] = 93
            g["processes"] = [{"pid": pid, "used": 6 * GIB}, {"pid": 1, "used": 1 * GIB}]
    try:
        with open(c.nvml_config + ".tmp", "w") as f:
            json.dump(script, f)
        os.rename(c.nvml_config + ".tmp", c.nvml_config)
        time.sleep(1.2)  # the agent caches a snapshot for 1 s
        m = c.metrics("gpu-box")
        def series(name, gpu_uuid):
            return {k: v for k, v in m.items() if k.startswith(name + "{") and 'UUID="%s"' % gpu_uuid in k}
        used = series("DCGM_FI_DEV_FB_USED", uuid)
        assert len(used) == 1, used
        key, value = next(iter(used.items()))
        assert 'job_id="%s"' % job_id in key and 'queue="gpu"' in key and 'modelName="Fake A100"' in key, key
        assert 'DCGM_FI_DRIVER_VERSION="550.54.15"' in key and 'device="nvidia' in key
        assert value == 7 * 1024  # MiB
        assert list(series("DCGM_FI_DEV_GPU_UTIL", uuid).values()) == [93]
        idle = series("DCGM_FI_DEV_FB_USED", other)
        assert len(idle) == 1 and 'job_id=""' in next(iter(idle)), idle
        for name in ("DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_POWER_USAGE"):
            assert len(series(name, uuid)) == 1, name
        assert list(series("DCGM_FI_DEV_POWER_USAGE", other).values())[0] in (60, 61)  # W from mW
        mine = series("tamga_job_gpu_memory_used_bytes", uuid)
        assert mine == {'tamga_job_gpu_memory_used_bytes{job_id="%s",queue="gpu",gpu="%s",UUID="%s"}' % (
            job_id, key.split('gpu="')[1].split('"')[0], uuid): 6 * GIB}, mine
        assert m['tamga_agent_nvml_available{reason=""}'] == 1 and m["tamga_agent_gpus"] == 2
        assert m["tamga_agent_running_jobs"] >= 1
        # Honest abort: the process is killed, but while the driver still lists it on the GPU the abort is
        # not confirmed (the GPU would go back to the pool with its memory still held).
        assert requests.post(c.api + "/jobs/%s/abort" % job_id).status_code == 200
        time.sleep(2.0)
        j = c.job(job_id)
        assert j["state"] == "running" and j["abort_requested"], j
    finally:
        with open(c.nvml_config + ".tmp", "w") as f:
            f.write(original)
        os.rename(c.nvml_config + ".tmp", c.nvml_config)
    assert c.wait_state(job_id, TERMINAL, timeout=30)["state"] == "aborted"  # released: confirmed
    m = c.metrics("gpu-box")
    assert m.get('tamga_agent_jobs_finished_total{state="aborted"}', 0) >= 1
    # The CPU-only agent says why it offers no GPU, and reports none.
    cpu = c.metrics("cpu-box")
    assert cpu['tamga_agent_nvml_available{reason="GPUs disabled (--gpus none)"}'] == 0
    assert cpu["tamga_agent_gpus"] == 0 and not any(k.startswith("DCGM_") for k in cpu)


def test_agent_without_nvml_says_so_once_and_runs_cpu_jobs(cluster):
    c = cluster
    name = "no-driver"
    env = dict(os.environ, TAMGA_NVML_LIBRARY=os.path.join(c.dir, "missing", "libnvidia-ml.so.1"))
    log_path = os.path.join(c.dir, name + ".log")
    port_file = os.path.join(c.dir, name + ".metrics-port")
    assert requests.post(c.api + "/queues", json={"name": "nodriver"}).status_code == 200
    with open(log_path, "ab") as log:
        p = subprocess.Popen([c.binary, "agent", "--server", c.url, "--queue", "nodriver", "--name", name,
                              "--work-dir", os.path.join(c.dir, name), "--heartbeat-ms", "300", "--metrics-port", "0",
                              "--metrics-port-file", port_file], stdout=log, stderr=log, env=env)
    try:
        job_id = c.submit({"queue": "nodriver", "command": ["sh", "-c", "echo cpu-only [$CUDA_VISIBLE_DEVICES]"]})
        j = c.wait_state(job_id, TERMINAL, timeout=30)
        assert j["state"] == "succeeded" and "cpu-only []" in c.logs(job_id), j
        m = c.metrics(name)
        down = [k for k in m if k.startswith("tamga_agent_nvml_available{")]
        assert len(down) == 1 and m[down[0]] == 0 and "libnvidia-ml.so.1" in down[0], down
        assert m["tamga_agent_gpus"] == 0
        gpu_job = c.submit({"queue": "nodriver", "resources": {"gpus": 1}, "command": ["true"]})
        time.sleep(1)
        assert c.job(gpu_job)["state"] == "queued"  # waits for an agent with a GPU; never runs here
        requests.post(c.api + "/jobs/%s/abort" % gpu_job)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=20)
    log = c.log(name)
    assert log.count("NVML not available") == 1, log


def test_sigterm_with_submissions_in_flight_answers_them_and_loses_nothing(cluster):
    """A server stopped while jobs are being submitted exits cleanly (it once crashed freeing requests that
    were still in the pipeline), answers or refuses every request, and each acknowledged job (and its run)
    is there after a restart, with no run left without its job."""
    import threading
    c = cluster
    d = tempfile.mkdtemp(prefix="tamga-sigterm-", dir=c.dir)
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    log = open(os.path.join(d, "server.log"), "ab")
    cmd = [c.binary, "server", "--port", str(port), "--data-dir", os.path.join(d, "data")]
    srv = subprocess.Popen(cmd, stdout=log, stderr=log)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            if requests.get(url + "/health", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            time.sleep(0.05)
    assert requests.post(url + "/api/2.0/tamga/queues", json={"name": "q"}).status_code == 200
    acked, lock, stop = [], threading.Lock(), threading.Event()

    def submit():
        s = requests.Session()
        while not stop.is_set():
            try:
                r = s.post(url + "/api/2.0/tamga/jobs", json={"queue": "q", "command": ["true"]}, timeout=30)
            except requests.RequestException:
                return
            if r.status_code == 200:
                with lock:
                    acked.append(r.json()["job"]["id"])
            else:
                assert r.status_code == 503 and r.json()["error_code"] == "TEMPORARILY_UNAVAILABLE", r.text

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    srv.send_signal(signal.SIGTERM)
    assert srv.wait(timeout=40) == 0
    stop.set()
    for t in threads:
        t.join()
    assert len(acked) > 50
    srv = subprocess.Popen(cmd, stdout=log, stderr=log)
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if requests.get(url + "/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.05)
        jobs = requests.get(url + "/api/2.0/tamga/jobs", params={"queue": "q", "max_results": 10000}).json()["jobs"]
        ids = {j["id"] for j in jobs}
        assert set(acked) <= ids, len(set(acked) - ids)
        runs, token = 0, None
        while True:
            body = {"experiment_ids": ["0"], "max_results": 1000}
            if token:
                body["page_token"] = token
            page = requests.post(url + "/api/2.0/mlflow/runs/search", json=body).json()
            runs += len(page.get("runs", []))
            token = page.get("next_page_token")
            if not token:
                break
        assert runs == len(ids), (runs, len(ids))
    finally:
        srv.send_signal(signal.SIGTERM)
        assert srv.wait(timeout=40) == 0


def test_a_job_that_prints_forever_is_capped_not_stored_whole(cluster):
    c = cluster
    job_id = c.submit({"queue": "cpu", "command": ["sh", "-c", "echo first-line; head -c 3000000 /dev/zero | tr '\\0' x; echo"]})
    j = c.wait_state(job_id, TERMINAL, timeout=60)
    assert j["state"] == "succeeded", j
    logs = c.logs(job_id)
    assert logs.startswith("first-line")
    assert "reached the limit of 1048576 bytes" in logs
    assert len(logs) <= (1 << 20) + 200, len(logs)
    assert logs.count("x") > 500000  # what fitted under the limit was kept
