"""A user's first files (issue 36): events dated after the load, a byte-order mark, lines that do not parse, file names
in any letter case, .json files, and files the reader does not take. README "Raw-data contract"."""

import gzip
import json
import os
from datetime import date, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers import BOM, UTC, event, iso, land_bom_file, write_lines
from orchestration import cli, landing
from orchestration.dbt_invoke import DbtCommandError
from orchestration.summary import summarize
REPORTS = ["marts.rpt_inactive_users", "marts.sessions_concluded", "marts.rpt_daily_sessions",
           "marts.rpt_period_summary", "marts.fct_user_activity_daily", "marts.fct_sessions"]


def table_rows(warehouse, table: str) -> list[dict]:
    return warehouse.records(f"select columns(c -> c not in ('load_id', 'decided_in_load_id', 'run_id')) from {table} order by all")


def test_events_dated_after_the_loads_clock_are_quarantined_with_their_raw_values(warehouse):
    now = datetime.now(UTC)
    warehouse.write_jsonl("events/clocks.jsonl", [
        event("ahead", iso(now + timedelta(days=2)), received_at=iso(now + timedelta(days=2))),
        event("received-ahead", iso(now - timedelta(days=1)), received_at=iso(now + timedelta(days=1))),
        event("ahead-no-received", iso(now + timedelta(hours=3)), received_at=None),
        # Within future_skew_tolerance_seconds (3600) of the load's clock: a clock a little fast is not an error.
        event("just-ahead", iso(now + timedelta(minutes=20))),
    ])
    warehouse.build(data_tests=True)

    quarantined = warehouse.records(
        "select event_id, quarantine_reason, occurred_at_raw, received_at_raw from staging.stg_events_quarantined "
        "order by event_id")
    assert quarantined == [
        {"event_id": "ahead", "quarantine_reason": "occurred_in_future",
         "occurred_at_raw": iso(now + timedelta(days=2)), "received_at_raw": iso(now + timedelta(days=2))},
        {"event_id": "ahead-no-received", "quarantine_reason": "occurred_in_future",
         "occurred_at_raw": iso(now + timedelta(hours=3)), "received_at_raw": None},
        {"event_id": "received-ahead", "quarantine_reason": "received_in_future",
         "occurred_at_raw": iso(now - timedelta(days=1)), "received_at_raw": iso(now + timedelta(days=1))},
    ]
    assert [row["event_id"] for row in warehouse.records("select event_id from staging.stg_events")] == ["just-ahead"]


def test_a_file_from_the_future_leaves_every_report_and_open_session_as_they_were(warehouse):
    now = datetime.now(UTC).replace(microsecond=0)
    old, recent = now - timedelta(days=30), now - timedelta(days=2)
    warehouse.write_jsonl("events/today.jsonl", [
        event("o1", iso(old), "u1"), event("o2", iso(old + timedelta(minutes=5)), "u1"),
        event("r1", iso(recent), "u2"), event("r2", iso(recent + timedelta(minutes=5)), "u2"),
    ])
    warehouse.build()
    before = {table: table_rows(warehouse, table) for table in REPORTS}
    assert [row["user_id"] for row in before["marts.rpt_inactive_users"]] == ["u1"]

    future = now + timedelta(days=5 * 365)
    warehouse.write_jsonl("events/2031.jsonl", [
        event(f"f{n}", iso(future + timedelta(minutes=n)), user, received_at=iso(future + timedelta(minutes=n)))
        for n, user in enumerate(["u1", "u2", "u3"] * 23)
    ])
    warehouse.build(data_tests=True)

    assert {table: table_rows(warehouse, table) for table in REPORTS} == before
    assert warehouse.records("select quarantine_reason, count(*) as n from staging.stg_events_quarantined "
                             "group by all") == [{"quarantine_reason": "occurred_in_future", "n": 69}]
    watermarks = warehouse.records("select watermark_after from marts.rpt_load_audit order by loaded_at")
    assert watermarks[0] == watermarks[1]


