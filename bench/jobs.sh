#!/usr/bin/env bash
# Jobs benchmark (issue 5 targets): enqueue rate over HTTP (wrk POSTing job specs one per request, then
# 100 per request to /jobs/batch), lease (dispatch)
# latency with more than 10,000 jobs queued (a keep-alive client acting as an agent: lease, then finish),
# and the agent's start overhead (a real `tamga agent` running `true` jobs; the agent records lease ->
# process spawned on each run as tamga.job.start_overhead_ms). Prints one line per figure.
#   bench/jobs.sh [build_dir]      env: BENCH_SECONDS (default 10)
set -euo pipefail
BUILD=${1:-build}
SECS=${BENCH_SECONDS:-10}
WORK=$(mktemp -d /tmp/tamga-jobs-bench-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

"$BUILD/tamga" --log-level warn server --port 0 --port-file "$WORK/port" --data-dir "$WORK/data" &
PIDS+=($!)
for _ in $(seq 1 200); do [ -s "$WORK/port" ] && break; sleep 0.05; done
URL="http://127.0.0.1:$(cat "$WORK/port")"
API="$URL/api/2.0/tamga"
curl -sf -XPOST "$API/queues" -d '{"name":"bench"}' >/dev/null
curl -sf -XPOST "$API/queues" -d '{"name":"start"}' >/dev/null

cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"queue":"bench","priority":1,"command":["python3","train.py","--lr","0.01"],"resources":{"cpus":1},"tags":{"team":"bench"}}'
LUA
echo "== jobs ($(nproc) cores, wrk -t2 -c16 ${SECS}s, each job also creates its MLflow run)"
out=$(wrk -t2 -c16 -d"${SECS}s" --latency -s "$WORK/post.lua" "$API/jobs")
printf 'enqueue (POST /jobs)              %s jobs/s  p50 %s  p99 %s\n' \
  "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" "$(echo "$out" | awk '$1=="50%" {print $2}')" \
  "$(echo "$out" | awk '$1=="99%" {print $2}')"

/usr/bin/python3 - "$WORK/batch.lua" <<'PY'
import json, sys
spec = {"queue": "bench", "priority": 1, "command": ["python3", "train.py", "--lr", "0.01"], "resources": {"cpus": 1},
        "tags": {"team": "bench"}}
with open(sys.argv[1], "w") as f:
    f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[%s]]\n' %
            json.dumps({"jobs": [spec] * 100}))
PY
out=$(wrk -t2 -c4 -d"${SECS}s" --latency -s "$WORK/batch.lua" "$API/jobs/batch")
printf 'enqueue (POST /jobs/batch, 100)   %s jobs/s  p50 %s  p99 %s per request\n' \
  "$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2 * 100}')" "$(echo "$out" | awk '$1=="50%" {print $2}')" \
  "$(echo "$out" | awk '$1=="99%" {print $2}')"

/usr/bin/python3 - "$API" <<'PY'
import json, sys, time, requests
api = sys.argv[1]
s = requests.Session()
queued = next(q for q in s.get(api + "/queues").json()["queues"] if q["name"] == "bench")["queued"]
while queued < 10000:  # top up to the issue's 10,000 queued jobs
    s.post(api + "/jobs", json={"queue": "bench", "command": ["true"]})
    queued += 1
agent = s.post(api + "/agents/register", json={"report": {"name": "bench", "queues": ["bench"], "cpus": 1}}).json()["agent_id"]
lat = []
for i in range(2000):
    t0 = time.perf_counter()
    job = s.post(api + "/agents/%s/lease" % agent, json={"report": {"cpus": 1}, "wait_ms": 0}).json()["job"]
    lat.append((time.perf_counter() - t0) * 1000)
    s.post(api + "/jobs/%s/finish" % job["id"], json={"agent_id": agent, "state": "succeeded"})
