#!/usr/bin/env bash
# Auth on vs off (issue 15 target: log-metric and log-batch within 5% of auth off). Same binary, same machine,
# alternating servers, twice: off; on with a Bearer access token; on with HTTP Basic (a cached password).
#   bench/auth.sh [build_dir]        env: BENCH_SECONDS (default 8)
# Then V2 inference on an in-process (local) deployment, auth off vs on with a Bearer token.
set -euo pipefail
BUILD=${1:-build}
SECS=${BENCH_SECONDS:-8}
WORK=$(mktemp -d /tmp/tamga-bench-auth-XXXXXX)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
PASS=bench-admin-pass

start_server() {  # data_dir auth
  mkdir -p "$1"; rm -f "$1/port"
  TAMGA_ADMIN_PASSWORD=$PASS "$BUILD/tamga" --log-level warn server --port 0 --data-dir "$1" --port-file "$1/port" \
    --auth "$2" &
  SERVER_PID=$!
  for _ in $(seq 1 200); do [ -s "$1/port" ] && break; sleep 0.05; done
  BASE="http://127.0.0.1:$(cat "$1/port")"
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=""; }
req_per_s() { awk '/Requests\/sec/ {print $2}'; }
non_2xx() { awk '/Non-2xx/ {n=$NF} END {print n+0}'; }

run_case() {  # label data_dir auth authorization-header-or-empty
  start_server "$2" "$3"
  local hdr=(-H "X-Bench: 1")
  [ -n "$4" ] && hdr=(-H "Authorization: $4")
  RID=$(curl -s "${hdr[@]}" -X POST -H 'Content-Type: application/json' "$BASE/api/2.0/mlflow/runs/create" \
        -d '{"experiment_id":"0"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["run"]["info"]["run_id"])')
  python3 - "$RID" "$4" "$WORK" <<'PY'
import json, sys
rid, auth, work = sys.argv[1], sys.argv[2], sys.argv[3]
head = 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
if auth:
    head += 'wrk.headers["Authorization"] = "%s"\n' % auth
point = {"run_id": rid, "key": "loss", "value": 0.25, "timestamp": 1700000000000, "step": 1}
open(work + "/metric.lua", "w").write(head + "wrk.body = '%s'\n" % json.dumps(point))
metrics = [{"key": "m%d" % (i % 10), "value": 0.001 * i, "timestamp": 1700000000000 + i, "step": i // 10}
           for i in range(1000)]
open(work + "/batch.lua", "w").write(head + "wrk.body = [[%s]]\n" % json.dumps({"run_id": rid, "metrics": metrics}))
PY
  m=$(wrk -t2 -c64 -d"${SECS}s" -s "$WORK/metric.lua" "$BASE/api/2.0/mlflow/runs/log-metric")
  b=$(wrk -t2 -c16 -d"${SECS}s" -s "$WORK/batch.lua" "$BASE/api/2.0/mlflow/runs/log-batch")
  printf "%-20s log-metric %9s req/s (non-2xx %s)   log-batch x1000 %7s req/s (non-2xx %s)\n" "$1" \
    "$(echo "$m" | req_per_s)" "$(echo "$m" | non_2xx)" "$(echo "$b" | req_per_s)" "$(echo "$b" | non_2xx)"
  stop_server
}

echo "== auth on vs off ($(nproc) cores, wrk -t2, ${SECS}s per figure)"
start_server "$WORK/on" on
TOKEN=$(curl -s -u "admin:$PASS" -X POST -H 'Content-Type: application/json' "$BASE/api/2.0/tamga/tokens" \
        -d '{"name":"bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
stop_server
for _ in 1 2; do
  run_case "off" "$WORK/off" off ""
  run_case "on, Bearer token" "$WORK/on" on "Bearer $TOKEN"
  run_case "on, Basic password" "$WORK/on" on "Basic $(printf 'admin:%s' "$PASS" | base64 -w0)"
done

# V2 inference on an in-process deployment (target local: an XGBoost model made here), auth off vs on (Bearer).
HERE=$(cd "$(dirname "$0")" && pwd)
/usr/bin/python3 "$HERE/../tests/serving/make_models.py" "$WORK/models" >/dev/null
infer_case() {  # label data_dir auth
  start_server "$2" "$3"
  local hdr=()
  if [ "$3" = on ]; then
    TOKEN=$(curl -s -u "admin:$PASS" -X POST -H 'Content-Type: application/json' "$BASE/api/2.0/tamga/tokens" \
            -d '{"name":"bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    hdr=(-H "Authorization: Bearer $TOKEN")
  fi
  python3 - "$BASE" "$WORK/models/xgb" "${TOKEN:-}" "$3" <<'PY'
import json, os, sys, time, urllib.request
base, model, token, auth = sys.argv[1:5]
def call(method, path, body=None, raw=None):
    h = {"Content-Type": "application/json"}
    if auth == "on":
        h["Authorization"] = "Bearer " + token
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    return json.load(urllib.request.urlopen(urllib.request.Request(base + path, data=data, headers=h, method=method)))
run = call("POST", "/api/2.0/mlflow/runs/create", {"experiment_id": "0"})["run"]["info"]["run_id"]
for root, _, files in os.walk(model):
    for f in files:
        rel = os.path.relpath(os.path.join(root, f), model)
        call("PUT", "/api/2.0/mlflow-artifacts/artifacts/0/%s/artifacts/m/%s" % (run, rel), raw=open(os.path.join(root, f), "rb").read())
call("POST", "/api/2.0/mlflow/registered-models/create", {"name": "bench"})
call("POST", "/api/2.0/mlflow/model-versions/create", {"name": "bench", "source": "runs:/%s/m" % run})
call("POST", "/api/2.0/mlflow/registered-models/alias", {"name": "bench", "alias": "production", "version": "1"})
call("POST", "/api/2.0/tamga/deployments", {"name": "bench", "model_name": "bench", "target": "local"})
for _ in range(400):
    try:
        call("GET", "/v2/models/bench/ready")
        break
    except Exception:
        time.sleep(0.05)
PY
  python3 - "$WORK" "${TOKEN:-}" "$3" <<'PY'
import json, sys
work, token, auth = sys.argv[1:4]
head = 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
if auth == "on":
    head += 'wrk.headers["Authorization"] = "Bearer %s"\n' % token
body = {"inputs": [{"name": "input-0", "datatype": "FP32", "shape": [1, 8], "data": [0.5] * 8}]}
open(work + "/infer.lua", "w").write(head + "wrk.body = '%s'\n" % json.dumps(body))
PY
  i=$(wrk -t2 -c32 -d"${SECS}s" --latency -s "$WORK/infer.lua" "$BASE/v2/models/bench/infer")
  printf "%-20s V2 infer %9s req/s (non-2xx %s), p50 %s\n" "$1" "$(echo "$i" | req_per_s)" \
    "$(echo "$i" | non_2xx)" "$(echo "$i" | awk '/ 50%/ {print $2}')"
  stop_server
  TOKEN=""
}
echo "== V2 infer on a local deployment, auth on vs off (wrk -t2 -c32, ${SECS}s)"
for n in 1 2; do
  infer_case "off" "$WORK/ioff$n" off
  infer_case "on, Bearer token" "$WORK/ion$n" on
done
