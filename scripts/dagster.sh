#!/usr/bin/env bash
# The Dagster UI on http://127.0.0.1:${DWELL_DAGSTER_PORT:-3000}, with the project's instance config
# (DAGSTER_HOME, default dagster_home/: one warehouse writer at a time).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The code server re-parses the dbt project on every reload with the `dbt` it finds on PATH.
export PATH="$PWD/.venv/bin:$PATH"
dbt parse --quiet
export DAGSTER_HOME="${DAGSTER_HOME:-$PWD/dagster_home}"
mkdir -p "$DAGSTER_HOME"
[ -f "$DAGSTER_HOME/dagster.yaml" ] || cp dagster_home/dagster.yaml "$DAGSTER_HOME/dagster.yaml"
# Register the pool's limit before the daemon starts: the run queue gives a new pool its default limit only after
# dequeuing the first runs that use it, so two first runs could otherwise start together.
dagster instance concurrency set dwell_warehouse 1 >/dev/null
exec dagster dev -h 127.0.0.1 -p "${DWELL_DAGSTER_PORT:-3000}"
