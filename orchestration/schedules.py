"""The daily schedule: yesterday's partition, shortly after midnight UTC."""

from dagster import build_schedule_from_partitioned_job

from orchestration.jobs import daily_job

daily_schedule = build_schedule_from_partitioned_job(
    daily_job,
    name="dwell_daily_schedule",
    hour_of_day=0,
    minute_of_hour=30,
    description="Materializes the previous day's partition of the daily models.",
)
