"""The semantic layer (docs/metrics.md): MetricFlow's configs validate against a sample warehouse; every metric, asked
through `mf query` by day, week and month and over dimensions, equals plain SQL on the marts it comes from, row for
row; the saved queries run; and where a report or the Python API computes one of these numbers (rpt_period_summary,
rpt_user_period_activity, rpt_daily_sessions, `dwell summary`, activity_report), it equals the metric, in UTC and
in Asia/Kolkata.

One sample is built for the module. `mf` starts in some 7 s, so a few real `mf query` calls ask every metric at
once, and the many other queries go through MetricFlow's Python API in one process (tests/semantic/mf_process.py)."""

import csv
import json
import math
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.dbt_invoke import run_dbt
from orchestration.sample_data import generate_sample
from orchestration.settings import PROJECT_DIR
from orchestration.summary import summarize

# One worker runs the module under pytest-xdist (scripts/test.sh): the sample is built once, for all its tests.
pytestmark = pytest.mark.xdist_group("semantic_layer")

RUNNER = Path(__file__).with_name("mf_process.py")
GRAINS = ("day", "week", "month")
KOLKATA = "Asia/Kolkata"

# Each metric as plain SQL on the marts: where it reads (FROM, the UTC time metric_time stands for, a condition) and
# what it aggregates. The aliases are those of DIMENSIONS.
SOURCES = {
    "sessions": ("marts.fct_sessions as s left join marts.dim_users as u on s.user_id = u.user_id",
                 "s.session_start_at", "true"),
    "events": ("marts.fct_session_events as e inner join marts.fct_sessions as s on e.session_id = s.session_id "
               "left join marts.dim_users as u on e.user_id = u.user_id", "e.occurred_at", "true"),
    "users": ("marts.dim_users as u", "u.first_activity_at", "u.first_activity_at is not null"),
    # Focus time from the focus periods themselves, in the period where their dwell session starts.
    "focus": ("marts.fct_micro_sessions as f inner join marts.fct_sessions as s on f.session_id = s.session_id "
              "left join marts.dim_users as u on f.user_id = u.user_id "
              "left join marts.dim_workspaces as w on f.workspace_id = w.workspace_id", "s.session_start_at", "true"),
    # A UTC date whatever the zone: the mart has no time of day.
    "activity": ("marts.fct_user_activity_daily as a left join marts.dim_users as u on a.user_id = u.user_id",
                 "a.activity_date", "true"),
}
METRICS = {
    "sessions": ("sessions", "count(*)"),
    "session_users": ("sessions", "count(distinct s.user_id)"),
    "total_session_seconds": ("sessions", "sum(s.duration_seconds)"),
    "average_session_duration_seconds": ("sessions", "avg(s.duration_seconds)"),
    "median_session_duration_seconds": ("sessions", "quantile_cont(s.duration_seconds, 0.5)"),
    "events_per_session": ("sessions", "avg(s.event_count)"),
    "bounced_sessions": ("sessions", "count(*) filter (where s.is_bounce)"),
    "engaged_sessions": ("sessions", "count(*) filter (where s.engagement_tier = 'engaged')"),
    "bounce_rate": ("sessions", "count(*) filter (where s.is_bounce) / count(*)"),
    "engaged_session_rate": ("sessions", "count(*) filter (where s.engagement_tier = 'engaged') / count(*)"),
    "sessions_per_user": ("sessions", "count(*) / count(distinct s.user_id)"),
    "concluded_sessions": ("sessions", "count(*) filter (where s.is_concluded)"),
    "active_users": ("events", "count(distinct e.user_id)"),
    "new_users": ("users", "count(*)"),
    "focus_seconds": ("focus", "sum(f.focused_seconds)"),
    "activity_seconds": ("activity", "sum(a.active_seconds)"),
    "active_users_by_activity": ("activity", "count(distinct a.user_id)"),
}
DIMENSIONS = {
    "session__engagement_tier": "s.engagement_tier",
    "session__start_reason": "s.start_reason",
    "session__end_reason": "s.end_reason",
    "user__organization_id": "u.organization_id",
    "user__company": "u.company",
    "user__email_domain": "u.email_domain",
    "event__platform": "e.platform",
    "event__category": "e.category",
    "user_activity__category": "a.category",
    "workspace__workspace_name": "w.workspace_name",
}
# Entities asked for as such: the row's own column.
ENTITIES = {"user": "user_id", "organization": "organization_id"}
ALIASES = {"sessions": "s", "events": "e", "users": "u", "focus": "f", "activity": "a"}

