"""Workspace and user analytics (README "Workspace and user analytics"): dims, memberships and the period reports
against independent pandas computations, the reporting time zone at day/week/month edges, and incremental runs
equal to a full refresh."""

from functools import partial

import duckdb
import pandas as pd
import pytest

import helpers
from orchestration.dbt_invoke import DbtCommandError
from orchestration.sample_data import generate_sample

REPORTS = ["marts.rpt_user_period_activity", "marts.rpt_period_summary"]
COMPARED = ["intermediate.int_activity_quarter_hours", "intermediate.int_user_period_activity",
            "marts.fct_workspace_memberships", "marts.dim_users", "marts.dim_workspaces", *REPORTS]
# What the tests read: the compared tables, and the sessions, events and dimension staging they are recomputed from.
SELECTED = " ".join(f"+{table.split('.')[1]}" for table in COMPARED) + (
    " +fct_sessions +fct_session_events +session_id_changes +stg_users +stg_workspaces +stg_workspace_members")
MEASURES = ["session_count", "event_count", "build_count", "debug_count", "deploy_count", "factory_count",
            "invitation_count"]
EVENT_MEASURES = {"build_count": "build_started", "debug_count": "debug_started", "deploy_count": "deploy_started",
                  "factory_count": "factory_created", "invitation_count": "invitation_sent"}


# The hand-made events happen in workspace w1, project p1 unless they say otherwise.
event = partial(helpers.event, workspace_id="w1", project_id="p1")


def with_periods(frame, column, zone="UTC"):
    """One copy of each row per grain, with its period start, computed with pandas' own time zone data."""
    local = pd.to_datetime(frame[column]).dt.tz_localize("UTC").dt.tz_convert(zone).dt.tz_localize(None)
    day = local.dt.normalize()
    starts = {"day": day, "week": day - pd.to_timedelta(day.dt.day_of_week, unit="D"),
              "month": day.dt.to_period("M").dt.to_timestamp(), "lifetime": pd.Series(pd.NaT, index=frame.index)}
    return pd.concat([frame.assign(grain=grain, period_start=start) for grain, start in starts.items()],
                     ignore_index=True)


def expected_user_periods(warehouse, zone="UTC"):
    events = warehouse.query("select * from marts.fct_session_events")
    sessions = warehouse.query("select user_id, session_start_at, duration_seconds from marts.fct_sessions")
    keys = ["grain", "period_start", "user_id"]
    events = with_periods(events, "occurred_at", zone)
    for measure, name in EVENT_MEASURES.items():
        events[measure] = (events["event_name"] == name).astype(int)
    by_user = events.groupby(keys, dropna=False).agg(
        event_count=("event_id", "count"), active_workspace_count=("workspace_id", "nunique"),
        active_project_count=("project_id", "nunique"), **{m: (m, "sum") for m in EVENT_MEASURES})
    by_session = with_periods(sessions, "session_start_at", zone).groupby(keys, dropna=False).agg(
        session_count=("user_id", "count"), usage_seconds=("duration_seconds", "sum"))
    joined = by_user.join(by_session).fillna({"session_count": 0, "usage_seconds": 0.0}).reset_index()
    joined["period_start"] = joined["period_start"].astype("datetime64[ns]")
    return joined, events


def actual_user_periods(warehouse):
    return warehouse.query("select * from marts.rpt_user_period_activity")


def assert_user_periods_match(warehouse, zone="UTC"):
    expected, events = expected_user_periods(warehouse, zone)
    actual = actual_user_periods(warehouse)
    actual["period_start"] = pd.to_datetime(actual["period_start"]).astype("datetime64[ns]")
    keys = ["grain", "period_start", "user_id"]
    columns = keys + MEASURES + ["active_workspace_count", "active_project_count"]
    left = actual[columns].sort_values(keys, na_position="first").reset_index(drop=True)
    right = expected[columns].sort_values(keys, na_position="first").reset_index(drop=True)
    pd.testing.assert_frame_equal(left, right, check_dtype=False)
    merged = actual.merge(expected[keys + ["usage_seconds"]], on=keys, suffixes=("", "_expected"))
    assert (merged["usage_seconds"] - merged["usage_seconds_expected"]).abs().max() < 1e-6
    assert (actual["usage_minutes"] * 60 - actual["usage_seconds"]).abs().max() < 1e-6
    return actual, events


