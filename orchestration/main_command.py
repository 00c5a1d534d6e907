"""`dwell run` (README "The two commands"): what it builds is planned by build_plan.py from what the warehouse
holds; the Dagster jobs run in this process, their output in a log file (run_log.py), a line per job on the
terminal."""

import os
from pathlib import Path

from dagster import DagsterInstance

from orchestration import settings
from orchestration.build_plan import Plan
from orchestration.dbt_invoke import run_dbt
from orchestration.errors import DwellError
from orchestration.run_log import RunLog
from orchestration.warehouse import run_environment


def dagster_instance() -> DagsterInstance:
    """The project's Dagster instance (dagster_home/), so `dagster dev` shows what the command materialized."""
    os.environ.setdefault("DAGSTER_HOME", str(settings.PROJECT_DIR / "dagster_home"))
    return DagsterInstance.get()


def prepare_manifest() -> None:
    """dagster-dbt reads target/manifest.json when the definitions load. The runs start from this parse's partial
    parse file, and dbt parses the whole project anew (some 10 s) when its profile or its --target differs from theirs:
    so the parse sees the warehouse path of the runs (their private copy, orchestration/warehouse.py) and names the
    target as the Dagster resource does."""
    with settings.environment(run_environment()):
        # With the runs' vars too: a parse under other vars would make the first run parse the whole project again.
        run_dbt(["parse", "--quiet", "--target", settings.dbt_target()], settings.dbt_vars())


def build(instance: DagsterInstance, planned: Plan, full_refresh: bool) -> Path:
    """Run the planned Dagster jobs, with their output in a log file; return its path."""
    settings.duckdb_path().parent.mkdir(parents=True, exist_ok=True)
    log = RunLog(settings.log_dir())
    try:
        with log:
            log.note("dbt parse")
            prepare_manifest()
            log.note("loading the Dagster definitions")
            # Imported here, not above: loading the definitions needs the manifest just prepared, and their warnings
            # belong in the log.
            from orchestration.pipeline import run_plan

            run_plan(instance, planned, full_refresh, log)
    except DwellError as error:
        raise DwellError(f"{error}\nfull log: {log.path}") from error
    return log.path
