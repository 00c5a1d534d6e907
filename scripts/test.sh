#!/usr/bin/env bash
# The whole test suite on a fresh machine: set up, install the browser the UI test drives, prepare dbt's manifest,
# run pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! command -v chromium >/dev/null 2>&1; then
    # Debian's Chromium: the UI test never downloads a browser build.
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "The UI test needs Debian's chromium: run 'sudo apt-get install -y chromium' once." >&2
        exit 1
    fi
fi
# dagster-dbt reads target/manifest.json when definitions are imported.
.venv/bin/dbt parse --quiet
exec .venv/bin/python -m pytest "$@"