def assert_distinct_activity_matches(warehouse, events):
    """rpt_period_summary's distinct active workspaces and projects per period, against events (with_periods)."""
    summary = warehouse.query("select * from marts.rpt_period_summary")
    summary["period_start"] = pd.to_datetime(summary["period_start"]).astype("datetime64[ns]")
    keys = ["grain", "period_start"]
    expected = events.groupby(keys, dropna=False).agg(
        active_workspace_count=("workspace_id", "nunique"), active_project_count=("project_id", "nunique"))
    actual = summary.set_index(keys)[list(expected.columns)]
    pd.testing.assert_frame_equal(actual.sort_index(), expected.sort_index(), check_dtype=False)
    return summary


def test_period_reports_dims_and_memberships_match_pandas(sample_warehouse):
    """On the shared sample (tests/conftest.py)."""
    warehouse = sample_warehouse
    actual, events = assert_user_periods_match(warehouse)
    assert set(actual["grain"]) == {"day", "week", "month", "lifetime"}
    assert (actual["time_zone"] == "UTC").all()

    # Filters a BI tool applies to the per-user grain give the direct computation from staging and fct tables.
    users = warehouse.query("select * from staging.stg_users")
    fct = warehouse.query("select * from marts.fct_session_events")
    sessions = warehouse.query("select * from marts.fct_sessions")
    dim_users = warehouse.query("select user_id, organization_id from marts.dim_users")
    lifetime = actual[actual["grain"] == "lifetime"]
    domain = users["email_domain"].value_counts().index[0]
    company = users["company"].dropna().value_counts().index[0]
    organization = dim_users["organization_id"].dropna().value_counts().index[0]
    for column, value, ids in [
        ("email_domain", domain, set(users.loc[users["email_domain"] == domain, "user_id"])),
        ("company", company, set(users.loc[users["company"] == company, "user_id"])),
        ("organization_id", organization, set(dim_users.loc[dim_users["organization_id"] == organization, "user_id"])),
    ]:
        chosen = lifetime[lifetime[column] == value]
        assert len(chosen) > 0, column
        their_events = fct[fct["user_id"].isin(ids)]
        their_sessions = sessions[sessions["user_id"].isin(ids)]
        assert chosen["event_count"].sum() == len(their_events), column
        assert chosen["build_count"].sum() == (their_events["event_name"] == "build_started").sum(), column
        assert chosen["session_count"].sum() == len(their_sessions), column
        assert abs(chosen["usage_minutes"].sum() - their_sessions["duration_seconds"].sum() / 60) < 1e-6, column
        assert len(chosen) == their_events["user_id"].nunique(), column
    # A daily filter too: one domain on one day.
    day = actual[(actual["grain"] == "day") & (actual["email_domain"] == domain)]
    first_day = day["period_start"].min()
    direct = fct[fct["user_id"].isin(set(users.loc[users["email_domain"] == domain, "user_id"]))
                 & (pd.to_datetime(fct["occurred_at"]).dt.normalize() == first_day)]
    assert day.loc[day["period_start"] == first_day, "event_count"].sum() == len(direct)

    # The summary: totals of the per-user grain, distinct workspaces and projects, accounts as of the period end.
    summary = assert_distinct_activity_matches(warehouse, events)
    dim_all = warehouse.query("select * from marts.dim_users")
    workspaces = warehouse.query("select * from marts.dim_workspaces")
    for row in summary.itertuples():
        if row.grain == "lifetime":
            in_period = events[events["grain"] == "lifetime"]
            end = None
        else:
            in_period = events[(events["grain"] == row.grain) & (events["period_start"] == row.period_start)]
            end = pd.Timestamp(row.period_end)
        assert row.active_user_count == in_period["user_id"].nunique()
        assert row.event_count == len(in_period)
        assert row.factory_count == (in_period["event_name"] == "factory_created").sum()
        assert row.invitation_count == (in_period["event_name"] == "invitation_sent").sum()
        since_users = dim_all["registered_at"].fillna(dim_all["first_seen_at"])
        since_workspaces = workspaces["created_at"].fillna(workspaces["first_seen_at"])
        assert row.user_account_count == (len(dim_all) if end is None else (since_users < end).sum())
        assert row.workspace_count == (len(workspaces) if end is None else (since_workspaces < end).sum())
    totals = actual.groupby(["grain", "period_start"], dropna=False)[MEASURES].sum().reset_index()
    merged = summary.merge(totals, on=["grain", "period_start"], suffixes=("", "_users"))
    assert len(merged) == len(summary) == len(totals)
    for measure in MEASURES:
        assert (merged[measure] == merged[f"{measure}_users"]).all(), measure

    # Memberships: owners are admins, members keep admin, everyone else is a developer.
    owners = warehouse.query("select workspace_id, owner_user_id as user_id from staging.stg_workspaces "
                             "where owner_user_id is not null")
    members = warehouse.query("select workspace_id, user_id, role from staging.stg_workspace_members")
    expected = pd.concat([owners.assign(role="admin"),
                          members.assign(role=members["role"].where(members["role"] == "admin", "developer"))])
    expected = expected.sort_values("role").drop_duplicates(["workspace_id", "user_id"])  # admin first
    memberships = warehouse.query("select workspace_id, user_id, role from marts.fct_workspace_memberships")
    key = ["workspace_id", "user_id"]
    pd.testing.assert_frame_equal(memberships.sort_values(key).reset_index(drop=True),
                                  expected.sort_values(key).reset_index(drop=True), check_dtype=False)

    # dim_users and dim_workspaces: the new columns.
    dims = dim_all.set_index("user_id")
    for user_id, group in fct.groupby("user_id"):
        assert dims.at[user_id, "project_count"] == group["project_id"].nunique()
        assert dims.at[user_id, "active_workspace_count"] == group["workspace_id"].nunique()
        assert dims.at[user_id, "first_activity_at"] == group["occurred_at"].min()
        assert dims.at[user_id, "last_activity_at"] == group["occurred_at"].max()
    workspace_counts = memberships.groupby("user_id").size()
    assert (dims["workspace_count"] == workspace_counts.reindex(dims.index).fillna(0)).all()
    assert (abs(dims["usage_minutes"] * 60 - dims["total_session_seconds"]) < 1e-6).all()
    ws = workspaces.set_index("workspace_id")
    for workspace_id, group in fct.dropna(subset=["workspace_id"]).groupby("workspace_id"):
        assert ws.at[workspace_id, "active_project_count"] == group["project_id"].nunique()
        for measure, name in EVENT_MEASURES.items():
            if measure != "invitation_count":
                assert ws.at[workspace_id, measure] == (group["event_name"] == name).sum(), measure
        assert ws.at[workspace_id, "last_activity_at"] == group["occurred_at"].max()
    assert (ws["membership_count"] == memberships.groupby("workspace_id").size().reindex(ws.index).fillna(0)).all()


