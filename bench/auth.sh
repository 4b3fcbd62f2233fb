#!/usr/bin/env bash
# Auth on vs off (issue 15 target: log-metric and log-batch within 5% of auth off). Same binary, same machine,
# alternating servers, twice: off; on with a Bearer access token; on with HTTP Basic (a cached password).
#   bench/auth.sh [build_dir]        env: BENCH_SECONDS (default 8)
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
