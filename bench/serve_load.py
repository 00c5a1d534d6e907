"""`dwell serve` under load (bench/README.md, `harness.py --only-serve`): 16 concurrent clients over loopback for 60 s
across the API's endpoints, while a new serving copy is published in the middle.

Setup (untimed, kept in <workdir>/serve and reused by the next run with the same sample arguments):

1. the sample, every file but the last day's landed and built (`dbt seed`, `dbt run`): warehouse A; then the last
   day landed and built incrementally: warehouse B. Both are published (orchestration.serving.publish) into
   reference serving directories.
2. The expected answer of every request the clients send, from each of the two copies, through the application
   in-process.

The load: `dwell serve` in a process of its own serves copy A; the clients loop over a fixed list of requests (every
endpoint, an admin and an organization token, keep-alive connections); half way, `publish(B)` writes copy B into the
served directory, as a build does. Every answer must be 200 and equal the expected answer of copy A or of copy B:
anything else counts as an error, and an answer of neither copy as an answer from a half-published copy. It prints
latency percentiles per endpoint and writes them into the results file; it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import duckdb

from incremental_cost import REPO_ROOT, land, last_received_date, machine_description
from orchestration.dbt_invoke import run_dbt
from orchestration.sample_data import generate_sample

CLIENTS = 16
DURATION_SECONDS = 60.0
RESULTS_HEADING = "## `dwell serve` under load"


@dataclass(frozen=True)
class ServeWork:
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

    def copy_warehouse(self, name: str) -> Path:
        # The same file name as the built one: the warehouse's views name its catalog, which DuckDB takes from it.
        return self.root / "warehouses" / name / self.warehouse.name

    def reference(self, name: str) -> Path:
        return self.root / f"serving-{name}"

    @property
    def served(self) -> Path:
        return self.root / "served"

    @property
    def stamp(self) -> Path:
        return self.root / "sample.json"

    @property
    def target(self) -> Path:
        return self.root / "target"

    @property
    def logs(self) -> Path:
        return self.root / "logs"


def sample_start(args: argparse.Namespace) -> datetime.date:
    """The sample ends the day before today: a load quarantines events dated after its own clock, so a sample that
    reaches into the future would leave copy B (one more day) equal to copy A."""
    return datetime.date.today() - datetime.timedelta(days=args.days + 1)


def sample_stamp(args: argparse.Namespace) -> dict:
    return {"events": args.events, "days": args.days, "users": args.users, "seed": args.seed,
            "memory_limit": args.memory_limit, "start_date": sample_start(args).isoformat()}


def dbt(work: ServeWork, *args: str) -> None:
    run_dbt([*args, "--quiet", "--target-path", str(work.target), "--log-path", str(work.logs)])


def prepare(work: ServeWork, args: argparse.Namespace) -> dict:
    """Build warehouses A and B and their reference serving copies, unless a run with the same sample left them."""
    from orchestration.serving import publish

    stamp = sample_stamp(args)
    ready = all(path.exists() for path in [work.copy_warehouse("a"), work.copy_warehouse("b"),
                                           work.reference("a") / "dwell.duckdb", work.reference("b") / "dwell.duckdb"])
    if ready and work.stamp.exists() and json.loads(work.stamp.read_text()).get("sample") == stamp:
        print(f"reusing the warehouses and serving copies in {work.root} (same sample)", flush=True)
        return json.loads(work.stamp.read_text())
    shutil.rmtree(work.root, ignore_errors=True)
    for path in [work.sample, work.landing, work.warehouse.parent, work.target, work.logs]:
        path.mkdir(parents=True)
    os.environ.update(DWELL_LANDING_DIR=str(work.landing), DWELL_DUCKDB_PATH=str(work.warehouse),
                      DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    if args.memory_limit:
        os.environ["DWELL_DUCKDB_MEMORY_LIMIT"] = args.memory_limit
    began = time.perf_counter()
    summary = generate_sample(work.sample, users=args.users, days=args.days, seed=args.seed, events=args.events,
                              start_date=sample_start(args))
    print(f"sample: {summary.events_written:,} rows in {time.perf_counter() - began:.1f}s", flush=True)
    last_day = last_received_date(work.sample)
    land(work.sample, work.landing, last_day=last_day, include_last_day=False)
    began = time.perf_counter()
    dbt(work, "seed")
    dbt(work, "run")
    print(f"warehouse A (all but {last_day}) built in {time.perf_counter() - began:.0f}s", flush=True)
    work.copy_warehouse("a").parent.mkdir()
    shutil.copy2(work.warehouse, work.copy_warehouse("a"))
    land(work.sample, work.landing, last_day=last_day, include_last_day=True)
    began = time.perf_counter()
    dbt(work, "run")
    print(f"warehouse B (one more day) built in {time.perf_counter() - began:.0f}s", flush=True)
    work.copy_warehouse("b").parent.mkdir()
    shutil.copy2(work.warehouse, work.copy_warehouse("b"))
    work.warehouse.unlink()
    for name in ("a", "b"):
        publish(work.copy_warehouse(name), work.reference(name))
    with duckdb.connect(str(work.reference("b") / "dwell.duckdb"), read_only=True) as con:
        events = con.execute("select count(*) from marts.fct_session_events").fetchone()[0]
    info = {"sample": stamp, "rows": summary.events_written, "last_day": last_day, "counted_events_b": events}
    work.stamp.write_text(json.dumps(info, indent=2) + "\n")
    return info
