#!/usr/bin/env bash
# The Dagster UI on http://127.0.0.1:3000 with the project's instance (dagster_home/: one warehouse writer at a time).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/dbt parse --quiet
export DAGSTER_HOME="$PWD/dagster_home"
exec .venv/bin/dagster dev -h 127.0.0.1 -p "${DWELL_DAGSTER_PORT:-3000}"
