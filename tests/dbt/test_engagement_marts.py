"""Engagement marts (README "Engagement marts"): each checked against an independent pandas computation on generated
data, at their boundaries on hand-made events, for var validation, and for incremental exactness across batched
loads with late events."""

import shutil

import numpy as np
import pandas as pd
import pytest

from helpers import event, land_sample_files
from orchestration.dbt_invoke import DbtCommandError
from orchestration.sample_data import generate_sample

ENGAGEMENT_TABLES = ["marts.rpt_daily_sessions", "marts.rpt_session_length_distribution", "marts.fct_session_breaks",
                     "marts.rpt_break_patterns", "marts.fct_page_views", "marts.rpt_inactive_users",
                     "marts.sessions_concluded", "intermediate.int_session_idle_gaps"]
DEFAULT_EDGES = [10, 60, 300, 900, 1800, 3600, 7200]
SECOND_US = 1_000_000
DAY_US = 86_400 * SECOND_US
# What the tests read: the engagement tables, and the sessions, events and users they are recomputed from.
SELECTED = " ".join(f"+{table.split('.')[1]}" for table in ENGAGEMENT_TABLES) + (
    " +fct_sessions +fct_session_events +session_id_changes +stg_users")


def sorted_frame(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys).reset_index(drop=True)


def assert_same(actual: pd.DataFrame, expected: pd.DataFrame, keys: list[str], name: str) -> None:
    assert list(actual.columns) == list(expected.columns), name
    for date_column in {"day", "session_date"} & set(actual.columns):
        actual, expected = (frame.assign(**{date_column: pd.to_datetime(frame[date_column])})
                            for frame in (actual, expected))
    pd.testing.assert_frame_equal(sorted_frame(actual, keys), sorted_frame(expected, keys), check_dtype=False,
                                  rtol=1e-12, atol=1e-9, obj=name)


def session_events_in_order(warehouse) -> pd.DataFrame:
    events = warehouse.query("select session_id, user_id, event_id, event_name, page, occurred_at, session_start_at, "
                             "epoch_us(occurred_at) as occurred_us from marts.fct_session_events")
    return events.sort_values(["session_id", "occurred_us", "event_id"]).reset_index(drop=True)


def expected_idle_gaps(events: pd.DataFrame, idle_gap_seconds: float = 300) -> pd.DataFrame:
    gap_us = events.occurred_us - events.groupby("session_id").occurred_us.shift(1)
    gaps = events.assign(gap_us=gap_us)
    gaps = gaps[gaps.gap_us >= round(idle_gap_seconds * SECOND_US)]
    return gaps.assign(gap_seconds=gaps.gap_us / SECOND_US, day=gaps.session_start_at.dt.normalize())


# --- generated data against pandas -------------------------------------------------------------------------------

