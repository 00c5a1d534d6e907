#!/usr/bin/env bash
# The main job on a fresh machine: set up, generate the sample into an empty landing directory, build, summarize.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/dwell run "$@"
