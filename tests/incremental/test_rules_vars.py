"""Changing the rules (README "Changing the rules"): a user's `--vars` or DWELL_DBT_VARS, and the seeds, set the rules
of every build. Plain `dbt build` passes its unit tests whatever the vars (each pins the vars it reads), the marts
follow the new rules, the Dagster jobs take them from DWELL_DBT_VARS, and a build under rules other than those the
warehouse was built with rebuilds history under the new ones, never mixing the two."""

import json
import random
import shutil
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance
from dbt.cli.main import dbtRunner

from helpers import iso_us, random_events, target_path
from orchestration import pipeline
from orchestration.dbt_invoke import DbtCommandError, release_warehouse, run_dbt
from orchestration.errors import DwellError
from orchestration.sample_data import generate_sample
from orchestration.settings import PROJECT_DIR, dbt_vars, project_var_names
from reference_sessions import Rules, sessionize

DEFAULT_RULES = Rules(timeout_us=1_800_000_000, restart_events=frozenset({"session_start", "login"}),
                      end_events=frozenset({"session_end", "logout"}), max_length_us=86_400_000_000,
                      partition_by=("user_id",))
# One value other than the default for every var of dbt_project.yml (landing_dir is the landing directory itself).
EVERY_VAR_CHANGED = {
    "session_timeout_seconds": 90,
    "session_restart_events": ["app_opened"],
    "session_end_events": ["workspace_blur"],
    "session_max_length_seconds": None,
    "session_partition_by": ["user_id", "workspace_id"],
    "sampling_rate": 0.7,
    "future_skew_tolerance_seconds": 60,
    "max_quarantine_share": 0.9,
    "session_metrics": [{"name": "searches", "event_names": ["ide_search"], "aggregation": "count"}],
    "duplicate_lookup_list_limit": 1,
    "session_length_bucket_edges_seconds": [5, 50],
    "idle_gap_seconds": 30,
    "page_dwell_last_page_cap_seconds": 7,
    "tracked_pages": ["/docs"],
    "inactive_after_days": 0,
    "activity_categories": ["ide"],
    "activity_timeout_seconds": 120,
    "workspace_session_timeout_seconds": 100,
    "reporting_time_zone": "Asia/Kolkata",
}
# Marts with a row per session or event, and the tables of what incremental runs keep, compared row for row.
COMPARED = ["marts.fct_session_events", "marts.fct_sessions", "marts.fct_session_metrics", "marts.fct_page_views",
            "marts.fct_session_breaks", "marts.sessions_concluded", "marts.fct_user_activity_daily",
            "marts.fct_micro_sessions", "marts.rpt_daily_sessions", "marts.dim_users",
            "intermediate.int_category_sessions", "intermediate.int_session_idle_gaps",
            "intermediate.int_user_period_activity", "staging.stg_events"]


def rules_from_vars(values: dict) -> Rules:
    merged = {"session_timeout_seconds": 1800, "session_restart_events": ["session_start", "login"],
              "session_end_events": ["session_end", "logout"], "session_max_length_seconds": 86400,
              "session_partition_by": ["user_id"], **values}
    return Rules(timeout_us=int(merged["session_timeout_seconds"] * 1e6),
                 restart_events=frozenset(merged["session_restart_events"]),
                 end_events=frozenset(merged["session_end_events"]),
                 max_length_us=int(merged["session_max_length_seconds"] * 1e6) if merged["session_max_length_seconds"]
                 else None,
                 partition_by=tuple(merged["session_partition_by"]))


def stream(seed: int):
    """Events that cross every boundary of the default timeout and of a 90 s one, with pages on page views."""
    rng = random.Random(seed)
    return random_events(rng, replace(DEFAULT_RULES, timeout_us=rng.choice([90_000_000, 1_800_000_000])), users=12)


