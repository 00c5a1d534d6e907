"""The postgres target: the whole warehouse, the dbt unit tests, the sessionization rules, incremental loads, bad
input and time zones on Postgres, checked against the reference and against the duckdb target on the same landed
files, row for row and id for id.

A server comes from the DWELL_PG_* environment (scripts/test.sh starts one) or, without it, is started here with
scripts/postgres.sh. Each test gets a database of its own."""

import datetime
import os
import random
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from conftest import Warehouse
from orchestration.dbt_invoke import DbtCommandError, run_dbt
from orchestration.engines.landing_copy import copy_landing_to_postgres
from orchestration.engines.postgres import postgres_connection
from orchestration.sample_data import generate_sample
from orchestration.settings import PROJECT_DIR
from event_streams import land_events, random_events, random_rules, rules_vars
from reference_sessions import sessionize
from test_incremental_property import COMPARED, arrival_batches
from test_landing_contract import land_bad_input_catalogue
from test_landing_first_contact import land_first_contact_files

SESSION_MODELS = "+fct_sessions +fct_session_events"
# Columns that identify a run or a load (ids, times), not data: they differ between any two warehouses.
RUN_COLUMNS = {"load_id", "loaded_at", "run_id", "changed_at"}
# The session marts, and the marts and intermediate tables an incremental run rebuilds per changed session.
INCREMENTAL_MODELS = ("+fct_sessions +fct_session_events +dim_users +dim_workspaces +fct_micro_sessions "
                      "+fct_page_views +fct_session_metrics +int_activity_quarter_hours +int_category_sessions "
                      "+int_session_idle_gaps")
PERIOD_MODELS = "+rpt_period_summary +rpt_user_period_activity"
STAGING_TABLES = ["staging.stg_events", "staging.stg_events_quarantined", "staging.stg_events_duplicates"]
SERVER_SCRIPT = PROJECT_DIR / "scripts" / "postgres.sh"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[dict[str, str]]:
    """Connection settings of a running server: the environment's, else a private one for this session."""
    if os.environ.get("DWELL_PG_HOST"):
        yield {name: os.environ[name] for name in os.environ if name.startswith("DWELL_PG_")}
        return
    # Not under pytest's own temporary directory: as root, the server runs as user postgres, which must reach it.
    root = Path(tempfile.mkdtemp(prefix="dwell-postgres-"))
    root.chmod(0o755)
    data_dir, port = root / "data", str(_free_port())
    subprocess.run(["bash", str(SERVER_SCRIPT), "start", str(data_dir), port], check=True)
    try:
        yield {"DWELL_PG_HOST": "127.0.0.1", "DWELL_PG_PORT": port, "DWELL_PG_USER": "postgres"}
    finally:
        subprocess.run(["bash", str(SERVER_SCRIPT), "stop", str(data_dir)], check=True)
        shutil.rmtree(root, ignore_errors=True)


class PostgresWarehouse:
    """The landing directory of a DuckDB Warehouse, built on the postgres target in a database of its own."""

    def __init__(self, landing: Path, target: Path):
        self.landing = landing
        self.target = target

    def build(self, *, select: str | None = SESSION_MODELS, dbt_vars: Mapping[str, Any] | None = None,
              full_refresh: bool = False, unit_tests: bool = True, data_tests: bool = True) -> None:
        """Copy the landing directory in, then dbt build the selection (None: everything) with its tests."""
        copy_landing_to_postgres()
        excluded = [*([] if unit_tests else ["test_type:unit"]), *([] if data_tests else ["test_type:data"])]
        run_dbt(["build", "--quiet", "--target", "postgres", "--target-path", str(self.target),
                 *(["--select", select, "--indirect-selection", "cautious"] if select else []),
                 *(["--exclude", *excluded] if excluded else []),
                 *(["--full-refresh"] if full_refresh else [])], dbt_vars)

    def records(self, sql: str) -> list[dict[str, Any]]:
        connection = postgres_connection()
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                names = [column.name for column in cursor.description]
                return [dict(zip(names, row)) for row in cursor.fetchall()]
        finally:
            connection.close()


@pytest.fixture
def postgres_warehouse(postgres_server: dict[str, str], warehouse: Warehouse, tmp_path: Path,
                       monkeypatch: pytest.MonkeyPatch) -> Iterator[PostgresWarehouse]:
    for name, value in postgres_server.items():
        monkeypatch.setenv(name, value)
    database = f"dwell_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(host=postgres_server["DWELL_PG_HOST"], port=int(postgres_server["DWELL_PG_PORT"]),
                             user=postgres_server.get("DWELL_PG_USER", "postgres"),
                             password=postgres_server.get("DWELL_PG_PASSWORD", ""), dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"create database {database}")
    monkeypatch.setenv("DWELL_PG_DATABASE", database)
    try:
        yield PostgresWarehouse(landing=warehouse.landing, target=tmp_path / "postgres-target")
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"drop database {database} with (force)")
        admin.close()


def canonical_rows(rows: list[dict[str, Any]]) -> list[tuple]:
    """Rows as sorted tuples of (column, value), by column name (Spark puts a table's partition column last), without
    the columns that name a run, so that two engines' results compare exactly, types included."""
    return sorted((tuple(sorted((name, value) for name, value in row.items() if name not in RUN_COLUMNS))
                   for row in rows), key=repr)


def assert_tables_equal(postgres: PostgresWarehouse, warehouse: Warehouse, tables: list[str]) -> None:
    for table in tables:
        assert canonical_rows(postgres.records(f"select * from {table}")) \
            == canonical_rows(warehouse.records(f"select * from {table}")), table


def sample_without_its_last_day(warehouse: Warehouse, tmp_path: Path) -> list[tuple[Path, Path]]:
    """The sample (12 users, 4 days) landed without the files received on its last day; returns their moves into
    the landing directory, for the second load."""
    generate_sample(warehouse.landing, users=12, days=4, seed=7)
    moves = []
    for folder in sorted(warehouse.landing.rglob("received_date=2026-10-04")):
        held_back = tmp_path / "held-back" / folder.relative_to(warehouse.landing)
        held_back.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(folder, held_back)
        moves.append((held_back, folder))
    return moves


def land(moves: list[tuple[Path, Path]]) -> None:
    for source, destination in moves:
        shutil.move(source, destination)


def test_the_whole_warehouse_on_postgres_equals_duckdb_load_by_load(
        postgres_warehouse: PostgresWarehouse, warehouse: Warehouse, tmp_path: Path):
    """The sample, landed in two loads (all but the last day, then the last day), built on both engines after each
    load: every mart equal. The first Postgres build also runs the dbt unit tests, and every build the data tests."""
    last_day = sample_without_its_last_day(warehouse, tmp_path)
    postgres_warehouse.build(select=None)
    warehouse.build()
    land(last_day)
    postgres_warehouse.build(select=None, unit_tests=False)
    warehouse.build()

    marts = [f"marts.{row['table_name']}" for row in warehouse.records(
        "select table_name from information_schema.tables where table_schema = 'marts' order by table_name")]
    assert len(marts) > 20
    assert_tables_equal(postgres_warehouse, warehouse, marts)
    audit = postgres_warehouse.records("select rows_read from marts.rpt_load_audit order by loaded_at")
    assert len(audit) == 2 and all(row["rows_read"] > 0 for row in audit)


def test_period_reports_in_a_zone_with_a_half_hour_offset_on_postgres_equal_duckdb(
        postgres_warehouse: PostgresWarehouse, warehouse: Warehouse, capfd: pytest.CaptureFixture):
    """Days, weeks and months in Asia/Kolkata (UTC+05:30) cut where DuckDB cuts them; an unknown zone is refused."""
    generate_sample(warehouse.landing, users=12, days=4, seed=11)
    zone = {"reporting_time_zone": "Asia/Kolkata"}
    postgres_warehouse.build(select=PERIOD_MODELS, dbt_vars=zone, unit_tests=False)
    warehouse.build(select=PERIOD_MODELS, dbt_vars=zone)
    assert_tables_equal(postgres_warehouse, warehouse, ["intermediate.int_user_period_activity",
                                                        "marts.rpt_period_summary", "marts.rpt_user_period_activity"])
    with pytest.raises(DbtCommandError):
        postgres_warehouse.build(select=PERIOD_MODELS, dbt_vars={"reporting_time_zone": "Mars/Olympus_Mons"},
                                 unit_tests=False, data_tests=False)
    assert "reporting_time_zone is not a time zone the database knows, got: Mars/Olympus_Mons" in capfd.readouterr().out


