"""Every configuration value that reaches SQL is validated or quoted: an injection attempt in each dbt var and in the
Dagster run config is refused with a message naming the setting, or lands as plain data, and a refused value never
changes the warehouse. (The webhook URL: tests/unit/test_orchestrator_inputs.py; the serving settings:
tests/orchestration/test_serving.py.)"""

import pytest
from dagster import DagsterInstance
from dagster._core.errors import DagsterInvalidConfigError

from orchestration.dbt_invoke import DbtCommandError
from orchestration.definitions import defs
from orchestration.jobs import daily_job

DROP = "1; drop table marts.fct_sessions; --"

REFUSED = [
    ({"session_timeout_seconds": DROP}, "session_timeout_seconds"),
    ({"session_max_length_seconds": "0) or (1 = 1"}, "session_max_length_seconds"),
    ({"future_skew_tolerance_seconds": "3600 or true"}, "future_skew_tolerance_seconds"),
    ({"max_quarantine_share": "0.1) or (1 = 1"}, "max_quarantine_share"),
    ({"sampling_rate": DROP}, "sampling_rate"),
    ({"workspace_session_timeout_seconds": DROP}, "workspace_session_timeout_seconds"),
    ({"session_partition_by": ["user_id", "workspace_id) --"]}, "session_partition_by"),
    ({"session_restart_events": DROP}, "session_restart_events"),
    ({"session_end_events": [""]}, "session_end_events"),
    ({"duplicate_lookup_list_limit": DROP}, "duplicate_lookup_list_limit"),
    ({"session_length_bucket_edges_seconds": [10, DROP]}, "session_length_bucket_edges_seconds"),
    ({"idle_gap_seconds": DROP}, "idle_gap_seconds"),
    ({"page_dwell_last_page_cap_seconds": "300 union select 1"}, "page_dwell_last_page_cap_seconds"),
    ({"tracked_pages": DROP}, "tracked_pages"),
    ({"inactive_after_days": DROP}, "inactive_after_days"),
    ({"activity_categories": ["ide'; drop table marts.fct_sessions; --"]}, "activity_categories"),
    ({"activity_timeout_seconds": "600 or 1 = 1"}, "activity_timeout_seconds"),
    ({"reporting_time_zone": "UTC'; drop table marts.fct_sessions; --"}, "reporting_time_zone"),
    ({"session_metrics": [{"name": "x; drop table y", "aggregation": "count"}]}, "session_metrics"),
    ({"session_metrics": [{"name": "pages", "aggregation": "count_distinct", "column": "page) from x; --"}]},
     "session_metrics"),
    ({"session_metrics": [{"name": "spent", "aggregation": "sum", "property": "a') or ('1"}]}, "session_metrics"),
    ({"session_metrics": [{"name": "n", "aggregation": "count); drop table y; --"}]}, "session_metrics"),
    ({"landing_dir": ""}, "landing_dir"),
]


def sessions_table_count(warehouse) -> int:
    return warehouse.query("select count(*) as n from information_schema.tables "
                           "where table_schema = 'marts' and table_name = 'fct_sessions'").n[0]


@pytest.fixture
def built_warehouse(warehouse):
    warehouse.write_jsonl("events/e.jsonl", [
        {"event_id": "e1", "user_id": "u1", "event_name": "login", "occurred_at": "2026-10-01T10:00:00Z"},
        {"event_id": "e2", "user_id": "u1", "event_name": "ide_search", "occurred_at": "2026-10-01T10:05:00Z"},
    ])
    warehouse.build()
    assert sessions_table_count(warehouse) == 1
    return warehouse


def test_every_var_refuses_an_injection_with_a_message_naming_it(built_warehouse, capfd, monkeypatch):
    def assert_refused(name, dbt_vars=None):
        capfd.readouterr()
        with pytest.raises(DbtCommandError):
            built_warehouse.dbt(["compile", "--quiet"], dbt_vars)
        printed = capfd.readouterr()
        assert name in printed.out + printed.err, (name, dbt_vars, printed.out[-2000:])

    for dbt_vars, name in REFUSED:
        assert_refused(name, dbt_vars)
    # The partitioned run's window comes from the environment (README "Partitions and windows").
    monkeypatch.setenv("DWELL_WINDOW_START", "2026-10-01'; drop table marts.fct_sessions; --")
    monkeypatch.setenv("DWELL_WINDOW_END", "2026-10-02")
    assert_refused("DWELL_WINDOW_START")
    monkeypatch.setenv("DWELL_WINDOW_START", "2026-10-02")
    assert_refused("DWELL_WINDOW_START must be before DWELL_WINDOW_END")
    # The vars that once held the window are refused, not silently ignored.
    monkeypatch.delenv("DWELL_WINDOW_START")
    monkeypatch.delenv("DWELL_WINDOW_END")
    assert_refused("window_start and window_end are no longer read",
                   {"window_start": "2026-10-01", "window_end": "2026-10-02"})
    assert sessions_table_count(built_warehouse) == 1
    assert built_warehouse.query("select count(*) as n from marts.fct_session_events").n[0] == 2


def test_names_and_paths_with_quotes_are_plain_data(warehouse, tmp_path, monkeypatch):
    landing = tmp_path / "it's'; drop table marts.fct_sessions; --"
    (landing / "events").mkdir(parents=True)
    warehouse.landing = landing
    monkeypatch.setenv("DWELL_LANDING_DIR", str(landing))
    page = "/pricing'); drop table marts.fct_sessions; --"
    warehouse.write_jsonl("events/e.jsonl", [
        {"event_id": "e1", "user_id": "u1", "event_name": "login", "occurred_at": "2026-10-01T10:00:00Z"},
        {"event_id": "e2", "user_id": "u1", "event_name": "page_view", "page": page,
         "occurred_at": "2026-10-01T10:01:00Z"},
        {"event_id": "e3", "user_id": "u1", "event_name": "o'clock", "occurred_at": "2026-10-01T10:02:00Z"},
    ])
    warehouse.build(dbt_vars={
        "tracked_pages": [page], "session_restart_events": ["o'clock"],
        "session_metrics": [{"name": "quoted_events", "event_names": ["o'clock"], "aggregation": "count"}],
    })
    sessions = warehouse.records("select start_reason, event_count from marts.fct_sessions order by session_start_at")
    assert [row["event_count"] for row in sessions] == [2, 1]
    assert warehouse.records("select page from marts.fct_page_views") == [{"page": page}]
    assert warehouse.records("select sum(metric_value) as n from marts.fct_session_metrics "
                             "where metric_name = 'quoted_events'") == [{"n": 1}]


def test_the_dagster_run_config_accepts_only_a_boolean_full_refresh(warehouse):
    with DagsterInstance.ephemeral() as instance:
        with pytest.raises(DagsterInvalidConfigError, match="full_refresh"):
            defs.resolve_job_def(daily_job.name).execute_in_process(
                instance=instance, partition_key="2026-10-01",
                run_config={"ops": {"dwell_daily_models": {"config": {"full_refresh": DROP}}}})
    assert not warehouse.path.exists()
