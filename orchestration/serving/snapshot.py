"""The serving copy BI tools read (README "Serving copy for BI tools"): after a successful run, every table and view
of the warehouse's `marts` schema is copied into a read-only snapshot. Readers never open the warehouse, so they
never take its lock and never see a table a run is rewriting.

A publication writes everything under a private directory first, then renames each file into place. A rename is
atomic, so a reader opening `dwell.duckdb` gets the previous snapshot or the new one whole, and a reader opening a
Parquet file gets that mart as one run left it. A reader that already has the old file open keeps reading it."""

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from orchestration.serving import ServingError
from orchestration.serving.pii import (
    PII_MODES,
    PII_SALT_VARIABLE,
    column_expression,
    identifier,
    pii_mode,
    string_literal,
)

SNAPSHOT_FILE = "dwell.duckdb"
PARQUET_DIR = "parquet"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class Publication:
    published_at: str
    row_counts: dict[str, int]
    pii: str

    def manifest(self) -> dict:
        return {"published_at": self.published_at, "pii": self.pii, "snapshot": SNAPSHOT_FILE,
                "marts": {name: {"rows": rows, "parquet": f"{PARQUET_DIR}/{name}.parquet"}
                          for name, rows in self.row_counts.items()}}


def _marts(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = 'marts' order by table_name, ordinal_position",
        [catalog],
    ).fetchall()
    marts: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        marts.setdefault(table, []).append((column, data_type))
    return marts


def _write_snapshot(warehouse: Path, snapshot: Path, parquet_dir: Path, pii: str) -> dict[str, int]:
    # Views in the warehouse name its catalog, which DuckDB takes from the file name: attach it under that name.
    catalog = warehouse.stem
    with duckdb.connect(str(snapshot)) as con:
        con.execute(f"attach {string_literal(str(warehouse))} as {identifier(catalog)} (read_only)")
        con.execute("set variable pii_salt = ?", [os.environ.get(PII_SALT_VARIABLE, "")])
        marts = _marts(con, catalog)
        if not marts:
            raise ServingError(f"{warehouse} has no marts to publish; build the warehouse first")
        con.execute("create schema marts")
        row_counts = {}
        for table, columns in marts.items():
            select_list = ", ".join(column_expression(column, data_type, pii) for column, data_type in columns)
            target = f"marts.{identifier(table)}"
            con.execute(f"create table {target} as select {select_list} "
                        f"from {identifier(catalog)}.marts.{identifier(table)}")
            con.execute(f"copy {target} to {string_literal(str(parquet_dir / f'{table}.parquet'))} (format parquet)")
            row_counts[table] = con.execute(f"select count(*) from {target}").fetchone()[0]
        con.execute("detach " + identifier(catalog))
        con.execute("checkpoint")
    return row_counts


def _replace_json(path: Path, content: dict) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    temporary.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n")
    os.replace(temporary, path)


def publish(warehouse: Path, serving_dir: Path, pii: str | None = None) -> Publication:
    """Copy every mart of the warehouse into the serving directory: a DuckDB snapshot, one Parquet file per mart,
    and manifest.json with the row counts. The warehouse is only read (it must not be open for writing)."""
    pii = pii_mode() if pii is None else pii
    if pii not in PII_MODES:
        raise ServingError(f"PII mode must be one of {', '.join(PII_MODES)}, got: {pii!r}")
    if not warehouse.exists():
        raise ServingError(f"No warehouse at {warehouse}; build it first")
    parquet_dir = serving_dir / PARQUET_DIR
    try:
        parquet_dir.mkdir(parents=True, exist_ok=True)
        work = serving_dir / f".publishing-{uuid.uuid4().hex}"
        work.mkdir()
    except OSError as error:
        raise ServingError(f"Cannot write the serving directory {serving_dir}: {error}") from error
    try:
        # A name of its own: DuckDB names the file's catalog after it, and it must differ from the warehouse's.
        snapshot = work / f"serving_{uuid.uuid4().hex}.duckdb"
        try:
            row_counts = _write_snapshot(warehouse, snapshot, work, pii)
        except duckdb.Error as error:
            raise ServingError(f"Publishing {warehouse} to {serving_dir} failed, the previous copy stays: {error}") from error
        for table in row_counts:
            os.replace(work / f"{table}.parquet", parquet_dir / f"{table}.parquet")
        os.replace(snapshot, serving_dir / SNAPSHOT_FILE)
        for stale in parquet_dir.glob("*.parquet"):
            if stale.stem not in row_counts:
                stale.unlink()
        publication = Publication(published_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                  row_counts=row_counts, pii=pii)
        _replace_json(serving_dir / MANIFEST_FILE, publication.manifest())
        return publication
    finally:
        shutil.rmtree(work, ignore_errors=True)