ACTIVITY_METRICS = ["activity_seconds", "active_users_by_activity"]
SESSION_METRICS = [name for name, (source, _) in METRICS.items() if source == "sessions"]
# Every metric that can be summed over all its rows; the activity metrics need their category.
ALL_BUT_ACTIVITY = [name for name in METRICS if name not in ACTIVITY_METRICS]

Rows = dict[tuple, dict[str, Any]]


@dataclass
class Sample:
    """A sample warehouse and a dbt project directory for MetricFlow: the repository's dbt_project.yml and
    profiles.yml with a target/ of its own, where the build wrote semantic_manifest.json."""

    project: Path
    warehouse: Path
    landing: Path

    def environment(self, warehouse: Path | None = None) -> dict[str, str]:
        return {**os.environ, "DWELL_DUCKDB_PATH": str(warehouse or self.warehouse),
                "DWELL_LANDING_DIR": str(self.landing), "DBT_PROJECT_DIR": str(self.project),
                "DBT_PROFILES_DIR": str(self.project), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}

    def mf(self, *args: str) -> str:
        """The `mf` command with these arguments; its output."""
        done = subprocess.run([sys.executable, str(RUNNER), "cli", *args], cwd=self.project,
                              env=self.environment(), capture_output=True, text=True)
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"mf {' '.join(args)} failed:\n{output[-4000:]}"
        return output

    def mf_query(self, metrics: list[str] | None = None, group_by: list[str] | None = None,
                 saved_query: str | None = None) -> tuple[list[str], list[list[Any]]]:
        """`mf query ... --csv`: its columns and rows, numbers parsed and empty cells as None."""
        path = self.project / "query.csv"
        path.unlink(missing_ok=True)
        args = ["query", "--quiet", "--csv", str(path)]
        if saved_query:
            args += ["--saved-query", saved_query]
        else:
            args += ["--metrics", ",".join(metrics)] + (["--group-by", ",".join(group_by)] if group_by else [])
        self.mf(*args)
        with path.open(newline="") as handle:
            columns, *rows = list(csv.reader(handle))
        return columns, [[_parse(column, value) for column, value in zip(columns, row)] for row in rows]

    def batch(self, queries: dict[str, dict[str, Any]], warehouse: Path | None = None
              ) -> dict[str, tuple[list[str], list[list[Any]]]]:
        """Each query ({metrics, group_by} or {saved_query}) through MetricFlow's Python API, in one process."""
        names = list(queries)
        queries_path, results_path = self.project / "queries.json", self.project / "results.json"
        queries_path.write_text(json.dumps([queries[name] for name in names]))
        done = subprocess.run([sys.executable, str(RUNNER), "batch", str(queries_path), str(results_path)],
                              cwd=self.project, env=self.environment(warehouse), capture_output=True, text=True)
        assert done.returncode == 0, f"MetricFlow queries failed:\n{(done.stdout + done.stderr)[-4000:]}"
        results = json.loads(results_path.read_text())
        return {name: (result["columns"], result["rows"]) for name, result in zip(names, results)}

    def sql(self, query: str, warehouse: Path | None = None) -> list[dict[str, Any]]:
        with duckdb.connect(str(warehouse or self.warehouse), read_only=True) as con:
            relation = con.sql(query)
            return [dict(zip(relation.columns, row)) for row in relation.fetchall()]


def _parse(column: str, value: str) -> Any:
    if value == "":
        return None
    if column in METRICS:
        return float(value)
    return value


def _key(value: Any) -> Any:
    """A group-by value as both sides give it: a period as its first date, text as text, null as None."""
    if isinstance(value, date):
        return value.isoformat()[:10]
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-" and value[:4].isdigit():
        return value[:10]
    return value


