"""The web app in headless Debian Chromium (Playwright, nothing downloaded), against `dwell serve` in a process of its
own on a free loopback port: sign in, open every page, change filters and check the numbers against the marts.
Screenshots are kept in test-artifacts/web-*.png."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from helpers import launch_chromium
from orchestration.settings import PROJECT_DIR

ARTIFACTS = PROJECT_DIR / "test-artifacts"


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(sample, tmp_path):
    port = free_port()
    log_path = tmp_path / "dwell_serve.log"
    env = {**os.environ, **sample.environment()}
    with open(log_path, "w") as log:
        process = subprocess.Popen([str(Path(sys.executable).with_name("dwell")), "serve", "--port", str(port)],
                                   env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if urllib.request.urlopen(f"{url}/healthz", timeout=5).status == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "dwell_serve.log").write_text(log_path.read_text())


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=True)


def wait_for_charts(page) -> None:
    """Every chart on the page drawn by Plotly."""
    charts = page.locator("[data-figure]")
    for index in range(charts.count()):
        charts.nth(index).locator(".main-svg").first.wait_for(timeout=30_000)


def sign_in(page, url: str, token: str, target: str = "/board") -> None:
    page.goto(f"{url}{target}")
    page.get_by_test_id("token").fill(token)
    page.get_by_test_id("sign-in").click()
    page.wait_for_url(f"**{target}*")


def table_column(page, table: str, column: int) -> list[str]:
    return page.locator(f"[data-testid={table}] tbody tr").evaluate_all(
        f"rows => rows.map(row => row.children[{column}] ? row.children[{column}].innerText.trim() : '')")


def test_the_web_app_in_chromium(server, sample):
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("request", lambda request: requests.append(request.url))
            page.goto(f"{server}/board")
            page.get_by_test_id("token").wait_for()
            shot(page, "01-sign-in")
            sign_in(page, server, sample.admin)

            # Every page shows, with its charts drawn.
            session_id = sample.marts("select session_id from marts.fct_sessions where session_id in "
                                      "(select session_id from marts.fct_micro_sessions) order by event_count desc "
                                      "limit 1")[0]["session_id"]
            user_id = sample.marts("select min(user_id) as id from marts.dim_users")[0]["id"]
            workspace_id = sample.marts("select min(workspace_id) as id from marts.dim_workspaces")[0]["id"]
            pages = [("/board", "Session board", "session-board"), ("/metrics", "Usage metrics", "metrics"),
                     ("/session-duration", "Session duration by user", "session-duration"),
                     ("/sessions", "Sessions", "sessions"), (f"/sessions/{session_id}", "Events", "session-events"),
                     ("/users", "Users", "users"), (f"/users/{user_id}", "Workspaces", "user"),
                     ("/workspaces", "Workspaces", "workspaces"), (f"/workspaces/{workspace_id}", "Members", "workspace"),
                     ("/reports", "Period reports", "reports")]
            for number, (path, heading, name) in enumerate(pages, start=2):
                page.goto(f"{server}{path}")
                page.get_by_text(heading, exact=True).first.wait_for()
                wait_for_charts(page)
                assert page.get_by_test_id("error").count() == 0, path
                shot(page, f"{number:02d}-{name}")
            events = sample.marts("select count(*) as n from marts.fct_session_events where session_id = ?",
                                  [session_id])[0]["n"]
            page.goto(f"{server}/sessions/{session_id}")
            assert page.locator("[data-testid=events] tbody tr").count() == events

            # Metrics: the action filter changes the table to the mart's users of that category.
            page.goto(f"{server}/metrics?start=2026-10-01&end=2026-10-09&interval=1%20week")
            wait_for_charts(page)
            any_users = int(page.get_by_test_id("active-users").inner_text())
            page.get_by_test_id("action").select_option("ide")
            page.get_by_test_id("apply").click()
            page.wait_for_url("**action=ide*")
            wait_for_charts(page)
            ide = sample.marts("select user_id, sum(event_count) as n from marts.fct_user_activity_daily "
                               "where category = 'ide' and activity_date >= '2026-10-01' and activity_date < '2026-10-09' "
                               "group by 1")
            shown = dict(zip(table_column(page, "users", 0), map(int, table_column(page, "users", 4))))
            assert shown == {row["user_id"]: row["n"] for row in ide} and len(shown) != any_users or shown
            shot(page, "12-metrics-ide")

            # Board: choosing an organization changes the numbers to that organization's sessions.
            organization = sample.organizations[1]
            page.goto(f"{server}/board?start=2026-10-01&end=2026-10-09")
            everyone = page.get_by_test_id("kpi-sessions").inner_text()
            page.get_by_test_id("org-filter").select_option(organization)
            page.get_by_test_id("apply").click()
            page.wait_for_url(f"**org={organization}*")
            wait_for_charts(page)
            expected = sample.marts("select count(*) as n from marts.fct_sessions where organization_id = ? and "
                                    "session_date >= '2026-10-01' and session_date < '2026-10-09'", [organization])[0]["n"]
            assert page.get_by_test_id("kpi-sessions").inner_text() == f"{expected:,}" != everyone

            # Session duration for another range; the users filter by company.
            page.goto(f"{server}/session-duration?start_date=2026-10-02&end_date=2026-10-03")
            expected = sample.marts("select user_id, avg(duration_seconds) as s from marts.fct_sessions "
                                    "where session_date between '2026-10-02' and '2026-10-03' group by 1")
            shown = dict(zip(table_column(page, "durations", 0), map(float, table_column(page, "durations", 2))))
            assert shown.keys() == {row["user_id"] for row in expected}
            assert all(abs(shown[row["user_id"]] - row["s"]) < 0.001 for row in expected)
            company = sample.marts("select company from marts.dim_users where company is not null order by 1 limit 1")[0]["company"]
            page.goto(f"{server}/users")
            page.get_by_test_id("company").fill(company)
            page.get_by_test_id("apply").click()
            page.wait_for_url("**company=*")
            assert sorted(table_column(page, "users", 0)) == [row["user_id"] for row in sample.marts(
                "select user_id from marts.dim_users where company = ? order by 1", [company])]
            page.goto(f"{server}/reports")
            page.get_by_test_id("grain").select_option("week")
            page.get_by_test_id("apply").click()
            page.wait_for_url("**grain=week*")
            assert table_column(page, "periods", 5) == [str(row["session_count"]) for row in sample.marts(
                "select session_count from marts.rpt_period_summary where grain = 'week' order by period_start")]

            # An organization's token: its scope only.
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_url("**/login*")
            sign_in(page, server, sample.org_tokens[organization], "/users")
            assert f"organization {organization}" in page.get_by_test_id("scope").inner_text()
            assert sorted(table_column(page, "users", 0)) == [row["user_id"] for row in sample.marts(
                "select user_id from marts.dim_users where organization_id = ? order by 1", [organization])]
            shot(page, "13-users-organization-token")
        finally:
            browser.close()
    assert not errors, errors
    outside = [url for url in requests if not url.startswith(server)]
    assert not outside, outside
