"""Hostile inputs against a real `tamga server` over loopback (black box, standard library + requests).

Every case checks two things: the answer is the documented one, and afterwards the server process is
still alive and `GET /health` answers 200 (`assert_alive`). Error answers must be MLflow-shaped JSON,
valid UTF-8, `{"error_code": ..., "message": ...}` (`assert_error`), with the status/code pairs
400 INVALID_PARAMETER_VALUE, 403 PERMISSION_DENIED, 404 RESOURCE_DOES_NOT_EXIST | ENDPOINT_NOT_FOUND,
413 BAD_REQUEST, 429 RESOURCE_EXHAUSTED, 503 TEMPORARILY_UNAVAILABLE.

Classes of attack (numbers match the hardening brief):
 1. Wrong JSON types and out-of-range numbers on the job routes (queues, job submit/batch, agent
    register/lease/heartbeat, jobs/{id}/started|logs|finish): always 400 (404 for unknown ids), never a
    dropped connection or a 500 from an escaped exception.
 2. Deep nesting (100,000 objects / 80,000 arrays) in the body of every JSON route family: 400; nesting
    of 100-129 levels must not crash anything.
 3. Invalid UTF-8: in query strings, in artifact paths, in JSON bodies, and a stored job reason that is cut
    at 2,000 bytes in the middle of a character: nothing may answer 500 or emit invalid UTF-8/JSON.
 4. Connections: a connection cap (--max-connections), a header deadline (--header-timeout-ms), a minimum
    upload rate (--min-upload-rate), and bounded threads under a storm of webhook tests.
 5. /metrics cardinality: random unmatched paths and methods never become label values.
 6. SSRF: webhooks must not reach loopback / link-local / private addresses (in any spelling) unless
    allowed with --outbound-allow, and must never leak what such a host answered.
 7. Registry copies under _registry/ are immutable through the artifact API (403, content unchanged).
 8. Secrets in a job's env are masked in the user-facing job API but given to the agent that leases it.
 9. Injection: agent ids that would break hand-built JSON, and newlines that would forge server log lines.
10. Smaller: spellings of the default experiment's id on delete, huge/deep search filters, path traversal.

Many of these describe the *target* behaviour and fail against a binary that predates the hardening.
Run: python3 -m pytest -q -p no:cacheprovider tests/integration/test_hostile_inputs.py --tamga=build/tamga
"""
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


# ------------------------------------------------------------------- 1. wrong types, out-of-range numbers

BASE_SPEC = '"queue":"default","command":["true"]'

