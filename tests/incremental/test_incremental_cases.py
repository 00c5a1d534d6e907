"""Named incremental cases (README "Incremental runs"): each lands events, builds, lands a later file, builds
incrementally, checks what changed, and compares every mart with a full refresh of the same files."""

import pytest

from helpers import event

COMPARED = ["marts.fct_session_events", "marts.fct_sessions", "marts.dim_users", "marts.dim_workspaces"]
# What the tests read: the compared marts, the load audit, the id changes and the rebuild's scope.
SELECTED = ("+fct_session_events +fct_sessions +dim_users +dim_workspaces +rpt_load_audit +session_id_changes "
            "+int_session_rebuild_scope +int_session_events_rebuilt +stg_events_quarantined")


def load(warehouse, name, rows, dbt_vars=None):
    warehouse.write_jsonl(f"events/{name}.jsonl", rows)
    warehouse.build(select=SELECTED, dbt_vars=dbt_vars)


def sessions(warehouse):
    return warehouse.records(
        "select session_id, first_event_id, event_count, start_reason, end_reason, session_number "
        "from marts.fct_sessions order by session_start_at, first_event_id")


def last_load(warehouse):
    return warehouse.records("select * from marts.rpt_load_audit order by loaded_at desc limit 1")[0]


def id_changes(warehouse):
    return {(row["old_session_id"], row["new_session_id"], row["is_old_session_id_retired"])
            for row in warehouse.records("select * from marts.session_id_changes")}


def test_a_late_event_merges_two_sessions(warehouse, assert_equal_to_a_full_refresh):
    load(warehouse, "day", [event("a1", "2026-03-01T10:00:00Z"), event("b1", "2026-03-01T10:50:00Z")])
    before = sessions(warehouse)
    assert [s["first_event_id"] for s in before] == ["a1", "b1"]
    load(warehouse, "late", [event("m1", "2026-03-01T10:25:00Z", received_at="2026-03-02T08:00:00Z")])
    [merged] = sessions(warehouse)
    assert (merged["first_event_id"], merged["event_count"], merged["session_id"]) == ("a1", 3, before[0]["session_id"])
    assert id_changes(warehouse) == {(before[1]["session_id"], before[0]["session_id"], True)}
    audit = last_load(warehouse)
    assert (audit["late_events"], audit["sessions_merged"], audit["lateness_max_seconds"]) == (1, 1, 1500)
    assert_equal_to_a_full_refresh(COMPARED, select=SELECTED)


def test_a_late_event_extends_a_session_backwards_and_its_id_changes(warehouse, assert_equal_to_a_full_refresh):
    load(warehouse, "day", [event("a1", "2026-03-01T10:00:00Z"), event("a2", "2026-03-01T10:10:00Z")])
    [old] = sessions(warehouse)
    load(warehouse, "late", [event("z0", "2026-03-01T09:40:00Z")])
    [new] = sessions(warehouse)
    assert new["first_event_id"] == "z0" and new["event_count"] == 3 and new["session_id"] != old["session_id"]
    assert id_changes(warehouse) == {(old["session_id"], new["session_id"], True)}
    assert warehouse.records("select count(*) as n from marts.fct_session_events where session_id = "
                             f"'{old['session_id']}'")[0]["n"] == 0
    assert last_load(warehouse)["sessions_extended"] == 1
    assert_equal_to_a_full_refresh(COMPARED, select=SELECTED)


def test_a_late_restart_event_splits_a_session(warehouse, assert_equal_to_a_full_refresh):
    load(warehouse, "day", [event("a1", "2026-03-01T10:00:00Z"), event("a2", "2026-03-01T10:10:00Z"),
                            event("a3", "2026-03-01T10:20:00Z")])
    [old] = sessions(warehouse)
    load(warehouse, "late", [event("r1", "2026-03-01T10:05:00Z", name="login")])
    first, second = sessions(warehouse)
    assert (first["session_id"], first["event_count"], first["end_reason"]) == (old["session_id"], 1, "restart_event")
    assert (second["first_event_id"], second["start_reason"], second["event_count"]) == ("r1", "restart_event", 3)
    assert id_changes(warehouse) == {(old["session_id"], second["session_id"], False)}
    assert last_load(warehouse)["sessions_split"] == 1
    assert_equal_to_a_full_refresh(COMPARED, select=SELECTED)


