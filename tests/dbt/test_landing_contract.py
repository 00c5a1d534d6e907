"""The raw-data contract (README): file kinds and layout, timestamps, optional columns, dimensions, reconciliation."""

from datetime import datetime

import pandas as pd
import pyarrow as pa
import pytest

from helpers import UTC, land_bad_input_catalogue, write_parquet
from orchestration.dbt_invoke import DbtCommandError


def staged(warehouse, columns="event_id, occurred_at, received_at, user_id, event_name, workspace_id"):
    return warehouse.query(f"select {columns} from staging.stg_events order by event_id")


def test_parquet_and_json_files_at_any_depth_load_together(warehouse):
    write_parquet(warehouse, "events/2026/03/01/batch.parquet", {
        "event_id": ["p1", "p2"],
        "occurred_at": pa.array([datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC),
                                 datetime(2026, 3, 1, 10, 5, tzinfo=UTC)], pa.timestamp("us", tz="UTC")),
        "user_id": ["u1", "u1"],
        "event_name": ["login", "ide_search"],
    })
    warehouse.write_jsonl("events/web/a.jsonl", [
        {"event_id": "j1", "occurred_at": "2026-03-01T15:40:00+05:30", "user_id": "u1", "event_name": "page_view"}])
    warehouse.write_jsonl("events/b.ndjson", [
        {"event_id": "j2", "occurred_at": "2026-03-01 10:15:00.25", "user_id": "u1", "event_name": "page_view"}])
    warehouse.write_jsonl("events/deep/er/c.jsonl.gz", [
        {"event_id": "j3", "occurred_at": "2026-03-01T02:20:00-08:00", "user_id": "u1", "event_name": "logout"}])
    warehouse.build(select="+stg_events +fct_sessions")

    rows = staged(warehouse)
    assert list(rows.event_id) == ["j1", "j2", "j3", "p1", "p2"]
    assert [t.isoformat() for t in rows.occurred_at] == [
        "2026-03-01T10:10:00", "2026-03-01T10:15:00.250000", "2026-03-01T10:20:00",
        "2026-03-01T10:00:00.123456", "2026-03-01T10:05:00"]
    sessions = warehouse.query("select event_count, start_reason, end_reason from marts.fct_sessions")
    assert sessions.to_dict("records") == [{"event_count": 5, "start_reason": "first_event", "end_reason": "end_event"}]


def test_parquet_timestamps_without_zone_and_in_nanoseconds_are_utc(warehouse):
    write_parquet(warehouse, "events/naive.parquet", {
        "event_id": ["n1"],
        "occurred_at": pa.array([datetime(2026, 3, 1, 23, 59, 59, 999999)], pa.timestamp("us")),
        "received_at": pa.array([datetime(2026, 3, 2, 0, 0, 1)], pa.timestamp("ms")),
        "user_id": ["u1"], "event_name": ["ide_search"],
    })
    write_parquet(warehouse, "events/nanos.parquet", {
        "event_id": ["n2"],
        "occurred_at": pa.array([1772409600123456789], pa.timestamp("ns", tz="Asia/Kolkata")),
        "user_id": ["u1"], "event_name": ["ide_search"],
    })
    warehouse.build(select="+stg_events")

    rows = staged(warehouse)
    assert rows.occurred_at[0].isoformat() == "2026-03-01T23:59:59.999999"
    assert rows.received_at[0].isoformat() == "2026-03-02T00:00:01"
    assert rows.occurred_at[1].isoformat() == "2026-03-02T00:00:00.123456"


