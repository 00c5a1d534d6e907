"""The spark target, on a local pyspark session: the sessionization rules, incremental loads, the bad-input catalogue
and period reports in a half-hour zone on Spark, checked against the reference and against the duckdb target on the
same landed files, row for row and id for id; the dbt unit tests; the time zone check; and dbt's date spines, right
through dwell's spark__dateadd. The whole warehouse with its data tests, through the Dagster assets, is on a cluster
in tests/engines/test_spark_cluster.py.

Spark runs in a subprocess (tests/engines/spark_steps.py, or `dbt show`), so its JVM ends with it."""

import datetime
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import (
    INCREMENTAL_MODELS,
    INCREMENTAL_TABLES,
    PERIOD_MODELS,
    SESSION_MODELS,
    SPARK_FOLDER_TABLES,
    SPARK_VIEW,
    STAGING_TABLES,
    SparkWarehouse,
    Warehouse,
    arrival_batches,
    canonical_rows,
    land_bad_input_catalogue,
    land_events,
    land_first_contact_files,
    random_events,
    random_rules,
    rules_vars,
    spark_environment,
)
from orchestration.sample_data import generate_sample
from orchestration.settings import PROJECT_DIR
from reference_sessions import sessionize

SPINES = {
    "day": ("2026-02-27", "2026-03-02"),
    "week": ("2026-01-05", "2026-02-02"),
    "month": ("2026-01-01", "2026-04-01"),
    "quarter": ("2025-01-01", "2026-01-01"),
    "year": ("2023-01-01", "2026-01-01"),
}
EXPECTED = {
    "day": ["2026-02-27", "2026-02-28", "2026-03-01"],
    "week": ["2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26"],
    "month": ["2026-01-01", "2026-02-01", "2026-03-01"],
    "quarter": ["2025-01-01", "2025-04-01", "2025-07-01", "2025-10-01"],
    "year": ["2023-01-01", "2024-01-01", "2025-01-01"],
}
# Runs `dbt show` in-process in the child and prints its rows as JSON lines.
SHOW_ROWS = """
import json, sys
from dbt.cli.main import dbtRunner
result = dbtRunner().invoke(sys.argv[1:])
if not result.success:
    sys.exit(f"dbt show failed: {result.exception}")
table = result.result.results[0].agate_table
for row in table.rows:
    print("ROW " + json.dumps([str(value) for value in row]))
"""


def spark_rows(sql: str, tmp_path: Path) -> list[list[str]]:
    completed = subprocess.run(
        [sys.executable, "-c", SHOW_ROWS, "show", "--quiet", "--target", "spark", "--target-path",
         str(tmp_path / "target"), "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
         "--inline", sql, "--limit", "1000"],
        capture_output=True, text=True, env=spark_environment(tmp_path), timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-4000:] + completed.stdout[-4000:]
    return [json.loads(line[4:]) for line in completed.stdout.splitlines() if line.startswith("ROW ")]


def test_date_spines_of_every_grain_and_the_time_zone_check_on_spark(tmp_path):
    """dbt's date spines, through spark__dateadd; and reporting_time_zone's check (dwell_time_zone_setting), which asks
    Spark's JVM as it asks DuckDB and Postgres. One query: each costs a JVM."""
    spines = " union all ".join(
        f"select '{grain}' as grain, cast(cast(date_{grain} as date) as string) as value from ("
        f"{{{{ dbt.date_spine('{grain}', \"cast('{start}' as date)\", \"cast('{end}' as date)\") }}}}) as {grain}_spine"
        for grain, (start, end) in SPINES.items()
    )
    # Asked when the query runs (execute), not when dbt parses it.
    exists = "{{{{ adapter.dispatch('dwell_time_zone_exists', 'dwell')('{}') if execute else 'null' }}}}"
    zones = " union all ".join(f"select 'zone {zone}' as grain, cast({exists.format(zone)} as string) as value"
                               for zone in ("Asia/Kolkata", "UTC", "Mars/Olympus_Mons"))
    rows = spark_rows(f"{spines} union all {zones}", tmp_path)

    found = {grain: sorted(value for row_grain, value in rows if row_grain == grain) for grain in SPINES}
    assert found == EXPECTED
    assert sorted(row for row in rows if row[0].startswith("zone ")) == [
        ["zone Asia/Kolkata", "true"], ["zone Mars/Olympus_Mons", "false"], ["zone UTC", "true"]]


