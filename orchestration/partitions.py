"""Daily partitions on event date (UTC), and the half-open window a partitioned run passes to dbt."""

import os

from dagster import DailyPartitionsDefinition, TimeWindow

DEFAULT_PARTITION_START_DATE = "2026-01-01"

daily_partitions = DailyPartitionsDefinition(
    start_date=os.environ.get("DWELL_PARTITION_START_DATE", DEFAULT_PARTITION_START_DATE),
    timezone="UTC",
)


def window_vars(window: TimeWindow) -> dict[str, str]:
    """dbt vars for the half-open window [start, end) of a partition or a range of partitions."""
    return {
        "window_start": window.start.strftime("%Y-%m-%dT%H:%M:%S"),
        "window_end": window.end.strftime("%Y-%m-%dT%H:%M:%S"),
    }