def test_bad_input_and_a_re_landed_file_on_postgres_equal_duckdb(postgres_warehouse: PostgresWarehouse,
                                                                  warehouse: Warehouse):
    """The bad input catalogue: unreadable files, non-text values, lines that are not JSON (with their text and line
    number), a byte-order mark, a JSON array, files not taken and duplicates are staged, quarantined, counted and
    listed as on DuckDB. A second copy adds nothing; a file landed again with other content replaces its earlier
    version in the landing schema, and both engines load it the same way."""
    land_bad_input_catalogue(warehouse)
    land_first_contact_files(warehouse)
    postgres_warehouse.build(select=None, data_tests=False, unit_tests=False)
    assert copy_landing_to_postgres()["events"] == 0
    warehouse.build()
    assert_tables_equal(postgres_warehouse, warehouse,
                        STAGING_TABLES + ["marts.fct_sessions", "marts.rpt_load_audit", "marts.rpt_load_files"])
    assert postgres_warehouse.records("select count(*) as n from staging.stg_events_quarantined "
                                      "where raw_line is not null and source_line_number is not null") == [{"n": 4}]

    warehouse.write_jsonl("events/mixed.jsonl", [
        {"event_id": "j1", "user_id": "u2", "event_name": "logout", "occurred_at": "2026-10-01T11:00:00Z"},
        {"event_id": "r1", "user_id": "u2", "event_name": "login", "occurred_at": "2026-10-01T11:05:00Z"},
    ])
    postgres_warehouse.build(select=None, data_tests=False, unit_tests=False)
    warehouse.build()
    assert_tables_equal(postgres_warehouse, warehouse, STAGING_TABLES + ["marts.fct_sessions", "marts.rpt_load_audit"])
    landed = postgres_warehouse.records(
        "select count(*) as n from landing.events where source_file like '%mixed.jsonl'")
    assert landed == [{"n": 2}]


@pytest.mark.parametrize("seed", [11, 44])
def test_sessions_on_postgres_follow_the_rules(postgres_warehouse: PostgresWarehouse, warehouse: Warehouse,
                                              seed: int):
    rng = random.Random(seed)
    rules = random_rules(rng)
    events = random_events(rng, rules, users=12)
    land_events(warehouse, events)
    dbt_vars = rules_vars(rules)
    # The unit tests hold for the default rules only.
    postgres_warehouse.build(dbt_vars=dbt_vars, full_refresh=True, unit_tests=False, data_tests=False)

    expected = sessionize(events, rules, newest_us=max(e.occurred_us for e in events))
    epoch = datetime.datetime(1970, 1, 1)
    sessions = {
        row["session_id"]: row for row in postgres_warehouse.records(
            "select session_id, start_reason, end_reason, event_count, session_start_at, session_end_at "
            "from marts.fct_sessions")
    }
    membership = postgres_warehouse.records("select event_id, session_id from marts.fct_session_events")
    assert sorted(sessions) == sorted(s.session_id for s in expected), rules
    assert {row["event_id"]: row["session_id"] for row in membership} == {
        event_id: s.session_id for s in expected for event_id in s.event_ids
    }
    for session in expected:
        row = sessions[session.session_id]
        assert (row["start_reason"], row["end_reason"]) == (session.start_reason, session.end_reason), rules
        assert row["event_count"] == len(session.event_ids)
        microseconds = datetime.timedelta(microseconds=1)
        assert ((row["session_start_at"] - epoch) // microseconds, (row["session_end_at"] - epoch) // microseconds) \
            == (session.start_us, session.end_us)
    warehouse.build(select=SESSION_MODELS, dbt_vars=dbt_vars)
    assert_tables_equal(postgres_warehouse, warehouse, ["marts.fct_sessions", "marts.fct_session_events"])


def test_incremental_loads_on_postgres_equal_a_full_refresh(postgres_warehouse: PostgresWarehouse,
                                                            warehouse: Warehouse):
    """Random arrival batches (shuffled, late, duplicated, re-landed, earlier copies that replace the staged one)
    loaded one at a time on Postgres, then compared with a full refresh of the same files on DuckDB."""
    seed = 121252490
    rng = random.Random(seed)
    rules = random_rules(rng)
    events = random_events(rng, rules, users=12)
    batches = arrival_batches(rng, events, batches=rng.randint(3, 5))
    dbt_vars = rules_vars(rules)
    for index, rows in enumerate(batches):
        warehouse.write_jsonl(f"events/batch_{index:02d}.jsonl", rows)
        if index == 1:  # a file landed twice under another name: only duplicates
            shutil.copy(warehouse.landing / "events/batch_00.jsonl", warehouse.landing / "events/relanded.jsonl")
        postgres_warehouse.build(select=INCREMENTAL_MODELS, dbt_vars=dbt_vars, unit_tests=False, data_tests=False)
    warehouse.build(select=INCREMENTAL_MODELS, dbt_vars=dbt_vars, full_refresh=True)
    assert_tables_equal(postgres_warehouse, warehouse, COMPARED)

