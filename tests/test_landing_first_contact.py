"""A user's first files (issue 36): events dated after the load. README "Raw-data contract"."""

from datetime import datetime, timedelta, timezone

UTC = timezone.utc
REPORTS = ["marts.rpt_inactive_users", "marts.sessions_concluded", "marts.rpt_daily_sessions",
           "marts.rpt_period_summary", "marts.fct_user_activity_daily", "marts.fct_sessions"]


def event(event_id: str, occurred_at: str, user_id: str = "u1", event_name: str = "ide_search", **extra) -> dict:
    return {"event_id": event_id, "occurred_at": occurred_at, "user_id": user_id, "event_name": event_name, **extra}


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def table_rows(warehouse, table: str) -> list[dict]:
    return warehouse.records(f"select columns(c -> c not in ('load_id', 'run_id')) from {table} order by all")


def test_events_dated_after_the_loads_clock_are_quarantined_with_their_raw_values(warehouse):
    now = datetime.now(UTC)
    warehouse.write_jsonl("events/clocks.jsonl", [
        event("ahead", iso(now + timedelta(days=2)), received_at=iso(now + timedelta(days=2))),
        event("received-ahead", iso(now - timedelta(days=1)), received_at=iso(now + timedelta(days=1))),
        event("ahead-no-received", iso(now + timedelta(hours=3))),
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
