"""The Dagster assets on the postgres target (DWELL_TARGET): the same jobs land the sample in two loads, publish the
serving copy, deliver the session alerts and print the summary, and every one of them equals what the same jobs give
on the duckdb target: every mart, views included, session ids and figures. The Dagster assets on Spark run in
tests/engines/test_spark_cluster.py, through the Thrift server: the Python side is the same for both Spark targets,
and a Spark build costs minutes of CI. Each engine's runs go in a process of its own, whose definitions load with that
target; the engines' processes run side by side, each with a warehouse, a serving directory, a webhook and a dbt
target path of its own."""

import os
import sys
from pathlib import Path

from helpers import (
    RUN_EVERY_ASSET,
    PostgresWarehouse,
    Warehouse,
    Webhook,
    dwell_summary,
    engine_environment,
    finish_logged,
    land_moves,
    published_marts,
    sample_without_its_last_day,
    start_logged,
)

ENGINES = ("duckdb", "postgres")


def test_the_dagster_assets_on_postgres_equal_duckdbs(
        postgres_warehouse: PostgresWarehouse, warehouse: Warehouse, tmp_path: Path):
    last_day = sample_without_its_last_day(warehouse, tmp_path)
    webhooks = {engine: Webhook() for engine in ENGINES}
    logs = tmp_path / "logs"
    logs.mkdir()
    environments = {engine: engine_environment(engine, tmp_path, webhooks[engine], os.environ) for engine in ENGINES}
    run = [sys.executable, "-c", RUN_EVERY_ASSET]

    def load(suffix: str) -> dict[str, str]:
        """One Dagster load on each engine, side by side: each one's summary."""
        started = {engine: start_logged(engine + suffix, run, environments[engine], logs) for engine in ENGINES}
        return {engine: dwell_summary(finish_logged(engine + suffix, process, logs))
                for engine, process in started.items()}

    try:
        first_summaries = load("")
        land_moves(last_day)
        summaries = load("-2")
    finally:
        for webhook in webhooks.values():
            webhook.close()

    assert first_summaries["postgres"] == first_summaries["duckdb"]
    assert summaries["postgres"] == summaries["duckdb"] != first_summaries["duckdb"]
    delivered = {engine: sorted(body["alert_id"] for body in webhooks[engine].bodies) for engine in ENGINES}
    # Each alert once, though the second runs saw the first runs' alerts again.
    assert delivered["duckdb"] and len(set(delivered["duckdb"])) == len(delivered["duckdb"])
    assert delivered["postgres"] == delivered["duckdb"]
    duckdb_marts = published_marts(tmp_path / "serving-duckdb")
    assert len(duckdb_marts) > 20 and len(duckdb_marts["rpt_load_audit"]) == 2
    postgres_marts = published_marts(tmp_path / "serving-postgres")
    assert sorted(postgres_marts) == sorted(duckdb_marts)
    for name, rows in duckdb_marts.items():
        assert postgres_marts[name] == rows, f"marts.{name}"
