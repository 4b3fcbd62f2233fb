#!/usr/bin/env bash
# Installs what `make fuzz`, `make asan-test` and `make check` need beyond scripts/install-deps.sh: clang 14 and
# its sanitizer and libFuzzer runtimes, llvm-symbolizer and clang-format (Debian packages). Idempotent.
set -euo pipefail
exec "$(dirname "$0")/install-deps.sh" clang-14 libclang-rt-14-dev llvm-14 clang-format
