"""One job per group of runs; a full materialization runs them in this order. Dagster cannot mix partitioned and
unpartitioned assets in one run, so dbt's models are split into three runs by a tag of theirs (dbt_project.yml),
which dagster-dbt makes a tag of each asset."""

from dagster import AssetSelection, define_asset_job

from orchestration.partitions import daily_partitions

REFERENCE_TAG = "reference"
DAILY_TAG = "daily"
LIFETIME_TAG = "lifetime"
# The asset groups of the alert delivery and of the serving copy (assets.py), which run after the lifetime marts.
AFTER_LIFETIME_GROUPS = ("alerts", "serving")

reference_job = define_asset_job(
    "dwell_reference_job",
    selection=AssetSelection.tag(REFERENCE_TAG, ""),
    description="Seeds and dimension staging.",
)
daily_job = define_asset_job(
    "dwell_daily_job",
    selection=AssetSelection.tag(DAILY_TAG, ""),
    partitions_def=daily_partitions,
    description="Event staging and sessions for a partition or range of event dates.",
)
lifetime_job = define_asset_job(
    "dwell_lifetime_job",
    selection=AssetSelection.tag(LIFETIME_TAG, "") | AssetSelection.groups(*AFTER_LIFETIME_GROUPS),
    description="Dimensions and lifetime marts, after the daily or reference models change; then alert delivery and "
                "the serving copy for BI tools.",
)

JOBS_IN_ORDER = (reference_job, daily_job, lifetime_job)