def test_late_events_rebuild_only_the_segments_around_them(warehouse, assert_equal_to_a_full_refresh):
    history = [("a1", "09:00"), ("a2", "09:10"), ("b1", "11:00"), ("b2", "11:10"), ("c1", "13:00"),
               ("c2", "13:10"), ("d1", "15:00"), ("d2", "15:10"), ("e1", "17:00")]
    load(warehouse, "day", [event(event_id, f"2026-03-01T{at}:00Z") for event_id, at in history])
    # x1 falls inside b1's session: the next session (c1) keeps its place, since b2 is still before it.
    # y1 falls in the gap before d1 and joins its session: d1's preceding event changes, so e1's session is the
    # next that keeps its place. The two segments touch at c1 and stay apart.
    load(warehouse, "late", [event("x1", "2026-03-01T11:05:00Z"), event("y1", "2026-03-01T14:50:00Z")])
    scope = warehouse.records(
        "select rebuild_segment, rebuild_from_event_id, context_event_id, rebuild_until_event_id, "
        "next_session_start_reason from intermediate.int_session_rebuild_scope order by rebuild_segment")
    assert scope == [
        {"rebuild_segment": 1, "rebuild_from_event_id": "b1", "context_event_id": "a2",
         "rebuild_until_event_id": "c1", "next_session_start_reason": "inactivity"},
        {"rebuild_segment": 2, "rebuild_from_event_id": "c1", "context_event_id": "b2",
         "rebuild_until_event_id": "e1", "next_session_start_reason": "inactivity"},
    ]
    rebuilt = warehouse.records("select event_id from intermediate.int_session_events_rebuilt order by all")
    assert [row["event_id"] for row in rebuilt] == ["b1", "b2", "c1", "c2", "d1", "d2", "x1", "y1"]
    assert [(s["first_event_id"], s["event_count"], s["end_reason"], s["session_number"])
            for s in sessions(warehouse)] == [("a1", 2, "inactivity", 1), ("b1", 3, "inactivity", 2),
                                              ("c1", 2, "inactivity", 3), ("y1", 3, "inactivity", 4),
                                              ("e1", 1, "open", 5)]
    assert_equal_to_a_full_refresh(COMPARED, select=SELECTED)


def test_a_late_event_moves_a_maximum_length_cut(warehouse, assert_equal_to_a_full_refresh):
    rules = {"session_max_length_seconds": 3600}
    load(warehouse, "day", [event("a1", "2026-03-01T10:00:00Z"), event("a2", "2026-03-01T10:25:00Z"),
                            event("a3", "2026-03-01T10:50:00Z"), event("a4", "2026-03-01T11:10:00Z")], rules)
    assert [s["first_event_id"] for s in sessions(warehouse)] == ["a1", "a4"]
    # 09:40 becomes the uncut start: the cut moves to 10:40, so a3 (10:50) joins the second piece.
    load(warehouse, "late", [event("z0", "2026-03-01T09:40:00Z")], rules)
    assert [(s["first_event_id"], s["event_count"]) for s in sessions(warehouse)] == [("z0", 3), ("a3", 2)]
    assert_equal_to_a_full_refresh(COMPARED, rules, select=SELECTED)


def test_an_event_30_days_late(warehouse, assert_equal_to_a_full_refresh):
    load(warehouse, "march", [event(f"m{day}", f"2026-03-{day:02d}T10:00:00Z") for day in range(1, 31)])
    load(warehouse, "late", [event("late", "2026-03-01T10:20:00Z", received_at="2026-03-31T10:00:00Z")])
    first = sessions(warehouse)[0]
    assert (first["first_event_id"], first["event_count"]) == ("m1", 2)
    audit = last_load(warehouse)
    assert audit["late_events"] == 1 and audit["lateness_max_seconds"] == pytest.approx(29 * 86400 - 1200)
    assert_equal_to_a_full_refresh(COMPARED, select=SELECTED)


