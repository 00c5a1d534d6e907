"""`dwell serve` under load (bench/README.md, `harness.py --only-serve`): 16 concurrent clients over loopback for 60 s
across the API's endpoints, while a new serving copy is published in the middle (publish() starts at 15% of the time;
the clients run until the later of the load's length and a quarter of it past the rename).

Setup (untimed, kept in <workdir>/serve and reused by the next run with the same sample arguments):

1. the sample, every file but the last day's landed and built (`dbt seed`, `dbt run`): warehouse A; then the last
   day landed and built incrementally: warehouse B. Both are published (orchestration.serving.snapshot.publish) into
   reference serving directories.
2. The expected answer of every request the clients send, from each of the two copies, through the application
   in-process.

The load: `dwell serve` in a process of its own serves copy A; the clients loop over a fixed list of requests (every
endpoint, an admin and an organization token, keep-alive connections); half way, `publish(B)` writes copy B into the
served directory, as a build does. Every answer must be 200 and equal the expected answer of copy A or of copy B:
anything else counts as an error, and an answer of neither copy as an answer from a half-published copy. It prints
latency percentiles per endpoint and writes them into the results file; it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import duckdb

import results_file
from incremental_cost import land, last_received_date, machine_description, sample_start
from orchestration.dbt_invoke import run_dbt
from orchestration.sample_data import generate_sample

CLIENTS = 16
DURATION_SECONDS = 60.0
PUBLISH_AT = 0.15
AFTER_RENAME = 0.25
RESULTS_HEADING = "## `dwell serve` under load"


@dataclass(frozen=True)
class ServeWork:
    root: Path

    @property
    def sample(self) -> Path:
        return self.root / "sample"

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouses" / "working.duckdb"

    def copy_warehouse(self, name: str) -> Path:
        # The same file name as the built one: the warehouse's views name its catalog, which DuckDB takes from it.
        return self.root / "warehouses" / name / self.warehouse.name

    def reference(self, name: str) -> Path:
        return self.root / f"serving-{name}"

    @property
    def served(self) -> Path:
        return self.root / "served"

    @property
    def stamp(self) -> Path:
        return self.root / "sample.json"

    @property
    def target(self) -> Path:
        return self.root / "target"

    @property
    def logs(self) -> Path:
        return self.root / "logs"


def sample_stamp(args: argparse.Namespace) -> dict:
    return {"events": args.events, "days": args.days, "users": args.users, "seed": args.seed,
            "memory_limit": args.memory_limit, "start_date": sample_start(args.days).isoformat()}


def dbt(work: ServeWork, *args: str) -> None:
    run_dbt([*args, "--quiet", "--target-path", str(work.target), "--log-path", str(work.logs)])


def prepare(work: ServeWork, args: argparse.Namespace) -> dict:
    """Build warehouses A and B and their reference serving copies, unless a run with the same sample left them."""
    from orchestration.serving.snapshot import publish

    stamp = sample_stamp(args)
    ready = all(path.exists() for path in [work.copy_warehouse("a"), work.copy_warehouse("b"),
                                           work.reference("a") / "dwell.duckdb", work.reference("b") / "dwell.duckdb"])
    if ready and work.stamp.exists() and json.loads(work.stamp.read_text()).get("sample") == stamp:
        print(f"reusing the warehouses and serving copies in {work.root} (same sample)", flush=True)
        return json.loads(work.stamp.read_text())
    shutil.rmtree(work.root, ignore_errors=True)
    for path in [work.sample, work.landing, work.warehouse.parent, work.target, work.logs]:
        path.mkdir(parents=True)
    os.environ.update(DWELL_LANDING_DIR=str(work.landing), DWELL_DUCKDB_PATH=str(work.warehouse),
                      DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    if args.memory_limit:
        os.environ["DWELL_DUCKDB_MEMORY_LIMIT"] = args.memory_limit
    began = time.perf_counter()
    summary = generate_sample(work.sample, users=args.users, days=args.days, seed=args.seed, events=args.events,
                              start_date=sample_start(args.days))
    print(f"sample: {summary.events_written:,} rows in {time.perf_counter() - began:.1f}s", flush=True)
    last_day = last_received_date(work.sample)
    land(work.sample, work.landing, last_day=last_day, include_last_day=False)
    began = time.perf_counter()
    dbt(work, "seed")
    dbt(work, "run")
    print(f"warehouse A (all but {last_day}) built in {time.perf_counter() - began:.0f}s", flush=True)
    work.copy_warehouse("a").parent.mkdir()
    shutil.copy2(work.warehouse, work.copy_warehouse("a"))
    land(work.sample, work.landing, last_day=last_day, include_last_day=True)
    began = time.perf_counter()
    dbt(work, "run")
    print(f"warehouse B (one more day) built in {time.perf_counter() - began:.0f}s", flush=True)
    work.copy_warehouse("b").parent.mkdir()
    shutil.copy2(work.warehouse, work.copy_warehouse("b"))
    work.warehouse.unlink()
    for name in ("a", "b"):
        publish(work.copy_warehouse(name), work.reference(name))
    with duckdb.connect(str(work.reference("b") / "dwell.duckdb"), read_only=True) as con:
        events = con.execute("select count(*) from marts.fct_session_events").fetchone()[0]
    info = {"sample": stamp, "rows": summary.events_written, "last_day": last_day, "counted_events_b": events}
    work.stamp.write_text(json.dumps(info, indent=2) + "\n")
    return info


# --- The requests and their expected answers ----------------------------------------------------------------------

@dataclass(frozen=True)
class Call:
    endpoint: str
    method: str
    path: str
    body: bytes | None
    token: str  # "admin" or "org"


SESSIONS = 300


def calls(reference: Path, organization: str, other: Path) -> list[Call]:
    """The requests the clients send, from what copy A holds: a month of activity by week (all users, one
    organization, ide), the other endpoints with realistic filters, each followed by one of SESSIONS sessions with
    their events (sessions of every week, most of them seen once or twice in a run), sessions that copy B (other)
    holds too: one that the new day changed has another id there, and asking for it after the swap is a 404."""
    with duckdb.connect(str(reference / "dwell.duckdb"), read_only=True) as con:
        con.execute(f"attach '{other / 'dwell.duckdb'}' as other_copy (read_only)")
        newest = con.execute("select max(session_date) from marts.fct_sessions").fetchone()[0]
        month_start = (newest - datetime.timedelta(days=40)).replace(day=1)
        next_month = (month_start + datetime.timedelta(days=32)).replace(day=1)
        sessions = [row[0] for row in con.execute(
            "select session_id from marts.fct_sessions where session_date < ? "
            "and session_id in (select session_id from other_copy.marts.fct_sessions) order by hash(session_id) limit ?",
            [newest - datetime.timedelta(days=2), SESSIONS]).fetchall()]
        company = con.execute("select company from marts.dim_users where company is not null "
                              "group by 1 order by count(*) desc limit 1").fetchone()[0]
        workspaces = [row[0] for row in con.execute(
            "select workspace_id from marts.dim_workspaces where organization_id = ? order by 1 limit 4",
            [organization]).fetchall()]
        user = con.execute("select user_id from marts.fct_sessions where organization_id = ? "
                           "group by 1 order by count(*) desc limit 1", [organization]).fetchone()[0]
    activity = (f"/api/private/metrics/activity?start={month_start}T00:00:00Z&end={next_month}T00:00:00Z"
                "&category=any&interval=1%20week")
    week_end = newest - datetime.timedelta(days=7)
    duration = json.dumps({"start_date": str(week_end - datetime.timedelta(days=6)), "end_date": str(week_end)}).encode()
    others = [Call("activity: a month by week, all users", "GET", activity, None, "admin"),
              Call("activity: a month by week, one organization", "GET", activity, None, "org"),
              Call("activity: a month by week, ide", "GET", activity.replace("category=any", "category=ide"), None,
                   "admin"),
              Call("sessions: a page of 100", "GET", "/api/sessions?limit=100", None, "org"),
              Call("sessions: a page of 100", "GET", f"/api/sessions?limit=100&user_id={user}", None, "admin"),
              Call("session duration: a week", "POST", "/api/session-duration", duration, "admin"),
              Call("session duration: a week", "POST", "/api/session-duration", duration, "org"),
              Call("users: by company", "GET", f"/api/users?limit=100&company={urlencode({'c': company})[2:]}", None,
                   "admin"),
              Call("workspaces: list", "GET", "/api/workspaces?limit=100", None, "org"),
              Call("period report: weeks", "GET", "/api/reports/periods?grain=week", None, "admin"),
              Call("session board: 30 days", "GET", "/api/board", None, "org"),
              Call("session board: 30 days", "GET", "/api/board", None, "admin"),
              Call("healthz", "GET", "/healthz", None, "admin"),
              *[Call("workspace summary", "GET", f"/api/workspaces/{workspace}", None, "org") for workspace in workspaces]]
    result = []
    for index, session_id in enumerate(sessions):
        result += [others[index % len(others)],
                   Call("one session with its events", "GET", f"/api/sessions/{session_id}", None, "admin")]
    return result


def digest(status: int, body: bytes) -> tuple[int, bytes]:
    """What an answer is compared by: its status and its bytes (a comparison of bytes costs the client far less
    than hashing a 3 MB activity report)."""
    return status, body


def expected_answers(reference: Path, tokens_file: Path, tokens: dict[str, str], requests: list[Call]) -> dict:
    """Each call's (status, body) from one reference copy, through the application in-process."""
    from fastapi.testclient import TestClient

    from orchestration.serving.web.app import create_app

    answers = {}
    with TestClient(create_app(reference, tokens_file)) as client:
        for call in dict.fromkeys(requests):
            if call.endpoint == "healthz":
                continue
            headers = {"Session-Token": tokens[call.token], "Content-Type": "application/json"}
            response = client.request(call.method, call.path, content=call.body, headers=headers)
            answers[call] = digest(response.status_code, response.content)
    return answers


