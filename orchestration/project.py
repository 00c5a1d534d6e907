"""The dbt project as Dagster sees it: one cached DbtProject for the whole code location."""

import os

from dagster_dbt import DbtProject

from orchestration.settings import PROJECT_DIR, dbt_target

# The assets run on the target DWELL_TARGET names, as dbt does (README "Other engines").
DAGSTER_TARGET = dbt_target()
# dbt's target path, where `dbt parse` writes the manifest the assets load: DBT_TARGET_PATH when set, as for dbt.
dwell_project = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR, target=DAGSTER_TARGET,
                           target_path=os.environ.get("DBT_TARGET_PATH") or "target")
# Under `dagster dev` the manifest is (re)built at load; elsewhere it must exist (`dbt parse`, as CI does).
dwell_project.prepare_if_dev()