def test_periods_follow_the_reporting_time_zone_at_day_week_and_month_edges(warehouse):
    zone = {"reporting_time_zone": "America/Los_Angeles"}
    # 2026-11-01 is a Sunday; daylight saving ends that day at 09:00 UTC (02:00 PDT -> 01:00 PST).
    warehouse.write_jsonl("events/edges.jsonl", [
        event("e1", "2026-11-01T06:59:59.999999Z", name="build_started"),  # Sat 2026-10-31 23:59:59 PDT: October
        event("e2", "2026-11-01T07:00:00Z", name="deploy_started"),  # Sun 2026-11-01 00:00 PDT: November, same week
        # Sun 2026-11-01 23:59:59 PST in another workspace: local Nov 1 has two; counted by UTC date, one.
        event("e3", "2026-11-02T07:59:59Z", name="debug_started", workspace_id="w2", project_id="p2"),
        event("e4", "2026-11-02T08:00:00Z", name="factory_created"),  # Mon 2026-11-02 00:00 PST: a new week
        event("e5", "2026-11-30T08:00:00Z", "u2", "invitation_sent"),  # Mon 2026-11-30 00:00 PST
        event("e6", "2026-12-01T07:59:59Z", "u2", "ide_search"),  # Mon 2026-11-30 23:59:59 PST
        event("e7", "2026-12-01T08:00:00Z", "u2", "ide_search"),  # Tue 2026-12-01 00:00 PST: December
    ])
    warehouse.build(select=SELECTED, dbt_vars=zone)
    _, events = assert_user_periods_match(warehouse, "America/Los_Angeles")
    assert_distinct_activity_matches(warehouse, events)
    rows = warehouse.records("select grain, cast(period_start as varchar) as period_start, "
                             "cast(period_end as varchar) as period_end, user_id, event_count, build_count, "
                             "deploy_count, debug_count, factory_count, invitation_count, time_zone "
                             "from marts.rpt_user_period_activity where grain <> 'lifetime'")
    got = {(r["grain"], r["period_start"], r["user_id"]): r["event_count"] for r in rows}
    assert got == {
        ("day", "2026-10-31", "u1"): 1, ("day", "2026-11-01", "u1"): 2, ("day", "2026-11-02", "u1"): 1,
        ("week", "2026-10-26", "u1"): 3, ("week", "2026-11-02", "u1"): 1,
        ("month", "2026-10-01", "u1"): 1, ("month", "2026-11-01", "u1"): 3,
        ("day", "2026-11-30", "u2"): 2, ("day", "2026-12-01", "u2"): 1,
        ("week", "2026-11-30", "u2"): 3, ("month", "2026-11-01", "u2"): 2, ("month", "2026-12-01", "u2"): 1,
    }
    ends = {(r["grain"], r["period_start"]): r["period_end"] for r in rows}
    assert ends[("week", "2026-10-26")] == "2026-11-02" and ends[("month", "2026-11-01")] == "2026-12-01"
    assert {r["time_zone"] for r in rows} == {"America/Los_Angeles"}
    october = [r for r in rows if (r["grain"], r["period_start"]) == ("month", "2026-10-01")]
    assert [(r["build_count"], r["deploy_count"]) for r in october] == [(1, 0)]

    # Accounts as of the period end: u1 (first seen 2026-11-01 06:59:59 UTC) exists at the end of local
    # 2026-10-31, which is 2026-11-01 07:00 UTC; u2 only from the 30th.
    summary = {(r["grain"], r["period_start"]): r for r in warehouse.records(
        "select grain, cast(period_start as varchar) as period_start, user_account_count, active_user_count "
        "from marts.rpt_period_summary")}
    assert summary[("day", "2026-10-31")]["user_account_count"] == 1
    assert summary[("month", "2026-11-01")]["user_account_count"] == 2
    assert summary[("month", "2026-11-01")]["active_user_count"] == 2
    assert summary[("lifetime", None)]["active_user_count"] == 2


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "UTC'; drop table x; --", ""])
def test_a_bad_reporting_time_zone_stops_the_build_naming_the_var(warehouse, zone, capfd):
    warehouse.write_jsonl("events/one.jsonl", [event("e1", "2026-11-01T10:00:00Z")])
    with pytest.raises(DbtCommandError):
        warehouse.build(select="rpt_period_summary", dbt_vars={"reporting_time_zone": zone})
    assert "reporting_time_zone" in capfd.readouterr().out


