"""Faults: a run killed at any point (kill -9) leaves the warehouse as it was, and the next run completes the work
with nothing lost or doubled; a reader holding the warehouse open does not stop a run; a full disk or an unwritable
warehouse path gives a clear error and leaves the warehouse unchanged."""

import errno
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance

from helpers import day_after, land_sample_files, marts
from orchestration import pipeline, warehouse as warehouse_runs
from orchestration.assets import dwell_daily_models
from orchestration.project import dwell_project
from orchestration.sample_data import generate_sample

# dbt's log message as it starts the i-th of the n nodes of its build: "i of n START sql incremental model ...". Its
# hooks count apart ("1 of 1 START hook: ...").
DBT_STARTS = re.compile(r"\b(\d+) of (\d+) START (?!hook)")
START, FIRST_LOAD_END, LAST = "2026-10-01", "2026-10-02", "2026-10-04"

# One Dagster run of the daily job over every partition: one dbt build, in a process of its own.
DAILY_RUN = textwrap.dedent(f"""
    from dagster import DagsterInstance
    from orchestration import pipeline
    with DagsterInstance.ephemeral() as instance:
        pipeline.materialize_daily(instance, "{START}", "{LAST}")
""")


# What differs between loading in several runs and loading once, by design: one audit row per load, the load that
# read each file, and the id changes later loads make.
LOAD_HISTORY = {"rpt_load_audit", "rpt_load_files", "session_id_changes"}


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def start_daily_run(output: Path) -> subprocess.Popen:
    """The run in a process of its own, its output in `output` (what a run that ends too early said)."""
    with output.open("w") as file:
        return subprocess.Popen([sys.executable, "-c", DAILY_RUN], start_new_session=True,
                                stdout=file, stderr=subprocess.STDOUT)


def dbt_logs() -> set[Path]:
    """dbt's logs of the daily job's runs: dagster-dbt gives each dbt invocation a target path of its own."""
    return set((dwell_project.project_dir / dwell_project.target_path).glob(
        f"{dwell_daily_models.op.name}-*/dbt.log"))


def wait_for_dbt_progress(run: subprocess.Popen, output: Path, fraction: float, earlier_logs: set[Path]) -> None:
    """Until dbt, in the run, has started the node at `fraction` of its build ("i of n START" in its log): a point
    in the build that does not depend on how fast this machine is."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert run.poll() is None, (f"the run ended (exit code {run.returncode}) before dbt reached {fraction} of its "
                                    f"build; its output ended with:\n{output.read_text(errors='replace')[-6000:]}")
        for log in dbt_logs() - earlier_logs:
            started = [(int(node), int(total)) for node, total in DBT_STARTS.findall(log.read_text(errors="replace"))]
            if started and max(node for node, _ in started) >= fraction * started[0][1]:
                return
        time.sleep(0.02)
    raise AssertionError(f"dbt did not reach {fraction} of its build")


def test_a_run_killed_at_any_point_leaves_the_warehouse_unchanged_and_the_next_run_completes(warehouse, tmp_path):
    sample = tmp_path / "sample"
    generate_sample(sample, users=12, days=4, seed=31)
    land_sample_files(sample, warehouse.landing, START, day_after(FIRST_LOAD_END), dimensions=True)
    with DagsterInstance.ephemeral() as instance:
        pipeline.materialize_all(instance, full_refresh=False)
    before = marts(warehouse.path)
    assert before["fct_sessions"]
    land_sample_files(sample, warehouse.landing, START, day_after(LAST), dimensions=True)

    # Early (staging), midway (sessions) and late (marts) in the dbt build, then dbt alone killed under its run.
    for fraction in (0.1, 0.4, 0.7):
        earlier_logs = dbt_logs()
        output = tmp_path / f"killed-at-{fraction}.log"
        run = start_daily_run(output)
        wait_for_dbt_progress(run, output, fraction, earlier_logs)
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
        assert marts(warehouse.path) == before, f"killed at {fraction} of a run"
    earlier_logs = dbt_logs()
    output = tmp_path / "dbt-killed-under-its-run.log"
    run = start_daily_run(output)
    wait_for_dbt_progress(run, output, 0.5, earlier_logs)
    for child in children(run.pid):
        os.kill(child, signal.SIGKILL)
    assert run.wait(timeout=300) != 0
    assert marts(warehouse.path) == before

    # The next runs complete the work: equal to a clean build of the same files, nothing lost or doubled.
    with DagsterInstance.ephemeral() as instance:
        pipeline.materialize_daily(instance, START, LAST)
        pipeline.materialize_job("dwell_lifetime_job", instance, full_refresh=False)
    assert not warehouse_runs.run_directory(warehouse.path).exists()
    completed = marts(warehouse.path)
    # The daily run changes the sessions: the killed runs had work whose absence the checks above saw.
    assert completed["fct_sessions"] != before["fct_sessions"]

    expected = marts(warehouse.full_refresh(tmp_path / "clean.duckdb").path)
    assert completed.keys() == expected.keys()
    assert len(completed["rpt_load_audit"]) == 2
    for table in expected.keys() - LOAD_HISTORY:
        assert completed[table] == expected[table], table


def test_a_run_succeeds_while_a_reader_holds_the_warehouse_open(warehouse):
    generate_sample(warehouse.landing, users=6, days=2, seed=8)
    warehouse.dbt(["build", "--quiet", "--exclude", "test_type:unit", "--select", "tag:reference"])
    with duckdb.connect(str(warehouse.path), read_only=True) as reader:
        with DagsterInstance.ephemeral() as instance:
            pipeline.materialize_daily(instance, START, "2026-10-02")
        # The reader keeps the state it opened; the next connection sees the run's result.
        assert reader.execute("select count(*) from information_schema.tables where table_name = 'fct_sessions'"
                              ).fetchone()[0] == 0
    assert warehouse.query("select count(*) as n from marts.fct_sessions").n[0] > 0


def test_a_full_disk_or_an_unwritable_path_fails_clearly_and_leaves_the_warehouse_unchanged(sample_warehouse,
                                                                                           monkeypatch):
    warehouse = sample_warehouse
    before = marts(warehouse.path)

    def full_disk(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patched:
        patched.setattr(shutil, "copyfile", full_disk)
        with pytest.raises(warehouse_runs.WarehouseError, match="No space left on device.*warehouse is unchanged"):
            with warehouse_runs.isolated_run():
                pass
    with pytest.raises(RuntimeError, match="dbt failed"):
        with warehouse_runs.isolated_run() as copy:
            with duckdb.connect(str(copy)) as con:
                con.execute("drop table marts.fct_sessions")
            raise RuntimeError("dbt failed")
    assert marts(warehouse.path) == before
    assert os.environ["DWELL_DUCKDB_PATH"] == str(warehouse.path)

    blocked = warehouse.path.parent / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("DWELL_DUCKDB_PATH", str(blocked / "dwell.duckdb"))
    with pytest.raises(warehouse_runs.WarehouseError, match="Cannot prepare the run's copy"):
        with warehouse_runs.isolated_run():
            pass
