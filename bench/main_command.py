"""`dwell run`, the README's main command, on the harness's data: with nothing new since the last run, and with 100
new events in one new small file (bench/README.md).

Each timed run is the whole command in a process of its own, from the moment the harness starts it to its exit
(interpreter start and imports included: what a user waits for), through Dagster with its own instance, as users
run it. The first `dwell run` builds the warehouse from every landed file, untimed."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from incremental_cost import REPO_ROOT, Workdir, sql_string
from peers import peak_rss_bytes

NOTHING_NEW = "dwell run, nothing new"
NEW_EVENTS = "dwell run, 100 new events"
NEW_EVENT_COUNT = 100
STEP_NAMES = (NOTHING_NEW, NEW_EVENTS)
NEW_EVENTS_FILE = Path("events") / "bench" / "new_events.jsonl"


def write_new_events(landing: Path, count: int = NEW_EVENT_COUNT) -> Path:
    """Copies of the `count` newest landed Parquet events, with new ids, one second later: one new JSON-lines file."""
    path = landing / NEW_EVENTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    iso = "'%Y-%m-%dT%H:%M:%S.%fZ'"
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        connection.execute(f"""
            copy (
                select
                    'new_' || row_number() over (order by occurred_at, event_id) as event_id,
                    strftime((occurred_at + interval 1 second) at time zone 'UTC', {iso}) as occurred_at,
                    strftime((received_at + interval 1 second) at time zone 'UTC', {iso}) as received_at,
                    user_id, event_name, organization_id, workspace_id, project_id, platform, page, session_id
                from read_parquet({sql_string(str(landing / 'events' / '**' / '*.parquet'))}, hive_partitioning = false)
                order by occurred_at desc, event_id
                limit {count}
            ) to {sql_string(str(path))} (format json)
        """)
    return path


def run_child(started_at: float) -> None:
    """In a child process: `dwell run`, then its wall seconds since the harness started it and the peak RSS of the
    largest of its processes (itself, or a dbt process Dagster started), as JSON on the last line."""
    from orchestration import cli

    if cli.main(["run"]) != 0:
        sys.exit(1)
    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(json.dumps({"seconds": time.time() - started_at,
                      "peak_rss_bytes": max(peak_rss_bytes(), children_peak)}))


def _timed_run(work: Workdir, env: dict[str, str], harness: Path) -> tuple[float, int, str]:
    log = work.logs / "main_command.out"
    with log.open("w") as out:
        exit_code = subprocess.run([sys.executable, str(harness), "--main-command-child", repr(time.time())],
                                   stdout=out, stderr=subprocess.STDOUT, cwd=REPO_ROOT, env=env).returncode
    lines = log.read_text().strip().splitlines()
    if exit_code != 0 or not lines:
        raise RuntimeError(f"dwell run failed (exit {exit_code}); output in {log}")
    reported = json.loads(lines[-1])
    return reported["seconds"], reported["peak_rss_bytes"], "\n".join(lines[:-1])


def _rows_read(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute("select count(*) from staging.stg_landed_events").fetchone()[0]


def time_main_command(work: Workdir, runs: int, step_type, harness: Path) -> list:
    """Build the warehouse with `dwell run` (untimed), then time it with nothing new and with 100 new events."""
    root = work.root / "main-command"
    shutil.rmtree(root, ignore_errors=True)
    dagster_home = root / "dagster_home"
    dagster_home.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "dagster_home" / "dagster.yaml", dagster_home)
    warehouse = root / "dwell.duckdb"
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), "DWELL_DUCKDB_PATH": str(warehouse),
           "DWELL_SERVING_DIR": str(root / "serving"), "DWELL_LOG_DIR": str(root / "logs")}
    began = time.perf_counter()
    _timed_run(work, env, harness)
    print(f"  built the warehouse with dwell run in {time.perf_counter() - began:.0f} s (untimed)", flush=True)
    # copy2 keeps the modification time: `dwell run` tells a warehouse written by someone else by it.
    shutil.copy2(warehouse, root / "built.duckdb")
    shutil.copytree(dagster_home, root / "built_dagster_home")

    nothing_new = step_type(NOTHING_NEW, 0)
    for _ in range(runs):
        seconds, rss, printed = _timed_run(work, env, harness)
        if "Nothing new landed" not in printed:
            raise RuntimeError(f"dwell run with nothing new built something:\n{printed}")
        nothing_new.seconds.append(seconds)
        nothing_new.peak_rss_bytes.append(rss)

    new_events = step_type(NEW_EVENTS, NEW_EVENT_COUNT)
    rows_before = _rows_read(root / "built.duckdb")
    for _ in range(runs):
        shutil.copy2(root / "built.duckdb", warehouse)
        shutil.rmtree(dagster_home)
        shutil.copytree(root / "built_dagster_home", dagster_home)
        new_file = write_new_events(work.landing)
        try:
            seconds, rss, _ = _timed_run(work, env, harness)
        finally:
            new_file.unlink()
        if _rows_read(warehouse) != rows_before + NEW_EVENT_COUNT:
            raise RuntimeError(f"dwell run with {NEW_EVENT_COUNT} new events read {_rows_read(warehouse) - rows_before}")
        new_events.seconds.append(seconds)
        new_events.peak_rss_bytes.append(rss)
    print(f"  ran {NOTHING_NEW} and {NEW_EVENTS} ({runs}x each)", flush=True)
    return [nothing_new, new_events]


def merge_rows(results: Path, table_rows: list[str], note: str) -> str:
    """Put these step rows into an existing results file in place of its rows of the same steps (or after its last
    step row), with a note saying where they come from."""
    lines = results.read_text().rstrip("\n").splitlines()
    names = {row.split("|")[1].strip() for row in table_rows}
    kept = [line for line in lines if not (line.startswith("| ") and line.split("|")[1].strip() in names)
            and not line.startswith(f"- {STEP_NAMES[0]}")]
    # The step table is the first table: its rows end at the first line after its header that is not a row.
    header = next(index for index, line in enumerate(kept) if line.startswith("| step |"))
    end = next(index for index in range(header, len(kept)) if not kept[index].startswith("|"))
    text = "\n".join([*kept[:end], *table_rows, *kept[end:], f"- {note}", ""])
    results.write_text(text)
    return text