def test_typed_parquet_timestamps_stay_typed_and_a_quarantined_one_keeps_its_text(warehouse):
    def at(*parts):
        return datetime(*parts, tzinfo=UTC)

    write_parquet(warehouse, "events/typed.parquet", {
        "event_id": ["t-ok", "t-old", "t-ahead", "t-none"],
        "occurred_at": pa.array([at(2026, 3, 1, 10), at(1999, 12, 31, 23, 59, 59, 500000), at(2026, 3, 1, 12), None],
                                pa.timestamp("us", tz="UTC")),
        "received_at": pa.array([at(2026, 3, 1, 10, 0, 2), None, at(2026, 3, 1, 10, 59, 59), None],
                                pa.timestamp("us", tz="UTC")),
        "user_id": ["u1"] * 4, "event_name": ["ide_search"] * 4,
    })
    warehouse.build(select="+stg_events +stg_landed_events")

    landed = warehouse.query(
        "select event_id, occurred_at, received_at, occurred_at_timestamp, received_at_timestamp "
        "from staging.base_landing_events where event_id like 't-%' order by event_id")
    assert landed.occurred_at.isna().all() and landed.received_at.isna().all()
    assert [None if t is pd.NaT else t.isoformat() for t in landed.occurred_at_timestamp] == [
        "2026-03-01T12:00:00", None, "2026-03-01T10:00:00", "1999-12-31T23:59:59.500000"]
    outcome = warehouse.query(
        "select event_id, load_status, quarantine_reason, occurred_at_raw, received_at_raw "
        "from staging.stg_landed_events where event_id like 't-%' order by event_id")
    assert outcome.astype(object).where(outcome.notna(), None).to_dict("records") == [
        {"event_id": "t-ahead", "load_status": "quarantined", "quarantine_reason": "occurred_after_received",
         "occurred_at_raw": "2026-03-01 12:00:00+00", "received_at_raw": "2026-03-01 10:59:59+00"},
        {"event_id": "t-none", "load_status": "quarantined", "quarantine_reason": "missing_occurred_at",
         "occurred_at_raw": None, "received_at_raw": None},
        {"event_id": "t-ok", "load_status": "staged", "quarantine_reason": None,
         "occurred_at_raw": None, "received_at_raw": None},
        {"event_id": "t-old", "load_status": "quarantined", "quarantine_reason": "occurred_before_2000",
         "occurred_at_raw": "1999-12-31 23:59:59.5+00", "received_at_raw": None},
    ]
    staged_row = warehouse.query("select occurred_at, received_at from staging.stg_events where event_id = 't-ok'")
    assert [t.isoformat() for t in staged_row.iloc[0]] == ["2026-03-01T10:00:00", "2026-03-01T10:00:02"]


def test_optional_columns_missing_from_every_file(warehouse):
    warehouse.write_jsonl("events/minimal.jsonl", [
        {"event_id": "m1", "occurred_at": "2026-03-01T10:00:00Z", "user_id": "u1", "event_name": "ide_search"}])
    write_parquet(warehouse, "events/minimal.parquet", {
        "event_id": ["m2"], "occurred_at": ["2026-03-01T10:01:00Z"], "user_id": ["u1"], "event_name": ["ide_search"]})
    warehouse.build(select="+stg_events +fct_sessions")

    rows = warehouse.query("select * from staging.stg_events order by event_id")
    assert list(rows.event_id) == ["m1", "m2"]
    assert (rows.received_at == rows.occurred_at).all()
    for column in ["organization_id", "workspace_id", "project_id", "platform", "page", "client_session_id", "properties"]:
        assert rows[column].isna().all(), column
    assert warehouse.query("select count(*) as n from marts.fct_sessions").n[0] == 1


