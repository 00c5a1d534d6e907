"""The Dagster code location: `dagster dev` from the repository root loads this module (pyproject [tool.dagster])."""

import os

from dagster import Definitions, in_process_executor

from orchestration.assets import (
    dwell_daily_models,
    dwell_lifetime_models,
    dwell_reference_models,
    landed_dimensions,
    landed_events,
    serving_marts,
    session_alert_webhook,
)
from orchestration.data_test_sweep import data_test_sweep_schedule, dwell_data_test_sweep_job
from orchestration.jobs import JOBS_IN_ORDER
from orchestration.resources import dbt_resource
from orchestration.schedules import daily_schedule
from orchestration.sensors import dimension_files_sensor, landing_sensor, lifetime_after_upstream_sensor
from orchestration.settings import pin_paths

# dbt runs in its own process and working directory: give it absolute paths.
pin_paths()
# A test that reads a model of a later run (fct_sessions -> dim_users) runs with that later run, where all its
# parents are built or upstream; dbt's default, eager, would run it too early.
os.environ.setdefault("DBT_INDIRECT_SELECTION", "buildable")

defs = Definitions(
    assets=[landed_events, landed_dimensions, dwell_reference_models, dwell_daily_models, dwell_lifetime_models,
            session_alert_webhook, serving_marts],
    jobs=[*JOBS_IN_ORDER, dwell_data_test_sweep_job],
    schedules=[daily_schedule, data_test_sweep_schedule],
    sensors=[landing_sensor, dimension_files_sensor, lifetime_after_upstream_sensor],
    resources={"dbt": dbt_resource},
    # A job's steps run one after another anyway (each needs the one before it); in the run's own process each step
    # skips a new process that loads Dagster and these definitions again (10-40 s). The tests run jobs this way too.
    executor=in_process_executor,
)
