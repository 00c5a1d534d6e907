import gzip
import json
import re
import shutil
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

# scripts/test.sh runs the suite on every core (pytest-xdist, `--dist loadgroup`). Each group's tests run one after
# another on one worker, because they share files beyond their tmp_path. Test files, or single tests as file::name.
SERIAL_GROUPS = {
    "shared_project_files": [
        # They write the project's own target/ (dbt parse), or load the Dagster definitions from it in a new process
        # while another test could be writing it.
        "test_dagster_ui.py", "test_faults.py", "test_main_job.py", "test_dagster_targets.py",
        "test_orchestration.py::test_dagster_cli_validates_the_definitions", "test_main_command.py",
        "test_bench_smoke.py::test_harness_smoke",
        "test_landing_first_contact.py::test_a_file_with_a_byte_order_mark_and_crlf_line_ends_loads_every_event",
    ],
}

# Files of long tests outside the groups (a Spark JVM or a Postgres server each), started right after the groups.
LONG_TEST_FILES = ("test_spark.py", "test_postgres.py")


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
        (assert_equal_to_a_full_refresh), the main job and every Dagster run keep them. Nothing reads its
        manifest.json or run_results.json: not writing them saves most of a second."""
        excluded = ["test_type:unit", *([] if data_tests else ["test_type:data"])]
        args = ["build", "--quiet", "--no-write-json", "--target-path", str(self.target), "--exclude", *excluded,
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
def tmp_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory per worker, emptied for each test but for dbt's target paths (named *target*), instead of a new
    one per test. dbt parses the whole project anew when the profile or the landing directory differs from its last
    parse in that target path (some 10 s); with the same paths in every test, its partial parse carries over."""
    path = tmp_path_factory.getbasetemp() / "test"
    path.mkdir(exist_ok=True)
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            if "target" not in child.name:
                shutil.rmtree(child)
        else:
            child.unlink()
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


def serial_group(nodeid: str) -> str | None:
    """The SERIAL_GROUPS entry of a test, from its node id (tests/test_x.py::test_name[param], maybe @group)."""
    path, _, name = nodeid.partition("::")
    file_name = path.rsplit("/", 1)[-1]
    test_name = re.split(r"[\[@]", name, maxsplit=1)[0]
    file_and_name = f"{file_name}::{test_name}"
    return next((group for group, members in SERIAL_GROUPS.items()
                 if file_name in members or file_and_name in members), None)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks the SERIAL_GROUPS for pytest-xdist (whose own hook turns the marks into groups, hence tryfirst), and
    puts them first, then the LONG_TEST_FILES: a long test started last would leave the other workers idle at the
    end."""
    for item in items:
        group = serial_group(item.nodeid)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: (item.get_closest_marker("xdist_group") is None,
                                 item.nodeid.split("::", 1)[0].rsplit("/", 1)[-1] not in LONG_TEST_FILES))


def pytest_xdist_node_collection_finished(node, ids: list[str]) -> None:
    """pytest-xdist groups by a suffix it adds to the node ids. Under a pytest it does not support the suffix is lost
    and the groups would silently run side by side."""
    if node.config.getoption("dist") == "loadgroup":
        ungrouped = [nodeid for nodeid in ids if serial_group(nodeid) and "@" not in nodeid]
        if ungrouped:
            pytest.exit(f"pytest-xdist ignored the serial groups (pytest-dev/pytest-xdist#1386): {ungrouped[:3]}",
                        returncode=pytest.ExitCode.USAGE_ERROR)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Print a failure's traceback as soon as it happens: a CI run cut off by its time limit still shows it."""
    if report.failed and _terminal is not None:
        _terminal.write_line(f"\n--- {report.nodeid} failed in {report.when} ---\n{report.longreprtext[-6000:]}\n")
