"""Every table is an asset: the landed files (observed), every dbt seed and model in three groups of runs, the
delivery of session alerts, and the serving copy of the marts."""

import json
import os
import shutil
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Config,
    DataVersion,
    MaterializeResult,
    ObserveResult,
    asset,
    observable_source_asset,
)
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration import landing, loaded_files, settings, warehouse
from orchestration.alerts.stores import alert_store
from orchestration.alerts.webhook import WEBHOOK_URL_VARIABLE, deliver_new_alerts, webhook_url
from orchestration.dbt_invoke import PRODUCTION_BUILD
from orchestration.engines.builds import dbt_build_scope
from orchestration.engines.reading import readable_warehouse
from orchestration.errors import DwellError
from orchestration.jobs import AFTER_LIFETIME_GROUPS, DAILY_TAG, LIFETIME_TAG, REFERENCE_TAG
from orchestration.partitions import daily_partitions, window_variables
from orchestration.project import dwell_project
from orchestration.resources import WAREHOUSE_POOL
from orchestration.serving.snapshot import publish
from orchestration.translator import dwell_translator

PARTIAL_PARSE_FILE = "partial_parse.msgpack"
ALERTS_GROUP, SERVING_GROUP = AFTER_LIFETIME_GROUPS


class DbtBuildConfig(Config):
    full_refresh: bool = False
    """Rebuild incremental tables from scratch (dbt build --full-refresh)."""


def _observe(files: list[landing.LandedFile]) -> ObserveResult:
    return ObserveResult(
        data_version=DataVersion(landing.fingerprint(files)),
        metadata={"files": len(files), "bytes": sum(file.size for file in files)},
    )


@observable_source_asset(
    key=AssetKey(["landing", "events"]),
    group_name="landing",
    description="Event files under <landing>/events/ (Parquet, JSON, gzip JSON); README raw-data contract.",
)
def landed_events() -> ObserveResult:
    return _observe(landing.event_files(settings.landing_dir()))


@observable_source_asset(
    key=AssetKey(["landing", "dimensions"]),
    group_name="landing",
    description="Optional dimension files: organizations, users, workspaces, workspace_members (CSV or Parquet).",
)
def landed_dimensions() -> ObserveResult:
    return _observe(landing.dimension_files(settings.landing_dir()))


def _build_args(config: DbtBuildConfig) -> list[str]:
    args = list(PRODUCTION_BUILD)
    if config.full_refresh:
        args.append("--full-refresh")
    dbt_vars = settings.dbt_vars()
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    return args


def _keep_partial_parse(invocation_target_path: Path) -> None:
    """dagster-dbt starts each dbt invocation from the project's partial parse (target/partial_parse.msgpack) but never
    updates it: every run parsed the whole project anew (some 10 s) once its profile differed from that of
    the `dbt parse` that wrote it. The run's own partial parse replaces it, in one rename, for the next runs."""
    parsed = invocation_target_path / PARTIAL_PARSE_FILE
    if not parsed.exists():
        return
    kept = dwell_project.project_dir / dwell_project.target_path / PARTIAL_PARSE_FILE
    staged = kept.with_name(f".{PARTIAL_PARSE_FILE}.{os.getpid()}")
    shutil.copyfile(parsed, staged)
    os.replace(staged, kept)


def _build(context: AssetExecutionContext, dbt: DbtCliResource, args: list[str],
           reads: loaded_files.FileKind | None = None):
    """One dbt build. On duckdb it writes a copy of the warehouse that replaces the warehouse when every seed and model
    succeeded, even if data tests failed: their asset checks fail, and the run fails after keeping the data. Then the
    landed files of `reads` as they were at the start are recorded as loaded (orchestration/loaded_files.py)."""
    landed = reads.landed() if reads else []
    with dbt_build_scope():
        invocation = dbt.cli(args, context=context, raise_on_error=False)
        yield from invocation.stream()
        _keep_partial_parse(invocation.target_path)
        failed_tests = warehouse.failed_tests(invocation.get_artifact("run_results.json"))
    if reads:
        loaded_files.record_loaded(context.instance, reads, landed)
    if failed_tests:
        raise DwellError(f"{len(failed_tests)} data test(s) failed, the run's data was kept: {', '.join(failed_tests)}")


