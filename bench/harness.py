"""dwell next to its peers on the same generated data (see bench/README.md).

    python bench/harness.py --events 10M --runs 3
    python bench/harness.py --events 50M --memory-limit 2GB
    python bench/harness.py --smoke

One run: generates the sample, builds the warehouse, and times dwell's session models, the whole warehouse, an
incremental run adding one more day and one adding 1% late events (each a `dbt build` as the Dagster jobs run it,
data tests included); then a plain DuckDB script writing the same two session tables from the same staged events,
the fair peer of the session models; and as floors, the sessions alone as one plain DuckDB query, in pandas and in
polars, and a DuckDB scan and sort of the same events. Every method must find the same sessions (count and
checksum), and the script the same tables as dwell, before any time is printed. Each timed step runs in a child
process of its own, so its peak RSS is its own. It prints figures and writes them to a results file; it never
asserts a target.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import yaml

import incremental_cost
import main_command
import peers
import results_file
import serve_load
from incremental_cost import (
    REPO_ROOT,
    complete_sample_args,
    copy_warehouse,
    land,
    last_received_date,
    machine_description,
    parse_count,
    project_fingerprint,
    write_late_events,
)
from orchestration.dbt_invoke import PRODUCTION_BUILD, run_dbt
from orchestration.sample_data import generate_sample
from peers import COPY, DUCKDB_QUERY, PANDAS, POLARS, SCAN, SESSION_TABLES, SESSION_TABLES_SCRIPT, SORT

SMOKE = {"events": 20_000, "days": 10, "runs": 1}
WORK_SUBDIRS = ("sample", "landing", "warehouses", "target", "logs", "exports", "spill")
EVENTS_FILE = "counted_events.parquet"
SESSION_MODELS = ["--select", "+fct_sessions", "+fct_session_events", "--exclude", "+stg_landed_events"]
DWELL_SESSIONS = "dwell session models"
WHOLE_WAREHOUSE = "dwell whole warehouse"
ONE_MORE_DAY = "dwell one more day"
# What any build costs before it has data to process (dbt's start, parse, ~800 statements): the day's floor.
NOTHING_NEW = "dwell build, nothing new"
LATE_EVENTS = "dwell 1% late events"
LATE_WHOLE_WAREHOUSE = "dwell whole warehouse, late events included"


class Workdir(incremental_cost.Workdir):
    """incremental_cost's folders, plus the peers' input and output files and DuckDB's spill files."""

    def peer_file(self, name: str) -> Path:
        return self.root / "exports" / name


@dataclasses.dataclass
class Step:
    name: str
    events: int
    seconds: list[float] = dataclasses.field(default_factory=list)
    peak_rss_bytes: list[int] = dataclasses.field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


@dataclasses.dataclass(frozen=True)
class Sessions:
    count: int
    checksum: int


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=parse_count, default=10_000_000, help="sample size in events (k/M suffixes)")
    parser.add_argument("--days", type=int, default=91, help="sample length in days")
    parser.add_argument("--users", type=int, default=None,
                        help="sample users (default: the bundled sample's density, about 13.5 events per user per day)")
    parser.add_argument("--seed", type=int, default=42, help="sample random seed")
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each timed step (the median is shown)")
    parser.add_argument("--memory-limit", default=None,
                        help="DuckDB memory_limit for dwell and the DuckDB methods, e.g. 2GB (they spill to disk)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/dwell-harness"), help="where data and warehouses go")
    parser.add_argument("--results", type=Path, default=REPO_ROOT / "bench" / "RESULTS.md",
                        help="the results file to write")
    parser.add_argument("--smoke", action="store_true", help="tiny and fast, results in the workdir: keeps it working")
    parser.add_argument("--only-main-command", action="store_true",
                        help="time only `dwell run` (nothing new, 100 new events) and put its rows into --results")
    parser.add_argument("--only-serve", action="store_true",
                        help="only `dwell serve` under load (bench/serve_load.py): its section of --results")
    parser.add_argument("--serve-clients", type=int, default=serve_load.CLIENTS, help="concurrent clients (16)")
    parser.add_argument("--serve-seconds", type=float, default=serve_load.DURATION_SECONDS,
                        help="length of the load in seconds (60)")
    parser.add_argument("--serve-workers", type=int, default=2, help="`dwell serve --workers` (2)")
    parser.add_argument("--serve-cache-mb", type=float, default=256,
                        help="`dwell serve --cache-mb`: answers kept per publication (256; 0: none)")
    parser.add_argument("--dbt-child", help=argparse.SUPPRESS)
    parser.add_argument("--main-command-child", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.events, args.days, args.runs = SMOKE["events"], SMOKE["days"], SMOKE["runs"]
        args.results = args.workdir / "RESULTS.md"
    return complete_sample_args(parser, args)


def session_rules() -> peers.Rules:
    """The project's default sessionization vars."""
    variables = yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())["vars"]
    max_length = variables["session_max_length_seconds"]
    return peers.Rules(
        timeout_us=round(variables["session_timeout_seconds"] * 1_000_000),
        restart_events=tuple(variables["session_restart_events"]),
        end_events=tuple(variables["session_end_events"]),
        max_length_us=None if max_length is None else round(max_length * 1_000_000),
        partition_by=tuple(variables["session_partition_by"]),
    )