def test_optional_columns_missing_from_some_files_and_extra_columns_ignored(warehouse):
    write_parquet(warehouse, "events/a.parquet", {
        "event_id": ["a1"], "occurred_at": ["2026-03-01T10:00:00Z"], "user_id": ["u1"], "event_name": ["ide_search"],
        "workspace_id": ["w1"], "properties": pa.array([{"file_ext": "py", "lines": 3}]),
        "some_unknown_column": [1.5]})
    write_parquet(warehouse, "events/b.parquet", {
        "event_id": ["b1"], "occurred_at": ["2026-03-01T10:01:00Z"], "user_id": ["u1"], "event_name": ["ide_search"],
        "page": ["/docs"]})
    warehouse.write_jsonl("events/c.jsonl", [
        {"event_id": "c1", "occurred_at": "2026-03-01T10:02:00Z", "user_id": "u2", "event_name": "page_view",
         "session_id": "client-1", "properties": {"nested": {"x": [1, 2]}}, "unknown_key": True}])
    warehouse.build(select="+stg_events")

    rows = warehouse.records(
        "select event_id, user_id, workspace_id, page, client_session_id, properties from staging.stg_events order by event_id")
    assert rows == [
        {"event_id": "a1", "user_id": "u1", "workspace_id": "w1", "page": None, "client_session_id": None,
         "properties": '{"file_ext":"py","lines":3}'},
        {"event_id": "b1", "user_id": "u1", "workspace_id": None, "page": "/docs", "client_session_id": None,
         "properties": None},
        {"event_id": "c1", "user_id": "u2", "workspace_id": None, "page": None, "client_session_id": "client-1",
         "properties": '{"nested":{"x":[1,2]}}'},
    ]


def test_no_event_files_builds_empty_marts(warehouse):
    warehouse.build()
    for table in ["staging.stg_events", "marts.fct_sessions", "marts.fct_session_events", "marts.dim_users",
                  "marts.dim_workspaces"]:
        assert warehouse.query(f"select count(*) as n from {table}").n[0] == 0, table


def test_dimension_files_absent_leave_ids_seen_in_events(warehouse):
    warehouse.write_jsonl("events/e.jsonl", [
        {"event_id": "e1", "occurred_at": "2026-03-01T10:00:00Z", "user_id": "u9", "event_name": "ide_search",
         "workspace_id": "w9", "organization_id": "o9"}])
    warehouse.build(select="+dim_users +dim_workspaces")

    users = warehouse.query("select * from marts.dim_users")
    assert users[["user_id", "email", "organization_id", "is_in_users_file", "session_count"]].to_dict("records") == [
        {"user_id": "u9", "email": None, "organization_id": "o9", "is_in_users_file": False, "session_count": 1}]
    workspaces = warehouse.query("select * from marts.dim_workspaces")
    assert workspaces[["workspace_id", "workspace_name", "is_in_workspaces_file", "session_count"]].to_dict("records") == [
        {"workspace_id": "w9", "workspace_name": None, "is_in_workspaces_file": False, "session_count": 1}]


def test_dimension_files_in_csv_and_parquet(warehouse):
    (warehouse.landing / "users.csv").write_text(
        "user_id,email,first_name,last_name,company,organization_id,registered_at\n"
        "u1, Ada.Lovelace@Example.COM ,Ada,Lovelace,Analytical,o1,2026-01-05T09:00:00+01:00\n"
        "u2,grace@navy.mil,Grace,Hopper,Navy,o1,2026-01-06T00:00:00Z\n")
    write_parquet(warehouse, "workspaces.parquet", {
        "workspace_id": ["w1"], "name": ["Engine"], "organization_id": ["o1"], "owner_user_id": ["u1"],
        "created_at": pa.array([datetime(2026, 1, 7, tzinfo=UTC)], pa.timestamp("us", tz="UTC"))})
    (warehouse.landing / "workspace_members").mkdir()
    (warehouse.landing / "workspace_members" / "part-1.csv").write_text(
        "workspace_id,user_id,role,invited_at\nw1,u1,admin,2026-01-07T00:00:00Z\nw1,u2,developer,2026-01-08T00:00:00Z\n"
        "w1,u2,Admin,2026-01-09T00:00:00Z\n")
    (warehouse.landing / "organizations.csv").write_text("organization_id,name,domain,plan,created_at\no1,Org One,Example.com,team,2026-01-01\n")
    warehouse.write_jsonl("events/e.jsonl", [
        {"event_id": "e1", "occurred_at": "2026-03-01T10:00:00Z", "user_id": "u1", "event_name": "ide_search", "workspace_id": "w1"},
        {"event_id": "e2", "occurred_at": "2026-03-01T10:20:00.5Z", "user_id": "u1", "event_name": "ide_search"},
        {"event_id": "e3", "occurred_at": "2026-03-01T10:00:00Z", "user_id": "u3", "event_name": "ide_search"}])
    warehouse.build(select="+dim_users +dim_workspaces +fct_sessions +stg_organizations")

    users = warehouse.query("select * from marts.dim_users order by user_id").set_index("user_id")
    assert users.loc["u1", "email"] == "ada.lovelace@example.com"
    assert users.loc["u1", "email_domain"] == "example.com"
    assert users.loc["u1", "registered_at"].isoformat() == "2026-01-05T08:00:00"
    assert users.loc["u1", "total_session_seconds"] == pytest.approx(1200.5)
    assert users.loc["u2", "session_count"] == 0 and users.loc["u2", "is_in_users_file"]
    assert not users.loc["u3", "is_in_users_file"]
    workspace = warehouse.query("select * from marts.dim_workspaces").iloc[0]
    assert (workspace.workspace_name, workspace.owner_user_id, workspace.member_count, workspace.admin_count) == ("Engine", "u1", 2, 2)
    assert workspace.session_count == 1
    organization = warehouse.query("select * from staging.stg_organizations").iloc[0]
    assert (organization.organization_name, organization.organization_domain) == ("Org One", "example.com")
    session = warehouse.query("select organization_id, workspace_id from marts.fct_sessions where user_id = 'u1'").iloc[0]
    assert (session.organization_id, session.workspace_id) == ("o1", "w1")


