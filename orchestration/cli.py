"""`dwell` command line: the README's main job and its parts."""

import argparse
import sys

from orchestration import sample_data, settings
from orchestration.dbt_invoke import DbtCommandError, run_dbt
from orchestration.summary import summarize


def build(full_refresh: bool) -> None:
    settings.pin_paths()
    settings.duckdb_path().parent.mkdir(parents=True, exist_ok=True)
    run_dbt(["build", *(["--full-refresh"] if full_refresh else [])])


def command_run(args: argparse.Namespace) -> None:
    landing = settings.landing_dir()
    if settings.has_event_files(landing):
        print(f"Using the events already in {landing}")
    else:
        summary = sample_data.generate_sample(landing, users=args.users, days=args.days, seed=args.seed)
        print(f"Generated {summary.events_written:,} sample events into {landing}")
    build(args.full_refresh)
    print(summarize(settings.duckdb_path()).render())


def command_summary(_: argparse.Namespace) -> None:
    print(summarize(settings.duckdb_path()).render())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dwell", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="generate the sample if the landing directory is empty, build, summarize")
    run.add_argument("--users", type=int, default=200, help="sample size: users (default 200)")
    run.add_argument("--days", type=int, default=30, help="sample size: days (default 30)")
    run.add_argument("--seed", type=int, default=42, help="sample random seed (default 42)")
    run.add_argument("--full-refresh", action="store_true", help="rebuild every table from scratch")
    run.set_defaults(handler=command_run)

    summary = commands.add_parser("summary", help="print the summary of the existing warehouse")
    summary.set_defaults(handler=command_summary)

    args = parser.parse_args(argv)
    try:
        args.handler(args)
    except DbtCommandError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