lat.sort()
print("lease with %d queued              p50 %.2f ms  p99 %.2f ms  max %.2f ms  (HTTP round trip, Python client)" % (
    queued, lat[len(lat) // 2], lat[int(len(lat) * 0.99)], lat[-1]))
# /metrics computes queue depth, oldest wait and jobs by state over every unfinished job at scrape time.
url = api.rsplit("/api/", 1)[0]
left = next(q for q in s.get(api + "/queues").json()["queues"] if q["name"] == "bench")["queued"]
scrape = []
for i in range(200):
    t0 = time.perf_counter()
    assert "tamga_job_queue_depth" in s.get(url + "/metrics").text
    scrape.append((time.perf_counter() - t0) * 1000)
scrape.sort()
print("GET /metrics with %d queued        p50 %.2f ms  p99 %.2f ms  (job gauges computed at scrape time)" % (
    left, scrape[len(scrape) // 2], scrape[int(len(scrape) * 0.99)]))
PY

# `tamga jobs submit` shipping code: a 200-file git checkout with a pushed commit, an unpushed edit and an
# untracked file (remote + patch), the same folder as a tar.gz (--code dir), and --code none.
/usr/bin/python3 - "$BUILD/tamga" "$URL" "$WORK" <<'PY'
import os, statistics, subprocess, sys, time
tamga, url, work = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]
env = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@x", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@x")
git = lambda cwd, *a: subprocess.run(["git", *a], cwd=cwd, env=env, check=True, capture_output=True)
git(work, "init", "-q", "--bare", "remote.git")
git(work, "clone", "-q", "remote.git", "repo")
repo = os.path.join(work, "repo")
for i in range(200):
    with open(os.path.join(repo, "m%03d.py" % i), "w") as f:
        f.write("# module %d\n" % i + "x = %d\n" % i * 200)
git(repo, "add", ".")
git(repo, "commit", "-qm", "c")
git(repo, "push", "-q", "origin", "HEAD")
with open(os.path.join(repo, "m000.py"), "a") as f:
    f.write("y = 1\n")
with open(os.path.join(repo, "new.py"), "w") as f:
    f.write("z = 2\n")
for mode in ("none", "git", "dir"):
    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        subprocess.run([tamga, "jobs", "submit", "--tracking-uri", url, "--queue", "bench", "--code", mode, "--",
                        "python3", "m000.py"], cwd=repo, check=True, capture_output=True)
        times.append((time.perf_counter() - t0) * 1000)
    print("jobs submit --code %-4s (200 files) median %.0f ms  min %.0f ms  (whole CLI process)" % (
        mode, statistics.median(times), min(times)))
PY

"$BUILD/tamga" --log-level warn agent --server "$URL" --queue start --gpus none --cpus 1 --work-dir "$WORK/agent" \
  --heartbeat-ms 1000 &
PIDS+=($!)
/usr/bin/python3 - "$URL" <<'PY'
import sys, time, requests
url = sys.argv[1]
api = url + "/api/2.0/tamga"
time.sleep(3)  # the agent warms its pip-freeze cache at start, as it would before its first job in practice
ids = [requests.post(api + "/jobs", json={"queue": "start", "command": ["true"]}).json()["job"]["id"] for _ in range(60)]
deadline = time.time() + 300
while time.time() < deadline:
    states = [requests.get(api + "/jobs/" + i).json()["job"]["state"] for i in ids]
    if all(s in ("succeeded", "failed") for s in states):
        break
    time.sleep(0.5)
over = []
for i in ids:
    run = requests.get(api + "/jobs/" + i).json()["job"]["run_id"]
    tags = {t["key"]: t["value"] for t in requests.get(url + "/api/2.0/mlflow/runs/get", params={"run_id": run}).json()["run"]["data"]["tags"]}
    if "tamga.job.start_overhead_ms" in tags:
        over.append(float(tags["tamga.job.start_overhead_ms"]))
first, rest = over[0], sorted(over[1:])
print("agent start overhead (lease->spawn) first %.1f ms  then p50 %.1f ms  p95 %.1f ms  max %.1f ms  (%d jobs)" % (
    first, rest[len(rest) // 2], rest[int(len(rest) * 0.95)], rest[-1], len(over)))
PY
