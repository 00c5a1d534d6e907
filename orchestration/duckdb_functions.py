"""SQL functions dwell's dbt models call on DuckDB, registered on dbt-duckdb's connections by the profile's
`plugins` entry (profiles.yml). They do what SQL cannot: catch a read error and report it instead of failing.
The plugin also applies DWELL_DUCKDB_MEMORY_LIMIT, DuckDB's memory_limit, when it is set."""

import gzip
import os

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

READ_CHUNK_BYTES = 1 << 20


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


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


def event_file_error(path: str | None) -> str | None:
    """Why the landed event file at path cannot be read whole, or None when it can. A Parquet file must decode
    completely (DuckDB's own reader); a gzip file must decompress to its end (DuckDB would load the lines before a
    cut and say nothing). Plain JSON-lines files are read line by line, bad lines quarantined, so they always pass."""
    if path is None:
        return None
    if path.endswith(".parquet"):
        return _parquet_error(path)
    if path.endswith(".gz"):
        return _gzip_error(path)
    return None


class Plugin(BasePlugin):
    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        # Here rather than in the profile's settings: DuckDB has no value that means "its own default".
        memory_limit = os.environ.get("DWELL_DUCKDB_MEMORY_LIMIT")
        if memory_limit:
            conn.execute(f"set memory_limit = {_sql_string(memory_limit)}")
        conn.create_function("dwell_event_file_error", event_file_error, ["VARCHAR"], "VARCHAR",
                             null_handling="special", side_effects=True)
