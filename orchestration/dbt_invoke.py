"""Running dbt for dwell, in-process or in a child process, with the project's own profile."""

import json
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunner, dbtRunnerResult

from orchestration.errors import DwellError
from orchestration.settings import PROJECT_DIR, pin_paths


# The dbt command of every scheduled run: seeds, models and data tests. dbt unit tests check the SQL on fixed
# inputs, not the data: the test suite runs them, production runs don't.
PRODUCTION_BUILD = ("build", "--exclude", "resource_type:unit_test")


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


def dbt_executable() -> str:
    """The dbt installed beside this Python, so runs work without an activated virtualenv."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def run_dbt_in_child(args: Sequence[str]) -> None:
    """Run one dbt command in a process of its own: the spark target's session (a JVM holding the Derby metastore)
    then ends with it, and the next dbt process can open the metastore."""
    pin_paths()
    command = [dbt_executable(), *args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise DbtCommandError(f"dbt {' '.join(args)} failed:\n{(result.stdout + result.stderr)[-4000:]}")


def release_warehouse() -> None:
    """Close the DuckDB file dbt-duckdb keeps open in this process, so readers and later writers can open it."""
    environment = DuckDBConnectionManager._ENV
    DuckDBConnectionManager.close_all_connections()
    if environment is not None:
        environment.close()