# --- The load -----------------------------------------------------------------------------------------------------

@dataclass
class Sample:
    endpoint: str
    seconds: float
    status: int
    copy: str | None  # "a", "b", None when it matches neither
    cached: bool = False


@dataclass
class Load:
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    calls: list = field(default_factory=list)
    published: tuple[float, float] | None = None
    deadline: float = 0.0  # when the clients stop (time.perf_counter()), once publishing is over
    published_done: bool = False
    seconds: float = 0.0  # how long they ran


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def put_in_place(source: Path, served: Path) -> None:
    served.mkdir(parents=True, exist_ok=True)
    temporary = served / ".dwell.duckdb.copying"
    shutil.copy2(source, temporary)
    os.replace(temporary, served / "dwell.duckdb")


def client_loop(port: int, offset: int, requests: list[Call], tokens: dict[str, str], expected: dict,
                load: Load, lock: threading.Lock) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    index = offset
    local: list[Sample] = []
    while not (load.published_done and time.perf_counter() >= load.deadline):
        call = requests[index % len(requests)]
        index += 1
        headers = {"Session-Token": tokens[call.token], "Content-Type": "application/json"}
        began = time.perf_counter()
        try:
            connection.request(call.method, call.path, body=call.body, headers=headers)
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as error:
            with lock:
                load.errors.append(f"{call.endpoint}: {error!r}")
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        elapsed = time.perf_counter() - began
        copy = None
        if call.endpoint == "healthz":
            copy = "a" if response.status == 200 else None
        else:
            answer = digest(response.status, body)
            copy = next((name for name in ("a", "b") if expected[name][call] == answer), None)
        local.append(Sample(call.endpoint, elapsed, response.status, copy,
                            response.getheader("X-Dwell-Cache") == "hit"))
        if response.status != 200:
            with lock:
                load.errors.append(f"{call.endpoint}: HTTP {response.status} {body[:200]!r}")
    connection.close()
    with lock:
        load.samples += local