def test_every_row_read_is_staged_quarantined_or_a_counted_duplicate(warehouse):
    good = {"occurred_at": "2026-03-01T10:00:00Z", "user_id": "u1", "event_name": "ide_search"}
    warehouse.write_jsonl("events/day1.jsonl", [
        {"event_id": "g1", **good},
        {"event_id": "g2", **good, "received_at": "2026-03-01T10:00:05Z"},
        {**good, "event_id": None},
        {"event_id": "bad-time", **good, "occurred_at": "2026-02-30T10:00:00Z"},
        {"event_id": "no-user", "occurred_at": "2026-03-01T10:00:00Z", "event_name": "x"},
    ])
    (warehouse.landing / "events" / "day1.jsonl").open("a").write("this line is not json\n")
    warehouse.write_jsonl("events/day2.jsonl", [
        {"event_id": "g2", **good, "received_at": "2026-03-02T08:00:00Z"},
        {"event_id": "g1", **good, "received_at": "2026-03-02T08:00:00Z"},
    ])
    warehouse.build(select="+stg_landed_events +stg_events_duplicates")

    outcome = warehouse.query(
        "select load_status, coalesce(quarantine_reason, '') as reason, count(*) as n from staging.stg_landed_events "
        "group by all order by all")
    assert outcome.to_dict("records") == [
        {"load_status": "duplicate", "reason": "", "n": 2},
        {"load_status": "quarantined", "reason": "missing_event_id", "n": 1},
        {"load_status": "quarantined", "reason": "missing_user_id", "n": 1},
        {"load_status": "quarantined", "reason": "unparseable_line", "n": 1},
        {"load_status": "quarantined", "reason": "unparseable_occurred_at", "n": 1},
        {"load_status": "staged", "reason": "", "n": 2},
    ]
    duplicates = warehouse.query("select event_id, source_file from staging.stg_events_duplicates order by event_id")
    assert list(duplicates.event_id) == ["g1", "g2"]
    assert all(path.endswith("day2.jsonl") for path in duplicates.source_file)
    # The landed text is kept where it explains a quarantine; base_landing_events keeps every row's.
    raw = warehouse.query(
        "select event_id, load_status, occurred_at_raw, received_at_raw from staging.stg_landed_events "
        "where event_id in ('bad-time', 'g2') order by all")
    assert raw.astype(object).where(raw.notna(), None).to_dict("records") == [
        {"event_id": "bad-time", "load_status": "quarantined", "occurred_at_raw": "2026-02-30T10:00:00Z",
         "received_at_raw": None},
        {"event_id": "g2", "load_status": "duplicate", "occurred_at_raw": None, "received_at_raw": None},
        {"event_id": "g2", "load_status": "staged", "occurred_at_raw": None, "received_at_raw": None},
    ]
    landed = warehouse.query("select received_at from staging.base_landing_events where event_id = 'g2' order by 1")
    assert list(landed.received_at) == ["2026-03-01T10:00:05Z", "2026-03-02T08:00:00Z"]


