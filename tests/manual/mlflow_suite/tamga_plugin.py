"""pytest plugin: MLflow's integration tests, unchanged, against a fresh `tamga server`.

Loaded with `-p tamga_plugin` (this folder on PYTHONPATH). It replaces
`tests.tracking.integration_test_utils._init_server` -- the context manager MLflow's fixtures use to
start their tracking server and that yields its URL -- with one that starts `tamga server` on port 0
in a temporary data directory (with `--auth on` and MLflow's configured admin when the fixture asks for
MLflow's basic-auth app); MLflow 3.x's in-process `ServerThread` is replaced the same way. The backend and artifact-root arguments are ignored: Tamga uses its
embedded SQLite store and serves artifacts itself (`mlflow-artifacts:/` URIs).

TAMGA_BIN names the binary (default: build/tamga of this checkout).
"""
import contextlib
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.abspath(os.path.join(_HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(_ROOT, "tests", "harness"))

from tamga_harness import TamgaServer  # noqa: E402


def _binary():
    return os.environ.get("TAMGA_BIN", os.path.join(_ROOT, "build", "tamga"))


@contextlib.contextmanager
def _init_tamga_server(backend_uri=None, root_artifact_uri=None, extra_env=None, app=None):
    import mlflow

    mlflow.set_tracking_uri(None)
    if app and "auth" in app:
        # MLflow's basic-auth app: Tamga with --auth on and the admin MLflow's tests expect (auth_config).
        from mlflow.server.auth import auth_config

        server = TamgaServer(_binary(), extra_args=["--auth", "on", "--default-permission", auth_config.default_permission],
                             env={"TAMGA_ADMIN_USERNAME": auth_config.admin_username,
                                  "TAMGA_ADMIN_PASSWORD": auth_config.admin_password})
    else:
        server = TamgaServer(_binary())
    try:
        server.start()
        yield server.url
    finally:
        server.cleanup()


class _TamgaServerThread:
    """Stands in for MLflow 3.x's `ServerThread(app, port)` (an in-process server used as a context
    manager that yields its URL): starts `tamga server` instead and ignores the app and port."""

    def __init__(self, app=None, port=None):
        self.server = TamgaServer(_binary())

    def __enter__(self):
        self.server.start()
        return self.server.url

    def __exit__(self, *exc):
        self.server.cleanup()


def _patch(module):
    if getattr(module, "_init_server", None) is not None:
        module._init_server = _init_tamga_server
    if getattr(module, "ServerThread", None) is not None:
        module.ServerThread = _TamgaServerThread


def pytest_configure(config):
    import tests.tracking.integration_test_utils as utils

    _patch(utils)


def pytest_collection_modifyitems(session, config, items):
    # Test modules bind `_init_server` by name at import: patch each module's own reference too.
    seen = set()
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and id(module) not in seen:
            seen.add(id(module))
            _patch(module)
