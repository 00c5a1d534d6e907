"""Activity by category (README "Activity by category"): category sessions and fct_user_activity_daily against an
independent pandas computation, incremental runs against a full refresh, and the activity report (the dbt macro
dwell_activity_report) against the daily table and against hand-stated buckets, their edges included."""

from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from helpers import SAMPLE_VARS, event, land_sample_files, md5
from orchestration.dbt_invoke import DbtCommandError
from orchestration.sample_data import generate_sample

DEFAULT_CATEGORIES = ["ide", "login", "app", "tunnel", "web_terminal"]
COMPARED = ["intermediate.int_category_sessions", "marts.fct_user_activity_daily"]
# What the tests read: the category sessions and the daily activity, and the sessions they are recomputed from.
SELECTED = "+int_category_sessions +fct_user_activity_daily +fct_session_events +fct_sessions"


def expected_category_sessions(warehouse, timeout_seconds):
    """Category sessions recomputed in pandas from fct_session_events: per user, dwell session and category, ordered
    by time then event id, a gap strictly greater than the timeout starts a new one."""
    events = warehouse.query(
        "select event_id, user_id, session_id, category, occurred_at, epoch_us(occurred_at) as us "
        "from marts.fct_session_events")
    events = events.sort_values(["user_id", "session_id", "category", "occurred_at", "event_id"])
    keys = ["user_id", "session_id", "category"]
    gap = events.groupby(keys)["us"].diff()
    events["piece"] = (gap.isna() | (gap > round(timeout_seconds * 1_000_000))).astype(int).groupby(
        [events[key] for key in keys]).cumsum()
    grouped = events.groupby([*keys, "piece"])
    sessions = grouped.agg(first_event_id=("event_id", "first"), start_us=("us", "min"), end_us=("us", "max"),
                           started_at=("occurred_at", "min"), event_count=("event_id", "size")).reset_index()
    sessions["category_session_id"] = [
        md5(row.user_id, row.session_id, row.category, row.first_event_id) for row in sessions.itertuples()]
    sessions["duration_us"] = sessions["end_us"] - sessions["start_us"]
    sessions["activity_date"] = sessions["started_at"].dt.date
    return sessions


def expected_daily(warehouse, category_sessions, categories):
    """fct_user_activity_daily recomputed from the pandas category sessions and fct_sessions."""
    dwell = warehouse.query(
        "select session_id, user_id, organization_id, session_date, event_count, "
        "epoch_us(session_end_at) - epoch_us(session_start_at) as duration_us from marts.fct_sessions")
    picked = category_sessions[category_sessions["category"].isin(categories)]
    parts = pd.concat([
        picked[["session_id", "category", "activity_date", "duration_us", "event_count"]],
        dwell.assign(category="any", activity_date=pd.to_datetime(dwell["session_date"]).dt.date)[
            ["session_id", "category", "activity_date", "duration_us", "event_count"]],
    ])
    parts = parts.merge(dwell[["session_id", "user_id", "organization_id"]], on="session_id")
    daily = parts.groupby(["user_id", "organization_id", "activity_date", "category"], dropna=False).agg(
        active_us=("duration_us", "sum"), event_count=("event_count", "sum"),
        session_count=("session_id", "size")).reset_index()
    return {(row.user_id, None if pd.isna(row.organization_id) else row.organization_id, row.activity_date,
             row.category): (int(row.active_us), int(row.event_count), int(row.session_count))
            for row in daily.itertuples()}


def actual_daily(warehouse):
    return {(row["user_id"], row["organization_id"], row["activity_date"], row["category"]):
            (round(row["active_seconds"] * 1_000_000), row["event_count"], row["session_count"])
            for row in warehouse.records("select * from marts.fct_user_activity_daily")}