def land(warehouse, events, name="stream") -> None:
    warehouse.write_jsonl(f"events/{name}.jsonl", [
        {"event_id": e.event_id, "user_id": e.user_id, "workspace_id": e.workspace_id, "event_name": e.event_name,
         "occurred_at": iso_us(e.occurred_us),
         **({"page": "/docs" if e.event_id[-1] in "02468" else "/pricing"} if e.event_name == "page_view" else {})}
        for e in events
    ])


def assert_sessions_follow(warehouse, events, rules: Rules) -> None:
    """fct_sessions and fct_session_events are those of tests/reference_sessions.py under the rules."""
    expected = sessionize(events, rules, newest_us=max(e.occurred_us for e in events))
    sessions = {row["session_id"]: row for row in warehouse.records(
        "select session_id, start_reason, end_reason, event_count from marts.fct_sessions")}
    assert set(sessions) == {s.session_id for s in expected}, rules
    for session in expected:
        row = sessions[session.session_id]
        assert (row["start_reason"], row["end_reason"], row["event_count"]) == (
            session.start_reason, session.end_reason, len(session.event_ids)), (session, rules)
    membership = dict(warehouse.query("select event_id, session_id from marts.fct_session_events").values)
    assert membership == {event_id: s.session_id for s in expected for event_id in s.event_ids}


def test_every_unit_test_pins_every_var():
    manifest = json.loads((PROJECT_DIR / "target" / "manifest.json").read_text())  # scripts/test.sh's `dbt parse`
    assert manifest["unit_tests"]
    for unit_test in manifest["unit_tests"].values():
        pinned = set((unit_test.get("overrides") or {}).get("vars") or {})
        assert project_var_names() - {"landing_dir"} <= pinned, unit_test["name"]
    assert set(EVERY_VAR_CHANGED) == project_var_names() - {"landing_dir"}


def test_plain_dbt_build_with_every_var_changed_builds_marts_under_them(warehouse):
    events = stream(seed=3)
    land(warehouse, events)
    # An event 2 minutes ahead of its receipt: beyond a 60 s tolerance.
    warehouse.write_jsonl("events/skewed.jsonl", [{"event_id": "skewed", "user_id": "u0", "event_name": "ide_search",
                                                   "occurred_at": "2026-03-02T10:02:00Z",
                                                   "received_at": "2026-03-02T10:00:00Z"}])
    # Nothing excluded: the unit tests run under these vars too, and run_dbt raises if one fails.
    result = warehouse.dbt(["build", "--quiet"], EVERY_VAR_CHANGED)
    unit_tests = [r for r in result.result.results if r.node.resource_type == "unit_test"]
    assert unit_tests and all(r.status == "pass" for r in unit_tests)

    kept_users = {row["user_id"] for row in warehouse.records("select distinct user_id from staging.stg_events")}
    assert 0 < len(kept_users) < len({e.user_id for e in events})
    assert_sessions_follow(warehouse, [e for e in events if e.user_id in kept_users], rules_from_vars(EVERY_VAR_CHANGED))

    marts = {row["table_name"] for row in warehouse.records(
        "select table_name from information_schema.tables where table_schema = 'marts'")}
    assert {"fct_sessions", "fct_session_events", "fct_workspace_sessions", "rpt_period_summary",
            "rpt_session_length_distribution", "rpt_inactive_users", "fct_page_views"} <= marts
    assert warehouse.records("select quarantine_reason from staging.stg_events_quarantined") == [
        {"quarantine_reason": "occurred_after_received"}]
    assert {row["metric_name"] for row in warehouse.records("select metric_name from marts.fct_session_metrics")} == {
        "searches"}
    assert {row["bucket"] for row in warehouse.records(
        "select bucket_label as bucket from marts.rpt_session_length_distribution")} == {"0s-5s", "5s-50s", "50s+"}
    assert warehouse.records("select count(*) as n from intermediate.int_session_idle_gaps "
                             "where gap_seconds < 30")[0]["n"] == 0
    pages = warehouse.records("select distinct page, is_capped, dwell_seconds from marts.fct_page_views")
    assert {row["page"] for row in pages} == {"/docs"}
    assert all(row["dwell_seconds"] == 7 for row in pages if row["is_capped"])
    assert {row["category"] for row in warehouse.records(
        "select distinct category from marts.fct_user_activity_daily")} <= {"any", "ide"}
    inactive = warehouse.records("select count(*) as n from marts.rpt_inactive_users where days_inactive is not null")
    assert inactive[0]["n"] == len(kept_users)


