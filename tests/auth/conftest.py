import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from tamga_harness import TamgaServer  # noqa: E402


def pytest_addoption(parser):
    parser.addoption("--tamga", action="store", required=True, help="path to the tamga binary")


@pytest.fixture
def tamga_bin(request):
    return request.config.getoption("--tamga")


@pytest.fixture
def server(tamga_bin):
    s = TamgaServer(tamga_bin).start()
    yield s
    s.cleanup()