def report_from_daily(warehouse, edges, category, organization_id=None):
    """The report summed in Python from fct_user_activity_daily rows, over hand-stated bucket edges: per bucket with
    activity, (start, end) -> {user: [microseconds, events]}, and the totals over every bucket."""
    rows = warehouse.records(
        "select user_id, organization_id, activity_date, round(active_seconds * 1000000)::bigint as us, event_count "
        f"from marts.fct_user_activity_daily where category = '{category}'")
    rows = [row for row in rows if organization_id is None or row["organization_id"] == organization_id]
    result = {"buckets": {}, "totals": {}}
    for bucket_start, bucket_end in edges:
        users = {}
        for row in rows:
            if bucket_start <= row["activity_date"] < bucket_end:
                user = users.setdefault(row["user_id"], [0, 0])
                user[0] += row["us"]
                user[1] += row["event_count"]
                total = result["totals"].setdefault(row["user_id"], [0, 0])
                total[0] += row["us"]
                total[1] += row["event_count"]
        if users:
            result["buckets"][(bucket_start, bucket_end)] = users
    return result


def days(first: date, last: date, step: int = 1) -> list[tuple[date, date]]:
    """Buckets of `step` days from first to last, the last one ending on `last`."""
    starts = [first + timedelta(days=offset) for offset in range(0, (last - first).days, step)]
    return list(zip(starts, [*starts[1:], last]))


def macro_reports(warehouse, calls, dbt_vars=None, columns=("active_seconds", "event_count")):
    """The dbt macro's answers to several calls (start, end, interval, category[, organization_id]), compiled in one
    inline query and run on the warehouse: per call, {"buckets": {(start, end): {user: [microseconds or the column,
    ...]}}, "totals": {user: [...]}}."""
    def call(arguments):
        start, end, interval, category, *organization = arguments
        text = f"dwell_activity_report('{start}', '{end}', '{interval}', '{category}'"
        return text + (f", organization_id={organization[0]!r})" if organization and organization[0] else ")")

    sql = " union all ".join(f"select {number} as call_number, * from ({{{{ {call(arguments)} }}}}) as report_{number}"
                             for number, arguments in enumerate(calls))
    result = warehouse.dbt(["compile", "--quiet", "--inline", sql], dbt_vars)
    rows = warehouse.records(f"select * from ({result.result.results[0].node.compiled_code}) order by all")
    reports = [{"buckets": {}, "totals": {}} for _ in calls]

    def values(row):
        return [round(row[column] * 1_000_000) if column == "active_seconds" else row[column] for column in columns]

    for row in rows:
        report = reports[row["call_number"]]
        if row["is_total"]:
            report["totals"][row["user_id"]] = values(row)
        else:
            report["buckets"].setdefault((row["bucket_start"], row["bucket_end"]), {})[row["user_id"]] = values(row)
    return reports


def compile_error(warehouse, call, capfd, dbt_vars=None) -> str:
    """What dbt printed when the macro call failed to compile (dbt reports an inline query's compilation error in
    its log, not in the exception)."""
    capfd.readouterr()
    with pytest.raises(DbtCommandError):
        warehouse.dbt(["compile", "--quiet", "--inline", "{{ " + call + " }}"], dbt_vars)
    return "".join(capfd.readouterr())


