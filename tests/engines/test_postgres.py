"""The postgres target: the whole warehouse, the dbt unit tests, the sessionization rules, incremental loads, bad
input and time zones on Postgres, checked against the reference and against the duckdb target on the same landed
files, row for row and id for id.

A server comes from the DWELL_PG_* environment (scripts/test.sh starts one) or, without it, is started with
scripts/postgres.sh (tests/conftest.py, postgres_server). Each test gets a database of its own."""

import datetime
import random
import shutil
from pathlib import Path

import pytest

from helpers import (
    INCREMENTAL_MODELS,
    INCREMENTAL_TABLES,
    PERIOD_MODELS,
    SESSION_MODELS,
    STAGING_TABLES,
    PostgresWarehouse,
    Warehouse,
    arrival_batches,
    land_moves,
    canonical_rows,
    land_bad_input_catalogue,
    land_events,
    land_first_contact_files,
    random_events,
    sample_without_its_last_day,
    random_rules,
    rules_vars,
)
from orchestration.dbt_invoke import DbtCommandError
from orchestration.engines.landing_copy import copy_landing_to_postgres
from orchestration.sample_data import generate_sample
from reference_sessions import sessionize


def assert_tables_equal(postgres: PostgresWarehouse, warehouse: Warehouse, tables: list[str]) -> None:
    for table in tables:
        assert canonical_rows(postgres.records(f"select * from {table}")) \
            == canonical_rows(warehouse.records(f"select * from {table}")), table


def test_the_whole_warehouse_on_postgres_equals_duckdb_load_by_load(
        postgres_warehouse: PostgresWarehouse, warehouse: Warehouse, tmp_path: Path):
    """The sample, landed in two loads (all but the last day, then the last day), built on both engines after each
    load: every mart equal. The first Postgres build also runs the dbt unit tests, and every build the data tests."""
    last_day = sample_without_its_last_day(warehouse, tmp_path)
    postgres_warehouse.build(select=None)
    warehouse.build()
    land_moves(last_day)
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
    assert_tables_equal(postgres_warehouse, warehouse, INCREMENTAL_TABLES)

