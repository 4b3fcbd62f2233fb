"""Shared helpers of the hostile-input suites (test_hostile_inputs.py: classes 1-3; test_hostile_network.py:
classes 4-10). See test_hostile_inputs.py for the classes and the contract every case checks."""
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


from tamga_harness import TamgaServer

API = "/api/2.0/mlflow"
TAMGA = "/api/2.0/tamga"
ART = "/api/2.0/mlflow-artifacts/artifacts"
TIMEOUT = 10

ERROR_CODES = {
    400: {"INVALID_PARAMETER_VALUE"},
    403: {"PERMISSION_DENIED"},
    404: {"RESOURCE_DOES_NOT_EXIST", "ENDPOINT_NOT_FOUND"},
    413: {"BAD_REQUEST"},
    429: {"RESOURCE_EXHAUSTED"},
    503: {"TEMPORARILY_UNAVAILABLE"},
}

REPORT = {"queues": ["default"], "cpus": 8, "memory_bytes": 16 << 30}


# ----------------------------------------------------------------------------------------------- helpers

class Resp:
    """A minimal response (http.client sends the path byte for byte; requests/urllib3 would normalise it)."""

    def __init__(self, status, headers, content):
        self.status_code = status
        self.headers = headers
        self.content = content

    @property
    def text(self):
        return self.content.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.content.decode("utf-8"))

    def __repr__(self):
        return "<%d %r>" % (self.status_code, self.content[:300])


def full_log(server):
    try:
        with open(os.path.join(server.data_dir, "server.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _died(server):
    if server.proc is None or server.proc.poll() is None:
        return ""
    return " [SERVER DIED rc=%s] log tail:\n%s" % (server.proc.returncode, server.read_log()[-1500:])


def call(server, method, path, body=None, headers=None, timeout=TIMEOUT):
    """One request on a fresh connection. A dropped connection or a hang is an AssertionError."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    elif isinstance(body, str):
        body = body.encode("utf-8")
    hdrs = {"Host": "127.0.0.1"}
    if body is not None:
        hdrs["Content-Type"] = "application/json"
    hdrs.update(headers or {})
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        return Resp(r.status, dict(r.getheaders()), r.read())
    except (OSError, http.client.HTTPException) as e:
        time.sleep(0.2)
        raise AssertionError("%s %s: no HTTP answer (%r)%s" % (method, path[:150], e, _died(server)))
    finally:
        conn.close()


def ok_json(resp, what=""):
    assert resp.status_code == 200, "%s: expected 200, got %r" % (what, resp)
    try:
        return resp.json()
    except (UnicodeDecodeError, ValueError) as e:
        raise AssertionError("%s: 200 body is not UTF-8 JSON (%s): %r" % (what, e, resp.content[:300]))


def assert_error(resp, status, code=None):
    """`status` is an int or a tuple of allowed ints; `code` a string or a set of allowed error codes."""
    statuses = (status,) if isinstance(status, int) else tuple(status)
    assert resp.status_code in statuses, "expected %s, got %r" % (statuses, resp)
    try:
        body = json.loads(resp.content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise AssertionError("error body is not UTF-8 JSON (%s): %r" % (e, resp.content[:300]))
    assert isinstance(body, dict), body
    assert isinstance(body.get("error_code"), str) and isinstance(body.get("message"), str), body
    if code is not None:
        codes = {code} if isinstance(code, str) else set(code)
        assert body["error_code"] in codes, body
    elif resp.status_code in ERROR_CODES:
        assert body["error_code"] in ERROR_CODES[resp.status_code], body
    return body


def assert_alive(server):
    assert server.proc.poll() is None, "server died rc=%s\n%s" % (server.proc.returncode, server.read_log())
    r = call(server, "GET", "/health", timeout=5)
    assert r.status_code == 200, r


def assert_not_5xx(resp):
    assert resp.status_code < 500, "server error: %r" % resp
    if resp.status_code >= 400:
        assert_error(resp, resp.status_code)


@contextlib.contextmanager
def started(tamga_bin, *args):
    s = TamgaServer(tamga_bin, extra_args=list(args))
    try:
        s.start()
        yield s
    finally:
        s.cleanup()


def create_run(server, exp="0", **extra):
    body = {"experiment_id": exp}
    body.update(extra)
    return ok_json(call(server, "POST", API + "/runs/create", body), "runs/create")["run"]["info"]["run_id"]


def make_queue(server, name="default"):
    ok_json(call(server, "POST", TAMGA + "/queues", {"name": name}), "queues create")


def register_agent(server, agent_id="hostile-agent", report=None):
    r = call(server, "POST", TAMGA + "/agents/register", {"agent_id": agent_id, "report": report or REPORT})
    return ok_json(r, "agents/register")["agent_id"]


def submit(server, **over):
    spec = {"queue": "default", "command": ["true"]}
    spec.update(over)
    return ok_json(call(server, "POST", TAMGA + "/jobs", spec), "jobs submit")["job"]


def lease(server, agent, wait_ms=2000):
    r = call(server, "POST", TAMGA + "/agents/%s/lease" % agent, {"wait_ms": wait_ms, "report": REPORT})
    return ok_json(r, "lease")


def running_job(server, **over):
    """An agent, and a job it has leased and started. Returns (agent_id, job_id, lease answer)."""
    make_queue(server)
    agent = register_agent(server)
    job = submit(server, **over)
    leased = lease(server, agent)
    assert leased.get("job", {}).get("id") == job["id"], leased
    ok_json(call(server, "POST", TAMGA + "/jobs/%s/started" % job["id"], {"agent_id": agent}), "started")
    return agent, job["id"], leased


def thread_count(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return -1


def rand_token():
    return "zq" + "".join(random.choice("0123456789abcdef") for _ in range(14))


