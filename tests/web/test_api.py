"""The API's numbers equal the marts for the same filters, and the activity report equals the dbt macro
dwell_activity_report (compiled with `dbt compile --inline`) for several argument sets."""

from __future__ import annotations

import statistics
from collections import defaultdict

import numpy as np
import pytest

from helpers import admin_headers, org_headers

# Argument sets for which the macro's buckets follow its documented definition.
MACRO_CASES = [
    ("2026-10-01", "2026-10-09", "1 day", "any", None),
    ("2026-10-01", "2026-10-11", "1 week", "ide", 0),
    ("2026-09-28", "2026-10-12", "1 week", "any", None),
    ("2026-09-03", "2026-11-03", "1 month", "login", None),
    ("2026-01-01", "2027-01-01", "90 days", "any", 1),
    ("2025-06-01", "2027-06-01", "1 year", "app", None),
    ("2026-10-02", "2026-10-08", "2 days", "web_terminal", 2),
    # A last bucket that starts after the last calendar boundary before the end.
    ("2026-09-28", "2026-10-07", "1 week", "any", None),
    ("2026-09-03", "2026-10-05", "1 month", "any", None),
]
def activity_url(start, end, interval, category, org=None):
    url = (f"/api/private/metrics/activity?start={start}T00:00:00Z&end={end}T00:00:00Z&category={category}"
           f"&interval={interval.replace(' ', '%20')}")
    return url + (f"&org={org}" if org else "")


def macro_reports(sample, cases) -> list[dict]:
    """dwell_activity_report for every case, compiled in one `dbt compile --inline` (as tests/dbt/test_activity.py
    does) and run on the sample's warehouse, which serving copy A was published from."""
    parts = []
    for index, (start, end, interval, category, org) in enumerate(cases):
        organization = "" if org is None else f", organization_id='{sample.organizations[org]}'"
        parts.append(
            f"select {index} as case_id, is_total, cast(bucket_start as varchar) as bucket_start, user_id, "
            f"cast(round(active_seconds * 1000000) as bigint) as active_us, event_count "
            f"from ({{{{ dwell_activity_report('{start}', '{end}', '{interval}', '{category}'{organization}) }}}}) as r")
    result = sample.warehouse.dbt(["compile", "--quiet", "--inline", "\nunion all\n".join(parts)])
    rows = sample.warehouse.records(result.result.results[0].node.compiled_code)
    reports = [{"buckets": defaultdict(dict), "totals": {}} for _ in cases]
    for row in rows:
        report = reports[int(row["case_id"])]
        value = (int(row["active_us"]), int(row["event_count"]))
        if row["is_total"]:
            report["totals"][row["user_id"]] = value
        else:
            report["buckets"][row["bucket_start"]][row["user_id"]] = value
    return [{"buckets": dict(report["buckets"]), "totals": report["totals"]} for report in reports]