@dbt_assets(
    manifest=dwell_project.manifest_path,
    project=dwell_project,
    select=f"tag:{DAILY_TAG}",
    name="dwell_daily_models",
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    dagster_dbt_translator=dwell_translator,
    pool=WAREHOUSE_POOL,
)
def dwell_daily_models(context: AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
    """Event staging and sessions. One dbt build per run, however many partitions: the window is [start, end)."""
    window = window_variables(context.partition_time_window)
    context.log.info(f"dbt window {window}")
    with settings.environment(window):
        yield from _build(context, dbt, _build_args(config), reads=loaded_files.EVENTS)


def _unpartitioned_dbt_assets(name: str, select: str, reads: loaded_files.FileKind | None = None):
    @dbt_assets(
        manifest=dwell_project.manifest_path,
        project=dwell_project,
        select=select,
        name=name,
        dagster_dbt_translator=dwell_translator,
        pool=WAREHOUSE_POOL,
    )
    def _assets(context: AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
        yield from _build(context, dbt, _build_args(config), reads)

    return _assets


# Seeds and dimension staging: inputs without an event date.
dwell_reference_models = _unpartitioned_dbt_assets("dwell_reference_models", f"tag:{REFERENCE_TAG}",
                                                  reads=loaded_files.DIMENSIONS)
# Unpartitioned marts built from all history: dimensions and lifetime reports.
dwell_lifetime_models = _unpartitioned_dbt_assets("dwell_lifetime_models", f"tag:{LIFETIME_TAG}")


@asset(
    key=AssetKey(["alerts", "session_alert_webhook"]),
    deps=[AssetKey(["marts", "fct_session_alerts"])],
    group_name=ALERTS_GROUP,
    pool=WAREHOUSE_POOL,
    description="POSTs each new row of marts.fct_session_alerts to the webhook in DWELL_ALERT_WEBHOOK_URL, once.",
)
def session_alert_webhook(context: AssetExecutionContext) -> MaterializeResult:
    url = webhook_url()
    if url is None:
        context.log.info(f"{WEBHOOK_URL_VARIABLE} is not set: no alerts sent.")
        return MaterializeResult(metadata={"delivered": 0, "webhook": "not configured"})
    with alert_store() as store:
        report = deliver_new_alerts(store, url)
    if report.failed:
        # The delivered ones are recorded; the next run retries only the rest.
        raise DwellError(f"{len(report.failed)} alert(s) not delivered (first: {report.failed[0]}); "
                         f"{report.delivered} delivered")
    return MaterializeResult(metadata={"delivered": report.delivered,
                                       "delivered_before": report.already_delivered})


MART_KEYS = sorted(key for key in dwell_daily_models.keys | dwell_lifetime_models.keys if key.path[0] == "marts")


@asset(
    key=AssetKey(["serving", "marts"]),
    # After alert delivery too: that asset writes the warehouse, and the copy must read it alone.
    deps=[*MART_KEYS, session_alert_webhook.key],
    group_name=SERVING_GROUP,
    pool=WAREHOUSE_POOL,
    description="Read-only copy of every mart for BI tools (DWELL_SERVING_DIR: dwell.duckdb and parquet/<mart>.parquet), "
                "swapped in whole after each run; README \"Serving copy for BI tools\".",
)
def serving_marts(context: AssetExecutionContext) -> MaterializeResult:
    with readable_warehouse(["marts.*"]) as readable:
        publication = publish(readable, settings.serving_dir())
    context.log.info(f"Published {len(publication.row_counts)} marts to {settings.serving_dir()}")
    return MaterializeResult(metadata={"directory": str(settings.serving_dir()), "pii": publication.pii,
                                       "marts": len(publication.row_counts),
                                       "rows": sum(publication.row_counts.values())})
