#!/usr/bin/env bash
# Runs Tamga's benchmarks and prints their figures (used by `make bench`).
#   bench/run_all.sh [build_dir]
# Load comes from wrk (keep-alive connections) and curl on the same machine, over loopback.
# Env: BENCH_SECONDS (default 10), BENCH_RUNS (default 100000), BENCH_POINTS (default 1000000).
set -euo pipefail
BUILD=${1:-build}
SECS=${BENCH_SECONDS:-10}
RUNS=${BENCH_RUNS:-100000}
POINTS=${BENCH_POINTS:-1000000}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/tamga-bench-XXXXXX)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

start_server() {  # data_dir
  rm -f "$1/port"
  "$BUILD/tamga" --log-level warn server --port 0 --data-dir "$1" --port-file "$1/port" &
  SERVER_PID=$!
  for _ in $(seq 1 200); do [ -s "$1/port" ] && break; sleep 0.05; done
  PORT=$(cat "$1/port")
  BASE="http://127.0.0.1:$PORT"
  API="$BASE/api/2.0/mlflow"
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=""; }
json_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
p50() { sort -n | awk '{a[NR]=$1} END {printf "p50 %.1f ms  p95 %.1f ms  (n=%d)\n", a[int((NR+1)/2)]*1000, a[int(NR*0.95+0.5)]*1000, NR}'; }

echo "== Tamga benchmarks ($(nproc) cores, $(uname -m), wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'))"

# --- ingest: log-metric and log-batch ------------------------------------------------------------
mkdir -p "$WORK/ingest"
start_server "$WORK/ingest"
RID=$(curl -s -X POST -H 'Content-Type: application/json' "$API/runs/create" -d '{"experiment_id":"0"}' | json_field 'd["run"]["info"]["run_id"]')
cat > "$WORK/log_metric.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"run_id":"$RID","key":"loss","value":0.25,"timestamp":1700000000000,"step":1}'
LUA
echo "-- runs/log-metric: wrk -t2 -c64 -d${SECS}s"
wrk -t2 -c64 -d"${SECS}s" -s "$WORK/log_metric.lua" "$API/runs/log-metric" | grep -E "Requests/sec|Latency|Non-2xx" || true

