"""The spark_thrift target on a Spark standalone cluster (scripts/spark-cluster.sh: a master, two workers, the Spark
Thrift server submitted to that master), as a company's own cluster would run dwell: the sample's first days built
through the Thrift server with dbt, data tests included, losing a worker and its executor in the middle (Spark reruns
their tasks on the other; were the build to fail, a second one must finish), then, the worker back, the last day with
late events as one Dagster run (the landing copy into the shared folder, the build, the serving export and the
alerts), and the alerts delivered once more, which finds every one delivered; every published mart, the summary and
the alerts equal what the same loads give on the duckdb target. The cluster's work ran on the workers' executors, as
the master and the Thrift application report it, not in the driver. Then the Thrift server starts again over HTTPS, as
the spark_http target (dbt-spark's `http` method, as on Databricks) meets it: through that target a mart is rebuilt
with its data tests, and the serving copy, exported through the server, holds the same marts again. One test, not
two: each build through the cluster costs minutes of CI. This is also where the Dagster assets run on Spark (their
Python side is the same for every Spark target; tests/engines/test_spark.py checks the local session's SQL).

The cluster is started once for the session (some 30 s) on free ports, and stopped at the end; its metastore is
emptied before each test."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any
from pathlib import Path

import duckdb
import pytest

from helpers import (RUN_EVERY_ASSET, Warehouse, Webhook, dwell_summary, engine_environment, finish_logged,
                     land_moves, published_marts, sample_without_its_last_day, spark_environment, start_logged)
from orchestration.dbt_invoke import dbt_executable
from orchestration.settings import PROJECT_DIR

SCRIPT = PROJECT_DIR / "scripts" / "spark-cluster.sh"
WORKERS = 2
# A worker is lost once the first build has run this many Spark jobs (it runs well over a hundred).
KILL_AFTER_JOBS = 30
# The first load through dbt, data tests included (the unit tests run on the local session, in
# tests/engines/test_spark.py); the second load is a Dagster run.
DBT_BUILD = ["build", "--quiet", "--target", "spark_thrift", "--exclude", "test_type:unit"]
COPY_LANDING = [sys.executable, "-m", "orchestration.cli", "copy-landing", "--target", "spark_thrift"]
# Over HTTPS: a mart rebuilt with its data tests, then the serving copy, which exports every mart through the server.
BUILD_AND_SERVE = """
from dagster import DagsterInstance, materialize
from orchestration.assets import serving_marts
from orchestration.dbt_invoke import run_dbt
run_dbt(["build", "--select", "rpt_daily_sessions", "--exclude", "resource_type:unit_test"])
with DagsterInstance.ephemeral() as instance:
    assert materialize([serving_marts], instance=instance).success
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A running cluster: the settings that point the spark_thrift target at it, and its UIs' addresses."""
    root = tmp_path_factory.mktemp("spark-cluster")
    ports = {name: str(free_port()) for name in ("DWELL_SPARK_MASTER_PORT", "DWELL_SPARK_MASTER_UI_PORT",
                                                  "DWELL_SPARK_THRIFT_PORT", "DWELL_SPARK_THRIFT_UI_PORT")}
    # The cluster's JVMs compile at the first tier only: a CI run's cluster lives for minutes, in which the highest
    # tier cost 12% more CPU (569 against 501 CPU seconds for this test alone) for no shorter run.
    settings = {**ports, "DWELL_SPARK_WORKERS": str(WORKERS), "DWELL_SPARK_JAVA_OPTIONS": "-XX:TieredStopAtLevel=1"}
    environment = {**os.environ, **settings}
    # Stops the cluster should this process die without its teardown (a pytest-xdist worker can crash): six JVMs
    # would otherwise outlive the run.
    watchdog = subprocess.Popen(
        ["bash", "-c", 'while kill -0 "$1" 2>/dev/null; do sleep 2; done; bash "$2" stop "$3"', "watchdog",
         str(os.getpid()), str(SCRIPT), str(root)],
        env=environment, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        started = subprocess.run(["bash", str(SCRIPT), "start", str(root)], env=environment, capture_output=True,
                                 text=True, timeout=400)
        assert started.returncode == 0, started.stderr[-4000:]
        yield {"DWELL_SPARK_THRIFT_HOST": "127.0.0.1", "DWELL_SPARK_THRIFT_PORT": ports["DWELL_SPARK_THRIFT_PORT"],
               "master_ui": f"http://127.0.0.1:{ports['DWELL_SPARK_MASTER_UI_PORT']}",
               "thrift_ui": f"http://127.0.0.1:{ports['DWELL_SPARK_THRIFT_UI_PORT']}", "root": str(root),
               "settings": settings}
    finally:
        watchdog.kill()
        watchdog.wait()
        subprocess.run(["bash", str(SCRIPT), "stop", str(root)], env=environment, timeout=200)


def empty_metastore(cluster: dict[str, Any]) -> None:
    """Drop every database but default from the Thrift server's metastore, so each test starts from nothing."""
    from pyhive import hive

    connection = hive.connect(host=cluster["DWELL_SPARK_THRIFT_HOST"], port=int(cluster["DWELL_SPARK_THRIFT_PORT"]),
                              username="dwell")
    try:
        cursor = connection.cursor()
        cursor.execute("show databases")
        for (name,) in cursor.fetchall():
            if name != "default":
                cursor.execute(f"drop database if exists `{name}` cascade")
    finally:
        connection.close()


def late_events(warehouse: Warehouse, held_back: Path) -> list[tuple[Path, Path]]:
    """Copies of ten events of the sample's second day under new ids, received on its last day: they extend, merge or
    split that day's sessions. Held back beside the last day's files; returns their move into the landing dir."""
    with duckdb.connect() as con:
        rows = con.sql(
            f"select * exclude (received_date) from read_parquet('{warehouse.landing}/events/"
            "received_date=2026-10-02/*.parquet') order by event_id limit 10 offset 40").fetchall()
        columns = con.sql(f"select * exclude (received_date) from read_parquet('{warehouse.landing}/events/"
                          "received_date=2026-10-02/*.parquet') limit 0").columns
    path = held_back / "late" / "events" / "received_date=2026-10-04" / "late.jsonl"
    path.parent.mkdir(parents=True)
    with path.open("w") as file:
        for row in rows:
            event = dict(zip(columns, row))
            event.update(event_id=f"late_{event['event_id']}", occurred_at=event["occurred_at"].isoformat(),
                         received_at="2026-10-04T00:30:00Z")
            file.write(json.dumps(event, default=str) + "\n")
    return [(path, warehouse.landing / "events" / "received_date=2026-10-04" / "late.jsonl")]


def test_the_warehouse_on_a_two_worker_cluster_through_thrift_survives_a_lost_worker_and_equals_duckdbs(
        spark_cluster: dict[str, Any], warehouse: Warehouse, tmp_path: Path):
    empty_metastore(spark_cluster)
    last_day = sample_without_its_last_day(warehouse, tmp_path)
    last_day += late_events(warehouse, tmp_path / "held-back")
    logs = tmp_path / "logs"
    logs.mkdir()
    webhooks = {engine: Webhook() for engine in ("duckdb", "spark_thrift")}
    thrift_server = {name: spark_cluster[name] for name in ("DWELL_SPARK_THRIFT_HOST", "DWELL_SPARK_THRIFT_PORT")}
    environments = {
        "duckdb": engine_environment("duckdb", tmp_path, webhooks["duckdb"], os.environ),
        "spark_thrift": engine_environment("spark_thrift", tmp_path, webhooks["spark_thrift"],
                                           {**spark_environment(tmp_path), **thrift_server}),
    }
    spark = environments["spark_thrift"]
    [application] = [app for app in get_json(f"{spark_cluster['master_ui']}/json/")["activeapps"]
                     if app["name"] == "dwell Thrift server"]
    thrift_application = f"{spark_cluster['thrift_ui']}/api/v1/applications/{application['id']}"
    try:
        # The first load: the landing copy into the shared folder, then dbt through the Thrift server; DuckDB the same.
        finish_logged("copy-landing", start_logged("copy-landing", COPY_LANDING, spark, logs), logs)
        build = [dbt_executable(), *DBT_BUILD, "--target-path", spark["DBT_TARGET_PATH"],
                 "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
        jobs_before = len(get_json(f"{thrift_application}/jobs"))
        first_build = start_logged("dbt-spark", build, spark, logs)
        warehouse.build()
        # A worker lost in the middle of the build, with its executor: Spark runs their tasks again on the other one.
        # Should the build fail instead, it must say so, and a second build must finish.
        lost_executor = kill_a_worker(spark_cluster, thrift_application, jobs_before, first_build)
        first_build.wait(timeout=1200)
        if first_build.returncode != 0:
            failure = (logs / "dbt-spark.log").read_text(errors="replace")
            assert "ERROR" in failure, failure[-4000:]
            finish_logged("dbt-spark-again", start_logged("dbt-spark-again", build, spark, logs), logs)
        else:
            finish_logged("dbt-spark", first_build, logs)
        # The worker back (start starts what is not running): the master gives the application a new executor there.
        restarted = subprocess.run(["bash", str(SCRIPT), "start", spark_cluster["root"]], capture_output=True,
                                   text=True, env={**os.environ, **spark_cluster["settings"]}, timeout=400)
        assert restarted.returncode == 0, restarted.stderr[-4000:]
        # The last day and the late events: one Dagster run on each engine, side by side.
        land_moves(last_day)
        run = [sys.executable, "-c", RUN_EVERY_ASSET]
        started = {"spark_thrift": start_logged("spark_thrift", [*run, "deliver-again"], spark, logs),
                   "duckdb": start_logged("duckdb", run, environments["duckdb"], logs)}
        outputs = {engine: finish_logged(engine, process, logs) for engine, process in started.items()}
    finally:
        for webhook in webhooks.values():
            webhook.close()

    assert dwell_summary(outputs["spark_thrift"]) == dwell_summary(outputs["duckdb"])
    delivered = {engine: sorted(body["alert_id"] for body in webhook.bodies) for engine, webhook in webhooks.items()}
    assert delivered["duckdb"] and delivered["spark_thrift"] == delivered["duckdb"]
    duckdb_marts = published_marts(tmp_path / "serving-duckdb")
    spark_marts = published_marts(tmp_path / "serving-spark_thrift")
    assert len(duckdb_marts) > 20 and len(duckdb_marts["rpt_load_audit"]) == 2
    assert sorted(spark_marts) == sorted(duckdb_marts)
    for name, rows in duckdb_marts.items():
        assert spark_marts[name] == rows, f"marts.{name}"
    late = warehouse.records("select count(*) as n from staging.stg_events where event_id like 'late_%'")
    assert late == [{"n": 10}]

    assert_the_work_ran_on_the_workers(spark_cluster, lost_executor)

    # The same warehouse over HTTPS: the spark_http target, its token sent as dbt-spark sends it, the server's
    # self-signed certificate trusted through SSL_CERT_FILE.
    restart_thrift_over_https(spark_cluster)
    https = engine_environment("spark_http", tmp_path, None, {
        **spark_environment(tmp_path), "DWELL_SPARK_HTTP_HOST": "127.0.0.1",
        "DWELL_SPARK_HTTP_PORT": spark_cluster["DWELL_SPARK_THRIFT_PORT"], "DWELL_SPARK_TOKEN": "dwell-test-token",
        "SSL_CERT_FILE": str(Path(spark_cluster["root"]) / "thrift" / "server-cert.pem")})
    finish_logged("spark_http", start_logged("spark_http", [sys.executable, "-c", BUILD_AND_SERVE], https, logs), logs)
    https_marts = published_marts(tmp_path / "serving-spark_http")
    assert sorted(https_marts) == sorted(duckdb_marts)
    for name, rows in duckdb_marts.items():
        assert https_marts[name] == rows, f"marts.{name} over HTTPS"


def restart_thrift_over_https(cluster: dict[str, Any]) -> None:
    """Stop the Thrift server (its application ends, the workers stay) and start it again over HTTPS; the metastore
    and the warehouse folder are the same."""
    pid_file = Path(cluster["root"]) / "pids" / "thrift.pid"
    pid = int(pid_file.read_text())
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while Path(f"/proc/{pid}").exists():
        assert time.monotonic() < deadline, "the Thrift server did not stop within 60 s"
        time.sleep(0.5)
    started = subprocess.run(["bash", str(SCRIPT), "start", cluster["root"]], capture_output=True, text=True,
                             env={**os.environ, **cluster["settings"], "DWELL_SPARK_THRIFT_TRANSPORT": "http"},
                             timeout=400)
    assert started.returncode == 0, started.stderr[-4000:]
    assert "Thrift server (http)" in started.stdout


def kill_a_worker(cluster: dict[str, Any], thrift_application: str, jobs_before: int,
                  build: subprocess.Popen) -> str:
    """Once the build has run some jobs, kill the first worker and its executor (SIGKILL, as a machine lost); return
    the executor's id."""
    root = Path(cluster["root"])
    while len(get_json(f"{thrift_application}/jobs")) < jobs_before + KILL_AFTER_JOBS:
        assert build.poll() is None, "the build ended before a worker could be lost"
        time.sleep(0.5)
    worker_pid = int((root / "pids" / "worker-1.pid").read_text())
    executor_pids = [int(pid) for pid in subprocess.run(["pgrep", "-P", str(worker_pid)], capture_output=True,
                                                        text=True).stdout.split()]
    [executor] = [executor["id"] for executor in get_json(f"{thrift_application}/executors")
                  if executor["id"] != "driver" and executor_pid_matches(executor, executor_pids)]
    for pid in [worker_pid, *executor_pids]:
        os.kill(pid, signal.SIGKILL)
    return executor


def executor_pid_matches(executor: dict, pids: list[int]) -> bool:
    """Whether the executor listed by the application runs in one of these processes: a worker starts an executor
    with `--executor-id <id>` on its command line."""
    for pid in pids:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"--executor-id" in command and command[command.index(b"--executor-id") + 1].decode() == executor["id"]:
            return True
    return False


def assert_the_work_ran_on_the_workers(cluster: dict[str, Any], lost_executor: str) -> None:
    """The master lists the workers alive, each running one executor of the Thrift server's application; the
    application lists those executors with completed tasks, none in its driver, and the executor lost with its worker
    as dead after it had run tasks too."""
    master = get_json(f"{cluster['master_ui']}/json/")
    [application] = [app for app in master["activeapps"] if app["name"] == "dwell Thrift server"]
    assert application["state"] == "RUNNING" and application["cores"] == WORKERS
    assert master["aliveworkers"] == WORKERS
    executors_on_workers = set()
    # The master still lists the lost worker, as dead, beside the one started again.
    alive = [worker for worker in master["workers"] if worker["state"] == "ALIVE"]
    assert len(alive) == WORKERS
    for worker in alive:
        status = get_json(f"{worker['webuiaddress']}/json/")
        ids = [executor["id"] for executor in status["executors"] if executor["appid"] == application["id"]]
        assert len(ids) == 1, (worker["id"], status["executors"])
        executors_on_workers.add(str(ids[0]))
    thrift_application = f"{cluster['thrift_ui']}/api/v1/applications/{application['id']}"
    executors = {executor["id"]: executor for executor in get_json(f"{thrift_application}/allexecutors")}
    active = {executor for executor, status in executors.items() if status["isActive"]}
    assert active == executors_on_workers | {"driver"}
    assert lost_executor not in active and executors[lost_executor]["completedTasks"] > 0
    assert executors["driver"]["totalCores"] == 0 and executors["driver"]["completedTasks"] == 0
    for executor in executors_on_workers:
        assert executors[executor]["completedTasks"] > 0, executors[executor]
