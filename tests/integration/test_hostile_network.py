"""Hostile inputs, classes 4-10 (connections, metrics cardinality, SSRF, registry immutability, secrets, injection,
smaller cases) against a real `tamga server`; see test_hostile_inputs.py for the contract."""
import contextlib
import http.client
import http.server
import json
import os
import random
import select
import socket
import threading
import time
import urllib.parse

import pytest

from tamga_harness import TamgaServer

from hostile_common import (  # noqa: F401
    API, ART, ERROR_CODES, REPORT, TAMGA, TIMEOUT, Resp, assert_alive, assert_error, assert_not_5xx, call,
    create_run, full_log, lease, make_queue, ok_json, rand_token, register_agent, running_job, started, submit,
    thread_count)


# ----------------------------------------------------------------------------------------- 4. connections

def test_connection_cap(tamga_bin):
    with started(tamga_bin, "--max-connections", "16") as s:
        held = []
        # The start-up health check's connection must be gone first: while the server has not yet seen it
        # close, it counts towards the cap, and once it goes a later connection (the probe) fits again.
        time.sleep(1.0)
        try:
            for _ in range(40):
                held.append(socket.create_connection(("127.0.0.1", s.port), timeout=3))
            time.sleep(0.5)
            assert s.proc.poll() is None, _died(s)
            # One more connection: refused at once (closed) or 503, never a hang.
            probe = socket.create_connection(("127.0.0.1", s.port), timeout=3)
            t0 = time.time()
            outcome = None
            try:
                probe.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                data = probe.recv(4096)
                outcome = data
            except socket.timeout:
                outcome = "hang"
            except OSError as e:
                outcome = b""  # reset: closed
                _ = e
            finally:
                probe.close()
            assert outcome != "hang", "connection beyond the cap hung for %.1fs" % (time.time() - t0)
            assert outcome == b"" or outcome.startswith(b"HTTP/1.1 503"), \
                "connection beyond the cap was served: %r" % outcome[:200]
            if outcome:
                assert b"TEMPORARILY_UNAVAILABLE" in outcome, outcome[:300]
        finally:
            for h in held:
                h.close()
        deadline = time.time() + 5
        while True:
            try:
                if call(s, "GET", "/health", timeout=2).status_code == 200:
                    break
            except AssertionError:
                pass
            assert time.time() < deadline, "/health did not answer within 5 s of closing the connections" + _died(s)
            time.sleep(0.1)
        assert_alive(s)


def _closed_within(sock, send_bytes, interval, limit):
    """Sends one byte every `interval` s; returns seconds until the server closed (or answered), or None."""
    t0 = time.time()
    i = 0
    while time.time() - t0 < limit:
        try:
            sock.send(send_bytes[i % len(send_bytes):i % len(send_bytes) + 1])
        except OSError:
            return time.time() - t0
        i += 1
        readable, _, _ = select.select([sock], [], [], interval)
        if readable:
            try:
                sock.recv(65536)  # b"" (closed) or an answer such as 408: the server ended the request
            except OSError:
                pass
            return time.time() - t0
    return None


def test_header_deadline(tamga_bin):
    with started(tamga_bin, "--header-timeout-ms", "1000") as s:
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        try:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            took = _closed_within(sock, b"X-Slow: " + b"a" * 100, 0.3, 8)
        finally:
            sock.close()
        assert took is not None, "a header trickled at 1 byte/300 ms kept the connection open for 8 s"
        assert took <= 3.5, "connection closed only after %.1f s" % took
        assert_alive(s)


def test_slow_upload_is_cut(tamga_bin):
    with started(tamga_bin, "--header-timeout-ms", "1000", "--min-upload-rate", "100000") as s:
        run = create_run(s)
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        try:
            sock.sendall(("PUT %s/0/%s/artifacts/slow.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n"
                          "Content-Type: application/octet-stream\r\n\r\n" % (ART, run)).encode())
            t0 = time.time()
            closed = None
            while time.time() - t0 < 22:
                try:
                    sock.send(b"x" * 200)
                except OSError:
                    closed = time.time() - t0
                    break
                readable, _, _ = select.select([sock], [], [], 0.2)
                if readable:
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        data = b""
                    if data:
                        assert data.startswith(b"HTTP/1.1 408") or data.startswith(b"HTTP/1.1 400"), data[:200]
                    closed = time.time() - t0
                    break
        finally:
            sock.close()
        assert closed is not None, "an upload at ~1 KB/s was still open after 22 s"
        assert closed <= 21, closed
        assert_alive(s)


