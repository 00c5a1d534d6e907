"""End to end through the real web UI: `scripts/dagster.sh` (dagster dev) on 127.0.0.1, a backfill launched through the UI's GraphQL
API, and the asset graph page in headless Chromium (Debian's build, driven by Playwright; nothing downloads a
browser). The screenshot is kept in test-artifacts/."""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from contextlib import closing
from datetime import date

import pytest
from dagster import DagsterInstance
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import sync_playwright

from helpers import launch_chromium
from orchestration import pipeline
from orchestration.assets import dwell_daily_models
from orchestration.sample_data import generate_sample
from orchestration.settings import PROJECT_DIR

ARTIFACTS = PROJECT_DIR / "test-artifacts"
TERMINAL_BACKFILL_STATES = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql", data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.load(response)
    assert "errors" not in body, body
    return body["data"]


def wait_for(predicate, timeout: float, what: str, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def stop_process_group(process: subprocess.Popen) -> None:
    """dagster dev does not always stop on SIGTERM: signal its whole process group, then kill what is left."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


@pytest.fixture
def dagster_dev(warehouse, tmp_path):
    generate_sample(warehouse.landing, users=12, days=4, seed=9, start_date=date(2026, 10, 1))
    with DagsterInstance.get() as instance:
        pipeline.materialize_job("dwell_reference_job", instance, full_refresh=False)

    port = free_port()
    log_path = tmp_path / "dagster_dev.log"
    with open(log_path, "w") as log:
        # The README's command, in a process group of its own.
        process = subprocess.Popen(
            ["bash", "scripts/dagster.sh"], cwd=PROJECT_DIR, env={**os.environ, "DWELL_DAGSTER_PORT": str(port)},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: urllib.request.urlopen(f"{url}/server_info", timeout=5).status == 200, 180, "the webserver")
        wait_for(lambda: all(
            entry["loadStatus"] == "LOADED"
            for entry in graphql(url, "{ workspaceOrError { ... on Workspace { locationEntries { loadStatus } } } }")
            ["workspaceOrError"]["locationEntries"]), 180, "the code location")
        yield url
    finally:
        stop_process_group(process)
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(log_path, ARTIFACTS / "dagster_dev.log")


def launch_backfill(url: str, partitions: list[str]) -> str:
    launched = graphql(url, """
        mutation Launch($params: LaunchBackfillParams!) {
          launchPartitionBackfill(backfillParams: $params) {
            __typename
            ... on LaunchBackfillSuccess { backfillId }
            ... on PythonError { message }
          }
        }""", {"params": {
            "partitionNames": partitions,
            "assetSelection": [{"path": key.path} for key in dwell_daily_models.keys],
        }})["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    return launched["backfillId"]


def finished_backfill_status(url: str, backfill_id: str) -> str | None:
    status = graphql(url, """
        query Backfill($id: String!) {
          partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill { status } }
        }""", {"id": backfill_id})["partitionBackfillOrError"]["status"]
    return status if status in TERMINAL_BACKFILL_STATES else None


def test_backfills_through_the_ui_api_queue_and_the_asset_graph_shows_in_a_browser(dagster_dev, warehouse):
    # Two overlapping backfills at once: the warehouse pool makes them queue instead of failing on the file lock.
    # They queue behind the runs the landing and dimension sensors start for the new files, hence the long wait.
    first = launch_backfill(dagster_dev, ["2026-10-01", "2026-10-02", "2026-10-03"])
    second = launch_backfill(dagster_dev, ["2026-10-03", "2026-10-04"])
    for backfill_id in (first, second):
        status = wait_for(lambda: finished_backfill_status(dagster_dev, backfill_id), 900, "a backfill", interval=3)
        assert status in {"COMPLETED", "COMPLETED_SUCCESS"}, status

    runs = graphql(dagster_dev, """
        { runsOrError { ... on Runs { results { runId jobName status startTime endTime tags { key value } } } } }
        """)["runsOrError"]["results"]
    by_backfill: dict[str, list[dict]] = {}
    for run in runs:
        tags = {tag["key"]: tag["value"] for tag in run["tags"]}
        if "dagster/backfill" in tags:
            by_backfill.setdefault(tags["dagster/backfill"], []).append(
                {**run, "range": (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"])})
    # Single-run backfill policy: each range is one run (one dbt invocation).
    assert [(run["status"], run["range"]) for run in by_backfill[first]] == [("SUCCESS", ("2026-10-01", "2026-10-03"))]
    assert [(run["status"], run["range"]) for run in by_backfill[second]] == [("SUCCESS", ("2026-10-03", "2026-10-04"))]
    # No two runs that write the warehouse (backfills, sensor and lifetime runs alike) were ever in progress together.
    spans = sorted((run["startTime"], run["endTime"], run["jobName"]) for run in runs if run["startTime"] and run["endTime"])
    assert len(spans) >= 2
    for earlier, later in zip(spans, spans[1:]):
        assert later[0] >= earlier[1], (earlier, later, runs)
    assert warehouse.query("select count(*) as n from marts.fct_sessions").n[0] > 0

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            global_text = show(page, f"{dagster_dev}/asset-groups", "staging", "dagster_global_lineage.png")
            show(page, f"{dagster_dev}/locations/dwell/asset-groups/marts", "fct_sessions", "dagster_asset_graph.png")
            # The graph draws only the nodes in view; the group's list names every asset.
            page.set_viewport_size({"width": 1600, "height": 3000})
            marts_text = show(page, f"{dagster_dev}/locations/dwell/asset-groups/marts/list", "dim_workspaces",
                              "dagster_marts_list.png", exact=False)
        finally:
            browser.close()
    for group in ["landing", "seeds", "staging", "intermediate", "marts"]:
        assert group in global_text, group
    for name in ["fct_sessions", "fct_session_events", "dim_users", "dim_workspaces", "fct_workspace_sessions",
                 "fct_micro_sessions", "warehouse_sampling"]:
        assert name in marts_text, name


def show(page, url: str, expected_text: str, screenshot: str, exact: bool = True) -> str:
    """Open a UI page, dismiss the first-visit dialog, wait for the text; always keep a screenshot."""
    page.goto(url, wait_until="domcontentloaded")
    try:
        skip = page.get_by_role("button", name="Skip")
        try:
            skip.wait_for(timeout=5_000)
            skip.click()
        except PlaywrightTimeoutError:
            pass
        page.get_by_text(expected_text, exact=exact).first.wait_for(timeout=90_000)
        page.wait_for_timeout(2_000)
        return page.inner_text("body")
    finally:
        page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
