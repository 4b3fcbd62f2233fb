"""The browser sign-in (docs/security.md, "Browser sign-in") against a real `tamga server --auth on`: the login
page and its double-submit protection, the HttpOnly SameSite session cookie, CSRF tokens on changes made with
the cookie, what a session may not do, logout and revocation; and single sign-on through a test OIDC issuer
(Authorization Code + PKCE S256, state used once, the ID token's nonce and audience checked)."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from oidc_issuer import Issuer
from tamga_harness import TamgaServer

ADMIN = ("admin", "admin-pass-1234")
API = "/api/2.0/mlflow"
TG = "/api/2.0/tamga"


@pytest.fixture
def srv(tamga_bin):
    s = TamgaServer(tamga_bin, extra_args=["--auth", "on"], env={"TAMGA_ADMIN_PASSWORD": ADMIN[1]}).start()
    yield s
    s.cleanup()


def login_form(s, sess, return_to="/"):
    r = sess.get(s.url + "/login", params={"return_to": return_to}, allow_redirects=False)
    assert r.status_code == 200 and "text/html" in r.headers["Content-Type"], r.text
    cookie = r.headers["Set-Cookie"]
    assert "tamga_login=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie
    return re.search(r'name="login_csrf" value="([^"]+)"', r.text).group(1)


def sign_in(s, sess, user, password, return_to="/"):
    csrf = login_form(s, sess, return_to)
    return sess.post(s.url + "/login", data={"username": user, "password": password, "return_to": return_to,
                                             "login_csrf": csrf}, allow_redirects=False)


def test_password_sign_in_session_and_csrf(srv):
    s = srv
    assert requests.post(s.url + API + "/users/create", auth=ADMIN,
                         json={"username": "dora", "password": "dora-pass-123"}).status_code == 200
    sess = requests.Session()
    # The form only counts when posted from our page (its cookie); a wrong password says so.
    r = sess.post(s.url + "/login", data={"username": "dora", "password": "dora-pass-123", "login_csrf": "x"},
                  allow_redirects=False)
    assert r.status_code == 303 and "error=expired" in r.headers["Location"] and "tamga_session" not in sess.cookies
    # A value the attacker picks for both cookie and field is not one this server signed.
    r = sess.post(s.url + "/login", data={"username": "dora", "password": "dora-pass-123", "login_csrf": "x.9999999999.y"},
                  cookies={"tamga_login": "x.9999999999.y"}, allow_redirects=False)
    assert r.status_code == 303 and "error=expired" in r.headers["Location"] and "tamga_session" not in sess.cookies
    r = sign_in(s, sess, "dora", "wrong-password")
    assert r.status_code == 303 and "error=password" in r.headers["Location"]
    audit = requests.get(s.url + TG + "/audit", auth=ADMIN, params={"outcome": "denied"}).json()["entries"]
    assert any(a["route"] == "/login" and a["principal"] == "dora" for a in audit), audit
    tok = requests.post(s.url + TG + "/tokens", auth=("dora", "dora-pass-123"), json={"name": "t"}).json()["token"]
    r = sign_in(s, sess, "dora", tok)  # tokens do not start browser sessions
    assert "error=password" in r.headers["Location"] and "tamga_session" not in sess.cookies
    # Open redirects are refused: only paths on this server.
    r = sign_in(s, sess, "dora", "dora-pass-123", return_to="//evil.example/x")
    assert r.status_code == 303 and r.headers["Location"] == "/", r.headers
    r = sign_in(s, sess, "dora", "dora-pass-123", return_to="/experiments?view=1")
    assert r.status_code == 303 and r.headers["Location"] == "/experiments?view=1"
    cookie = [c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith("tamga_session=")][0]
    for attr in ("HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="):
        assert attr in cookie, cookie
    assert "Secure" not in cookie  # plain HTTP here; over HTTPS the cookie is Secure

    info = sess.get(s.url + TG + "/session").json()
    assert info["username"] == "dora" and len(info["csrf_token"]) >= 40, info
    assert sess.get(s.url + TG + "/whoami").json()["authenticated_by"] == "session"
    assert sess.get(s.url + API + "/experiments/search", params={"max_results": 5}).status_code == 200
    # Changes with the cookie need the CSRF token (a cross-site form cannot send it).
    body = {"name": "from-browser"}
    assert sess.post(s.url + API + "/experiments/create", json=body).status_code == 403
    assert sess.post(s.url + API + "/experiments/create", json=body,
                     headers={"X-CSRF-Token": "x" * len(info["csrf_token"])}).status_code == 403
    csrf = {"X-CSRF-Token": info["csrf_token"]}
    assert sess.post(s.url + API + "/experiments/create", json=body, headers=csrf).status_code == 200
    # A session is not a password: it cannot change the password or mint a never-expiring token.
    r = sess.patch(s.url + API + "/users/update-password", headers=csrf,
                   json={"username": "dora", "password": "new-pass-1234"})
    assert r.status_code == 403, r.text
    r = sess.post(s.url + TG + "/tokens", headers=csrf, json={"name": "forever", "expires_in_days": 0})
    assert r.status_code == 403, r.text
    # An Authorization header wins over the cookie (and needs no CSRF token).
    assert sess.get(s.url + TG + "/whoami", auth=ADMIN).json()["username"] == "admin"

    # Logout ends the session; a password change by an admin ends the others.
    sess2 = requests.Session()
    assert sign_in(s, sess2, "dora", "dora-pass-123").status_code == 303
    assert sess.post(s.url + "/logout", headers=csrf).status_code == 200
    assert "tamga_session" not in sess.cookies
    old = requests.get(s.url + TG + "/whoami", cookies={"tamga_session": cookie.split(";")[0].split("=", 1)[1]})
    assert old.status_code == 401
    assert sess2.get(s.url + TG + "/whoami").status_code == 200
    assert requests.patch(s.url + API + "/users/update-password", auth=ADMIN,
                          json={"username": "dora", "password": "dora-pass-456"}).status_code == 200
    assert sess2.get(s.url + TG + "/whoami").status_code == 401
    # Two session cookies (a planted one sorts first): refused, not picked.
    r = requests.get(s.url + TG + "/whoami", headers={"Cookie": "tamga_session=planted; tamga_session=other"})
    assert r.status_code == 400, r.text
    # Garbage cookies are just unauthenticated.
    for bad in ("", "x" * 5000, "%00", "a;b"):
        r = requests.get(s.url + TG + "/whoami", headers={"Cookie": "tamga_session=" + bad})
        assert r.status_code in (400, 401), (bad, r.status_code)


def oidc_server(tamga_bin, issuer, secret="s3cret"):
    issuer.client_secret = secret
    return TamgaServer(tamga_bin, extra_args=["--auth", "on", "--oidc-issuer", issuer.url, "--oidc-audience", "tamga",
                                              "--public-url", "https://tamga.test"],
                       env={"TAMGA_ADMIN_PASSWORD": ADMIN[1], "TAMGA_OIDC_CLIENT_SECRET": secret}).start()


def start_sso(s, sess, return_to="/runs"):
    r = sess.get(s.url + "/login/oidc", params={"return_to": return_to}, allow_redirects=False)
    assert r.status_code == 302, r.text
    return r.headers["Location"]


def at_issuer(auth_url):
    """The issuer approves and sends the browser back: the callback's query."""
    r = requests.get(auth_url, allow_redirects=False)
    assert r.status_code == 302, r.text
    back = urlsplit(r.headers["Location"])
    assert back.scheme + "://" + back.netloc + back.path == "https://tamga.test/login/callback"
    return back.query


