"""The suite's fixtures and its scheduling. Tests live in folders by layer (unit/, dbt/, incremental/, orchestration/,
engines/, ui/, bench/, web/); what they share is in tests/helpers.py."""

import fcntl
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import SAMPLE, SAMPLE_VARS, PostgresWarehouse, Warehouse, Webhook
from orchestration.sample_data import generate_sample
from orchestration.settings import PROJECT_DIR

# pytest's terminal reporter, set when pytest configures this conftest.
_terminal = None

# scripts/test.sh runs the suite on every core (pytest-xdist, `--dist loadgroup`). Each group's tests run one after
# another on one worker. Test files, or single tests as file::name.
SERIAL_GROUPS: dict[str, list[str]] = {
    # The tests that read the shared sample warehouse (sample_warehouse) build and query it under SAMPLE_VARS: on one
    # worker, dbt parses the project under those vars once.
    "sample_vars": [
        "test_activity.py::test_category_sessions_and_daily_activity_match_pandas_and_the_report_matches_the_daily_table",
        "test_engagement_marts.py::test_marts_match_pandas_on_generated_sample",
        "test_workspace_sessions.py::test_marts_match_pandas_on_generated_sample",
        "test_period_reports.py::test_period_reports_dims_and_memberships_match_pandas",
        "test_session_metrics.py::test_session_metrics_match_pandas_on_generated_data",
    ],
    # dwell serve's tests (tests/web) share one built sample per worker (tests/web/conftest.py): on one worker, it is
    # built once.
    "web": ["test_api.py", "test_browser.py", "test_hot_swap_and_tokens.py", "test_validation_and_scoping.py"],
}

# Files of long tests outside the groups (a Spark JVM, a Postgres server, Dagster in processes of their own, a
# browser), started first and in this order, longest first: a long test started last would leave the other worker
# idle at the end.
LONG_TEST_FILES = ("test_spark_cluster.py", "test_spark.py", "test_dagster_ui.py", "test_faults.py",
                   "test_bench_smoke.py", "test_dagster_targets.py", "test_main_command.py", "test_postgres.py")

@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """dbt's target path of this process (a pytest-xdist worker): DBT_TARGET_PATH, which dbt, dagster-dbt and the
    Dagster definitions (orchestration/project.py) read, so that no worker reads or replaces another's manifest or
    partial parse. It starts from the project's manifest, which `dbt parse` wrote before the run (scripts/test.sh):
    the test modules load the Dagster definitions as they are collected."""
    global _terminal
    _terminal = config.pluginmanager.get_plugin("terminalreporter")
    target = config._tmp_path_factory.getbasetemp() / "dbt-target"
    target.mkdir(parents=True, exist_ok=True)
    for name in ("manifest.json", "partial_parse.msgpack"):
        if (PROJECT_DIR / "target" / name).exists() and not (target / name).exists():
            shutil.copyfile(PROJECT_DIR / "target" / name, target / name)
    os.environ["DBT_TARGET_PATH"] = str(target)


@pytest.fixture
def tmp_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory per worker, emptied for each test but for dbt's target paths (named *target*), instead of a new
    one per test. dbt parses the whole project anew (some 10 s) when the profile or the landing directory differs from
    its last parse in that target path; with the same paths in every test, its partial parse carries over."""
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
    return Warehouse(landing=landing, path=path, targets=tmp_path)


@pytest.fixture(scope="session")
def built_sample(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Warehouse:
    """The shared sample (SAMPLE) built under SAMPLE_VARS, once per run: the first worker to ask builds it, the
    other waits for it."""
    base = tmp_path_factory.getbasetemp()
    root = (base if worker_id == "master" else base.parent) / "shared-sample"
    root.mkdir(exist_ok=True)
    sample = Warehouse(landing=root / "landing", path=root / "warehouse.duckdb", targets=root)
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "built").exists():
            generate_sample(sample.landing, **SAMPLE)
            sample.build(dbt_vars=SAMPLE_VARS)
            (root / "built").touch()
    return sample


@pytest.fixture
def sample_warehouse(built_sample: Warehouse, warehouse: Warehouse) -> Warehouse:
    """The shared sample, landed and built, copied into this test's warehouse."""
    return warehouse.copy_of(built_sample)


