#!/usr/bin/env bash
# Runs the libFuzzer targets of a fuzz build (docs/fuzzing.md), one after another, one worker each.
#   FUZZ_SECONDS  per target (default 60)        FUZZ_TARGETS  space-separated names (default: all)
#   FUZZ_BUILD    the fuzz build dir (default build-fuzz)
#   FUZZ_KEEP_GOING  targets (or "all") that keep fuzzing past crashes (libFuzzer -fork=1 -ignore_crashes=1): for
#                    a target whose known finding is not fixed yet; each crash is still saved and reported. Fork
#                    mode restarts the process per job, which costs the targets with a slow start-up dearly.
# Each target fuzzes a copy of its committed corpus under $FUZZ_BUILD/fuzz-corpus/<target> (new inputs stay
# there, never in the repo); crashes land in $FUZZ_BUILD/fuzz-artifacts/<target>/, logs in fuzz-logs/.
# Prints the executions per target and the total; exits 1 when any target found a crash, leak or timeout.
set -uo pipefail
cd "$(dirname "$0")/../.."
seconds=${FUZZ_SECONDS:-60}
build=${FUZZ_BUILD:-build-fuzz}
src=tests/fuzz
all="http_request api_routes request_fields search_filter mlflow_codec v2_codec grpc_codec mlmodel job_spec
artifact_path json_parse yaml_limits utf8 uri"
targets=${FUZZ_TARGETS:-$all}

dict_for() {
  case "$1" in
    http_request) echo http ;;
    api_routes) echo api ;;
    search_filter) echo search_filter ;;
    mlmodel|yaml_limits) echo yaml ;;
    json_parse|request_fields|job_spec|mlflow_codec|v2_codec) echo json ;;
    *) echo "" ;;
  esac
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$build/fuzz-logs" "$build/fuzz-corpus" "$build/fuzz-artifacts"
total=0
failed=()
printf '%-16s %12s %10s %8s  %s\n' target execs exec/s corpus result
for t in $targets; do
  bin="$build/tests/fuzz/fuzz_$t"
  if [ ! -x "$bin" ]; then echo "run_fuzz: $bin is missing (make fuzz builds it)" >&2; exit 2; fi
  corpus="$build/fuzz-corpus/$t"
  artifacts="$build/fuzz-artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  # Known crash reproducers (crash-*) are replayed by the tests, not fuzzed from: they would stop the run.
  find "$src/corpus/$t" -maxdepth 1 -type f ! -name 'crash-*' -exec cp -n {} "$corpus/" \;
  args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=25 -max_len=4096 -print_final_stats=1
        -artifact_prefix="$artifacts/")
  if [ "${FUZZ_KEEP_GOING:-}" = all ] || [[ " ${FUZZ_KEEP_GOING:-} " == *" $t "* ]]; then  # one forked worker
    args+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  fi
  # The API target's services keep caches and queues across inputs on other threads: per-input leak checks
  # would flag them every time (and scan a 400 MB heap per input); leaks are still checked at exit.
  if [ "$t" = api_routes ]; then args+=(-detect_leaks=0); fi
  d=$(dict_for "$t")
  if [ -n "$d" ]; then args+=(-dict="$src/dict/$d.dict"); fi
  log="$build/fuzz-logs/$t.log"
  before=$(ls "$artifacts" | wc -l)
  start=$(date +%s)
  tmp="$build/fuzz-tmp/$t"  # the API target's data dirs; a crashed run cannot remove its own
  mkdir -p "$tmp"
  TMPDIR="$tmp" "$bin" "${args[@]}" "$corpus" >"$log" 2>&1
  rc=$?
  rm -rf "$tmp"
  elapsed=$(( $(date +%s) - start ))
  found=$(( $(ls "$artifacts" | wc -l) - before ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
  if [ -z "$execs" ]; then  # stopped early (a crash): the last progress line
    execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  fi
  execs=${execs:-0}
  rate=$(( execs / (elapsed > 0 ? elapsed : 1) ))
  total=$((total + execs))
  result=ok
  if [ $rc -ne 0 ] || [ "$found" -gt 0 ]; then
    result="FAILED (rc $rc, $found new in $artifacts): $(grep -m1 -oE 'FUZZ PROPERTY FAILED: .*|runtime error: .*|ERROR: [A-Za-z]+: .*|Boost assertion failed: .*' "$log" | head -c 150)"
    failed+=("$t")
  fi
  printf '%-16s %12s %10s %8s  %s\n' "$t" "$execs" "${rate:-?}" "$(ls "$corpus" | wc -l)" "$result"
done
echo "total executions: $total"
if [ ${#failed[@]} -gt 0 ]; then
  echo "failing targets: ${failed[*]} (reproducers in $build/fuzz-artifacts/<target>/, logs in $build/fuzz-logs/)"
  exit 1
fi
