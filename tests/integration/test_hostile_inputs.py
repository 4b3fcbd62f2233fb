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

from hostile_common import (  # noqa: F401
    API, ART, ERROR_CODES, REPORT, TAMGA, TIMEOUT, Resp, assert_alive, assert_error, assert_not_5xx, call,
    create_run, full_log, lease, make_queue, ok_json, rand_token, register_agent, running_job, started, submit,
    thread_count)


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
