"""Workspace sessions and focus time (README "Workspace sessions and focus time"): fct_workspace_sessions and
fct_micro_sessions against an independent pandas computation on generated data, at their boundaries on hand-made
events, for var validation, and for incremental exactness across batched loads with late focus and blur events."""

import shutil
from functools import partial

import pandas as pd
import pytest

import helpers
from helpers import land_sample_files, md5
from orchestration.dbt_invoke import DbtCommandError
from orchestration.sample_data import generate_sample

SECOND_US = 1_000_000
TIMEOUT_US = 600 * SECOND_US
MARTS = ["marts.fct_workspace_sessions", "marts.fct_micro_sessions"]
# What the tests read: the marts, and the session events and workspaces they are recomputed from.
SELECTED = "+fct_workspace_sessions +fct_micro_sessions +fct_session_events +dim_workspaces"
# Timestamps as epoch microseconds and durations as whole microseconds: exact comparisons.
WORKSPACE_SESSIONS_SQL = """
    select workspace_session_id, session_id, user_id, organization_id, workspace_id, workspace_name,
        epoch_us(started_at) as start_us, epoch_us(ended_at) as end_us,
        round(duration_seconds * 1000000)::bigint as duration_us, event_count, start_reason, end_reason,
        micro_session_count, round(focused_seconds * 1000000)::bigint as focused_us,
        round(away_seconds * 1000000)::bigint as away_us, session_date::varchar as session_date
    from marts.fct_workspace_sessions"""
MICRO_SESSIONS_SQL = """
    select micro_session_id, workspace_session_id, session_id, user_id, organization_id, workspace_id,
        micro_session_number, epoch_us(started_at) as start_us, epoch_us(ended_at) as end_us,
        round(focused_seconds * 1000000)::bigint as focused_us,
        round(cumulative_focused_seconds * 1000000)::bigint as cumulative_focused_us,
        round(session_elapsed_seconds * 1000000)::bigint as session_elapsed_us, ended_by, event_count
    from marts.fct_micro_sessions"""


# The hand-made events happen in workspace w1 of organization o1 unless they say otherwise.
event = partial(helpers.event, workspace_id="w1", organization_id="o1")


def first_non_null(values: pd.Series):
    values = values.dropna()
    return values.iloc[0] if len(values) else None


