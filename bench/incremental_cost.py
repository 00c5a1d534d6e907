"""What an incremental dbt run costs next to a full refresh, on the sample data (see bench/README.md).

    python bench/incremental_cost.py --events 2M --days 91 --runs 3 --workdir /tmp/dwell-bench
    python bench/incremental_cost.py --smoke

It measures and prints; it never asserts a target.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import json
import math
import os
import platform
import re
import shutil
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path

import duckdb

from orchestration.dbt_invoke import run_dbt
from orchestration.sample_data import DEFAULT_START_DATE, generate_sample

REPO_ROOT = Path(__file__).resolve().parent.parent
EVENTS_TABLE = "marts.fct_session_events"
LATE_SHARE_PERCENT = 1
LATE_WINDOW_DAYS = 30
ONE_MORE_DAY = "one more day"
LATE_EVENTS = "1% late events"
RATIO_TARGETS = {ONE_MORE_DAY: 0.10, LATE_EVENTS: 0.25}
SLOWEST_NODES_SHOWN = 5
SMOKE = {"events": 20_000, "days": 10, "runs": 1, "select": "+fct_sessions +fct_session_events"}
# The bundled sample (`dwell run`: 200 users, 30 days, 80,872 rows) has about 13.5 events per user per day; the
# benchmark keeps that density at any size unless --users says otherwise.
SAMPLE_EVENTS_PER_USER_DAY = 13.5
# The folders this script owns inside --workdir; it empties them at the start of every run.
WORK_SUBDIRS = ("sample", "landing", "warehouses", "target", "logs", "run_results")
COUNT_SUFFIXES = {"k": 1_000, "m": 1_000_000}
# Other people edit the project while benchmarks run; a change between start and end makes the figures suspect.
PROJECT_SOURCES = ("models", "macros", "seeds", "dbt_tests", "dbt_project.yml", "profiles.yml")
# /proc/stat cpu columns that count as busy: user, nice, system, irq, softirq, steal.
BUSY_CPU_COLUMNS = (0, 1, 2, 5, 6, 7)


@dataclasses.dataclass(frozen=True)
class Workdir:
    root: Path

    @property
    def sample(self) -> Path:
        return self.root / "sample"

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouses" / "working.duckdb"

    @property
    def target(self) -> Path:
        return self.root / "target"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def run_results(self, scenario: str, step: str) -> Path:
        slug = re.sub(r"[^a-z0-9]+", "-", f"{scenario} {step}".replace("%", "pct").lower())
        return self.root / "run_results" / f"{slug}.json"

    def snapshot(self, name: str) -> Path:
        return self.root / "warehouses" / f"{name}.duckdb"


@dataclasses.dataclass(frozen=True)
class Step:
    label: str
    dbt_args: tuple[str, ...]
    is_full_refresh: bool


@dataclasses.dataclass(frozen=True)
class Timing:
    scenario: str
    step: Step
    wall_seconds: list[float]
    dbt_elapsed_seconds: list[float]
    other_cpu_seconds: list[float]
    rows_before: int | None
    rows_after: int | None
    slowest_nodes: list[tuple[str, float]]

    @property
    def median(self) -> float:
        return statistics.median(self.wall_seconds)


def parse_count(text: str) -> int:
    """'2M', '500k', '1.5M' or '20000' as an integer."""
    multiplier = COUNT_SUFFIXES.get(text[-1:].lower(), 1)
    digits = text[:-1] if multiplier != 1 else text
    try:
        count = round(float(digits) * multiplier)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a count: {text!r} (use e.g. 20000, 500k, 2M)") from None
    if count < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return count


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=parse_count, default=2_000_000, help="sample size in events (k/M suffixes)")
    parser.add_argument("--days", type=int, default=91, help="sample length in days")
    parser.add_argument("--users", type=int, default=None,
                        help="sample users (default: as many as give the bundled sample's "
                             f"{SAMPLE_EVENTS_PER_USER_DAY} events per user per day)")
    parser.add_argument("--seed", type=int, default=42, help="sample random seed")
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each timed step")
    parser.add_argument("--with-tests", action="store_true", help="also time dbt build (models and data tests)")
    parser.add_argument("--select", default=None,
                        help="time only these dbt nodes (a dbt --select argument, e.g. tag:daily); default: all")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/dwell-bench"), help="where data and warehouses go")
    parser.add_argument("--smoke", action="store_true",
                        help=f"tiny run of every step for CI: {SMOKE['events']:,} events, {SMOKE['days']} days, "
                             f"{SMOKE['runs']} run, with tests, of {SMOKE['select']} unless --select says otherwise")
    args = parser.parse_args(argv)
    if args.smoke:
        args.events, args.days, args.runs, args.with_tests = SMOKE["events"], SMOKE["days"], SMOKE["runs"], True
        # At this size a run is per-model overhead: the session models and their parents exercise every step.
        args.select = args.select or SMOKE["select"]
    return complete_sample_args(parser, args)


def complete_sample_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.Namespace:
    """The default user count for the sample's density, checked sizes and an absolute workdir outside the
    repository (shared with bench/harness.py)."""
    if args.users is None:
        args.users = max(1, round(args.events / args.days / SAMPLE_EVENTS_PER_USER_DAY))
    if args.days < 2 or args.runs < 1:
        parser.error("--days must be at least 2 and --runs at least 1")
    args.workdir = args.workdir.resolve()
    # dbt must not touch the project's own data/ or target/, and concurrent test suites use the repository.
    if args.workdir == REPO_ROOT or REPO_ROOT in args.workdir.parents:
        parser.error("--workdir must be outside the repository")
    return args


def sample_start(days: int) -> datetime.date:
    """The sample's first day: the generator's own, or as many whole weeks earlier as the sample needs to end before
    today. A load quarantines events dated after its own clock, so a sample reaching into the future would stage
    fewer events on each step than on the next, and the incremental and full warehouses would not agree. Whole weeks
    keep the weekdays, so the day the harness adds is the same weekday, with as many events, whenever it runs."""
    latest = datetime.date.today() - datetime.timedelta(days=days + 1)
    days_too_late = (DEFAULT_START_DATE - latest).days
    weeks_back = math.ceil(days_too_late / 7) if days_too_late > 0 else 0
    return DEFAULT_START_DATE - datetime.timedelta(weeks=weeks_back)


def machine_description() -> list[tuple[str, str]]:
    return [
        ("date", datetime.datetime.now().astimezone().isoformat(timespec="seconds")),
        ("machine", f"{platform.machine()}, {os.cpu_count()} cores, {total_memory_gib():.1f} GiB memory"),
        ("system", platform.platform()),
        ("python", platform.python_version()),
        ("duckdb", duckdb.__version__),
        ("dbt-core", version("dbt-core")),
        ("dbt-duckdb", version("dbt-duckdb")),
        ("dbt threads", os.environ.get("DWELL_DBT_THREADS", "2")),
    ]


def total_memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024**2
    return float("nan")


def project_fingerprint() -> str:
    digest = hashlib.sha256()
    for source in PROJECT_SOURCES:
        root = REPO_ROOT / source
        for path in sorted([root] if root.is_file() else (path for path in root.rglob("*") if path.is_file())):
            digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def machine_busy_cpu_seconds() -> float:
    columns = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    return sum(int(columns[index]) for index in BUSY_CPU_COLUMNS) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def prepare_workdir(root: Path) -> Workdir:
    work = Workdir(root)
    for name in WORK_SUBDIRS:
        shutil.rmtree(root / name, ignore_errors=True)
        (root / name).mkdir(parents=True)
    return work


def point_dbt_at(work: Workdir) -> None:
    os.environ["DWELL_LANDING_DIR"] = str(work.landing)
    os.environ["DWELL_DUCKDB_PATH"] = str(work.warehouse)
    # Usage tracking would add network round trips to every timed invocation.
    os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"


def dbt(work: Workdir, *args: str) -> None:
    run_dbt([*args, "--quiet", "--target-path", str(work.target), "--log-path", str(work.logs)])


def last_received_date(sample: Path) -> str:
    return max(part.name for part in sample.rglob("received_date=*") if part.is_dir())


def land(sample: Path, landing: Path, *, last_day: str, include_last_day: bool) -> int:
    """Copy the sample's files into the landing directory: every file but the last day's, or only the last day's."""
    copied = 0
    for source in sorted(path for path in sample.rglob("*") if path.is_file()):
        relative = source.relative_to(sample)
        if (last_day in relative.parts) != include_last_day:
            continue
        destination = landing / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)
        copied += 1
    return copied


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write_late_events(landing: Path) -> tuple[Path, int, int]:
    """Land copies of ~1% of the last 30 days' Parquet events as one JSON-lines file, with new ids and times.

    Picks and times come from hashes of the event ids, so the same sample always gives the same file. Every copy
    is received at the newest receipt in the sample, and occurs uniformly in the 30 days before it (or since the
    first event, in a shorter sample).
    """
    path = landing / "events" / "late" / "late.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    parquet_files = sql_string(str(landing / "events" / "**" / "*.parquet"))
    iso = "'%Y-%m-%dT%H:%M:%S.%fZ'"
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        connection.execute(f"""
            copy (
                with events as (
                    select * from read_parquet({parquet_files}, hive_partitioning = false)
                ),
                horizon as (
                    select
                        max(received_at) as newest,
                        greatest(max(received_at) - to_days({LATE_WINDOW_DAYS}), min(occurred_at)) as window_start
                    from events
                ),
                picked as (
                    select events.*, horizon.newest, epoch_us(newest) - epoch_us(window_start) as window_us
                    from events
                    cross join horizon
                    where events.occurred_at >= horizon.window_start
                        and hash(events.event_id, 'pick') % 100 < {LATE_SHARE_PERCENT}
                )
                select
                    'late_' || row_number() over (order by event_id, received_at) as event_id,
                    strftime((newest - to_microseconds(cast(hash(event_id, 'at') % window_us as bigint)))
                        at time zone 'UTC', {iso}) as occurred_at,
                    strftime(newest at time zone 'UTC', {iso}) as received_at,
                    user_id,
                    event_name,
                    organization_id,
                    workspace_id,
                    project_id,
                    platform,
                    page,
                    session_id,
                    cast(properties as json) as properties
                from picked
                order by event_id
            ) to {sql_string(str(path))} (format json)
        """)
        events, users = connection.execute(
            f"select count(*), count(distinct user_id) from read_json({sql_string(str(path))})"
        ).fetchone()
    return path, events, users