def test_webhook_test_storm_keeps_threads_bounded(tamga_bin):
    with started(tamga_bin, "--webhook-timeout-ms", "1000") as s:
        r = call(s, "POST", API + "/webhooks", {"name": "blackhole", "url": "http://192.0.2.1/",
                                                  "events": ["registered_model.created"]})
        if r.status_code == 400:
            pytest.skip("webhook to 192.0.2.1 refused at create: %r" % r)
        hook = ok_json(r, "webhook create")["webhook"]["webhook_id"]
        baseline = thread_count(s.proc.pid)
        peak = [baseline]
        bad = []
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                try:
                    peak[0] = max(peak[0], thread_count(s.proc.pid))
                except OSError:
                    return
                time.sleep(0.02)

        todo = list(range(300))
        lock = threading.Lock()

        def worker():
            while True:
                with lock:
                    if not todo:
                        return
                    todo.pop()
                try:
                    resp = call(s, "POST", API + "/webhooks/%s/test" % hook, {}, timeout=20)
                    if resp.status_code not in (200, 429, 503):
                        bad.append(repr(resp))
                    elif resp.status_code == 200 and resp.json()["result"]["success"] is not False:
                        bad.append("success to a black hole: %r" % resp)
                except AssertionError as e:
                    bad.append(str(e)[:200])

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        workers = [threading.Thread(target=worker, daemon=True) for _ in range(50)]
        t0 = time.time()
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=max(1, 90 - (time.time() - t0)))
        stop.set()
        sampler.join()
        assert not any(w.is_alive() for w in workers), "300 webhook tests did not finish within 90 s"
        assert not bad, "%d bad answers, e.g. %s" % (len(bad), bad[:3])
        limit = max(64, baseline + 16)
        assert peak[0] <= limit, "threads grew from %d to %d (limit %d)" % (baseline, peak[0], limit)
        assert_alive(s)


# ------------------------------------------------------------------------------------ 5. metrics cardinality

def test_metrics_have_no_attacker_controlled_labels(server):
    tokens = []
    templates = [
        ("DELETE", API + "/runs/{r}"),
        ("PATCH", TAMGA + "/jobs/{r}/x"),
        ("GET", "/nope/{r}"),
        ("POST", API + "/{r}"),
        ("GET", TAMGA + "/jobs/{r}"),
        ("GET", ART + "/0/{r}/x.txt"),
        ("GET", API + "/experiments/get?experiment_id={r}"),
        ("{R}", TAMGA + "/queues"),
        ("{R}", "/{r}"),
        ("OPTIONS", "/ajax-api/2.0/{r}"),
    ]
    for i in range(500):
        tok = rand_token()
        tokens.append(tok)
        method, path = templates[i % len(templates)]
        method = method.replace("{R}", "X" + tok.upper())
        r = call(server, method, path.replace("{r}", tok), b"{}" if method in ("POST", "PATCH") else None)
        assert r.status_code < 500 or r.status_code == 501, "%s %s -> %r" % (method, path, r)
    assert_alive(server)
    m = call(server, "GET", "/metrics")
    assert m.status_code == 200
    text = m.content.decode("utf-8", "replace")
    leaked = [t for t in tokens if t in text or t.upper() in text]
    assert not leaked, "%d random strings became metric labels, e.g. %s" % (len(leaked), leaked[:3])
    assert len(m.content) < 200 * 1024, "/metrics is %d bytes" % len(m.content)


# --------------------------------------------------------------------------------------------------- 6. SSRF