def run_dbt_child(args: list[str]) -> None:
    """In a child process: one dbt invocation, its wall seconds printed as JSON (imports excluded)."""
    began = time.perf_counter()
    run_dbt(args)
    print(json.dumps({"seconds": time.perf_counter() - began, "peak_rss_bytes": peers.peak_rss_bytes()}))


def timed_child(work: Workdir, name: str, argv: list[str]) -> tuple[float, int]:
    """Run a step in a child process of its own: its wall seconds and peak RSS in bytes, as it reports them."""
    log = work.logs / "child.out"
    with log.open("w") as out:
        exit_code = subprocess.run([sys.executable, *argv], stdout=out, cwd=REPO_ROOT).returncode
    lines = log.read_text().strip().splitlines()
    if exit_code != 0 or not lines:
        raise RuntimeError(f"step {name!r} failed (exit {exit_code}); output in {log}")
    reported = json.loads(lines[-1])
    return reported["seconds"], reported["peak_rss_bytes"]


def dbt_args(work: Workdir, *args: str) -> list[str]:
    return [*args, "--quiet", "--target-path", str(work.target), "--log-path", str(work.logs)]


def time_dbt(work: Workdir, name: str, events: int, start: str, runs: int, *args: str) -> Step:
    step = Step(name, events)
    for _ in range(runs):
        copy_warehouse(work.snapshot(start), work.warehouse)
        seconds, rss = timed_child(work, name, [__file__, "--dbt-child", json.dumps(dbt_args(work, *args))])
        step.seconds.append(seconds)
        step.peak_rss_bytes.append(rss)
    print(f"  ran {name} ({runs}x); times are shown once every method agrees", flush=True)
    return step


def time_peer(work: Workdir, kind: str, events: int, rules: peers.Rules, runs: int, memory_limit: str | None,
              output_name: str = "", **method_spec: Any) -> tuple[Step, Path]:
    step = Step(kind, events)
    output = work.peer_file(output_name or f"{kind.split()[0].lower()}_sessions.parquet")
    spec = {"method": kind, "rules": dataclasses.asdict(rules), "events": str(work.peer_file(EVENTS_FILE)),
            "output": str(output), "spill": str(work.root / "spill"), "memory_limit": memory_limit, **method_spec}
    for _ in range(runs):
        output.unlink(missing_ok=True)
        seconds, rss = timed_child(work, kind, [peers.__file__, json.dumps(spec)])
        step.seconds.append(seconds)
        step.peak_rss_bytes.append(rss)
    print(f"  ran {kind} ({runs}x); times are shown once every method agrees", flush=True)
    return step, output


SESSION_TABLES_ASSIGNMENT = """
    select session_events.event_id, sessions.first_event_id
    from marts.fct_session_events as session_events
    inner join marts.fct_sessions as sessions using (session_id)
"""


def sessions_of(connection: duckdb.DuckDBPyConnection, assignment: str) -> Sessions:
    """Sessions found, and an order-free checksum of which session each event is in."""
    count, checksum = connection.execute(f"""
        select count(distinct first_event_id), coalesce(sum(hash(event_id || '|' || first_event_id)), 0)
        from ({assignment})
    """).fetchone()
    return Sessions(count, int(checksum))


def database_sessions(database: Path) -> Sessions:
    """The sessions of a database with the two session tables: dwell's warehouse, or the script peer's file."""
    with duckdb.connect(str(database), read_only=True) as connection:
        return sessions_of(connection, SESSION_TABLES_ASSIGNMENT)