def metric_rows(result: tuple[list[str], list[list[Any]]]) -> Rows:
    """MetricFlow's rows by their group-by values."""
    columns, rows = result
    keys = [index for index, column in enumerate(columns) if column not in METRICS]
    by_key: Rows = {}
    for row in rows:
        key = tuple(_key(row[index]) for index in keys)
        assert key not in by_key, f"group {key} twice"
        by_key[key] = {column: row[index] for index, column in enumerate(columns) if column in METRICS}
    return by_key


def expected_rows(sample: Sample, metrics: list[str], group_by: list[str], zone: str = "UTC",
                  warehouse: Path | None = None) -> Rows:
    """The metrics by these group-bys in plain SQL on the marts. Periods in `zone` (the activity metrics' UTC dates
    stay as they are). Like MetricFlow's join of metrics from several semantic models, a group one metric lacks
    holds None for it."""
    by_source: dict[str, list[str]] = defaultdict(list)
    for name in metrics:
        by_source[METRICS[name][0]].append(name)
    rows: Rows = defaultdict(dict)
    for source, names in by_source.items():
        relation, time_column, condition = SOURCES[source]
        if zone != "UTC" and source != "activity":
            time_column = f"timezone('{zone}', {time_column} at time zone 'UTC')"
        keys = []
        for item in group_by:
            if item.startswith("metric_time__"):
                keys.append(f"cast(date_trunc('{item.removeprefix('metric_time__')}', {time_column}) as date)")
            elif item in ENTITIES:
                keys.append(f"{ALIASES[source]}.{ENTITIES[item]}")
            else:
                keys.append(DIMENSIONS[item])
        select = [f"{key} as k{index}" for index, key in enumerate(keys)]
        select += [f"{METRICS[name][1]} as {name}" for name in names]
        query = f"select {', '.join(select)} from {relation} where {condition}"
        if keys:
            query += f" group by {', '.join(f'k{index}' for index in range(len(keys)))}"
        for row in sample.sql(query, warehouse):
            key = tuple(_key(row[f"k{index}"]) for index in range(len(keys)))
            rows[key].update({name: row[name] for name in names})
    return {key: {name: values.get(name) for name in metrics} for key, values in rows.items()}


def assert_same_rows(actual: Rows, expected: Rows, label: str) -> None:
    """Same groups, and in each the same value of every metric (floats to 1e-9 relative)."""
    assert expected, f"{label}: nothing to compare"
    missing = sorted(expected.keys() - actual.keys(), key=repr)
    extra = sorted(actual.keys() - expected.keys(), key=repr)
    assert not missing and not extra, f"{label}: groups only in the marts {missing[:5]}, only in MetricFlow {extra[:5]}"
    for key, values in expected.items():
        for name, want in values.items():
            got = actual[key][name]
            same = (got is None and want is None) or (
                got is not None and want is not None and math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9))
            assert same, f"{label}: {name} at {key}: MetricFlow {got}, marts {want}"


def compare(sample: Sample, result: tuple[list[str], list[list[Any]]], metrics: list[str], group_by: list[str],
            label: str, **options: Any) -> None:
    assert_same_rows(metric_rows(result), expected_rows(sample, metrics, group_by, **options), label)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    root = tmp_path_factory.mktemp("semantic")
    project = root / "project"
    project.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        (project / name).symlink_to(PROJECT_DIR / name)
    built = Sample(project=project, warehouse=root / "warehouse.duckdb", landing=root / "landing")
    generate_sample(built.landing, users=60, days=10, seed=3)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DWELL_LANDING_DIR", str(built.landing))
        patch.setenv("DWELL_DUCKDB_PATH", str(built.warehouse))
        # The unit and data tests are the other tests' business; this build writes semantic_manifest.json.
        run_dbt(["build", "--quiet", "--target-path", str(project / "target"),
                 "--exclude", "test_type:unit", "test_type:data"])
    return built


