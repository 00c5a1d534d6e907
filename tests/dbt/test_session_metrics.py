"""Per-session metrics: category counts, distinct pages and engagement tiers in fct_sessions, and the custom metrics
of fct_session_metrics, checked against pandas on generated data, at tier boundaries, under incremental loads,
and with invalid definitions."""

import json
import re
import shutil

import pandas as pd
import pytest

from helpers import SESSION_METRICS as METRICS
from orchestration.dbt_invoke import DbtCommandError
from orchestration.sample_data import generate_sample

# What the tests read: the sessions and their metrics, and the events they are recomputed from.
SELECTED = "+fct_sessions +fct_session_metrics +fct_session_events +stg_events"
CATEGORY_COUNTS = {"ide_event_count": "ide", "build_event_count": "build", "debug_event_count": "debug",
                   "deploy_event_count": "deploy", "error_event_count": "error", "page_view_count": "page"}
def expected_tier(seconds: float) -> str:
    return "bounce" if seconds < 10 else "casual" if seconds < 300 else "engaged"


def number(properties, key):
    try:
        value = json.loads(properties).get(key) if properties else None
    except (ValueError, AttributeError, TypeError):
        return None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def property_sum(events: pd.DataFrame, key: str) -> float:
    return float(sum(v for v in (number(p, key) for p in events.properties) if v is not None))


def expected_metrics(events: pd.DataFrame) -> dict[tuple[str, str], float]:
    expected = {}
    for session_id, session in events.groupby("session_id"):
        builds = session[session.event_name == "build_failed"]
        opened = session[session.event_name == "ide_file_opened"]
        expected[(session_id, "build_failures")] = float(len(builds))
        expected[(session_id, "distinct_pages")] = float(session.page.dropna().nunique())
        expected[(session_id, "bytes_opened")] = property_sum(opened, "size_bytes")
        expected[(session_id, "events")] = float(len(session))
        builds_ended = session[session.event_name.isin(["build_succeeded", "build_failed"])]
        expected[(session_id, "build_ms")] = property_sum(builds_ended, "duration_ms")
        expected[(session_id, "all_ms")] = property_sum(session, "duration_ms")
    return expected


def test_session_metrics_match_pandas_on_generated_data(sample_warehouse):
    """On the shared sample (tests/conftest.py), built with these session_metrics."""
    warehouse = sample_warehouse
    events = warehouse.query(
        "select e.*, s.properties from marts.fct_session_events e join staging.stg_events s using (event_id)")
    sessions = warehouse.query("select * from marts.fct_sessions").set_index("session_id")
    assert len(sessions) > 50

    grouped = events.groupby("session_id")
    for column, category in CATEGORY_COUNTS.items():
        expected = grouped.category.apply(lambda c, category=category: int((c == category).sum()))
        assert sessions[column].sort_index().tolist() == expected.sort_index().tolist(), column
    distinct_pages = grouped.page.apply(lambda p: p.dropna().nunique())
    assert sessions.distinct_page_count.sort_index().tolist() == distinct_pages.sort_index().tolist()
    assert sessions.engagement_tier.tolist() == [expected_tier(s) for s in sessions.duration_seconds]
    assert sessions.is_bounce.tolist() == [s < 10 for s in sessions.duration_seconds]
    assert set(sessions.engagement_tier) == {"bounce", "casual", "engaged"}

    metrics = warehouse.records("select session_id, metric_name, metric_value from marts.fct_session_metrics")
    actual = {(row["session_id"], row["metric_name"]): row["metric_value"] for row in metrics}
    expected = expected_metrics(events)
    assert actual.keys() == expected.keys()
    assert all(actual[key] == pytest.approx(value) for key, value in expected.items())
    totals = {name: sum(value for (_, metric), value in expected.items() if metric == name)
              for name in ("bytes_opened", "build_ms", "all_ms")}
    assert totals["bytes_opened"] > 0 and 0 < totals["build_ms"] < totals["all_ms"]