def count_rows(warehouse: Path) -> int | None:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        exists = connection.execute(
            "select count(*) from information_schema.tables where table_schema || '.' || table_name = ?",
            [EVENTS_TABLE],
        ).fetchone()[0]
        return connection.execute(f"select count(*) from {EVENTS_TABLE}").fetchone()[0] if exists else None


def copy_warehouse(source: Path, destination: Path) -> None:
    """Copy a DuckDB file with its write-ahead log, if any, so the copy holds exactly the same state."""
    shutil.copyfile(source, destination)
    source_wal, destination_wal = Path(f"{source}.wal"), Path(f"{destination}.wal")
    if source_wal.exists():
        shutil.copyfile(source_wal, destination_wal)
    else:
        destination_wal.unlink(missing_ok=True)


def node_timings(target: Path) -> tuple[float, list[tuple[str, float]]]:
    """dbt's own elapsed time for the last invocation and its slowest nodes, from run_results.json."""
    run_results = json.loads((target / "run_results.json").read_text())
    nodes = [(node_name(result["unique_id"]), result["execution_time"]) for result in run_results["results"]]
    nodes.sort(key=lambda node: node[1], reverse=True)
    return run_results["elapsed_time"], nodes[:SLOWEST_NODES_SHOWN]


def node_name(unique_id: str) -> str:
    """'model.dwell.fct_sessions' as 'model fct_sessions'."""
    kind, *_, name = unique_id.split(".")
    return f"{kind} {name}"