def expected_marts(warehouse, timeout_us=TIMEOUT_US):
    """Both marts recomputed in pandas from fct_session_events and dim_workspaces, as dicts keyed by id.

    Per user, dwell session and workspace, events ordered by time then event id; a gap strictly greater than the
    timeout starts a new workspace session. An event's focus period is 1 + the workspace_blur events before it in
    its workspace session."""
    events = warehouse.query(
        "select event_id, user_id, session_id, workspace_id, organization_id, event_name, epoch_us(occurred_at) as us "
        "from marts.fct_session_events where workspace_id is not null")
    events = events.sort_values(["user_id", "session_id", "workspace_id", "us", "event_id"]).reset_index(drop=True)
    keys = ["user_id", "session_id", "workspace_id"]
    gap = events.groupby(keys).us.diff()
    events["piece"] = (gap.isna() | (gap > timeout_us)).astype(int).groupby(
        [events[key] for key in keys]).cumsum()
    events["last_piece"] = events.groupby(keys).piece.transform("max")
    pieces = events.groupby([*keys, "piece"])
    events["workspace_session_id"] = [md5(*row) for row in zip(
        events.user_id, events.session_id, events.workspace_id, pieces.event_id.transform("first"))]
    events["session_start_us"] = pieces.us.transform("min")
    blur = (events.event_name == "workspace_blur").astype(int)
    events["period"] = events.assign(blur=blur).groupby("workspace_session_id").blur.cumsum() - blur + 1
    events["is_blur"] = blur.astype(bool)

    micro = {}
    for (session, period), rows in events.groupby(["workspace_session_id", "period"], sort=False):
        first = rows.iloc[0]
        micro[md5(session, first.event_id)] = {
            "workspace_session_id": session, "session_id": first.session_id, "user_id": first.user_id,
            "organization_id": first_non_null(rows.organization_id),
            "workspace_id": first.workspace_id, "micro_session_number": int(period),
            "start_us": int(rows.us.min()), "end_us": int(rows.us.max()),
            "focused_us": int(rows.us.max() - rows.us.min()),
            "session_elapsed_us": int(rows.us.max() - first.session_start_us),
            "ended_by": "blur" if rows.is_blur.any() else "session_end", "event_count": len(rows)}
    cumulative = {}
    for micro_id, row in sorted(micro.items(), key=lambda item: item[1]["micro_session_number"]):
        cumulative[row["workspace_session_id"]] = cumulative.get(row["workspace_session_id"], 0) + row["focused_us"]
        row["cumulative_focused_us"] = cumulative[row["workspace_session_id"]]

    names = {row["workspace_id"]: row["workspace_name"]
             for row in warehouse.records("select workspace_id, workspace_name from marts.dim_workspaces")}
    sessions = {}
    for session, rows in events.groupby("workspace_session_id", sort=False):
        first = rows.iloc[0]
        periods = [row for row in micro.values() if row["workspace_session_id"] == session]
        duration = int(rows.us.max() - rows.us.min())
        focused = sum(row["focused_us"] for row in periods)
        sessions[session] = {
            "session_id": first.session_id, "user_id": first.user_id,
            "organization_id": first_non_null(rows.organization_id),
            "workspace_id": first.workspace_id, "workspace_name": names[first.workspace_id],
            "start_us": int(rows.us.min()), "end_us": int(rows.us.max()), "duration_us": duration,
            "event_count": len(rows), "start_reason": "first_event" if first.piece == 1 else "inactivity",
            "end_reason": "last_event" if first.piece == first.last_piece else "inactivity",
            "micro_session_count": len(periods), "focused_us": focused, "away_us": duration - focused,
            "session_date": pd.Timestamp(int(rows.us.min()), unit="us").date().isoformat()}
    return sessions, micro


def actual_marts(warehouse):
    sessions = {row.pop("workspace_session_id"): row for row in warehouse.records(WORKSPACE_SESSIONS_SQL)}
    micro = {row.pop("micro_session_id"): row for row in warehouse.records(MICRO_SESSIONS_SQL)}
    return sessions, micro


# --- generated data against pandas -------------------------------------------------------------------------------

def test_marts_match_pandas_on_generated_sample(sample_warehouse):
    warehouse = sample_warehouse
    sessions, micro = actual_marts(warehouse)
    expected_sessions, expected_micro = expected_marts(warehouse)
    assert sessions == expected_sessions
    assert micro == expected_micro
    # The sample exercises what matters: blurs end focus periods, long returns split workspace sessions inside one
    # dwell session, and every workspace session covers every event of its workspace.
    assert len(sessions) > 100
    assert sum(row["ended_by"] == "blur" for row in micro.values()) > 20
    assert sum(row["start_reason"] == "inactivity" for row in sessions.values()) > 5
    assert sum(row["away_us"] > 0 for row in sessions.values()) > 20
    assert any(row["workspace_name"] for row in sessions.values())
    total = warehouse.records("select count(*) as n from marts.fct_session_events where workspace_id is not null")
    assert sum(row["event_count"] for row in sessions.values()) == total[0]["n"]
    # Listed chronologically.
    listed = warehouse.records("select started_at, user_id, workspace_session_id from marts.fct_workspace_sessions")
    assert listed == sorted(listed, key=lambda row: (row["started_at"], row["user_id"], row["workspace_session_id"]))


# --- boundaries on hand-made events ------------------------------------------------------------------------------

