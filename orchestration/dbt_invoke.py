"""Running dbt for dwell in-process, with the project's own profile."""

import json
from collections.abc import Mapping, Sequence
from typing import Any

from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunner, dbtRunnerResult

from orchestration.errors import DwellError
from orchestration.settings import PROJECT_DIR, pin_paths


class DbtCommandError(DwellError):
    pass


def run_dbt(args: Sequence[str], dbt_vars: Mapping[str, Any] | None = None) -> dbtRunnerResult:
    """Run one dbt command against this project; raise DbtCommandError when it does not succeed."""
    pin_paths()
    command = [*args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    if dbt_vars:
        command += ["--vars", json.dumps(dict(dbt_vars))]
    try:
        result = dbtRunner().invoke(command)
    finally:
        release_warehouse()
    if not result.success:
        raise DbtCommandError(f"dbt {' '.join(args)} failed: {result.exception or 'see the dbt log above'}")
    return result


def release_warehouse() -> None:
    """Close the DuckDB file dbt-duckdb keeps open in this process, so readers and later writers can open it."""
    environment = DuckDBConnectionManager._ENV
    DuckDBConnectionManager.close_all_connections()
    if environment is not None:
        environment.close()
