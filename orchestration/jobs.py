"""One job per group of runs; a full materialization runs them in this order."""

from dagster import AssetSelection, define_asset_job

from orchestration.assets import (
    dwell_daily_models,
    dwell_lifetime_models,
    dwell_reference_models,
    serving_marts,
    session_alert_webhook,
)
from orchestration.partitions import daily_partitions

reference_job = define_asset_job(
    "dwell_reference_job",
    selection=AssetSelection.assets(dwell_reference_models),
    description="Seeds and dimension staging.",
)
daily_job = define_asset_job(
    "dwell_daily_job",
    selection=AssetSelection.assets(dwell_daily_models),
    partitions_def=daily_partitions,
    description="Event staging and sessions for a partition or range of event dates.",
)
lifetime_job = define_asset_job(
    "dwell_lifetime_job",
    selection=AssetSelection.assets(dwell_lifetime_models, session_alert_webhook, serving_marts),
    description="Dimensions and lifetime marts, after the daily or reference models change; then alert delivery and "
                "the serving copy for BI tools.",
)

JOBS_IN_ORDER = (reference_job, daily_job, lifetime_job)