JOB_TYPE_CASES = [
    # queues
    ("queue-name-int", "POST", "/queues", {"name": 5}),
    ("queue-max-concurrency-1e300", "POST", "/queues", '{"name":"q","max_concurrency":1e300}'),
    ("queue-max-concurrency-string", "POST", "/queues", {"name": "q", "max_concurrency": "x"}),
    ("queue-max-concurrency-2^40", "POST", "/queues", {"name": "q", "max_concurrency": 2 ** 40}),
    ("queue-max-concurrency-uint64", "POST", "/queues", {"name": "q", "max_concurrency": 2 ** 64 - 1}),
    ("queue-strategy-int", "POST", "/queues", {"name": "q", "strategy": 1}),
    ("queue-body-array", "POST", "/queues", "[]"),
    # agent reports on a job
    ("finish-agent-int", "POST", "/jobs/{job}/finish", {"agent_id": 7}),
    ("finish-agent-object", "POST", "/jobs/{job}/finish", {"agent_id": {"a": 1}, "state": "failed"}),
    ("finish-agent-null", "POST", "/jobs/{job}/finish", {"agent_id": None, "state": "failed"}),
    ("finish-state-int", "POST", "/jobs/{job}/finish", {"agent_id": "{agent}", "state": 5}),
    ("finish-reason-int", "POST", "/jobs/{job}/finish", {"agent_id": "{agent}", "state": "failed", "reason": 5}),
    ("finish-exit-code-string", "POST", "/jobs/{job}/finish", {"agent_id": "{agent}", "state": "failed", "exit_code": "3"}),
    ("finish-exit-code-1e300", "POST", "/jobs/{job}/finish", '{"agent_id":"{agent}","state":"failed","exit_code":1e300}'),
    ("finish-exit-code-2^40", "POST", "/jobs/{job}/finish", {"agent_id": "{agent}", "state": "failed", "exit_code": 2 ** 40}),
    ("logs-stream-int", "POST", "/jobs/{job}/logs", {"agent_id": "{agent}", "stream": 5, "data": "x"}),
    ("logs-stream-object", "POST", "/jobs/{job}/logs", {"agent_id": "{agent}", "stream": {}, "data": "x"}),
    ("logs-data-list", "POST", "/jobs/{job}/logs", {"agent_id": "{agent}", "data": ["x"]}),
    ("started-agent-list", "POST", "/jobs/{job}/started", {"agent_id": ["x"]}),
    ("started-body-string", "POST", "/jobs/{job}/started", '"x"'),
    # agents
    ("register-agent-id-object", "POST", "/agents/register", {"agent_id": {"a": 1}, "report": REPORT}),
    ("register-agent-id-int", "POST", "/agents/register", {"agent_id": 5, "report": REPORT}),
    ("register-report-string", "POST", "/agents/register", {"report": "str"}),
    ("register-report-gpus-string", "POST", "/agents/register", {"report": {"gpus": "x"}}),
    ("register-report-gpu-item-string", "POST", "/agents/register", {"report": {"queues": ["default"], "gpus": ["x"]}}),
    ("register-report-queues-string", "POST", "/agents/register", {"report": {"queues": "default"}}),
    ("register-report-queues-ints", "POST", "/agents/register", {"report": {"queues": [1, 2]}}),
    ("register-report-cpus-string", "POST", "/agents/register", {"report": {"queues": ["default"], "cpus": "4"}}),
    ("register-report-cpus-1e300", "POST", "/agents/register", '{"report":{"queues":["default"],"cpus":1e300}}'),
    ("register-report-cpus-2^40", "POST", "/agents/register", {"report": {"queues": ["default"], "cpus": 2 ** 40}}),
    ("register-report-memory-1e300", "POST", "/agents/register",
     '{"report":{"queues":["default"],"cpus":1,"memory_bytes":1e300}}'),
    ("register-report-job-pids-string", "POST", "/agents/register",
     {"report": {"queues": ["default"], "job_pids": {"j": "x"}}}),
    ("register-report-gpu-index-string", "POST", "/agents/register",
     {"report": {"queues": ["default"], "gpus": [{"uuid": "GPU-1", "index": "0"}]}}),
    ("lease-wait-string", "POST", "/agents/{agent}/lease", {"wait_ms": "9"}),
    ("lease-wait-1e30", "POST", "/agents/{agent}/lease", '{"wait_ms":1e30}'),
    ("lease-report-string", "POST", "/agents/{agent}/lease", {"wait_ms": 0, "report": "x"}),
    ("heartbeat-report-cpus-string", "POST", "/agents/{agent}/heartbeat", {"report": {"queues": ["default"], "cpus": "x"}}),
    ("heartbeat-report-job-pids-negative", "POST", "/agents/{agent}/heartbeat",
     {"report": {"queues": ["default"], "cpus": 1, "job_pids": {"{job}": [-1]}}}),
    # job submit
    ("submit-gpu-memory-1e400GiB", "POST", "/jobs", {"resources": {"gpus": 1, "gpu_memory": "1e400GiB"}}),
    ("submit-gpu-memory-400-digits", "POST", "/jobs", {"resources": {"gpus": 1, "gpu_memory": "9" * 400 + "GiB"}}),
    ("submit-memory-400-digits", "POST", "/jobs", {"resources": {"memory": "9" * 400 + ".5"}}),
    ("submit-memory-huge-TiB", "POST", "/jobs", {"resources": {"memory": "99999999999TiB"}}),
    ("submit-memory-uint64", "POST", "/jobs", {"resources": {"memory": 2 ** 64 - 1}}),
    ("submit-timeout-string", "POST", "/jobs", {"timeout_s": "1e999s"}),
    ("submit-timeout-1e999", "POST", "/jobs", "{" + BASE_SPEC + ',"timeout_s":1e999}'),
    ("submit-timeout-negative", "POST", "/jobs", {"timeout_s": -1}),
    ("submit-priority-1e308", "POST", "/jobs", "{" + BASE_SPEC + ',"priority":1e308}'),
    ("submit-priority-string", "POST", "/jobs", {"priority": "5"}),
    ("submit-priority-2^63", "POST", "/jobs", {"priority": 2 ** 63}),
    ("submit-priority-uint64-max", "POST", "/jobs", {"priority": 2 ** 64 - 1}),
    ("submit-gpus-negative", "POST", "/jobs", {"resources": {"gpus": -1}}),
    ("submit-gpus-uint64-max", "POST", "/jobs", {"resources": {"gpus": 2 ** 64 - 1}}),
    ("submit-cpus-string", "POST", "/jobs", {"resources": {"cpus": "4"}}),
    ("submit-cpus-float", "POST", "/jobs", {"resources": {"cpus": 1.5}}),
    ("submit-max-retries-string", "POST", "/jobs", {"max_retries": "2"}),
    ("submit-command-ints", "POST", "/jobs", {"command": [1, 2]}),
    ("submit-command-string", "POST", "/jobs", {"command": "true"}),
    ("submit-env-int-value", "POST", "/jobs", {"env": {"A": 1}}),
    ("submit-resources-list", "POST", "/jobs", {"resources": [1]}),
    ("submit-spec-list", "POST", "/jobs", "[]"),
    ("batch-priority-1e308", "POST", "/jobs/batch", '{"jobs":[{' + BASE_SPEC + ',"priority":1e308}]}'),
    ("batch-gpu-memory-400-digits", "POST", "/jobs/batch",
     {"jobs": [{"queue": "default", "command": ["true"], "resources": {"gpus": 1, "gpu_memory": "9" * 400}}]}),
    ("batch-jobs-object", "POST", "/jobs/batch", {"jobs": {"a": 1}}),
    ("batch-jobs-string", "POST", "/jobs/batch", {"jobs": "x"}),
    ("batch-spec-null", "POST", "/jobs/batch", {"jobs": [None]}),
]


