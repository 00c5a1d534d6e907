#!/usr/bin/env bash
# The whole test suite on a fresh machine: set up, install the browser the UI test drives and the PostgreSQL server the
# postgres target's tests use, start that server, prepare dbt's manifest, run pytest.
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
# The postgres target's tests (tests/engines/) run against a private server on loopback, stopped on exit.
if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
        bash scripts/postgres.sh install
    else
        echo "The postgres target's tests need Debian's postgresql: run 'sudo scripts/postgres.sh install' once." >&2
        exit 1
    fi
fi
postgres_root=$(mktemp -d /tmp/dwell-postgres-XXXXXX)
chmod 755 "$postgres_root"
export DWELL_PG_HOST=127.0.0.1 DWELL_PG_PORT=${DWELL_TEST_PG_PORT:-54329} DWELL_PG_USER=postgres
trap 'bash scripts/postgres.sh stop "$postgres_root/data" || true; rm -rf "$postgres_root"' EXIT
bash scripts/postgres.sh start "$postgres_root/data" "$DWELL_PG_PORT"
# dagster-dbt reads target/manifest.json when definitions are imported.
.venv/bin/dbt parse --quiet
# Every core: one test per worker at a time; the SERIAL_GROUPS of tests/conftest.py each stay on one worker.
.venv/bin/python -m pytest -n "${DWELL_TEST_WORKERS:-auto}" --dist loadgroup "$@"
