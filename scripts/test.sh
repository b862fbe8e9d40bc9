#!/usr/bin/env bash
# Runs lint, type checks and the whole test suite. Sets the project up first if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ] || [ ! -d tests/interop/js/node_modules ]; then
	bash scripts/setup.sh
fi
. .venv/bin/activate
ruff check .
ruff format --check .
mypy
status=0
pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
	echo "test: pytest collected no tests; that is a failure" >&2
	exit 1
fi
exit "$status"
