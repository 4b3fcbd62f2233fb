#!/usr/bin/env bash
# SQLite (the embedded default) and PostgreSQL side by side in one run (docs/performance.md, issue 17):
# ingest (log-metric, log-batch), runs/search over $RUNS runs, get-history of $POINTS points, and the store
# size per million metric points beside MLflow's metrics table on the same data.
#   bench/store_backends.sh [build_dir]
# Starts its own PostgreSQL 15 with fsync on (tests/harness/postgres.py --durable), on this machine.
set -euo pipefail
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${TAMGA_TEST_PG_URI:-}" ]; then
  exec /usr/bin/python3 "$HERE/../tests/harness/postgres.py" --durable -- "$0" "$@"
fi
SECS=${BENCH_SECONDS:-10}
RUNS=${BENCH_RUNS:-100000}
POINTS=${BENCH_POINTS:-1000000}
WORK=$(mktemp -d /tmp/tamga-backends-XXXXXX)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
reset_pg() { psql "$TAMGA_TEST_PG_URI" -qc "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null; }
start_server() {  # data_dir [backend args...]
  local dir=$1; shift
  mkdir -p "$dir"; rm -f "$dir/port"
  "$BUILD/tamga" --log-level warn server --port 0 --data-dir "$dir" --port-file "$dir/port" "$@" &
  SERVER_PID=$!
  for _ in $(seq 1 200); do [ -s "$dir/port" ] && break; sleep 0.05; done
  API="http://127.0.0.1:$(cat "$dir/port")/api/2.0/mlflow"
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=""; }
json_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
p50() { sort -n | awk '{a[NR]=$1} END {printf "p50 %.1f ms  p95 %.1f ms  (n=%d)\n", a[int((NR+1)/2)]*1000, a[int(NR*0.95+0.5)]*1000, NR}'; }

echo "== SQLite vs PostgreSQL ($(nproc) cores; $(psql "$TAMGA_TEST_PG_URI" -Atc 'show server_version') on this box, fsync on)"
for backend in sqlite postgres; do
  args=()
  if [ "$backend" = postgres ]; then reset_pg; args=(--backend-store-uri "$TAMGA_TEST_PG_URI"); fi
  start_server "$WORK/ingest-$backend" "${args[@]}"
  RID=$(curl -s -X POST -H 'Content-Type: application/json' "$API/runs/create" -d '{"experiment_id":"0"}' | json_field 'd["run"]["info"]["run_id"]')
  printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[{"run_id":"%s","key":"loss","value":0.25,"timestamp":1700000000000,"step":1}]]\n' "$RID" > "$WORK/lm.lua"
  python3 - "$RID" > "$WORK/lb.lua" <<'PY'
import json, sys
metrics = [{"key": "m%d" % (i % 10), "value": 0.001 * i + 0.123456, "timestamp": 1700000000000 + i, "step": i // 10}
           for i in range(1000)]
print('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[%s]]'
      % json.dumps({"run_id": sys.argv[1], "metrics": metrics}))
PY
  LM=$(wrk -t2 -c64 -d"${SECS}s" -s "$WORK/lm.lua" "$API/runs/log-metric" | awk '/Requests\/sec/ {print $2}')
  LB=$(wrk -t2 -c16 -d"${SECS}s" -s "$WORK/lb.lua" "$API/runs/log-batch" | awk '/Requests\/sec/ {print $2}')
  printf -- "-- %-8s log-metric %9.0f req/s   log-batch %7.0f req/s x 1000 points\n" "$backend" "$LM" "$LB"
  stop_server
done

# Two replicas on the one PostgreSQL, each taking half the clients (docs/scale-out.md): combined log-metric
# throughput beside the single replica's figure above. On a machine this small the replicas, PostgreSQL and
# the load generators share the same cores.
reset_pg
start_server "$WORK/replica-a" --backend-store-uri "$TAMGA_TEST_PG_URI"; PID_A=$SERVER_PID; API_A=$API
start_server "$WORK/replica-b" --backend-store-uri "$TAMGA_TEST_PG_URI"; PID_B=$SERVER_PID; API_B=$API
RID=$(curl -s -X POST -H 'Content-Type: application/json' "$API_A/runs/create" -d '{"experiment_id":"0"}' | json_field 'd["run"]["info"]["run_id"]')
printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[{"run_id":"%s","key":"loss","value":0.25,"timestamp":1700000000000,"step":1}]]\n' "$RID" > "$WORK/lm2.lua"
wrk -t1 -c32 -d"${SECS}s" -s "$WORK/lm2.lua" "$API_A/runs/log-metric" > "$WORK/wrk-a.txt" &
WA=$!
wrk -t1 -c32 -d"${SECS}s" -s "$WORK/lm2.lua" "$API_B/runs/log-metric" > "$WORK/wrk-b.txt"
wait $WA
RA=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk-a.txt"); RB=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk-b.txt")
printf -- "-- 2 replicas log-metric %9.0f req/s combined (%.0f + %.0f), one run, 32 connections each\n" \
  "$(python3 -c "print($RA + $RB)")" "$RA" "$RB"
kill "$PID_A" "$PID_B"; wait "$PID_A" "$PID_B" 2>/dev/null || true; SERVER_PID=""