@pytest.mark.parametrize("path", ["dbt build", "dwell run"])
def test_a_file_with_a_byte_order_mark_and_crlf_line_ends_loads_every_event(warehouse, path, capsys):
    """DuckDB's JSON reader splits a file that a load reads alone among its threads, and then rejects the byte-order
    mark: the first event was quarantined with every field null. Loaded with other files, it was read whole."""
    land_bom_file(warehouse)
    if path == "dbt build":
        warehouse.build(data_tests=True)
    else:
        assert cli.main(["run"]) == 0
    assert warehouse.records("select event_id from staging.stg_events order by 1") == [
        {"event_id": f"bom-{n}"} for n in range(1, 6)]
    assert warehouse.records("select count(*) as n from staging.stg_events_quarantined") == [{"n": 0}]


def test_the_orchestrator_reads_the_date_of_a_first_line_after_a_byte_order_mark(warehouse):
    """The sensors and `dwell run` pick the partitions to run from the event dates of the new files."""
    land_bom_file(warehouse)
    assert landing.event_dates(landing.event_files(warehouse.landing)) == {date(2026, 3, 1), date(2026, 3, 2)}


def test_a_line_that_does_not_parse_is_quarantined_with_its_text_file_and_line_number(warehouse):
    good = [json.dumps(event(f"g{n}", f"2026-03-01T10:0{n}:00Z")).encode() for n in range(4)]
    write_lines(warehouse, "events/web/mixed.jsonl", [
        good[0],
        b"this line is not JSON",
        b"",
        b'{"event_id": "bad-bytes", "user_id": "u\xff\xfe", "event_name": "x", "occurred_at": "2026-03-01T10:00:00Z"}',
        good[1],
        b'[{"event_id": "in-an-array"}]',
        b'{"event_id": "cut-short", "occurred_at": "2026-03-01T',
        good[2],
    ], end=b"\r\n")
    write_lines(warehouse, "events/web/mixed.jsonl.gz", [b"{not json either}", good[3]])
    warehouse.write_jsonl("events/clean.jsonl", [event("c1", "2026-03-01T11:00:00Z", received_at="yesterday")])
    warehouse.build(data_tests=True)

    quarantined = warehouse.records(
        "select regexp_extract(source_file, 'events/.*$') as file, source_line_number, raw_line, quarantine_reason, "
        "event_id from staging.stg_events_quarantined order by all")
    assert quarantined == [
        {"file": "events/clean.jsonl", "source_line_number": None, "raw_line": None,
         "quarantine_reason": "unparseable_received_at", "event_id": "c1"},
        {"file": "events/web/mixed.jsonl", "source_line_number": 2, "raw_line": "this line is not JSON",
         "quarantine_reason": "unparseable_line", "event_id": None},
        {"file": "events/web/mixed.jsonl", "source_line_number": 4,
         "raw_line": '{"event_id": "bad-bytes", "user_id": "u\ufffd\ufffd", "event_name": "x", '
                     '"occurred_at": "2026-03-01T10:00:00Z"}',
         "quarantine_reason": "unparseable_line", "event_id": None},
        {"file": "events/web/mixed.jsonl", "source_line_number": 6, "raw_line": '[{"event_id": "in-an-array"}]',
         "quarantine_reason": "unparseable_line", "event_id": None},
        {"file": "events/web/mixed.jsonl", "source_line_number": 7,
         "raw_line": '{"event_id": "cut-short", "occurred_at": "2026-03-01T',
         "quarantine_reason": "unparseable_line", "event_id": None},
        {"file": "events/web/mixed.jsonl.gz", "source_line_number": 1, "raw_line": "{not json either}",
         "quarantine_reason": "unparseable_line", "event_id": None},
    ]
    staged = warehouse.records("select event_id from staging.stg_events order by 1")
    assert staged == [{"event_id": f"g{n}"} for n in range(4)]
    assert warehouse.records("select rows_read, events_staged, events_quarantined from marts.rpt_load_audit") == [
        {"rows_read": 10, "events_staged": 4, "events_quarantined": 6}]


