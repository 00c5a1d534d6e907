#!/usr/bin/env bash
# Creates .venv with the pinned dependencies and dwell installed in editable mode; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
    # A virtualenv made by another tool may lack pip.
    .venv/bin/python -m pip --version >/dev/null 2>&1 || .venv/bin/python -m ensurepip --upgrade >/dev/null
    .venv/bin/python -m pip install --quiet --disable-pip-version-check uv
fi
# Bytecode compiled once here: where PYTHONDONTWRITEBYTECODE is set, every dbt or Dagster process would otherwise
# compile its imports from source again (seconds each).
.venv/bin/uv pip install --quiet --python .venv/bin/python --compile-bytecode -r requirements.lock -e .
