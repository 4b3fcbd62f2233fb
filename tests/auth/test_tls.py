"""TLS (docs/security.md): `tamga server --tls-cert/--tls-key` serves HTTPS; our clients verify it against a CA
given with --ca-file or TAMGA_CA_FILE, and refuse it otherwise; bad key material stops the server at start-up.
(The mlflow client trusts a private CA through MLflow's own MLFLOW_TRACKING_SERVER_CERT_PATH.)"""
import os
import socket
import subprocess
import sys

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import tls_certs  # noqa: E402
from tamga_harness import TamgaServer  # noqa: E402

ADMIN = ("admin", "admin-pass-1234")


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return tls_certs.make(str(tmp_path_factory.mktemp("certs")))


@pytest.fixture
def srv(tamga_bin, certs):
    s = TamgaServer(tamga_bin, extra_args=["--auth", "on", "--tls-cert", certs["server"], "--tls-key",
                                           certs["server-key"]],
                    env={"TAMGA_ADMIN_PASSWORD": ADMIN[1]}, ca_file=certs["ca"]).start()
    yield s
    s.cleanup()


def test_https_serves_and_plain_http_gets_nothing(srv, certs):
    assert srv.url.startswith("https://")
    r = requests.get(srv.url + "/api/2.0/tamga/whoami", auth=ADMIN, verify=certs["ca"])
    assert r.status_code == 200 and r.json()["username"] == "admin", r.text
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(srv.url + "/health", timeout=5)  # not trusted without the CA
    # Plain HTTP on the TLS port is not answered in clear text (no credentials could leak back).
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(15)
        try:
            data = sock.recv(4096)
        except (ConnectionResetError, socket.timeout):
            data = b""
        assert b"HTTP/1.1 200" not in data
    # The server still serves after that.
    assert requests.get(srv.url + "/health", verify=certs["ca"]).status_code == 200


def test_cli_verifies_with_ca_file_or_env(srv, tamga_bin, certs):
    base = [tamga_bin, "tokens", "ls", "--tracking-uri", srv.url]
    env = dict(os.environ, MLFLOW_TRACKING_USERNAME=ADMIN[0], MLFLOW_TRACKING_PASSWORD=ADMIN[1])
    env.pop("TAMGA_CA_FILE", None)
    out = subprocess.run(base, capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode != 0 and "certificate" in (out.stdout + out.stderr).lower(), out.stdout + out.stderr
    out = subprocess.run(base + ["--ca-file", certs["ca"]], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    out = subprocess.run(base, capture_output=True, text=True, timeout=60, env=dict(env, TAMGA_CA_FILE=certs["ca"]))
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("case", ["missing_key", "wrong_key", "unreadable"])
def test_bad_tls_material_stops_the_server_with_a_reason(tamga_bin, certs, tmp_path, case):
    args = {"missing_key": ["--tls-cert", certs["server"]],
            "wrong_key": ["--tls-cert", certs["server"], "--tls-key", certs["other-key"]],
            "unreadable": ["--tls-cert", str(tmp_path / "nope.pem"), "--tls-key", certs["server-key"]]}[case]
    out = subprocess.run([tamga_bin, "server", "--port", "0", "--data-dir", str(tmp_path / "d"), "--auth", "on"]
                         + args, capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, TAMGA_ADMIN_PASSWORD=ADMIN[1]))
    text = out.stdout + out.stderr
    assert out.returncode != 0, text
    assert {"missing_key": "--tls-key", "wrong_key": "key values mismatch", "unreadable": "nope.pem"}[case] in text, text
    assert "terminate called" not in text
