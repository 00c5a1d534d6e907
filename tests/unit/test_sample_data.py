"""Tests of the sample event generator: layout, determinism, deliberate defects and realism."""

import datetime
import gzip
import json
import re
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.sample_data import generate_sample
from orchestration.sample_data.catalog import background_events, event_names, platforms, property_fields
from orchestration.sample_data.command import event_count, main
from orchestration.sample_data.generator import SampleSummary
from orchestration.sample_data.writer import event_columns

small = {"users": 20, "days": 3}
parquet_glob = "events/received_date=*/events.parquet"
json_glob = "events/web/received_date=*/events.jsonl.gz"
raw_json_columns = {column: "VARCHAR" for column in event_columns}
bad_timestamps = ("not-a-timestamp", "2026-13-45T99:00:00Z")


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


def raw_json(con: duckdb.DuckDBPyConnection, landing: Path) -> duckdb.DuckDBPyRelation:
    return con.sql(
        f"SELECT * FROM read_json('{landing}/{json_glob}', format = 'newline_delimited', "
        f"columns = {raw_json_columns}, filename = true)"
    )


def all_rows(con: duckdb.DuckDBPyConnection, landing: Path) -> duckdb.DuckDBPyRelation:
    """Every written row, both timestamps parsed (NULL where unparseable), properties as text."""
    columns = ", ".join(event_columns)
    parsed = ", ".join(
        f"TRY_CAST({c} AS TIMESTAMPTZ) AS {c}" if c.endswith("_at") else c for c in event_columns
    )
    return con.sql(f"""
        SELECT {columns}, filename FROM read_parquet('{landing}/{parquet_glob}', filename = true)
        UNION ALL
        SELECT {parsed}, filename FROM read_json('{landing}/{json_glob}', format = 'newline_delimited',
                                                 columns = {raw_json_columns}, filename = true)
    """)


def count(relation: duckdb.DuckDBPyRelation, condition: str = "true") -> int:
    return relation.filter(condition).count("*").fetchone()[0]


def json_lines(landing: Path) -> list[tuple[Path, dict]]:
    return [
        (path, json.loads(line))
        for path in sorted(landing.glob(json_glob))
        for line in gzip.decompress(path.read_bytes()).decode().splitlines()
    ]


def parse_iso(text: str) -> datetime.datetime:
    """Python's own reading of an ISO-8601 text; no zone means UTC."""
    instant = datetime.datetime.fromisoformat(text)
    return instant if instant.tzinfo else instant.replace(tzinfo=datetime.UTC)


def summary_counts(summary: SampleSummary) -> tuple[int, ...]:
    return (summary.events_written, summary.malformed_rows, summary.duplicate_rows, summary.late_rows,
            summary.users, summary.workspaces, summary.organizations)


def partition_date(path: str | Path) -> datetime.date:
    return datetime.date.fromisoformat(re.search(r"received_date=(\d{4}-\d{2}-\d{2})", str(path)).group(1))


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory):
    landing = tmp_path_factory.mktemp("small")
    return landing, generate_sample(landing, seed=7, **small)


@pytest.fixture(scope="module")
def default_sample(tmp_path_factory):
    landing = tmp_path_factory.mktemp("default")
    return landing, generate_sample(landing)


def test_same_seed_gives_identical_rows_and_dimensions(small_sample, tmp_path):
    landing, summary = small_sample
    again = generate_sample(tmp_path, seed=7, **small)
    con = connect()
    rows = [
        all_rows(con, directory)
        .project(f"* EXCLUDE (filename), replace(filename, '{directory}', '') AS file")
        .order("event_id, received_at, file")
        .fetchall()
        for directory in (landing, tmp_path)
    ]
    assert rows[0] == rows[1] and len(rows[0]) == summary.events_written
    for name in ("organizations.csv", "users.csv", "workspace_members.csv"):
        assert (landing / name).read_bytes() == (tmp_path / name).read_bytes()
    assert pq.read_table(landing / "workspaces.parquet").equals(pq.read_table(tmp_path / "workspaces.parquet"))
    assert [p.relative_to(landing) for p in summary.files] == [p.relative_to(tmp_path) for p in again.files]
    assert summary_counts(again) == summary_counts(summary)