class SecretHost:
    """A local HTTP server whose every answer is SECRET-LOOPBACK; counts the requests it gets."""

    def __init__(self, family=socket.AF_INET, host="127.0.0.1"):
        self.hits = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                outer.hits += 1
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "15")
                self.end_headers()
                self.wfile.write(b"SECRET-LOOPBACK")

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            address_family = family

        self.httpd = Server((host, 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


SSRF_URLS = [
    ("loopback", "http://127.0.0.1:{p4}/"),
    ("localhost", "http://localhost:{p4}/"),
    ("ipv6-loopback", "http://[::1]:{p6}/"),
    ("metadata", "http://169.254.169.254/latest/meta-data"),
    ("private-10", "http://10.0.0.1/"),
    ("zero-address", "http://0.0.0.0:{p4}/"),
    ("decimal-ip", "http://2130706433:{p4}/"),
    ("short-ip", "http://127.1:{p4}/"),
    ("hex-ip", "http://0x7f000001:{p4}/"),
    ("v4-mapped-v6", "http://[::ffff:127.0.0.1]:{p4}/"),
    ("userinfo", "http://example.com@127.0.0.1:{p4}/"),
    ("upper-localhost-dot", "http://LOCALHOST.:{p4}/"),
]


@pytest.mark.parametrize("name,template", SSRF_URLS, ids=[u[0] for u in SSRF_URLS])
def test_webhooks_do_not_reach_internal_hosts(tamga_bin, name, template):
    v4 = SecretHost()
    try:
        v6 = SecretHost(socket.AF_INET6, "::1")
    except OSError:
        v6 = None
    try:
        with started(tamga_bin, "--webhook-timeout-ms", "1000") as s:
            url = template.format(p4=v4.port, p6=(v6 or v4).port)
            r = call(s, "POST", API + "/webhooks", {"name": "ssrf", "url": url, "events": ["registered_model.created"]})
            seen = [r.content]
            if r.status_code != 400:
                hook = ok_json(r, "webhook create")["webhook"]["webhook_id"]
                t = call(s, "POST", API + "/webhooks/%s/test" % hook, {}, timeout=15)
                seen.append(t.content)
                result = ok_json(t, "webhook test").get("result", {})
                assert result.get("success") is False, "test of %s succeeded: %r" % (url, t)
                # A real event too: the background delivery must not reach the host either.
                call(s, "POST", API + "/registered-models/create", {"name": "ssrf-probe"})
                time.sleep(1.5)
                d = call(s, "GET", TAMGA + "/webhooks/%s/deliveries" % hook)
                seen.append(d.content)
            else:
                assert_error(r, 400)
            for body in seen:
                assert b"SECRET-LOOPBACK" not in body, "the internal host's answer leaked: %r" % body[:300]
            hits = v4.hits + (v6.hits if v6 else 0)
            assert hits == 0, "the internal host at %s received %d request(s)" % (url, hits)
            assert_alive(s)
    finally:
        v4.close()
        if v6:
            v6.close()


def test_outbound_allow_lets_loopback_through(tamga_bin):
    host = SecretHost()
    try:
        with started(tamga_bin, "--outbound-allow", "127.0.0.1", "--webhook-timeout-ms", "2000") as s:
            r = call(s, "POST", API + "/webhooks", {"name": "allowed", "url": "http://127.0.0.1:%d/" % host.port,
                                                     "events": ["registered_model.created"]})
            hook = ok_json(r, "webhook create")["webhook"]["webhook_id"]
            t = ok_json(call(s, "POST", API + "/webhooks/%s/test" % hook, {}, timeout=15), "webhook test")
            assert t["result"]["success"] is True, t
            assert host.hits >= 1
            assert_alive(s)
    finally:
        host.close()


# ------------------------------------------------------------------------------- 7. registry is immutable

def test_registry_copies_are_immutable(server):
    run = create_run(server)
    files = {"MLmodel": b"flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n", "model.pkl": b"\x00weights"}
    for fname, content in files.items():
        ok_json(call(server, "PUT", ART + "/0/%s/artifacts/model/%s" % (run, fname), content,
                     {"Content-Type": "application/octet-stream"}), "upload " + fname)
    ok_json(call(server, "POST", API + "/registered-models/create", {"name": "locked"}), "create model")
    mv = ok_json(call(server, "POST", API + "/model-versions/create",
                      {"name": "locked", "source": "runs:/%s/model" % run}), "create version")["model_version"]
    deadline = time.time() + 15
    while mv.get("status") != "READY":
        assert time.time() < deadline, "version never READY: %r" % mv
        time.sleep(0.1)
        mv = ok_json(call(server, "GET", API + "/model-versions/get?name=locked&version=" + mv["version"]),
                     "get version")["model_version"]
    loc = mv["storage_location"]
    assert loc.startswith("mlflow-artifacts:/_registry/"), loc
    rel = loc[len("mlflow-artifacts:/"):].strip("/")          # _registry/<hex>
    hexid = rel.split("/", 1)[1]
    before = call(server, "GET", ART + "/" + rel + "/MLmodel")
    assert before.status_code == 200 and before.content == files["MLmodel"], before

    attempts = [
        ("PUT", ART + "/" + rel + "/MLmodel", b"flavors: {evil: 1}\n"),
        ("PUT", ART + "/" + rel + "/model.pkl", b"evil"),
        ("PUT", ART + "/" + rel + "/evil.txt", b"evil"),
        ("DELETE", ART + "/" + rel + "/MLmodel", None),
        ("DELETE", ART + "/" + rel, None),
        ("DELETE", ART + "/_registry", None),
        ("PUT", ART + "/_registry/" + "f" * 32 + "/MLmodel", b"planted"),
        ("PUT", ART + "/%5Fregistry/" + hexid + "/MLmodel", b"evil-encoded"),
        ("PUT", ART + "/_registry%2F" + hexid + "%2FMLmodel", b"evil-encoded-slash"),
        ("PUT", ART + "/./_registry/" + hexid + "/MLmodel", b"evil-dot"),
        ("PUT", ART + "//_registry/" + hexid + "/MLmodel", b"evil-double-slash"),
        ("DELETE", ART + "/%5Fregistry/" + hexid + "/MLmodel", None),
    ]
    failures = []
    for method, path, body in attempts:
        r = call(server, method, path, body, {"Content-Type": "application/octet-stream"} if body else None)
        try:
            assert_error(r, (403, 400) if ("%" in path or "/./" in path or "//_" in path) else 403)
        except AssertionError as e:
            failures.append("%s %s: %s" % (method, path, str(e)[:200]))
    for fname, content in files.items():
        now = call(server, "GET", ART + "/" + rel + "/" + fname)
        if now.status_code != 200 or now.content != content:
            failures.append("registry file %s changed: %r" % (fname, now))
    listing = ok_json(call(server, "GET", ART + "?path=" + urllib.parse.quote(rel, safe="")), "list version dir")
    names = sorted(f["path"] for f in listing.get("files", []))
    if names != ["MLmodel", "model.pkl"]:
        failures.append("version dir now holds %r" % names)
    if os.path.exists(os.path.join(server.data_dir, "artifacts", "_registry", "f" * 32)):
        failures.append("a file was planted under _registry")
    assert not failures, "\n".join(failures)
    assert_alive(server)


# ------------------------------------------------------------------------------------------------ 8. secrets

SECRET_ENV = {"AWS_SECRET_ACCESS_KEY": "s3cr3t-value", "HF_TOKEN": "tok-value", "PLAIN": "visible"}


def test_job_env_secrets_are_masked_for_users_not_for_the_agent(server):
    make_queue(server)
    agent = register_agent(server)
    job = submit(server, env=SECRET_ENV)["id"]
    views = {
        "GET /jobs": call(server, "GET", TAMGA + "/jobs"),
        "GET /jobs?queue=default": call(server, "GET", TAMGA + "/jobs?queue=default&state=queued"),
        "GET /jobs/<id>": call(server, "GET", TAMGA + "/jobs/" + job),
    }
    leased = lease(server, agent)
    assert leased.get("job", {}).get("id") == job, leased
    views["GET /jobs after lease"] = call(server, "GET", TAMGA + "/jobs")
    views["GET /jobs/<id> after lease"] = call(server, "GET", TAMGA + "/jobs/" + job)
    run_id = ok_json(views["GET /jobs/<id>"], "job")["job"].get("run_id")
    if run_id:
        views["the job's run"] = call(server, "GET", API + "/runs/get?run_id=" + run_id)
    for label, r in views.items():
        ok_json(r, label)
        for secret in ("s3cr3t-value", "tok-value"):
            assert secret.encode() not in r.content, "%s shows %s" % (label, secret)
    env = leased["job"]["spec"]["env"]
    assert env["AWS_SECRET_ACCESS_KEY"] == "s3cr3t-value" and env["HF_TOKEN"] == "tok-value", env
    assert env["PLAIN"] == "visible"
    assert_alive(server)


def test_job_submit_answers_mask_secrets(server):
    make_queue(server)
    one = call(server, "POST", TAMGA + "/jobs", {"queue": "default", "command": ["true"], "env": SECRET_ENV})
    batch = call(server, "POST", TAMGA + "/jobs/batch",
                 {"jobs": [{"queue": "default", "command": ["true"], "env": SECRET_ENV}]})
    for label, r in (("submit", one), ("batch", batch)):
        ok_json(r, label)
        for secret in ("s3cr3t-value", "tok-value"):
            assert secret.encode() not in r.content, "%s answer shows %s" % (label, secret)
    assert_alive(server)


# ---------------------------------------------------------------------------------------------- 9. injection

INJECT_IDS = [
    ("quote", 'a","x":"y'),
    ("newline", "a\nb"),
    ("backslash", "a\\"),
    ("nul", "a\u0000b"),
    ("escape-char", "a\u001b[31mred"),
    ("unicode-line-sep", "a\u2028b"),
]


@pytest.mark.parametrize("name,agent_id", INJECT_IDS, ids=[c[0] for c in INJECT_IDS])
def test_agent_id_injection(server, name, agent_id):
    r = call(server, "POST", TAMGA + "/agents/register", {"agent_id": agent_id, "report": REPORT})
    if r.status_code == 400:
        assert_error(r, 400)
    else:
        body = ok_json(r, "register")
        assert body == {"agent_id": agent_id}, "register answered %r for agent_id %r" % (r.content, agent_id)
    agents = ok_json(call(server, "GET", TAMGA + "/agents"), "GET /agents")
    for a in agents["agents"]:
        assert set(a) >= {"id", "live"}, a
    assert_alive(server)


FORGED = "\n2026-01-01T00:00:00.000Z error FORGED"


def _forge_everywhere(server):
    make_queue(server)
    q = urllib.parse.quote
    call(server, "POST", API + "/experiments/create", {"name": "e" + FORGED})
    call(server, "POST", API + "/runs/create", {"experiment_id": "0", "run_name": "r" + FORGED})
    call(server, "GET", API + "/experiments/get-by-name?experiment_name=" + q("nope" + FORGED))
    call(server, "POST", API + "/registered-models/create", {"name": "m" + FORGED})
    call(server, "POST", API + "/webhooks", {"name": "w" + FORGED, "url": "http://h/", "events": ["model_version.created"]})
    call(server, "POST", TAMGA + "/agents/register", {"agent_id": "ag" + FORGED, "report": REPORT})
    call(server, "POST", TAMGA + "/agents/register", {"report": dict(REPORT, name="n" + FORGED)})
    call(server, "POST", TAMGA + "/queues", {"name": "q" + FORGED})
    call(server, "POST", TAMGA + "/jobs", {"queue": "default", "command": ["true"], "run_name": "j" + FORGED})
    call(server, "POST", TAMGA + "/jobs", {"queue": "nope" + FORGED, "command": ["true"]})
    call(server, "GET", "/nope" + q(FORGED))
    call(server, "GET", TAMGA + "/jobs/" + q("x" + FORGED))
    call(server, "POST", TAMGA + "/deployments", {"name": "d" + FORGED, "model_name": "m"})
    time.sleep(0.5)


def test_newlines_do_not_forge_log_lines(server):
    _forge_everywhere(server)
    forged = [l for l in full_log(server).splitlines() if l.startswith("2026-01-01T00:00:00.000Z")]
    assert not forged, "forged log line(s): %r" % forged[:3]
    assert_alive(server)


def test_json_log_lines_stay_json(tamga_bin, monkeypatch):
    monkeypatch.setenv("TAMGA_LOG_FORMAT", "json")
    with started(tamga_bin) as s:
        _forge_everywhere(s)
        lines = full_log(s).splitlines()
        forged = [l for l in lines if l.startswith("2026-01-01T00:00:00.000Z")]
        assert not forged, "forged log line(s): %r" % forged[:3]
        for l in lines:
            if l.startswith("{"):
                json.loads(l)
        assert_alive(s)


# ------------------------------------------------------------------------------------------------ 10. smaller

@pytest.mark.parametrize("eid", ["0", "00", " 0", "0 ", "+0", "-0", "0x0", "0.0", "\u0660"])
def test_default_experiment_cannot_be_deleted_by_any_spelling(server, eid):
    r = call(server, "POST", API + "/experiments/delete", {"experiment_id": eid})
    assert_error(r, 400 if eid == "0" else (400, 404))
    exp = ok_json(call(server, "GET", API + "/experiments/get?experiment_id=0"), "get 0")["experiment"]
    assert exp["lifecycle_stage"] == "active", exp
    assert_alive(server)


def test_huge_and_deep_search_filters_are_400(server):
    create_run(server)
    long_filter = "metrics.m > 0 and " * 199 + "metrics.m > 0"
    deep_parens = "(" * 50000 + "metrics.m > 0" + ")" * 50000
    cases = [
        ("POST", API + "/runs/search", {"experiment_ids": ["0"], "filter": long_filter}),
        ("POST", API + "/runs/search", {"experiment_ids": ["0"], "filter": "metrics.m > 0 and " * 4999 + "metrics.m > 0"}),
        ("POST", API + "/runs/search", {"experiment_ids": ["0"], "filter": deep_parens}),
        ("POST", API + "/experiments/search", {"filter": "name = 'a' and " * 199 + "name = 'a'"}),
        ("POST", API + "/experiments/search", {"filter": deep_parens.replace("metrics.m > 0", "name = 'a'")}),
        ("GET", API + "/model-versions/search?filter=" + urllib.parse.quote("name = 'a' and " * 199 + "name = 'a'"), None),
        ("GET", API + "/registered-models/search?filter=" + urllib.parse.quote("(" * 500 + "name = 'a'" + ")" * 500), None),
    ]
    failures = []
    for method, path, body in cases:
        try:
            assert_error(call(server, method, path, body), 400)
        except AssertionError as e:
            failures.append("%s %s...: %s" % (method, path[:60], str(e)[:300]))
            if server.proc.poll() is not None:
                break
    assert not failures, "\n".join(failures)
    assert_alive(server)


def test_path_traversal_in_artifact_routes(server):
    run = create_run(server)
    tok = rand_token()
    cases = [
        ("GET", ART + "/0/../../tamga.db"),
        ("GET", ART + "/0/%s/artifacts/../../../../tamga.db" % run),
        ("GET", ART + "/%2e%2e/tamga.db"),
        ("GET", ART + "/0/%2E%2E%2F%2E%2E%2Ftamga.db"),
        ("GET", ART + "/0/..%2f..%2ftamga.db"),
        ("GET", ART + "/0/%252e%252e/%252e%252e/tamga.db"),
        ("GET", ART + "?path=0%2F..%2F..%2F"),
        ("GET", ART + "?path=" + urllib.parse.quote("0/%s/artifacts/../../../.." % run, safe="")),
        ("GET", API + "/artifacts/list?run_id=%s&path=%%2e%%2e%%2F%%2e%%2e" % run),
        ("GET", "/get-artifact?run_id=%s&path=../../../../tamga.db" % run),
        ("GET", "/get-artifact?run_id=%s&path=%%2e%%2e/%%2e%%2e/%%2e%%2e/%%2e%%2e/tamga.db" % run),
        ("PUT", ART + "/0/%s/artifacts/../../../../escape-%s.txt" % (run, tok)),
        ("PUT", ART + "/0/%s/artifacts/%%2e%%2e/%%2e%%2e/%%2e%%2e/%%2e%%2e/%%2e%%2e/escape-%s.txt" % (run, tok)),
        ("PUT", ART + "/0/%s/artifacts/..%%5c..%%5c..%%5cescape-%s.txt" % (run, tok)),
        ("PUT", ART + "/0/%s/artifacts/x/..%%00/escape-%s.txt" % (run, tok)),
        ("DELETE", ART + "/0/%s/artifacts/../../../../tamga.db" % run),
        ("DELETE", ART + "/%2e%2e"),
        ("DELETE", ART + "/0/%2e%2e/%2e%2e"),
    ]
    failures = []
    for method, path in cases:
        body = b"escaped" if method == "PUT" else None
        r = call(server, method, path, body, {"Content-Type": "text/plain"} if body else None)
        if r.content.startswith(b"SQLite format 3"):
            failures.append("%s %s returned the database" % (method, path))
            continue
        try:
            assert_error(r, (400, 404))
        except AssertionError as e:
            failures.append("%s %s: %s" % (method, path, str(e)[:200]))
    assert os.path.exists(os.path.join(server.data_dir, "tamga.db")) or \
        any(f.endswith(".db") for f in os.listdir(server.data_dir)), "the database was deleted"
    root = os.path.dirname(server.data_dir)
    for dirpath, _, names in os.walk(server.data_dir):
        for n in names:
            if n.startswith("escape-" + tok) and not dirpath.startswith(os.path.join(server.data_dir, "artifacts")):
                failures.append("a file escaped the artifact root: %s" % os.path.join(dirpath, n))
    for n in os.listdir(root):
        if n.startswith("escape-" + tok):
            failures.append("a file escaped the data dir: %s" % os.path.join(root, n))
    assert not failures, "\n".join(failures)
    assert_alive(server)
