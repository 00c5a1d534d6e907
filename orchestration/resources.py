"""Resources shared by the assets."""

import os
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource

from orchestration import settings
from orchestration.project import DAGSTER_TARGET, dwell_project

# dbt runs in its own process and working directory: give it absolute paths.
settings.pin_paths()
# A test that reads a model of a later run (fct_sessions -> dim_users) runs with that later run, where all its
# parents are built or upstream; dbt's default, eager, would run it too early.
os.environ.setdefault("DBT_INDIRECT_SELECTION", "buildable")

# Every asset that writes the DuckDB warehouse holds this pool; dagster_home/dagster.yaml limits it to one run.
WAREHOUSE_POOL = "dwell_warehouse"

# The dbt installed beside this Python, so runs work without an activated virtualenv.
_venv_dbt = Path(sys.executable).parent / "dbt"
dbt_resource = DbtCliResource(
    project_dir=dwell_project,
    target=DAGSTER_TARGET,
    dbt_executable=str(_venv_dbt) if _venv_dbt.exists() else (shutil.which("dbt") or "dbt"),
)