def test_different_seed_gives_different_rows(small_sample, tmp_path):
    landing, _ = small_sample
    generate_sample(tmp_path, seed=8, **small)
    con = connect()
    samples = [
        all_rows(con, directory).project("event_id, occurred_at, user_id, event_name").order("ALL").fetchall()
        for directory in (landing, tmp_path)
    ]
    assert samples[0] != samples[1]


def test_file_layout(small_sample):
    landing, summary = small_sample
    on_disk = sorted(p for p in landing.rglob("*") if p.is_file())
    assert on_disk == summary.files
    relative = [p.relative_to(landing).as_posix() for p in on_disk]
    top_level = ["organizations.csv", "users.csv", "workspace_members.csv", "workspaces.parquet"]
    assert [r for r in relative if "/" not in r] == top_level
    events = [r for r in relative if "/" in r]
    day = r"received_date=\d{4}-\d{2}-\d{2}"
    pattern = re.compile(rf"events/({day}/events\.parquet|web/{day}/events\.jsonl\.gz)")
    assert events and all(pattern.fullmatch(r) for r in events)
    assert {partition_date(r) for r in events} <= {
        datetime.date(2026, 10, 1) + datetime.timedelta(d) for d in range(small["days"])
    }
    assert any(r.endswith(".parquet") for r in events) and any(r.endswith(".jsonl.gz") for r in events)
    con = connect()
    assert count(con.sql(f"SELECT * FROM read_parquet('{landing}/{parquet_glob}')"), "platform = 'web'") == 0
    assert count(raw_json(con, landing), "platform <> 'web'") == 0


def test_rows_land_in_the_file_of_their_received_date_in_received_order(small_sample):
    landing, summary = small_sample
    rows = all_rows(connect(), landing)
    assert count(rows) == summary.events_written
    assert count(rows, "received_at::DATE <> regexp_extract(filename, 'received_date=([0-9-]+)', 1)::DATE") == 0
    by_file = {}
    for path, line in json_lines(landing):
        by_file.setdefault(path, []).append(parse_iso(line["received_at"]))
    assert by_file and all(instants == sorted(instants) for instants in by_file.values())
    for path in landing.glob(parquet_glob):
        received = pq.read_table(path, columns=["received_at"]).column(0).to_pylist()
        assert received == sorted(received)


def test_parquet_schema(small_sample):
    landing, _ = small_sample
    expected = pa.schema([
        (column, pa.timestamp("us", tz="UTC") if column.endswith("_at") else pa.string())
        for column in event_columns
    ])
    for path in landing.glob(parquet_glob):
        assert pq.read_schema(path).remove_metadata() == expected
    described = connect().sql(f"DESCRIBE SELECT * FROM read_parquet('{landing}/{parquet_glob}')").fetchall()
    types = {name: kind for name, kind, *_ in described}
    assert types["occurred_at"] == types["received_at"] == "TIMESTAMP WITH TIME ZONE"


def test_json_timestamps_mix_three_formats_that_parse_to_the_intended_instants(small_sample):
    landing, _ = small_sample
    formats = {
        "utc_z": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z"),
        "offset": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}[+-]\d{2}:\d{2}"),
        "zoneless": re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?"),
    }
    seen = {name: 0 for name in formats}
    for _, line in json_lines(landing):
        for value in (line["occurred_at"], line["received_at"]):
            if value not in bad_timestamps:
                seen[next(name for name, pattern in formats.items() if pattern.fullmatch(value))] += 1
    assert all(seen.values()), seen

    # DuckDB and Python read every text as the same instant. Offsets are right when local times shift to the
    # intended UTC instant: received_at then falls on its file's date, in file order, a few seconds after
    # occurred_at for events that are not late.
    parsed = raw_json(connect(), landing).project(
        "occurred_at, received_at, TRY_CAST(occurred_at AS TIMESTAMPTZ), TRY_CAST(received_at AS TIMESTAMPTZ), "
        "filename"
    ).fetchall()
    lags = []
    for occurred_text, received_text, occurred, received, filename in parsed:
        assert parse_iso(received_text) == received
        assert received.astimezone(datetime.UTC).date() == partition_date(filename)
        if occurred_text not in bad_timestamps:
            assert parse_iso(occurred_text) == occurred
            lags.append(received - occurred)
    assert min(lags) >= datetime.timedelta(0)
    assert max(lag for lag in lags if lag < datetime.timedelta(hours=1)) <= datetime.timedelta(minutes=1)


