"""GPU-aware serving (`--device auto`, docs/rollouts.md §9) through a real `tamga server` and a fake
libnvidia-ml loaded by the real dlopen path (TAMGA_NVML_LIBRARY + FAKE_NVML_CONFIG).

Two fake GPUs: GPU-a with 4 GiB free, GPU-b with 12 GiB free. A Python model (whose worker sees only the GPU
it was placed on, through CUDA_VISIBLE_DEVICES) is placed on GPU-b and its GPU memory is reported per model.
When the GPUs fill up, the next version is refused with a clear status and the old one keeps serving; once
memory frees, the next registry change loads it.
"""
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import pytest
import requests

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
from tamga_harness import TamgaServer, upload_model, wait_for  # noqa: E402

ML = "/api/2.0/mlflow"
GIB = 1 << 30

MODEL = '''
import os
import numpy as np


class Model:
    def predict(self, x):
        return np.asarray(x, dtype=np.float32)[:, :4] * %d


def _load_pyfunc(path):
    with open(%r, "w") as f:
        f.write(os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>"))
    return Model()
'''


def gpu_model(root, name, factor, marker):
    d = os.path.join(root, name)
    os.makedirs(os.path.join(d, "code"))
    with open(os.path.join(d, "code", "gpu_test_model.py"), "w") as f:
        f.write(MODEL % (factor, marker))
    sig = ('[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 16]}}]',
           '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]')
    with open(os.path.join(d, "MLmodel"), "w") as f:
        f.write("flavors:\n  python_function:\n    loader_module: gpu_test_model\n    code: code\n"
                "signature:\n  inputs: '%s'\n  outputs: '%s'\n" % sig)
    return d


def nvml(path, free_a, free_b):
    total = 24 * GIB
    with open(path, "w") as f:
        json.dump({"driver": "550.54.15", "cuda": 12040, "gpus": [
            {"uuid": "GPU-a", "name": "NVIDIA L4", "total": total, "used": total - free_a},
            {"uuid": "GPU-b", "name": "NVIDIA L4", "total": total, "used": total - free_b}]}, f)


@pytest.fixture(scope="module")
def srv(request):
    fake = request.config.getoption("--fake-nvml")
    if not fake:
        pytest.skip("needs --fake-nvml")
    root = tempfile.mkdtemp(prefix="tamga-gpu-serving-")
    config = os.path.join(root, "nvml.json")
    nvml(config, 4 * GIB, 12 * GIB)
    s = TamgaServer(request.config.getoption("--tamga"),
                    extra_args=["--device", "auto", "--python", "/usr/bin/python3"],
                    env={"TAMGA_NVML_LIBRARY": fake, "FAKE_NVML_CONFIG": config}).start()
    s.root, s.nvml = root, config
    run = requests.post(s.url + ML + "/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]
    assert requests.post(s.url + ML + "/registered-models/create", json={"name": "g"}).status_code == 200
    for i in (1, 2):
        upload_model(s.url, run, gpu_model(root, "v%d" % i, i, os.path.join(root, "visible-v%d" % i)), "v%d" % i)
        r = requests.post(s.url + ML + "/model-versions/create", json={"name": "g", "source": f"runs:/{run}/v{i}"})
        assert r.status_code == 200, r.text
    yield s
    s.cleanup()
    shutil.rmtree(root, ignore_errors=True)


def alias(srv, version):
    r = requests.post(srv.url + ML + "/registered-models/alias", json={"name": "g", "alias": "prod", "version": version})
    assert r.status_code == 200, r.text


def infer(srv):
    x = np.ones((1, 16), dtype=np.float32)
    return requests.post(srv.url + "/v2/models/gpu-dep/infer", json={"inputs": [
        {"name": "input-0", "datatype": "FP32", "shape": [1, 16], "data": x.ravel().tolist()}]})


def status(srv):
    models = requests.get(srv.url + "/v2/health/ready").json()["models"]
    return next(m for m in models if m["name"] == "gpu-dep")


def gpu_metric(srv, version):
    for line in requests.get(srv.url + "/metrics").text.splitlines():
        if line.startswith('tamga_serving_model_gpu_memory_bytes{model="gpu-dep",version="%s"' % version):
            return line
    return None


def test_placed_on_the_gpu_with_room_refused_when_full_then_loaded(srv):
    alias(srv, "1")
    r = requests.post(srv.url + "/api/2.0/tamga/deployments", json={"name": "gpu-dep", "model_name": "g",
                                                                     "alias": "prod", "target": "local"})
    assert r.status_code == 200, r.text
    wait_for(lambda: requests.get(srv.url + "/v2/models/gpu-dep/ready").status_code == 200, what="ready")
    # The worker of version 1 sees only GPU-b, the GPU with the most free memory.
    with open(os.path.join(srv.root, "visible-v1")) as f:
        assert f.read() == "GPU-b"
    line = gpu_metric(srv, "1")
    assert line and 'gpu="GPU-b"' in line and float(line.split()[-1]) >= 256 * (1 << 20), line
    assert infer(srv).json()["outputs"][0]["data"] == [1.0] * 4

    # Both GPUs full: version 2 is refused with a clear status; version 1 keeps serving.
    nvml(srv.nvml, 100 << 20, 100 << 20)
    alias(srv, "2")
    wait_for(lambda: "GPU memory" in status(srv).get("error", ""), what="refusal in the status")
    st = status(srv)
    assert st["version"] == "1" and st["state"] == "available", st
    assert "needs an estimated" in st["error"] and "not loaded" in st["error"], st
    r = infer(srv)
    assert r.status_code == 200 and r.headers["Tamga-Model-Version"] == "1"
    assert not os.path.exists(os.path.join(srv.root, "visible-v2"))  # never started

    # Memory freed on GPU-a only: the next registry change (here a tag on the version) retries the load, which
    # now lands on GPU-a.
    nvml(srv.nvml, 8 * GIB, 100 << 20)
    r = requests.post(srv.url + ML + "/model-versions/set-tag", json={"name": "g", "version": "2", "key": "retry",
                                                                      "value": "now"})
    assert r.status_code == 200, r.text
    wait_for(lambda: status(srv).get("version") == "2", what="version 2 serving")
    with open(os.path.join(srv.root, "visible-v2")) as f:
        assert f.read() == "GPU-a"
    assert infer(srv).json()["outputs"][0]["data"] == [2.0] * 4
    wait_for(lambda: (gpu_metric(srv, "1") or "x 1").split()[-1] == "0", what="version 1's memory reported freed")