def run_load(work: ServeWork, args: argparse.Namespace, info: dict) -> tuple[Load, list[Call]]:
    from orchestration.serving.snapshot import publish
    from orchestration.serving.web.tokens import TokenStore

    tokens_file = work.root / "tokens.json"
    tokens_file.unlink(missing_ok=True)
    store = TokenStore(tokens_file)
    with duckdb.connect(str(work.reference("a") / "dwell.duckdb"), read_only=True) as con:
        organization = con.execute("select organization_id from marts.dim_users where organization_id is not null "
                                   "group by 1 order by count(*) desc limit 1").fetchone()[0]
    tokens = {"admin": store.create("bench-admin", None, True), "org": store.create("bench-org", organization, False)}
    requests = calls(work.reference("a"), organization, work.reference("b"))
    print(f"expected answers of {len(dict.fromkeys(requests))} distinct requests from copies A and B (in-process)",
          flush=True)
    expected = {name: expected_answers(work.reference(name), tokens_file, tokens, requests) for name in ("a", "b")}
    differing = sum(expected["a"][call] != expected["b"][call] for call in expected["a"])
    print(f"  {differing} of {len(expected['a'])} answers differ between A and B", flush=True)

    shutil.rmtree(work.served, ignore_errors=True)
    put_in_place(work.reference("a") / "dwell.duckdb", work.served)
    port = free_port()
    env = {**os.environ, "DWELL_SERVING_DIR": str(work.served), "DWELL_TOKENS_FILE": str(tokens_file)}
    log = (work.logs / "dwell_serve.log").open("w")
    server = subprocess.Popen([str(Path(sys.executable).with_name("dwell")), "serve", "--port", str(port),
                               "--workers", str(args.serve_workers), "--cache-mb", str(args.serve_cache_mb)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    load = Load(calls=requests)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with closing(socket.create_connection(("127.0.0.1", port), timeout=1)):
                    pass
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dwell serve did not start; see {work.logs / 'dwell_serve.log'}")
            time.sleep(0.3)
        # Warm-up, untimed: the first request opens the copy in each server process; no answer is cached by it.
        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for _ in range(4 * args.serve_workers):
            warm.request("GET", "/healthz")
            warm.getresponse().read()
        warm.close()
        print(f"load: {args.serve_clients} clients for {args.serve_seconds:.0f} s on 127.0.0.1:{port}, "
              f"{args.serve_workers} server process(es); publishing copy B from {PUBLISH_AT:.0%} of the time", flush=True)
        lock = threading.Lock()
        began = time.perf_counter()
        load.deadline = began + args.serve_seconds
        clients = [threading.Thread(target=client_loop, args=(port, offset * 7, requests, tokens, expected, load, lock))
                   for offset in range(args.serve_clients)]
        for client in clients:
            client.start()
        # Publishing 10M events' marts takes tens of seconds under the load: it starts early so that its rename
        # lands in the middle of the run.
        try:
            time.sleep(args.serve_seconds * PUBLISH_AT)
            publish_began = time.perf_counter() - began
            publish(work.copy_warehouse("b"), work.served)
            load.published = (publish_began, time.perf_counter() - began)
            print(f"  copy B published from {load.published[0]:.1f} s to {load.published[1]:.1f} s", flush=True)
            # The rename must land inside the load, with copy B served after it: the clients run until publishing
            # is over, and when it took longer than planned, for AFTER_RENAME of the load's length past the rename.
            load.deadline = max(load.deadline, time.perf_counter() + args.serve_seconds * AFTER_RENAME)
        finally:
            load.published_done = True
        for client in clients:
            client.join()
        load.seconds = time.perf_counter() - began
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        log.close()
    return load, requests


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(fraction * len(ordered) + 0.5)) - 1))]