def api_report(client, sample, case) -> dict:
    start, end, interval, category, org = case
    organization = None if org is None else sample.organizations[org]
    response = client.get(activity_url(start, end, interval, category, organization), headers=admin_headers(sample))
    assert response.status_code == 200, response.text
    body = response.json()
    buckets = {}
    for bucket in body["activity"]:
        assert bucket["time"].endswith("T00:00:00Z") and bucket["duration"] % 86_400_000_000_000 == 0
        users = {entry["user_id"]: (entry["duration"] // 1000, entry["count"]) for entry in bucket["user_activity"]}
        assert all(entry["duration"] % 1000 == 0 for entry in bucket["user_activity"])
        if users:
            buckets[bucket["time"][:10]] = users
    totals = {user_id: (user["total_duration"] // 1000, user["total_count"]) for user_id, user in body["users"].items()}
    for user_id, user in body["users"].items():
        assert set(user) == {"id", "name", "username", "roles", "total_count", "total_duration"}
        assert user["id"] == user["username"] == user_id
    return {"buckets": buckets, "totals": totals}


@pytest.fixture(scope="module")
def macro_answers(sample):
    return macro_reports(sample, MACRO_CASES)


@pytest.mark.parametrize("index", range(len(MACRO_CASES)), ids=[" ".join(map(str, case[:4])) for case in MACRO_CASES])
def test_activity_equals_the_dbt_macro(client, sample, macro_answers, index):
    expected = macro_answers[index]
    assert expected["totals"] or index == 6, "the case should find activity"
    assert api_report(client, sample, MACRO_CASES[index]) == expected


def test_activity_buckets_users_and_roles(client, sample):
    body = client.get(activity_url("2026-01-31", "2026-05-01", "1 month", "any"), headers=admin_headers(sample)).json()
    day = 86_400_000_000_000
    assert [(bucket["time"], bucket["duration"] // day) for bucket in body["activity"]] == [
        ("2026-01-31T00:00:00Z", 28), ("2026-02-28T00:00:00Z", 31), ("2026-03-31T00:00:00Z", 30),
        ("2026-04-30T00:00:00Z", 1)]
    body = client.get(activity_url("2026-09-01", "2026-11-01", "1 month", "any"), headers=admin_headers(sample)).json()
    roles = {row["user_id"]: sorted(row["roles"]) for row in sample.marts(
        "select user_id, list(distinct role) as roles from marts.fct_workspace_memberships group by 1")}
    names = {row["user_id"]: row["name"] for row in sample.marts(
        "select user_id, trim(concat_ws(' ', first_name, last_name)) as name from marts.dim_users")}
    daily = sample.marts("select user_id, sum(event_count) as n from marts.fct_user_activity_daily "
                         "where category = 'any' group by 1")
    assert {user_id: user["total_count"] for user_id, user in body["users"].items()} == {
        row["user_id"]: row["n"] for row in daily}
    for user_id, user in body["users"].items():
        assert user["roles"] == roles.get(user_id, [])
        assert user["name"] == (names.get(user_id) or None)


def test_session_duration_equals_the_mean_of_fct_sessions(client, sample):
    for headers, organization in [(admin_headers(sample), None),
                                  *[(org_headers(sample, org), org) for org in sample.organizations]]:
        response = client.post("/api/session-duration", json={"start_date": "2026-10-02", "end_date": "2026-10-04"},
                               headers=headers)
        assert response.status_code == 200, response.text
        rows = sample.marts(
            "select user_id, list(duration_seconds) as durations from marts.fct_sessions "
            "where session_date between '2026-10-02' and '2026-10-04' and (? is null or organization_id = ?) "
            "group by 1 order by 1", [organization, organization])
        results = response.json()["results"]
        assert [row["user_id"] for row in results] == [row["user_id"] for row in rows] and rows
        for result, row in zip(results, rows):
            assert result["average_duration"] == pytest.approx(statistics.fmean(row["durations"]), abs=1e-6)
    one_day = client.post("/api/session-duration", json={"start_date": "2026-10-03", "end_date": "2026-10-03"},
                          headers=admin_headers(sample)).json()["results"]
    assert {row["user_id"] for row in one_day} == {row["user_id"] for row in sample.marts(
        "select distinct user_id from marts.fct_sessions where session_date = '2026-10-03'")}


def test_sessions_pages_and_filters_equal_fct_sessions(client, sample):
    organization = sample.organizations[0]
    seen, cursor = [], None
    while True:
        url = "/api/sessions?limit=7" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=org_headers(sample, organization)).json()
        seen += [row["session_id"] for row in body["sessions"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    expected = [row["session_id"] for row in sample.marts(
        "select session_id from marts.fct_sessions where organization_id = ? "
        "order by session_start_at desc, session_id desc", [organization])]
    assert seen == expected and len(expected) > 14

    some = sample.marts("select user_id, workspace_id from marts.fct_sessions where workspace_id is not null "
                        "order by session_id limit 1")[0]
    for query, sql, parameters in [
        (f"user_id={some['user_id']}", "user_id = ?", [some["user_id"]]),
        (f"workspace_id={some['workspace_id']}", "workspace_id = ?", [some["workspace_id"]]),
        ("start=2026-10-03T06:00:00Z&end=2026-10-05", "session_start_at >= ? and session_start_at < ?",
         ["2026-10-03 06:00:00", "2026-10-05 00:00:00"]),
        ("start=2026-10-03T08:00:00%2B02:00", "session_start_at >= ?", ["2026-10-03 06:00:00"]),
    ]:
        body = client.get(f"/api/sessions?limit=1000&{query}", headers=admin_headers(sample)).json()
        expected = [row["session_id"] for row in sample.marts(
            f"select session_id from marts.fct_sessions where {sql} order by session_start_at desc, session_id desc",
            parameters)]
        assert [row["session_id"] for row in body["sessions"]] == expected and expected, query


def test_one_session_has_its_events_and_micro_sessions(client, sample):
    session = sample.marts("select session_id, event_count from marts.fct_sessions where session_id in "
                           "(select session_id from marts.fct_micro_sessions) order by event_count desc limit 1")[0]
    body = client.get(f"/api/sessions/{session['session_id']}", headers=admin_headers(sample)).json()
    assert body["session"]["session_id"] == session["session_id"]
    assert [event["event_id"] for event in body["events"]] == [row["event_id"] for row in sample.marts(
        "select event_id from marts.fct_session_events where session_id = ? order by event_number_in_session",
        [session["session_id"]])]
    assert len(body["events"]) == session["event_count"]
    assert sorted(micro["micro_session_id"] for micro in body["micro_sessions"]) == sorted(
        row["micro_session_id"] for row in sample.marts(
            "select micro_session_id from marts.fct_micro_sessions where session_id = ?", [session["session_id"]]))
    assert body["workspace_sessions"] and body["micro_sessions"]
    assert client.get("/api/sessions/no-such-session", headers=admin_headers(sample)).status_code == 404


def test_users_filters_equal_dim_users(client, sample):
    user = sample.marts("select * from marts.dim_users where email is not null order by user_id limit 1")[0]
    workspace = sample.marts("select workspace_id from marts.fct_workspace_memberships order by 1 limit 1")[0]
    for query, sql, parameters in [
        ("", "true", []),
        (f"email={user['email'][2:8].upper()}", "contains(lower(email), ?)", [user["email"][2:8].lower()]),
        (f"name={user['last_name'].lower()}", "contains(lower(first_name || ' ' || last_name), ?)",
         [user["last_name"].lower()]),
        (f"company={user['company'].upper()}", "lower(company) = ?", [user["company"].lower()]),
        (f"email_domain={user['email_domain']}", "email_domain = ?", [user["email_domain"]]),
        (f"workspace_id={workspace['workspace_id']}",
         "user_id in (select user_id from marts.fct_workspace_memberships where workspace_id = ?)",
         [workspace["workspace_id"]]),
        (f"org={user['organization_id']}", "organization_id = ?", [user["organization_id"]]),
    ]:
        body = client.get(f"/api/users?limit=1000&{query}", headers=admin_headers(sample)).json()
        expected = [row["user_id"] for row in sample.marts(
            f"select user_id from marts.dim_users where {sql} order by user_id", parameters)]
        assert [row["user_id"] for row in body["users"]] == expected and expected, query
    first = client.get("/api/users?limit=5", headers=admin_headers(sample)).json()
    second = client.get(f"/api/users?limit=5&cursor={first['next_cursor']}", headers=admin_headers(sample)).json()
    assert [row["user_id"] for row in first["users"] + second["users"]] == [row["user_id"] for row in sample.marts(
        "select user_id from marts.dim_users order by user_id limit 10")]
    detail = client.get(f"/api/users/{user['user_id']}", headers=admin_headers(sample)).json()
    assert detail["user"]["email"] == user["email"]
    assert sorted(row["workspace_id"] for row in detail["workspaces"]) == sorted(row["workspace_id"] for row in sample.marts(
        "select workspace_id from marts.fct_workspace_memberships where user_id = ?", [user["user_id"]]))


def test_workspaces_and_the_workspace_summary_equal_the_marts(client, sample):
    body = client.get("/api/workspaces?limit=1000", headers=admin_headers(sample)).json()
    expected = sample.marts("select workspace_id, session_count, member_count from marts.dim_workspaces order by 1")
    assert [(row["workspace_id"], row["session_count"], row["member_count"]) for row in body["workspaces"]] == [
        (row["workspace_id"], row["session_count"], row["member_count"]) for row in expected]
    named = client.get(f"/api/workspaces?name={body['workspaces'][0]['workspace_name'][:3].lower()}",
                       headers=admin_headers(sample)).json()["workspaces"]
    assert body["workspaces"][0]["workspace_id"] in [row["workspace_id"] for row in named]
    workspace_id = expected[0]["workspace_id"]
    summary = client.get(f"/api/workspaces/{workspace_id}", headers=admin_headers(sample)).json()
    assert len(summary["members"]) == sample.marts(
        "select count(*) as n from marts.fct_workspace_memberships where workspace_id = ?", [workspace_id])[0]["n"]
    daily = sample.marts("select session_date, count(*) as n from marts.fct_workspace_sessions where workspace_id = ? "
                         "group by 1 order by 1", [workspace_id])
    assert [(row["day"], row["workspace_session_count"]) for row in summary["daily"]] == [
        (row["session_date"].isoformat(), row["n"]) for row in daily]


def test_period_reports_equal_the_marts(client, sample):
    for grain in ["day", "week", "month", "lifetime"]:
        body = client.get(f"/api/reports/periods?grain={grain}", headers=admin_headers(sample)).json()
        assert body["filtered"] is False
        expected = sample.marts("select * from marts.rpt_period_summary where grain = ? order by period_start", [grain])
        assert len(body["periods"]) == len(expected) > 0
        for period, row in zip(body["periods"], expected):
            for column in ["active_user_count", "session_count", "event_count", "workspace_count",
                           "user_account_count", "build_count", "active_project_count"]:
                assert period[column] == row[column], (grain, column)
            assert period["usage_minutes"] == pytest.approx(row["usage_minutes"])
    organization = sample.organizations[1]
    body = client.get("/api/reports/periods?grain=week", headers=org_headers(sample, organization)).json()
    expected = sample.marts(
        "select period_start, count(*) as users, sum(session_count) as sessions, sum(event_count) as events, "
        "sum(usage_seconds) / 60 as minutes from marts.rpt_user_period_activity "
        "where grain = 'week' and organization_id = ? group by 1 order by 1", [organization])
    assert [(p["period_start"], p["active_user_count"], p["session_count"], p["event_count"]) for p in body["periods"]] \
        == [(row["period_start"].isoformat(), row["users"], row["sessions"], row["events"]) for row in expected]
    assert body["filtered"] is True and all(p["workspace_count"] is not None for p in body["periods"])
    company = sample.marts("select company from marts.dim_users where company is not null limit 1")[0]["company"]
    body = client.get(f"/api/reports/periods?grain=lifetime&company={company}", headers=admin_headers(sample)).json()
    expected = sample.marts("select count(*) as n, sum(session_count) as s from marts.rpt_user_period_activity "
                            "where grain = 'lifetime' and company = ?", [company])[0]
    assert (body["periods"][0]["active_user_count"], body["periods"][0]["session_count"]) == (expected["n"], expected["s"])
    ranged = client.get("/api/reports/periods?grain=day&start=2026-10-03&end=2026-10-05",
                        headers=admin_headers(sample)).json()
    assert [period["period_start"] for period in ranged["periods"]] == ["2026-10-03", "2026-10-04"]


def test_the_board_equals_rpt_daily_sessions_and_fct_sessions(client, sample):
    body = client.get("/api/board?start=2026-10-01&end=2026-10-09", headers=admin_headers(sample)).json()
    expected = sample.marts("select * from marts.rpt_daily_sessions where day >= '2026-10-01' and day < '2026-10-09' "
                            "order by day")
    assert [(day["day"], day["session_count"], day["median_duration_seconds"], day["active_users"]) for day in body["days"]] \
        == [(row["day"].isoformat(), row["session_count"], row["median_duration_seconds"], row["active_users"])
            for row in expected]
    distribution = sample.marts("select bucket_label, sum(session_count) as n from marts.rpt_session_length_distribution "
                                "where day >= '2026-10-01' and day < '2026-10-09' group by bucket_number, 1 order by bucket_number")
    assert [(b["bucket_label"], b["session_count"]) for b in body["length_distribution"]] == [
        (row["bucket_label"], row["n"]) for row in distribution]
    assert body["totals"]["session_count"] == sum(row["session_count"] for row in expected)
    # An organization's board: the same definitions over its sessions.
    organization = sample.organizations[2]
    body = client.get("/api/board?start=2026-10-01&end=2026-10-09", headers=org_headers(sample, organization)).json()
    sessions = sample.marts("select session_date, user_id, duration_seconds, start_reason from marts.fct_sessions "
                            "where organization_id = ? and session_date < '2026-10-09'", [organization])
    by_day = defaultdict(list)
    for row in sessions:
        by_day[row["session_date"].isoformat()].append(row)
    assert [day["day"] for day in body["days"]] == sorted(by_day)
    for day in body["days"]:
        rows = by_day[day["day"]]
        durations = [row["duration_seconds"] for row in rows]
        assert day["session_count"] == len(rows)
        assert day["active_users"] == len({row["user_id"] for row in rows})
        assert day["median_duration_seconds"] == pytest.approx(float(np.percentile(durations, 50)), abs=1e-7)
        assert day["p90_duration_seconds"] == pytest.approx(float(np.percentile(durations, 90)), abs=1e-7)
        assert day["mean_duration_seconds"] == pytest.approx(statistics.fmean(durations), abs=1e-6)
    assert sum(body["start_reasons"].values()) == len(sessions)
    assert sum(bucket["session_count"] for bucket in body["length_distribution"]) == len(sessions)


def test_health_auth_and_docs(client, sample):
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    built = sample.marts("select max(loaded_at) as at from marts.rpt_load_audit")[0]["at"]
    assert health.json()["built_at"] == built.isoformat() + "Z"
    for headers in [{}, {"Session-Token": "nope"}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}]:
        response = client.get("/api/users", headers=headers)
        assert response.status_code == 401 and response.json()["message"]
    docs = client.get("/docs").text
    assert "/static/docs/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert client.get("/static/docs/swagger-ui-bundle.js").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for path in ["/api/private/metrics/activity", "/api/session-duration", "/api/sessions", "/api/sessions/{session_id}",
                 "/api/users", "/api/workspaces", "/api/workspaces/{workspace_id}", "/api/reports/periods",
                 "/api/board", "/healthz"]:
        assert path in paths, path
    missing = client.get("/api/nothing-here", headers=admin_headers(sample))
    assert missing.status_code == 404 and missing.json() == {"message": "Not Found"}