def test_category_sessions_and_daily_activity_match_pandas_and_the_report_matches_the_daily_table(sample_warehouse):
    """On the shared sample (tests/conftest.py), built with a 600 s activity timeout and four categories."""
    warehouse, rules = sample_warehouse, SAMPLE_VARS

    expected = expected_category_sessions(warehouse, 600)
    actual = warehouse.query(
        "select *, epoch_us(ended_at) - epoch_us(started_at) as duration_us from intermediate.int_category_sessions")
    actual["activity_date"] = pd.to_datetime(actual["activity_date"]).dt.date
    assert len(actual) == len(expected) > 100
    # The shorter timeout does split category sessions inside dwell sessions.
    assert actual.groupby(["session_id", "category"]).size().max() > 1
    merged = expected.merge(actual, on="category_session_id", suffixes=("", "_actual"), validate="one_to_one")
    assert len(merged) == len(expected)
    for column in ["session_id", "user_id", "category", "event_count", "activity_date"]:
        assert (merged[column] == merged[f"{column}_actual"]).all(), column
    assert (merged["duration_us"] == merged["duration_us_actual"]).all()
    assert (merged["duration_seconds"] * 1_000_000).round().astype("int64").eq(merged["duration_us"]).all()

    daily = actual_daily(warehouse)
    assert daily == expected_daily(warehouse, expected, rules["activity_categories"])
    assert {key[3] for key in daily} == {"any", "ide", "web_terminal", "build", "login"}

    organization = warehouse.records(
        "select organization_id from marts.fct_user_activity_daily where organization_id is not null "
        "group by all order by count(*) desc limit 1")[0]["organization_id"]
    # Each call with its buckets, stated by hand: aligned to the start, the last one ending at the end.
    cases = [
        (("2026-10-01", "2026-10-11", "1 day", "ide", None), days(date(2026, 10, 1), date(2026, 10, 11))),
        (("2026-09-29", "2026-10-13", "1 week", "web_terminal", None),
         [(date(2026, 9, 29), date(2026, 10, 6)), (date(2026, 10, 6), date(2026, 10, 13))]),
        (("2026-10-03", "2027-01-01", "90 days", "any", None), [(date(2026, 10, 3), date(2027, 1, 1))]),
        (("2026-01-01", "2028-01-01", "1 year", "ide", organization),
         [(date(2026, 1, 1), date(2027, 1, 1)), (date(2027, 1, 1), date(2028, 1, 1))]),
        (("2026-09-15", "2026-10-08", "1 month", "login", None), [(date(2026, 9, 15), date(2026, 10, 8))]),
        # The whole range: totals equal the daily table's sums per user.
        (("2026-01-01", "2027-01-01", "1 year", "any", None), [(date(2026, 1, 1), date(2027, 1, 1))]),
    ]
    reports = macro_reports(warehouse, [arguments for arguments, _ in cases], rules)
    for (arguments, edges), report in zip(cases, reports):
        *_, category, organization_id = arguments
        expected = report_from_daily(warehouse, edges, category, organization_id)
        assert report == expected, arguments
        assert expected["buckets"], arguments
    sums = warehouse.records(
        "select user_id, round(sum(active_seconds) * 1000000)::bigint as us, sum(event_count)::bigint as n "
        "from marts.fct_user_activity_daily where category = 'any' group by all order by user_id")
    assert reports[-1]["totals"] == {row["user_id"]: [row["us"], row["n"]] for row in sums}