def test_mf_validate_configs_passes_on_the_sample(sample: Sample):
    """The semantic models, metrics and saved queries, and their SQL against the sample warehouse."""
    output = sample.mf("validate-configs")
    for step in ("the semantics of built manifest", "semantic models against data warehouse",
                 "dimensions against data warehouse", "entities against data warehouse",
                 "measures against data warehouse",
                 "metrics against data warehouse"):
        assert f"Successfully validated {step} (ERRORS: 0" in output, output[-3000:]


@pytest.mark.parametrize("grain", GRAINS)
def test_mf_query_for_every_metric_by_period_equals_the_marts(sample: Sample, grain: str):
    """A real `mf query` for every metric by metric_time__day, week and month; the activity metrics by category
    (by week here, by day and month in DIMENSION_QUERIES)."""
    group_by = [f"metric_time__{grain}"]
    compare(sample, sample.mf_query(ALL_BUT_ACTIVITY, group_by), ALL_BUT_ACTIVITY, group_by, f"mf query by {grain}")
    if grain == "week":
        group_by.append("user_activity__category")
        compare(sample, sample.mf_query(ACTIVITY_METRICS, group_by), ACTIVITY_METRICS, group_by,
                "mf query activity by week")


# Metrics over dimensions and entities of their own and of joined semantic models.
DIMENSION_QUERIES = [
    (SESSION_METRICS, ["metric_time__week", "session__engagement_tier"]),
    (SESSION_METRICS, ["metric_time__month", "session__start_reason", "session__end_reason"]),
    (SESSION_METRICS + ["active_users", "new_users"], ["user__organization_id", "user__company"]),
    (["sessions", "session_users", "active_users", "activity_seconds"], ["organization"]),
    (["active_users"], ["metric_time__day", "event__platform"]),
    (["active_users"], ["metric_time__week", "event__category"]),
    (["active_users", "focus_seconds", "sessions"], ["session__engagement_tier"]),
    (["new_users"], ["metric_time__week", "user__email_domain"]),
    (["focus_seconds"], ["metric_time__day", "workspace__workspace_name"]),
    (ACTIVITY_METRICS, ["metric_time__day", "user_activity__category"]),
    (ACTIVITY_METRICS, ["metric_time__month", "user_activity__category", "user__organization_id"]),
    (SESSION_METRICS + ["active_users"], ["metric_time__week", "user"]),
    # Totals.
    (list(METRICS), []),
]
TOTALS = str(len(DIMENSION_QUERIES) - 1)


PERIOD_REPORT_METRICS = ["active_users", "new_users", "sessions", "sessions_per_user", "total_session_seconds"]
SAVED_QUERIES = ["session_board_reasons", *(f"period_report_{grain}" for grain in GRAINS)]


def period_queries() -> dict[str, dict[str, Any]]:
    """What the period reports hold: totals per period, and per user and period."""
    queries = {}
    for grain in GRAINS:
        queries[grain] = {"metrics": ["sessions", "active_users", "total_session_seconds", "session_users",
                                      "average_session_duration_seconds", "median_session_duration_seconds"],
                          "group_by": [f"metric_time__{grain}"]}
        queries[f"{grain}_user"] = {"metrics": ["sessions", "active_users", "total_session_seconds"],
                                    "group_by": [f"metric_time__{grain}", "user"]}
    return queries


