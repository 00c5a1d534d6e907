"""Every bad parameter is a 400 with a message; injection strings in every parameter give a 400 or an empty answer,
never a 500; an organization's token never gets a row of another organization, and another organization's object
is a 404."""

from __future__ import annotations

import json

import pytest

from helpers import admin_headers, org_headers

ACTIVITY = "/api/private/metrics/activity?start=2026-10-01T00:00:00Z&end=2026-10-08T00:00:00Z&category=any&interval=1%20day"

BAD_REQUESTS = [
    # (method, url or (url, body), fragment of the message)
    ("GET", ACTIVITY + "&colour=red", "unknown parameter"),
    ("GET", ACTIVITY + "&category=ide", "more than once"),
    ("GET", ACTIVITY.replace("2026-10-01T00:00:00Z", "yesterday"), "start must be a time"),
    ("GET", ACTIVITY.replace("2026-10-01T00:00:00Z", "2026-13-01T00:00:00Z"), "start is not"),
    ("GET", ACTIVITY.replace("2026-10-01T00:00:00Z", "2026-10-01T12:00:00Z"), "UTC midnight"),
    ("GET", ACTIVITY.replace("2026-10-08T00:00:00Z", "2026-09-01T00:00:00Z"), "start must be before end"),
    ("GET", ACTIVITY.replace("2026-10-08T00:00:00Z", "2026-10-01T00:00:00Z"), "start must be before end"),
    ("GET", ACTIVITY.replace("1%20day", "1%20fortnight"), "interval must be like"),
    ("GET", ACTIVITY.replace("1%20day", "0%20days"), "interval must be like"),
    ("GET", ACTIVITY.replace("&interval=1%20day", ""), "interval is required"),
    ("GET", ACTIVITY.replace("category=any", "category=build_failed"), "category must be one of"),
    ("GET", ACTIVITY.replace("2026-10-08T00:00:00Z", "2030-01-01T00:00:00Z"), "at most 1096 days"),
    ("POST", ("/api/session-duration", {"start_date": "2026-10-05", "end_date": "2026-10-01"}), "start_date must be before"),
    ("POST", ("/api/session-duration", {"start_date": "2026-10-05"}), "end_date is required"),
    ("POST", ("/api/session-duration", {"start_date": "05/10/2026", "end_date": "2026-10-06"}), "start_date must be a date"),
    ("POST", ("/api/session-duration", {"start_date": "2026-02-30", "end_date": "2026-10-06"}), "not a calendar date"),
    ("POST", ("/api/session-duration", {"start_date": "2020-01-01", "end_date": "2026-10-06"}), "at most 1096 days"),
    ("POST", ("/api/session-duration", {"start_date": "2026-10-01", "end_date": "2026-10-06", "x": "1"}), "unknown field"),
    ("POST", ("/api/session-duration", [1, 2]), "JSON object"),
    ("POST", ("/api/session-duration", {"start_date": 20261001, "end_date": "2026-10-06"}), "must be a string"),
    ("GET", "/api/sessions?limit=0", "limit must be"),
    ("GET", "/api/sessions?limit=5000", "limit must be"),
    ("GET", "/api/sessions?limit=ten", "limit must be"),
    ("GET", "/api/sessions?cursor=not-a-cursor", "cursor is not one"),
    ("GET", "/api/sessions?start=2026-10-05&end=2026-10-01", "start must be before end"),
    ("GET", "/api/sessions?start=2026-10-05T25:00:00Z", "not a valid time"),
    ("GET", "/api/sessions?sort=desc", "unknown parameter"),
    ("GET", "/api/users?mail=a", "unknown parameter"),
    ("GET", "/api/users?cursor=eyJ4IjoxfQ", "cursor is not one"),
    ("GET", "/api/workspaces?limit=-1", "limit must be"),
    ("GET", "/api/reports/periods?grain=year", "grain must be one of"),
    ("GET", "/api/reports/periods?start=2026-10-05&end=2026-10-01", "start must be before end"),
    ("GET", "/api/reports/periods?start=2020-10-05&end=2026-10-01", "at most 1096 days"),
    ("GET", "/api/board?start=2026-10-05&end=2026-10-01", "start must be before end"),
    ("GET", "/api/board?start=2026-1-5", "start must be a date"),
    ("GET", "/api/board?start=2020-01-01&end=2026-10-01", "at most 1096 days"),
    ("GET", "/api/organizations?org=x", "unknown parameter"),
    ("GET", "/api/users?email=" + "a" * 201, "longer than 200"),
]


