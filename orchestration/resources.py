"""Resources shared by the assets."""

import os

from dagster_dbt import DbtCliResource

from orchestration import settings
from orchestration.dbt_invoke import dbt_executable
from orchestration.project import DAGSTER_TARGET, dwell_project

# dbt runs in its own process and working directory: give it absolute paths.
settings.pin_paths()
# A test that reads a model of a later run (fct_sessions -> dim_users) runs with that later run, where all its
# parents are built or upstream; dbt's default, eager, would run it too early.
os.environ.setdefault("DBT_INDIRECT_SELECTION", "buildable")

# Every asset that writes the warehouse holds this pool; dagster_home/dagster.yaml limits it to one run.
WAREHOUSE_POOL = "dwell_warehouse"

dbt_resource = DbtCliResource(project_dir=dwell_project, target=DAGSTER_TARGET, dbt_executable=dbt_executable())
