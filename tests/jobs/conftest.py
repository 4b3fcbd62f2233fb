def pytest_addoption(parser):
    parser.addoption("--tamga", action="store", required=True, help="path to the tamga binary")
    parser.addoption("--fake-nvml", action="store", required=True, help="path to the fake libnvidia-ml build")
