"""`dwell` command line: the README's main job and its parts. Argument parsing and printing; the work is done by
main_command.py (run), summary.py, retraction.py and engines/landing_copy.py.

A command that needs Dagster or dbt imports them when it runs: they take seconds to import, which `dwell retract`
and, on duckdb, `dwell summary` do without."""

import argparse
import os
import sys
from pathlib import Path

from orchestration import landing, settings
from orchestration.errors import DwellError
from orchestration.retraction import retract
from orchestration.sample_data import generate_sample
from orchestration.summary import summarize


def command_run(args: argparse.Namespace) -> None:
    landing_dir = settings.landing_dir()
    if landing.event_files(landing_dir):
        print(f"Using the events already in {landing_dir}")
    else:
        summary = generate_sample(landing_dir, users=args.users, days=args.days, seed=args.seed)
        print(f"Generated {summary.events_written:,} sample events into {landing_dir}")
    settings.pin_paths()
    from orchestration import build_plan, main_command

    with main_command.dagster_instance() as instance:
        planned = build_plan.plan(instance, args.full_refresh)
        if planned.builds_nothing:
            print(f"Nothing new landed since the last run ({build_plan.last_build(instance).finished_at}): "
                  "no event or dimension file, rule or code changed, so nothing was built.")
            log_path = None
        else:
            log_path = main_command.build(instance, planned, args.full_refresh)
    command_summary(args)
    if log_path:
        print(f"full log: {log_path}")


def command_summary(_: argparse.Namespace) -> None:
    from orchestration.engines.reading import readable_warehouse

    with readable_warehouse(["staging.stg_landed_events", "marts.fct_sessions"]) as readable:
        print(summarize(readable).render())


def command_retract(args: argparse.Namespace) -> None:
    for path in args.paths:
        moved = retract(settings.landing_dir(), Path(path))
        print(f"Retracted {path}: moved to {moved}; the next run takes back the rows it loaded.")


def command_copy_landing(args: argparse.Namespace) -> None:
    from orchestration.engines.landing_copy import copy_landing, spark_landing_dir

    settings.pin_paths()
    copied = copy_landing(args.target)
    into = (f"the spark target's landing files ({spark_landing_dir()})" if settings.is_spark_target(args.target)
            else "the postgres target's landing schema")
    print(f"Copied into {into}: " + ", ".join(f"{table} {rows:,} rows" for table, rows in copied.items()))


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

    retract = commands.add_parser(
        "retract", help="take landed event files back: the next run removes their rows (README \"Retracting a file\")"
    )
    retract.add_argument("paths", nargs="+", metavar="PATH", help="an event file under <landing>/events/")
    retract.set_defaults(handler=command_retract)

    copy_landing = commands.add_parser(
        "copy-landing", help="copy what is new in the landing directory for Postgres or Spark (before dbt there)"
    )
    copy_landing.add_argument(
        "--target", default=os.environ.get("DWELL_TARGET", "postgres"),
        help="the engine to copy for (default: DWELL_TARGET, else postgres)",
    )
    copy_landing.set_defaults(handler=command_copy_landing)

    from orchestration.serving.web.commands import add_commands

    add_commands(commands)

    args = parser.parse_args(argv)
    try:
        args.handler(args)
    except DwellError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
