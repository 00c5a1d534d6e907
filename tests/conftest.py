import gzip
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from orchestration.dbt_invoke import run_dbt

# pytest's terminal reporter, set when pytest configures this conftest.
_terminal = None


@dataclass
class Warehouse:
    """A landing directory and a DuckDB warehouse of their own, built with the real dbt project."""

    landing: Path
    path: Path
    target: Path

    def build(self, *, select: str | None = None, dbt_vars: Mapping[str, Any] | None = None,
              full_refresh: bool = False, data_tests: bool = False) -> None:
        """dbt build without the unit tests (tests/test_dbt_unit_tests.py runs those) and, unless asked, without the
        data tests: they take half of a small build, and the tests compare the tables themselves. Full refreshes
        (assert_equal_to_a_full_refresh), the main job and every Dagster run keep them."""
        excluded = ["test_type:unit", *([] if data_tests else ["test_type:data"])]
        args = ["build", "--quiet", "--target-path", str(self.target), "--exclude", *excluded,
                *(["--full-refresh"] if full_refresh else [])]
        if select:
            # Only the tests of the selected models: a relationship test may point at an unselected one.
            args += ["--select", select, "--indirect-selection", "cautious"]
        run_dbt(args, dbt_vars)

    def query(self, sql: str) -> pd.DataFrame:
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.sql(sql).df()

    def records(self, sql: str) -> list[dict[str, Any]]:
        """Rows as dicts of plain Python values (None for null, unlike pandas)."""
        with duckdb.connect(str(self.path), read_only=True) as con:
            relation = con.sql(sql)
            return [dict(zip(relation.columns, row)) for row in relation.fetchall()]

    def write_jsonl(self, relative: str, rows: Iterable[Mapping[str, Any]]) -> Path:
        path = self.landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(json.dumps(row) + "\n" for row in rows)
        if relative.endswith(".gz"):
            with gzip.open(path, "wt", encoding="utf-8") as handle:
                handle.write(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    landing = tmp_path / "landing"
    landing.mkdir()
    path = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("DWELL_LANDING_DIR", str(landing))
    monkeypatch.setenv("DWELL_DUCKDB_PATH", str(path))
    monkeypatch.setenv("DWELL_SERVING_DIR", str(tmp_path / "serving"))
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    return Warehouse(landing=landing, path=path, target=tmp_path / "target")


@pytest.fixture
def assert_equal_to_a_full_refresh(warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Checks that tables, as the incremental loads left them, equal `dbt build --full-refresh` of the same files,
    row for row, in a warehouse of its own."""
    def check(tables: Iterable[str], dbt_vars: Mapping[str, Any] | None = None) -> dict[str, list[dict[str, Any]]]:
        incremental = {table: warehouse.records(f"select * from {table} order by all") for table in tables}
        full = Warehouse(landing=warehouse.landing, path=tmp_path / "full.duckdb", target=tmp_path / "full-target")
        monkeypatch.setenv("DWELL_DUCKDB_PATH", str(full.path))
        full.build(dbt_vars=dbt_vars, full_refresh=True, data_tests=True)
        refreshed = {table: full.records(f"select * from {table} order by all") for table in incremental}
        for table, rows in incremental.items():
            assert rows == refreshed[table], table
        return refreshed
    return check


def pytest_configure(config: pytest.Config) -> None:
    global _terminal
    _terminal = config.pluginmanager.get_plugin("terminalreporter")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Print a failure's traceback as soon as it happens: a CI run cut off by its time limit still shows it."""
    if report.failed and _terminal is not None:
        _terminal.write_line(f"\n--- {report.nodeid} failed in {report.when} ---\n{report.longreprtext[-6000:]}\n")