@pytest.mark.parametrize("dbt_vars, message", [
    ({"session_timeout_seconds": "30 minutes"}, "session_timeout_seconds must be a non-negative number"),
    ({"session_timeout_seconds": 0}, "session_timeout_seconds must be greater than 0"),
    ({"session_max_length_seconds": "1; drop table x"}, "session_max_length_seconds must be a non-negative number"),
    ({"session_partition_by": ["workspace_id"]}, "session_partition_by must include user_id"),
    ({"session_partition_by": ["user_id", "workspace_id; drop table x"]}, "must list lowercase column names"),
    ({"session_restart_events": "login"}, "session_restart_events must be a list of strings"),
])
def test_invalid_rules_fail_with_a_clear_message(warehouse, dbt_vars, message, capfd):
    with pytest.raises(DbtCommandError):
        warehouse.build(select="fct_session_events", dbt_vars=dbt_vars)
    assert message in capfd.readouterr().out


@pytest.mark.parametrize("limit", ["1; drop table x", -1, True])
def test_an_invalid_lookup_list_limit_fails_with_a_clear_message(warehouse, limit, capfd):
    with pytest.raises(DbtCommandError):
        warehouse.build(select="stg_landed_events", dbt_vars={"duplicate_lookup_list_limit": limit})
    assert "duplicate_lookup_list_limit must be a whole number >= 0" in capfd.readouterr().out


def test_event_names_with_quotes_in_rules_are_plain_data(warehouse):
    warehouse.write_jsonl("events/e.jsonl", [
        {"event_id": "e1", "occurred_at": "2026-03-01T10:00:00Z", "user_id": "u1", "event_name": "ide_search"},
        {"event_id": "e2", "occurred_at": "2026-03-01T10:00:01Z", "user_id": "u1", "event_name": "it's') or (1=1"},
        {"event_id": "e3", "occurred_at": "2026-03-01T10:00:02Z", "user_id": "u1", "event_name": "ide_search"}])
    warehouse.build(select="+fct_session_events",
                    dbt_vars={"session_restart_events": ["it's') or (1=1"], "session_end_events": []})
    reasons = warehouse.query("select event_id, session_start_reason from marts.fct_session_events order by event_id")
    assert list(reasons.session_start_reason) == ["first_event", "restart_event", "restart_event"]


def test_a_load_quarantining_more_than_the_limit_fails_its_check_and_the_next_load_is_judged_alone(warehouse, capfd):
    limit = {"max_quarantine_share": 0.5}
    warehouse.write_jsonl("events/first.jsonl", [
        {"event_id": "e1", "user_id": "u1", "event_name": "login", "occurred_at": "2026-10-01T10:00:00Z"},
        {"event_id": "e2", "event_name": "login", "occurred_at": "2026-10-01T10:01:00Z"},
        {"event_id": "e3", "user_id": "u1", "occurred_at": "2026-10-01T10:02:00Z"},
    ])
    with pytest.raises(DbtCommandError):
        warehouse.build(dbt_vars=limit, data_tests=True)
    assert "assert_load_quarantine_share_within_limit" in capfd.readouterr().out
    # The check describes data that was loaded: the load and its session stay.
    assert warehouse.records("select rows_read, events_quarantined from marts.rpt_load_audit") == [
        {"rows_read": 3, "events_quarantined": 2}]
    assert warehouse.query("select count(*) as n from marts.fct_sessions").n[0] == 1

    warehouse.write_jsonl("events/second.jsonl", [
        {"event_id": "e4", "user_id": "u1", "event_name": "ide_search", "occurred_at": "2026-10-01T10:03:00Z"},
    ])
    warehouse.build(dbt_vars=limit, data_tests=True)


