"""The Dagster assets on the postgres and spark targets (DWELL_TARGET): the same jobs land the sample, publish the
serving copy, deliver the session alerts and print the summary, and every one of them equals what the same jobs give
on the duckdb target: every mart, views included, session ids and figures. Postgres and DuckDB take the sample in two
loads. Spark takes the first load, then delivers the alerts again (none is sent twice): its incremental loads are
checked through dbt in tests/engines/test_spark.py, and a second Dagster load there would add some ten minutes of CI
for the same statements. Then the dbt unit tests run on Spark. Each engine's runs go in a process of its own, whose
definitions load with that target (and where Spark's JVM ends with the run); the engines' processes run side by
side, each with a warehouse, a serving directory, a webhook and a dbt target path of its own."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import (
    PostgresWarehouse,
    Warehouse,
    Webhook,
    dwell_summary,
    land_moves,
    published_marts,
    sample_without_its_last_day,
    spark_environment,
)
from orchestration.alerts.webhook import WEBHOOK_URL_VARIABLE
from orchestration.dbt_invoke import dbt_executable
from orchestration.settings import PROJECT_DIR

ENGINES = ("duckdb", "postgres", "spark")
# Every asset, as `dwell run` materializes them, incrementally after the first load; then the summary; then, if asked,
# the alert delivery once more, which must find every alert delivered.
RUN_EVERY_ASSET = """
import sys
from dagster import DagsterInstance
from orchestration import cli, pipeline
from orchestration.alerts.stores import alert_store
from orchestration.alerts.webhook import deliver_new_alerts, webhook_url
with DagsterInstance.ephemeral() as instance:
    pipeline.materialize_all(instance, full_refresh=False)
cli.main(["summary"])
if sys.argv[1:] == ["deliver-again"]:
    with alert_store() as store:
        report = deliver_new_alerts(store, webhook_url())
    assert report.delivered == 0 and report.already_delivered > 0 and not report.failed, report
"""
# The dbt unit tests on Spark, once the tables whose column types they read exist there.
SPARK_UNIT_TESTS = ["test", "--quiet", "--select", "test_type:unit", "--target", "spark"]


def start(name: str, argv: list[str], environment: dict[str, str], logs: Path) -> tuple[str, subprocess.Popen, Path]:
    log = logs / f"{name}.log"
    with log.open("w") as out:
        process = subprocess.Popen(argv, cwd=PROJECT_DIR, env=environment, stdout=out, stderr=subprocess.STDOUT)
    return name, process, log


def finish(started: list[tuple[str, subprocess.Popen, Path]]) -> dict[str, str]:
    """Wait for every process; each one's output, after checking that it succeeded."""
    outputs = {}
    for name, process, log in started:
        process.wait(timeout=1800)
        output = log.read_text(errors="replace")
        # Without the JVM's stack frames, what dbt reported fits in the message.
        shown = "\n".join(line for line in output.splitlines() if not line.lstrip().startswith("at "))
        assert process.returncode == 0, f"{name}:\n" + shown[-8000:]
        outputs[name] = output
    return outputs


def test_the_dagster_assets_on_postgres_and_spark_equal_duckdbs(
        postgres_warehouse: PostgresWarehouse, warehouse: Warehouse, tmp_path: Path):
    last_day = sample_without_its_last_day(warehouse, tmp_path)
    webhooks = {engine: Webhook() for engine in ENGINES}
    logs = tmp_path / "logs"
    logs.mkdir()
    environments = {}
    for engine in ENGINES:
        # A dbt target path per engine, from the worker's manifest: the Dagster definitions load it.
        target = tmp_path / f"dbt-target-{engine}"
        target.mkdir()
        shutil.copyfile(Path(os.environ["DBT_TARGET_PATH"]) / "manifest.json", target / "manifest.json")
        environments[engine] = {
            **(spark_environment(tmp_path) if engine == "spark" else os.environ), "DWELL_TARGET": engine,
            "DWELL_SERVING_DIR": str(tmp_path / f"serving-{engine}"), WEBHOOK_URL_VARIABLE: webhooks[engine].url,
            "DBT_TARGET_PATH": str(target)}
    run = [sys.executable, "-c", RUN_EVERY_ASSET]
    try:
        first = finish([start(engine, run + (["deliver-again"] if engine == "spark" else []), environments[engine],
                              logs) for engine in ENGINES])
        first_summaries = {engine: dwell_summary(output) for engine, output in first.items()}
        first_duckdb_marts = published_marts(tmp_path / "serving-duckdb")
        first_duckdb_alerts = sorted(body["alert_id"] for body in webhooks["duckdb"].bodies)
        land_moves(last_day)
        spark_unit_tests = [dbt_executable(), *SPARK_UNIT_TESTS, "--project-dir", str(PROJECT_DIR),
                            "--profiles-dir", str(PROJECT_DIR), "--target-path", str(tmp_path / "spark-unit-tests")]
        second = finish([*(start(f"{engine}-2", run, environments[engine], logs) for engine in ("duckdb", "postgres")),
                         start("spark-unit-tests", spark_unit_tests, environments["spark"], logs)])
        summaries = {engine: dwell_summary(second[f"{engine}-2"]) for engine in ("duckdb", "postgres")}
    finally:
        for webhook in webhooks.values():
            webhook.close()

    assert first_summaries["spark"] == first_summaries["postgres"] == first_summaries["duckdb"]
    assert summaries["postgres"] == summaries["duckdb"] != first_summaries["duckdb"]
    delivered = {engine: sorted(body["alert_id"] for body in webhooks[engine].bodies) for engine in ENGINES}
    # Each alert once, though the second runs saw the first runs' alerts again.
    assert delivered["duckdb"] and len(set(delivered["duckdb"])) == len(delivered["duckdb"])
    assert delivered["postgres"] == delivered["duckdb"]
    assert delivered["spark"] == first_duckdb_alerts
    duckdb_marts = published_marts(tmp_path / "serving-duckdb")
    assert len(duckdb_marts) > 20 and len(duckdb_marts["rpt_load_audit"]) == 2
    for engine, expected in (("postgres", duckdb_marts), ("spark", first_duckdb_marts)):
        engine_marts = published_marts(tmp_path / f"serving-{engine}")
        assert sorted(engine_marts) == sorted(expected), engine
        for name, rows in expected.items():
            assert engine_marts[name] == rows, f"{engine}: marts.{name}"