def test_json_properties_are_objects_and_null_optional_keys_are_sometimes_omitted(default_sample):
    landing, _ = default_sample
    lines = [line for _, line in json_lines(landing)]
    assert all(isinstance(line["properties"], dict) for line in lines)
    for key in ("project_id", "page", "session_id"):
        assert any(key not in line for line in lines)
        assert any(key in line and line[key] is None for line in lines)


def test_malformed_rows(small_sample):
    landing, summary = small_sample
    con = connect()
    unusable = (
        "event_id IS NULL OR user_id IS NULL OR event_name IS NULL OR TRY_CAST(occurred_at AS TIMESTAMPTZ) IS NULL"
    )
    assert summary.malformed_rows >= 8
    assert count(raw_json(con, landing), unusable) == summary.malformed_rows
    parquet = con.sql(f"SELECT * FROM read_parquet('{landing}/{parquet_glob}')")
    assert count(parquet, "event_id IS NULL OR user_id IS NULL OR event_name IS NULL") == 0
    lines = [line for _, line in json_lines(landing)]
    assert any("user_id" not in line for line in lines)
    assert any("user_id" in line and line["user_id"] is None for line in lines)
    assert any("event_id" not in line for line in lines)
    assert any("event_name" not in line for line in lines)
    assert any("event_name" in line and line["event_name"] is None for line in lines)
    assert set(bad_timestamps) <= {line["occurred_at"] for line in lines}


def test_duplicates_are_exact_resends_received_later(default_sample):
    landing, summary = default_sample
    con = connect()
    rows = all_rows(con, landing).filter("event_id IS NOT NULL")
    assert summary.duplicate_rows > 0
    assert rows.aggregate("count(*) - count(DISTINCT event_id)").fetchone()[0] == summary.duplicate_rows
    assert summary.duplicate_rows / summary.events_written == pytest.approx(0.002, rel=0.5)
    copies = con.sql("""
        SELECT count(DISTINCT (occurred_at, user_id, event_name, workspace_id, project_id, platform, properties)),
               count(DISTINCT received_at), count(DISTINCT filename)
        FROM rows GROUP BY event_id HAVING count(*) > 1
    """).fetchall()
    assert copies and all(variants == 1 and arrivals > 1 for variants, arrivals, _ in copies)
    assert any(files > 1 for *_, files in copies)


def test_late_rows(default_sample):
    landing, summary = default_sample
    late = all_rows(connect(), landing).filter("received_at - occurred_at > INTERVAL 1 DAY")
    assert count(late) == summary.late_rows
    assert summary.late_rows / summary.events_written == pytest.approx(0.01, rel=0.4)
    longest_lag, last_arrival = late.aggregate("max(received_at - occurred_at), max(received_at)").fetchone()
    assert longest_lag <= datetime.timedelta(days=20)
    assert last_arrival < datetime.datetime(2026, 10, 31, tzinfo=datetime.UTC)


def test_every_event_name_appears_with_realistic_weights(default_sample):
    landing, _ = default_sample
    counts = dict(all_rows(connect(), landing).aggregate("event_name, count(*)").fetchall())
    assert set(event_names) <= set(counts)
    assert set(property_fields) == set(event_names)
    assert counts["ide_file_opened"] > 20 * counts["deploy_failed"]
    assert counts["page_view"] > 5 * counts["invitation_accepted"]
    assert counts["build_started"] > 5 * counts["factory_created"]


