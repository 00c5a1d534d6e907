"""The landing directory as the orchestrator sees it: which files are there, and which event dates they hold."""

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

EVENT_SUFFIXES = (".parquet", ".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
DIMENSION_NAMES = ("organizations", "users", "workspaces", "workspace_members")
DIMENSION_SUFFIXES = (".csv", ".parquet")


@dataclass(frozen=True)
class LandedFile:
    path: Path
    size: int
    modified_ns: int

    @property
    def signature(self) -> str:
        """Changes when the file is replaced or rewritten."""
        return f"{self.size}:{self.modified_ns}"


def _landed(paths) -> list[LandedFile]:
    files = []
    for path in sorted(paths):
        stat = path.stat()
        files.append(LandedFile(path=path, size=stat.st_size, modified_ns=stat.st_mtime_ns))
    return files


def event_files(landing_dir: Path) -> list[LandedFile]:
    events = landing_dir / "events"
    if not events.is_dir():
        return []
    return _landed(p for p in events.rglob("*") if p.is_file() and p.name.endswith(EVENT_SUFFIXES))


def dimension_files(landing_dir: Path) -> list[LandedFile]:
    paths = []
    for name in DIMENSION_NAMES:
        paths += [landing_dir / f"{name}{suffix}" for suffix in DIMENSION_SUFFIXES]
        folder = landing_dir / name
        if folder.is_dir():
            paths += [p for p in folder.rglob("*") if p.is_file() and p.name.endswith(DIMENSION_SUFFIXES)]
    return _landed(p for p in paths if p.is_file())


def fingerprint(files: list[LandedFile]) -> str:
    """One version string for a set of files: it changes when any file is added, removed or rewritten."""
    digest = hashlib.sha256()
    for file in files:
        digest.update(f"{file.path}\0{file.signature}\n".encode())
    return digest.hexdigest()[:16]


def event_dates(files: list[LandedFile]) -> set[date]:
    """UTC dates of the parseable occurred_at values in the files; unreadable files contribute none (dbt reports them)."""
    dates: set[date] = set()
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        for file in files:
            if file.path.name.endswith(".parquet"):
                reader = "read_parquet(?)"
            else:
                reader = ("read_json(?, format = 'newline_delimited', compression = 'auto_detect', "
                          "ignore_errors = true, columns = {'occurred_at': 'VARCHAR'})")
            query = (f"select distinct cast(timezone('UTC', try_cast(occurred_at as timestamptz)) as date) "
                     f"from {reader} where occurred_at is not null")
            try:
                rows = con.execute(query, [str(file.path)]).fetchall()
            except duckdb.Error:
                continue
            dates.update(day for (day,) in rows if day is not None)
    return dates
