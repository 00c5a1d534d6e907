"""The same sessionization rules as dwell's models, written the way users would write them without dwell: one
plain DuckDB query, pandas, and polars; plus a DuckDB scan and a sort of the same data as lower bounds.

Every method reads the counted events (event_id, partition columns, event_name, occurred_at) from one Parquet
file and writes one row per event, (event_id, first_event_id): the first event of the event's session. Events
are ordered by occurred_at then event_id within a partition; a session starts at the partition's first event,
at a restart event, after an end event, or after a gap strictly greater than the timeout, and is then cut into
pieces of at most the maximum length measured from that start (README "Sessionization rules").
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

import duckdb

DUCKDB_QUERY = "DuckDB query"
PANDAS = "pandas"
POLARS = "polars"
SCAN = "DuckDB scan (bound)"
SORT = "DuckDB sort (bound)"
COPY = "DuckDB copy of the session tables (bound)"


@dataclasses.dataclass(frozen=True)
class Rules:
    timeout_us: int
    restart_events: tuple[str, ...]
    end_events: tuple[str, ...]
    max_length_us: int | None
    partition_by: tuple[str, ...]


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(sql_string(value) for value in values) + ")" if values else "(null)"


def duckdb_connection(memory_limit: str | None, spill_dir: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute(f"set temp_directory = {sql_string(str(spill_dir))}")
    if memory_limit:
        connection.execute(f"set memory_limit = {sql_string(memory_limit)}")
    return connection


def duckdb_query(rules: Rules, events: Path, output: Path, memory_limit: str | None, spill_dir: Path) -> None:
    """One window query: the engine's own speed, the floor dwell's models are measured against."""
    partition = ", ".join(rules.partition_by)
    piece = "0" if rules.max_length_us is None else f"(occurred_us - activity_start_us) // {rules.max_length_us}"
    query = f"""
        with timed as (
            select *, epoch_us(occurred_at) as occurred_us
            from read_parquet({sql_string(str(events))})
        ),
        flagged as (
            select
                *,
                case
                    when lag(occurred_us) over ordered is null then true
                    when event_name in {sql_list(rules.restart_events)} then true
                    when lag(event_name) over ordered in {sql_list(rules.end_events)} then true
                    else occurred_us - lag(occurred_us) over ordered > {rules.timeout_us}
                end as starts_activity
            from timed
            window ordered as (partition by {partition} order by occurred_at, event_id)
        ),
        activities as (
            select
                *,
                sum(starts_activity::int) over running as activity_number,
                max(case when starts_activity then occurred_us end) over running as activity_start_us
            from flagged
            window running as (partition by {partition} order by occurred_at, event_id
                               rows between unbounded preceding and current row)
        ),
        pieces as (
            select *, {piece} as piece from activities
        )
        select
            event_id,
            first_value(event_id) over (
                partition by {partition}, activity_number, piece order by occurred_at, event_id
            ) as first_event_id
        from pieces
    """
    with duckdb_connection(memory_limit, spill_dir) as connection:
        connection.execute(f"copy ({query}) to {sql_string(str(output))} (format parquet)")


def pandas_sessions(rules: Rules, events: Path, output: Path) -> None:
    """What users write by hand: sort, shift, cumulative sums."""
    import numpy as np
    import pandas as pd

    frame = pd.read_parquet(events)
    frame["occurred_us"] = frame["occurred_at"].astype("datetime64[us]").astype("int64")
    frame = frame.sort_values([*rules.partition_by, "occurred_us", "event_id"], ignore_index=True)
    new_partition = np.zeros(len(frame), dtype=bool)
    if len(frame):
        new_partition[0] = True
    for column in rules.partition_by:
        values = frame[column].fillna("\x00").to_numpy()
        new_partition[1:] |= values[1:] != values[:-1]
    occurred_us = frame["occurred_us"].to_numpy()
    gap_us = np.diff(occurred_us, prepend=occurred_us[:1])
    previous_name = frame["event_name"].shift()
    starts_activity = (
        new_partition
        | frame["event_name"].isin(rules.restart_events).to_numpy()
        | previous_name.isin(rules.end_events).to_numpy()
        | (gap_us > rules.timeout_us)
    )
    activity_start_us = pd.Series(np.where(starts_activity, occurred_us, np.nan)).ffill().to_numpy("int64")
    if rules.max_length_us is None:
        starts_session = starts_activity
    else:
        piece = (occurred_us - activity_start_us) // rules.max_length_us
        starts_session = starts_activity | (np.diff(piece, prepend=piece[:1]) != 0)
    first_event_id = frame["event_id"].where(starts_session).ffill()
    pd.DataFrame({"event_id": frame["event_id"], "first_event_id": first_event_id}).to_parquet(output, index=False)


def polars_sessions(rules: Rules, events: Path, output: Path) -> None:
    """The fastest dataframe library, written as its users would: lazy expressions over one sort."""
    import polars as pl

    occurred_us = pl.col("occurred_at").dt.epoch("us")
    same_partition = pl.all_horizontal(
        [pl.col(column).fill_null("\x00") == pl.col(column).fill_null("\x00").shift() for column in rules.partition_by]
    ).fill_null(False)
    starts_activity = (
        ~same_partition
        | pl.col("event_name").is_in(list(rules.restart_events))
        | pl.col("event_name").shift().is_in(list(rules.end_events)).fill_null(False)
        | ((pl.col("occurred_us") - pl.col("occurred_us").shift()) > rules.timeout_us).fill_null(False)
    )
    frame = (
        pl.scan_parquet(events)
        .with_columns(occurred_us=occurred_us)
        .sort([*rules.partition_by, "occurred_us", "event_id"])
        .with_columns(starts_activity=starts_activity)
        .with_columns(
            activity_start_us=pl.when(pl.col("starts_activity")).then(pl.col("occurred_us")).forward_fill()
        )
    )
    if rules.max_length_us is None:
        frame = frame.with_columns(starts_session=pl.col("starts_activity"))
    else:
        piece = (pl.col("occurred_us") - pl.col("activity_start_us")) // rules.max_length_us
        frame = frame.with_columns(piece=piece).with_columns(
            starts_session=pl.col("starts_activity") | (pl.col("piece") != pl.col("piece").shift()).fill_null(True)
        )
    (
        frame.select(
            "event_id",
            first_event_id=pl.when(pl.col("starts_session")).then(pl.col("event_id")).forward_fill(),
        ).sink_parquet(output)
    )


def duckdb_scan(events: Path, memory_limit: str | None, spill_dir: Path) -> None:
    """Reading every column once: no method can be faster."""
    with duckdb_connection(memory_limit, spill_dir) as connection:
        connection.execute(
            "select count(*), max(event_id), max(event_name), max(occurred_at)"
            f" from read_parquet({sql_string(str(events))})"
        ).fetchall()


def duckdb_sort(rules: Rules, events: Path, output: Path, memory_limit: str | None, spill_dir: Path) -> None:
    """The one sort every method needs, written out: sessionization is this plus a few passes."""
    partition = ", ".join(rules.partition_by)
    with duckdb_connection(memory_limit, spill_dir) as connection:
        connection.execute(
            f"copy (select * from read_parquet({sql_string(str(events))}) order by {partition}, occurred_at, event_id)"
            f" to {sql_string(str(output))} (format parquet)"
        )


def duckdb_copy(warehouse: Path, tables: list[str], output: Path, memory_limit: str | None, spill_dir: Path) -> None:
    """The tables dwell's session models write, copied as they are into a new database: what writing their rows
    costs at all, before any sessionizing."""
    with duckdb_connection(memory_limit, spill_dir) as connection:
        connection.execute(f"attach {sql_string(str(warehouse))} as source (read_only)")
        connection.execute(f"attach {sql_string(str(output))} as copied")
        for table in tables:
            schema, name = table.split(".")
            connection.execute(f'create schema if not exists copied."{schema}"')
            connection.execute(f'create table copied."{schema}"."{name}" as select * from source."{schema}"."{name}"')


def main(spec: dict) -> None:
    """A child process of bench/harness.py: run one method, print its wall seconds as JSON (imports excluded)."""
    rules = Rules(**{**spec["rules"], **{key: tuple(spec["rules"][key])
                                         for key in ("restart_events", "end_events", "partition_by")}})
    events, output, spill, memory_limit = (Path(spec["events"]), Path(spec["output"]), Path(spec["spill"]),
                                           spec["memory_limit"])
    methods = {
        DUCKDB_QUERY: lambda: duckdb_query(rules, events, output, memory_limit, spill),
        PANDAS: lambda: pandas_sessions(rules, events, output),
        POLARS: lambda: polars_sessions(rules, events, output),
        SCAN: lambda: duckdb_scan(events, memory_limit, spill),
        SORT: lambda: duckdb_sort(rules, events, output, memory_limit, spill),
        COPY: lambda: duckdb_copy(Path(spec["warehouse"]), spec["tables"], output, memory_limit, spill),
    }
    began = time.perf_counter()
    methods[spec["method"]]()
    print(json.dumps({"seconds": time.perf_counter() - began, "peak_rss_bytes": peak_rss_bytes()}))


def peak_rss_bytes() -> int:
    """This process's peak resident memory since it started its program (Linux VmHWM; exec resets it, unlike
    getrusage, which would count the memory of the parent it was forked from)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