def time_step(work: Workdir, scenario: str, step: Step, start: str, runs: int) -> Timing:
    """Run one dbt command `runs` times, each from the same saved warehouse state; the last run's warehouse and
    run_results.json stay."""
    wall_seconds, dbt_elapsed_seconds, other_cpu_seconds = [], [], []
    for _ in range(runs):
        copy_warehouse(work.snapshot(start), work.warehouse)
        began, machine_began, own_began = time.perf_counter(), machine_busy_cpu_seconds(), own_cpu_seconds()
        dbt(work, *step.dbt_args)
        wall_seconds.append(time.perf_counter() - began)
        other_seconds = machine_busy_cpu_seconds() - machine_began - (own_cpu_seconds() - own_began)
        other_cpu_seconds.append(max(0.0, other_seconds))  # clock-tick rounding can make it a hair negative
        elapsed, slowest_nodes = node_timings(work.target)
        dbt_elapsed_seconds.append(elapsed)
    shutil.copyfile(work.target / "run_results.json", work.run_results(scenario, step.label))
    timing = Timing(
        scenario=scenario,
        step=step,
        wall_seconds=wall_seconds,
        dbt_elapsed_seconds=dbt_elapsed_seconds,
        other_cpu_seconds=other_cpu_seconds,
        rows_before=count_rows(work.snapshot(start)),
        rows_after=count_rows(work.warehouse),
        slowest_nodes=slowest_nodes,
    )
    print_timing(timing)
    return timing


