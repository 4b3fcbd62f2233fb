#!/usr/bin/env bash
# Web UI benchmark (docs/performance.md, "Web UI"): seeds 100k runs with 50 param/metric columns and a
# 1M-point metric straight into a store, serves it, and measures pages in headless Chromium.
#   bench/ui.sh [build_dir]      Env: BENCH_RUNS (100000), BENCH_POINTS (1000000), BENCH_UI_REPEAT (5)
set -euo pipefail
BUILD=${1:-build}
RUNS=${BENCH_RUNS:-100000}
POINTS=${BENCH_POINTS:-1000000}
WORK=$(mktemp -d /tmp/tamga-uibench-XXXXXX)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
echo "== Tamga web UI benchmark ($(nproc) cores, $(chromium --version 2>/dev/null | head -1))"
echo "-- seeding $RUNS runs x 50 columns and a $POINTS-point metric (direct to the store)"
SEED=$("$BUILD/bench/tamga_seed_store" "$WORK/data" "$RUNS" "$POINTS" 50)
EXP=$(echo "$SEED" | sed -n 's/.*experiment_id=\([0-9]*\).*/\1/p')
HIST=$(echo "$SEED" | sed -n 's/.*history_run=\([0-9a-f]*\).*/\1/p')
"$BUILD/tamga" --log-level warn server --port 0 --data-dir "$WORK/data" --port-file "$WORK/port" &
SERVER_PID=$!
for _ in $(seq 1 200); do [ -s "$WORK/port" ] && break; sleep 0.05; done
node "$(dirname "$0")/ui_bench.mjs" --url="http://127.0.0.1:$(cat "$WORK/port")" --exp="$EXP" --history-run="$HIST" \
  --bundle-dir="$BUILD/web" --repeat="${BENCH_UI_REPEAT:-5}"
