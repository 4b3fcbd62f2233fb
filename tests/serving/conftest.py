def pytest_addoption(parser):
    parser.addoption("--tamga", action="store", required=True, help="path to the tamga binary")
