"""Dagster: the asset graph, partitioned runs against a temporary warehouse, sensors, schedule, instance config."""

import os
import subprocess
import sys
from datetime import date, datetime, timezone

import duckdb
import pandas as pd
import yaml
from dagster import (
    AssetKey,
    DagsterInstance,
    RunsFilter,
    SensorResult,
    SkipReason,
    build_run_status_sensor_context,
    build_schedule_context,
    build_sensor_context,
)
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from orchestration import pipeline
from orchestration.assets import dwell_daily_models, dwell_lifetime_models, dwell_reference_models
from orchestration.definitions import defs
from orchestration.partitions import daily_partitions
from orchestration.sample_data import generate_sample
from orchestration.schedules import daily_schedule
from orchestration.sensors import dimension_files_sensor, landing_sensor, lifetime_after_upstream_sensor
from orchestration.settings import PROJECT_DIR

SESSION_TABLES = ["marts.fct_sessions", "marts.fct_session_events", "marts.dim_users", "marts.dim_workspaces",
                  "staging.stg_events", "staging.stg_events_quarantined"]


def snapshot(path) -> dict[str, pd.DataFrame]:
    """Every compared table, less the load ids, which differ between two warehouses loading the same files."""
    with duckdb.connect(str(path), read_only=True) as con:
        return {table: con.sql(f"select columns(c -> c not in ('load_id', 'decided_in_load_id')) from {table} order by all").df()
                for table in SESSION_TABLES}


def assert_same_tables(actual: dict, expected: dict) -> None:
    for table in SESSION_TABLES:
        pd.testing.assert_frame_equal(actual[table], expected[table], check_dtype=False, obj=table)


def test_asset_graph_has_the_expected_keys_groups_partitions_and_checks():
    graph = defs.resolve_asset_graph()
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups == {
        "landing/events": "landing", "landing/dimensions": "landing",
        "staging/event_catalog": "seeds",
        "staging/base_landing_events": "staging", "staging/base_landing_files_not_taken": "staging",
        "staging/stg_landed_events": "staging", "staging/stg_event_retractions": "staging",
        "staging/stg_this_run": "staging",
        "intermediate/int_event_ids_changed": "intermediate",
        "staging/stg_events": "staging", "staging/stg_events_quarantined": "staging",
        "staging/stg_events_duplicates": "staging", "staging/stg_organizations": "staging",
        "staging/stg_users": "staging", "staging/stg_workspaces": "staging", "staging/stg_workspace_members": "staging",
        "intermediate/int_events_categorized": "intermediate", "intermediate/int_session_rebuild_scope": "intermediate",
        "intermediate/int_session_user_scope": "intermediate", "intermediate/int_session_events_rebuilt": "intermediate",
        "intermediate/int_sessions_rebuilt": "intermediate", "intermediate/int_sessions_changed": "intermediate",
        "intermediate/int_category_sessions": "intermediate", "intermediate/int_workspace_sessions": "intermediate",
        "intermediate/int_user_event_days": "intermediate", "marts/fct_user_activity_daily": "marts",
        "marts/fct_session_events": "marts", "marts/fct_sessions": "marts", "marts/session_id_changes": "marts",
        "marts/fct_session_metrics": "marts", "staging/engagement_tiers": "seeds",
        "marts/fct_session_alerts": "marts", "staging/session_alert_rules": "seeds",
        "alerts/session_alert_webhook": "alerts", "serving/marts": "serving",
        "marts/rpt_load_audit": "marts", "marts/rpt_load_files": "marts", "marts/warehouse_sampling": "marts",
        "marts/dim_users": "marts", "marts/dim_workspaces": "marts",
        "intermediate/int_session_idle_gaps": "intermediate",
        "marts/rpt_daily_sessions": "marts", "marts/rpt_session_length_distribution": "marts",
        "marts/fct_session_breaks": "marts", "marts/rpt_break_patterns": "marts", "marts/fct_page_views": "marts",
        "marts/rpt_inactive_users": "marts", "marts/sessions_concluded": "marts",
        "intermediate/int_activity_quarter_hours": "intermediate",
        "intermediate/int_user_period_activity": "intermediate",
        "marts/fct_workspace_memberships": "marts", "marts/rpt_user_period_activity": "marts",
        "marts/rpt_period_summary": "marts",
        "marts/fct_micro_sessions": "marts", "marts/fct_workspace_sessions": "marts",
        "marts/sem_sessions": "semantic", "marts/sem_session_events": "semantic", "marts/sem_users": "semantic",
        "marts/sem_workspace_sessions": "semantic", "marts/time_spine_daily": "semantic",
    }
    partitioned = {key.to_user_string() for key in graph.get_all_asset_keys() if graph.get(key).partitions_def}
    assert partitioned == {key.to_user_string() for key in dwell_daily_models.keys}
    assert graph.get(AssetKey(["marts", "fct_sessions"])).partitions_def == daily_partitions
    for assets_def in (dwell_daily_models, dwell_reference_models, dwell_lifetime_models):
        assert assets_def.op.pool == "dwell_warehouse"
    assert dwell_daily_models.backfill_policy.max_partitions_per_run is None  # single run

    # Upstream lineage from landed files, and descriptions and column schemas from the dbt YAML.
    base = graph.get(AssetKey(["staging", "base_landing_events"]))
    assert AssetKey(["landing", "events"]) in base.parent_keys
    fct_sessions = dwell_daily_models.specs_by_key[AssetKey(["marts", "fct_sessions"])]
    assert "One row per session" in fct_sessions.description
    columns = {column.name for column in fct_sessions.metadata["dagster/column_schema"].columns}
    assert {"session_id", "start_reason", "end_reason", "duration_seconds"} <= columns

    checks = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
    assert ("marts/fct_sessions", "unique_fct_sessions_session_id") in checks
    assert ("staging/stg_events", "assert_landed_rows_reconcile") in checks
    assert ("marts/dim_users", "assert_session_users_in_dim_users") in checks
    assert len(checks) >= 55

    assert {schedule.name for schedule in defs.schedules} == {"dwell_daily_schedule", "dwell_data_test_sweep_schedule"}
    assert {sensor.name for sensor in defs.sensors} == {
        "dwell_landing_sensor", "dwell_dimension_files_sensor", "dwell_lifetime_after_upstream_sensor"}


