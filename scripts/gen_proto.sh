#!/usr/bin/env bash
# Regenerates the Python modules for our .proto schemas with the pinned grpcio-tools (see
# pyproject.toml). The generated *_pb2.py / *_pb2.pyi files are committed.
set -euo pipefail
cd "$(dirname "$0")/.."
PROTO_DIR=mautrix_whatsapp_py/whatsapp/proto
python -m grpc_tools.protoc --proto_path="$PROTO_DIR" --python_out="$PROTO_DIR" --pyi_out="$PROTO_DIR" "$PROTO_DIR"/*.proto