def test_single_sign_on_with_pkce(tamga_bin):
    issuer = Issuer()
    s = oidc_server(tamga_bin, issuer)
    try:
        sess = requests.Session()
        assert "Sign in with SSO" in sess.get(s.url + "/login").text
        auth_url = start_sso(s, sess)
        q = parse_qs(urlsplit(auth_url).query)
        assert q["response_type"] == ["code"] and q["client_id"] == ["tamga"]
        assert q["code_challenge_method"] == ["S256"] and len(q["code_challenge"][0]) == 43
        assert q["redirect_uri"] == ["https://tamga.test/login/callback"] and q["nonce"] and q["state"]
        assert "openid" in q["scope"][0]
        query = at_issuer(auth_url)
        r = sess.get(s.url + "/login/callback?" + query, allow_redirects=False)
        assert r.status_code == 303 and r.headers["Location"] == "/runs", (r.status_code, r.headers, r.text)
        cookie = r.headers["Set-Cookie"]
        assert "tamga_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie  # https public URL
        # requests does not send a Secure cookie over http: send it as the browser would over HTTPS.
        sid = re.search(r"tamga_session=([^;]+)", cookie).group(1)
        who = requests.get(s.url + TG + "/whoami", cookies={"tamga_session": sid}).json()
        assert who["username"] == "carol" and who["authenticated_by"] == "oidc", who
        # The state is good once.
        r = sess.get(s.url + "/login/callback?" + query, allow_redirects=False)
        assert r.status_code == 303 and "error=sso" in r.headers["Location"]
        # A code from another sign-in (its PKCE verifier differs) is refused by the issuer.
        mine, theirs = start_sso(s, sess), start_sso(s, sess)
        their_code = parse_qs(at_issuer(theirs))["code"][0]
        my_state = parse_qs(urlsplit(mine).query)["state"][0]
        r = sess.get(s.url + "/login/callback", params={"state": my_state, "code": their_code}, allow_redirects=False)
        assert "error=sso" in r.headers["Location"]
        # An ID token for another sign-in (nonce) is refused.
        issuer.bad_nonce = True
        r = sess.get(s.url + "/login/callback?" + at_issuer(start_sso(s, sess)), allow_redirects=False)
        assert "error=sso" in r.headers["Location"]
        issuer.bad_nonce = False
        # Unknown state, missing code: refused, not crashed.
        for params in ({"state": "nope", "code": "x"}, {}, {"state": "", "code": ""}):
            r = sess.get(s.url + "/login/callback", params=params, allow_redirects=False)
            assert r.status_code == 303 and "error=sso" in r.headers["Location"], params
    finally:
        s.cleanup()
        issuer.close()
