"""The Dagster assets on the postgres and spark targets (DWELL_TARGET): the same jobs land the sample, publish the
serving copy, deliver the session alerts and print the summary, and every one of them equals what the same jobs give
on the duckdb target: every mart, views included, session ids and figures. Postgres and DuckDB take the sample in two
loads. Spark takes the first load, then delivers the alerts again (none is sent twice): its incremental loads are
checked through dbt in tests/test_spark.py, and a second Dagster load there would add some ten minutes of CI for
the same statements. Then the dbt unit tests run on Spark. Each engine's runs go in a process of its own, whose
definitions load with that target (and where Spark's JVM ends with the run)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from conftest import Warehouse
from orchestration.alerts.webhook import WEBHOOK_URL_VARIABLE
from orchestration.dbt_invoke import run_dbt_in_child
from orchestration.serving.snapshot import MANIFEST_FILE, PARQUET_DIR
from orchestration.settings import PROJECT_DIR
from test_postgres import (  # noqa: F401 (fixtures)
    PostgresWarehouse, canonical_rows, land, postgres_server, postgres_warehouse, sample_without_its_last_day)
from test_session_alerts import Webhook
from test_spark import spark_environment

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


def run_every_asset(engine: str, environment: dict[str, str], *extra_args: str) -> str:
    completed = subprocess.run([sys.executable, "-c", RUN_EVERY_ASSET, *extra_args], cwd=PROJECT_DIR, env=environment,
                               capture_output=True, text=True, timeout=1800)
    output = [line for line in (completed.stdout + completed.stderr).splitlines()
              if not line.lstrip().startswith("at ")]
    assert completed.returncode == 0, f"{engine}:\n" + "\n".join(output)[-8000:]
    return completed.stdout[completed.stdout.index("dwell warehouse summary"):]


def published_marts(serving_dir: Path) -> dict[str, list[tuple]]:
    manifest = json.loads((serving_dir / MANIFEST_FILE).read_text())
    with duckdb.connect() as con:
        marts = {}
        for name in manifest["marts"]:
            relation = con.sql(f"select * from read_parquet('{serving_dir / PARQUET_DIR / name}.parquet')")
            marts[name] = canonical_rows([dict(zip(relation.columns, row)) for row in relation.fetchall()])
    return marts


def test_the_dagster_assets_on_postgres_and_spark_equal_duckdbs(
        postgres_warehouse: PostgresWarehouse, warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    last_day = sample_without_its_last_day(warehouse, tmp_path)
    webhooks = {engine: Webhook() for engine in ENGINES}
    environments = {
        engine: {**(spark_environment(tmp_path) if engine == "spark" else os.environ), "DWELL_TARGET": engine,
                 "DWELL_SERVING_DIR": str(tmp_path / f"serving-{engine}"),
                 WEBHOOK_URL_VARIABLE: webhooks[engine].url}
        for engine in ENGINES
    }
    try:
        first_summaries = {engine: run_every_asset(engine, environments[engine],
                                                   *(["deliver-again"] if engine == "spark" else []))
                           for engine in ENGINES}
        first_duckdb_marts = published_marts(tmp_path / "serving-duckdb")
        first_duckdb_alerts = sorted(body["alert_id"] for body in webhooks["duckdb"].bodies)
        land(last_day)
        summaries = {engine: run_every_asset(engine, environments[engine]) for engine in ("duckdb", "postgres")}
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

    # The dbt unit tests on Spark, now that the tables whose column types they read exist there (on Postgres, in
    # tests/test_postgres.py).
    for name in ("SPARK_LOCAL_IP", "DWELL_SPARK_DIR", "DWELL_SPARK_DIR_URI", "PYSPARK_PYTHON"):
        monkeypatch.setenv(name, environments["spark"][name])
    run_dbt_in_child(["test", "--quiet", "--select", "test_type:unit", "--target", "spark",
                      "--target-path", str(tmp_path / "spark-unit-tests")])