@pytest.mark.parametrize("name,method,path,body", JOB_TYPE_CASES, ids=[c[0] for c in JOB_TYPE_CASES])
def test_job_routes_wrong_types_are_400(server, name, method, path, body):
    agent, job, _ = running_job(server)
    if isinstance(body, dict) and name.startswith("submit-"):
        spec = {"queue": "default", "command": ["true"]}
        spec.update(body)
        body = spec
    text = body if isinstance(body, str) else json.dumps(body)
    text = text.replace("{agent}", agent).replace("{job}", job)
    r = call(server, method, TAMGA + path.replace("{agent}", agent).replace("{job}", job), text)
    assert_error(r, 400)
    assert_alive(server)


# --------------------------------------------------------------------------------------- 2. deep nesting

DEEP_OBJ = '{"a":' * 100000 + "1" + "}" * 100000
DEEP_ARR = "[" * 80000 + "]" * 80000

NEST_TARGETS = [
    ("runs-log-batch", API + "/runs/log-batch", '{"run_id":"{run}","metrics":%s}'),
    ("runs-create-tags", API + "/runs/create", '{"experiment_id":"0","tags":%s}'),
    ("experiments-create", API + "/experiments/create", '{"name":"deep","tags":%s}'),
    ("experiments-search", API + "/experiments/search", '{"max_results":10,"order_by":%s}'),
    ("registered-models-create", API + "/registered-models/create", '{"name":"deep","tags":%s}'),
    ("model-versions-create", API + "/model-versions/create", '{"name":"deep","source":"s3://b/m","tags":%s}'),
    ("logged-models-create", API + "/logged-models", '{"experiment_id":"0","name":"deep","params":%s}'),
    ("webhooks-create", API + "/webhooks", '{"name":"deep","url":"http://h/","events":%s}'),
    ("jobs-submit", TAMGA + "/jobs", '{"queue":"default","command":["true"],"env":%s}'),
    ("jobs-batch", TAMGA + "/jobs/batch", '{"jobs":%s}'),
    ("deployments", TAMGA + "/deployments", '{"name":"deep","model_name":"m","replicas":%s}'),
    ("deploy-render", TAMGA + "/deploy/render", '{"model_uri":"models:/m/1","spec":%s}'),
    ("agents-register", TAMGA + "/agents/register", '{"report":%s}'),
    ("agents-heartbeat", TAMGA + "/agents/{agent}/heartbeat", '{"report":%s}'),
]


