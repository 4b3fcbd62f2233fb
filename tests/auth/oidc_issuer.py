"""A small OIDC identity provider for tests: serves a discovery document and a JWKS over real HTTP on loopback
and signs access tokens with python3-jwt (RS256 and ES256 keys from python3-cryptography). Keys can be added
while it runs (rotation)."""
import base64
import hashlib
import hmac
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Issuer:
    def __init__(self, realm="test"):
        self.keys = {}  # kid -> (private key, alg), published in the JWKS
        self.add_key("r1", "RS256")
        self.add_key("e1", "ES256")
        self.fetches = 0
        issuer = self

        self.codes = {}  # the browser sign-in: code -> what /auth was asked
        self.login_user = "carol"
        self.client_secret = None
        self.bad_nonce = False  # an ID token for another sign-in

        class Handler(BaseHTTPRequestHandler):
            def reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                # The token endpoint: authorization_code with PKCE (S256), codes good once.
                form = dict(parse_qsl(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()))
                req = issuer.codes.pop(form.get("code", ""), None)
                verifier = form.get("code_verifier", "")
                if (not self.path.endswith("/token") or req is None or form.get("grant_type") != "authorization_code"
                        or form.get("redirect_uri") != req["redirect_uri"] or form.get("client_id") != req["client_id"]
                        or b64url(hashlib.sha256(verifier.encode()).digest()) != req["code_challenge"]
                        or (issuer.client_secret is not None and form.get("client_secret") != issuer.client_secret)):
                    return self.reply(400, {"error": "invalid_grant"})
                nonce = "not-the-nonce" if issuer.bad_nonce else req["nonce"]
                claims = {"preferred_username": req["user"], "sub": "sub-" + req["user"], "nonce": nonce}
                self.reply(200, {"token_type": "Bearer", "access_token": issuer.token(**claims),
                                 "id_token": issuer.token(aud=req["client_id"], **claims)})

            def do_GET(self):
                if "/auth?" in self.path:  # approves at once, as the configured user
                    q = dict(parse_qsl(urlsplit(self.path).query))
                    if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256":
                        return self.reply(400, {"error": "invalid_request"})
                    code = b64url(os.urandom(16))
                    issuer.codes[code] = {"redirect_uri": q["redirect_uri"], "client_id": q["client_id"],
                                          "code_challenge": q["code_challenge"], "nonce": q.get("nonce", ""),
                                          "user": issuer.login_user, "state": q["state"]}
                    self.send_response(302)
                    self.send_header("Location", q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]}))
                    self.end_headers()
                    return
                if self.path.endswith("/.well-known/openid-configuration"):
                    body = {"issuer": issuer.url, "jwks_uri": issuer.url + "/protocol/openid-connect/certs",
                            "authorization_endpoint": issuer.url + "/auth", "token_endpoint": issuer.url + "/token"}
                elif self.path.endswith("/certs"):
                    issuer.fetches += 1
                    body = {"keys": [issuer.jwk(kid) for kid in issuer.keys]}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/realms/{realm}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def add_key(self, kid, alg, publish=True):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if alg == "RS256" \
            else ec.generate_private_key(ec.SECP256R1())
        if publish:
            self.keys[kid] = (key, alg)
        return key

    def jwk(self, kid):
        key, alg = self.keys[kid]
        algo = RSAAlgorithm if alg == "RS256" else ECAlgorithm
        j = json.loads(algo.to_jwk(key.public_key()))
        j.update({"kid": kid, "use": "sig", "alg": alg})
        return j

    def claims(self, **overrides):
        now = int(time.time())
        c = {"iss": self.url, "aud": "tamga", "sub": "u-1", "preferred_username": "carol", "iat": now,
             "exp": now + 300, "realm_access": {"roles": ["ml-team"]}}
        c.update(overrides)
        return {k: v for k, v in c.items() if v is not None}

    def token(self, kid="r1", key=None, alg=None, **overrides):
        if key is None:
            key, alg = self.keys[kid]
        return jwt.encode(self.claims(**overrides), key, algorithm=alg, headers={"kid": kid})

    def unsigned_token(self, **overrides):
        head = b64url(json.dumps({"alg": "none", "kid": "r1"}).encode())
        return head + "." + b64url(json.dumps(self.claims(**overrides)).encode()) + "."

    def hs256_with_public_key(self, kid="r1", **overrides):
        """The classic confusion attack: HS256 keyed with the issuer's public key (PEM) as the shared secret."""
        pem = self.keys[kid][0].public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo)
        head = b64url(json.dumps({"alg": "HS256", "kid": kid, "typ": "JWT"}).encode())
        body = b64url(json.dumps(self.claims(**overrides)).encode())
        sig = hmac.new(pem, (head + "." + body).encode(), hashlib.sha256).digest()
        return head + "." + body + "." + b64url(sig)

    def close(self):
        self.httpd.shutdown()
