"""The full sweep of the data tests (docs/incremental.md "Data tests on a daily run"): a daily build checks the rows it
wrote, so every test also runs over whole tables on a schedule of its own, weekly by default, and from the UI
(launch dwell_data_test_sweep_job). Its results are the asset checks' results."""

import json
import os

from dagster import OpExecutionContext, ScheduleDefinition, job, op
from dagster_dbt import DbtCliResource

from orchestration import settings, warehouse
from orchestration.errors import DwellError
from orchestration.project import dwell_project
from orchestration.resources import WAREHOUSE_POOL
from orchestration.translator import dwell_translator

SWEEP_CRON_VARIABLE = "DWELL_DATA_TEST_SWEEP_CRON"
DEFAULT_SWEEP_CRON = "0 3 * * 0"


@op(pool=WAREHOUSE_POOL, out={})
def dwell_data_tests(context: OpExecutionContext, dbt: DbtCliResource):
    """Every data test over whole tables: `dbt test` builds nothing, so no test is scoped to a run. It holds the
    warehouse pool: on duckdb a build must not replace the file under it."""
    args = ["test", "--exclude", "resource_type:unit_test"]
    dbt_vars = settings.dbt_vars()
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    invocation = dbt.cli(args, context=context, manifest=dwell_project.manifest_path,
                         dagster_dbt_translator=dwell_translator, raise_on_error=False)
    yield from invocation.stream()
    failed = warehouse.failed_tests(invocation.get_artifact("run_results.json"))
    if failed:
        raise DwellError(f"{len(failed)} data test(s) failed over whole tables: {', '.join(failed)}")


@job(description="Every data test over whole tables, where a daily build checks only the rows it wrote.")
def dwell_data_test_sweep_job():
    dwell_data_tests()


data_test_sweep_schedule = ScheduleDefinition(
    name="dwell_data_test_sweep_schedule",
    job=dwell_data_test_sweep_job,
    cron_schedule=os.environ.get(SWEEP_CRON_VARIABLE, DEFAULT_SWEEP_CRON),
    execution_timezone="UTC",
    description="Runs every data test over whole tables, Sundays at 03:00 UTC unless DWELL_DATA_TEST_SWEEP_CRON says "
                "otherwise.",
)