def test_incremental_runs_equal_a_full_refresh(warehouse, tmp_path, assert_equal_to_a_full_refresh):
    sample = tmp_path / "sample"
    generate_sample(sample, users=10, days=8, seed=11)
    land_sample_files(sample, warehouse.landing, received_before="2026-10-05", dimensions=True)
    # u1: two IDE bursts 40 minutes apart in one dwell session (terminal events in between); u2: two sessions.
    warehouse.write_jsonl("events/hand-1.jsonl", [
        event("a1", "2026-10-02T10:00:00Z", "u1", "ide_search", organization_id="o1"),
        event("a2", "2026-10-02T10:10:00Z", "u1", "ide_file_saved", organization_id="o1"),
        event("t1", "2026-10-02T10:25:00Z", "u1", "terminal_command", organization_id="o1"),
        event("a3", "2026-10-02T10:50:00Z", "u1", "ide_search", organization_id="o1"),
        event("b1", "2026-10-03T23:40:00Z", "u2", "app_opened"),
        event("b2", "2026-10-04T00:40:00Z", "u2", "app_action"),
    ])
    warehouse.build(select=SELECTED)
    land_sample_files(sample, warehouse.landing, "2026-10-05", "2026-10-07")
    # Late: m1 bridges u1's IDE bursts (gaps of 20 min); m2 merges u2's sessions across midnight (gaps equal to the
    # timeout); a new day for u1.
    warehouse.write_jsonl("events/hand-2.jsonl", [
        event("m1", "2026-10-02T10:30:00Z", "u1", "ide_command_executed", organization_id="o1"),
        event("m2", "2026-10-04T00:10:00Z", "u2", "app_action"),
        event("c1", "2026-10-06T08:00:00Z", "u1", "tunnel_opened", organization_id="o1"),
    ])
    warehouse.build(select=SELECTED)
    assert warehouse.records(
        "select event_count, activity_date::varchar as day from intermediate.int_category_sessions "
        "where user_id = 'u2'") == [{"event_count": 3, "day": "2026-10-03"}]
    land_sample_files(sample, warehouse.landing, "2026-10-07")
    # Late: a login restart splits u1's session; an event before b1 moves u2's session to start earlier.
    warehouse.write_jsonl("events/hand-3.jsonl", [
        event("r1", "2026-10-02T10:20:00Z", "u1", "login", organization_id="o1"),
        event("z0", "2026-10-03T23:30:00Z", "u2", "app_opened"),
    ])
    warehouse.build(select=SELECTED)
    assert warehouse.records(
        "select category, event_count, round(duration_seconds)::bigint as seconds from intermediate.int_category_sessions "
        "where user_id = 'u1' and activity_date = '2026-10-02' order by started_at, category") == [
        {"category": "ide", "event_count": 2, "seconds": 600},
        {"category": "login", "event_count": 1, "seconds": 0},
        {"category": "web_terminal", "event_count": 1, "seconds": 0},
        {"category": "ide", "event_count": 2, "seconds": 1200},
    ]
    assert len(warehouse.records("select * from intermediate.int_category_sessions")) == len(
        expected_category_sessions(warehouse, 1800))

    assert_equal_to_a_full_refresh(COMPARED, select=SELECTED)


