"""Deterministic generator of realistic raw product events, written in the landing-zone layout.

Every column is simulated as a numpy array of codes and indexes from one seeded generator; strings exist only
at write time, looked up or built per output file with pyarrow compute. That keeps ten million events to seconds.

Layout written into the landing directory:
    organizations.csv, users.csv, workspaces.parquet, workspace_members.csv
    events/received_date=YYYY-MM-DD/events.parquet          (non-web events)
    events/web/received_date=YYYY-MM-DD/events.jsonl.gz     (web events and all malformed rows)
"""

import dataclasses
import datetime
import shutil
import tempfile
from pathlib import Path

import numpy as np

from orchestration.sample_data.arrays import day_us, second_us
from orchestration.sample_data.dimensions import build_dimensions, register_new_users, write_dimensions
from orchestration.sample_data.events import duplicates, late_rows, malformed, simulate_events
from orchestration.sample_data.writer import replace_sample, write_events

# The sample's first day unless asked otherwise: fixed, so that a seed gives the same events on any day.
DEFAULT_START_DATE = datetime.date(2026, 10, 1)

@dataclasses.dataclass(frozen=True)
class SampleSummary:
    landing_dir: Path
    events_written: int
    malformed_rows: int
    duplicate_rows: int
    late_rows: int
    users: int
    workspaces: int
    organizations: int
    files: list[Path]



def generate_sample(
    landing_dir: Path | str,
    *,
    users: int = 200,
    days: int = 30,
    seed: int = 42,
    start_date: datetime.date = DEFAULT_START_DATE,
    events: int | None = None,
) -> SampleSummary:
    """Write a complete sample into landing_dir, replacing any sample already there."""
    if users < 1 or days < 1:
        raise ValueError("users and days must be at least 1")
    if events is not None and events < 1:
        raise ValueError("events must be at least 1")
    rng = np.random.default_rng(seed)
    start_us = int(datetime.datetime.combine(start_date, datetime.time(), datetime.UTC).timestamp()) * second_us
    end_us = start_us + days * day_us

    dims = build_dimensions(rng, users, days, start_us)
    pieces = simulate_events(rng, dims, days, start_us, start_date.weekday(), events)
    duplicated = duplicates(rng, pieces, end_us)
    broken = malformed(rng, pieces)
    pieces += [duplicated, broken]
    register_new_users(rng, dims, pieces, start_us)

    landing = Path(landing_dir)
    landing.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".sample-", dir=landing))
    try:
        write_dimensions(dims, staging)
        write_events(rng, pieces, dims, seed, start_us, days, staging)
        files = replace_sample(staging, landing)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return SampleSummary(
        landing_dir=landing,
        events_written=sum(len(piece["n"]) for piece in pieces),
        malformed_rows=len(broken["n"]),
        duplicate_rows=len(duplicated["n"]),
        late_rows=sum(late_rows(piece) for piece in pieces),
        users=users,
        workspaces=len(dims.ws_org),
        organizations=len(dims.org_name),
        files=files,
    )
