import time

import pytest
import requests

from jobs_cluster import Cluster


def pytest_addoption(parser):
    parser.addoption("--tamga", action="store", required=True, help="path to the tamga binary")
    parser.addoption("--fake-nvml", action="store", required=True, help="path to the fake libnvidia-ml build")


@pytest.fixture(scope="module")
def cluster(request):
    c = Cluster(request.config.getoption("--tamga"), request.config.getoption("--fake-nvml"))
    c.start_server()
    for q in ("cpu", "gpu", "shared"):
        assert requests.post(c.api + "/queues", json={"name": q}).status_code == 200
    c.start_agent("cpu-box", "none")
    c.start_agent("gpu-box", "all")
    deadline = time.time() + 20
    while time.time() < deadline:
        agents = requests.get(c.api + "/agents").json()["agents"]
        if len([a for a in agents if a["live"]]) == 2:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("agents did not register: " + c.log("cpu-box") + c.log("gpu-box"))
    yield c
    c.stop()
