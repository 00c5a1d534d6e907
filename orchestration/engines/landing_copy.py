"""The landing directory copied for an engine that cannot read it the way the duckdb target does
(macros/landing/landing_copy.sql): into the `landing` schema of Postgres, or into Parquet files under
DWELL_SPARK_DIR that the spark target's `landing` tables are defined on.

Each copy reads only the event files not copied before with the same size and modification time, through the DuckDB
readers the duckdb target uses (so file errors and non-text columns come out the same), and replaces the list of
event files present and every dimension table. It is idempotent (copying twice adds nothing), and copies run one at
a time (a Postgres advisory lock; a file lock beside the Spark copy).
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from orchestration import settings
from orchestration.dbt_invoke import run_dbt
from orchestration.engines.postgres import postgres_connection
from orchestration.errors import DwellError

if TYPE_CHECKING:
    import psycopg2.extensions

LANDING_SCHEMA = "landing"
EVENTS_TABLE = "events"
EVENT_FILES_TABLE = "event_files"
COPY_LOCK = "dwell landing copy"
FILE_KEY = ("source_file", "source_file_size", "source_file_modified_at")
# Columns the export writes as something other than text.
TYPED_COLUMNS = {
    "source_file_size": "bigint",
    "source_line_number": "bigint",
    "source_file_modified_at": "timestamp",
    "retracted_file_size": "bigint",
    "retracted_file_modified_at": "timestamp",
    "loaded_at": "timestamp",
}


class LandingCopyError(DwellError):
    pass


def _header(path: Path) -> list[str]:
    with path.open(newline="") as file:
        return next(csv.reader(file))


def _ensure_table(cursor: psycopg2.extensions.cursor, table: str, columns: list[str]) -> None:
    """The table with at least these columns: a table a copy before a column was added gains it (null in the rows
    copied before)."""
    definitions = [f'"{column}" {TYPED_COLUMNS.get(column, "text")}' for column in columns]
    cursor.execute(f'create table if not exists {LANDING_SCHEMA}."{table}" ({", ".join(definitions)})')
    for definition in definitions:
        cursor.execute(f'alter table {LANDING_SCHEMA}."{table}" add column if not exists {definition}')


def _copy_in(cursor: psycopg2.extensions.cursor, table: str, path: Path) -> int:
    columns = _header(path)
    with path.open() as file:
        cursor.copy_expert(
            f'copy {LANDING_SCHEMA}."{table}" ({", ".join(columns)}) from stdin with (format csv, header true)', file
        )
    return cursor.rowcount


def _export(copy_key: str, loaded_files: Path, exported: Path, file_format: str) -> None:
    """Export the landing directory's new rows through the duckdb target's readers, in an in-memory database. The dbt
    target path is one per copy destination (copy_key), whose lock the caller holds: with the same profile (the
    in-memory database) and landing directory as the copy before, dbt parses the project partially (seconds less)."""
    target_path = settings.PROJECT_DIR / "target" / "landing-copy" / hashlib.sha256(copy_key.encode()).hexdigest()[:16]
    with settings.environment({"DWELL_DUCKDB_PATH": settings.IN_MEMORY_DUCKDB}):
        run_dbt([
            "run-operation", "dwell_export_landing", "--target", "duckdb", "--target-path", str(target_path),
            "--args", json.dumps({
                "out_dir": str(exported), "loaded_files_csv": str(loaded_files), "file_format": file_format,
            }),
        ])


def copy_landing_to_postgres() -> dict[str, int]:
    """Copy what is new in the landing directory into the landing schema; return the rows copied per table."""
    with tempfile.TemporaryDirectory(prefix="dwell-landing-copy-") as scratch_dir:
        loaded_files = Path(scratch_dir) / "loaded_files.csv"
        exported = Path(scratch_dir) / "export"
        exported.mkdir()
        connection = postgres_connection()
        try:
            with connection, connection.cursor() as cursor:
                # Two copies at once would both copy the same new files; the lock lasts as long as the connection.
                cursor.execute("select pg_advisory_lock(hashtext(%s))", (COPY_LOCK,))
                cursor.execute(f"create schema if not exists {LANDING_SCHEMA}")
                cursor.execute(f"select to_regclass('{LANDING_SCHEMA}.{EVENTS_TABLE}')")
                events_exist = cursor.fetchone()[0] is not None
                with loaded_files.open("w") as file:
                    if events_exist:
                        cursor.copy_expert(
                            f"copy (select distinct {', '.join(FILE_KEY)} from {LANDING_SCHEMA}.{EVENTS_TABLE}) "
                            "to stdout with (format csv, header true)",
                            file,
                        )
                    else:
                        file.write(",".join(FILE_KEY) + "\n")
            _export(f"postgres {connection.dsn}", loaded_files, exported, "csv")
            copied = {}
            with connection, connection.cursor() as cursor:
                for path in sorted(exported.glob("*.csv")):
                    table = path.stem
                    _ensure_table(cursor, table, _header(path))
                    if table != EVENTS_TABLE:
                        cursor.execute(f'truncate {LANDING_SCHEMA}."{table}"')
                    copied[table] = _copy_in(cursor, table, path)
                # Rows of file versions no longer in the directory are never read again.
                key = ", ".join(FILE_KEY)
                cursor.execute(
                    f"delete from {LANDING_SCHEMA}.{EVENTS_TABLE} "
                    f"where ({key}) not in (select {key} from {LANDING_SCHEMA}.{EVENT_FILES_TABLE})"
                )
        finally:
            connection.close()
    return copied


def spark_landing_dir() -> Path:
    """Where the Spark copy keeps its Parquet files: <table>/ per landing table (macros/landing/landing_copy.sql)."""
    return settings.spark_dir() / "landing"


def _rows(path: Path) -> int:
    with duckdb.connect() as connection:
        return connection.execute("select count(*) from read_parquet(?)", [str(path)]).fetchone()[0]


def copy_landing_to_spark() -> dict[str, int]:
    """Copy what is new in the landing directory into Parquet files for the spark target's landing tables; return the
    rows copied per table. events/ gains one file per copy that finds new rows; the other tables are replaced."""
    landing = spark_landing_dir()
    events_dir = landing / EVENTS_TABLE
    events_dir.mkdir(parents=True, exist_ok=True)
    with (landing / ".copy.lock").open("w") as lock, tempfile.TemporaryDirectory(
        prefix="dwell-landing-copy-", dir=landing
    ) as scratch_dir:
        fcntl.flock(lock, fcntl.LOCK_EX)
        loaded_files = Path(scratch_dir) / "loaded_files.csv"
        exported = Path(scratch_dir) / "export"
        exported.mkdir()
        event_file_parts = sorted(events_dir.glob("*.parquet"))
        with duckdb.connect() as connection:
            key = ", ".join(FILE_KEY)
            if event_file_parts:
                connection.execute(
                    f"copy (select distinct {key} from read_parquet('{events_dir}/*.parquet')) "
                    f"to '{loaded_files}' (format csv, header true)"
                )
            else:
                loaded_files.write_text(",".join(FILE_KEY) + "\n")
        _export(f"spark {landing}", loaded_files, exported, "parquet")
        # Events first: a copy cut short leaves new rows whose files the event_files table does not list yet, and
        # the reader skips them until the next copy lists them.
        new_events = exported / f"{EVENTS_TABLE}.parquet"
        copied = {EVENTS_TABLE: _rows(new_events)}
        # The first copy always writes a file, so the table has a schema before any event arrives.
        if copied[EVENTS_TABLE] or not event_file_parts:
            os.replace(new_events, events_dir / f"{uuid.uuid4().hex}.parquet")
        for path in sorted(exported.glob("*.parquet")):
            if path != new_events:
                copied[path.stem] = _rows(path)
                (landing / path.stem).mkdir(exist_ok=True)
                os.replace(path, landing / path.stem / "rows.parquet")
    return copied


def copy_landing(target: str) -> dict[str, int]:
    """Copy what is new in the landing directory for the postgres or spark target; return the rows copied per table."""
    if target == "postgres":
        return copy_landing_to_postgres()
    if target == "spark":
        return copy_landing_to_spark()
    raise LandingCopyError(f"the landing copy is for the postgres or spark target, not {target}: the duckdb target "
                           "reads the landing directory itself")