@pytest.fixture
def assert_equal_to_a_full_refresh(warehouse: Warehouse, tmp_path: Path):
    """Checks that tables, as the incremental loads left them, equal `dbt build --full-refresh` of the same files,
    row for row, in a warehouse of its own; returns the refreshed rows. `select`: the models the full refresh builds
    (every one by default); `sql`: how a table's rows are read."""
    def check(tables, dbt_vars=None, *, select=None, sql=lambda table: f"select * from {table} order by all"):
        incremental = {table: warehouse.records(sql(table)) for table in tables}
        full = warehouse.full_refresh(tmp_path / "full.duckdb", select=select, dbt_vars=dbt_vars)
        refreshed = {table: full.records(sql(table)) for table in incremental}
        for table, rows in incremental.items():
            assert rows == refreshed[table], table
        return refreshed
    return check


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    server = Webhook()
    yield server
    server.close()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[dict[str, str]]:
    """Connection settings of a running server: the environment's (scripts/test.sh starts one), else a private one
    for this session, started with scripts/postgres.sh."""
    if os.environ.get("DWELL_PG_HOST"):
        yield {name: os.environ[name] for name in os.environ if name.startswith("DWELL_PG_")}
        return
    # Not under pytest's own temporary directory: as root, the server runs as user postgres, which must reach it.
    root = Path(tempfile.mkdtemp(prefix="dwell-postgres-"))
    root.chmod(0o755)
    data_dir, port = root / "data", str(_free_port())
    script = PROJECT_DIR / "scripts" / "postgres.sh"
    subprocess.run(["bash", str(script), "start", str(data_dir), port], check=True)
    try:
        yield {"DWELL_PG_HOST": "127.0.0.1", "DWELL_PG_PORT": port, "DWELL_PG_USER": "postgres"}
    finally:
        subprocess.run(["bash", str(script), "stop", str(data_dir)], check=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_warehouse(postgres_server: dict[str, str], warehouse: Warehouse, tmp_path: Path,
                       monkeypatch: pytest.MonkeyPatch, worker_id: str) -> Iterator[PostgresWarehouse]:
    """The test's landing directory built on the postgres target, in a database of its own."""
    import psycopg2  # only the postgres extra installs it

    for name, value in postgres_server.items():
        monkeypatch.setenv(name, value)
    # The same name in every test of a worker: the database is in dbt's profile, and dbt parses the whole project
    # anew when its profile changes.
    database = f"dwell_test_{worker_id}_{uuid.uuid5(uuid.NAMESPACE_URL, str(PROJECT_DIR)).hex[:8]}"
    admin = psycopg2.connect(host=postgres_server["DWELL_PG_HOST"], port=int(postgres_server["DWELL_PG_PORT"]),
                             user=postgres_server.get("DWELL_PG_USER", "postgres"),
                             password=postgres_server.get("DWELL_PG_PASSWORD", ""), dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"drop database if exists {database} with (force)")
        cursor.execute(f"create database {database}")
    monkeypatch.setenv("DWELL_PG_DATABASE", database)
    try:
        yield PostgresWarehouse(landing=warehouse.landing, targets=tmp_path / "postgres-targets")
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"drop database {database} with (force)")
        admin.close()


def serial_group(nodeid: str) -> str | None:
    """The SERIAL_GROUPS entry of a test, from its node id (tests/layer/test_x.py::test_name[param], maybe @group)."""
    path, _, name = nodeid.partition("::")
    file_name = path.rsplit("/", 1)[-1]
    test_name = re.split(r"[\[@]", name, maxsplit=1)[0]
    file_and_name = f"{file_name}::{test_name}"
    return next((group for group, members in SERIAL_GROUPS.items()
                 if file_name in members or file_and_name in members), None)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks the SERIAL_GROUPS for pytest-xdist (whose own hook turns the marks into groups, hence tryfirst), and
    puts the LONG_TEST_FILES first, in their order, then the groups."""
    for item in items:
        group = serial_group(item.nodeid)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))

    def long_file_rank(item: pytest.Item) -> int:
        file_name = item.nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
        return LONG_TEST_FILES.index(file_name) if file_name in LONG_TEST_FILES else len(LONG_TEST_FILES)

    items.sort(key=lambda item: (long_file_rank(item), item.get_closest_marker("xdist_group") is None))


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
