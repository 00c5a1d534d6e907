"""The serving copy as the server reads it: read-only, one publication per request, a new publication as soon as it
is renamed into place.

`dwell.duckdb` is replaced by a rename, so the path names the previous file or the new one, whole. Each publication
is opened once, read-only, in an in-memory DuckDB instance of its own (DuckDB keeps one instance per file path, so the
same path opened twice would give the old file again) and shared by the requests. A request takes a lease: a cursor
of that instance (one per server thread, reused) for all its queries, so it never mixes two publications. When the file at the path changes (inode,
size, modification time), the next request opens the new one; the old one closes when its last lease ends."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

import duckdb
import yaml

from orchestration.serving.snapshot import SNAPSHOT_FILE
from orchestration.settings import PROJECT_DIR, dbt_vars
from orchestration.serving.web.params import ApiError

CATALOG = "serving"
_OPEN_ATTEMPTS = 5
CACHE_VARIABLE = "DWELL_SERVE_CACHE_MB"
DEFAULT_CACHE_MB = 256


def cache_bytes() -> int:
    """DWELL_SERVE_CACHE_MB: the answers kept per publication, in MiB (0: none)."""
    text = os.environ.get(CACHE_VARIABLE, "").strip()
    try:
        megabytes = float(text) if text else DEFAULT_CACHE_MB
    except ValueError:
        megabytes = -1
    if megabytes < 0:
        raise ValueError(f"{CACHE_VARIABLE} must be a number of MiB, 0 or more, got: {text!r}")
    return int(megabytes * 2**20)


class AnswerCache:
    """A publication never changes, so an answer computed on it stays true as long as it is served: the encoded
    answers are kept, least recently used first out, up to a number of bytes, and dropped with the publication."""

    def __init__(self, limit: int):
        self.limit = limit
        self.size = 0
        self.entries: OrderedDict[tuple, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> bytes | None:
        if not self.limit:
            return None
        with self.lock:
            value = self.entries.get(key)
            if value is not None:
                self.entries.move_to_end(key)
            return value

    def put(self, key: tuple, value: bytes) -> None:
        if not self.limit or len(value) > self.limit // 4:
            return
        with self.lock:
            previous = self.entries.pop(key, None)
            self.size -= len(previous) if previous is not None else 0
            self.entries[key] = value
            self.size += len(value)
            while self.size > self.limit:
                _, dropped = self.entries.popitem(last=False)
                self.size -= len(dropped)


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def configured_categories() -> list[str]:
    """The activity_categories var as the builds use it: dbt_project.yml, or DWELL_DBT_VARS over it."""
    categories = dbt_vars().get("activity_categories")
    if categories is None:
        categories = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]["activity_categories"]
    return [str(category) for category in categories or []]


@dataclass
class Snapshot:
    """One publication of the serving copy, open read-only."""

    path: Path
    identity: tuple[int, int, int]
    connection: duckdb.DuckDBPyConnection
    answers: AnswerCache = field(default_factory=lambda: AnswerCache(0))
    leases: int = 0
    retired: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    # One cursor per server thread, made on its first request: a thread serves one request at a time.
    local: threading.local = field(default_factory=threading.local)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = getattr(self.local, "cursor", None)
        if cursor is None:
            cursor = self.connection.cursor()
            cursor.execute(f"use {CATALOG}")
            self.local.cursor = cursor
        return cursor

    @property
    def id(self) -> str:
        inode, size, mtime_ns = self.identity
        return f"{mtime_ns}-{inode}"

    @property
    def published_at(self) -> str:
        return datetime.fromtimestamp(self.identity[2] / 1e9, timezone.utc).isoformat(timespec="seconds")

    @cached_property
    def facts(self) -> dict:
        """What every request may need about this publication, read once."""
        cursor = self.connection.cursor()
        try:
            cursor.execute(f"use {CATALOG}")
            marts = [row[0] for row in cursor.execute(
                "select table_name from information_schema.tables where table_catalog = ? and table_schema = 'marts' "
                "order by 1", [CATALOG]).fetchall()]
            built_at = cursor.execute("select max(loaded_at) from marts.rpt_load_audit").fetchone()[0] \
                if "rpt_load_audit" in marts else None
            present = [row[0] for row in cursor.execute(
                "select distinct category from marts.fct_user_activity_daily").fetchall()] \
                if "fct_user_activity_daily" in marts else []
        finally:
            cursor.close()
        categories = sorted(set(configured_categories()) | set(present) - {"any"})
        return {"marts": marts, "built_at": built_at.isoformat() + "Z" if built_at else None,
                "categories": ["any", *categories]}

    def release(self) -> None:
        with self.lock:
            self.leases -= 1
            close = self.retired and self.leases == 0
        if close:
            self.connection.close()

    def retire(self) -> None:
        with self.lock:
            self.retired = True
            close = self.leases == 0
        if close:
            self.connection.close()


class ServingCopy:
    """The serving directory's `dwell.duckdb`, followed across publications."""

    def __init__(self, directory: Path, threads: int | None = None, cache: int | None = None):
        self.directory = directory
        self.cache = cache_bytes() if cache is None else cache
        self.path = directory / SNAPSHOT_FILE
        self.threads = threads or max(1, min(4, os.cpu_count() or 1))
        self._current: Snapshot | None = None
        self._lock = threading.Lock()

    def _open(self) -> Snapshot:
        for _ in range(_OPEN_ATTEMPTS):
            before = _identity(self.path)
            if before is None:
                raise ApiError(503, f"No serving copy at {self.path} yet: a successful `dwell run` publishes it")
            connection = duckdb.connect(":memory:", config={"threads": self.threads})
            # The path is the server's own configuration, never a request's; ATTACH takes no bound parameter.
            literal = "'" + str(self.path).replace("'", "''") + "'"
            try:
                connection.execute(f"attach {literal} as {CATALOG} (read_only)")
            except duckdb.IOException:
                # Renamed away between the stat and the open: try the new file.
                connection.close()
                continue
            if _identity(self.path) == before:
                return Snapshot(self.path, before, connection, AnswerCache(self.cache))
            # Replaced while it was being opened: which file was opened is unknown, open again.
            connection.close()
        raise ApiError(503, f"The serving copy at {self.path} kept changing while it was opened; try again")

    def current(self) -> Snapshot:
        identity = _identity(self.path)
        snapshot = self._current
        if snapshot is not None and snapshot.identity == identity:
            return snapshot
        with self._lock:
            snapshot = self._current
            if snapshot is None or snapshot.identity != _identity(self.path):
                fresh = self._open()
                self._current = fresh
                if snapshot is not None:
                    snapshot.retire()
                snapshot = fresh
            return snapshot

    @contextmanager
    def lease(self) -> Iterator[Reader]:
        """A reader of one publication for one request."""
        while True:
            snapshot = self.current()
            with snapshot.lock:
                if not snapshot.retired:
                    snapshot.leases += 1
                    break
        try:
            yield Reader(snapshot, snapshot.cursor())
        finally:
            snapshot.release()

    def close(self) -> None:
        with self._lock:
            if self._current is not None:
                self._current.retire()
                self._current = None


@dataclass
class Reader:
    """One request's view of one publication: every query of the request goes through its cursor."""

    snapshot: Snapshot
    cursor: duckdb.DuckDBPyConnection

    def rows(self, sql: str, parameters: dict | list | None = None) -> list[dict]:
        relation = self.cursor.execute(sql, parameters or [])
        columns = [column[0] for column in relation.description]
        return [dict(zip(columns, row)) for row in relation.fetchall()]

    def one(self, sql: str, parameters: dict | list | None = None) -> dict | None:
        rows = self.rows(sql, parameters)
        return rows[0] if rows else None

    def tuples(self, sql: str, parameters: dict | list | None = None) -> list[tuple]:
        return self.cursor.execute(sql, parameters or []).fetchall()