def test_incremental_loads_equal_a_full_refresh(warehouse, tmp_path, assert_equal_to_a_full_refresh):
    # A generated sample cut into three arrival batches: later batches bring new days and late events that merge,
    # split and extend earlier sessions.
    source = tmp_path / "source"
    generate_sample(source, users=12, days=8, seed=11)
    for dimension in source.iterdir():
        if dimension.name != "events":
            (warehouse.landing / dimension.name).write_bytes(dimension.read_bytes())
    files = [str(path) for path in (source / "events").rglob("*.parquet")]
    events_dir = warehouse.landing / "events"
    events_dir.mkdir()
    batches = [
        "occurred_at < timestamp '2026-10-04' and hash(event_id) % 10 <> 0",
        "occurred_at < timestamp '2026-10-07' and hash(event_id) % 10 <> 1 and not "
        "(occurred_at < timestamp '2026-10-04' and hash(event_id) % 10 <> 0)",
        "not (occurred_at < timestamp '2026-10-07' and hash(event_id) % 10 <> 1) and not "
        "(occurred_at < timestamp '2026-10-04' and hash(event_id) % 10 <> 0)",
    ]
    for number, condition in enumerate(batches):
        with duckdb.connect() as con:
            con.execute("set TimeZone = 'UTC'")
            con.execute(f"copy (select * from read_parquet({files!r}, union_by_name = true) where {condition}) "
                        f"to '{events_dir / f'batch{number}.parquet'}' (format parquet)")
        warehouse.build(select=SELECTED, dbt_vars={"reporting_time_zone": "Asia/Kolkata"})
        if number == 1:
            assert warehouse.records("select count(*) as n from marts.session_id_changes")[0]["n"] > 0
    assert_user_periods_match(warehouse, "Asia/Kolkata")

    refreshed = assert_equal_to_a_full_refresh(COMPARED, {"reporting_time_zone": "Asia/Kolkata"}, select=SELECTED)
    assert all(refreshed.values())


