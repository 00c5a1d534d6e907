"""Crash-safe runs (README "Runs that fail or are killed"): dbt writes a private copy of the warehouse, and the copy
replaces the warehouse only when the whole dbt invocation succeeded. A run that fails, is killed (even with
kill -9) or runs out of disk leaves the warehouse exactly as the last successful run left it, and the next run
starts again from there and loads what the failed one did not."""

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration import settings
from orchestration.errors import DwellError

DUCKDB_PATH_VARIABLE = "DWELL_DUCKDB_PATH"


class WarehouseError(DwellError):
    pass


def _write_ahead_log(database: Path) -> Path:
    return database.with_name(database.name + ".wal")


def _settle(database: Path) -> None:
    """Fold a write-ahead log left by a writer that stopped without a checkpoint into the file itself, so that the
    file alone is the whole database."""
    if not _write_ahead_log(database).exists():
        return
    try:
        with duckdb.connect(str(database)) as con:
            con.execute("checkpoint")
    except duckdb.Error as error:
        raise WarehouseError(f"{database} has a write-ahead log that cannot be checkpointed (is another process "
                             f"writing it?): {error}") from error


def failed_tests(run_results: dict) -> list[str]:
    """The data tests that failed in a dbt build whose seeds and models all succeeded. Raises if any seed, model or
    unit test did not succeed (an error, or skipped after a failure): then the run's copy must not be kept."""
    failed_builds, failed = [], []
    for result in run_results["results"]:
        resource_type = result["unique_id"].split(".", 1)[0]
        if resource_type == "test":
            if result["status"] in ("fail", "error"):
                failed.append(result["unique_id"].split(".")[2])
        elif result["status"] not in ("success", "pass"):
            failed_builds.append(f"{result['unique_id']} ({result['status']})")
    if failed_builds:
        unchanged = "; the warehouse is unchanged" if settings.dbt_target() == "duckdb" else ""
        raise WarehouseError(f"dbt did not build {', '.join(failed_builds)}{unchanged}")
    return failed


def run_directory(warehouse: Path) -> Path:
    return warehouse.parent / f".{warehouse.name}.run"


def _run_copy(warehouse: Path) -> Path:
    # The same file name: DuckDB names the catalog after it, and the warehouse's views refer to that name.
    return run_directory(warehouse) / warehouse.name


def run_environment() -> dict[str, str]:
    """The environment dbt sees inside isolated_run, to parse the project as the runs will (the profile holds the
    path, and dbt parses the whole project anew when the profile changes)."""
    if settings.dbt_target() != "duckdb":
        return {}
    return {DUCKDB_PATH_VARIABLE: str(_run_copy(settings.duckdb_path()))}


@contextmanager
def isolated_run() -> Iterator[Path]:
    """Point DWELL_DUCKDB_PATH at a fresh copy of the warehouse for the block; on success the copy replaces the
    warehouse (one atomic rename), otherwise it is thrown away. Runs hold the warehouse pool, so only one runs."""
    warehouse = settings.duckdb_path()
    directory = run_directory(warehouse)
    copy = _run_copy(warehouse)
    try:
        try:
            # A killed run's copy is stale: its work is redone from the warehouse.
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir(parents=True)
            if warehouse.exists():
                _settle(warehouse)
                shutil.copyfile(warehouse, copy)
        except OSError as error:
            raise WarehouseError(f"Cannot prepare the run's copy of {warehouse} in {directory} ({error}); "
                                 f"the warehouse is unchanged") from error
        with settings.environment({DUCKDB_PATH_VARIABLE: str(copy)}):
            yield copy
        _settle(copy)
        try:
            os.replace(copy, warehouse)
        except OSError as error:
            raise WarehouseError(f"Cannot replace {warehouse} with the run's result ({error}); "
                                 f"the warehouse is unchanged") from error
    finally:
        shutil.rmtree(directory, ignore_errors=True)
