"""Session alerts: the rules of the seed fire on concluded sessions (strictly above or below), and the Dagster asset
POSTs each alert once to a webhook on 127.0.0.1, retrying transient failures."""

import pytest
from dagster import materialize

from helpers import Warehouse, Webhook, event
from orchestration.alerts.stores import alert_store
from orchestration.alerts.webhook import WEBHOOK_URL_VARIABLE, DeliveryReport, deliver_new_alerts, webhook_url
from orchestration.assets import session_alert_webhook
from orchestration.errors import DwellError


def at(clock: str) -> str:
    return f"2026-03-01T{clock}Z"


def every_20_minutes(step: int) -> str:
    return f"{step * 20 // 60:02d}:{step * 20 % 60:02d}:00"


@pytest.fixture(scope="module")
def built_alerts(tmp_path_factory) -> Warehouse:
    """The alerting events, built once for the module: each test gets a copy (alerting_warehouse)."""
    root = tmp_path_factory.mktemp("alerts")
    built = Warehouse(landing=root / "landing", path=root / "warehouse.duckdb", targets=root)
    built.write_jsonl("events/e.jsonl", [
        # u1: 4 h 0 min 1 s, above 14,400 s. u2: exactly 4 h, not above. u3: 4.999999 s, below 5 s. u4: exactly 5 s.
        *[event(f"a{i:02d}", at(every_20_minutes(i)), "u1") for i in range(13)], event("a99", at("04:00:01"), "u1"),
        *[event(f"b{i:02d}", at(every_20_minutes(i)), "u2") for i in range(13)],
        event("c1", at("10:00:00"), "u3"), event("c2", at("10:00:04.999999"), "u3"),
        event("d1", at("10:00:00"), "u4"), event("d2", at("10:00:05"), "u4"),
        # u5: a short session still open at the newest event: not concluded, no alert yet.
        event("e1", at("23:59:58"), "u5"), event("e2", at("23:59:59"), "u5"),
    ])
    built.build(select="+fct_session_alerts")
    return built


@pytest.fixture
def alerting_warehouse(built_alerts: Warehouse, warehouse: Warehouse) -> Warehouse:
    return warehouse.copy_of(built_alerts)


def deliver(url: str) -> DeliveryReport:
    with alert_store() as store:
        return deliver_new_alerts(store, url, backoff_seconds=0.01)


def test_rules_fire_strictly_and_only_on_concluded_sessions(alerting_warehouse):
    fired = alerting_warehouse.records("select user_id, rule from marts.fct_session_alerts order by user_id")
    assert fired == [{"user_id": "u1", "rule": "marathon_session"}, {"user_id": "u3", "rule": "very_short_session"}]


def test_each_alert_is_delivered_once_with_retries(alerting_warehouse, monkeypatch):
    server = Webhook(statuses=[503, 500])  # the first alert fails twice, then goes through
    try:
        report = deliver(server.url)
        assert (report.delivered, report.failed) == (2, [])
        assert sorted(body["rule"] for body in server.bodies) == ["marathon_session", "very_short_session"]
        assert {body["type"] for body in server.bodies} == {"dwell.session_alert"}
        assert all(body["session_end_at"].startswith("2026-03-01T") for body in server.bodies)
        again = deliver(server.url)
        assert (again.delivered, again.already_delivered, len(server.bodies)) == (0, 2, 2)
    finally:
        server.close()


def test_undeliverable_alerts_are_reported_and_retried_next_time(alerting_warehouse):
    failing = Webhook(statuses=[404, 500, 500, 500])
    try:
        report = deliver(failing.url)
        assert report.delivered == 0 and len(report.failed) == 2
        assert report.failed[0].endswith(": 404") and report.failed[1].endswith(": 500")
        retry = deliver(failing.url)
        assert retry.delivered == 2 and len(failing.bodies) == 2
    finally:
        failing.close()


def test_the_dagster_asset_delivers_through_the_environment_url(alerting_warehouse, webhook, monkeypatch):
    monkeypatch.setenv(WEBHOOK_URL_VARIABLE, webhook.url)
    result = materialize([session_alert_webhook])
    assert result.success
    [materialization] = result.asset_materializations_for_node(session_alert_webhook.op.name)
    assert materialization.metadata["delivered"].value == 2
    assert len(webhook.bodies) == 2
    assert materialize([session_alert_webhook]).success and len(webhook.bodies) == 2


def test_the_asset_sends_nothing_without_a_webhook(alerting_warehouse, monkeypatch):
    monkeypatch.delenv(WEBHOOK_URL_VARIABLE, raising=False)
    assert materialize([session_alert_webhook]).success


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://h/", "http://", "127.0.0.1:80"])
def test_non_http_webhooks_are_refused(monkeypatch, url):
    monkeypatch.setenv(WEBHOOK_URL_VARIABLE, url)
    with pytest.raises(DwellError, match="must be an http:// or https:// URL"):
        webhook_url()