def test_late_events_across_period_edges_a_changed_user_and_a_new_zone_equal_a_full_refresh(
        warehouse, assert_equal_to_a_full_refresh):
    # Monday 2026-06-01 starts a day, a week and a month (UTC). u1 has two sessions that day, 00:05 and 01:00.
    header = "user_id,email,first_name,last_name,company,organization_id,registered_at\n"
    users = warehouse.landing / "users.csv"
    users.write_text(header + "u1,ann@old.example,Ann,One,Old,o1,2026-01-01T00:00:00Z\n")
    warehouse.write_jsonl("events/one.jsonl", [
        event("e1", "2026-06-01T00:05:00Z"), event("e2", "2026-06-01T00:10:00Z"),
        event("e3", "2026-06-01T01:00:00Z", name="build_started", workspace_id="w2"),
        event("f1", "2026-05-20T10:00:00Z", "u2"), event("f2", "2026-06-02T10:00:00Z", "u2", project_id="p2"),
    ])
    warehouse.build(select=SELECTED)
    assert_user_periods_match(warehouse)
    # Late: l1 moves u1's first session back into Sunday May 31 (another day, week and month); l2 bridges it to the
    # 01:00 session, whose id goes. The users file moves u1 to another company, domain and organization.
    users.write_text(header + "u1,ann@new.example,Ann,One,New,o2,2026-01-01T00:00:00Z\n")
    warehouse.write_jsonl("events/two.jsonl", [event("l1", "2026-05-31T23:50:00Z"),
                                               event("l2", "2026-06-01T00:35:00Z")])
    warehouse.build(select=SELECTED)
    assert warehouse.records("select count(*) as n, min(session_start_at)::varchar as start from marts.fct_sessions "
                             "where user_id = 'u1'") == [{"n": 1, "start": "2026-05-31 23:50:00"}]
    assert warehouse.records("select count(distinct old_session_id) as n from marts.session_id_changes "
                             "where is_old_session_id_retired")[0]["n"] == 2
    actual, _ = assert_user_periods_match(warehouse)
    u1 = actual[actual["user_id"] == "u1"]
    assert set(u1["company"]) == {"New"} and set(u1["email_domain"]) == {"new.example"}
    # The merged session counts in May; June keeps u1's events but no session start.
    months = u1[u1["grain"] == "month"]
    assert dict(zip(months["period_start"].dt.strftime("%Y-%m-%d"), months["session_count"])) == {
        "2026-05-01": 1, "2026-06-01": 0}
    # A new day under another reporting zone rebuilds every period in it.
    warehouse.write_jsonl("events/three.jsonl", [event("g1", "2026-06-03T07:30:00Z", "u2")])
    zone = {"reporting_time_zone": "America/Los_Angeles"}
    warehouse.build(select=SELECTED, dbt_vars=zone)
    _, events = assert_user_periods_match(warehouse, "America/Los_Angeles")
    assert_distinct_activity_matches(warehouse, events)

    assert_equal_to_a_full_refresh(COMPARED, zone, select=SELECTED)

def test_an_empty_landing_builds_empty_reports(warehouse):
    warehouse.build(select=SELECTED)
    for table in COMPARED:
        assert warehouse.records(f"select count(*) as n from {table}")[0]["n"] == 0, table
