"""Delivery of session alerts (marts.fct_session_alerts) to a webhook: one JSON POST per alert, retried, each alert
delivered once (README "Session alerts"). Where the alerts are read and their deliveries recorded is the alert store's
business (stores.py)."""

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

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