def test_bucket_edges_day_attribution_and_the_timeout_boundary(warehouse):
    warehouse.write_jsonl("events/edges.jsonl", [
        # u1: an IDE session from 23:50 across midnight into Aug 8 counts on Aug 7, in the first week.
        event("a1", "2026-08-07T23:50:00Z", "u1", "ide_search", organization_id="o1"),
        event("a2", "2026-08-08T00:10:00Z", "u1", "ide_file_saved", organization_id="o1"),
        # u2: starts exactly at the Aug 8 week edge. A gap equal to the timeout stays in the category session, one
        # microsecond more starts another; the terminal event keeps the dwell session going.
        event("b1", "2026-08-08T00:00:00Z", "u2", "ide_search", organization_id="o'2"),
        event("b2", "2026-08-08T00:30:00Z", "u2", "ide_search", organization_id="o'2"),
        event("b3", "2026-08-08T00:45:00Z", "u2", "terminal_command", organization_id="o'2"),
        event("b4", "2026-08-08T01:00:00.000001Z", "u2", "ide_search", organization_id="o'2"),
        # u3: at the range start (in) and at its end (out).
        event("c1", "2026-08-01T00:00:00Z", "u3", "ide_search"),
        event("c2", "2026-09-01T00:00:00Z", "u3", "ide_search"),
    ])
    warehouse.build(select=SELECTED)
    ide = warehouse.records(
        "select user_id, activity_date::varchar as day, round(active_seconds * 1000000)::bigint as us, event_count, "
        "session_count from marts.fct_user_activity_daily where category = 'ide' order by all")
    assert ide == [
        {"user_id": "u1", "day": "2026-08-07", "us": 1_200_000_000, "event_count": 2, "session_count": 1},
        {"user_id": "u2", "day": "2026-08-08", "us": 1_800_000_000, "event_count": 3, "session_count": 2},
        {"user_id": "u3", "day": "2026-08-01", "us": 0, "event_count": 1, "session_count": 1},
        {"user_id": "u3", "day": "2026-09-01", "us": 0, "event_count": 1, "session_count": 1},
    ]
    any_u2 = warehouse.records("select active_seconds, event_count from marts.fct_user_activity_daily "
                               "where category = 'any' and user_id = 'u2'")
    assert any_u2 == [{"active_seconds": 3600.000001, "event_count": 4}]

    week = [(date(2026, 8, 1), date(2026, 8, 8)), (date(2026, 8, 8), date(2026, 8, 15))]
    u1, u2, u3 = [1_200_000_000, 2, 1], [1_800_000_000, 3, 2], [0, 1, 1]
    calls = {
        # u1's session counts on Aug 7, in the first week; u2's starts on the second week's first day; u3's Sep 1
        # event is at the range's end, out.
        ("2026-08-01", "2026-09-01", "1 week", "ide", None): (
            {week[0]: {"u1": u1, "u3": u3}, week[1]: {"u2": u2}}, {"u1": u1, "u2": u2, "u3": u3}),
        # Organization ids are quoted: a quote is just a character.
        ("2026-08-01", "2026-09-01", "1 week", "ide", "o'2"): ({week[1]: {"u2": u2}}, {"u2": u2}),
        ("2026-08-08", "2026-08-09", "1 day", "ide", None): (
            {(date(2026, 8, 8), date(2026, 8, 9)): {"u2": u2}}, {"u2": u2}),
        ("2026-08-01", "2026-09-01", "1 day", "ide", None): (
            {(date(2026, 8, 1), date(2026, 8, 2)): {"u3": u3}, (date(2026, 8, 7), date(2026, 8, 8)): {"u1": u1},
             (date(2026, 8, 8), date(2026, 8, 9)): {"u2": u2}}, {"u1": u1, "u2": u2, "u3": u3}),
        ("2026-08-01", "2026-09-01", "1 day", "ide", "o'2"): (
            {(date(2026, 8, 8), date(2026, 8, 9)): {"u2": u2}}, {"u2": u2}),
        ("2026-08-01", "2026-09-01", "1 month", "ide", None): (
            {(date(2026, 8, 1), date(2026, 9, 1)): {"u1": u1, "u2": u2, "u3": u3}}, {"u1": u1, "u2": u2, "u3": u3}),
        ("2026-08-01", "2026-09-01", "1 month", "ide", "o'2"): (
            {(date(2026, 8, 1), date(2026, 9, 1)): {"u2": u2}}, {"u2": u2}),
    }
    reports = macro_reports(warehouse, list(calls), columns=("active_seconds", "event_count", "session_count"))
    for (arguments, (buckets, totals)), report in zip(calls.items(), reports):
        assert report == {"buckets": buckets, "totals": totals}, arguments


def bucket_days(start: date, end: date) -> set[date]:
    """A bucket's first and last day: one day for a one-day bucket."""
    return {start, end - timedelta(days=1)}