def test_marts_match_pandas_on_generated_sample(sample_warehouse):
    """On the shared sample (tests/conftest.py), built with inactive_after_days 3."""
    warehouse = sample_warehouse

    sessions = warehouse.query("select *, epoch_us(session_start_at) as start_us, epoch_us(session_end_at) as end_us "
                               "from marts.fct_sessions")
    sessions["session_date"] = pd.to_datetime(sessions.session_date)
    events = session_events_in_order(warehouse)
    assert len(sessions) > 50 and (events.event_name == "page_view").sum() > 20

    # rpt_daily_sessions: continuous percentiles = pandas' linear quantile.
    by_day = sessions.groupby("session_date")
    expected_daily = pd.DataFrame({
        "day": by_day.size().index,
        "session_count": by_day.size().values,
        "total_duration_seconds": by_day.duration_seconds.sum().values,
        "mean_duration_seconds": by_day.duration_seconds.mean().values,
        "median_duration_seconds": by_day.duration_seconds.quantile(0.5).values,
        "p90_duration_seconds": by_day.duration_seconds.quantile(0.9).values,
        "active_users": by_day.user_id.nunique().values,
    })
    assert_same(warehouse.query("select * from marts.rpt_daily_sessions"), expected_daily, ["day"], "daily")

    # rpt_session_length_distribution: bucket k holds [edge k-1, edge k), by whole microseconds.
    edges_us = np.array(DEFAULT_EDGES) * SECOND_US
    bucket = np.searchsorted(edges_us, (sessions.end_us - sessions.start_us).to_numpy(), side="right") + 1
    counts = sessions.assign(bucket_number=bucket).groupby(["session_date", "bucket_number"]).size()
    grid = pd.MultiIndex.from_product([sorted(sessions.session_date.unique()), range(1, len(DEFAULT_EDGES) + 2)],
                                      names=["session_date", "bucket_number"])
    expected_distribution = counts.reindex(grid, fill_value=0).rename("session_count").reset_index()
    actual_distribution = warehouse.query("select * from marts.rpt_session_length_distribution")
    assert_same(actual_distribution[["day", "bucket_number", "session_count"]],
                expected_distribution.rename(columns={"session_date": "day"}), ["day", "bucket_number"], "distribution")
    assert actual_distribution.session_count.sum() == len(sessions)
    buckets = actual_distribution.drop_duplicates("bucket_number").sort_values("bucket_number")
    assert list(buckets.bucket_label) == ["0s-10s", "10s-1m", "1m-5m", "5m-15m", "15m-30m", "30m-1h", "1h-2h", "2h+"]
    assert list(buckets.lower_seconds) == [0] + DEFAULT_EDGES
    assert list(buckets.upper_seconds.iloc[:-1]) == DEFAULT_EDGES and pd.isna(buckets.upper_seconds.iloc[-1])

    # fct_session_breaks: idle gaps from consecutive events, previous session by start then first event.
    gaps = expected_idle_gaps(events)
    assert len(gaps) > 20
    idle = gaps.groupby("session_id").agg(idle_gap_count=("gap_seconds", "size"),
                                          idle_total_seconds=("gap_seconds", "sum"),
                                          longest_idle_seconds=("gap_seconds", "max"))
    ordered = sessions.sort_values(["user_id", "start_us", "first_event_id"])
    previous = ordered.groupby("user_id")
    ordered = ordered.assign(previous_session_id=previous.session_id.shift(1),
                             seconds_since_previous_session=(ordered.start_us - previous.end_us.shift(1)) / SECOND_US)
    expected_breaks = ordered[["session_id", "user_id", "session_start_at"]].join(idle, on="session_id")
    expected_breaks = expected_breaks.assign(
        idle_gap_count=expected_breaks.idle_gap_count.fillna(0),
        idle_total_seconds=expected_breaks.idle_total_seconds.fillna(0),
        seconds_since_previous_session=ordered.seconds_since_previous_session,
        previous_session_id=ordered.previous_session_id,
        session_date=ordered.session_date)
    breaks = warehouse.query("select * from marts.fct_session_breaks")
    assert_same(breaks, expected_breaks, ["session_id"], "breaks")

    # rpt_break_patterns: per session start day.
    idle_days = gaps.groupby("day").gap_seconds
    between = ordered.dropna(subset=["previous_session_id"]).groupby("session_date").seconds_since_previous_session
    expected_patterns = pd.DataFrame({
        "idle_gap_count": idle_days.size(), "idle_total_seconds": idle_days.sum(),
        "idle_median_seconds": idle_days.quantile(0.5), "idle_p90_seconds": idle_days.quantile(0.9),
        "idle_longest_seconds": idle_days.max(),
    }).join(pd.DataFrame({
        "between_session_gap_count": between.size(), "between_session_median_seconds": between.quantile(0.5),
        "between_session_p90_seconds": between.quantile(0.9),
    }), how="outer")
    expected_patterns = expected_patterns.reindex(sorted(sessions.session_date.unique()))
    expected_patterns = expected_patterns.fillna({"idle_gap_count": 0, "idle_total_seconds": 0,
                                                  "between_session_gap_count": 0})
    expected_patterns = expected_patterns.rename_axis("day").reset_index()
    assert_same(warehouse.query("select * from marts.rpt_break_patterns"), expected_patterns, ["day"], "patterns")

    # fct_page_views: time to the next event of the session; the last event gets the cap (300 s).
    next_us = events.groupby("session_id").occurred_us.shift(-1)
    views = events.assign(is_last_in_session=next_us.isna(),
                          dwell_seconds=((next_us - events.occurred_us) / SECOND_US).fillna(300.0))
    views = views[(views.event_name == "page_view") & views.page.notna()]
    expected_views = pd.DataFrame({
        "event_id": views.event_id, "session_id": views.session_id, "user_id": views.user_id, "page": views.page,
        "viewed_at": views.occurred_at, "dwell_seconds": views.dwell_seconds,
        "is_last_in_session": views.is_last_in_session, "is_capped": views.is_last_in_session,
        "session_date": views.session_start_at.dt.normalize(),
    })
    assert_same(warehouse.query("select * from marts.fct_page_views"), expected_views, ["event_id"], "page views")

    # rpt_inactive_users: users file and event users; last counted event; whole days before the newest staged event.
    staged = warehouse.query("select user_id, epoch_us(occurred_at) as occurred_us from staging.stg_events")
    users_file = warehouse.query("select user_id, email from staging.stg_users")
    horizon_us = staged.occurred_us.max()
    everyone = users_file.merge(pd.DataFrame({"user_id": staged.user_id.unique()}), on="user_id", how="outer")
    last = events.groupby("user_id").agg(last_activity_at=("occurred_at", "max"), last_us=("occurred_us", "max"))
    everyone = everyone.join(last, on="user_id")
    everyone = everyone.assign(days_inactive=(horizon_us - everyone.last_us) // DAY_US)
    expected_inactive = everyone[everyone.last_us.isna() | (everyone.days_inactive >= 3)]
    expected_inactive = expected_inactive[["user_id", "email", "last_activity_at", "days_inactive"]]
    inactive = warehouse.query("select * from marts.rpt_inactive_users")
    assert len(inactive) > 0 and inactive.last_activity_at.notna().any()
    assert_same(inactive, expected_inactive, ["user_id"], "inactive users")

    # sessions_concluded.
    concluded = sessions[sessions.is_concluded]
    expected_concluded = pd.DataFrame({"session_id": concluded.session_id, "user_id": concluded.user_id,
                                       "concluded_at": concluded.session_end_at,
                                       "duration_seconds": concluded.duration_seconds,
                                       "session_date": concluded.session_date})
    assert len(concluded) > 0  # open sessions are left out: test_boundaries
    assert_same(warehouse.query("select * from marts.sessions_concluded"), expected_concluded, ["session_id"],
                "concluded")


# --- boundaries on hand-made events ------------------------------------------------------------------------------

BOUNDARY_VARS = {"session_length_bucket_edges_seconds": [10, 60], "page_dwell_last_page_cap_seconds": 120,
                 "tracked_pages": ["/a"], "inactive_after_days": 14}


def boundary_events():
    return [
        # Lengths at bucket edges: 0 s, 10 s exactly, 1 µs under 10 s, 60 s exactly (the open-ended bucket).
        event("s1", "2026-03-01T08:00:00Z", "u1"),
        event("s2a", "2026-03-01T09:00:00Z", "u2"), event("s2b", "2026-03-01T09:00:10Z", "u2"),
        event("s3a", "2026-03-01T09:00:00Z", "u3"), event("s3b", "2026-03-01T09:00:09.999999Z", "u3"),
        event("s4a", "2026-03-01T10:00:00Z", "u4"), event("s4b", "2026-03-01T10:01:00Z", "u4"),
        # A session across midnight counts on its start day (15 s).
        event("s5a", "2026-03-01T23:59:50Z", "u5"), event("s5b", "2026-03-02T00:00:05Z", "u5"),
        # Idle gaps: exactly 300 s (idle), 1 µs under (not), 600.000001 s (idle); then a session 2400 s later.
        event("g1", "2026-03-01T11:00:00Z", "u7"), event("g2", "2026-03-01T11:05:00Z", "u7"),
        event("g3", "2026-03-01T11:09:59.999999Z", "u7"), event("g4", "2026-03-01T11:20:00Z", "u7"),
        event("g5", "2026-03-01T12:00:00Z", "u7"),
        # Page views: dwell to the next event of any kind, the last event capped; /b untracked, no page dropped.
        event("p1", "2026-03-01T13:00:00Z", "u8", "page_view", page="/a"),
        event("p2", "2026-03-01T13:00:30Z", "u8", "page_view", page="/b"),
        event("p3", "2026-03-01T13:01:00Z", "u8"),
        event("p4", "2026-03-01T13:01:00Z", "u8", "page_view"),
        event("p5", "2026-03-01T13:02:00Z", "u8", "page_view", page="/a"),
        event("p6", "2026-03-01T13:02:00Z", "u8", "page_view", page="/a"),
        # Inactivity: the newest staged event is 2026-03-20T12:00; u10 is exactly 14 days before it, u11 1 µs after
        # that; u13 has only a background (non-counted) event.
        event("d3", "2026-03-03T10:00:00Z", "u6"),
        event("i10", "2026-03-06T12:00:00Z", "u10"),
        event("i11", "2026-03-06T12:00:00.000001Z", "u11"),
        event("i13", "2026-03-19T12:00:00Z", "u13", "notification_sent"),
        event("newest", "2026-03-20T12:00:00Z", "u9"),
    ]


def test_boundaries(warehouse):
    warehouse.write_jsonl("events/boundaries.jsonl", boundary_events())
    (warehouse.landing / "users.csv").write_text(
        "user_id,email,first_name,last_name,company,organization_id,registered_at\n"
        "u10,u10@example.com,A,B,C,o1,2026-01-01T00:00:00Z\n"
        "u12,u12@example.com,A,B,C,o1,2026-01-01T00:00:00Z\n", encoding="utf-8")
    warehouse.build(select=SELECTED, dbt_vars=BOUNDARY_VARS)

    distribution = warehouse.records("select day::varchar as day, bucket_number, lower_seconds, upper_seconds, "
                                     "bucket_label, session_count from marts.rpt_session_length_distribution "
                                     "order by day, bucket_number")
    march_1 = [(r["bucket_number"], r["lower_seconds"], r["upper_seconds"], r["bucket_label"], r["session_count"])
               for r in distribution if r["day"] == "2026-03-01"]
    # 0-10 s: u1 (0 s), u3 (9.999999 s), u7's second (0 s); 10 s-1 m: u2 (10 s), u5 (15 s);
    # 1 m+: u4 (60 s), u7's first (1200 s), u8 (120 s).
    assert march_1 == [(1, 0.0, 10.0, "0s-10s", 3), (2, 10.0, 60.0, "10s-1m", 2), (3, 60.0, None, "1m+", 3)]
    # Days with sessions only (2026-03-02 has none starting), every bucket on each, zeros included.
    assert sorted({r["day"] for r in distribution}) == ["2026-03-01", "2026-03-03", "2026-03-06", "2026-03-20"]
    assert [(r["bucket_number"], r["session_count"]) for r in distribution if r["day"] == "2026-03-03"] == [
        (1, 1), (2, 0), (3, 0)]

    daily = warehouse.records("select * from marts.rpt_daily_sessions where day = '2026-03-01'")[0]
    # Lengths on 2026-03-01: 0, 10, 9.999999, 60, 15, 1200, 0, 120.
    lengths = sorted([0, 10, 9.999999, 60, 15, 1200, 0, 120])
    assert (daily["session_count"], daily["active_users"]) == (8, 7)
    assert daily["total_duration_seconds"] == pytest.approx(sum(lengths), abs=1e-9)
    assert daily["median_duration_seconds"] == pytest.approx((10 + 15) / 2)
    assert daily["p90_duration_seconds"] == pytest.approx(120 + 0.3 * (1200 - 120))

    [first, second] = warehouse.records("select * from marts.fct_session_breaks where user_id = 'u7' "
                                        "order by session_start_at")
    assert (first["idle_gap_count"], first["longest_idle_seconds"]) == (2, pytest.approx(600.000001, abs=1e-9))
    assert first["idle_total_seconds"] == pytest.approx(900.000001, abs=1e-9)
    assert (first["previous_session_id"], first["seconds_since_previous_session"]) == (None, None)
    assert (second["idle_gap_count"], second["idle_total_seconds"], second["longest_idle_seconds"]) == (0, 0, None)
    assert (second["previous_session_id"], second["seconds_since_previous_session"]) == (first["session_id"], 2400)

    patterns = warehouse.records("select * from marts.rpt_break_patterns where day = '2026-03-01'")[0]
    assert (patterns["idle_gap_count"], patterns["between_session_gap_count"]) == (2, 1)
    assert patterns["idle_median_seconds"] == pytest.approx(450.0000005, abs=1e-9)
    assert patterns["idle_p90_seconds"] == pytest.approx(300 + 0.9 * 300.000001, abs=1e-9)
    assert (patterns["between_session_median_seconds"], patterns["between_session_p90_seconds"]) == (2400, 2400)
    assert warehouse.records("select idle_gap_count, idle_median_seconds, between_session_gap_count "
                             "from marts.rpt_break_patterns where day = '2026-03-03'") == [
        {"idle_gap_count": 0, "idle_median_seconds": None, "between_session_gap_count": 0}]

    views = warehouse.records("select event_id, page, dwell_seconds, is_last_in_session, is_capped "
                              "from marts.fct_page_views order by event_id")
    assert views == [
        {"event_id": "p1", "page": "/a", "dwell_seconds": 30.0, "is_last_in_session": False, "is_capped": False},
        {"event_id": "p5", "page": "/a", "dwell_seconds": 0.0, "is_last_in_session": False, "is_capped": False},
        {"event_id": "p6", "page": "/a", "dwell_seconds": 120.0, "is_last_in_session": True, "is_capped": True},
    ]

    inactive = {r["user_id"]: r for r in warehouse.records("select * from marts.rpt_inactive_users")}
    assert inactive["u10"]["days_inactive"] == 14 and inactive["u10"]["email"] == "u10@example.com"
    assert str(inactive["u10"]["last_activity_at"]) == "2026-03-06 12:00:00"
    assert "u11" not in inactive and "u9" not in inactive
    for user in ("u12", "u13"):
        assert (inactive[user]["last_activity_at"], inactive[user]["days_inactive"]) == (None, None)
    assert inactive["u1"]["days_inactive"] == 19

    concluded = {r["session_id"] for r in warehouse.records("select session_id from marts.sessions_concluded")}
    sessions = warehouse.records("select session_id, user_id, is_concluded from marts.fct_sessions")
    assert concluded == {s["session_id"] for s in sessions if s["user_id"] != "u9"}
    assert [s["is_concluded"] for s in sessions if s["user_id"] == "u9"] == [False]


@pytest.mark.parametrize(("dbt_vars", "message"), [
    ({"session_length_bucket_edges_seconds": [60, 10]}, "session_length_bucket_edges_seconds must be strictly increasing"),
    ({"session_length_bucket_edges_seconds": [0, 10]}, "session_length_bucket_edges_seconds must be greater than 0"),
    ({"session_length_bucket_edges_seconds": "10"}, "session_length_bucket_edges_seconds must be a non-empty list"),
    ({"session_length_bucket_edges_seconds": []}, "session_length_bucket_edges_seconds must be a non-empty list"),
    ({"tracked_pages": "/a"}, "tracked_pages must be a list of strings"),
    ({"idle_gap_seconds": -5}, "idle_gap_seconds must be a non-negative number"),
    ({"page_dwell_last_page_cap_seconds": "x"}, "page_dwell_last_page_cap_seconds must be a non-negative number"),
    ({"inactive_after_days": 1.5}, "inactive_after_days must be a whole number"),
])
def test_a_bad_var_stops_the_build_naming_it(warehouse, capfd, dbt_vars, message):
    warehouse.write_jsonl("events/one.jsonl", [event("a1", "2026-03-01T10:00:00Z")])
    with pytest.raises(DbtCommandError):
        warehouse.build(select="rpt_session_length_distribution fct_page_views int_session_idle_gaps "
                               "rpt_inactive_users", dbt_vars=dbt_vars)
    assert message in capfd.readouterr().out


# --- incremental exactness ---------------------------------------------------------------------------------------

def test_incremental_loads_equal_a_full_refresh(warehouse, tmp_path, assert_equal_to_a_full_refresh):
    dbt_vars = {"inactive_after_days": 2, "idle_gap_seconds": 120}
    sample = tmp_path / "sample"
    generate_sample(sample, users=12, days=8, seed=5)
    for path in sample.iterdir():
        if path.is_file():
            shutil.copy2(path, warehouse.landing / path.name)

    def load(name, rows, received_before, received_from=None):
        land_sample_files(sample, warehouse.landing, received_from, received_before)
        warehouse.write_jsonl(f"events/extra/{name}.jsonl", rows)
        warehouse.build(select=SELECTED, dbt_vars=dbt_vars)

    # Hand-made user x: two sessions with page views and idle gaps, then late events that merge them, split the
    # merged one with a late login, and extend it backwards (a new first event, so a new session id).
    load("first", [event("x1", "2026-10-02T10:00:00Z", "x", "page_view", page="/home"),
                   event("x2", "2026-10-02T10:10:00Z", "x", "page_view", page="/docs"),
                   event("x3", "2026-10-02T10:50:00Z", "x", "page_view", page="/home"),
                   event("x4", "2026-10-02T10:53:00Z", "x")], "2026-10-04")
    before = warehouse.records("select count(*) as n from marts.fct_sessions where user_id = 'x'")[0]["n"]
    assert before == 2
    load("second", [event("m1", "2026-10-02T10:25:00Z", "x", "page_view", page="/late",
                          received_at="2026-10-05T08:00:00Z"),
                    event("y1", "2026-10-05T09:00:00Z", "x", "page_view", page="/home")], "2026-10-07", "2026-10-04")
    assert warehouse.records("select count(*) as n from marts.fct_sessions where user_id = 'x' "
                             "and session_date = '2026-10-02'")[0]["n"] == 1
    load("third", [event("r1", "2026-10-02T10:30:00Z", "x", "login", received_at="2026-10-08T08:00:00Z"),
                   event("z0", "2026-10-02T09:45:00Z", "x", "page_view", page="/early",
                         received_at="2026-10-08T08:00:00Z")],
         "2026-12-31", "2026-10-07")
    assert warehouse.records("select count(*) as n from marts.fct_sessions where user_id = 'x' "
                             "and session_date = '2026-10-02'")[0]["n"] == 2
    assert warehouse.records("select count(*) as n from marts.session_id_changes")[0]["n"] > 0

    incremental = warehouse.tables(ENGAGEMENT_TABLES)
    assert all(incremental[table] for table in ENGAGEMENT_TABLES)
    assert_equal_to_a_full_refresh(ENGAGEMENT_TABLES, dbt_vars, select=SELECTED)