def session_tables_summary(database: Path) -> list[tuple]:
    """Each session table's columns and types, row count and an order-free checksum of every column of every row: at
    10M events, comparing the rows one by one would hold both tables in memory."""
    with duckdb.connect(str(database), read_only=True) as connection:
        return [(table, connection.execute(f"select column_name, column_type from (describe {table})").fetchall(),
                 *connection.execute(f"select count(*), coalesce(sum(hash(row_)), 0) from {table} as row_").fetchone())
                for table in SESSION_TABLES]


def file_sessions(path: Path) -> Sessions:
    with duckdb.connect() as connection:
        return sessions_of(connection, f"select * from read_parquet({peers.sql_string(str(path))})")


def export_counted_events(work: Workdir, rules: peers.Rules) -> int:
    columns = ", ".join(dict.fromkeys(["event_id", *rules.partition_by, "event_name", "occurred_at"]))
    with duckdb.connect(str(work.warehouse), read_only=True) as connection:
        connection.execute(f"""
            copy (
                select {columns}
                from intermediate.int_events_categorized
                where counts_toward_session
            ) to {peers.sql_string(str(work.peer_file(EVENTS_FILE)))} (format parquet)
        """)
        return connection.execute(
            f"select count(*) from read_parquet({peers.sql_string(str(work.peer_file(EVENTS_FILE)))})"
        ).fetchone()[0]


def tables_written(work: Workdir) -> list[str]:
    """The tables (not views) the last dbt invocation built, as schema.name, from its run_results.json."""
    results = json.loads((work.target / "run_results.json").read_text())["results"]
    relations = [result["relation_name"] for result in results
                 if result["unique_id"].startswith("model.") and result["relation_name"]]
    names = [tuple(part.strip('"') for part in relation.split(".")[-2:]) for relation in relations]
    with duckdb.connect(str(work.warehouse), read_only=True) as connection:
        tables = set(connection.execute(
            "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE'"
        ).fetchall())
    return sorted(f"{schema}.{name}" for schema, name in names if (schema, name) in tables)