INTRODUCTION = [
    RESULTS_HEADING, "",
    "Written by `python bench/harness.py --events 10M --only-serve` (bench/README.md), once with the answer cache "
    "(the default) and once without it (`--serve-cache-mb 0`); each run replaces its own part, and a full harness run "
    "keeps them. Latency is measured by the client, from sending the request to the last byte of the answer. Targets: "
    "activity for a month by week over all users p95 ≤ 150 ms; one session with its events p95 ≤ 30 ms; 0 errors; "
    "0 answers from a half-published copy.", ""]


def results_lines(load: Load, args: argparse.Namespace, info: dict, command: str) -> list[str]:
    by_endpoint: dict[str, list[Sample]] = {}
    for sample in load.samples:
        by_endpoint.setdefault(sample.endpoint, []).append(sample)
    cache = "answer cache off" if not args.serve_cache_mb else f"answer cache {args.serve_cache_mb:g} MiB"
    date = next(value for name, value in machine_description() if name == "date")
    lines = [f"### {cache}", "",
             f"- `{command}` on {date}; "
             + ", ".join(f"{name} {value}" for name, value in machine_description() if name in ("machine", "duckdb")),
             f"- sample: {info['rows']:,} rows, {args.days} days from {info['sample']['start_date']}, {args.users:,} "
             f"users, seed {args.seed}; copy A: every day but the last, copy B: one more day "
             f"({info['counted_events_b']:,} counted events in fct_session_events)",
             f"- load: {args.serve_clients} concurrent clients (threads with keep-alive connections, in the "
             f"benchmark's process) over loopback for {load.seconds:.0f} s against `dwell serve --workers "
             f"{args.serve_workers}`; {len(dict.fromkeys(load.calls)):,} distinct requests, {SESSIONS} of them sessions"
             + (f"; copy B published by orchestration.serving.snapshot.publish from {load.published[0]:.1f} s to "
                f"{load.published[1]:.1f} s (its rename)" if load.published else ""),
             f"- answered: {len(load.samples):,} ({len(load.samples) / load.seconds:,.0f}/s); errors: "
             f"{len(load.errors)}; answers from a half-published copy (equal to neither copy's expected answer): "
             f"{sum(sample.copy is None for sample in load.samples)}; from copy A: "
             f"{sum(sample.copy == 'a' for sample in load.samples):,}, from copy B: "
             f"{sum(sample.copy == 'b' for sample in load.samples):,}",
             "",
             "| endpoint | requests | from cache | p50 ms | p95 ms | p99 ms | errors |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for endpoint, samples in sorted(by_endpoint.items()):
        times = [sample.seconds * 1000 for sample in samples]
        errors = sum(sample.status != 200 for sample in samples)
        cached = sum(sample.cached for sample in samples) / len(samples)
        lines.append(f"| {endpoint} | {len(samples):,} | {cached:.0%} | {percentile(times, 0.50):.1f} | "
                     f"{percentile(times, 0.95):.1f} | {percentile(times, 0.99):.1f} | {errors} |")
    return lines + [""]


def merge_section(results: Path, lines: list[str]) -> str:
    """Put this run's part into the results file's serve section, replacing the part of the same title."""
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    section = results_file.section_of(results, RESULTS_HEADING)
    if section is None or "\n### " not in section:
        # No serve section yet, or one written before the parts by cache setting: start from the introduction.
        section = "\n".join(INTRODUCTION)
    text = results_file.without_section(text, RESULTS_HEADING)
    parts = section.split("\n### ")
    title = lines[0][4:]
    kept = [part for part in parts[1:] if part.split("\n", 1)[0] != title]
    section = "\n### ".join([parts[0].rstrip() + "\n", *kept]).rstrip() + "\n\n" + "\n".join(lines)
    results.write_text(text.rstrip() + "\n\n" + section.rstrip() + "\n")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    work = ServeWork(args.workdir / "serve")
    info = prepare(work, args)
    load, _ = run_load(work, args, info)
    command = (f"python bench/harness.py --events {args.events} --days {args.days} --only-serve "
               f"--serve-workers {args.serve_workers} --serve-cache-mb {args.serve_cache_mb:g}")
    print()
    print(merge_section(args.results, results_lines(load, args, info, command)))
    if load.errors:
        print("errors (first 10):", *load.errors[:10], sep="\n  ")
    return 0
