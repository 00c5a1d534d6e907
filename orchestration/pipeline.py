"""Materialize assets through Dagster in-process: the main command's path, and the tests'."""

from dagster import DagsterInstance, JobDefinition, PartitionKeyRange
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from orchestration import build_plan, loaded_files
from orchestration.assets import (
    dwell_daily_models,
    dwell_lifetime_models,
    dwell_reference_models,
    serving_marts,
    session_alert_webhook,
)
from orchestration.definitions import defs
from orchestration.errors import DwellError
from orchestration.jobs import daily_job, lifetime_job, reference_job
from orchestration.partitions import PARTITION_START_VARIABLE, daily_partitions
from orchestration.run_log import RunLog


class PipelineError(DwellError):
    pass


DBT_OPS = {assets_def.op.name for assets_def in (dwell_daily_models, dwell_lifetime_models, dwell_reference_models)}


def _run_config(job: JobDefinition, full_refresh: bool) -> dict:
    return {"ops": {node.name: {"config": {"full_refresh": full_refresh}}
                    for node in job.nodes_in_topological_order if node.name in DBT_OPS}}


def materialize_job(job_name: str, instance: DagsterInstance, full_refresh: bool, tags: dict[str, str] | None = None) -> None:
    job = defs.resolve_job_def(job_name)
    result = job.execute_in_process(
        instance=instance, run_config=_run_config(job, full_refresh), tags=tags or {}, raise_on_error=False
    )
    if not result.success:
        failure = next((event.event_specific_data.error.message.strip() for event in result.all_events
                        if event.is_step_failure), "")
        raise PipelineError(f"Dagster job {job_name} failed{': ' + failure if failure else ''}")


def materialize_daily(instance: DagsterInstance, first_partition: str, last_partition: str, full_refresh: bool = False) -> None:
    """One run (one dbt invocation) for the partition range [first, last], both included."""
    tags = {ASSET_PARTITION_RANGE_START_TAG: first_partition, ASSET_PARTITION_RANGE_END_TAG: last_partition}
    materialize_job(daily_job.name, instance, full_refresh, tags)


def materialize_all(instance: DagsterInstance, full_refresh: bool = True) -> None:
    """Reference models, the daily partitions from the first to the last landed event date in one run, then the
    lifetime marts."""
    daily, _ = build_plan.daily_run(loaded_files.EVENTS.landed())
    materialize_job(reference_job.name, instance, full_refresh)
    materialize_daily(instance, *daily, full_refresh)
    materialize_job(lifetime_job.name, instance, full_refresh)


def _partition_count(first: str, last: str) -> int:
    return len(daily_partitions.get_partition_keys_in_range(PartitionKeyRange(first, last)))


def run_plan(instance: DagsterInstance, planned: build_plan.Plan, full_refresh: bool, log: RunLog) -> None:
    """The main command's jobs, a progress line each, then the record that lets the next run skip what is built."""
    if planned.reference:
        with log.step(f"reference: {len(dwell_reference_models.keys)} seeds and dimension models"):
            materialize_job(reference_job.name, instance, full_refresh)
    else:
        log.say(f"reference: unchanged, {planned.reference_skipped_because}")
    if planned.before_partition_start:
        first = planned.before_partition_start[0].isoformat()
        log.say(f"note: events on {len(planned.before_partition_start)} day(s) from {first} precede "
                f"{PARTITION_START_VARIABLE}: loaded and sessionized, but no daily partition shows them; set it to "
                f"{first} or earlier to see them in Dagster")
    if planned.daily:
        first, last = planned.daily
        days = _partition_count(first, last)
        span = first if first == last else f"{first}..{last}"
        with log.step(f"daily: {days} partition{'s' if days > 1 else ''} ({span}), "
                      f"{len(dwell_daily_models.keys)} models"):
            materialize_daily(instance, first, last, full_refresh)
    with log.step(f"lifetime: {len(dwell_lifetime_models.keys)} marts, then "
                  f"{session_alert_webhook.key.to_user_string()} and {serving_marts.key.to_user_string()}"):
        materialize_job(lifetime_job.name, instance, full_refresh)
    build_plan.record_build(instance)
