#!/usr/bin/env bash
# Dynamic batching gain on a compute-bound model (docs/rollouts.md, docs/performance.md): a small TorchScript
# CNN made here (3x16x16 inputs, three convolutions, 10 scores) whose single-row forward pass costs well over
# 0.5 ms on this CPU (oneDNN convolutions are far more efficient on batches), served by `tamga serve` twice —
# without batching (--max-batch-size 1) and with it (--max-batch-size 32, 2 ms queue delay) — and driven by wrk with
# single-row V2 JSON requests from C concurrent clients. Prints req/s, p50 and p99 of each, and the gain.
#   bench/batching.sh [build_dir]      env: BENCH_SECONDS (default 10), BENCH_CONNS (default 32)
set -euo pipefail
BUILD=${1:-build}
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNS:-32}
WORK=$(mktemp -d /tmp/tamga-batching-bench-XXXXXX)
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
/usr/bin/python3 - "$WORK/model" <<'PY'
import os, sys, torch
torch.manual_seed(0)
out = sys.argv[1]
os.makedirs(out + "/data")


class Cnn(torch.nn.Module):  # a small image classifier: 3x16x16 inputs (768 features per row), 10 scores
    def __init__(self):
        super().__init__()
        self.f = torch.nn.Sequential(torch.nn.Conv2d(3, 32, 3, padding=1), torch.nn.ReLU(),
                                     torch.nn.Conv2d(32, 256, 3, stride=2, padding=1), torch.nn.ReLU(),
                                     torch.nn.Conv2d(256, 256, 3, stride=2, padding=1), torch.nn.ReLU(),
                                     torch.nn.AdaptiveAvgPool2d(1))
        self.head = torch.nn.Linear(256, 10)

    def forward(self, x):
        return self.head(self.f(x.reshape(-1, 3, 16, 16)).flatten(1))


torch.jit.trace(Cnn().eval(), torch.randn(2, 768)).save(out + "/data/model.pth")
sig = ('[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 768]}}]',
       '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 10]}}]')
open(out + "/MLmodel", "w").write("flavors:\n  pytorch:\n    model_data: data\n    pytorch_version: '2'\n"
                                  "signature:\n  inputs: '%s'\n  outputs: '%s'\n" % sig)
PY
python3 -c "import json; print(json.dumps({'inputs':[{'name':'input-0','datatype':'FP32','shape':[1,768],'data':[0.5]*768}]}))" > "$WORK/body.json"
cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$WORK/body.json"); wrk.body = f:read("*a"); f:close()
LUA
serve() {  # extra flags...
  rm -f "$WORK/port"
  "$BUILD/tamga" --log-level warn serve "$WORK/model" --port 0 --port-file "$WORK/port" --name big \
    --intra-op-threads "$(nproc)" "$@" &
  PID=$!
  for _ in $(seq 1 300); do [ -s "$WORK/port" ] && break; sleep 0.05; done
  URL="http://127.0.0.1:$(cat "$WORK/port")"
  for _ in $(seq 1 300); do curl -sf "$URL/v2/health/ready" >/dev/null && break; sleep 0.1; done
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }
run() {  # label
  local out
  out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$WORK/post.lua" "$URL/v2/models/big/infer")
  RPS=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  printf '%-40s %10s req/s  p50 %-8s p99 %-8s\n' "$1" "$RPS" \
    "$(echo "$out" | awk '$1=="50%" {print $2}')" "$(echo "$out" | awk '$1=="99%" {print $2}')"
}
echo "== dynamic batching on a compute-bound CNN ($(nproc) cores, c=$CONNS single-row requests, ${SECS}s per run)"
serve --max-batch-size 1
curl -s "$URL/v2/models/big/infer" -H 'Content-Type: application/json' -d @"$WORK/body.json" >/dev/null
/usr/bin/python3 - "$URL" "$WORK/body.json" <<'PY'
import json, sys, time, urllib.request
url, body = sys.argv[1], open(sys.argv[2], "rb").read()
t = []
for _ in range(50):
    s = time.perf_counter()
    urllib.request.urlopen(urllib.request.Request(url + "/v2/models/big/infer", data=body,
                                                  headers={"Content-Type": "application/json"})).read()
    t.append(time.perf_counter() - s)
t.sort()
print("one row, one client, no batching: %.2f ms per request (median of 50; the model's per-row cost)" % (1000 * t[25]))
PY
run "no batching (--max-batch-size 1)"
OFF=$RPS
stop
serve --max-batch-size 32 --max-queue-delay-us 2000
run "batching (--max-batch-size 32, 2 ms delay)"
ON=$RPS
curl -s "$URL/metrics" | python3 -c "
import sys
s = c = 0.0
for l in sys.stdin:
    if l.startswith('tamga_serving_batch_rows_sum'): s = float(l.rsplit(' ', 1)[1])
    if l.startswith('tamga_serving_batch_rows_count'): c = float(l.rsplit(' ', 1)[1])
print('mean batch: %.1f rows' % (s / max(c, 1)))"
stop
python3 -c "print('batching gain: %.2fx throughput' % ($ON / $OFF))"
