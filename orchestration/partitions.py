"""Daily partitions on event date (UTC), and the half-open window a partitioned run passes to dbt."""

import os

from dagster import DailyPartitionsDefinition, TimeWindow

DEFAULT_PARTITION_START_DATE = "2026-01-01"
WINDOW_START_VARIABLE = "DWELL_WINDOW_START"
WINDOW_END_VARIABLE = "DWELL_WINDOW_END"

daily_partitions = DailyPartitionsDefinition(
    start_date=os.environ.get("DWELL_PARTITION_START_DATE", DEFAULT_PARTITION_START_DATE),
    timezone="UTC",
)


def window_variables(window: TimeWindow) -> dict[str, str]:
    """The environment variables of the half-open window [start, end) of a partition or a range of partitions, for
    the dbt process of a partitioned run. Environment variables, not dbt vars: dbt parses the whole project anew (some
    10 s) whenever its vars change, and the window changes on every run (README "Partitions and windows")."""
    return {
        WINDOW_START_VARIABLE: window.start.strftime("%Y-%m-%dT%H:%M:%S"),
        WINDOW_END_VARIABLE: window.end.strftime("%Y-%m-%dT%H:%M:%S"),
    }
