"""`dwell` command line: the README's main job and its parts."""

import argparse
import os
import sys

from orchestration import landing, sample_data, settings
from orchestration.errors import DwellError


def dagster_instance():
    """The project's Dagster instance (dagster_home/), so `dagster dev` shows what the command materialized."""
    from dagster import DagsterInstance

    os.environ.setdefault("DAGSTER_HOME", str(settings.PROJECT_DIR / "dagster_home"))
    return DagsterInstance.get()


def build(full_refresh: bool) -> None:
    """Materialize every asset through Dagster: reference models, the landed daily partitions in one run, lifetime
    marts."""
    settings.pin_paths()
    settings.duckdb_path().parent.mkdir(parents=True, exist_ok=True)
    # Imported here: loading the definitions needs dbt's manifest, which `dwell run` may have to build first.
    from orchestration.pipeline import materialize_all

    with dagster_instance() as instance:
        materialize_all(instance, full_refresh=full_refresh)


def prepare_manifest() -> None:
    from orchestration.dbt_invoke import run_dbt

    # With the runs' vars: a parse under other vars would make every run parse the whole project again.
    run_dbt(["parse", "--quiet"], settings.dbt_vars())


def command_run(args: argparse.Namespace) -> None:
    landing_dir = settings.landing_dir()
    if landing.event_files(landing_dir):
        print(f"Using the events already in {landing_dir}")
    else:
        summary = sample_data.generate_sample(landing_dir, users=args.users, days=args.days, seed=args.seed)
        print(f"Generated {summary.events_written:,} sample events into {landing_dir}")
    prepare_manifest()
    build(args.full_refresh)
    command_summary(args)


def command_summary(_: argparse.Namespace) -> None:
    from orchestration.summary import summarize
    from orchestration.targets import readable_warehouse

    with readable_warehouse(["staging.stg_landed_events", "marts.fct_sessions"]) as readable:
        print(summarize(readable).render())


def command_copy_landing(args: argparse.Namespace) -> None:
    from orchestration.landing_copy import copy_landing, spark_landing_dir

    settings.pin_paths()
    copied = copy_landing(args.target)
    into = (f"the spark target's landing files ({spark_landing_dir()})" if args.target == "spark"
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

    copy_landing = commands.add_parser(
        "copy-landing", help="copy what is new in the landing directory for Postgres or Spark (before dbt there)"
    )
    copy_landing.add_argument(
        "--target", default=os.environ.get("DWELL_TARGET", "postgres"),
        help="the engine to copy for (default: DWELL_TARGET, else postgres)",
    )
    copy_landing.set_defaults(handler=command_copy_landing)

    args = parser.parse_args(argv)
    try:
        args.handler(args)
    except DwellError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
