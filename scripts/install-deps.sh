#!/usr/bin/env bash
# Installs every Debian package Tamga's build, tests and benchmarks need.
# Idempotent: packages already installed are skipped, and apt is not touched at all when nothing is missing.
#   scripts/install-deps.sh [extra-package ...]    (extra packages: scripts/install-fuzz-deps.sh)
#   scripts/install-deps.sh --build-only            what building the binary needs, nothing for tests
#                                                   (deploy/docker/Dockerfile)
set -euo pipefail
BUILD_ONLY=0
if [ "${1:-}" = "--build-only" ]; then BUILD_ONLY=1; shift; fi

PACKAGES=(
  # build
  build-essential cmake ninja-build ccache pkg-config git
  # libraries
  libboost1.74-dev libsqlite3-dev libpq-dev nlohmann-json3-dev libsimdjson-dev libfmt-dev libcli11-dev libssl-dev libyaml-cpp-dev
  libtorch-dev libxgboost-dev libgrpc++-dev protobuf-compiler protobuf-compiler-grpc
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev python3 python3-pytest python3-requests python3-yaml sqlite3 wrk curl
  python3-numpy python3-torch python3-xgboost python3-grpcio python3-protobuf
  bubblewrap util-linux python3-venv python3-pip tar gzip python3-jwt python3-cryptography
  # the web UI's browser tests (playwright-core drives this Chromium; no browser download)
  chromium
  # scale-out (docs/scale-out.md): a real S3 server for the tests (Ceph RADOS Gateway on a one-node memstore
  # cluster, tests/harness/ceph_rgw.py), boto3 as an independent S3 client, PostgreSQL 15
  ceph-mon ceph-osd radosgw ceph-common python3-boto3 postgresql
)

if [ "$BUILD_ONLY" = 1 ]; then
  PACKAGES=(build-essential cmake ninja-build pkg-config git libboost1.74-dev libsqlite3-dev libpq-dev nlohmann-json3-dev
    libsimdjson-dev libfmt-dev libcli11-dev libssl-dev libyaml-cpp-dev libtorch-dev libxgboost-dev libgrpc++-dev
    protobuf-compiler protobuf-compiler-grpc)
fi
PACKAGES+=("$@")
# Node.js and npm (the web UI's build, the Kubernetes schema check): Debian's, unless a node is already there.
if { ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; }; then
  PACKAGES+=(nodejs npm)
fi
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