def test_column_values(default_sample):
    landing, _ = default_sample
    con = connect()
    rows = all_rows(con, landing).filter("event_id IS NOT NULL AND user_id IS NOT NULL AND event_name IS NOT NULL")
    assert {p for (p,) in rows.project("platform").distinct().fetchall()} == set(platforms)
    assert count(rows, "(page IS NOT NULL) <> (event_name = 'page_view')") == 0
    assert count(rows, "NOT json_valid(properties) OR json_type(properties::JSON) <> 'OBJECT'") == 0
    assert count(rows, "properties = '{}'") > 0
    assert 0.35 < rows.aggregate("avg((session_id IS NOT NULL)::INT)").fetchone()[0] < 0.65
    assert 0.03 < count(raw_json(con, landing)) / count(all_rows(con, landing)) < 0.08
    id_patterns = {
        "event_id": r"evt_42_\d+", "user_id": r"usr_\d{6}", "organization_id": r"org_\d{4}",
        "workspace_id": r"ws_\d{5}", "project_id": r"prj_\d{6}",
    }
    for column, pattern in id_patterns.items():
        assert count(rows, f"NOT regexp_full_match({column}, '{pattern}')") == 0, column


def test_about_three_percent_of_event_users_are_missing_from_users_csv(default_sample):
    landing, summary = default_sample
    con = connect()
    rows = all_rows(con, landing)
    missing, total = con.sql(f"""
        SELECT count(DISTINCT user_id) FILTER (
                   WHERE user_id NOT IN (SELECT user_id FROM read_csv('{landing}/users.csv'))),
               count(DISTINCT user_id)
        FROM rows WHERE user_id IS NOT NULL
    """).fetchone()
    assert 0.015 <= missing / total <= 0.05
    assert count(con.sql(f"SELECT * FROM read_csv('{landing}/users.csv')")) == summary.users


def test_dimensions_are_consistent(default_sample):
    landing, summary = default_sample
    con = connect()
    orgs = con.sql(f"SELECT * FROM read_csv('{landing}/organizations.csv')")
    users = con.sql(f"SELECT * FROM read_csv('{landing}/users.csv')")
    workspaces = con.sql(f"SELECT * FROM read_parquet('{landing}/workspaces.parquet')")
    members = con.sql(f"SELECT * FROM read_csv('{landing}/workspace_members.csv')")
    assert orgs.columns == ["organization_id", "name", "domain", "plan", "created_at"]
    assert users.columns == [
        "user_id", "email", "first_name", "last_name", "company", "organization_id", "registered_at"]
    assert workspaces.columns == ["workspace_id", "name", "organization_id", "owner_user_id", "created_at"]
    assert members.columns == ["workspace_id", "user_id", "role", "invited_at"]
    assert count(orgs) == summary.organizations >= 3 and count(workspaces) == summary.workspaces
    for name in ("organizations.csv", "users.csv", "workspace_members.csv"):
        first_row = (landing / name).read_text().splitlines()[1]
        assert re.search(r",\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", first_row), name

    email = "lower(replace(first_name, '-', '') || '.' || replace(last_name, '-', '')) || '%@' || o.domain"
    assert count(con.sql(f"SELECT * FROM users JOIN orgs o USING (organization_id) WHERE email NOT LIKE {email} "
                         "OR company <> o.name")) == 0
    assert users.aggregate("count(DISTINCT email) = count(*)").fetchone()[0]
    assert users.aggregate("count(DISTINCT split_part(email, '@', 2))").fetchone()[0] >= 3

    owner_roles = con.sql("""
        SELECT m.role FROM workspaces w
        LEFT JOIN members m ON m.workspace_id = w.workspace_id AND m.user_id = w.owner_user_id
    """).fetchall()
    assert owner_roles and set(owner_roles) == {("admin",)}
    assert {r for (r,) in members.project("role").distinct().fetchall()} == {"admin", "developer"}
    assert count(con.sql("""
        SELECT * FROM members m JOIN users u USING (user_id) JOIN workspaces w USING (workspace_id)
        WHERE u.organization_id <> w.organization_id
    """)) == 0
    assert members.aggregate("user_id, count(*) AS n").aggregate("min(n), max(n)").fetchone() == (1, 3)

    # Known users act in their own organization's workspaces they are members of, after registering.
    rows = all_rows(con, landing)
    assert count(con.sql("""
        SELECT * FROM rows r JOIN users u USING (user_id)
        WHERE r.organization_id <> u.organization_id OR r.occurred_at < u.registered_at
           OR (r.workspace_id, r.user_id) NOT IN (SELECT (workspace_id, user_id) FROM members)
    """)) == 0