def test_dagster_cli_validates_the_definitions():
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "dagster"), "definitions", "validate"],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_instance_config_serializes_warehouse_writers():
    config = yaml.safe_load((PROJECT_DIR / "dagster_home" / "dagster.yaml").read_text())
    assert config["concurrency"]["pools"] == {"granularity": "run", "default_limit": 1}
    instance = DagsterInstance.from_config(str(PROJECT_DIR / "dagster_home"))
    try:
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
    finally:
        instance.dispose()


def test_daily_schedule_requests_yesterday():
    context = build_schedule_context(scheduled_execution_time=datetime(2026, 10, 5, 0, 30, tzinfo=timezone.utc))
    [request] = daily_schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-10-04"


def test_landing_sensor_requests_the_touched_partitions_once(warehouse):
    warehouse.write_jsonl("events/a.jsonl", [
        {"event_id": "1", "occurred_at": "2026-10-02T23:30:00-01:00", "user_id": "u", "event_name": "x"},  # Oct 3 UTC
        {"event_id": "2", "occurred_at": "2026-10-04T10:00:00Z", "user_id": "u", "event_name": "x"},
        {"event_id": "3", "occurred_at": "2026-10-09T10:00:00Z", "user_id": "u", "event_name": "x"},
        {"event_id": "4", "occurred_at": "not a time", "user_id": "u", "event_name": "x"},
        {"event_id": "5", "occurred_at": "2019-01-01T00:00:00Z", "user_id": "u", "event_name": "x"},  # before partitions
    ])
    with DagsterInstance.ephemeral() as instance:
        result = landing_sensor(build_sensor_context(instance=instance))
        assert isinstance(result, SensorResult)
        ranges = sorted((r.tags[ASSET_PARTITION_RANGE_START_TAG], r.tags[ASSET_PARTITION_RANGE_END_TAG])
                        for r in result.run_requests)
        assert ranges == [("2026-10-03", "2026-10-04"), ("2026-10-09", "2026-10-09")]

        again = landing_sensor(build_sensor_context(instance=instance, cursor=result.cursor))
        assert isinstance(again, SkipReason)

        warehouse.write_jsonl("events/b/late.jsonl.gz", [
            {"event_id": "6", "occurred_at": "2026-09-20T10:00:00Z", "user_id": "u", "event_name": "x"}])
        later = landing_sensor(build_sensor_context(instance=instance, cursor=result.cursor))
        [request] = later.run_requests
        assert (request.tags[ASSET_PARTITION_RANGE_START_TAG], request.tags[ASSET_PARTITION_RANGE_END_TAG]) == (
            "2026-09-20", "2026-09-20")


