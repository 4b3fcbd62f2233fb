"""`tamga jobs` through the real CLI against the job-queue cluster: submit, show, logs, render, experiments by
name, abort with its final state, and suggestions for mistyped commands."""
import json
import subprocess
import tempfile

import requests

from jobs_cluster import TERMINAL


def test_cli_submit_show_and_render(cluster):
    c = cluster
    run = lambda *a: subprocess.run([c.binary] + list(a), capture_output=True, text=True, timeout=60)
    out = run("jobs", "submit", "--server", c.url, "--queue", "gpu", "--code", "none", "--priority", "3", "--gpus", "1",
              "--gpu-memory", "8GiB", "--env", "A=1", "--", "sh", "-c", "echo from-cli $A")
    assert out.returncode == 0, out.stderr
    job_id = out.stdout.strip().splitlines()[-1]
    assert job_id.startswith("job-")
    j = c.wait_state(job_id, TERMINAL, timeout=30)
    assert j["state"] == "succeeded", j
    show = json.loads(run("jobs", "show", job_id, "--server", c.url, "--json").stdout)
    assert show["state"] == "succeeded" and "reason" in show
    logs = run("jobs", "logs", job_id, "--server", c.url)
    assert "from-cli 1" in logs.stdout
    lines = [json.loads(line) for line in run("jobs", "logs", job_id, "--server", c.url, "--json").stdout.splitlines()]
    assert any(l["stream"] == "stdout" and "from-cli 1" in l["data"] for l in lines), lines
    rendered = json.loads(run("jobs", "render", job_id, "--server", c.url, "--json").stdout)
    assert rendered["job_id"] == job_id and "kind: Job" in rendered["manifest"]
    assert json.loads(run("version", "--json").stdout)["version"]
    y = run("jobs", "render", job_id, "--server", c.url, "--gpu-product", "NVIDIA-A100-SXM4-40GB").stdout
    assert "kind: Job" in y and "nvidia.com/gpu: 1" in y and "NVIDIA-A100-SXM4-40GB" in y
    assert "queues" in run("queues", "ls", "--server", c.url, "--json").stdout
    # A job that ships its code cannot become a plain Kubernetes Job: refused with the reason.
    shipped = subprocess.run([c.binary, "jobs", "submit", "--server", c.url, "--queue", "cpu", "--code", "dir", "--",
                              "true"], capture_output=True, text=True, timeout=60, cwd=tempfile.mkdtemp())
    assert shipped.returncode == 0, shipped.stderr
    refused = run("jobs", "render", shipped.stdout.strip().splitlines()[-1], "--server", c.url)
    assert refused.returncode == 1 and "cannot fetch" in refused.stderr, refused.stderr
    bad = run("jobs", "submit", "--server", c.url, "--queue", "nope", "--", "true")
    assert bad.returncode == 1 and "nope" in bad.stderr


def test_cli_experiment_by_name_is_created_once_and_used(cluster):
    c = cluster
    run = lambda *a: subprocess.run([c.binary] + list(a), capture_output=True, text=True, timeout=60)
    ids = []
    for i in range(2):
        out = run("jobs", "submit", "--server", c.url, "--queue", "gpu", "--experiment", "nightly training",
                  "--", "true")
        assert out.returncode == 0, out.stderr
        ids.append(out.stdout.strip().splitlines()[-1])
        assert ("created experiment 'nightly training'" in out.stderr) == (i == 0), out.stderr
    exp = requests.get(c.url + "/api/2.0/mlflow/experiments/get-by-name",
                       params={"experiment_name": "nightly training"}).json()["experiment"]
    for job_id in ids:
        j = c.wait_state(job_id, TERMINAL, timeout=30)
        r = requests.get(c.url + "/api/2.0/mlflow/runs/get", params={"run_id": j["run_id"]}).json()["run"]
        assert r["info"]["experiment_id"] == exp["experiment_id"]
    both = run("jobs", "submit", "--server", c.url, "--queue", "gpu", "--experiment", "x", "--experiment-id", "0",
               "--", "true")
    assert both.returncode != 0 and "excludes" in both.stderr, both.stderr


def test_cli_abort_prints_the_final_state_and_unknown_commands_suggest(cluster):
    c = cluster
    run = lambda *a: subprocess.run([c.binary] + list(a), capture_output=True, text=True, timeout=90)
    out = run("jobs", "submit", "--tracking-uri", c.url, "--queue", "gpu", "--", "sleep", "60")
    assert out.returncode == 0, out.stderr
    job_id = out.stdout.strip().splitlines()[-1]
    c.wait_state(job_id, {"running"}, timeout=30)
    ab = run("jobs", "abort", job_id, "--tracking-uri", c.url, "--json")
    assert ab.returncode == 0, ab.stderr
    assert json.loads(ab.stdout)["state"] == "aborted", ab.stdout
    typo = run("jobs", "sumbit", "--tracking-uri", c.url)
    assert typo.returncode == 2 and "unknown command 'sumbit' for 'tamga jobs'. Did you mean: submit?" in typo.stderr