def landed_rows(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute("select count(*) from staging.base_landing_events").fetchone()[0]


def polars_available() -> bool:
    try:
        import polars  # noqa: F401
    except ImportError:
        return False
    return True


def format_rate(step: Step) -> str:
    return f"{step.events / step.median:,.0f}"


def results_table(steps: list[Step]) -> list[str]:
    lines = ["| step | runs | median s | min–max s | events | events per s | peak RSS |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for step in steps:
        lines.append(f"| {step.name} | {len(step.seconds)} | {step.median:.2f} | {min(step.seconds):.2f}–"
                     f"{max(step.seconds):.2f} | {step.events:,} | {format_rate(step)} | "
                     f"{max(step.peak_rss_bytes) / 2**30:.2f} GiB |")
    return lines


def ratio_lines(steps: dict[str, Step]) -> list[str]:
    pairs = [(DWELL_SESSIONS, SESSION_TABLES_SCRIPT), (DWELL_SESSIONS, DUCKDB_QUERY), (DWELL_SESSIONS, PANDAS),
             (DWELL_SESSIONS, POLARS), (DWELL_SESSIONS, COPY), (WHOLE_WAREHOUSE, DWELL_SESSIONS),
             (ONE_MORE_DAY, WHOLE_WAREHOUSE), (NOTHING_NEW, WHOLE_WAREHOUSE), (LATE_EVENTS, LATE_WHOLE_WAREHOUSE)]
    lines = ["| ratio of medians | value |", "| --- | ---: |"]
    for numerator, denominator in pairs:
        if numerator in steps and denominator in steps:
            value = steps[numerator].median / steps[denominator].median
            as_share = numerator in (ONE_MORE_DAY, NOTHING_NEW, LATE_EVENTS)
            lines.append(f"| {numerator} ÷ {denominator} | {value:.1%} |" if as_share
                         else f"| {numerator} ÷ {denominator} | {value:.2f}× |")
    return lines


def write_results(args: argparse.Namespace, machine: list[tuple[str, str]], generator_seconds: float,
                  sample_rows: int, steps: list[Step], sessions: dict[str, Sessions], notes: list[str]) -> str:
    command = "python bench/harness.py " + " ".join(
        part for part in [f"--events {args.events}", f"--days {args.days}", f"--runs {args.runs}",
                          f"--memory-limit {args.memory_limit}" if args.memory_limit else ""] if part)
    agreed = next(iter(sessions.values()))
    text = "\n".join([
        "# Benchmark results",
        "",
        f"Written by `{command}` (see bench/README.md). Regenerate with the same command; it overwrites this file.",
        "",
        *[f"- {name}: {value}" for name, value in machine],
        f"- sample: {sample_rows:,} rows, {args.days} days, {args.users:,} users, seed {args.seed}; generated in "
        f"{generator_seconds:.1f} s ({sample_rows / generator_seconds / 1e6:.2f} M rows/s)",
        f"- DuckDB memory_limit: {args.memory_limit or 'DuckDB default (80% of memory)'}",
        f"- every method found {agreed.count:,} sessions, checksum {agreed.checksum}",
        "",
        *results_table(steps),
        "",
        *ratio_lines({step.name: step for step in steps}),
        "",
        *[f"- {note}" for note in notes],
        "",
    ])
    args.results.parent.mkdir(parents=True, exist_ok=True)
    kept = results_file.sections(args.results)
    args.results.write_text(text + ("\n" + kept if kept else ""))
    return text


MAIN_COMMAND_NOTE = (
    f"{main_command.NOTHING_NEW} / {main_command.NEW_EVENTS}: the whole `dwell run` command (interpreter start and "
    "imports included) on the warehouse a first `dwell run` built from every landed file, through Dagster; peak RSS "
    "of its largest process")


def only_main_command(args: argparse.Namespace, work: Workdir, sample_rows: int) -> int:
    """Land the whole sample, time `dwell run` alone, and put its rows into the existing results file."""
    if not args.results.exists():
        print(f"{args.results} does not exist: --only-main-command adds its rows to the results of a whole run")
        return 1
    land(work.sample, work.landing, last_day=last_received_date(work.sample), include_last_day=False)
    land(work.sample, work.landing, last_day=last_received_date(work.sample), include_last_day=True)
    steps = main_command.time_main_command(work, args.runs, Step, Path(__file__))
    date = next(value for name, value in machine_description() if name == "date")
    note = (f"{MAIN_COMMAND_NOTE}. These two rows: `python bench/harness.py --events {args.events} --days {args.days} "
            f"--runs {args.runs} --only-main-command` on {date}, {sample_rows:,} rows, the rest of the file from the "
            "run it names at the top")
    print(main_command.merge_rows(args.results, results_table(steps)[2:], note))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.dbt_child:
        run_dbt_child(json.loads(args.dbt_child))
        return 0
    if args.main_command_child:
        main_command.run_child(args.main_command_child)
        return 0
    if args.only_serve:
        return serve_load.main(args)
    machine = machine_description()
    fingerprint = project_fingerprint()
    work = Workdir(args.workdir)
    for name in WORK_SUBDIRS:
        shutil.rmtree(work.root / name, ignore_errors=True)
        (work.root / name).mkdir(parents=True)
    os.environ.update(DWELL_LANDING_DIR=str(work.landing), DWELL_DUCKDB_PATH=str(work.warehouse),
                      DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    if args.memory_limit:
        os.environ["DWELL_DUCKDB_MEMORY_LIMIT"] = args.memory_limit
    rules = session_rules()
    notes = []

    began = time.perf_counter()
    summary = generate_sample(work.sample, users=args.users, days=args.days, seed=args.seed, events=args.events,
                              start_date=incremental_cost.sample_start(args.days))
    generator_seconds = time.perf_counter() - began
    print(f"sample: {summary.events_written:,} rows in {generator_seconds:.1f}s", flush=True)
    last_day = last_received_date(work.sample)
    if args.only_main_command:
        return only_main_command(args, work, summary.events_written)
    land(work.sample, work.landing, last_day=last_day, include_last_day=False)
    run_dbt(dbt_args(work, "seed"))
    run_dbt(dbt_args(work, "run"))
    copy_warehouse(work.warehouse, work.snapshot("all-but-last-day"))
    land(work.sample, work.landing, last_day=last_day, include_last_day=True)
    print(f"warehouse built from all but {last_day} (untimed); timing", flush=True)

    steps: list[Step] = []
    sessions: dict[str, Sessions] = {}
    new_rows = summary.events_written - landed_rows(work.snapshot("all-but-last-day"))
    steps.append(time_dbt(work, ONE_MORE_DAY, new_rows, "all-but-last-day", args.runs, *PRODUCTION_BUILD))
    sessions[ONE_MORE_DAY] = database_sessions(work.warehouse)
    steps.append(time_dbt(work, WHOLE_WAREHOUSE, summary.events_written, "all-but-last-day", args.runs,
                          *PRODUCTION_BUILD, "--full-refresh"))
    sessions[WHOLE_WAREHOUSE] = database_sessions(work.warehouse)
    copy_warehouse(work.warehouse, work.snapshot("all-days"))
    steps.append(time_dbt(work, NOTHING_NEW, 0, "all-days", args.runs, *PRODUCTION_BUILD))

    counted = export_counted_events(work, rules)
    steps.append(time_dbt(work, DWELL_SESSIONS, counted, "all-days", args.runs, *PRODUCTION_BUILD, "--full-refresh",
                          *SESSION_MODELS))
    sessions[DWELL_SESSIONS] = database_sessions(work.warehouse)
    session_tables = tables_written(work)

    step, script_tables = time_peer(work, SESSION_TABLES_SCRIPT, counted, rules, args.runs, args.memory_limit,
                                    "script_session_tables.duckdb", warehouse=str(work.warehouse))
    steps.append(step)
    sessions[SESSION_TABLES_SCRIPT] = database_sessions(script_tables)
    tables_found = {DWELL_SESSIONS: session_tables_summary(work.warehouse),
                    SESSION_TABLES_SCRIPT: session_tables_summary(script_tables)}
    notes.append(f"{SESSION_TABLES_SCRIPT}: {' and '.join(SESSION_TABLES)} written from the warehouse's staged events "
                 "into a database file of their own by a plain DuckDB script, equal to dwell's (columns, types, row "
                 "count and a checksum of every row); the DuckDB query, pandas and polars write only each event's "
                 "session: floors")

    peer_kinds = [DUCKDB_QUERY, PANDAS, POLARS] if polars_available() else [DUCKDB_QUERY, PANDAS]
    if not polars_available():
        notes.append("polars is not installed (`uv pip install polars`, the `bench` extra): not timed")
    for kind in peer_kinds:
        step, output = time_peer(work, kind, counted, rules, args.runs, args.memory_limit)
        steps.append(step)
        sessions[kind] = file_sessions(output)
    for kind in [SCAN, SORT]:
        steps.append(time_peer(work, kind, counted, rules, args.runs, args.memory_limit)[0])
    steps.append(time_peer(work, COPY, counted, rules, args.runs, args.memory_limit, "session_tables.duckdb",
                           warehouse=str(work.warehouse), tables=session_tables)[0])
    notes.append(f"{COPY}: {', '.join(session_tables)}, copied from the warehouse dwell's session models left")

    late_file, late_events, _ = write_late_events(work.landing)
    steps.append(time_dbt(work, LATE_EVENTS, late_events, "all-days", args.runs, *PRODUCTION_BUILD))
    late_sessions = {LATE_EVENTS: database_sessions(work.warehouse)}
    steps.append(time_dbt(work, LATE_WHOLE_WAREHOUSE, summary.events_written + late_events, "all-days", args.runs,
                          *PRODUCTION_BUILD, "--full-refresh"))
    late_sessions[LATE_WHOLE_WAREHOUSE] = database_sessions(work.warehouse)
    steps += main_command.time_main_command(work, args.runs, Step, Path(__file__))

    for compared in (sessions, late_sessions):
        if len(set(compared.values())) != 1:
            print("FAILED: the methods found different sessions; no times are printed")
            for name, found in compared.items():
                print(f"  {name}: {found.count:,} sessions, checksum {found.checksum}")
            return 1
    if tables_found[DWELL_SESSIONS] != tables_found[SESSION_TABLES_SCRIPT]:
        print(f"FAILED: {SESSION_TABLES_SCRIPT} wrote other tables than dwell; no times are printed")
        for name, tables in tables_found.items():
            for table, columns, rows, checksum in tables:
                print(f"  {name}: {table}, {rows:,} rows, checksum {checksum}, columns {columns}")
        return 1
    if project_fingerprint() != fingerprint:
        notes.append("WARNING: models, macros, seeds, tests or dbt config changed during the run")
    notes.append(f"{late_events:,} late events landed in {late_file.name}; the incremental run and the full refresh "
                 f"found the same {late_sessions[LATE_EVENTS].count:,} sessions")
    notes.append(f"dwell's steps run `dbt {' '.join(PRODUCTION_BUILD)}`, as the Dagster jobs do (seeds, models and "
                 "data tests), with `--full-refresh` for the full builds and the session models")
    notes.append("events/s: counted events for the session methods and the bounds, landed rows for the whole "
                 "warehouse and the incremental runs (the rows those runs load)")
    notes.append(MAIN_COMMAND_NOTE)
    print()
    print(write_results(args, machine, generator_seconds, summary.events_written, steps, sessions, notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