def send(client, method, target, headers):
    if method == "POST":
        url, body = target
        return client.post(url, content=json.dumps(body), headers={**headers, "Content-Type": "application/json"})
    return client.get(target, headers=headers)


@pytest.mark.parametrize("method, target, message", BAD_REQUESTS, ids=[str(index) for index in range(len(BAD_REQUESTS))])
def test_each_bad_parameter_is_a_400_with_a_message(client, sample, method, target, message):
    response = send(client, method, target, admin_headers(sample))
    assert response.status_code == 400, response.text
    assert message in response.json()["message"], response.json()
    assert response.headers["content-type"].startswith("application/json")


INJECTIONS = ["' or 1=1 --", "x'); drop table marts.dim_users; --", "\" or \"\"=\"", "%' or '%'='", "1; select 1",
              "${jndi:ldap://x}", "<script>alert(1)</script>", "../../etc/passwd", "\u0000", "\u202e', '", "NULL",
              "org_0001' or organization_id <> '"]
# Every parameter of every endpoint, with a valid value for the others.
PARAMETERS = {
    ACTIVITY: ["start", "end", "category", "interval", "org"],
    "/api/sessions?limit=5": ["user_id", "workspace_id", "org", "start", "end", "limit", "cursor"],
    "/api/users?limit=5": ["email", "name", "company", "email_domain", "workspace_id", "org", "limit", "cursor"],
    "/api/workspaces?limit=5": ["name", "owner_user_id", "org", "limit", "cursor"],
    "/api/reports/periods?grain=week": ["grain", "start", "end", "email", "company", "email_domain", "org"],
    "/api/board?start=2026-10-01&end=2026-10-09": ["start", "end", "org"],
}


ROW_KEYS = {"user_id", "session_id", "workspace_id", "organization_id", "period_start", "day"}


def empty_answer(body) -> bool:
    """No row in it: no object anywhere in the answer names a user, session, workspace, organization or period."""
    if isinstance(body, dict):
        return not (ROW_KEYS & set(body)) and all(empty_answer(value) for value in body.values())
    if isinstance(body, list):
        return all(empty_answer(value) for value in body)
    return True


@pytest.mark.parametrize("injection", INJECTIONS)
def test_injection_strings_in_every_parameter_give_a_400_or_an_empty_answer(client, sample, injection):
    from urllib.parse import quote, urlencode, urlsplit, parse_qsl

    tables_before = sample.marts("select count(*) as n from marts.dim_users")[0]["n"]
    for base, names in PARAMETERS.items():
        for name in names:
            parts = urlsplit(base)
            query = dict(parse_qsl(parts.query))
            query[name] = injection
            response = client.get(f"{parts.path}?{urlencode(query, quote_via=quote)}", headers=admin_headers(sample))
            assert response.status_code in (200, 400), (base, name, response.status_code, response.text)
            body = response.json()
            if response.status_code == 400:
                assert body["message"]
            else:
                assert empty_answer({key: value for key, value in body.items() if key != "organization_id"}), (
                    base, name, str(body)[:300])
        for path in ["/api/sessions/", "/api/users/", "/api/workspaces/"]:
            response = client.get(path + quote(injection, safe=""), headers=admin_headers(sample))
            assert response.status_code in (400, 404), (path, response.text)
    for body in [{"start_date": injection, "end_date": "2026-10-05"}, {"start_date": "2026-10-01", "end_date": "2026-10-05", "org": injection}]:
        response = client.post("/api/session-duration", json=body, headers=admin_headers(sample))
        assert response.status_code in (200, 400) and (response.status_code == 400 or response.json()["results"] == [])
    assert sample.marts("select count(*) as n from marts.dim_users")[0]["n"] == tables_before


def rows_of(body) -> list[dict]:
    """Every object in an answer that names an organization."""
    found = []
    if isinstance(body, dict):
        if "organization_id" in body:
            found.append(body)
        for value in body.values():
            found += rows_of(value)
    elif isinstance(body, list):
        for value in body:
            found += rows_of(value)
    return found


