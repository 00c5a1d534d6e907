"""Sensors: new landed files request runs for what they touch; finished upstream runs refresh the lifetime marts."""

import hashlib
import json
from datetime import datetime, timezone

from dagster import (
    AssetKey,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    RunStatusSensorContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_status_sensor,
    sensor,
)
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from orchestration import landing, loaded_files, partitions
from orchestration.assets import dwell_daily_models, dwell_reference_models
from orchestration.jobs import daily_job, lifetime_job, reference_job


def _new_files(context: SensorEvaluationContext, kind: loaded_files.FileKind):
    """Files neither this sensor has seen nor a successful run has loaded (`dwell run`'s included), and the cursor
    that marks them seen."""
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    new = loaded_files.new_files(kind.landed(), seen, loaded_files.loaded(context.instance, kind))
    cursor = json.dumps({**seen, **loaded_files.signatures(new)}, sort_keys=True)
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
    new, cursor = _new_files(context, loaded_files.EVENTS)
    if not new:
        return SkipReason("No new event files.")
    try:
        covered = partitions.coverage(landing.event_dates(new))
    except partitions.PartitionStartError as error:
        context.log.warning(str(error))
        return SensorResult(skip_reason=SkipReason("New files touch no partition."), cursor=cursor)
    if not covered.days:
        context.log.warning(f"{len(new)} new event files hold no readable event date; the next run loads them.")
        return SensorResult(skip_reason=SkipReason("New files hold no event date."), cursor=cursor)
    run_requests = [
        RunRequest(
            run_key=_run_key(new, f"{first}..{last}"),
            tags={ASSET_PARTITION_RANGE_START_TAG: first.isoformat(), ASSET_PARTITION_RANGE_END_TAG: last.isoformat()},
        )
        for first, last in partitions.contiguous_ranges(covered.days)
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
    new, cursor = _new_files(context, loaded_files.DIMENSIONS)
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
    # A lifetime run created after this run ended reads what it wrote: `dwell run`'s own, or one requested for an
    # upstream run that finished just before.
    ended = context.instance.get_run_stats(run.run_id).end_time
    later = context.instance.get_runs(RunsFilter(
        job_name=lifetime_job.name, created_after=datetime.fromtimestamp(ended, timezone.utc) if ended else None,
        statuses=[status for status in DagsterRunStatus
                  if status not in (DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED)]), limit=1)
    if ended and later:
        return SkipReason(f"Lifetime run {later[0].run_id} started after this run and reads what it wrote.")
    return RunRequest(run_key=run.run_id)
