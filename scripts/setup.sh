#!/usr/bin/env bash
# Sets up everything the project needs on a fresh machine: a virtualenv with the package and its
# dev tools, and the Node peers (Baileys, npm libsignal) used by interop tests and benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
	"$PYTHON" -m venv .venv
fi
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -e '.[dev]'
if command -v node >/dev/null 2>&1; then
	(cd tests/interop/js && npm ci --no-audit --no-fund --loglevel=error)
else
	echo "setup: node is not installed; interop tests need Node.js 20+ and npm" >&2
	exit 1
fi
