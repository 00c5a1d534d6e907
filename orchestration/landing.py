"""The landing directory as the orchestrator sees it: which files are there, which of them the event reader takes,
and which event dates they hold. The dbt reader (macros/landing.sql) takes the same files: it asks this module,
through SQL functions of orchestration/engines/duckdb_functions.py."""

import gzip
import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

# Event file name endings the reader takes, in any letter case, and the format each holds.
EVENT_SUFFIXES = {
    ".parquet": "parquet",
    ".jsonl": "json", ".ndjson": "json", ".json": "json",
    ".jsonl.gz": "json", ".ndjson.gz": "json", ".json.gz": "json",
}
# A .json file holds either JSON lines or one JSON array of objects, told apart by its first character.
EITHER_JSON_LAYOUT_SUFFIXES = (".json", ".json.gz")
# Files being written, by the usual conventions: neither read nor reported until renamed.
IN_FLIGHT_SUFFIXES = (".tmp", ".partial")
UTF8_BOM = b"\xef\xbb\xbf"
SNIFF_BYTES = 1 << 16
EVENTS_FOLDER = "events"
RETRACTED_FOLDER = "retracted"
DIMENSION_NAMES = ("organizations", "users", "workspaces", "workspace_members")
DIMENSION_SUFFIXES = (".csv", ".parquet")


def is_in_flight(name: str) -> bool:
    """A hidden file (name starting with a dot: editors' and rsync's temporary files) or one named *.tmp or
    *.partial: a file still being written."""
    return name.startswith(".") or name.lower().endswith(IN_FLIGHT_SUFFIXES)


def event_file_format(name: str) -> str | None:
    """`parquet` or `json` for a name the event reader takes, whatever its letter case; None otherwise."""
    lower = name.lower()
    return next((file_format for suffix, file_format in EVENT_SUFFIXES.items() if lower.endswith(suffix)), None)


def is_gzip(name: str) -> bool:
    return name.lower().endswith(".gz")


def compression(name: str) -> str:
    """The compression of an event file, by DuckDB's name for it: JSON files may be gzip-compressed."""
    return "gzip" if is_gzip(name) else "uncompressed"


def not_taken_reason(name: str) -> str | None:
    """Why the event reader does not take a file under events/, or None when it does (or the file is in flight)."""
    if is_in_flight(name) or event_file_format(name):
        return None
    return f"not an event file: the reader takes {', '.join(EVENT_SUFFIXES)} files, in any letter case"


def json_layout(path: str) -> str:
    """`array` for a .json file whose first character (after a byte-order mark and blanks) opens a JSON array,
    else `lines`: JSON lines, one object per line. Only .json files may hold an array."""
    if not path.lower().endswith(EITHER_JSON_LAYOUT_SUFFIXES):
        return "lines"
    try:
        with (gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")) as stream:
            head = stream.read(len(UTF8_BOM))
            head = head[len(UTF8_BOM):] if head == UTF8_BOM else head
            while True:
                start = head.lstrip()
                if start:
                    return "array" if start.startswith(b"[") else "lines"
                head = stream.read(SNIFF_BYTES)
                if not head:
                    return "lines"
    except (OSError, EOFError):
        # A gzip file cut short or corrupt: the file check reports it (engines/duckdb_functions.py, event_file_error).
        return "lines"


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


def _files_under_events(landing_dir: Path) -> list[Path]:
    """Every file under <landing>/events/ at any depth, but the files in flight."""
    events = landing_dir / EVENTS_FOLDER
    if not events.is_dir():
        return []
    return [path for path in events.rglob("*") if path.is_file() and not is_in_flight(path.name)]


def event_files(landing_dir: Path) -> list[LandedFile]:
    return _landed(path for path in _files_under_events(landing_dir) if event_file_format(path.name))


def retracted_files(landing_dir: Path) -> list[LandedFile]:
    """Every file under <landing>/retracted/: each version retracts the rows of its path under events/ (README
    "Retracting a file")."""
    retracted = landing_dir / RETRACTED_FOLDER
    if not retracted.is_dir():
        return []
    return _landed(path for path in retracted.rglob("*") if path.is_file() and not is_in_flight(path.name))


def daily_input_files(landing_dir: Path) -> list[LandedFile]:
    """The files a daily run reads: the event files, and the retracted ones whose rows it takes back."""
    return event_files(landing_dir) + retracted_files(landing_dir)


def files_not_taken(landing_dir: Path) -> list[Path]:
    """The files under <landing>/events/ that the event reader does not take (rpt_load_files lists them as not_taken)."""
    return sorted(path for path in _files_under_events(landing_dir) if not event_file_format(path.name))


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


def _json_reader(path: str) -> str:
    layout = "array" if json_layout(path) == "array" else "newline_delimited"
    return (f"read_json(?, format = '{layout}', compression = '{compression(path)}', ignore_errors = true, "
            "columns = {'occurred_at': 'VARCHAR'})")


def event_dates(files: list[LandedFile]) -> set[date]:
    """UTC dates of the parseable occurred_at values in the files; unreadable files contribute none (dbt reports them).
    JSON is read on one thread: DuckDB splits a file read alone among its threads, and then rejects the byte-order
    mark a file may start with, losing the first line's date."""
    dates: set[date] = set()
    with duckdb.connect() as parquet_con, duckdb.connect() as json_con:
        for con in (parquet_con, json_con):
            con.execute("set TimeZone = 'UTC'")
        json_con.execute("set threads = 1")
        for file in files:
            if event_file_format(file.path.name) == "parquet":
                con, reader = parquet_con, "read_parquet(?)"
            else:
                con, reader = json_con, _json_reader(str(file.path))
            query = (f"select distinct cast(timezone('UTC', try_cast(occurred_at as timestamptz)) as date) "
                     f"from {reader} where occurred_at is not null")
            try:
                rows = con.execute(query, [str(file.path)]).fetchall()
            except duckdb.Error:
                continue
            dates.update(day for (day,) in rows if day is not None)
    return dates