def test_gap_rules_focus_periods_and_their_edge_cases(warehouse):
    (warehouse.landing / "workspaces.csv").write_text(
        "workspace_id,name,organization_id,owner_user_id,created_at\nw1,Payments,o1,u1,2026-01-01\n")
    warehouse.write_jsonl("events/edges.jsonl", [
        # u1, w1, one dwell session (gaps under 30 min). Away 10:05 -> 10:15 is exactly the 10-minute timeout: the
        # workspace session goes on, away time counted in its duration, not in focus time. The return at
        # 10:35:00.000001 is one microsecond past it: a new workspace session, whose blur is its last event. The
        # w9 event and the event without a workspace neither bridge nor split w1's gaps.
        event("a1", "2026-10-05T10:00:00Z"),
        event("a2", "2026-10-05T10:05:00Z", name="workspace_blur"),
        event("n1", "2026-10-05T10:08:00Z", workspace_id=None),
        event("a3", "2026-10-05T10:15:00Z", name="workspace_focus"),
        event("a4", "2026-10-05T10:20:00Z"),
        event("a5", "2026-10-05T10:25:00Z", name="workspace_blur"),
        event("k1", "2026-10-05T10:30:00Z", workspace_id="w9"),
        event("a6", "2026-10-05T10:35:00.000001Z", name="workspace_focus"),
        event("a7", "2026-10-05T10:40:00Z", name="workspace_blur"),
        event("a8", "2026-10-05T10:55:00Z"),
        # u2: a blur as first event, two blurs in a row (each a 0-second period), identical timestamps ordered by
        # event id (blur b5 before b6: b6 starts the next period; b7 before blur b8: same period).
        event("b1", "2026-10-05T09:00:00Z", "u2", "workspace_blur"),
        event("b2", "2026-10-05T09:01:00Z", "u2", "workspace_blur"),
        event("b3", "2026-10-05T09:03:00Z", "u2", "workspace_focus"),
        event("b5", "2026-10-05T09:04:00Z", "u2", "workspace_blur"),
        event("b6", "2026-10-05T09:04:00Z", "u2"),
        event("b7", "2026-10-05T09:06:00Z", "u2"),
        event("b8", "2026-10-05T09:06:00Z", "u2", "workspace_blur"),
        # u3: a focus without an earlier blur does not start a period; across midnight, one workspace session that
        # counts on the day it starts.
        event("c1", "2026-10-05T23:55:00Z", "u3"),
        event("c2", "2026-10-05T23:57:00Z", "u3", "workspace_focus"),
        event("c3", "2026-10-05T23:58:00Z", "u3", "workspace_blur"),
        event("c4", "2026-10-06T00:05:00Z", "u3", "workspace_focus"),
        event("c5", "2026-10-06T00:06:00Z", "u3"),
        # u4: a login (restart event) starts a new dwell session, and so ends the workspace session, 2 min later.
        event("d1", "2026-10-05T12:00:00Z", "u4"),
        event("d2", "2026-10-05T12:02:00Z", "u4", "login"),
    ])
    warehouse.build(select=SELECTED)

    sessions = warehouse.records(
        "select user_id, workspace_id, workspace_name, started_at::varchar as started, "
        "round(duration_seconds * 1000000)::bigint as duration_us, round(focused_seconds * 1000000)::bigint as focused_us, "
        "round(away_seconds * 1000000)::bigint as away_us, event_count, micro_session_count, start_reason, end_reason, "
        "session_date::varchar as day from marts.fct_workspace_sessions")
    minute = 60 * SECOND_US
    assert sessions == [
        {"user_id": "u2", "workspace_id": "w1", "workspace_name": "Payments", "started": "2026-10-05 09:00:00",
         "duration_us": 6 * minute, "focused_us": 3 * minute, "away_us": 3 * minute, "event_count": 7,
         "micro_session_count": 4, "start_reason": "first_event", "end_reason": "last_event", "day": "2026-10-05"},
        {"user_id": "u1", "workspace_id": "w1", "workspace_name": "Payments", "started": "2026-10-05 10:00:00",
         "duration_us": 25 * minute, "focused_us": 15 * minute, "away_us": 10 * minute, "event_count": 5,
         "micro_session_count": 2, "start_reason": "first_event", "end_reason": "inactivity", "day": "2026-10-05"},
        {"user_id": "u1", "workspace_id": "w9", "workspace_name": None, "started": "2026-10-05 10:30:00",
         "duration_us": 0, "focused_us": 0, "away_us": 0, "event_count": 1,
         "micro_session_count": 1, "start_reason": "first_event", "end_reason": "last_event", "day": "2026-10-05"},
        {"user_id": "u1", "workspace_id": "w1", "workspace_name": "Payments", "started": "2026-10-05 10:35:00.000001",
         "duration_us": 5 * minute - 1, "focused_us": 5 * minute - 1, "away_us": 0, "event_count": 2,
         "micro_session_count": 1, "start_reason": "inactivity", "end_reason": "inactivity", "day": "2026-10-05"},
        {"user_id": "u1", "workspace_id": "w1", "workspace_name": "Payments", "started": "2026-10-05 10:55:00",
         "duration_us": 0, "focused_us": 0, "away_us": 0, "event_count": 1,
         "micro_session_count": 1, "start_reason": "inactivity", "end_reason": "last_event", "day": "2026-10-05"},
        {"user_id": "u4", "workspace_id": "w1", "workspace_name": "Payments", "started": "2026-10-05 12:00:00",
         "duration_us": 0, "focused_us": 0, "away_us": 0, "event_count": 1,
         "micro_session_count": 1, "start_reason": "first_event", "end_reason": "last_event", "day": "2026-10-05"},
        {"user_id": "u4", "workspace_id": "w1", "workspace_name": "Payments", "started": "2026-10-05 12:02:00",
         "duration_us": 0, "focused_us": 0, "away_us": 0, "event_count": 1,
         "micro_session_count": 1, "start_reason": "first_event", "end_reason": "last_event", "day": "2026-10-05"},
        {"user_id": "u3", "workspace_id": "w1", "workspace_name": "Payments", "started": "2026-10-05 23:55:00",
         "duration_us": 11 * minute, "focused_us": 4 * minute, "away_us": 7 * minute, "event_count": 5,
         "micro_session_count": 2, "start_reason": "first_event", "end_reason": "last_event", "day": "2026-10-05"},
    ]
    assert len(warehouse.records("select distinct session_id from marts.fct_workspace_sessions where user_id = 'u4'")) == 2

    periods = warehouse.records(
        "select user_id, micro_session_number as n, started_at::varchar as started, ended_at::varchar as ended, "
        "round(focused_seconds * 1000000)::bigint as focused_us, "
        "round(cumulative_focused_seconds * 1000000)::bigint as cumulative_us, "
        "round(session_elapsed_seconds * 1000000)::bigint as elapsed_us, ended_by, event_count "
        "from marts.fct_micro_sessions where user_id in ('u1', 'u2', 'u3') and workspace_id = 'w1' "
        "order by started_at, micro_session_number")
    assert periods == [
        {"user_id": "u2", "n": 1, "started": "2026-10-05 09:00:00", "ended": "2026-10-05 09:00:00", "focused_us": 0,
         "cumulative_us": 0, "elapsed_us": 0, "ended_by": "blur", "event_count": 1},
        {"user_id": "u2", "n": 2, "started": "2026-10-05 09:01:00", "ended": "2026-10-05 09:01:00", "focused_us": 0,
         "cumulative_us": 0, "elapsed_us": minute, "ended_by": "blur", "event_count": 1},
        {"user_id": "u2", "n": 3, "started": "2026-10-05 09:03:00", "ended": "2026-10-05 09:04:00",
         "focused_us": minute, "cumulative_us": minute, "elapsed_us": 4 * minute, "ended_by": "blur", "event_count": 2},
        {"user_id": "u2", "n": 4, "started": "2026-10-05 09:04:00", "ended": "2026-10-05 09:06:00",
         "focused_us": 2 * minute, "cumulative_us": 3 * minute, "elapsed_us": 6 * minute, "ended_by": "blur",
         "event_count": 3},
        {"user_id": "u1", "n": 1, "started": "2026-10-05 10:00:00", "ended": "2026-10-05 10:05:00",
         "focused_us": 5 * minute, "cumulative_us": 5 * minute, "elapsed_us": 5 * minute, "ended_by": "blur",
         "event_count": 2},
        {"user_id": "u1", "n": 2, "started": "2026-10-05 10:15:00", "ended": "2026-10-05 10:25:00",
         "focused_us": 10 * minute, "cumulative_us": 15 * minute, "elapsed_us": 25 * minute,
         "ended_by": "blur", "event_count": 3},
        {"user_id": "u1", "n": 1, "started": "2026-10-05 10:35:00.000001", "ended": "2026-10-05 10:40:00",
         "focused_us": 5 * minute - 1, "cumulative_us": 5 * minute - 1, "elapsed_us": 5 * minute - 1,
         "ended_by": "blur", "event_count": 2},
        {"user_id": "u1", "n": 1, "started": "2026-10-05 10:55:00", "ended": "2026-10-05 10:55:00", "focused_us": 0,
         "cumulative_us": 0, "elapsed_us": 0, "ended_by": "session_end", "event_count": 1},
        {"user_id": "u3", "n": 1, "started": "2026-10-05 23:55:00", "ended": "2026-10-05 23:58:00",
         "focused_us": 3 * minute, "cumulative_us": 3 * minute, "elapsed_us": 3 * minute, "ended_by": "blur",
         "event_count": 3},
        {"user_id": "u3", "n": 2, "started": "2026-10-06 00:05:00", "ended": "2026-10-06 00:06:00",
         "focused_us": minute, "cumulative_us": 4 * minute, "elapsed_us": 11 * minute, "ended_by": "session_end",
         "event_count": 2},
    ]