def steps(with_tests: bool, select: str | None) -> list[Step]:
    # Unit tests check SQL logic on fixtures, not the data; they cost the same whatever the data, so leave them out.
    # Only the tests whose models are all selected: the others may read models this run does not rebuild.
    selection = ("--select", select, "--indirect-selection", "cautious") if select else ()
    build = ("build", *selection, "--exclude", "test_type:unit")
    chosen = [
        Step("incremental run", ("run", *selection), is_full_refresh=False),
        Step("full-refresh run", ("run", *selection, "--full-refresh"), is_full_refresh=True),
    ]
    if with_tests:
        chosen += [
            Step("incremental build", build, is_full_refresh=False),
            Step("full-refresh build", (*build, "--full-refresh"), is_full_refresh=True),
        ]
    return chosen


def time_scenario(
    work: Workdir, scenario: str, start: str, runs: int, with_tests: bool, select: str | None,
    keep_end_as: str | None = None,
) -> list[Timing]:
    """Time every step from the `start` warehouse; save the full-refresh run's result as `keep_end_as`."""
    print(f"\n== {scenario}: every step starts from warehouse state '{start}' ({runs} run(s) each)")
    timings = []
    for step in steps(with_tests, select):
        timings.append(time_step(work, scenario, step, start, runs))
        if keep_end_as and step.label == "full-refresh run":
            copy_warehouse(work.warehouse, work.snapshot(keep_end_as))
    return timings


def print_timing(timing: Timing) -> None:
    seconds = timing.wall_seconds
    slowest = ", ".join(f"{name} {elapsed:.2f}s" for name, elapsed in timing.slowest_nodes)
    print(f"  {timing.step.label}: median {timing.median:.2f}s (min {min(seconds):.2f}, max {max(seconds):.2f}); "
          f"dbt elapsed median {statistics.median(timing.dbt_elapsed_seconds):.2f}s; "
          f"other processes' cpu median {statistics.median(timing.other_cpu_seconds):.1f}s; "
          f"{EVENTS_TABLE} rows {format_count(timing.rows_before)} -> {format_count(timing.rows_after)}")
    print(f"    slowest nodes (last run): {slowest}")


def format_count(count: int | None) -> str:
    return "-" if count is None else f"{count:,}"


