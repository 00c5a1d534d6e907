"""Where session alerts are read and their deliveries recorded: the table delivery.alert_deliveries of the target
that built the alerts (README "Session alerts"). Each store is an AlertStore (webhook.py)."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration import settings
from orchestration.alerts.webhook import AlertStore
from orchestration.engines.postgres import postgres_connection
from orchestration.engines.reading import readable_warehouse

ALERTS_QUERY = "select * from marts.fct_session_alerts order by session_end_at, alert_id"
DELIVERIES_TABLE = "delivery.alert_deliveries"
DELIVERIES_COLUMNS = "alert_id varchar primary key, delivered_at timestamp not null, http_status integer not null"


def _dicts(relation: duckdb.DuckDBPyRelation) -> list[dict]:
    return [dict(zip(relation.columns, row)) for row in relation.fetchall()]


class DuckDBAlerts:
    """The duckdb target: alerts and deliveries in the warehouse file."""

    def __init__(self, connection: duckdb.DuckDBPyConnection):
        self._con = connection
        self._con.execute("create schema if not exists delivery")
        self._con.execute(f"create table if not exists {DELIVERIES_TABLE} ({DELIVERIES_COLUMNS})")

    def alerts(self) -> list[dict]:
        return _dicts(self._con.sql(ALERTS_QUERY))

    def delivered(self) -> set[str]:
        return {row[0] for row in self._con.execute(f"select alert_id from {DELIVERIES_TABLE}").fetchall()}

    def record(self, alert_id: str, http_status: int) -> None:
        self._con.execute(f"insert into {DELIVERIES_TABLE} values (?, current_timestamp, ?)", [alert_id, http_status])


class PostgresAlerts:
    """The postgres target: alerts read through a DuckDB copy, deliveries in the database (committed one by one)."""

    def __init__(self, alerts_copy: Path, connection):
        with duckdb.connect(str(alerts_copy), read_only=True) as con:
            self._alerts = _dicts(con.sql(ALERTS_QUERY))
        self._connection = connection
        self._connection.autocommit = True
        with self._connection.cursor() as cursor:
            cursor.execute("create schema if not exists delivery")
            cursor.execute(f"create table if not exists {DELIVERIES_TABLE} ({DELIVERIES_COLUMNS})")

    def alerts(self) -> list[dict]:
        return self._alerts

    def delivered(self) -> set[str]:
        with self._connection.cursor() as cursor:
            cursor.execute(f"select alert_id from {DELIVERIES_TABLE}")
            return {row[0] for row in cursor.fetchall()}

    def record(self, alert_id: str, http_status: int) -> None:
        with self._connection.cursor() as cursor:
            cursor.execute(f"insert into {DELIVERIES_TABLE} values (%s, now() at time zone 'utc', %s)",
                           (alert_id, http_status))


class ParquetAlerts:
    """The spark target: alerts read through a DuckDB copy; each delivery is a Parquet file of its own under
    DWELL_SPARK_DIR/delivery/alert_deliveries/, which the spark target declares as delivery.alert_deliveries."""

    def __init__(self, alerts_copy: Path, directory: Path):
        with duckdb.connect(str(alerts_copy), read_only=True) as con:
            self._alerts = _dicts(con.sql(ALERTS_QUERY))
        self._directory = directory
        self._directory.mkdir(parents=True, exist_ok=True)

    def alerts(self) -> list[dict]:
        return self._alerts

    def delivered(self) -> set[str]:
        if not any(self._directory.glob("*.parquet")):
            return set()
        with duckdb.connect() as con:
            return {row[0] for row in con.execute(
                "select alert_id from read_parquet(?)", [str(self._directory / "*.parquet")]).fetchall()}

    def record(self, alert_id: str, http_status: int) -> None:
        name = f"{uuid.uuid4().hex}.parquet"
        # Written aside and renamed: Spark and the next delivery never read a partial file.
        partial = self._directory / f".{name}"
        with duckdb.connect() as con:
            con.execute(f"create table delivery ({DELIVERIES_COLUMNS})")
            con.execute("insert into delivery values (?, current_timestamp at time zone 'UTC', ?)",
                        [alert_id, http_status])
            con.execute("copy delivery to ? (format parquet)", [str(partial)])
        os.replace(partial, self._directory / name)


def spark_deliveries_dir() -> Path:
    return settings.spark_dir() / "delivery" / "alert_deliveries"


@contextmanager
def alert_store() -> Iterator[AlertStore]:
    """The alert store of the current dbt target (DWELL_TARGET)."""
    target = settings.dbt_target()
    if target == "duckdb":
        with duckdb.connect(str(settings.duckdb_path())) as con:
            yield DuckDBAlerts(con)
        return
    with readable_warehouse(["marts.fct_session_alerts"]) as alerts_copy:
        if target == "spark":
            yield ParquetAlerts(alerts_copy, spark_deliveries_dir())
            return
        connection = postgres_connection()
        try:
            yield PostgresAlerts(alerts_copy, connection)
        finally:
            connection.close()
