"""Active users by category over any range and interval (README: "Activity by category").

`activity_report` answers questions like "active IDE users in August, by week" from `marts.fct_user_activity_daily`,
with the same buckets as the dbt macro `dwell_activity_report`, as JSON-ready dicts.
"""

import calendar
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb

from orchestration.errors import DwellError
from orchestration.settings import duckdb_path

_INTERVAL = re.compile(r"\s*([1-9][0-9]{0,4})\s+(day|week|month|year)s?\s*")
_CATEGORY = re.compile(r"[a-z0-9_]+")


class ActivityReportError(DwellError, ValueError):
    pass


def parse_date(name: str, value: date | str) -> date:
    """A UTC day: a date, or an ISO string YYYY-MM-DD. Datetimes are refused: buckets are whole UTC days."""
    if isinstance(value, datetime):
        raise ActivityReportError(f"{name} must be a date, not a datetime: {value!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ActivityReportError(f"{name} must be a date YYYY-MM-DD, got: {value!r}")


def parse_interval(interval: str) -> tuple[int, str]:
    """'<N> day(s)|week(s)|month(s)|year(s)', N >= 1, as (N, unit)."""
    match = _INTERVAL.fullmatch(interval.lower()) if isinstance(interval, str) else None
    if match is None:
        raise ActivityReportError(
            f"interval must be like '1 day', '1 week', '90 days', '1 month' or '1 year', got: {interval!r}")
    return int(match.group(1)), match.group(2)


def add_months(day: date, months: int) -> date:
    """day + months calendar months, clamped to the month's last day (Jan 31 + 1 month = Feb 28 or 29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def buckets(start: date, end: date, interval: str) -> list[tuple[date, date]]:
    """Half-open [start, end) cut at start + i intervals (months and years counted from start), the last bucket
    clipped to end. The same edges as the dbt macro dwell_activity_buckets."""
    count, unit = parse_interval(interval)
    starts = []
    index = 0
    while True:
        step = count * index
        if unit == "day":
            bucket_start = start + timedelta(days=step)
        elif unit == "week":
            bucket_start = start + timedelta(days=7 * step)
        elif unit == "month":
            bucket_start = add_months(start, step)
        else:
            bucket_start = add_months(start, 12 * step)
        if bucket_start >= end:
            break
        starts.append(bucket_start)
        index += 1
    return list(zip(starts, [*starts[1:], end]))


def _iso(day: date) -> str:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).isoformat()


def _user(user_id: str, microseconds: int, event_count: int) -> dict[str, Any]:
    return {"user_id": user_id, "duration_ns": microseconds * 1000, "duration_seconds": microseconds / 1_000_000,
            "event_count": event_count}


def activity_report(start: date | str, end: date | str, interval: str, category: str,
                    organization_id: str | None = None, database: Path | str | None = None) -> dict[str, Any]:
    """Active users of `category` from `start` to `end` (UTC days, half-open), by `interval`.

    A user is active in a bucket when a session of the category starts on a day of it (fct_user_activity_daily).
    `category` is `any` (every counted event) or a catalog category; only the categories of the
    activity_categories var are materialized, others have no rows. `organization_id` None means all organizations.
    `database` defaults to DWELL_DUCKDB_PATH; it is opened read-only.

    Returns {"buckets": [{"start", "end", "users": [user...]}], "totals": [user...]} where a user is
    {"user_id", "duration_ns", "duration_seconds", "event_count"}; buckets in order (empty ones included), users by id.
    """
    start_date, end_date = parse_date("start", start), parse_date("end", end)
    if start_date >= end_date:
        raise ActivityReportError(f"start must be before end, got: {start_date}, {end_date}")
    edges = buckets(start_date, end_date, interval)
    if not isinstance(category, str) or not _CATEGORY.fullmatch(category):
        raise ActivityReportError(f"category must be a lowercase name, got: {category!r}")
    if organization_id is not None and not isinstance(organization_id, str):
        raise ActivityReportError(f"organization_id must be a string or None, got: {organization_id!r}")

    con = duckdb.connect(str(database or duckdb_path()), read_only=True)
    try:
        known = {row[0] for row in con.execute("select distinct category from staging.event_catalog").fetchall()}
        if category not in known | {"any", "other"}:
            raise ActivityReportError(f"category must be any or a category of the event catalog, got: {category!r}")
        rows = con.execute(
            """
            with buckets as (
                select unnest($starts::date[]) as bucket_start, unnest($ends::date[]) as bucket_end
            ),

            activity as (
                select user_id, activity_date, cast(round(active_seconds * 1000000) as bigint) as active_us, event_count
                from marts.fct_user_activity_daily
                where category = $category
                    and activity_date >= $start and activity_date < $end
                    and ($organization_id is null or organization_id = $organization_id)
            )

            select buckets.bucket_start, activity.user_id,
                cast(sum(activity.active_us) as bigint), cast(sum(activity.event_count) as bigint)
            from activity
            inner join buckets
                on activity.activity_date >= buckets.bucket_start and activity.activity_date < buckets.bucket_end
            group by all
            order by all
            """,
            {"starts": [edge[0] for edge in edges], "ends": [edge[1] for edge in edges], "category": category,
             "start": start_date, "end": end_date, "organization_id": organization_id},
        ).fetchall()
    finally:
        con.close()

    by_bucket: dict[date, list[dict[str, Any]]] = {bucket_start: [] for bucket_start, _ in edges}
    totals: dict[str, list[int]] = {}
    for bucket_start, user_id, microseconds, event_count in rows:
        by_bucket[bucket_start].append(_user(user_id, microseconds, event_count))
        total = totals.setdefault(user_id, [0, 0])
        total[0] += microseconds
        total[1] += event_count
    return {
        "buckets": [{"start": _iso(bucket_start), "end": _iso(bucket_end), "users": by_bucket[bucket_start]}
                    for bucket_start, bucket_end in edges],
        "totals": [_user(user_id, *totals[user_id]) for user_id in sorted(totals)],
    }