def assert_buckets(warehouse, calls: dict[tuple[str, str, str, str], list[tuple[date, date]]]) -> None:
    """Activity on each bucket's first and last day, in a hand-made daily table (a category per call), lands in that
    bucket: the macro cuts the buckets at these edges."""
    with duckdb.connect(str(warehouse.path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_user_activity_daily (user_id varchar, organization_id varchar, "
                    "activity_date date, category varchar, active_seconds double, event_count bigint, "
                    "session_count bigint)")
        con.executemany("insert into marts.fct_user_activity_daily values ('u1', 'o1', ?, ?, 1, 1, 1)",
                        [[day, category] for (*_, category), edges in calls.items() for start, end in edges
                         for day in bucket_days(start, end)])
    reports = macro_reports(warehouse, list(calls), columns=("event_count",))
    for (arguments, edges), report in zip(calls.items(), reports):
        assert report["buckets"] == {(start, end): {"u1": [len(bucket_days(start, end))]} for start, end in edges}, \
            arguments
        assert report["totals"] == {"u1": [sum(len(bucket_days(start, end)) for start, end in edges)]}, arguments


def test_bucket_edges_align_to_start_and_clip_to_end(warehouse):
    """Buckets start at start + i intervals, months counted from the start and clamped to a month's last day, the
    last one clipped to the end."""
    assert_buckets(warehouse, {
        ("2026-01-31", "2026-05-01", "1 month", "ide"): [
            (date(2026, 1, 31), date(2026, 2, 28)), (date(2026, 2, 28), date(2026, 3, 31)),
            (date(2026, 3, 31), date(2026, 4, 30)), (date(2026, 4, 30), date(2026, 5, 1))],
        ("2026-01-01", "2026-07-01", "90 days", "app"): [
            (date(2026, 1, 1), date(2026, 4, 1)), (date(2026, 4, 1), date(2026, 6, 30)),
            (date(2026, 6, 30), date(2026, 7, 1))],
        ("2026-08-01", "2026-08-15", "1 week", "tunnel"): [
            (date(2026, 8, 1), date(2026, 8, 8)), (date(2026, 8, 8), date(2026, 8, 15))],
    })


@pytest.mark.xfail(strict=True, reason="the macro's dbt.date_spine counts year boundaries between start and end (2), "
                                       "so the bucket starting 2026-02-28, after the last boundary, is never cut: its "
                                       "days land in the bucket before")
def test_years_count_from_a_leap_day_and_the_last_bucket_starts_after_the_last_year_boundary(warehouse):
    assert_buckets(warehouse, {
        ("2024-02-29", "2026-03-01", "1 year", "login"): [
            (date(2024, 2, 29), date(2025, 2, 28)), (date(2025, 2, 28), date(2026, 2, 28)),
            (date(2026, 2, 28), date(2026, 3, 1))],
    })


@pytest.mark.parametrize("call, message", [
    ("dwell_activity_report('2026-08-01', '2026-08-01', '1 day', 'ide')", "start must be before end"),
    ("dwell_activity_report('2026-08-01', '2026-09-01', '1 fortnight', 'ide')", "interval must be like"),
    ("dwell_activity_report('2026-08-01', '2026-09-01', '0 days', 'ide')", "interval must be like"),
    ("dwell_activity_report('2026-08-01', '2026-09-01', '1 decade', 'ide')", "interval must be like"),
    ("dwell_activity_report('2026-08-01T00:00', '2026-09-01', '1 day', 'ide')", "start must be a date"),
    ("dwell_activity_report('2026-08-01', '2026-08', '1 day', 'ide')", "end must be a date"),
    ("dwell_activity_report('2026-02-30', '2026-09-01', '1 day', 'ide')", "day is out of range for month"),
    ("dwell_activity_report('2026-08-01', '2026-09-01', '1 day', 'ide\\'; drop table x; --')",
     "category must be any or one of activity_categories"),
    ("dwell_activity_report('2026-08-01', '2026-09-01', '1 day', 'ide\\' or 1=1 --')",
     "category must be any or one of activity_categories"),
    ("dwell_activity_report('2026-08-01', '2026-09-01', '1 day', 'nosuch')",
     "category must be any or one of activity_categories"),
])
def test_report_arguments_are_validated(warehouse, capfd, call, message):
    assert message in compile_error(warehouse, call, capfd), call


def test_bad_vars_stop_the_build(warehouse):
    warehouse.write_jsonl("events/one.jsonl", [event("a1", "2026-08-07T23:50:00Z", "u1", "ide_search")])
    with pytest.raises(DbtCommandError, match="activity_categories must not list any"):
        warehouse.dbt(["parse", "--quiet"], {"activity_categories": ["ide", "any"]})
    with pytest.raises(DbtCommandError, match="activity_categories must be a list"):
        warehouse.dbt(["parse", "--quiet"], {"activity_categories": "ide"})
    with pytest.raises(DbtCommandError, match="activity_timeout_seconds must be"):
        warehouse.dbt(["parse", "--quiet"], {"activity_timeout_seconds": -5})
