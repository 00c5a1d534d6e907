"""The dbt project as Dagster sees it: one cached DbtProject for the whole code location."""

from dagster_dbt import DbtProject

from orchestration.settings import PROJECT_DIR

# The assets run on the duckdb target whatever DWELL_TARGET says: the serving copy, the summary, the alerts and the
# warehouse pool are built around the DuckDB file (README "Other engines").
DAGSTER_TARGET = "duckdb"
dwell_project = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR, target=DAGSTER_TARGET)
# Under `dagster dev` the manifest is (re)built at load; elsewhere it must exist (`dbt parse`, as CI does).
dwell_project.prepare_if_dev()