def test_event_file_names_match_in_any_letter_case(warehouse):
    warehouse.write_jsonl("events/a.JSONL", [event("upper-jsonl", "2026-03-01T10:00:00Z")])
    warehouse.write_jsonl("events/b.NDJson", [event("mixed-ndjson", "2026-03-01T10:01:00Z")])
    write_lines(warehouse, "events/c.jsonl.GZ", [json.dumps(event("upper-gz", "2026-03-01T10:02:00Z")).encode()])
    pq.write_table(pa.table({"event_id": ["upper-parquet"], "occurred_at": ["2026-03-01T10:03:00Z"],
                             "user_id": ["u1"], "event_name": ["ide_search"]}), warehouse.landing / "events/d.Parquet")
    warehouse.build(data_tests=True)

    assert warehouse.records("select event_id from staging.stg_events order by 1") == [
        {"event_id": name} for name in ["mixed-ndjson", "upper-gz", "upper-jsonl", "upper-parquet"]]


def test_a_json_file_holds_json_lines_or_one_array_of_objects(warehouse, capfd):
    warehouse.write_jsonl("events/lines.json", [event("line", "2026-03-01T10:00:00Z")])
    array = [event("array-1", "2026-03-01T10:01:00Z"), event("array-2", "2026-03-01T10:02:00Z", properties={"k": 1})]
    (warehouse.landing / "events/array.json").write_bytes(BOM + json.dumps(array, indent=2).encode())
    (warehouse.landing / "events/array.json.gz").write_bytes(
        gzip.compress(json.dumps([event("array-gz", "2026-03-01T10:03:00Z")]).encode()))
    (warehouse.landing / "events/cut.json").write_text(json.dumps(array)[:-10])
    (warehouse.landing / "events/scalars.json").write_text(json.dumps([event("in-mixed", "2026-03-01T10:04:00Z"), 42]))
    with pytest.raises(DbtCommandError):
        warehouse.build(data_tests=True)
    assert "assert_load_read_every_file" in capfd.readouterr().out

    assert warehouse.records("select event_id, properties from staging.stg_events order by 1") == [
        {"event_id": "array-1", "properties": None}, {"event_id": "array-2", "properties": '{"k":1}'},
        {"event_id": "array-gz", "properties": None}, {"event_id": "line", "properties": None}]
    errors = warehouse.records(
        "select regexp_extract(source_file, '[^/]+$') as file, file_error from staging.base_landing_events "
        "where file_error is not null order by 1")
    assert [row["file"] for row in errors] == ["cut.json", "scalars.json"]
    assert errors[0]["file_error"].startswith("not a JSON array: ")
    assert errors[1]["file_error"] == "a JSON array whose elements are not all objects: 1 of 2 are not"


