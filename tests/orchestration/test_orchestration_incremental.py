"""Dagster runs end where a full refresh ends: overlapping backfills, and the schedule's daily runs over files that
land day by day (late events included)."""

from datetime import date, datetime, timedelta, timezone

import duckdb
from dagster import DagsterInstance, build_schedule_context

from helpers import land_sample_files
from orchestration import pipeline
from orchestration.sample_data import generate_sample
from orchestration.schedules import daily_schedule

COMPARED = ["marts.fct_session_events", "marts.fct_sessions", "marts.dim_users", "marts.dim_workspaces"]
SELECTED = " ".join(f"+{table.split('.')[1]}" for table in COMPARED)
START = date(2026, 10, 1)


def tables(path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {table: con.sql(f"select * from {table} order by all").fetchall() for table in COMPARED}


def full_refresh(warehouse, tmp_path) -> dict[str, list[tuple]]:
    return tables(warehouse.full_refresh(tmp_path / "full.duckdb", select=SELECTED).path)


def test_overlapping_backfills_end_equal_to_a_full_refresh(warehouse, tmp_path):
    generate_sample(warehouse.landing, users=15, days=8, seed=21, start_date=START)
    with DagsterInstance.ephemeral() as instance:
        pipeline.materialize_job("dwell_reference_job", instance, full_refresh=False)
        pipeline.materialize_daily(instance, "2026-10-04", "2026-10-07")
        pipeline.materialize_daily(instance, "2026-10-02", "2026-10-05")
        pipeline.materialize_job("dwell_lifetime_job", instance, full_refresh=False)
    incremental = tables(warehouse.path)
    assert incremental == full_refresh(warehouse, tmp_path)


def test_the_schedules_daily_runs_over_files_landing_each_day_end_equal_to_a_full_refresh(warehouse, tmp_path):
    produced = tmp_path / "produced"
    generate_sample(produced, users=15, days=6, seed=22, start_date=START)
    land_sample_files(produced, warehouse.landing, events=False, dimensions=True)
    with DagsterInstance.ephemeral() as instance:
        pipeline.materialize_job("dwell_reference_job", instance, full_refresh=False)
        for offset in range(6):
            day = START + timedelta(days=offset)
            land_sample_files(produced, warehouse.landing, day.isoformat(), (day + timedelta(days=1)).isoformat())
            tick = datetime.combine(day + timedelta(days=1), datetime.min.time(), timezone.utc) + timedelta(minutes=30)
            [request] = daily_schedule.evaluate_tick(build_schedule_context(scheduled_execution_time=tick)).run_requests
            assert request.partition_key == day.isoformat()
            pipeline.materialize_daily(instance, request.partition_key, request.partition_key)
        pipeline.materialize_job("dwell_lifetime_job", instance, full_refresh=False)
    incremental = tables(warehouse.path)
    late = warehouse.records("select sum(late_events) as n, count(*) as loads from marts.rpt_load_audit")[0]
    assert late["loads"] == 6 and late["n"] > 0
    assert incremental == full_refresh(warehouse, tmp_path)
