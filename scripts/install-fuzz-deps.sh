#!/usr/bin/env bash
# Installs what `make fuzz`, `make asan-test` and `make check` need beyond scripts/install-deps.sh: clang 14 and its
# sanitizer and libFuzzer runtimes (Debian packages). Idempotent: apt is not touched when nothing is missing.
set -euo pipefail

PACKAGES=(clang-14 libclang-rt-14-dev llvm-14 clang-format)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-fuzz-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