def test_a_file_the_reader_does_not_take_is_listed_once_per_version_with_its_reason(warehouse, capfd):
    warehouse.write_jsonl("events/web/good.jsonl", [event("e1", "2026-03-01T10:00:00Z")])
    (warehouse.landing / "events/export.csv").write_text("event_id,user_id\ne2,u1\n")
    (warehouse.landing / "events/web/notes.txt").write_text("resend on monday")
    (warehouse.landing / "events/README").write_text("events go here")
    # In flight: written under a temporary name, renamed when whole.
    for name in (".good.jsonl.swp", "next.jsonl.tmp", "next.jsonl.partial", ".hidden.jsonl"):
        (warehouse.landing / "events" / name).write_text("{}\n")
    # Not quiet: dbt prints the check's warning, which the run survives.
    warehouse.dbt(["build", "--exclude", "test_type:unit"])
    assert "WARN 3 assert_load_took_every_file" in capfd.readouterr().out

    files = warehouse.records(
        "select regexp_extract(source_file, 'events/.*$') as file, status, reason like 'not an event file: %' as "
        "reason_given, rows_read from marts.rpt_load_files order by 1")
    assert files == [
        {"file": "events/README", "status": "not_taken", "reason_given": True, "rows_read": 0},
        {"file": "events/export.csv", "status": "not_taken", "reason_given": True, "rows_read": 0},
        {"file": "events/web/good.jsonl", "status": "loaded", "reason_given": None, "rows_read": 1},
        {"file": "events/web/notes.txt", "status": "not_taken", "reason_given": True, "rows_read": 0},
    ]
    assert warehouse.records("select files_not_taken from marts.rpt_load_audit") == [{"files_not_taken": 3}]

    # Unchanged, a file is not listed again; rewritten, it is another version.
    (warehouse.landing / "events/export.csv").write_text("event_id,user_id\ne2,u1\ne3,u1\n")
    warehouse.build(data_tests=True)
    second_load = warehouse.records(
        "select regexp_extract(source_file, 'events/.*$') as file, status from marts.rpt_load_files "
        "where load_id = (select max_by(load_id, loaded_at) from marts.rpt_load_audit)")
    assert second_load == [{"file": "events/export.csv", "status": "not_taken"}]


def test_the_orchestrator_and_the_reader_take_the_same_files(warehouse):
    """The sensors and `dwell run` (orchestration/landing.py) see as event files exactly the files dbt reads."""
    names = ["a.jsonl", "b.JSONL", "c.ndjson.gz", "d.json", "e.Json.Gz", "f.parquet", "g.csv", "h.parquet.gz",
             "i.txt", "j", "k.jsonl.bak", ".l.jsonl", "m.jsonl.tmp", "n.PARTIAL", "deep/er/o.NDJSON"]
    for number, name in enumerate(names):
        if name.endswith("parquet"):
            pq.write_table(pa.table({"event_id": [f"e{number}"]}), warehouse.landing / "events" / name)
        else:
            write_lines(warehouse, f"events/{name}", [json.dumps({"event_id": f"e{number}"}).encode()])
    warehouse.build()

    read = {row["source_file"] for row in warehouse.records(
        "select source_file from marts.rpt_load_files where status <> 'not_taken'")}
    not_taken = {row["source_file"] for row in warehouse.records(
        "select source_file from marts.rpt_load_files where status = 'not_taken'")}
    assert read == {str(file.path) for file in landing.event_files(warehouse.landing)}
    assert not_taken == {str(path) for path in landing.files_not_taken(warehouse.landing)}
    assert sorted(os.path.relpath(path, warehouse.landing / "events") for path in read) == [
        "a.jsonl", "b.JSONL", "c.ndjson.gz", "d.json", "deep/er/o.NDJSON", "e.Json.Gz", "f.parquet"]


def test_the_summary_warns_about_the_files_not_taken_still_in_the_landing_directory(warehouse, capsys):
    warehouse.write_jsonl("events/good.jsonl", [event("e1", "2026-03-01T10:00:00Z")])
    for number in range(7):
        (warehouse.landing / f"events/export-{number}.csv").write_text("event_id\n")
    warehouse.build()

    assert cli.main(["summary"]) == 0
    printed = capsys.readouterr().out
    assert "warning: 7 files under events/ are not read: not an event file name" in printed
    assert "  events/export-0.csv\n" in printed and "  events/export-4.csv\n" in printed
    assert "events/export-5.csv" not in printed and "  ... and 2 more\n" in printed
    assert "select * from marts.rpt_load_files where status = 'not_taken'" in printed

    for number in range(7):
        (warehouse.landing / f"events/export-{number}.csv").unlink()
    assert "warning" not in summarize(warehouse.path).render()
