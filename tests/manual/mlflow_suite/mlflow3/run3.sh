#!/bin/sh
# MLflow 3.x's integration suites against Tamga (the client and tests import through standins.py).
#   tests/manual/mlflow_suite/mlflow3/run3.sh [test file ...]
# MLFLOW3_SRC: MLflow 3.x's `mlflow/` and `tests/` (default /tmp/mlflow3-src); OUT as in run.sh.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
suite=$(cd "$here/.." && pwd)
MLFLOW3_SRC=${MLFLOW3_SRC:-/tmp/mlflow3-src}
OUT=${OUT:-/tmp/mlflow-suite}
files=${*:-tests/tracking/test_rest_tracking.py tests/tracking/test_model_registry.py}
mkdir -p "$OUT"
standins=$("$here/prepare.sh" "$OUT/mlflow3-standins")
export TAMGA_BIN=${TAMGA_BIN:-$(cd "$suite/../../.." && pwd)/build/tamga}
for f in $files; do
    name=$(basename "$f" .py)
    echo "== tamga (MLflow 3.x tests): $f"
    # 3.x's pyproject.toml turns pydantic-2 deprecation warnings into errors; Debian 12 has pydantic 1.
    (cd "$MLFLOW3_SRC" && PYTHONPATH="$standins:$suite:$MLFLOW3_SRC" /usr/bin/python3 -m pytest -p tamga_plugin \
        -p no:cacheprovider -o addopts="" -o filterwarnings=ignore -q "$f" \
        --junitxml="$OUT/tamga3-$name.xml" > "$OUT/tamga3-$name.log" 2>&1) || true
    tail -1 "$OUT/tamga3-$name.log"
done
