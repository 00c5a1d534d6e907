"""Sensors: new landed files request runs for what they touch; finished upstream runs refresh the lifetime marts."""

import hashlib
import json
from collections.abc import Iterable
from datetime import date, timedelta

from dagster import (
    AssetKey,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunStatusSensorContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_status_sensor,
    sensor,
)
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from orchestration import landing, settings
from orchestration.assets import dwell_daily_models, dwell_reference_models
from orchestration.jobs import daily_job, lifetime_job, reference_job
from orchestration.partitions import daily_partitions


def _contiguous_ranges(days: Iterable[date]) -> list[tuple[date, date]]:
    ranges: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if ranges and day == ranges[-1][1] + timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def _new_files(context: SensorEvaluationContext, files: list[landing.LandedFile]):
    """Files not seen with this signature before, and the cursor that marks them seen."""
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    new = [file for file in files if seen.get(str(file.path)) != file.signature]
    cursor = json.dumps({**seen, **{str(file.path): file.signature for file in new}}, sort_keys=True)
    return new, cursor


def _run_key(files: list[landing.LandedFile], suffix: str) -> str:
    digest = hashlib.sha256(landing.fingerprint(files).encode() + suffix.encode()).hexdigest()[:24]
    return f"{suffix}-{digest}"


@sensor(
    job=daily_job,
    name="dwell_landing_sensor",
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="New or rewritten event files request one run per contiguous range of event dates they contain.",
)
def landing_sensor(context: SensorEvaluationContext):
    new, cursor = _new_files(context, landing.event_files(settings.landing_dir()))
    if not new:
        return SkipReason("No new event files.")
    partition_keys = set(daily_partitions.get_partition_keys())
    days = {day for day in landing.event_dates(new) if day.isoformat() in partition_keys}
    if not days:
        context.log.warning(
            f"{len(new)} new event files hold no event date inside the partitions; a full refresh loads them.")
        return SensorResult(skip_reason=SkipReason("New files touch no partition."), cursor=cursor)
    run_requests = [
        RunRequest(
            run_key=_run_key(new, f"{first}..{last}"),
            tags={ASSET_PARTITION_RANGE_START_TAG: first.isoformat(), ASSET_PARTITION_RANGE_END_TAG: last.isoformat()},
        )
        for first, last in _contiguous_ranges(days)
    ]
    return SensorResult(run_requests=run_requests, cursor=cursor)


@sensor(
    job=reference_job,
    name="dwell_dimension_files_sensor",
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="New or rewritten dimension files rebuild the reference models.",
)
def dimension_files_sensor(context: SensorEvaluationContext):
    new, cursor = _new_files(context, landing.dimension_files(settings.landing_dir()))
    if not new:
        return SkipReason("No new dimension files.")
    return SensorResult(run_requests=[RunRequest(run_key=_run_key(new, "dimensions"))], cursor=cursor)


UPSTREAM_OF_LIFETIME: frozenset[AssetKey] = frozenset(dwell_daily_models.keys | dwell_reference_models.keys)


@run_status_sensor(
    run_status=DagsterRunStatus.SUCCESS,
    name="dwell_lifetime_after_upstream_sensor",
    request_job=lifetime_job,
    default_status=DefaultSensorStatus.RUNNING,
    description="After a successful run of daily or reference models (schedule, sensor or backfill), rebuild the lifetime marts.",
)
def lifetime_after_upstream_sensor(context: RunStatusSensorContext):
    run = context.dagster_run
    if not run.asset_selection:
        # A run of a whole job carries no asset selection; backfills and UI launches do.
        upstream = run.job_name in (daily_job.name, reference_job.name)
    else:
        upstream = bool(run.asset_selection & UPSTREAM_OF_LIFETIME)
    if not upstream:
        return SkipReason("The run materialized no upstream of the lifetime marts.")
    return RunRequest(run_key=run.run_id)