for backend in sqlite postgres; do
  if [ "$backend" = postgres ]; then reset_pg; TARGET=$TAMGA_TEST_PG_URI; args=(--backend-store-uri "$TAMGA_TEST_PG_URI")
  else TARGET=$WORK/reads-sqlite; args=(); fi
  T0=$(date +%s.%N)
  SEED=$("$BUILD/bench/tamga_seed_store" "$TARGET" "$RUNS" "$POINTS")
  echo "-- $backend: seeded $RUNS runs and a $POINTS-point metric in $(python3 -c "print(round($(date +%s.%N) - $T0, 1))") s"
  # As autovacuum would soon after a bulk load: planner statistics for the new tables.
  if [ "$backend" = postgres ]; then psql "$TAMGA_TEST_PG_URI" -qc "VACUUM ANALYZE"; fi
  EXP=$(echo "$SEED" | sed -E 's/.*experiment_id=([0-9]+).*/\1/')
  HRUN=$(echo "$SEED" | sed -E 's/.*history_run=([0-9a-f]+).*/\1/')
  start_server "$WORK/reads-$backend" "${args[@]}"
  BODY="{\"experiment_ids\":[\"$EXP\"],\"filter\":\"metrics.m1 > 0.5\",\"order_by\":[\"metrics.m1 DESC\"],\"max_results\":100}"
  echo "   runs/search (metrics.m1 > 0.5, order by metrics.m1 DESC, 100 of $RUNS): $(for _ in $(seq 1 30); do
    curl -s -o /dev/null -w "%{time_total}\n" -X POST -H 'Content-Type: application/json' "$API/runs/search" -d "$BODY"; done | p50)"
  BODY2="{\"experiment_ids\":[\"$EXP\"],\"filter\":\"params.model = 'm3' and tags.team = 'a'\",\"order_by\":[\"metrics.m2 ASC\"],\"max_results\":100}"
  echo "   runs/search (params + tags, order by another metric): $(for _ in $(seq 1 10); do
    curl -s -o /dev/null -w "%{time_total}\n" -X POST -H 'Content-Type: application/json' "$API/runs/search" -d "$BODY2"; done | p50)"
  echo "   get-history of $POINTS points, one request: $(for _ in $(seq 1 5); do
    curl -s -o /dev/null -w "%{time_total}\n" "$API/metrics/get-history?run_id=$HRUN&metric_key=loss"; done | p50)"
  stop_server
  if [ "$backend" = postgres ]; then
    BYTES=$(psql "$TAMGA_TEST_PG_URI" -Atc "SELECT pg_total_relation_size('metric_chunks') + pg_total_relation_size('latest_metrics') + pg_total_relation_size('metric_keys')")
  else
    BYTES=$(sqlite3 "$WORK/reads-sqlite/tamga.db" "SELECT SUM(pgsize) FROM dbstat WHERE name IN ('metric_chunks','metric_chunks_by_series','latest_metrics','latest_metrics_by_value','latest_metrics_unranged','metric_keys')" 2>/dev/null || stat -c %s "$WORK/reads-sqlite/tamga.db")
  fi
  TOTAL_POINTS=$((POINTS + RUNS * 3))
  echo "   metric storage: $(python3 -c "print('%.1f MB for %d points = %.1f MB per million' % ($BYTES/1e6, $TOTAL_POINTS, $BYTES/1e6/($TOTAL_POINTS/1e6)))")"
done

# MLflow's metrics table (its SQLAlchemy schema: one row per point, the primary key over every column) holding
# the same number of points, on both engines.
echo "-- MLflow's metrics table (row per point, all-column primary key), 1,000,000 points"
psql "$TAMGA_TEST_PG_URI" -q <<'SQL'
CREATE TABLE mlflow_metrics (key VARCHAR(250) NOT NULL, value DOUBLE PRECISION NOT NULL, timestamp BIGINT NOT NULL,
  run_uuid VARCHAR(32) NOT NULL, step BIGINT NOT NULL DEFAULT 0, is_nan BOOLEAN NOT NULL DEFAULT false,
  PRIMARY KEY (key, timestamp, step, run_uuid, value, is_nan));
INSERT INTO mlflow_metrics SELECT 'loss', random(), 1700000000000 + g, md5(((g % 1000))::text), g, false
  FROM generate_series(1, 1000000) g;
SQL
echo "   PostgreSQL: $(psql "$TAMGA_TEST_PG_URI" -Atc "SELECT round(pg_total_relation_size('mlflow_metrics') / 1e6, 1)") MB per million"
sqlite3 "$WORK/mlflow.db" <<'SQL'
CREATE TABLE metrics (key VARCHAR(250) NOT NULL, value FLOAT NOT NULL, timestamp BIGINT NOT NULL,
  run_uuid VARCHAR(32) NOT NULL, step BIGINT NOT NULL DEFAULT 0, is_nan BOOLEAN NOT NULL DEFAULT 0,
  PRIMARY KEY (key, timestamp, step, run_uuid, value, is_nan));
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1000000)
INSERT INTO metrics SELECT 'loss', abs(random() % 1000000) / 1e6, 1700000000000 + n, lower(hex(randomblob(16))), n, 0 FROM g;
VACUUM;
SQL
echo "   SQLite: $(python3 -c "import os; print(round(os.path.getsize('$WORK/mlflow.db') / 1e6, 1))") MB per million"