def test_the_bad_input_catalogue_is_quarantined_with_reasons_and_files_and_the_rest_loads(warehouse, capfd):
    """Unreadable files (Parquet empty, truncated, corrupt inside or another format; gzip cut short), a line that is
    not JSON, non-UTF-8 bytes, numbers, booleans and objects where text belongs, timestamps before 2000, a huge
    properties value, an empty file and duplicate ids within and across files: each row is quarantined with a reason and its file, or loads, and nothing is lost."""
    land_bad_input_catalogue(warehouse)

    with pytest.raises(DbtCommandError):
        warehouse.build(data_tests=True)
    assert "assert_load_read_every_file" in capfd.readouterr().out

    assert list(staged(warehouse).event_id) == ["j1", "p1", "p2"]
    assert warehouse.query("select length(properties::varchar) as n from staging.stg_events "
                           "where event_id = 'j1'").n[0] > 2_000_000
    quarantined = warehouse.records(
        "select quarantine_reason, regexp_extract(source_file, '[^/]+$') as file, event_id "
        "from staging.stg_events_quarantined order by all")
    assert quarantined == [
        {"quarantine_reason": "invalid_event_name", "file": "mixed.jsonl", "event_id": "j4"},
        {"quarantine_reason": "invalid_user_id", "file": "mixed.jsonl", "event_id": "j3"},
        {"quarantine_reason": "invalid_user_id", "file": "mixed.jsonl", "event_id": "j6"},
        {"quarantine_reason": "invalid_user_id", "file": "typed.parquet", "event_id": "t1"},
        {"quarantine_reason": "invalid_workspace_id", "file": "mixed.jsonl", "event_id": "j7"},
        {"quarantine_reason": "occurred_before_2000", "file": "mixed.jsonl", "event_id": "j5"},
        {"quarantine_reason": "unparseable_line", "file": "mixed.jsonl", "event_id": None},
        {"quarantine_reason": "unparseable_line", "file": "mixed.jsonl", "event_id": None},
        {"quarantine_reason": "unreadable_file", "file": "corrupt.parquet", "event_id": None},
        {"quarantine_reason": "unreadable_file", "file": "csv_named.parquet", "event_id": None},
        {"quarantine_reason": "unreadable_file", "file": "cut.jsonl.gz", "event_id": None},
        {"quarantine_reason": "unreadable_file", "file": "empty.parquet", "event_id": None},
        {"quarantine_reason": "unreadable_file", "file": "truncated.parquet", "event_id": None},
    ]
    errors = {row["file"]: row["file_error"] for row in warehouse.records(
        "select regexp_extract(source_file, '[^/]+$') as file, file_error from staging.base_landing_events "
        "where file_error is not null")}
    assert "Snappy" in errors["corrupt.parquet"] and "gzip" in errors["cut.jsonl.gz"], errors
    assert all("Parquet" in errors[name] or "parquet" in errors[name]
               for name in ("csv_named.parquet", "empty.parquet", "truncated.parquet")), errors
    duplicates = warehouse.records("select event_id, regexp_extract(source_file, '[^/]+$') as file "
                                   "from staging.stg_events_duplicates order by all")
    assert duplicates == [{"event_id": "p1", "file": "mixed.jsonl"}, {"event_id": "p2", "file": "good.parquet"}]
    audit = warehouse.records("select rows_read, events_staged, events_quarantined, events_duplicate, "
                              "files_unreadable from marts.rpt_load_audit")
    assert audit == [{"rows_read": 3 + 1 + 5 + 9, "events_staged": 3, "events_quarantined": 13, "events_duplicate": 2,
                      "files_unreadable": 5}]

    # The next load is judged on its own files.
    warehouse.write_jsonl("events/next.jsonl", [
        {"event_id": "n1", "user_id": "u1", "event_name": "logout", "occurred_at": "2026-10-01T10:30:00Z"}])
    warehouse.build(data_tests=True)
