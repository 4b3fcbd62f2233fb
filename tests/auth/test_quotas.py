"""Team quotas and resource tiers on job queues (docs/jobs.md, "Tiers and quotas") against a real `tamga server
--auth on`: jobs are charged to the submitter's team, a tier gives a job its resources, the scheduler holds a
team at its running-jobs and GPU quotas (the waiting job says so) while other teams' jobs start, a submission past
the queued quota is refused, `tamga queues ls` shows usage against quota, and everything survives a restart.
The agent here is this test speaking the agent API with an agent token (GPUs reported as an NVML agent would)."""
import os
import subprocess
import time

import requests

from tamga_harness import TamgaServer

ADMIN = ("admin", "admin-pass-1234")
TG = "/api/2.0/tamga"
API = "/api/2.0/mlflow"
GIB = 1 << 30


def gpu(i):
    return {"index": i, "uuid": "GPU-%d" % i, "name": "Test GPU", "total_bytes": 80 * GIB, "used_bytes": 0,
            "free_bytes": 80 * GIB, "healthy": True}


def test_quotas_and_tiers(tamga_bin, tmp_path):
    data = str(tmp_path / "data")
    os.makedirs(data)
    s = TamgaServer(tamga_bin, data_dir=data, extra_args=["--auth", "on"],
                    env={"TAMGA_ADMIN_PASSWORD": ADMIN[1]}).start()
    try:
        def call(method, path, body=None, auth=ADMIN, **kw):
            return requests.request(method, s.url + path, json=body, auth=auth, timeout=30, **kw)

        def ok(r):
            assert r.status_code == 200, r.text
            return r.json()

        ok(call("POST", TG + "/queues", {"name": "gpu"}))
        ok(call("PUT", TG + "/tiers", {"name": "gpu1", "cpus": 4, "memory": "16GiB", "gpus": 1,
                                       "description": "one GPU"}))
        ok(call("PUT", TG + "/tiers", {"name": "gpu2", "cpus": 8, "gpus": 2}))
        exp = ok(call("POST", API + "/experiments/create", {"name": "team-jobs"}))["experiment_id"]
        users = {}
        for name, team in (("ana", "vision"), ("ben", "nlp")):
            ok(call("POST", API + "/users/create", {"username": name, "password": name + "-pass-1234"}))
            users[name] = (name, name + "-pass-1234")
            ok(call("PUT", TG + "/teams/members", {"team": team, "username": name, "role": "member"}))
            for kind, obj in (("queue", "gpu"), ("experiment", exp)):
                ok(call("PUT", TG + "/permissions", {"object_kind": kind, "object_id": obj, "team": team,
                                                     "permission": "EDIT"}))
        ana, ben = users["ana"], users["ben"]
        # Only admins set tiers and quotas; anyone signed in reads them.
        assert call("PUT", TG + "/tiers", {"name": "x", "gpus": 8}, auth=ana).status_code == 403
        assert call("PUT", TG + "/quotas", {"queue": "gpu", "team": "vision", "max_gpus": 99}, auth=ana).status_code == 403
        assert [t["name"] for t in ok(call("GET", TG + "/tiers", auth=ana))["tiers"]] == ["gpu1", "gpu2"]
        # vision: two gpu1 jobs at a time (running 2, GPUs 2), three waiting.
        q = ok(call("PUT", TG + "/quotas", {"queue": "gpu", "team": "vision", "tier": "gpu1", "count": 2,
                                            "max_queued": 3}))["quota"]
        assert (q["max_running"], q["max_gpus"], q["max_queued"], q["tier"], q["count"]) == (2, 2, 3, "gpu1", 2)
        assert call("PUT", TG + "/quotas", {"queue": "nope", "team": "vision", "max_gpus": 1}).status_code == 404
        assert call("PUT", TG + "/quotas", {"queue": "gpu", "team": "vision", "tier": "gpu9", "count": 1}).status_code == 400

        # Submitting: through the CLI with --tier; the job is charged to ana's team with a quota there.
        env = dict(os.environ, MLFLOW_TRACKING_USERNAME="ana", MLFLOW_TRACKING_PASSWORD="ana-pass-1234")
        out = subprocess.run([tamga_bin, "jobs", "submit", "--tracking-uri", s.url, "--queue", "gpu", "--tier", "gpu1",
                              "--experiment-id", exp, "--code", "none", "--", "python3", "train.py"],
                             capture_output=True, text=True, timeout=60, env=env)
        assert out.returncode == 0, out.stdout + out.stderr
        first = out.stdout.strip().splitlines()[-1]
        j = ok(call("GET", TG + "/jobs/" + first, auth=ana))["job"]
        assert j["spec"]["team"] == "vision" and j["spec"]["tier"] == "gpu1", j["spec"]
        assert j["spec"]["resources"]["gpus"] == 1 and j["spec"]["resources"]["memory"] == 16 * GIB
        job = {"queue": "gpu", "tier": "gpu1", "command": ["true"], "experiment_id": exp}
        assert call("POST", TG + "/jobs", dict(job, tier="gpu9"), auth=ana).status_code == 400
        r = call("POST", TG + "/jobs", dict(job, resources={"gpus": 1}), auth=ana)
        assert r.status_code == 400 and "not both" in r.json()["message"], r.text
        r = call("POST", TG + "/jobs", dict(job, team="nlp"), auth=ana)
        assert r.status_code == 403 and "not a member" in r.json()["message"], r.text
        ids = [first] + [ok(call("POST", TG + "/jobs", job, auth=ana))["job"]["id"] for _ in range(2)]
        r = call("POST", TG + "/jobs", job, auth=ana)  # a fourth waiting job is past max_queued
        assert r.status_code == 429 and r.json()["error_code"] == "RESOURCE_EXHAUSTED", r.text
        assert "team 'vision' quota on queue 'gpu': 3 of 3 queued jobs" in r.json()["message"]
        bens = ok(call("POST", TG + "/jobs", dict(job, tier="gpu2"), auth=ben))["job"]
        assert bens["spec"].get("team", "") == "", bens["spec"]  # nlp has no quota on gpu: not charged

        # The agent: 4 GPUs. Leases go to ana's first two jobs, then ben's (ana's third waits on her quota).
        agent_token = ok(call("POST", TG + "/tokens", {"name": "node", "role": "agent", "queues": ["gpu"]}))["token"]
        bearer = {"Authorization": "Bearer " + agent_token}
        report = {"name": "node", "queues": ["gpu"], "cpus": 64, "memory_bytes": 512 * GIB, "gpus_enabled": True,
                  "gpus": [gpu(i) for i in range(4)]}
        agent = requests.post(s.url + TG + "/agents/register", json={"report": report}, headers=bearer,
                              timeout=30).json()["agent_id"]

        def lease():
            r = requests.post(s.url + TG + "/agents/%s/lease" % agent, json={"report": report, "wait_ms": 0},
                              headers=bearer, timeout=30)
            assert r.status_code == 200, r.text
            return r.json().get("job")

        leased = [lease()["id"] for _ in range(3)]
        assert leased[:2] == ids[:2] and leased[2] == bens["id"], (leased, ids)
        assert lease() is None
        waiting = ok(call("GET", TG + "/jobs/" + ids[2], auth=ana))["job"]
        assert waiting["state"] == "queued"
        assert "team 'vision' quota on queue 'gpu': 2 of 2 running jobs in use" in waiting.get("waiting_for", ""), waiting
        out = subprocess.run([tamga_bin, "queues", "ls", "--tracking-uri", s.url], capture_output=True, text=True,
                             timeout=60, env=env)
        assert "team vision  gpus=2/2  running=2/2  queued=1/3  (2 x gpu1)" in out.stdout, out.stdout + out.stderr

        # Usage survives a restart (recounted from the stored jobs), and so do tiers and quotas.
        s.proc.terminate()
        s.proc.wait(timeout=30)
        s.start()
        quotas = ok(call("GET", TG + "/quotas", params={"queue": "gpu"}, auth=ana))["quotas"]
        assert [(x["team"], x["usage"]) for x in quotas] == [("vision", {"gpus": 2, "running": 2, "queued": 1})], quotas
        assert [t["name"] for t in ok(call("GET", TG + "/tiers", auth=ana))["tiers"]] == ["gpu1", "gpu2"]
        agent = requests.post(s.url + TG + "/agents/register", json={"report": report, "agent_id": agent},
                              headers=bearer, timeout=30).json()["agent_id"]

        # A finished job releases its share: the waiting job starts.
        r = requests.post(s.url + TG + "/jobs/%s/finish" % ids[0], headers=bearer, timeout=30,
                          json={"agent_id": agent, "state": "succeeded", "exit_code": 0})
        assert r.status_code == 200, r.text
        assert lease()["id"] == ids[2]
        # Raising the quota takes effect at once; removing it leaves the team unlimited.
        ok(call("PUT", TG + "/quotas", {"queue": "gpu", "team": "vision", "max_queued": 0}))
        r = call("POST", TG + "/jobs", job, auth=ana)
        assert r.status_code == 429, r.text
        ok(call("DELETE", TG + "/quotas", {"queue": "gpu", "team": "vision"}))
        assert call("DELETE", TG + "/quotas", {"queue": "gpu", "team": "vision"}).status_code == 404
        assert call("POST", TG + "/jobs", job, auth=ana).status_code == 200
        ok(call("DELETE", TG + "/tiers/gpu2"))
        assert call("POST", TG + "/jobs", dict(job, tier="gpu2"), auth=ana).status_code == 400
    finally:
        s.cleanup()
