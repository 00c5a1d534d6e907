"""Data tests scoped to the run (docs/incremental.md): on an incremental build a data test of an incremental model
checks the rows sharing a key with what the run wrote, so that a day costs what the day brings; the weekly sweep
(dwell_data_test_sweep_job, `dbt test` on its own) checks every row."""

import duckdb
import pytest
from dagster import AssetCheckKey, AssetKey, DagsterInstance

from helpers import event
from orchestration.dbt_invoke import DbtCommandError
from orchestration.definitions import defs


def plant_a_duplicate_session_event(warehouse, event_id):
    """A second row for an event already in fct_session_events: a broken unique key the tests must see."""
    with duckdb.connect(str(warehouse.path)) as con:
        con.execute(f"insert into marts.fct_session_events select * from marts.fct_session_events "
                    f"where event_id = '{event_id}'")


def sweep(instance: DagsterInstance):
    """The weekly sweep's job (orchestration/data_test_sweep.py), as the schedule or the UI launches it."""
    return defs.resolve_job_def("dwell_data_test_sweep_job").execute_in_process(instance=instance, raise_on_error=False)


def test_a_daily_build_checks_the_rows_it_wrote_and_the_sweep_checks_every_row(warehouse, capfd):
    # u2's session is concluded by the first load's newest event, so no later run writes it again.
    warehouse.write_jsonl("events/day1.jsonl", [event("a1", "2026-03-01T10:00:00Z"),
                                                event("b1", "2026-03-01T08:00:00Z", user="u2")])
    warehouse.build(data_tests=True)

    # A broken row the next run does not write: its tests do not read it, the sweep does.
    plant_a_duplicate_session_event(warehouse, "b1")
    warehouse.write_jsonl("events/day2.jsonl", [event("a2", "2026-03-02T10:00:00Z")])
    warehouse.build(data_tests=True)
    unique_event_ids = AssetCheckKey(AssetKey(["marts", "fct_session_events"]), "unique_fct_session_events_event_id")
    with DagsterInstance.ephemeral() as instance:
        result = sweep(instance)
        assert not result.success
        [failure] = [record.event_specific_data.error.to_string() for record in result.all_events
                     if record.is_step_failure]
        assert "unique_fct_session_events_event_id" in failure
        assert not instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [unique_event_ids])[unique_event_ids].evaluation.passed
        with duckdb.connect(str(warehouse.path)) as con:
            con.execute("create temp table b1 as select distinct * from marts.fct_session_events where event_id = 'b1'")
            con.execute("delete from marts.fct_session_events where event_id = 'b1'")
            con.execute("insert into marts.fct_session_events select * from b1")
        assert sweep(instance).success

    # A broken row sharing a key with what the run writes: the run's own tests see it.
    plant_a_duplicate_session_event(warehouse, "a2")
    warehouse.write_jsonl("events/day2-late.jsonl", [event("a3", "2026-03-02T10:05:00Z")])
    with pytest.raises(DbtCommandError):
        warehouse.build(data_tests=True)
    # The first test to read the duplicate fails the build: the sessions rebuilt from it repeat an id.
    assert "FAIL 1 unique_" in capfd.readouterr().out


def test_the_scope_is_every_row_on_a_full_build(warehouse, capfd):
    warehouse.write_jsonl("events/day1.jsonl", [event("a1", "2026-03-01T10:00:00Z")])
    warehouse.build(data_tests=True)
    run_scope = warehouse.records("select * from staging.stg_this_run")
    assert len(run_scope) == 1 and run_scope[0]["is_full_build"]
    warehouse.write_jsonl("events/day2.jsonl", [event("a2", "2026-03-02T10:00:00Z")])
    warehouse.build()
    assert not warehouse.records("select * from staging.stg_this_run")[0]["is_full_build"]
    warehouse.build(full_refresh=True)
    assert warehouse.records("select * from staging.stg_this_run")[0]["is_full_build"]