@pytest.mark.parametrize("changed", [
    {"session_timeout_seconds": 600},
    {"session_restart_events": []},
    {"session_end_events": ["workspace_blur", "logout"]},
    {"session_max_length_seconds": None},
    {"session_partition_by": ["user_id", "workspace_id"]},
], ids=lambda changed: next(iter(changed)))
def test_plain_dbt_build_with_one_sessionization_var_changed(warehouse, changed):
    events = stream(seed=5)
    land(warehouse, events)
    warehouse.dbt(["build", "--quiet"], changed)
    assert_sessions_follow(warehouse, events, rules_from_vars(changed))


def test_dagster_jobs_take_the_vars_from_dwell_dbt_vars_and_rebuild_when_they_change(warehouse, monkeypatch):
    events = stream(seed=7)
    land(warehouse, events)
    warehouse.build()
    assert_sessions_follow(warehouse, events, DEFAULT_RULES)

    monkeypatch.setenv("DWELL_DBT_VARS", "{session_timeout_seconds: 90, session_end_events: [workspace_blur]}")
    day = datetime.fromtimestamp(max(e.occurred_us for e in events) / 1e6, tz=timezone.utc).date().isoformat()
    with DagsterInstance.ephemeral() as instance:
        pipeline.materialize_daily(instance, day, day)
    assert_sessions_follow(warehouse, events, rules_from_vars(
        {"session_timeout_seconds": 90, "session_end_events": ["workspace_blur"]}))


@pytest.mark.parametrize("text, message", [
    ("{sesion_timeout_seconds: 90}", "names vars dwell does not have: sesion_timeout_seconds"),
    ("[90]", "must be a mapping"),
    ("{a: [", "is not YAML or JSON"),
])
def test_dwell_dbt_vars_refuses_what_it_cannot_apply(monkeypatch, text, message):
    monkeypatch.setenv("DWELL_DBT_VARS", text)
    with pytest.raises(DwellError, match=message):
        dbt_vars()


@pytest.fixture(scope="module")
def built_under_the_default_rules(tmp_path_factory):
    """A warehouse built incrementally under the default rules from two loads, the second only landed: each test
    copies it and builds the second load under changed rules."""
    root = tmp_path_factory.mktemp("default-rules")
    landing, path = root / "landing", root / "warehouse.duckdb"
    generate_sample(landing, users=12, days=4, seed=11, start_date=date(2026, 10, 1))
    later = sorted((landing / "events").rglob("*.*"))[-3:]
    held_back = root / "held-back"
    for file in later:
        target = held_back / file.relative_to(landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(file, target)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DWELL_LANDING_DIR", str(landing))
        patch.setenv("DWELL_DUCKDB_PATH", str(path))
        run_dbt(["build", "--quiet", "--exclude", "test_type:unit", "--target-path", str(root / "target")])
    shutil.copytree(held_back, landing, dirs_exist_ok=True)
    return landing, path


def dwell_project_copy(root: Path) -> Path:
    """The dbt project alone, to edit a seed without touching the repository's."""
    copy = root / "project"
    for name in ("dbt_project.yml", "profiles.yml"):
        copy.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_DIR / name, copy / name)
    for name in ("models", "macros", "seeds", "dbt_tests", "analyses"):
        shutil.copytree(PROJECT_DIR / name, copy / name)
    return copy


