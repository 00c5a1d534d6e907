"""What `dwell run` has to build, from what the warehouse already holds (README "The two commands").

The main command records, in the Dagster instance, the project it built (a fingerprint of the dbt project, the
Dagster code and the DWELL_* settings), the last Dagster run of that build and the warehouse file it left. The next
run compares:

- the same project, nothing run since, the same warehouse file, and no event or dimension file that the
  warehouse has not loaded: nothing to build;
- the same, with only new or rewritten event files: the daily partitions of their event dates, then the lifetime
  marts (a run loads every new file whatever its window, and rebuilds the sessions its new events touch, so the
  window only has to hold the new dates);
- anything else (a first run, `--full-refresh`, other rules or code, new dimension files, runs or writes by someone
  else since): every job, the daily partitions of every landed event date.
"""

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone

from dagster import DagsterInstance

from orchestration import landing, loaded_files, partitions, settings

# What decides the tables a build writes, besides the landed files.
PROJECT_SOURCES = ("models", "macros", "seeds", "dbt_tests", "orchestration", "dbt_project.yml", "profiles.yml")
PROJECT_SUFFIXES = (".sql", ".yml", ".yaml", ".csv", ".py")
# Settings that only say which run this is, or how fast it goes.
SETTINGS_IGNORED = (partitions.WINDOW_START_VARIABLE, partitions.WINDOW_END_VARIABLE, "DWELL_DBT_THREADS",
                    "DWELL_DUCKDB_MEMORY_LIMIT", "DWELL_LOG_DIR", "DWELL_DATA_TEST_SWEEP_CRON")


@dataclass(frozen=True)
class Plan:
    reference: bool
    # First and last daily partition of the daily run, or None for no daily run.
    daily: tuple[str, str] | None
    # Event dates before the first partition: loaded and sessionized, shown under no partition.
    before_partition_start: tuple = ()
    # Why the reference models are left as they are, when they are.
    reference_skipped_because: str = ""

    @property
    def builds_nothing(self) -> bool:
        return not self.reference and self.daily is None


def project_fingerprint() -> str:
    digest = hashlib.sha256()
    for source in PROJECT_SOURCES:
        root = settings.PROJECT_DIR / source
        paths = sorted(root.rglob("*")) if root.is_dir() else [root]
        for path in paths:
            if path.is_file() and path.name.endswith(PROJECT_SUFFIXES):
                digest.update(f"{path.relative_to(settings.PROJECT_DIR)}\0".encode() + path.read_bytes() + b"\0")
    dwell_settings = {name: value for name, value in os.environ.items()
                      if name.startswith("DWELL_") and name not in SETTINGS_IGNORED}
    digest.update(json.dumps(dwell_settings, sort_keys=True).encode())
    return digest.hexdigest()


def _warehouse_signature() -> str:
    """The duckdb target's warehouse file as it is; other targets keep their data where no file shows a change."""
    if settings.dbt_target() != "duckdb" or not settings.duckdb_path().exists():
        return ""
    stat = settings.duckdb_path().stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _last_run_id(instance: DagsterInstance) -> str:
    runs = instance.get_runs(limit=1)
    return runs[0].run_id if runs else ""


def _build_key() -> str:
    return f"dwell/main_command/{settings.warehouse_identity()}"


@dataclass(frozen=True)
class LastBuild:
    project: str
    last_run_id: str
    warehouse: str
    finished_at: str

    def describes_now(self, instance: DagsterInstance) -> bool:
        return (self.project, self.last_run_id, self.warehouse) == (
            project_fingerprint(), _last_run_id(instance), _warehouse_signature())


def last_build(instance: DagsterInstance) -> LastBuild | None:
    value = instance.run_storage.get_cursor_values({_build_key()}).get(_build_key())
    return LastBuild(**json.loads(value)) if value else None


def record_build(instance: DagsterInstance) -> None:
    build = LastBuild(project=project_fingerprint(), last_run_id=_last_run_id(instance),
                      warehouse=_warehouse_signature(),
                      finished_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    instance.run_storage.set_cursor_values({_build_key(): json.dumps(build.__dict__)})


def daily_run(event_files: list[landing.LandedFile]) -> tuple[tuple[str, str], tuple]:
    """The first and last partition of the daily run over these files, and their dates before the partitions."""
    covered = partitions.coverage(landing.event_dates(event_files))
    if covered.first_and_last:
        return covered.first_and_last, covered.before_start
    # No readable event date: the run still loads the files (and quarantines what it cannot read).
    last = partitions.daily_partitions.get_last_partition_key()
    if last is None:
        raise partitions.PartitionStartError(
            f"There are no daily partitions yet: {partitions.PARTITION_START_VARIABLE} is after today.")
    return (last, last), ()


def plan(instance: DagsterInstance, full_refresh: bool) -> Plan:
    event_files = loaded_files.EVENTS.landed()
    previous = None if full_refresh else last_build(instance)
    dimensions = loaded_files.signatures(loaded_files.DIMENSIONS.landed())
    # The session models read the users' dimension too: new dimension files rebuild every landed date's sessions.
    if (previous is None or not previous.describes_now(instance)
            or dimensions != loaded_files.loaded(instance, loaded_files.DIMENSIONS)):
        daily, before_start = daily_run(event_files)
        return Plan(reference=True, daily=daily, before_partition_start=before_start)
    new_events = loaded_files.new_files(event_files, loaded_files.loaded(instance, loaded_files.EVENTS))
    if not new_events:
        return Plan(reference=False, daily=None)
    daily, before_start = daily_run(new_events)
    return Plan(reference=False, daily=daily, before_partition_start=before_start,
                reference_skipped_because="no dimension file, rule or code changed")
