#!/usr/bin/env bash
# Configures a clang sanitizer build for fuzzing or sanitizer tests (docs/fuzzing.md).
#   tests/fuzz/configure.sh fuzz <dir>   libFuzzer targets; libraries with -fsanitize=fuzzer-no-link,address,undefined
#   tests/fuzz/configure.sh asan <dir>   unit tests and corpus replays with -fsanitize=address,undefined
# UBSan findings are fatal in both (-fno-sanitize-recover=undefined). Re-running on a configured dir is a no-op.
set -euo pipefail
mode=$1
dir=$2
cd "$(dirname "$0")/../.."
if [ -f "$dir/build.ninja" ]; then exit 0; fi
case "$mode" in
  fuzz) san="-fsanitize=fuzzer-no-link,address,undefined"; libfuzzer=ON ;;
  asan) san="-fsanitize=address,undefined"; libfuzzer=OFF ;;
  *) echo "usage: $0 fuzz|asan <build-dir>" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -G Ninja \
  -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  -DCMAKE_CXX_FLAGS="$san -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
  -DTAMGA_BUILD_TESTS=ON -DTAMGA_BUILD_BENCH=OFF -DTAMGA_FUZZ_LIBFUZZER=$libfuzzer