def build(project: Path, root: Path, dbt_vars: dict | None, *extra: str) -> str:
    """dbt build of a project into DWELL_DUCKDB_PATH, without unit and data tests (the tests compare the tables);
    what it printed. dbt's target path is under root (target_path), one per project, warehouse and vars."""
    target = target_path(root, dbt_vars, project=str(project))
    args = ["build", "--exclude", "test_type:unit", "test_type:data", "--project-dir", str(project),
            "--profiles-dir", str(project), "--target-path", str(target), *extra]
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    messages = []
    try:
        result = dbtRunner(callbacks=[lambda event: messages.append(event.info.msg)]).invoke(args)
    finally:
        release_warehouse()
    if not result.success:
        raise DbtCommandError("\n".join(str(message) for message in messages[-20:]))
    return "\n".join(str(message) for message in messages)


def table_rows(path: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        columns = [row[0] for row in con.sql(f"describe {table}").fetchall() if row[0] not in ("load_id", "decided_in_load_id")]
        return con.sql(f"select {', '.join(columns)} from {table} order by all").fetchall()


def edit_catalog(project: Path) -> None:
    """ide_search stops counting toward sessions, and build_started becomes a debug event."""
    catalog = project / "seeds" / "event_catalog.csv"
    lines = catalog.read_text().splitlines()
    edited = [line.replace(",true,", ",false,", 1) if line.startswith("ide_search,") else
              line.replace("build_started,build,", "build_started,debug,", 1) for line in lines]
    assert edited != lines
    catalog.write_text("\n".join(edited) + "\n")


@pytest.mark.parametrize("rules", [
    {"vars": {"session_timeout_seconds": 60, "session_partition_by": ["user_id", "workspace_id"],
              "session_max_length_seconds": 900}},
    {"vars": {"activity_timeout_seconds": 45, "workspace_session_timeout_seconds": 30}},
    {"vars": {"idle_gap_seconds": 20, "tracked_pages": ["/docs"], "page_dwell_last_page_cap_seconds": 1}},
    {"seed": "event_catalog"},
], ids=lambda rules: "+".join(rules.get("vars", {})) or rules["seed"])
def test_a_build_under_changed_rules_equals_a_full_build_under_them(built_under_the_default_rules, tmp_path,
                                                                     monkeypatch, rules):
    landing, built = built_under_the_default_rules
    project = PROJECT_DIR
    if rules.get("seed") == "event_catalog":
        project = dwell_project_copy(tmp_path)
        edit_catalog(project)
    monkeypatch.setenv("DWELL_LANDING_DIR", str(landing))
    incremental = tmp_path / "incremental.duckdb"
    shutil.copyfile(built, incremental)
    monkeypatch.setenv("DWELL_DUCKDB_PATH", str(incremental))
    printed = build(project, tmp_path, rules.get("vars"))
    assert "the rules changed since the last build" in printed and "rebuilding" in printed

    full = tmp_path / "full.duckdb"
    monkeypatch.setenv("DWELL_DUCKDB_PATH", str(full))
    build(project, tmp_path, rules.get("vars"), "--full-refresh")
    for table in COMPARED:
        assert table_rows(incremental, table) == table_rows(full, table), table

    # The same rules again: fct_sessions alone builds, nothing it reads being under other rules.
    monkeypatch.setenv("DWELL_DUCKDB_PATH", str(incremental))
    assert "the rules changed" not in build(project, tmp_path, rules.get("vars"), "--select", "fct_sessions")


def test_a_build_that_would_mix_rules_stops_and_changes_nothing(built_under_the_default_rules, tmp_path, monkeypatch):
    landing, built = built_under_the_default_rules
    monkeypatch.setenv("DWELL_LANDING_DIR", str(landing))
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built, path)
    monkeypatch.setenv("DWELL_DUCKDB_PATH", str(path))
    before = {table: table_rows(path, table) for table in COMPARED}
    # fct_sessions alone would be rebuilt from fct_session_events, still under the old timeout.
    with pytest.raises(DbtCommandError, match="--full-refresh"):
        build(PROJECT_DIR, tmp_path, {"session_timeout_seconds": 60}, "--select", "fct_sessions")
    assert {table: table_rows(path, table) for table in COMPARED} == before
