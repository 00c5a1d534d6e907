"""Delivery of session alerts (marts.fct_session_alerts) to a webhook: one JSON POST per alert, retried, each alert
delivered once. Deliveries are recorded in the table delivery.alert_deliveries of the target that built the alerts
(README "Session alerts")."""

import json
import os
import time
import uuid
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import duckdb

from orchestration import settings
from orchestration.errors import DwellError

WEBHOOK_URL_VARIABLE = "DWELL_ALERT_WEBHOOK_URL"
RETRIED_STATUSES = {408, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class DeliveryReport:
    delivered: int
    failed: list[str]
    already_delivered: int


def webhook_url() -> str | None:
    """The webhook from the environment, or None when unset. Only http and https URLs are accepted."""
    url = os.environ.get(WEBHOOK_URL_VARIABLE, "").strip()
    if not url:
        return None
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise DwellError(f"{WEBHOOK_URL_VARIABLE} must be an http:// or https:// URL with a host, got: {url!r}")
    return url


def _payload(alert: dict) -> bytes:
    body = {key: value.isoformat() if isinstance(value, datetime) else value for key, value in alert.items()}
    return json.dumps({"type": "dwell.session_alert", **body}).encode()


def _post(url: str, payload: bytes, *, attempts: int, backoff_seconds: float, timeout_seconds: float) -> int | str:
    """The HTTP status of the first final answer, or the last error's text when every attempt failed."""
    outcome: int | str = "not sent"
    for attempt in range(attempts):
        if attempt:
            time.sleep(backoff_seconds * 2 ** (attempt - 1))
        request = urllib.request.Request(url, data=payload, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout_seconds) as response:  # noqa: S310 (scheme checked)
                return response.status
        except urllib.error.HTTPError as error:
            outcome = error.code
            if error.code not in RETRIED_STATUSES:
                return error.code
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            outcome = str(error)
    return outcome


class AlertStore(Protocol):
    """Where the alerts are read and their deliveries recorded, on the target that built them."""

    def alerts(self) -> list[dict]:
        """Every row of marts.fct_session_alerts, oldest session end first."""

    def delivered(self) -> set[str]:
        """The alert ids recorded as delivered."""

    def record(self, alert_id: str, http_status: int) -> None:
        """Record one delivery, durably, before the next is sent."""


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
    from orchestration.landing_copy import postgres_connection
    from orchestration.targets import readable_warehouse

    with readable_warehouse(["marts.fct_session_alerts"]) as alerts_copy:
        if target == "spark":
            yield ParquetAlerts(alerts_copy, spark_deliveries_dir())
            return
        connection = postgres_connection()
        try:
            yield PostgresAlerts(alerts_copy, connection)
        finally:
            connection.close()


def deliver_new_alerts(store: AlertStore, url: str, *, attempts: int = 3, backoff_seconds: float = 0.5,
                       timeout_seconds: float = 10.0) -> DeliveryReport:
    """POST every alert not delivered before; record each success as soon as it is acknowledged (2xx)."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise DwellError(f"Refusing to send alerts to a non-HTTP(S) URL: {url!r}")
    delivered_before = store.delivered()
    pending = [alert for alert in store.alerts() if alert["alert_id"] not in delivered_before]
    delivered, failed = 0, []
    for alert in pending:
        status = _post(url, _payload(alert), attempts=attempts, backoff_seconds=backoff_seconds,
                       timeout_seconds=timeout_seconds)
        if isinstance(status, int) and 200 <= status < 300:
            store.record(alert["alert_id"], status)
            delivered += 1
        else:
            failed.append(f"{alert['alert_id']}: {status}")
    return DeliveryReport(delivered=delivered, failed=failed, already_delivered=len(delivered_before))