python3 - "$RID" > "$WORK/log_batch.lua" <<'PY'
import json, sys
rid = sys.argv[1]
# A training loop's view: 10 metric keys x 100 steps per request.
metrics = [{"key": "m%d" % (i % 10), "value": 0.001 * i + 0.123456, "timestamp": 1700000000000 + i, "step": i // 10}
           for i in range(1000)]
print('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[%s]]'
      % json.dumps({"run_id": rid, "metrics": metrics}))
PY
echo "-- runs/log-batch, 1000 metrics per request: wrk -t2 -c16 -d${SECS}s"
OUT=$(wrk -t2 -c16 -d"${SECS}s" -s "$WORK/log_batch.lua" "$API/runs/log-batch")
echo "$OUT" | grep -E "Requests/sec|Latency|Non-2xx" || true
RPS=$(echo "$OUT" | awk '/Requests\/sec/ {print $2}')
echo "   metric points/s: $(python3 -c "print(int(float('$RPS') * 1000))")"
curl -s "$BASE/metrics" | grep -E "^tamga_store_commit_batch_size_(sum|count)" | sed 's/^/   /'
stop_server

# --- reads: runs/search over $RUNS runs, get-history of $POINTS points ----------------------------
mkdir -p "$WORK/reads"
echo "-- seeding $RUNS runs and a $POINTS-point metric (direct to the store)"
SEED=$( { time -p "$BUILD/bench/tamga_seed_store" "$WORK/reads" "$RUNS" "$POINTS"; } 2>"$WORK/seed_time")
echo "   $SEED (seeded in $(awk '/real/ {print $2}' "$WORK/seed_time") s)"
EXP=$(echo "$SEED" | sed -E 's/.*experiment_id=([0-9]+).*/\1/')
HRUN=$(echo "$SEED" | sed -E 's/.*history_run=([0-9a-f]+).*/\1/')
start_server "$WORK/reads"
BODY="{\"experiment_ids\":[\"$EXP\"],\"filter\":\"metrics.m1 > 0.5\",\"order_by\":[\"metrics.m1 DESC\"],\"max_results\":100}"
N=$(curl -s -X POST -H 'Content-Type: application/json' "$API/runs/search" -d "$BODY" | json_field 'len(d["runs"])')
echo "-- runs/search over $RUNS runs, filter metrics.m1 > 0.5, order_by metrics.m1 DESC, $N results"
for _ in $(seq 1 50); do
  curl -s -o /dev/null -w "%{time_total}\n" -X POST -H 'Content-Type: application/json' "$API/runs/search" -d "$BODY"
done | p50 | sed 's/^/   /'
BODY2="{\"experiment_ids\":[\"$EXP\"],\"filter\":\"params.model = 'm3' and tags.team = 'a'\",\"order_by\":[\"metrics.m2 ASC\"],\"max_results\":100}"
echo "-- runs/search, filter on params+tags, order_by another metric (no index on the sort)"
for _ in $(seq 1 20); do
  curl -s -o /dev/null -w "%{time_total}\n" -X POST -H 'Content-Type: application/json' "$API/runs/search" -d "$BODY2"
done | p50 | sed 's/^/   /'
SIZE=$(curl -s "$API/metrics/get-history?run_id=$HRUN&metric_key=loss" | json_field 'len(d["metrics"])')
echo "-- metrics/get-history of a $SIZE-point metric, one request (2.x client behaviour)"
for _ in $(seq 1 10); do
  curl -s -o /dev/null -w "%{time_total}\n" "$API/metrics/get-history?run_id=$HRUN&metric_key=loss"
done | p50 | sed 's/^/   /'
echo "-- metrics/get-history of the same metric paged 25000 at a time (the client's loop), total per pass"
for _ in $(seq 1 3); do
  python3 - "$API" "$HRUN" <<'PY'
import sys, time, urllib.request, json
api, run = sys.argv[1], sys.argv[2]
t0, token, n = time.perf_counter(), None, 0
while True:
    url = "%s/metrics/get-history?run_id=%s&metric_key=loss&max_results=25000" % (api, run)
    if token:
        url += "&page_token=" + token
    d = json.load(urllib.request.urlopen(url))
    n += len(d.get("metrics", []))
    token = d.get("next_page_token")
    if not token:
        break
print("%.4f" % (time.perf_counter() - t0))
PY
done | p50 | sed 's/^/   /'
stop_server

# --- registry: resolve and search over $MODELS models x $VERSIONS versions ---------------------------
MODELS=${MODELS:-10000}
VERSIONS=${VERSIONS:-10}
mkdir -p "$WORK/registry"
echo "-- seeding $MODELS registered models x $VERSIONS versions (direct to the store)"
"$BUILD/bench/tamga_seed_registry" "$WORK/registry" "$MODELS" "$VERSIONS" | sed 's/^/   /'
start_server "$WORK/registry"
echo "-- tamga/models/resolve models:/model-4242@production"
for _ in $(seq 1 200); do
  curl -s -o /dev/null -w "%{time_total}\n" "$BASE/api/2.0/tamga/models/resolve?uri=models:/model-4242@production"
done | p50 | sed 's/^/   /'
echo "-- tamga/models/resolve models:/model-4242/7"
for _ in $(seq 1 200); do
  curl -s -o /dev/null -w "%{time_total}\n" "$BASE/api/2.0/tamga/models/resolve?uri=models:/model-4242/7"
done | p50 | sed 's/^/   /'
echo "-- registered-models/search, default (first 100 by name, with latest versions and aliases)"
for _ in $(seq 1 50); do
  curl -s -o /dev/null -w "%{time_total}\n" "$API/registered-models/search?max_results=100"
done | p50 | sed 's/^/   /'
echo "-- registered-models/search filter name LIKE 'model-42%' AND tags.team = '2', order by last_updated_timestamp DESC"
for _ in $(seq 1 50); do
  curl -s -o /dev/null -w "%{time_total}\n" \
    "$API/registered-models/search?filter=name%20LIKE%20%27model-42%25%27%20AND%20tags.team%3D%272%27&order_by=last_updated_timestamp%20DESC"
done | p50 | sed 's/^/   /'
echo "-- model-versions/search filter name='model-4242' (10 versions)"
for _ in $(seq 1 50); do
  curl -s -o /dev/null -w "%{time_total}\n" "$API/model-versions/search?filter=name%3D%27model-4242%27"
done | p50 | sed 's/^/   /'
stop_server

echo "-- in-process micro-benchmarks"
"$BUILD/bench/tamga_micro_bench" --benchmark_min_time=0.5 2>/dev/null | grep -E "^BM_" | sed 's/^/   /'
