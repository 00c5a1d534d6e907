"""One more day on two sizes of history, under a DuckDB memory limit (see bench/README.md).

    python bench/history_size.py --sizes 10M:91,50M:455 --memory-limit 2GB

Each size is a sample of EVENTS over DAYS with the same users, so each adds a last day of the same weekday and
volume. For each size: the whole warehouse without its last day (`dbt build --full-refresh`), then that day
(`dbt build`), both as the Dagster jobs run them (seeds, models and data tests). Each build is timed in a child
process of its own, with its peak RSS, and DuckDB's spill folder is sampled for its peak size. The results go to
their section of the results file; a harness run keeps it. It measures and prints; it never asserts a target.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import threading
from pathlib import Path

import harness
import incremental_cost
import results_file
from orchestration.dbt_invoke import PRODUCTION_BUILD
from orchestration.sample_data import generate_sample

RESULTS_HEADING = "## One more day on two sizes of history"
SPILL_SAMPLE_SECONDS = 0.5


@dataclasses.dataclass(frozen=True)
class Build:
    seconds: float
    peak_rss_bytes: int
    peak_spill_bytes: int


@dataclasses.dataclass(frozen=True)
class History:
    events: int
    days: int
    day_events: int
    whole: Build
    day: Build


def events_label(events: int) -> str:
    """10M for 10,003,454 events: the size as the command line gives it."""
    return f"{events / 1e6:.0f}M" if events >= 1_000_000 else f"{events / 1e3:.0f}k"


def parse_size(text: str) -> tuple[int, int]:
    events, _, days = text.partition(":")
    if not days:
        raise argparse.ArgumentTypeError(f"a size is EVENTS:DAYS (10M:91), not {text!r}")
    return incremental_cost.parse_count(events), int(days)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=lambda text: [parse_size(part) for part in text.split(",")],
                        default=[(10_000_000, 91), (50_000_000, 455)],
                        help="history sizes as EVENTS:DAYS, comma-separated (10M:91,50M:455)")
    parser.add_argument("--users", type=int, default=8140, help="sample users, the same at every size (8140)")
    parser.add_argument("--seed", type=int, default=42, help="sample random seed")
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB memory_limit of the builds (2GB)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/dwell-history"),
                        help="sample, landing directory, warehouse and spill of the size being measured")
    parser.add_argument("--results", type=Path, default=incremental_cost.REPO_ROOT / "bench" / "RESULTS.md",
                        help="the results file whose section this run replaces")
    parser.add_argument("--smoke", action="store_true", help="two tiny sizes, results in the workdir")
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.users = [(2_000, 2), (4_000, 4)], 10
        args.results = args.workdir / "RESULTS.md"
    return args


def sampled_peak(folder: Path, done: threading.Event, peak: list[int]) -> None:
    """Sample the size of DuckDB's spill folder until done; keep the largest."""
    while not done.is_set():
        size = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) if folder.exists() else 0
        peak[0] = max(peak[0], size)
        done.wait(SPILL_SAMPLE_SECONDS)


def timed_build(work: incremental_cost.Workdir, name: str, *args: str) -> Build:
    """One `dbt build` in a child process (harness.py --dbt-child) while the spill folder is sampled."""
    spill = Path(f"{work.warehouse}.tmp")
    done, peak = threading.Event(), [0]
    sampler = threading.Thread(target=sampled_peak, args=(spill, done, peak))
    sampler.start()
    try:
        dbt_args = harness.dbt_args(work, *PRODUCTION_BUILD, *args)
        seconds, rss = harness.timed_child(work, name, [harness.__file__, "--dbt-child", json.dumps(dbt_args)])
    finally:
        done.set()
        sampler.join()
    print(f"  {name}: {seconds:.1f} s, peak RSS {rss / 2**30:.2f} GiB, peak spill {peak[0] / 2**30:.2f} GiB",
          flush=True)
    return Build(seconds, rss, peak[0])


def measure(args: argparse.Namespace, events: int, days: int) -> History:
    work = incremental_cost.prepare_workdir(args.workdir)
    incremental_cost.point_dbt_at(work)
    summary = generate_sample(work.sample, users=args.users, days=days, seed=args.seed, events=events,
                              start_date=incremental_cost.sample_start(days))
    last_day = incremental_cost.last_received_date(work.sample)
    incremental_cost.land(work.sample, work.landing, last_day=last_day, include_last_day=False)
    print(f"{summary.events_written:,} events over {days} days; building all but {last_day}", flush=True)
    whole = timed_build(work, "whole warehouse but the last day", "--full-refresh")
    incremental_cost.land(work.sample, work.landing, last_day=last_day, include_last_day=True)
    day_events = summary.events_written - harness.landed_rows(work.warehouse)
    day = timed_build(work, "one more day")
    return History(summary.events_written, days, day_events, whole, day)


def results_lines(args: argparse.Namespace, histories: list[History]) -> list[str]:
    sizes = ",".join(f"{events_label(h.events)}:{h.days}" for h in histories)
    lines = [
        RESULTS_HEADING, "",
        f"Written by `python bench/history_size.py --sizes {sizes} --memory-limit {args.memory_limit}` "
        "(bench/README.md); a full harness run keeps this section. Each size has the same "
        f"{args.users:,} users, so the added day is the same weekday with the same volume. `dbt build` with data "
        "tests, as the jobs run it; peak spill: DuckDB's spill folder, sampled every "
        f"{SPILL_SAMPLE_SECONDS:g} s.", "",
        *[f"- {name}: {value}" for name, value in incremental_cost.machine_description()],
        f"- DuckDB memory_limit: {args.memory_limit}", "",
        "| history | build | s | peak RSS | peak spill |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for h in histories:
        size = f"{h.events:,} events, {h.days} days"
        builds = (("whole warehouse but the last day", h.whole), (f"one more day ({h.day_events:,} events)", h.day))
        for name, build in builds:
            lines.append(f"| {size} | {name} | {build.seconds:.1f} | {build.peak_rss_bytes / 2**30:.2f} GiB | "
                         f"{build.peak_spill_bytes / 2**30:.2f} GiB |")
    lines += ["", "| ratio | value |", "| --- | ---: |"]
    for h in histories:
        lines.append(f"| one more day ÷ whole warehouse, {events_label(h.events)} | "
                     f"{h.day.seconds / h.whole.seconds:.1%} |")
    if len(histories) > 1:
        smallest, largest = histories[0], histories[-1]
        lines.append(f"| one more day on {events_label(largest.events)} of history ÷ on "
                     f"{events_label(smallest.events)} | "
                     f"{largest.day.seconds / smallest.day.seconds:.2f}× |")
    return lines


def write_section(results: Path, lines: list[str]) -> None:
    text = results_file.without_section(results.read_text() if results.exists() else "# Benchmark results\n",
                                        RESULTS_HEADING)
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(text.rstrip() + "\n\n" + "\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ["DWELL_DUCKDB_MEMORY_LIMIT"] = args.memory_limit
    histories = [measure(args, events, days) for events, days in args.sizes]
    lines = results_lines(args, histories)
    write_section(args.results, lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