@pytest.mark.parametrize("name,path,template", NEST_TARGETS, ids=[t[0] for t in NEST_TARGETS])
def test_deep_nesting_is_400(server, name, path, template):
    make_queue(server)
    run = create_run(server)
    agent = register_agent(server)
    path = path.replace("{agent}", agent)
    failures = []
    for variant, body in (("deep-object-field", template % DEEP_OBJ), ("deep-array-field", template % DEEP_ARR),
                          ("deep-object-body", DEEP_OBJ), ("deep-array-body", DEEP_ARR)):
        body = body.replace("{run}", run)
        try:
            assert_error(call(server, "POST", path, body, timeout=20), 400)
        except AssertionError as e:
            failures.append("%s: %s" % (variant, str(e)[:400]))
            if server.proc.poll() is not None:
                break
    assert not failures, "\n".join(failures)
    assert_alive(server)


def test_moderate_nesting_does_not_crash(server):
    """100, 128 and 129 levels in places that take (or must refuse) structured values: any 2xx/4xx."""
    make_queue(server)
    run = create_run(server)
    for depth in (100, 128, 129):
        obj = '{"a":' * depth + '"x"' + "}" * depth
        arr = "[" * depth + "]" * depth
        cases = [
            (API + "/experiments/create", '{"name":"n%d","extra":%s}' % (depth, obj)),
            (API + "/runs/log-batch", '{"run_id":"%s","metrics":[%s]}' % (run, arr)),
            (TAMGA + "/jobs", '{"queue":"default","command":["true"],"env":%s}' % obj),
            (TAMGA + "/agents/register", '{"report":{"queues":["default"],"cpus":1,"job_pids":%s}}' % obj),
            (API + "/webhooks", '{"name":"n","url":"http://h/","events":["model_version.created"],"x":%s}' % obj),
        ]
        for path, body in cases:
            assert_not_5xx(call(server, "POST", path, body))
    assert_alive(server)


# ----------------------------------------------------------------------------------------- 3. invalid UTF-8

BAD_QUERIES = [
    (API + "/experiments/get-by-name?experiment_name=%ff%fe", (400, 404)),
    (API + "/experiments/get-by-name?experiment_name=%c0%af", (400, 404)),
    (API + "/experiments/get?experiment_id=%ff%fe", (400, 404)),
    (API + "/experiments/search?filter=name%3D%27%ff%fe%27", (400,)),
    (API + "/registered-models/get?name=%ff%fe", (400, 404)),
    (API + "/registered-models/search?filter=name%3D%27%ff%27", (400,)),
    (API + "/model-versions/search?filter=name%3D%27%ff%fe%27", (400,)),
    (API + "/runs/get?run_id=%ff%fe", (400, 404)),
    (API + "/metrics/get-history?run_id=%ff&metric_key=%fe", (400, 404)),
    (API + "/artifacts/list?run_id=%ff%fe", (400, 404)),
    (API + "/webhooks/%ff%fe", (400, 404)),
    (ART + "?path=%ff%fe", (400, 404)),
    (ART + "/0/%ff%fe.txt", (400, 404)),
    ("/get-artifact?run_id=%ff&path=%fe", (400, 404)),
    (TAMGA + "/jobs?queue=%ff%fe", (400, 404)),
    (TAMGA + "/jobs/%ff%fe", (400, 404)),
    (TAMGA + "/jobs/%ff%fe/logs", (400, 404)),
    (TAMGA + "/deployments/%ff%fe", (400, 404)),
    ("/%ff%fe", (400, 404)),
]


