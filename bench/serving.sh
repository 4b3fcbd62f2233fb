#!/usr/bin/env bash
# Serving benchmark: `tamga serve` for a TorchScript MLP (16->64->4) and an XGBoost model (8 features,
# 50 trees), both made at test time (tests/serving/make_models.py). wrk sends single-row V2 infer requests
# over keep-alive; the server's own histograms give queue, compute and total latency, so the server
# overhead is total minus compute. Prints one line per scenario.
#   bench/serving.sh [build_dir]      env: BENCH_SECONDS (default 10)
set -euo pipefail
BUILD=${1:-build}
SECS=${BENCH_SECONDS:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/tamga-serve-bench-XXXXXX)
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
/usr/bin/python3 "$HERE/../tests/serving/make_models.py" "$WORK/models" >/dev/null

serve() {  # model_dir extra-args...
  local dir=$1; shift
  rm -f "$WORK/port" "$WORK/grpc-port"
  "$BUILD/tamga" --log-level warn serve "$dir" --port 0 --port-file "$WORK/port" --cache-dir "$WORK/cache" \
    --grpc-port 0 --grpc-port-file "$WORK/grpc-port" "$@" &
  PID=$!
  for _ in $(seq 1 200); do [ -s "$WORK/port" ] && break; sleep 0.05; done
  URL="http://127.0.0.1:$(cat "$WORK/port")"
  GRPC="127.0.0.1:$(cat "$WORK/grpc-port")"
  for _ in $(seq 1 400); do curl -sf "$URL/v2/health/ready" >/dev/null && break; sleep 0.05; done
}
stop() { kill "$PID"; wait "$PID" || true; PID=""; }

body() {  # features
  python3 -c "import json; print(json.dumps({'inputs':[{'name':'input-0','datatype':'FP32','shape':[1,$1],'data':[0.5]*$1}]}))"
}

# p50 of a server histogram phase (seconds -> microseconds), from /metrics.
p50() {  # model phase
  curl -s "$URL/metrics" | python3 -c "
import sys
rows=[]
for l in sys.stdin:
    if l.startswith('tamga_serving_latency_seconds_bucket{model=\"$1\",phase=\"$2\"'):
        le=l.split('le=\"')[1].split('\"')[0]; rows.append((float('inf') if le=='+Inf' else float(le), float(l.rsplit(' ',1)[1])))
rows.sort(); tot=rows[-1][1]; prev=(0.0,0.0)
for le,c in rows:
    if c>=tot/2:
        lo,pc=prev; frac=(tot/2-pc)/max(c-pc,1e-9); print('%.0f'%(1e6*(lo+(le-lo)*frac))); break
    prev=(le,c)"
}

run() {  # label model features connections
  local label=$1 model=$2 feats=$3 conns=$4
  body "$feats" > "$WORK/body.json"
  cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$WORK/body.json"); wrk.body = f:read("*a"); f:close()
LUA
  local out
  out=$(wrk -t$(( conns < 2 ? 1 : 2 )) -c"$conns" -d"${SECS}s" --latency -s "$WORK/post.lua" "$URL/v2/models/$model/infer")
  local rps p50c p99c
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50c=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99c=$(echo "$out" | awk '$1=="99%" {print $2}')
  local tot comp
  tot=$(p50 "$model" total); comp=$(p50 "$model" compute)
  printf '%-34s %10s req/s  client p50 %-8s p99 %-8s  server p50 total %5s us compute %5s us overhead %5s us\n' \
    "$label" "$rps" "$p50c" "$p99c" "$tot" "$comp" "$((tot - comp))"
}

grpc_run() {  # label model features concurrency [--raw]
  local label=$1 model=$2 feats=$3 conc=$4; shift 4
  printf '%-34s %s\n' "$label" \
    "$("$BUILD/bench/tamga_grpc_bench" --target "$GRPC" --model "$model" --features "$feats" --concurrency "$conc" --seconds "$SECS" "$@")"
}

echo "== serving ($(nproc) cores, ${SECS}s per run, wrk -t2, single-row V2 JSON infer over keep-alive)"
serve "$WORK/models/mlp"
run "torchscript mlp, batching off, c=1" mlp 16 1
stop
serve "$WORK/models/mlp"
run "torchscript mlp, batching off, c=16" mlp 16 16
stop
serve "$WORK/models/mlp" --max-batch-size 64 --max-queue-delay-us 1000
run "torchscript mlp, batching on, c=64" mlp 16 64
stop
serve "$WORK/models/mlp"
run "torchscript mlp, batching off, c=64" mlp 16 64
stop
serve "$WORK/models/xgb"
run "xgboost, batching off, c=1" xgb 8 1
stop
serve "$WORK/models/xgb"
run "xgboost, batching off, c=16" xgb 8 16
stop
serve "$WORK/models/xgb" --max-batch-size 64 --max-queue-delay-us 1000
run "xgboost, batching on, c=64" xgb 8 64
stop

echo "== native vs Python worker, the same TorchScript MLP (python_function model whose predict runs torch.jit)"
serve "$WORK/models/pyfunc_mlp" --python /usr/bin/python3
run "python worker mlp, batching off, c=16" pyfunc_mlp 16 16
stop
serve "$WORK/models/pyfunc_mlp" --python /usr/bin/python3 --max-batch-size 64 --max-queue-delay-us 1000
run "python worker mlp, batching on, c=64" pyfunc_mlp 16 64
stop
serve "$WORK/models/pyfunc_mlp" --python /usr/bin/python3 --instances 2
run "python worker mlp, 2 workers, c=16" pyfunc_mlp 16 16
stop

echo "== serving over OIP gRPC ($(nproc) cores, ${SECS}s per run, async client with N calls in flight, single-row ModelInfer)"
serve "$WORK/models/mlp"
grpc_run "grpc torchscript mlp, c=16, typed" mlp 16 16
grpc_run "grpc torchscript mlp, c=16, raw" mlp 16 16 --raw
stop
serve "$WORK/models/mlp" --max-batch-size 64 --max-queue-delay-us 1000
grpc_run "grpc torchscript mlp, batching, c=64" mlp 16 64 --raw
stop
serve "$WORK/models/xgb"
grpc_run "grpc xgboost, c=16, raw" xgb 8 16 --raw
stop
