#!/usr/bin/env bash
# Regenerates the Go and Python code of proto/spate/v1/*.proto.
# Needs: python3 with grpcio-tools (bundles protoc), protoc-gen-go and
# protoc-gen-go-grpc on PATH (go install ...; see the Makefile's proto target).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export PATH="$(go env GOPATH)/bin:$PATH"
mkdir -p proto/spatev1 sdk-python/spate/_proto
"$PY" -m grpc_tools.protoc -I proto \
  --go_out=. --go_opt=module=github.com/spate-ml/spate \
  --go-grpc_out=. --go-grpc_opt=module=github.com/spate-ml/spate \
  --python_out=sdk-python/spate/_proto --pyi_out=sdk-python/spate/_proto \
  --grpc_python_out=sdk-python/spate/_proto \
  proto/spate/v1/*.proto
# The generated Python lives inside the spate package, so make its imports
# package-relative.
for f in sdk-python/spate/_proto/spate/v1/*_grpc.py; do
  sed -i 's/^from spate\.v1 import \(.*\)$/from . import \1/' "$f"
done
touch sdk-python/spate/_proto/__init__.py sdk-python/spate/_proto/spate/__init__.py sdk-python/spate/_proto/spate/v1/__init__.py