def test_organization_is_the_first_sent_in_each_period(warehouse):
    warehouse.write_jsonl("events/organizations.jsonl", [
        # Period 1: its first event sends no organization, its second o2 (at the same instant, after it by event
        # id), its third o3. Period 2 (after the blur, 1 s away): none sent at all. Period 3 (after a blur and a
        # gap past the timeout: a new workspace session): o4 from its first event, though a later one sends o5.
        event("e1", "2026-10-05T10:00:00Z", organization_id=None),
        event("e2", "2026-10-05T10:00:00Z", organization_id="o2"),
        event("e3", "2026-10-05T10:01:00Z", organization_id="o3"),
        event("e4", "2026-10-05T10:02:00Z", name="workspace_blur", organization_id=None),
        event("e5", "2026-10-05T10:02:01Z", organization_id=None),
        event("e6", "2026-10-05T10:03:00Z", name="workspace_blur", organization_id=None),
        event("e7", "2026-10-05T10:20:00Z", organization_id="o4"),
        event("e8", "2026-10-05T10:21:00Z", organization_id="o5"),
    ])
    warehouse.build(select=SELECTED)

    periods = warehouse.records(
        "select micro_session_number as n, started_at::varchar as started, organization_id, event_count "
        "from marts.fct_micro_sessions order by started_at")
    assert periods == [
        {"n": 1, "started": "2026-10-05 10:00:00", "organization_id": "o2", "event_count": 4},
        {"n": 2, "started": "2026-10-05 10:02:01", "organization_id": None, "event_count": 2},
        {"n": 1, "started": "2026-10-05 10:20:00", "organization_id": "o4", "event_count": 2},
    ]
    sessions = warehouse.records(
        "select organization_id, micro_session_count from marts.fct_workspace_sessions order by started_at")
    assert sessions == [{"organization_id": "o2", "micro_session_count": 2},
                        {"organization_id": "o4", "micro_session_count": 1}]


