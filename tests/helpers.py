"""What the tests share: a warehouse of their own built with the real dbt project, landed-event builders and
writers, the sample's files landed by arrival day, random event streams that hit every sessionization boundary,
table comparisons, a webhook that records what it receives, and dwell serve's sample with its serving copies and
tokens. No test module imports another; they import this
one (and tests/reference_sessions.py, the independent statement of the sessionization rules)."""

import gzip
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.alerts.webhook import WEBHOOK_URL_VARIABLE
from orchestration.dbt_invoke import run_dbt
from orchestration.settings import PROJECT_DIR, environment
from orchestration.engines.landing_copy import copy_landing_to_postgres
from orchestration.engines.postgres import postgres_connection
from orchestration.sample_data import generate_sample
from orchestration.serving.snapshot import MANIFEST_FILE, PARQUET_DIR
from reference_sessions import Event, Rules

UTC = timezone.utc
BOM = b"\xef\xbb\xbf"

# Selections of the dbt project shared by the tests on several engines.
SESSION_MODELS = "+fct_sessions +fct_session_events"
# The session marts, and the marts and intermediate tables an incremental run rebuilds per changed session.
INCREMENTAL_MODELS = ("+fct_sessions +fct_session_events +dim_users +dim_workspaces +fct_micro_sessions "
                      "+fct_page_views +fct_session_metrics +int_activity_quarter_hours +int_category_sessions "
                      "+int_session_idle_gaps +int_workspace_sessions")
INCREMENTAL_TABLES = ["marts.fct_session_events", "marts.fct_sessions", "marts.dim_users", "marts.dim_workspaces",
                      "marts.fct_micro_sessions", "marts.fct_page_views", "marts.fct_session_metrics",
                      "intermediate.int_activity_quarter_hours", "intermediate.int_category_sessions",
                      "intermediate.int_session_idle_gaps", "intermediate.int_workspace_sessions",
                      "intermediate.int_user_event_days"]
PERIOD_MODELS = "+rpt_period_summary +rpt_user_period_activity"
STAGING_TABLES = ["staging.stg_events", "staging.stg_events_quarantined", "staging.stg_events_duplicates"]
# Columns that identify a run or a load (ids, times), not data: they differ between any two warehouses.
RUN_COLUMNS = {"load_id", "decided_in_load_id", "loaded_at", "run_id", "changed_at"}


# The shared sample (tests/conftest.py, sample_warehouse): every test that reads a generated sample without landing it
# in steps reads this one, built once per run under these vars: each test's rules, read by models of their own (the
# tests check those models only).
SAMPLE = {"users": 20, "days": 14, "seed": 11}
SESSION_METRICS = [
    {"name": "build_failures", "event_names": ["build_failed"], "aggregation": "count"},
    {"name": "distinct_pages", "aggregation": "count_distinct", "column": "page"},
    {"name": "bytes_opened", "event_names": ["ide_file_opened"], "aggregation": "sum", "property": "size_bytes"},
    {"name": "events", "aggregation": "count"},
    # Properties are read only for the event names sum metrics name, unless one names none.
    {"name": "build_ms", "event_names": ["build_succeeded", "build_failed"], "aggregation": "sum",
     "property": "duration_ms"},
    {"name": "all_ms", "aggregation": "sum", "property": "duration_ms"},
]
SAMPLE_VARS = {
    "activity_timeout_seconds": 600, "activity_categories": ["ide", "web_terminal", "build", "login"],
    "inactive_after_days": 3, "session_metrics": SESSION_METRICS,
}


# --- dbt ---------------------------------------------------------------------------------------------------------

def target_path(root: Path, dbt_vars: Mapping[str, Any] | None = None, **settings: str) -> Path:
    """A dbt target path under root for these vars and the DWELL_* settings dbt reads (the environment's, but for
    those given). dbt parses the whole project anew (some 10 s) when its vars, its profile or the landing directory
    differ from its last parse in the target path; one target path per combination keeps a partial parse for each,
    whatever ran in between."""
    settings = {**{name: value for name, value in os.environ.items()
                   if name.startswith("DWELL_") and name not in ("DWELL_WINDOW_START", "DWELL_WINDOW_END")},
                **settings}
    key = json.dumps([dbt_vars or {}, settings], sort_keys=True, default=str)
    return root / f"target-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


