"""Daily partitions on event date (UTC), the half-open window a partitioned run passes to dbt, and which partitions
cover the dates of landed events."""

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from dagster import DailyPartitionsDefinition, TimeWindow

from orchestration.errors import DwellError

DEFAULT_PARTITION_START_DATE = "2026-01-01"
PARTITION_START_VARIABLE = "DWELL_PARTITION_START_DATE"
WINDOW_START_VARIABLE = "DWELL_WINDOW_START"
WINDOW_END_VARIABLE = "DWELL_WINDOW_END"

daily_partitions = DailyPartitionsDefinition(
    start_date=os.environ.get(PARTITION_START_VARIABLE, DEFAULT_PARTITION_START_DATE),
    timezone="UTC",
)


class PartitionStartError(DwellError):
    pass


def window_variables(window: TimeWindow) -> dict[str, str]:
    """The environment variables of the half-open window [start, end) of a partition or a range of partitions, for
    the dbt process of a partitioned run. Environment variables, not dbt vars: dbt parses the whole project anew (some
    10 s) whenever its vars change, and the window changes on every run (README "Partitions and windows")."""
    return {
        WINDOW_START_VARIABLE: window.start.strftime("%Y-%m-%dT%H:%M:%S"),
        WINDOW_END_VARIABLE: window.end.strftime("%Y-%m-%dT%H:%M:%S"),
    }


@dataclass(frozen=True)
class Coverage:
    """The partitions a run over new event files takes. A run loads every new file whatever its window, so the dates
    inside the partitions are enough; when no date is, the nearest partition stands in: events before the first
    partition (or after the last, today's) are loaded and sessionized all the same, but no partition shows them."""

    days: frozenset[date]
    before_start: tuple[date, ...]

    @property
    def first_and_last(self) -> tuple[str, str] | None:
        return (min(self.days).isoformat(), max(self.days).isoformat()) if self.days else None


def coverage(event_dates: Iterable[date]) -> Coverage:
    """The partition dates that cover these event dates. Raises PartitionStartError when no partition can, because
    the partitions start after every one of them (or after today, so none exists yet)."""
    event_dates = sorted(set(event_dates))
    keys = daily_partitions.get_partition_keys()
    if not event_dates:
        return Coverage(frozenset(), ())
    if not keys or date.fromisoformat(keys[0]) > event_dates[-1]:
        raise PartitionStartError(_no_partition_message(event_dates[0], keys))
    first, last = date.fromisoformat(keys[0]), date.fromisoformat(keys[-1])
    inside = frozenset(day for day in event_dates if first <= day <= last)
    return Coverage(inside or frozenset(min(max(day, first), last) for day in event_dates),
                    tuple(day for day in event_dates if day < first))


def _no_partition_message(first_event: date, keys: list[str]) -> str:
    start = daily_partitions.start.date().isoformat()
    after = "after today" if not keys else "after every landed event"
    return (f"No daily partition holds the landed events: {PARTITION_START_VARIABLE} is {start}, {after}, and the "
            f"first landed event is dated {first_event.isoformat()}. Set {PARTITION_START_VARIABLE}={first_event.isoformat()} "
            f"(or any earlier date) and run again.")


def contiguous_ranges(days: Iterable[date]) -> list[tuple[date, date]]:
    ranges: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if ranges and day == ranges[-1][1] + timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges
