"""Taking a landed file back (README "Retracting a file") and the load audit adding up across loads (README "Bad rows,
duplicates, reconciliation"): a retracted file's rows leave the tables, the copies they beat win again, the sessions
are cut again and the id changes recorded, the warehouse equals a full refresh without the file, and the audit's
history, kept across full refreshes, adds up to the tables at every step."""

from datetime import date

import pytest

from helpers import Warehouse, event
from orchestration import cli, landing
from orchestration.errors import DwellError
from orchestration.retraction import retract

# Tables that depend only on the files (the audit and the id changes record the runs themselves).
COMPARED = ["staging.stg_events", "staging.stg_events_duplicates", "staging.stg_events_quarantined",
            "marts.fct_session_events", "marts.fct_sessions", "marts.fct_session_breaks", "marts.sessions_concluded",
            "marts.fct_user_activity_daily", "marts.dim_users", "intermediate.int_session_idle_gaps"]
# What the tests read: the compared tables, the landed rows' outcomes, the retractions, the audit and the id log.
SELECTED = " ".join(f"+{table.split('.')[1]}" for table in COMPARED) + (
    " +stg_landed_events +stg_event_retractions +rpt_load_audit +session_id_changes")
STATUSES = ("staged", "quarantined", "duplicate", "sampled_out")


def comparable(warehouse, table):
    rows = warehouse.records(f"select * from {table}")
    return sorted((tuple(sorted((k, v) for k, v in row.items() if k not in ("load_id", "decided_in_load_id")))
                   for row in rows), key=repr)


def assert_audit_adds_up(warehouse):
    """Summed over the loads, each status now is the tables' count; each current load's rows are all accounted for."""
    audit = warehouse.records("select * from marts.rpt_load_audit")
    counts = {row["load_status"]: row["n"] for row in warehouse.records(
        "select load_status, count(*) as n from staging.stg_landed_events group by all")}
    for status in STATUSES:
        assert sum(load[f"events_{status}_now"] for load in audit) == counts.get(status, 0), status
    base_rows = warehouse.records("select count(*) as n from staging.base_landing_events")[0]["n"]
    assert sum(load["events_retracted_now"] for load in audit) == base_rows - sum(counts.values())
    for load in audit:
        now = sum(load[f"events_{status}_now"] for status in (*STATUSES, "retracted"))
        assert now == (0 if load["replaced_by_load_id"] else load["rows_read"]), load
    return audit


def test_a_retracted_file_leaves_the_warehouse_equal_to_a_full_refresh_without_it(warehouse, tmp_path):
    # a.jsonl: a session of u1 and u2's first events; b.jsonl: a later copy of a2 (a duplicate), more of u1 and a
    # malformed row; c.jsonl: an earlier-received copy of b2 that supersedes b.jsonl's.
    warehouse.write_jsonl("events/web/a.jsonl", [
        event("a1", "2026-03-01T10:00:00Z"), event("a2", "2026-03-01T10:20:00Z"),
        event("a3", "2026-03-01T10:40:00Z"), event("a4", "2026-03-01T11:50:00Z", "u2"),
        {"event_id": None, "user_id": "u2", "event_name": "ide_search", "occurred_at": "2026-03-01T10:00:00Z"},
    ])
    warehouse.build(select=SELECTED)
    warehouse.write_jsonl("events/b.jsonl", [
        event("a2", "2026-03-01T10:20:00Z", received_at="2026-03-01T12:00:00Z"),
        event("b1", "2026-03-01T10:55:00Z"), event("b2", "2026-03-01T11:20:00Z", "u2"),
        {"event_id": "b3", "user_id": "u1"},
    ])
    warehouse.build(select=SELECTED)
    warehouse.write_jsonl("events/c.jsonl", [
        event("b2", "2026-03-01T11:21:00Z", "u2", received_at="2026-03-01T11:00:00Z")])
    warehouse.build(select=SELECTED)
    first, second, third = sorted(assert_audit_adds_up(warehouse), key=lambda load: load["loaded_at"])
    assert (second["events_duplicate"], second["events_duplicate_now"]) == (1, 2)  # its b2 was superseded
    sessions_before = {row["session_id"] for row in warehouse.records("select session_id from marts.fct_sessions")}

    # Retract a.jsonl: its rows go, b.jsonl's copy of a2 wins again, u1's session is cut again without a1.
    assert cli.main(["retract", str(warehouse.landing / "events/web/a.jsonl")]) == 0
    assert (warehouse.landing / "retracted/web/a.jsonl").exists()
    warehouse.build(select=SELECTED, data_tests=True)
    audit = {load["load_id"]: load for load in assert_audit_adds_up(warehouse)}
    retraction = max(audit.values(), key=lambda load: load["loaded_at"])
    assert (retraction["files_retracted"], retraction["rows_retracted"], retraction["rows_read"]) == (1, 5, 0)
    assert audit[first["load_id"]]["events_retracted_now"] == 5
    assert (audit[second["load_id"]]["events_staged_now"], audit[second["load_id"]]["events_duplicate_now"]) == (2, 1)
    events = {row["event_id"]: row for row in warehouse.records("select * from staging.stg_events")}
    assert set(events) == {"a2", "b1", "b2"} and events["a2"]["received_at"].hour == 12
    assert not warehouse.records("select * from staging.stg_events_quarantined where user_id = 'u2'")
    assert warehouse.records("select * from staging.stg_event_retractions")[0]["source_file"].endswith(
        "/events/web/a.jsonl")
    changes = warehouse.records("select * from marts.session_id_changes where run_id = "
                                f"'{retraction['load_id']}'")
    assert changes and {change["old_session_id"] for change in changes} <= sessions_before

    # Nothing new: the retraction is not applied twice.
    warehouse.build(select=SELECTED)
    incremental = {table: comparable(warehouse, table) for table in COMPARED}

    full = Warehouse(landing=warehouse.landing, path=tmp_path / "full.duckdb", targets=warehouse.targets)
    full.build(select=SELECTED, full_refresh=True)
    for table in COMPARED:
        assert incremental[table] == comparable(full, table), table

    # A full refresh of the warehouse itself keeps the audit's history; the loads it read again are marked so.
    warehouse.build(select=SELECTED, full_refresh=True)
    audit = assert_audit_adds_up(warehouse)
    assert len(audit) == 6
    refresh = max(audit, key=lambda load: load["loaded_at"])
    assert refresh["is_full_refresh"] and refresh["rows_read"] == 5
    assert all(load["replaced_by_load_id"] == refresh["load_id"] for load in audit if load is not refresh)
    assert len(warehouse.records("select * from staging.stg_event_retractions")) == 1


def test_only_a_landed_event_file_can_be_retracted(warehouse, tmp_path):
    outside = tmp_path / "elsewhere.jsonl"
    outside.write_text("{}")
    with pytest.raises(DwellError, match="not under"):
        retract(warehouse.landing, outside)
    with pytest.raises(DwellError, match="not a file"):
        retract(warehouse.landing, warehouse.landing / "events" / "missing.jsonl")


def test_a_retracted_file_is_new_to_the_sensors_and_the_main_command(warehouse):
    path = warehouse.write_jsonl("events/a.jsonl", [event("a1", "2026-03-01T10:00:00Z")])
    before = {file.path for file in landing.daily_input_files(warehouse.landing)}
    retract(warehouse.landing, path)
    after = {file.path for file in landing.daily_input_files(warehouse.landing)}
    assert after == {warehouse.landing / "retracted/a.jsonl"} and after != before
    assert landing.event_dates(landing.retracted_files(warehouse.landing)) == {date(2026, 3, 1)}
