import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, HERE)
from serve_harness import Serve  # noqa: E402


def pytest_addoption(parser):
    parser.addoption("--tamga", action="store", required=True, help="path to the tamga binary")


@pytest.fixture(scope="session")
def models():
    d = tempfile.mkdtemp(prefix="tamga-serve-models-")
    subprocess.run([sys.executable, os.path.join(HERE, "make_models.py"), d], check=True)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def expected(models):
    return np.load(os.path.join(models, "expected.npz"))


@pytest.fixture(scope="module")
def mlp(request, models):
    s = Serve(request.config.getoption("--tamga"), os.path.join(models, "mlp"), "--max-batch-size", "64",
              "--max-queue-delay-us", "2000").wait_ready()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def xgbs(request, models):
    s = Serve(request.config.getoption("--tamga"), os.path.join(models, "xgb"), "--instances", "2").wait_ready()
    yield s
    s.stop()