def test_activity_looks_like_sessions(default_sample):
    landing, _ = default_sample
    con = connect()
    rows = all_rows(con, landing)
    background = ", ".join(f"'{name}'" for name in background_events)
    con.execute(f"""
        CREATE TABLE activity AS
        SELECT user_id, occurred_at, event_name,
               occurred_at - lag(occurred_at) OVER (PARTITION BY user_id ORDER BY occurred_at) AS gap
        FROM (SELECT DISTINCT ON (event_id) * FROM rows
              WHERE user_id IS NOT NULL AND occurred_at IS NOT NULL AND event_name NOT IN ({background}))
    """)
    con.execute("""
        CREATE TABLE sessions AS
        SELECT user_id, min(occurred_at) AS started, max(occurred_at) AS ended,
               arg_min(event_name, occurred_at) AS first_event
        FROM (SELECT *, count(*) FILTER (WHERE gap IS NULL OR gap > INTERVAL 30 MINUTE)
                        OVER (PARTITION BY user_id ORDER BY occurred_at ROWS UNBOUNDED PRECEDING) AS session
              FROM activity)
        GROUP BY user_id, session
    """)
    sessions = con.table("sessions")
    total = count(sessions)
    assert total > 1000
    assert count(sessions, "started::DATE <> ended::DATE") > 0
    assert 0 < count(sessions, "ended - started > INTERVAL 30 MINUTE") < total / 3
    openers = "('login', 'session_start', 'workspace_focus', 'workspace_started', 'app_opened', 'page_view')"
    assert count(sessions, f"first_event IN {openers}") > 0.6 * total

    activity = con.table("activity")
    # 2026-10-01 to 2026-10-30: 22 weekdays and 8 weekend days.
    weekday_daily = count(activity, "isodow(occurred_at) <= 5") / 22
    weekend_daily = count(activity, "isodow(occurred_at) > 5") / 8
    assert weekday_daily > 2 * weekend_daily
    assert count(activity, "gap < INTERVAL 5 MINUTE") > 0.8 * count(activity, "gap IS NOT NULL")
    # Background events also happen in the idle time between sessions.
    assert count(con.sql(f"""
        SELECT * FROM rows r
        WHERE event_name IN ({background}) AND NOT EXISTS (
            SELECT 1 FROM sessions s
            WHERE s.user_id = r.user_id
              AND r.occurred_at BETWEEN s.started - INTERVAL 30 MINUTE AND s.ended + INTERVAL 30 MINUTE)
    """)) > 0


@pytest.mark.parametrize(("users", "days", "events"), [(30, 5, 20_000), (200, 30, 3_000), (5, 2, 50_000)])
def test_events_target_lands_within_ten_percent(tmp_path, users, days, events):
    summary = generate_sample(tmp_path, users=users, days=days, events=events)
    assert abs(summary.events_written - events) <= 0.1 * events


def test_regenerating_replaces_the_previous_sample(tmp_path):
    landing = tmp_path / "landing"
    stale = landing / "events" / "received_date=2020-01-01" / "events.parquet"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    generate_sample(landing, users=10, days=2, seed=1)
    summary = generate_sample(landing, users=10, days=2, seed=2)
    assert not stale.exists()
    assert sorted(p for p in landing.rglob("*") if p.is_file()) == summary.files
    seeds = all_rows(connect(), landing).filter("event_id IS NOT NULL").project("split_part(event_id, '_', 2)")
    assert seeds.distinct().fetchall() == [("2",)]


def test_command_line(tmp_path, capsys):
    arguments = ["--landing-dir", str(tmp_path), "--users", "10", "--days", "2", "--seed", "3",
                 "--start-date", "2026-01-05", "--events", "2k"]
    assert main(arguments) == 0
    output = capsys.readouterr().out.strip()
    assert "\n" not in output and re.search(r"wrote [\d,]+ events", output)
    assert sorted(partition_date(p) for p in tmp_path.glob(parquet_glob)) == [
        datetime.date(2026, 1, 5), datetime.date(2026, 1, 6)]


@pytest.mark.parametrize(("text", "expected"), [("10M", 10_000_000), ("500k", 500_000), ("1.5M", 1_500_000),
                                                ("1234", 1234)])
def test_event_count_suffixes(text, expected):
    assert event_count(text) == expected