def test_invalid_utf8_in_query_strings_and_paths(server):
    failures = []
    for path, allowed in BAD_QUERIES:
        try:
            assert_error(call(server, "GET", path), allowed)
        except AssertionError as e:
            failures.append("GET %s: %s" % (path, str(e)[:300]))
            if server.proc.poll() is not None:
                break
    assert not failures, "\n".join(failures)
    assert_alive(server)


def test_invalid_utf8_in_json_bodies(server):
    make_queue(server)
    run = create_run(server)
    cases = [
        (API + "/experiments/create", b'{"name":"\xff\xfe"}'),
        (API + "/runs/set-tag", b'{"run_id":"' + run.encode() + b'","key":"k","value":"\xc3"}'),
        (API + "/runs/log-parameter", b'{"run_id":"' + run.encode() + b'","key":"\xed\xa0\x80","value":"v"}'),
        (API + "/registered-models/create", b'{"name":"m\xff"}'),
        (TAMGA + "/jobs", b'{"queue":"default","command":["\xff"]}'),
        (TAMGA + "/agents/register", b'{"agent_id":"\xfe","report":{"queues":["default"]}}'),
    ]
    failures = []
    for path, body in cases:
        try:
            assert_error(call(server, "POST", path, body), 400)
        except AssertionError as e:
            failures.append("POST %s: %s" % (path, str(e)[:300]))
            if server.proc.poll() is not None:
                break
    assert not failures, "\n".join(failures)
    for path in (API + "/runs/get?run_id=" + run, API + "/experiments/search?max_results=100",
                 TAMGA + "/jobs", TAMGA + "/agents", API + "/registered-models/search"):
        ok_json(call(server, "GET", path), path)
    assert_alive(server)


def test_invalid_utf8_artifact_name_is_400_and_listing_still_works(server):
    run = create_run(server)
    ok_json(call(server, "PUT", ART + "/0/%s/artifacts/good.txt" % run, b"hello",
                 {"Content-Type": "text/plain"}), "upload good.txt")
    failures = []
    for name in ("%ff%fe.txt", "%ff/x.txt", "a%00b.txt", "%c0%ae%c0%ae/x.txt"):
        try:
            assert_error(call(server, "PUT", ART + "/0/%s/artifacts/%s" % (run, name), b"x",
                              {"Content-Type": "text/plain"}), 400)
        except AssertionError as e:
            failures.append("PUT %s: %s" % (name, str(e)[:300]))
    for label, path in (("artifact listing", ART + "?path=" + urllib.parse.quote("0/%s/artifacts" % run, safe="")),
                        ("artifacts/list", API + "/artifacts/list?run_id=" + run)):
        try:
            listing = ok_json(call(server, "GET", path), label)
            names = sorted(f["path"] for f in listing.get("files", []))
            assert names == ["good.txt"], "%s shows %r" % (label, names)
        except AssertionError as e:
            failures.append(str(e)[:300])
    assert not failures, "\n".join(failures)
    assert_alive(server)


def test_job_reason_cut_inside_a_character_stays_valid_json(server):
    agent, job, _ = running_job(server)
    reason = "a" * 1999 + "\u00e9" + "b" * 10
    r = call(server, "POST", TAMGA + "/jobs/%s/finish" % job, {"agent_id": agent, "state": "failed", "reason": reason})
    ok_json(r, "finish")
    listing = ok_json(call(server, "GET", TAMGA + "/jobs"), "GET /jobs")
    mine = [j for j in listing["jobs"] if j["id"] == job]
    assert mine, listing
    one = ok_json(call(server, "GET", TAMGA + "/jobs/" + job), "GET /jobs/<id>")["job"]
    for got in (mine[0]["reason"], one["reason"]):
        assert got.startswith("a" * 1000), got[:50]
        assert "\ufffd" not in got, "reason was not cut at a character boundary: %r" % got[-10:]
        assert reason.startswith(got) or got.startswith("a" * 1999), got[-20:]
    run_id = one.get("run_id")
    if run_id:
        ok_json(call(server, "GET", API + "/runs/get?run_id=" + run_id), "the job's run")
    assert_alive(server)


# ----------------------------------------------------------------------------------------- 4. connections

def test_connection_cap(tamga_bin):
    with started(tamga_bin, "--max-connections", "16") as s:
        held = []
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
