#!/bin/sh
# Runs MLflow 2.12.2's own integration suites against Tamga and/or MLflow's server and diffs them.
#   tests/manual/mlflow_suite/run.sh [tamga|mlflow|both] [test file ...]
#   tests/manual/mlflow_suite/run.sh proxied
#     runs the three file://-bound tests of test_rest_tracking.py against Tamga with only their file://
#     assertions deleted (a sed'ed copy in MLFLOW_SRC), to see what the rest of each test does
# MLFLOW_SRC: a folder holding MLflow's `mlflow/` and `tests/` at tag v2.12.2 (default /tmp/mlflow-src).
# OUT: where JUnit XML and logs go (default /tmp/mlflow-suite).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
MLFLOW_SRC=${MLFLOW_SRC:-/tmp/mlflow-src}
OUT=${OUT:-/tmp/mlflow-suite}
which=${1:-both}
[ $# -gt 0 ] && shift
files=${*:-tests/tracking/test_rest_tracking.py tests/tracking/test_model_registry.py}
mkdir -p "$OUT"
export TAMGA_BIN=${TAMGA_BIN:-$(cd "$here/../../.." && pwd)/build/tamga}

run_one() {  # $1 = tamga|mlflow, $2 = test file
    name=$(basename "$2" .py)
    plugin=""
    [ "$1" = tamga ] && plugin="-p tamga_plugin"
    echo "== $1: $2"
    (cd "$MLFLOW_SRC" && PYTHONPATH="$here:$MLFLOW_SRC" /usr/bin/python3 -m pytest $plugin \
        -p no:cacheprovider -o addopts="" -q "$2" --junitxml="$OUT/$1-$name.xml" \
        > "$OUT/$1-$name.log" 2>&1) || true
    tail -1 "$OUT/$1-$name.log"
}

if [ "$which" = proxied ]; then
    copy=tests/tracking/test_rest_tracking_proxied.py
    sed -e '/assert experiment_info.artifact_location.startswith(path_to_local_file_uri/d' \
        -e '/assert run.info.artifact_uri.startswith("file:\/\/")/d' \
        "$MLFLOW_SRC/tests/tracking/test_rest_tracking.py" > "$MLFLOW_SRC/$copy"
    (cd "$MLFLOW_SRC" && PYTHONPATH="$here:$MLFLOW_SRC" /usr/bin/python3 -m pytest -p tamga_plugin -p no:cacheprovider \
        -o addopts="" -q "$copy" -k "test_artifacts or test_create_model_version_with_file_uri or \
        test_logging_model_with_local_artifact_uri" 2>&1 | tail -8) || true
    exit 0
fi

for f in $files; do
    case $which in
        tamga|mlflow) run_one "$which" "$f" ;;
        both) run_one mlflow "$f"; run_one tamga "$f" ;;
    esac
done
/usr/bin/python3 "$here/compare.py" "$OUT"
