"""`dwell run` as a user runs it, in a process of its own, on a plain install: what it prints, what it leaves for the
sensors, what a run with nothing new does, and the partition start date."""

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from dagster import (
    DagsterInstance,
    DagsterRunStatus,
    RunsFilter,
    SkipReason,
    build_run_status_sensor_context,
    build_sensor_context,
)
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from orchestration.sensors import dimension_files_sensor, landing_sensor, lifetime_after_upstream_sensor
from orchestration.settings import PROJECT_DIR

BIN = Path(sys.executable).parent
# The engines' drivers, which only the postgres and spark extras install.
OPTIONAL_DRIVERS = ("psycopg2", "pyspark", "pyhive")
BLOCKER = f"""
import sys

class OptionalDriverBlocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {OPTIONAL_DRIVERS!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked: a plain install has no driver)")
        return None

sys.meta_path.insert(0, OptionalDriverBlocker())
"""
# The fixture's partitions start on the sample's second day: its first day's events precede them.
PARTITION_START = "2026-10-02"
COMPARED = ["marts.fct_sessions", "marts.fct_session_events", "marts.dim_users", "marts.rpt_daily_sessions"]


@dataclass
class Place:
    """A landing directory, warehouse and Dagster instance of their own, and the environment that points there."""

    root: Path
    env: dict[str, str]

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def warehouse(self) -> Path:
        return self.root / "dwell.duckdb"

    def dwell(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "dwell"), *args], cwd=self.root, env=self.env, capture_output=True,
                              text=True, timeout=900)

    def instance(self) -> DagsterInstance:
        return DagsterInstance.from_config(self.env["DAGSTER_HOME"])

    def tables(self) -> dict[str, list[tuple]]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return {table: con.sql(f"select * from {table} order by all").fetchall() for table in COMPARED}

    def use_in_this_process(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name in ("DWELL_LANDING_DIR", "DWELL_DUCKDB_PATH", "DWELL_SERVING_DIR", "DAGSTER_HOME"):
            monkeypatch.setenv(name, self.env[name])


def new_place(root: Path, **settings: str) -> Place:
    blocker = root / "blocker"
    blocker.mkdir(parents=True)
    (blocker / "sitecustomize.py").write_text(BLOCKER)
    dagster_home = root / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(PROJECT_DIR / "dagster_home" / "dagster.yaml", dagster_home)
    env = {name: value for name, value in os.environ.items() if not name.startswith(("DWELL_", "DAGSTER_"))}
    # dbt's target path of its own: the command's parse and runs keep their partial parse, whatever else runs.
    env.update(PYTHONPATH=os.pathsep.join(filter(None, [str(blocker), os.environ.get("PYTHONPATH")])),
               DAGSTER_HOME=str(dagster_home), DWELL_LANDING_DIR=str(root / "landing"),
               DWELL_DUCKDB_PATH=str(root / "dwell.duckdb"), DWELL_SERVING_DIR=str(root / "serving"),
               DBT_TARGET_PATH=str(root / "dbt-target"), **settings)
    return Place(root, env)


def output_of(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def log_path(result: subprocess.CompletedProcess) -> Path:
    [line] = [line for line in result.stdout.splitlines() if line.startswith("full log: ")]
    return Path(line.removeprefix("full log: "))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    """`dwell run` on a tiny sample, with the optional drivers unimportable."""
    place = new_place(tmp_path_factory.mktemp("main-command"), DWELL_PARTITION_START_DATE=PARTITION_START)
    result = place.dwell("run", "--users", "5", "--days", "2")
    assert result.returncode == 0, output_of(result)
    return place, result


def test_definitions_load_and_the_duckdb_main_job_runs_without_the_optional_drivers(built):
    place, _ = built
    blocked = subprocess.run([sys.executable, "-c", "import psycopg2"], env=place.env, capture_output=True, text=True)
    assert "blocked: a plain install has no driver" in blocked.stderr
    validate = subprocess.run([str(BIN / "dagster"), "definitions", "validate"], cwd=PROJECT_DIR, env=place.env,
                              capture_output=True, text=True, timeout=300)
    assert validate.returncode == 0, output_of(validate)


def test_the_main_command_prints_a_line_per_job_the_summary_and_where_the_full_log_is(built):
    place, result = built
    printed = output_of(result)
    lines = printed.splitlines()
    assert len(lines) < 30, printed
    assert lines[0].startswith("Generated ") and "sample events" in lines[0]
    assert any(re.fullmatch(r"reference: \d+ seeds and dimension models \.\.\. [\d.]+ s", line)
               for line in lines), printed
    assert any(line.startswith(f"daily: 1 partition ({PARTITION_START}), ") and line.endswith(" s")
               for line in lines), printed
    assert any(line.startswith("lifetime: ") and line.endswith(" s") for line in lines), printed
    assert "dwell warehouse summary" in printed and "median session" in printed
    for noise in ("ASSET_MATERIALIZATION", "BetaWarning", "SupersessionWarning", "Unable to do partial parsing",
                  "Running with dbt", "dagster - DEBUG"):
        assert noise not in printed, noise

    log = log_path(result)
    assert log.parent == place.root / "logs"
    detail = log.read_text()
    for job in ("dwell_reference_job", "dwell_daily_job", "dwell_lifetime_job"):
        assert f'Finished execution of run for "{job}"' in detail, job
    assert "ASSET_MATERIALIZATION" in detail and "Completed successfully" in detail and "BetaWarning" in detail


def test_events_before_the_partition_start_are_loaded_and_the_command_says_so(built):
    place, result = built
    assert ("note: events on 1 day(s) from 2026-10-01 precede DWELL_PARTITION_START_DATE: loaded and sessionized"
            in result.stdout)
    with duckdb.connect(str(place.warehouse), read_only=True) as con:
        days = {day.isoformat() for (day,) in con.sql(
            "select distinct cast(session_start_at as date) from marts.fct_sessions").fetchall()}
    assert {"2026-10-01", "2026-10-02"} <= days


def test_the_sensors_start_from_what_the_main_command_loaded(built, monkeypatch):
    place, _ = built
    place.use_in_this_process(monkeypatch)
    with place.instance() as instance:
        assert isinstance(landing_sensor(build_sensor_context(instance=instance, cursor=None)), SkipReason)
        assert isinstance(dimension_files_sensor(build_sensor_context(instance=instance, cursor=None)), SkipReason)
        # The main command ran the lifetime marts after its reference and daily runs: nothing to run again.
        for job in ("dwell_reference_job", "dwell_daily_job"):
            [run] = instance.get_runs(RunsFilter(job_name=job, statuses=[DagsterRunStatus.SUCCESS]))
            event = instance.get_records_for_run(run.run_id).records[-1].event_log_entry.dagster_event
            assert isinstance(lifetime_after_upstream_sensor(build_run_status_sensor_context(
                sensor_name="dwell_lifetime_after_upstream_sensor", dagster_instance=instance, dagster_run=run,
                dagster_event=event)), SkipReason), job

        new_file = place.landing / "events" / "later" / "one.jsonl"
        new_file.parent.mkdir(parents=True)
        new_file.write_text(json.dumps({"event_id": "sensor-1", "occurred_at": "2026-10-02T09:00:00Z",
                                        "user_id": "u1", "event_name": "login"}) + "\n")
        try:
            [request] = landing_sensor(build_sensor_context(instance=instance, cursor=None)).run_requests
            assert (request.tags[ASSET_PARTITION_RANGE_START_TAG], request.tags[ASSET_PARTITION_RANGE_END_TAG]) == (
                "2026-10-02", "2026-10-02")
            assert isinstance(dimension_files_sensor(build_sensor_context(instance=instance, cursor=None)),
                              SkipReason)
        finally:
            new_file.unlink()


def test_a_run_with_nothing_new_builds_nothing_and_a_new_file_builds_only_its_dates(built):
    place, _ = built
    with place.instance() as instance:
        runs_before = len(instance.get_runs())
    again = place.dwell("run")
    assert again.returncode == 0, output_of(again)
    assert "Nothing new landed since the last run" in again.stdout
    assert "dwell warehouse summary" in again.stdout and "full log" not in again.stdout
    with place.instance() as instance:
        assert len(instance.get_runs()) == runs_before

    new_file = place.landing / "events" / "later" / "two.jsonl"
    new_file.parent.mkdir(parents=True, exist_ok=True)
    new_file.write_text("".join(json.dumps(event) + "\n" for event in [
        {"event_id": "new-1", "occurred_at": "2026-10-02T21:00:00Z", "user_id": "new_user", "event_name": "login"},
        {"event_id": "new-2", "occurred_at": "2026-10-02T21:04:00Z", "user_id": "new_user", "event_name": "ide_search"},
    ]))
    incremental = place.dwell("run")
    assert incremental.returncode == 0, output_of(incremental)
    assert "reference: unchanged" in incremental.stdout
    assert f"daily: 1 partition ({PARTITION_START})" in incremental.stdout
    assert "Unable to do partial parsing" not in log_path(incremental).read_text()
    built_incrementally = place.tables()
    assert any(row[0] == "new_user" for row in built_incrementally["marts.dim_users"])

    # --full-refresh builds everything whatever was built before, to the same tables.
    refreshed = place.dwell("run", "--full-refresh")
    assert refreshed.returncode == 0, output_of(refreshed)
    assert re.search(r"^reference: \d+ seeds and dimension models \.\.\. ", refreshed.stdout, re.MULTILINE)
    assert place.tables() == built_incrementally


@pytest.mark.parametrize("start", ["2999-01-01", "2026-11-01"], ids=["after today", "after every landed event"])
def test_a_partition_start_after_the_landed_events_stops_with_what_to_set(tmp_path, start):
    place = new_place(tmp_path, DWELL_PARTITION_START_DATE=start)
    result = place.dwell("run", "--users", "2", "--days", "1")
    assert result.returncode == 1
    assert "No daily partition holds the landed events: DWELL_PARTITION_START_DATE is " + start in result.stderr
    assert "the first landed event is dated 2026-10-01. Set DWELL_PARTITION_START_DATE=2026-10-01" in result.stderr
    assert not place.warehouse.exists()
