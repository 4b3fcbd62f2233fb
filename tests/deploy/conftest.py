import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "harness"))


def pytest_addoption(parser):
    parser.addoption("--tamga", action="store", required=True, help="path to the tamga binary")
    parser.addoption("--node-dir", action="store", required=True,
                     help="folder where the schema checker's npm packages are installed (npm ci)")


@pytest.fixture(scope="session")
def tamga_bin(request):
    return request.config.getoption("--tamga")


@pytest.fixture(scope="session")
def models():
    d = tempfile.mkdtemp(prefix="tamga-deploy-models-")
    subprocess.run([sys.executable, os.path.join(HERE, "..", "serving", "make_models.py"), d], check=True)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def expected(models):
    return np.load(os.path.join(models, "expected.npz"))


@pytest.fixture(scope="session")
def k8s_validate(request):
    """A function that validates YAML files against the Kubernetes OpenAPI schema (k8s-schema/validate.mjs)
    and returns (ok, report). The npm packages are installed once per build folder with `npm ci`."""
    src = os.path.join(HERE, "k8s-schema")
    dst = request.config.getoption("--node-dir")
    os.makedirs(dst, exist_ok=True)
    lock = open(os.path.join(src, "package-lock.json")).read()
    stamp = os.path.join(dst, "node_modules", ".tamga-lock")
    if not os.path.exists(stamp) or open(stamp).read() != lock:
        for f in ("package.json", "package-lock.json"):
            shutil.copy(os.path.join(src, f), dst)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=dst, check=True,
                       timeout=300)
        open(stamp, "w").write(lock)
    shutil.copy(os.path.join(src, "validate.mjs"), dst)

    def validate(*files):
        r = subprocess.run(["node", os.path.join(dst, "validate.mjs"), *files], capture_output=True, text=True,
                           timeout=120)
        return r.returncode == 0, r.stdout + r.stderr

    return validate
