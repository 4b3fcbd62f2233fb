"""`tamga deploy` through the real CLI against a real server: a deployment of a model that does not exist is
refused unless --allow-missing, `ls` says in words whether it is rendered, and `rm` deletes it."""
import json
import subprocess

import requests


def cli(tamga_bin, server, *args):
    return subprocess.run([tamga_bin, *args, "--tracking-uri", server.url], capture_output=True, text=True,
                          timeout=60)


def test_apply_ls_rm(server, tamga_bin, tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"name": "churn-api", "model_name": "churn", "alias": "prod"}))
    r = cli(tamga_bin, server, "deploy", "apply", "-f", str(spec))
    assert r.returncode != 0
    assert "Registered model 'churn' does not exist" in r.stdout + r.stderr, r.stdout + r.stderr

    r = cli(tamga_bin, server, "deploy", "apply", "-f", str(spec), "--allow-missing")
    assert r.returncode == 0, r.stdout + r.stderr
    r = cli(tamga_bin, server, "deploy", "ls")
    assert r.returncode == 0
    assert "churn-api  churn@prod  not rendered yet (alias 'prod' does not point at a version)" in r.stdout, r.stdout

    r = cli(tamga_bin, server, "deploy", "rm", "churn-api")
    assert r.returncode == 0 and "deleted deployment churn-api" in r.stdout, r.stdout + r.stderr
    assert requests.get(server.url + "/api/2.0/tamga/deployments", timeout=10).json()["deployments"] == []
    r = cli(tamga_bin, server, "deploy", "rm", "churn-api")
    assert r.returncode != 0 and "not found" in (r.stdout + r.stderr).lower()
