#!/bin/sh
# Builds the stand-in folder for MLflow 3.x (see standins.py) at $1 (default /tmp/mlflow3-standins):
#   - sitecustomize.py importing standins.py,
#   - opentelemetry/proto/trace/v1/trace_pb2.py compiled from trace.proto (protoc, Debian protobuf-compiler),
#   - an empty `databricks` package (MLflow asks importlib for databricks.agents, whose parent must exist),
#   - mlflow.dist-info metadata, since MLflow 3.x run from source thinks it is the tracing-only SDK otherwise.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-/tmp/mlflow3-standins}
version=${MLFLOW3_VERSION:-3.6.1.dev0}
rm -rf "$out"
mkdir -p "$out/protosrc/opentelemetry/proto/trace/v1" "$out/databricks" "$out/mlflow-$version.dist-info"
cp "$here/standins.py" "$out/"
echo "import standins" > "$out/sitecustomize.py"
cp "$here/trace.proto" "$out/protosrc/opentelemetry/proto/trace/v1/trace.proto"
(cd "$out/protosrc" && protoc --python_out="$out" opentelemetry/proto/trace/v1/trace.proto)
for d in opentelemetry opentelemetry/proto opentelemetry/proto/trace opentelemetry/proto/trace/v1 databricks; do
    touch "$out/$d/__init__.py"
done
printf 'Metadata-Version: 2.1\nName: mlflow\nVersion: %s\n' "$version" > "$out/mlflow-$version.dist-info/METADATA"
echo "$out"