@dataclass
class Warehouse:
    """A landing directory and a DuckDB warehouse of their own, built with the real dbt project. dbt's target paths
    go under `targets` (target_path)."""

    landing: Path
    path: Path
    targets: Path

    def settings(self) -> dict[str, str]:
        """The environment that points dbt at this warehouse."""
        return {"DWELL_LANDING_DIR": str(self.landing), "DWELL_DUCKDB_PATH": str(self.path)}

    def target(self, dbt_vars: Mapping[str, Any] | None = None) -> Path:
        return target_path(self.targets, dbt_vars, **self.settings())

    def dbt(self, args: list[str], dbt_vars: Mapping[str, Any] | None = None):
        """A dbt command on this warehouse, in its target path for the vars."""
        with environment(self.settings()):
            return run_dbt([*args, "--target-path", str(self.target(dbt_vars))], dbt_vars)

    def build(self, *, select: str | None = None, dbt_vars: Mapping[str, Any] | None = None,
              full_refresh: bool = False, data_tests: bool = False, unit_tests: bool = False):
        """dbt build without the unit tests (tests/dbt/test_dbt_unit_tests.py runs those) and, unless asked, without
        the data tests: they take half of a small build, and the tests compare the tables themselves. Full refreshes
        (Warehouse.full_refresh), the main job and every Dagster run keep them. Nothing reads its manifest.json or
        run_results.json: not writing them saves most of a second."""
        excluded = [*([] if unit_tests else ["test_type:unit"]), *([] if data_tests else ["test_type:data"])]
        args = ["build", "--quiet", "--no-write-json", *(["--exclude", *excluded] if excluded else []),
                *(["--full-refresh"] if full_refresh else [])]
        if select:
            # Only the tests of the selected models: a relationship test may point at an unselected one.
            args += ["--select", select, "--indirect-selection", "cautious"]
        return self.dbt(args, dbt_vars)

    def full_refresh(self, path: Path, *, select: str | None = None,
                     dbt_vars: Mapping[str, Any] | None = None) -> "Warehouse":
        """The same landed files built from scratch into another warehouse file, data tests included."""
        full = Warehouse(landing=self.landing, path=path, targets=self.targets)
        full.build(select=select, dbt_vars=dbt_vars, full_refresh=True, data_tests=True)
        return full

    def copy_of(self, built: "Warehouse") -> "Warehouse":
        """This warehouse made a copy of a built one: its landed files and its warehouse file."""
        shutil.copytree(built.landing, self.landing, dirs_exist_ok=True)
        shutil.copyfile(built.path, self.path)
        return self

    def query(self, sql: str) -> pd.DataFrame:
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.sql(sql).df()

    def records(self, sql: str) -> list[dict[str, Any]]:
        """Rows as dicts of plain Python values (None for null, unlike pandas)."""
        return records(self.path, sql)

    def tables(self, tables: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """Every row of each table, in order."""
        return {table: self.records(f"select * from {table} order by all") for table in tables}

    def write_jsonl(self, relative: str, rows: Iterable[Mapping[str, Any]]) -> Path:
        path = self.landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(json.dumps(row) + "\n" for row in rows)
        if relative.endswith(".gz"):
            with gzip.open(path, "wt", encoding="utf-8") as handle:
                handle.write(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path


def records(path: Path, sql: str) -> list[dict[str, Any]]:
    """Rows of a DuckDB file as dicts of plain Python values (None for null, unlike pandas)."""
    with duckdb.connect(str(path), read_only=True) as con:
        relation = con.sql(sql)
        return [dict(zip(relation.columns, row)) for row in relation.fetchall()]


def marts(path: Path) -> dict[str, list[tuple]]:
    """Every table and view of the marts schema, rows in order."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [row[0] for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]
        return {table: con.execute(f"select * from marts.{table} order by all").fetchall() for table in tables}


def canonical_rows(rows: list[dict[str, Any]]) -> list[tuple]:
    """Rows as sorted tuples of (column, value), by column name (Spark puts a table's partition column last), without
    the columns that name a run, so that two engines' results compare exactly, types included."""
    return sorted((tuple(sorted((name, value) for name, value in row.items() if name not in RUN_COLUMNS))
                   for row in rows), key=repr)


CHROMIUM = "/usr/bin/chromium"


def launch_chromium(playwright):
    """Debian's Chromium, headless, with nothing reaching out to the network on its own."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
              "--disable-background-networking", "--disable-component-update"])


def dwell_summary(output: str) -> str:
    """The summary table a dwell command printed."""
    return output[output.index("dwell warehouse summary"):]


def published_marts(serving_dir: Path) -> dict[str, list[tuple]]:
    """Every mart of a published serving copy, as canonical rows."""
    manifest = json.loads((serving_dir / MANIFEST_FILE).read_text())
    with duckdb.connect() as con:
        marts = {}
        for name in manifest["marts"]:
            relation = con.sql(f"select * from read_parquet('{serving_dir / PARQUET_DIR / name}.parquet')")
            marts[name] = canonical_rows([dict(zip(relation.columns, row)) for row in relation.fetchall()])
    return marts


def md5(*parts: str) -> str:
    return hashlib.md5("|".join(parts).encode()).hexdigest()


# --- landed events -----------------------------------------------------------------------------------------------

def event(event_id: str, occurred_at: str, user: str = "u1", name: str = "ide_search", *,
          received_at: str | None = "", **columns: Any) -> dict[str, Any]:
    """One landed event: received when it occurred unless received_at says otherwise (None leaves the field out, as
    a client that sends none); other columns as given (page=..., workspace_id=..., organization_id=...)."""
    row = {"event_id": event_id, "user_id": user, "event_name": name, "occurred_at": occurred_at}
    if received_at is not None:
        row["received_at"] = received_at or occurred_at
    return {**row, **columns}


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def write_parquet(warehouse: Warehouse, relative: str, columns: dict) -> Path:
    path = warehouse.landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)
    return path


def write_lines(warehouse: Warehouse, relative: str, lines: list[bytes], *, start: bytes = b"",
                end: bytes = b"\n") -> None:
    path = warehouse.landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    content = start + b"".join(line + end for line in lines)
    path.write_bytes(gzip.compress(content) if relative.lower().endswith(".gz") else content)


def land_bom_file(warehouse: Warehouse) -> None:
    """Five JSON lines after a UTF-8 byte-order mark, with CRLF line ends; the first event is alone on its day."""
    lines = [json.dumps(event("bom-1", "2026-03-01T10:00:00Z", received_at=None)).encode()]
    lines += [json.dumps(event(f"bom-{n}", f"2026-03-02T10:0{n}:00Z", received_at=None)).encode()
              for n in range(2, 6)]
    write_lines(warehouse, "events/web/x.jsonl", lines, start=BOM, end=b"\r\n")


def land_first_contact_files(warehouse: Warehouse) -> None:
    """For the other engines' comparisons: a byte-order mark, lines that do not parse, a name in upper case, a JSON
    array and files the reader does not take."""
    land_bom_file(warehouse)
    write_lines(warehouse, "events/web/mixed.JSONL", [
        json.dumps(event("fc-1", "2026-03-02T11:00:00Z", "u2", received_at=None)).encode(), b"not JSON",
        b'{"event_id": "fc-bytes", "user_id": "u\xff"}',
        json.dumps(event("fc-2", "2026-03-02T11:01:00Z", "u2", received_at=None)).encode()])
    (warehouse.landing / "events/array.json").write_text(
        json.dumps([event("fc-array", "2026-03-02T11:02:00Z", "u2", received_at=None)]))
    (warehouse.landing / "events/export.csv").write_text("event_id,user_id\ne2,u1\n")
    (warehouse.landing / "events/web/notes.txt").write_text("resend on monday")


def land_bad_input_catalogue(warehouse: Warehouse) -> None:
    """The files of the bad input catalogue (tests/dbt/test_landing_contract.py), beside a good Parquet file with a
    duplicate."""
    write_parquet(warehouse, "events/good.parquet", {
        "event_id": ["p1", "p2", "p2"],
        "occurred_at": pa.array([datetime(2026, 10, 1, 10, tzinfo=UTC)] * 3, pa.timestamp("us", tz="UTC")),
        "user_id": ["u1", "u1", "u1"],
        "event_name": ["login", "ide_search", "ide_search"],
    })
    whole = (warehouse.landing / "events/good.parquet").read_bytes()
    (warehouse.landing / "events/truncated.parquet").write_bytes(whole[: len(whole) // 2])
    (warehouse.landing / "events/empty.parquet").write_bytes(b"")
    (warehouse.landing / "events/csv_named.parquet").write_text("event_id,user_id\ne9,u9\n")
    # A number where text belongs, as a typed Parquet column.
    write_parquet(warehouse, "events/typed.parquet", {
        "event_id": ["t1"], "occurred_at": ["2026-10-01T10:00:00Z"], "user_id": [7], "event_name": ["login"]})
    # Intact magic bytes and footer, garbage in the compressed pages between them.
    write_parquet(warehouse, "events/corrupt.parquet", {
        "event_id": [f"c{i}" for i in range(5000)], "occurred_at": ["2026-10-01T10:00:00Z"] * 5000,
        "user_id": ["u1"] * 5000, "event_name": ["login"] * 5000})
    corrupt = bytearray((warehouse.landing / "events/corrupt.parquet").read_bytes())
    third = len(corrupt) // 3
    corrupt[third: third + 200] = bytes(b ^ 0xFF for b in corrupt[third: third + 200])
    (warehouse.landing / "events/corrupt.parquet").write_bytes(bytes(corrupt))
    # A gzip file cut short: DuckDB alone would load the lines before the cut and say nothing.
    cut = warehouse.write_jsonl("events/cut.jsonl.gz", [
        {"event_id": f"g{i}", "user_id": "u1", "event_name": "login", "occurred_at": "2026-10-01T10:00:00Z"}
        for i in range(5000)])
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    (warehouse.landing / "events/blank.jsonl").write_text("")
    huge = "x" * 2_000_000
    lines = [
        json.dumps({"event_id": "j1", "user_id": "u1", "event_name": "page_view",
                    "occurred_at": "2026-10-01T10:01:00Z", "properties": {"blob": huge}}).encode(),
        b"this line is not JSON",
        b'{"event_id": "j2", "user_id": "u\xff\xfe", "event_name": "login", "occurred_at": "2026-10-01T10:02:00Z"}',
        json.dumps({"event_id": "j3", "user_id": {"id": 1}, "event_name": "login",
                    "occurred_at": "2026-10-01T10:03:00Z"}).encode(),
        json.dumps({"event_id": "j4", "user_id": "u1", "event_name": ["login"],
                    "occurred_at": "2026-10-01T10:04:00Z"}).encode(),
        json.dumps({"event_id": "j5", "user_id": "u1", "event_name": "login",
                    "occurred_at": "1970-01-01T00:00:00Z"}).encode(),
        json.dumps({"event_id": "j6", "user_id": 42, "event_name": "login",
                    "occurred_at": "2026-10-01T10:06:00Z"}).encode(),
        json.dumps({"event_id": "j7", "user_id": "u1", "event_name": "login", "workspace_id": True,
                    "occurred_at": "2026-10-01T10:07:00Z"}).encode(),
        json.dumps({"event_id": "p1", "user_id": "u1", "event_name": "login",
                    "occurred_at": "2026-10-01T10:00:00Z", "received_at": "2026-10-02T00:00:00Z"}).encode(),
    ]
    (warehouse.landing / "events/mixed.jsonl").write_bytes(b"\n".join(lines) + b"\n")


# --- the generated sample ----------------------------------------------------------------------------------------

def received_date(path: Path) -> str | None:
    """The arrival day of a sample file (its received_date=YYYY-MM-DD folder); None for a dimension file."""
    return next((part.split("=", 1)[1] for part in path.parts if part.startswith("received_date=")), None)


def sample_files(sample: Path, received_from: str | None = None, received_before: str | None = None, *,
                 events: bool = True, dimensions: bool = False) -> list[Path]:
    """The sample's event files received in [received_from, received_before), and its dimension files if asked."""
    files = []
    for path in sorted(sample.rglob("*")):
        if not path.is_file():
            continue
        day = received_date(path.relative_to(sample))
        if day is None:
            if dimensions:
                files.append(path)
        elif events and (received_from is None or day >= received_from) and (
                received_before is None or day < received_before):
            files.append(path)
    return files


def land_sample_files(sample: Path, landing: Path, received_from: str | None = None,
                      received_before: str | None = None, *, events: bool = True, dimensions: bool = False) -> None:
    """Copy the sample's event files received in [received_from, received_before) (unless not asked) and its
    dimension files (if asked) into the landing directory, at the same place."""
    for path in sample_files(sample, received_from, received_before, events=events, dimensions=dimensions):
        target = landing / path.relative_to(sample)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def sample_without_its_last_day(warehouse: Warehouse, tmp_path: Path) -> list[tuple[Path, Path]]:
    """The sample (12 users, 4 days) landed without the files received on its last day; returns their moves into
    the landing directory, for the second load."""
    generate_sample(warehouse.landing, users=12, days=4, seed=7)
    moves = []
    for folder in sorted(warehouse.landing.rglob("received_date=2026-10-04")):
        held_back = tmp_path / "held-back" / folder.relative_to(warehouse.landing)
        held_back.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(folder, held_back)
        moves.append((held_back, folder))
    return moves


def land_moves(moves: list[tuple[Path, Path]]) -> None:
    for source, destination in moves:
        shutil.move(source, destination)


def day_after(day: str) -> str:
    return (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()


# --- random event streams ----------------------------------------------------------------------------------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RESTART_CANDIDATES = ["login", "session_start", "app_opened"]
END_CANDIDATES = ["logout", "session_end", "workspace_blur"]
NOT_COUNTED = ["notification_sent", "identity_set", "utm_visited"]
ORDINARY = ["ide_search", "build_started", "page_view", "custom_unknown_event", "workspace_focus"]


def random_rules(rng: random.Random) -> Rules:
    timeout_us = rng.choice([450_000, 1_500_000, 60_000_000, 600_000_000, 1_800_000_000])
    return Rules(
        timeout_us=timeout_us,
        restart_events=frozenset(rng.sample(RESTART_CANDIDATES, rng.randint(0, 2))),
        end_events=frozenset(rng.sample(END_CANDIDATES, rng.randint(0, 2))),
        max_length_us=rng.choice([None, timeout_us * rng.randint(2, 6), 3_600_000_000]),
        partition_by=rng.choice([("user_id",), ("user_id", "workspace_id")]),
    )


def random_gap(rng: random.Random, timeout_us: int) -> int:
    """Gaps that hit every boundary: equal to the timeout, a microsecond either side, zero, and anything else."""
    return rng.choice([
        timeout_us, timeout_us + 1, timeout_us - 1, 0, 1,
        rng.randint(0, timeout_us), rng.randint(timeout_us, timeout_us * 4),
    ])


def random_events(rng: random.Random, rules: Rules, users: int) -> list[Event]:
    events = []
    names = RESTART_CANDIDATES + END_CANDIDATES + NOT_COUNTED + ORDINARY * 3
    for user in range(users):
        # Start near midnight so sessions cross it.
        at_us = int((datetime(2026, 3, 1, 23, 40, tzinfo=UTC) - EPOCH).total_seconds() * 1e6)
        for index in range(rng.randint(1, 40)):
            at_us += random_gap(rng, rules.timeout_us)
            name = rng.choice(names)
            events.append(Event(
                event_id=f"e{rng.randint(0, 10**9):09d}-{user}-{index}",
                user_id=f"u{user}",
                workspace_id=rng.choice(["w1", "w2", None]),
                event_name=name,
                occurred_us=at_us,
                counted=name not in NOT_COUNTED,
            ))
    return events


def iso_us(occurred_us: int) -> str:
    return (EPOCH + timedelta(microseconds=occurred_us)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def land_events(warehouse: Warehouse, events: list[Event]) -> None:
    warehouse.write_jsonl("events/stream.jsonl", [
        {"event_id": e.event_id, "user_id": e.user_id, "workspace_id": e.workspace_id,
         "event_name": e.event_name, "occurred_at": iso_us(e.occurred_us)}
        for e in events
    ])


def rules_vars(rules: Rules) -> dict:
    """The dbt vars that set the rules."""
    return {
        "session_timeout_seconds": rules.timeout_us / 1e6,
        "session_restart_events": sorted(rules.restart_events),
        "session_end_events": sorted(rules.end_events),
        "session_max_length_seconds": 0 if rules.max_length_us is None else rules.max_length_us / 1e6,
        "session_partition_by": list(rules.partition_by),
    }


def arrival_batches(rng: random.Random, events: list[Event], batches: int) -> list[list[dict]]:
    """The events as rows cut into arrival batches: shuffled, some re-sent later (duplicates that never win), some
    copies received earlier that replace the staged version."""
    rows = []
    for event_ in events:
        row = {"event_id": event_.event_id, "user_id": event_.user_id, "workspace_id": event_.workspace_id,
               "event_name": event_.event_name, "occurred_at": iso_us(event_.occurred_us),
               "received_at": iso_us(event_.occurred_us + 5_000_000)}
        rows.append((rng.randrange(batches), row))
        if rng.random() < 0.05:  # re-sent later: a duplicate that never wins
            rows.append((rng.randrange(batches), {**row, "received_at": iso_us(event_.occurred_us + 86_400_000_000)}))
        if rng.random() < 0.03:  # a copy received earlier, arriving in any batch: it replaces the staged version
            replacement = {**row, "event_name": rng.choice(["login", "logout", "ide_search"]),
                           "received_at": iso_us(event_.occurred_us + 1)}
            rows.append((rng.randrange(batches), replacement))
    by_batch: list[list[dict]] = [[] for _ in range(batches)]
    for batch, row in rows:
        by_batch[batch].append(row)
    return by_batch


# --- dwell serve (tests/web) --------------------------------------------------------------------------------------

@dataclass
class ServeSample:
    """A built warehouse published as serving copy A, and copy B: the same with the newest day's sessions removed and
    one user renamed, for the hot-swap tests. Tokens: an admin's and one per organization."""

    warehouse: Warehouse
    serving_a: Path
    serving_b: Path
    tokens_file: Path
    admin: str
    org_tokens: dict[str, str]

    @property
    def organizations(self) -> list[str]:
        return sorted(self.org_tokens)

    def environment(self) -> dict[str, str]:
        return {**self.warehouse.settings(), "DWELL_SERVING_DIR": str(self.serving_a),
                "DWELL_TOKENS_FILE": str(self.tokens_file)}

    def marts(self, sql: str, parameters=None, copy: str = "a") -> list[dict[str, Any]]:
        """Rows of a serving copy's marts, straight from DuckDB (what the API must agree with)."""
        path = (self.serving_a if copy == "a" else self.serving_b) / "dwell.duckdb"
        with duckdb.connect(str(path), read_only=True) as con:
            relation = con.execute(sql, parameters or [])
            columns = [column[0] for column in relation.description]
            return [dict(zip(columns, row)) for row in relation.fetchall()]


def build_serve_sample(root: Path) -> ServeSample:
    """The bundled generator's sample (36 users in 3 organizations, 8 days) built and published under root."""
    from orchestration.serving.snapshot import publish
    from orchestration.serving.web.tokens import TokenStore

    warehouse = Warehouse(landing=root / "landing", path=root / "warehouse" / "web.duckdb", targets=root)
    warehouse.landing.mkdir(parents=True)
    warehouse.path.parent.mkdir()
    serving_a, serving_b = root / "serving", root / "serving-b"
    generate_sample(warehouse.landing, users=36, days=8, seed=39)
    warehouse.build()
    publish(warehouse.path, serving_a)
    # Copy B: the tests put it in place with a rename, as publish() does.
    serving_b.mkdir()
    shutil.copy2(serving_a / "dwell.duckdb", serving_b / "dwell.duckdb")
    with duckdb.connect(str(serving_b / "dwell.duckdb")) as con:
        newest = con.execute("select max(session_date) from marts.fct_sessions").fetchone()[0]
        for table in ["fct_sessions", "fct_session_events", "fct_micro_sessions", "fct_workspace_sessions"]:
            con.execute(f"delete from marts.{table} where session_date = ?", [newest])
        con.execute("delete from marts.fct_user_activity_daily where activity_date = ?", [newest])
        con.execute("delete from marts.rpt_daily_sessions where day = ?", [newest])
        con.execute("update marts.dim_users set first_name = 'Renamed' where user_id = "
                    "(select min(user_id) from marts.dim_users)")
    tokens_file = root / "secrets" / "tokens.json"
    store = TokenStore(tokens_file)
    with duckdb.connect(str(serving_a / "dwell.duckdb"), read_only=True) as con:
        organizations = [row[0] for row in con.execute(
            "select distinct organization_id from marts.dim_users where organization_id is not null order by 1"
        ).fetchall()]
    assert len(organizations) >= 3, organizations
    admin = store.create("admin", None, True)
    org_tokens = {organization: store.create(f"org-{index}", organization, False)
                  for index, organization in enumerate(organizations)}
    return ServeSample(warehouse, serving_a, serving_b, tokens_file, admin, org_tokens)


def admin_headers(sample: ServeSample) -> dict[str, str]:
    return {"Session-Token": sample.admin}


def org_headers(sample: ServeSample, organization: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {sample.org_tokens[organization]}"}


# --- a webhook ---------------------------------------------------------------------------------------------------

class Webhook:
    """An HTTP server on 127.0.0.1 that records JSON bodies and answers with the scripted statuses, then 200."""

    def __init__(self, statuses=()):
        self.bodies: list[dict] = []
        self.statuses = list(statuses)
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status = webhook.statuses.pop(0) if webhook.statuses else 200
                if status == 200:
                    webhook.bodies.append(body)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/dwell"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --- Dagster runs in processes of their own, one per engine --------------------------------------------------------

# Every asset, as `dwell run` materializes them, incrementally after the first load; then the summary; then, given
# `deliver-again`, the alert delivery once more, which must find every alert delivered.
RUN_EVERY_ASSET = """
import sys
from dagster import DagsterInstance
from orchestration import cli, pipeline
from orchestration.alerts.stores import alert_store
from orchestration.alerts.webhook import deliver_new_alerts, webhook_url
with DagsterInstance.ephemeral() as instance:
    pipeline.materialize_all(instance, full_refresh=False)
cli.main(["summary"])
if sys.argv[1:] == ["deliver-again"]:
    with alert_store() as store:
        report = deliver_new_alerts(store, webhook_url())
    assert report.delivered == 0 and report.already_delivered > 0 and not report.failed, report
"""


def engine_environment(engine: str, root: Path, webhook: "Webhook | None", base: Mapping[str, str]) -> dict[str, str]:
    """base, pointed at the engine (DWELL_TARGET) with a serving directory, a webhook if given and a dbt target path of
    its own under root; the target path starts from the worker's manifest, which the Dagster definitions load."""
    target = root / f"dbt-target-{engine}"
    target.mkdir(exist_ok=True)
    shutil.copyfile(Path(os.environ["DBT_TARGET_PATH"]) / "manifest.json", target / "manifest.json")
    environment = {**base, "DWELL_TARGET": engine, "DWELL_SERVING_DIR": str(root / f"serving-{engine}"),
                   "DBT_TARGET_PATH": str(target)}
    if webhook is not None:
        environment[WEBHOOK_URL_VARIABLE] = webhook.url
    return environment


def start_logged(name: str, argv: list[str], environment: Mapping[str, str], logs: Path) -> subprocess.Popen:
    """A process in the project directory, its output in logs/<name>.log."""
    with (logs / f"{name}.log").open("w") as log:
        return subprocess.Popen(argv, cwd=PROJECT_DIR, env=dict(environment), stdout=log, stderr=subprocess.STDOUT)


def finish_logged(name: str, process: subprocess.Popen, logs: Path) -> str:
    """The output of a start_logged process, once it has ended, after checking that it succeeded."""
    process.wait(timeout=1800)
    output = (logs / f"{name}.log").read_text(errors="replace")
    # Without the JVM's stack frames, what dbt reported fits in the message.
    shown = "\n".join(line for line in output.splitlines() if not line.lstrip().startswith("at "))
    assert process.returncode == 0, f"{name}:\n" + shown[-8000:]
    return output


# --- the other engines -------------------------------------------------------------------------------------------

class PostgresWarehouse:
    """The landing directory of a DuckDB Warehouse, built on the postgres target (in the database DWELL_PG_* names)."""

    def __init__(self, landing: Path, targets: Path):
        self.landing = landing
        self.targets = targets

    def build(self, *, select: str | None = SESSION_MODELS, dbt_vars: Mapping[str, Any] | None = None,
              full_refresh: bool = False, unit_tests: bool = True, data_tests: bool = True) -> None:
        """Copy the landing directory in, then dbt build the selection (None: everything) with its tests."""
        copy_landing_to_postgres()
        excluded = [*([] if unit_tests else ["test_type:unit"]), *([] if data_tests else ["test_type:data"])]
        run_dbt(["build", "--quiet", "--target", "postgres", "--target-path", str(target_path(self.targets, dbt_vars)),
                 *(["--select", select, "--indirect-selection", "cautious"] if select else []),
                 *(["--exclude", *excluded] if excluded else []),
                 *(["--full-refresh"] if full_refresh else [])], dbt_vars)

    def records(self, sql: str) -> list[dict[str, Any]]:
        connection = postgres_connection()
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                names = [column.name for column in cursor.description]
                return [dict(zip(names, row)) for row in cursor.fetchall()]
        finally:
            connection.close()


SPARK_STEPS = Path(__file__).parent / "engines" / "spark_steps.py"
SPARK_VIEW = "spark-as-the-engine-names-it"
# The tables on folders that Python writes and Spark reads.
SPARK_FOLDER_TABLES = ["landing.events", "landing.event_files", "landing.users", "delivery.alert_deliveries"]


def spark_environment(root: Path) -> dict[str, str]:
    """The spark target under root/spark, which Spark is told to name otherwise (DWELL_SPARK_DIR_URI), as a cluster
    names a folder that this machine mounts: a file URI through a symbolic link to the same folder."""
    spark_dir = root / "spark"
    spark_dir.mkdir(exist_ok=True)
    spark_view = root / SPARK_VIEW
    if not spark_view.is_symlink():
        spark_view.symlink_to(spark_dir, target_is_directory=True)
    return {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "DWELL_SPARK_DIR": str(spark_dir),
            "DWELL_SPARK_DIR_URI": spark_view.as_uri(), "PYSPARK_PYTHON": sys.executable}


class SparkWarehouse:
    """The landing directory of the DuckDB Warehouse (DWELL_LANDING_DIR), built on the spark target with its metastore
    and warehouse under root/spark. Each run is a process of its own (tests/engines/spark_steps.py), where Spark's
    JVM ends; its exports are read with DuckDB."""

    def __init__(self, root: Path):
        self.root = root
        self.exports = root / "spark-exports"
        self.runs = 0

    def step(self, *, select: str | None = None, dbt_vars: dict[str, Any] | None = None, full_refresh: bool = False,
             export: list[str] = (), move: list[tuple[Path, Path]] = (), list_files: Path | None = None,
             locations: Path | None = None, environment: dict[str, str] | None = None) -> dict[str, Any]:
        """One step of a run: move files into the landing directory, copy it for Spark, dbt build (without the data
        and unit tests, for CI time: tests/engines/test_spark_cluster.py runs the data tests, unit_tests_step the
        unit tests), export tables, list the warehouse's files (spark_steps.list_files), write where Spark reads
        SPARK_FOLDER_TABLES from."""
        excluded = ["test_type:data", "test_type:unit"]
        dbt = ["build", "--quiet", "--target", "spark", "--target-path", str(self.root / "spark-target"),
               *(["--select", select, "--indirect-selection", "cautious"] if select else []),
               "--exclude", *excluded, *(["--full-refresh"] if full_refresh else [])]
        return {"move": [[str(source), str(destination)] for source, destination in move], "dbt": dbt,
                "vars": dbt_vars, "export": list(export), "export_dir": str(self.exports),
                "list_files": str(list_files) if list_files else None,
                "locations": {"tables": SPARK_FOLDER_TABLES, "out_file": str(locations)} if locations else None,
                "environment": environment}

    def unit_tests_step(self, dbt_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        """A step that runs the dbt unit tests, once the tables whose column types they read exist."""
        return {"dbt": ["test", "--quiet", "--target", "spark", "--target-path", str(self.root / "spark-target"),
                        "--select", "test_type:unit"], "vars": dbt_vars}

    def run(self, steps: list[dict[str, Any]]) -> None:
        self.runs += 1
        plan = self.root / f"spark-plan-{self.runs}.json"
        plan.write_text(json.dumps(steps))
        environment = spark_environment(self.root)
        completed = subprocess.run([sys.executable, str(SPARK_STEPS), str(plan)], capture_output=True, text=True,
                                   env=environment, timeout=1800)
        # Without the JVM's stack frames, what dbt reported fits in the message.
        output = [line for line in (completed.stdout + completed.stderr).splitlines()
                  if not line.lstrip().startswith("at ")]
        assert completed.returncode == 0, "\n".join(output)[-8000:]

    def records(self, table: str) -> list[dict[str, Any]]:
        with duckdb.connect() as connection:
            relation = connection.sql(f"select * from read_parquet('{self.exports / table}/*.parquet')")
            return [dict(zip(relation.columns, row)) for row in relation.fetchall()]
