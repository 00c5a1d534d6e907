#!/usr/bin/env bash
# The whole test suite on a fresh machine: set up, prepare dbt's manifest, run pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# dagster-dbt reads target/manifest.json when definitions are imported.
.venv/bin/dbt parse --quiet
exec .venv/bin/python -m pytest "$@"
