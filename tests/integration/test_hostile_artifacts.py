"""Hostile inputs found by the review of issue 13 (MLflow compatibility), through a real server over HTTP:
registry sources that would copy the registry into itself, artifact paths under files, concurrent
artifact writes/deletes/copies, and error messages that quote huge client input. The contract is the
one of test_hostile_inputs.py: a clear 4xx (or 409 for a race), never a 5xx, a crash or lost data."""
import threading

from hostile_common import API, ART, assert_alive, assert_error, assert_not_5xx, call, ok_json


def _run(server):
    exp = ok_json(call(server, "POST", API + "/experiments/create", {"name": "hostile-art"}))["experiment_id"]
    run = ok_json(call(server, "POST", API + "/runs/create", {"experiment_id": exp}))["run"]["info"]
    return exp, run["run_id"]


def test_registry_folder_as_a_version_source_is_refused(server):
    exp, run = _run(server)
    assert call(server, "PUT", "%s/%s/%s/artifacts/model/MLmodel" % (ART, exp, run), b"x").status_code == 200
    ok_json(call(server, "POST", API + "/registered-models/create", {"name": "bomb"}))
    ok_json(call(server, "POST", API + "/model-versions/create",
                 {"name": "bomb", "source": "runs:/%s/model" % run}))
    for source in ["mlflow-artifacts:/_registry", "mlflow-artifacts:/_registry/", "mlflow-artifacts:///_registry//",
                   "http://h/api/2.0/mlflow-artifacts/artifacts/_registry/"]:
        body = assert_error(call(server, "POST", API + "/model-versions/create", {"name": "bomb", "source": source}),
                            400)
        assert "whole artifact store or registry" in body["message"], body
    # One registered version's own folder is a fine source (a copy of one model).
    loc = ok_json(call(server, "GET", API + "/model-versions/get-download-uri?name=bomb&version=1"))["artifact_uri"]
    ok_json(call(server, "POST", API + "/model-versions/create", {"name": "bomb", "source": loc}))
    assert_alive(server)


def test_a_file_where_a_directory_is_needed_is_400(server):
    exp, run = _run(server)
    up = "/ajax-api/2.0/mlflow/upload-artifact?run_uuid=%s&path=" % run
    assert call(server, "POST", up + "ok.txt", b"x", {"Content-Type": "text/plain"}).status_code == 200
    for r in [call(server, "POST", up + "ok.txt/y", b"x", {"Content-Type": "text/plain"}),
              call(server, "PUT", "%s/%s/%s/artifacts/ok.txt/y" % (ART, exp, run), b"x")]:
        body = assert_error(r, 400)
        assert "a file exists where this artifact path needs a directory" in body["message"], body
    r = call(server, "GET", "/get-artifact?run_id=%s&path=ok.txt" % run)
    assert r.status_code == 200 and r.content == b"x", r


def test_concurrent_artifact_writes_deletes_and_copies_never_500(server):
    exp, run = _run(server)
    base = "%s/%s/%s/artifacts/d" % (ART, exp, run)
    ok_json(call(server, "POST", API + "/registered-models/create", {"name": "race"}))
    statuses = []
    lock = threading.Lock()

    def record(resp):
        with lock:
            statuses.append(resp)

    def writer(n):
        for i in range(40):
            record(call(server, "PUT", "%s/w%d/f%d" % (base, n, i), b"data"))

    def deleter():
        for _ in range(40):
            record(call(server, "DELETE", base))

    def copier():
        for _ in range(15):
            record(call(server, "POST", API + "/model-versions/create",
                        {"name": "race", "source": "runs:/%s/d" % run}))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    threads += [threading.Thread(target=deleter) for _ in range(2)] + [threading.Thread(target=copier)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Two deletes of one big folder at the same moment (one finds parts already gone).
    for i in range(300):
        assert call(server, "PUT", "%s/big/f%d" % (base, i), b"x").status_code == 200
    barrier = threading.Barrier(2)

    def delete_big():
        barrier.wait()
        record(call(server, "DELETE", base + "/big"))

    pair = [threading.Thread(target=delete_big) for _ in range(2)]
    for t in pair:
        t.start()
    for t in pair:
        t.join()
    for r in statuses:
        assert_not_5xx(r)
        assert r.status_code in (200, 400, 404, 409), r
    assert_alive(server)


def test_error_messages_quoting_huge_input_are_bounded(server):
    huge = "x" * 2_000_000
    for method, path, body in [
        ("POST", API + "/runs/log-metric", {"run_id": huge, "key": "k", "value": 1, "timestamp": 1}),
        ("POST", API + "/runs/set-tag", {"run_id": huge, "key": "k", "value": "v"}),
        ("POST", API + "/experiments/delete", {"experiment_id": huge}),
        ("POST", API + "/registered-models/rename", {"name": huge, "new_name": "n"}),
        ("GET", API + "/experiments/get-by-name?experiment_name=" + "y" * 60000, None),
    ]:
        r = call(server, method, path, body)
        assert 400 <= r.status_code < 500, r
        assert len(r.content) < 4096, (path, len(r.content))
        assert_error(r, r.status_code)
    assert_alive(server)