def ratios(timings: list[Timing]) -> list[tuple[str, str, float, float]]:
    """(scenario, command, incremental ÷ full-refresh median, target) for every command timed both ways."""
    by_step = {(timing.scenario, timing.step.label): timing for timing in timings}
    found = []
    for (scenario, label), timing in by_step.items():
        if timing.step.is_full_refresh:
            continue
        command = label.removeprefix("incremental ")
        full = by_step[(scenario, f"full-refresh {command}")]
        found.append((scenario, command, timing.median / full.median, RATIO_TARGETS[scenario]))
    return found


def print_summary(
    args: argparse.Namespace,
    machine: list[tuple[str, str]],
    work: Workdir,
    timings: list[Timing],
    project_changed: bool,
) -> None:
    print("\n== Summary")
    for name, value in machine:
        print(f"  {name:<12} {value}")
    print(f"  {'sample':<12} {args.events:,} events requested, {args.days} days, {args.users} users, seed {args.seed}")
    print(f"  {'timed':<12} dbt run{' --select ' + args.select if args.select else ' (every model)'}")
    header = (f"  {'scenario':<16} {'step':<20} {'runs':>4} {'median s':>9} {'min s':>8} {'max s':>8} "
              f"{'dbt s':>8} {'other cpu s':>12} {'rows before':>12} {'rows after':>12}")
    print("\n" + header)
    print("  " + "-" * (len(header) - 2))
    for timing in timings:
        print(f"  {timing.scenario:<16} {timing.step.label:<20} {len(timing.wall_seconds):>4} {timing.median:>9.2f} "
              f"{min(timing.wall_seconds):>8.2f} {max(timing.wall_seconds):>8.2f} "
              f"{statistics.median(timing.dbt_elapsed_seconds):>8.2f} "
              f"{statistics.median(timing.other_cpu_seconds):>12.1f} "
              f"{format_count(timing.rows_before):>12} {format_count(timing.rows_after):>12}")
    print()
    for scenario, command, ratio, target in ratios(timings):
        verdict = "within" if ratio <= target else "OVER"
        print(f"  {scenario:<16} incremental / full-refresh {command:<5}  {ratio:6.1%}   "
              f"({verdict} the {target:.0%} target)")
    print(f"\n  each step's last run_results.json (per-node times): {work.root / 'run_results'}")
    if project_changed:
        print("  WARNING: models, macros, seeds, tests or dbt config changed during the run; figures may mix versions")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    machine = machine_description()
    fingerprint = project_fingerprint()
    work = prepare_workdir(args.workdir)
    point_dbt_at(work)

    began = time.perf_counter()
    summary = generate_sample(work.sample, users=args.users, days=args.days, seed=args.seed, events=args.events,
                              start_date=sample_start(args.days))
    print(f"sample: {summary.events_written:,} rows in {len(summary.files)} files "
          f"({time.perf_counter() - began:.1f}s) in {work.sample}")
    last_day = last_received_date(work.sample)
    copied = land(work.sample, work.landing, last_day=last_day, include_last_day=False)
    print(f"landed {copied} files, all but {last_day}; building the warehouse (untimed)")
    dbt(work, "seed")
    dbt(work, "run")
    copy_warehouse(work.warehouse, work.snapshot("all-but-last-day"))

    copied = land(work.sample, work.landing, last_day=last_day, include_last_day=True)
    print(f"landed the {copied} files of {last_day}")
    timings = time_scenario(work, ONE_MORE_DAY, "all-but-last-day", args.runs, args.with_tests, args.select,
                            keep_end_as="all-days")

    late_file, late_events, late_users = write_late_events(work.landing)
    print(f"\nlanded {late_events:,} late events of {late_users:,} users in {late_file}")
    timings += time_scenario(work, LATE_EVENTS, "all-days", args.runs, args.with_tests, args.select)

    print_summary(args, machine, work, timings, project_changed=project_fingerprint() != fingerprint)
    return 0


if __name__ == "__main__":
    sys.exit(main())
