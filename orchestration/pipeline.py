"""Materialize every asset through Dagster in-process: the main command's path, and the tests'."""

from dagster import DagsterInstance, JobDefinition
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from orchestration import landing, settings
from orchestration.assets import dwell_daily_models, dwell_lifetime_models, dwell_reference_models
from orchestration.definitions import defs
from orchestration.errors import DwellError
from orchestration.jobs import daily_job, lifetime_job, reference_job
from orchestration.partitions import daily_partitions


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
        raise PipelineError(f"Dagster job {job_name} failed; see the log above")


def materialize_daily(instance: DagsterInstance, first_partition: str, last_partition: str, full_refresh: bool = False) -> None:
    """One run (one dbt invocation) for the partition range [first, last], both included."""
    tags = {ASSET_PARTITION_RANGE_START_TAG: first_partition, ASSET_PARTITION_RANGE_END_TAG: last_partition}
    materialize_job(daily_job.name, instance, full_refresh, tags)


def landed_partition_range() -> tuple[str, str] | None:
    """The first and last daily partitions that hold a landed event, or the last partition when none does (a run
    loads every new file whatever its window); None when there are no partitions yet."""
    partition_keys = daily_partitions.get_partition_keys()
    if not partition_keys:
        return None
    existing = set(partition_keys)
    event_dates = landing.event_dates(landing.event_files(settings.landing_dir()))
    landed = sorted(key for key in (day.isoformat() for day in event_dates) if key in existing)
    return (landed[0], landed[-1]) if landed else (partition_keys[-1], partition_keys[-1])


def materialize_all(instance: DagsterInstance, full_refresh: bool = True) -> None:
    """Reference models, the daily partitions from the first to the last landed event date in one run, then the
    lifetime marts. Partitions without events are left out: each partition of a run costs Dagster bookkeeping
    (planned materializations and checks), and a window over no events rebuilds nothing."""
    materialize_job(reference_job.name, instance, full_refresh)
    partition_range = landed_partition_range()
    if partition_range:
        materialize_daily(instance, *partition_range, full_refresh)
    materialize_job(lifetime_job.name, instance, full_refresh)
