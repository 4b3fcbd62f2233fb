"""OIDC access tokens against a real `tamga server --auth on --oidc-issuer ...` and a test identity provider
(oidc_issuer.py: discovery + JWKS over HTTP, tokens signed by python3-jwt): valid RS256 and ES256 tokens, users
provisioned on first sight with their groups, and every way a token must be refused."""
import os
import sys
import time

import pytest
import requests

sys.path.insert(0, os.path.dirname(__file__))
from oidc_issuer import Issuer  # noqa: E402
from tamga_harness import TamgaServer  # noqa: E402

ADMIN = ("admin", "admin-pass-1234")


def start(request):
    issuer = Issuer()
    s = TamgaServer(request.config.getoption("--tamga"),
                    extra_args=["--auth", "on", "--oidc-issuer", issuer.url, "--oidc-audience", "tamga",
                                "--oidc-groups-claim", "realm_access.roles", "--oidc-admin-group", "tamga-admins"],
                    env={"TAMGA_ADMIN_PASSWORD": ADMIN[1]}).start()
    return s, issuer


@pytest.fixture(scope="module")
def world(request):
    s, issuer = start(request)
    yield s, issuer
    s.cleanup()
    issuer.close()


@pytest.fixture
def fresh(request):  # its own server: the refresh rate limit must not have been spent by another test
    s, issuer = start(request)
    yield s, issuer
    s.cleanup()
    issuer.close()


def whoami(s, token):
    return requests.get(s.url + "/api/2.0/tamga/whoami", headers={"Authorization": "Bearer " + token}, timeout=30)


def test_valid_tokens_provision_users_with_their_groups(world):
    s, issuer = world
    r = whoami(s, issuer.token("r1"))
    assert r.status_code == 200, r.text
    assert r.json() == {"username": "carol", "is_admin": False, "authenticated_by": "oidc", "teams": ["ml-team"]}
    r = whoami(s, issuer.token("e1", preferred_username="dave"))  # ES256
    assert r.status_code == 200 and r.json()["username"] == "dave", r.text
    users = requests.get(s.url + "/api/2.0/tamga/users", auth=ADMIN, timeout=30).json()["users"]
    assert {"carol", "dave"} <= {u["username"] for u in users if u["source"] == "oidc"}
    r = whoami(s, issuer.token("r1", preferred_username="erin", realm_access={"roles": ["tamga-admins"]}))
    assert r.json()["is_admin"] is True
    # The mlflow client's wire: MLFLOW_TRACKING_TOKEN is a Bearer header; an OIDC user creates and owns objects.
    token = issuer.token("r1")
    r = requests.post(s.url + "/api/2.0/mlflow/experiments/create", json={"name": "carol-exp"},
                      headers={"Authorization": "Bearer " + token}, timeout=30)
    assert r.status_code == 200, r.text
    u = requests.get(s.url + "/api/2.0/mlflow/users/get", params={"username": "carol"}, auth=ADMIN, timeout=30)
    assert u.json()["user"]["experiment_permissions"][0]["permission"] == "MANAGE"


@pytest.mark.parametrize("case", ["expired", "not-yet", "wrong-audience", "wrong-issuer", "no-exp", "alg-none",
                                  "hs256-public-key", "tampered", "unknown-key", "wrong-alg-for-key", "garbage"])
def test_bad_tokens_are_refused(world, case):
    s, issuer = world
    now = int(time.time())
    if case == "expired":
        token = issuer.token(exp=now - 120)
    elif case == "not-yet":
        token = issuer.token(nbf=now + 600)
    elif case == "wrong-audience":
        token = issuer.token(aud="someone-else")
    elif case == "wrong-issuer":
        token = issuer.token(iss=issuer.url + "-evil")
    elif case == "no-exp":
        token = issuer.token(exp=None)
    elif case == "alg-none":
        token = issuer.unsigned_token()
    elif case == "hs256-public-key":
        token = issuer.hs256_with_public_key()
    elif case == "tampered":
        head, body, sig = issuer.token().split(".")
        other = issuer.token(preferred_username="admin").split(".")[1]
        token = ".".join([head, other, sig])
    elif case == "unknown-key":  # signed by a key the issuer never published
        token = issuer.token("stolen", key=issuer.add_key("stolen", "RS256", publish=False), alg="RS256")
    elif case == "wrong-alg-for-key":  # an ES256 key's kid on an RS256 signature
        token = issuer.token("e1", key=issuer.keys["r1"][0], alg="RS256")
    else:
        token = "a.b.c"
    r = whoami(s, token)
    assert r.status_code == 401, (case, r.text)
    assert r.json()["error_code"] == "UNAUTHENTICATED"


def test_key_rotation_fetches_the_new_key_once(fresh):
    s, issuer = fresh
    issuer.add_key("r2", "RS256")  # the issuer rotates: r2 published, tokens signed with it
    before = issuer.fetches
    r = whoami(s, issuer.token("r2", preferred_username="frank"))
    assert r.status_code == 200, r.text
    assert issuer.fetches == before + 1
    # Unknown kids cannot make the server hammer the issuer: at most one fetch per 30 s.
    for i in range(5):
        token = issuer.token(f"x{i}", key=issuer.add_key(f"x{i}", "RS256", publish=False), alg="RS256")
        assert whoami(s, token).status_code == 401
    assert issuer.fetches == before + 1


def test_oidc_name_of_a_local_user_is_refused(world):
    s, issuer = world
    r = requests.post(s.url + "/api/2.0/mlflow/users/create", json={"username": "gina", "password": "gina-pass-1234"},
                      auth=ADMIN, timeout=30)
    assert r.status_code == 200
    r = whoami(s, issuer.token("r1", preferred_username="gina"))
    assert r.status_code == 401 and "local user" in r.json()["message"]


def test_oidc_misconfiguration_stops_the_server(request, tmp_path):
    import subprocess
    binary = request.config.getoption("--tamga")
    for args, says in ((["--auth", "on", "--oidc-issuer", "http://127.0.0.1:9/realms/x"], "--oidc-audience"),
                       (["--oidc-issuer", "http://127.0.0.1:9/realms/x", "--oidc-audience", "t"], "--auth on")):
        r = subprocess.run([binary, "server", "--port", "0", "--data-dir", str(tmp_path / "d")] + args,
                           capture_output=True, text=True, timeout=30, env=dict(os.environ, TAMGA_ADMIN_PASSWORD="x" * 12))
        assert r.returncode != 0 and says in r.stdout + r.stderr, r.stdout + r.stderr

