"""Dagster runs end where a full refresh ends: overlapping backfills, and the schedule's daily runs over files that
land day by day (late events included)."""

import shutil
from datetime import date, datetime, timedelta, timezone

import duckdb
from dagster import DagsterInstance, build_schedule_context

from orchestration import pipeline
from orchestration.dbt_invoke import run_dbt
from orchestration.sample_data import generate_sample
from orchestration.schedules import daily_schedule

COMPARED = ["marts.fct_session_events", "marts.fct_sessions", "marts.dim_users", "marts.dim_workspaces"]
START = date(2026, 10, 1)


def tables(path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {table: con.sql(f"select * from {table} order by all").fetchall() for table in COMPARED}


def full_refresh(tmp_path, monkeypatch) -> dict[str, list[tuple]]:
    path = tmp_path / "full.duckdb"
    monkeypatch.setenv("DWELL_DUCKDB_PATH", str(path))
    run_dbt(["build", "--quiet", "--full-refresh", "--exclude", "test_type:unit",
             "--target-path", str(tmp_path / "full-target")])
    return tables(path)


def test_overlapping_backfills_end_equal_to_a_full_refresh(warehouse, tmp_path, monkeypatch):
    generate_sample(warehouse.landing, users=15, days=8, seed=21, start_date=START)
    with DagsterInstance.ephemeral() as instance:
        pipeline.materialize_job("dwell_reference_job", instance, full_refresh=False)
        pipeline.materialize_daily(instance, "2026-10-04", "2026-10-07")
        pipeline.materialize_daily(instance, "2026-10-02", "2026-10-05")
        pipeline.materialize_job("dwell_lifetime_job", instance, full_refresh=False)
    incremental = tables(warehouse.path)
    assert incremental == full_refresh(tmp_path, monkeypatch)


def test_the_schedules_daily_runs_over_files_landing_each_day_end_equal_to_a_full_refresh(warehouse, tmp_path, monkeypatch):
    produced = tmp_path / "produced"
    generate_sample(produced, users=15, days=6, seed=22, start_date=START)
    for dimension in produced.glob("*.*"):
        shutil.copy(dimension, warehouse.landing / dimension.name)
    with DagsterInstance.ephemeral() as instance:
        pipeline.materialize_job("dwell_reference_job", instance, full_refresh=False)
        for offset in range(6):
            day = START + timedelta(days=offset)
            for folder in produced.glob(f"events/**/received_date={day.isoformat()}"):
                shutil.copytree(folder, warehouse.landing / folder.relative_to(produced))
            tick = datetime.combine(day + timedelta(days=1), datetime.min.time(), timezone.utc) + timedelta(minutes=30)
            [request] = daily_schedule.evaluate_tick(build_schedule_context(scheduled_execution_time=tick)).run_requests
            assert request.partition_key == day.isoformat()
            pipeline.materialize_daily(instance, request.partition_key, request.partition_key)
        pipeline.materialize_job("dwell_lifetime_job", instance, full_refresh=False)
    incremental = tables(warehouse.path)
    late = warehouse.records("select sum(late_events) as n, count(*) as loads from marts.rpt_load_audit")[0]
    assert late["loads"] == 6 and late["n"] > 0
    assert incremental == full_refresh(tmp_path, monkeypatch)
