"""SQL functions dwell's dbt models call on DuckDB, registered on dbt-duckdb's connections by the profile's
`plugins` entry (profiles.yml). They do what SQL cannot: tell which files the event reader takes (one definition,
orchestration/landing.py, shared with the sensors), catch a read error and report it instead of failing, and read a
JSON-lines file line by line when DuckDB's reader cannot. The plugin also applies DWELL_DUCKDB_MEMORY_LIMIT,
DuckDB's memory_limit, when it is set."""

import gzip
import os

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

from orchestration import landing

READ_CHUNK_BYTES = 1 << 20
LANDED_FILE_TYPE = "STRUCT(format VARCHAR, compression VARCHAR, not_taken_reason VARCHAR)"
LINES_TYPE = "STRUCT(line_number BIGINT, text VARCHAR, is_utf8 BOOLEAN)[]"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def landed_file(path: str) -> dict | None:
    """How the event reader takes a file under events/: its format (`parquet` or `json`, null when it does not take
    the file) and compression (`gzip` or `uncompressed`), or why it does not take it; null for a file in flight."""
    name = os.path.basename(path)
    if landing.is_in_flight(name):
        return None
    return {
        "format": landing.event_file_format(name),
        "compression": landing.compression(name),
        "not_taken_reason": landing.not_taken_reason(name),
    }


def _parquet_error(path: str) -> str | None:
    try:
        with duckdb.connect() as con:
            # Hashing every column decodes every page: a corrupt page inside a file with intact ends shows here.
            # The path is inlined: binding a parameter makes duckdb import pandas, seconds of a run's first load.
            con.execute(f"select min(hash(columns(*))) from read_parquet({_sql_string(path)})").fetchall()
    except duckdb.Error as error:
        return str(error).strip().splitlines()[0]
    return None


def _gzip_error(path: str) -> str | None:
    try:
        with gzip.open(path, "rb") as stream:
            while stream.read(READ_CHUNK_BYTES):
                pass
    except (OSError, EOFError) as error:
        return f"not a complete gzip file: {error}"
    return None


def _json_array_error(path: str) -> str | None:
    """A JSON array is one document: DuckDB's reader cannot skip a bad part of it, and fails the load instead."""
    reader = (f"read_json({_sql_string(path)}, format = 'array', records = 'false', "
              f"compression = '{landing.compression(path)}', columns = {{'json': 'JSON'}})")
    try:
        with duckdb.connect() as con:
            elements, not_objects = con.execute(
                f"select count(*), count(*) filter (where json_type(json) <> 'OBJECT') from {reader}").fetchone()
    except duckdb.Error as error:
        return f"not a JSON array: {str(error).strip().splitlines()[0]}"
    if not_objects:
        return f"a JSON array whose elements are not all objects: {not_objects:,} of {elements:,} are not"
    return None


def event_file_error(path: str) -> str | None:
    """Why the landed event file at path cannot be read whole, or None when it can. A Parquet file must decode
    completely (DuckDB's own reader); a gzip file must decompress to its end (DuckDB would load the lines before a
    cut and say nothing); a .json file holding a JSON array must parse whole, as an array of objects. JSON lines are
    read line by line, bad lines quarantined, so they always pass."""
    if landing.event_file_format(os.path.basename(path)) == "parquet":
        return _parquet_error(path)
    error = _gzip_error(path) if landing.is_gzip(path) else None
    if error is None and landing.json_layout(path) == "array":
        error = _json_array_error(path)
    return error


def _line(number: int, raw: bytes) -> dict:
    try:
        text, is_utf8 = raw.decode("utf-8"), True
    except UnicodeDecodeError:
        text, is_utf8 = raw.decode("utf-8", errors="replace"), False
    if "\0" in text:
        # Not text either, and Postgres cannot store it: replaced, as a byte that is not UTF-8 is.
        text, is_utf8 = text.replace("\0", "\ufffd"), False
    return {"line_number": number, "text": text, "is_utf8": is_utf8}


def event_file_lines(path: str) -> list[dict]:
    """The lines of a JSON-lines file (gzip or not), for the files DuckDB's reader cannot read every line of: each
    with its 1-based number, its text without the line end (a byte-order mark at the start of the file stripped), and
    whether it was UTF-8 (else its bytes are decoded with replacement characters). Blank lines hold no event and are
    left out, as DuckDB's reader leaves them."""
    lines = []
    with (gzip.open(path, "rb") if landing.is_gzip(path) else open(path, "rb")) as stream:
        for number, raw in enumerate(stream, start=1):
            if number == 1 and raw.startswith(landing.UTF8_BOM):
                raw = raw[len(landing.UTF8_BOM):]
            raw = raw.rstrip(b"\n").removesuffix(b"\r")
            if raw.strip():
                lines.append(_line(number, raw))
    return lines


def _null_for_null(function):
    return lambda path: None if path is None else function(path)


class Plugin(BasePlugin):
    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        # Here rather than in the profile's settings: DuckDB has no value that means "its own default".
        memory_limit = os.environ.get("DWELL_DUCKDB_MEMORY_LIMIT")
        if memory_limit:
            conn.execute(f"set memory_limit = {_sql_string(memory_limit)}")
        functions = [
            ("dwell_landed_file", landed_file, duckdb.sqltype(LANDED_FILE_TYPE)),
            ("dwell_event_file_error", event_file_error, "VARCHAR"),
            ("dwell_json_layout", landing.json_layout, "VARCHAR"),
            ("dwell_event_file_lines", event_file_lines, duckdb.sqltype(LINES_TYPE)),
        ]
        for name, function, return_type in functions:
            # null_handling special: the functions return null for some paths, which DuckDB allows only with it; it
            # then passes a null path in too.
            conn.create_function(name, _null_for_null(function), ["VARCHAR"], return_type, null_handling="special",
                                 side_effects=True)
