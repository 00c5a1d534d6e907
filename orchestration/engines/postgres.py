"""The connection to the database of the `postgres` target, from the same environment variables as profiles.yml."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from orchestration.errors import DwellError

if TYPE_CHECKING:
    import psycopg2.extensions


class PostgresConnectionError(DwellError):
    pass


def postgres_connection() -> psycopg2.extensions.connection:
    # Imported here: only the `postgres` extra installs the driver, and nothing else needs it.
    try:
        import psycopg2
    except ImportError as error:
        raise PostgresConnectionError("the postgres target needs its driver: pip install 'dwell[postgres]'") from error
    parameters = {
        "host": os.environ.get("DWELL_PG_HOST", "127.0.0.1"),
        "port": int(os.environ.get("DWELL_PG_PORT", "5432")),
        "user": os.environ.get("DWELL_PG_USER", "postgres"),
        "dbname": os.environ.get("DWELL_PG_DATABASE", "dwell"),
    }
    try:
        return psycopg2.connect(password=os.environ.get("DWELL_PG_PASSWORD", ""), **parameters)
    except psycopg2.OperationalError as error:
        raise PostgresConnectionError(
            f"cannot connect to Postgres {parameters} (DWELL_PG_* variables): {error}") from error