def assert_tables_equal(spark: SparkWarehouse, warehouse: Warehouse, tables: list[str]) -> None:
    for table in tables:
        assert canonical_rows(spark.records(table)) == canonical_rows(warehouse.records(f"select * from {table}")), \
            table


def test_sessions_on_spark_follow_the_rules(warehouse: Warehouse, tmp_path: Path):
    spark = SparkWarehouse(tmp_path)
    rng = random.Random(11)
    rules = random_rules(rng)
    events = random_events(rng, rules, users=12)
    land_events(warehouse, events)
    dbt_vars = rules_vars(rules)
    spark.run([spark.step(select=SESSION_MODELS, dbt_vars=dbt_vars, full_refresh=True,
                          export=["marts.fct_sessions", "marts.fct_session_events"])])

    expected = sessionize(events, rules, newest_us=max(e.occurred_us for e in events))
    sessions = {row["session_id"]: row for row in spark.records("marts.fct_sessions")}
    membership = spark.records("marts.fct_session_events")
    assert sorted(sessions) == sorted(s.session_id for s in expected), rules
    assert {row["event_id"]: row["session_id"] for row in membership} == {
        event_id: s.session_id for s in expected for event_id in s.event_ids
    }
    epoch, microsecond = datetime.datetime(1970, 1, 1), datetime.timedelta(microseconds=1)
    for session in expected:
        row = sessions[session.session_id]
        assert (row["start_reason"], row["end_reason"]) == (session.start_reason, session.end_reason), rules
        assert row["event_count"] == len(session.event_ids)
        assert ((row["session_start_at"] - epoch) // microsecond, (row["session_end_at"] - epoch) // microsecond) \
            == (session.start_us, session.end_us)
    warehouse.build(select=SESSION_MODELS, dbt_vars=dbt_vars)
    assert_tables_equal(spark, warehouse, ["marts.fct_sessions", "marts.fct_session_events"])


def test_incremental_loads_on_spark_equal_a_full_refresh(warehouse: Warehouse, tmp_path: Path):
    """Random arrival batches (shuffled, late, duplicated, re-landed, earlier copies that replace the staged one)
    loaded one at a time on Spark, then compared with a full refresh of the same files on DuckDB."""
    spark = SparkWarehouse(tmp_path)
    rng = random.Random(121252490)
    rules = random_rules(rng)
    events = random_events(rng, rules, users=12)
    # Three loads: each costs a Spark build of the incremental models.
    batches = arrival_batches(rng, events, batches=3)
    dbt_vars = rules_vars(rules)
    arriving = tmp_path / "arriving"
    steps = []
    for index, rows in enumerate(batches):
        # Written now, landed when the child process reaches the batch's step.
        name = f"events/batch_{index:02d}.jsonl"
        (arriving / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(warehouse.write_jsonl(name, rows), arriving / name)
        moves = [(arriving / name, warehouse.landing / name)]
        if index == 1:  # a file landed twice under another name: only duplicates
            shutil.copy(arriving / "events/batch_00.jsonl", arriving / "events/relanded.jsonl")
            moves.append((arriving / "events/relanded.jsonl", warehouse.landing / "events/relanded.jsonl"))
        steps.append(spark.step(select=INCREMENTAL_MODELS, dbt_vars=dbt_vars, move=moves,
                                export=INCREMENTAL_TABLES if index == len(batches) - 1 else []))
    # In the same Spark session, saving a JVM's start: the unit tests pin every var and give every input.
    steps.append(spark.unit_tests_step(dbt_vars))
    spark.run(steps)
    warehouse.build(select=INCREMENTAL_MODELS, dbt_vars=dbt_vars, full_refresh=True)
    assert_tables_equal(spark, warehouse, INCREMENTAL_TABLES)


def test_bad_input_and_period_reports_in_a_half_hour_zone_on_spark_equal_duckdb(warehouse: Warehouse,
                                                                                   tmp_path: Path):
    """The bad-input catalogue beside the sample, reported in Asia/Kolkata (UTC+05:30): unreadable files, non-text
    values, lines that are not JSON (with their text and line number), a byte-order mark, a JSON array, files not
    taken and duplicates are staged, quarantined, counted and listed as on DuckDB, and days, weeks and months cut
    where DuckDB cuts them."""
    generate_sample(warehouse.landing, users=12, days=4, seed=11)
    land_bad_input_catalogue(warehouse)
    land_first_contact_files(warehouse)
    zone = {"reporting_time_zone": "Asia/Kolkata"}
    selection = (f"{PERIOD_MODELS} +fct_sessions +rpt_load_audit +rpt_load_files +stg_events_quarantined "
                 "+stg_events_duplicates")
    tables = [*STAGING_TABLES, "marts.fct_sessions", "marts.rpt_load_audit", "marts.rpt_load_files",
              "intermediate.int_user_period_activity", "marts.rpt_period_summary", "marts.rpt_user_period_activity"]
    spark = SparkWarehouse(tmp_path)
    spark.run([spark.step(select=selection, dbt_vars=zone, export=tables)])
    warehouse.build(select=selection, dbt_vars=zone)
    assert warehouse.records("select count(*) as n from staging.stg_events_quarantined")[0]["n"] > 0
    assert_tables_equal(spark, warehouse, tables)


# Each incremental table that deletes rows, and its partition column on Spark (dwell_spark_partition_by).
PARTITIONED = {
    "staging.stg_landed_events": "load_id", "intermediate.int_activity_quarter_hours": "session_date",
    "intermediate.int_category_sessions": "activity_date", "intermediate.int_session_idle_gaps": "session_date",
    "intermediate.int_user_period_activity": "period_start", "marts.fct_session_events": "session_date",
    "marts.fct_sessions": "session_date", "marts.fct_session_metrics": "session_date",
    "marts.fct_page_views": "session_date", "marts.fct_micro_sessions": "session_date",
    "marts.fct_session_breaks": "session_date", "marts.sessions_concluded": "session_date",
    "marts.fct_user_activity_daily": "activity_date",
}
PARTITIONED_MODELS = " ".join(f"+{name.split('.')[1]}" for name in PARTITIONED)


def partition_files(listing: Path) -> dict[str, dict[str, frozenset]]:
    """Per table, each partition's data files with their modification times, from a list_files step's listing."""
    files = json.loads(listing.read_text())
    tables = {name: {} for name in PARTITIONED}
    for path, modified in files.items():
        folder, table, partition, file = (path.split("/") + ["", "", ""])[:4]
        name = f"{folder.removesuffix('.db')}.{table}"
        prefix = f"{PARTITIONED.get(name)}="
        if name in tables and partition.startswith(prefix) and file and not file.startswith((".", "_")):
            value = partition.removeprefix(prefix)
            tables[name][value] = tables[name].get(value, frozenset()) | {(file, modified)}
    return tables


def test_incremental_runs_on_spark_rewrite_only_the_partitions_they_change(warehouse: Warehouse, tmp_path: Path):
    """A new day rewrites no earlier day's partition; a late event that merges the sessions either side of midnight
    rewrites the partitions of those sessions' day and drops the next day's, now empty, and every table equals a full
    refresh on DuckDB."""
    def at(day: int, clock: str) -> str:
        return f"2026-03-{day:02d}T{clock}:00Z"

    def rows(*events: tuple[str, str, int, str]) -> list[dict[str, str]]:
        return [{"event_id": event_id, "user_id": user, "event_name": "page_view", "page": "/home",
                 "workspace_id": f"w-{user}", "occurred_at": at(day, clock), "received_at": at(day, clock)}
                for event_id, user, day, clock in events]

    # u1's sessions either side of midnight on the 11th are 35 minutes apart; the 12th has no other session.
    history = rows(("a1", "u1", 10, "10:00"), ("a2", "u1", 10, "10:05"), ("a3", "u1", 11, "23:50"),
                   ("a4", "u1", 11, "23:55"), ("a5", "u1", 12, "00:30"), ("a6", "u1", 12, "00:35"),
                   ("a7", "u1", 13, "09:00"), ("b1", "u2", 10, "11:00"), ("b2", "u2", 10, "11:20"),
                   ("b3", "u2", 11, "14:00"), ("b4", "u2", 13, "15:00"), ("c1", "u3", 10, "08:00"),
                   ("c2", "u3", 11, "08:10"), ("c3", "u3", 13, "08:00"))
    new_day = rows(("a8", "u1", 14, "10:00"), ("b5", "u2", 14, "10:00"), ("b6", "u2", 14, "10:10"),
                   ("c4", "u3", 14, "12:00"))
    late = [{**row, "received_at": at(14, "13:00")} for row in rows(("a9", "u1", 12, "00:12"))]
    arriving = tmp_path / "arriving"
    moves = []
    for name, batch in (("history", history), ("new_day", new_day), ("late", late)):
        path = arriving / f"events/{name}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(warehouse.write_jsonl(f"events/{name}.jsonl", batch), path)
        moves.append([(path, warehouse.landing / f"events/{name}.jsonl")])
    spark = SparkWarehouse(tmp_path)
    listings = [tmp_path / f"files-{load}.json" for load in range(3)]
    locations = tmp_path / "locations.json"
    # The first load names the folder by its path; the later ones by DWELL_SPARK_DIR_URI, as spark_environment sets it.
    spark_view_uri = spark_environment(tmp_path)["DWELL_SPARK_DIR_URI"]
    spark.run([spark.step(select=PARTITIONED_MODELS, move=moves[load], list_files=listings[load],
                          export=list(PARTITIONED) if load == 2 else [], locations=locations if load == 2 else None,
                          environment={"DWELL_SPARK_DIR_URI": spark_view_uri if load else ""})
               for load in range(3)])
    first, second, third = (partition_files(listing) for listing in listings)

    # Spark reads what Python wrote by the name DWELL_SPARK_DIR_URI gives the folder, and the tables declared at the
    # folder's path by the first load moved there (Hadoop writes a local file URI with one slash).
    assert json.loads(locations.read_text()) == {
        table: f"file:{tmp_path / SPARK_VIEW}/{table.replace('.', '/')}" for table in SPARK_FOLDER_TABLES}

    earlier_days = ["2026-03-10", "2026-03-11", "2026-03-12"]
    for table in PARTITIONED:
        assert first[table] and all(second[table].values()), table
        if table == "staging.stg_landed_events":
            [first_load] = first[table]
            assert second[table][first_load] == first[table][first_load]
            continue
        # A week's or month's period row starts on its Monday or 1st: none of them is an event day here.
        assert {day: second[table][day] for day in earlier_days if day in first[table]} \
            == {day: first[table][day] for day in earlier_days if day in first[table]}, table
        assert "2026-03-14" in second[table], table
    for table in ("marts.fct_sessions", "marts.fct_session_events", "marts.fct_page_views",
                  "marts.sessions_concluded"):
        assert third[table]["2026-03-10"] == second[table]["2026-03-10"], table
        assert third[table]["2026-03-11"] != second[table]["2026-03-11"], table
        assert "2026-03-12" in second[table] and "2026-03-12" not in third[table], table

    warehouse.build(select=PARTITIONED_MODELS, full_refresh=True)
    merged = warehouse.records("select event_count from marts.fct_sessions where session_date = '2026-03-11' "
                               "and user_id = 'u1'")
    assert merged == [{"event_count": 5}]
    assert_tables_equal(spark, warehouse, list(PARTITIONED))