def test_dimension_files_sensor_requests_reference_runs(warehouse):
    (warehouse.landing / "users.csv").write_text("user_id,email\nu1,a@b.c\n")
    with DagsterInstance.ephemeral() as instance:
        result = dimension_files_sensor(build_sensor_context(instance=instance))
        assert len(result.run_requests) == 1
        assert isinstance(dimension_files_sensor(build_sensor_context(instance=instance, cursor=result.cursor)),
                          SkipReason)


def test_partition_and_range_runs_equal_a_full_build_and_are_idempotent(warehouse, tmp_path):
    generate_sample(warehouse.landing, users=15, days=6, seed=5, start_date=date(2026, 10, 1))
    with DagsterInstance.ephemeral() as instance:
        pipeline.materialize_all(instance)
        built = snapshot(warehouse.path)
        assert len(built["marts.fct_sessions"]) > 0

        # Rerunning one partition changes nothing.
        pipeline.materialize_daily(instance, "2026-10-03", "2026-10-03")
        assert_same_tables(snapshot(warehouse.path), built)

        # A 3-day range is one run with one step (one dbt invocation), and it rebuilds exactly those days.
        with duckdb.connect(str(warehouse.path)) as con:
            con.execute("delete from marts.fct_session_events where occurred_at >= '2026-10-02' and occurred_at < '2026-10-05'")
            con.execute("delete from marts.fct_sessions where session_start_at >= '2026-10-02' and session_start_at < '2026-10-05'")
        pipeline.materialize_daily(instance, "2026-10-02", "2026-10-04")
        [run] = instance.get_runs(RunsFilter(tags={ASSET_PARTITION_RANGE_START_TAG: "2026-10-02"}))
        assert run.tags[ASSET_PARTITION_RANGE_END_TAG] == "2026-10-04"
        assert [stats.step_key for stats in instance.get_run_step_stats(run.run_id)] == ["dwell_daily_models"]
        assert_same_tables(snapshot(warehouse.path), built)

        # A later file with new and late events: the sensor's runs bring the warehouse to a fresh build's state.
        warehouse.write_jsonl("events/late/batch.jsonl", [
            {"event_id": "late-1", "occurred_at": "2026-10-02T12:00:00Z", "user_id": "usr_000001", "event_name": "login"},
            {"event_id": "late-2", "occurred_at": "2026-10-06T23:59:59.5Z", "user_id": "usr_000002", "event_name": "ide_search"},
            {"event_id": "late-3", "occurred_at": "2026-10-07T00:10:00Z", "user_id": "new_user", "event_name": "page_view"},
        ])
        sensor_result = landing_sensor(build_sensor_context(instance=instance, cursor=None))
        for request in sensor_result.run_requests:
            pipeline.materialize_daily(instance, request.tags[ASSET_PARTITION_RANGE_START_TAG],
                                       request.tags[ASSET_PARTITION_RANGE_END_TAG])
        daily_run = instance.get_runs(limit=1)[0]
        lifetime_request = lifetime_after_upstream_sensor(build_run_status_sensor_context(
            sensor_name="dwell_lifetime_after_upstream_sensor", dagster_instance=instance, dagster_run=daily_run,
            dagster_event=instance.get_records_for_run(daily_run.run_id).records[-1].event_log_entry.dagster_event,
        ))
        assert lifetime_request.run_key == daily_run.run_id
        pipeline.materialize_job("dwell_lifetime_job", instance, full_refresh=False)
        incremental = snapshot(warehouse.path)

    reference = warehouse.full_refresh(tmp_path / "reference.duckdb",
                                       select=" ".join(f"+{table.split('.')[1]}" for table in SESSION_TABLES))
    assert_same_tables(incremental, snapshot(reference.path))
    assert (incremental["marts.fct_sessions"].user_id == "new_user").any()
