"""Resources shared by the assets."""

from functools import cached_property

from dagster_dbt import DbtCliResource
from dbt.version import __version__ as dbt_core_version
from packaging import version

from orchestration.dbt_invoke import dbt_executable
from orchestration.project import DAGSTER_TARGET, dwell_project

# Every asset that writes the warehouse holds this pool; dagster_home/dagster.yaml limits it to one run.
WAREHOUSE_POOL = "dwell_warehouse"


class DwellDbtCliResource(DbtCliResource):
    """dagster-dbt asks `dbt --version` in a new process for every step that runs dbt (some 5 s of CPU): the executable
    is the dbt-core installed beside this Python (dbt_executable), whose version this process already knows."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(dbt_core_version)


dbt_resource = DwellDbtCliResource(project_dir=dwell_project, target=DAGSTER_TARGET, dbt_executable=dbt_executable())
