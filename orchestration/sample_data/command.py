"""`python -m orchestration.sample_data`: write a sample into a landing directory."""

import argparse
import datetime
import time
from pathlib import Path

from orchestration.sample_data.generator import generate_sample

def event_count(text: str) -> int:
    """An event count such as 250000, 500k, 10M or 1.5M."""
    multipliers = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}
    suffix = text[-1:].lower()
    if suffix in multipliers:
        return round(float(text[:-1]) * multipliers[suffix])
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.sample_data",
        description="Deterministic generator of realistic raw product events, written in the landing-zone layout.")
    parser.add_argument("--landing-dir", required=True, type=Path)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--start-date", type=datetime.date.fromisoformat, default=datetime.date(2026, 10, 1))
    parser.add_argument("--events", type=event_count, default=None, help="approximate total, e.g. 500k or 10M")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    summary = generate_sample(
        args.landing_dir, users=args.users, days=args.days, seed=args.seed, start_date=args.start_date,
        events=args.events,
    )
    print(
        f"wrote {summary.events_written:,} events ({summary.malformed_rows:,} malformed, "
        f"{summary.duplicate_rows:,} duplicates, {summary.late_rows:,} late) for {summary.users:,} users, "
        f"{summary.workspaces:,} workspaces, {summary.organizations:,} organizations in {len(summary.files)} files "
        f"to {summary.landing_dir} in {time.perf_counter() - began:.1f}s"
    )
    return 0
