#!/usr/bin/env bash
# Traffic policy benchmarks (docs/rollouts.md): router overhead per request (tamga_router_bench, in-process,
# real loaded versions), outlier scoring and drift cost per row (tamga_monitoring_bench), and the primary's
# latency with shadow traffic on vs off: one `tamga server` with two local deployments of the same TorchScript
# MLP, one plain and one mirroring every request to a second version; wrk sends single-row V2 infer requests to each in turn. Prints one line per scenario.
#   bench/rollouts.sh [build_dir]      env: BENCH_SECONDS (default 10), BENCH_CONNS (default 8)
set -euo pipefail
BUILD=${1:-build}
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNS:-8}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/tamga-rollout-bench-XXXXXX)
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
/usr/bin/python3 "$HERE/../tests/serving/make_models.py" "$WORK/models" >/dev/null

"$BUILD/bench/tamga_router_bench" "$WORK/models/xgb" 1000000
"$BUILD/bench/tamga_monitoring_bench" 20000

"$BUILD/tamga" --log-level warn server --port 0 --data-dir "$WORK/data" --port-file "$WORK/port" &
PID=$!
for _ in $(seq 1 200); do [ -s "$WORK/port" ] && break; sleep 0.05; done
URL="http://127.0.0.1:$(cat "$WORK/port")"
/usr/bin/python3 - "$URL" "$WORK/models" <<'PY'
import json, os, sys, time, urllib.request
url, models = sys.argv[1], sys.argv[2]
def call(method, path, body=None):
    req = urllib.request.Request(url + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"{}")
run = call("POST", "/api/2.0/mlflow/runs/create", {"experiment_id": "0"})["run"]["info"]["run_id"]
for path, name in (("mlp", "a"), ("mlp2", "b")):
    root = os.path.join(models, path)
    for d, _, files in os.walk(root):
        for f in files:
            rel = os.path.relpath(os.path.join(d, f), root)
            req = urllib.request.Request("%s/api/2.0/mlflow-artifacts/artifacts/0/%s/artifacts/%s/%s" % (url, run, name, rel),
                                         method="PUT", data=open(os.path.join(d, f), "rb").read())
            urllib.request.urlopen(req).read()
call("POST", "/api/2.0/mlflow/registered-models/create", {"name": "m"})
for name in ("a", "b"):
    call("POST", "/api/2.0/mlflow/model-versions/create", {"name": "m", "source": "runs:/%s/%s" % (run, name)})
call("POST", "/api/2.0/mlflow/registered-models/alias", {"name": "m", "alias": "production", "version": "1"})
call("POST", "/api/2.0/tamga/deployments", {"name": "plain", "model_name": "m", "target": "local"})
call("POST", "/api/2.0/tamga/deployments", {"name": "shadowed", "model_name": "m", "target": "local", "traffic": {
    "policy": "shadow", "variants": [{"name": "primary", "alias": "production"},
                                     {"name": "candidate", "version": "2", "shadow": True}]}})
for _ in range(600):
    try:
        with urllib.request.urlopen(url + "/v2/health/ready") as r:
            ready = json.loads(r.read())
        if len(ready["models"]) == 2 and all(v["state"] == "available" for m in ready["models"]
                                             for v in m.get("variants", [m])):
            break
    except Exception:
        pass
    time.sleep(0.1)
PY
python3 -c "import json; print(json.dumps({'inputs':[{'name':'input-0','datatype':'FP32','shape':[1,16],'data':[0.5]*16}]}))" > "$WORK/body.json"
cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$WORK/body.json"); wrk.body = f:read("*a"); f:close()
LUA
run() {  # label deployment [connections]
  local out conns=${3:-$CONNS}
  out=$(wrk -t$(( conns < 2 ? 1 : 2 )) -c"$conns" -d"${SECS}s" --latency -s "$WORK/post.lua" "$URL/v2/models/$2/infer")
  printf '%-34s %10s req/s  p50 %-8s p99 %-8s\n' "$1" "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
    "$(echo "$out" | awk '$1=="50%" {print $2}')" "$(echo "$out" | awk '$1=="99%" {print $2}')"
}
echo "== shadow traffic: the primary's latency as the caller sees it ($(nproc) cores, ${SECS}s per run)"
echo "-- one client (cores to spare: the mirror's cost shows as latency only)"
run "shadow off, c=1" plain 1
run "shadow on (every request mirrored), c=1" shadowed 1
run "shadow off (again), c=1" plain 1
run "shadow on (again), c=1" shadowed 1
echo "-- saturated, c=$CONNS (every mirrored request doubles the compute on the same cores)"
run "shadow off" plain
run "shadow on (every request mirrored)" shadowed
run "shadow off (again)" plain
run "shadow on (again)" shadowed
curl -s "$URL/metrics" | grep '^tamga_serving_shadow_comparisons_total' || true
echo "== cold start: load + warm-up of the TorchScript MLP inside a running server (what waking a snoozed endpoint costs)"
curl -s "$URL/metrics" | python3 -c "
import sys
s = c = 0.0
for l in sys.stdin:
    if l.startswith('tamga_serving_model_load_seconds_sum{model=\"plain\"'): s = float(l.rsplit(' ', 1)[1])
    if l.startswith('tamga_serving_model_load_seconds_count{model=\"plain\"'): c = float(l.rsplit(' ', 1)[1])
print('model load + warm-up: %.1f ms (mean of %d)' % (1000 * s / max(c, 1), c))"
kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""

echo "== retro scoring: tamga score, XGBoost (8 features, 50 trees) over a 1,000,000-row CSV, $(nproc) cores"
/usr/bin/python3 - "$WORK/rows.csv" <<'PY'
import random, sys
random.seed(1)
with open(sys.argv[1], "w") as f:
    f.write("id," + ",".join("f%d" % i for i in range(8)) + "\n")
    for i in range(1000000):
        f.write(str(i) + "," + ",".join("%.6f" % random.gauss(0, 1) for _ in range(8)) + "\n")
PY
for run in 1 2; do
  "$BUILD/tamga" --log-level warn score "$WORK/models/xgb" --input "$WORK/rows.csv" --output "$WORK/scored.csv"
done
echo "-- the TorchScript MLP (16 -> 64 -> 4), 1,000,000 rows of 16 features"
/usr/bin/python3 - "$WORK/rows16.csv" <<'PY'
import random, sys
random.seed(2)
with open(sys.argv[1], "w") as f:
    f.write(",".join("f%d" % i for i in range(16)) + "\n")
    for i in range(1000000):
        f.write(",".join("%.5f" % random.gauss(0, 1) for _ in range(16)) + "\n")
PY
"$BUILD/tamga" --log-level warn score "$WORK/models/mlp" --input "$WORK/rows16.csv" --output "$WORK/scored16.csv"