@pytest.fixture(scope="module")
def asked(sample: Sample) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Every query of the UTC tests below but the `mf query` calls, through the Python API in one process: the
    dimension queries by number, the saved queries by name, the period queries, and the activity by period."""
    queries = {str(index): {"metrics": metrics, "group_by": group_by}
               for index, (metrics, group_by) in enumerate(DIMENSION_QUERIES)}
    queries.update({name: {"saved_query": name} for name in SAVED_QUERIES})
    queries.update(period_queries())
    queries.update({f"activity_{grain}": {"metrics": ACTIVITY_METRICS,
                                          "group_by": [f"metric_time__{grain}", "user_activity__category"]}
                    for grain in GRAINS})
    return sample.batch(queries)


def test_metrics_by_dimensions_equal_the_marts(sample: Sample, asked: dict):
    for index, (metrics, group_by) in enumerate(DIMENSION_QUERIES):
        compare(sample, asked[str(index)], metrics, group_by, f"{metrics} by {group_by}")


def test_saved_queries_equal_the_marts(sample: Sample, asked: dict):
    columns, rows = sample.mf_query(saved_query="session_board")
    metrics = [column for column in columns if column in METRICS]
    assert len(metrics) == 10
    compare(sample, (columns, rows), metrics, ["metric_time__day"], "session_board")
    compare(sample, asked["session_board_reasons"], ["sessions", "average_session_duration_seconds"],
            ["metric_time__week", "session__start_reason", "session__end_reason"], "session_board_reasons")
    for grain in GRAINS:
        compare(sample, asked[f"period_report_{grain}"], PERIOD_REPORT_METRICS, [f"metric_time__{grain}"],
                f"period_report_{grain}")


def assert_period_reports_agree(sample: Sample, results: dict, zone: str, warehouse: Path | None = None) -> None:
    """rpt_period_summary's sessions, active users and usage time, and rpt_user_period_activity's rows, sessions and
    usage per user, equal the metrics for every period of every grain. A report has a period wherever there is
    activity; a period without a session start has no session metrics (None), the report 0."""
    for grain in GRAINS:
        summary = sample.sql(f"select period_start, session_count, active_user_count, usage_minutes * 60 as usage, "
                             f"time_zone from marts.rpt_period_summary where grain = '{grain}'", warehouse)
        assert summary and {row["time_zone"] for row in summary} == {zone}
        report = {(_key(row["period_start"]),): {"sessions": row["session_count"],
                                                 "active_users": row["active_user_count"],
                                                 "total_session_seconds": row["usage"]} for row in summary}
        metrics = {key: {"sessions": values["sessions"] or 0, "active_users": values["active_users"],
                         "total_session_seconds": values["total_session_seconds"] or 0}
                   for key, values in metric_rows(results[grain]).items()}
        assert_same_rows(metrics, report, f"rpt_period_summary by {grain} in {zone}")

        per_user = sample.sql(f"select period_start, user_id, session_count, usage_seconds "
                              f"from marts.rpt_user_period_activity where grain = '{grain}'", warehouse)
        report = {(_key(row["period_start"]), row["user_id"]): {
            "sessions": row["session_count"], "total_session_seconds": row["usage_seconds"], "active_users": 1}
            for row in per_user}
        metrics = {key: {"sessions": values["sessions"] or 0, "active_users": values["active_users"],
                         "total_session_seconds": values["total_session_seconds"] or 0}
                   for key, values in metric_rows(results[f"{grain}_user"]).items()}
        assert_same_rows(metrics, report, f"rpt_user_period_activity by {grain} in {zone}")


def test_period_reports_and_daily_sessions_agree_with_the_metrics_in_utc(sample: Sample, asked: dict):
    assert_period_reports_agree(sample, asked, "UTC")
    # rpt_daily_sessions (UTC days): its active_users are users with a session starting on the day, session_users.
    daily = sample.sql("select day, session_count, total_duration_seconds, mean_duration_seconds, "
                       "median_duration_seconds, active_users from marts.rpt_daily_sessions")
    report = {(_key(row["day"]),): {
        "sessions": row["session_count"], "total_session_seconds": row["total_duration_seconds"],
        "average_session_duration_seconds": row["mean_duration_seconds"],
        "median_session_duration_seconds": row["median_duration_seconds"], "session_users": row["active_users"]}
        for row in daily}
    names = ["sessions", "total_session_seconds", "average_session_duration_seconds",
             "median_session_duration_seconds", "session_users"]
    metrics = {key: {name: values[name] for name in names} for key, values in metric_rows(asked["day"]).items()}
    assert_same_rows(metrics, report, "rpt_daily_sessions")


def test_period_reports_agree_with_the_metrics_in_asia_kolkata(sample: Sample, tmp_path_factory):
    """A copy of the sample, its period reports and semantic views rebuilt in Asia/Kolkata (UTC+05:30): the reports
    equal the metrics, and every metric by local day equals the marts; the activity metrics keep UTC days."""
    root = tmp_path_factory.mktemp("kolkata")
    warehouse = root / "warehouse.duckdb"
    shutil.copyfile(sample.warehouse, warehouse)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DWELL_LANDING_DIR", str(sample.landing))
        patch.setenv("DWELL_DUCKDB_PATH", str(warehouse))
        run_dbt(["build", "--quiet", "--no-write-json", "--target-path", str(root / "target"),
                 "--select", "int_user_period_activity+", "path:models/semantic",
                 "--exclude", "test_type:unit", "test_type:data"], {"reporting_time_zone": KOLKATA})
    queries = period_queries()
    by_day = {"all_by_day": (ALL_BUT_ACTIVITY, ["metric_time__day"]),
              "activity_by_day": (ACTIVITY_METRICS, ["metric_time__day", "user_activity__category"])}
    queries.update({name: {"metrics": metrics, "group_by": group_by} for name, (metrics, group_by) in by_day.items()})
    results = sample.batch(queries, warehouse)
    assert_period_reports_agree(sample, results, KOLKATA, warehouse)
    for name, (metrics, group_by) in by_day.items():
        compare(sample, results[name], metrics, group_by, f"{name} in {KOLKATA}", zone=KOLKATA, warehouse=warehouse)
    # Why active_users is not session_users: in Kolkata, users whose only activity on a local day continues a
    # session that started the day before.
    by_day = metric_rows(results["day"])
    assert any(values["active_users"] != values["session_users"] for values in by_day.values())


def test_the_python_api_agrees_with_the_metrics(sample: Sample, asked: dict):
    """`dwell summary` (sessions, users, median session) and the dwell_activity_report macro (active users and active time of a
    category per bucket of days, weeks and months) give the metrics' numbers."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DWELL_LANDING_DIR", str(sample.landing))
        summary = summarize(sample.warehouse)
    [totals] = metric_rows(asked[TOTALS]).values()
    assert (summary.sessions, summary.users) == (totals["sessions"], totals["session_users"])
    assert math.isclose(summary.median_session_seconds, totals["median_session_duration_seconds"], rel_tol=1e-12)

    [bounds] = sample.sql("select min(activity_date) as first, max(activity_date) as last "
                          "from marts.fct_user_activity_daily")
    first, end = bounds["first"], bounds["last"] + timedelta(days=1)
    starts = {"day": first, "week": first - timedelta(days=first.weekday()), "month": first.replace(day=1)}
    for grain in GRAINS:
        metrics = metric_rows(asked[f"activity_{grain}"])
        for category in ("ide", "web_terminal", "any"):
            buckets = {(start.isoformat(), category): users
                       for start, users in activity_report(sample, starts[grain], end, grain, category).items()}
            assert buckets
            assert set(buckets) == {key for key in metrics if key[1] == category}, (grain, category)
            for key, users in buckets.items():
                assert metrics[key]["active_users_by_activity"] == len(users), (grain, key)
                assert math.isclose(metrics[key]["activity_seconds"], sum(users.values()),
                                    abs_tol=1e-6 * len(users)), (grain, key)


def activity_report(sample: Sample, start: date, end: date, grain: str, category: str) -> dict[date, dict[str, float]]:
    """The dbt macro dwell_activity_report, compiled and run on the sample: each bucket's start and its active
    users' seconds."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DWELL_LANDING_DIR", str(sample.landing))
        patch.setenv("DWELL_DUCKDB_PATH", str(sample.warehouse))
        compiled = run_dbt(["compile", "--quiet", "--target-path", str(sample.project / "target"), "--inline",
                            f"{{{{ dwell_activity_report('{start}', '{end}', '1 {grain}', '{category}') }}}}"])
    report: dict[date, dict[str, float]] = {}
    for row in sample.sql(compiled.result.results[0].node.compiled_code):
        if not row["is_total"]:
            report.setdefault(row["bucket_start"], {})[row["user_id"]] = row["active_seconds"]
    return report