def test_a_batch_of_only_duplicates_and_an_empty_batch_change_nothing(warehouse, assert_equal_to_a_full_refresh):
    rows = [event("a1", "2026-03-01T10:00:00Z"), event("a2", "2026-03-01T10:10:00Z")]
    load(warehouse, "day", rows)
    before = sessions(warehouse)
    load(warehouse, "again", [{**row, "received_at": "2026-03-02T00:00:00Z"} for row in rows])
    assert sessions(warehouse) == before
    audit = last_load(warehouse)
    assert (audit["rows_read"], audit["events_duplicate"], audit["events_staged"]) == (2, 2, 0)
    warehouse.build(select=SELECTED)
    assert sessions(warehouse) == before and last_load(warehouse)["rows_read"] == 0
    assert id_changes(warehouse) == set()
    assert_equal_to_a_full_refresh(COMPARED, select=SELECTED)


def test_a_copy_received_earlier_moves_its_event_to_another_user_and_day(warehouse, assert_equal_to_a_full_refresh):
    """The lifetime dimensions sum int_user_event_days, rebuilt per (user, day) touched: the staged version's pair
    must lose the event when an earlier-received copy puts it on another user's other day, in another workspace
    and organization."""
    load(warehouse, "day", [
        event("a1", "2026-03-01T10:00:00Z", workspace_id="w1", organization_id="o1"),
        event("moved", "2026-03-01T10:10:00Z", workspace_id="w1", organization_id="o1",
              received_at="2026-03-05T00:00:00Z"),
        event("b1", "2026-03-03T09:00:00Z", "u2", workspace_id="w2")])
    load(warehouse, "earlier", [event("moved", "2026-03-02T23:59:59.999999Z", "u2", workspace_id="w2",
                                      organization_id="o2", received_at="2026-03-04T00:00:00Z")])
    days = warehouse.records("select user_id, workspace_id, cast(event_date as varchar) as day, event_count, "
                             "first_organization_id from intermediate.int_user_event_days order by all")
    assert days == [
        {"user_id": "u1", "workspace_id": "w1", "day": "2026-03-01", "event_count": 1, "first_organization_id": "o1"},
        {"user_id": "u2", "workspace_id": "w2", "day": "2026-03-02", "event_count": 1, "first_organization_id": "o2"},
        {"user_id": "u2", "workspace_id": "w2", "day": "2026-03-03", "event_count": 1, "first_organization_id": None}]
    users = warehouse.records("select user_id, event_count, cast(first_seen_at as varchar) as first_seen_at, "
                              "organization_id from marts.dim_users order by user_id")
    assert [(u["user_id"], u["event_count"], u["first_seen_at"], u["organization_id"]) for u in users] == [
        ("u1", 1, "2026-03-01 10:00:00", "o1"), ("u2", 2, "2026-03-02 23:59:59.999999", "o2")]
    workspaces = warehouse.records("select workspace_id, event_count, active_user_count from marts.dim_workspaces "
                                   "order by workspace_id")
    assert [(w["workspace_id"], w["event_count"], w["active_user_count"]) for w in workspaces] == [
        ("w1", 1, 1), ("w2", 2, 1)]
    assert_equal_to_a_full_refresh(COMPARED + ["intermediate.int_user_event_days"], select=SELECTED)


def test_a_future_timestamp_is_quarantined_and_does_not_hold_the_watermark(warehouse, assert_equal_to_a_full_refresh):
    load(warehouse, "day", [event("a1", "2026-03-01T10:00:00Z"),
                            event("skewed", "2031-01-01T00:00:00Z", received_at="2026-03-01T10:05:00Z")])
    assert warehouse.records("select quarantine_reason from staging.stg_events_quarantined") == [
        {"quarantine_reason": "occurred_after_received"}]
    assert str(last_load(warehouse)["watermark_after"]) == "2026-03-01 10:00:00"
    # Later loads still sessionize and conclude as usual.
    load(warehouse, "next", [event("b1", "2026-03-01T12:00:00Z")])
    assert [(s["first_event_id"], s["end_reason"]) for s in sessions(warehouse)] == [("a1", "inactivity"), ("b1", "open")]
    assert_equal_to_a_full_refresh(COMPARED, select=SELECTED)