def test_engagement_tier_boundaries(warehouse):
    def session(user, seconds):
        return [{"event_id": f"{user}a", "user_id": user, "event_name": "ide_search",
                 "occurred_at": "2026-03-01T10:00:00Z"},
                {"event_id": f"{user}b", "user_id": user, "event_name": "ide_search",
                 "occurred_at": f"2026-03-01T10:{int(seconds // 60):02d}:{seconds % 60:09.6f}Z"}]

    warehouse.write_jsonl("events/e.jsonl", [
        {"event_id": "single", "user_id": "u0", "event_name": "page_view", "occurred_at": "2026-03-01T10:00:00Z"},
        *session("u1", 9.999999), *session("u2", 10), *session("u3", 299.999999), *session("u4", 300)])
    warehouse.build(select=SELECTED)
    tiers = {row["user_id"]: (row["engagement_tier"], row["is_bounce"]) for row in warehouse.records(
        "select user_id, engagement_tier, is_bounce from marts.fct_sessions")}
    assert tiers == {"u0": ("bounce", True), "u1": ("bounce", True), "u2": ("casual", False),
                     "u3": ("casual", False), "u4": ("engaged", False)}


def test_session_metrics_stay_exact_under_incremental_loads(warehouse, tmp_path, assert_equal_to_a_full_refresh):
    sample = tmp_path / "sample"
    generate_sample(sample, users=12, days=8, seed=5)
    shutil.copytree(sample, warehouse.landing, ignore=shutil.ignore_patterns("received_date=*"),
                    dirs_exist_ok=True)
    days = sorted({re.search(r"received_date=([\d-]+)", str(p)).group(1)
                   for p in sample.rglob("received_date=*")})
    # Three loads by arrival day: the later ones carry late events that extend, merge and split sessions.
    for batch in (days[:4], days[4:6], days[6:]):
        for path in sample.rglob("received_date=*"):
            if re.search(r"received_date=([\d-]+)", str(path)).group(1) in batch:
                shutil.copytree(path, warehouse.landing / path.relative_to(sample), dirs_exist_ok=True)
        warehouse.build(select=SELECTED, dbt_vars={"session_metrics": METRICS})
    assert_equal_to_a_full_refresh(["marts.fct_sessions", "marts.fct_session_metrics"], {"session_metrics": METRICS},
                                   select=SELECTED)


@pytest.mark.parametrize("metrics, message", [
    ("build_failed", "session_metrics must be a list"),
    ([{"name": "Bad Name", "aggregation": "count"}], "each name must be a unique lowercase identifier"),
    ([{"name": "a", "aggregation": "count"}, {"name": "a", "aggregation": "count"}], "unique lowercase identifier"),
    ([{"name": "a", "aggregation": "median"}], "aggregation of a must be one of"),
    ([{"name": "a", "aggregation": "count_distinct", "column": "page; drop table x"}], "needs a column among"),
    ([{"name": "a", "aggregation": "sum", "property": "x') or 1=1 --"}], "needs a property key"),
    ([{"name": "a", "aggregation": "count", "filter": "1=1"}], "unknown keys"),
])
def test_invalid_session_metrics_fail_with_a_clear_message(warehouse, metrics, message, capfd):
    with pytest.raises(DbtCommandError):
        warehouse.build(select="fct_session_metrics", dbt_vars={"session_metrics": metrics})
    assert message in capfd.readouterr().out


def test_event_names_in_metrics_are_plain_data(warehouse):
    warehouse.write_jsonl("events/e.jsonl", [
        {"event_id": "e1", "user_id": "u1", "event_name": "it's') or (1=1", "occurred_at": "2026-03-01T10:00:00Z"},
        {"event_id": "e2", "user_id": "u1", "event_name": "ide_search", "occurred_at": "2026-03-01T10:00:01Z"}])
    warehouse.build(dbt_vars={"session_metrics": [
        {"name": "quoted", "event_names": ["it's') or (1=1"], "aggregation": "count"}]})
    assert warehouse.records("select metric_value from marts.fct_session_metrics") == [{"metric_value": 1.0}]