def test_bad_timeout_var_stops_the_build(warehouse):
    for value in [-5, 0, None]:
        with pytest.raises(DbtCommandError, match="workspace_session_timeout_seconds must be"):
            warehouse.dbt(["parse", "--quiet"], {"workspace_session_timeout_seconds": value})


# --- incremental exactness ---------------------------------------------------------------------------------------

def test_incremental_loads_equal_a_full_refresh(warehouse, tmp_path, assert_equal_to_a_full_refresh):
    sample = tmp_path / "sample"
    generate_sample(sample, users=10, days=8, seed=5)
    for path in sample.iterdir():
        if path.is_file():
            shutil.copy2(path, warehouse.landing / path.name)
    workspaces = warehouse.landing / "workspaces.csv"
    workspaces.write_text("workspace_id,name,organization_id,owner_user_id,created_at\nw1,Payments,o1,x,2026-01-01\n")

    def load(name, rows, received_before, received_from=None):
        land_sample_files(sample, warehouse.landing, received_from, received_before)
        warehouse.write_jsonl(f"events/extra/{name}.jsonl", rows)
        warehouse.build(select=SELECTED)

    def workspace_sessions(user):
        return warehouse.records(
            "select event_count, micro_session_count, round(away_seconds)::bigint as away, workspace_name "
            f"from marts.fct_workspace_sessions where user_id = '{user}' order by started_at")

    # x: a blur and a return 15 minutes later, so two workspace sessions in one dwell session. y: one workspace
    # session of three events 8 minutes apart.
    load("first", [event("x1", "2026-10-02T10:00:00Z", "x"),
                   event("x2", "2026-10-02T10:05:00Z", "x", "workspace_blur"),
                   event("x3", "2026-10-02T10:20:00Z", "x", "workspace_focus"),
                   event("x4", "2026-10-02T10:22:00Z", "x"),
                   event("y1", "2026-10-02T10:00:00Z", "y"),
                   event("y2", "2026-10-02T10:08:00Z", "y"),
                   event("y3", "2026-10-02T10:16:00Z", "y")], "2026-10-04")
    assert workspace_sessions("x") == [{"event_count": 2, "micro_session_count": 1, "away": 0, "workspace_name": "Payments"},
                                       {"event_count": 2, "micro_session_count": 1, "away": 0, "workspace_name": "Payments"}]
    # Late: an event in x's away time merges the two workspace sessions (it starts the second focus period); a late
    # blur splits y's focus time without splitting its workspace session.
    late = "2026-10-05T08:00:00Z"
    load("second", [event("m1", "2026-10-02T10:12:00Z", "x", received_at=late),
                    event("m2", "2026-10-02T10:09:00Z", "y", "workspace_blur", received_at=late)],
         "2026-10-07", "2026-10-04")
    assert workspace_sessions("x") == [{"event_count": 5, "micro_session_count": 2, "away": 420, "workspace_name": "Payments"}]
    assert workspace_sessions("y") == [{"event_count": 4, "micro_session_count": 2, "away": 420, "workspace_name": "Payments"}]
    # Late: a login splits y's dwell session and so its workspace session; a blur before x's first event extends
    # x's workspace session backwards (a new first event, a new id). The workspace is renamed.
    workspaces.write_text("workspace_id,name,organization_id,owner_user_id,created_at\nw1,Billing,o1,x,2026-02-01\n")
    load("third", [event("r1", "2026-10-02T10:12:00Z", "y", "login", received_at="2026-10-08T08:00:00Z"),
                   event("z0", "2026-10-02T09:58:00Z", "x", "workspace_blur", received_at="2026-10-08T08:00:00Z")],
         "2026-12-31", "2026-10-07")
    assert workspace_sessions("x") == [{"event_count": 6, "micro_session_count": 3, "away": 540, "workspace_name": "Billing"}]
    assert [row["event_count"] for row in workspace_sessions("y")] == [3, 2]

    incremental = warehouse.tables(MARTS)
    assert all(incremental[table] for table in MARTS)
    assert actual_marts(warehouse) == expected_marts(warehouse)
    assert_equal_to_a_full_refresh(MARTS, select=SELECTED)