def test_an_organization_token_sees_only_its_organization_on_every_endpoint(client, sample):
    users_by_org = {row["user_id"]: row["organization_id"] for row in sample.marts(
        "select user_id, organization_id from marts.dim_users")}
    sessions_of = {row["session_id"]: row["organization_id"] for row in sample.marts(
        "select session_id, organization_id from marts.fct_sessions")}
    workspaces_of = {row["workspace_id"]: row["organization_id"] for row in sample.marts(
        "select workspace_id, organization_id from marts.dim_workspaces")}
    for organization in sample.organizations:
        headers = org_headers(sample, organization)
        others = [other for other in sample.organizations if other != organization]
        # Whatever organization it asks for, and without asking.
        for org_query in ["", f"&org={others[0]}", f"&org={organization}"]:
            answers = {
                "activity": client.get(ACTIVITY + org_query, headers=headers),
                "sessions": client.get("/api/sessions?limit=1000" + org_query, headers=headers),
                "users": client.get("/api/users?limit=1000" + org_query, headers=headers),
                "workspaces": client.get("/api/workspaces?limit=1000" + org_query, headers=headers),
                "reports": client.get("/api/reports/periods?grain=lifetime" + org_query, headers=headers),
                "board": client.get("/api/board?start=2026-10-01&end=2026-10-09" + org_query, headers=headers),
                "organizations": client.get("/api/organizations", headers=headers),
                "duration": client.post("/api/session-duration", headers=headers, json={
                    "start_date": "2026-10-01", "end_date": "2026-10-09",
                    **({"org": org_query.split("=")[1]} if org_query else {})}),
            }
            for name, response in answers.items():
                assert response.status_code == 200, (name, response.text)
                body = response.json()
                assert all(row["organization_id"] == organization for row in rows_of(body)), (name, org_query)
            asked_other = bool(org_query) and others[0] in org_query
            activity_users = set(answers["activity"].json()["users"])
            duration_users = {row["user_id"] for row in answers["duration"].json()["results"]}
            session_ids = [row["session_id"] for row in answers["sessions"].json()["sessions"]]
            assert all(sessions_of[session_id] == organization for session_id in session_ids)
            own_activity = {row["user_id"] for row in sample.marts(
                "select distinct user_id from marts.fct_user_activity_daily where organization_id = ? and category = 'any' "
                "and activity_date >= '2026-10-01' and activity_date < '2026-10-08'", [organization])}
            own_duration = {row["user_id"] for row in sample.marts(
                "select distinct user_id from marts.fct_sessions where organization_id = ? "
                "and session_date between '2026-10-01' and '2026-10-09'", [organization])}
            if asked_other:
                assert not activity_users and not duration_users and not session_ids
                assert not answers["users"].json()["users"] and not answers["board"].json()["days"]
                assert not answers["reports"].json()["periods"]
            else:
                assert activity_users == own_activity and own_activity
                assert duration_users == own_duration
                assert len(session_ids) == sum(value == organization for value in sessions_of.values())
                assert {row["user_id"] for row in answers["users"].json()["users"]} == {
                    user for user, org in users_by_org.items() if org == organization}
            assert [row["organization_id"] for row in answers["organizations"].json()["organizations"]] == [organization]
        # Another organization's objects do not exist for it; its own do.
        for other in others:
            session_id = next(key for key, value in sessions_of.items() if value == other)
            user_id = next(key for key, value in users_by_org.items() if value == other)
            workspace_id = next(key for key, value in workspaces_of.items() if value == other)
            for path in [f"/api/sessions/{session_id}", f"/api/users/{user_id}", f"/api/workspaces/{workspace_id}"]:
                response = client.get(path, headers=headers)
                assert response.status_code == 404 and "not found" in response.json()["message"], path
            # Filters naming another organization's user or workspace find nothing.
            assert client.get(f"/api/sessions?user_id={user_id}", headers=headers).json()["sessions"] == []
            assert client.get(f"/api/users?workspace_id={workspace_id}", headers=headers).json()["users"] == []
        own_session = next(key for key, value in sessions_of.items() if value == organization)
        detail = client.get(f"/api/sessions/{own_session}", headers=headers)
        assert detail.status_code == 200 and detail.json()["events"]
        own_workspace = next(key for key, value in workspaces_of.items() if value == organization)
        summary = client.get(f"/api/workspaces/{own_workspace}", headers=headers).json()
        assert all(users_by_org.get(member["user_id"]) in (organization, None) for member in summary["members"])


def test_an_admin_token_sees_every_organization_and_may_filter(client, sample):
    organizations = client.get("/api/organizations", headers=admin_headers(sample)).json()["organizations"]
    assert [row["organization_id"] for row in organizations] == sample.organizations
    everyone = client.get("/api/users?limit=1000", headers=admin_headers(sample)).json()["users"]
    assert {row["organization_id"] for row in everyone} >= set(sample.organizations)
    one = sample.organizations[1]
    filtered = client.get(f"/api/users?limit=1000&org={one}", headers=admin_headers(sample)).json()["users"]
    assert filtered and {row["organization_id"] for row in filtered} == {one}
