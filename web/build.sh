#!/usr/bin/env bash
# Installs the UI's pinned npm packages when package-lock.json changed (npm ci), then bundles the UI:
#   web/build.sh OUT_DIR
set -euo pipefail
cd "$(dirname "$0")"
stamp=node_modules/.tamga-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
exec node build.mjs --out "$1"
